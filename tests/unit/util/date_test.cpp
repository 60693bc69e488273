#include "util/date.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <ctime>
#include <optional>
#include <string>

namespace carerules::detail {
namespace {

// Reference day numbers computed independently (Python's date.toordinal()).
constexpr std::int64_t kFirst = -719162;  // 0001-01-01
constexpr std::int64_t kLast = 2932896;   // 9999-12-31

std::int64_t d(int y, unsigned m, unsigned day) { return days_from_civil(y, m, day); }

TEST(Civil, KnownDayNumbers) {
  struct row {
    int y;
    unsigned m, day;
    std::int64_t want;
  };
  const row rows[] = {
      {1970, 1, 1, 0},      {1969, 12, 31, -1},     {2000, 3, 1, 11017}, {2024, 2, 29, 19782},
      {1900, 3, 1, -25508}, {1600, 2, 29, -135081}, {1, 1, 1, kFirst},   {9999, 12, 31, kLast},
  };
  for (const auto& r : rows) {
    SCOPED_TRACE(std::to_string(r.y) + "-" + std::to_string(r.m) + "-" + std::to_string(r.day));
    EXPECT_EQ(days_from_civil(r.y, r.m, r.day), r.want);
    const civil_date c = civil_from_days(r.want);
    EXPECT_EQ(c.year, r.y);
    EXPECT_EQ(c.month, r.m);
    EXPECT_EQ(c.day, r.day);
  }
}

TEST(Civil, EveryDayInRangeRoundTripsAndAdvancesByOne) {
  civil_date prev = civil_from_days(kFirst - 1);
  EXPECT_EQ(prev.year, 0);
  EXPECT_EQ(prev.month, 12u);
  EXPECT_EQ(prev.day, 31u);
  for (std::int64_t z = kFirst; z <= kLast; ++z) {
    const civil_date c = civil_from_days(z);
    ASSERT_EQ(days_from_civil(c.year, c.month, c.day), z);
    // Each day is the successor of the previous one: next day, or 1st of next
    // month/year.
    const bool same_month = c.year == prev.year && c.month == prev.month && c.day == prev.day + 1;
    const bool next_month =
        c.day == 1 && ((c.year == prev.year && c.month == prev.month + 1) ||
                       (c.year == prev.year + 1 && c.month == 1 && prev.month == 12));
    ASSERT_TRUE(same_month || next_month) << "at day number " << z;
    prev = c;
  }
}

TEST(ParseDate, Table) {
  struct row {
    std::string text;
    std::optional<std::int64_t> want;
  };
  const row rows[] = {
      {"1970-01-01", 0},
      {"2024-02-29", 19782},
      {"2000-02-29", d(2000, 2, 29)},
      {"0001-01-01", kFirst},
      {"9999-12-31", kLast},
      {"2024-04-30", d(2024, 4, 30)},
      {"2024-12-31", d(2024, 12, 31)},
      {"2023-02-29", std::nullopt},
      {"1900-02-29", std::nullopt},
      {"2023-02-30", std::nullopt},
      {"2024-04-31", std::nullopt},
      {"2024-06-31", std::nullopt},
      {"2024-01-32", std::nullopt},
      {"2024-01-00", std::nullopt},
      {"2024-00-10", std::nullopt},
      {"2024-13-01", std::nullopt},
      {"0000-01-01", std::nullopt},
      {"10000-01-01", std::nullopt},
      {"2024-1-01", std::nullopt},
      {"2024-01-1", std::nullopt},
      {"24-01-01", std::nullopt},
      {"2024/01/01", std::nullopt},
      {"2024-01-01 ", std::nullopt},
      {" 2024-01-01", std::nullopt},
      {"2024-01-01T00:00", std::nullopt},
      {"+024-01-01", std::nullopt},
      {"-024-01-01", std::nullopt},
      {"2024-+1-01", std::nullopt},
      {"2024--1-01", std::nullopt},
      {"2024-0a-01", std::nullopt},
      {"20x4-01-01", std::nullopt},
      {"\xef\xbc\x92"
       "024-01-01",
       std::nullopt},  // FULLWIDTH DIGIT TWO
      {std::string("2024-01-0\0", 10), std::nullopt},
      {"", std::nullopt},
  };
  for (const auto& r : rows) {
    SCOPED_TRACE("parse_date(\"" + r.text + "\")");
    EXPECT_EQ(parse_date(r.text), r.want);
  }
}

TEST(DateRange, Bounds) {
  EXPECT_TRUE(date_in_range(kFirst));
  EXPECT_TRUE(date_in_range(kLast));
  EXPECT_TRUE(date_in_range(0));
  EXPECT_FALSE(date_in_range(kFirst - 1));
  EXPECT_FALSE(date_in_range(kLast + 1));
  EXPECT_FALSE(date_in_range(INT64_MIN));
  EXPECT_FALSE(date_in_range(INT64_MAX));
  EXPECT_EQ(kFirst, d(1, 1, 1));
  EXPECT_EQ(kLast, d(9999, 12, 31));
}

TEST(FormatDate, Table) {
  struct row {
    std::int64_t days;
    const char* want;
  };
  const row rows[] = {
      {0, "1970-01-01"},      {-1, "1969-12-31"},    {19782, "2024-02-29"},
      {kFirst, "0001-01-01"}, {kLast, "9999-12-31"}, {d(987, 6, 5), "0987-06-05"},
  };
  for (const auto& r : rows) {
    SCOPED_TRACE(r.days);
    EXPECT_EQ(format_date(r.days), r.want);
    EXPECT_EQ(parse_date(r.want), r.days);
  }
}

TEST(YearsBetween, Table) {
  struct row {
    const char* from;
    const char* to;
    std::int64_t want;
  };
  const row rows[] = {
      {"2000-01-01", "2000-01-01", 0},
      {"2000-01-01", "2000-12-31", 0},
      {"2000-01-01", "2001-01-01", 1},
      {"2000-05-08", "2010-05-07", 9},
      {"2000-05-07", "2010-05-07", 10},
      // A 29 February start completes its year on 1 March in common years.
      {"2000-02-29", "2001-02-28", 0},
      {"2000-02-29", "2001-03-01", 1},
      {"2000-02-29", "2004-02-28", 3},
      {"2000-02-29", "2004-02-29", 4},
      {"2000-02-29", "2004-03-01", 4},
      {"2000-02-28", "2001-02-28", 1},
      {"2000-03-01", "2001-02-28", 0},
      {"0001-01-01", "9999-12-31", 9998},
      {"0001-01-01", "9999-01-01", 9998},
      // Backwards counts are the negation of the forward count.
      {"2010-05-07", "2000-05-08", -9},
      {"2010-05-07", "2000-05-07", -10},
      {"2001-02-28", "2000-02-29", 0},
      {"2001-03-01", "2000-02-29", -1},
      {"2000-12-31", "2000-01-01", 0},
      {"9999-12-31", "0001-01-01", -9998},
  };
  for (const auto& r : rows) {
    SCOPED_TRACE(std::string(r.from) + " -> " + r.to);
    const auto a = parse_date(r.from);
    const auto b = parse_date(r.to);
    ASSERT_TRUE(a && b);
    EXPECT_EQ(years_between(*a, *b), r.want);
  }
}

TEST(YearsBetween, IsAntisymmetric) {
  // A coarse sweep of pairs around leap days and year ends.
  for (std::int64_t a = d(1999, 12, 25); a <= d(2001, 3, 5); a += 7) {
    for (std::int64_t b = d(1995, 2, 20); b <= d(2006, 3, 10); b += 13) {
      ASSERT_EQ(years_between(a, b), -years_between(b, a)) << a << " " << b;
    }
  }
}

TEST(YearOf, Table) {
  EXPECT_EQ(year_of(0), 1970);
  EXPECT_EQ(year_of(-1), 1969);
  EXPECT_EQ(year_of(kFirst), 1);
  EXPECT_EQ(year_of(kLast), 9999);
  EXPECT_EQ(year_of(d(2024, 12, 31)), 2024);
  EXPECT_EQ(year_of(d(2025, 1, 1)), 2025);
}

TEST(TodayLocal, AgreesWithTheClockWithinTimeZoneSlack) {
  const std::int64_t utc_days = static_cast<std::int64_t>(std::time(nullptr)) / 86400;
  const std::int64_t today = today_local();
  // No time zone is more than 14 hours from UTC, so local and UTC dates differ
  // by at most one.
  EXPECT_GE(today, utc_days - 1);
  EXPECT_LE(today, utc_days + 1);
  EXPECT_TRUE(date_in_range(today));
}

}  // namespace
}  // namespace carerules::detail
