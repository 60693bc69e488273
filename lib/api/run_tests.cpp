// `carerules test`: a ruleset's own test blocks, each evaluated and its expectations checked,
// with coverage of hazards, items and grade lines.
#include "api/evaluate.hpp"
#include "carerules/ruleset.hpp"
#include "eval/eval.hpp"

namespace carerules {

using detail::asof_days;
using detail::bind_opts;

// ---- tests ----------------------------------------------------------------------------------

test_run ruleset::run_tests() const {
  const detail::program& p = *program_;
  test_run run;
  std::vector<bool> hazard_seen(p.hazards.size());
  std::vector<std::vector<bool>> item_seen(p.scores.size());
  std::vector<std::vector<bool>> line_seen(p.grades.size());
  for (std::size_t i = 0; i < p.scores.size(); ++i)
    item_seen[i].assign(p.scores[i].items.size(), false);
  for (std::size_t i = 0; i < p.grades.size(); ++i)
    line_seen[i].assign(p.grades[i].lines.size(), false);

  for (const auto& t : p.tests) {
    test_case_result tr;
    tr.file = p.top_display;
    tr.line = static_cast<int>(t.line);
    tr.name = t.name;
    detail::record_facts facts;
    detail::bind_json(*p.schema, t.given, bind_opts(p, {}), facts);
    detail::evaluator ev(p, facts, t.asof);
    ev.run();
    report rep = ev.make_report();
    for (std::size_t i = 0; i < rep.hazards.size(); ++i)
      if (rep.hazards[i].status == hazard_status::present) hazard_seen[i] = true;
    for (std::size_t i = 0; i < rep.scores.size(); ++i)
      for (std::size_t k = 0; k < rep.scores[i].items.size(); ++k)
        if (rep.scores[i].items[k].status == item_status::awarded) item_seen[i][k] = true;
    for (std::size_t i = 0; i < p.grades.size(); ++i) {
      const auto& st = ev.state(detail::decl_kind::grade, static_cast<std::uint32_t>(i));
      if (st.status == detail::outcome::known && st.matched_line >= 0)
        line_seen[i][static_cast<std::size_t>(st.matched_line)] = true;
    }
    auto status_of = [&](const detail::decl_entry& d) -> std::string {
      const auto& st = ev.state(d.kind, d.index);
      switch (d.kind) {
        case detail::decl_kind::hazard:
          return std::string(to_string(rep.hazards[d.index].status));
        case detail::decl_kind::grade:
          return std::string(rep.grades[d.index].value());
        case detail::decl_kind::score:
          if (st.status == detail::outcome::error) return "error";
          return rep.scores[d.index].provisional ? "provisional" : "final";
        case detail::decl_kind::let:
          return st.status == detail::outcome::error     ? "error"
                 : st.status == detail::outcome::unknown ? "unknown"
                                                         : ev.display(st.v);
      }
      return "";
    };
    for (const auto& ex : t.expects) {
      bool ok = false;
      std::string got;
      switch (ex.kind) {
        case detail::expect_kind::hazard:
          got = status_of(ex.target);
          ok = got == "present";
          break;
        case detail::expect_kind::not_hazard:
          got = status_of(ex.target);
          ok = got == "absent";
          break;
        case detail::expect_kind::undetermined:
          got = status_of(ex.target);
          ok = got == "undetermined";
          break;
        case detail::expect_kind::error: {
          if (ex.item != detail::none_index) {
            got = to_string(rep.scores[ex.target.index].items[ex.item].status);
            ok = got == "error";
            break;
          }
          got = status_of(ex.target);
          ok = got == "error";
          if (!ok && ex.target.kind == detail::decl_kind::score) {
            // a score is in error when one of its items is
            for (const auto& it : rep.scores[ex.target.index].items)
              if (it.status == item_status::error) ok = true;
          }
          break;
        }
        case detail::expect_kind::provisional:
          got = status_of(ex.target);
          ok = got == "provisional";
          if (!ok) got = "not provisional";
          break;
        case detail::expect_kind::expression: {
          std::string err;
          auto v = ev.eval_root(ex.e, err);
          if (!v) {
            got = "error: " + err;
          } else if (v->kind == detail::vkind::unknown) {
            got = "unknown";
          } else {
            ok = v->kind == detail::vkind::boolean && v->i != 0;
            got = ev.display(*v);
          }
          break;
        }
      }
      if (!ok)
        tr.failures.push_back(p.top_display + ":" + std::to_string(ex.line) + ": test \"" + t.name +
                              "\": expect " + ex.text + " \u2014 got " + got);
    }
    tr.passed = tr.failures.empty();
    run.cases.push_back(std::move(tr));
  }
  auto loc = [&](ast::pos where) {
    return p.sources->files[where.file].display + ":" + std::to_string(where.line) + ": ";
  };
  auto add = [&](ast::pos where, std::string what, bool covered) {
    coverage_item c;
    c.file = p.sources->files[where.file].display;
    c.canonical = p.sources->files[where.file].canonical;
    c.line = static_cast<int>(where.line);
    c.what = std::move(what);
    c.covered = covered;
    if (!covered) run.uncovered.push_back(loc(where) + c.what);
    run.coverage.push_back(std::move(c));
  };
  for (std::size_t i = 0; i < p.hazards.size(); ++i)
    add(p.hazards[i].where, "hazard " + p.hazards[i].id, hazard_seen[i]);
  for (std::size_t i = 0; i < p.scores.size(); ++i)
    for (std::size_t k = 0; k < p.scores[i].items.size(); ++k)
      add(p.scores[i].items[k].where,
          (p.scores[i].items[k].deduct ? "deduct " : "item ") + p.scores[i].items[k].id,
          item_seen[i][k]);
  for (std::size_t i = 0; i < p.grades.size(); ++i)
    for (std::size_t k = 0; k < p.grades[i].lines.size(); ++k)
      add(p.grades[i].lines[k].where,
          "grade " + p.grades[i].name + " line " + p.grades[i].lines[k].label_text,
          line_seen[i][k]);
  return run;
}

}  // namespace carerules
