// The ruleset API: identity, binding and evaluating (one record, or many on threads). The
// test runner, explain and the JSON Schema have files of their own.
#include "carerules/ruleset.hpp"

#include <algorithm>
#include <stdexcept>

#include "api/evaluate.hpp"
#include "eval/eval.hpp"
#include "util/date.hpp"

namespace carerules {
namespace detail {

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

std::int64_t asof_days(const eval_options& o) {
  if (o.asof.empty()) return *parse_date(carerules::resolve_asof(o.asof));  // today
  // A caller evaluating record after record passes the same date each time.
  thread_local std::string last;
  thread_local std::int64_t last_days = 0;
  if (o.asof != last) {
    last_days = *parse_date(carerules::resolve_asof(o.asof));
    last = o.asof;
  }
  return last_days;
}

const bind_options& bind_opts(const program& p, const eval_options& o) {
  // Kept per thread, like the date above: a record bound after another with the same options
  // reuses them (the subject path is split, and allocated, only when it changes).
  thread_local bind_options b;
  thread_local std::string subject;  // what b.subject_path was split from ("": the default)
  b.limits.json_depth = p.limits.json_depth;
  b.limits.json_string = p.limits.json_string;
  b.limits.list = p.limits.list;
  b.limits.line_bytes = p.limits.line_bytes;
  if (o.subject != subject) {
    b.subject_path = o.subject.empty() ? bind_options{}.subject_path : split_path(o.subject);
    subject = o.subject;
  }
  return b;
}

report evaluate_facts(const program& p, const record_facts& facts, std::int64_t asof) {
  if (facts.unreadable) {
    report r;
    r.subject = facts.subject;
    r.ruleset = p.info;
    r.engine = std::string("carerules ") + version_string;
    r.asof = format_date(asof);
    r.unreadable = true;
    for (const auto& e : facts.errors) r.errors.push_back({e.path, std::nullopt, e.message});
    return r;
  }
  evaluator ev(p, facts, asof);
  ev.run();
  return ev.make_report();
}

}  // namespace detail

using detail::asof_days;
using detail::bind_opts;
using detail::evaluate_facts;
using detail::split_path;

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
  return evaluate_facts(*program_, *facts.facts_, asof_days(options));
}

report ruleset::evaluate(std::string_view facts_json, const eval_options& options) const {
  std::int64_t asof = asof_days(options);
  detail::record_facts facts;
  detail::bind_json(*program_->schema, facts_json, bind_opts(*program_, options), facts);
  return evaluate_facts(*program_, facts, asof);
}

std::vector<report> ruleset::evaluate_record(std::string_view facts_json,
                                             const eval_options& options) const {
  std::int64_t asof = asof_days(options);
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
  asof_days(options);  // throws before any work on a bad date
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
  std::int64_t asof = asof_days(options);
  std::vector<report> out(facts.size());
  parallel_for(facts.size(), options.threads,
               [&](std::size_t i) { out[i] = evaluate_facts(*program_, *facts[i].facts_, asof); });
  return out;
}

}  // namespace carerules
