// prepare() from a record's decisions, as `carerules ledger record` calls it per record, packs
// and digests exactly what prepare() of the observations observations_of() builds would.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "carerules/carerules.hpp"
#include "carerules/ledger.hpp"

namespace carerules::ledger {
namespace {

constexpr const char* rules = R"(ruleset prep {
  title "prepare" version "1"
  input { id : string  beds : int  exits : int  risk_in : enum("low", "high") }
  hazard H2 "second" {
    cite "clause 2"
    when beds > 100
    rectify deadline within 30 days
    advice "add a ward"
  }
  hazard H1 "first" {
    when exits < 2
    rectify immediate
  }
  hazard H3 "third" {
    cite "clause 3"
    when beds > 500
  }
  grade risk : color {
    red  when risk_in == "high"
    blue when risk_in == "low"
  }
}
)";

TEST(LedgerPrepare, FromDecisionsIsThePrepareOfTheObservations) {
  const auto compiled = compile_source(rules);
  ASSERT_TRUE(compiled.ok()) << compiled.rendered();
  const ruleset& rs = compiled.value();
  const std::vector<grade_pick> picks{
      {"risk", "red"}, {"risk", "blue"}, {"risk", "red"}, {"nope", "x"}};
  const std::string asof = "2024-03-01";
  eval_options eo;
  eo.asof = asof;
  const char* records[] = {
      R"({"id":"A","beds":120,"exits":1,"risk_in":"high"})",    // present, due dates
      R"({"id":"B","beds":20,"exits":3,"risk_in":"low"})",      // all absent
      R"({"id":"C","beds":600})",                               // undetermined, grade unknown
      R"({"id":"D","beds":"many","exits":1,"risk_in":"low"})",  // an error
  };
  for (const char* text : records) {
    const decisions d = rs.decide(text, eo);
    ASSERT_TRUE(d.subject) << text;
    for (const auto& responsible : {std::optional<std::string>(), std::optional<std::string>("王")})
      for (const auto& facts : {std::optional<std::string>(), std::optional<std::string>("{}")})
        for (const auto& chosen : {std::vector<grade_pick>{}, picks}) {
          const auto slow =
              book::round_writer::prepare(observations_of(rs, d, asof, chosen, responsible, facts));
          auto view = [](const std::optional<std::string>& s) {
            return s ? std::optional<std::string_view>(*s) : std::nullopt;
          };
          const auto fast =
              book::round_writer::prepare(rs, d, asof, chosen, view(responsible), view(facts));
          EXPECT_EQ(fast.packed, slow.packed) << text;
          EXPECT_EQ(fast.digest, slow.digest) << text;
          EXPECT_EQ(fast.items, slow.items) << text;
          EXPECT_EQ(fast.items, 3u + (chosen.empty() ? 0u : 2u)) << text;
        }
  }
}

}  // namespace
}  // namespace carerules::ledger
