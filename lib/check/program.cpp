// The checker: whole declarations, dependency order and cycles, test blocks (see checker.hpp for
// the map of the checker's files).
#include "check/checker.hpp"

namespace carerules::detail::checking {

// ---- whole program --------------------------------------------------------------------------

void checker::lower_all() {
  const auto& src = *prog_->sources;
  prog_->lets.resize(let_ast_.size());
  let_types_.resize(let_ast_.size());
  let_state_.assign(let_ast_.size(), 0);
  let_deps_.resize(let_ast_.size());
  for (std::size_t i = 0; i < let_ast_.size(); ++i) {
    prog_->lets[i].name = let_ast_[i]->name;
    prog_->lets[i].text = source_text(let_ast_[i]->value);
  }
  prog_->tables.resize(table_ast_.size());
  table_state_.assign(table_ast_.size(), 0);
  table_calls_.resize(table_ast_.size());
  for (std::size_t i = 0; i < table_ast_.size(); ++i) prog_->tables[i].name = table_ast_[i]->name;
  // Hazards and grades are declared first so that references find them.
  for (std::size_t i = 0; i < hazard_ast_.size(); ++i) {
    const auto& h = *hazard_ast_[i];
    hazard_plan hp;
    hp.id = h.id;
    hp.title = h.title;
    hp.category = h.category;
    hp.major = h.major;
    hp.cite = h.cite;
    hp.advice = h.advice;
    hp.where = h.where;
    static const char* actions[] = {"immediate", "deadline", "suspend", "close"};
    hp.action =
        h.action ? actions[static_cast<int>(*h.action)] : (h.major ? "suspend" : "deadline");
    hp.within_days = h.within_days;
    if (h.when != no_expr) {
      const auto& e = arena_[h.when];
      const auto& text = src.files[e.where.file].text;
      if (e.source.end <= text.size() && e.source.begin < e.source.end)
        hp.condition_text = normalize_line(
            std::string_view(text).substr(e.source.begin, e.source.end - e.source.begin));
    }
    prog_->hazards.push_back(std::move(hp));
  }
  for (std::size_t i = 0; i < grade_ast_.size(); ++i) {
    grade_plan gp;
    gp.name = grade_ast_[i]->name;
    gp.color_scale = grade_ast_[i]->color_scale;
    if (!gp.color_scale) {
      gp.scale = static_cast<std::uint32_t>(prog_->scales.size());
      prog_->scales.push_back(grade_ast_[i]->levels);
      std::set<std::string> uniq(grade_ast_[i]->levels.begin(), grade_ast_[i]->levels.end());
      if (uniq.size() != grade_ast_[i]->levels.size())
        diags_.error(grade_ast_[i]->where, "grade `" + gp.name + "` repeats a level label");
    }
    prog_->grades.push_back(std::move(gp));
  }
  for (std::size_t i = 0; i < score_ast_.size(); ++i) {
    score_plan sp;
    sp.name = score_ast_[i]->name;
    prog_->scores.push_back(std::move(sp));
  }

  // Tables first (lets call them), each after the tables it calls; then lets likewise.
  {
    std::vector<std::vector<std::uint32_t>> refs(table_ast_.size());
    for (std::uint32_t i = 0; i < table_ast_.size(); ++i) {
      std::vector<std::string> names;
      for (const auto& row : table_ast_[i]->rows) mentions(row.cond, names);
      for (const auto& n : names) {
        auto it = names_.find(n);
        if (it != names_.end() && it->second.kind == symbol::table)
          refs[i].push_back(it->second.index);
      }
    }
    std::vector<std::uint64_t> chain(table_ast_.size(), 0);
    bool reported = false;
    for (auto i : reference_order(refs)) {
      lower_table(i);
      for (auto d : refs[i]) chain[i] = std::max(chain[i], chain[d]);
      ++chain[i];
      if (chain[i] > prog_->limits.depth && !reported) {
        reported = true;
        diags_.error(table_ast_[i]->where,
                     "table `" + table_ast_[i]->name + "` calls tables " +
                         std::to_string(chain[i]) + " deep, more than the limit of " +
                         std::to_string(prog_->limits.depth) + " (limit `depth`)");
      }
    }
  }
  {
    std::vector<std::vector<std::uint32_t>> refs(let_ast_.size());
    for (std::uint32_t i = 0; i < let_ast_.size(); ++i) {
      std::vector<std::string> names;
      mentions(let_ast_[i]->value, names);
      for (const auto& n : names) {
        auto it = names_.find(n);
        if (it != names_.end() && it->second.kind == symbol::let)
          refs[i].push_back(it->second.index);
      }
    }
    for (auto i : reference_order(refs)) let_type(i);
  }

  hazard_deps_.resize(hazard_ast_.size());
  for (std::uint32_t i = 0; i < hazard_ast_.size(); ++i) {
    const auto& h = *hazard_ast_[i];
    deps_ = &hazard_deps_[i];
    in_hazard_ = &h;
    prog_->hazards[i].when =
        h.when != no_expr ? lower_condition(h.when) : make_const(value{}, h.where);
    in_hazard_ = nullptr;
    if (!h.cite)
      diags_.warning(h.where, "hazard `" + h.id + "` has no `cite`: say which clause it encodes");
  }

  auto scaled_literal = [&](expr_id id) -> std::optional<std::int64_t> {
    if (id == no_expr) return std::nullopt;
    value v;
    type_ref t;
    if (!literal_value(id, v, t) || !numeric(t.t)) {
      diags_.error(arena_[id].where, "`max` must be a number literal");
      return std::nullopt;
    }
    if (t.t == ty::int_) {
      auto r = int_to_decimal(v.i);
      if (!r) {
        diags_.error(arena_[id].where, "`max` is outside the range of a number");
        return std::nullopt;
      }
      return r;
    }
    return v.i;
  };
  score_deps_.resize(score_ast_.size());
  for (std::uint32_t i = 0; i < score_ast_.size(); ++i) {
    const auto& sd = *score_ast_[i];
    auto& sp = prog_->scores[i];
    deps_ = &score_deps_[i];
    sp.max = scaled_literal(sd.max);
    for (const auto& sec : sd.sections) sp.sections.push_back({sec.name, scaled_literal(sec.max)});
    for (const auto& it : sd.items) {
      item_plan ip;
      ip.id = it.id;
      ip.label = it.label;
      ip.deduct = it.deduct;
      ip.section = it.section;
      ip.where = it.where;
      ip.points =
          it.points != no_expr ? lower_number(it.points) : make_const(value::of_int(0), it.where);
      if (it.when != no_expr) ip.when = lower_condition(it.when);
      ip.points_text = source_text(it.points);
      ip.condition_text = source_text(it.when);
      sp.items.push_back(std::move(ip));
    }
  }

  grade_deps_.resize(grade_ast_.size());
  for (std::uint32_t i = 0; i < grade_ast_.size(); ++i) {
    const auto& gd = *grade_ast_[i];
    auto& gp = prog_->grades[i];
    deps_ = &grade_deps_[i];
    const auto& file = src.files[gd.where.file];
    for (const auto& line : gd.lines) {
      grade_line_plan lp;
      lp.where = line.where;
      lp.is_none = line.is_none;
      lp.otherwise = line.otherwise;
      lp.label_text = line.is_none ? "none" : line.label;
      if (line.is_none) {
        lp.label = value::of(vkind::none, 0);
      } else if (gd.color_scale) {
        auto it = std::find(std::begin(color_names), std::end(color_names), line.label);
        if (it == std::end(color_names) ||
            (line.label_expr != no_expr && arena_[line.label_expr].kind != expr_kind::lit_color)) {
          diags_.error(line.where, "grade `" + gd.name +
                                       "` is on the color scale: a line starts with blue, yellow, "
                                       "orange, red or none, not `" +
                                       line.label + "`");
        } else {
          lp.label = value::of_color(it - std::begin(color_names));
        }
      } else {
        const auto& sc = prog_->scales[gp.scale];
        auto it = std::find(sc.begin(), sc.end(), line.label);
        if (it == sc.end() ||
            (line.label_expr != no_expr && arena_[line.label_expr].kind != expr_kind::lit_string)) {
          diags_.error(line.where,
                       "\"" + line.label + "\" is not a level of grade `" + gd.name + "`");
        } else {
          lp.label = value::of(vkind::level, it - sc.begin());
        }
      }
      if (!line.otherwise) lp.cond = lower_condition(line.cond);
      // because: the line's source text from the label to the end of its condition (or of
      // `otherwise`), comments removed and white space collapsed.
      const std::string_view text = file.text;
      std::size_t begin = file.line_starts[line.where.line - 1];
      for (std::uint32_t cp = 1; begin < text.size() && cp < line.where.column; ++cp) {
        std::size_t len;
        decode_utf8(text, begin, len);
        begin += len;
      }
      const std::size_t stop = std::min<std::size_t>(
          line.cond != no_expr ? arena_[line.cond].source.end : line.otherwise_end, text.size());
      std::string text_out;
      std::string_view rest = text.substr(begin, stop > begin ? stop - begin : 0);
      while (!rest.empty()) {
        std::size_t nl = rest.find('\n');
        std::string part = normalize_line(rest.substr(0, nl));
        if (!part.empty()) text_out += (text_out.empty() ? "" : " ") + part;
        if (nl == std::string_view::npos) break;
        rest.remove_prefix(nl + 1);
      }
      const std::string& text_done = text_out;
      lp.because = file.display + ":" + std::to_string(line.where.line) + ": " + text_done;
      gp.lines.push_back(std::move(lp));
    }
  }
  deps_ = nullptr;
}

void checker::order_declarations() {
  // Nodes: lets, hazards, scores, grades. Iterative DFS, reporting each cycle once.
  auto deps_of = [&](const decl_entry& d) -> const std::vector<decl_entry>& {
    switch (d.kind) {
      case decl_kind::let:
        return let_deps_[d.index];
      case decl_kind::hazard:
        return hazard_deps_[d.index];
      case decl_kind::score:
        return score_deps_[d.index];
      case decl_kind::grade:
        return grade_deps_[d.index];
    }
    return let_deps_[0];
  };
  auto name_of = [&](const decl_entry& d) -> std::string {
    switch (d.kind) {
      case decl_kind::let:
        return prog_->lets[d.index].name;
      case decl_kind::hazard:
        return prog_->hazards[d.index].id;
      case decl_kind::score:
        return prog_->scores[d.index].name;
      case decl_kind::grade:
        return prog_->grades[d.index].name;
    }
    return "";
  };
  auto pos_of = [&](const decl_entry& d) -> ast::pos {
    switch (d.kind) {
      case decl_kind::let:
        return let_ast_[d.index]->where;
      case decl_kind::hazard:
        return hazard_ast_[d.index]->where;
      case decl_kind::score:
        return score_ast_[d.index]->where;
      case decl_kind::grade:
        return grade_ast_[d.index]->where;
    }
    return {};
  };
  auto key = [&](const decl_entry& d) {
    return (static_cast<std::uint64_t>(d.kind) << 32) | d.index;
  };
  std::unordered_map<std::uint64_t, std::uint8_t> state;  // 1 on stack, 2 done
  std::vector<decl_entry> all;
  // Report order: the files' declaration order is kept by walking kinds in file order.
  for (std::uint32_t i = 0; i < prog_->lets.size(); ++i) all.push_back({decl_kind::let, i});
  for (std::uint32_t i = 0; i < prog_->hazards.size(); ++i) all.push_back({decl_kind::hazard, i});
  for (std::uint32_t i = 0; i < prog_->scores.size(); ++i) all.push_back({decl_kind::score, i});
  for (std::uint32_t i = 0; i < prog_->grades.size(); ++i) all.push_back({decl_kind::grade, i});
  for (const auto& root : all) {
    if (state[key(root)]) continue;
    struct frame {
      decl_entry d;
      std::size_t next;
    };
    std::vector<frame> stack{{root, 0}};
    state[key(root)] = 1;
    while (!stack.empty()) {
      frame& f = stack.back();
      const auto& ds = deps_of(f.d);
      if (f.next < ds.size()) {
        decl_entry dep = ds[f.next++];
        auto& st = state[key(dep)];
        if (st == 0) {
          st = 1;
          stack.push_back({dep, 0});
        } else if (st == 1) {
          // cycle: from dep's frame to the top
          std::string names;
          std::size_t start = 0;
          for (std::size_t i = 0; i < stack.size(); ++i)
            if (key(stack[i].d) == key(dep)) start = i;
          for (std::size_t i = start; i < stack.size(); ++i)
            names += "`" + name_of(stack[i].d) + "` -> ";
          names += "`" + name_of(dep) + "`";
          diags_.error(pos_of(dep), "dependency cycle: " + names);
        }
      } else {
        state[key(f.d)] = 2;
        prog_->order.push_back(f.d);
        stack.pop_back();
      }
    }
  }
  // Table cycles (a table calling itself through others).
  std::vector<std::uint8_t> tstate(prog_->tables.size(), 0);
  for (std::uint32_t r = 0; r < prog_->tables.size(); ++r) {
    if (tstate[r]) continue;
    std::vector<std::pair<std::uint32_t, std::size_t>> stack{{r, 0}};
    tstate[r] = 1;
    while (!stack.empty()) {
      auto& [t, next] = stack.back();
      if (next < table_calls_[t].size()) {
        std::uint32_t d = table_calls_[t][next++];
        if (tstate[d] == 0) {
          tstate[d] = 1;
          stack.push_back({d, 0});
        } else if (tstate[d] == 1) {
          std::string names;
          std::size_t start = 0;
          for (std::size_t i = 0; i < stack.size(); ++i)
            if (stack[i].first == d) start = i;
          for (std::size_t i = start; i < stack.size(); ++i)
            names += "`" + prog_->tables[stack[i].first].name + "` -> ";
          names += "`" + prog_->tables[d].name + "`";
          diags_.error(table_ast_[d]->where, "dependency cycle between tables: " + names);
        }
      } else {
        tstate[t] = 2;
        stack.pop_back();
      }
    }
  }
}

void checker::lower_tests() {
  if (files_.empty()) return;
  const auto& top = files_.back();
  const auto& file = prog_->sources->files[top.file];
  for (const auto& td : top.tests) {
    test_plan tp;
    tp.name = td.name;
    tp.line = td.where.line;
    if (!td.asof)
      diags_.error(td.where, "test \"" + td.name + "\" needs `asof @YYYY-MM-DD`");
    else
      tp.asof = *td.asof;
    tp.given = td.has_given ? td.given : "{}";
    if (td.has_given) {
      // `given` is strict JSON: a text the facts reader cannot read is a compile error,
      // placed at the offending character when the reader says where.
      record_facts facts;
      bind_json(*prog_->schema, tp.given, bind_options{}, facts);
      if (facts.unreadable && !facts.errors.empty()) {
        const std::string& m = facts.errors.front().message;
        ast::pos at = td.given_where;
        if (const std::uint32_t l = facts.syntax_line, c = facts.syntax_column; l >= 1 && c >= 1) {
          if (l == 1) {
            at.column += c - 1;
          } else {
            at.line += l - 1;
            at.column = c;
          }
        }
        diags_.error(at, "`given` is not strict JSON: " + m);
      }
    }
    for (const auto& ex : td.expects) {
      expect_plan ep;
      ep.kind = static_cast<expect_kind>(ex.kind);
      ep.line = ex.where.line;
      if (ex.source.end <= file.text.size() && ex.source.begin <= ex.source.end)
        ep.text = normalize_line(
            std::string_view(file.text).substr(ex.source.begin, ex.source.end - ex.source.begin));
      if (ep.kind == expect_kind::expression) {
        deps_ = nullptr;
        ep.e = lower_condition(ex.e);
      } else {
        auto s = names_.find(ex.name);
        bool ok = s != names_.end();
        if (ok) {
          const symbol& sym = s->second;
          switch (ep.kind) {
            case expect_kind::hazard:
            case expect_kind::not_hazard:
              ok = sym.kind == symbol::hazard;
              ep.target = {decl_kind::hazard, sym.index};
              break;
            case expect_kind::undetermined:
              ok = sym.kind == symbol::hazard || sym.kind == symbol::grade;
              ep.target = {sym.kind == symbol::hazard ? decl_kind::hazard : decl_kind::grade,
                           sym.index};
              break;
            case expect_kind::error:
              ok = sym.kind != symbol::table;
              if (sym.kind == symbol::item) {  // an item of some score: find which
                ok = false;
                for (std::uint32_t si = 0; si < prog_->scores.size() && !ok; ++si)
                  for (std::uint32_t ii = 0; ii < prog_->scores[si].items.size(); ++ii)
                    if (prog_->scores[si].items[ii].id == ex.name) {
                      ep.target = {decl_kind::score, si};
                      ep.item = ii;
                      ok = true;
                      break;
                    }
                break;
              }
              ep.target = {sym.kind == symbol::hazard  ? decl_kind::hazard
                           : sym.kind == symbol::grade ? decl_kind::grade
                           : sym.kind == symbol::score ? decl_kind::score
                                                       : decl_kind::let,
                           sym.index};
              break;
            case expect_kind::provisional:
              ok = sym.kind == symbol::score;
              ep.target = {decl_kind::score, sym.index};
              break;
            default:
              break;
          }
        }
        if (!ok) {
          static const char* wants[] = {
              "a hazard", "a hazard", "a hazard or a grade", "a hazard, item, let, score or grade",
              "a score",  ""};
          const expect_kind want = ep.kind;
          auto accept = [want](symbol::kind_t k) {
            switch (want) {
              case expect_kind::hazard:
              case expect_kind::not_hazard:
                return k == symbol::hazard;
              case expect_kind::undetermined:
                return k == symbol::hazard || k == symbol::grade;
              case expect_kind::provisional:
                return k == symbol::score;
              default:
                return k != symbol::table;
            }
          };
          diags_.error(ex.name_where, "`" + ex.name + "` is not " +
                                          wants[static_cast<int>(ep.kind)] +
                                          did_you_mean(ex.name, false, accept));
        }
      }
      tp.expects.push_back(std::move(ep));
    }
    prog_->tests.push_back(std::move(tp));
  }
}

namespace {

// Marks a table row whose condition is a parameter compared with a constant (table_row_plan).
// An int constant against a `number` parameter is kept as a number (the same value), so that
// the two compare as one kind.
void find_quick_row(const program& p, const table_plan& t, table_row_plan& row) {
  if (row.cond == none_index) return;
  const node& c = p.nodes[row.cond];
  const auto o = static_cast<ast::op>(c.sub);
  if (c.op != opcode::binary || c.nkids != 2 || o < ast::op::eq || o > ast::op::ge) return;
  const node& l = p.nodes[p.kid(c, 0)];
  const node& r = p.nodes[p.kid(c, 1)];
  if (l.op == opcode::param && r.op == opcode::constant) {
    row.param_first = true;
    row.quick_param = l.a;
    row.quick_k = r.k;
  } else if (l.op == opcode::constant && r.op == opcode::param) {
    row.param_first = false;
    row.quick_param = r.a;
    row.quick_k = l.k;
  } else {
    return;
  }
  if (row.quick_param < t.params.size() && t.params[row.quick_param].t == ty::number &&
      row.quick_k.kind == vkind::integer)
    if (const checked d = int_to_decimal(row.quick_k.i)) row.quick_k = value::of_number(*d);
  row.quick_op = o;
  row.quick = true;
}

}  // namespace

std::shared_ptr<program> checker::run() {
  if (files_.empty()) return nullptr;
  const auto& top = files_.back();
  auto& info = prog_->info;
  info.name = top.name;
  info.title = top.title.value_or("");
  info.version = top.version.value_or("");
  info.source = top.source;
  if (top.effective) info.effective = format_date(*top.effective);
  for (const auto& f : files_) {
    if (!f.title) diags_.error(f.where, "ruleset `" + f.name + "` needs a `title`");
    if (!f.version) diags_.error(f.where, "ruleset `" + f.name + "` needs a `version`");
  }
  collect_symbols();
  build_inputs();
  lower_all();
  order_declarations();
  lower_tests();
  if (diags_.has_errors()) return nullptr;
  for (node& n : prog_->nodes) {
    switch (n.op) {
      case opcode::fact:
      case opcode::fact_list:
      case opcode::exists:
        n.slot = prog_->inputs[n.a].field->slot;
        break;
      case opcode::var_field:
      case opcode::var_list:
        n.slot = prog_->inputs[n.b].field->slot;
        break;
      default:
        break;
    }
  }
  for (auto& t : prog_->tables)
    for (auto& row : t.rows) find_quick_row(*prog_, t, row);
  build_decision_code(*prog_);
  for (const auto& h : prog_->hazards)
    prog_->hazard_infos.push_back({h.id, h.title, h.category, h.major ? "major" : "general", h.cite,
                                   h.advice, h.action, h.within_days});
  for (const auto& sc : prog_->scores) {
    score_info si{sc.name, {}};
    for (const auto& sec : sc.sections) si.sections.push_back(sec.name);
    prog_->score_infos.push_back(std::move(si));
  }
  for (const auto& g : prog_->grades) {
    grade_info gi{g.name, {}};
    if (g.color_scale)
      gi.values.assign(std::begin(color_names), std::end(color_names));
    else
      gi.values = prog_->scales[g.scale];
    prog_->grade_infos.push_back(std::move(gi));
  }
  return prog_;
}

}  // namespace carerules::detail::checking
