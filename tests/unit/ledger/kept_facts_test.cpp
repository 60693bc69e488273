// What `ledger record` keeps of a record's facts: taken from the parse that decides the record
// (when that parse reads the text whole, as it is), it is what Boost.JSON's own parse of the
// text gives; anything that parse could not give whole is left to the second reading.
#include "kept_facts.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include "api/evaluate.hpp"
#include "carerules/ruleset.hpp"

namespace carerules::cli {
namespace {

struct answer {
  std::optional<std::string> facts, responsible;
  bool operator==(const answer&) const = default;
};
std::ostream& operator<<(std::ostream& os, const answer& a) {
  return os << "facts " << a.facts.value_or("(none)") << ", responsible "
            << a.responsible.value_or("(none)");
}
answer of(const kept& k) {
  answer a;
  if (k.facts) a.facts = std::string(*k.facts);
  if (k.responsible) a.responsible = std::string(*k.responsible);
  return a;
}

class LedgerKeptFacts : public ::testing::Test {
 protected:
  static constexpr const char* rules = R"(ruleset kept {
  title "kept" version "1"
  input { id : string  d : string  staff.director : string  l : list<string> }
  hazard H "h" { cite "c" when d == "x" rectify deadline within 30 days }
})";
  void SetUp() override {
    auto compiled = compile_source(rules);
    ASSERT_TRUE(compiled.ok()) << compiled.rendered();
    rs_.emplace(std::move(compiled).value());
  }
  // Decides `text` observing its parse; when the parse was observed whole, what was kept
  // equals the parser's reading. Returns whether it was.
  bool agrees(const std::string& text, const std::vector<std::string>& path) {
    facts_keeper keeper(path);
    bool observed = true;
    (void)detail::decide_observing(*rs_, text, eval_options{}, keeper, kept_facts_depth, observed);
    const answer parsed = of(keep_facts_parsed(text, path));
    if (observed) EXPECT_EQ(of(keeper.result()), parsed) << text;
    return observed;
  }
  std::optional<ruleset> rs_;
};

TEST_F(LedgerKeptFacts, PlainRecordsAreKeptFromTheParseThatDecidesThem) {
  const std::vector<std::string> director{"staff", "director"};
  const std::vector<std::string> plain = {
      R"({"id":"S1","l":["H1","H2"]})",
      "  {\"id\" : \"S1\" ,\n \"beds\" : 37 , \"l\" : [ ] }\r\n",
      R"({"id":"FJ-XM-0001","name":"厦门思明永乐社会福利中心","region":{"city":"厦门市"},"beds":37})",
      R"({"staff":{"director":"王芳","night":1},"residents":[{"name":"a\"b\\c\/\n","x":[1,-2.5,true,null,{}]}]})",
      R"({"staff":{"director":42.50}})",
      R"({"staff":{"director":-0}})",
      R"({"staff":{"director":true},"staff":{"director":false}})",
      R"({"staff":{"director":"a"},"staff":{"director":null}})",
      R"({"staff":{"director":"a"},"staff":{"director":[1]}})",
      R"({"staff":{"director":"a"},"staff":{"director":{"x":1}}})",
      R"({"a":{},"b":{"c":{}},"d":[[[]]],"e":0,"f":1.5e3,"g":"\u00e9\ud83d\ude00"})",
      R"({})",
      R"({"a":1,"a":2})",
      "{\"\x7f\":\"\xf0\x9f\x98\x80\"}",
  };
  for (const auto& text : plain) EXPECT_TRUE(agrees(text, director)) << text;
  EXPECT_TRUE(agrees(plain[3], {}));
  facts_keeper keeper(director);
  bool observed = false;
  (void)detail::decide_observing(*rs_, plain[3], eval_options{}, keeper, kept_facts_depth,
                                 observed);
  ASSERT_TRUE(observed);
  EXPECT_EQ(of(keeper.result()), (answer{R"({"staff":{"director":"王芳","night":1}})", "王芳"}));
  keeper.reset();
  (void)detail::decide_observing(*rs_, plain[4], eval_options{}, keeper, kept_facts_depth,
                                 observed);
  ASSERT_TRUE(observed);
  EXPECT_EQ(of(keeper.result()).responsible, "42.5");  // as the reports write numbers
}

TEST_F(LedgerKeptFacts, WhatTheParseCannotGiveWholeIsReadAgain) {
  const std::vector<std::string> path{"d"};
  const std::vector<std::string> other = {
      "{\"d\":\"\xff\"}",           // not UTF-8
      "{\"d\":\"\xed\xa0\x80\"}",   // a surrogate in UTF-8
      "{\"l\":[\"\xc0\xaf\"]}",     // overlong, inside a list
      "{\"\xff\":1}",               // in a key
      R"({"l":["\ud800"]})",        // a lone surrogate escape (patched for the binder)
      R"({"d":1e99999999999})",     // an exponent past the parser's counter
      "\xef\xbb\xbf{\"d\":\"x\"}",  // a byte order mark (a parser refuses it)
      R"({"d":1,})",                // a trailing comma
      R"({"d":1} x)",               // more after the object
      R"({"d":1}{"d":2})",
      R"({"d":1)",
      R"(["d",1])",  // not an object
      "",
  };
  for (const auto& text : other) EXPECT_FALSE(agrees(text, path)) << text;
  std::string deep = "{\"d\":\"x\",\"x\":";  // past the binder's json_depth
  for (int i = 0; i < 200; ++i) deep += "{\"x\":";
  deep += "1" + std::string(201, '}');
  EXPECT_FALSE(agrees(deep, path));
  EXPECT_TRUE(of(keep_facts_parsed(deep, path)).facts);  // (the parser keeps them)
}

// What is kept, spelled out (the two ways share the keeper, so these hold it to its output).
TEST_F(LedgerKeptFacts, WhatIsKeptIsTheRecordWithoutItsLists) {
  struct kept_case {
    const char* text;
    std::vector<std::string> path;
    std::optional<std::string> facts, responsible;
  };
  const std::vector<kept_case> cases = {
      {R"({"id":"S1","l":["a"],"beds":37})", {"beds"}, R"({"id":"S1","beds":37})", "37"},
      {R"({ "a" : { "b" : [ {"c":1} ] , "d" : null } , "e" : -1.50 })",
       {"e"},
       R"({"a":{"d":null},"e":-1.50})",
       "-1.5"},
      {R"({"k":"caf\u00e9 \"x\"\n","t":true})",
       {"t"},
       "{\"k\":\"caf\xc3\xa9 \\\"x\\\"\\n\",\"t\":true}",
       "true"},
      {R"({"a":1,"a":{"b":2}})", {"a"}, R"({"a":1,"a":{"b":2}})", std::nullopt},
      {R"({"a":{"b":"x"},"a":{"b":[]}})", {"a", "b"}, R"({"a":{"b":"x"},"a":{}})", std::nullopt},
      {R"({"l":[],"m":[[1],{"x":[2]}]})", {}, "{}", std::nullopt},
      {R"({"x":{}})", {"x"}, R"({"x":{}})", std::nullopt},
      {R"([{"id":"S1"}])", {}, std::nullopt, std::nullopt},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(of(keep_facts_parsed(c.text, c.path)), (answer{c.facts, c.responsible})) << c.text;
    EXPECT_EQ(agrees(c.text, c.path), c.facts.has_value()) << c.text;
  }
}

// A ruleset whose parse may nest deeper than the parser of the facts kept is not observed: a
// record nested past 1 024 keeps no facts, as when they were read by a parse of their own.
TEST_F(LedgerKeptFacts, ARulesetThatReadsDeeperIsNotObserved) {
  compile_options deep;
  deep.limits.json_depth = 1100;
  auto compiled = compile_source(rules, deep);
  ASSERT_TRUE(compiled.ok()) << compiled.rendered();
  std::string text = "{\"id\":\"D\",\"d\":\"alice\",\"x\":";
  text += std::string(1024, '[') + std::string(1024, ']') + "}";
  facts_keeper keeper({"d"});
  bool observed = true;
  const decisions d = detail::decide_observing(compiled.value(), text, eval_options{}, keeper,
                                               kept_facts_depth, observed);
  EXPECT_TRUE(d.subject);  // the ruleset reads it
  EXPECT_FALSE(observed);
  EXPECT_EQ(of(keep_facts_parsed(text, {"d"})), answer{});  // so nothing is kept, as before
  std::string shallow = "{\"id\":\"D\",\"d\":\"alice\",\"x\":[[]]}";
  keeper.reset();
  (void)detail::decide_observing(compiled.value(), shallow, eval_options{}, keeper,
                                 kept_facts_depth, observed);
  EXPECT_FALSE(observed);  // (by the ruleset's limit, whatever the record)
  keeper.reset();
  (void)detail::decide_observing(*rs_, shallow, eval_options{}, keeper, kept_facts_depth, observed);
  EXPECT_TRUE(observed);
  EXPECT_EQ(of(keeper.result()), (answer{R"({"id":"D","d":"alice"})", "alice"}));
}

// Generated records, and the same cut short or with one byte changed: wherever the parse was
// observed whole, what was kept is the parser's reading, and most plain records are observed.
TEST_F(LedgerKeptFacts, GeneratedRecordsAgreeWithTheParser) {
  std::mt19937 rng(20261206);
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  const std::vector<std::string> keys{"id",   "d",   "staff",     "a",
                                      "名称", "x y", "\\\"q\\\"", "e\\u00e9"};
  const std::vector<std::string> strings{
      "S1",      "", "厦门", "a b", "a\\\"b", "a\\nb", "\\u4e2d", "tab\there", "\xf0\x9f\x98\x80",
      "\xe4\xb8"};
  const std::vector<std::string> numbers{
      "0", "-0", "7", "-12", "1.50", "3.25e2", "01", "1e400", "123456789012345678901234567890"};
  std::function<std::string(int)> value = [&](int depth) -> std::string {
    const int k = depth > 4 ? pick(4) : pick(6);
    if (k == 0) return "\"" + strings[pick(static_cast<int>(strings.size()))] + "\"";
    if (k == 1) return numbers[pick(static_cast<int>(numbers.size()))];
    if (k == 2) return std::vector<std::string>{"true", "false", "null"}[pick(3)];
    if (k == 3) return pick(2) ? "1" : "\"v\"";
    std::string out = k == 4 ? "{" : "[";
    const int n = pick(4);
    for (int i = 0; i < n; ++i) {
      if (i) out += pick(8) ? "," : " , ";
      if (k == 4) out += "\"" + keys[pick(static_cast<int>(keys.size()))] + "\":";
      out += value(depth + 1);
    }
    return out + (k == 4 ? "}" : "]");
  };
  int observed = 0, total = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string doc = "{";
    const int n = 1 + pick(6);
    for (int m = 0; m < n; ++m) {
      if (m) doc += ",";
      doc += "\"" + keys[pick(static_cast<int>(keys.size()))] + "\":" + value(1);
    }
    doc += "}";
    const std::vector<std::string> path =
        pick(2) ? std::vector<std::string>{keys[pick(3)]}
                : std::vector<std::string>{keys[pick(3)], keys[pick(3)]};
    ++total;
    if (agrees(doc, path)) ++observed;
    agrees(doc.substr(0, static_cast<std::size_t>(pick(static_cast<int>(doc.size())))), path);
    std::string changed = doc;
    changed[static_cast<std::size_t>(pick(static_cast<int>(doc.size())))] =
        "{}[]\",: 0-.e\\\x80"[pick(14)];
    agrees(changed, path);
  }
  EXPECT_GT(observed, total / 4);  // the observed path is the one exercised, not only the parser
}

}  // namespace
}  // namespace carerules::cli
