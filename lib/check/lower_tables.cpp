// The checker: decision tables lowered to the plan (see checker.hpp for the map of the checker's
// files).
#include "check/checker.hpp"

namespace carerules::detail::checking {

// ---- tables ---------------------------------------------------------------------------------

void checker::lower_table(std::uint32_t index) {
  if (table_state_[index] != 0) return;
  table_state_[index] = 1;
  depth_ = 0;
  const ast::table_decl& td = *table_ast_[index];
  table_plan& tp = prog_->tables[index];
  auto scalar_type_of = [&](const ast::type_spec& ts) -> type_ref {
    switch (ts.kind) {
      case ast::type_kind::bool_:
        return simple(ty::bool_);
      case ast::type_kind::int_:
        return simple(ty::int_);
      case ast::type_kind::number:
        return simple(ty::number);
      case ast::type_kind::string:
        return simple(ty::string);
      case ast::type_kind::date:
        return simple(ty::date);
      case ast::type_kind::color:
        return simple(ty::color);
      default:
        diags_.error(
            ts.where,
            "table parameters and results are scalar types (bool int number string date color)");
        return simple(ty::error);
    }
  };
  for (const auto& p : td.params) tp.params.push_back(scalar_type_of(p.type));
  tp.result = scalar_type_of(td.result);

  auto saved_vars = std::move(vars_);
  vars_.clear();
  auto* saved_params = params_;
  auto* saved_decl = params_decl_;
  bool saved_table = in_table_;
  auto* saved_deps = deps_;
  auto* saved_tdeps = table_deps_;
  deps_ = nullptr;
  table_deps_ = &table_calls_[index];
  params_ = &tp.params;
  params_decl_ = &td;
  in_table_ = true;

  std::vector<table_row_shape> shapes;
  for (const auto& row : td.rows) {
    table_row_plan rp;
    table_row_shape shape;
    shape.where = row.where;
    // result literal
    value rv;
    type_ref rt;
    if (row.result != no_expr && literal_value(row.result, rv, rt)) {
      if (tp.result.t == ty::number && rt.t == ty::int_) {
        auto sc = int_to_decimal(rv.i);
        if (sc) rv = value::of_number(*sc), rt = simple(ty::number);
      }
      if (rt.t != tp.result.t && tp.result.t != ty::error)
        diags_.error(arena_[row.result].where, "the result must be " +
                                                   type_name(tp.result, *prog_) + ", found " +
                                                   type_name(rt, *prog_));
      if (rv.kind == vkind::string) {
        prog_->schema->storage.emplace_back(rv.s());
        rv = value::of_string(prog_->schema->storage.back());
      }
      rp.result = rv;
    } else if (row.result != no_expr) {
      diags_.error(arena_[row.result].where, "a table result must be a literal");
    }
    if (!td.pipe_form) {
      if (row.otherwise) {
        shape.catch_all = true;
      } else {
        rp.cond = lower_condition(row.cond);
        shape = describe_condition(arena_, row.cond, td);
        shape.where = row.where;
      }
    } else {
      std::vector<node_id> conds;
      shape.analyzable = true;
      shape.cells.resize(td.params.size());
      bool all_any = true;
      for (std::size_t i = 0; i < row.cells.size() && i < td.params.size(); ++i) {
        const auto& c = row.cells[i];
        shape.cells[i] = describe_cell(arena_, c);
        if (c.kind == ast::cell_kind::any) continue;
        all_any = false;
        node_id pn = make(opcode::param, c.where, {}, static_cast<std::uint32_t>(i));
        const type_ref& pt = tp.params[i];
        auto lit = [&](expr_id id) {
          type_ref lt;
          node_id ln = lower(id, lt);
          bool ok = lt.t == ty::error || pt.t == ty::error || lt.t == pt.t ||
                    (numeric(lt.t) && numeric(pt.t));
          if (lt.t == ty::list) ok = true;
          if (!ok)
            diags_.error(arena_[id].where, "column `" + td.params[i].name + "` is " +
                                               type_name(pt, *prog_) + ", this cell is " +
                                               type_name(lt, *prog_));
          return ln;
        };
        switch (c.kind) {
          case ast::cell_kind::compare:
            conds.push_back(make(opcode::binary, c.where, {pn, lit(c.a)}, none_index, none_index,
                                 static_cast<std::uint8_t>(c.oper)));
            break;
          case ast::cell_kind::in_list:
            conds.push_back(make(opcode::binary, c.where, {pn, lit(c.a)}, none_index, none_index,
                                 static_cast<std::uint8_t>(ast::op::in)));
            break;
          case ast::cell_kind::range: {
            node_id lo = make(opcode::binary, c.where, {pn, lit(c.a)}, none_index, none_index,
                              static_cast<std::uint8_t>(ast::op::ge));
            node_id pn2 = make(opcode::param, c.where, {}, static_cast<std::uint32_t>(i));
            node_id hi = make(opcode::binary, c.where, {pn2, lit(c.b)}, none_index, none_index,
                              static_cast<std::uint8_t>(ast::op::le));
            conds.push_back(make(opcode::binary, c.where, {lo, hi}, none_index, none_index,
                                 static_cast<std::uint8_t>(ast::op::and_)));
            break;
          }
          default:
            break;
        }
      }
      if (row.cells.size() != td.params.size())
        diags_.error(row.where, "this row has " + std::to_string(row.cells.size()) +
                                    " condition cell(s); the table has " +
                                    std::to_string(td.params.size()) + " parameter(s)");
      if (all_any) {
        shape.catch_all = true;
      } else {
        node_id acc = conds[0];
        for (std::size_t i = 1; i < conds.size(); ++i)
          acc = make(opcode::binary, row.where, {acc, conds[i]}, none_index, none_index,
                     static_cast<std::uint8_t>(ast::op::and_));
        rp.cond = acc;
      }
    }
    if (shape.catch_all) rp.cond = none_index;
    tp.rows.push_back(rp);
    shapes.push_back(std::move(shape));
  }
  analyze_table_rows(arena_, td, shapes, diags_);

  vars_ = std::move(saved_vars);
  params_ = saved_params;
  params_decl_ = saved_decl;
  in_table_ = saved_table;
  deps_ = saved_deps;
  table_deps_ = saved_tdeps;
  table_state_[index] = 2;
}

}  // namespace carerules::detail::checking
