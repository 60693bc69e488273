// carerules._core._Ledger: the rectification ledger (include/carerules/ledger.hpp) for the
// Python class carerules.Ledger (ledger.py), which turns these lists of dicts into DataFrames.
#include "carerules/ledger.hpp"

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "carerules/batch.hpp"
#include "ledger/report_fields.hpp"

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

// A value of a report given as Python objects (dicts, lists, str), for report_from(): what
// json.dumps would write of it, read without writing it. A dict with a key that is not a str
// (json.dumps turns some into strings) is read through json.dumps instead.
struct py_node {
  PyObject* o;
  bool is_object() const { return PyDict_Check(o); }
  bool is_array() const { return PyList_Check(o) || PyTuple_Check(o); }
  std::optional<std::string_view> string() const {
    if (!PyUnicode_Check(o)) return std::nullopt;
    Py_ssize_t size = 0;
    const char* s = PyUnicode_AsUTF8AndSize(o, &size);
    if (!s) throw py::error_already_set();  // a lone surrogate: not text
    return std::string_view(s, static_cast<std::size_t>(size));
  }
  std::optional<py_node> member(const char* key) const {
    PyObject* v = PyDict_GetItem(o, key_object(key));  // borrowed
    if (!v) return std::nullopt;
    return py_node{v};
  }
  // The str of a member's name, made once (with its hash) for each name report_from() asks
  // for: the names are string literals, told apart by their address. Kept for the life of the
  // process (never released: nothing to release after the interpreter is gone). Under the GIL.
  static PyObject* key_object(const char* key) {
    static std::vector<std::pair<const char*, PyObject*>> made;
    for (const auto& [k, o] : made)
      if (k == key) return o;
    PyObject* o = PyUnicode_InternFromString(key);
    if (!o) throw py::error_already_set();
    made.emplace_back(key, o);
    return o;
  }
  template <class F>
  void for_each_element(F f) const {
    const py::sequence seq = py::reinterpret_borrow<py::sequence>(o);
    for (const py::handle e : seq) f(py_node{e.ptr()});
  }
  template <class F>
  void for_each_member(F f) const {
    PyObject *key = nullptr, *value = nullptr;
    Py_ssize_t at = 0;
    while (PyDict_Next(o, &at, &key, &value)) {
      Py_ssize_t size = 0;
      const char* k = PyUnicode_AsUTF8AndSize(key, &size);
      if (!k) throw py::error_already_set();
      f(std::string_view(k, static_cast<std::size_t>(size)), py_node{value});
    }
  }
};

// Whether every key of every dict in `o` is a str (what py_node reads as json.dumps would).
bool str_keys(PyObject* o, int depth = 0) {
  if (depth > 64) return false;  // (json.dumps would recurse; let it say)
  if (PyDict_Check(o)) {
    PyObject *key = nullptr, *value = nullptr;
    Py_ssize_t at = 0;
    while (PyDict_Next(o, &at, &key, &value))
      if (!PyUnicode_Check(key) || !str_keys(value, depth + 1)) return false;
  } else if (PyList_Check(o) || PyTuple_Check(o)) {
    const py::sequence seq = py::reinterpret_borrow<py::sequence>(o);
    for (const py::handle e : seq)
      if (!str_keys(e.ptr(), depth + 1)) return false;
  }
  return true;
}

// A report given as a dict.
std::optional<carerules::report> dict_report(PyObject* dict) {
  const py_node root{dict};
  // Only the parts report_from() reads need str keys; the grades are the one dict it walks.
  if (const auto g = root.member("grades"); g && g->is_object() && !str_keys(g->o)) {
    const py::object dumps = py::module_::import("json").attr("dumps");
    const std::string text =
        py::cast<std::string>(dumps(py::handle(dict), py::arg("ensure_ascii") = false));
    return L::report_from_json(text);
  }
  return L::report_from(root);
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
      // reports: a list of reports, each a dict as evaluate gives it or its JSON text;
      // returns False when the round was recorded before
      .def(
          "record",
          [](L::book& b, const py::list& reports, const std::string& round, const std::string& asof,
             const std::vector<std::pair<std::string, std::string>>& picks) {
            std::vector<L::grade_pick> gp;
            for (const auto& [n, v] : picks) gp.push_back({n, v});
            L::round_info info;
            info.id = round;
            info.asof = asof;
            // Dicts are read here, under the GIL, touching only what the ledger reads; texts
            // are parsed afterwards on every core, without it.
            const std::size_t n = reports.size();
            std::vector<std::optional<carerules::report>> read(n);
            std::vector<std::string> texts(n);
            std::vector<char> is_text(n, 0);
            for (std::size_t i = 0; i < n; ++i) {
              PyObject* item = reports[i].ptr();
              if (PyDict_Check(item)) {
                read[i] = dict_report(item);
              } else {
                texts[i] = py::cast<std::string>(reports[i]);
                is_text[i] = 1;
              }
            }
            // Each report's observations packed on the workers, as `ledger record --reports` does.
            std::vector<L::book::round_writer::prepared> prepared(n);
            std::vector<std::string> failed(n);  // what prepare() threw, per report
            {
              py::gil_scoped_release unlocked;
              carerules::parallel_for(n, 0, [&](std::size_t i) {
                if (is_text[i]) read[i] = L::report_from_json(texts[i]);
                if (!read[i] || !read[i]->subject) return;
                try {
                  prepared[i] = L::book::round_writer::prepare(L::observations_of(*read[i], gp));
                } catch (const L::ledger_error& e) {
                  failed[i] = e.what();
                }
                read[i]->hazards.clear();  // (only the header is read from here on)
              });
            }
            for (std::size_t i = 0; i < n; ++i) {  // in order: the first bad report is named
              const auto& r = read[i];
              if (!r) throw py::value_error("reports[" + std::to_string(i) + "] is not a report");
              if (!r->subject)
                throw py::value_error("reports[" + std::to_string(i) +
                                      "] has no subject: it cannot be recorded");
              if (!failed[i].empty()) throw std::runtime_error(failed[i]);  // (LedgerError)
              if (info.asof.empty()) info.asof = r->asof;
              if (info.ruleset.empty()) {
                info.ruleset = r->ruleset.name;
                info.version = r->ruleset.version;
                info.digest = r->ruleset.digest;
              }
            }
            if (info.asof.empty()) throw py::value_error("no asof: give asof= or reports");
            py::gil_scoped_release unlocked;
            return guarded([&] {
              auto writer = b.begin_round(info);
              for (const auto& p : prepared) writer.add(p);
              return writer.commit();
            });
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
