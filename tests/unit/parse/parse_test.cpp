// Parser: every construct of spec §2-§9 against dumps, and diagnostics with positions.
#include "parse/parse.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "util/date.hpp"

namespace carerules::parse {
namespace {

struct parsed {
  ast::source_set sources;
  ast::expr_arena arena;
  ast::diagnostic_sink diags{10000};
  ast::ruleset_file file;
  std::string errors;  // "line:col: message\n" each

  std::string dump(ast::expr_id id) const { return ast::dump(arena, id); }
  std::string text(ast::span s) const {
    return sources.files[0].text.substr(s.begin, s.end - s.begin);
  }
};

std::unique_ptr<parsed> parse_text(std::string text, const parse_limits& limits = {}) {
  auto p = std::make_unique<parsed>();
  p->sources.files.push_back({"t.rules", "", std::move(text), {}});
  p->sources.files[0].index_lines();
  p->file = parse_file(p->sources, 0, p->arena, limits, p->diags);
  for (const auto& d : p->diags.items()) {
    p->errors += std::to_string(d.where.line) + ":" + std::to_string(d.where.column) + ": " +
                 d.message + "\n";
  }
  return p;
}

// Wraps `body` in a ruleset with a title and version.
std::string rules(const std::string& body) {
  return "ruleset t {\n  title \"T\"\n  version \"1\"\n" + body + "\n}\n";
}

bool has_error(const std::string& errors, const std::string& expected) {
  // "line:col: message" or "line: message" (any column).
  std::size_t colon = expected.find(": ");
  std::string where = expected.substr(0, colon + 2);
  if (where.find(':') == colon) where = expected.substr(0, colon + 1);
  std::string message = expected.substr(colon + 2);
  std::size_t start = 0;
  while (start < errors.size()) {
    std::size_t end = errors.find('\n', start);
    if (end == std::string::npos) end = errors.size();
    std::string line = errors.substr(start, end - start);
    if (line.rfind(where, 0) == 0 && line.find(message) != std::string::npos) return true;
    start = end + 1;
  }
  return false;
}

// ---- expressions ----------------------------------------------------------------------

struct dump_case {
  const char* input;
  const char* expected;
};

TEST(ParseExpr, Dumps) {
  const dump_case cases[] = {
      // literals
      {"12", "12"},
      {"-3", "-3"},
      {"-9223372036854775808", "-9223372036854775808"},
      {"9223372036854775807", "9223372036854775807"},
      {"3.5", "3.5"},
      {"-0.25", "-0.25"},
      {"0.1234567", "0.123457"},
      {"2.000", "2"},
      {"\"a\\\"b\\\\c\\nd\\te\"", "\"a\\\"b\\\\c\\nd\\te\""},
      {"\"中文\"", "\"中文\""},
      {"\"\\u00e9\"", "\"é\""},
      {"@2024-05-07", "@2024-05-07"},
      {"true", "true"},
      {"false", "false"},
      {"none", "none"},
      {"blue", "blue"},
      {"red", "red"},
      {"[]", "[]"},
      {"[1, 2, 3]", "[1, 2, 3]"},
      {"[\"C\", \"D\",]", "[\"C\", \"D\"]"},
      {"asof", "asof"},
      {"hazards", "hazards"},
      // paths and calls
      {"a", "a"},
      {"facility.fire.accepted", "facility.fire.accepted"},
      {"设施.消防验收", "设施.消防验收"},
      {"r.in.if.none", "r.in.if.none"},
      {"len(residents)", "len(residents)"},
      {"max(len(residents), 1)", "max(len(residents), 1)"},
      {"f()", "f()"},
      {"min(a, b)", "min(a, b)"},
      {"present(A4.1)", "present(A4.1)"},
      {"present(第四条.一)", "present(第四条.一)"},
      {"present(H1.1.2) and x", "(present(H1.1.2) and x)"},
      {"lec_band(l * e * c)", "lec_band(((l * e) * c))"},
      {"f(x).y", "f(x).y"},
      {"(a).b", "a.b"},
      // aggregates
      {"count(r in residents)", "count(r in residents)"},
      {"count(r in residents where r.x < 3)", "count(r in residents where (r.x < 3))"},
      {"any(h in hazards where h.severity == \"major\")",
       "any(h in hazards where (h.severity == \"major\"))"},
      {"sum(r in residents where r.wanders: 1)", "sum(r in residents where r.wanders: 1)"},
      {"avg(r in residents: r.ability)", "avg(r in residents: r.ability)"},
      {"max(r in xs: r.v + 1) ?? 0", "(max(r in xs: (r.v + 1)) ?? 0)"},
      {"all(x in a.b where x > 0 and x < 9)", "all(x in a.b where ((x > 0) and (x < 9)))"},
      // precedence
      {"a.b + 2 * c", "(a.b + (2 * c))"},
      {"a - b - c", "((a - b) - c)"},
      {"a / b % c", "((a / b) % c)"},
      {"-a * b", "((-a) * b)"},
      {"- -a", "(-(-a))"},
      {"-a.b", "(-a.b)"},
      {"a + -3", "(a + -3)"},
      {"a -3", "(a - 3)"},
      {"a or b and c", "(a or (b and c))"},
      {"a and b or c", "((a and b) or c)"},
      {"not a and b", "((not a) and b)"},
      {"not not a", "(not (not a))"},
      {"not a == b", "(not (a == b))"},
      {"a == b and c != d", "((a == b) and (c != d))"},
      {"a < b + 1", "(a < (b + 1))"},
      {"a <= b", "(a <= b)"},
      {"a > b", "(a > b)"},
      {"a >= b", "(a >= b)"},
      {"x in [1, 2]", "(x in [1, 2])"},
      {"x not in [\"a\"]", "(x not in [\"a\"])"},
      {"x not in codes and y", "((x not in codes) and y)"},
      {"(a + b) * c", "((a + b) * c)"},
      {"if a then b else c", "(if a then b else c)"},
      {"if a > 1 then 15 else 5 + 1", "(if (a > 1) then 15 else (5 + 1))"},
      {"if a then if b then 1 else 2 else 3", "(if a then (if b then 1 else 2) else 3)"},
      {"1 + if a then 2 else 3", "(1 + (if a then 2 else 3))"},
      // ??
      {"a ?? 0", "(a ?? 0)"},
      {"a + b ?? 0", "(a + (b ?? 0))"},
      {"a ?? -1", "(a ?? -1)"},
      {"a.b ?? c.d", "(a.b ?? c.d)"},
      {"-a ?? 1", "(-(a ?? 1))"},
      {"a * b ?? 2 + c", "((a * (b ?? 2)) + c)"},
      {"f(x) ?? 0 > 3", "((f(x) ?? 0) > 3)"},
      // dates
      {"asof - facility.fire.last_drill > 365", "((asof - facility.fire.last_drill) > 365)"},
      {"days_since(d) <= 30", "(days_since(d) <= 30)"},
      // colours
      {"risk == red or risk >= orange", "((risk == red) or (risk >= orange))"},
      {"level >= \"三级\"", "(level >= \"三级\")"},
      {"level == none", "(level == none)"},
      // comments and newlines
      {"a +  # comment\n  b", "(a + b)"},
  };
  for (const auto& c : cases) {
    auto p = parse_text(rules(std::string("let x = ") + c.input));
    EXPECT_EQ(p->errors, "") << c.input;
    ASSERT_EQ(p->file.lets.size(), 1u) << c.input;
    EXPECT_EQ(p->dump(p->file.lets[0].value), c.expected) << c.input;
  }
}

TEST(ParseExpr, Kinds) {
  auto p =
      parse_text(rules("let a = count(r in xs where r.y)\n"
                       "let b = present(A4.1)\n"
                       "let c = -2.5\n"
                       "let d = @1970-01-11\n"
                       "let e = orange\n"
                       "let f = x ?? 1\n"
                       "let g = f(1).z\n"));
  ASSERT_EQ(p->errors, "");
  const auto& lets = p->file.lets;
  ASSERT_EQ(lets.size(), 7u);
  const ast::expr& agg = p->arena[lets[0].value];
  EXPECT_EQ(agg.kind, ast::expr_kind::aggregate);
  EXPECT_EQ(agg.text, "count");
  EXPECT_EQ(agg.var, "r");
  ASSERT_EQ(agg.args.size(), 3u);
  EXPECT_EQ(p->dump(agg.args[0]), "xs");
  EXPECT_EQ(p->dump(agg.args[1]), "r.y");
  EXPECT_EQ(agg.args[2], ast::no_expr);
  const ast::expr& pres = p->arena[lets[1].value];
  EXPECT_EQ(pres.kind, ast::expr_kind::call);
  EXPECT_EQ(pres.text, "present");
  ASSERT_EQ(pres.args.size(), 1u);
  EXPECT_EQ(p->arena[pres.args[0]].kind, ast::expr_kind::path);
  EXPECT_EQ(p->arena[pres.args[0]].segments, std::vector<std::string>{"A4.1"});
  EXPECT_EQ(p->arena[lets[2].value].kind, ast::expr_kind::lit_number);
  EXPECT_EQ(p->arena[lets[2].value].i, -2'500'000);
  EXPECT_EQ(p->arena[lets[3].value].kind, ast::expr_kind::lit_date);
  EXPECT_EQ(p->arena[lets[3].value].i, 10);
  EXPECT_EQ(p->arena[lets[4].value].kind, ast::expr_kind::lit_color);
  EXPECT_EQ(p->arena[lets[4].value].i, 2);
  EXPECT_EQ(p->arena[lets[5].value].kind, ast::expr_kind::coalesce);
  EXPECT_EQ(p->arena[lets[6].value].kind, ast::expr_kind::member);
  EXPECT_EQ(p->arena[lets[6].value].text, "z");
}

TEST(ParseExpr, PositionsAndSpans) {
  //                              1234567890123456789012345
  auto p = parse_text("ruleset t {\nlet x = 设施.a + (b * 2) ?? 3\n}");
  ASSERT_EQ(p->errors, "");
  const ast::expr& sum = p->arena[p->file.lets[0].value];
  EXPECT_EQ(sum.kind, ast::expr_kind::binary);
  EXPECT_EQ(sum.where.line, 2u);
  EXPECT_EQ(sum.where.column, 14u);  // the operator
  EXPECT_EQ(p->text(sum.source), "设施.a + (b * 2) ?? 3");
  const ast::expr& path = p->arena[sum.args[0]];
  EXPECT_EQ(path.where.column, 9u);
  EXPECT_EQ(p->text(path.source), "设施.a");
  const ast::expr& co = p->arena[sum.args[1]];
  EXPECT_EQ(co.kind, ast::expr_kind::coalesce);
  EXPECT_EQ(p->text(co.source), "(b * 2) ?? 3");
  EXPECT_EQ(p->text(p->arena[co.args[0]].source), "(b * 2)");
  EXPECT_EQ(p->arena[co.args[0]].where.column, 19u);  // the `*`
  EXPECT_EQ(p->file.lets[0].where.column, 5u);
  EXPECT_EQ(p->file.where.column, 9u);
}

// ---- declarations ---------------------------------------------------------------------

TEST(Parse, Header) {
  auto p = parse_text(
      "\xEF\xBB\xBFruleset mca {\r\n"
      "  title   \"养老机构重大事故隐患判定\"\r\n"
      "  version \"2023.1\"\r\n"
      "  source  \"民政部办公厅\"   # shown\r\n"
      "  effective @2023-11-27\r\n"
      "  import \"common/facility.rules\"\r\n"
      "  import \"b.rules\"\r\n"
      "}\r\n");
  ASSERT_EQ(p->errors, "");
  const auto& f = p->file;
  EXPECT_EQ(f.name, "mca");
  EXPECT_EQ(f.where.line, 1u);
  EXPECT_EQ(f.where.column, 9u);
  EXPECT_EQ(f.title, "养老机构重大事故隐患判定");
  EXPECT_EQ(f.version, "2023.1");
  EXPECT_EQ(f.source, "民政部办公厅");
  EXPECT_EQ(f.effective, detail::parse_date("2023-11-27"));
  ASSERT_EQ(f.imports.size(), 2u);
  EXPECT_EQ(f.imports[0].path, "common/facility.rules");
  EXPECT_EQ(f.imports[1].where.line, 7u);
}

TEST(Parse, TitleAndVersionAreOptionalForTheParser) {
  auto p = parse_text("ruleset t { }");
  EXPECT_EQ(p->errors, "");
  EXPECT_FALSE(p->file.title.has_value());
}

TEST(Parse, Inputs) {
  auto p = parse_text(rules(R"(
input {
  id                            : string
  facility.beds                 : int     "核定床位数"
  facility.building.appraisal   : enum("A", "B", "C", "D")
  facility.fire.last_drill      : date
  facility.kitchen.exists       : bool = false
  areas.fire.L                  : enum(10, 6, 3, 1, 0.5, 0.2, 0.1)
  residents : list {
    id       : string
    ability  : int in 0..90
    wanders  : bool = false
    visits : list { on : date }
  }
  codes : list<string>
  grades : list<enum("a", "b")>
  t : number "label" = -1.5 in -10..10.5
  c : color = red
}
input { more : number }
)"));
  ASSERT_EQ(p->errors, "");
  const auto& in = p->file.inputs;
  ASSERT_EQ(in.size(), 12u);
  EXPECT_EQ(in[0].path, std::vector<std::string>{"id"});
  EXPECT_EQ(in[0].type.kind, ast::type_kind::string);
  EXPECT_EQ((in[1].path), (std::vector<std::string>{"facility", "beds"}));
  EXPECT_EQ(in[1].type.kind, ast::type_kind::int_);
  EXPECT_EQ(in[1].label, "核定床位数");
  EXPECT_EQ(in[2].type.kind, ast::type_kind::enum_);
  ASSERT_EQ(in[2].type.enum_values.size(), 4u);
  EXPECT_EQ(p->dump(in[2].type.enum_values[3]), "\"D\"");
  EXPECT_EQ(in[3].type.kind, ast::type_kind::date);
  EXPECT_EQ(p->dump(in[4].default_value), "false");
  EXPECT_EQ(in[5].type.enum_values.size(), 7u);
  EXPECT_EQ(p->dump(in[5].type.enum_values[4]), "0.5");
  EXPECT_EQ(in[6].type.kind, ast::type_kind::list_record);
  ASSERT_EQ(in[6].fields.size(), 4u);
  EXPECT_EQ(p->dump(in[6].fields[1].range_low), "0");
  EXPECT_EQ(p->dump(in[6].fields[1].range_high), "90");
  EXPECT_EQ(in[6].fields[3].type.kind, ast::type_kind::list_record);
  EXPECT_EQ(in[6].fields[3].fields.size(), 1u);
  EXPECT_EQ(in[7].type.kind, ast::type_kind::list_scalar);
  EXPECT_EQ(in[7].type.element, ast::type_kind::string);
  EXPECT_EQ(in[8].type.element, ast::type_kind::enum_);
  EXPECT_EQ(in[8].type.element_enum.size(), 2u);
  EXPECT_EQ(in[9].label, "label");
  EXPECT_EQ(p->dump(in[9].default_value), "-1.5");
  EXPECT_EQ(p->dump(in[9].range_low), "-10");
  EXPECT_EQ(p->dump(in[9].range_high), "10.5");
  EXPECT_EQ(p->dump(in[10].default_value), "red");
  EXPECT_EQ(in[11].path, std::vector<std::string>{"more"});
  EXPECT_EQ(in[1].where.line, 7u);
  EXPECT_EQ(in[1].where.column, 3u);
  EXPECT_EQ(in[1].type.where.column, 35u);
}

TEST(Parse, Lets) {
  auto p =
      parse_text(rules("let occupancy    = facility.residents_now / facility.beds\n"
                       "let night_ratio  = facility.staff.night / max(len(residents), 1)\n"));
  ASSERT_EQ(p->errors, "");
  ASSERT_EQ(p->file.lets.size(), 2u);
  EXPECT_EQ(p->file.lets[1].name, "night_ratio");
  EXPECT_EQ(p->dump(p->file.lets[1].value), "(facility.staff.night / max(len(residents), 1))");
}

TEST(Parse, Hazard) {
  auto p = parse_text(rules(R"(
hazard A4.1 "建筑设施经鉴定属于C级、D级危房" {
  category facilities
  severity general
  cite     "第四条第(一)项"
  when     facility.building.appraisal in ["C", "D"]
  rectify  suspend within 90 days
  advice   "停止使用危房"
}
hazard 第四条.一 "t" { when present(A4.1) rectify immediate }
hazard H1.1.2 "t" { rectify close within 1 day when x }
)"));
  ASSERT_EQ(p->errors, "");
  const auto& hs = p->file.hazards;
  ASSERT_EQ(hs.size(), 3u);
  EXPECT_EQ(hs[0].id, "A4.1");
  EXPECT_EQ(hs[0].title, "建筑设施经鉴定属于C级、D级危房");
  EXPECT_EQ(hs[0].category, "facilities");
  EXPECT_FALSE(hs[0].major);
  EXPECT_EQ(hs[0].cite, "第四条第(一)项");
  EXPECT_EQ(p->dump(hs[0].when), "(facility.building.appraisal in [\"C\", \"D\"])");
  EXPECT_EQ(hs[0].action, ast::rectify_action::suspend);
  EXPECT_EQ(hs[0].within_days, 90);
  EXPECT_EQ(hs[0].advice, "停止使用危房");
  EXPECT_EQ(hs[0].where.line, 5u);
  EXPECT_EQ(hs[0].where.column, 8u);
  EXPECT_EQ(hs[1].id, "第四条.一");
  EXPECT_EQ(hs[1].category, "other");
  EXPECT_TRUE(hs[1].major);
  EXPECT_FALSE(hs[1].cite.has_value());
  EXPECT_EQ(hs[1].action, ast::rectify_action::immediate);
  EXPECT_FALSE(hs[1].within_days.has_value());
  EXPECT_EQ(hs[2].id, "H1.1.2");
  EXPECT_EQ(hs[2].action, ast::rectify_action::close);
  EXPECT_EQ(hs[2].within_days, 1);
}

TEST(Parse, Score) {
  auto p = parse_text(rules(R"(
score quality max 1000 {
  section environment max 120 {
    item E1 "交通便利"   10  when facility.env.transit
    item E2 "无障碍"      (if facility.env.ratio >= 1 then 15 else 5)
    deduct E9 "堆放杂物"  5   when facility.env.blocked_passage
    item E3 "half" 0.5
  }
  section service max 600 { item S1 "服务评分" facility.scores.service }
  deduct D1 "近一年事故" 50 when facility.accidents_12m > 0
  item X1 "neg" -2
  section free { }
}
score plain { item P1.1 "p" 1 }
)"));
  ASSERT_EQ(p->errors, "");
  ASSERT_EQ(p->file.scores.size(), 2u);
  const auto& s = p->file.scores[0];
  EXPECT_EQ(s.name, "quality");
  EXPECT_EQ(p->dump(s.max), "1000");
  ASSERT_EQ(s.sections.size(), 3u);
  EXPECT_EQ(s.sections[0].name, "environment");
  EXPECT_EQ(p->dump(s.sections[0].max), "120");
  EXPECT_EQ(s.sections[2].max, ast::no_expr);
  ASSERT_EQ(s.items.size(), 7u);
  EXPECT_EQ(s.items[0].id, "E1");
  EXPECT_EQ(s.items[0].section, 0);
  EXPECT_EQ(p->dump(s.items[0].points), "10");
  EXPECT_EQ(p->dump(s.items[0].when), "facility.env.transit");
  EXPECT_EQ(p->dump(s.items[1].points), "(if (facility.env.ratio >= 1) then 15 else 5)");
  EXPECT_EQ(s.items[1].when, ast::no_expr);
  EXPECT_TRUE(s.items[2].deduct);
  EXPECT_EQ(p->dump(s.items[3].points), "0.5");
  EXPECT_EQ(s.items[4].section, 1);
  EXPECT_EQ(p->dump(s.items[4].points), "facility.scores.service");
  EXPECT_EQ(s.items[5].section, -1);
  EXPECT_TRUE(s.items[5].deduct);
  EXPECT_EQ(p->dump(s.items[6].points), "-2");
  EXPECT_EQ(p->file.scores[1].max, ast::no_expr);
  EXPECT_EQ(p->file.scores[1].items[0].id, "P1.1");
}

TEST(Parse, Grades) {
  auto p = parse_text(rules(R"(
grade risk : color {
  red    when any(h in hazards where h.severity == "major")
  orange when risk_points >= 160
  blue   otherwise
}
grade level : levels("一级", "二级", "三级") {
  none   when any(h in hazards where h.severity == "major")
  "三级" when quality >= 900 and quality.service >= 540
  none   otherwise
}
)"));
  ASSERT_EQ(p->errors, "");
  ASSERT_EQ(p->file.grades.size(), 2u);
  const auto& r = p->file.grades[0];
  EXPECT_TRUE(r.color_scale);
  ASSERT_EQ(r.lines.size(), 3u);
  EXPECT_EQ(r.lines[0].label, "red");
  EXPECT_EQ(r.lines[0].line, 6u);
  EXPECT_EQ(p->dump(r.lines[0].label_expr), "red");
  EXPECT_EQ(p->dump(r.lines[1].cond), "(risk_points >= 160)");
  EXPECT_TRUE(r.lines[2].otherwise);
  EXPECT_EQ(r.lines[2].cond, ast::no_expr);
  const auto& l = p->file.grades[1];
  EXPECT_FALSE(l.color_scale);
  EXPECT_EQ(l.levels, (std::vector<std::string>{"一级", "二级", "三级"}));
  EXPECT_TRUE(l.lines[0].is_none);
  EXPECT_EQ(p->dump(l.lines[0].label_expr), "none");
  EXPECT_EQ(l.lines[1].label, "三级");
  EXPECT_EQ(p->dump(l.lines[1].label_expr), "\"三级\"");
  EXPECT_EQ(l.lines[1].where.column, 3u);
  EXPECT_TRUE(l.lines[2].is_none);
  EXPECT_TRUE(l.lines[2].otherwise);
}

TEST(Parse, WhenTable) {
  auto p = parse_text(rules(R"(
table lec_band(D: number) -> color {
  when D >= 320 => red
  when D >= 160 => orange
  otherwise     => blue
}
table k(a: enum("x", "y"), b: date) -> string { otherwise => "z" }
)"));
  ASSERT_EQ(p->errors, "");
  ASSERT_EQ(p->file.tables.size(), 2u);
  const auto& t = p->file.tables[0];
  EXPECT_EQ(t.name, "lec_band");
  ASSERT_EQ(t.params.size(), 1u);
  EXPECT_EQ(t.params[0].name, "D");
  EXPECT_EQ(t.params[0].type.kind, ast::type_kind::number);
  EXPECT_EQ(t.result.kind, ast::type_kind::color);
  EXPECT_FALSE(t.pipe_form);
  ASSERT_EQ(t.rows.size(), 3u);
  EXPECT_EQ(p->dump(t.rows[0].cond), "(D >= 320)");
  EXPECT_EQ(p->dump(t.rows[0].result), "red");
  EXPECT_TRUE(t.rows[2].otherwise);
  EXPECT_EQ(p->dump(t.rows[2].result), "blue");
  EXPECT_EQ(p->file.tables[1].params[0].type.kind, ast::type_kind::enum_);
  EXPECT_EQ(p->file.tables[1].result.kind, ast::type_kind::string);
}

std::string cell_text(const parsed& p, const ast::table_cell& c) {
  switch (c.kind) {
    case ast::cell_kind::any:
      return "-";
    case ast::cell_kind::in_list:
      return "in " + p.dump(c.a);
    case ast::cell_kind::range:
      return p.dump(c.a) + ".." + p.dump(c.b);
    case ast::cell_kind::compare: {
      static const std::map<ast::op, std::string> ops = {{ast::op::eq, "=="}, {ast::op::ne, "!="},
                                                         {ast::op::lt, "<"},  {ast::op::le, "<="},
                                                         {ast::op::gt, ">"},  {ast::op::ge, ">="}};
      return ops.at(c.oper) + " " + p.dump(c.a);
    }
  }
  return "?";
}

TEST(Parse, PipeTable) {
  auto p = parse_text(rules(R"(
table night_staff(beds: int, bedridden: int, code: string) -> int {
  | beds   | bedridden | code           | => |
  | >= 100 | >= 20     | "C"            | 4  |
  | >= 100 | -         | != "C"         | 3  |
  | 50..99 | < 5       | in ["A", "B"]  | 2  |
  | -5     | -         | -              | -1 |   # comment
  | -      | -         | -              | 1  |
}
)"));
  ASSERT_EQ(p->errors, "");
  const auto& t = p->file.tables[0];
  EXPECT_TRUE(t.pipe_form);
  ASSERT_EQ(t.rows.size(), 5u);
  std::string all;
  for (const auto& r : t.rows) {
    for (const auto& c : r.cells) all += cell_text(*p, c) + " | ";
    all += "=> " + p->dump(r.result) + "\n";
  }
  EXPECT_EQ(all,
            ">= 100 | >= 20 | == \"C\" | => 4\n"
            ">= 100 | - | != \"C\" | => 3\n"
            "50..99 | < 5 | in [\"A\", \"B\"] | => 2\n"
            "== -5 | - | - | => -1\n"
            "- | - | - | => 1\n");
  EXPECT_EQ(t.rows[0].where.line, 7u);
  EXPECT_EQ(t.rows[0].cells[1].where.column, 14u);
}

TEST(Parse, Tests) {
  std::string text = rules(R"(
test "a grade C building is a major hazard" {
  asof  @2024-06-01
  given { "facility": { "building": { "appraisal": "C}\"{" } },
          "residents": [ {"id": "1"} ] }
  expect hazard A4.1
  expect not hazard A4.2
  expect undetermined A4.3
  expect error H1.1.2
  expect provisional quality
  expect risk == red
  expect quality.environment == 110
  expect not x
  expect hazard
  expect error
     == 3
}
test "empty" { }
)");
  auto p = parse_text(text);
  ASSERT_EQ(p->errors, "");
  ASSERT_EQ(p->file.tests.size(), 2u);
  const auto& t = p->file.tests[0];
  EXPECT_EQ(t.name, "a grade C building is a major hazard");
  EXPECT_EQ(t.asof, detail::parse_date("2024-06-01"));
  EXPECT_TRUE(t.has_given);
  EXPECT_EQ(t.given,
            "{ \"facility\": { \"building\": { \"appraisal\": \"C}\\\"{\" } },\n"
            "          \"residents\": [ {\"id\": \"1\"} ] }");
  EXPECT_EQ(t.given_where.line, 7u);
  EXPECT_EQ(t.given_where.column, 9u);
  ASSERT_EQ(t.expects.size(), 10u);
  using k = ast::expect_kind;
  EXPECT_EQ(t.expects[0].kind, k::hazard);
  EXPECT_EQ(t.expects[0].name, "A4.1");
  EXPECT_EQ(t.expects[0].where.line, 9u);
  EXPECT_EQ(t.expects[0].name_where.column, 17u);
  EXPECT_EQ(p->text(t.expects[0].source), "hazard A4.1");
  EXPECT_EQ(t.expects[1].kind, k::not_hazard);
  EXPECT_EQ(t.expects[1].name, "A4.2");
  EXPECT_EQ(p->text(t.expects[1].source), "not hazard A4.2");
  EXPECT_EQ(t.expects[2].kind, k::undetermined);
  EXPECT_EQ(t.expects[3].kind, k::error);
  EXPECT_EQ(t.expects[3].name, "H1.1.2");
  EXPECT_EQ(t.expects[4].kind, k::provisional);
  EXPECT_EQ(t.expects[4].name, "quality");
  EXPECT_EQ(t.expects[5].kind, k::expression);
  EXPECT_EQ(p->dump(t.expects[5].e), "(risk == red)");
  EXPECT_EQ(p->text(t.expects[5].source), "risk == red");
  EXPECT_EQ(p->dump(t.expects[6].e), "(quality.environment == 110)");
  EXPECT_EQ(p->dump(t.expects[7].e), "(not x)");
  // `hazard` followed by a non-name is an expression (a path named hazard).
  EXPECT_EQ(t.expects[8].kind, k::expression);
  EXPECT_EQ(p->dump(t.expects[8].e), "hazard");
  EXPECT_EQ(p->dump(t.expects[9].e), "(error == 3)");
  EXPECT_FALSE(p->file.tests[1].asof.has_value());
  EXPECT_FALSE(p->file.tests[1].has_given);
}

TEST(Parse, DeclarationsInAnyOrder) {
  auto p = parse_text(
      "ruleset t {\n"
      "  test \"x\" { asof @2024-01-01 expect a }\n"
      "  let a = 1\n"
      "  version \"1\"\n"
      "  input { b : int }\n"
      "  title \"T\"\n"
      "  hazard H1 \"h\" { when b > 1 }\n"
      "  input { c : int }\n"
      "}\n");
  ASSERT_EQ(p->errors, "");
  EXPECT_EQ(p->file.inputs.size(), 2u);
  EXPECT_EQ(p->file.title, "T");
}

TEST(Parse, CjkNames) {
  auto p = parse_text(
      "ruleset 养老 {\n"
      "  input { 设施.消防验收 : bool  居民 : list { 能力 : int } }\n"
      "  let 比率 = count(人 in 居民 where 人.能力 < 30) / 2\n"
      "  hazard 第四条.一 \"标题\" { when not 设施.消防验收 }\n"
      "}\n");
  ASSERT_EQ(p->errors, "");
  EXPECT_EQ(p->file.name, "养老");
  EXPECT_EQ(p->file.inputs[0].path, (std::vector<std::string>{"设施", "消防验收"}));
  EXPECT_EQ(p->file.lets[0].name, "比率");
  EXPECT_EQ(p->dump(p->file.lets[0].value), "(count(人 in 居民 where (人.能力 < 30)) / 2)");
  EXPECT_EQ(p->file.hazards[0].where.column, 10u);
  EXPECT_EQ(p->arena[p->file.lets[0].value].where.column, 43u);  // the `/`
}

// ---- diagnostics ----------------------------------------------------------------------

struct error_case {
  std::string input;
  const char* expected;  // "line:col: message substring"
};

TEST(ParseErrors, Table) {
  const error_case cases[] = {
      {"", "1:1: expected `ruleset`, found end of file"},
      {"  # only a comment\n", "2:1: expected `ruleset`"},
      {"hazard A1 \"x\" { when a }", "1:1: expected `ruleset`, found `hazard`"},
      {"ruleset { }", "1:9: expected the ruleset's name, found `{`"},
      {"ruleset if { }", "1:9: `if` is reserved"},
      {"ruleset t {", "1:12: expected `}` to close `ruleset` at line 1, found end of file"},
      {"ruleset t { } x", "1:15: expected end of file after the ruleset's closing `}`"},
      {"ruleset t {\n  bogus 1\n}", "2:3: expected a declaration (`title`, `version`"},
      {"ruleset t {\n  title 5\n}", "2:9: expected a string after `title`, found `5`"},
      {"ruleset t {\n  title \"a\"\n  title \"b\"\n}",
       "3:3: duplicate `title` in the ruleset (first at line 2)"},
      {"ruleset t {\n  effective 2024\n}", "2:13: expected a date after `effective`"},
      {"ruleset t {\n  effective @2024-13-01\n}", "2:13: invalid date `@2024-13-01`"},
      {"ruleset t {\n  let = 3\n}", "2:7: expected the name of a `let`"},
      {"ruleset t {\n  let not = 3\n}", "2:7: `not` is reserved"},
      {"ruleset t {\n  let x 3\n}", "2:9: expected `=` after `let x`"},
      // expressions
      {rules("let x = "), "5:1: expected an expression, found `}`"},
      {rules("let x = 1 +"), "5:1: expected an expression"},
      {rules("let x = (1 + 2"), "5:1: expected `)` to close `(` at line 4, column 9"},
      {rules("let x = [1, 2"), "5:1: expected `]` or `,` in the list opened at line 4"},
      {rules("let x = f(1 2)"), "4:13: expected `,` or `)` to close `(` of `f` at line 4"},
      {rules("let x = a.b(1)"), "4:12: only a function or table name can be called, not `a.b`"},
      {rules("let x = a. + 1"), "4:12: expected a field name after `.`"},
      {rules("let x = then"), "4:9: expected an expression, found `then`"},
      {rules("let x = if a then b"), "5:1: expected `else` in `if` at line 4"},
      {rules("let x = if a b"), "4:14: expected `then` after the condition of `if` at line 4"},
      {rules("let x = 9223372036854775808"), "4:9: integer `9223372036854775808` does not fit"},
      {rules("let x = count(r in xs where a b)"),
       "4:31: expected `:` or `)` to close `(` of `count`"},
      {rules("let x = present(\"A\")"), "4:17: expected a hazard id in `present(...)`"},
      {rules("let x = a !b"), "4:11: unexpected `!`: use `not`"},
      {rules("let x = a ＋ b"), "4:11: unexpected character `＋` (U+FF0B)"},
      {rules("let x = f（a）"), "4:10: unexpected full-width `（` (U+FF08): use the ASCII `(`"},
      {rules("let x = “a”"), "4:9: use the ASCII `\"`"},
      {rules("let x = a，b"), "4:10: use the ASCII `,`"},
      {rules("input { a：int }"), "4:10: use the ASCII `:`"},
      {rules("let x = 1\u3000+ 2"), "4:10: use an ASCII space"},
      {rules("let 名字 = 中文 +\n  $"), "5:3: unexpected character `$`"},
      // inputs
      {rules("input { a int }"), "4:11: expected `:` after the input path"},
      {rules("input { a : integer }"), "4:13: expected a type (`bool`, `int`"},
      {rules("input { a : int in 0 90 }"), "4:22: expected `..` in the range"},
      {rules("input { a : int = x }"), "4:19: expected a literal"},
      {rules("input { a : list<list<int>> }"), "4:18: expected a type"},
      {rules("input { a : list x }"), "4:18: expected `{` or `<` after `list`"},
      {rules("input { a : enum() }"), "4:13: an enum needs at least one value"},
      {rules("input { if.x : int }"), "4:9: `if` is reserved"},
      {rules("input { a : int \"x\" \"y\" }"), "4:21: duplicate label"},
      {rules("input { a : int = 1 = 2 }"), "4:21: duplicate default"},
      // hazards
      {rules("hazard \"x\" { when a }"), "4:8: expected a hazard id such as `A4.1`"},
      {rules("hazard A1 { when a }"), "4:11: expected a string (the hazard's title)"},
      {rules("hazard A1 \"x\" { category a }"), "4:8: hazard `A1` has no `when` condition"},
      {rules("hazard A1 \"x\" { when a when b }"),
       "4:24: duplicate `when` in hazard `A1` (first at line 4)"},
      {rules("hazard A1 \"x\" { severity high when a }"),
       "4:26: expected `major` or `general` after `severity`"},
      {rules("hazard A1 \"x\" { rectify soon when a }"),
       "4:25: expected `immediate`, `deadline`, `suspend` or `close`"},
      {rules("hazard A1 \"x\" { rectify close within 9 weeks when a }"),
       "4:40: expected `days` after the number"},
      {rules("hazard A1 \"x\" { when a\n  color red }"),
       "5:3: expected `category`, `severity`, `cite`, `when`, `rectify`, `advice` or `}`"},
      {"ruleset t {\nhazard A1 \"x\" {\n  when a",
       "3:9: expected `}` to close `hazard` at line 2, found end of file"},
      // scores
      {rules("score s { bonus B1 \"x\" 1 }"), "4:11: expected `section`, `item`, `deduct` or `}`"},
      {rules("score s { item \"x\" 1 }"), "4:16: expected an id such as `E1` after `item`"},
      {rules("score s { item B1 1 }"), "4:19: expected a string (the label)"},
      {rules("score s { item B1 \"x\" when a }"),
       "4:23: expected the points (a number, a parenthesised expression or a path)"},
      {rules("score s { item B1 \"x\" \"y\" }"), "4:23: expected the points"},
      {rules("score s { section a { section b { } } }"), "4:23: expected `item`, `deduct` or `}`"},
      // grades
      {rules("grade g { red otherwise }"), "4:9: expected `:` and the scale"},
      {rules("grade g : colour { red otherwise }"), "4:11: expected `color` or `levels(...)`"},
      {rules("grade g : color { purple otherwise }"), "4:19: expected a colour"},
      {rules("grade g : levels(\"a\") { 1 otherwise }"), "4:25: expected a level label"},
      {rules("grade g : color { red if a }"), "4:23: expected `when` or `otherwise`"},
      {rules("grade g : levels() { }"), "4:17: `levels(...)` needs at least one label"},
      // tables
      {rules("table t(a: int) int { otherwise => 1 }"), "4:17: expected `->`"},
      {rules("table t(a: list<int>) -> int { otherwise => 1 }"), "4:12: expected a type"},
      {rules("table t(a: int) -> int { when a > 1 => a }"), "4:40: expected a literal"},
      {rules("table t(a: int) -> int { when a > 1 red }"), "4:37: expected `=>`"},
      {rules("table t(a: int, b: int) -> int {\n  | b | a | => |\n}"),
       "5:5: the header names `b` where parameter `a` was expected"},
      {rules("table t(a: int, b: int) -> int {\n  | a | => |\n}"),
       "5:9: the header names 1 column but the table has 2 parameters"},
      {rules("table t(a: int) -> int {\n  | a | => |\n  | 1 | 2 | 3 |\n}"),
       "6:3: the row has 3 cells; expected 2"},
      {rules("table t(a: int) -> int {\n  | a | => |\n  | 1 | >= 2 |\n}"),
       "6:9: the result cell must be a literal"},
      {rules("table t(a: int) -> int {\n  | a | => |\n  | 1 | 2\n  | 3 | 4 |\n}"),
       "6:10: expected `|` to end the row on line 6 (a table row is one line), found the end of "
       "the line"},
      {rules("table t(a: int) -> int {\n  | a | => |\n  | 1 || 2 |\n}"),
       "6:8: empty cell: write `-` for any value"},
      {rules("table t(a: int) -> int {\n  | a\n  | => |\n}"),
       "5:6: expected `|` on line 5 (a table header is one line), found the end of the line"},
      {rules("table t(a: int) -> int {\n  when a > 1 => 1\n  | a | => |\n}"),
       "6:3: a table has either `when` rows or `|` rows, not both"},
      {rules("table t(a: int) -> int {\n  | a | => |\n  | 1..x | 2 |\n}"),
       "6:8: expected a literal"},
      {rules("table t(a: int) -> int {\n  | a | => |\n  | in 1 | 2 |\n}"), "6:8: expected `[`"},
      // tests
      {rules("test x { }"), "4:6: expected a string (the test's name)"},
      {rules("test \"x\" { asof 2024 }"), "4:17: expected a date after `asof`"},
      {rules("test \"x\" { given [1] }"), "4:18: expected `{` and the JSON facts after `given`"},
      {"ruleset t {\ntest \"x\" { given { \"a\": { \"b\": 1 }",
       "2:18: unterminated JSON of `given`: expected `}` to close `{` at line 2"},
      {rules("test \"x\" { asof @2024-01-01 asof @2024-01-02 }"),
       "4:29: duplicate `asof` in test \"x\""},
      {rules("test \"x\" { expect not hazard 3 }"),
       "4:30: expected a name or id after `expect not hazard`"},
      {rules("test \"x\" { check a }"), "4:12: expected `asof`, `given`, `expect` or `}`"},
  };
  for (const auto& c : cases) {
    auto p = parse_text(c.input);
    EXPECT_TRUE(has_error(p->errors, c.expected))
        << "input:\n"
        << c.input << "\nwant: " << c.expected << "\ngot:\n"
        << p->errors;
  }
}

TEST(ParseErrors, RecoveryReportsSeveral) {
  auto p = parse_text(
      "ruleset t {\n"                   // 1
      "  title \"T\"\n"                 // 2
      "  let a = 1 +\n"                 // 3
      "  let b = 2\n"                   // 4
      "  hazard H1 \"h\" {\n"           // 5
      "    severity high\n"             // 6
      "    when a > (\n"                // 7
      "    cite \"c\"\n"                // 8
      "  }\n"                           // 9
      "  hazard H2 \"h\" { when x }\n"  // 10
      "  score s {\n"                   // 11
      "    item I1 \"x\" 1 when\n"      // 12
      "    item I2 \"y\" 2\n"           // 13
      "    section q { item I3 5 }\n"   // 14
      "  }\n"                           // 15
      "  bogus\n"                       // 16
      "  let c = 3\n"                   // 17
      "}\n");
  EXPECT_TRUE(has_error(p->errors, "4:3: expected an expression, found `let`")) << p->errors;
  EXPECT_TRUE(has_error(p->errors, "6:14: expected `major` or `general`")) << p->errors;
  EXPECT_TRUE(has_error(p->errors, "8:5: expected an expression, found `cite`")) << p->errors;
  EXPECT_TRUE(has_error(p->errors, "13:5: expected an expression, found `item`")) << p->errors;
  EXPECT_TRUE(has_error(p->errors, "14:25: expected a string (the label)")) << p->errors;
  EXPECT_TRUE(has_error(p->errors, "16:3: expected a declaration")) << p->errors;
  // What could be parsed was kept.
  ASSERT_EQ(p->file.lets.size(), 2u);
  EXPECT_EQ(p->file.lets[0].name, "b");
  EXPECT_EQ(p->file.lets[1].name, "c");
  ASSERT_EQ(p->file.hazards.size(), 2u);
  EXPECT_EQ(p->file.hazards[1].id, "H2");
  EXPECT_EQ(p->dump(p->file.hazards[1].when), "x");
  ASSERT_EQ(p->file.scores.size(), 1u);
  EXPECT_EQ(p->file.scores[0].items.size(), 1u);  // I2
  EXPECT_EQ(p->file.scores[0].items[0].id, "I2");
  EXPECT_GE(p->diags.error_count(), 6u);
  // The `when` of H1 failed to parse: no second complaint about a missing `when`.
  EXPECT_FALSE(has_error(p->errors, "5:10: hazard `H1` has no `when`")) << p->errors;
}

TEST(ParseErrors, RecoveryInPipeTable) {
  auto p =
      parse_text(rules("table t(a: int) -> int {\n"
                       "  | a | => |\n"
                       "  | ?? | 1 |\n"
                       "  | 2 | 3 |\n"
                       "  | >= | 4 |\n"
                       "  | - | 5 |\n"
                       "}\n"
                       "let after = 1"));
  EXPECT_TRUE(has_error(p->errors, "6:5: expected a literal")) << p->errors;
  EXPECT_TRUE(has_error(p->errors, "8:8: expected a literal")) << p->errors;
  ASSERT_EQ(p->file.tables.size(), 1u);
  EXPECT_EQ(p->file.tables[0].rows.size(), 2u);
  EXPECT_EQ(p->file.lets.size(), 1u);
}

TEST(ParseErrors, LexicalErrorsDoNotStopParsing) {
  auto p = parse_text(rules("let a = \"x\\q\"\nlet b = \x80 1\nlet c = @2023-02-29\nlet d = 4"));
  EXPECT_TRUE(has_error(p->errors, "4:11: unknown escape")) << p->errors;
  EXPECT_TRUE(has_error(p->errors, "5:9: invalid UTF-8 byte 0x80")) << p->errors;
  EXPECT_TRUE(has_error(p->errors, "6:9: invalid date")) << p->errors;
  EXPECT_EQ(p->file.lets.size(), 4u);
  EXPECT_EQ(p->diags.error_count(), 3u);
}

// ---- limits and hostile input ---------------------------------------------------------

TEST(ParseLimits, DeepParentheses) {
  std::string deep =
      rules("let x = " + std::string(100000, '(') + "1" + std::string(100000, ')') + "\nlet y = 2");
  auto p = parse_text(deep);
  EXPECT_TRUE(has_error(p->errors, "4: nesting is deeper than the limit of 256 (limit `depth`)"))
      << p->errors.substr(0, 500);
  EXPECT_EQ(p->diags.error_count(), 1u) << p->errors.substr(0, 500);
  EXPECT_EQ(p->file.lets.size(), 1u);  // y
}

TEST(ParseLimits, DeepIf) {
  std::string s;
  for (int k = 0; k < 100000; ++k) s += "if a then ";
  s += "1";
  for (int k = 0; k < 100000; ++k) s += " else 2";
  auto p = parse_text(rules("let x = " + s));
  EXPECT_TRUE(has_error(p->errors, "4: nesting is deeper than the limit of 256"))
      << p->errors.substr(0, 500);
  std::string conds;
  for (int k = 0; k < 100000; ++k) conds += "if ";
  auto q = parse_text(rules("let x = " + conds));
  EXPECT_TRUE(has_error(q->errors, "4: nesting is deeper than the limit of 256"));
}

TEST(ParseLimits, DeepOtherForms) {
  const std::string forms[] = {
      std::string(100000, '['),
      [] {
        std::string s;
        for (int k = 0; k < 100000; ++k) s += "not ";
        return s + "a";
      }(),
      std::string(100000, '-') + "a",
      [] {
        std::string s = "a";
        for (int k = 0; k < 100000; ++k) s += " ?? a";
        return s;
      }(),
      [] {
        std::string s;
        for (int k = 0; k < 100000; ++k) s += "f(";
        return s;
      }(),
  };
  for (const auto& f : forms) {
    auto p = parse_text(rules("let x = " + f));
    EXPECT_TRUE(has_error(p->errors, "4: nesting is deeper than the limit of 256"))
        << f.substr(0, 20) << "\n"
        << p->errors.substr(0, 300);
  }
}

TEST(ParseLimits, DepthCountsBlocksAndIsConfigurable) {
  parse_limits limits;
  limits.depth = 3;  // ruleset body, hazard block, `when` expression
  auto ok = parse_text(rules("hazard H \"h\" { when a }"), limits);
  EXPECT_EQ(ok->errors, "");
  auto deep = parse_text(rules("hazard H \"h\" { when (a) }"), limits);
  EXPECT_TRUE(has_error(deep->errors, "4:22: nesting is deeper than the limit of 3"))
      << deep->errors;
  auto nested = parse_text(rules("input { a : list { b : list { c : int } } }"), limits);
  EXPECT_TRUE(has_error(nested->errors, "4:29: nesting is deeper than the limit of 3"))
      << nested->errors;
  parse_limits wide;
  wide.depth = 2000;
  auto p =
      parse_text(rules("let x = " + std::string(1000, '(') + "1" + std::string(1000, ')')), wide);
  EXPECT_EQ(p->errors, "");
}

TEST(ParseLimits, LongOperatorChainsAreLoopsNotRecursion) {
  // The parser does not recurse on a chain; the tree it builds is deep (the checker bounds
  // it), and dump() cuts it.
  std::string chain = "a";
  for (int k = 0; k < 100000; ++k) chain += " + a";
  auto p = parse_text(rules("let x = " + chain));
  EXPECT_EQ(p->errors, "");
  std::string d = p->dump(p->file.lets[0].value);
  EXPECT_NE(d.find("..."), std::string::npos);
}

TEST(ParseErrors, RecoverySkipsGivenJsonRaw) {
  auto p =
      parse_text(rules("test bad {\n"
                       "  given { \"a\": \"\\/\\b\\r\" }\n"
                       "}\n"
                       "let after = 1"));
  EXPECT_TRUE(has_error(p->errors, "4:6: expected a string (the test's name)")) << p->errors;
  EXPECT_EQ(p->diags.error_count(), 1u) << p->errors;
  EXPECT_EQ(p->file.lets.size(), 1u);
}

TEST(ParseLimits, StackIsBoundedEvenWithAHugeDepthLimit) {
  parse_limits limits;
  limits.depth = 10'000'000;
  auto p = parse_text(
      rules("let x = " + std::string(100000, '(') + "1" + std::string(100000, ')') + "\nlet y = 2"),
      limits);
  EXPECT_TRUE(has_error(p->errors, "4: nesting is deeper than the parser's stack allows"))
      << p->errors.substr(0, 300);
  EXPECT_EQ(p->file.lets.size(), 1u);
}

TEST(ParseLimits, LongStringAndIdentifier) {
  std::string big(2u << 20, 'a');
  auto p = parse_text(rules("title \"" + big + "\"\nlet x = 1"));
  EXPECT_TRUE(has_error(p->errors, "4:7: string is longer than the limit of 1048576 bytes"))
      << p->errors.substr(0, 300);
  EXPECT_EQ(p->file.lets.size(), 1u);
  parse_limits limits;
  limits.string = 3 << 20;
  EXPECT_EQ(parse_text(rules("source \"" + big + "\""), limits)->errors, "");
  limits.identifier = 4;
  auto q = parse_text(rules("let abcde = 1\nhazard A1.abcde \"x\" { when abcd }"), limits);
  EXPECT_TRUE(has_error(q->errors, "4:5: identifier is longer than the limit of 4")) << q->errors;
  EXPECT_TRUE(has_error(q->errors, "5:11: identifier is longer than the limit of 4")) << q->errors;
}

TEST(ParseLimits, BinaryGarbage) {
  std::string garbage = "ruleset t {\n";
  std::uint32_t x = 7;
  for (int k = 0; k < 300000; ++k) {
    x = x * 1664525u + 1013904223u;
    garbage.push_back(static_cast<char>(x >> 24));
  }
  auto p = parse_text(garbage);
  EXPECT_TRUE(p->diags.has_errors());
  auto q = parse_text(garbage.substr(12));
  EXPECT_TRUE(q->diags.has_errors());
  auto r = parse_text(std::string("ruleset t {\0}", 13));
  EXPECT_TRUE(has_error(r->errors, "1:12: NUL byte")) << r->errors;
}

TEST(ParseLimits, ManyErrorsAreCountedNotKept) {
  std::string text = "ruleset t {\n";
  for (int k = 0; k < 500; ++k) text += "  let = 1\n";
  text += "}";
  ast::source_set sources;
  sources.files.push_back({"t.rules", "", text, {}});
  ast::expr_arena arena;
  ast::diagnostic_sink diags(100);
  parse_file(sources, 0, arena, {}, diags);
  EXPECT_EQ(diags.items().size(), 100u);
  EXPECT_EQ(diags.error_count(), 500u);
  EXPECT_EQ(diags.dropped(), 400u);
}

TEST(Parse, ArenaIsShared) {
  ast::source_set sources;
  sources.files.push_back({"a.rules", "", rules("let a = 1 + 2"), {}});
  sources.files.push_back({"b.rules", "", rules("let b = x"), {}});
  ast::expr_arena arena;
  ast::diagnostic_sink diags;
  auto a = parse_file(sources, 0, arena, {}, diags);
  auto b = parse_file(sources, 1, arena, {}, diags);
  EXPECT_FALSE(diags.has_errors());
  EXPECT_EQ(b.file, 1u);
  EXPECT_EQ(ast::dump(arena, a.lets[0].value), "(1 + 2)");
  EXPECT_EQ(ast::dump(arena, b.lets[0].value), "x");
  EXPECT_EQ(arena[b.lets[0].value].where.file, 1u);
  auto bad = parse_file(sources, 7, arena, {}, diags);
  EXPECT_TRUE(diags.has_errors());
}

}  // namespace
}  // namespace carerules::parse
