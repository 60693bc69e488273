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

// The binding options for `o` (the ruleset's limits, the subject path), valid on this thread
// until the next call.
const bind_options& bind_opts(const program& p, const eval_options& o);

// The report of bound facts; an unreadable record's report says so and lists no
// declarations.
report evaluate_facts(const program& p, const record_facts& facts, std::int64_t asof);

// ruleset::decide() on JSON text, with the parse's events also given to `observer` (see
// bind_json; `observed` says whether it saw the whole text). Not observed when the ruleset's
// parse may nest deeper than `max_depth` (json_depth + 1 past it): an observer that stands
// for a parser of that depth would see texts its parser refuses.
decisions decide_observing(const ruleset& rs, std::string_view facts_json,
                           const eval_options& options, fact_sink& observer, std::size_t max_depth,
                           bool& observed);

}  // namespace carerules::detail
