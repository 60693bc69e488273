// The public face of the facts helpers: dates as day numbers and JSON pointers, for producers
// that bind without JSON text.
#include "carerules/facts.hpp"

#include "facts/bind.hpp"
#include "util/date.hpp"

namespace carerules {

std::int64_t days_from_civil(int year, unsigned month, unsigned day) {
  return detail::days_from_civil(year, month, day);
}

std::optional<std::int64_t> parse_date(std::string_view text) { return detail::parse_date(text); }

std::optional<std::string> format_date(std::int64_t days) {
  if (!detail::date_in_range(days)) return std::nullopt;
  return detail::format_date(days);
}

void append_json_pointer(std::string& pointer, std::string_view key) {
  detail::append_pointer_segment(pointer, key);
}

}  // namespace carerules
