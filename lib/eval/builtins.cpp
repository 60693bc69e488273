// The builtin functions and their table (plan/builtins.hpp): one function and one row each.
#include "plan/builtins.hpp"

#include <array>
#include <stdexcept>

#include "eval/eval.hpp"
#include "util/date.hpp"
#include "util/decimal.hpp"
#include "util/utf8.hpp"

namespace carerules::detail {
namespace {

value fn_len(builtin_context& cx, std::span<const value> a) {
  if (a[0].kind == vkind::string)
    return value::of_int(static_cast<std::int64_t>(count_code_points(a[0].s())));
  return cx.length(a[0]);
}

value fn_abs(builtin_context& cx, std::span<const value> a) {
  const value& x = a[0];
  if (x.i >= 0) return x;
  if (x.kind == vkind::integer) {
    auto r = int_neg(x.i);
    if (!r) cx.fail("integer overflow in `abs`");
    return value::of_int(*r);
  }
  auto r = dec_neg(x.i);
  if (!r) cx.fail("number overflow in `abs`");
  return value::of_number(*r);
}

// min and max: `none` (no colour, no level) contributes nothing and only `none` arguments
// give `none`; the worst colour decides a max and the best a min whatever is unknown;
// otherwise an unknown argument makes the result unknown.
value extreme_of(std::span<const value> args, bool is_max) {
  value best;
  bool have = false, unsure = false, extreme = false;
  for (const value& v : args) {
    if (!v.known()) {
      unsure = true;
      continue;
    }
    if (v.kind == vkind::none) continue;
    if (v.kind == vkind::color && v.i == (is_max ? 3 : 0)) extreme = true;
    if (!have) {
      best = v;
      have = true;
      continue;
    }
    auto c = compare_values(v, best);
    if (c && (is_max ? *c > 0 : *c < 0))
      best = v;
    else if (c && *c == 0 && v.kind == vkind::number)
      best = v;
  }
  if (extreme) return best;
  if (unsure) return value{};
  if (!have) return value::of(vkind::none, 0);
  return best;
}

value fn_min(builtin_context&, std::span<const value> a) { return extreme_of(a, false); }
value fn_max(builtin_context&, std::span<const value> a) { return extreme_of(a, true); }

template <std::optional<std::int64_t> (*to_int)(std::int64_t)>
value rounded(builtin_context& cx, std::span<const value> a) {
  if (a[0].kind == vkind::integer) return a[0];
  auto r = to_int(a[0].i);
  if (!r) cx.fail("overflow in rounding");
  return value::of_int(*r);
}

value fn_round_n(builtin_context& cx, std::span<const value> a) {
  auto x = a[0].kind == vkind::integer ? int_to_decimal(a[0].i) : checked(a[0].i);
  if (!x) cx.fail("number overflow in `round`");
  auto r = dec_round_digits(*x, a[1].i);
  if (!r) cx.fail("number overflow in `round`");
  return value::of_number(*r);
}

value fn_days_since(builtin_context& cx, std::span<const value> a) {
  return value::of_int(cx.asof() - a[0].i);
}

value fn_years_between(builtin_context&, std::span<const value> a) {
  return value::of_int(years_between(a[0].i, a[1].i));
}

value fn_year(builtin_context&, std::span<const value> a) { return value::of_int(year_of(a[0].i)); }

value fn_starts_with(builtin_context&, std::span<const value> a) {
  return value::of_bool(a[0].s().substr(0, a[1].s().size()) == a[1].s());
}

using A = arg_kind;
using R = result_kind;

constexpr builtin_row rows[] = {
    // name            id                      args   first              rest        result
    {"len", builtin::len, 1, 1, A::string_or_list, A::string_or_list, R::integer, false, fn_len},
    {"abs", builtin::abs, 1, 1, A::numeric, A::numeric, R::first_argument, false, fn_abs},
    {"min", builtin::min, 1, 0, A::ordered, A::ordered, R::ordered, true, fn_min},
    {"max", builtin::max, 1, 0, A::ordered, A::ordered, R::ordered, true, fn_max},
    {"round", builtin::round, 1, 1, A::numeric, A::numeric, R::integer, false, rounded<dec_round>},
    {"round", builtin::round_n, 2, 2, A::numeric, A::integer, R::number, false, fn_round_n},
    {"floor", builtin::floor, 1, 1, A::numeric, A::numeric, R::integer, false, rounded<dec_floor>},
    {"ceil", builtin::ceil, 1, 1, A::numeric, A::numeric, R::integer, false, rounded<dec_ceil>},
    {"days_since", builtin::days_since, 1, 1, A::date, A::date, R::integer, false, fn_days_since},
    {"years_between", builtin::years_between, 2, 2, A::date, A::date, R::integer, false,
     fn_years_between},
    {"year", builtin::year, 1, 1, A::date, A::date, R::integer, false, fn_year},
    {"starts_with", builtin::starts_with, 2, 2, A::string, A::string, R::boolean, false,
     fn_starts_with},
};

// row_of by id without a search: rows[] in the order of the enum.
constexpr bool rows_in_enum_order() {
  for (std::size_t i = 0; i < std::size(rows); ++i)
    if (static_cast<std::size_t>(rows[i].id) != i) return false;
  return true;
}
static_assert(rows_in_enum_order(), "builtin rows must follow the order of enum builtin");

}  // namespace

std::span<const builtin_row> builtin_rows() { return rows; }

const builtin_row& row_of(builtin id) { return rows[static_cast<std::size_t>(id)]; }

}  // namespace carerules::detail
