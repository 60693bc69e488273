// `carerules explain`: one declaration's condition, each value it read, and its outcome, as
// readable text.
#include <algorithm>

#include "api/evaluate.hpp"
#include "carerules/ruleset.hpp"
#include "eval/eval.hpp"

namespace carerules {

using detail::asof_days;
using detail::bind_opts;

// ---- explain --------------------------------------------------------------------------------

std::optional<std::string> ruleset::explain(std::string_view facts_json, std::string_view rule,
                                            const eval_options& options) const {
  asof_days(options);  // a bad date is refused before binding
  return explain(bind_json(facts_json, options), rule, options);
}

std::optional<std::string> ruleset::explain(const bound_facts& bound, std::string_view rule,
                                            const eval_options& options) const {
  const detail::program& p = *program_;
  std::int64_t asof = asof_days(options);
  detail::evaluator ev(p, *bound.facts_, asof);
  ev.run();  // an unreadable record has every fact absent: the outcome says what is missing
  report rep = ev.make_report();
  std::string out;
  auto trace_lines = [&](const detail::trace& tr, bool with_missing) {
    for (const auto& r : tr.reads())
      out += "  read    " + ev.path_of(r) + " = " + ev.to_json(r.v).to_json() + "\n";
    std::vector<std::pair<int, std::uint32_t>> used;
    for (const auto& u : ev.expand_uses(tr)) {
      std::pair<int, std::uint32_t> key{static_cast<int>(u.kind), u.index};
      if (std::find(used.begin(), used.end(), key) != used.end()) continue;
      used.push_back(key);
      const auto& st = ev.state(u.kind, u.index);
      switch (u.kind) {
        case detail::decl_kind::let:
          out += "  uses    " + p.lets[u.index].name + " = " +
                 (st.status == detail::outcome::error ? std::string("error") : ev.display(st.v)) +
                 "\n";
          break;
        case detail::decl_kind::hazard:
          out += "  uses    hazard " + p.hazards[u.index].id + " (" +
                 (p.hazards[u.index].major ? "major" : "general") +
                 "): " + std::string(to_string(rep.hazards[u.index].status)) + "\n";
          break;
        case detail::decl_kind::score:
          out += "  uses    score " + p.scores[u.index].name + " = " +
                 rep.scores[u.index].total.to_json() +
                 (rep.scores[u.index].provisional ? " (provisional)" : "") + "\n";
          break;
        case detail::decl_kind::grade:
          out += "  uses    grade " + p.grades[u.index].name + " = " +
                 std::string(rep.grades[u.index].value()) + "\n";
          break;
      }
    }
    if (with_missing) {
      for (const auto& r : tr.missing()) out += "  missing " + ev.path_of(r) + "\n";
    }
  };
  for (std::size_t i = 0; i < p.hazards.size(); ++i) {
    if (p.hazards[i].id != rule) continue;
    const auto& h = p.hazards[i];
    out += "hazard " + h.id + " \"" + h.title + "\"\n";
    if (h.cite) out += "  cite    " + *h.cite + "\n";
    out += "  when    " + h.condition_text + "\n";
    trace_lines(ev.state(detail::decl_kind::hazard, static_cast<std::uint32_t>(i)).tr, true);
    out += "  outcome " + std::string(to_string(rep.hazards[i].status));
    if (rep.hazards[i].status == hazard_status::present) out += " (rectify: " + h.action + ")";
    out += "\n";
    return out;
  }
  for (std::size_t i = 0; i < p.grades.size(); ++i) {
    if (p.grades[i].name != rule) continue;
    const auto& st = ev.state(detail::decl_kind::grade, static_cast<std::uint32_t>(i));
    out += "grade " + p.grades[i].name + "\n";
    for (const auto& line : p.grades[i].lines) out += "  line    " + line.because + "\n";
    trace_lines(st.tr, true);
    out += "  outcome " + std::string(rep.grades[i].value());
    if (rep.grades[i].because) out += "\n  because " + *rep.grades[i].because;
    out += "\n";
    return out;
  }
  for (std::size_t i = 0; i < p.scores.size(); ++i) {
    const auto& s = rep.scores[i];
    bool whole = p.scores[i].name == rule;
    for (std::size_t k = 0; k < s.items.size(); ++k) {
      if (!whole && s.items[k].id != rule) continue;
      if (!whole) {
        const detail::item_plan& it = p.scores[i].items[k];
        out += std::string(it.deduct ? "deduct " : "item ") + s.items[k].id + " \"" + it.label +
               "\" in score " + p.scores[i].name + "\n";
        if (!it.condition_text.empty()) out += "  when    " + it.condition_text + "\n";
        out += "  points  " + it.points_text + "\n";
        // Re-evaluate the condition, then the points if it held, tracing what they read.
        detail::trace tr;
        std::string err;
        bool go = true;
        if (it.when != detail::none_index) {
          auto c = ev.eval_traced(it.when, tr, err);
          go = c && c->kind == detail::vkind::boolean && c->i != 0;
        }
        if (go) ev.eval_traced(it.points, tr, err);
        trace_lines(tr, true);
        out += "  outcome " + std::string(to_string(s.items[k].status)) + ", points " +
               s.items[k].points.to_json() + "\n";
        return out;
      }
    }
    if (whole) {
      out += "score " + s.name + "\n";
      for (const auto& it : s.items)
        out += "  " + std::string(to_string(it.kind)) + " " + it.id + ": " +
               std::string(to_string(it.status)) + ", " + it.points.to_json() + "\n";
      for (const auto& [name, v] : s.sections)
        out += "  section " + name + " = " + v.to_json() + "\n";
      out += "  outcome " + s.total.to_json() + (s.provisional ? " (provisional)" : "") + "\n";
      for (const auto& m : s.missing) out += "  missing " + m + "\n";
      return out;
    }
  }
  for (std::size_t i = 0; i < p.lets.size(); ++i) {
    if (p.lets[i].name != rule) continue;
    const auto& st = ev.state(detail::decl_kind::let, static_cast<std::uint32_t>(i));
    out += "let " + p.lets[i].name + " = " + p.lets[i].text + "\n";
    trace_lines(st.tr, true);
    out += "  outcome " +
           (st.status == detail::outcome::error ? "error: " + st.error : ev.display(st.v)) + "\n";
    return out;
  }
  return std::nullopt;
}

}  // namespace carerules
