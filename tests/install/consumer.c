/* A C program built with pkg-config against the installed libcarerules.so.0. */
#include <carerules/c_api.h>
#include <stdio.h>
#include <string.h>

int main(void) {
  const char rules[] =
      "ruleset c_consumer {\n title \"t\"\n version \"1\"\n input { beds : int }\n"
      " hazard H1 \"big\" { cite \"c\" when beds > 100 }\n}\n";
  cr_ruleset* rs = NULL;
  char* diags = NULL;
  if (cr_compile_text(rules, strlen(rules), "c.rules", NULL, &rs, &diags) != CR_OK) {
    fprintf(stderr, "%s\n", diags);
    return 1;
  }
  cr_string_free(diags);
  const char facts[] = "{\"beds\": 150}";
  char* report = NULL;
  cr_status s = cr_evaluate(rs, facts, strlen(facts), "{\"asof\": \"2024-06-01\"}", &report);
  if (s == CR_OK) puts(report);
  cr_string_free(report);
  cr_ruleset_free(rs);
  return s == CR_OK ? 0 : 1;
}
