// Batches, unreadable records, columns, and the asof and thread rules every surface shares.
#include <gtest/gtest.h>

#include <atomic>
#include <carerules/carerules.hpp>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

const char* const rules = R"(ruleset b {
  title "t"
  version "1"
  input {
    beds : int  "床位"
    residents : list {
      age : int
    }
  }
  hazard H1 "many beds" {
    cite "test"
    when beds > 100
  }
  score q {
    section s1 {
      item I1 "small" 10 when beds < 50
    }
  }
  grade risk : color {
    red  when present(H1)
    blue otherwise
  }
})";

const carerules::ruleset& compiled() {
  static const carerules::compile_result r = carerules::compile_source(rules);
  EXPECT_TRUE(r.ok()) << r.rendered();
  return r.value();
}

TEST(batch, parallel_for_runs_every_index_once) {
  for (unsigned threads : {0u, 1u, 2u, 8u}) {
    std::vector<std::atomic<int>> seen(1000);
    carerules::parallel_for(seen.size(), threads, [&](std::size_t i) { ++seen[i]; });
    for (const auto& s : seen) ASSERT_EQ(s.load(), 1) << threads;
  }
}

TEST(batch, parallel_for_hands_a_worker_exception_to_the_caller) {
  for (unsigned threads : {1u, 4u}) {
    EXPECT_THROW(carerules::parallel_for(100, threads,
                                         [](std::size_t i) {
                                           if (i == 37) throw std::runtime_error("boom");
                                         }),
                 std::runtime_error)
        << threads;
  }
}

TEST(batch, thread_count_and_asof_rules) {
  EXPECT_EQ(carerules::thread_count(5, 3), 3u);
  EXPECT_EQ(carerules::thread_count(1000, 100000), 256u);
  EXPECT_GE(carerules::thread_count(0, 100000), 1u);
  EXPECT_EQ(carerules::thread_count(4, 0), 1u);
  EXPECT_EQ(carerules::resolve_asof("2024-02-29"), "2024-02-29");
  EXPECT_EQ(carerules::resolve_asof("").size(), 10u);
  EXPECT_THROW(carerules::resolve_asof("2023-02-29"), std::invalid_argument);
  EXPECT_THROW(carerules::resolve_asof("yesterday"), std::invalid_argument);
}

TEST(batch, results_keep_input_order_whatever_the_threads) {
  const auto& rs = compiled();
  std::vector<carerules::batch_record> in;
  for (int i = 0; i < 300; ++i)
    in.push_back({R"({"id": "S)" + std::to_string(i) + R"(", "beds": )" + std::to_string(i) + "}",
                  static_cast<std::uint64_t>(i + 1), 0});
  for (unsigned threads : {1u, 2u, 7u}) {
    auto out = rs.evaluate_batch(in, {.asof = "2024-06-01", .threads = threads}, true);
    ASSERT_EQ(out.size(), in.size());
    for (int i = 0; i < 300; ++i) {
      ASSERT_EQ(out[i].reports.size(), 1u);
      EXPECT_EQ(out[i].reports[0].subject, "S" + std::to_string(i));
      EXPECT_EQ(out[i].reports[0].hazards[0].status,
                i > 100 ? carerules::hazard_status::present : carerules::hazard_status::absent);
      ASSERT_EQ(out[i].json.size(), 1u);
      EXPECT_EQ(out[i].json[0], out[i].reports[0].to_json());
    }
  }
}

TEST(batch, unreadable_records_get_a_report_of_their_own_with_their_line) {
  const auto& rs = compiled();
  std::vector<carerules::batch_record> in{
      {"[1,", 3, 0}, {"", 4, 123456}, {R"({"beds": 7})", 5, 0}, {"42", 0, 0}};
  auto out = rs.evaluate_batch(in, {.asof = "2024-06-01"});
  ASSERT_EQ(out.size(), 4u);
  const auto& bad = out[0].reports.at(0);
  EXPECT_TRUE(bad.unreadable);
  EXPECT_TRUE(bad.hazards.empty());
  ASSERT_EQ(bad.errors.size(), 1u);
  EXPECT_EQ(bad.errors[0].message.rfind("line 3: ", 0), 0u) << bad.errors[0].message;
  const auto& big = out[1].reports.at(0);
  // Nothing of it was read, but the report keeps its shape: every hazard undetermined.
  EXPECT_FALSE(big.unreadable);
  ASSERT_EQ(big.hazards.size(), 1u);
  EXPECT_EQ(big.hazards[0].status, carerules::hazard_status::undetermined);
  EXPECT_NE(big.errors.at(0).message.find("line 4: line of 123456 bytes exceeds the limit "
                                          "line_bytes"),
            std::string::npos)
      << big.errors[0].message;
  EXPECT_FALSE(out[2].reports.at(0).unreadable);
  EXPECT_TRUE(out[2].reports.at(0).errors.empty());
  // Not from a line: no line number in front.
  EXPECT_TRUE(out[3].reports.at(0).unreadable);
  EXPECT_NE(out[3].reports.at(0).errors.at(0).message.rfind("line ", 0), 0u);
}

TEST(batch, a_bad_asof_is_refused_before_any_work) {
  EXPECT_THROW(compiled().evaluate_batch({{"{}", 1, 0}}, {.asof = "2024-13-01"}),
               std::invalid_argument);
}

TEST(batch, jsonl_text_gives_one_line_per_record_and_skips_blank_lines) {
  const auto& rs = compiled();
  std::string in =
      "{\"id\": \"a\", \"beds\": 120}\r\n\n   \n{\"id\": \"b\"}\nnot json\n{\"id\": \"c\"}";
  std::string out = rs.evaluate_jsonl(in, {.asof = "2024-06-01", .threads = 2});
  std::vector<std::string> lines;
  for (std::size_t s = 0, e; (e = out.find('\n', s)) != std::string::npos; s = e + 1)
    lines.push_back(out.substr(s, e - s));
  ASSERT_EQ(lines.size(), 4u) << out;
  EXPECT_NE(lines[0].find(R"("subject":"a")"), std::string::npos);
  EXPECT_NE(lines[0].find(R"("status":"present")"), std::string::npos);
  EXPECT_NE(lines[1].find(R"("subject":"b")"), std::string::npos);
  EXPECT_NE(lines[2].find("line 5: "), std::string::npos) << lines[2];
  EXPECT_NE(lines[3].find(R"("subject":"c")"), std::string::npos);
  EXPECT_EQ(rs.evaluate_jsonl("", {.asof = "2024-06-01"}), "");
}

TEST(batch, columns_follow_the_declarations) {
  const auto& rs = compiled();
  std::vector<std::string> names;
  for (const auto& c : rs.columns()) names.push_back(c.name);
  EXPECT_EQ(names, (std::vector<std::string>{"subject", "hazard.H1", "score.q", "score.q.s1",
                                             "grade.risk", "errors"}));
  auto r = rs.evaluate(R"({"id": 7, "beds": 20})", {.asof = "2024-06-01"});
  std::vector<std::string> cells;
  for (const auto& c : rs.columns()) cells.push_back(carerules::report_cell(r, c));
  EXPECT_EQ(cells, (std::vector<std::string>{"7", "absent", "10", "10", "blue", "0"}));
  auto u = rs.unreadable_report("broken", "/x", {.asof = "2024-06-01"});
  EXPECT_TRUE(u.unreadable);
  EXPECT_EQ(u.asof, "2024-06-01");
  EXPECT_EQ(u.errors.at(0).path, "/x");
  EXPECT_EQ(carerules::report_cell(u, rs.columns()[1]), "");
  EXPECT_EQ(carerules::report_cell(u, rs.columns().back()), "1");
}

}  // namespace

namespace {

// A mixed batch: good records, a record with a fact error, a line that is not JSON, an
// oversize line, and a record with a list for `each`.
std::vector<carerules::batch_record> mixed_batch(std::size_t n) {
  std::vector<carerules::batch_record> out;
  for (std::size_t i = 0; i < n; ++i) {
    std::uint64_t line = i + 1;
    switch (i % 7) {
      case 3:
        out.push_back(
            {R"({"id": "E)" + std::to_string(i) + R"(", "beds": "many"})", line, 0, false});
        break;
      case 5:
        out.push_back({"[1,", line, 0, false});
        break;
      case 6:
        out.push_back({"", line, 99999999, true});
        break;
      default:
        out.push_back({R"({"id": "R)" + std::to_string(i) + R"(", "beds": )" +
                           std::to_string(i * 7 % 160) +
                           R"(, "residents": [{"id": "a", "age": 80}, {"id": "b"}]})",
                       line, 0, false});
    }
  }
  return out;
}

TEST(batch, evaluate_text_writes_what_the_reports_say_in_order_on_any_thread_count) {
  const auto& rs = compiled();
  const auto batch = mixed_batch(300);
  for (const std::string each : {"", "residents"}) {
    carerules::eval_options o{.asof = "2024-06-01", .each = each};
    std::string expected;
    std::uint64_t outputs = 0, with_errors = 0;
    for (const auto& res : rs.evaluate_batch(batch, o, true))
      for (std::size_t k = 0; k < res.json.size(); ++k) {
        if (outputs++) expected += "\n";
        expected += res.json[k];
        if (!res.reports[k].errors.empty()) ++with_errors;
      }
    ASSERT_GT(with_errors, 0u);
    for (unsigned threads : {1u, 2u, 8u}) {
      o.threads = threads;
      const auto text = rs.evaluate_text(batch, o);
      EXPECT_EQ(text.outputs, outputs) << threads << each;
      EXPECT_EQ(text.with_errors, with_errors) << threads << each;
      EXPECT_EQ(text.text, expected) << threads << each;
    }
  }
}

TEST(batch, evaluate_text_appends_across_batches_with_the_separator) {
  const auto& rs = compiled();
  const auto batch = mixed_batch(70);
  const carerules::eval_options o{.asof = "2024-06-01", .threads = 2};
  const auto whole = rs.evaluate_text(batch, o, carerules::line_format::report, ",");
  carerules::batch_text acc;
  const std::vector<carerules::batch_record> first(batch.begin(), batch.begin() + 33);
  const std::vector<carerules::batch_record> second(batch.begin() + 33, batch.end());
  rs.evaluate_text(first, o, carerules::line_format::report, ",", acc);
  rs.evaluate_text({}, o, carerules::line_format::report, ",", acc);
  rs.evaluate_text(second, o, carerules::line_format::report, ",", acc);
  EXPECT_EQ(acc.text, whole.text);
  EXPECT_EQ(acc.outputs, 70u);
  EXPECT_EQ(acc.with_errors, whole.with_errors);
}

TEST(batch, decisions_lines_name_present_and_undetermined_hazards_grades_and_errors) {
  const auto& rs = compiled();
  const carerules::eval_options o{.asof = "2024-06-01"};
  const auto text = rs.evaluate_text({{R"({"id": "A", "beds": 120})", 1, 0, false},
                                      {R"({"id": "B"})", 2, 0, false},
                                      {R"({"id": "C", "beds": "x"})", 3, 0, false},
                                      {"nope", 4, 0, false}},
                                     o, carerules::line_format::decisions);
  EXPECT_EQ(
      text.text,
      R"({"subject":"A","present":["H1"],"undetermined":[],"grades":{"risk":"red"},"errors":0})"
      "\n"
      R"({"subject":"B","present":[],"undetermined":["H1"],"grades":{"risk":"undetermined"},"errors":0})"
      "\n"
      R"({"subject":"C","present":[],"undetermined":["H1"],"grades":{"risk":"undetermined"},"errors":1})"
      "\n"
      R"({"subject":null,"present":[],"undetermined":[],"grades":{},"errors":1})");
  EXPECT_EQ(text.with_errors, 2u);

  const auto d = rs.decide(R"({"id": "A", "beds": 120})", o);
  ASSERT_EQ(d.hazards.size(), 1u);
  EXPECT_EQ(d.hazards[0], carerules::hazard_status::present);
  ASSERT_EQ(d.grades.size(), 1u);
  EXPECT_EQ(d.grades[0], "red");
  EXPECT_EQ(d.subject, "A");
  const auto bound = rs.bind_json(R"({"id": "Z", "beds": 10})");
  const auto z = rs.decide(bound, o);
  EXPECT_EQ(z.hazards[0], carerules::hazard_status::absent);
  EXPECT_EQ(z.grades[0], "blue");
  EXPECT_TRUE(rs.decide("[]", o).unreadable);
}

TEST(batch, evaluate_json_is_the_report_json_and_survives_ruleset_changes_on_one_thread) {
  // The per-thread evaluator follows the ruleset it is asked about, also when rulesets
  // alternate and one is freed.
  const auto& a = compiled();
  for (int round = 0; round < 3; ++round) {
    auto other = carerules::compile_source(R"(ruleset o { title "t" version "2"
      input { n : int }
      hazard X "x" { cite "c" when n > 1 }
      hazard Y "y" { cite "c" when n > 2 }
    })");
    ASSERT_TRUE(other.ok()) << other.rendered();
    const std::string fa = R"({"id": "A", "beds": 120})", fo = R"({"id": "O", "n": 3})";
    EXPECT_EQ(a.evaluate_json(fa, {.asof = "2024-06-01"}),
              a.evaluate(fa, {.asof = "2024-06-01"}).to_json());
    EXPECT_EQ(other.value().evaluate_json(fo, {.asof = "2024-06-01"}),
              other.value().evaluate(fo, {.asof = "2024-06-01"}).to_json());
  }
  EXPECT_THROW(a.evaluate_json("{}", {.asof = "2024-13-01"}), std::invalid_argument);
  EXPECT_THROW(a.evaluate_text({}, {.asof = "x"}), std::invalid_argument);
}

}  // namespace

namespace {

TEST(batch, evaluate_json_follows_the_date_from_one_record_to_the_next_on_one_thread) {
  // The writer keeps the date's text and the due dates of the last date it met: a record of
  // another date, on the same thread, must get its own.
  auto c = carerules::compile_source(R"(ruleset d { title "t" version "1"
    input { n : int }
    hazard X "x" { cite "c" rectify suspend within 90 days when n > 1 }
    hazard Y "y" { cite "c" when n > 2 }
    hazard Z "z" { cite "c" rectify deadline within 9998 days when n > 3 }
  })");
  ASSERT_TRUE(c.ok()) << c.rendered();
  const std::string facts = R"({"n": 5})";
  for (const char* asof : {"2024-06-01", "2024-12-31", "2024-06-01", "9999-01-01"}) {
    const carerules::eval_options o{.asof = asof};
    const std::string json = c.value().evaluate_json(facts, o);
    EXPECT_EQ(json, c.value().evaluate(facts, o).to_json()) << asof;
    EXPECT_NE(json.find(std::string("\"asof\":\"") + asof + "\""), std::string::npos) << json;
  }
  const std::string june = c.value().evaluate_json(facts, {.asof = "2024-06-01"});
  EXPECT_NE(june.find("\"due\":\"2024-08-30\""), std::string::npos) << june;
  // Past 9999-12-31 a deadline has no due date (Z's), one within it has (X's).
  const std::string late = c.value().evaluate_json(facts, {.asof = "9999-01-01"});
  EXPECT_NE(late.find("\"within_days\":9998}"), std::string::npos) << late;
  EXPECT_NE(late.find("\"due\":\"9999-04-01\""), std::string::npos) << late;
}

TEST(batch, evaluate_json_matches_reports_when_lets_and_hazards_read_grades_and_scores) {
  // The fast writer keeps grades' and scores' traces to what they found missing; a let or a
  // hazard reading a grade or a score must still show the same evidence as the report.
  auto c = carerules::compile_source(R"(ruleset g { title "t" version "1"
    input { a : int  b : int  c : bool }
    hazard H1 "h" { cite "c" when a > 1 }
    score s max 10 { item I1 "i" 5 when b > 1  item I2 "j" 5 when c }
    grade risk : color { red when present(H1) or b > 2  yellow when s > 4  blue otherwise }
    let x = risk == red or s >= 5
    hazard H2 "h2" { cite "c" when x and a < 5 }
    hazard H3 "h3" { cite "c" when risk >= yellow }
  })");
  ASSERT_TRUE(c.ok()) << c.rendered();
  for (const char* facts : {R"({"a": 0, "b": 5})", R"({"a": 3, "c": true})", R"({"b": 2})",
                            R"({"a": 0, "b": 0, "c": false})", R"({})"}) {
    const carerules::eval_options o{.asof = "2024-06-01"};
    EXPECT_EQ(c.value().evaluate_json(facts, o), c.value().evaluate(facts, o).to_json()) << facts;
  }
}

}  // namespace

namespace {

TEST(batch, csv_rows_are_the_cells_of_the_reports) {
  const auto& rs = compiled();
  const auto batch = mixed_batch(90);
  for (const std::string each : {"", "residents"}) {
    const carerules::eval_options o{.asof = "2024-06-01", .each = each, .threads = 2};
    std::string expected;
    for (const auto& res : rs.evaluate_batch(batch, o))
      for (const auto& r : res.reports) {
        if (!expected.empty()) expected += "\r\n";
        bool first = true;
        for (const auto& c : rs.columns()) {
          if (!first) expected += ',';
          first = false;
          carerules::append_csv_field(expected, carerules::report_cell(r, c));
        }
      }
    EXPECT_EQ(rs.evaluate_text(batch, o, carerules::line_format::csv, "\r\n").text, expected)
        << each;
  }
  std::string f;
  carerules::append_csv_field(f, "a,\"b\"");
  EXPECT_EQ(f, "\"a,\"\"b\"\"\"");
}

TEST(batch, csv_fields_a_spreadsheet_would_run_as_formulas_are_kept_as_text) {
  // Each text as a CSV field: formula-like texts behind an apostrophe, quoted; numbers and texts
  // that only hold those characters later as they are.
  const std::pair<std::string_view, std::string_view> cases[] = {
      {"=HYPERLINK(\"http://x\",\"y\")", "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\""},
      {"+1", "\"'+1\""},
      {"@SUM(A1)", "\"'@SUM(A1)\""},
      {"-1+2", "\"'-1+2\""},
      {"-", "\"'-\""},
      {"\tx", "\"'\tx\""},
      {"\rx", "\"'\rx\""},
      {"-3", "-3"},
      {"-0.25", "-0.25"},
      {"-1e-7", "-1e-7"},
      {"-1.5e20", "-1.5e20"},
      {"-1e", "\"'-1e\""},
      {"a=b", "a=b"},
      {"2024-06-01", "2024-06-01"},
      {"", ""},
  };
  for (const auto& [text, field] : cases) {
    std::string f;
    carerules::append_csv_field(f, text);
    EXPECT_EQ(f, field) << text;
  }
}

}  // namespace

namespace {

TEST(batch, facts_bound_one_record_after_another_on_a_thread_keep_nothing_of_the_last) {
  // The fast paths bind each record into facts this thread keeps (their memory reused): a
  // record must read exactly as it does bound on its own, whatever came before it.
  auto c = carerules::compile_source(R"(ruleset r { title "t" version "1"
    input {
      name : string
      beds : int = 10
      tags : list<string>
      residents : list { who : string  age : int }
    }
    hazard H1 "h" { cite "c" when name == "东院" or beds > 100 }
    hazard H2 "old" { cite "c" when any(r in residents where r.age > 90 and r.who != "") }
    hazard H3 "tag" { cite "c" when "fire" in tags }
    score q max 10 {
      section size max 6 { item S1 "beds" 2.5 when beds > 50  item S2 "many" 3 when beds > 100 }
      section people max 4 { item P1 "old" (count(r in residents where r.age > 90)) when true }
    }
    grade g : color { red when present(H1) or present(H2) blue otherwise }
  })");
  ASSERT_TRUE(c.ok()) << c.rendered();
  const auto& rs = c.value();
  const char* records[] = {
      R"({"id": "A", "name": "东院", "beds": 120, "tags": ["fire", "a long tag that is not short"],
          "residents": [{"who": "张三", "age": 95}, {"who": "李四四四四四四四四四", "age": 70},
                        {"who": "x", "age": 91}]})",
      R"({"id": "B"})",
      R"({"id": "C", "residents": [{"who": "", "age": 99}], "tags": []})",
      R"([1, 2])",
      R"({"id": "D", "name": 5, "beds": "many", "tags": [1, null]})",
      R"({"id": "E", "name": "西院", "name": "东院"})",
      R"({"id": "F", "residents": [{"who": "王五", "age": 92}, {}, {"age": 93}]})",
      R"({"id": "G", "tags": ["fire"], "residents": [)",
      R"({"id": "H", "name": "南院", "beds": 1e999})",
      R"({"id": "I", "name": "北院"})",
  };
  const carerules::eval_options o{.asof = "2024-06-01"};
  // One answer object decided into again and again (text and bound facts, readable and
  // not) holds each time what a fresh answer holds: nothing of the record before.
  carerules::decisions into;
  for (int round = 0; round < 3; ++round) {
    for (const char* r : records) {
      EXPECT_EQ(rs.evaluate_json(r, o), rs.evaluate(r, o).to_json()) << r;
      const auto fresh = rs.decide(rs.bind_json(r, o), o);
      const auto reused = rs.decide(r, o);
      EXPECT_EQ(reused.subject, fresh.subject) << r;
      EXPECT_EQ(reused.hazards, fresh.hazards) << r;
      EXPECT_EQ(reused.grades, fresh.grades) << r;
      EXPECT_EQ(reused.errors, fresh.errors) << r;
      for (int bound = 0; bound < 2; ++bound) {
        if (bound)
          rs.decide(rs.bind_json(r, o), o, into);
        else
          rs.decide(r, o, into);
        EXPECT_EQ(into.subject, fresh.subject) << r;
        EXPECT_EQ(into.hazards, fresh.hazards) << r;
        EXPECT_EQ(into.grades, fresh.grades) << r;
        EXPECT_EQ(into.errors, fresh.errors) << r;
        EXPECT_EQ(into.unreadable, fresh.unreadable) << r;
        // The scores: each total, then its sections, as the report gives them.
        const carerules::report rep = rs.evaluate(r, o);
        std::vector<std::int64_t> want;
        auto scaled = [](const carerules::json_value& v) {
          return v.type == carerules::json_value::kind::integer
                     ? v.i * carerules::json_value::decimal_scale
                     : v.i;
        };
        for (const auto& sc : rep.scores) {
          want.push_back(scaled(sc.total));
          for (const auto& [name, v] : sc.sections) want.push_back(scaled(v));
        }
        EXPECT_EQ(into.scores, want) << r;
      }
    }
  }
  // And in a batch, where one worker binds a run of records one after another.
  std::vector<carerules::batch_record> batch;
  std::string expected;
  for (int k = 0; k < 40; ++k) {
    const char* r = records[(k * 7) % std::size(records)];
    batch.push_back({r});
    if (k) expected += '\n';
    expected += rs.evaluate(r, o).to_json();
  }
  EXPECT_EQ(rs.evaluate_text(batch, o).text, expected);
}

}  // namespace
