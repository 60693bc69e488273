// Checker diagnostics, table-driven: each body is placed inside a ruleset whose first line is
// `ruleset t { title "t" version "1"` (so the body starts on line 2), and must produce a
// diagnostic at the given line and column whose message contains the given text.
#include <gtest/gtest.h>

#include <carerules/carerules.hpp>
#include <string>

namespace {

struct diag_case {
  const char* name;
  const char* body;
  const char* severity;
  int line;
  int column;
  const char* message;
};

carerules::compile_result compile_body(const std::string& body) {
  std::string text = "ruleset t { title \"t\" version \"1\"\n" + body + "\n}\n";
  return carerules::compile_source(text, {.name = "t.rules"});
}

const diag_case cases[] = {
    {"undeclared_path_did_you_mean", "input { facility.beds : int }\nlet a = facility.bedz > 1",
     "error", 3, 9, "`facility.bedz` is not declared; did you mean `facility.beds`?"},
    {"type_error_names_both_types", "input { n : int\n s : string }\nlet a = n + s", "error", 4, 11,
     "cannot add string to int"},
    {"compare_types", "input { n : int }\nlet a = n == \"x\"", "error", 3, 11,
     "cannot compare int with string"},
    {"condition_must_be_bool", "input { n : int }\nhazard H \"h\" { cite \"c\" when n }", "error",
     3, 30, "a condition must be bool, found int"},
    {"cycle_names_every_member", "let a = b + 1\nlet b = c + 1\nlet c = a + 1", "error", 2, 5,
     "dependency cycle: `a` -> `b` -> `c` -> `a`"},
    {"hazard_cycle_through_present",
     "hazard H1 \"a\" { cite \"c\" when present(H2) }\nhazard H2 \"b\" { cite \"c\" when "
     "present(H1) }",
     "error", 2, 8, "dependency cycle: `H1` -> `H2` -> `H1`"},
    {"table_cycle_names_every_table",
     "table t1(x: int) -> int { when t2(x) > 1 => 1 otherwise => 0 }\ntable t2(x: int) -> int "
     "{ when t1(x) > 1 => 1 otherwise => 0 }",
     "error", 2, 7, "dependency cycle between tables: `t1` -> `t2` -> `t1`"},
    {"hazard_reading_hazards_is_named",
     "hazard H1 \"a\" { cite \"c\" when any(h in hazards where h.status == \"present\") }", "error",
     2, 40, "the condition of hazard `H1` may not read `hazards`"},
    {"hazard_reads_hazards",
     "hazard H1 \"a\" { cite \"c\" when any(h in hazards where h.status == \"present\") }", "error",
     2, 40, "may not read `hazards`"},
    {"modulo_needs_ints", "input { x : number }\nlet a = x % 2", "error", 3, 11,
     "`%` takes ints only"},
    {"duplicate_name", "let a = 1\nlet a = 2", "error", 3, 5, "`a` is already declared"},
    {"hazard_and_let_share_namespace", "let H1 = 1\nhazard H1 \"h\" { cite \"c\" when true }",
     "error", 3, 8, "already declared"},
    {"name_clashes_with_input_root", "input { facility.beds : int }\nlet facility = 1", "error", 3,
     5, "names both a let and the inputs under `facility.`"},
    {"nested_aggregate_rebinds_its_variable",
     "input { rs : list { w : bool } }\nhazard H \"h\" { cite \"c\" when any(r in rs where "
     "any(r in rs where r.w)) }",
     "error", 3, 48, "the variable `r` is already bound by an enclosing aggregate"},
    {"enum_compared_with_a_value_it_cannot_hold",
     "input { e : enum(\"A\", \"B\") }\nlet x = e == \"Z\"", "warning", 3, 11,
     "`e` is one of \"A\", \"B\"; it is never \"Z\""},
    {"enum_searched_for_a_value_it_cannot_hold", "input { n : enum(1, 2.5) }\nlet x = n in [1, 3]",
     "warning", 3, 18, "`n` is one of 1, 2.5; it is never 3"},
    {"name_clashes_with_an_input", "input { s : string }\nlet s = 1", "error", 3, 5,
     "names both a let and the input `s`; rename one"},
    {"missing_cite_warns", "hazard H1 \"h\" { when true }", "warning", 2, 8, "has no `cite`"},
    {"table_without_catch_all", "table t1(x: int) -> int {\n when x > 1 => 1\n}", "warning", 2, 7,
     "has no catch-all row"},
    {"row_after_catch_all", "table t1(x: int) -> int {\n otherwise => 1\n when x > 1 => 2\n}",
     "warning", 4, 2, "follows the catch-all row at line 3"},
    {"row_implied_by_earlier",
     "table t1(D: number) -> color {\n when D >= 70 => yellow\n when D >= 160 => orange\n "
     "otherwise => blue\n}",
     "warning", 4, 2, "the row at line 3 matches everything it matches"},
    {"pipe_row_implied",
     "table t2(a: int, b: int) -> int {\n | a | b | => |\n | >= 10 | - | 1 |\n | 10..20 | 5 | 2 "
     "|\n | - | - | 0 |\n}",
     "warning", 5, 2, "the row at line 4 matches everything it matches"},
    {"any_needs_where", "input { xs : list { v : int } }\nlet a = any(x in xs)", "error", 3, 9,
     "`any` needs a `where`"},
    {"sum_needs_value", "input { xs : list { v : int } }\nlet a = sum(x in xs where x.v > 1)",
     "error", 3, 9, "`sum` needs `: value`"},
    {"unknown_field_of_element",
     "input { xs : list { value : int } }\nlet a = count(x in xs where x.valu > 1)", "error", 3, 29,
     "did you mean `x.value`?"},
    {"level_label_must_exist", "grade g : levels(\"一级\", \"二级\") {\n \"三级\" otherwise\n}",
     "error", 3, 2, "is not a level of grade `g`"},
    {"level_compared_with_unknown_label",
     "grade g : levels(\"一级\", \"二级\") {\n \"一级\" otherwise\n}\nlet a = g >= \"五级\"",
     "error", 5, 11, "\"五级\" is not a level of levels(\"一级\", \"二级\")"},
    {"color_grade_line", "grade g : color {\n \"red\" otherwise\n}", "error", 3, 2,
     "on the color scale"},
    {"present_needs_a_hazard", "let a = present(H9)", "error", 2, 17, "`H9` is not a hazard"},
    {"unknown_function", "let a = lenn(\"x\")", "error", 2, 9,
     "unknown function `lenn`; did you mean `len`?"},
    {"table_argument_type", "table t1(x: int) -> int {\n otherwise => 1\n}\nlet a = t1(\"s\")",
     "error", 5, 12, "argument 1 of `t1` (x) must be int, found string"},
    {"table_reads_inputs",
     "input { n : int }\ntable t1(x: int) -> int {\n when n > x => 1\n otherwise => 0\n}", "error",
     4, 7, "a table reads only its parameters"},
    {"enum_default_not_allowed", "input { a : enum(\"A\", \"B\") = \"C\" }", "error", 2, 30,
     "the default is not an allowed value"},
    {"input_declared_twice", "input { a : int\n a : int }", "error", 3, 2,
     "input `a` is declared twice"},
    {"range_on_string", "input { s : string in 1..2 }", "error", 2, 9,
     "applies to int and number inputs only"},
    {"expect_unknown_hazard", "test \"x\" {\n asof @2024-01-01\n given {}\n expect hazard H9\n}",
     "error", 5, 16, "`H9` is not a hazard"},
    {"test_needs_asof", "test \"x\" {\n given {}\n}", "error", 2, 6, "needs `asof"},
    {"if_branches_differ", "input { b : bool }\nlet a = if b then 1 else \"x\"", "error", 3, 26,
     "`if` branches have different types: int and string"},
    {"given_must_be_strict_json",
     "input { a : int }\ntest \"x\" {\n asof @2024-01-01\n given { \"a\": 2, }\n}", "error", 5, 18,
     "`given` is not strict JSON"},
    {"item_then_unknown_word_names_when",
     "input { a : int }\nscore q { section s { item I1 \"x\" 5 whn a > 1 } }", "error", 3, 37,
     "expected `when`, `item`, `deduct` or `}`, found `whn`"},
    {"no_suggestion_of_the_same_name",
     "input { a : int }\ntest \"x\" {\n asof @2024-01-01\n expect undetermined a\n}", "error", 5,
     22, "`a` is not a hazard or a grade"},
    {"in_needs_list", "input { n : int }\nlet a = n in 5", "error", 3, 14,
     "`in` needs a list literal"},
};

class check_diagnostics : public ::testing::TestWithParam<diag_case> {};

TEST_P(check_diagnostics, reports_at_position) {
  const diag_case& c = GetParam();
  auto r = compile_body(c.body);
  bool found = false;
  std::string all;
  for (const auto& d : r.diagnostics()) {
    all += d.rendered;
    if (d.severity == c.severity && d.line == c.line && d.column == c.column &&
        d.message.find(c.message) != std::string::npos)
      found = true;
  }
  EXPECT_TRUE(found) << "wanted " << c.severity << " at " << c.line << ":" << c.column
                     << " containing `" << c.message << "`, got:\n"
                     << all;
  if (std::string(c.severity) == "error") EXPECT_FALSE(r.ok());
}

INSTANTIATE_TEST_SUITE_P(cases, check_diagnostics, ::testing::ValuesIn(cases),
                         [](const ::testing::TestParamInfo<diag_case>& info) {
                           return std::string(info.param.name);
                         });

TEST(check, no_did_you_mean_that_repeats_the_name) {
  auto r =
      compile_body("input { a : int }\ntest \"x\" {\n asof @2024-01-01\n expect undetermined a\n}");
  EXPECT_EQ(r.rendered().find("did you mean `a`"), std::string::npos) << r.rendered();
}

TEST(check, because_is_the_matched_line_only) {
  auto r = compile_body(
      "input { a : int }\ngrade g1 : color { red when a > 1 }\n"
      "grade g3 : color { red when a > 5  yellow when a > 1  blue otherwise }\n"
      "grade g4 : color {\n red when a > 5 and   # why\n   a < 100\n blue # rest\n  otherwise }");
  ASSERT_TRUE(r.ok()) << r.rendered();
  auto rep = r.value().evaluate(R"({"a": 2})", {.asof = "2024-06-01"});
  EXPECT_EQ(rep.grades[0].because, "t.rules:3: red when a > 1");
  EXPECT_EQ(rep.grades[1].because, "t.rules:4: yellow when a > 1");
  EXPECT_EQ(rep.grades[2].because, "t.rules:8: blue otherwise");
  rep = r.value().evaluate(R"({"a": 7})", {.asof = "2024-06-01"});
  EXPECT_EQ(rep.grades[2].because, "t.rules:6: red when a > 5 and a < 100");
}

TEST(check, warnings_alone_compile) {
  auto r = compile_body("hazard H1 \"h\" { when true }");
  EXPECT_TRUE(r.ok());
  ASSERT_EQ(r.diagnostics().size(), 1u);
  EXPECT_EQ(r.diagnostics()[0].severity, "warning");
}

TEST(check, many_errors_reported_at_once) {
  auto r = compile_body("input { n : int }\nlet a = n + \"x\"\nlet b = m\nlet c = n % 1.5");
  int errors = 0;
  for (const auto& d : r.diagnostics()) errors += d.severity == "error";
  EXPECT_EQ(errors, 3) << r.rendered();
}

TEST(check, diagnostics_limit_says_how_many_more) {
  std::string body = "input { n : int }\n";
  for (int i = 0; i < 30; ++i) body += "let a" + std::to_string(i) + " = n + \"x\"\n";
  carerules::compile_options o{.name = "t.rules"};
  o.limits.diagnostics = 10;
  auto r = carerules::compile_source("ruleset t { title \"t\" version \"1\"\n" + body + "}\n", o);
  EXPECT_EQ(r.diagnostics().size(), 10u);
  EXPECT_NE(r.rendered().find("and 20 more"), std::string::npos) << r.rendered();
}

TEST(check, rendered_shows_line_and_caret_under_wide_characters) {
  auto r = compile_body("input { 名称 : string }\nlet a = 名称 + 1");
  ASSERT_FALSE(r.diagnostics().empty());
  const std::string& s = r.diagnostics()[0].rendered;
  EXPECT_NE(s.find("t.rules:3:12: error: cannot add int to string\n"), std::string::npos) << s;
  // 8 ASCII columns, two wide characters (4 display columns), a space: the caret under `+`.
  EXPECT_NE(s.find("\n  let a = 名称 + 1\n" + std::string(2 + 8 + 4 + 1, ' ') + "^"),
            std::string::npos)
      << s;
}

TEST(check, title_and_version_required) {
  auto r = carerules::compile_source("ruleset t { }", {.name = "t.rules"});
  EXPECT_FALSE(r.ok());
  EXPECT_NE(r.rendered().find("needs a `title`"), std::string::npos) << r.rendered();
  EXPECT_NE(r.rendered().find("needs a `version`"), std::string::npos) << r.rendered();
}

}  // namespace
