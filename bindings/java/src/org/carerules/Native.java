package org.carerules;

import com.sun.jna.Library;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.PointerByReference;

/** The C ABI (include/carerules/c_api.h) as JNA sees it. Internal: use {@link Ruleset}. */
interface Native extends Library {
  int cr_abi_version();

  String cr_engine_version();

  int cr_compile_file(String path, String optionsJson, PointerByReference out,
                      PointerByReference diagnosticsJson);

  int cr_compile_text(byte[] text, long len, String name, String optionsJson,
                      PointerByReference out, PointerByReference diagnosticsJson);

  int cr_evaluate(Pointer rs, byte[] factsJson, long len, String optionsJson,
                  PointerByReference reportJson);

  int cr_evaluate_batch(Pointer rs, byte[] jsonl, long len, String optionsJson,
                        PointerByReference reportsJsonl);

  int cr_ruleset_info(Pointer rs, PointerByReference infoJson);

  int cr_schema(Pointer rs, PointerByReference schemaJson);

  void cr_ruleset_free(Pointer rs);

  void cr_string_free(Pointer s);
}
