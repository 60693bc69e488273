// Batches: many records evaluated on threads, answers in input order; and the tabular layout
// of reports that CSV, tables, summaries and data frames share.
//
//   std::vector<carerules::batch_record> chunk = ...;   // e.g. lines read from a file
//   for (const auto& out : rs.evaluate_batch(chunk, {.asof = "2024-06-01", .threads = 0},
//                                            /*render_json=*/true))
//     for (const auto& line : out.json) std::cout << line << "\n";
//
//   std::string lines = rs.evaluate_jsonl(jsonl_text, {.asof = "2024-06-01"});
//
//   for (const auto& c : rs.columns()) std::cout << c.name << ",";   // the CSV header
//
// Every surface (the CLI, the Python module, the C ABI, the server) runs its batches through
// these calls, so a batch behaves the same everywhere: ordered output whatever the thread
// count, a record that cannot be read gets a report of its own (never lost, never fatal),
// and an exception on a worker reaches the caller instead of ending the process.
//
// Thread safety: the functions here are safe to call from any number of threads at once.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "carerules/report.hpp"

// Exported from the shared library (compiled with hidden visibility).
#pragma GCC visibility push(default)

namespace carerules {

// Calls f(0) … f(n-1) on thread_count(threads, n) threads. When a call throws, no further
// calls start, and the first exception is rethrown here once every thread has stopped.
void parallel_for(std::size_t n, unsigned threads, const std::function<void(std::size_t)>& f);

// One record of a batch as it was read.
struct batch_record {
  std::string text;            // the record's JSON text
  std::uint64_t line = 0;      // its line in the input, from 1; 0 when it did not come by line
  std::uint64_t oversize = 0;  // non-zero: the line had this many bytes, over the line_bytes
                               // limit, and `text` is empty; the record's report says so
  bool unended = false;        // oversize, and no end was found after `oversize` bytes
};

// The answer for one record of a batch: its reports (one, or one per element with `each`)
// and, when asked for, each report's JSON (rendered on the worker that evaluated it).
struct batch_result {
  std::vector<report> reports;
  std::vector<std::string> json;
};

// What a batch written as text holds per record (ruleset::evaluate_text).
enum class line_format : std::uint8_t {
  report,     // the report's JSON, byte for byte report::to_json()
  decisions,  // {"subject","present":[ids],"undetermined":[ids],"grades":{name:value},"errors":N}
  csv,        // the record's row of columns(), fields quoted as RFC 4180 asks (no line end)
};

// Appends `s` as one CSV field: as it is, or quoted (quotes doubled) when it holds a comma, a
// quote, a CR or a LF. Text that a spreadsheet would run as a formula (it starts with `=`, `+`,
// `-`, `@`, a tab or a CR, and is not a negative number such as `-2.5`) is quoted with an
// apostrophe in front: `'=1+2`.
void append_csv_field(std::string& out, std::string_view s);

// A batch written as text: the outputs joined by the separator, in input order.
struct batch_text {
  std::string text;
  std::uint64_t outputs = 0;      // one per record, or one per element with `each`
  std::uint64_t with_errors = 0;  // outputs whose record has errors
};

// One column of the tabular form of reports, in the order CSV and evaluate_frame give them:
// subject, hazard.<id> (status) for every hazard, for every score score.<name> (total) then
// score.<name>.<section> for each section, grade.<name> (value) for every grade, errors.
struct report_column {
  enum class kind : std::uint8_t { subject, hazard, score, section, grade, errors };
  kind what = kind::subject;
  std::string name;           // the header: "hazard.A4.1", "score.quality.environment"
  std::uint32_t index = 0;    // hazard, score or grade: its position in the report
  std::uint32_t section = 0;  // section: its position in the score's sections
};

// Whether a line of JSON lines holds no record: only white space. Such lines are skipped and
// get no report. (A line holding a byte-order mark and nothing else is not blank: it is a
// record, and an unreadable one, so that every line that holds anything gets its report.)
bool blank_line(std::string_view text);

// The cell of `column` for report `r` as text: statuses and grade values as the report
// writes them, numbers as JSON writes them, "" for what the report does not hold (null
// totals, an unreadable record's hazards), the error count for `errors`.
std::string report_cell(const report& r, const report_column& column);

}  // namespace carerules
#pragma GCC visibility pop
