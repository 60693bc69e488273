// The evaluation loop: one record against a compiled program.
//
// Declarations are evaluated once each, in the dependency order the checker computed. Every
// value is three-valued (`unknown` for what the facts do not decide). While a declaration
// is evaluated, the facts it reads are traced (for `evidence`) and the facts found missing
// are collected (for `missing`); reading another declaration merges that declaration's trace.
// An evaluation fault (overflow, division by zero, the step limit) makes the declaration's
// outcome `error` and its value unknown to its readers.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "carerules/report.hpp"
#include "facts/facts.hpp"
#include "plan/plan.hpp"
#include "util/decimal.hpp"

namespace carerules::detail {

inline constexpr std::size_t max_list_nesting = 8;

// A fact as read: which input, at which element indices, with what value.
struct fact_read {
  std::uint32_t input = 0;
  std::uint8_t depth = 0;
  std::array<std::uint32_t, max_list_nesting> idx{};
  value v;
};

// How a declaration was used: what explain lists for it (expand_uses).
enum class use_mode : std::uint8_t {
  self,            // the declaration alone (a grade, a score, a hazard's status)
  self_then_uses,  // a let: it, then what it used
  uses_then_self,  // present(H): what H used, then H
};

struct decl_use {
  decl_entry d;
  use_mode mode = use_mode::self;
};

// The facts a declaration read and found missing, and the declarations it used directly;
// each entry once, in first-read order. Entries are deduplicated as they arrive, so a trace
// holds at most one entry per distinct fact however many times nested aggregates read it:
// memory is bounded by the record, not by the number of evaluation steps.
//
// Reading another declaration merges what that declaration read (a report's evidence and
// `missing` show the facts read through lets and hazards) by reference: the trace notes where
// the other one's entries belong, and reads() and missing() walk the references when asked
// (once; the result is kept until the trace changes). Copying them instead made a chain of n
// lets hold n^2 entries. So reading a trace writes its cache: a trace, like the evaluator that
// owns it, belongs to one thread at a time, even for const use.
class trace {
 public:
  void add_read(const fact_read& r) {
    if (keep_reads_) {
      add(reads_, read_keys_, r);
      flat_reads_ok_ = false;
    }
  }
  // A trace that only collects what is missing (a grade's or score's, when nothing will show
  // what it read).
  void keep_reads(bool on) { keep_reads_ = on; }
  void add_missing(const fact_read& r) {
    add(missing_, missing_keys_, r);
    flat_missing_ok_ = false;
  }
  void add_use(decl_entry d, use_mode mode = use_mode::self);
  // What `other` read and found missing (merge), or found missing (merge_missing), belongs
  // here from now on. `other` must outlive this trace's readers and not change (a
  // declaration's trace once evaluated); a trace that will not, absorb_missing copies.
  void merge(const trace& other) { add_ref(other, keep_reads_); }
  void merge_missing(const trace& other) { add_ref(other, false); }
  void absorb_missing(const trace& other);
  // With the merged traces' entries in place, each once.
  const std::vector<fact_read>& reads() const;
  const std::vector<fact_read>& missing() const;
  const std::vector<decl_use>& uses() const { return uses_; }  // direct
  // Empties the trace, keeping its memory for the next record.
  void clear();

 private:
  // Small traces are scanned; from `linear_limit` entries on, a hash index is kept.
  static constexpr std::size_t linear_limit = 16;
  static void add(std::vector<fact_read>& v, std::vector<std::vector<std::uint32_t>>& index,
                  const fact_read& r);
  struct ref {
    const trace* other;
    bool reads;                // its reads too, not only what it found missing
    std::uint32_t reads_at;    // its entries go before reads_[reads_at]
    std::uint32_t missing_at;  // and before missing_[missing_at]
  };
  void add_ref(const trace& other, bool reads);
  template <bool Reads>
  void flatten(std::vector<fact_read>& out) const;
  template <bool Reads>
  const std::vector<fact_read>& flat() const;                         // direct, or walked and kept
  std::vector<fact_read> reads_, missing_;                            // read or found missing here
  std::vector<std::vector<std::uint32_t>> read_keys_, missing_keys_;  // hash buckets
  std::vector<ref> refs_;
  std::unordered_set<std::uint64_t> ref_keys_;  // past linear_limit refs: a set of them
  std::vector<decl_use> uses_;
  std::unordered_set<std::uint64_t> use_keys_;  // past linear_limit uses: a set of them
  bool keep_reads_ = true;
  mutable std::vector<fact_read> flat_reads_, flat_missing_;
  mutable bool flat_reads_ok_ = false, flat_missing_ok_ = false;
  mutable std::uint64_t walked_ = 0;  // flatten's mark
};

enum class outcome : std::uint8_t { known, unknown, error };

struct decl_state {
  outcome status = outcome::unknown;
  value v;  // known: the value (a hazard: bool; a grade: colour/level/none)
  trace tr;
  std::string error;
  std::int32_t matched_line = -1;  // grades
};

// A hazard's status as its report gives it, from its declaration's state.
inline hazard_status status_of(const decl_state& st) {
  return st.status == outcome::error     ? hazard_status::error
         : st.status == outcome::unknown ? hazard_status::undetermined
         : st.v.i                        ? hazard_status::present
                                         : hazard_status::absent;
}

struct item_state {
  item_status status = item_status::not_awarded;
  std::int64_t points = 0;  // scaled, signed
};

struct score_state {
  std::int64_t total = 0;  // scaled, clamped
  bool provisional = false;
  std::vector<std::int64_t> sections;
  std::vector<bool> section_provisional;
  std::vector<trace> section_traces;
  std::vector<item_state> items;
};

// compare_values for the pairs it does not order inline: mixed kinds, strings, none, lists.
std::optional<int> compare_other_values(const value& a, const value& b);

// An int against a number (scaled), in 64 bits when the int is small enough to scale
// (|i| < 2^43); nullopt for any other pair.
inline std::optional<int> mixed_numbers(const value& a, const value& b) {
  constexpr std::int64_t small = std::int64_t{1} << 43;  // 2^43 * 10^6 < 2^63
  std::int64_t x, y;
  if (a.kind == vkind::integer && b.kind == vkind::number && a.i < small && a.i > -small) {
    x = a.i * decimal_scale;
    y = b.i;
  } else if (a.kind == vkind::number && b.kind == vkind::integer && b.i < small && b.i > -small) {
    x = a.i;
    y = b.i * decimal_scale;
  } else {
    return std::nullopt;
  }
  return (x > y) - (x < y);
}

// Whether a and b are of one kind ordered by its integer (booleans, ints, numbers, dates,
// colours, levels): most comparisons the rules make.
inline bool one_ordered_kind(const value& a, const value& b) {
  return a.kind == b.kind && ((a.kind >= vkind::boolean && a.kind <= vkind::number) ||
                              (a.kind >= vkind::date && a.kind <= vkind::level));
}

// Equality and ordering of two known values; nullopt when they are not comparable. Values of
// one ordered kind compare inline.
inline std::optional<int> compare_values(const value& a, const value& b) {
  if (one_ordered_kind(a, b)) return a.i < b.i ? -1 : (a.i == b.i ? 0 : 1);
  return compare_other_values(a, b);
}

// The constant parts of the program's reports (eval/write.cpp); compile calls it once the
// digest is known.
void build_report_fragments(program& p);

class evaluator final : private builtin_context {
 public:
  evaluator(const program& p, const record_facts& facts, std::int64_t asof);

  // Starts over on another record, keeping the memory of the last one (a worker evaluating
  // many records allocates little after its first).
  void reset(const record_facts& facts, std::int64_t asof);

  // Whether declarations record what they read and found missing (evidence, `missing`,
  // explain). Outcomes do not depend on it; decisions alone need no trace. On by default.
  void set_tracing(bool on) { tracing_ = on; }
  // Reads are traced for hazards and lets only (what a report's evidence shows); grades and
  // scores keep only what they found missing. Explain and the tests keep everything.
  void set_evidence_only(bool on) { evidence_only_ = on; }

  // Evaluates every declaration.
  void run();
  // Evaluates one boolean/valued expression node after run() (for tests); a fault gives
  // nullopt and `error` says why.
  std::optional<value> eval_root(node_id n, std::string& error);
  // The same, tracing what it reads into `tr` (for explain).
  std::optional<value> eval_traced(node_id n, trace& tr, std::string& error);

  report make_report() const;
  // Appends the report's JSON, byte for byte what make_report().to_json() gives, from the
  // evaluation's state and the program's precomputed fragments (eval/write.cpp).
  // Precondition: the facts were readable (an unreadable record's report is built whole).
  void write_json(std::string& out) const;
  // Appends the decisions line: subject, present and undetermined hazard ids, grade values
  // and the error count (eval/write.cpp).
  void write_decisions(std::string& out) const;
  // Appends the record's CSV row: the cells of ruleset::columns() (eval/write.cpp).
  void write_csv_row(std::string& out) const;
  // The record's errors: binding faults and evaluation faults.
  std::size_t error_count() const { return f_->errors.size() + eval_errors_.size(); }

  const decl_state& state(decl_kind k, std::uint32_t i) const {
    switch (k) {
      case decl_kind::hazard:
        return hazards_[i];
      case decl_kind::score:
        return score_decls_[i];
      case decl_kind::grade:
        return grades_[i];
      default:
        return lets_[i];
    }
  }
  // The declarations a trace used, directly or through the lets and hazards it read, each
  // once, in the order evaluation met them (explain's "uses" lines).
  std::vector<decl_entry> expand_uses(const trace& t) const;
  const score_state& score(std::uint32_t i) const { return scores_[i]; }
  std::string path_of(const fact_read& r) const;
  // The same path appended to `out` (the report writer's, without a string of its own).
  void append_path(const fact_read& r, std::string& out) const;
  // The paths of the facts a trace found missing, sorted by declaration, each once.
  std::vector<std::string> missing_of(const trace& t) const;
  json_value to_json(const value& v) const;
  std::string display(const value& v) const;

 private:
  struct binding {
    const record_instance* rec = nullptr;  // record element
    const fact_cell* cell = nullptr;       // scalar element
    std::uint32_t hazard = none_index;     // hazard element
    std::uint8_t depth = 0;                // list nesting of this element
    std::array<std::uint32_t, max_list_nesting> idx{};
  };

  value eval(node_id id);
  // eval(id), with the leaves most operands are (a constant, a table's parameter, a fact, a
  // field of a list element, `asof`, and `not` of a fact or field) read in place: the same
  // steps counted and nesting checked, without the dispatch.
  [[gnu::always_inline]] value operand(node_id id) {
    const node& k = p_.nodes[id];
    if (nesting_ < max_nesting) {
      switch (k.op) {
        case opcode::constant:
          step();
          return k.k;
        case opcode::param:
          step();
          return params_[params_base_ + k.a];
        case opcode::fact:
          step();
          return read_fact(k);
        case opcode::var_field:
          step();
          return read_element_field(k);
        case opcode::asof:
          step();
          return value::of_date(asof_);
        case opcode::unary: {  // `not` of a fact or of a list element's field
          const node& x = p_.nodes[p_.kid(k, 0)];
          if (static_cast<ast::op>(k.sub) != ast::op::not_ || nesting_ + 1 >= max_nesting ||
              (x.op != opcode::fact && x.op != opcode::var_field))
            break;
          step();  // the `not`
          step();  // its operand
          const value v = x.op == opcode::fact ? read_fact(x) : read_element_field(x);
          return v.known() ? value::of_bool(v.i == 0) : v;
        }
        default:
          break;
      }
    }
    return eval(id);
  }
  // A fact (opcode::fact), and a field of the list element bound at its depth (var_field).
  [[gnu::always_inline]] value read_fact(const node& k) {
    return read_cell(f_->root.cells[k.slot], k.a, nullptr);
  }
  [[gnu::always_inline]] value read_element_field(const node& k) {
    const binding& b = frames_[k.a];
    return read_cell(b.rec->cells[k.slot], k.b, &b);
  }
  [[gnu::noinline]] value eval_other(const node& n);
  // Leaves the walk and the decision code both read (eval.cpp): a field of a hazard bound in
  // `hazards` (0 id 1 category 2 severity 3 status), a score's section, exists()/missing()
  // of a fact of the top-level record (frame none_index) or of the element at `frame`, and
  // the element bound at a frame.
  value hazard_field_of(std::uint32_t hazard, std::uint32_t field) const;
  value section_of(std::uint32_t score, std::uint32_t section) const;
  value exists_of(std::uint32_t frame, bool is_list, std::uint32_t slot, bool missing) const;
  static value element_of(const binding& b) {
    if (b.cell) return b.cell->state == fact_state::present ? b.cell->v : value{};
    if (b.hazard != none_index) return value::record_of(b.hazard, nullptr);
    return value::record_of(0, b.rec);
  }
  value eval_logic(const node& n);
  value eval_unary(const node& n);
  value eval_in(const node& n);
  value eval_arith(const node& n);
  value eval_compare(const node& n);
  // `a o b` for an arithmetic operator (+ - * / %) on two evaluated operands: exact, every
  // overflow a fault.
  value arith(ast::op o, const value& a, const value& b);
  // A declaration's (or a grade line's, or a score item's) expression: its decision code when
  // nothing is traced and it has one (eval/code.cpp), else the walk.
  value eval_top(node_id id) {
    if (!cur_ && id < p_.code_of.size()) {
      const std::uint32_t c = p_.code_of[id];
      if (c != none_index) return run_code(p_.codes[c]);
    }
    return eval(id);
  }
  value run_code(const decision_code& c);
  // `a o b` for a comparison operator o (==, !=, <, <=, >, >=) on two evaluated operands.
  [[gnu::always_inline]] static value compare(ast::op o, const value& a, const value& b) {
    if (!a.known() || !b.known()) return value{};
    // compare_values' inline case first (the usual one), then an int against a number; in
    // one int, not an optional, which measured cheaper here.
    int d;
    if (one_ordered_kind(a, b)) {
      d = (a.i > b.i) - (a.i < b.i);
    } else if (const auto m = mixed_numbers(a, b)) {
      d = *m;
    } else {
      // An ordering comparison with `none` is false, even against `none` (§12); values that
      // cannot be compared are unequal, and not ordered.
      if (o != ast::op::eq && o != ast::op::ne && (a.kind == vkind::none || b.kind == vkind::none))
        return value::of_bool(false);
      const auto r = compare_other_values(a, b);
      if (!r) return value::of_bool(o == ast::op::ne);
      d = *r;
    }
    switch (o) {
      case ast::op::eq:
        return value::of_bool(d == 0);
      case ast::op::ne:
        return value::of_bool(d != 0);
      case ast::op::lt:
        return value::of_bool(d < 0);
      case ast::op::le:
        return value::of_bool(d <= 0);
      case ast::op::gt:
        return value::of_bool(d > 0);
      default:
        return value::of_bool(d >= 0);
    }
  }
  value eval_call(const node& n);
  value eval_aggregate(const node& n);
  // What an aggregate has seen of its elements so far.
  struct agg_acc {
    std::int64_t count = 0;
    bool unsure = false;  // an element's condition or value was unknown
    __int128 sum = 0;     // scaled
    bool sum_is_int = true;
    value best;
    bool have = false;
  };
  void fold_value(agg kind, agg_acc& acc, const value& v);
  // An aggregate's value once its elements are visited (`stopped`: one decided an any/all);
  // inline for the walk and the decision code alike, the folded kinds out of line.
  value aggregate_value(agg kind, const agg_acc& acc, bool stopped) {
    switch (kind) {
      case agg::any:
        return stopped ? value::of_bool(true) : acc.unsure ? value{} : value::of_bool(false);
      case agg::all:
        return stopped ? value::of_bool(false) : acc.unsure ? value{} : value::of_bool(true);
      case agg::count:
        return acc.unsure ? value{} : value::of_int(acc.count);
      default:
        return folded_value(kind, acc);
    }
  }
  value folded_value(agg kind, const agg_acc& acc);
  value eval_table(const node& n);
  static bool known_cell(const fact_cell& c) {
    return c.state == fact_state::present || c.state == fact_state::defaulted;
  }
  // A fact's value (unknown when absent or in error); traced, the read or the miss is noted
  // with where it was (read_cell_traced).
  value read_cell(const fact_cell& cell, std::uint32_t input, const binding* b) {
    if (cur_) return read_cell_traced(cell, input, b);
    return known_cell(cell) ? cell.v : value{};
  }
  [[gnu::noinline]] value read_cell_traced(const fact_cell& cell, std::uint32_t input,
                                           const binding* b);
  value read_list(const list_instance& list, std::uint32_t input, const binding* b);
  void eval_decl(const decl_entry& d);
  // A let's or hazard's fault: the declaration is in error, and the record has the error.
  void decl_failed(const decl_entry& d, decl_state& st, const std::string& message);
  // run() when nothing is traced: the declarations with decision code run it directly.
  void run_untraced();
  void eval_score(std::uint32_t i);
  void eval_grade(std::uint32_t i);
  [[noreturn]] void fail(const std::string& message) const override;
  [[gnu::always_inline]] void step() {
    if (++steps_ > p_.limits.steps) [[unlikely]]
      steps_exceeded();
  }
  [[noreturn, gnu::cold]] void steps_exceeded() const;
  [[noreturn, gnu::cold]] void nesting_exceeded() const;
  // builtin_context (plan/builtins.hpp)
  std::int64_t asof() const override { return asof_; }
  value length(const value& list) override;

  const program& p_;
  const record_facts* f_;
  std::int64_t asof_;
  std::uint64_t steps_ = 0;
  std::uint32_t nesting_ = 0;
  static constexpr std::uint32_t max_nesting = 4000;
  std::vector<decl_state> lets_, hazards_, grades_, score_decls_;
  std::vector<score_state> scores_;
  std::vector<binding> frames_;
  std::vector<value> regs_;      // the registers of decision code
  std::vector<agg_acc> accs_;    // its aggregates' accumulators
  std::vector<value> params_;    // table arguments of the calls in progress
  std::size_t params_base_ = 0;  // where the innermost call's arguments start
  trace* cur_ = nullptr;
  bool tracing_ = true;
  bool traced_ = false;  // a run since the last reset traced into the declarations' traces
  bool evidence_only_ = false;
  std::vector<record_error> eval_errors_;
  // write_json's text of the date and of each hazard's due date (empty: none), for
  // `dates_for_`.
  mutable std::int64_t dates_for_ = INT64_MIN;
  mutable std::string asof_text_;
  mutable std::vector<std::string> due_text_;
  mutable std::string path_text_;  // write_json's path of an element's fact, kept per thread
};

}  // namespace carerules::detail
