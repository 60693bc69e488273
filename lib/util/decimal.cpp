#include "util/decimal.hpp"

#include <algorithm>
#include <cstddef>
#include <limits>
#include <string>

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

// The common lexeme, [-]digits[.digits] with at most 12 integral and 6 fractional digits:
// exact in 64 bits with no rounding. Anything else (an exponent, more digits, not a number)
// is left to exact_number; nullopt means "not this form", not "not a number".
std::optional<std::int64_t> parse_plain_decimal(std::string_view t) {
  std::size_t i = 0;
  const std::size_t n = t.size();
  const bool negative = n > 0 && t[0] == '-';
  if (negative) ++i;
  const std::size_t int_begin = i;
  std::int64_t whole = 0;
  for (; i < n && is_ascii_digit(t[i]); ++i) {
    if (i - int_begin == 12) return std::nullopt;
    whole = whole * 10 + (t[i] - '0');
  }
  if (i == int_begin) return std::nullopt;
  std::int64_t frac = 0;
  int frac_digits = 0;
  if (i < n && t[i] == '.') {
    ++i;
    for (; i < n && is_ascii_digit(t[i]); ++i) {
      if (frac_digits == 6) return std::nullopt;
      frac = frac * 10 + (t[i] - '0');
      ++frac_digits;
    }
    if (frac_digits == 0) return std::nullopt;
  }
  if (i != n) return std::nullopt;
  for (; frac_digits < 6; ++frac_digits) frac *= 10;
  const std::int64_t scaled = whole * decimal_scale + frac;
  return negative ? -scaled : scaled;
}

checked parse_decimal(std::string_view text) {
  if (const auto plain = parse_plain_decimal(text)) return *plain;
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

// A JSON number's value as sign, digits (no leading or trailing zeros) and the power of ten
// of the last digit: 1.50 is (+, "15", -1), 1E-7 and 0.0000001 are (+, "1", -7). False when
// the exponent is beyond any sensible size (kept as written then).
bool split_number(std::string_view t, bool& negative, std::string& digits, long long& power) {
  negative = !t.empty() && t.front() == '-';
  if (negative) t.remove_prefix(1);
  const std::size_t e = t.find_first_of("eE");
  long long exponent = 0;
  if (e != std::string_view::npos) {
    std::size_t i = e + 1;
    const bool minus = i < t.size() && t[i] == '-';
    if (i < t.size() && (t[i] == '-' || t[i] == '+')) ++i;
    for (; i < t.size(); ++i) {
      if (t[i] < '0' || t[i] > '9') return false;
      exponent = exponent * 10 + (t[i] - '0');
      if (exponent > 100'000) return false;
    }
    if (minus) exponent = -exponent;
  }
  const std::string_view mantissa = t.substr(0, e);
  digits.clear();
  power = exponent;
  bool fraction = false;
  for (char c : mantissa) {
    if (c == '.') {
      fraction = true;
    } else {
      if (c < '0' || c > '9') return false;
      if (fraction) --power;
      if (!digits.empty() || c != '0') digits.push_back(c);
    }
  }
  while (!digits.empty() && digits.back() == '0') {
    digits.pop_back();
    ++power;
  }
  return true;
}

// The shortest exact text of a number outside what the reports' numbers hold: plain (12345,
// 0.1234567) or scientific (1e-7, 1e20), whichever is shorter, plain on a tie.
std::string canonical_number(bool negative, const std::string& digits, long long power) {
  std::string out = negative ? "-" : "";
  if (digits.empty()) return "0";
  const auto n = static_cast<long long>(digits.size());
  std::string scientific = digits.substr(0, 1);
  if (n > 1) scientific += "." + digits.substr(1);
  scientific += "e" + std::to_string(power + n - 1);
  const long long plain_size = power >= 0 ? n + power : std::max(n, -power) + 1 + (n <= -power);
  if (plain_size > static_cast<long long>(scientific.size())) return out + scientific;
  if (power >= 0) return out + digits + std::string(static_cast<std::size_t>(power), '0');
  if (n > -power) {
    const auto point = static_cast<std::size_t>(n + power);  // digits before the point
    return out + digits.substr(0, point) + "." + digits.substr(point);
  }
  return out + "0." + std::string(static_cast<std::size_t>(-power - n), '0') + digits;
}

}  // namespace

std::string number_text(std::string_view lexeme) {
  if (const checked i = parse_integral(lexeme)) return std::to_string(*i);
  bool negative = false;
  std::string digits;
  long long power = 0;
  if (!split_number(lexeme, negative, digits, power)) return std::string(lexeme);
  if (power >= -6)  // at most six fractional digits: a decimal holds it exactly, if in range
    if (const checked d = parse_decimal(lexeme)) return format_decimal(*d);
  return canonical_number(negative, digits, power);
}

}  // namespace carerules::detail
