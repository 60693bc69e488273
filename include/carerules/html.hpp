// HTML reports: one page a person reads per report, and the summary of a batch by group.
//
// The pages are one more writer of the report (beside JSON and the tabular columns): each is a
// self-contained document (inline CSS, no script, nothing fetched) laid out for A4 when
// printed. Every value that comes from the facts or the ruleset is HTML-escaped.
//
//   carerules::page_options po{.language = carerules::lang::zh, .name = "某某养老院"};
//   std::string page = carerules::html_page(rs, report, facts_json, po);
//
//   carerules::group_summary s(rs);              // counts per group (e.g. per district)
//   s.add(report, carerules::fact_at(facts_json, "region.district"));
//   std::string json = s.to_json("region.district");
//
// Thread safety: html_page and the free functions may run on any number of threads at once;
// a group_summary is used by one thread at a time.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "carerules/labels.hpp"
#include "carerules/report.hpp"
#include "carerules/ruleset.hpp"

#pragma GCC visibility push(default)

namespace carerules {

// `s` with & < > " ' written as character references and control characters other than
// tab and line feed as U+FFFD, so that the text shows as text in an element or an attribute.
std::string html_escape(std::string_view s);

// The value at a dotted path (`region.district`) of a JSON record, declared as an input or
// not: a string as it is, `true` or `false`, a number as the reports write numbers (`1.50`
// and `1.5` give `1.5`, `1e2` gives `100`). nullopt when the record is not a JSON object, the
// path is absent, or the value is null, an object or a list. A key given twice: the last.
std::optional<std::string> fact_at(std::string_view facts_json, std::string_view path);

// The file name (without ".html") for a subject's page: ASCII letters, digits, `-`, `_`, and
// non-ASCII characters are kept; every other byte (`/`, `\`, `:`, spaces, control
// characters, invalid UTF-8) becomes `_`; a leading `.` becomes `_`; at most 80 bytes. When
// anything was changed, or the result is a reserved name (`index`, and the device names
// CON, PRN, AUX, NUL, COM1–9, LPT1–9 of Windows), `-` and 8 hex digits of a hash of the
// subject are appended, so that `a/b` and `a_b` get different files. No subject: `record-N`
// (N: the record's position in the batch, from 1). Duplicates are the caller's to number.
std::string page_file_stem(const std::optional<std::string>& subject, std::uint64_t position);

struct page_options {
  lang language = lang::zh;
  std::optional<std::string> name;        // the subject's name, shown beside the subject
  std::string index_href = "index.html";  // the link back to the summary; "" for none
};

// The page of one report. `facts_json`, the record's text, gives each grade's reasoning
// (ruleset::explain, in a <details>); empty, or for an unreadable record, the page shows the
// grade's `because` line only.
std::string html_page(const ruleset& rs, const report& r, std::string_view facts_json,
                      const page_options& options = {});

// Counts of a batch per group: records, reports, reports with errors, reports with a present
// hazard, per grade each value, per hazard each status. Memory grows with the number of
// groups, not of reports.
class group_summary {
 public:
  struct counts {
    std::uint64_t records = 0, reports = 0, with_errors = 0, with_present = 0;
    std::vector<std::vector<std::uint64_t>> grades;     // [grade][value], as grade_values()
    std::vector<std::array<std::uint64_t, 4>> hazards;  // [hazard][present absent undet. error]
  };

  explicit group_summary(const ruleset& rs);
  // A record read (with --each one record gives several reports).
  void add_record(const std::optional<std::string>& group);
  void add(const report& r, const std::optional<std::string>& group);

  // Per grade: its values in the order the summary lists them (the scale highest first,
  // then none, undetermined, error).
  const std::vector<std::vector<std::string>>& grade_values() const { return values_; }
  const std::vector<grade_info>& grades() const { return grades_; }
  const std::vector<hazard_info>& hazards() const { return hazards_; }
  // Groups in byte order of their value; the group of records without the path last.
  std::vector<std::pair<std::optional<std::string>, const counts*>> groups() const;
  const counts& total() const { return total_; }

  // {"by": PATH|null, "groups": [{"group": "…"|null, "records": n, "reports": n,
  //  "with_errors": n, "with_present_hazard": n, "grades": {"risk": {"red": n, …}, …},
  //  "hazards": {"A4.1": {"present": n, "absent": n, "undetermined": n, "error": n}, …}}, …],
  //  "total": {the same without "group"}}
  std::string to_json(const std::optional<std::string>& by) const;
  // One row per group then a total row, under a header row: group, records, reports,
  // with_errors, with_present_hazard, grade.<name>.<value>…, hazard.<id>.<status>…. With a
  // language, headers and group names are display labels ("合计" for the total).
  std::vector<std::vector<std::string>> rows(std::optional<lang> language) const;

 private:
  counts make_counts() const;
  void count(counts& c, const report& r) const;
  std::vector<grade_info> grades_;
  std::vector<hazard_info> hazards_;
  std::vector<std::vector<std::string>> values_;
  std::map<std::string, counts> groups_;
  std::optional<counts> ungrouped_;
  counts total_;
};

// One subject with a present hazard, for the summary's list.
struct index_entry {
  std::string file;  // the page's file name, relative to index.html
  std::optional<std::string> subject, name, group;
  std::vector<std::string> hazards;  // ids of the present hazards
  std::vector<std::string> grades;   // each grade's value, in the ruleset's order
};

struct index_options {
  lang language = lang::zh;
  std::optional<std::string> by;  // the grouping path, when given
  std::string asof;
};

// index.html in three parts so that the list of subjects with present hazards streams:
// html_index_head (title, ruleset, counts and SVG charts per group), then html_index_row for
// each entry (one line each), then html_index_tail.
std::string html_index_head(const ruleset& rs, const group_summary& s, const index_options& o);
std::string html_index_row(const ruleset& rs, const index_entry& e, const index_options& o);
std::string html_index_tail(const index_options& o, std::uint64_t rows);

}  // namespace carerules
#pragma GCC visibility pop
