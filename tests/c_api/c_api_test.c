/* Tests of the C ABI from C11, linked against libcarerules.so.0: every function, every status,
 * NULL for every pointer argument, empty and huge inputs, ownership, and one ruleset shared by
 * 8 threads. Usage: c_api_test SOURCE_DIR */
#include "carerules/c_api.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

static int passed, failed;

#define CHECK(cond)                                                            \
  do {                                                                         \
    if (cond) {                                                                \
      ++passed;                                                                \
    } else {                                                                   \
      ++failed;                                                                \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
    }                                                                          \
  } while (0)

static int contains(const char* haystack, const char* needle) {
  return haystack != NULL && strstr(haystack, needle) != NULL;
}

static const char rules[] =
    "ruleset capi {\n"
    "  title \"C ABI\"\n"
    "  version \"7\"\n"
    "  input { id : string  beds : int in 0..10000 = 0 \"beds\"  appraisal : enum(\"A\", \"B\", "
    "\"C\", \"D\")\n"
    "          residents : list { id : string  ability : int in 0..90 } }\n"
    "  hazard H1 \"dangerous building\" { cite \"4(1)\" when appraisal in [\"C\", \"D\"]\n"
    "    rectify suspend within 90 days }\n"
    "  grade risk : color { red when present(H1) blue otherwise }\n"
    "}\n";

static const char resident_rules[] =
    "ruleset capi_resident {\n"
    "  title \"C ABI residents\"\n"
    "  version \"1\"\n"
    "  input { id : string  ability : int in 0..90 }\n"
    "  hazard R1 \"frail\" { severity general cite \"r\" when ability < 30 }\n"
    "}\n";

static cr_ruleset* compile_ok(const char* text) {
  cr_ruleset* rs = NULL;
  char* diags = NULL;
  cr_status s = cr_compile_text(text, strlen(text), "capi.rules", NULL, &rs, &diags);
  CHECK(s == CR_OK);
  CHECK(rs != NULL);
  CHECK(contains(diags, "\"status\":\"ok\""));
  cr_string_free(diags);
  return rs;
}

static void test_versions(void) {
  CHECK(cr_abi_version() == 1);
  CHECK(strncmp(cr_engine_version(), "carerules ", 10) == 0);
}

static void test_compile_errors(void) {
  cr_ruleset* rs = (cr_ruleset*)1;
  char* diags = NULL;
  const char bad[] = "ruleset x {\n  title \"t\"\n  version \"1\"\n  let a = b +\n}\n";
  cr_status s = cr_compile_text(bad, strlen(bad), "bad.rules", NULL, &rs, &diags);
  CHECK(s == CR_COMPILE_ERROR);
  CHECK(rs == NULL);
  CHECK(contains(diags, "\"status\":\"compile_error\""));
  CHECK(contains(diags, "\"file\":\"bad.rules\""));
  CHECK(contains(diags, "\"line\":"));
  CHECK(contains(diags, "\"column\":"));
  cr_string_free(diags);

  s = cr_compile_file("/nonexistent/x.rules", NULL, &rs, &diags);
  CHECK(s == CR_IO_ERROR);
  CHECK(contains(diags, "no such file"));
  cr_string_free(diags);
  s = cr_compile_file("/tmp", NULL, &rs, &diags);
  CHECK(s == CR_IO_ERROR);
  cr_string_free(diags);

  /* bad options */
  s = cr_compile_text(rules, strlen(rules), NULL, "{not json", &rs, &diags);
  CHECK(s == CR_USAGE_ERROR);
  CHECK(contains(diags, "options_json"));
  cr_string_free(diags);
  s = cr_compile_text(rules, strlen(rules), NULL, "{\"limits\": {\"nope\": 3}}", &rs, &diags);
  CHECK(s == CR_USAGE_ERROR);
  CHECK(contains(diags, "unknown limit"));
  cr_string_free(diags);
  s = cr_compile_text(rules, strlen(rules), NULL, "{\"limits\": {\"depth\": 3}}", &rs, &diags);
  CHECK(s == CR_COMPILE_ERROR);
  CHECK(contains(diags, "depth"));
  cr_string_free(diags);
  s = cr_compile_text(rules, strlen(rules), NULL, "{\"colour\": 1}", &rs, &diags);
  CHECK(s == CR_USAGE_ERROR);
  cr_string_free(diags);
  /* empty text: a compile error, not a crash */
  s = cr_compile_text("", 0, NULL, NULL, &rs, &diags);
  CHECK(s == CR_COMPILE_ERROR);
  cr_string_free(diags);
}

static void test_nulls(cr_ruleset* rs) {
  char* out = NULL;
  cr_ruleset* made = NULL;
  CHECK(cr_compile_file(NULL, NULL, &made, &out) == CR_USAGE_ERROR);
  CHECK(contains(out, "usage_error"));
  cr_string_free(out);
  CHECK(cr_compile_file("x.rules", NULL, NULL, NULL) == CR_USAGE_ERROR);
  CHECK(cr_compile_text(NULL, 5, NULL, NULL, &made, NULL) == CR_USAGE_ERROR);
  CHECK(cr_compile_text(rules, strlen(rules), NULL, NULL, NULL, NULL) == CR_USAGE_ERROR);
  CHECK(cr_evaluate(NULL, "{}", 2, NULL, &out) == CR_USAGE_ERROR);
  cr_string_free(out);
  CHECK(cr_evaluate(rs, NULL, 2, NULL, &out) == CR_USAGE_ERROR);
  cr_string_free(out);
  CHECK(cr_evaluate(rs, "{}", 2, NULL, NULL) == CR_USAGE_ERROR);
  CHECK(cr_evaluate_batch(NULL, "{}", 2, NULL, &out) == CR_USAGE_ERROR);
  cr_string_free(out);
  CHECK(cr_evaluate_batch(rs, NULL, 2, NULL, &out) == CR_USAGE_ERROR);
  cr_string_free(out);
  CHECK(cr_evaluate_batch(rs, "{}", 2, NULL, NULL) == CR_USAGE_ERROR);
  CHECK(cr_ruleset_info(NULL, &out) == CR_USAGE_ERROR);
  cr_string_free(out);
  CHECK(cr_ruleset_info(rs, NULL) == CR_USAGE_ERROR);
  CHECK(cr_schema(NULL, &out) == CR_USAGE_ERROR);
  cr_string_free(out);
  CHECK(cr_schema(rs, NULL) == CR_USAGE_ERROR);
  /* the optional pointers: no diagnostics wanted, no options, no name */
  CHECK(cr_compile_text(rules, strlen(rules), NULL, NULL, &made, NULL) == CR_OK);
  CHECK(made != NULL);
  cr_ruleset_free(made);
  CHECK(cr_evaluate(rs, "{}", 2, NULL, &out) == CR_OK);
  CHECK(contains(out, "\"hazards\":[{\"id\":\"H1\""));
  cr_string_free(out);
  cr_ruleset_free(NULL);
  cr_string_free(NULL);
}

static void test_evaluate(cr_ruleset* rs) {
  const char facts[] = "{\"id\": \"FJ-1\", \"appraisal\": \"C\", \"beds\": 80}";
  char* report = NULL;
  CHECK(cr_evaluate(rs, facts, strlen(facts), "{\"asof\": \"2024-06-01\"}", &report) == CR_OK);
  CHECK(contains(report, "\"subject\":\"FJ-1\""));
  CHECK(contains(report, "\"status\":\"present\""));
  CHECK(contains(report, "\"due\":\"2024-08-30\""));
  CHECK(contains(report, "\"value\":\"red\""));
  cr_string_free(report);

  /* bad JSON facts: the record's error, inside an OK report */
  CHECK(cr_evaluate(rs, "{\"id\": ", 7, "{\"asof\": \"2024-06-01\"}", &report) == CR_OK);
  CHECK(contains(report, "\"subject\":null"));
  CHECK(contains(report, "\"errors\":[{"));
  cr_string_free(report);

  /* empty input */
  CHECK(cr_evaluate(rs, NULL, 0, "{\"asof\": \"2024-06-01\"}", &report) == CR_OK);
  CHECK(contains(report, "\"errors\":[{"));
  cr_string_free(report);

  /* a bad asof is a usage error with a message */
  CHECK(cr_evaluate(rs, facts, strlen(facts), "{\"asof\": \"2024-02-30\"}", &report) ==
        CR_USAGE_ERROR);
  CHECK(contains(report, "asof"));
  cr_string_free(report);
  CHECK(cr_evaluate(rs, facts, strlen(facts), "{\"threads\": -1}", &report) == CR_USAGE_ERROR);
  cr_string_free(report);

  /* subject and each */
  const char with_code[] = "{\"code\": \"X-9\", \"appraisal\": \"A\"}";
  CHECK(cr_evaluate(rs, with_code, strlen(with_code),
                    "{\"asof\": \"2024-06-01\", \"subject\": \"code\"}", &report) == CR_OK);
  CHECK(contains(report, "\"subject\":\"X-9\""));
  cr_string_free(report);
}

static void test_each_and_batch(void) {
  cr_ruleset* rs = compile_ok(resident_rules);
  const char facts[] =
      "{\"residents\": [{\"id\": \"r1\", \"ability\": 10}, {\"id\": \"r2\", \"ability\": 80}]}";
  char* out = NULL;
  CHECK(cr_evaluate(rs, facts, strlen(facts), "{\"asof\": \"2024-06-01\", \"each\": \"residents\"}",
                    &out) == CR_OK);
  CHECK(out != NULL && out[0] == '[');
  CHECK(contains(out, "\"subject\":\"r1\""));
  CHECK(contains(out, "\"subject\":\"r2\""));
  cr_string_free(out);

  const char lines[] =
      "{\"id\": \"a\", \"ability\": 10}\n\n{\"id\": \"b\", \"ability\": 50}\r\n[1,\n";
  CHECK(cr_evaluate_batch(rs, lines, strlen(lines), "{\"asof\": \"2024-06-01\", \"threads\": 2}",
                          &out) == CR_OK);
  int count = 0;
  for (const char* p = out; p && *p; ++p) count += *p == '\n';
  CHECK(count == 3);
  CHECK(contains(out, "\"subject\":\"a\""));
  CHECK(strstr(out, "\"subject\":\"a\"") < strstr(out, "\"subject\":\"b\""));
  CHECK(contains(out, "line 4: "));
  cr_string_free(out);

  /* with "each", one report line per element, elements in order */
  const char two_homes[] =
      "{\"residents\": [{\"id\": \"r1\", \"ability\": 10}, {\"id\": \"r2\", \"ability\": 80}]}\n"
      "{\"residents\": [{\"id\": \"r3\", \"ability\": 20}]}\n";
  CHECK(cr_evaluate_batch(rs, two_homes, strlen(two_homes),
                          "{\"asof\": \"2024-06-01\", \"each\": \"residents\"}", &out) == CR_OK);
  count = 0;
  for (const char* p = out; p && *p; ++p) count += *p == '\n';
  CHECK(count == 3);
  CHECK(contains(out, "\"subject\":\"r1\"") && contains(out, "\"subject\":\"r3\""));
  CHECK(strstr(out, "\"subject\":\"r1\"") < strstr(out, "\"subject\":\"r2\""));
  CHECK(strstr(out, "\"subject\":\"r2\"") < strstr(out, "\"subject\":\"r3\""));
  cr_string_free(out);

  CHECK(cr_evaluate_batch(rs, "", 0, NULL, &out) == CR_OK);
  CHECK(out != NULL && out[0] == '\0');
  cr_string_free(out);
  cr_ruleset_free(rs);
}

static void test_info_and_schema(cr_ruleset* rs) {
  char* info = NULL;
  CHECK(cr_ruleset_info(rs, &info) == CR_OK);
  CHECK(contains(info, "\"name\":\"capi\""));
  CHECK(contains(info, "\"version\":\"7\""));
  CHECK(contains(info, "\"digest\":\"sha256:"));
  CHECK(contains(info, "\"files\":[{\"file\":\"capi.rules\",\"name\":\"capi\",\"version\":\"7\""));
  CHECK(contains(info, "\"path\":\"residents[].ability\""));
  CHECK(contains(info,
                 "{\"path\":\"beds\",\"type\":\"int\",\"label\":\"beds\",\"default\":0,"
                 "\"range\":[0,10000]}"));
  CHECK(contains(info, "\"values\":[\"A\",\"B\",\"C\",\"D\"]}"));
  CHECK(contains(info, "\"hazards\":[{\"id\":\"H1\""));
  CHECK(contains(info, "\"values\":[\"blue\",\"yellow\",\"orange\",\"red\"]"));
  cr_string_free(info);
  char* schema = NULL;
  CHECK(cr_schema(rs, &schema) == CR_OK);
  CHECK(contains(schema, "\"$schema\":\"https://json-schema.org/draft/2020-12/schema\""));
  cr_string_free(schema);
}

static void test_huge_input(cr_ruleset* rs) {
  /* 64 MiB of one string value: at the line_bytes limit, read in bounded memory */
  const size_t n = (size_t)64 << 20;
  char* big = malloc(n);
  CHECK(big != NULL);
  if (big == NULL) return;
  memset(big, 'x', n);
  memcpy(big, "{\"id\": \"", 8);
  memcpy(big + n - 2, "\"}", 2);
  char* report = NULL;
  CHECK(cr_evaluate(rs, big, n, "{\"asof\": \"2024-06-01\"}", &report) == CR_OK);
  CHECK(contains(report, "json_string"));
  cr_string_free(report);
  /* one byte more than line_bytes: the record's error names the limit */
  char* bigger = realloc(big, n + 1);
  CHECK(bigger != NULL);
  if (bigger == NULL) {
    free(big);
    return;
  }
  bigger[n] = ' ';
  CHECK(cr_evaluate(rs, bigger, n + 1, "{\"asof\": \"2024-06-01\"}", &report) == CR_OK);
  CHECK(contains(report, "line_bytes"));
  cr_string_free(report);
  free(bigger);
}

static void test_limit_status(cr_ruleset* rs) {
  /* options over 1 MiB have no record to report them in: CR_LIMIT, for compile and evaluate */
  const size_t n = ((size_t)1 << 20) + 16;
  char* options = malloc(n + 1);
  CHECK(options != NULL);
  if (options == NULL) return;
  memset(options, ' ', n);
  options[0] = '{';
  options[n - 1] = '}';
  options[n] = '\0';
  char* out = NULL;
  CHECK(cr_evaluate(rs, "{}", 2, options, &out) == CR_LIMIT);
  CHECK(contains(out, "\"status\":\"limit\""));
  CHECK(contains(out, "1 MiB"));
  cr_string_free(out);
  cr_ruleset* made = NULL;
  CHECK(cr_compile_text(rules, strlen(rules), NULL, options, &made, &out) == CR_LIMIT);
  CHECK(made == NULL);
  cr_string_free(out);
  free(options);
}

/* Out of memory is CR_INTERNAL with a message, never an abort. Run in a child whose address
 * space is capped a little above what it already uses; the sanitizers reserve terabytes of
 * shadow memory, so there the cap cannot be set and the check is skipped. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
static void test_out_of_memory(cr_ruleset* rs) { (void)rs; }
#else
static int out_of_memory_child(cr_ruleset* rs) {
  /* 900000 residents (the list limit is a million): a few MiB of text, far more in memory */
  const char head[] = "{\"id\": \"big\", \"residents\": [";
  const char element[] = "{\"ability\": 1},";
  const size_t count = 900000;
  const size_t n = strlen(head) + count * strlen(element) + 1;
  char* big = malloc(n);
  if (big == NULL) return 10;
  char* p = big;
  memcpy(p, head, strlen(head));
  p += strlen(head);
  for (size_t i = 0; i < count; ++i, p += strlen(element)) memcpy(p, element, strlen(element));
  p[-1] = ']';
  *p = '}';
  long pages = 0;
  FILE* statm = fopen("/proc/self/statm", "r");
  if (statm == NULL || fscanf(statm, "%ld", &pages) != 1) return 11;
  fclose(statm);
  const rlim_t cap = (rlim_t)pages * (rlim_t)sysconf(_SC_PAGESIZE) + ((rlim_t)8 << 20);
  const struct rlimit limit = {cap, cap};
  if (setrlimit(RLIMIT_AS, &limit) != 0) return 12;
  char* out = NULL;
  const cr_status s = cr_evaluate(rs, big, n, NULL, &out);
  if (s != CR_INTERNAL) {
    /* stdio may need memory the cap no longer allows */
    char line[400];
    snprintf(line, sizeof line, "status %d: %.300s\n", (int)s, out ? out : "(null)");
    const ssize_t written = write(2, line, strlen(line));
    (void)written;
    return 13;
  }
  if (!contains(out, "\"status\":\"internal\"") || !contains(out, "out of memory")) return 14;
  cr_string_free(out);
  return 0;
}

static void test_out_of_memory(cr_ruleset* rs) {
  fflush(NULL); /* the child must not write the parent's buffered output again */
  const pid_t child = fork();
  CHECK(child >= 0);
  if (child == 0) _exit(out_of_memory_child(rs));
  int wstatus = 0;
  CHECK(waitpid(child, &wstatus, 0) == child);
  CHECK(WIFEXITED(wstatus));
  if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) != 0)
    fprintf(stderr, "out-of-memory child failed at step %d\n", WEXITSTATUS(wstatus));
  CHECK(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0);
}
#endif

struct job {
  const cr_ruleset* rs;
  int ok;
};

static void* worker(void* arg) {
  struct job* j = arg;
  j->ok = 1;
  for (int i = 0; i < 200; ++i) {
    char facts[128];
    snprintf(facts, sizeof facts, "{\"id\": \"S%d\", \"appraisal\": \"%s\"}", i, i % 2 ? "C" : "A");
    char* report = NULL;
    if (cr_evaluate(j->rs, facts, strlen(facts), "{\"asof\": \"2024-06-01\"}", &report) != CR_OK)
      j->ok = 0;
    char subject[32];
    snprintf(subject, sizeof subject, "\"subject\":\"S%d\"", i);
    if (!contains(report, subject)) j->ok = 0;
    if (contains(report, "\"value\":\"red\"") != (i % 2)) j->ok = 0;
    cr_string_free(report);
  }
  return NULL;
}

static void test_threads(cr_ruleset* rs) {
  pthread_t threads[8];
  struct job jobs[8];
  for (int t = 0; t < 8; ++t) {
    jobs[t].rs = rs;
    jobs[t].ok = 0;
    pthread_create(&threads[t], NULL, worker, &jobs[t]);
  }
  for (int t = 0; t < 8; ++t) {
    pthread_join(threads[t], NULL);
    CHECK(jobs[t].ok);
  }
}

static void test_compile_file(const char* source_dir) {
  char path[4096];
  snprintf(path, sizeof path, "%s/rulesets/institution.rules", source_dir);
  cr_ruleset* rs = NULL;
  char* diags = NULL;
  CHECK(cr_compile_file(path, NULL, &rs, &diags) == CR_OK);
  cr_string_free(diags);
  char* info = NULL;
  CHECK(cr_ruleset_info(rs, &info) == CR_OK);
  /* every file of the bundle with its own name and version, the top file first */
  CHECK(contains(info, "\"files\":[{\"file\":"));
  CHECK(contains(info, "\"name\":\"mca_major_hazards_2023\""));
  CHECK(contains(info, "\"name\":\"gbt37276_levels\""));
  cr_string_free(info);
  cr_ruleset_free(rs);
}

int main(int argc, char** argv) {
  const char* source_dir = argc > 1 ? argv[1] : ".";
  test_versions();
  test_compile_errors();
  cr_ruleset* rs = compile_ok(rules);
  test_nulls(rs);
  test_evaluate(rs);
  test_each_and_batch();
  test_info_and_schema(rs);
  test_huge_input(rs);
  test_limit_status(rs);
  test_out_of_memory(rs);
  test_threads(rs);
  cr_ruleset_free(rs);
  test_compile_file(source_dir);
  printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
