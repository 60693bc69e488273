// Reachability of decision-table rows.
//
// Each row is described, where it can be, as one constraint per parameter (a union of
// intervals over the parameter's values). A row is unreachable when an earlier row's
// constraints contain its own in every column, or when it follows a catch-all. Rows whose
// conditions are too rich to describe are left alone: the warning must never be wrong.
#pragma once

#include <vector>

#include "ast/ast.hpp"
#include "ast/source.hpp"

namespace carerules::detail {

// A bound of an interval over comparable literal values.
struct bound {
  bool infinite = true;
  bool closed = false;
  ast::expr_id lit = ast::no_expr;
};

struct interval {
  bound lo, hi;
};

struct cell_shape {
  bool any = true;              // `-`: every value
  std::vector<interval> parts;  // otherwise: the union of these
};

struct table_row_shape {
  ast::pos where;
  bool catch_all = false;
  bool analyzable = false;
  std::vector<cell_shape> cells;  // one per parameter
};

cell_shape describe_cell(const ast::expr_arena& arena, const ast::table_cell& cell);
table_row_shape describe_condition(const ast::expr_arena& arena, ast::expr_id cond,
                                   const ast::table_decl& table);
void analyze_table_rows(const ast::expr_arena& arena, const ast::table_decl& table,
                        const std::vector<table_row_shape>& rows, ast::diagnostic_sink& diags);

}  // namespace carerules::detail
