#include "parse/lexer.hpp"

#include <algorithm>
#include <cstdio>

#include "facts/facts.hpp"
#include "util/date.hpp"
#include "util/decimal.hpp"
#include "util/utf8.hpp"

namespace carerules::parse {

namespace {

using detail::decode_utf8;

bool is_ascii_digit(char c) { return c >= '0' && c <= '9'; }

// UAX #31: XID_Start or `_`, then XID_Continue (which has `_` and the digits of every script).
bool is_word_start(std::int32_t cp) {
  return cp == '_' || (cp >= 0 && detail::is_xid_start(static_cast<std::uint32_t>(cp)));
}

bool is_word_char(std::int32_t cp) {
  return cp >= 0 && detail::is_xid_continue(static_cast<std::uint32_t>(cp));
}

std::string hex(std::uint32_t v, int digits) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%0*X", digits, v);
  return buf;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Full-width lookalikes of ASCII punctuation (spec §10): the ASCII character to use.
const char* lookalike(std::int32_t cp) {
  switch (cp) {
    case 0xFF08:
      return "(";
    case 0xFF09:
      return ")";
    case 0x201C:
      return "\"";
    case 0x201D:
      return "\"";
    case 0xFF0C:
      return ",";
    case 0xFF1A:
      return ":";
    case 0x3000:
      return " ";
    default:
      return nullptr;
  }
}

std::string lookalike_message(std::int32_t cp, std::string_view raw) {
  const char* ascii = lookalike(cp);
  std::string m = "unexpected full-width `" + std::string(raw) + "` (U+" +
                  hex(static_cast<std::uint32_t>(cp), 4) + ")";
  if (cp == 0x3000) return m + ": use an ASCII space";
  return m + ": use the ASCII `" + ascii + "`";
}

}  // namespace

std::string describe(tok kind) {
  switch (kind) {
    case tok::eof:
      return "end of file";
    case tok::word:
      return "a name";
    case tok::integer:
      return "an integer";
    case tok::decimal:
      return "a number";
    case tok::string:
      return "a string";
    case tok::date:
      return "a date";
    case tok::lparen:
      return "`(`";
    case tok::rparen:
      return "`)`";
    case tok::lbrace:
      return "`{`";
    case tok::rbrace:
      return "`}`";
    case tok::lbracket:
      return "`[`";
    case tok::rbracket:
      return "`]`";
    case tok::comma:
      return "`,`";
    case tok::colon:
      return "`:`";
    case tok::dot:
      return "`.`";
    case tok::dotdot:
      return "`..`";
    case tok::assign:
      return "`=`";
    case tok::eq:
      return "`==`";
    case tok::ne:
      return "`!=`";
    case tok::lt:
      return "`<`";
    case tok::le:
      return "`<=`";
    case tok::gt:
      return "`>`";
    case tok::ge:
      return "`>=`";
    case tok::plus:
      return "`+`";
    case tok::minus:
      return "`-`";
    case tok::star:
      return "`*`";
    case tok::slash:
      return "`/`";
    case tok::percent:
      return "`%`";
    case tok::qq:
      return "`??`";
    case tok::fat_arrow:
      return "`=>`";
    case tok::arrow:
      return "`->`";
    case tok::pipe:
      return "`|`";
  }
  return "a token";
}

lexer::lexer(std::string_view text, std::uint32_t file, std::size_t identifier_limit,
             std::size_t string_limit, ast::diagnostic_sink& diags)
    : text_(text),
      file_(file),
      identifier_limit_(identifier_limit),
      // A string value holds at most max_string_bytes, whatever the limit says.
      string_limit_(std::min<std::size_t>(string_limit, detail::max_string_bytes)),
      diags_(diags) {
  if (text_.size() >= 3 && text_.substr(0, 3) == "\xEF\xBB\xBF") st_.offset = 3;
}

void lexer::error_at(std::uint32_t offset, std::uint32_t line, std::uint32_t column,
                     std::string message) {
  if (!reported_.emplace(offset, message).second) return;
  diags_.error({file_, line, column}, std::move(message));
}

std::int32_t lexer::peek_cp(std::size_t& len) const {
  auto c = static_cast<unsigned char>(text_[st_.offset]);
  if (c < 0x80) {
    len = 1;
    return c;
  }
  return decode_utf8(text_, st_.offset, len);
}

void lexer::advance_bytes(std::size_t len) {
  st_.offset += static_cast<std::uint32_t>(len);
  ++st_.column;
}

bool lexer::bad_char_error() {
  std::size_t len = 0;
  std::int32_t cp = peek_cp(len);
  if (cp == 0) {
    error_at(st_.offset, st_.line, st_.column, "NUL byte in the source");
    advance_bytes(1);
    return true;
  }
  if (cp >= 0) return false;
  error_at(st_.offset, st_.line, st_.column,
           "invalid UTF-8 byte 0x" + hex(static_cast<unsigned char>(text_[st_.offset]), 2));
  // One error for a run of invalid bytes; each byte still counts one column.
  while (st_.offset < text_.size()) {
    cp = peek_cp(len);
    if (cp >= 0) break;
    advance_bytes(1);
  }
  return true;
}

void lexer::skip_space() {
  while (st_.offset < text_.size()) {
    char c = text_[st_.offset];
    if (c == ' ' || c == '\t' || c == '\f' || c == '\v') {
      advance_bytes(1);
    } else if (c == '\r') {
      if (st_.offset + 1 < text_.size() && text_[st_.offset + 1] == '\n') {
        ++st_.offset;  // the '\n' below ends the line
      } else {
        advance_bytes(1);
      }
    } else if (c == '\n') {
      ++st_.offset;
      ++st_.line;
      st_.column = 1;
      st_.line_start = true;
    } else if (c == '#') {
      while (st_.offset < text_.size() && text_[st_.offset] != '\n') {
        if (text_[st_.offset] == '\r' && st_.offset + 1 < text_.size() &&
            text_[st_.offset + 1] == '\n') {
          ++st_.offset;
          continue;
        }
        if (bad_char_error()) continue;
        std::size_t len = 0;
        peek_cp(len);
        advance_bytes(len);
      }
    } else if (static_cast<unsigned char>(c) >= 0x80) {
      std::size_t len = 0;
      std::int32_t cp = peek_cp(len);
      if (cp != 0x3000) return;
      error_at(st_.offset, st_.line, st_.column,
               lookalike_message(cp, text_.substr(st_.offset, len)));
      advance_bytes(len);
    } else {
      return;
    }
  }
}

bool lexer::scan_word(token& t, bool id_mode) {
  std::size_t len = 0;
  if (st_.offset >= text_.size() || !is_word_start(peek_cp(len))) return false;
  t.kind = tok::word;
  bool too_long = false;
  for (bool first = true;; first = false) {
    if (!first) {
      // `.segment` (id mode only): a segment is letters, digits or `_`.
      if (!id_mode || st_.offset + 1 >= text_.size() || text_[st_.offset] != '.') break;
      state dot = st_;
      advance_bytes(1);
      if (!is_word_char(peek_cp(len))) {
        st_ = dot;
        break;
      }
    }
    std::uint32_t start_col = st_.column;
    std::uint32_t start_off = st_.offset;
    while (st_.offset < text_.size() && is_word_char(peek_cp(len))) advance_bytes(len);
    if (st_.column - start_col > identifier_limit_ && !too_long) {
      too_long = true;
      t.bad = true;
      error_at(start_off, t.line, start_col,
               "identifier is longer than the limit of " + std::to_string(identifier_limit_) +
                   " characters (limit `identifier`)");
    }
  }
  t.text.assign(text_.substr(t.begin, st_.offset - t.begin));
  return true;
}

void lexer::scan_number(token& t) {
  while (st_.offset < text_.size() && is_ascii_digit(text_[st_.offset])) advance_bytes(1);
  // Digits on both sides of the point: `0..90` is 0 .. 90, `1.` is 1 then `.`.
  if (st_.offset + 1 < text_.size() && text_[st_.offset] == '.' &&
      is_ascii_digit(text_[st_.offset + 1])) {
    advance_bytes(1);
    while (st_.offset < text_.size() && is_ascii_digit(text_[st_.offset])) advance_bytes(1);
    t.kind = tok::decimal;
    t.text.assign(text_.substr(t.begin, st_.offset - t.begin));
    auto v = detail::parse_decimal(t.text);
    if (!v) {
      t.bad = true;
      error_at(t.begin, t.line, t.column,
               "number `" + t.text + "` is out of range (about ±9.2e12 with 6 decimals)");
    } else {
      t.i = *v;
    }
    return;
  }
  t.kind = tok::integer;
  t.text.assign(text_.substr(t.begin, st_.offset - t.begin));
  constexpr std::uint64_t limit = std::uint64_t{1} << 63;
  std::uint64_t v = 0;
  for (char c : t.text) {
    auto d = static_cast<std::uint64_t>(c - '0');
    if (v > (limit - d) / 10) {
      t.bad = true;
      break;
    }
    v = v * 10 + d;
  }
  if (t.bad) {
    error_at(t.begin, t.line, t.column, "integer `" + t.text + "` does not fit in 64 bits");
  }
  t.u = v;
}

void lexer::scan_string(token& t, bool curly) {
  t.kind = tok::string;
  advance_bytes(curly ? 3 : 1);
  bool too_long = false;
  for (;;) {
    if (st_.offset >= text_.size() || text_[st_.offset] == '\n' ||
        (text_[st_.offset] == '\r' && st_.offset + 1 < text_.size() &&
         text_[st_.offset + 1] == '\n')) {
      t.bad = true;
      error_at(t.begin, t.line, t.column,
               "unterminated string: expected `\"` before the end of the line");
      break;
    }
    std::size_t len = 0;
    std::int32_t cp = peek_cp(len);
    if (cp == '"') {
      advance_bytes(1);
      break;
    }
    if (curly && cp == 0x201D) {  // the opening quote already got the hint
      advance_bytes(len);
      break;
    }
    if (cp <= 0) {
      t.bad = true;
      bad_char_error();
      continue;
    }
    std::uint32_t esc_off = st_.offset, esc_col = st_.column;
    if (cp != '\\') {
      if (!too_long) t.text.append(text_.substr(st_.offset, len));
      advance_bytes(len);
    } else {
      advance_bytes(1);
      char e = st_.offset < text_.size() ? text_[st_.offset] : '\0';
      auto bad_escape = [&](std::string message) {
        t.bad = true;
        error_at(esc_off, t.line, esc_col, std::move(message));
      };
      if (e == '"' || e == '\\') {
        t.text.push_back(e);
        advance_bytes(1);
      } else if (e == 'n') {
        t.text.push_back('\n');
        advance_bytes(1);
      } else if (e == 't') {
        t.text.push_back('\t');
        advance_bytes(1);
      } else if (e == 'u') {
        advance_bytes(1);
        auto read4 = [&](std::uint32_t& out) {
          if (st_.offset + 4 > text_.size()) return false;
          out = 0;
          for (int k = 0; k < 4; ++k) {
            int h = hex_value(text_[st_.offset + static_cast<std::uint32_t>(k)]);
            if (h < 0) return false;
            out = out * 16 + static_cast<std::uint32_t>(h);
          }
          st_.offset += 4;
          st_.column += 4;
          return true;
        };
        std::uint32_t cu = 0;
        if (!read4(cu)) {
          bad_escape("`\\u` must be followed by four hex digits");
        } else if (cu >= 0xDC00 && cu <= 0xDFFF) {
          bad_escape("lone surrogate `\\u" + hex(cu, 4) + "` in string");
        } else if (cu >= 0xD800 && cu <= 0xDBFF) {
          state before = st_;
          std::uint32_t lo = 0;
          bool paired = false;
          if (st_.offset + 1 < text_.size() && text_[st_.offset] == '\\' &&
              text_[st_.offset + 1] == 'u') {
            st_.offset += 2;
            st_.column += 2;
            paired = read4(lo) && lo >= 0xDC00 && lo <= 0xDFFF;
          }
          if (paired) {
            if (!too_long)
              detail::append_utf8(t.text, 0x10000 + ((cu - 0xD800) << 10) + (lo - 0xDC00));
          } else {
            st_ = before;
            bad_escape("lone surrogate `\\u" + hex(cu, 4) + "` in string");
          }
        } else if (cu == 0) {
          bad_escape("`\\u0000` (NUL) is not allowed in a string");
        } else if (!too_long) {
          detail::append_utf8(t.text, cu);
        }
      } else {
        std::size_t elen = 1;
        if (st_.offset < text_.size() && static_cast<unsigned char>(e) >= 0x80) {
          if (decode_utf8(text_, st_.offset, elen) < 0) elen = 1;
        }
        std::string shown = detail::escape_for_display(text_.substr(st_.offset, elen));
        if (e == '\0' && st_.offset >= text_.size()) shown = "";
        bad_escape("unknown escape `\\" + shown + "` in string: use \\\" \\\\ \\n \\t or \\uXXXX");
        // The escaped character is left to the loop (it may be a quote or a newline).
      }
    }
    if (!too_long && t.text.size() > string_limit_) {
      too_long = true;
      t.bad = true;
      t.text.clear();
      t.text.shrink_to_fit();
      error_at(t.begin, t.line, t.column,
               "string is longer than the limit of " + std::to_string(string_limit_) +
                   " bytes (limit `string`)");
    }
  }
}

void lexer::scan_date(token& t) {
  t.kind = tok::date;
  advance_bytes(1);
  while (st_.offset < text_.size() &&
         (is_ascii_digit(text_[st_.offset]) || text_[st_.offset] == '-'))
    advance_bytes(1);
  t.text.assign(text_.substr(t.begin, st_.offset - t.begin));
  auto d = detail::parse_date(std::string_view(t.text).substr(1));
  if (!d) {
    t.bad = true;
    error_at(t.begin, t.line, t.column,
             "invalid date `" + t.text + "`: expected @YYYY-MM-DD, a real calendar date");
  } else {
    t.i = *d;
  }
}

token lexer::scan_id() {
  skip_space();
  token t;
  t.begin = st_.offset;
  t.line = st_.line;
  t.column = st_.column;
  t.line_start = st_.line_start;
  if (scan_word(t, true)) {
    t.end = st_.offset;
    st_.line_start = false;
    return t;
  }
  return next();
}

token lexer::next() {
  for (;;) {
    skip_space();
    token t;
    t.begin = st_.offset;
    t.line = st_.line;
    t.column = st_.column;
    t.line_start = st_.line_start;
    if (st_.offset >= text_.size()) {
      t.kind = tok::eof;
      t.end = t.begin;
      return t;
    }
    char c = text_[st_.offset];
    char n = st_.offset + 1 < text_.size() ? text_[st_.offset + 1] : '\0';
    auto one = [&](tok k) {
      t.kind = k;
      advance_bytes(1);
    };
    auto two = [&](tok k) {
      t.kind = k;
      advance_bytes(1);
      advance_bytes(1);
    };
    bool skipped = false;
    auto unexpected = [&](std::string message) {
      error_at(st_.offset, st_.line, st_.column, std::move(message));
      advance_bytes(1);
      skipped = true;
    };
    switch (c) {
      case '(':
        one(tok::lparen);
        break;
      case ')':
        one(tok::rparen);
        break;
      case '{':
        one(tok::lbrace);
        break;
      case '}':
        one(tok::rbrace);
        break;
      case '[':
        one(tok::lbracket);
        break;
      case ']':
        one(tok::rbracket);
        break;
      case ',':
        one(tok::comma);
        break;
      case ':':
        one(tok::colon);
        break;
      case '+':
        one(tok::plus);
        break;
      case '*':
        one(tok::star);
        break;
      case '/':
        one(tok::slash);
        break;
      case '%':
        one(tok::percent);
        break;
      case '|':
        one(tok::pipe);
        break;
      case '.':
        n == '.' ? two(tok::dotdot) : one(tok::dot);
        break;
      case '=':
        n == '=' ? two(tok::eq) : n == '>' ? two(tok::fat_arrow) : one(tok::assign);
        break;
      case '<':
        n == '=' ? two(tok::le) : one(tok::lt);
        break;
      case '>':
        n == '=' ? two(tok::ge) : one(tok::gt);
        break;
      case '-':
        n == '>' ? two(tok::arrow) : one(tok::minus);
        break;
      case '!':
        if (n == '=') {
          two(tok::ne);
        } else {
          unexpected("unexpected `!`: use `not` (or `!=`)");
        }
        break;
      case '?':
        if (n == '?') {
          two(tok::qq);
        } else {
          unexpected("unexpected `?`: did you mean `??`");
        }
        break;
      case '&':
        unexpected("unexpected `&`: use `and`");
        break;
      case '\'':
        unexpected("unexpected `'`: strings are written in double quotes `\"`");
        break;
      case '"':
        scan_string(t, false);
        break;
      case '@':
        scan_date(t);
        break;
      default:
        if (is_ascii_digit(c)) {
          scan_number(t);
        } else if (bad_char_error()) {
          skipped = true;
        } else if (scan_word(t, false)) {
        } else {
          std::size_t len = 0;
          std::int32_t cp = peek_cp(len);
          std::string raw(text_.substr(st_.offset, len));
          if (const char* ascii = lookalike(cp)) {
            error_at(st_.offset, st_.line, st_.column, lookalike_message(cp, raw));
            if (*ascii == '"') {
              scan_string(t, true);
              break;
            }
            t.kind = *ascii == '('   ? tok::lparen
                     : *ascii == ')' ? tok::rparen
                     : *ascii == ',' ? tok::comma
                                     : tok::colon;
            advance_bytes(len);
            break;
          }
          // A character the display would escape (a control, a bidi control, a line
          // separator) is named by its code point alone, never echoed.
          const bool printable = detail::escape_for_display(raw) == raw;
          std::string m = "unexpected character " + (printable ? "`" + raw + "` " : std::string()) +
                          "(U+" + hex(static_cast<std::uint32_t>(cp), 4) + ")";
          // A combining mark, a digit of another script or a connector may continue a name
          // but not start one (UAX #31): say so, as the character itself looks like a letter.
          if (is_word_char(cp)) m += ": a name cannot start with it";
          error_at(st_.offset, st_.line, st_.column, std::move(m));
          advance_bytes(len);
          skipped = true;
        }
    }
    if (skipped) continue;
    t.end = st_.offset;
    st_.line_start = false;
    return t;
  }
}

bool lexer::capture_json(std::string& out, ast::pos& where, ast::span& bytes) {
  skip_space();
  where = {file_, st_.line, st_.column};
  if (st_.offset >= text_.size() || text_[st_.offset] != '{') return false;
  std::uint32_t begin = st_.offset;
  std::uint32_t open_line = st_.line;
  std::size_t depth = 0;
  bool in_string = false;
  while (st_.offset < text_.size()) {
    char c = text_[st_.offset];
    if (c == '\n') {
      ++st_.offset;
      ++st_.line;
      st_.column = 1;
      continue;
    }
    if (bad_char_error()) continue;
    std::size_t len = 0;
    peek_cp(len);
    if (in_string) {
      if (c == '\\' && st_.offset + 1 < text_.size() && text_[st_.offset + 1] != '\n') {
        advance_bytes(1);
        if (bad_char_error()) continue;
        peek_cp(len);
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{') {
      ++depth;
    } else if (c == '}') {
      if (--depth == 0) {
        advance_bytes(1);
        out.assign(text_.substr(begin, st_.offset - begin));
        bytes = {begin, st_.offset};
        st_.line_start = false;
        return true;
      }
    }
    advance_bytes(len);
  }
  error_at(begin, where.line, where.column,
           "unterminated JSON of `given`: expected `}` to close `{` at line " +
               std::to_string(open_line));
  out.assign(text_.substr(begin));
  bytes = {begin, st_.offset};
  return false;
}

}  // namespace carerules::parse
