// What the ruleset's files (evaluation, tests, explain, schema) share: options turned into
// the binder's, the evaluation date as a day number, one record's evaluation.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "carerules/ruleset.hpp"
#include "facts/bind.hpp"
#include "plan/plan.hpp"

namespace carerules::detail {

// "a.b.c" -> {"a", "b", "c"}
std::vector<std::string> split_path(const std::string& s);

// The evaluation date as a day number (see carerules::resolve_asof).
std::int64_t asof_days(const eval_options& o);

bind_options bind_opts(const program& p, const eval_options& o);

// The report of bound facts; an unreadable record's report says so and lists no
// declarations.
report evaluate_facts(const program& p, const record_facts& facts, std::int64_t asof);

// ruleset::decide() on JSON text, with the parse's events also given to `observer` (see
// bind_json; `observed` says whether it saw the whole text).
decisions decide_observing(const ruleset& rs, std::string_view facts_json,
                           const eval_options& options, fact_sink& observer, bool& observed);

}  // namespace carerules::detail
