// carerules._core._Ledger: the rectification ledger (include/carerules/ledger.hpp) for the
// Python class carerules.Ledger (ledger.py), which turns these lists of dicts into DataFrames.
#include "carerules/ledger.hpp"

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

namespace py = pybind11;
namespace L = carerules::ledger;

namespace {

py::object opt(const std::optional<std::string>& s) {
  return s ? py::object(py::str(*s)) : py::object(py::none());
}

py::dict finding_dict(const L::finding& f, bool history) {
  py::dict d;
  d["subject"] = f.subject;
  d["item"] = f.item;
  d["title"] = f.title;
  d["cite"] = f.cite;
  d["action"] = f.action;
  d["due"] = opt(f.due);
  d["status"] = f.status;
  d["rebound"] = f.rebound;
  d["opened"] = f.opened;
  d["reopened"] = opt(f.reopened);
  d["closed"] = opt(f.closed);
  d["responsible"] = opt(f.responsible);
  d["last_status"] = f.last_status;
  if (history) {
    py::list h;
    for (const auto& e : f.history) {
      py::dict x;
      x["round"] = e.round;
      x["asof"] = e.asof;
      x["status"] = e.status;
      h.append(x);
    }
    d["history"] = h;
  }
  return d;
}

py::list findings_list(const std::vector<L::finding>& fs, bool history) {
  py::list out;
  for (const auto& f : fs) out.append(finding_dict(f, history));
  return out;
}

// Ledger errors reach Python as RuntimeError with the ledger's message (the class wraps them).
template <class F>
auto guarded(F&& f) {
  try {
    return f();
  } catch (const L::ledger_error& e) {
    throw std::runtime_error(e.what());
  }
}

}  // namespace

void bind_ledger(py::module_& m) {
  py::class_<L::book>(m, "_Ledger")
      .def(py::init([](const std::string& path) {
             return guarded([&] { return std::make_unique<L::book>(L::book::open(path)); });
           }),
           py::arg("path"))
      // reports: JSON texts of reports; returns False when the round was recorded before
      .def(
          "record",
          [](L::book& b, const std::vector<std::string>& reports, const std::string& round,
             const std::string& asof,
             const std::vector<std::pair<std::string, std::string>>& picks) {
            std::vector<L::grade_pick> gp;
            for (const auto& [n, v] : picks) gp.push_back({n, v});
            L::round_info info;
            info.id = round;
            info.asof = asof;
            std::vector<L::observation> obs;
            std::size_t index = 0;
            for (const auto& text : reports) {
              auto r = L::report_from_json(text);
              if (!r)
                throw py::value_error("reports[" + std::to_string(index) + "] is not a report");
              if (!r->subject)
                throw py::value_error("reports[" + std::to_string(index) +
                                      "] has no subject: it cannot be recorded");
              if (info.asof.empty()) info.asof = r->asof;
              if (info.ruleset.empty()) {
                info.ruleset = r->ruleset.name;
                info.version = r->ruleset.version;
                info.digest = r->ruleset.digest;
              }
              for (auto& o : L::observations_of(*r, gp)) obs.push_back(std::move(o));
              ++index;
            }
            if (info.asof.empty()) throw py::value_error("no asof: give asof= or reports");
            return guarded([&] { return b.record(info, obs); });
          },
          py::arg("reports"), py::arg("round"), py::arg("asof"), py::arg("picks"))
      .def("rounds",
           [](const L::book& b) {
             py::list out;
             for (const auto& r : guarded([&] { return b.rounds(); })) {
               py::dict d;
               d["round"] = r.id;
               d["asof"] = r.asof;
               d["ruleset"] = r.ruleset;
               d["version"] = r.version;
               d["digest"] = r.digest;
               out.append(d);
             }
             return out;
           })
      .def("findings",
           [](const L::book& b, const std::string& asof) {
             return findings_list(guarded([&] { return b.findings(asof); }), false);
           })
      .def("subject",
           [](const L::book& b, const std::string& s, const std::string& asof) {
             return findings_list(guarded([&] { return b.subject(s, asof); }), true);
           })
      .def("diff", [](const L::book& b, const std::string& from, const std::string& to) {
        const auto d = guarded([&] { return b.diff(from, to); });
        py::dict out;
        out["from"] = d.from;
        out["to"] = d.to;
        out["new"] = findings_list(d.new_findings, false);
        out["closed"] = findings_list(d.closed, false);
        out["still_open"] = findings_list(d.still_open, false);
        out["rebound"] = findings_list(d.rebound, false);
        out["undetermined"] = findings_list(d.undetermined, false);
        return out;
      });
}
