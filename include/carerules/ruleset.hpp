// A compiled ruleset: parse, check and compile once; evaluate many records.
//
//   auto compiled = carerules::compile_file("rulesets/institution.rules");
//   if (!compiled.ok()) {
//     for (const auto& d : compiled.diagnostics()) std::cerr << d.rendered;
//     return 1;
//   }
//   const carerules::ruleset& rs = compiled.value();
//   carerules::report r = rs.evaluate(R"({"id": "A-1", "facility": {"beds": 80}})",
//                                     {.asof = "2024-06-01"});
//   std::cout << r.to_json() << "\n";
//
// Errors come in three tiers. Mistakes in rule text are diagnostics in the compile_result
// (every one that could be found, with file, line and column). Misuse of the API (a bad
// `asof`) is reported by `usage_error` results or, for evaluate, thrown as
// std::invalid_argument before anything is evaluated. A fault while evaluating one record
// (a wrong-typed fact, an overflow) is recorded in that record's report and never stops a
// batch.
//
// Thread safety: a ruleset is immutable once compiled. Any number of threads may call its
// const members at once; copies share the compiled program.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "carerules/batch.hpp"
#include "carerules/diagnostic.hpp"
#include "carerules/facts.hpp"
#include "carerules/options.hpp"
#include "carerules/report.hpp"
#include "carerules/version.hpp"

// Exported from the shared library (compiled with hidden visibility).
#pragma GCC visibility push(default)

namespace carerules {

namespace detail {
struct program;
struct record_facts;
struct access;
}  // namespace detail

// One declared input, as `rs.inputs` and `carerules schema` show it.
struct input_info {
  std::string path;  // "facility.beds"; fields of list records as "residents[].ability"
  std::string type;  // bool int number string date color enum list list<T>
  std::optional<std::string> label;
  std::optional<json_value> default_value;
  std::optional<std::pair<json_value, json_value>> range;
  std::vector<json_value> enum_values;
};

// The declarations a report will list, in report order (for column headers and summaries).
struct hazard_info {
  std::string id, title, category, severity;
  // What every report of this hazard says besides its status: the clause, the advice, and
  // the rectification (action, and days from asof to the due date when the rule gives them).
  std::optional<std::string> cite, advice;
  std::string action;
  std::optional<std::int64_t> within_days;
};
struct score_info {
  std::string name;
  std::vector<std::string> sections;
};
struct grade_info {
  std::string name;
  std::vector<std::string> values;  // the scale, lowest first: blue…red, or the levels
};

// One file of a compiled ruleset, with the identity it declares: a platform shows which
// version of the hazard standard and of the level standard decided a report, not only the
// bundle's.
struct file_info {
  std::string file;     // as diagnostics show it (imports: relative to a root)
  std::string name;     // the ruleset name the file declares
  std::string version;  // its `version`
  std::string digest;   // "sha256:" over this file's bytes alone
};

// Facts bound to one ruleset's inputs, ready to evaluate (see ruleset::bind).
class bound_facts {
 public:
  bound_facts();
  bound_facts(bound_facts&&) noexcept;
  bound_facts& operator=(bound_facts&&) noexcept;
  ~bound_facts();

  // Prepends a JSON pointer to the pointer of every error found while binding: for facts
  // that were one part of a larger document (an element of a list evaluated on its own).
  void prefix_error_paths(std::string_view pointer);

 private:
  friend class ruleset;
  friend struct detail::access;
  std::unique_ptr<detail::record_facts> facts_;
};

// The answer without the audit: each hazard's status and each grade's value, for callers
// that act on decisions and do not keep reports (ruleset::decide).
struct decisions {
  std::optional<std::string> subject;
  std::vector<hazard_status> hazards;  // in ruleset::hazards() order; empty when unreadable
  // Each grade's value as the report writes it (a label, "none", "undetermined", "error"),
  // in ruleset::grades() order; the views live as long as the ruleset.
  std::vector<std::string_view> grades;
  // Each score's total, then each of its sections' values, in ruleset::scores() order (the
  // order of columns()), scaled by 10^6 as json_value::decimal holds them; empty when
  // unreadable.
  std::vector<std::int64_t> scores;
  std::size_t errors = 0;  // the record's errors
  bool unreadable = false;
};

// The outcome of one `test` block.
struct test_case_result {
  std::string file;  // as given (imported files: relative to their import root)
  int line = 0;
  std::string name;
  bool passed = false;
  // One line per failed expect: `file:line: test "name": expect … — got …`.
  std::vector<std::string> failures;
};

// One hazard, item or grade line, and whether some test exercised it (a hazard seen present,
// an item awarded, a grade line matched).
struct coverage_item {
  std::string file;       // as displayed
  std::string canonical;  // the file's canonical path ("" for text compiled from memory)
  int line = 0;
  std::string what;  // "hazard A4.1", "item E1", "grade risk line red"
  bool covered = false;
};

struct test_run {
  std::vector<test_case_result> cases;
  // Hazards never seen present, items never awarded, grade lines never matched, as
  // "file:line: hazard A4.1" etc.
  std::vector<std::string> uncovered;
  // Every hazard, item and grade line of the ruleset and its imports, so that a caller
  // running several files can combine coverage (an imported hazard exercised by the
  // importer's tests is covered).
  std::vector<coverage_item> coverage;
};

class ruleset {
 public:
  const std::string& name() const;
  const std::string& title() const;
  const std::string& version() const;
  const std::string& digest() const;  // "sha256:…"
  const std::vector<input_info>& inputs() const;
  const ruleset_info& info() const;
  const std::vector<hazard_info>& hazards() const;
  const std::vector<score_info>& scores() const;
  const std::vector<grade_info>& grades() const;
  // Every file of the compilation, the top file first, then imports in first-reached order.
  const std::vector<file_info>& files() const;

  // Evaluates one record given as JSON text. Throws std::invalid_argument for a bad
  // options.asof (the only API misuse it can detect); every fault of the facts is in the
  // report's errors.
  report evaluate(std::string_view facts_json, const eval_options& options = {}) const;

  // The fast path: one JSON record in, its report's JSON out (byte for byte what
  // evaluate(facts_json, options).to_json() gives), written without building the report.
  std::string evaluate_json(std::string_view facts_json, const eval_options& options = {}) const;
  std::string evaluate_json(const bound_facts& facts, const eval_options& options = {}) const;

  // Decisions only: nothing is traced (no evidence, no missing lists) and no report is built.
  // The declarations run as the ruleset's decision code, compiled once with the ruleset, which
  // gives every outcome, error and limit a report would (docs/ARCHITECTURE.md).
  decisions decide(const bound_facts& facts, const eval_options& options = {}) const;
  decisions decide(std::string_view facts_json, const eval_options& options = {}) const;
  // The same into `out`, reusing its memory: a caller deciding record after record with one
  // `decisions` allocates nothing for the answers once it has held one.
  void decide(const bound_facts& facts, const eval_options& options, decisions& out) const;
  void decide(std::string_view facts_json, const eval_options& options, decisions& out) const;

  // A batch written as text on options.threads threads: each record's output (a report's
  // JSON, or its decisions line) in input order, joined by `separator`; records as in
  // evaluate_batch (oversize and unreadable records get their reports, `each` gives one output
  // per element). Each worker writes its own run of records into its own buffer, so the
  // threads share nothing but the input. Throws std::invalid_argument for a bad options.asof.
  batch_text evaluate_text(const std::vector<batch_record>& records,
                           const eval_options& options = {},
                           line_format format = line_format::report,
                           std::string_view separator = "\n") const;
  // The same, appended to `out` (a stream of batches reuses one buffer): each output is
  // preceded by the separator when `out` already counts outputs, so batches written one after
  // another join as one.
  void evaluate_text(const std::vector<batch_record>& records, const eval_options& options,
                     line_format format, std::string_view separator, batch_text& out) const;

  // Reports for one JSON record: one report, or with options.each one per list element.
  std::vector<report> evaluate_record(std::string_view facts_json,
                                      const eval_options& options = {}) const;

  // Evaluates JSON records on options.threads threads; reports in input order (with
  // options.each, the reports of every record in order, flattened).
  std::vector<report> evaluate_many(const std::vector<std::string>& records,
                                    const eval_options& options = {}) const;

  // Evaluates a batch on options.threads threads (see batch.hpp): one result per record, in
  // order. A record over the line_bytes limit (`oversize`) and a record that is not a JSON
  // object get an unreadable report whose errors start with "line N: " when the record
  // came by line. With `render_json`, each report's JSON is written on its worker too.
  // Throws std::invalid_argument for a bad options.asof before any work.
  std::vector<batch_result> evaluate_batch(const std::vector<batch_record>& records,
                                           const eval_options& options = {},
                                           bool render_json = false) const;

  // JSON lines in, JSON lines out: one report line per non-blank input line (one per element
  // with options.each), in input order, each ended by "\n". Lines over line_bytes, lines that
  // are not JSON objects: as in evaluate_batch.
  std::string evaluate_jsonl(std::string_view jsonl, const eval_options& options = {}) const;

  // The report of a record that could not be read: the ruleset's identity, the date, no
  // declarations, `unreadable` set and one error with `message` at JSON pointer `pointer`.
  report unreadable_report(std::string message, std::string pointer = "",
                           const eval_options& options = {}) const;

  // The tabular layout of this ruleset's reports (CSV, evaluate_frame, tables).
  std::vector<report_column> columns() const;

  // Binding separately from evaluating, for callers that produce facts themselves (the
  // Python module walks dicts): `produce` sends the record's events to the sink (facts.hpp).
  bound_facts bind(const std::function<void(fact_sink&)>& produce,
                   const eval_options& options = {}) const;
  bound_facts bind_json(std::string_view facts_json, const eval_options& options = {}) const;
  report evaluate(const bound_facts& facts, const eval_options& options = {}) const;
  std::vector<report> evaluate_many(const std::vector<bound_facts>& facts,
                                    const eval_options& options = {}) const;

  // `carerules explain`: the declaration's condition, each value it read, and the outcome,
  // as readable text. nullopt when no hazard, item, let, score or grade has that name.
  std::optional<std::string> explain(std::string_view facts_json, std::string_view rule,
                                     const eval_options& options = {}) const;
  std::optional<std::string> explain(const bound_facts& facts, std::string_view rule,
                                     const eval_options& options = {}) const;

  // The files of the compilation, the top file first, then its imports in first-reached
  // order: as shown in diagnostics, their canonical paths ("" for text given in memory) and
  // their bytes. The Python module pickles them, so that a ruleset with imports unpickles
  // where the files are not.
  struct source_file {
    std::string name, path, text;
  };
  std::vector<source_file> source_files() const;

  // The inputs as a JSON Schema (draft 2020-12) document that accepts what the engine reads
  // without a record error: nested objects, null wherever null means absent, enums, ranges,
  // dates as YYYY-MM-DD. `strict` also refuses keys that no input declares, so that a
  // misspelt key fails validation upstream (the engine itself ignores undeclared keys).
  std::string json_schema(bool strict = false) const;

  // Runs the ruleset's own `test` blocks (not those of its imports).
  test_run run_tests() const;

  // Rulesets come from compile_file and compile_source; copies share the compiled program.
 private:
  friend struct detail::access;
  [[gnu::visibility("hidden")]] explicit ruleset(std::shared_ptr<const detail::program> program);
  const detail::program& program() const { return *program_; }
  std::shared_ptr<const detail::program> program_;
};

class compile_result {
 public:
  bool ok() const { return ruleset_.has_value(); }
  // Precondition: ok().
  const ruleset& value() const { return *ruleset_; }
  // Every diagnostic, errors and warnings, in file and line order.
  const std::vector<diagnostic>& diagnostics() const { return diagnostics_; }
  // All diagnostics rendered, with "and N more" when the `diagnostics` limit dropped some.
  std::string rendered() const;
  std::size_t error_count() const { return errors_; }
  std::size_t dropped() const { return dropped_; }

  compile_result(std::optional<ruleset> rs, std::vector<diagnostic> diags, std::size_t errors,
                 std::size_t dropped)
      : ruleset_(std::move(rs)),
        diagnostics_(std::move(diags)),
        errors_(errors),
        dropped_(dropped) {}

 private:
  std::optional<ruleset> ruleset_;
  std::vector<diagnostic> diagnostics_;
  std::size_t errors_ = 0;
  std::size_t dropped_ = 0;
};

// Compiles a ruleset file and its imports. A file that cannot be read is a diagnostic.
[[nodiscard]] compile_result compile_file(const std::string& path,
                                          const compile_options& options = {});
// Compiles ruleset text held in memory; imports resolve against options.import_roots (the
// first root stands for "the top file's directory").
[[nodiscard]] compile_result compile_source(std::string_view text,
                                            const compile_options& options = {});

}  // namespace carerules
#pragma GCC visibility pop
