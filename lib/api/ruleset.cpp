// The ruleset API: binding, evaluating (one record or a batch on threads), tests, explain,
// and the JSON Schema of the inputs.
#include "carerules/ruleset.hpp"

#include <algorithm>
#include <stdexcept>

#include "eval/eval.hpp"
#include "facts/bind.hpp"
#include "facts/value_json.hpp"
#include "plan/plan.hpp"
#include "util/date.hpp"
#include "util/decimal.hpp"

namespace carerules {
namespace {

std::vector<std::string> split_path(const std::string& s) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (true) {
    auto dot = s.find('.', start);
    out.push_back(s.substr(start, dot - start));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return out;
}

// The evaluation date as a day number (see carerules::resolve_asof).
std::int64_t resolve_asof(const eval_options& o) {
  return *detail::parse_date(carerules::resolve_asof(o.asof));
}

detail::bind_options bind_opts(const detail::program& p, const eval_options& o) {
  detail::bind_options b;
  b.limits.json_depth = p.limits.json_depth;
  b.limits.json_string = p.limits.json_string;
  b.limits.list = p.limits.list;
  b.limits.line_bytes = p.limits.line_bytes;
  if (!o.subject.empty()) b.subject_path = split_path(o.subject);
  return b;
}

report evaluate_facts(const detail::program& p, const detail::record_facts& facts,
                      std::int64_t asof) {
  if (facts.unreadable) {
    report r;
    r.subject = facts.subject;
    r.ruleset = p.info;
    r.engine = std::string("carerules ") + version_string;
    r.asof = detail::format_date(asof);
    r.unreadable = true;
    for (const auto& e : facts.errors) r.errors.push_back({e.path, std::nullopt, e.message});
    return r;
  }
  detail::evaluator ev(p, facts, asof);
  ev.run();
  return ev.make_report();
}

}  // namespace

bound_facts::bound_facts() : facts_(std::make_unique<detail::record_facts>()) {}
bound_facts::bound_facts(bound_facts&&) noexcept = default;
bound_facts& bound_facts::operator=(bound_facts&&) noexcept = default;
bound_facts::~bound_facts() = default;

void bound_facts::prefix_error_paths(std::string_view pointer) {
  for (auto& e : facts_->errors) e.path.insert(0, pointer);
}

ruleset::ruleset(std::shared_ptr<const detail::program> program) : program_(std::move(program)) {}

const std::string& ruleset::name() const { return program_->info.name; }
const std::string& ruleset::title() const { return program_->info.title; }
const std::string& ruleset::version() const { return program_->info.version; }
const std::string& ruleset::digest() const { return program_->info.digest; }
const std::vector<input_info>& ruleset::inputs() const { return program_->input_infos; }
const ruleset_info& ruleset::info() const { return program_->info; }
std::vector<ruleset::source_file> ruleset::source_files() const {
  std::vector<source_file> out;
  for (const auto& f : program_->sources->files) out.push_back({f.display, f.canonical, f.text});
  return out;
}

const std::vector<hazard_info>& ruleset::hazards() const { return program_->hazard_infos; }
const std::vector<score_info>& ruleset::scores() const { return program_->score_infos; }
const std::vector<grade_info>& ruleset::grades() const { return program_->grade_infos; }
const std::vector<file_info>& ruleset::files() const { return program_->files; }

bound_facts ruleset::bind(const std::function<void(fact_sink&)>& produce,
                          const eval_options& options) const {
  bound_facts out;
  auto bo = bind_opts(*program_, options);
  detail::binder b(*program_->schema, bo, *out.facts_);
  produce(b);
  b.finish();
  return out;
}

bound_facts ruleset::bind_json(std::string_view facts_json, const eval_options& options) const {
  bound_facts out;
  detail::bind_json(*program_->schema, facts_json, bind_opts(*program_, options), *out.facts_);
  return out;
}

report ruleset::evaluate(const bound_facts& facts, const eval_options& options) const {
  return evaluate_facts(*program_, *facts.facts_, resolve_asof(options));
}

report ruleset::evaluate(std::string_view facts_json, const eval_options& options) const {
  std::int64_t asof = resolve_asof(options);
  detail::record_facts facts;
  detail::bind_json(*program_->schema, facts_json, bind_opts(*program_, options), facts);
  return evaluate_facts(*program_, facts, asof);
}

std::vector<report> ruleset::evaluate_record(std::string_view facts_json,
                                             const eval_options& options) const {
  std::int64_t asof = resolve_asof(options);
  std::vector<report> out;
  if (options.each.empty()) {
    detail::record_facts facts;
    detail::bind_json(*program_->schema, facts_json, bind_opts(*program_, options), facts);
    out.push_back(evaluate_facts(*program_, facts, asof));
    return out;
  }
  auto records = detail::bind_json_each(*program_->schema, facts_json, split_path(options.each),
                                        bind_opts(*program_, options));
  for (const auto& f : records) out.push_back(evaluate_facts(*program_, f, asof));
  return out;
}

std::vector<report> ruleset::evaluate_many(const std::vector<std::string>& records,
                                           const eval_options& options) const {
  resolve_asof(options);  // throws before any work on a bad date
  std::vector<std::vector<report>> parts(records.size());
  parallel_for(records.size(), options.threads,
               [&](std::size_t i) { parts[i] = evaluate_record(records[i], options); });
  std::vector<report> out;
  out.reserve(records.size());
  for (auto& p : parts)
    for (auto& r : p) out.push_back(std::move(r));
  return out;
}

std::vector<report> ruleset::evaluate_many(const std::vector<bound_facts>& facts,
                                           const eval_options& options) const {
  std::int64_t asof = resolve_asof(options);
  std::vector<report> out(facts.size());
  parallel_for(facts.size(), options.threads,
               [&](std::size_t i) { out[i] = evaluate_facts(*program_, *facts[i].facts_, asof); });
  return out;
}

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

// ---- explain --------------------------------------------------------------------------------

std::optional<std::string> ruleset::explain(std::string_view facts_json, std::string_view rule,
                                            const eval_options& options) const {
  resolve_asof(options);  // a bad date is refused before binding
  return explain(bind_json(facts_json, options), rule, options);
}

std::optional<std::string> ruleset::explain(const bound_facts& bound, std::string_view rule,
                                            const eval_options& options) const {
  const detail::program& p = *program_;
  std::int64_t asof = resolve_asof(options);
  detail::evaluator ev(p, *bound.facts_, asof);
  ev.run();  // an unreadable record has every fact absent: the outcome says what is missing
  report rep = ev.make_report();
  std::string out;
  auto trace_lines = [&](const detail::trace& tr, bool with_missing) {
    for (const auto& r : tr.reads())
      out += "  read    " + ev.path_of(r) + " = " + ev.to_json(r.v).to_json() + "\n";
    std::vector<std::pair<int, std::uint32_t>> used;
    for (const auto& u : tr.uses()) {
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

// ---- JSON Schema ----------------------------------------------------------------------------

namespace {

void schema_string(std::string& o, std::string_view s) {
  o += json_value{json_value::kind::string, false, 0, std::string(s), {}}.to_json();
}

void field_schema_json(std::string& o, const detail::field_schema& f);

void record_schema_json(std::string& o, const detail::record_schema& rs, std::uint32_t node) {
  const auto& nd = rs.nodes[node];
  std::vector<std::pair<std::string, std::uint32_t>> kids(nd.children.begin(), nd.children.end());
  // declaration order: order of the first field under each child
  auto first_order = [&](std::uint32_t n) {
    std::uint32_t best = UINT32_MAX;
    std::vector<std::uint32_t> stack{n};
    while (!stack.empty()) {
      auto x = stack.back();
      stack.pop_back();
      if (rs.nodes[x].field >= 0)
        best = std::min(best, rs.fields[static_cast<std::size_t>(rs.nodes[x].field)].order);
      for (const auto& [k, c] : rs.nodes[x].children) stack.push_back(c);
    }
    return best;
  };
  std::sort(kids.begin(), kids.end(), [&](const auto& a, const auto& b) {
    return first_order(a.second) < first_order(b.second);
  });
  o += "{\"type\":\"object\",\"properties\":{";
  for (std::size_t i = 0; i < kids.size(); ++i) {
    if (i) o += ',';
    schema_string(o, kids[i].first);
    o += ':';
    const auto& child = rs.nodes[kids[i].second];
    if (child.field >= 0)
      field_schema_json(o, rs.fields[static_cast<std::size_t>(child.field)]);
    else
      record_schema_json(o, rs, kids[i].second);
  }
  o += "}}";
}

// A scalar input. `nullable`: JSON null is allowed (language.md §3: null means absent), for
// object properties; list elements may not be null.
void scalar_json(std::string& o, const detail::field_schema& f, bool nullable) {
  using detail::scalar_type;
  auto num = [](std::int64_t scaled) { return detail::format_decimal(scaled); };
  auto type = [&](const char* t) {
    o += nullable ? std::string("{\"type\":[\"") + t + "\",\"null\"]"
                  : std::string("{\"type\":\"") + t + "\"";
  };
  const char* null_enum = nullable ? ",null" : "";
  if (!f.enum_strings.empty()) {
    type("string");
    o += ",\"enum\":[";
    for (std::size_t i = 0; i < f.enum_strings.size(); ++i) {
      if (i) o += ',';
      schema_string(o, f.enum_strings[i]);
    }
    o += null_enum;
    o += "]";
  } else if (!f.enum_numbers.empty()) {
    type("number");
    o += ",\"enum\":[";
    for (std::size_t i = 0; i < f.enum_numbers.size(); ++i) {
      if (i) o += ',';
      o += num(f.enum_numbers[i]);
    }
    o += null_enum;
    o += "]";
  } else {
    switch (f.type) {
      case scalar_type::bool_:
        type("boolean");
        break;
      case scalar_type::int_:
        type("integer");
        break;
      case scalar_type::number:
        type("number");
        break;
      case scalar_type::string:
        type("string");
        break;
      case scalar_type::date:
        type("string");
        o += ",\"format\":\"date\"";
        break;
      case scalar_type::color:
        type("string");
        o += ",\"enum\":[\"blue\",\"yellow\",\"orange\",\"red\"";
        o += null_enum;
        o += "]";
        break;
    }
  }
  if (f.has_range) {
    bool i = f.type == scalar_type::int_;
    o += ",\"minimum\":" + (i ? std::to_string(f.range_low) : num(f.range_low));
    o += ",\"maximum\":" + (i ? std::to_string(f.range_high) : num(f.range_high));
  }
}

void field_schema_json(std::string& o, const detail::field_schema& f) {
  if (f.is_list) {
    o += "{\"type\":\"array\",";
    if (!f.label.empty()) {
      o += "\"description\":";
      schema_string(o, f.label);
      o += ',';
    }
    o += "\"items\":";
    if (f.of_records) {
      record_schema_json(o, *f.element, 0);
    } else {
      scalar_json(o, f, false);
      o += '}';
    }
    o += '}';
    return;
  }
  scalar_json(o, f, true);
  if (!f.label.empty()) {
    o += ",\"description\":";
    schema_string(o, f.label);
  }
  if (f.default_value) o += ",\"default\":" + detail::scalar_json(*f.default_value).to_json();
  o += '}';
}

}  // namespace

std::string ruleset::json_schema() const {
  const detail::program& p = *program_;
  std::string o = "{\"$schema\":\"https://json-schema.org/draft/2020-12/schema\",\"title\":";
  schema_string(o, p.info.title);
  o += ",\"description\":";
  schema_string(o, p.info.name + " " + p.info.version);
  o += ',';
  std::string body;
  record_schema_json(body, *p.schema, 0);
  // splice: drop the leading '{' of the record object
  o += body.substr(1);
  return o;
}

}  // namespace carerules
