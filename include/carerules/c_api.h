/* carerules C ABI: the engine for Java (JNA/JNI), C# (P/Invoke), Go (cgo), Python (ctypes)
 * and anything else that can call C.
 *
 *   cr_ruleset* rs = NULL;
 *   char* diagnostics = NULL;
 *   if (cr_compile_file("rulesets/institution.rules", NULL, &rs, &diagnostics) != CR_OK) {
 *     fprintf(stderr, "%s\n", diagnostics);   // {"status": …, "message": …, "diagnostics": […]}
 *     cr_string_free(diagnostics);
 *     return 1;
 *   }
 *   const char facts[] = "{\"id\": \"A-1\", \"facility\": {\"beds\": 80}}";
 *   char* report = NULL;
 *   if (cr_evaluate(rs, facts, sizeof facts - 1, "{\"asof\": \"2024-06-01\"}", &report) == CR_OK)
 *     puts(report);                            // the report JSON, as `carerules eval` writes it
 *   cr_string_free(report);
 *   cr_ruleset_free(rs);
 *
 * Plain C11. Text in and out is UTF-8 JSON, given as pointer and length (no NUL needed).
 *
 * Ownership: every `char**` out-parameter receives a NUL-terminated string the library
 * allocated; free it with cr_string_free (never with free()). On an error status it holds
 * {"status": "usage_error", "message": "…", "diagnostics": [...]}, where each diagnostic has
 * file, line, column, severity and message. A `cr_ruleset*` is freed with cr_ruleset_free.
 * Out-parameters are set to NULL first, so freeing them is always safe.
 *
 * Errors: every call returns a status; no C++ exception crosses this boundary. A NULL
 * pointer where one is required is CR_USAGE_ERROR; a text given with its length may be NULL
 * when the length is 0 (empty text). Facts that are not valid JSON are not an
 * error of the call: the record's report says so in its "errors" (status CR_OK), as in the CLI.
 *
 * Thread safety: a cr_ruleset is immutable; any number of threads may evaluate with one
 * ruleset at once. Functions that take no ruleset are safe to call from any thread.
 */
#ifndef CARERULES_C_API_H
#define CARERULES_C_API_H

#include <stddef.h>

#if defined(_WIN32)
#define CR_API __declspec(dllexport)
#else
#define CR_API __attribute__((visibility("default")))
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* A compiled ruleset: opaque, immutable, shareable across threads. */
typedef struct cr_ruleset cr_ruleset;

typedef enum {
  CR_OK = 0,
  CR_COMPILE_ERROR = 1, /* the ruleset does not compile: the diagnostics say why */
  CR_USAGE_ERROR = 2,   /* a NULL argument, bad options JSON, a bad asof */
  CR_IO_ERROR = 3,      /* a file cannot be read */
  CR_LIMIT = 4,         /* an input over a limit that has no record to report it in */
  CR_INTERNAL = 5       /* out of memory, or a fault of the engine itself */
} cr_status;

/* The version of this ABI: 1. It changes only when a signature or a meaning changes. */
CR_API int cr_abi_version(void);

/* "carerules X.Y.Z"; a static string, not to be freed. */
CR_API const char* cr_engine_version(void);

/* Compiles a ruleset file and its imports. options_json may be NULL, or
 * {"import_roots": ["dir", …], "limits": {"depth": 64, …}}. On CR_OK *out holds the
 * ruleset and *diagnostics_json the warnings ({"status": "ok", "diagnostics": [...]}). */
CR_API cr_status cr_compile_file(const char* path, const char* options_json, cr_ruleset** out,
                                 char** diagnostics_json);

/* The same from text held in memory. `name` is what diagnostics and `because` show (NULL:
 * "<input>"); the first import root stands for the text's directory. options_json may also
 * give "name". */
CR_API cr_status cr_compile_text(const char* text, size_t len, const char* name,
                                 const char* options_json, cr_ruleset** out,
                                 char** diagnostics_json);

/* Evaluates one record. options_json may be NULL, or {"asof": "YYYY-MM-DD", "subject":
 * "path", "each": "path"}. Without "each" *report_json is one report; with it, a JSON array
 * of the reports of every element. */
CR_API cr_status cr_evaluate(const cr_ruleset* rs, const char* facts_json, size_t len,
                             const char* options_json, char** report_json);

/* Evaluates JSON lines: one report line per non-blank input line (one per element with
 * "each"), in input order, each ended by "\n". options_json may add "threads": N (0: every
 * core). A line that is not a JSON object gets a report naming its line. */
CR_API cr_status cr_evaluate_batch(const cr_ruleset* rs, const char* jsonl, size_t len,
                                   const char* options_json, char** reports_jsonl);

/* {"name", "title", "version", "source"?, "effective"?, "digest", "engine",
 *  "files": [{"file", "name", "version", "digest"}, …] (top file first),
 *  "inputs": [{"path", "type", "label"?, "default"?, "range"?, "values"?}, …],
 *  "hazards": [{"id", "title", "category", "severity"}], "scores": [{"name", "sections"}],
 *  "grades": [{"name", "values"}]} */
CR_API cr_status cr_ruleset_info(const cr_ruleset* rs, char** info_json);

/* The inputs as a JSON Schema (draft 2020-12) document. */
CR_API cr_status cr_schema(const cr_ruleset* rs, char** schema_json);

/* Frees a ruleset (NULL is allowed). Other threads must be done with it. */
CR_API void cr_ruleset_free(cr_ruleset* rs);

/* Frees a string the library returned (NULL is allowed). */
CR_API void cr_string_free(char* s);

#ifdef __cplusplus
}
#endif

#endif /* CARERULES_C_API_H */
