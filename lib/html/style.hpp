// The style sheet and small pieces shared by the report pages and the summary.
#pragma once

#include <string>
#include <string_view>

namespace carerules::detail {

// The CSS of every page: screen and print (A4, 15 mm margins).
extern const std::string_view html_css;

// The CSS class of a grade value's badge: "b-red" … "b-blue" for the four colours, "b-none",
// "b-undetermined", "b-error", else "b-label".
std::string badge_class(std::string_view value);
// The fill colour (#rrggbb) of a value in charts, matching its badge.
std::string_view value_colour(std::string_view value, std::size_t position);

}  // namespace carerules::detail
