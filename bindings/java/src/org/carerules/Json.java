package org.carerules;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A small reader of the JSON the engine writes (reports, diagnostics, info), so that the
 * binding needs nothing beyond JNA. Objects become LinkedHashMap (order kept), arrays
 * ArrayList, numbers Long or Double, and the rest String, Boolean or null.
 */
public final class Json {
  private final String s;
  private int i;

  private Json(String s) {
    this.s = s;
  }

  /** Parses one JSON value; throws IllegalArgumentException on anything else. */
  public static Object parse(String text) {
    Json p = new Json(text);
    Object v = p.value();
    p.space();
    if (p.i != p.s.length()) throw p.error("text after the value");
    return v;
  }

  private IllegalArgumentException error(String what) {
    return new IllegalArgumentException("JSON: " + what + " at offset " + i);
  }

  private void space() {
    while (i < s.length() && " \t\r\n".indexOf(s.charAt(i)) >= 0) i++;
  }

  private Object value() {
    space();
    if (i >= s.length()) throw error("unexpected end");
    char c = s.charAt(i);
    switch (c) {
      case '{': {
        i++;
        Map<String, Object> m = new LinkedHashMap<>();
        space();
        if (peek('}')) return m;
        do {
          space();
          String k = string();
          space();
          expect(':');
          m.put(k, value());
          space();
        } while (take(','));
        expect('}');
        return m;
      }
      case '[': {
        i++;
        List<Object> a = new ArrayList<>();
        space();
        if (peek(']')) return a;
        do {
          a.add(value());
          space();
        } while (take(','));
        expect(']');
        return a;
      }
      case '"':
        return string();
      default:
        if (s.startsWith("true", i)) {
          i += 4;
          return Boolean.TRUE;
        }
        if (s.startsWith("false", i)) {
          i += 5;
          return Boolean.FALSE;
        }
        if (s.startsWith("null", i)) {
          i += 4;
          return null;
        }
        return number();
    }
  }

  private boolean peek(char c) {
    if (i < s.length() && s.charAt(i) == c) {
      i++;
      return true;
    }
    return false;
  }

  private boolean take(char c) {
    return peek(c);
  }

  private void expect(char c) {
    if (!peek(c)) throw error("expected '" + c + "'");
  }

  private String string() {
    expect('"');
    StringBuilder b = new StringBuilder();
    while (true) {
      if (i >= s.length()) throw error("unterminated string");
      char c = s.charAt(i++);
      if (c == '"') return b.toString();
      if (c != '\\') {
        b.append(c);
        continue;
      }
      char e = s.charAt(i++);
      switch (e) {
        case 'n': b.append('\n'); break;
        case 't': b.append('\t'); break;
        case 'r': b.append('\r'); break;
        case 'b': b.append('\b'); break;
        case 'f': b.append('\f'); break;
        case 'u':
          b.append((char) Integer.parseInt(s.substring(i, i + 4), 16));
          i += 4;
          break;
        default: b.append(e);
      }
    }
  }

  private Object number() {
    int start = i;
    while (i < s.length() && "+-0123456789.eE".indexOf(s.charAt(i)) >= 0) i++;
    String t = s.substring(start, i);
    if (t.isEmpty()) throw error("unexpected character");
    if (t.matches("-?\\d+")) return Long.parseLong(t);
    return Double.parseDouble(t);
  }
}
