// The plain reader (bind_json's fast path) against the event binder: on every text it takes,
// it binds exactly the facts the event binder binds; it gives up on every text the event
// binder finds fault with; and it does take the plain records that make up a batch.
//
// Records are generated from the schemas of the shipped rulesets and of hand-made ones, then
// written plainly, with white space, with escapes, and damaged byte by byte.

#include <gtest/gtest.h>

#include <filesystem>
#include <limits>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "api/access.hpp"
#include "api/evaluate.hpp"
#include "carerules/carerules.hpp"
#include "facts/bind.hpp"
#include "plan/plan.hpp"

namespace carerules::detail {
namespace {

void bind_by_events(const record_schema& s, std::string_view text, const bind_options& o,
                    record_facts& out) {
  bind_json_by_events(s, text, o, out);
}

// The facts as text, every cell and list with its state and value: two bindings are the same
// when these are.
void describe(const record_instance& r, std::string& out) {
  for (const fact_cell& c : r.cells) {
    out += std::to_string(static_cast<int>(c.state)) + ":" +
           std::to_string(static_cast<int>(c.v.kind)) + ":";
    if (c.v.kind == vkind::string) {
      out += '"';
      out += c.v.s();
      out += '"';
    } else {
      out += std::to_string(c.v.i) + "/" + std::to_string(c.v.n);
    }
    out += ' ';
  }
  for (const list_instance& l : r.lists) {
    out += "[" + std::to_string(static_cast<int>(l.state)) + " ";
    for (const record_instance& e : l.records) {
      out += "{";
      describe(e, out);
      out += "}";
    }
    for (const fact_cell& c : l.items) {
      record_instance one;
      one.cells.push_back(c);
      describe(one, out);
    }
    out += "]";
  }
}

std::string describe(const record_facts& f) {
  std::string out = f.subject ? "subject " + *f.subject + "\n" : "no subject\n";
  out += f.unreadable ? "unreadable\n" : "";
  for (const record_error& e : f.errors) out += "error " + e.path + ": " + e.message + "\n";
  describe(f.root, out);
  return out;
}

// ---- generated records ----------------------------------------------------------------

class generator {
 public:
  explicit generator(std::uint32_t seed) : rng_(seed) {}

  // A record for `s`; `faults` lets values of the wrong kind, nulls and unusual texts in.
  std::string record(const record_schema& s, bool faults) {
    faults_ = faults;
    std::string out;
    object(s, 0, out, 0, true);
    return out;
  }

  // The text with white space between its tokens.
  std::string spaced(const std::string& text) {
    std::string out;
    bool in_string = false;
    for (std::size_t i = 0; i < text.size(); ++i) {
      const char c = text[i];
      out.push_back(c);
      if (c == '"' && (i == 0 || text[i - 1] != '\\')) in_string = !in_string;
      if (!in_string && (c == '{' || c == '[' || c == ',' || c == ':'))
        out += pick({" ", "\n  ", "\t", "\r\n"});
    }
    return " " + out + "\n";
  }

  // The text with one byte changed, dropped or added, or cut short.
  std::string damaged(const std::string& text) {
    std::string t = text;
    const std::size_t at = std::uniform_int_distribution<std::size_t>(0, t.size() - 1)(rng_);
    switch (below(5)) {
      case 0:
        t[at] = pick_char();
        break;
      case 1:
        t.erase(at, 1);
        break;
      case 2:
        t.insert(at, 1, pick_char());
        break;
      case 3:
        t.resize(at);
        break;
      default:
        t.insert(at,
                 pick({"\\u00e9", "\\\"", "\xE9", "\xC3\xA9", "1e3", "null", ",", "\"\"", "{}"}));
        break;
    }
    return t;
  }

 private:
  std::size_t below(std::size_t n) {
    return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng_);
  }
  bool chance(int percent) { return below(100) < static_cast<std::size_t>(percent); }
  std::string pick(std::initializer_list<const char*> options) {
    return *(options.begin() + below(options.size()));
  }
  char pick_char() {
    static const char chars[] =
        "{}[]\":,\\ 0-.eEtfn\x01\x80\xFF"
        "a";
    return chars[below(sizeof chars - 1)];
  }

  void object(const record_schema& s, std::uint32_t node, std::string& out, int depth, bool root) {
    out += '{';
    const name_node& n = s.nodes[node];
    std::vector<std::size_t> order(n.ordered.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    if (chance(20)) std::shuffle(order.begin(), order.end(), rng_);
    bool first = true;
    auto key = [&](const std::string& k) {
      if (!first) out += ',';
      first = false;
      out += '"' + k + "\":";
    };
    if (root && n.children.count("id") == 0 && chance(90)) {
      key("id");
      out +=
          chance(80) ? "\"I" + std::to_string(below(100000)) + "\"" : std::to_string(below(1000));
    }
    for (std::size_t i : order) {
      if (chance(10)) continue;  // absent
      const auto& [k, child] = n.ordered[i];
      key(k);
      if (faults_ && chance(4)) {
        out += pick({"null", "true", "\"x\"", "[]", "{}", "12", "-0.5"});
        continue;
      }
      const name_node& c = s.nodes[child];
      if (c.field < 0) {
        object(s, child, out, depth + 1, false);
      } else {
        value(s.fields[static_cast<std::size_t>(c.field)], out, depth);
      }
      if (faults_ && chance(1)) {  // a duplicate
        key(k);
        out += "null";
      }
    }
    if (chance(30)) {  // keys no fact takes
      const std::string k = pick({"name", "名称", "notes", "meta"});
      if (n.children.count(k) == 0) {
        key(k);
        other(out, depth + 1);
      }
    }
    out += '}';
  }

  void other(std::string& out, int depth) {
    // Surrogate pairs and exponents go to the event binder: only with faults.
    if (faults_ && chance(10)) {
      out += pick({"\"\\ud83d\\ude00 ok\"", "1E5", "-2.5e-3", "\"\\udc00\""});
      return;
    }
    switch (below(depth > 3 ? 3 : 5)) {
      case 0:
        out += pick({"\"养老院 1\"", "\"a \\\"quoted\\\" \\u4e2d text\\n\"", "\"plain\"", "\"\""});
        break;
      case 1:
        out += pick({"0", "-1", "3.25", "12345678901234567890", "-0.0"});
        break;
      case 2:
        out += pick({"true", "false", "null"});
        break;
      case 3:
        out += "{\"a\":";
        other(out, depth + 1);
        out += ",\"b\":[1,2,";
        other(out, depth + 1);
        out += "]}";
        break;
      default:
        out += "[";
        other(out, depth + 1);
        out += "]";
        break;
    }
  }

  void scalar(const field_schema& f, std::string& out) {
    if (!f.enum_strings.empty()) {
      out += '"' + f.enum_strings[below(f.enum_strings.size())] + '"';
      return;
    }
    if (!f.enum_numbers.empty()) {
      const std::int64_t v = f.enum_numbers[below(f.enum_numbers.size())];
      out += v % 1'000'000 == 0 ? std::to_string(v / 1'000'000) : std::to_string(v / 1e6);
      return;
    }
    switch (f.type) {
      case scalar_type::bool_:
        out += chance(50) ? "true" : "false";
        break;
      case scalar_type::int_: {
        std::int64_t lo = f.has_range ? f.range_low : -5, hi = f.has_range ? f.range_high : 200;
        if (hi - lo > 1000) hi = lo + 1000;
        out += std::to_string(
            lo + static_cast<std::int64_t>(below(static_cast<std::size_t>(hi - lo + 1))));
        if (faults_ && chance(3)) out += pick({".0", ".5", "0000000000000000000"});
        break;
      }
      case scalar_type::number:
        if (f.has_range) {
          const std::int64_t whole = f.range_high / 1'000'000 - f.range_low / 1'000'000;
          out +=
              std::to_string(f.range_low / 1'000'000 +
                             static_cast<std::int64_t>(below(static_cast<std::size_t>(whole) + 1)));
          if (chance(30) && out.back() != '0' && f.range_high % 1'000'000 == 0) out += ".0";
        } else {
          out += pick({"0", "1", "7.5", "-12", "0.000001", "100.25", "3", "99999", "-0"});
        }
        if (faults_ && chance(5)) out = out + pick({"1234567", "e2", "E-7", "0000000000000000000"});
        break;
      case scalar_type::string:
        out += pick({"\"张三\"", "\"x\"", "\"\"", "\"a b c\"", "\"Ünïcödé 😀\""});
        if (faults_ && chance(5)) out += pick({",\"s\":\"tab\\tin\"", ",\"e\":\"\\u00e9\""});
        break;
      case scalar_type::date:
        out += faults_ && chance(5) ? pick({"\"2024-02-30\"", "\"2024-6-1\"", "20240601"})
                                    : pick({"\"2024-06-01\"", "\"2023-12-31\"", "\"2024-02-29\""});
        break;
      case scalar_type::color:
        out += faults_ && chance(5) ? pick({"\"green\"", "\"Red\""})
                                    : pick({"\"red\"", "\"blue\"", "\"yellow\"", "\"orange\""});
        break;
    }
  }

  void value(const field_schema& f, std::string& out, int depth) {
    if (!f.is_list) {
      scalar(f, out);
      return;
    }
    out += '[';
    const std::size_t n = below(4);
    for (std::size_t i = 0; i < n; ++i) {
      if (i) out += ',';
      if (faults_ && chance(2)) {
        out += "null";
      } else if (f.of_records && f.element && !f.element->nodes.empty()) {
        object(*f.element, 0, out, depth + 1, false);
      } else if (f.of_records) {
        out += "{}";
      } else {
        scalar(f, out);
      }
    }
    out += ']';
  }

  std::mt19937 rng_;
  bool faults_ = false;
};

struct tally {
  std::size_t texts = 0, plain = 0, faulty = 0;
  std::size_t clean() const { return texts - faulty; }
};

// Binds `text` both ways and checks they agree; counts what the fast path took.
void check(const record_schema& s, const bind_options& o, const std::string& text, tally& t) {
  record_facts by_events;
  bind_by_events(s, text, o, by_events);
  record_facts plain;
  const bool took = bind_plain_json(s, text, o, plain);
  ++t.texts;
  if (!by_events.errors.empty() || by_events.unreadable) ++t.faulty;
  if (took) {
    ++t.plain;
    EXPECT_TRUE(by_events.errors.empty() && !by_events.unreadable)
        << "the plain reader took a text the event binder finds fault with:\n"
        << text << "\n"
        << describe(by_events);
    EXPECT_EQ(describe(plain), describe(by_events)) << text;
  }
  // And bind_json itself (fast path, or giving up and reading again) gives the same.
  record_facts whole;
  bind_json(s, text, o, whole);
  EXPECT_EQ(describe(whole), describe(by_events)) << text;
}

std::vector<std::string> shipped_rulesets() {
  std::vector<std::string> out;
  const std::filesystem::path root = std::filesystem::path(CARERULES_SOURCE_DIR_DEFAULT);
  for (const auto& e : std::filesystem::recursive_directory_iterator(root / "rulesets"))
    if (e.path().extension() == ".rules") out.push_back(e.path().string());
  out.push_back((root / "bench/peers/workload.rules").string());
  std::sort(out.begin(), out.end());
  return out;
}

TEST(PlainReader, AgreesWithTheEventBinderOnGeneratedRecords) {
  std::size_t schemas = 0;
  for (const std::string& path : shipped_rulesets()) {
    const auto compiled = compile_file(path);
    if (!compiled.ok()) continue;  // a file that is imported by another, not a ruleset alone
    const program& p = access::program_of(compiled.value());
    const record_schema& s = *p.schema;
    if (s.nodes.empty()) continue;
    ++schemas;
    const bind_options o = bind_opts(p, eval_options{});
    generator g(static_cast<std::uint32_t>(std::hash<std::string>{}(path)));
    tally clean, spaced, faulty, damaged;
    for (int i = 0; i < 300; ++i) {
      const std::string text = g.record(s, false);
      check(s, o, text, clean);
      check(s, o, g.spaced(text), spaced);
      const std::string with_faults = g.record(s, true);
      check(s, o, with_faults, faulty);
      for (int k = 0; k < 3; ++k) check(s, o, g.damaged(with_faults), damaged);
    }
    // The fast path takes plain records: every generated record without a fault, written
    // plainly or with white space (their undeclared parts have no surrogate or exponent).
    EXPECT_EQ(clean.plain, clean.clean()) << path;
    EXPECT_EQ(spaced.plain, spaced.clean()) << path;
    EXPECT_GT(clean.clean() * 10, clean.texts * 8) << path;
    EXPECT_GT(faulty.plain, 0u) << path;
    EXPECT_GT(faulty.faulty, 0u) << path;
    EXPECT_GT(damaged.faulty, 0u) << path;
  }
  EXPECT_GE(schemas, 5u);
}

TEST(PlainReader, GivesUpOnWhatItDoesNotReadItself) {
  const auto compiled = compile_source(R"(ruleset t {
  title "t" version "1"
  input { id : string  n : int  x : number  s : string  d : date  l : list<int>
          r : list { a : int }  o.p : bool }
  hazard H "h" { cite "c" when n > 1 }
})");
  ASSERT_TRUE(compiled.ok()) << compiled.rendered();
  const program& p = access::program_of(compiled.value());
  const bind_options o = bind_opts(p, eval_options{});
  const record_schema& s = *p.schema;
  auto takes = [&](const std::string& text) {
    record_facts f;
    return bind_plain_json(s, text, o, f);
  };
  EXPECT_TRUE(takes(
      R"({"id":"a","n":1,"x":2.5,"s":"张","d":"2024-01-01","l":[1,2],"r":[{"a":1}],"o":{"p":true}})"));
  EXPECT_TRUE(takes(R"( { "other" : [ {"deep": "\"escaped\" \u4e2d"} , 1e5 ] } )"));
  EXPECT_TRUE(takes(R"({"n":null,"l":null,"o":null})"));
  // Texts the event binder reads (or finds fault with) itself.
  for (const char* text : {
           R"({"s":"\n"})",          // an escape in a string a fact takes
           R"({"\u006e":1})",        // an escaped key
           R"({"x":1e2})",           // an exponent
           R"({"n":1,"n":2})",       // a duplicate key
           R"({"q":1,"q":2})",       // a duplicate undeclared key
           R"({"other":"\ud800"})",  // a lone surrogate
           R"({"s":"\xff"})",        // invalid UTF-8
           R"({"n":"1"})",           // a string for an int
           R"({"n":1.5})",           // a fraction for an int
           R"({"l":[1,null]})",      // a null element
           R"({"o":1})",             // a scalar for an object
           R"({"id":true})",         // a subject of the wrong kind
           R"({"n":01})",            // a leading zero
           R"({"n":1,})",            // a trailing comma
           R"({"n":1} x)",           // trailing data
           R"([1])",                 // not an object
           "",
       })
    EXPECT_FALSE(takes(text)) << text;
}

TEST(PlainReader, TakesTheSubjectWhereItsPathLeadsAndNowhereElse) {
  const auto compiled = compile_source(R"(ruleset t {
  title "t" version "1"
  input { id : string  meta.n : int  r : list { code : string } }
  hazard H "h" { cite "c" when meta.n > 1 }
})");
  ASSERT_TRUE(compiled.ok()) << compiled.rendered();
  const program& p = access::program_of(compiled.value());
  const record_schema& s = *p.schema;
  const std::string text =
      R"({"id":"a","meta":{"n":2,"code":"C-7"},"r":[{"code":"no"}],"x":{"y":{"z":12}},"code":5})";
  struct subject_case {
    std::vector<std::string> path;
    std::optional<std::string> subject;  // what both readers give
  };
  const subject_case cases[] = {
      {{"id"}, "a"},                  // a declared input at the root
      {{"meta", "code"}, "C-7"},      // undeclared, inside a declared object
      {{"x", "y", "z"}, "12"},        // three levels of undeclared objects, a number
      {{"code"}, "5"},                // the root's, not the one in meta or in a list element
      {{"meta", "n"}, "2"},           // a declared int
      {{"r", "code"}, std::nullopt},  // inside a list: not the subject
      {{"x", "q"}, std::nullopt},     // a path that is not there
  };
  for (const subject_case& c : cases) {
    bind_options o = bind_opts(p, eval_options{});
    o.subject_path = c.path;
    tally t;
    check(s, o, text, t);
    EXPECT_EQ(t.plain, 1u) << c.path.back();
    record_facts f;
    ASSERT_TRUE(bind_plain_json(s, text, o, f));
    EXPECT_EQ(f.subject, c.subject) << c.path.back();
  }
}

TEST(PlainReader, LimitsAreLeftToTheEventBinder) {
  const auto compiled = compile_source(R"(ruleset t {
  title "t" version "1"
  input { s : string  l : list<int> }
  hazard H "h" { cite "c" when s == "x" }
})");
  ASSERT_TRUE(compiled.ok()) << compiled.rendered();
  const program& p = access::program_of(compiled.value());
  bind_options o = bind_opts(p, eval_options{});
  o.limits.json_string = 4;
  o.limits.list = 2;
  o.limits.json_depth = 3;
  const record_schema& s = *p.schema;
  tally t;
  for (const char* text :
       {R"({"s":"abcd"})", R"({"s":"abcde"})", R"({"l":[1,2]})", R"({"l":[1,2,3]})",
        R"({"a":{"b":1}})", R"({"a":{"b":{"c":1}}})", R"({"abcde":1})"})
    check(s, o, text, t);
  EXPECT_EQ(t.plain, 4u);  // the first, third, fifth... within the limits
}

TEST(PlainReader, AJsonDepthAsLargeAsALimitCanBeSetIsNoLimit) {
  // json_depth + 1 (the nesting the event binder's parser allows) wrapped to 0 at the largest
  // value, and every record read by the event binder was then "nested too deep".
  const auto compiled = compile_source(R"(ruleset t {
  title "t" version "1"
  input { s : string }
  hazard H "h" { cite "c" when s == "x" }
})");
  ASSERT_TRUE(compiled.ok()) << compiled.rendered();
  const program& p = access::program_of(compiled.value());
  bind_options o = bind_opts(p, eval_options{});
  o.limits.json_depth = std::numeric_limits<std::size_t>::max();
  tally t;
  for (const char* text : {"{}", R"({"s":"x"})", R"({"s":"\u0078"})", R"({"a":{"b":[[]]}})"})
    check(*p.schema, o, text, t);
  EXPECT_EQ(t.faulty, 0u);
  EXPECT_EQ(t.plain, 3u);  // all but the escaped string
}

}  // namespace
}  // namespace carerules::detail
