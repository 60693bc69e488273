// Calendar dates of the rules language: proleptic Gregorian, years 0001-9999, held as a
// day number (days since 1970-01-01, negative before it).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace carerules::detail {

struct civil_date {
  int year;
  unsigned month;  // 1..12
  unsigned day;    // 1..31
};

// Day number of a civil date (no range check).
std::int64_t days_from_civil(int y, unsigned m, unsigned d);
civil_date civil_from_days(std::int64_t z);

// Strict "YYYY-MM-DD": ASCII digits, a real Gregorian date, year 0001..9999.
std::optional<std::int64_t> parse_date(std::string_view text);

// true when the day number lies within 0001-01-01 .. 9999-12-31.
bool date_in_range(std::int64_t days);

// "YYYY-MM-DD" for a day number in range.
std::string format_date(std::int64_t days);

// Whole years from a to b (an age), negative when b is before a. A 29 February start
// completes its year on 1 March in common years.
std::int64_t years_between(std::int64_t a, std::int64_t b);

int year_of(std::int64_t days);

// Today's date on the host, in local time.
std::int64_t today_local();

}  // namespace carerules::detail
