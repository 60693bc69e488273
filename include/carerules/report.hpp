// The report of one evaluation: what was found for one subject, and why.
//
// A report is plain data. `to_json()` writes it exactly as docs/reference/report.md gives it:
// compact, fields in a fixed order, arrays in declaration order, CJK as is, byte-identical
// for identical input.
//
//   carerules::report r = rs.evaluate(R"({"id": "FJ-1", "facility": {"beds": 120}})");
//   for (const auto& h : r.hazards)
//     if (h.status == carerules::hazard_status::present) std::cout << h.id << "\n";
//   std::cout << r.to_json() << "\n";
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

// Exported from the shared library (compiled with hidden visibility).
#pragma GCC visibility push(default)

namespace carerules {

// Appends `s` to `out` as a JSON string literal: quotes, backslashes and control characters
// escaped, everything else (CJK included) written as is. The reports use it.
void append_json_string(std::string& out, std::string_view s);

// A JSON value as it appears in a report (evidence, points, totals).
struct json_value {
  enum class kind : std::uint8_t { null, boolean, integer, decimal, string, array };
  kind type = kind::null;
  bool b = false;
  std::int64_t i = 0;  // integer; decimal: scaled by 10^6
  std::string s;
  std::vector<json_value> items;

  static constexpr std::int64_t decimal_scale = 1'000'000;
  static json_value of_int(std::int64_t v) { return {kind::integer, false, v, {}, {}}; }
  static json_value of_decimal(std::int64_t scaled) {
    return {kind::decimal, false, scaled, {}, {}};
  }
  std::string to_json() const;
};

// Outcomes are enums; to_string gives the word the report's JSON writes.
enum class hazard_status : std::uint8_t { absent, present, undetermined, error };
enum class hazard_severity : std::uint8_t { major, general };
enum class item_kind : std::uint8_t { item, deduct };
enum class item_status : std::uint8_t { awarded, not_awarded, undetermined, error };
// A grade is one of its scale's labels, or one of three outcomes that are not on the scale.
enum class grade_outcome : std::uint8_t { label, none, undetermined, error };

std::string_view to_string(hazard_status s);    // "present" …
std::string_view to_string(hazard_severity s);  // "major" | "general"
std::string_view to_string(item_kind k);        // "item" | "deduct"
std::string_view to_string(item_status s);      // "awarded" | "not_awarded" …
std::string_view to_string(grade_outcome g);    // "label" | "none" | "undetermined" | "error"

struct rectification {
  std::string action;  // immediate | deadline | suspend | close
  std::optional<std::int64_t> within_days;
  std::optional<std::string> due;  // asof + within_days
};

struct hazard_result {
  std::string id, title, category;
  hazard_severity severity = hazard_severity::major;
  hazard_status status = hazard_status::absent;
  std::optional<std::string> cite;
  rectification rectify;
  std::optional<std::string> advice;
  std::vector<std::pair<std::string, json_value>> evidence;  // first-read order
  std::vector<std::string> missing;                          // when undetermined
};

struct item_result {
  std::string id;
  std::optional<std::string> section;
  item_kind kind = item_kind::item;
  json_value points;  // signed contribution, 0 when not awarded
  item_status status = item_status::not_awarded;
};

struct score_result {
  std::string name;
  json_value total;
  bool provisional = false;
  std::vector<std::pair<std::string, json_value>> sections;
  std::vector<item_result> items;
  std::vector<std::string> missing;  // when provisional
};

struct grade_result {
  std::string name;
  grade_outcome outcome = grade_outcome::none;
  std::string label;  // the scale's label when outcome is grade_outcome::label
  // What the report writes as "value": the label, or "none", "undetermined", "error".
  std::string_view value() const {
    return outcome == grade_outcome::label ? label : to_string(outcome);
  }
  std::optional<std::string> because;
  std::vector<std::string> missing;  // when undetermined
};

struct record_error {
  std::optional<std::string> path;  // JSON pointer into the facts
  std::optional<std::string> rule;  // the declaration at fault
  std::string message;
};

struct ruleset_info {
  std::string name, title, version;
  std::optional<std::string> source, effective;
  std::string digest;  // "sha256:" + 64 hex digits
};

struct report {
  std::optional<std::string> subject;
  ruleset_info ruleset;
  std::string engine;  // "carerules X.Y.Z"
  std::string asof;
  std::vector<hazard_result> hazards;
  std::vector<score_result> scores;
  std::vector<grade_result> grades;
  std::vector<record_error> errors;
  // The facts could not be read at all (not JSON, not an object, a line over its limit):
  // `hazards`, `scores` and `grades` are empty and `errors` says why. Not written to JSON.
  bool unreadable = false;

  std::string to_json() const;
};

}  // namespace carerules
#pragma GCC visibility pop
