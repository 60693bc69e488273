// Output formats of `carerules eval` and the batch summary.
//
//   json   one report, or with a batch or --each a JSON array (one report per line inside)
//   jsonl  one report per line
//   csv    the columns of Python's evaluate_frame, UTF-8 with a byte-order mark, RFC 4180
//   table  a terminal table aligned by display width (CJK counts two columns)
//
// Every writer streams: a report is written as soon as it is added, except that the table
// holds back its first chunk of rows to measure the column widths.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "carerules/html.hpp"
#include "carerules/labels.hpp"
#include "carerules/report.hpp"
#include "carerules/ruleset.hpp"
#include "cli.hpp"

namespace carerules::cli {

enum class format { json, jsonl, table, csv, decisions };

class report_writer {
 public:
  virtual ~report_writer() = default;
  virtual void begin() {}
  // `json`, when given, is r.to_json() already rendered (on a worker thread).
  virtual void add(const report& r, const std::string* json = nullptr) = 0;
  // Called after each chunk of a batch (the table measures its columns on the first one).
  virtual void chunk_done() {}
  virtual void end() {}
};

// `rs` gives the columns of csv and table. `as_array`: json writes an array (a batch, or
// --each) rather than one report. `language` (--lang): csv and table write display labels
// (labels.hpp) for headers, statuses and grade values instead of codes.
std::unique_ptr<report_writer> make_writer(format f, output& out, const ruleset& rs, bool as_array,
                                           std::optional<lang> language = std::nullopt);

// RFC 4180 field: quoted when it holds a comma, quote, CR or LF.
std::string csv_field(std::string_view s);

// Terminal columns of UTF-8 text: wide and full-width characters count 2.
std::size_t display_width(std::string_view text);

// Rows of cells printed in aligned columns; `right[i]` right-aligns column i.
std::string aligned_table(const std::vector<std::vector<std::string>>& rows,
                          const std::vector<bool>& right, std::string_view indent = "");

// The counts of `--summary` (docs/rulesets.md, "The regional summary"): per grade value, per
// hazard and per category by status, records with errors, records. Memory is bounded by the
// ruleset, not the batch.
class batch_summary {
 public:
  struct status_counts {
    std::uint64_t present = 0, absent = 0, undetermined = 0, error = 0;
    void add(hazard_status status);
  };

  explicit batch_summary(const ruleset& rs);
  // A record, after its reports; `with_errors`: one of them has errors.
  void add_record(bool with_errors) {
    ++records_;
    if (with_errors) ++records_with_errors_;
  }
  void add(const report& r);
  // The readable table; `each` says reports are per list element, not per record.
  std::string render(bool each) const;

 private:
  struct grade_counts {
    std::string name;
    std::vector<std::pair<std::string, std::uint64_t>> values;  // scale order, then others
  };
  std::vector<grade_counts> grades_;
  std::vector<std::pair<std::string, std::string>> hazards_;  // id, category
  std::vector<status_counts> hazard_counts_;
  std::vector<std::string> categories_;  // first-declared order
  std::vector<status_counts> category_counts_;
  std::uint64_t records_ = 0, records_with_errors_ = 0, reports_ = 0, with_errors_ = 0;
};

}  // namespace carerules::cli

namespace carerules::cli {

enum class summary_format { table, csv, json };

// The summary by group (`eval --summary --by PATH --summary-format F`): the counts of
// group_summary as a readable table, CSV (UTF-8 with a byte-order mark) or JSON. With a
// language, table and CSV headers and group names are display labels.
std::string render_group_summary(const group_summary& s, summary_format f,
                                 const std::optional<std::string>& by,
                                 std::optional<lang> language);

}  // namespace carerules::cli
