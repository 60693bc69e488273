// Decision code: the expressions of a program compiled to a flat list of operations over
// registers, and the evaluator's loop that runs them when nothing is traced.
//
// The walk (eval.cpp) pays for every node a call, a dispatch, a step and a nesting check; for
// decisions alone most of that is the same for every record. The code here is the same
// expression laid out once: an operation per node in the order the walk evaluates them, the
// branches of `and`, `or`, `??` and `if` as jumps, a table whose rows all compare a parameter
// with a constant as one operation, an aggregate over `hazards` or a top-level list as a loop.
// What the code does not cover (aggregates over nested lists or list literals, `in` a list
// that is not constants, rows that are expressions) stays a node, handed to the walk (`eval`).
//
// The code must give what the walk gives, errors and limits included:
// - steps: an operation carries the steps of the nodes the walk enters before it (a node's
//   step is counted on entry, before its operands), and the count is compared with the limit
//   before anything that can fail or be seen, so the same declaration ends with the same
//   error as in the walk;
// - nesting: a node handed to the walk is entered at the nesting it has in the walk; a code
//   is built only for an expression whose own nesting stays far below the walk's bound;
// - faults: arithmetic and built-ins are the walk's own functions, which throw the walk's
//   faults; the declaration ends in error as it would.
// The differential tests hold the code to the walk: every declaration's state (outcome, value,
// error), every score item and section, every grade's matched line and the record's errors,
// on every test block, the shipped rulesets, generated programs and fuzz inputs, and over a
// sweep of the steps limit; and the decisions (this code, one evaluator reused from record to
// record) to the reports (the walk, traced) (tests/unit/reference/differential_test.cpp).

#include <algorithm>
#include <iterator>
#include <span>
#include <string_view>
#include <utility>

#include "eval/eval.hpp"
#include "plan/plan.hpp"
#include "util/decimal.hpp"

namespace carerules::detail {
namespace {

// The deepest node a code covers: deeper expressions (only possible with a raised `depth`
// limit) are walked, so that the builder's recursion and the walk's nesting bound never meet.
constexpr std::uint32_t code_max_depth = 1000;

class code_builder {
 public:
  code_builder(program& p, decision_code& c) : p_(p), c_(c) {}

  // Compiles the expression at `root`; false when it is not worth a code (a code that would
  // only hand its root to the walk) or too deep.
  bool build(node_id root) {
    const std::uint32_t result = new_register();
    gen(root, result, 1);
    if (!ok_) return false;
    if (c_.steps.size() == 1 && c_.steps[0].op == code_op::eval) return false;
    code_step e;
    e.op = code_op::end;
    e.dst = result;
    emit(e);
    return true;
  }
  std::uint32_t registers() const { return registers_; }
  std::uint32_t accumulators() const { return accumulators_; }

 private:
  std::uint32_t new_register() { return registers_++; }

  std::size_t emit(code_step s) {
    s.steps = pending_;
    pending_ = 0;
    c_.steps.push_back(s);
    return c_.steps.size() - 1;
  }
  std::uint32_t here() const { return static_cast<std::uint32_t>(c_.steps.size()); }

  // The walk's value of `id`, entered at `depth` (its own step is counted by the walk).
  void walk(node_id id, std::uint32_t dst, std::uint32_t depth) {
    code_step s;
    s.op = code_op::eval;
    s.dst = dst;
    s.a = id;
    s.b = depth - 1;
    emit(s);
  }

  // Whether a table can be one operation: every row a quick comparison or the catch-all.
  bool table_is_quick(const table_plan& t) const {
    return std::all_of(t.rows.begin(), t.rows.end(),
                       [](const table_row_plan& r) { return r.cond == none_index || r.quick; });
  }

  // Whether `id` is a list literal of constants only.
  bool constant_list(node_id id) const {
    const node& l = p_.nodes[id];
    if (l.op != opcode::list_literal) return false;
    for (std::uint32_t i = 0; i < l.nkids; ++i)
      if (p_.nodes[p_.kid(l, i)].op != opcode::constant) return false;
    return true;
  }

  // Code leaving the value of `id` (at nesting `depth`, the root at 1) in register `dst`.
  void gen(node_id id, std::uint32_t dst, std::uint32_t depth) {
    if (!ok_) return;
    if (depth > code_max_depth) {
      ok_ = false;
      return;
    }
    const node& n = p_.nodes[id];
    code_step s;
    s.dst = dst;
    // A leaf: one operation reading (a, b).
    auto leaf = [&](code_op op, std::uint32_t a, std::uint32_t b) {
      ++pending_;
      s.op = op;
      s.a = a;
      s.b = b;
      emit(s);
    };
    switch (n.op) {
      case opcode::constant:
        s.k = n.k;
        leaf(code_op::constant, 0, 0);
        return;
      case opcode::fact:
        leaf(code_op::fact, 0, n.slot);
        return;
      case opcode::fact_list:
        leaf(code_op::fact_list, n.a, n.slot);
        return;
      case opcode::asof:
        leaf(code_op::asof, 0, 0);
        return;
      case opcode::decl:
        s.sub = static_cast<std::uint8_t>(n.b);
        leaf(code_op::decl, n.a, 0);
        return;
      case opcode::present:
        leaf(code_op::present, n.a, 0);
        return;
      case opcode::hazards:
        leaf(code_op::hazards, 0, 0);
        return;
      case opcode::var_field:
        leaf(code_op::field, n.a, n.slot);
        return;
      case opcode::hazard_field:
        leaf(code_op::hazard_field, n.a, n.b);
        return;
      case opcode::section:
        leaf(code_op::section, n.a, n.b);
        return;
      case opcode::var:
        leaf(code_op::element, n.a, 0);
        return;
      case opcode::exists:
        s.sub = n.sub;
        s.n = p_.inputs[n.a].field->is_list ? 1 : 0;
        leaf(code_op::exists, n.b, n.slot);
        return;
      case opcode::unary:
        if (static_cast<ast::op>(n.sub) != ast::op::not_) break;
        ++pending_;
        s.op = code_op::not_;
        s.a = new_register();
        gen(p_.kid(n, 0), s.a, depth + 1);
        emit(s);
        return;
      case opcode::binary:
        gen_binary(n, s, depth);
        return;
      case opcode::coalesce: {
        ++pending_;
        gen(p_.kid(n, 0), dst, depth + 1);
        s.op = code_op::if_known;
        s.a = dst;
        const std::size_t test = emit(s);
        gen(p_.kid(n, 1), dst, depth + 1);
        c_.steps[test].target = here();
        return;
      }
      case opcode::if_else: {
        ++pending_;
        s.op = code_op::branch;
        s.a = new_register();
        gen(p_.kid(n, 0), s.a, depth + 1);
        const std::size_t branch = emit(s);
        gen(p_.kid(n, 1), dst, depth + 1);
        code_step j;
        j.op = code_op::jump;
        const std::size_t jump = emit(j);
        c_.steps[branch].target = here();
        gen(p_.kid(n, 2), dst, depth + 1);
        c_.steps[jump].target = here();
        c_.steps[branch].b = here();
        return;
      }
      case opcode::call:
        s.op = code_op::call;
        s.sub = n.sub;
        gen_with_arguments(n, s, depth);
        return;
      case opcode::aggregate:
        if (!gen_aggregate(n, s, depth)) break;
        return;
      case opcode::table_call:
        // A row that is an expression is walked with the parameters on the walk's stack.
        if (!table_is_quick(p_.tables[n.a])) break;
        s.op = code_op::table;
        s.a = n.a;
        gen_with_arguments(n, s, depth);
        return;
      default:
        break;
    }
    walk(id, dst, depth);
  }

  // A call or a table: its arguments, each evaluated, in registers b .. b + n, then `s`.
  void gen_with_arguments(const node& n, code_step s, std::uint32_t depth) {
    ++pending_;
    s.b = registers_;
    s.n = n.nkids;
    registers_ += n.nkids;
    for (std::uint32_t i = 0; i < n.nkids; ++i) gen(p_.kid(n, i), s.b + i, depth + 1);
    emit(s);
  }

  // An aggregate over `hazards` or a top-level list (of records or of scalars): a loop whose
  // body is the `where` and, for sum, avg, min and max, the value, visiting the elements as
  // eval_aggregate does. Aggregates over other lists are walked.
  bool gen_aggregate(const node& n, code_step s, std::uint32_t depth) {
    const auto kind = static_cast<agg>(n.sub);
    const bool valued = kind != agg::any && kind != agg::all && kind != agg::count;
    const node_id src = p_.kid(n, 0), where = p_.kid(n, 1), val = p_.kid(n, 2);
    if (valued && val == none_index) return false;
    const node& sn = p_.nodes[src];
    std::uint32_t source = 0;  // 0 `hazards`, 1 a list of records, 2 a list of scalars
    if (sn.op == opcode::fact_list) {
      const input_meta& meta = p_.inputs[sn.a];
      if (meta.parent != none_index || !meta.field) return false;
      source = meta.field->of_records ? 1 : 2;
    } else if (sn.op != opcode::hazards) {
      return false;
    }
    ++pending_;
    s.sub = n.sub;
    s.n = n.a;  // the frame the elements are bound at
    s.k = value{};
    s.k.i = accumulators_++;
    s.k.n = source;
    s.a = new_register();
    s.b = new_register();  // the loop's state: the next element, whether the current is certain
    gen(src, s.a, depth + 1);
    s.op = code_op::agg_begin;
    const std::size_t begin = emit(s);
    s.op = code_op::agg_next;
    const std::size_t next = emit(s);
    const std::uint32_t where_register = where == none_index ? none_index : new_register();
    if (where != none_index) gen(where, where_register, depth + 1);
    s.op = code_op::agg_visit;
    s.a = where_register;
    s.target = static_cast<std::uint32_t>(next);
    emit(s);
    if (valued) {
      s.a = new_register();
      gen(val, s.a, depth + 1);
      s.op = code_op::agg_value;
      emit(s);
    }
    c_.steps[begin].target = here();
    c_.steps[next].target = here();
    return true;
  }

  // `h.status == "present"` (either side, == or !=): the hazard's outcome compared with the
  // one the string names, without making and comparing strings. Three steps, as the walk's.
  bool gen_status_is(const node& n, code_step s) {
    const node* field = &p_.nodes[p_.kid(n, 0)];
    const node* text = &p_.nodes[p_.kid(n, 1)];
    if (field->op != opcode::hazard_field) std::swap(field, text);
    if (field->op != opcode::hazard_field || field->b != 3 || text->op != opcode::constant ||
        text->k.kind != vkind::string)
      return false;
    s.k = value::of_int(-1);  // a string that is no status: never equal
    for (const auto h : {hazard_status::absent, hazard_status::present, hazard_status::undetermined,
                         hazard_status::error})
      if (text->k.s() == to_string(h)) s.k = value::of_int(static_cast<std::int64_t>(h));
    s.op = code_op::status_is;
    s.a = field->a;
    pending_ += 3;
    emit(s);
    return true;
  }

  void gen_binary(const node& n, code_step s, std::uint32_t depth) {
    const auto o = static_cast<ast::op>(n.sub);
    s.sub = n.sub;
    switch (o) {
      case ast::op::and_:
      case ast::op::or_: {
        ++pending_;
        s.sub = o == ast::op::and_ ? 1 : 0;
        s.a = new_register();
        gen(p_.kid(n, 0), s.a, depth + 1);
        s.op = code_op::logic_test;
        const std::size_t test = emit(s);
        s.op = code_op::logic_end;
        s.b = new_register();
        gen(p_.kid(n, 1), s.b, depth + 1);
        emit(s);
        c_.steps[test].target = here();
        return;
      }
      case ast::op::eq:
      case ast::op::ne:
        if (gen_status_is(n, s)) return;
        [[fallthrough]];
      case ast::op::lt:
      case ast::op::le:
      case ast::op::gt:
      case ast::op::ge:
        s.op = code_op::compare;
        break;
      case ast::op::add:
      case ast::op::sub:
      case ast::op::mul:
      case ast::op::div:
      case ast::op::mod:
        s.op = code_op::arith;
        break;
      case ast::op::in:
      case ast::op::not_in: {
        // A list of constants: the elements are compared in the operation, each step counted
        // as the walk counts it. Any other list is walked.
        const node_id list = p_.kid(n, 1);
        if (!constant_list(list)) break;
        ++pending_;
        s.op = code_op::in_consts;
        s.a = new_register();
        gen(p_.kid(n, 0), s.a, depth + 1);
        ++pending_;  // the list literal itself
        const node& l = p_.nodes[list];
        s.b = static_cast<std::uint32_t>(p_.code_consts.size());
        s.n = l.nkids;
        for (std::uint32_t i = 0; i < l.nkids; ++i)
          p_.code_consts.push_back(p_.nodes[p_.kid(l, i)].k);
        emit(s);
        return;
      }
      default:
        break;
    }
    if (s.op != code_op::compare && s.op != code_op::arith) {
      walk(static_cast<node_id>(&n - p_.nodes.data()), s.dst, depth);
      return;
    }
    ++pending_;
    s.a = new_register();
    s.b = new_register();
    gen(p_.kid(n, 0), s.a, depth + 1);
    gen(p_.kid(n, 1), s.b, depth + 1);
    emit(s);
  }

  program& p_;
  decision_code& c_;
  std::uint32_t registers_ = 0;
  std::uint32_t accumulators_ = 0;  // aggregates in the code, each with its own
  std::uint32_t pending_ = 0;       // nodes entered since the last operation
  bool ok_ = true;
};

}  // namespace

void build_decision_code(program& p) {
  p.codes.clear();
  p.code_consts.clear();
  p.code_of.assign(p.nodes.size(), none_index);
  p.code_registers = 0;
  p.code_accumulators = 0;
  auto add = [&](node_id root) {
    if (root == none_index || root >= p.nodes.size() || p.code_of[root] != none_index) return;
    decision_code c;
    code_builder b(p, c);
    const std::size_t consts = p.code_consts.size();
    if (!b.build(root)) {
      p.code_consts.resize(consts);
      return;
    }
    p.code_registers = std::max(p.code_registers, b.registers());
    p.code_accumulators = std::max(p.code_accumulators, b.accumulators());
    p.code_of[root] = static_cast<std::uint32_t>(p.codes.size());
    p.codes.push_back(std::move(c));
  };
  for (const auto& l : p.lets) add(l.value);
  for (const auto& h : p.hazards) add(h.when);
  for (const auto& g : p.grades)
    for (const auto& line : g.lines)
      if (!line.otherwise) add(line.cond);
  for (const auto& s : p.scores)
    for (const auto& it : s.items) {
      add(it.when);
      add(it.points);
    }
  p.order_code.clear();
  for (const decl_entry& d : p.order) {
    node_id root = none_index;
    if (d.kind == decl_kind::let) root = p.lets[d.index].value;
    if (d.kind == decl_kind::hazard) root = p.hazards[d.index].when;
    p.order_code.push_back(root == none_index ? none_index : p.code_of[root]);
  }
}

value evaluator::run_code(const decision_code& c) {
  value* const r = regs_.data();
  const code_step* const ops = c.steps.data();
  const std::uint64_t limit = p_.limits.steps;
  std::uint64_t steps = steps_;
  // Steps are added as each operation starts, and compared with the limit where something
  // observable can follow: before an operation that can fail or hands over to the walk, in a
  // loop, and at the end. A limit passed in between ends the declaration just as the walk's
  // step() would have: nothing in between fails or is seen. (A macro, not a lambda: a lambda
  // that takes `steps` by reference and is not inlined everywhere keeps it in memory, about
  // 180 instructions a record on the peers' workload.)
#define CARERULES_CHECK()             \
  do {                                \
    if (steps > limit) [[unlikely]] { \
      steps_ = limit + 1;             \
      steps_exceeded();               \
    }                                 \
  } while (false)
  // An aggregate's value once its elements are visited (`stopped`: one decided an any/all),
  // as the walk works it out. It does not see `steps` (kept in a register): agg_next, where a
  // sum's loop ends, stores it first (a sum may overflow; an any or all cannot fail).
  auto aggregate_result = [this](const code_step& o, bool stopped) {
    frames_[o.n] = binding{};
    return aggregate_value(static_cast<agg>(o.sub), accs_[static_cast<std::size_t>(o.k.i)],
                           stopped);
  };
  // One indirect jump per operation through a table of labels in the order of code_op (GCC
  // and Clang's labels as values): no bounds check, and a jump per operation kind to predict.
  static constexpr const void* labels[] = {
      &&op_constant,  &&op_fact,     &&op_field,     &&op_fact_list,  &&op_asof,
      &&op_decl,      &&op_present,  &&op_not,       &&op_logic_test, &&op_logic_end,
      &&op_compare,   &&op_arith,    &&op_in_consts, &&op_table,      &&op_call,
      &&op_if_known,  &&op_branch,   &&op_jump,      &&op_hazards,    &&op_hazard_field,
      &&op_agg_begin, &&op_agg_next, &&op_agg_visit, &&op_agg_value,  &&op_element,
      &&op_status_is, &&op_section,  &&op_exists,    &&op_eval,       &&op_end};
  static_assert(std::size(labels) == static_cast<std::size_t>(code_op::end) + 1);
  const code_step* o = ops;
#define CARERULES_DISPATCH()                       \
  do {                                             \
    steps += o->steps;                             \
    goto* labels[static_cast<std::size_t>(o->op)]; \
  } while (false)
#define CARERULES_NEXT()  \
  do {                    \
    ++o;                  \
    CARERULES_DISPATCH(); \
  } while (false)
#define CARERULES_JUMP(to) \
  do {                     \
    o = ops + (to);        \
    CARERULES_DISPATCH();  \
  } while (false)
  try {
    CARERULES_DISPATCH();

  op_constant:
    r[o->dst] = o->k;
    CARERULES_NEXT();

  op_fact : {
    const fact_cell& cell = f_->root.cells[o->b];
    r[o->dst] = known_cell(cell) ? cell.v : value{};
    CARERULES_NEXT();
  }

  op_field : {
    const fact_cell& cell = frames_[o->a].rec->cells[o->b];
    r[o->dst] = known_cell(cell) ? cell.v : value{};
    CARERULES_NEXT();
  }

  op_fact_list:
    r[o->dst] = read_list(f_->root.lists[o->b], o->a, nullptr);  // untraced here
    CARERULES_NEXT();

  op_asof:
    r[o->dst] = value::of_date(asof_);
    CARERULES_NEXT();

  op_decl : {
    const decl_state& st = state(static_cast<decl_kind>(o->sub), o->a);
    r[o->dst] = st.status == outcome::known ? st.v : value{};
    CARERULES_NEXT();
  }

  op_present : {
    const decl_state& st = hazards_[o->a];
    r[o->dst] = st.status == outcome::known ? st.v : value{};
    CARERULES_NEXT();
  }

  op_not : {
    const value a = r[o->a];
    r[o->dst] = a.known() ? value::of_bool(a.i == 0) : a;
    CARERULES_NEXT();
  }

  op_logic_test : {
    const value a = r[o->a];
    const bool is_and = o->sub != 0;
    if (a.known() && (a.i != 0) != is_and) {
      r[o->dst] = value::of_bool(!is_and);
      CARERULES_JUMP(o->target);
    }
    CARERULES_NEXT();
  }

  op_logic_end : {
    const value a = r[o->a], b = r[o->b];
    const bool is_and = o->sub != 0;
    if (b.known() && (b.i != 0) != is_and)
      r[o->dst] = value::of_bool(!is_and);
    else if (a.known() && b.known())
      r[o->dst] = value::of_bool(is_and);
    else
      r[o->dst] = value{};
    CARERULES_NEXT();
  }

  op_compare:
    r[o->dst] = compare(static_cast<ast::op>(o->sub), r[o->a], r[o->b]);
    CARERULES_NEXT();

  op_arith : {
    const value a = r[o->a], b = r[o->b];
    const auto op = static_cast<ast::op>(o->sub);
    std::int64_t p;
    // The usual products, inline: two ints, and two numbers whose scaled product fits 64 bits
    // (rounded as arith rounds it). Everything else, and every fault, in arith.
    if (op == ast::op::mul && a.kind == b.kind && !__builtin_mul_overflow(a.i, b.i, &p)) {
      if (a.kind == vkind::integer) {
        r[o->dst] = value::of_int(p);
        CARERULES_NEXT();
      }
      if (a.kind == vkind::number) {
        std::int64_t q = p / decimal_scale;
        const std::int64_t rem = p % decimal_scale;
        if (rem * 2 >= decimal_scale) ++q;
        if (rem * 2 <= -decimal_scale) --q;
        r[o->dst] = value::of_number(q);
        CARERULES_NEXT();
      }
    }
    CARERULES_CHECK();
    steps_ = steps;  // a fault leaves the walk's count
    r[o->dst] = arith(op, a, b);
    CARERULES_NEXT();
  }

  op_in_consts : {
    CARERULES_CHECK();
    const value a = r[o->a];
    if (!a.known()) {  // the walk still reads every element
      steps += o->n;
      CARERULES_CHECK();
      r[o->dst] = value{};
      CARERULES_NEXT();
    }
    bool found = false, unsure = false;
    for (std::uint32_t i = 0; i < o->n && !found; ++i) {
      ++steps;
      CARERULES_CHECK();
      const value& el = p_.code_consts[o->b + i];
      if (!el.known()) {
        unsure = true;
        continue;
      }
      const auto cmp = compare_values(a, el);
      if (cmp && *cmp == 0) found = true;
    }
    const bool in = static_cast<ast::op>(o->sub) == ast::op::in;
    r[o->dst] = found ? value::of_bool(in) : unsure ? value{} : value::of_bool(!in);
    CARERULES_NEXT();
  }

  op_table : {
    CARERULES_CHECK();
    const table_plan& t = p_.tables[o->a];
    value result;
    for (const auto& row : t.rows) {
      if (row.cond == none_index) {
        result = row.result;
        break;
      }
      steps += 3;  // the comparison and its two operands, as the walk counts them
      CARERULES_CHECK();
      const value& pv = r[o->b + row.quick_param];
      const value cv = row.param_first ? compare(row.quick_op, pv, row.quick_k)
                                       : compare(row.quick_op, row.quick_k, pv);
      if (!cv.known()) break;
      if (cv.i) {
        result = row.result;
        break;
      }
    }
    r[o->dst] = result;
    CARERULES_NEXT();
  }

  op_call : {
    CARERULES_CHECK();
    steps_ = steps;
    const builtin_row& row = row_of(static_cast<builtin>(o->sub));
    const std::span<const value> args(r + o->b, o->n);
    const bool any_unknown =
        std::any_of(args.begin(), args.end(), [](const value& v) { return !v.known(); });
    r[o->dst] = any_unknown && !row.sees_unknown ? value{} : row.eval(*this, args);
    CARERULES_NEXT();
  }

  op_if_known:
    if (r[o->a].known()) {
      r[o->dst] = r[o->a];
      CARERULES_JUMP(o->target);
    }
    CARERULES_NEXT();

  op_branch : {
    const value cv = r[o->a];
    if (!cv.known()) {
      r[o->dst] = value{};
      CARERULES_JUMP(o->b);
    }
    if (cv.i == 0) CARERULES_JUMP(o->target);
    CARERULES_NEXT();
  }

  op_jump:
    CARERULES_JUMP(o->target);

  op_hazards:
    r[o->dst] = value::list_of(value::hazards_list, nullptr);
    CARERULES_NEXT();

  op_hazard_field:
    r[o->dst] = hazard_field_of(frames_[o->a].hazard, o->b);
    CARERULES_NEXT();

  op_agg_begin:
    if (!r[o->a].known()) {
      r[o->dst] = value{};
      CARERULES_JUMP(o->target);
    }
    r[o->b] = value{};  // i: the next element; n: whether the current one is certain
    accs_[static_cast<std::size_t>(o->k.i)] = agg_acc{};
    CARERULES_NEXT();

  op_agg_next : {
    CARERULES_CHECK();
    steps_ = steps;
    value& at = r[o->b];
    const value list = r[o->a];
    std::int64_t i = at.i;
    binding& b = frames_[o->n];
    if (o->k.n == 0) {
      // Hazards known to be absent are not members; an undetermined one may be.
      const auto size = static_cast<std::int64_t>(hazards_.size());
      while (i < size && hazards_[static_cast<std::size_t>(i)].status == outcome::known &&
             hazards_[static_cast<std::size_t>(i)].v.i == 0)
        ++i;
      if (i == size) {
        r[o->dst] = aggregate_result(*o, false);
        CARERULES_JUMP(o->target);
      }
      b = binding{};
      b.hazard = static_cast<std::uint32_t>(i);
      at.n = hazards_[static_cast<std::size_t>(i)].status == outcome::known;
    } else {
      const auto& l = *static_cast<const list_instance*>(list.p());
      const std::size_t size = o->k.n == 1 ? l.records.size() : l.items.size();
      if (static_cast<std::size_t>(i) == size) {
        r[o->dst] = aggregate_result(*o, false);
        CARERULES_JUMP(o->target);
      }
      b = binding{};
      b.depth = 1;
      b.idx[0] = static_cast<std::uint32_t>(i);
      if (o->k.n == 1)
        b.rec = &l.records[static_cast<std::size_t>(i)];
      else
        b.cell = &l.items[static_cast<std::size_t>(i)];
      at.n = 1;
    }
    at.i = i + 1;
    CARERULES_NEXT();
  }

  op_agg_visit : {
    value cv = o->a == none_index ? value::of_bool(true) : r[o->a];
    // An uncertain member's condition reads as `unknown and <condition>`.
    if (!r[o->b].n && !(cv.known() && cv.i == 0)) cv = value{};
    agg_acc& acc = accs_[static_cast<std::size_t>(o->k.i)];
    if (!cv.known()) acc.unsure = true;
    switch (static_cast<agg>(o->sub)) {
      case agg::any:
        if (cv.known() && cv.i) {
          r[o->dst] = aggregate_result(*o, true);
          CARERULES_JUMP(ops[o->target].target);
        }
        CARERULES_JUMP(o->target);
      case agg::all:
        if (cv.known() && !cv.i) {
          r[o->dst] = aggregate_result(*o, true);
          CARERULES_JUMP(ops[o->target].target);
        }
        CARERULES_JUMP(o->target);
      case agg::count:
        if (cv.known() && cv.i) ++acc.count;
        CARERULES_JUMP(o->target);
      default:  // sum, avg, min, max: the value next, when the condition holds
        if (!cv.known() || !cv.i) CARERULES_JUMP(o->target);
        CARERULES_NEXT();
    }
  }

  op_agg_value : {
    const value v = r[o->a];
    if (!v.known()) {
      accs_[static_cast<std::size_t>(o->k.i)].unsure = true;
    } else {
      CARERULES_CHECK();
      steps_ = steps;  // a sum may overflow
      fold_value(static_cast<agg>(o->sub), accs_[static_cast<std::size_t>(o->k.i)], v);
    }
    CARERULES_JUMP(o->target);
  }

  op_element:
    r[o->dst] = element_of(frames_[o->a]);
    CARERULES_NEXT();

  op_status_is : {
    const hazard_status h = status_of(hazards_[frames_[o->a].hazard]);
    const bool same = static_cast<std::int64_t>(h) == o->k.i;
    r[o->dst] = value::of_bool(static_cast<ast::op>(o->sub) == ast::op::eq ? same : !same);
    CARERULES_NEXT();
  }

  op_section:
    r[o->dst] = section_of(o->a, o->b);
    CARERULES_NEXT();

  op_exists:
    r[o->dst] = exists_of(o->a, o->n != 0, o->b, o->sub != 0);
    CARERULES_NEXT();

  op_eval:
    CARERULES_CHECK();
    steps_ = steps;
    nesting_ = o->b;
    r[o->dst] = eval(o->a);
    steps = steps_;
    nesting_ = 0;
    CARERULES_NEXT();

  op_end:
    CARERULES_CHECK();
    steps_ = steps;
    return r[o->dst];
  } catch (...) {
    // steps_ is the walk's count already (every operation that can fail stores it first), or
    // past the limit when the limit ended the declaration; the nesting is what the walk
    // leaves after a fault: none.
    nesting_ = 0;
    throw;
  }
#undef CARERULES_CHECK
#undef CARERULES_DISPATCH
#undef CARERULES_NEXT
#undef CARERULES_JUMP
}

}  // namespace carerules::detail
