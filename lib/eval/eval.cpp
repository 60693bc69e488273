// The evaluation loop (see eval.hpp).
#include "eval/eval.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <stdexcept>
#include <unordered_set>

#include "facts/value_json.hpp"
#include "util/date.hpp"
#include "util/decimal.hpp"
#include "util/utf8.hpp"

namespace carerules::detail {
namespace {

const char* const color_names[] = {"blue", "yellow", "orange", "red"};

struct eval_fault {
  std::string message;
};

value unknown() { return value{}; }
value boolean(bool b) { return value::of_bool(b); }

bool same_read(const fact_read& a, const fact_read& b) {
  if (a.input != b.input || a.depth != b.depth) return false;
  for (std::uint8_t i = 0; i < a.depth; ++i)
    if (a.idx[i] != b.idx[i]) return false;
  return true;
}

bool read_less(const fact_read& a, const fact_read& b) {
  if (a.input != b.input) return a.input < b.input;
  for (std::uint8_t i = 0; i < std::min(a.depth, b.depth); ++i)
    if (a.idx[i] != b.idx[i]) return a.idx[i] < b.idx[i];
  return a.depth < b.depth;
}

// Numeric values as scaled decimals (ints are scaled exactly in 128 bits).
__int128 scaled(const value& v) {
  return v.kind == vkind::integer ? static_cast<__int128>(v.i) * decimal_scale
                                  : static_cast<__int128>(v.i);
}

bool is_numeric(const value& v) { return v.kind == vkind::integer || v.kind == vkind::number; }

}  // namespace

namespace {

std::uint64_t read_hash(const fact_read& r) {
  std::uint64_t h = 1469598103934665603ull ^ r.input;
  h = (h ^ r.depth) * 1099511628211ull;
  for (std::uint8_t i = 0; i < r.depth; ++i) h = (h ^ r.idx[i]) * 1099511628211ull;
  return h;
}

}  // namespace

void trace::add(std::vector<fact_read>& v, std::vector<std::vector<std::uint32_t>>& index,
                const fact_read& r) {
  if (v.size() < linear_limit) {
    for (const auto& x : v)
      if (same_read(x, r)) return;
    v.push_back(r);
    return;
  }
  // Grow the bucket table with the vector (load factor <= 1), rehashing when it does.
  if (index.size() < v.size() * 2) {
    std::size_t buckets = 64;
    while (buckets < v.size() * 4) buckets *= 2;
    index.assign(buckets, {});
    for (std::uint32_t i = 0; i < v.size(); ++i)
      index[read_hash(v[i]) & (buckets - 1)].push_back(i);
  }
  auto& bucket = index[read_hash(r) & (index.size() - 1)];
  for (auto i : bucket)
    if (same_read(v[i], r)) return;
  bucket.push_back(static_cast<std::uint32_t>(v.size()));
  v.push_back(r);
}

namespace {

std::uint64_t use_key(decl_entry d, use_mode mode) {
  return static_cast<std::uint64_t>(d.index) << 8 | static_cast<std::uint64_t>(d.kind) << 2 |
         static_cast<std::uint64_t>(mode);
}

}  // namespace

void trace::add_use(decl_entry d, use_mode mode) {
  if (uses_.size() < linear_limit) {
    for (const auto& u : uses_)
      if (u.d.kind == d.kind && u.d.index == d.index && u.mode == mode) return;
    uses_.push_back({d, mode});
    return;
  }
  if (use_keys_.empty())  // from here on, a set of them finds repeats
    for (const auto& u : uses_) use_keys_.insert(use_key(u.d, u.mode));
  if (!use_keys_.insert(use_key(d, mode)).second) return;
  uses_.push_back({d, mode});
}

void trace::add_ref(const trace& other, bool reads) {
  if (&other == this) return;
  // A declaration read again adds nothing it did not add the first time (its reads too, if
  // they were taken then).
  auto key = [](const trace* t, bool r) {
    return static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(t)) << 1 | (r ? 1 : 0);
  };
  if (refs_.size() < linear_limit) {
    for (const auto& r : refs_)
      if (r.other == &other && (r.reads || !reads)) return;
  } else {
    if (ref_keys_.empty())
      for (const auto& r : refs_) ref_keys_.insert(key(r.other, r.reads));
    if (ref_keys_.count(key(&other, true)) || (!reads && ref_keys_.count(key(&other, false))))
      return;
    ref_keys_.insert(key(&other, reads));
  }
  refs_.push_back({&other, reads, static_cast<std::uint32_t>(reads_.size()),
                   static_cast<std::uint32_t>(missing_.size())});
  flat_missing_ok_ = false;
  if (reads) flat_reads_ok_ = false;
}

void trace::absorb_missing(const trace& other) {
  for (const auto& r : other.missing()) add_missing(r);
}

namespace {
thread_local std::uint64_t flatten_epoch = 0;  // marks a trace as walked by one flatten
}  // namespace

// Depth first through the references, each trace walked once (all it holds was added the
// first time), on a stack of its own: a chain of lets may be thousands long. The stack, the
// marks and the index are kept per thread, so a report's traces allocate nothing once warm.
template <bool Reads>
void trace::flatten(std::vector<fact_read>& out) const {
  struct frame {
    const trace* t;
    std::size_t direct = 0, next_ref = 0;
  };
  thread_local std::vector<frame> stack;
  thread_local std::vector<std::vector<std::uint32_t>> index;
  const std::uint64_t mark = ++flatten_epoch;  // one counter for both walks
  out.clear();
  index.clear();
  stack.clear();
  stack.push_back({this});
  walked_ = mark;
  while (!stack.empty()) {
    frame& f = stack.back();
    const auto& direct = Reads ? f.t->reads_ : f.t->missing_;
    const auto& refs = f.t->refs_;
    while (f.next_ref < refs.size() && Reads && !refs[f.next_ref].reads) ++f.next_ref;
    const std::size_t until =
        f.next_ref < refs.size() ? (Reads ? refs[f.next_ref].reads_at : refs[f.next_ref].missing_at)
                                 : direct.size();
    for (; f.direct < until; ++f.direct) add(out, index, direct[f.direct]);
    if (f.next_ref == refs.size()) {
      stack.pop_back();
      continue;
    }
    const trace* next = refs[f.next_ref++].other;
    if (next->walked_ == mark) continue;
    next->walked_ = mark;
    stack.push_back({next});  // f is not used after this
  }
}

template <bool Reads>
const std::vector<fact_read>& trace::flat() const {
  const auto& direct = Reads ? reads_ : missing_;
  if (refs_.empty()) return direct;
  auto& cached = Reads ? flat_reads_ : flat_missing_;
  bool& ok = Reads ? flat_reads_ok_ : flat_missing_ok_;
  if (!ok) {
    flatten<Reads>(cached);
    ok = true;
  }
  return cached;
}

const std::vector<fact_read>& trace::reads() const { return flat<true>(); }
const std::vector<fact_read>& trace::missing() const { return flat<false>(); }

void trace::clear() {
  reads_.clear();
  missing_.clear();
  read_keys_.clear();
  missing_keys_.clear();
  uses_.clear();
  refs_.clear();
  // A hash set's clear() wipes all its buckets, even when it holds nothing (as it does when
  // decisions alone are traced: nothing).
  if (!use_keys_.empty()) use_keys_.clear();
  if (!ref_keys_.empty()) ref_keys_.clear();
  flat_reads_ok_ = flat_missing_ok_ = false;
}

evaluator::evaluator(const program& p, const record_facts& facts, std::int64_t asof)
    : p_(p), f_(&facts), asof_(asof) {
  lets_.resize(p.lets.size());
  hazards_.resize(p.hazards.size());
  grades_.resize(p.grades.size());
  score_decls_.resize(p.scores.size());
  scores_.resize(p.scores.size());
  frames_.resize(p.max_frame_depth);
  regs_.resize(p.code_registers);
  accs_.resize(p.code_accumulators);
}

void evaluator::reset(const record_facts& facts, std::int64_t asof) {
  f_ = &facts;
  asof_ = asof;
  steps_ = 0;
  nesting_ = 0;
  // Traces are written only by a run with tracing on: after one without, they are empty.
  const bool clear_traces = traced_;
  traced_ = false;
  for (auto* states : {&lets_, &hazards_, &grades_, &score_decls_})
    for (auto& st : *states) {
      st.status = outcome::unknown;
      st.v = value{};
      if (clear_traces) st.tr.clear();
      st.error.clear();
      st.matched_line = -1;
    }
  for (auto& ss : scores_) {
    ss.total = 0;
    ss.provisional = false;
  }
  params_.clear();
  params_base_ = 0;
  cur_ = nullptr;
  eval_errors_.clear();
}

void evaluator::fail(const std::string& message) const { throw eval_fault{message}; }

void evaluator::steps_exceeded() const {
  fail("evaluation exceeded the limit of " + std::to_string(p_.limits.steps) +
       " steps (limit `steps`)");
}

std::vector<decl_entry> evaluator::expand_uses(const trace& t) const {
  std::vector<decl_entry> out;
  // Whether a declaration is listed, and whether its own uses were walked, by kind and index.
  std::vector<std::vector<bool>> listed(4), walked(4);
  const std::size_t sizes[4] = {lets_.size(), hazards_.size(), score_decls_.size(), grades_.size()};
  for (std::size_t k = 0; k < 4; ++k) {
    listed[k].assign(sizes[k], false);
    walked[k].assign(sizes[k], false);
  }
  // Explicit stack (a chain of lets may be thousands long): an entry either lists a
  // declaration or walks its uses.
  struct step {
    decl_entry d;
    bool walk;
  };
  std::vector<step> todo;
  auto push_uses = [&](const trace& tr) {
    for (auto it = tr.uses().rbegin(); it != tr.uses().rend(); ++it) {
      switch (it->mode) {
        case use_mode::self:
          todo.push_back({it->d, false});
          break;
        case use_mode::self_then_uses:
          todo.push_back({it->d, true});
          todo.push_back({it->d, false});
          break;
        case use_mode::uses_then_self:
          todo.push_back({it->d, false});
          todo.push_back({it->d, true});
          break;
      }
    }
  };
  push_uses(t);
  while (!todo.empty()) {
    const step s = todo.back();
    todo.pop_back();
    const auto k = static_cast<std::size_t>(s.d.kind);
    if (s.walk) {
      if (walked[k][s.d.index]) continue;
      walked[k][s.d.index] = true;
      push_uses(state(s.d.kind, s.d.index).tr);
    } else if (!listed[k][s.d.index]) {
      listed[k][s.d.index] = true;
      out.push_back(s.d);
    }
  }
  return out;
}

// ---- facts ----------------------------------------------------------------------------------

value evaluator::read_cell_traced(const fact_cell& cell, std::uint32_t input, const binding* b) {
  const bool known = known_cell(cell);
  fact_read r;
  r.input = input;
  if (b) {
    r.depth = b->depth;
    r.idx = b->idx;
  }
  if (known) {
    r.v = cell.v;
    cur_->add_read(r);
  } else {
    cur_->add_missing(r);
  }
  return known ? cell.v : unknown();
}

value evaluator::read_list(const list_instance& list, std::uint32_t input, const binding* b) {
  if (list.state == fact_state::present) {
    value v = value::list_of(static_cast<std::int32_t>(input), &list);
    return v;
  }
  if (cur_) {
    fact_read r;
    r.input = input;
    if (b) {
      r.depth = b->depth;
      r.idx = b->idx;
    }
    cur_->add_missing(r);
  }
  return unknown();
}

// ---- expressions ----------------------------------------------------------------------------

value evaluator::eval(node_id id) {
  step();
  // Expressions nest at most `depth` deep, but tables calling tables multiply that: bound
  // the native recursion itself.
  struct nest_guard {
    std::uint32_t& n;
    ~nest_guard() { --n; }
  } nest{++nesting_};
  if (nesting_ > max_nesting) [[unlikely]]
    nesting_exceeded();
  const node& n = p_.nodes[id];
  switch (n.op) {
    case opcode::constant:
      return n.k;
    case opcode::fact:
      return read_fact(n);
    case opcode::var_field:
      return read_element_field(n);
    case opcode::param:
      return params_[params_base_ + n.a];
    case opcode::decl: {
      auto k = static_cast<decl_kind>(n.b);
      const decl_state& st = state(k, n.a);
      if (cur_) {
        cur_->add_use({k, n.a}, k == decl_kind::let ? use_mode::self_then_uses : use_mode::self);
        if (k == decl_kind::let)
          cur_->merge(st.tr);
        else
          cur_->merge_missing(st.tr);
      }
      return st.status == outcome::known ? st.v : unknown();
    }
    case opcode::present: {
      const decl_state& st = hazards_[n.a];
      if (cur_) {
        cur_->merge(st.tr);
        cur_->add_use({decl_kind::hazard, n.a}, use_mode::uses_then_self);
      }
      if (st.status != outcome::known) return unknown();
      return st.v;
    }
    case opcode::binary:
      // By the operator's family, each a small function of its own.
      switch (static_cast<ast::op>(n.sub)) {
        case ast::op::or_:
        case ast::op::and_:
          return eval_logic(n);
        case ast::op::in:
        case ast::op::not_in:
          return eval_in(n);
        case ast::op::eq:
        case ast::op::ne:
        case ast::op::lt:
        case ast::op::le:
        case ast::op::gt:
        case ast::op::ge:
          return eval_compare(n);
        default:
          return eval_arith(n);
      }
    case opcode::unary:
      return eval_unary(n);
    case opcode::coalesce: {
      value a = eval(p_.kid(n, 0));
      if (a.known()) return a;
      return eval(p_.kid(n, 1));
    }
    case opcode::if_else: {
      value c = eval(p_.kid(n, 0));
      if (!c.known()) return unknown();
      return eval(p_.kid(n, c.i ? 1 : 2));
    }
    case opcode::call:
      return eval_call(n);
    case opcode::table_call:
      return eval_table(n);
    case opcode::aggregate:
      return eval_aggregate(n);
    default:
      return eval_other(n);
  }
}

// The operations met less often, out of eval() so that its frame stays small (eval is the
// recursion every expression goes through).
value evaluator::eval_other(const node& n) {
  switch (n.op) {
    case opcode::fact_list:
      return read_list(f_->root.lists[n.slot], n.a, nullptr);
    case opcode::var:  // a scalar element was traced when the aggregate bound it
      return element_of(frames_[n.a]);
    case opcode::var_list: {
      const binding& b = frames_[n.a];
      return read_list(b.rec->lists[n.slot], n.b, &b);
    }
    case opcode::hazard_field:
      return hazard_field_of(frames_[n.a].hazard, n.b);
    case opcode::section: {
      const score_state& s = scores_[n.a];
      if (cur_) {
        cur_->add_use({decl_kind::score, n.a});
        cur_->merge_missing(s.section_traces[n.b]);
      }
      return section_of(n.a, n.b);
    }
    case opcode::hazards:
      return value::list_of(value::hazards_list, nullptr);
    case opcode::asof:
      return value::of_date(asof_);
    case opcode::exists:
      return exists_of(n.b, p_.inputs[n.a].field->is_list, n.slot, n.sub != 0);
    case opcode::list_literal:
      return value::list_of(value::literal_list, &n);
    default:
      break;
  }
  return unknown();
}

// The leaves the walk and the decision code read alike (without the walk's traces).

value evaluator::hazard_field_of(std::uint32_t h, std::uint32_t field) const {
  const hazard_plan& hp = p_.hazards[h];
  switch (field) {
    case 0:
      return value::of_string(hp.id);
    case 1:
      return value::of_string(hp.category);
    case 2:
      return value::of_string(hp.major ? "major" : "general");
    default:
      return value::of_string(to_string(status_of(hazards_[h])));
  }
}

value evaluator::section_of(std::uint32_t score, std::uint32_t section) const {
  if (score_decls_[score].status == outcome::error || scores_[score].section_provisional[section])
    return unknown();
  return value::of_number(scores_[score].sections[section]);
}

value evaluator::exists_of(std::uint32_t frame, bool is_list, std::uint32_t slot,
                           bool missing) const {
  const record_instance& rec = frame == none_index ? f_->root : *frames_[frame].rec;
  const bool supplied = is_list ? rec.lists[slot].state == fact_state::present
                                : rec.cells[slot].state == fact_state::present;
  return boolean(missing ? !supplied : supplied);
}

void evaluator::nesting_exceeded() const {
  fail("evaluation nests deeper than " + std::to_string(max_nesting) +
       " levels (tables calling tables)");
}

// The pairs compare_values does not order inline (two values of one ordered kind are); nullopt
// when they are not comparable (none against a level in an ordering comparison, which is
// false rather than unknown).
std::optional<int> compare_other_values(const value& a, const value& b) {
  if (is_numeric(a) && is_numeric(b)) {
    __int128 x = scaled(a), y = scaled(b);
    return x < y ? -1 : (x == y ? 0 : 1);
  }
  if (a.kind == vkind::none || b.kind == vkind::none) {
    if (a.kind == b.kind) return 0;
    return std::nullopt;
  }
  if (a.kind == vkind::string && b.kind == vkind::string) {
    int c = a.s().compare(b.s());  // UTF-8 byte order is code point order
    return c < 0 ? -1 : (c == 0 ? 0 : 1);
  }
  if (a.kind != b.kind) return std::nullopt;
  if (a.kind == vkind::list || a.kind == vkind::record) {  // by source / hazard index
    const std::int32_t x = a.source(), y = b.source();
    return x < y ? -1 : (x == y ? 0 : 1);
  }
  return a.i < b.i ? -1 : (a.i == b.i ? 0 : 1);
}

// The comparisons (==, !=, <, <=, >, >=): most of the nodes a record meets (tables' rows,
// grades' lines), so they have a small function of their own, with the usual pairs (one
// ordered kind; an int against a number) compared inline (compare).
value evaluator::eval_compare(const node& n) {
  const value a = operand(p_.kid(n, 0));
  const value b = operand(p_.kid(n, 1));
  return compare(static_cast<ast::op>(n.sub), a, b);
}

// `not`, and `-` of a number.
value evaluator::eval_unary(const node& n) {
  const value a = operand(p_.kid(n, 0));
  if (!a.known()) return a;
  if (static_cast<ast::op>(n.sub) == ast::op::not_) return boolean(a.i == 0);
  if (a.kind == vkind::integer) {
    auto r = int_neg(a.i);
    if (!r) fail("integer overflow in `-`");
    return value::of_int(*r);
  }
  auto r = dec_neg(a.i);
  if (!r) fail("number overflow in `-`");
  return value::of_number(*r);
}

// `and`, `or`: three-valued, the right side skipped when the left decides.
value evaluator::eval_logic(const node& n) {
  const bool is_and = static_cast<ast::op>(n.sub) == ast::op::and_;
  const value a = operand(p_.kid(n, 0));
  if (a.known() && (a.i != 0) != is_and) return boolean(!is_and);  // false and / true or
  const value b = operand(p_.kid(n, 1));
  if (b.known() && (b.i != 0) != is_and) return boolean(!is_and);
  if (a.known() && b.known()) return boolean(is_and);
  return unknown();
}

// `in`, `not in`: membership of a list literal, a list fact or field.
value evaluator::eval_in(const node& n) {
  const auto o = static_cast<ast::op>(n.sub);
  const value a = operand(p_.kid(n, 0));
  const value b = operand(p_.kid(n, 1));
  if (!b.known()) return unknown();
  if (!a.known()) {
    // Still evaluate a literal list: an error in it is the declaration's error.
    if (b.source() == value::literal_list) {
      const node& ln = *static_cast<const node*>(b.p());
      for (std::uint32_t i = 0; i < ln.nkids; ++i) operand(p_.kid(ln, i));
    }
    return unknown();
  }
  bool found = false, unsure = false;
  auto test = [&](const value& el) {
    if (!el.known()) {
      unsure = true;
      return;
    }
    auto c = compare_values(a, el);
    if (c && *c == 0) found = true;
  };
  if (b.source() == value::literal_list) {
    const node& ln = *static_cast<const node*>(b.p());
    for (std::uint32_t i = 0; i < ln.nkids && !found; ++i) test(operand(p_.kid(ln, i)));
  } else {
    const auto& list = *static_cast<const list_instance*>(b.p());
    if (cur_) {
      fact_read r;
      r.input = static_cast<std::uint32_t>(b.source());
      r.v = b;
      const node& src = p_.nodes[p_.kid(n, 1)];
      if (src.op == opcode::var_list) {  // a list field of an element: its indices
        r.depth = frames_[src.a].depth;
        r.idx = frames_[src.a].idx;
      }
      cur_->add_read(r);
    }
    for (const auto& c : list.items) {
      if (found) break;
      test(c.state == fact_state::present ? c.v : unknown());
    }
  }
  if (found) return boolean(o == ast::op::in);
  if (unsure) return unknown();
  return boolean(o != ast::op::in);
}

// + - * / %: exact, every overflow a fault.
value evaluator::eval_arith(const node& n) {
  const value a = operand(p_.kid(n, 0));
  const value b = operand(p_.kid(n, 1));
  return arith(static_cast<ast::op>(n.sub), a, b);
}

value evaluator::arith(ast::op o, const value& a, const value& b) {
  if (!a.known() || !b.known()) {
    return unknown();
  }
  switch (o) {
    case ast::op::add:
    case ast::op::sub: {
      bool add = o == ast::op::add;
      if (a.kind == vkind::date && b.kind == vkind::date) return value::of_int(a.i - b.i);
      if (a.kind == vkind::date) {
        auto r = add ? int_add(a.i, b.i) : int_sub(a.i, b.i);
        if (!r || !date_in_range(*r)) fail("the date is outside 0001-01-01..9999-12-31");
        return value::of_date(*r);
      }
      if (a.kind == vkind::integer && b.kind == vkind::integer) {
        auto r = add ? int_add(a.i, b.i) : int_sub(a.i, b.i);
        if (!r) fail(std::string("integer overflow in `") + (add ? "+" : "-") + "`");
        return value::of_int(*r);
      }
      auto x = a.kind == vkind::integer ? int_to_decimal(a.i) : checked(a.i);
      auto y = b.kind == vkind::integer ? int_to_decimal(b.i) : checked(b.i);
      checked r;
      if (x && y) r = add ? dec_add(*x, *y) : dec_sub(*x, *y);
      if (!r) fail(std::string("number overflow in `") + (add ? "+" : "-") + "`");
      return value::of_number(*r);
    }
    case ast::op::mul: {
      if (a.kind == vkind::integer && b.kind == vkind::integer) {
        auto r = int_mul(a.i, b.i);
        if (!r) fail("integer overflow in `*`");
        return value::of_int(*r);
      }
      // A scaled product that fits 64 bits (the usual case) is rounded with 64-bit division.
      auto rounded = [](std::int64_t p) {
        std::int64_t q = p / decimal_scale;
        const std::int64_t rem = p % decimal_scale;
        if (rem * 2 >= decimal_scale) ++q;
        if (rem * 2 <= -decimal_scale) --q;
        return value::of_number(q);
      };
      std::int64_t p64;
      if (a.kind == vkind::number && b.kind == vkind::number &&
          !__builtin_mul_overflow(a.i, b.i, &p64))
        return rounded(p64);
      __int128 prod;
      if (__builtin_mul_overflow(scaled(a), scaled(b), &prod)) fail("number overflow in `*`");
      if (prod >= INT64_MIN && prod <= INT64_MAX) return rounded(static_cast<std::int64_t>(prod));
      __int128 q = prod / decimal_scale, rem = prod % decimal_scale;
      if (rem * 2 >= decimal_scale) ++q;
      if (rem * 2 <= -decimal_scale) --q;
      if (q > INT64_MAX || q < INT64_MIN) fail("number overflow in `*`");
      return value::of_number(static_cast<std::int64_t>(q));
    }
    case ast::op::div: {
      __int128 x = scaled(a), y = scaled(b);
      if (y == 0) fail("division by zero");
      __int128 num = x * decimal_scale;
      __int128 q = num / y, rem = num % y;
      // round half away from zero
      __int128 r2 = rem < 0 ? -rem : rem, y2 = y < 0 ? -y : y;
      if (r2 * 2 >= y2) q += ((num < 0) != (y < 0)) ? -1 : 1;
      if (q > INT64_MAX || q < INT64_MIN) fail("number overflow in `/`");
      return value::of_number(static_cast<std::int64_t>(q));
    }
    case ast::op::mod: {
      if (b.i == 0) fail("`%` by zero");
      auto r = int_mod(a.i, b.i);
      if (!r) fail("integer overflow in `%`");
      return value::of_int(*r);
    }
    default:
      break;
  }
  return unknown();
}

value evaluator::eval_call(const node& n) {
  const builtin_row& row = row_of(static_cast<builtin>(n.sub));
  // The arguments go on the stack table calls use (a nested call made while evaluating an
  // argument pops its own before this one pushes the next), so a call allocates nothing.
  const std::size_t base = params_.size();
  struct pop_guard {
    std::vector<value>& stack;
    std::size_t base;
    ~pop_guard() { stack.resize(base); }
  } guard{params_, base};
  bool any_unknown = false;
  for (std::uint32_t i = 0; i < n.nkids; ++i) {
    value v = eval(p_.kid(n, i));  // every argument, so that an error is never hidden
    any_unknown = any_unknown || !v.known();
    params_.push_back(v);
  }
  if (any_unknown && !row.sees_unknown) return unknown();
  return row.eval(*this, std::span<const value>(params_.data() + base, n.nkids));
}

value evaluator::length(const value& a) {
  if (a.source() == value::hazards_list) {
    std::int64_t c = 0;
    for (const auto& h : hazards_) {
      if (h.status == outcome::known && h.v.i == 0) continue;
      if (h.status != outcome::known) {
        if (cur_) cur_->merge_missing(h.tr);
        return unknown();
      }
      ++c;
    }
    return value::of_int(c);
  }
  if (a.source() == value::literal_list)
    return value::of_int(static_cast<const node*>(a.p())->nkids);
  const auto& list = *static_cast<const list_instance*>(a.p());
  const auto& f = *p_.inputs[static_cast<std::size_t>(a.source())].field;
  return value::of_int(
      static_cast<std::int64_t>(f.of_records ? list.records.size() : list.items.size()));
}

value evaluator::eval_table(const node& n) {
  // Arguments go on one stack shared by all calls (a nested call made while evaluating an
  // argument pops its own before this one pushes the next), so a call allocates nothing.
  struct frame_guard {  // pops this call's arguments however the call ends (a fault too)
    std::vector<value>& stack;
    std::size_t& current;
    std::size_t base, saved;
    ~frame_guard() {
      stack.resize(base);
      current = saved;
    }
  } guard{params_, params_base_, params_.size(), params_base_};
  for (std::uint32_t i = 0; i < n.nkids; ++i) {
    value v = eval(p_.kid(n, i));
    params_.push_back(v);
  }
  params_base_ = guard.base;
  const table_plan& t = p_.tables[n.a];
  trace* saved = cur_;
  value result;
  for (const auto& row : t.rows) {
    if (row.cond == none_index) {
      result = row.result;
      break;
    }
    value c;
    if (row.quick && nesting_ + 2 <= max_nesting) {
      // A parameter against a constant, compared in place: the three steps the walk would
      // count (the comparison and its two operands), and no deeper than it would nest.
      steps_ += 3;
      if (steps_ > p_.limits.steps) [[unlikely]]
        steps_exceeded();
      const value& pv = params_[params_base_ + row.quick_param];
      c = row.param_first ? compare(row.quick_op, pv, row.quick_k)
                          : compare(row.quick_op, row.quick_k, pv);
    } else {
      c = eval(row.cond);
    }
    if (!c.known()) break;  // an unknown row before the hit: the result is unknown
    if (c.i) {
      result = row.result;
      break;
    }
  }
  cur_ = saved;
  return result;
}

// An element whose condition held and whose value is known, into the accumulator of a sum,
// average, minimum or maximum.
void evaluator::fold_value(agg kind, agg_acc& acc, const value& v) {
  ++acc.count;
  if (kind == agg::sum || kind == agg::avg) {
    if (v.kind == vkind::number) acc.sum_is_int = false;
    acc.sum += scaled(v);
    if (acc.sum > static_cast<__int128>(INT64_MAX) * decimal_scale ||
        acc.sum < static_cast<__int128>(INT64_MIN) * decimal_scale)
      fail("overflow in `" + std::string(kind == agg::sum ? "sum" : "avg") + "`");
    return;
  }
  if (!acc.have) {
    acc.best = v;
    acc.have = true;
  } else {
    auto cmp = compare_values(v, acc.best);
    if (cmp && (kind == agg::max ? *cmp > 0 : *cmp < 0)) acc.best = v;
  }
}

// A sum's, average's, minimum's or maximum's value once its elements are visited.
value evaluator::folded_value(agg kind, const agg_acc& acc) {
  switch (kind) {
    case agg::any:
    case agg::all:
    case agg::count:
      break;  // aggregate_value's own
    case agg::sum:
      if (acc.unsure) return unknown();
      if (acc.sum_is_int) return value::of_int(static_cast<std::int64_t>(acc.sum / decimal_scale));
      if (acc.sum > INT64_MAX || acc.sum < INT64_MIN) fail("number overflow in `sum`");
      return value::of_number(static_cast<std::int64_t>(acc.sum));
    case agg::avg: {
      if (acc.unsure || acc.count == 0) return unknown();
      __int128 num = acc.sum, q = num / acc.count, rem = num % acc.count;
      __int128 r2 = rem < 0 ? -rem : rem;
      if (r2 * 2 >= acc.count) q += num < 0 ? -1 : 1;
      if (q > INT64_MAX || q < INT64_MIN) fail("number overflow in `avg`");
      return value::of_number(static_cast<std::int64_t>(q));
    }
    case agg::min:
    case agg::max:
      return acc.unsure || !acc.have ? unknown() : acc.best;
  }
  return unknown();
}

value evaluator::eval_aggregate(const node& n) {
  auto kind = static_cast<agg>(n.sub);
  node_id src = p_.kid(n, 0), where = p_.kid(n, 1), val = p_.kid(n, 2);
  value s = eval(src);
  if (!s.known()) return unknown();
  std::uint32_t depth = n.a;
  binding& b = frames_[depth];

  agg_acc acc;
  bool& unsure = acc.unsure;

  // Visits one element; `certain` is false for a hazard whose membership is unknown.
  // Returns true to stop early (any found true, all found false).
  auto visit = [&](bool certain) -> bool {
    value c = boolean(true);
    if (where != none_index) c = eval(where);
    // An uncertain member's condition reads as `unknown and <condition>`: false stays
    // false (which decides an `all`), anything else is unknown.
    if (!certain && !(c.known() && c.i == 0)) c = unknown();
    switch (kind) {
      case agg::any:
        if (c.known() && c.i) return true;
        if (!c.known()) unsure = true;
        return false;
      case agg::all:
        if (c.known() && !c.i) return true;
        if (!c.known()) unsure = true;
        return false;
      case agg::count:
        if (!c.known())
          unsure = true;
        else if (c.i)
          ++acc.count;
        return false;
      default:
        break;
    }
    if (!c.known()) {
      unsure = true;
      return false;
    }
    if (!c.i) return false;
    value v = eval(val);
    if (!v.known()) {
      unsure = true;
      return false;
    }
    fold_value(kind, acc, v);
    return false;
  };

  bool stopped = false;
  if (s.source() == value::hazards_list) {
    for (std::uint32_t h = 0; h < hazards_.size() && !stopped; ++h) {
      const auto& st = hazards_[h];
      if (st.status == outcome::known && st.v.i == 0) continue;
      b = binding{};
      b.hazard = h;
      if (cur_) cur_->add_use({decl_kind::hazard, h});
      bool certain = st.status == outcome::known;
      bool was_unsure = unsure;
      stopped = visit(certain);
      if (!certain && unsure != was_unsure && cur_) cur_->merge_missing(st.tr);
    }
  } else if (s.source() == value::literal_list) {
    const node& ln = *static_cast<const node*>(s.p());
    std::vector<fact_cell> cells(ln.nkids);
    for (std::uint32_t i = 0; i < ln.nkids; ++i) {
      value v = eval(p_.kid(ln, i));
      cells[i].state = v.known() ? fact_state::present : fact_state::absent;
      cells[i].v = v;
    }
    for (std::uint32_t i = 0; i < ln.nkids && !stopped; ++i) {
      b = binding{};
      b.cell = &cells[i];
      stopped = visit(true);
    }
  } else {
    const auto& list = *static_cast<const list_instance*>(s.p());
    std::uint32_t input = static_cast<std::uint32_t>(s.source());
    const auto& f = *p_.inputs[input].field;
    // the enclosing element's indices
    std::uint8_t base_depth = 0;
    std::array<std::uint32_t, max_list_nesting> base{};
    const input_meta& meta = p_.inputs[input];
    if (meta.parent != none_index) {
      for (std::uint32_t d = depth; d-- > 0;)
        if (frames_[d].rec) {
          base_depth = frames_[d].depth;
          base = frames_[d].idx;
          break;
        }
    }
    std::size_t count_el = f.of_records ? list.records.size() : list.items.size();
    for (std::size_t i = 0; i < count_el && !stopped; ++i) {
      b = binding{};
      b.depth = static_cast<std::uint8_t>(std::min<std::size_t>(base_depth + 1, max_list_nesting));
      b.idx = base;
      if (base_depth < max_list_nesting) b.idx[base_depth] = static_cast<std::uint32_t>(i);
      if (f.of_records) {
        b.rec = &list.records[i];
      } else {
        b.cell = &list.items[i];
        fact_read r;
        r.input = input;
        r.depth = b.depth;
        r.idx = b.idx;
        r.v = list.items[i].v;
        if (cur_) {
          if (list.items[i].state == fact_state::present)
            cur_->add_read(r);
          else
            cur_->add_missing(r);
        }
      }
      stopped = visit(true);
    }
  }
  b = binding{};
  return aggregate_value(kind, acc, stopped);
}

// ---- declarations ---------------------------------------------------------------------------

void evaluator::eval_decl(const decl_entry& d) {
  switch (d.kind) {
    case decl_kind::let:
    case decl_kind::hazard: {
      decl_state& st = d.kind == decl_kind::let ? lets_[d.index] : hazards_[d.index];
      node_id root = d.kind == decl_kind::let ? p_.lets[d.index].value : p_.hazards[d.index].when;
      cur_ = tracing_ ? &st.tr : nullptr;
      try {
        value v = eval_top(root);
        st.v = v;
        st.status = v.known() ? outcome::known : outcome::unknown;
      } catch (const eval_fault& f) {
        decl_failed(d, st, f.message);
      }
      cur_ = nullptr;
      return;
    }
    case decl_kind::score:
      eval_score(d.index);
      return;
    case decl_kind::grade:
      eval_grade(d.index);
      return;
  }
}

void evaluator::decl_failed(const decl_entry& d, decl_state& st, const std::string& message) {
  st.status = outcome::error;
  st.error = message;
  eval_errors_.push_back(
      {"", d.kind == decl_kind::let ? p_.lets[d.index].name : p_.hazards[d.index].id, message});
}

void evaluator::eval_score(std::uint32_t i) {
  const score_plan& sp = p_.scores[i];
  score_state& ss = scores_[i];
  decl_state& ds = score_decls_[i];
  ss.sections.assign(sp.sections.size(), 0);
  ss.section_provisional.assign(sp.sections.size(), false);
  ss.section_traces.assign(sp.sections.size(), trace{});
  ss.items.assign(sp.items.size(), item_state{});
  std::vector<__int128> sec_sum(sp.sections.size(), 0);
  __int128 top = 0;
  bool overflowed = false;  // a section or the total does not fit: the score is an error
  for (std::size_t k = 0; k < sp.items.size(); ++k) {
    const item_plan& it = sp.items[k];
    item_state& is = ss.items[k];
    trace t;
    t.keep_reads(!evidence_only_);
    cur_ = tracing_ ? &t : nullptr;
    try {
      value c = boolean(true);
      if (it.when != none_index) c = eval_top(it.when);
      if (!c.known()) {
        is.status = item_status::undetermined;
      } else if (!c.i) {
        is.status = item_status::not_awarded;
      } else {
        value pts = eval_top(it.points);
        if (!pts.known()) {
          is.status = item_status::undetermined;
        } else {
          __int128 v = scaled(pts);
          if (it.deduct) v = -v;
          if (v > INT64_MAX || v < INT64_MIN)
            fail("number overflow in the points of `" + it.id + "`");
          is.status = item_status::awarded;
          is.points = static_cast<std::int64_t>(v);
        }
      }
    } catch (const eval_fault& f) {
      is.status = item_status::error;  // the item's fault; the score is provisional (§12)
      eval_errors_.push_back({"", it.id, f.message});
    }
    cur_ = nullptr;
    bool open = is.status == item_status::undetermined || is.status == item_status::error;
    if (it.section >= 0) {
      auto s = static_cast<std::size_t>(it.section);
      if (open) {
        ss.section_provisional[s] = true;
        ss.section_traces[s].absorb_missing(t);
      }
      sec_sum[s] += is.points;
    } else {
      top += is.points;
    }
    if (open) {
      ss.provisional = true;
      ds.tr.absorb_missing(t);
    }
  }
  auto clamp = [](__int128 v, const std::optional<std::int64_t>& mx) {
    if (v < 0) v = 0;
    if (mx && v > *mx) v = *mx;
    return v;
  };
  __int128 total = top;
  for (std::size_t s = 0; s < sp.sections.size(); ++s) {
    __int128 v = clamp(sec_sum[s], sp.sections[s].max);
    if (v > INT64_MAX) {
      overflowed = true;
      ss.section_provisional[s] = true;
      v = 0;
      eval_errors_.push_back(
          {"", sp.name,
           "number overflow in section `" + sp.sections[s].name + "` of score `" + sp.name + "`"});
    }
    ss.sections[s] = static_cast<std::int64_t>(v);
    total += v;
  }
  total = clamp(total, sp.max);
  if (total > INT64_MAX) {
    total = 0;
    overflowed = true;
    eval_errors_.push_back(
        {"", sp.name, "number overflow in the total of score `" + sp.name + "`"});
  }
  ss.total = static_cast<std::int64_t>(total);
  if (overflowed) ss.provisional = true;  // the total shown is not the sum
  ds.v = value::of_number(ss.total);
  ds.status = overflowed ? outcome::error : ss.provisional ? outcome::unknown : outcome::known;
}

void evaluator::eval_grade(std::uint32_t i) {
  const grade_plan& gp = p_.grades[i];
  decl_state& st = grades_[i];
  st.tr.keep_reads(!evidence_only_);
  cur_ = tracing_ ? &st.tr : nullptr;
  try {
    st.status = outcome::known;
    st.v = value::of(vkind::none, 0);
    for (std::size_t k = 0; k < gp.lines.size(); ++k) {
      const auto& line = gp.lines[k];
      bool hit = line.otherwise;
      if (!hit) {
        value c = eval_top(line.cond);
        if (!c.known()) {
          st.status = outcome::unknown;
          break;
        }
        hit = c.i != 0;
      }
      if (hit) {
        st.v = line.label;
        st.matched_line = static_cast<std::int32_t>(k);
        break;
      }
    }
  } catch (const eval_fault& f) {
    st.status = outcome::error;
    st.error = f.message;
    eval_errors_.push_back({"", gp.name, f.message});
  }
  cur_ = nullptr;
}

void evaluator::run_untraced() {
  for (std::size_t k = 0; k < p_.order.size(); ++k) {
    const decl_entry& d = p_.order[k];
    const std::uint32_t c = p_.order_code[k];
    if (c == none_index) {
      eval_decl(d);
      continue;
    }
    decl_state& st = d.kind == decl_kind::let ? lets_[d.index] : hazards_[d.index];
    try {
      st.v = run_code(p_.codes[c]);
      st.status = st.v.known() ? outcome::known : outcome::unknown;
    } catch (const eval_fault& f) {
      decl_failed(d, st, f.message);
    }
  }
}

void evaluator::run() {
  traced_ = traced_ || tracing_;
  if (!tracing_ && p_.order_code.size() == p_.order.size()) {
    run_untraced();
  } else {
    for (const auto& d : p_.order) eval_decl(d);
  }
  // A rectification due date past the calendar is an evaluation error (§12), not a report
  // that silently lacks its deadline; the hazard's own status stands.
  for (const hazard_plan& h : p_.hazards)
    if (h.within_days && !date_in_range(asof_ + *h.within_days))
      eval_errors_.push_back({"", h.id,
                              "the rectification due date (asof + " +
                                  std::to_string(*h.within_days) + " days) is after 9999-12-31"});
}

std::optional<value> evaluator::eval_root(node_id n, std::string& error) {
  trace t;
  return eval_traced(n, t, error);
}

std::optional<value> evaluator::eval_traced(node_id n, trace& t, std::string& error) {
  cur_ = &t;
  try {
    value v = eval(n);
    cur_ = nullptr;
    return v;
  } catch (const eval_fault& f) {
    cur_ = nullptr;
    error = f.message;
    return std::nullopt;
  }
}

// ---- reports --------------------------------------------------------------------------------

void evaluator::append_path(const fact_read& r, std::string& s) const {
  // residents[2].meds[0].dose: each enclosing list of records carries its element index.
  std::array<std::uint32_t, 16> chain{};
  std::size_t n = 0;
  for (std::uint32_t in = r.input; in != none_index && n < chain.size(); in = p_.inputs[in].parent)
    chain[n++] = in;
  const std::size_t start = s.size();
  std::size_t level = 0;
  auto index = [&](std::uint32_t i) {
    char digits[16];
    const auto end = std::to_chars(digits, digits + sizeof digits, i).ptr;
    s += '[';
    s.append(digits, static_cast<std::size_t>(end - digits));
    s += ']';
  };
  for (std::size_t k = n; k-- > 0;) {
    if (s.size() > start) s += '.';
    s += p_.inputs[chain[k]].rel_path;
    if (k > 0) {
      if (level < r.depth) index(r.idx[level]);
      ++level;
    }
  }
  if (level < r.depth) index(r.idx[level]);  // a list<T> element
}

std::string evaluator::path_of(const fact_read& r) const {
  std::string s;
  append_path(r, s);
  return s;
}

json_value evaluator::to_json(const value& v) const {
  if (v.kind != vkind::list) return scalar_json(v);
  json_value j;  // a list<T> read whole (by `in`): its elements
  j.type = json_value::kind::array;
  if (v.p() && v.source() >= 0) {
    const auto& list = *static_cast<const list_instance*>(v.p());
    for (const auto& c : list.items)
      j.items.push_back(c.state == fact_state::present ? scalar_json(c.v) : json_value{});
  }
  return j;
}

std::string evaluator::display(const value& v) const {
  switch (v.kind) {
    case vkind::unknown:
      return "unknown";
    case vkind::none:
      return "none";
    case vkind::level:
      return "level " + std::to_string(v.i);
    case vkind::color:
      return color_names[v.i & 3];
    default:
      return to_json(v).to_json();
  }
}

namespace {

std::vector<std::string> missing_paths(const evaluator& ev, std::vector<fact_read> m) {
  std::stable_sort(m.begin(), m.end(), read_less);
  std::vector<std::string> out;
  for (std::size_t i = 0; i < m.size(); ++i) {
    if (i > 0 && same_read(m[i], m[i - 1])) continue;
    out.push_back(ev.path_of(m[i]));
  }
  return out;
}

json_value decimal_json(std::int64_t scaled_value) {
  json_value j;
  if (scaled_value % decimal_scale == 0) {
    j.type = json_value::kind::integer;
    j.i = scaled_value / decimal_scale;
  } else {
    j.type = json_value::kind::decimal;
    j.i = scaled_value;
  }
  return j;
}

}  // namespace

std::vector<std::string> evaluator::missing_of(const trace& t) const {
  return missing_paths(*this, t.missing());
}

report evaluator::make_report() const {
  report r;
  r.subject = f_->subject;
  r.ruleset = p_.info;
  r.engine = std::string("carerules ") + version_string;
  r.asof = format_date(asof_);
  for (std::size_t i = 0; i < p_.hazards.size(); ++i) {
    const hazard_plan& hp = p_.hazards[i];
    const decl_state& st = hazards_[i];
    hazard_result h;
    h.id = hp.id;
    h.title = hp.title;
    h.category = hp.category;
    h.severity = hp.major ? hazard_severity::major : hazard_severity::general;
    h.status = status_of(st);
    h.cite = hp.cite;
    h.rectify.action = hp.action;
    h.rectify.within_days = hp.within_days;
    if (hp.within_days) {
      std::int64_t due = asof_ + *hp.within_days;
      if (date_in_range(due)) h.rectify.due = format_date(due);
    }
    h.advice = hp.advice;
    // The trace holds each fact once, in first-read order.
    h.evidence.reserve(st.tr.reads().size());
    for (const auto& rd : st.tr.reads()) h.evidence.emplace_back(path_of(rd), to_json(rd.v));
    if (st.status == outcome::unknown) h.missing = missing_paths(*this, st.tr.missing());
    r.hazards.push_back(std::move(h));
  }
  for (std::size_t i = 0; i < p_.scores.size(); ++i) {
    const score_plan& sp = p_.scores[i];
    const score_state& ss = scores_[i];
    score_result s;
    s.name = sp.name;
    s.total = decimal_json(ss.total);
    s.provisional = ss.provisional;
    for (std::size_t k = 0; k < sp.sections.size(); ++k)
      s.sections.emplace_back(sp.sections[k].name, decimal_json(ss.sections[k]));
    for (std::size_t k = 0; k < sp.items.size(); ++k) {
      const item_plan& ip = sp.items[k];
      item_result it;
      it.id = ip.id;
      if (ip.section >= 0) it.section = sp.sections[static_cast<std::size_t>(ip.section)].name;
      it.kind = ip.deduct ? item_kind::deduct : item_kind::item;
      it.points = decimal_json(ss.items[k].points);
      it.status = ss.items[k].status;
      s.items.push_back(std::move(it));
    }
    if (ss.provisional) s.missing = missing_paths(*this, score_decls_[i].tr.missing());
    r.scores.push_back(std::move(s));
  }
  for (std::size_t i = 0; i < p_.grades.size(); ++i) {
    const grade_plan& gp = p_.grades[i];
    const decl_state& st = grades_[i];
    grade_result g;
    g.name = gp.name;
    if (st.status == outcome::error) {
      g.outcome = grade_outcome::error;
    } else if (st.status == outcome::unknown) {
      g.outcome = grade_outcome::undetermined;
      g.missing = missing_paths(*this, st.tr.missing());
    } else if (st.matched_line < 0) {
      g.outcome = grade_outcome::none;
    } else {
      const grade_line_plan& line = gp.lines[static_cast<std::size_t>(st.matched_line)];
      g.outcome = line.is_none ? grade_outcome::none : grade_outcome::label;
      if (!line.is_none) g.label = line.label_text;
      g.because = line.because;
    }
    r.grades.push_back(std::move(g));
  }
  for (const auto& e : f_->errors) {
    carerules::record_error re;
    re.path = e.path;
    re.message = e.message;
    r.errors.push_back(std::move(re));
  }
  for (const auto& e : eval_errors_) {
    carerules::record_error re;
    re.rule = e.rule;
    re.message = e.message;
    r.errors.push_back(std::move(re));
  }
  return r;
}

}  // namespace carerules::detail
