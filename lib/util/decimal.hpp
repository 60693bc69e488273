// Exact arithmetic for the rules language's `int` and `number` types.
//
// `int` is a plain std::int64_t. `number` is a decimal with six fractional digits held as a
// scaled 64-bit integer (value * 10^6), so 0.1 + 0.2 == 0.3 exactly. Every operation reports
// overflow instead of wrapping; `*` and `/` round half away from zero to six digits.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace carerules::detail {

inline constexpr std::int64_t decimal_scale = 1'000'000;
// The largest magnitude a `number` holds, in whole units (INT64_MAX / 10^6).
inline constexpr std::int64_t decimal_max_units = INT64_MAX / decimal_scale;

// Result of a checked operation: nullopt means overflow or division by zero.
using checked = std::optional<std::int64_t>;

// int -> scaled decimal; nullopt when |i| exceeds the decimal range.
checked int_to_decimal(std::int64_t i);

checked int_add(std::int64_t a, std::int64_t b);
checked int_sub(std::int64_t a, std::int64_t b);
checked int_mul(std::int64_t a, std::int64_t b);
checked int_mod(std::int64_t a, std::int64_t b);  // sign of a (C++ %), nullopt on b == 0
checked int_neg(std::int64_t a);

// Operands and results are scaled decimals.
checked dec_add(std::int64_t a, std::int64_t b);
checked dec_sub(std::int64_t a, std::int64_t b);
checked dec_mul(std::int64_t a, std::int64_t b);  // rounded half away from zero
checked dec_div(std::int64_t a, std::int64_t b);  // rounded half away from zero; nullopt on b == 0
checked dec_neg(std::int64_t a);

// Rounding a scaled decimal: to an int (round/floor/ceil), or to n fractional digits (n may
// be negative: round(1234.5, -2) == 1200; n > 6 leaves the value as is).
checked dec_round(std::int64_t a);  // half away from zero, result an int (unscaled)
checked dec_floor(std::int64_t a);
checked dec_ceil(std::int64_t a);
checked dec_round_digits(std::int64_t a, std::int64_t n);  // result scaled

// Three-way comparison of a scaled decimal with an int, exact.
int compare_dec_int(std::int64_t dec, std::int64_t i);

// Parses a decimal text in JSON number syntax or the language's literal syntax
// (optional '-', digits, optional '.digits', optional exponent e/E[+-]digits), rounding
// half away from zero to six fractional digits. nullopt when the text is malformed or the
// value lies outside the decimal range.
checked parse_decimal(std::string_view text);

// Parses an integer-valued number text ("150", "150.0", "1e2", "-3") to int64. nullopt when
// the text is malformed, not integral, or outside int64.
checked parse_integral(std::string_view text);

// Writes a scaled decimal in its shortest exact form: "812", "812.5", "0.333333", "-0.1".
std::string format_decimal(std::int64_t dec);

// A JSON number's text as the reports write numbers, so that one value gives one text however
// it was written: "7.50" -> "7.5", "1e2" and "100.0" -> "100". A number outside the int and
// decimal ranges, or with more than six fractional digits, gets its shortest exact text
// ("1E-7" and "0.0000001" -> "1e-7", "1e+20" -> "1e20", "0.1234567" as it is): two different
// numbers never give one text, and one number gives one text (but for exponents past 100 000,
// which keep the text they came with).
std::string number_text(std::string_view lexeme);

}  // namespace carerules::detail
