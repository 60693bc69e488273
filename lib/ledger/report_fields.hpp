// What the ledger reads of a report, from anything shaped like its JSON: the JSON text itself
// (report_from_json) and the Python module's dicts, so that the two give the same report, and
// so the same round and the same hash.
//
// `Node` is a view of one value with
//   bool is_object() const;  bool is_array() const;
//   std::optional<std::string_view> string() const;      // nullopt unless a string
//   std::optional<Node> member(const char* key) const;   // of an object
//   void for_each_element(F f) const;                    // f(Node), of an array
//   void for_each_member(F f) const;                     // f(std::string_view key, Node)
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "carerules/report.hpp"

namespace carerules::ledger {

// The subject, asof, ruleset, hazards and grades of the report `root` (an object), and its
// errors: what observations_of(report) and the round's summary need; other members are not
// read, and a member of another type than the report's reads as missing.
template <class Node>
report report_from(const Node& root) {
  auto str = [](const Node& object, const char* key) -> std::optional<std::string> {
    const auto m = object.member(key);
    if (!m) return std::nullopt;
    const auto s = m->string();
    if (!s) return std::nullopt;
    return std::string(*s);
  };
  report r;
  r.subject = str(root, "subject");
  r.asof = str(root, "asof").value_or("");
  if (const auto rs = root.member("ruleset"); rs && rs->is_object()) {
    r.ruleset.name = str(*rs, "name").value_or("");
    r.ruleset.version = str(*rs, "version").value_or("");
    r.ruleset.digest = str(*rs, "digest").value_or("");
  }
  if (const auto hs = root.member("hazards"); hs && hs->is_array())
    hs->for_each_element([&](const Node& h) {
      if (!h.is_object()) return;
      hazard_result hr;
      hr.id = str(h, "id").value_or("");
      hr.title = str(h, "title").value_or("");
      hr.cite = str(h, "cite");
      const std::string st = str(h, "status").value_or("");
      hr.status = st == "present"  ? hazard_status::present
                  : st == "absent" ? hazard_status::absent
                                   : hazard_status::undetermined;
      if (const auto rect = h.member("rectify"); rect && rect->is_object()) {
        if (auto a = str(*rect, "action")) hr.rectify.action = std::move(*a);
        hr.rectify.due = str(*rect, "due");
      }
      r.hazards.push_back(std::move(hr));
    });
  if (const auto gs = root.member("grades"); gs && gs->is_object())
    gs->for_each_member([&](std::string_view name, const Node& gv) {
      grade_result g;
      g.name = std::string(name);
      const std::string value = gv.is_object() ? str(gv, "value").value_or("") : "";
      if (value == "undetermined") {
        g.outcome = grade_outcome::undetermined;
      } else if (value == "error") {
        g.outcome = grade_outcome::error;
      } else if (value == "none") {
        g.outcome = grade_outcome::none;
      } else {
        g.outcome = grade_outcome::label;
        g.label = value;
      }
      r.grades.push_back(std::move(g));
    });
  if (const auto es = root.member("errors"); es && es->is_array())
    es->for_each_element([&](const Node& ev) {
      record_error e;
      if (ev.is_object()) {
        e.path = str(ev, "path");
        e.rule = str(ev, "rule");
        e.message = str(ev, "message").value_or("");
      }
      r.errors.push_back(std::move(e));
    });
  return r;
}

}  // namespace carerules::ledger
