// What the two binders share: checking a scalar against its declared field and converting
// it, and preparing a record instance for binding and finishing it.
//
// The event binder (bind.cpp) takes any input and says what is wrong with it; the plain
// reader (plain_reader.cpp) takes only JSON text that binds without a fault and hands the
// rest to the event binder. Both convert through convert_scalar, so a value binds to the same
// fact whichever of them read it.
#pragma once

#include <cstdint>
#include <string_view>

#include "facts/facts.hpp"
#include "util/decimal.hpp"

namespace carerules::detail {

// What a fact event carried, for checks and messages.
enum class in_kind : std::uint8_t { string, number, boolean, date, object, array };

struct input {
  in_kind kind;
  std::string_view text;  // string: the string; number: the lexeme
  bool b = false;
  std::int64_t days = 0;
  // number: the lexeme is a plain integer of at most twelve digits, of this value (the plain
  // reader works it out as it scans; others leave it to the lexeme).
  bool has_small = false;
  std::int64_t small = 0;
};

enum class conversion : std::uint8_t {
  ok,
  mismatch,        // the wrong kind, outside the range or the enum, not a date or colour
  outside_int,     // an integral number outside the int range
  outside_number,  // a number outside the number range
  too_long,        // a string longer than a fact holds
};

// Checks `in` against field `f` (a scalar, or a list<T>'s element type) and converts it into
// `v`; a string's text is copied into `strings`. `v` is set only on `ok`.
conversion convert_scalar(const field_schema& f, const input& in, value& v, text_store& strings);

// The usual number, a plain integer of at most twelve digits (input::small) for an int or a
// number without an enum, when it binds: true with `v` set. False says only that
// convert_scalar must decide. convert_scalar tries this first; the plain reader calls it
// inline.
inline bool convert_small(const field_schema& f, std::int64_t small, value& v) {
  if ((f.type != scalar_type::int_ && f.type != scalar_type::number) || !f.enum_numbers.empty())
    return false;
  // Twelve digits scaled by 10^6 stay below 10^18: no overflow.
  const std::int64_t x = f.type == scalar_type::number ? small * decimal_scale : small;
  if (f.has_range && (x < f.range_low || x > f.range_high)) return false;
  v = f.type == scalar_type::int_ ? value::of_int(x) : value::of_number(x);
  return true;
}

// Empties an instance for binding, keeping the memory of its lists.
void reset_instance(record_instance& r, const record_schema& s);

// Absent facts with a declared default take it, in the record and in its list elements.
void apply_defaults(const record_schema& s, record_instance& r);

}  // namespace carerules::detail
