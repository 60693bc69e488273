// The HTML writer's pieces: escaping, facts by path, page file names, labels, group counts.
#include <gtest/gtest.h>

#include <carerules/carerules.hpp>
#include <string>

namespace {

using carerules::lang;

TEST(html, escape_makes_markup_text) {
  EXPECT_EQ(carerules::html_escape(R"("><img src=x onerror=alert(1)>)"),
            "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;");
  EXPECT_EQ(carerules::html_escape("<script>a&b's</script>"),
            "&lt;script&gt;a&amp;b&#39;s&lt;/script&gt;");
  EXPECT_EQ(carerules::html_escape(std::string("a\x01"
                                               "b\nc",
                                               5)),
            "a\xEF\xBF\xBD"
            "b\nc");
  EXPECT_EQ(carerules::html_escape("福州"), "福州");
  // C1 control characters (U+0085 NEL, U+009F) too; U+00A0 and beyond are kept.
  EXPECT_EQ(carerules::html_escape("\xC2\x85nel\xC2\x9F\xC2\xA0"),
            "\xEF\xBF\xBDnel\xEF\xBF\xBD\xC2\xA0");
}

TEST(html, fact_at_reads_any_path) {
  const char* facts = R"({"region": {"district": "思明区", "code": 350203, "ok": true,
                          "none": null, "list": [1]}, "id": "A"})";
  EXPECT_EQ(carerules::fact_at(facts, "region.district"), "思明区");
  EXPECT_EQ(carerules::fact_at(facts, "region.code"), "350203");
  EXPECT_EQ(carerules::fact_at(facts, "region.ok"), "true");
  EXPECT_EQ(carerules::fact_at(facts, "id"), "A");
  EXPECT_FALSE(carerules::fact_at(facts, "region.none"));
  EXPECT_FALSE(carerules::fact_at(facts, "region.list"));
  EXPECT_FALSE(carerules::fact_at(facts, "region"));
  EXPECT_FALSE(carerules::fact_at(facts, "region.district.x"));
  EXPECT_FALSE(carerules::fact_at(facts, "nowhere"));
  EXPECT_FALSE(carerules::fact_at("not json", "id"));
  EXPECT_FALSE(carerules::fact_at("[1]", "id"));
  EXPECT_FALSE(carerules::fact_at(R"({"id": "A"} x)", "id"));
}

TEST(html, fact_at_writes_numbers_as_reports_do_and_takes_the_last_of_a_key_given_twice) {
  // One number, one group, however it was written (not the "1.5E0" of a double).
  for (const char* n : {"1.50", "1.5", "15e-1", "0.15E1"})
    EXPECT_EQ(carerules::fact_at(std::string(R"({"g": )") + n + "}", "g"), "1.5") << n;
  EXPECT_EQ(carerules::fact_at(R"({"g": 1e2})", "g"), "100");
  EXPECT_EQ(carerules::fact_at(R"({"g": -0.5})", "g"), "-0.5");
  EXPECT_EQ(carerules::fact_at(R"({"g": 123456789012345678901234567890})", "g"),
            "123456789012345678901234567890");                     // beyond every range: as written
  EXPECT_EQ(carerules::fact_at(R"({"g": "1.50"})", "g"), "1.50");  // a string as it is
  // More fractional digits than a decimal keeps: the shortest exact text, so that two numbers
  // never merge.
  EXPECT_EQ(carerules::fact_at(R"({"g": 1e-7})", "g"), "1e-7");
  EXPECT_EQ(carerules::fact_at(R"({"g": 0.1234567})", "g"), "0.1234567");
  EXPECT_EQ(carerules::fact_at(R"({"g": 0.0000010})", "g"), "0.000001");
  EXPECT_EQ(carerules::fact_at(R"({"g": 1234567e-6})", "g"), "1.234567");
  EXPECT_EQ(carerules::fact_at(R"({"g": 12345670e-7})", "g"), "1.234567");
  // One number, one text, however it is written (the shortest exact form).
  for (const char* n : {"1e-7", "1E-7", "0.0000001", "10e-8", "1.0e-7"})
    EXPECT_EQ(carerules::fact_at(std::string(R"({"g": )") + n + "}", "g"), "1e-7") << n;
  for (const char* n : {"1e20", "1e+20", "1E20", "100000000000000000000", "0.1e21"})
    EXPECT_EQ(carerules::fact_at(std::string(R"({"g": )") + n + "}", "g"), "1e20") << n;
  EXPECT_EQ(carerules::fact_at(R"({"g": -2.5e-9})", "g"), "-2.5e-9");
  EXPECT_EQ(carerules::fact_at(R"({"g": 10000000000000.5})", "g"), "10000000000000.5");
  EXPECT_EQ(carerules::fact_at(R"({"g": 1e999999})", "g"), "1e999999");  // kept as written
  // Keys along the path, not beside it or inside lists.
  const char* facts = R"({"a": {"b": 1, "c": {"b": 2}}, "l": [{"b": 3}], "b": 4,
                          "a": {"b": "last", "x": [{"a": {"b": 5}}]}})";
  EXPECT_EQ(carerules::fact_at(facts, "a.b"), "last");
  EXPECT_EQ(carerules::fact_at(facts, "b"), "4");
  EXPECT_FALSE(carerules::fact_at(facts, "l.b"));
  EXPECT_FALSE(carerules::fact_at(facts, "a.c.b"));  // the last `a` has no `c`
  EXPECT_FALSE(carerules::fact_at(R"({"g": 1, "g": null})", "g"));
  EXPECT_FALSE(carerules::fact_at(R"({"g": 1, "g": {"h": 2}})", "g"));
  EXPECT_EQ(carerules::fact_at(R"({"g": {"h": 2}, "g": 3})", "g"), "3");
}

TEST(html, page_file_stem) {
  using carerules::page_file_stem;
  EXPECT_EQ(page_file_stem(std::string("FJ-XM-0001"), 1), "FJ-XM-0001");
  EXPECT_EQ(page_file_stem(std::string("福州_1.v2"), 1), "福州_1.v2");
  EXPECT_EQ(page_file_stem(std::nullopt, 7), "record-7");
  const std::string ab = page_file_stem(std::string("a/b"), 1);
  EXPECT_EQ(ab.substr(0, 4), "a_b-");
  EXPECT_EQ(ab.size(), 12u);
  EXPECT_NE(ab, page_file_stem(std::string("a_b"), 1));
  EXPECT_NE(ab, page_file_stem(std::string("a\\b"), 1));
  EXPECT_EQ(page_file_stem(std::string("../x"), 1).substr(0, 5), "_._x-");
  EXPECT_EQ(page_file_stem(std::string("index"), 1).substr(0, 6), "index-");
  EXPECT_EQ(page_file_stem(std::string("Lpt1"), 1).substr(0, 5), "Lpt1-");
  EXPECT_EQ(page_file_stem(std::string(""), 1).substr(0, 1), "-");
  EXPECT_LE(page_file_stem(std::string(300, 'a'), 1).size(), 89u);
  // Cut at a character boundary: 27 CJK characters are 81 bytes, 26 fit.
  std::string cjk;
  for (int i = 0; i < 27; ++i) cjk += "福";
  EXPECT_EQ(page_file_stem(cjk, 1).substr(0, 78), cjk.substr(0, 78));
  EXPECT_EQ(page_file_stem(cjk, 1)[78], '-');
}

TEST(html, labels) {
  EXPECT_EQ(carerules::label(lang::zh, carerules::hazard_status::present), "存在");
  EXPECT_EQ(carerules::label(lang::zh, carerules::hazard_status::absent), "不存在");
  EXPECT_EQ(carerules::label(lang::zh, carerules::hazard_status::undetermined), "无法判定");
  EXPECT_EQ(carerules::action_label(lang::zh, "immediate"), "立行立改");
  EXPECT_EQ(carerules::action_label(lang::zh, "deadline"), "限期整改");
  EXPECT_EQ(carerules::action_label(lang::zh, "suspend"), "停业整改");
  EXPECT_EQ(carerules::action_label(lang::zh, "close"), "取缔关停");
  EXPECT_EQ(carerules::action_label(lang::en, "unknown_code"), "unknown_code");
  EXPECT_EQ(carerules::grade_value_label(lang::zh, "red"), "红（重大风险）");
  EXPECT_EQ(carerules::grade_value_label(lang::zh, "blue"), "蓝（低风险）");
  EXPECT_EQ(carerules::grade_value_label(lang::en, "orange"), "orange (considerable risk)");
  EXPECT_EQ(carerules::grade_value_label(lang::zh, "四级"), "四级");
  EXPECT_EQ(carerules::colour_word(lang::zh, "yellow"), "黄");
  EXPECT_FALSE(carerules::colour_word(lang::zh, "四级"));
  EXPECT_EQ(carerules::category_label(lang::zh, "qualifications"), "安全相关资质证照");
  EXPECT_EQ(carerules::text(lang::en, "no_such_key"), "no_such_key");
  EXPECT_EQ(carerules::parse_lang("en"), lang::en);
  EXPECT_FALSE(carerules::parse_lang("fr"));
}

const char* const rules = R"(ruleset h {
  title "t"
  version "1"
  input {
    beds : int "床位数"
  }
  hazard H1 "many beds" {
    category facilities
    cite "item 1"
    when beds > 10
    rectify deadline within 10 days
  }
  grade risk : color {
    red when present(H1)
    blue otherwise
  }
})";

TEST(html, group_summary_counts_per_group) {
  auto c = carerules::compile_source(rules);
  ASSERT_TRUE(c.ok()) << c.rendered();
  const auto& rs = c.value();
  carerules::group_summary s(rs);
  const char* recs[] = {R"({"id":"a","d":"x","beds":20})", R"({"id":"b","d":"x","beds":1})",
                        R"({"id":"c","beds":"no"})"};
  for (const char* r : recs) {
    auto g = carerules::fact_at(r, "d");
    s.add_record(g);
    s.add(rs.evaluate(r, {.asof = "2024-06-01"}), g);
  }
  auto groups = s.groups();
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(groups[0].first, "x");
  EXPECT_FALSE(groups[1].first);
  EXPECT_EQ(groups[0].second->records, 2u);
  EXPECT_EQ(groups[0].second->with_present, 1u);
  EXPECT_EQ(groups[0].second->hazards[0][0], 1u);  // present
  EXPECT_EQ(groups[1].second->with_errors, 1u);
  EXPECT_EQ(s.total().records, 3u);
  EXPECT_EQ(s.grade_values()[0][0], "red");
  EXPECT_EQ(s.total().grades[0][0], 1u);
  const std::string json = s.to_json(std::string("d"));
  EXPECT_NE(json.find(R"({"group":"x","records":2,"reports":2,"with_errors":0,)"),
            std::string::npos)
      << json;
}

TEST(html, page_shows_due_only_for_present_and_escapes) {
  auto c = carerules::compile_source(rules);
  ASSERT_TRUE(c.ok());
  const auto& rs = c.value();
  const char* present = R"({"id":"<i>","beds":20})";
  auto r = rs.evaluate(present, {.asof = "2024-06-01"});
  std::string page = carerules::html_page(rs, r, present, {});
  EXPECT_NE(page.find("2024-06-11"), std::string::npos);
  EXPECT_NE(page.find("限期整改"), std::string::npos);
  EXPECT_EQ(page.find("<i>"), std::string::npos);
  EXPECT_NE(page.find("&lt;i&gt;"), std::string::npos);
  const char* absent = R"({"id":"b","beds":2})";
  r = rs.evaluate(absent, {.asof = "2024-06-01"});
  page = carerules::html_page(rs, r, absent, {.language = lang::en});
  EXPECT_EQ(page.find("2024-06-11"), std::string::npos);  // absent: no due date
  EXPECT_NE(page.find("<details>"), std::string::npos);
  EXPECT_NE(page.find("blue (low risk)"), std::string::npos);
}

}  // namespace
