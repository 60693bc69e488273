// The fast path: records evaluated by a per-thread evaluator that keeps its memory between
// records, written as text straight from the evaluation's state (eval/write.cpp) or as
// decisions, with nothing traced when only decisions are asked for.
#include <memory>
#include <stdexcept>

#include "api/access.hpp"
#include "api/evaluate.hpp"
#include "carerules/ruleset.hpp"
#include "eval/eval.hpp"
#include "facts/bind.hpp"

namespace carerules {
namespace detail {
namespace {

// One evaluator per thread for the program it last served. A weak pointer tells whether
// that program is still the one asked for: a program freed and another allocated at the same
// address never inherits a stale evaluator.
struct worker_cache {
  std::weak_ptr<const program> prog;
  std::unique_ptr<evaluator> ev;
};

evaluator& worker_evaluator(const std::shared_ptr<const program>& p, const record_facts& facts,
                            std::int64_t asof) {
  thread_local worker_cache cache;
  if (!cache.ev || cache.prog.owner_before(p) || p.owner_before(cache.prog) ||
      cache.prog.expired()) {
    cache.ev = std::make_unique<evaluator>(*p, facts, asof);
    cache.prog = p;
  } else {
    cache.ev->reset(facts, asof);
  }
  return *cache.ev;
}

// The facts of the record this thread binds now: emptied and bound again for each record, so
// that a thread binding many records allocates little once it has seen the largest.
record_facts& scratch_facts() {
  thread_local record_facts facts;
  facts.clear();
  return facts;
}

std::string oversize_message(const batch_record& rec, std::uint64_t line_bytes) {
  std::string where = rec.line ? "line " + std::to_string(rec.line) + ": " : "";
  return where + (rec.line ? "line" : "record") + " of " + (rec.unended ? "more than " : "") +
         std::to_string(rec.oversize) + " bytes exceeds the limit line_bytes (" +
         std::to_string(line_bytes) + ")";
}

// Writes the outputs of one record into `part`.
class record_writer {
 public:
  record_writer(const std::shared_ptr<const program>& p, const eval_options& o, line_format f,
                std::string_view separator)
      : p_(p),
        asof_(asof_days(o)),
        bind_(bind_opts(*p, o)),
        each_(o.each.empty() ? std::vector<std::string>{} : split_path(o.each)),
        format_(f),
        separator_(separator) {}

  void write(const batch_record& rec, batch_text& part) const {
    if (rec.oversize) {
      write_facts(facts_not_read(*p_->schema, "", oversize_message(rec, p_->limits.line_bytes)), "",
                  part);
      return;
    }
    const std::string where = rec.line ? "line " + std::to_string(rec.line) + ": " : "";
    if (each_.empty()) {
      record_facts& facts = scratch_facts();
      bind_json(*p_->schema, rec.text, bind_, facts);
      write_facts(facts, where, part);
      return;
    }
    for (const auto& facts : bind_json_each(*p_->schema, rec.text, each_, bind_))
      write_facts(facts, where, part);
  }

 private:
  void write_facts(const record_facts& facts, const std::string& where, batch_text& part) const {
    if (part.outputs) part.text += separator_;
    ++part.outputs;
    if (facts.unreadable && format_ == line_format::report) {
      // Rare, and small: the report names the line its errors come from.
      report r = evaluate_facts(*p_, facts, asof_);
      for (auto& e : r.errors) e.message.insert(0, where);
      if (!r.errors.empty()) ++part.with_errors;
      part.text += r.to_json();
      return;
    }
    evaluator& ev = worker_evaluator(p_, facts, asof_);
    ev.set_tracing(format_ == line_format::report);
    ev.set_evidence_only(true);
    if (!facts.unreadable) ev.run();
    if (ev.error_count()) ++part.with_errors;
    switch (format_) {
      case line_format::report:
        ev.write_json(part.text);
        break;
      case line_format::decisions:
        ev.write_decisions(part.text);
        break;
      case line_format::csv:
        ev.write_csv_row(part.text);
        break;
    }
  }

  const std::shared_ptr<const program>& p_;
  std::int64_t asof_;
  bind_options bind_;
  std::vector<std::string> each_;
  line_format format_;
  std::string_view separator_;
};

void decide_facts(const program& p, const std::shared_ptr<const program>& shared,
                  const record_facts& facts, std::int64_t asof, decisions& d) {
  d.subject = facts.subject;
  d.unreadable = facts.unreadable;
  d.hazards.clear();
  d.grades.clear();
  d.scores.clear();
  d.errors = 0;
  if (facts.unreadable) {
    d.errors = facts.errors.size();
    return;
  }
  evaluator& ev = worker_evaluator(shared, facts, asof);
  ev.set_tracing(false);
  ev.run();
  d.hazards.reserve(p.hazards.size());
  for (std::size_t i = 0; i < p.hazards.size(); ++i) {
    const decl_state& st = ev.state(decl_kind::hazard, static_cast<std::uint32_t>(i));
    d.hazards.push_back(status_of(st));
  }
  d.grades.reserve(p.grades.size());
  for (std::size_t i = 0; i < p.grades.size(); ++i) {
    const decl_state& st = ev.state(decl_kind::grade, static_cast<std::uint32_t>(i));
    std::string_view v = st.status == outcome::error     ? "error"
                         : st.status == outcome::unknown ? "undetermined"
                         : st.matched_line < 0           ? "none"
                                                         : std::string_view{};
    if (v.empty()) {
      const auto& line = p.grades[i].lines[static_cast<std::size_t>(st.matched_line)];
      v = line.is_none ? std::string_view("none") : std::string_view(line.label_text);
    }
    d.grades.push_back(v);
  }
  for (std::size_t i = 0; i < p.scores.size(); ++i) {
    const score_state& ss = ev.score(static_cast<std::uint32_t>(i));
    d.scores.push_back(ss.total);
    for (std::size_t k = 0; k < p.scores[i].sections.size(); ++k)
      d.scores.push_back(ss.sections[k]);
  }
  d.errors = ev.error_count();
}

decisions decide_facts(const program& p, const std::shared_ptr<const program>& shared,
                       const record_facts& facts, std::int64_t asof) {
  decisions d;
  decide_facts(p, shared, facts, asof, d);
  return d;
}

}  // namespace
}  // namespace detail

namespace detail {
namespace {

std::string json_of_facts(const std::shared_ptr<const program>& p, const record_facts& facts,
                          std::int64_t asof) {
  if (facts.unreadable) return evaluate_facts(*p, facts, asof).to_json();
  evaluator& ev = worker_evaluator(p, facts, asof);
  ev.set_tracing(true);
  ev.set_evidence_only(true);
  ev.run();
  std::string out;
  out.reserve(p->fragments.after_subject.size() * 2 + 1024);
  ev.write_json(out);
  return out;
}

}  // namespace
}  // namespace detail

std::string ruleset::evaluate_json(std::string_view facts_json, const eval_options& options) const {
  std::int64_t asof = detail::asof_days(options);
  detail::record_facts& facts = detail::scratch_facts();
  detail::bind_json(*program_->schema, facts_json, detail::bind_opts(*program_, options), facts);
  return detail::json_of_facts(program_, facts, asof);
}

std::string ruleset::evaluate_json(const bound_facts& facts, const eval_options& options) const {
  return detail::json_of_facts(program_, *facts.facts_, detail::asof_days(options));
}

decisions ruleset::decide(const bound_facts& facts, const eval_options& options) const {
  return detail::decide_facts(*program_, program_, *facts.facts_, detail::asof_days(options));
}

void ruleset::decide(const bound_facts& facts, const eval_options& options, decisions& out) const {
  detail::decide_facts(*program_, program_, *facts.facts_, detail::asof_days(options), out);
}

namespace detail {

decisions decide_observing(const ruleset& rs, std::string_view facts_json,
                           const eval_options& options, fact_sink& observer, std::size_t max_depth,
                           bool& observed) {
  const auto& prog = access::shared_program_of(rs);
  const std::int64_t asof = asof_days(options);
  record_facts& facts = scratch_facts();
  const bind_options& bo = bind_opts(*prog, options);
  const bool deeper = bo.limits.json_depth >= max_depth;  // its parse allows json_depth + 1
  bind_json(*prog->schema, facts_json, bo, facts, deeper ? nullptr : &observer, observed);
  return decide_facts(*prog, prog, facts, asof);
}

}  // namespace detail

decisions ruleset::decide(std::string_view facts_json, const eval_options& options) const {
  decisions d;
  decide(facts_json, options, d);
  return d;
}

void ruleset::decide(std::string_view facts_json, const eval_options& options,
                     decisions& out) const {
  std::int64_t asof = detail::asof_days(options);
  detail::record_facts& facts = detail::scratch_facts();
  detail::bind_json(*program_->schema, facts_json, detail::bind_opts(*program_, options), facts);
  detail::decide_facts(*program_, program_, facts, asof, out);
}

batch_text ruleset::evaluate_text(const std::vector<batch_record>& records,
                                  const eval_options& options, line_format format,
                                  std::string_view separator) const {
  batch_text out;
  evaluate_text(records, options, format, separator, out);
  return out;
}

void ruleset::evaluate_text(const std::vector<batch_record>& records, const eval_options& options,
                            line_format format, std::string_view separator, batch_text& out) const {
  eval_options o = options;
  o.asof = resolve_asof(options.asof);  // one date for the whole batch, checked first
  const detail::record_writer writer(program_, o, format, separator);
  // Runs of consecutive records, each written by one worker into its own buffer (one run:
  // straight into `out`).
  constexpr std::size_t run = 32;
  const std::size_t runs = (records.size() + run - 1) / run;
  if (runs <= 1 || thread_count(o.threads, runs) <= 1) {
    for (const auto& r : records) writer.write(r, out);
    return;
  }
  std::vector<batch_text> parts(runs);
  parallel_for(runs, o.threads, [&](std::size_t r) {
    const std::size_t end = std::min(records.size(), (r + 1) * run);
    for (std::size_t i = r * run; i < end; ++i) writer.write(records[i], parts[r]);
  });
  std::size_t size = out.text.size();
  for (const auto& p : parts) size += p.text.size() + separator.size();
  out.text.reserve(size);
  for (auto& p : parts) {
    if (!p.outputs) continue;
    if (out.outputs) out.text += separator;
    out.text += p.text;
    out.outputs += p.outputs;
    out.with_errors += p.with_errors;
  }
}

}  // namespace carerules
