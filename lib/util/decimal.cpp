#include "util/decimal.hpp"

#include <algorithm>
#include <cstddef>
#include <limits>

namespace carerules::detail {

namespace {

// __extension__ keeps -Wpedantic quiet about the GCC/Clang 128-bit integer.
__extension__ typedef __int128 i128;
__extension__ typedef unsigned __int128 u128;

constexpr i128 int64_min = std::numeric_limits<std::int64_t>::min();
constexpr i128 int64_max = std::numeric_limits<std::int64_t>::max();

checked narrow(i128 v) {
  if (v < int64_min || v > int64_max) return std::nullopt;
  return static_cast<std::int64_t>(v);
}

// n / d rounded half away from zero. d != 0; callers keep |n| far inside i128,
// so doubling the remainder cannot overflow.
i128 div_round(i128 n, i128 d) {
  i128 q = n / d;
  i128 r = n % d;
  i128 abs_r = r < 0 ? -r : r;
  i128 abs_d = d < 0 ? -d : d;
  if (2 * abs_r >= abs_d) q += ((n < 0) != (d < 0)) ? -1 : 1;
  return q;
}

// C++ division truncates toward zero, so floor and ceiling correct it by the
// remainder.
i128 div_floor(i128 n, i128 d) {
  i128 q = n / d;
  if (n % d != 0 && ((n < 0) != (d < 0))) --q;
  return q;
}

i128 div_ceil(i128 n, i128 d) {
  i128 q = n / d;
  if (n % d != 0 && ((n < 0) == (d < 0))) ++q;
  return q;
}

i128 pow10_i128(std::int64_t n) {
  i128 p = 1;
  for (std::int64_t i = 0; i < n; ++i) p *= 10;
  return p;
}

bool is_ascii_digit(char c) { return c >= '0' && c <= '9'; }

// Exponents beyond this already put any value far outside int64 or far below
// the last kept digit, so saturating here bounds the arithmetic without
// changing a result.
constexpr i128 exponent_cap = static_cast<i128>(1) << 80;

// A number text reduced to an exact value: sign * D * 10^exponent, where D is
// the string of significant digits (no leading or trailing zeros; zero has
// none). The digits stay in the text, straddling the '.', so a mantissa of any
// length costs nothing and cannot overflow anything.
class exact_number {
 public:
  bool parse(std::string_view text);

  bool negative() const { return negative_; }
  bool is_zero() const { return count() == 0; }
  i128 exponent() const { return exponent_; }
  std::size_t count() const { return end_ - begin_; }
  // k-th significant digit, 0-based from the most significant.
  int digit(std::size_t k) const { return raw(begin_ + k) - '0'; }

 private:
  char raw(std::size_t pos) const {
    return pos < int_part_.size() ? int_part_[pos] : frac_part_[pos - int_part_.size()];
  }

  bool negative_ = false;
  std::string_view int_part_;
  std::string_view frac_part_;
  // Bounds of the significant digits in int_part_ + frac_part_.
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
  i128 exponent_ = 0;
};

bool exact_number::parse(std::string_view text) {
  std::size_t i = 0;
  const std::size_t n = text.size();
  if (i < n && text[i] == '-') {
    negative_ = true;
    ++i;
  }
  const std::size_t int_begin = i;
  while (i < n && is_ascii_digit(text[i])) ++i;
  if (i == int_begin) return false;
  int_part_ = text.substr(int_begin, i - int_begin);
  if (i < n && text[i] == '.') {
    ++i;
    const std::size_t frac_begin = i;
    while (i < n && is_ascii_digit(text[i])) ++i;
    if (i == frac_begin) return false;
    frac_part_ = text.substr(frac_begin, i - frac_begin);
  }
  i128 exp = 0;
  if (i < n && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    bool exp_negative = false;
    if (i < n && (text[i] == '+' || text[i] == '-')) {
      exp_negative = text[i] == '-';
      ++i;
    }
    const std::size_t exp_begin = i;
    while (i < n && is_ascii_digit(text[i])) {
      if (exp < exponent_cap) exp = exp * 10 + (text[i] - '0');
      ++i;
    }
    if (i == exp_begin) return false;
    if (exp_negative) exp = -exp;
  }
  if (i != n) return false;

  const std::size_t total = int_part_.size() + frac_part_.size();
  begin_ = 0;
  while (begin_ < total && raw(begin_) == '0') ++begin_;
  end_ = total;
  if (begin_ == total) {
    begin_ = end_ = 0;
    exponent_ = 0;
    return true;
  }
  while (raw(end_ - 1) == '0') --end_;
  exponent_ = exp - static_cast<i128>(frac_part_.size()) + static_cast<i128>(total - end_);
  return true;
}

// Magnitude of D * 10^shift rounded half away from zero to an integer, or
// nullopt when it exceeds 2^63 (the largest magnitude an int64 of either sign
// can need).
std::optional<u128> scaled_magnitude(const exact_number& x, i128 shift) {
  constexpr u128 limit = static_cast<u128>(1) << 63;
  if (x.is_zero()) return 0;
  // Digits that land left of the decimal point after shifting; 2^63 has 19
  // digits, so more than 19 is out of range whatever they are.
  const i128 whole = static_cast<i128>(x.count()) + shift;
  if (whole > 19) return std::nullopt;
  if (whole < 0) return 0;  // below 0.1, so even the first dropped digit is 0
  u128 value = 0;
  const std::size_t kept = static_cast<std::size_t>(whole);
  for (std::size_t k = 0; k < kept; ++k) {
    value = value * 10 + static_cast<u128>(k < x.count() ? x.digit(k) : 0);
  }
  // Half away from zero on a magnitude: only the first dropped digit matters.
  if (kept < x.count() && x.digit(kept) >= 5) ++value;
  if (value > limit) return std::nullopt;
  return value;
}

checked apply_sign(bool negative, u128 magnitude) {
  if (negative) {
    return narrow(-static_cast<i128>(magnitude));
  }
  return narrow(static_cast<i128>(magnitude));
}

}  // namespace

checked int_to_decimal(std::int64_t i) {
  if (i > decimal_max_units || i < -decimal_max_units) return std::nullopt;
  return i * decimal_scale;
}

checked int_add(std::int64_t a, std::int64_t b) {
  std::int64_t r;
  if (__builtin_add_overflow(a, b, &r)) return std::nullopt;
  return r;
}

checked int_sub(std::int64_t a, std::int64_t b) {
  std::int64_t r;
  if (__builtin_sub_overflow(a, b, &r)) return std::nullopt;
  return r;
}

checked int_mul(std::int64_t a, std::int64_t b) {
  std::int64_t r;
  if (__builtin_mul_overflow(a, b, &r)) return std::nullopt;
  return r;
}

checked int_mod(std::int64_t a, std::int64_t b) {
  if (b == 0) return std::nullopt;
  // INT64_MIN % -1 traps on x86 although the result, 0, is representable.
  if (b == -1) return 0;
  return a % b;
}

checked int_neg(std::int64_t a) { return int_sub(0, a); }

checked dec_add(std::int64_t a, std::int64_t b) { return int_add(a, b); }
checked dec_sub(std::int64_t a, std::int64_t b) { return int_sub(a, b); }
checked dec_neg(std::int64_t a) { return int_neg(a); }

checked dec_mul(std::int64_t a, std::int64_t b) {
  // |a * b| < 2^126, inside i128.
  return narrow(div_round(static_cast<i128>(a) * b, decimal_scale));
}

checked dec_div(std::int64_t a, std::int64_t b) {
  if (b == 0) return std::nullopt;
  return narrow(div_round(static_cast<i128>(a) * decimal_scale, b));
}

checked dec_round(std::int64_t a) { return narrow(div_round(a, decimal_scale)); }
checked dec_floor(std::int64_t a) { return narrow(div_floor(a, decimal_scale)); }
checked dec_ceil(std::int64_t a) { return narrow(div_ceil(a, decimal_scale)); }

checked dec_round_digits(std::int64_t a, std::int64_t n) {
  if (n >= 6) return a;
  // |a| < 10^19, so a unit of 10^20 or more rounds every value to zero. Testing
  // n first also keeps 6 - n from overflowing for hostile n.
  if (n <= -14) return 0;
  const i128 unit = pow10_i128(6 - n);
  return narrow(div_round(a, unit) * unit);
}

int compare_dec_int(std::int64_t dec, std::int64_t i) {
  const i128 lhs = dec;
  const i128 rhs = static_cast<i128>(i) * decimal_scale;
  return lhs < rhs ? -1 : (lhs > rhs ? 1 : 0);
}

checked parse_decimal(std::string_view text) {
  exact_number x;
  if (!x.parse(text)) return std::nullopt;
  // The scaled value is D * 10^(exponent + 6).
  auto magnitude = scaled_magnitude(x, x.exponent() + 6);
  if (!magnitude) return std::nullopt;
  return apply_sign(x.negative(), *magnitude);
}

checked parse_integral(std::string_view text) {
  exact_number x;
  if (!x.parse(text)) return std::nullopt;
  if (x.is_zero()) return 0;
  // Trailing zeros are already folded into the exponent, so a negative exponent
  // means a nonzero fractional digit.
  if (x.exponent() < 0) return std::nullopt;
  auto magnitude = scaled_magnitude(x, x.exponent());
  if (!magnitude) return std::nullopt;
  return apply_sign(x.negative(), *magnitude);
}

std::string format_decimal(std::int64_t dec) {
  // Work on the unsigned magnitude so INT64_MIN needs no special case.
  const bool negative = dec < 0;
  const std::uint64_t magnitude =
      negative ? 0 - static_cast<std::uint64_t>(dec) : static_cast<std::uint64_t>(dec);
  const auto scale = static_cast<std::uint64_t>(decimal_scale);
  std::string out;
  if (negative) out += '-';
  out += std::to_string(magnitude / scale);
  std::uint64_t frac = magnitude % scale;
  if (frac != 0) {
    char digits[6];
    for (int k = 5; k >= 0; --k) {
      digits[k] = static_cast<char>('0' + frac % 10);
      frac /= 10;
    }
    int len = 6;
    while (digits[len - 1] == '0') --len;
    out += '.';
    out.append(digits, static_cast<std::size_t>(len));
  }
  return out;
}

namespace {

// Whether the value of a JSON number's text has at most six fractional digits, so that a
// decimal holds it exactly: its digits without trailing zeros, times ten to the power the
// exponent and the point give, must not reach below 10^-6.
bool six_digits_or_fewer(std::string_view t) {
  const std::size_t e = t.find_first_of("eE");
  const std::string_view mantissa = t.substr(0, e);
  long long exponent = 0;  // saturating: only its sign and size up to a few digits matter
  if (e != std::string_view::npos) {
    std::size_t i = e + 1;
    const bool negative = i < t.size() && t[i] == '-';
    if (i < t.size() && (t[i] == '-' || t[i] == '+')) ++i;
    for (; i < t.size(); ++i)
      exponent = std::min<long long>(exponent * 10 + (t[i] - '0'), 1'000'000);
    if (negative) exponent = -exponent;
  }
  long long power = exponent;  // of the last digit kept
  std::size_t end = mantissa.size();
  const std::size_t dot = mantissa.find('.');
  if (dot != std::string_view::npos) power -= static_cast<long long>(end - dot - 1);
  for (; end > 0 && (mantissa[end - 1] == '0' || mantissa[end - 1] == '.'); --end)
    if (mantissa[end - 1] == '0') ++power;
  return end == 0 || power >= -6;
}

}  // namespace

std::string number_text(std::string_view lexeme) {
  if (const checked i = parse_integral(lexeme)) return std::to_string(*i);
  if (six_digits_or_fewer(lexeme))
    if (const checked d = parse_decimal(lexeme)) return format_decimal(*d);
  return std::string(lexeme);  // more digits than a decimal keeps, or out of range: as written
}

}  // namespace carerules::detail
