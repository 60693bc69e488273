// The differential check: the reference evaluator (tests/reference, a tree walk over the AST
// written from language.md) and the production engine (checker → plan → evaluator) must
// agree on every declaration's outcome for every golden case, every `test` block of the
// language tests and the shipped rulesets, and a few hundred generated rulesets and records.
#include "../../reference/differential.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <carerules/carerules.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>

#include "../../reference/reference.cpp"  // NOLINT: the reference is a test-only library

namespace fs = std::filesystem;
namespace ref = carerules::reference;
using carerules::differential::compare_record;
using carerules::differential::generator;
using carerules::differential::tally;

namespace {

fs::path source_dir() {
  const char* src = std::getenv("CARERULES_SOURCE_DIR");
  return fs::path(src ? src : CARERULES_SOURCE_DIR_DEFAULT);
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<fs::path> rules_under(const fs::path& dir) {
  std::vector<fs::path> out;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.path().extension() == ".rules") out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

void report_tally(const char* what, const tally& t) {
  std::cout << "[differential] " << what << ": " << t.records << " records, " << t.decisions
            << " outcomes compared, " << t.disagreements.size() << " disagreements\n";
  std::size_t shown = 0;
  for (const auto& d : t.disagreements) {
    if (++shown > 40) break;
    ADD_FAILURE() << d;
  }
}

// ---- golden cases ---------------------------------------------------------------------------

TEST(differential, golden_cases) {
  tally t;
  const fs::path dir = source_dir() / "tests" / "golden";
  for (const auto& rules : rules_under(dir)) {
    fs::path facts = rules;
    facts.replace_extension(".json");
    if (!fs::exists(facts)) continue;
    auto compiled = carerules::compile_file(rules.string());
    ASSERT_TRUE(compiled.ok()) << compiled.rendered();
    ref::loaded_ruleset loaded = ref::load_file(rules);
    ASSERT_TRUE(loaded.error.empty()) << loaded.error;
    compare_record(compiled.value(), loaded, slurp(facts), *ref::parse_iso_date("2024-06-01"),
                   fs::relative(rules, dir).string(), t);
  }
  EXPECT_GT(t.records, 0u);
  report_tally("golden", t);
}

// ---- test blocks of the language tests and shipped rulesets ---------------------------------

void run_test_blocks(const fs::path& root, tally& t, std::size_t& blocks) {
  for (const auto& rules : rules_under(root)) {
    carerules::compile_options copts;
    copts.import_roots.push_back(root.string());
    auto compiled = carerules::compile_file(rules.string(), copts);
    ASSERT_TRUE(compiled.ok()) << rules << "\n" << compiled.rendered();
    ref::loaded_ruleset loaded = ref::load_file(rules);
    ASSERT_TRUE(loaded.error.empty()) << loaded.error;
    const auto& tests = loaded.top().tests;
    const carerules::test_run run = compiled.value().run_tests();
    ASSERT_EQ(run.cases.size(), tests.size()) << rules;
    for (std::size_t k = 0; k < tests.size(); ++k) {
      const auto& test = tests[k];
      if (!test.asof) continue;
      ++blocks;
      const std::string where =
          fs::relative(rules, root.parent_path()).string() + " test \"" + test.name + "\"";
      const std::string given = test.has_given ? test.given : "{}";
      compare_record(compiled.value(), loaded, given, *test.asof, where, t);
      // The block's verdict: every expect, as the reference reads it.
      boost::json::value jv = boost::json::parse(given);
      ref::reference_evaluator ev(loaded, jv, *test.asof);
      const bool mine = ev.test_passes(test);
      ++t.decisions;
      if (mine != run.cases[k].passed) {
        std::string why;
        for (const auto& f : run.cases[k].failures) why += " | " + f;
        for (const auto& e : test.expects)
          if (!ev.expect_holds(e))
            why += " | reference fails expect at line " + std::to_string(e.where.line);
        t.differ(where, "test verdict", run.cases[k].passed ? "pass" : "fail",
                 (mine ? "pass" : "fail") + why);
      }
    }
  }
}

TEST(differential, test_blocks) {
  tally t;
  std::size_t blocks = 0;
  run_test_blocks(source_dir() / "tests" / "lang", t, blocks);
  run_test_blocks(source_dir() / "rulesets", t, blocks);
  EXPECT_GT(blocks, 30u);
  std::cout << "[differential] " << blocks << " test blocks\n";
  report_tally("test blocks", t);
}

// The steps limit set to every count from 0 until the walk no longer reaches it, on every
// test block: the decision code must trip on the same node as the walk (the same declarations
// in error, the same outcomes for the rest).
TEST(differential, steps_limit_trips_alike_in_the_walk_and_the_decision_code) {
  tally t;
  std::size_t runs = 0, tripped = 0;
  for (const auto& root : {source_dir() / "tests" / "lang", source_dir() / "rulesets"})
    for (const auto& rules : rules_under(root)) {
      carerules::compile_options copts;
      copts.import_roots.push_back(root.string());
      auto compiled = carerules::compile_file(rules.string(), copts);
      ASSERT_TRUE(compiled.ok()) << rules << "\n" << compiled.rendered();
      const auto& rs = compiled.value();
      auto p =
          std::make_shared<carerules::detail::program>(carerules::detail::access::program_of(rs));
      for (const auto& test : p->tests) {
        carerules::bound_facts bound = rs.bind_json(test.given.empty() ? "{}" : test.given);
        const auto& facts = carerules::detail::access::facts_of(bound);
        const std::string where =
            fs::relative(rules, root.parent_path()).string() + " test \"" + test.name + "\"";
        for (std::uint64_t k = 0; k <= 20000; ++k) {
          p->limits.steps = k;
          ++runs;
          if (!compare_walk_and_code(*p, facts, test.asof, where + " steps " + std::to_string(k),
                                     t))
            break;
          ++tripped;
        }
      }
    }
  std::cout << "[differential] steps sweep: " << runs << " runs, " << tripped
            << " with the limit reached\n";
  EXPECT_GT(tripped, 1000u);
  report_tally("steps sweep", t);
}

TEST(differential, generated) {
  tally t;
  // A fixed seed; CARERULES_DIFF_SEED and CARERULES_DIFF_COUNT explore further by hand.
  const char* seed = std::getenv("CARERULES_DIFF_SEED");
  const char* count = std::getenv("CARERULES_DIFF_COUNT");
  generator g(seed ? std::strtoull(seed, nullptr, 10) : 20240601u);
  const int n = count ? std::atoi(count) : 400;
  std::size_t rulesets = 0, rejected = 0;
  std::string first_rejection;
  for (int k = 0; k < n; ++k) {
    const std::string text = g.ruleset();
    auto compiled = carerules::compile_source(text);
    if (!compiled.ok()) {
      if (rejected++ == 0) first_rejection = text + "\n" + compiled.rendered();
      if (std::getenv("CARERULES_DIFF_DUMP")) std::cout << "REJECTED\n" << compiled.rendered();
      continue;
    }
    ref::loaded_ruleset loaded = ref::load_text(text);
    ASSERT_TRUE(loaded.error.empty()) << loaded.error;
    ++rulesets;
    for (int rcount = 0; rcount < 4; ++rcount) {
      const std::string facts = g.record();
      const std::int64_t asof = g.asof();
      const std::size_t before = t.disagreements.size();
      compare_record(compiled.value(), loaded, facts, asof,
                     "generated #" + std::to_string(k) + " record " + std::to_string(rcount), t);
      if (t.disagreements.size() > before && std::getenv("CARERULES_DIFF_DUMP"))
        std::cout << "---- generated #" << k << " asof " << ref::format_iso_date(asof) << "\n"
                  << text << facts << "\n";
    }
  }
  std::cout << "[differential] " << rulesets << " generated rulesets compiled, " << rejected
            << " rejected by the checker\n";
  EXPECT_EQ(rejected, 0u) << first_rejection;
  report_tally("generated", t);
}

}  // namespace

namespace {

// For investigating a disagreement by hand:
//   CARERULES_DIFF_RULES=x.rules CARERULES_DIFF_FACTS=x.json CARERULES_DIFF_ASOF=2024-06-01
//   unit_tests --gtest_filter='differential.one_file'
TEST(differential, one_file) {
  const char* rules = std::getenv("CARERULES_DIFF_RULES");
  if (!rules) GTEST_SKIP() << "set CARERULES_DIFF_RULES (and _FACTS, _ASOF) to compare one file";
  const char* facts = std::getenv("CARERULES_DIFF_FACTS");
  const char* asof = std::getenv("CARERULES_DIFF_ASOF");
  auto compiled = carerules::compile_file(rules);
  ASSERT_TRUE(compiled.ok()) << compiled.rendered();
  ref::loaded_ruleset loaded = ref::load_file(rules);
  ASSERT_TRUE(loaded.error.empty()) << loaded.error;
  const std::string text = facts ? slurp(facts) : "{}";
  const std::int64_t day = *ref::parse_iso_date(asof ? asof : "2024-06-01");
  boost::json::value jv = boost::json::parse(text);
  ref::reference_evaluator ev(loaded, jv, day);
  const ref::outcomes mine = ev.run();
  for (const auto& h : mine.hazards)
    std::cout << "reference hazard " << h.id << " " << h.status << "\n";
  for (const auto& l : mine.lets)
    std::cout << "reference let " << l.name << " " << l.status << " " << ref::describe(l.value)
              << "\n";
  for (const auto& g : mine.grades)
    std::cout << "reference grade " << g.name << " " << g.value << "\n";
  tally t;
  compare_record(compiled.value(), loaded, text, day, rules, t);
  report_tally("one file", t);
}

}  // namespace
