package org.carerules;

import com.sun.jna.Pointer;
import com.sun.jna.ptr.PointerByReference;

/**
 * The C ABI (include/carerules/c_api.h) bound with JNA's direct mapping, which calls the
 * native functions without the reflection of an interface proxy. Internal: use {@link Ruleset}.
 */
final class Native {
  static {
    com.sun.jna.Native.register("carerules");
  }

  private Native() {}

  static native int cr_abi_version();

  static native String cr_engine_version();

  // Every `const char*` is a byte[] holding NUL-terminated UTF-8: a String argument would be
  // encoded in the locale's charset (ASCII under LANG=C), mangling a Chinese path or name.
  static native int cr_compile_file(byte[] path, byte[] optionsJson, PointerByReference out,
                                    PointerByReference diagnosticsJson);

  static native int cr_compile_text(byte[] text, long len, byte[] name, byte[] optionsJson,
                                    PointerByReference out, PointerByReference diagnosticsJson);

  static native int cr_evaluate(Pointer rs, byte[] factsJson, long len, byte[] optionsJson,
                                PointerByReference reportJson);

  static native int cr_evaluate_batch(Pointer rs, byte[] jsonl, long len, byte[] optionsJson,
                                      PointerByReference reportsJsonl);

  static native int cr_ruleset_info(Pointer rs, PointerByReference infoJson);

  static native int cr_schema(Pointer rs, PointerByReference schemaJson);

  static native void cr_ruleset_free(Pointer rs);

  static native void cr_string_free(Pointer s);
}
