#include "util/decimal.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace carerules::detail {
namespace {

constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t kMin = std::numeric_limits<std::int64_t>::min();
const checked kOverflow = std::nullopt;

std::string show(const checked& c) { return c ? std::to_string(*c) : std::string("nullopt"); }

struct binary_case {
  std::int64_t a;
  std::int64_t b;
  checked want;
};

struct unary_case {
  std::int64_t a;
  checked want;
};

struct text_case {
  std::string text;
  checked want;
};

void check_binary(checked (*op)(std::int64_t, std::int64_t), const char* name,
                  std::initializer_list<binary_case> cases) {
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string(name) + "(" + std::to_string(c.a) + ", " + std::to_string(c.b) + ")");
    EXPECT_EQ(show(op(c.a, c.b)), show(c.want));
  }
}

void check_unary(checked (*op)(std::int64_t), const char* name,
                 std::initializer_list<unary_case> cases) {
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string(name) + "(" + std::to_string(c.a) + ")");
    EXPECT_EQ(show(op(c.a)), show(c.want));
  }
}

TEST(IntArithmetic, IntToDecimal) {
  check_unary(int_to_decimal, "int_to_decimal",
              {
                  {0, 0},
                  {1, 1'000'000},
                  {-3, -3'000'000},
                  {decimal_max_units, decimal_max_units * decimal_scale},
                  {-decimal_max_units, -decimal_max_units * decimal_scale},
                  {decimal_max_units + 1, kOverflow},
                  {-decimal_max_units - 1, kOverflow},
                  {kMax, kOverflow},
                  {kMin, kOverflow},
              });
}

TEST(IntArithmetic, AddSubMul) {
  check_binary(
      int_add, "int_add",
      {{1, 2, 3}, {kMax, 0, kMax}, {kMax, 1, kOverflow}, {kMin, -1, kOverflow}, {kMin, kMax, -1}});
  check_binary(int_sub, "int_sub",
               {{1, 2, -1},
                {kMin, 1, kOverflow},
                {0, kMin, kOverflow},
                {-1, kMax, kMin},
                {kMax, -1, kOverflow}});
  check_binary(int_mul, "int_mul",
               {{6, 7, 42},
                {-6, 7, -42},
                {kMax, 1, kMax},
                {kMin, 1, kMin},
                {kMin, -1, kOverflow},
                {kMax, 2, kOverflow},
                {4'294'967'296, 4'294'967'296, kOverflow},
                {3'037'000'499, 3'037'000'499, 9'223'372'030'926'249'001}});
}

TEST(IntArithmetic, ModFollowsSignOfDividend) {
  check_binary(int_mod, "int_mod",
               {{7, 3, 1},
                {-7, 3, -1},
                {7, -3, 1},
                {-7, -3, -1},
                {6, 3, 0},
                {5, 0, kOverflow},
                {0, 0, kOverflow},
                // Representable, though the hardware division traps.
                {kMin, -1, 0},
                {kMin, kMax, -1}});
}

TEST(IntArithmetic, Neg) {
  check_unary(int_neg, "int_neg", {{0, 0}, {5, -5}, {kMax, -kMax}, {kMin, kOverflow}});
}

TEST(DecimalArithmetic, AddSubAreExact) {
  // 0.1 + 0.2 == 0.3 is the point of the representation.
  check_binary(dec_add, "dec_add",
               {{100'000, 200'000, 300'000}, {kMax, 1, kOverflow}, {kMin, -1, kOverflow}});
  check_binary(dec_sub, "dec_sub", {{300'000, 100'000, 200'000}, {kMin, 1, kOverflow}});
  check_unary(dec_neg, "dec_neg", {{500'000, -500'000}, {kMin, kOverflow}});
}

TEST(DecimalArithmetic, MulRoundsHalfAwayFromZero) {
  check_binary(dec_mul, "dec_mul",
               {
                   {1'500'000, 2'000'000, 3'000'000},
                   {-1'500'000, 2'000'000, -3'000'000},
                   {-1'500'000, -2'000'000, 3'000'000},
                   {333'333, 3'000'000, 999'999},
                   {1, 500'000, 1},    // 0.0000005 -> 0.000001
                   {-1, 500'000, -1},  // -0.0000005 -> -0.000001
                   {1, 499'999, 0},    // 0.000000499999 -> 0
                   {1, -500'000, -1},  // sign of the product, not of one operand
                   {123'456, 0, 0},
                   {kMax, 1'000'000, kMax},
                   {kMin, 1'000'000, kMin},
                   {kMin, -1'000'000, kOverflow},
                   {kMax, kMax, kOverflow},
                   {kMax, 2'000'000, kOverflow},
                   {kMin, kMin, kOverflow},
                   // 3037000.499 squared is 9223372030926.249001, just inside the range.
                   {3'037'000'499'000, 3'037'000'499'000, 9'223'372'030'926'249'001},
                   {3'037'000'500'000, 3'037'000'500'000, kOverflow},
               });
}

TEST(DecimalArithmetic, DivRoundsHalfAwayFromZero) {
  check_binary(dec_div, "dec_div",
               {
                   {7'000'000, 2'000'000, 3'500'000},
                   {1'000'000, 3'000'000, 333'333},
                   {2'000'000, 3'000'000, 666'667},
                   {-2'000'000, 3'000'000, -666'667},
                   {2'000'000, -3'000'000, -666'667},
                   {-2'000'000, -3'000'000, 666'667},
                   {1, 2'000'000, 1},  // 0.0000005 -> 0.000001
                   {-1, 2'000'000, -1},
                   {1, 3'000'000, 0},
                   {1'000'000, 0, kOverflow},
                   {0, 0, kOverflow},
                   {1'000'000, 1, 1'000'000'000'000},
                   {kMax, 1, kOverflow},
                   {kMax, 1'000'000, kMax},
                   {kMin, 1'000'000, kMin},
                   {kMin, -1'000'000, kOverflow},
                   {kMax, kMax, 1'000'000},
                   {kMin, kMin, 1'000'000},
               });
}

TEST(DecimalRounding, RoundFloorCeil) {
  check_unary(dec_round, "dec_round",
              {{2'500'000, 3},
               {-2'500'000, -3},
               {2'499'999, 2},
               {-2'499'999, -2},
               {500'000, 1},
               {-500'000, -1},
               {499'999, 0},
               {0, 0},
               {kMax, 9'223'372'036'855},
               {kMin, -9'223'372'036'855}});
  check_unary(dec_floor, "dec_floor",
              {{2'500'000, 2},
               {-2'500'000, -3},
               {-2'000'000, -2},
               {1, 0},
               {-1, -1},
               {kMax, 9'223'372'036'854},
               {kMin, -9'223'372'036'855}});
  check_unary(dec_ceil, "dec_ceil",
              {{2'500'000, 3},
               {-2'500'000, -2},
               {3'000'000, 3},
               {1, 1},
               {-1, 0},
               {kMax, 9'223'372'036'855},
               {kMin, -9'223'372'036'854}});
}

TEST(DecimalRounding, RoundDigits) {
  check_binary(dec_round_digits, "dec_round_digits",
               {
                   {1'234'500'000, -2, 1'200'000'000},  // round(1234.5, -2) == 1200
                   {1'234'500'000, -3, 1'000'000'000},
                   {1'500'000'000, -3, 2'000'000'000},
                   {-1'500'000'000, -3, -2'000'000'000},
                   {499'000'000, -3, 0},
                   {1'234'500'000, 0, 1'235'000'000},
                   {-1'234'500'000, 0, -1'235'000'000},
                   {1'234'565, 5, 1'234'570},
                   {-1'234'565, 5, -1'234'570},
                   {1'234'564, 5, 1'234'560},
                   {1'250'000, 1, 1'300'000},
                   {1'234'567, 6, 1'234'567},
                   {1'234'567, 7, 1'234'567},
                   {1'234'567, kMax, 1'234'567},
                   {1'234'567, -14, 0},
                   {kMax, kMin, 0},
                   {kMin, -100, 0},
                   {kMax, -12, 9'000'000'000'000'000'000},
                   {kMax, -13, kOverflow},  // 9.2e12 rounds to 1e13, past the range
                   {kMax, 0, kOverflow},    // ...775807 rounds up past the range
                   {kMax, 6, kMax},
                   {kMin, 0, kOverflow},
               });
}

TEST(DecimalCompare, DecimalAgainstInt) {
  struct row {
    std::int64_t dec;
    std::int64_t i;
    int want;
  };
  const row rows[] = {
      {1'500'000, 1, 1},
      {1'000'000, 1, 0},
      {999'999, 1, -1},
      {0, 0, 0},
      {-1, 0, -1},
      {-1'000'000, -1, 0},
      {kMax, kMax, -1},
      {kMin, kMin, 1},
      {kMax, 9'223'372'036'854, 1},
      {kMin, -9'223'372'036'855, 1},
  };
  for (const auto& r : rows) {
    SCOPED_TRACE(std::to_string(r.dec) + " vs " + std::to_string(r.i));
    EXPECT_EQ(compare_dec_int(r.dec, r.i), r.want);
  }
}

TEST(ParseDecimal, Table) {
  const std::string zeros500(500, '0');
  const text_case cases[] = {
      {"0", 0},
      {"-0", 0},
      {"0.0", 0},
      {"812", 812'000'000},
      {"3.5", 3'500'000},
      {"0.1", 100'000},
      {"-0.5", -500'000},
      {"1e2", 100'000'000},
      {"1E2", 100'000'000},
      {"1e+2", 100'000'000},
      {"1.5e-1", 150'000},
      {"-2.5E-3", -2'500},
      {"1.2345675", 1'234'568},
      {"-1.2345675", -1'234'568},
      {"1.2345674999999999", 1'234'567},
      {"0.0000005", 1},
      {"-0.0000005", -1},
      {"0.00000049999", 0},
      {"1E-7", 0},
      {"5e-7", 1},
      {"-5e-7", -1},
      {"4.99e-7", 0},
      {"1e-6", 1},
      {"0.0000000000000000000000000000001", 0},
      {"1e400", kOverflow},
      {"-1e400", kOverflow},
      {"1e-400", 0},
      {"0e999999999999999999999999999999", 0},
      {"1e-999999999999999999999999999999", 0},
      {"1e999999999999999999999999999999", kOverflow},
      {"1e12", 1'000'000'000'000'000'000},
      {"1e13", kOverflow},
      {"9223372036854.775807", kMax},
      {"9223372036854.775808", kOverflow},
      {"-9223372036854.775808", kMin},
      {"-9223372036854.775809", kOverflow},
      {"9223372036854.7758074999", kMax},
      {"9223372036854.7758075", kOverflow},  // rounds up past the range
      {"-9223372036854.7758084", kMin},
      {"-9223372036854.7758085", kOverflow},
      {"92233720368547758.07e-4", kMax},
      {"123456789012345678901234567890e-20", 1'234'567'890'123'457},
      // Long mantissas are exact: no digit is lost to a float or an
      // accumulator.
      {"1" + zeros500 + "e-500", 1'000'000},
      {"0." + zeros500 + "1e501", 1'000'000},
      {"0." + zeros500 + "5e501", 5'000'000},
      {"1." + zeros500 + "1", 1'000'000},
      {"0.4999995" + zeros500 + "1", 500'000},
      {"1" + zeros500, kOverflow},
      {"000000000000000000000000001.5", 1'500'000},
      {"007", 7'000'000},  // leading zeros: the header's grammar allows them
      // Malformed.
      {"", kOverflow},
      {"-", kOverflow},
      {"+1", kOverflow},
      {"--1", kOverflow},
      {".5", kOverflow},
      {"1.", kOverflow},
      {"-.5", kOverflow},
      {"1e", kOverflow},
      {"1e+", kOverflow},
      {"1e-", kOverflow},
      {"e5", kOverflow},
      {"1.2.3", kOverflow},
      {"1e2.5", kOverflow},
      {"1e2e3", kOverflow},
      {" 1", kOverflow},
      {"1 ", kOverflow},
      {"0x10", kOverflow},
      {"1_000", kOverflow},
      {"1,5", kOverflow},
      {"NaN", kOverflow},
      {"Infinity", kOverflow},
      {"-Infinity", kOverflow},
      {"\xd9\xa1", kOverflow},      // ARABIC-INDIC DIGIT ONE
      {"\xef\xbc\x91", kOverflow},  // FULLWIDTH DIGIT ONE
      {std::string("1\0", 2), kOverflow},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE("parse_decimal(\"" + c.text.substr(0, 60) + "\")");
    EXPECT_EQ(show(parse_decimal(c.text)), show(c.want));
  }
}

TEST(ParseIntegral, Table) {
  const text_case cases[] = {
      {"0", 0},
      {"-0", 0},
      {"-0.0", 0},
      {"0e-5", 0},
      {"150", 150},
      {"150.0", 150},
      {"150.000000000000000000000", 150},
      {"1e2", 100},
      {"1E+2", 100},
      {"1.0e1", 10},
      {"1500e-1", 150},
      {"-3", -3},
      {"-3.00", -3},
      {"1e18", 1'000'000'000'000'000'000},
      {"1e19", kOverflow},
      {"10000000000000000000000e-4", 1'000'000'000'000'000'000},
      {"9.223372036854775807e18", kMax},
      {"9223372036854775807", kMax},
      {"9223372036854775807.0", kMax},
      {"9223372036854775808", kOverflow},
      {"-9223372036854775808", kMin},
      {"-9223372036854775808.000", kMin},
      {"-9223372036854775809", kOverflow},
      {"99999999999999999999999999999", kOverflow},
      {"1e400", kOverflow},
      {"1.5", kOverflow},
      {"-1.5", kOverflow},
      {"1501e-1", kOverflow},
      {"1e-400", kOverflow},
      {"0.0000000000000000000001", kOverflow},
      {"150.0000000000000000000001", kOverflow},
      {"", kOverflow},
      {"abc", kOverflow},
      {"1.", kOverflow},
      {"+1", kOverflow},
      {"1e", kOverflow},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE("parse_integral(\"" + c.text + "\")");
    EXPECT_EQ(show(parse_integral(c.text)), show(c.want));
  }
}

TEST(FormatDecimal, ShortestExactForm) {
  struct row {
    std::int64_t dec;
    const char* want;
  };
  const row rows[] = {
      {0, "0"},
      {812'000'000, "812"},
      {812'500'000, "812.5"},
      {333'333, "0.333333"},
      {-100'000, "-0.1"},
      {1, "0.000001"},
      {-1, "-0.000001"},
      {10, "0.00001"},
      {1'000'000, "1"},
      {-1'000'000, "-1"},
      {100'000'000, "100"},
      {1'050'000, "1.05"},
      {kMax, "9223372036854.775807"},
      {kMin, "-9223372036854.775808"},
  };
  for (const auto& r : rows) {
    SCOPED_TRACE(r.dec);
    EXPECT_EQ(format_decimal(r.dec), r.want);
  }
}

TEST(FormatDecimal, RoundTripsThroughParse) {
  const std::int64_t values[] = {0,          1,          -1,   7,    100'000,  999'999, 1'000'001,
                                 -1'234'567, 42'000'000, kMax, kMin, kMax - 1, kMin + 1};
  for (std::int64_t v : values) {
    SCOPED_TRACE(v);
    EXPECT_EQ(show(parse_decimal(format_decimal(v))), show(v));
  }
}

// Plain lexemes ([-]digits[.digits], up to 12 and 6 digits) take a short path; the same
// number with an exponent takes the general one. Both must give the same value for every
// lexeme, near the short path's edges included.
TEST(DecimalParse, PlainLexemesAgreeWithTheGeneralPath) {
  std::vector<std::string> lexemes = {"0",
                                      "-0",
                                      "000",
                                      "0.000000",
                                      "1",
                                      "-1",
                                      "7.5",
                                      "-7.50",
                                      "0.1",
                                      "0.000001",
                                      "-0.000001",
                                      "123456789012",
                                      "-123456789012.999999",
                                      "999999999999.999999"};
  std::uint64_t x = 0x2545F4914F6CDD1Dull;
  auto next = [&x](std::uint64_t bound) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x % bound;
  };
  for (int k = 0; k < 5000; ++k) {
    std::string t = next(2) ? "" : "-";
    const std::uint64_t whole_digits = 1 + next(13);  // 1..13: one past the short path
    for (std::uint64_t d = 0; d < whole_digits; ++d) t += static_cast<char>('0' + next(10));
    if (next(3)) {
      t += '.';
      const std::uint64_t frac_digits = 1 + next(8);  // 1..8: past six rounds
      for (std::uint64_t d = 0; d < frac_digits; ++d) t += static_cast<char>('0' + next(10));
    }
    lexemes.push_back(t);
  }
  for (const auto& t : lexemes) {
    SCOPED_TRACE(t);
    EXPECT_EQ(show(parse_decimal(t)), show(parse_decimal(t + "e0")));
    EXPECT_EQ(show(parse_decimal(t)), show(parse_decimal(t + "E+0")));
  }
  EXPECT_EQ(show(parse_decimal("-123456789012.999999")), "-123456789012999999");
  EXPECT_EQ(show(parse_decimal("7.5")), "7500000");
  EXPECT_EQ(show(parse_decimal("1.0000005")), "1000001");  // rounds half away from zero
  EXPECT_EQ(show(parse_decimal("1.")), "nullopt");
  EXPECT_EQ(show(parse_decimal("-")), "nullopt");
  EXPECT_EQ(show(parse_decimal("1.5x")), "nullopt");
}

}  // namespace
}  // namespace carerules::detail
