package org.carerules;

import com.sun.jna.Pointer;
import com.sun.jna.ptr.PointerByReference;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A compiled carerules ruleset, called in-process through libcarerules.so.0.
 *
 * <pre>
 * try (Ruleset rs = Ruleset.compileFile("rulesets/institution.rules", null)) {
 *   String report = rs.evaluate(factsJson, "{\"asof\": \"2024-06-01\"}");
 * }
 * </pre>
 *
 * <p>Immutable and safe to share between threads; close it (or use try-with-resources) when
 * no thread needs it any more. The library is found through JNA's usual search
 * (jna.library.path, LD_LIBRARY_PATH, the system's library directories).
 */
public final class Ruleset implements AutoCloseable {
  private static final int OK = 0;
  private static final int COMPILE_ERROR = 1;
  // cr_status by its value, as the error JSON names it.
  private static final String[] STATUS_NAMES = {
      "ok", "compile_error", "usage_error", "io_error", "limit", "internal"};

  private Pointer handle;

  // One out-parameter per thread: a PointerByReference is native memory, too dear to make
  // for every call.
  private static final ThreadLocal<PointerByReference> OUT =
      ThreadLocal.withInitial(PointerByReference::new);

  private Ruleset(Pointer handle) {
    this.handle = handle;
  }

  /** "carerules X.Y.Z" */
  public static String engineVersion() {
    return Native.cr_engine_version();
  }

  /**
   * Compiles a ruleset file and its imports. optionsJson may be null, or
   * {"import_roots": [...], "limits": {...}}.
   *
   * @throws CompileException when the ruleset does not compile
   * @throws CarerulesException for a missing file or bad options
   */
  public static Ruleset compileFile(String path, String optionsJson) {
    PointerByReference out = new PointerByReference();
    PointerByReference diags = new PointerByReference();
    int status = Native.cr_compile_file(cString(path), cString(optionsJson), out, diags);
    return made(status, out, diags);
  }

  /** Compiles ruleset text held in memory; `name` is what diagnostics show. */
  public static Ruleset compileText(String text, String name, String optionsJson) {
    byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
    PointerByReference out = new PointerByReference();
    PointerByReference diags = new PointerByReference();
    int status =
        Native.cr_compile_text(bytes, bytes.length, cString(name), cString(optionsJson), out, diags);
    return made(status, out, diags);
  }

  private static Ruleset made(int status, PointerByReference out, PointerByReference diags) {
    String text = take(diags.getValue());
    if (status == OK) return new Ruleset(out.getValue());
    throw failure(status, text);
  }

  @SuppressWarnings("unchecked")
  private static CarerulesException failure(int status, String text) {
    // Out of memory may leave no room even for the message.
    if (text == null) {
      String name = status >= 0 && status < STATUS_NAMES.length ? STATUS_NAMES[status] : "internal";
      return new CarerulesException(name, "");
    }
    Map<String, Object> o = (Map<String, Object>) Json.parse(text);
    String message = o.get("message") == null ? "" : (String) o.get("message");
    if (status == COMPILE_ERROR) {
      List<CompileException.Diagnostic> list = new ArrayList<>();
      for (Object d : (List<Object>) o.get("diagnostics")) {
        Map<String, Object> m = (Map<String, Object>) d;
        list.add(new CompileException.Diagnostic((String) m.get("file"),
            ((Long) m.get("line")).intValue(), ((Long) m.get("column")).intValue(),
            (String) m.get("severity"), (String) m.get("message")));
      }
      return new CompileException(message, list);
    }
    return new CarerulesException((String) o.get("status"), message);
  }

  /** NUL-terminated UTF-8 for a `const char*` argument; null stays null. */
  private static byte[] cString(String s) {
    if (s == null) return null;
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    byte[] z = new byte[b.length + 1];
    System.arraycopy(b, 0, z, 0, b.length);
    return z;
  }

  /** Reads and frees a string the library returned. */
  private static String take(Pointer p) {
    if (p == null) return null;
    try {
      return p.getString(0, "UTF-8");
    } finally {
      Native.cr_string_free(p);
    }
  }

  private Pointer open() {
    Pointer h = handle;
    if (h == null) throw new IllegalStateException("the ruleset is closed");
    return h;
  }

  /** One C call that fills an out-string: its status. */
  private interface Call {
    int run(Pointer rs, PointerByReference out);
  }

  /** Runs a call on this ruleset and returns its out-string, or throws what it reported. */
  private String call(Call c) {
    PointerByReference out = OUT.get();
    int status = c.run(open(), out);
    String text = take(out.getValue());
    if (status != OK) throw failure(status, text);
    return text;
  }

  /**
   * Evaluates one record (JSON text) and returns its report as JSON text. optionsJson may be
   * null, or {"asof": "YYYY-MM-DD", "subject": "path", "each": "path"}. Facts that are not
   * valid JSON give a report whose "errors" say so.
   */
  public String evaluate(String factsJson, String optionsJson) {
    byte[] bytes = factsJson.getBytes(StandardCharsets.UTF_8);
    byte[] options = cString(optionsJson);
    return call((rs, out) -> Native.cr_evaluate(rs, bytes, bytes.length, options, out));
  }

  /** JSON lines in, one report line per non-blank input line out, in order. */
  public String evaluateBatch(String jsonl, String optionsJson) {
    byte[] bytes = jsonl.getBytes(StandardCharsets.UTF_8);
    byte[] options = cString(optionsJson);
    return call((rs, out) -> Native.cr_evaluate_batch(rs, bytes, bytes.length, options, out));
  }

  /** name, version, digest, files (each with its own name, version and digest), inputs... */
  public String info() {
    return call(Native::cr_ruleset_info);
  }

  /** The inputs as a JSON Schema (draft 2020-12) document. */
  public String schema() {
    return call(Native::cr_schema);
  }

  @Override
  public synchronized void close() {
    if (handle != null) {
      Native.cr_ruleset_free(handle);
      handle = null;
    }
  }

  /**
   * As {@link #evaluate(String, String)}, with UTF-8 bytes in and out: for facts read from a
   * socket or file and a report written to one, it skips making Java strings (the report's
   * Chinese text makes decoding it cost about a quarter of an evaluation).
   */
  public byte[] evaluateUtf8(byte[] factsJson, String optionsJson) {
    byte[] options = cString(optionsJson);
    PointerByReference out = OUT.get();
    int status = Native.cr_evaluate(open(), factsJson, factsJson.length, options, out);
    Pointer p = out.getValue();
    if (status != OK) throw failure(status, take(p));
    try {
      return p.getByteArray(0, (int) p.indexOf(0, (byte) 0));
    } finally {
      Native.cr_string_free(p);
    }
  }
}
