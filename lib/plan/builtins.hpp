// Builtin functions, one row each. The checker reads a row for the arity and the argument
// and result types, its "did you mean" for the names, the evaluator for the function to
// call, and docs/reference/language.md lists the same names. Adding a builtin: a row here
// (lib/eval/builtins.cpp defines the table beside the functions), its function there, a case
// in the reference evaluator (tests/reference/reference.cpp, `call`), a conformance test in
// tests/lang/, a line in the manual. See docs/ARCHITECTURE.md.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "facts/facts.hpp"

namespace carerules::detail {

// What a call node carries in its `sub` (plan.hpp, opcode::call).
enum class builtin : std::uint8_t {
  len,
  abs,
  min,
  max,
  round,
  round_n,  // round(x, n): a row of its own, picked by its arity
  floor,
  ceil,
  days_since,
  years_between,
  year,
  starts_with,
};

// The type an argument must have.
enum class arg_kind : std::uint8_t {
  numeric,         // int or number
  integer,         // int
  date,            // date
  string,          // string
  string_or_list,  // string, list or `hazards`
  ordered,         // all arguments of one ordered type (numbers, colours, dates, strings,
                   // levels of one scale); the result has that type
};

// The type of the result.
enum class result_kind : std::uint8_t { integer, number, boolean, first_argument, ordered };

// What a builtin may ask of the evaluation it runs in.
class builtin_context {
 public:
  virtual std::int64_t asof() const = 0;
  // Ends the declaration being evaluated with an evaluation error.
  [[noreturn]] virtual void fail(const std::string& message) const = 0;
  // The number of elements of a list value (facts list, list literal, `hazards`); unknown
  // when membership is (an undetermined hazard).
  virtual value length(const value& list) = 0;

 protected:
  ~builtin_context() = default;
};

// Arguments arrive evaluated, all of them (an error in any is the declaration's error).
using builtin_fn = value (*)(builtin_context&, std::span<const value> args);

struct builtin_row {
  std::string_view name;
  builtin id;
  std::uint8_t min_args, max_args;  // max_args 0: any number
  arg_kind first, rest;             // the first argument's type, then every other's
  result_kind result;
  bool sees_unknown;  // the function gets unknown arguments (min, max); otherwise any unknown
                      // argument makes the result unknown without a call
  builtin_fn eval;
};

// Every builtin, one row per name and arity.
std::span<const builtin_row> builtin_rows();
const builtin_row& row_of(builtin id);

// Calls the checker lowers itself, since they take a hazard id or an input path rather than
// values: not rows, but names all the same (for "did you mean").
inline constexpr std::string_view special_forms[] = {"exists", "missing", "present"};

}  // namespace carerules::detail
