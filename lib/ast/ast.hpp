// The abstract syntax of a ruleset, as lib/parse produces it and lib/check consumes it.
//
// Expressions live in one arena (`expr_arena`) shared by every file of a compilation, so
// imported declarations and the importer's refer to expressions the same way: by `expr_id`.
// Positions are (file index, 1-based line, 1-based column in code points). Byte spans
// (`span`) point into the file's text so that tools can show the source of a clause.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace carerules::ast {

struct pos {
  std::uint32_t file = 0;
  std::uint32_t line = 0;
  std::uint32_t column = 0;
};

// Byte offsets [begin, end) into the file's text.
struct span {
  std::uint32_t begin = 0;
  std::uint32_t end = 0;
};

using expr_id = std::uint32_t;
inline constexpr expr_id no_expr = UINT32_MAX;

enum class expr_kind : std::uint8_t {
  lit_bool,    // i: 0 or 1
  lit_int,     // i: the value
  lit_number,  // i: value scaled by 10^6
  lit_string,  // text: the decoded string
  lit_date,    // i: day number (days since 1970-01-01)
  lit_color,   // i: 0 blue, 1 yellow, 2 orange, 3 red
  lit_none,    // `none`
  lit_list,    // args: the elements
  path,        // segments: a.b.c (first segment may name a bound variable, let, score ...)
  asof,        // `asof`
  hazards,     // `hazards`
  unary,       // op: neg or not_; args[0]
  binary,      // op; args[0], args[1]
  coalesce,    // args[0] ?? args[1]
  if_else,     // args: cond, then, else
  call,        // text: function or table name; args: arguments
  aggregate,   // text: count/any/all/sum/min/max/avg; var: bound name;
               // args: {source, where (or no_expr), value (or no_expr)}
  member,      // args[0] . text  (a field of a non-path expression; rare)
};

enum class op : std::uint8_t {
  or_,
  and_,
  not_,
  eq,
  ne,
  lt,
  le,
  gt,
  ge,
  in,
  not_in,
  add,
  sub,
  mul,
  div,
  mod,
  neg,
};

struct expr {
  expr_kind kind{};
  op oper{};
  pos where;    // first character of the expression; for unary/binary: of the operator
  span source;  // bytes of the whole expression in its file
  std::int64_t i = 0;
  std::string text;
  std::string var;
  std::vector<std::string> segments;
  std::vector<expr_id> args;
};

struct expr_arena {
  std::vector<expr> nodes;
  expr_id add(expr e) {
    nodes.push_back(std::move(e));
    return static_cast<expr_id>(nodes.size() - 1);
  }
  const expr& operator[](expr_id id) const { return nodes[id]; }
  expr& operator[](expr_id id) { return nodes[id]; }
};

// ---- inputs -------------------------------------------------------------------------------

enum class type_kind : std::uint8_t {
  bool_,
  int_,
  number,
  string,
  date,
  color,
  enum_,
  list_record,
  list_scalar,
};

struct input_decl;

struct type_spec {
  type_kind kind{};
  pos where;
  std::vector<expr_id> enum_values;     // enum_: literal expressions (strings or numbers)
  type_kind element = type_kind::int_;  // list_scalar: element type (a scalar kind)
  std::vector<expr_id> element_enum;    // list_scalar of enum: its values
};

struct input_decl {
  pos where;
  std::vector<std::string> path;  // dotted segments
  type_spec type;
  expr_id range_low = no_expr;  // `in LOW..HIGH`: literal expressions
  expr_id range_high = no_expr;
  expr_id default_value = no_expr;  // `= literal`
  std::optional<std::string> label;
  std::vector<input_decl> fields;  // list_record: the record's fields
};

// ---- declarations -------------------------------------------------------------------------

struct let_decl {
  pos where;
  std::string name;
  expr_id value = no_expr;
};

enum class rectify_action : std::uint8_t { immediate, deadline, suspend, close };

struct hazard_decl {
  pos where;  // of the id
  std::string id;
  std::string title;
  std::string category = "other";
  bool major = true;  // severity major | general
  std::optional<std::string> cite;
  expr_id when = no_expr;
  std::optional<rectify_action> action;  // absent: default by severity
  std::optional<std::int64_t> within_days;
  std::optional<std::string> advice;
};

struct item_decl {
  pos where;  // of the id
  std::string id;
  std::string label;
  bool deduct = false;
  int section = -1;  // index into score_decl::sections, -1 at the score's top level
  expr_id points = no_expr;
  expr_id when = no_expr;  // no_expr: always awarded
};

struct section_decl {
  pos where;
  std::string name;
  expr_id max = no_expr;  // literal, or no_expr for no upper clamp
};

struct score_decl {
  pos where;
  std::string name;
  expr_id max = no_expr;
  std::vector<section_decl> sections;
  std::vector<item_decl> items;  // in declaration order, sections interleaved
};

struct grade_line {
  pos where;  // of the label
  std::uint32_t line = 0;
  bool is_none = false;          // label `none`
  std::string label;             // colour name or level label (when not none)
  expr_id label_expr = no_expr;  // the label literal
  bool otherwise = false;
  std::uint32_t otherwise_end = 0;  // byte offset just past `otherwise`, when otherwise
  expr_id cond = no_expr;           // `when` condition (no_expr when otherwise)
};

struct grade_decl {
  pos where;
  std::string name;
  bool color_scale = true;
  std::vector<std::string> levels;  // levels(...) labels, lowest first
  std::vector<grade_line> lines;
};

struct table_param {
  pos where;
  std::string name;
  type_spec type;
};

enum class cell_kind : std::uint8_t { any, compare, in_list, range };

struct table_cell {
  pos where;
  cell_kind kind = cell_kind::any;
  op oper = op::eq;     // compare: eq ne lt le gt ge (a bare literal is eq)
  expr_id a = no_expr;  // compare: the literal; range: low; in_list: lit_list
  expr_id b = no_expr;  // range: high
};

struct table_row {
  pos where;
  bool otherwise = false;         // `otherwise => r` (when form)
  expr_id cond = no_expr;         // `when cond => r` (when form)
  std::vector<table_cell> cells;  // pipe form: one per parameter
  expr_id result = no_expr;       // a literal
};

struct table_decl {
  pos where;
  std::string name;
  std::vector<table_param> params;
  type_spec result;
  bool pipe_form = false;
  std::vector<table_row> rows;
};

enum class expect_kind : std::uint8_t {
  hazard,
  not_hazard,
  undetermined,
  error,
  provisional,
  expression,
};

struct expect_stmt {
  pos where;  // of `expect`
  expect_kind kind{};
  std::string name;  // hazard id / grade / score name (all kinds but expression)
  pos name_where;
  expr_id e = no_expr;  // expression kind
  span source;          // the text after `expect`, for messages
};

struct test_decl {
  pos where;
  std::string name;
  std::optional<std::int64_t> asof;  // day number; required (checker reports when absent)
  std::string given;                 // the JSON text between and including the braces
  pos given_where;
  bool has_given = false;
  std::vector<expect_stmt> expects;
};

struct import_decl {
  pos where;
  std::string path;
};

struct ruleset_file {
  std::uint32_t file = 0;
  pos where;  // of the name
  std::string name;
  std::optional<std::string> title;
  std::optional<std::string> version;
  std::optional<std::string> source;
  std::optional<std::int64_t> effective;  // day number
  std::vector<import_decl> imports;
  std::vector<input_decl> inputs;  // top level; list_record entries nest their fields
  std::vector<let_decl> lets;
  std::vector<table_decl> tables;
  std::vector<hazard_decl> hazards;
  std::vector<score_decl> scores;
  std::vector<grade_decl> grades;
  std::vector<test_decl> tests;
};

// A readable dump of an expression (for tests and `explain`): fully parenthesised, e.g.
// "(a.b + (2 * c))", "count(r in residents where (r.x < 3))".
std::string dump(const expr_arena& arena, expr_id id);

}  // namespace carerules::ast
