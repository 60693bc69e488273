#include "util/date.hpp"

#include <ctime>

namespace carerules::detail {

namespace {

// Day numbers of 0001-01-01 and 9999-12-31, from days_from_civil.
constexpr std::int64_t first_day = -719162;
constexpr std::int64_t last_day = 2932896;

bool is_leap(std::int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

unsigned last_day_of_month(std::int64_t y, unsigned m) {
  static constexpr unsigned days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return (m == 2 && is_leap(y)) ? 29u : days[m - 1];
}

// Reads exactly `width` ASCII digits; std::isdigit would accept locale digits
// and std::from_chars a leading sign on some inputs, neither of which the
// format allows.
bool read_digits(std::string_view s, std::size_t pos, std::size_t width, unsigned& out) {
  unsigned v = 0;
  for (std::size_t i = pos; i < pos + width; ++i) {
    const char c = s[i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<unsigned>(c - '0');
  }
  out = v;
  return true;
}

void append_padded(std::string& out, std::int64_t v, std::size_t width) {
  std::string digits = std::to_string(v);
  if (digits.size() < width) out.append(width - digits.size(), '0');
  out += digits;
}

}  // namespace

// Howard Hinnant's days_from_civil: shifting the year to start in March puts
// the leap day last, so the day of the year follows from the month by one
// linear formula, and 400-year eras repeat exactly.
std::int64_t days_from_civil(int y, unsigned m, unsigned d) {
  const std::int64_t year = static_cast<std::int64_t>(y) - (m <= 2 ? 1 : 0);
  const std::int64_t era = (year >= 0 ? year : year - 399) / 400;
  const std::int64_t yoe = year - era * 400;                                 // [0, 399]
  const std::int64_t mp = m > 2 ? static_cast<std::int64_t>(m) - 3 : m + 9;  // March = 0
  const std::int64_t doy = (153 * mp + 2) / 5 + static_cast<std::int64_t>(d) - 1;
  const std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;  // [0, 146096]
  return era * 146097 + doe - 719468;
}

// Inverse of days_from_civil. The year must fit an int (|z| below
// about 7.8e11), which every date the language admits does by far.
civil_date civil_from_days(std::int64_t z) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const std::int64_t doe = z - era * 146097;                                       // [0, 146096]
  const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;  // [0, 399]
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);                // [0, 365]
  const std::int64_t mp = (5 * doy + 2) / 153;                                     // [0, 11]
  const auto day = static_cast<unsigned>(doy - (153 * mp + 2) / 5 + 1);
  const auto month = static_cast<unsigned>(mp < 10 ? mp + 3 : mp - 9);
  const std::int64_t year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  return civil_date{static_cast<int>(year), month, day};
}

std::optional<std::int64_t> parse_date(std::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  unsigned y = 0, m = 0, d = 0;
  if (!read_digits(text, 0, 4, y) || !read_digits(text, 5, 2, m) || !read_digits(text, 8, 2, d)) {
    return std::nullopt;
  }
  if (y < 1 || m < 1 || m > 12 || d < 1 || d > last_day_of_month(y, m)) return std::nullopt;
  return days_from_civil(static_cast<int>(y), m, d);
}

bool date_in_range(std::int64_t days) { return days >= first_day && days <= last_day; }

std::string format_date(std::int64_t days) {
  const civil_date c = civil_from_days(days);
  std::string out;
  out.reserve(10);
  if (c.year < 0) out += '-';  // only reachable out of range; keeps the output honest
  append_padded(out, c.year < 0 ? -static_cast<std::int64_t>(c.year) : c.year, 4);
  out += '-';
  append_padded(out, c.month, 2);
  out += '-';
  append_padded(out, c.day, 2);
  return out;
}

std::int64_t years_between(std::int64_t a, std::int64_t b) {
  // Counting backwards mirrors counting forwards, so an age and its negation
  // agree: years_between(b, a) == -years_between(a, b) for every pair.
  if (b < a) return -years_between(b, a);
  const civil_date from = civil_from_days(a);
  const civil_date to = civil_from_days(b);
  std::int64_t years = static_cast<std::int64_t>(to.year) - from.year;
  // Comparing (month, day) directly also gives the 29 February rule: in a
  // common year there is no 02-29, so the anniversary is first reached on
  // 03-01.
  if (to.month < from.month || (to.month == from.month && to.day < from.day)) --years;
  return years;
}

int year_of(std::int64_t days) { return civil_from_days(days).year; }

std::int64_t today_local() {
  const std::time_t now = std::time(nullptr);
  std::tm local{};
  // localtime_r, not localtime: the engine may evaluate on several threads.
  if (localtime_r(&now, &local) == nullptr) {
    return days_from_civil(1970, 1, 1) + static_cast<std::int64_t>(now / 86400);
  }
  return days_from_civil(local.tm_year + 1900, static_cast<unsigned>(local.tm_mon + 1),
                         static_cast<unsigned>(local.tm_mday));
}

}  // namespace carerules::detail
