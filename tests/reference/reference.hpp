// A reference evaluator for the differential check (house style: "a small tree-walking
// reference evaluator in tests/ that must agree with the plan evaluator").
//
// Written from the language specification alone (docs/reference/language.md): it walks the parsed
// AST directly, reads facts from a boost::json DOM by path at the moment an expression asks for
// them, and evaluates declarations lazily with memoisation (so no dependency order is needed). It
// shares only the parser with the production engine; the checker, the plan, the binder and the
// evaluation loop are not used. It is meant to be obviously right rather than fast: values carry
// their own type and every operation decides what to do from the operands it was given.
//
// It computes outcomes only (statuses and values); evidence and `missing` are not modelled.
#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ast/ast.hpp"
#include "ast/source.hpp"

namespace carerules::reference {

// ---- values -------------------------------------------------------------------------------

enum class rkind : std::uint8_t {
  unknown,
  none,
  boolean,
  integer,
  number,
  string,
  date,
  color,
  level,
  list,
  record,
  hazard,
};

struct rvalue {
  rkind k = rkind::unknown;
  std::int64_t i = 0;  // boolean 0/1, integer, number scaled by 10^6, date day, colour,
                       // level position, hazard index
  std::string s;       // string
  const std::vector<std::string>* scale = nullptr;       // level: its labels
  std::shared_ptr<const std::vector<rvalue>> items;      // list
  const boost::json::object* obj = nullptr;              // record: the element (may be
  const std::vector<ast::input_decl>* fields = nullptr;  //   null if it was absent)
  bool member_unknown = false;  // hazard element: undetermined/error, membership unknown

  bool known() const { return k != rkind::unknown; }
  static rvalue unknown_value() { return {}; }
  static rvalue boolean_of(bool b) {
    rvalue v;
    v.k = rkind::boolean;
    v.i = b ? 1 : 0;
    return v;
  }
  static rvalue integer_of(std::int64_t x) {
    rvalue v;
    v.k = rkind::integer;
    v.i = x;
    return v;
  }
  static rvalue number_of(std::int64_t x) {
    rvalue v;
    v.k = rkind::number;
    v.i = x;
    return v;
  }
  static rvalue date_of(std::int64_t x) {
    rvalue v;
    v.k = rkind::date;
    v.i = x;
    return v;
  }
  static rvalue color_of(std::int64_t x) {
    rvalue v;
    v.k = rkind::color;
    v.i = x;
    return v;
  }
  static rvalue string_of(std::string x) {
    rvalue v;
    v.k = rkind::string;
    v.s = std::move(x);
    return v;
  }
};

// "unknown", "true", "12", "3.5", "\"text\"", "@2024-06-01", "red", "level 2", "none", ...
std::string describe(const rvalue& v);

// Scalar values equal for the purpose of the differential check: numbers compare by value
// (an int 3 and a number 3.000000 agree), everything else by kind and payload.
bool same_value(const rvalue& a, const rvalue& b);

// ---- dates --------------------------------------------------------------------------------

std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d);
void civil_from_days(std::int64_t z, std::int64_t& y, unsigned& m, unsigned& d);
std::optional<std::int64_t> parse_iso_date(std::string_view s);  // strict YYYY-MM-DD
std::string format_iso_date(std::int64_t day);

// ---- loading ------------------------------------------------------------------------------

// The parsed files of one ruleset and its imports, in report order (imports first, the top
// file last), sharing one arena.
struct loaded_ruleset {
  ast::source_set sources;
  ast::expr_arena arena;
  std::vector<ast::ruleset_file> files;
  std::string error;  // non-empty: a file could not be read or parsed
  const ast::ruleset_file& top() const { return files.back(); }
};

// Parses `top` and, recursively, the files it imports (relative to the importing file).
loaded_ruleset load_file(const std::filesystem::path& top);
// Parses ruleset text without imports.
loaded_ruleset load_text(std::string text);

// ---- outcomes -----------------------------------------------------------------------------

struct let_outcome {
  std::string name;
  std::string status;  // known | unknown | error
  rvalue value;
};
struct hazard_outcome {
  std::string id;
  std::string status;  // present | absent | undetermined | error
};
struct item_outcome {
  std::string id;
  std::string status;  // awarded | not_awarded | undetermined | error
  rvalue points;       // signed contribution (integer or number), 0 when not awarded
};
struct score_outcome {
  std::string name;
  rvalue total;  // sum of what was awarded, clamped, as the report shows it
  bool provisional = false;
  bool error = false;  // some item is in error
  std::vector<std::pair<std::string, rvalue>> sections;
  std::vector<item_outcome> items;
};
struct grade_outcome {
  std::string name;
  std::string value;  // label, "none", "undetermined" or "error"
};
struct outcomes {
  std::vector<hazard_outcome> hazards;  // report order
  std::vector<let_outcome> lets;
  std::vector<score_outcome> scores;
  std::vector<grade_outcome> grades;
};

class reference_evaluator {
 public:
  // `facts` must outlive the evaluator; a non-object is treated as an empty record.
  reference_evaluator(const loaded_ruleset& rs, const boost::json::value& facts, std::int64_t asof);
  ~reference_evaluator();
  reference_evaluator(const reference_evaluator&) = delete;
  reference_evaluator& operator=(const reference_evaluator&) = delete;

  // Every declaration's outcome.
  outcomes run();
  // Whether one `expect` of a test block holds.
  bool expect_holds(const ast::expect_stmt& e);
  // Whether every expect of the block holds.
  bool test_passes(const ast::test_decl& t);

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace carerules::reference
