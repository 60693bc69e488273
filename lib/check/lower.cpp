// The checker: expressions lowered to plan nodes, with names and types checked (see checker.hpp for
// the map of the checker's files).
#include "check/checker.hpp"

namespace carerules::detail::checking {

node_id checker::make(opcode op, ast::pos where, std::vector<node_id> kids, std::uint32_t a,
                      std::uint32_t b, std::uint8_t sub) {
  node n;
  n.op = op;
  n.sub = sub;
  n.a = a;
  n.b = b;
  n.where = where;
  n.kids = static_cast<std::uint32_t>(prog_->kids.size());
  n.nkids = static_cast<std::uint32_t>(kids.size());
  for (auto k : kids) prog_->kids.push_back(k);
  prog_->nodes.push_back(n);
  return static_cast<node_id>(prog_->nodes.size() - 1);
}

node_id checker::make_const(value v, ast::pos where) {
  node_id id = make(opcode::constant, where);
  prog_->nodes[id].k = v;
  return id;
}

// ---- expressions ----------------------------------------------------------------------------

std::string checker::did_you_mean(const std::string& name, bool paths,
                                  const std::function<bool(symbol::kind_t)>& kinds) {
  std::string best;
  std::size_t best_d = std::string::npos;
  auto consider = [&](const std::string& cand) {
    if (cand == name) return;  // the name itself, declared as something else
    std::size_t d = edit_distance(name, cand);
    if (d < best_d) {
      best_d = d;
      best = cand;
    }
  };
  if (paths) {
    for (const auto& p : all_input_paths_) consider(p);
    for (const auto& v : vars_) consider(v.name);
  }
  for (const auto& [n, s] : names_) {
    bool ok = kinds ? kinds(s.kind)
                    : (s.kind == symbol::let || s.kind == symbol::score || s.kind == symbol::grade);
    if (ok) consider(n);
  }
  if (best.empty()) return "";
  std::size_t limit = std::max<std::size_t>(2, name.size() / 3);
  if (best_d > limit) return "";
  return "; did you mean `" + best + "`?";
}

type_ref checker::let_type(std::uint32_t index) {
  if (let_state_[index] == 2) return let_types_[index];
  // Lets are lowered in the order of their references (see reference_order), so a let that
  // is not done yet is on a cycle: the cycle is reported by order_declarations.
  if (let_state_[index] == 1 || lowering_lets_) return simple(ty::error);
  let_state_[index] = 1;
  lowering_lets_ = true;
  deps_ = &let_deps_[index];
  vars_.clear();
  in_hazard_ = nullptr;
  depth_ = 0;
  type_ref t;
  prog_->lets[index].value = lower(let_ast_[index]->value, t);
  let_types_[index] = t;
  deps_ = nullptr;
  lowering_lets_ = false;
  let_state_[index] = 2;
  return t;
}

// The first segments of paths and the names of calls an expression mentions, found without
// recursion (the tree may be deep before the checker has measured it).
void checker::mentions(expr_id root, std::vector<std::string>& out) const {
  std::vector<expr_id> stack{root};
  while (!stack.empty()) {
    expr_id id = stack.back();
    stack.pop_back();
    if (id == no_expr) continue;
    const auto& e = arena_[id];
    if (e.kind == expr_kind::path && !e.segments.empty()) out.push_back(e.segments[0]);
    if (e.kind == expr_kind::call) out.push_back(e.text);
    for (auto a : e.args) stack.push_back(a);
  }
}

// Orders nodes so that each comes after the nodes it refers to (cycles broken anywhere);
// iterative, so a chain of thousands of declarations cannot exhaust the stack.
std::vector<std::uint32_t> checker::reference_order(
    const std::vector<std::vector<std::uint32_t>>& refs) {
  std::vector<std::uint32_t> order;
  std::vector<std::uint8_t> state(refs.size(), 0);
  for (std::uint32_t r = 0; r < refs.size(); ++r) {
    if (state[r]) continue;
    std::vector<std::pair<std::uint32_t, std::size_t>> stack{{r, 0}};
    state[r] = 1;
    while (!stack.empty()) {
      auto& [n, next] = stack.back();
      if (next < refs[n].size()) {
        std::uint32_t d = refs[n][next++];
        if (state[d] == 0) {
          state[d] = 1;
          stack.push_back({d, 0});
        }
      } else {
        state[n] = 2;
        order.push_back(n);
        stack.pop_back();
      }
    }
  }
  return order;
}

bool checker::comparable(const type_ref& a, const type_ref& b, bool ordering) {
  if (a.t == ty::error || b.t == ty::error) return true;
  if (numeric(a.t) && numeric(b.t)) return true;
  if (a.t == ty::none || b.t == ty::none) {
    ty o = a.t == ty::none ? b.t : a.t;
    return o == ty::none || o == ty::level || o == ty::color;
  }
  if (a.t != b.t) return false;
  switch (a.t) {
    case ty::bool_:
      return !ordering;
    case ty::string:
    case ty::date:
    case ty::color:
      return true;
    case ty::level:
      return a.scale == b.scale;
    default:
      return false;
  }
}

// A string literal compared with a level becomes that level's position.
node_id checker::coerce_level_literal(node_id n, const type_ref& from, const type_ref& to,
                                      ast::pos where, bool& ok) {
  ok = true;
  if (to.t != ty::level || from.t != ty::string) return n;
  const node& nd = prog_->nodes[n];
  if (nd.op != opcode::constant || nd.k.kind != vkind::string) {
    ok = false;
    return n;
  }
  const auto& sc = prog_->scales[to.scale];
  auto it = std::find(sc.begin(), sc.end(), std::string(nd.k.s()));
  if (it == sc.end()) {
    diags_.error(where,
                 "\"" + std::string(nd.k.s()) + "\" is not a level of " + type_name(to, *prog_));
    return n;
  }
  value v = value::of(vkind::level, it - sc.begin());
  return make_const(v, where);
}

node_id checker::lower_condition(expr_id id) {
  type_ref t;
  node_id n = lower(id, t);
  if (t.t != ty::bool_ && t.t != ty::error)
    type_error(arena_[id].where, "a condition must be bool, found " + type_name(t, *prog_));
  return n;
}

node_id checker::lower_number(expr_id id) {
  type_ref t;
  node_id n = lower(id, t);
  if (!numeric(t.t) && t.t != ty::error)
    type_error(arena_[id].where, "points must be a number, found " + type_name(t, *prog_));
  return n;
}

node_id checker::lower(expr_id id, type_ref& t) {
  const ast::expr& e = arena_[id];
  // The parser counts brackets and prefix operators; long operator chains (a + b + c ...)
  // nest in the tree too, and are caught here before recursion can go deeper.
  if (++depth_ > prog_->limits.depth) {
    --depth_;
    if (!depth_reported_) {
      depth_reported_ = true;
      diags_.error(e.where, "the expression nests deeper than the limit of " +
                                std::to_string(prog_->limits.depth) + " (limit `depth`)");
    }
    return error_node(e.where, t);
  }
  struct guard {
    std::uint32_t& d;
    ~guard() { --d; }
  } g{depth_};
  value v;
  if (e.kind != expr_kind::unary && e.kind != expr_kind::lit_list && literal_value(id, v, t)) {
    if (v.kind == vkind::string) {
      // Strings of the arena outlive the program only if copied.
      prog_->schema->storage.emplace_back(v.s());
      v = value::of_string(prog_->schema->storage.back());
    }
    return make_const(v, e.where);
  }
  switch (e.kind) {
    case expr_kind::lit_list: {
      std::vector<node_id> kids;
      type_ref el = simple(ty::error);
      bool first = true;
      for (auto a : e.args) {
        type_ref at;
        kids.push_back(lower(a, at));
        if (first) {
          el = at;
          first = false;
        } else if (numeric(el.t) && numeric(at.t)) {
          if (at.t == ty::number) el = at;
        } else if (el.t != at.t && at.t != ty::error && el.t != ty::error) {
          type_error(arena_[a].where, "list elements must have one type: " + type_name(el, *prog_) +
                                          " and " + type_name(at, *prog_));
        }
      }
      t = simple(ty::list);
      t.element = first ? ty::none : el.t;
      if (t.element == ty::level) t.scale = el.scale;
      return make(opcode::list_literal, e.where, kids);
    }
    case expr_kind::path:
      return lower_path(e, t);
    case expr_kind::asof:
      t = simple(ty::date);
      return make(opcode::asof, e.where);
    case expr_kind::hazards:
      if (in_hazard_) {
        type_error(e.where, "the condition of hazard `" + in_hazard_->id +
                                "` may not read `hazards` (it would depend on itself)");
        return error_node(e.where, t);
      }
      if (in_table_) {
        type_error(e.where, "a table reads only its parameters, not `hazards`");
        return error_node(e.where, t);
      }
      for (std::uint32_t i = 0; i < prog_->hazards.size(); ++i) note_dep(decl_kind::hazard, i);
      t = simple(ty::hazard_list);
      t.element = ty::hazard;
      return make(opcode::hazards, e.where);
    case expr_kind::unary: {
      type_ref at;
      node_id k = lower(e.args[0], at);
      if (e.oper == ast::op::not_) {
        if (at.t != ty::bool_ && at.t != ty::error)
          type_error(e.where, "`not` needs a bool, found " + type_name(at, *prog_));
        t = simple(ty::bool_);
      } else {
        if (!numeric(at.t) && at.t != ty::error)
          type_error(e.where, "unary `-` needs a number, found " + type_name(at, *prog_));
        t = at;
      }
      return make(opcode::unary, e.where, {k}, none_index, none_index,
                  static_cast<std::uint8_t>(e.oper));
    }
    case expr_kind::binary:
      return lower_binary(e, t);
    case expr_kind::coalesce: {
      type_ref a, b;
      node_id x = lower(e.args[0], a);
      node_id y = lower(e.args[1], b);
      if (a.t == ty::error)
        t = b;
      else if (b.t == ty::error)
        t = a;
      else if (numeric(a.t) && numeric(b.t))
        t = simple(a.t == ty::number || b.t == ty::number ? ty::number : ty::int_);
      else if (a.t == b.t || (a.t == ty::level && b.t == ty::none) || b.t == ty::none)
        t = a;
      else if (a.t == ty::level && b.t == ty::string) {
        bool ok;
        y = coerce_level_literal(y, b, a, e.where, ok);
        t = a;
      } else {
        type_error(e.where, "`??` needs both sides of one type: " + type_name(a, *prog_) + " and " +
                                type_name(b, *prog_));
        t = simple(ty::error);
      }
      return make(opcode::coalesce, e.where, {x, y});
    }
    case expr_kind::if_else: {
      node_id c = lower_condition(e.args[0]);
      type_ref a, b;
      node_id x = lower(e.args[1], a);
      node_id y = lower(e.args[2], b);
      if (a.t == ty::error)
        t = b;
      else if (b.t == ty::error)
        t = a;
      else if (numeric(a.t) && numeric(b.t))
        t = simple(a.t == ty::number || b.t == ty::number ? ty::number : ty::int_);
      else if (a.t == b.t && (a.t != ty::level || a.scale == b.scale))
        t = a;
      else if (a.t == ty::none || b.t == ty::none)
        t = a.t == ty::none ? b : a;
      else {
        type_error(arena_[e.args[2]].where,
                   "`if` branches have different types: " + type_name(a, *prog_) + " and " +
                       type_name(b, *prog_));
        t = simple(ty::error);
      }
      return make(opcode::if_else, e.where, {c, x, y});
    }
    case expr_kind::call:
      return lower_call(e, t);
    case expr_kind::aggregate:
      return lower_aggregate(e, t);
    case expr_kind::member:
      type_error(e.where, "a field can only be read from a path or an aggregate variable");
      return error_node(e.where, t);
    default:
      break;
  }
  type_error(e.where, "unsupported expression");
  return error_node(e.where, t);
}

node_id checker::lower_path(const ast::expr& e, type_ref& t) {
  const auto& segs = e.segments;
  const std::string& first = segs[0];
  // 1. table parameters
  if (params_decl_) {
    for (std::uint32_t i = 0; i < params_decl_->params.size(); ++i) {
      if (params_decl_->params[i].name == first) {
        if (segs.size() > 1) {
          type_error(e.where, "parameter `" + first + "` has no fields");
          return error_node(e.where, t);
        }
        t = (*params_)[i];
        return make(opcode::param, e.where, {}, i);
      }
    }
  }
  // 2. aggregate variables, innermost first
  for (auto it = vars_.rbegin(); it != vars_.rend(); ++it) {
    if (it->name != first) continue;
    const type_ref& vt = it->type;
    if (segs.size() == 1) {
      t = vt;
      return make(opcode::var, e.where, {}, it->depth);
    }
    if (vt.t == ty::hazard) {
      static const char* fields[] = {"id", "category", "severity", "status"};
      if (segs.size() == 2)
        for (std::uint8_t i = 0; i < 4; ++i)
          if (segs[1] == fields[i]) {
            t = simple(ty::string);
            return make(opcode::hazard_field, e.where, {}, it->depth, i);
          }
      type_error(e.where,
                 "a hazard record has the fields id, category, severity and status, not `" +
                     join(segs, 1) + "`");
      return error_node(e.where, t);
    }
    if (vt.t == ty::error) return error_node(e.where, t);  // already reported
    if (vt.t != ty::record || !vt.schema) {
      type_error(e.where, "`" + first + "` is a " + type_name(vt, *prog_) + " and has no fields");
      return error_node(e.where, t);
    }
    const record_schema& rs = *vt.schema;
    std::uint32_t nd = 0;
    for (std::size_t i = 1; i < segs.size(); ++i) {
      auto c = rs.nodes[nd].children.find(segs[i]);
      if (c == rs.nodes[nd].children.end()) break;
      nd = c->second;
      if (rs.nodes[nd].field >= 0) {
        if (i + 1 != segs.size()) break;
        const field_schema& f = rs.fields[static_cast<std::size_t>(rs.nodes[nd].field)];
        if (f.is_list) {
          t = simple(ty::list);
          if (f.of_records) {
            t.element = ty::record;
            t.schema = f.element.get();
          } else {
            t.element = scalar_to_ty(f.type);
          }
          return make(opcode::var_list, e.where, {}, it->depth, f.order);
        }
        t = simple(scalar_to_ty(f.type));
        return make(opcode::var_field, e.where, {}, it->depth, f.order);
      }
    }
    std::string rest = join(segs, 1);
    std::string hint;
    std::size_t best = std::string::npos;
    for (const auto& f : rs.fields) {
      std::size_t d = edit_distance(rest, f.path);
      if (d < best) {
        best = d;
        hint = f.path;
      }
    }
    std::string msg =
        "`" + join(segs) + "`: the elements of `" + first + "` have no field `" + rest + "`";
    if (!hint.empty() && best <= std::max<std::size_t>(2, rest.size() / 3))
      msg += "; did you mean `" + first + "." + hint + "`?";
    type_error(e.where, msg);
    return error_node(e.where, t);
  }
  // 3. declarations
  auto sym = names_.find(first);
  if (sym != names_.end()) {
    const symbol& s = sym->second;
    if (in_table_ && s.kind != symbol::table) {
      type_error(e.where, "a table reads only its parameters; `" + first + "` is a " +
                              symbol_kind_name(s.kind));
      return error_node(e.where, t);
    }
    switch (s.kind) {
      case symbol::let:
        if (segs.size() > 1) break;
        note_dep(decl_kind::let, s.index);
        t = let_type(s.index);
        return make(opcode::decl, e.where, {}, s.index, static_cast<std::uint32_t>(decl_kind::let));
      case symbol::score: {
        note_dep(decl_kind::score, s.index);
        t = simple(ty::number);
        if (segs.size() == 1)
          return make(opcode::decl, e.where, {}, s.index,
                      static_cast<std::uint32_t>(decl_kind::score));
        if (segs.size() == 2) {
          const auto* sd = score_ast_[s.index];
          for (std::uint32_t i = 0; i < sd->sections.size(); ++i)
            if (sd->sections[i].name == segs[1])
              return make(opcode::section, e.where, {}, s.index, i);
          type_error(e.where, "score `" + first + "` has no section `" + segs[1] + "`");
          return error_node(e.where, t);
        }
        break;
      }
      case symbol::grade: {
        if (segs.size() > 1) break;
        note_dep(decl_kind::grade, s.index);
        const auto* gd = grade_ast_[s.index];
        if (gd->color_scale) {
          t = simple(ty::color);
        } else {
          t = simple(ty::level);
          t.scale = prog_->grades[s.index].scale;
        }
        return make(opcode::decl, e.where, {}, s.index,
                    static_cast<std::uint32_t>(decl_kind::grade));
      }
      case symbol::hazard:
        type_error(e.where, "`" + first + "` is a hazard: write present(" + first + ")");
        return error_node(e.where, t);
      case symbol::table:
        type_error(e.where, "`" + first + "` is a table: call it with arguments");
        return error_node(e.where, t);
      case symbol::item:
        type_error(e.where, "`" + first + "` is an item; read its score or section instead");
        return error_node(e.where, t);
    }
    type_error(e.where, "`" + first + "` is a " + symbol_kind_name(s.kind) + " and has no field `" +
                            join(segs, 1) + "`");
    return error_node(e.where, t);
  }
  // 4. inputs
  if (in_table_) {
    type_error(e.where, "a table reads only its parameters, not the input `" + join(segs) + "`");
    return error_node(e.where, t);
  }
  std::string full = join(segs);
  auto in = input_by_path_.find(full);
  if (in != input_by_path_.end()) {
    const field_schema& f = *prog_->inputs[in->second].field;
    if (f.is_list) {
      t = simple(ty::list);
      if (f.of_records) {
        t.element = ty::record;
        t.schema = f.element.get();
      } else {
        t.element = scalar_to_ty(f.type);
      }
      return make(opcode::fact_list, e.where, {}, f.order);
    }
    t = simple(scalar_to_ty(f.type));
    return make(opcode::fact, e.where, {}, f.order);
  }
  type_error(e.where, "`" + full + "` is not declared" + did_you_mean(full));
  return error_node(e.where, t);
}

void checker::check_enum_constant(node_id fact, node_id constant, ast::pos where) {
  const node& f = prog_->nodes[fact];
  const node& c = prog_->nodes[constant];
  if (c.op != opcode::constant) return;
  std::uint32_t input = none_index;
  if (f.op == opcode::fact) input = f.a;
  if (f.op == opcode::var_field) input = f.b;
  if (input == none_index || input >= prog_->inputs.size() || !prog_->inputs[input].field) return;
  const field_schema& fs = *prog_->inputs[input].field;
  auto quoted = [](std::string_view v) { return "\"" + escape_for_display(v) + "\""; };
  std::string listed;
  bool holds = true;
  if (!fs.enum_strings.empty() && c.k.kind == vkind::string) {
    holds =
        std::find(fs.enum_strings.begin(), fs.enum_strings.end(), c.k.s()) != fs.enum_strings.end();
    for (const auto& v : fs.enum_strings) listed += (listed.empty() ? "" : ", ") + quoted(v);
  } else if (!fs.enum_numbers.empty() &&
             (c.k.kind == vkind::integer || c.k.kind == vkind::number)) {
    const auto scaled = c.k.kind == vkind::integer ? int_to_decimal(c.k.i) : checked(c.k.i);
    holds = scaled && std::find(fs.enum_numbers.begin(), fs.enum_numbers.end(), *scaled) !=
                          fs.enum_numbers.end();
    for (const auto v : fs.enum_numbers) listed += (listed.empty() ? "" : ", ") + format_decimal(v);
  } else {
    return;
  }
  if (!holds)
    diags_.warning(where, "`" + prog_->inputs[input].rel_path + "` is one of " + listed +
                              "; it is never " +
                              (c.k.kind == vkind::string    ? quoted(c.k.s())
                               : c.k.kind == vkind::integer ? std::to_string(c.k.i)
                                                            : format_decimal(c.k.i)) +
                              ", so this comparison always gives the same answer");
}

node_id checker::lower_binary(const ast::expr& e, type_ref& t) {
  using ast::op;
  type_ref a, b;
  node_id x = lower(e.args[0], a);
  node_id y = lower(e.args[1], b);
  auto sub = static_cast<std::uint8_t>(e.oper);
  bool err = a.t == ty::error || b.t == ty::error;
  auto mk = [&] { return make(opcode::binary, e.where, {x, y}, none_index, none_index, sub); };
  switch (e.oper) {
    case op::and_:
    case op::or_:
      if (!err && (a.t != ty::bool_ || b.t != ty::bool_))
        type_error(e.where, std::string("`") + (e.oper == op::and_ ? "and" : "or") +
                                "` needs bool operands, found " + type_name(a, *prog_) + " and " +
                                type_name(b, *prog_));
      t = simple(ty::bool_);
      return mk();
    case op::eq:
    case op::ne:
    case op::lt:
    case op::le:
    case op::gt:
    case op::ge: {
      bool ordering = e.oper != op::eq && e.oper != op::ne;
      bool ok = true;
      if (a.t == ty::level && b.t == ty::string)
        y = coerce_level_literal(y, b, a, e.where, ok), b = a;
      else if (b.t == ty::level && a.t == ty::string)
        x = coerce_level_literal(x, a, b, e.where, ok), a = b;
      if (!ok) {
        type_error(e.where, "a level can be compared with a level label literal only");
      } else if (!comparable(a, b, ordering)) {
        type_error(e.where, std::string(ordering ? "cannot order " : "cannot compare ") +
                                type_name(a, *prog_) + " with " + type_name(b, *prog_));
      }
      t = simple(ty::bool_);
      if (!ordering && ok) {
        check_enum_constant(x, y, e.where);
        check_enum_constant(y, x, e.where);
      }
      return make(opcode::binary, e.where, {x, y}, none_index, none_index, sub);
    }
    case op::in:
    case op::not_in: {
      t = simple(ty::bool_);
      if (err) return mk();
      if (b.t != ty::list || b.element == ty::record) {
        type_error(arena_[e.args[1]].where,
                   "`in` needs a list literal or a list<T> input on its right, found " +
                       type_name(b, *prog_));
        return mk();
      }
      if (b.element != ty::none && !comparable(a, simple(b.element), false) &&
          !(a.t == ty::level && b.element == ty::string))
        type_error(e.where, "cannot look for a " + type_name(a, *prog_) + " in a list of " +
                                type_name(simple(b.element), *prog_));
      if (prog_->nodes[y].op == opcode::list_literal)
        for (std::uint32_t i = 0; i < prog_->nodes[y].nkids; ++i)
          check_enum_constant(x, prog_->kid(prog_->nodes[y], i),
                              prog_->nodes[prog_->kid(prog_->nodes[y], i)].where);
      if (a.t == ty::level && b.element == ty::string) {
        // convert the literal elements to level positions
        const node& ln = prog_->nodes[y];
        if (ln.op == opcode::list_literal) {
          std::vector<node_id> kids;
          for (std::uint32_t i = 0; i < ln.nkids; ++i) {
            bool ok;
            node_id k = prog_->kid(prog_->nodes[y], i);
            kids.push_back(coerce_level_literal(k, simple(ty::string), a, e.where, ok));
          }
          y = make(opcode::list_literal, e.where, kids);
        }
      }
      return mk();
    }
    case op::add:
    case op::sub: {
      if (err) {
        t = simple(ty::error);
        return mk();
      }
      if (numeric(a.t) && numeric(b.t)) {
        t = simple(a.t == ty::number || b.t == ty::number ? ty::number : ty::int_);
        return mk();
      }
      if (a.t == ty::date && b.t == ty::int_) {
        t = simple(ty::date);
        return mk();
      }
      if (e.oper == op::sub && a.t == ty::date && b.t == ty::date) {
        t = simple(ty::int_);
        return mk();
      }
      type_error(e.where, std::string("cannot ") + (e.oper == op::add ? "add " : "subtract ") +
                              type_name(b, *prog_) + (e.oper == op::add ? " to " : " from ") +
                              type_name(a, *prog_));
      t = simple(ty::error);
      return mk();
    }
    case op::mul:
    case op::div:
      if (!err && !(numeric(a.t) && numeric(b.t)))
        type_error(e.where, std::string("`") + (e.oper == op::mul ? "*" : "/") +
                                "` needs numbers, found " + type_name(a, *prog_) + " and " +
                                type_name(b, *prog_));
      t = simple(e.oper == op::div || a.t == ty::number || b.t == ty::number ? ty::number
                                                                             : ty::int_);
      return mk();
    case op::mod:
      if (!err && (a.t != ty::int_ || b.t != ty::int_))
        type_error(e.where, "`%` takes ints only, found " + type_name(a, *prog_) + " and " +
                                type_name(b, *prog_));
      t = simple(ty::int_);
      return mk();
    default:
      break;
  }
  type_error(e.where, "unsupported operator");
  return error_node(e.where, t);
}

node_id checker::lower_call(const ast::expr& e, type_ref& t) {
  const std::string& fn = e.text;
  std::size_t n = e.args.size();
  auto arity = [&](std::size_t lo, std::size_t hi) {
    if (n < lo || n > hi) {
      type_error(e.where, "`" + fn + "` takes " +
                              (lo == hi ? std::to_string(lo)
                                        : std::to_string(lo) + " to " + std::to_string(hi)) +
                              " argument" + (hi == 1 ? "" : "s") + ", found " + std::to_string(n));
      return false;
    }
    return true;
  };
  // present(ID), exists(path), missing(path)
  if (fn == "present") {
    if (!arity(1, 1)) return error_node(e.where, t);
    const auto& a = arena_[e.args[0]];
    std::string id = a.kind == expr_kind::path ? join(a.segments) : "";
    auto s = names_.find(id);
    t = simple(ty::bool_);
    if (s == names_.end() || s->second.kind != symbol::hazard) {
      type_error(a.where,
                 "`" + id + "` is not a hazard" +
                     did_you_mean(id, false, [](symbol::kind_t k) { return k == symbol::hazard; }));
      return error_node(e.where, t);
    }
    if (in_table_) {
      type_error(e.where, "a table reads only its parameters");
      return error_node(e.where, t);
    }
    note_dep(decl_kind::hazard, s->second.index);
    return make(opcode::present, e.where, {}, s->second.index);
  }
  if (fn == "exists" || fn == "missing") {
    if (!arity(1, 1)) return error_node(e.where, t);
    type_ref at;
    node_id k = lower(e.args[0], at);
    t = simple(ty::bool_);
    const node& kn = prog_->nodes[k];
    std::uint32_t input = none_index, depth = none_index;
    if (kn.op == opcode::fact || kn.op == opcode::fact_list)
      input = kn.a;
    else if (kn.op == opcode::var_field || kn.op == opcode::var_list)
      input = kn.b, depth = kn.a;
    if (input == none_index) {
      if (at.t != ty::error)
        type_error(arena_[e.args[0]].where, "`" + fn + "` takes an input path");
      return error_node(e.where, t);
    }
    return make(opcode::exists, e.where, {}, input, depth, fn == "missing" ? 1 : 0);
  }
  // tables
  auto s = names_.find(fn);
  if (s != names_.end() && s->second.kind == symbol::table) {
    std::uint32_t ti = s->second.index;
    const auto* td = table_ast_[ti];
    if (table_deps_) table_deps_->push_back(ti);
    // Tables are lowered in the order of their calls; one not done yet is on a cycle.
    std::vector<node_id> kids;
    if (n != td->params.size()) {
      type_error(e.where, "table `" + fn + "` takes " + std::to_string(td->params.size()) +
                              " argument(s), found " + std::to_string(n));
    }
    for (std::size_t i = 0; i < n; ++i) {
      type_ref at;
      node_id k = lower(e.args[i], at);
      if (i < prog_->tables[ti].params.size()) {
        const type_ref& pt = prog_->tables[ti].params[i];
        bool ok = at.t == ty::error || pt.t == ty::error || at.t == pt.t ||
                  (pt.t == ty::number && at.t == ty::int_);
        if (!ok)
          type_error(arena_[e.args[i]].where, "argument " + std::to_string(i + 1) + " of `" + fn +
                                                  "` (" + td->params[i].name + ") must be " +
                                                  type_name(pt, *prog_) + ", found " +
                                                  type_name(at, *prog_));
      }
      kids.push_back(k);
    }
    t = prog_->tables[ti].result;
    return make(opcode::table_call, e.where, kids, ti);
  }
  // builtins: the rows of that name (round has one per arity) give arity and types
  const builtin_row* row = nullptr;
  std::size_t lo = 99, hi = 0;
  for (const builtin_row& r : builtin_rows()) {
    if (r.name != fn) continue;
    lo = std::min<std::size_t>(lo, r.min_args);
    hi = std::max<std::size_t>(hi, r.max_args == 0 ? 99 : r.max_args);
    if (n >= r.min_args && (r.max_args == 0 || n <= r.max_args)) row = &r;
  }
  if (hi > 0) {
    if (row == nullptr) {
      for (auto a : e.args) {  // still checked, for their own errors
        type_ref at;
        lower(a, at);
      }
      arity(lo, hi);
      return error_node(e.where, t);
    }
    std::vector<node_id> kids;
    std::vector<type_ref> ts;
    for (auto a : e.args) {
      type_ref at;
      kids.push_back(lower(a, at));
      ts.push_back(at);
    }
    const bool err =
        std::any_of(ts.begin(), ts.end(), [](const type_ref& x) { return x.t == ty::error; });
    type_ref rt = ts.empty() ? simple(ty::error) : ts[0];
    for (std::size_t i = 0; i < n && !err; ++i) {
      const arg_kind kind = i == 0 ? row->first : row->rest;
      const ty at = ts[i].t;
      const char* what = nullptr;
      switch (kind) {
        case arg_kind::numeric:
          if (!numeric(at)) what = "a number";
          break;
        case arg_kind::integer:
          if (at != ty::int_) what = "an int";
          break;
        case arg_kind::date:
          if (at != ty::date) what = "a date";
          break;
        case arg_kind::string:
          if (at != ty::string) what = "a string";
          break;
        case arg_kind::string_or_list:
          if (at != ty::string && at != ty::list && at != ty::hazard_list)
            what = "a string or a list";
          break;
        case arg_kind::ordered:
          // one ordered type throughout; ints and numbers mix, and give a number
          if (numeric(rt.t) && numeric(at)) {
            if (at == ty::number) rt = ts[i];
          } else if (rt.t != at || !(rt.t == ty::color || rt.t == ty::date || rt.t == ty::string ||
                                     (rt.t == ty::level && rt.scale == ts[i].scale))) {
            type_error(arena_[e.args[i]].where,
                       "`" + fn + "` needs arguments of one ordered type, found " +
                           type_name(rt, *prog_) + " and " + type_name(ts[i], *prog_));
            i = n;  // one message is enough
          }
          break;
      }
      if (what != nullptr)
        type_error(arena_[e.args[i]].where, "argument " + std::to_string(i + 1) + " of `" + fn +
                                                "` must be " + what + ", found " +
                                                type_name(ts[i], *prog_));
    }
    switch (row->result) {
      case result_kind::integer:
        t = simple(ty::int_);
        break;
      case result_kind::number:
        t = simple(ty::number);
        break;
      case result_kind::boolean:
        t = simple(ty::bool_);
        break;
      case result_kind::first_argument:
        t = ts[0];
        break;
      case result_kind::ordered:
        t = rt;
        break;
    }
    return make(opcode::call, e.where, kids, none_index, none_index,
                static_cast<std::uint8_t>(row->id));
  }
  static const char* aggs[] = {"count", "any", "all", "sum", "avg"};
  for (const char* a : aggs)
    if (fn == a) {
      type_error(e.where, "`" + fn + "` is an aggregate: write " + fn + "(x in LIST ...)");
      return error_node(e.where, t);
    }
  std::string hint;
  std::size_t best = std::string::npos;
  auto consider = [&](std::string_view name) {
    std::size_t d = edit_distance(fn, name);
    if (d < best) best = d, hint = std::string(name);
  };
  for (const builtin_row& r : builtin_rows()) consider(r.name);
  for (std::string_view f : special_forms) consider(f);
  for (const auto& [name, sym] : names_)
    if (sym.kind == symbol::table) {
      std::size_t d = edit_distance(fn, name);
      if (d < best) best = d, hint = name;
    }
  type_error(e.where, "unknown function `" + fn + "`" +
                          (best <= 2 ? "; did you mean `" + hint + "`?" : std::string()));
  return error_node(e.where, t);
}

node_id checker::lower_aggregate(const ast::expr& e, type_ref& t) {
  const std::string& fn = e.text;
  agg kind;
  if (fn == "count")
    kind = agg::count;
  else if (fn == "any")
    kind = agg::any;
  else if (fn == "all")
    kind = agg::all;
  else if (fn == "sum")
    kind = agg::sum;
  else if (fn == "min")
    kind = agg::min;
  else if (fn == "max")
    kind = agg::max;
  else if (fn == "avg")
    kind = agg::avg;
  else {
    type_error(e.where, "`" + fn + "` is not an aggregate (count any all sum min max avg)");
    return error_node(e.where, t);
  }
  expr_id src = e.args[0], where = e.args.size() > 1 ? e.args[1] : no_expr,
          val = e.args.size() > 2 ? e.args[2] : no_expr;
  type_ref st;
  node_id sn = lower(src, st);
  if ((kind == agg::any || kind == agg::all) && where == no_expr)
    type_error(e.where, "`" + fn + "` needs a `where` condition");
  if ((kind == agg::any || kind == agg::all || kind == agg::count) && val != no_expr)
    type_error(arena_[val].where, "`" + fn + "` takes no `: value`");
  if ((kind == agg::sum || kind == agg::min || kind == agg::max || kind == agg::avg) &&
      val == no_expr)
    type_error(e.where, "`" + fn + "` needs `: value` (e.g. " + fn + "(r in residents: r.score))");
  type_ref elem;
  if (st.t == ty::list) {
    elem = simple(st.element);
    elem.schema = st.schema;
    elem.scale = st.scale;
  } else if (st.t == ty::hazard_list) {
    elem = simple(ty::hazard);
  } else {
    if (st.t != ty::error)
      type_error(arena_[src].where,
                 "`" + fn + "` iterates over a list, found " + type_name(st, *prog_));
    elem = simple(ty::error);
  }
  if (names_.count(e.var) || input_roots_.count(e.var))
    type_error(e.where,
               "the variable `" + e.var + "` would hide the declaration or input of that name");
  else if (std::any_of(vars_.begin(), vars_.end(),
                       [&](const var_binding& v) { return v.name == e.var; }))
    type_error(e.where, "the variable `" + e.var +
                            "` is already bound by an enclosing aggregate; name this one "
                            "differently");
  std::uint32_t depth = static_cast<std::uint32_t>(vars_.size());
  prog_->max_frame_depth = std::max(prog_->max_frame_depth, depth + 1);
  vars_.push_back({e.var, elem, depth});
  node_id wn = where != no_expr ? lower_condition(where) : none_index;
  type_ref vt = simple(ty::int_);
  node_id vn = none_index;
  if (val != no_expr) {
    vn = lower(val, vt);
    if ((kind == agg::sum || kind == agg::avg) && !numeric(vt.t) && vt.t != ty::error)
      type_error(arena_[val].where,
                 "`" + fn + "` needs a number value, found " + type_name(vt, *prog_));
  }
  vars_.pop_back();
  switch (kind) {
    case agg::count:
      t = simple(ty::int_);
      break;
    case agg::any:
    case agg::all:
      t = simple(ty::bool_);
      break;
    case agg::sum:
      t = vt.t == ty::error ? vt : simple(vt.t == ty::int_ ? ty::int_ : ty::number);
      break;
    case agg::avg:
      t = simple(ty::number);
      break;
    case agg::min:
    case agg::max:
      t = vt;
      break;
  }
  // kids: source, where, value (none_index encoded as the source itself never happens)
  std::vector<node_id> kids{sn, wn, vn};
  return make(opcode::aggregate, e.where, kids, depth, none_index, static_cast<std::uint8_t>(kind));
}

}  // namespace carerules::detail::checking
