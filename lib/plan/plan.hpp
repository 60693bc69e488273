// The compiled program: what the checker produces and the evaluator runs.
//
// Expressions are lowered to `node`s in one flat vector; a node names its children by index
// into `kids`. Every name is resolved when the ruleset is compiled: a fact is a slot of the
// record schema, a let/hazard/score/grade is a declaration index, an aggregate variable is a
// frame depth. Evaluating a record therefore does no name lookups and no string compares
// other than those the rules themselves ask for.
//
// Node format (op: what it reads -> what it yields):
//   constant        k                                   -> k
//   fact            a = input id (top-level scalar)     -> the cell's value (unknown if absent)
//   fact_list       a = input id (top-level list)       -> list value (unknown if absent/error)
//   var             a = frame depth                     -> the bound element (scalar or record)
//   var_field       a = depth, b = input id             -> field of the bound record element
//   var_list        a = depth, b = input id             -> list field of the bound element
//   hazard_field    a = depth, b = 0 id 1 category 2 severity 3 status
//   param           a = parameter index                 -> the table argument
//   decl            a = declaration index               -> value of a let, score, grade
//   section         a = score decl index, b = section   -> the section's value
//   present         a = hazard declaration index        -> true / false / unknown
//   hazards         -                                   -> the `hazards` list
//   asof            -                                   -> evaluation date
//   unary/binary    sub = ast::op                       -> Kleene logic, exact arithmetic
//   coalesce        kids 0, 1                           -> kid 0 unless unknown
//   if_else         kids c, a, b
//   call            sub = builtin                       -> see plan/builtins.hpp
//   table_call      a = table index, kids = arguments
//   aggregate       sub = agg, kids = {source, where|-, value|-}; a = frame depth it binds
//   exists          a = input id, b = frame depth or none; sub 1 = missing() -> never unknown
//   list_literal    kids = elements
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ast/ast.hpp"
#include "ast/source.hpp"
#include "carerules/report.hpp"
#include "carerules/ruleset.hpp"
#include "facts/facts.hpp"
#include "plan/builtins.hpp"

namespace carerules::detail {

inline constexpr std::uint32_t none_index = UINT32_MAX;

enum class opcode : std::uint8_t {
  constant,
  fact,
  fact_list,
  var,
  var_field,
  var_list,
  hazard_field,
  param,
  decl,
  section,
  present,
  hazards,
  asof,
  unary,
  binary,
  coalesce,
  if_else,
  call,
  table_call,
  aggregate,
  exists,
  list_literal,
};

enum class agg : std::uint8_t { count, any, all, sum, min, max, avg };

// Static types of expressions.
enum class ty : std::uint8_t {
  error,  // a type error was already reported; suppress follow-on errors
  bool_,
  int_,
  number,
  string,
  date,
  color,
  level,
  none,
  list,
  record,
  hazard_list,
  hazard,
};

struct type_ref {
  ty t = ty::error;
  std::uint32_t scale = none_index;       // level: index into program::scales
  ty element = ty::error;                 // list: element type (record, scalar, hazard)
  const record_schema* schema = nullptr;  // record / list of records: element schema
};

struct node {
  opcode op{};
  std::uint8_t sub = 0;
  std::uint32_t a = none_index;
  std::uint32_t b = none_index;
  std::uint32_t kids = 0;  // first child index in program::kids
  std::uint32_t nkids = 0;
  // fact, fact_list, var_field, var_list, exists: the input's slot in its record instance
  // (its field's `slot`), set once the program is checked, so a read needs no field lookup.
  std::uint32_t slot = none_index;
  value k;  // constant
  ast::pos where;
};

using node_id = std::uint32_t;

// An input as the evaluator sees it: where it lives and how to name it in reports.
struct input_meta {
  std::string rel_path;               // "facility.beds", "ability" (relative to its record)
  std::uint32_t parent = none_index;  // the list input whose elements hold it, if any
  const field_schema* field = nullptr;
};

enum class decl_kind : std::uint8_t { let, hazard, score, grade };

struct let_plan {
  std::string name;
  std::string text;  // the expression, for explain
  node_id value = 0;
};

struct hazard_plan {
  std::string id, title, category;
  bool major = true;
  std::optional<std::string> cite, advice;
  std::string action;
  std::optional<std::int64_t> within_days;
  node_id when = 0;
  ast::pos where;
  std::string condition_text;  // for explain
};

struct item_plan {
  std::string id, label;
  std::string points_text, condition_text;  // for explain
  bool deduct = false;
  int section = -1;
  node_id points = 0;
  node_id when = none_index;
  ast::pos where;
};

struct section_plan {
  std::string name;
  std::optional<std::int64_t> max;  // scaled
};

struct score_plan {
  std::string name;
  std::optional<std::int64_t> max;  // scaled
  std::vector<section_plan> sections;
  std::vector<item_plan> items;
};

struct grade_line_plan {
  bool is_none = false;
  value label;  // colour or level value
  std::string label_text;
  bool otherwise = false;
  node_id cond = none_index;
  std::string because;  // "file:line: text"
  ast::pos where;
};

struct grade_plan {
  std::string name;
  bool color_scale = true;
  std::uint32_t scale = none_index;
  std::vector<grade_line_plan> lines;
};

struct table_row_plan {
  node_id cond = none_index;  // none_index: catch-all
  value result;
  // A condition that compares a parameter with a constant (`D >= 320`, the usual row), found
  // once the program is checked: eval_table compares the two in place of walking `cond`.
  bool quick = false;
  bool param_first = true;  // `D >= 320`, not `320 <= D`
  ast::op quick_op{};
  std::uint32_t quick_param = 0;
  value quick_k;
};

struct table_plan {
  std::string name;
  std::vector<type_ref> params;
  type_ref result;
  std::vector<table_row_plan> rows;
};

struct decl_entry {
  decl_kind kind{};
  std::uint32_t index = 0;  // into lets / hazards / scores / grades
};

enum class expect_kind : std::uint8_t {
  hazard,
  not_hazard,
  undetermined,
  error,
  provisional,
  expression,
};

struct expect_plan {
  expect_kind kind{};
  std::uint32_t line = 0;
  std::string text;  // source text after `expect`
  decl_entry target;
  std::uint32_t item = none_index;  // `expect error ITEM`: the item of score target.index
  node_id e = none_index;
};

struct test_plan {
  std::string name;
  std::uint32_t line = 0;
  std::int64_t asof = 0;
  std::string given;
  std::vector<expect_plan> expects;
};

// The constant parts of a report's JSON, escaped once at compile time: the ruleset block,
// each hazard's id, title, category, severity, cite and rectification, each score's and
// grade's keys, each input's evidence key. The fast writer (eval/write.cpp) appends them
// between the parts that vary per record.
struct report_fragments {
  std::string after_subject;  // ,"ruleset":{…},"engine":"carerules X.Y.Z","asof":
  struct hazard_frag {
    std::string head;     // {"id":…,"title":…,"category":…,"severity":…,"status":
    std::string rectify;  // ,"cite":…,"rectify":{"action":…[,"within_days":N]
    std::string advice;   // ,"advice":… or empty
  };
  struct score_frag {
    std::string head;                       // "name":{"total":
    std::vector<std::string> section_keys;  // "section":
    std::vector<std::string> item_heads;    // {"id":…,"section":…,"kind":…,"points":
  };
  struct grade_frag {
    std::string head;                  // "name":{"value":
    std::vector<std::string> values;   // per line: the value as a JSON string
    std::vector<std::string> because;  // per line: ,"because":…
  };
  std::vector<hazard_frag> hazards;
  std::vector<score_frag> scores;
  std::vector<grade_frag> grades;
  std::vector<std::string> grade_names;  // "name": (decisions)
  std::vector<std::string> hazard_ids;   // the id as a JSON string (decisions)
  std::vector<std::string> input_keys;   // by input id: the path outside any list, as a key
};

// Decision code: a declaration's expression compiled to a flat list of operations over
// registers (eval/code.cpp), which the evaluator runs instead of walking the nodes when nothing
// is traced (decisions, CSV rows). Each operation stands for nodes of the plan and counts
// their steps, in the order the walk would, so the steps limit trips on the same node, and a
// node the code does not cover (`eval`) is handed to the walk at the depth it would be at:
// the outcomes, errors and limits are those of the walk.
enum class code_op : std::uint8_t {
  constant,      // r[dst] = k
  fact,          // r[dst] = the top-level cell at slot b (unknown when not known)
  field,         // r[dst] = the cell at slot b of the element bound at frame a
  fact_list,     // r[dst] = the top-level list at slot b (input a), unknown when absent
  asof,          // r[dst] = the evaluation date
  decl,          // r[dst] = the value of declaration (kind sub, index a) when known
  present,       // r[dst] = hazard a's value when known
  not_,          // r[dst] = not r[a]
  logic_test,    // and (sub 1) / or (sub 0): when r[a] decides, r[dst] = it, jump to target
  logic_end,     // r[dst] = r[a] and/or r[b] (r[a] did not decide)
  compare,       // r[dst] = r[a] (ast::op sub) r[b]
  arith,         // r[dst] = r[a] (ast::op sub) r[b], exact, faults as the walk's
  in_consts,     // r[dst] = r[a] in / not in (sub) the constants consts[b .. b + n)
  table,         // r[dst] = table a on the arguments r[b ..], every row quick or catch-all
  call,          // r[dst] = builtin sub on r[b .. b + n)
  if_known,      // when r[a] is known: r[dst] = r[a], jump to target (coalesce)
  branch,        // r[a] unknown: r[dst] = unknown, jump to b; false: jump to target
  jump,          // to target
  hazards,       // r[dst] = the `hazards` list
  hazard_field,  // r[dst] = field b (0 id 1 category 2 severity 3 status) of the hazard at frame a
  agg_begin,     // aggregate (agg sub) over r[a] at frame n, its accumulator k.i, its source
                 // k.n (0 hazards, 1 records, 2 scalars): unknown list: r[dst] unknown, jump
                 // to target; else the loop's state in r[b]
  agg_next,      // binds the next element at frame n (state r[b]); none left: r[dst] = the result,
                 // jump to target
  agg_visit,     // takes r[a] (the `where`; none_index: true), state r[b]; decided: r[dst] = the
                 // result, jump to the agg_next's target; a sum/avg/min/max whose condition holds:
                 // on to its value; else back to the agg_next at target
  agg_value,     // folds r[a], a sum's/avg's/min's/max's element value, then back to target
  element,       // r[dst] = the element bound at frame a (a scalar's value, a record, a hazard)
  status_is,     // r[dst] = whether (sub eq) or not (sub ne) the hazard at frame a has status
                 // k.i (a hazard_status; -1: a string that is no status)
  section,       // r[dst] = section b of score a, unknown when provisional or the score failed
  exists,        // r[dst] = whether the fact at slot b (a list when n) of the top-level record
                 // (a: none_index) or of the element at frame a was supplied; sub 1: negated
  eval,          // r[dst] = the walk's value of node a, entered at nesting b
  end,           // the value is r[dst]
};

struct code_step {
  code_op op{};
  std::uint8_t sub = 0;
  std::uint32_t steps = 0;  // the nodes entered just before this operation (steps counted)
  std::uint32_t dst = 0;
  std::uint32_t a = 0, b = 0, n = 0;
  std::uint32_t target = 0;
  value k;
};

struct decision_code {
  std::vector<code_step> steps;  // the last is `end`, naming the register with the value
};

struct program {
  // identity
  ruleset_info info;
  std::string top_display;                       // the top file as given
  std::vector<std::vector<std::string>> scales;  // levels(...) label lists

  // inputs
  std::shared_ptr<record_schema> schema;  // the top-level record
  std::vector<input_meta> inputs;         // by input id (== field_schema::order)
  std::vector<input_info> input_infos;    // public description
  std::vector<hazard_info> hazard_infos;
  std::vector<score_info> score_infos;
  std::vector<grade_info> grade_infos;
  std::vector<file_info> files;  // top file first, then imports in first-reached order

  // code
  std::vector<node> nodes;
  std::vector<node_id> kids;
  std::vector<let_plan> lets;
  std::vector<hazard_plan> hazards;
  std::vector<score_plan> scores;
  std::vector<grade_plan> grades;
  std::vector<table_plan> tables;
  std::vector<decl_entry> order;  // evaluation order (dependencies first)
  std::uint32_t max_frame_depth = 0;

  // tests of the top file
  std::vector<test_plan> tests;

  // sources, for explain and messages
  std::shared_ptr<ast::source_set> sources;
  carerules::limits limits;

  // the report writer's constant parts (build_report_fragments, after the digest is known)
  report_fragments fragments;

  // decision code (build_decision_code): by node, the code of the declaration, grade line or
  // score item whose expression that node is (none_index: none, the walk evaluates it)
  std::vector<decision_code> codes;
  std::vector<std::uint32_t> code_of;
  std::vector<std::uint32_t> order_code;  // by `order`: a let's or hazard's code, or none_index
  std::vector<value> code_consts;         // the constants of `in_consts`
  std::uint32_t code_registers = 0;       // the most any code uses
  std::uint32_t code_accumulators = 0;    // the most aggregates any code has

  node_id kid(const node& n, std::uint32_t i) const { return kids[n.kids + i]; }
};

// Compiles the decision code of every let, hazard, grade line and score item (eval/code.cpp).
void build_decision_code(program& p);

}  // namespace carerules::detail
