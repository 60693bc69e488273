// What the differential test and the differential fuzzer share: comparing the production
// engine with the reference evaluator on one record (every outcome, and the fast paths against
// the report), and a generator of small random rulesets and records, driven by a seed or by
// the fuzzer's bytes.
#pragma once

#include <boost/json.hpp>
#include <carerules/carerules.hpp>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "api/access.hpp"
#include "eval/eval.hpp"
#include "reference.hpp"

namespace carerules::differential {

namespace ref = carerules::reference;

inline ref::rvalue from_report(const carerules::json_value& j) {
  using k = carerules::json_value::kind;
  if (j.type == k::integer) return ref::rvalue::integer_of(j.i);
  if (j.type == k::decimal) return ref::rvalue::number_of(j.i);
  if (j.type == k::boolean) return ref::rvalue::boolean_of(j.b);
  if (j.type == k::string) return ref::rvalue::string_of(j.s);
  return {};
}

inline ref::rvalue from_engine(const carerules::detail::value& v) {
  using carerules::detail::vkind;
  ref::rvalue r;
  switch (v.kind) {
    case vkind::unknown:
      return r;
    case vkind::none:
      r.k = ref::rkind::none;
      return r;
    case vkind::boolean:
      return ref::rvalue::boolean_of(v.i != 0);
    case vkind::integer:
      return ref::rvalue::integer_of(v.i);
    case vkind::number:
      return ref::rvalue::number_of(v.i);
    case vkind::string:
      return ref::rvalue::string_of(std::string(v.s()));
    case vkind::date:
      return ref::rvalue::date_of(v.i);
    case vkind::color:
      return ref::rvalue::color_of(v.i);
    case vkind::level:
      r.k = ref::rkind::level;
      r.i = v.i;
      return r;
    case vkind::list:
      r.k = ref::rkind::list;
      return r;
    case vkind::record:
      r.k = ref::rkind::record;
      return r;
  }
  return r;
}

struct tally {
  std::size_t records = 0, decisions = 0;
  std::vector<std::string> disagreements;
  void differ(const std::string& where, const std::string& what, const std::string& prod,
              const std::string& refv) {
    disagreements.push_back(where + ": " + what + ": production " + prod + ", reference " + refv);
  }
};

// The walk (traced, as reports evaluate) and the decision code (untraced, as decisions and
// CSV rows evaluate) must leave every declaration in the same state: its outcome, its value,
// its error; and the record the same evaluation errors. Returns whether the walk reached the
// steps limit.
inline bool compare_walk_and_code(const carerules::detail::program& p,
                                  const carerules::detail::record_facts& facts, std::int64_t asof,
                                  const std::string& where, tally& t) {
  using carerules::detail::decl_kind;
  using carerules::detail::evaluator;
  evaluator walk(p, facts, asof), code(p, facts, asof);
  code.set_tracing(false);
  walk.run();
  code.run();
  auto text = [](const carerules::detail::decl_state& st) {
    using carerules::detail::outcome;
    using carerules::detail::vkind;
    std::string s = st.status == outcome::known   ? "known "
                    : st.status == outcome::error ? "error "
                                                  : "unknown ";
    if (st.status == outcome::known) {
      s += std::to_string(static_cast<int>(st.v.kind)) + ":";
      if (st.v.kind == vkind::string)
        s += std::string(st.v.s());
      else if (st.v.kind != vkind::list && st.v.kind != vkind::record)
        s += std::to_string(st.v.i);
    }
    return s + st.error;
  };
  const std::pair<decl_kind, std::size_t> kinds[] = {{decl_kind::let, p.lets.size()},
                                                     {decl_kind::hazard, p.hazards.size()},
                                                     {decl_kind::score, p.scores.size()},
                                                     {decl_kind::grade, p.grades.size()}};
  for (const auto& [k, count] : kinds)
    for (std::uint32_t i = 0; i < count; ++i) {
      ++t.decisions;
      const std::string w = text(walk.state(k, i)), c = text(code.state(k, i));
      if (w != c)
        t.differ(where,
                 "decision code, declaration " + std::to_string(static_cast<int>(k)) + "/" +
                     std::to_string(i),
                 c, "walk " + w);
    }
  for (std::uint32_t i = 0; i < p.grades.size(); ++i)
    if (walk.state(decl_kind::grade, i).matched_line !=
        code.state(decl_kind::grade, i).matched_line)
      t.differ(where, "decision code, grade " + p.grades[i].name + " line",
               std::to_string(code.state(decl_kind::grade, i).matched_line),
               "walk " + std::to_string(walk.state(decl_kind::grade, i).matched_line));
  for (std::uint32_t i = 0; i < p.scores.size(); ++i) {
    const auto& w = walk.score(i);
    const auto& c = code.score(i);
    auto score_text = [](const carerules::detail::score_state& s) {
      std::string out = std::to_string(s.total) + (s.provisional ? "?" : "");
      for (std::size_t k = 0; k < s.sections.size(); ++k)
        out += " s" + std::to_string(s.sections[k]) + (s.section_provisional[k] ? "?" : "");
      for (const auto& it : s.items)
        out += " i" + std::to_string(static_cast<int>(it.status)) + ":" + std::to_string(it.points);
      return out;
    };
    ++t.decisions;
    if (score_text(w) != score_text(c))
      t.differ(where, "decision code, score " + p.scores[i].name, score_text(c),
               "walk " + score_text(w));
  }
  // The record's evaluation errors, with their messages, in order.
  auto errors_text = [](const carerules::report& r) {
    std::string out;
    for (const auto& e : r.errors)
      out += e.path.value_or("") + "|" + e.rule.value_or("") + "|" + e.message + "\n";
    return out;
  };
  const std::string walk_errors = errors_text(walk.make_report());
  const std::string code_errors = errors_text(code.make_report());
  if (walk_errors != code_errors)
    t.differ(where, "decision code, errors", code_errors, "walk " + walk_errors);
  bool steps = false;
  for (const auto& [k, count] : kinds)
    for (std::uint32_t i = 0; i < count; ++i)
      steps = steps || walk.state(k, i).error.find("(limit `steps`)") != std::string::npos;
  return steps;
}

// Evaluates one record with both engines and records every outcome that differs.
inline void compare_record(const carerules::ruleset& rs, const ref::loaded_ruleset& loaded,
                           const std::string& facts, std::int64_t asof, const std::string& where,
                           tally& t) {
  ++t.records;
  carerules::eval_options opts;
  opts.asof = ref::format_iso_date(asof);
  const carerules::report prod = rs.evaluate(facts, opts);

  // The fast paths say the same as the report: its JSON written without building it, the
  // same JSON through a batch, and the decisions without any trace.
  const std::string prod_json = prod.to_json();
  if (const std::string fast = rs.evaluate_json(facts, opts); fast != prod_json)
    t.differ(where, "evaluate_json", fast, prod_json);
  const auto text = rs.evaluate_text({{facts, 0, 0, false}}, opts);
  if (text.text != prod_json || text.outputs != 1 ||
      text.with_errors != (prod.errors.empty() ? 0u : 1u))
    t.differ(where, "evaluate_text", text.text, prod_json);
  const carerules::decisions d = rs.decide(facts, opts);
  if (d.errors != prod.errors.size() || d.subject != prod.subject ||
      d.hazards.size() != (prod.unreadable ? 0 : prod.hazards.size()) ||
      d.grades.size() != (prod.unreadable ? 0 : prod.grades.size()))
    t.differ(where, "decide", std::to_string(d.errors), std::to_string(prod.errors.size()));
  else if (!prod.unreadable) {
    for (std::size_t i = 0; i < d.hazards.size(); ++i)
      if (d.hazards[i] != prod.hazards[i].status)
        t.differ(where, "decide hazard " + prod.hazards[i].id,
                 std::string(carerules::to_string(d.hazards[i])),
                 std::string(carerules::to_string(prod.hazards[i].status)));
    for (std::size_t i = 0; i < d.grades.size(); ++i)
      if (d.grades[i] != prod.grades[i].value())
        t.differ(where, "decide grade " + prod.grades[i].name, std::string(d.grades[i]),
                 std::string(prod.grades[i].value()));
  }

  boost::system::error_code ec;
  boost::json::value jv = boost::json::parse(facts, ec);
  if (ec || !jv.is_object()) return;  // unreadable records are the binder's business
  ref::reference_evaluator ev(loaded, jv, asof);
  const ref::outcomes mine = ev.run();

  if (prod.hazards.size() != mine.hazards.size()) {
    t.differ(where, "hazard count", std::to_string(prod.hazards.size()),
             std::to_string(mine.hazards.size()));
  } else {
    for (std::size_t i = 0; i < mine.hazards.size(); ++i) {
      ++t.decisions;
      const auto& p = prod.hazards[i];
      const auto& m = mine.hazards[i];
      const std::string ps(carerules::to_string(p.status));
      if (p.id != m.id || ps != m.status)
        t.differ(where, "hazard " + m.id, p.id + " " + ps, m.id + " " + m.status);
    }
  }

  if (prod.grades.size() != mine.grades.size()) {
    t.differ(where, "grade count", std::to_string(prod.grades.size()),
             std::to_string(mine.grades.size()));
  } else {
    for (std::size_t i = 0; i < mine.grades.size(); ++i) {
      ++t.decisions;
      const std::string pv(prod.grades[i].value());
      if (prod.grades[i].name != mine.grades[i].name || pv != mine.grades[i].value)
        t.differ(where, "grade " + mine.grades[i].name, pv, mine.grades[i].value);
    }
  }

  if (prod.scores.size() != mine.scores.size()) {
    t.differ(where, "score count", std::to_string(prod.scores.size()),
             std::to_string(mine.scores.size()));
  } else {
    for (std::size_t i = 0; i < mine.scores.size(); ++i) {
      const auto& p = prod.scores[i];
      const auto& m = mine.scores[i];
      const std::string s = "score " + m.name;
      ++t.decisions;
      if (p.provisional != m.provisional)
        t.differ(where, s + " provisional", p.provisional ? "yes" : "no",
                 m.provisional ? "yes" : "no");
      if (!ref::same_value(from_report(p.total), m.total))
        t.differ(where, s + " total", p.total.to_json(), ref::describe(m.total));
      for (std::size_t k = 0; k < m.sections.size() && k < p.sections.size(); ++k) {
        ++t.decisions;
        if (!ref::same_value(from_report(p.sections[k].second), m.sections[k].second))
          t.differ(where, s + " section " + m.sections[k].first, p.sections[k].second.to_json(),
                   ref::describe(m.sections[k].second));
      }
      for (std::size_t k = 0; k < m.items.size() && k < p.items.size(); ++k) {
        ++t.decisions;
        const auto& pi = p.items[k];
        const auto& mi = m.items[k];
        const std::string ps(carerules::to_string(pi.status));
        if (ps != mi.status || !ref::same_value(from_report(pi.points), mi.points))
          t.differ(where, s + " item " + mi.id, ps + " " + pi.points.to_json(),
                   mi.status + " " + ref::describe(mi.points));
      }
    }
  }

  // Lets are not in the report: read them from the production evaluator's states.
  carerules::bound_facts bound = rs.bind_json(facts, opts);
  carerules::detail::evaluator pe(carerules::detail::access::program_of(rs),
                                  carerules::detail::access::facts_of(bound), asof);
  pe.run();
  compare_walk_and_code(carerules::detail::access::program_of(rs),
                        carerules::detail::access::facts_of(bound), asof, where, t);
  const auto& lets = carerules::detail::access::program_of(rs).lets;
  for (const auto& m : mine.lets) {
    std::size_t i = 0;
    while (i < lets.size() && lets[i].name != m.name) ++i;
    if (i == lets.size()) {
      t.differ(where, "let " + m.name, "(absent)", m.status);
      continue;
    }
    ++t.decisions;
    const auto& st = pe.state(carerules::detail::decl_kind::let, static_cast<std::uint32_t>(i));
    using carerules::detail::outcome;
    const std::string ps = st.status == outcome::known   ? "known"
                           : st.status == outcome::error ? "error"
                                                         : "unknown";
    const ref::rvalue pv = from_engine(st.v);
    const bool values_differ = ps == "known" && m.status == "known" && pv.k != ref::rkind::list &&
                               pv.k != ref::rkind::record && !ref::same_value(pv, m.value);
    if (ps != m.status || values_differ)
      t.differ(where, "let " + m.name, ps + " " + ref::describe(pv),
               m.status + " " + ref::describe(m.value));
  }
}

// ---- generated rulesets and records ---------------------------------------------------------

// Small random rulesets over one fixed input schema: lets, two hazards, a score and two
// grades whose expressions are drawn at random (fully parenthesised, so precedence is the
// parser's business, not this test's), evaluated over random records in which each fact is
// present, absent, null or wrong.
class generator {
 public:
  explicit generator(std::uint64_t seed) : rng_(seed) {}
  // Every choice read from `bytes` (then zeros once they run out), so that a fuzzer's
  // mutations steer the ruleset and records it makes.
  explicit generator(std::string_view bytes) : bytes_(bytes), from_bytes_(true) {}

  enum class ty { b, i, n, s, d, c };

  std::string ruleset();
  std::string record();
  std::int64_t asof() { return *ref::parse_iso_date("2024-06-01") + pick(-400, 400); }

 private:
  struct reach {
    std::vector<std::pair<std::string, ty>> lets;
    std::vector<std::string> present;  // hazards present() may ask about
    bool hazards = false, score = false, grade_gr = false, grade_lv = false;
    std::string var;  // bound aggregate variable: "r" (rs) or "z" (xs), "" outside
  };

  std::int64_t pick(std::int64_t lo, std::int64_t hi) {
    return lo + static_cast<std::int64_t>(next() % static_cast<std::uint64_t>(hi - lo + 1));
  }
  bool chance(int percent) { return pick(1, 100) <= percent; }
  template <class T>
  const T& one(const std::vector<T>& xs) {
    return xs[static_cast<std::size_t>(pick(0, static_cast<std::int64_t>(xs.size()) - 1))];
  }

  std::string int_lit() {
    if (chance(4))
      return one<std::string>({"9223372036854775807", "4611686018427387904", "3037000500"});
    if (chance(8)) return "0";
    std::int64_t v = pick(-20, 20);
    return v < 0 ? "(" + std::to_string(v) + ")" : std::to_string(v);
  }
  std::string num_lit() {
    if (chance(5)) return one<std::string>({"9000000000000.5", "0.000001", "0.0000005", "0.5"});
    std::string s = std::to_string(pick(0, 40)) + "." + std::to_string(pick(0, 999));
    if (chance(30)) s = one<std::string>({"2.5", "0.1", "0.333333", "1.000001", "12.75"});
    return chance(25) ? "(-" + s + ")" : s;
  }

  std::string lets_of(ty t, const reach& r) {
    std::vector<std::string> names;
    for (const auto& [n, lt] : r.lets)
      if (lt == t) names.push_back(n);
    return names.empty() ? "" : one(names);
  }

  std::string cmp_op(bool ordered) {
    return ordered ? one<std::string>({"==", "!=", "<", "<=", ">", ">="})
                   : one<std::string>({"==", "!="});
  }

  std::string agg_rs(const std::string& kind, const reach& r, int depth) {
    reach in = r;
    in.var = "r";
    const bool needs_where = kind == "any" || kind == "all";
    std::string where = needs_where || chance(70) ? " where " + gen(ty::b, depth - 1, in) : "";
    return kind + "(r in rs" + where;
  }

  std::string gen(ty t, int depth, const reach& r);
  std::string leaf(ty t, const reach& r);

  std::uint64_t next() {
    if (!from_bytes_) return rng_();
    std::uint64_t v = 0;
    for (int k = 0; k < 2; ++k)
      v = (v << 8) | (pos_ < bytes_.size() ? static_cast<unsigned char>(bytes_[pos_++]) : 0u);
    return v;
  }

  std::mt19937_64 rng_;
  std::string_view bytes_;
  std::size_t pos_ = 0;
  bool from_bytes_ = false;
};

inline std::string generator::leaf(ty t, const reach& r) {
  const std::string let = lets_of(t, r);
  if (!let.empty() && chance(25)) return let;
  switch (t) {
    case ty::b:
      if (r.var == "r" && chance(40)) return "r.f";
      return one<std::string>({"true", "false", "p", "q", "p", "q"});
    case ty::i:
      if (r.var == "r" && chance(40)) return "r.v";
      if (r.var == "z" && chance(40)) return "z";
      return chance(50) ? int_lit() : one<std::string>({"a", "b", "k", "a", "b"});
    case ty::n:
      if (r.var == "r" && chance(40)) return "r.w";
      return chance(40) ? num_lit() : one<std::string>({"x", "y", "n", "x"});
    case ty::s:
      if (r.var == "r" && chance(40)) return "r.g";
      return one<std::string>({"s", "t", "s", "\"A\"", "\"ab\"", "\"\"", "\"é\"", "\"B\""});
    case ty::d:
      return one<std::string>({"d", "d", "asof", "@2024-02-29", "@1990-01-01", "@9999-12-30"});
    case ty::c:
      return one<std::string>({"c", "c", "blue", "yellow", "orange", "red"});
  }
  return "?";
}

inline std::string generator::gen(ty t, int depth, const reach& r) {
  if (depth <= 0 || chance(25)) return leaf(t, r);
  const int d = depth - 1;
  auto G = [&](ty u) { return gen(u, d, r); };
  const bool outer = r.var.empty();
  if (chance(6)) return "(" + G(t) + " ?? " + G(t) + ")";
  if (chance(6)) return "(if " + G(ty::b) + " then " + G(t) + " else " + G(t) + ")";
  switch (t) {
    case ty::b:
      switch (pick(0, 21)) {
        case 0:
          return "(not " + G(ty::b) + ")";
        case 1:
        case 2:
          return "(" + G(ty::b) + " and " + G(ty::b) + ")";
        case 3:
        case 4:
          return "(" + G(ty::b) + " or " + G(ty::b) + ")";
        case 5:
          return "(" + G(ty::i) + " " + cmp_op(true) + " " + G(ty::i) + ")";
        case 6:
          return "(" + G(ty::n) + " " + cmp_op(true) + " " + G(ty::i) + ")";
        case 7:
          return "(" + G(ty::s) + " " + cmp_op(true) + " " + G(ty::s) + ")";
        case 8:
          return "(" + G(ty::d) + " " + cmp_op(true) + " " + G(ty::d) + ")";
        case 9:
          return "(" + G(ty::c) + " " + cmp_op(true) + " " + G(ty::c) + ")";
        case 10:
          return "(" + G(ty::s) + one<std::string>({" in ", " not in "}) + "[\"A\", " + G(ty::s) +
                 "])";
        case 11:
          return "(" + G(ty::i) + one<std::string>({" in ", " not in "}) + "xs)";
        case 12:
          return "(" + G(ty::s) + " in ss)";
        case 13:
          return one<std::string>(
              {"exists(a)", "missing(x)", "exists(rs)", "missing(q)", "exists(k)"});
        case 14:
          if (r.var == "r") return one<std::string>({"exists(r.v)", "missing(r.f)"});
          if (outer) return agg_rs(one<std::string>({"any", "all"}), r, depth) + ")";
          break;
        case 15:
          return "starts_with(" + G(ty::s) + ", " + one<std::string>({"\"a\"", "\"\"", "\"A\""}) +
                 ")";
        case 16:
          if (!r.present.empty()) return "present(" + one(r.present) + ")";
          break;
        case 17:
          if (r.hazards && outer)
            return one<std::string>({"any(h in hazards where h.severity == \"major\")",
                                     "all(h in hazards where h.id != \"H1\")",
                                     "any(h in hazards where h.status == \"present\")"});
          break;
        case 18:
          if (r.grade_gr) return "(gr " + cmp_op(true) + " " + G(ty::c) + ")";
          break;
        case 19:
          if (r.grade_lv)
            return one<std::string>(
                {"(lv >= \"L2\")", "(lv == none)", "(lv != \"L1\")", "(lv < \"L3\")"});
          break;
        case 20:
          if (r.var != "z") {
            reach in = r;
            in.var = "z";
            return one<std::string>({"any", "all"}) + "(z in xs where (z " + cmp_op(true) + " " +
                   gen(ty::i, d, in) + "))";
          }
          break;
        default:
          break;
      }
      return "(" + G(ty::i) + " " + cmp_op(true) + " " + G(ty::n) + ")";
    case ty::i:
      switch (pick(0, 20)) {
        case 0:
        case 1:
        case 2:
          return "(" + G(ty::i) + one<std::string>({" + ", " - ", " * "}) + G(ty::i) + ")";
        case 3:
          return "(" + G(ty::i) + " % " + G(ty::i) + ")";
        case 4:
          return "(-" + G(ty::i) + ")";
        case 5:
          return one<std::string>({"round(", "floor(", "ceil("}) + G(ty::n) + ")";
        case 6:
          return "abs(" + G(ty::i) + ")";
        case 7:
          return one<std::string>({"min(", "max("}) + G(ty::i) + ", " + G(ty::i) + ")";
        case 8:
          return one<std::string>({"len(s)", "len(xs)", "len(rs)", "len(ss)"});
        case 9:
          if (outer) return agg_rs("count", r, depth) + ")";
          break;
        case 10:
          if (outer) {
            reach in = r;
            in.var = "r";
            return agg_rs(one<std::string>({"sum", "min", "max"}), r, depth) + ": " +
                   gen(ty::i, d, in) + ")";
          }
          break;
        case 11:
          if (outer) {
            reach in = r;
            in.var = "z";
            const std::string kind = one<std::string>({"sum", "min", "max", "count"});
            return kind + "(z in xs where " + gen(ty::b, d, in) +
                   (kind == "count" ? "" : ": " + gen(ty::i, d, in)) + ")";
          }
          break;
        case 12:
          return "(" + G(ty::d) + " - " + G(ty::d) + ")";
        case 13:
          return "days_since(" + G(ty::d) + ")";
        case 14:
          return "year(" + G(ty::d) + ")";
        case 15:
          return "years_between(" + G(ty::d) + ", " + G(ty::d) + ")";
        case 16:
          if (chance(50)) return "tm(" + G(ty::i) + ", " + G(ty::s) + ")";
          return "tb(" + G(ty::i) + ")";
        case 17:
          if (r.hazards && outer)
            return one<std::string>({"count(h in hazards where h.severity == \"major\")",
                                     "len(hazards)", "count(h in hazards)",
                                     "sum(h in hazards where h.id != \"H0\": 2)"});
          break;
        default:
          break;
      }
      return "(" + G(ty::i) + " + " + G(ty::i) + ")";
    case ty::n:
      switch (pick(0, 14)) {
        case 0:
        case 1:
          return "(" + G(ty::n) + one<std::string>({" + ", " - ", " * ", " / "}) + G(ty::n) + ")";
        case 2:
        case 3:
          return "(" + G(ty::n) + one<std::string>({" + ", " - ", " * ", " / "}) + G(ty::i) + ")";
        case 4:
          return "(" + G(ty::i) + " / " + G(ty::i) + ")";
        case 5:
          return "(-" + G(ty::n) + ")";
        case 6:
          return "abs(" + G(ty::n) + ")";
        case 7:
          return "round(" + G(ty::n) + ", " + std::to_string(pick(0, 4)) + ")";
        case 8:
          return one<std::string>({"min(", "max("}) + G(ty::n) + ", " + G(ty::n) + ")";
        case 9:
          if (outer) {
            reach in = r;
            in.var = "r";
            return agg_rs(one<std::string>({"avg", "sum", "min", "max"}), r, depth) + ": " +
                   gen(ty::n, d, in) + ")";
          }
          break;
        case 10:
          if (r.score) return one<std::string>({"sc", "sc.s1", "sc.s2"});
          break;
        case 11:
          if (outer) return "avg(z in xs: z)";
          break;
        default:
          break;
      }
      return "(" + G(ty::i) + " * " + G(ty::n) + ")";
    case ty::s:
      return leaf(t, r);
    case ty::d:
      switch (pick(0, 2)) {
        case 0:
          return "(" + G(ty::d) + " + " + G(ty::i) + ")";
        case 1:
          return "(" + G(ty::d) + " - " + G(ty::i) + ")";
        default:
          return leaf(t, r);
      }
    case ty::c:
      switch (pick(0, 4)) {
        case 0:
          return one<std::string>({"max(", "min("}) + G(ty::c) + ", " + G(ty::c) + ")";
        case 1:
          return one<std::string>({"max(", "min("}) + G(ty::c) + ", " + G(ty::c) + ", " + G(ty::c) +
                 ")";
        case 2:
          return "tc(" + G(ty::n) + ")";
        case 3:
          if (r.grade_gr) return "gr";
          break;
        default:
          break;
      }
      return leaf(t, r);
  }
  return leaf(t, r);
}

inline std::string generator::ruleset() {
  std::string out =
      "ruleset fuzz {\n  title \"fuzz\"\n  version \"1\"\n"
      "  input {\n    a : int\n    b : int in -50..50\n    k : int = 3\n    x : number\n"
      "    y : number = 1.5\n    p : bool\n    q : bool = false\n    s : string\n"
      "    t : enum(\"A\", \"B\", \"C\")\n    d : date\n    c : color\n    n : enum(1, 2.5, 4)\n"
      "    xs : list<int>\n    ss : list<string>\n"
      "    rs : list {\n      v : int\n      w : number in 0..100\n      f : bool = false\n"
      "      g : string\n    }\n  }\n"
      "  table tb(v: int) -> int {\n    | v | => |\n    | < 0 | -1 |\n    | 0..5 | 1 |\n"
      "    | in [7, 9] | 2 |\n    | != 100 | 3 |\n  }\n"
      "  table tm(u: int, w: string) -> int {\n    | u | w | => |\n    | >= 10 | \"A\" | 1 |\n"
      "    | - | in [\"A\", \"ab\"] | 2 |\n    | 0..9 | - | 3 |\n    | - | - | 4 |\n  }\n"
      "  table tc(m: number) -> color {\n    when m >= 10 => red\n    when m >= 5 => orange\n"
      "    when m > 0 => yellow\n    otherwise => blue\n  }\n";
  const ty types[] = {ty::b, ty::i, ty::n, ty::s, ty::d, ty::c};
  reach r;
  // Tier 0: lets over the facts.
  for (int k = 0; k < 4; ++k) {
    const ty t = types[pick(0, 5)];
    out += "  let L" + std::to_string(k) + " = " + gen(t, 4, r) + "\n";
    r.lets.emplace_back("L" + std::to_string(k), t);
  }
  // Hazards may read tier-0 lets; H1 may ask whether H0 is present.
  out += "  hazard H0 \"h0\" {\n    cite \"c\"\n    when " + gen(ty::b, 4, r) + "\n  }\n";
  r.present = {"H0"};
  out += "  hazard H1 \"h1\" {\n    cite \"c\"\n    severity general\n    when " +
         gen(ty::b, 4, r) + "\n  }\n";
  r.present = {"H0", "H1"};
  auto points = [&] {
    switch (pick(0, 3)) {
      case 0:
        return std::string(chance(50) ? "2.5" : "4");
      case 1:
        return "(" + gen(ty::i, 3, r) + ")";
      default:
        return "(" + gen(ty::n, 3, r) + ")";
    }
  };
  auto when = [&] { return chance(70) ? " when " + gen(ty::b, 3, r) : std::string(); };
  out += "  score sc" + std::string(chance(60) ? " max 50" : "") + " {\n";
  out += "    section s1" + std::string(chance(60) ? " max 20" : "") + " {\n";
  out += "      item I1 \"i1\" " + points() + when() + "\n";
  out += "      item I2 \"i2\" " + points() + when() + "\n";
  out += "      deduct I3 \"i3\" " + points() + when() + "\n    }\n";
  out += "    section s2 max 30.5 {\n      item I4 \"i4\" " + points() + when() + "\n    }\n";
  out += "    item I5 \"i5\" " + points() + when() + "\n";
  out += "    deduct I6 \"i6\" " + points() + when() + "\n  }\n";
  r.score = true;
  r.hazards = true;
  out += "  grade gr : color {\n";
  for (const char* c : {"red", "orange", "yellow"})
    if (chance(80)) out += "    " + std::string(c) + " when " + gen(ty::b, 3, r) + "\n";
  if (chance(80)) out += "    blue otherwise\n";
  out += "  }\n";
  r.grade_gr = true;
  out += "  grade lv : levels(\"L1\", \"L2\", \"L3\") {\n";
  if (chance(60)) out += "    none when " + gen(ty::b, 3, r) + "\n";
  for (const char* l : {"L3", "L2"})
    if (chance(80)) out += "    \"" + std::string(l) + "\" when " + gen(ty::b, 3, r) + "\n";
  if (chance(80)) out += std::string("    ") + (chance(50) ? "\"L1\"" : "none") + " otherwise\n";
  out += "  }\n";
  r.grade_lv = true;
  // Tier 4: lets over everything.
  for (int k = 4; k < 9; ++k) {
    const ty t = types[pick(0, 5)];
    out += "  let L" + std::to_string(k) + " = " + gen(t, 4, r) + "\n";
    r.lets.emplace_back("L" + std::to_string(k), t);
  }
  out += "}\n";
  return out;
}

inline std::string generator::record() {
  std::vector<std::string> kv;
  auto add = [&](const std::string& key, const std::string& valid, const std::string& wrong) {
    const std::int64_t roll = pick(1, 100);
    if (roll <= 25) return;  // absent
    if (roll <= 30)
      kv.push_back("\"" + key + "\": null");
    else if (roll <= 38)
      kv.push_back("\"" + key + "\": " + wrong);
    else
      kv.push_back("\"" + key + "\": " + valid);
  };
  auto json_int = [&] {
    if (chance(4)) return std::string("9223372036854775807");
    if (chance(4)) return std::string("1e2");
    if (chance(4)) return std::string("7.0");
    return std::to_string(pick(-20, 20));
  };
  auto json_num = [&] {
    if (chance(5)) return std::string("0.1234565");
    if (chance(5)) return std::string("-2.0000005");
    if (chance(3)) return std::string("1e-7");
    if (chance(3)) return std::string("9300000000000");
    std::string s = std::to_string(pick(-30, 30)) + "." + std::to_string(pick(0, 99));
    return s;
  };
  auto date = [&] {
    std::int64_t day = *ref::parse_iso_date("2024-06-01") + pick(-30000, 3000);
    if (chance(5)) day = *ref::parse_iso_date("2000-02-29");
    return "\"" + ref::format_iso_date(day) + "\"";
  };
  add("a", json_int(), one<std::string>({"\"3\"", "1.5", "true"}));
  add("b", std::to_string(pick(-50, 50)), one<std::string>({"51", "-51", "\"x\""}));
  add("k", json_int(), "[]");
  add("x", json_num(), one<std::string>({"\"1\"", "false", "1e300"}));
  add("y", json_num(), "{}");
  add("p", chance(50) ? "true" : "false", one<std::string>({"1", "\"true\""}));
  add("q", chance(50) ? "true" : "false", "0");
  add("s", one<std::string>({"\"ab\"", "\"A\"", "\"abc\"", "\"\"", "\"é\"", "\"B\"", "\"z\""}),
      "5");
  add("t", one<std::string>({"\"A\"", "\"B\"", "\"C\""}),
      one<std::string>({"\"D\"", "\"a\"", "1"}));
  add("d", date(), one<std::string>({"\"2024-02-30\"", "\"2024-6-1\"", "20240601"}));
  add("c", one<std::string>({"\"blue\"", "\"yellow\"", "\"orange\"", "\"red\""}),
      one<std::string>({"\"Red\"", "\"purple\"", "3"}));
  add("n", one<std::string>({"1", "2.5", "4", "4.0", "2.50"}),
      one<std::string>({"3", "2.4", "\"1\""}));
  auto list_of = [&](auto element, const std::string& bad) {
    std::string s = "[";
    const std::int64_t len = pick(0, 4);
    for (std::int64_t e = 0; e < len; ++e) {
      if (e) s += ", ";
      s += chance(4) ? bad : element();
    }
    return s + "]";
  };
  add("xs", list_of([&] { return std::to_string(pick(-5, 12)); }, "null"), "3");
  add("ss", list_of([&] { return one<std::string>({"\"A\"", "\"ab\"", "\"\""}); }, "7"), "\"A\"");
  auto rec = [&] {
    std::vector<std::string> f;
    if (chance(80))
      f.push_back("\"v\": " + (chance(90) ? std::to_string(pick(-5, 12)) : std::string("\"v\"")));
    if (chance(80))
      f.push_back("\"w\": " +
                  (chance(90) ? std::to_string(pick(0, 120)) + ".5" : std::string("-1")));
    if (chance(70)) f.push_back(std::string("\"f\": ") + (chance(50) ? "true" : "false"));
    if (chance(70)) f.push_back("\"g\": " + one<std::string>({"\"A\"", "\"ab\"", "\"x\""}));
    std::string s = "{";
    for (std::size_t i = 0; i < f.size(); ++i) s += (i ? ", " : "") + f[i];
    return s + "}";
  };
  add("rs", list_of(rec, one<std::string>({"null", "3"})), "{}");
  std::string out = "{";
  for (std::size_t i = 0; i < kv.size(); ++i) out += (i ? ", " : "") + kv[i];
  return out + "}";
}

}  // namespace carerules::differential
