// A scalar value as it appears in reports, input descriptions and schemas.
#pragma once

#include "carerules/report.hpp"
#include "facts/facts.hpp"

namespace carerules::detail {

// bool, int, number, string, date ("YYYY-MM-DD"), colour ("red") or none ("none"); anything
// else (unknown, lists) gives null.
json_value scalar_json(const value& v);

}  // namespace carerules::detail
