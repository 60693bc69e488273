// carerules._core: the C++ API for Python, thin and 1:1 (carerules/__init__.py holds the
// Pythonic layer: argument checks, CompileError, pickling, pandas).
//
// Two conversions are done here natively, because they must not cost more than evaluating:
//   * facts: Python objects (dict, list, tuple, str, int, float, bool, None, datetime.date,
//     datetime.datetime, pandas Timestamp/NaT/NA, numpy scalars and arrays, Decimal) are
//     walked with the CPython API and sent as events to the engine's fact_sink, so no JSON
//     text is made in between;
//   * reports: carerules::report becomes dicts and lists, field for field as report::to_json
//     writes them, so that `evaluate(d) == json.loads(report.to_json())` (an integral number
//     is an int, a decimal the float json.loads makes of its text).
// Batches are bound with the GIL held, then evaluated on threads with the GIL released.

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

// pybind11 includes Python.h first.
#include <datetime.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "carerules/carerules.hpp"

namespace py = pybind11;
namespace cr = carerules;

namespace {

// ============================================================================ CPython helpers

[[noreturn]] void throw_py() { throw py::error_already_set(); }

PyObject* checked(PyObject* o) {
  if (o == nullptr) throw_py();
  return o;
}

// Owns a new reference.
py::object steal(PyObject* o) { return py::reinterpret_steal<py::object>(checked(o)); }

// Sets d[k] = v and releases v (a new reference, null when its creation failed).
void put(PyObject* d, PyObject* k, PyObject* v) {
  if (v == nullptr) throw_py();
  const int rc = PyDict_SetItem(d, k, v);
  Py_DECREF(v);
  if (rc != 0) throw_py();
}

// Appends v (a new reference, null when its creation failed) to a list and releases it.
void append(PyObject* list, PyObject* v) {
  if (v == nullptr) throw_py();
  const int rc = PyList_Append(list, v);
  Py_DECREF(v);
  if (rc != 0) throw_py();
}

PyObject* new_str(std::string_view s) {
  return checked(PyUnicode_DecodeUTF8(s.data(), static_cast<Py_ssize_t>(s.size()), "replace"));
}

PyObject* new_bool(bool b) {
  PyObject* o = b ? Py_True : Py_False;
  Py_INCREF(o);
  return o;
}

PyObject* new_none() {
  Py_INCREF(Py_None);
  return Py_None;
}

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }
bool ends_with(std::string_view s, std::string_view p) {
  return s.size() >= p.size() && s.substr(s.size() - p.size()) == p;
}

std::string type_name(PyObject* o) { return Py_TYPE(o)->tp_name; }

// Keys of report dicts, interned once (module lifetime).
struct key_table {
// clang-format off
#define CARERULES_KEYS(X)                                                                      \
  X(subject) X(ruleset) X(name) X(title) X(version) X(source) X(effective) X(digest)          \
  X(engine) X(asof) X(hazards) X(id) X(category) X(severity) X(status) X(cite) X(rectify)     \
  X(action) X(within_days) X(due) X(advice) X(evidence) X(missing) X(scores) X(total)         \
  X(provisional) X(sections) X(items) X(section) X(kind) X(points) X(grades) X(value)         \
  X(because) X(errors) X(path) X(rule) X(message) X(type) X(label) X(default_) X(range)       \
  X(values) X(file) X(line) X(column) X(rendered) X(passed) X(failures) X(cases) X(uncovered)
// clang-format on
#define CARERULES_DECLARE(n) PyObject* n = nullptr;
  CARERULES_KEYS(CARERULES_DECLARE)
#undef CARERULES_DECLARE
  void init() {
#define CARERULES_INTERN(n) n = intern(#n);
    CARERULES_KEYS(CARERULES_INTERN)
#undef CARERULES_INTERN
  }
  static PyObject* intern(const char* s) {
    std::string_view v(s);
    if (ends_with(v, "_")) v.remove_suffix(1);  // default_ -> "default"
    return checked(PyUnicode_InternFromString(std::string(v).c_str()));
  }
#undef CARERULES_KEYS
};
key_table K;

// ====================================================================== Python -> fact events

struct walk_options {
  std::size_t json_depth = 64;
  std::size_t json_string = 1u << 20;
  // evaluate_frame: NaN, NaT and pandas NA read as missing (dropped keys), not as faults.
  bool frame = false;
};

// The walker never recurses deeper than this, whatever json_depth says (a self-referential
// list would otherwise recurse forever).
constexpr std::size_t walk_depth_cap = 10'000;

std::string limit_message(const char* what, std::size_t size, std::size_t limit) {
  return std::string(what) + " of " + std::to_string(size) +
         " bytes exceeds the limit json_string (" + std::to_string(limit) + ")";
}

bool is_nat_or_na(PyObject* o) {
  const std::string_view n = Py_TYPE(o)->tp_name;
  return ends_with(n, "NaTType") || ends_with(n, "NAType");
}

// A cell evaluate_frame treats as missing: None, NaN, NaT, pandas NA.
bool frame_missing(PyObject* o) {
  if (o == Py_None) return true;
  if (PyFloat_Check(o)) return std::isnan(PyFloat_AS_DOUBLE(o));
  if (PyUnicode_Check(o) || PyLong_Check(o) || PyDict_Check(o) || PyList_Check(o)) return false;
  if (is_nat_or_na(o)) return true;
  const std::string_view n = Py_TYPE(o)->tp_name;
  if (starts_with(n, "numpy.")) {
    if (n == "numpy.datetime64" || starts_with(n, "numpy.float")) {
      PyObject* r = PyObject_RichCompare(o, o, Py_NE);  // only NaN and NaT differ from self
      if (r == nullptr) {
        PyErr_Clear();
        return false;
      }
      const int ne = PyObject_IsTrue(r);
      Py_DECREF(r);
      if (ne < 0) PyErr_Clear();
      return ne > 0;
    }
  }
  return false;
}

// "a.b.c" -> {"a", "b", "c"}
std::vector<std::string> split_dotted(const std::string& s) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (true) {
    const auto dot = s.find('.', start);
    out.push_back(s.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return out;
}

// What a ruleset reads, as a tree of names built from its record schema (and the subject
// path). The walker sends the binder only what the tree reaches; an undeclared subtree, which
// the binder would only skip, is not converted at all unless it holds something the binder
// would report (a NaN, a non-str key, nesting past json_depth...), in which case it is sent
// whole so that the error lands at the same pointer as for JSON text.
struct sv_hash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

struct guide {
  struct edge {
    enum kind_t : std::uint8_t { object, field, records } kind = field;
    std::uint32_t node = 0;  // object: the object's node; records: the element's root node
  };
  struct node {
    std::unordered_map<std::string, edge, sv_hash, std::equal_to<>> kids;
    std::string prefix;  // the dotted path to this object and a dot: "facility.", "residents[]."
  };
  std::vector<node> nodes;  // nodes[0]: the record's root

  guide(const std::vector<cr::input_info>& inputs, const std::vector<std::string>& subject_path) {
    nodes.emplace_back();
    for (const cr::input_info& in : inputs) add(in.path);
    // The subject is read by the binder wherever it is: keep its path.
    std::uint32_t at = 0;
    for (std::size_t i = 0; i < subject_path.size(); ++i) {
      const bool last = i + 1 == subject_path.size();
      auto it = nodes[at].kids.find(std::string_view(subject_path[i]));
      if (it != nodes[at].kids.end()) {
        if (it->second.kind != edge::object) break;  // sent whole already
        at = it->second.node;
        continue;
      }
      edge e;
      if (!last) {
        e.kind = edge::object;
        e.node = static_cast<std::uint32_t>(nodes.size());
        nodes.push_back({{}, nodes[at].prefix + subject_path[i] + "."});
      }
      nodes[at].kids.emplace(subject_path[i], e);
      if (last) break;
      at = e.node;
    }
  }

  // The edge a dotted path ends on, or null when it leaves the tree or passes a field.
  const edge* find(const std::vector<std::string>& path, std::uint32_t from = 0) const {
    std::uint32_t at = from;
    const edge* e = nullptr;
    for (const std::string& seg : path) {
      if (e != nullptr && e->kind != edge::object) return nullptr;
      auto it = nodes[at].kids.find(std::string_view(seg));
      if (it == nodes[at].kids.end()) return nullptr;
      e = &it->second;
      at = e->node;
    }
    return e;
  }

 private:
  // Adds a declared input's path: "facility.beds", or "residents[].ability" for a field of
  // the records of a list (the list itself is declared too, as "residents").
  void add(const std::string& path) {
    std::uint32_t at = 0;
    const std::vector<std::string> segs = split_dotted(path);
    for (std::size_t i = 0; i < segs.size(); ++i) {
      std::string_view name = segs[i];
      const bool records = name.size() > 2 && name.substr(name.size() - 2) == "[]";
      if (records) name.remove_suffix(2);
      auto it = nodes[at].kids.find(name);
      if (it == nodes[at].kids.end()) it = nodes[at].kids.emplace(std::string(name), edge{}).first;
      if (i + 1 == segs.size()) return;      // a field (or a list declared before its fields)
      if (it->second.kind == edge::field) {  // becomes an object, or a list of records
        it->second.kind = records ? edge::records : edge::object;
        it->second.node = static_cast<std::uint32_t>(nodes.size());
        std::string prefix = nodes[at].prefix + std::string(name) + (records ? "[]." : ".");
        nodes.push_back({{}, std::move(prefix)});  // may move nodes[at]: `it` is not used after
      }
      at = it->second.node;
    }
  }
};

// Keys that reach no declared input, as dotted paths (fields of list records as
// `residents[].abilty`), each once, for `strict=True` and the near-miss warning. Without
// `all`, only flat dotted keys (`{"facility.beds": 3}`) are collected: a nested key that no
// input declares is skipped silently unless the caller is strict.
struct key_collector {
  bool all = false;
  std::unordered_set<std::string> seen;
  std::vector<std::string> fresh;  // found since the caller last looked

  void add(std::string path) {
    if (seen.insert(path).second) fresh.push_back(std::move(path));
  }
  // Hands the fresh paths to `callback` (a Python callable taking a list of str), which may
  // raise (strict): the exception propagates to the caller of the evaluation.
  void flush(const py::object& callback) {
    if (fresh.empty() || callback.is_none()) return;
    py::list paths;
    for (const std::string& p : fresh) paths.append(py::str(p));
    fresh.clear();
    callback(paths);
  }
};

// Walks one Python value and sends its events to a sink.
class walker {
 public:
  walker(cr::fact_sink& sink, const walk_options& options, const guide* g = nullptr,
         key_collector* keys = nullptr)
      : sink_(sink),
        options_(options),
        guide_(g),
        keys_(keys),
        cap_(std::min<std::size_t>(options.json_depth, walk_depth_cap)) {}

  void set_depth(std::size_t d) { depth_ = d; }

  // A whole record: guided by the ruleset's names when there is a guide.
  void record(PyObject* o) {
    if (guide_ != nullptr && PyDict_Check(o)) return guided_object(o, 0);
    value(o);
  }

  // A value reached by a guide edge (null: an unguided value, sent whole).
  void guided(PyObject* o, const guide::edge* e) {
    if (e == nullptr || guide_ == nullptr || e->kind == guide::edge::field) return value(o);
    if (e->kind == guide::edge::object) {
      if (PyDict_Check(o)) return guided_object(o, e->node);
      return value(o);
    }
    if (!PyList_Check(o) && !PyTuple_Check(o)) return value(o);  // records: a list expected
    if (depth_ >= cap_) return too_deep(true);
    ++depth_;
    sink_.begin_array();
    const bool list = PyList_Check(o);
    for (Py_ssize_t i = 0; i < (list ? PyList_GET_SIZE(o) : PyTuple_GET_SIZE(o)); ++i) {
      py::object item =
          py::reinterpret_borrow<py::object>(list ? PyList_GET_ITEM(o, i) : PyTuple_GET_ITEM(o, i));
      if (options_.frame && frame_missing(item.ptr())) {
        sink_.null_value();
      } else if (PyDict_Check(item.ptr())) {
        guided_object(item.ptr(), e->node);
      } else {
        value(item.ptr());
      }
    }
    sink_.end_array();
    --depth_;
  }

  void value(PyObject* o) {
    if (o == Py_None) return sink_.null_value();
    if (PyUnicode_Check(o)) return text(o);
    if (PyBool_Check(o)) return sink_.bool_value(o == Py_True);
    if (PyLong_Check(o)) return integer(o);
    if (PyFloat_Check(o)) return real(PyFloat_AS_DOUBLE(o), nullptr);
    if (PyDict_Check(o)) return object(o);
    if (PyList_Check(o) || PyTuple_Check(o)) return array(o);
    if (PyDate_Check(o)) {
      if (!PyDateTime_CheckExact(o) && is_nat_or_na(o)) return sink_.null_value();  // pd.NaT
      // PyDateTime_GET_YEAR and friends, without their C casts.
      const unsigned char* b = reinterpret_cast<PyDateTime_Date*>(o)->data;
      return date((b[0] << 8) | b[1], b[2], b[3]);
    }
    other(o);
  }

 private:
  // An object on the way to declared names: undeclared keys whose values are clean are left
  // out; everything else is sent as value() would.
  void guided_object(PyObject* d, std::uint32_t node) {
    if (depth_ >= cap_) return too_deep(false);
    // Flat dotted keys are paths: {"facility.beds": 3} reads as {"facility": {"beds": 3}}.
    py::object expanded;
    std::vector<std::pair<std::string, std::string>> clashes;
    if (has_dotted_key(d)) {
      expanded = expand_dotted(d, node, clashes);
      d = expanded.ptr();
    }
    ++depth_;
    sink_.begin_object();
    for (const auto& [key, message] : clashes) {
      sink_.key(key);
      sink_.fault(message);
    }
    const auto& kids = guide_->nodes[node].kids;
    Py_ssize_t pos = 0;
    PyObject* k = nullptr;
    PyObject* v = nullptr;
    while (PyDict_Next(d, &pos, &k, &v)) {
      py::object key_ref = py::reinterpret_borrow<py::object>(k);
      py::object value_ref = py::reinterpret_borrow<py::object>(v);
      if (options_.frame && frame_missing(v)) continue;
      Py_ssize_t n = 0;
      const char* s = key_text(k, n);
      if (s == nullptr) continue;
      const std::string_view name(s, static_cast<std::size_t>(n));
      auto it = kids.find(name);
      if (it == kids.end()) {
        if (keys_ != nullptr && keys_->all)
          keys_->add(guide_->nodes[node].prefix + std::string(name));
        if (clean(v, depth_)) continue;  // the binder would skip it without a word
        sink_.key(name);
        value(v);
        continue;
      }
      sink_.key(name);
      guided(v, &it->second);
    }
    sink_.end_object();
    --depth_;
  }

  static std::string kind_of_value(PyObject* o) {
    if (o == Py_None) return "null";
    if (PyUnicode_Check(o)) return "string";
    if (PyBool_Check(o)) return "bool";
    if (PyLong_Check(o) || PyFloat_Check(o)) return "number";
    if (PyList_Check(o) || PyTuple_Check(o)) return "list";
    return Py_TYPE(o)->tp_name;
  }

  // Whether a key of `d` is a str holding a dot (a declared name never does).
  static bool has_dotted_key(PyObject* d) {
    Py_ssize_t pos = 0;
    PyObject* k = nullptr;
    PyObject* v = nullptr;
    while (PyDict_Next(d, &pos, &k, &v)) {
      if (!PyUnicode_Check(k)) continue;
      if (PyUnicode_IS_COMPACT_ASCII(k)) {
        if (std::memchr(PyUnicode_DATA(k), '.', static_cast<std::size_t>(PyUnicode_GET_LENGTH(k))))
          return true;
      } else if (PyUnicode_FindChar(k, '.', 0, PyUnicode_GET_LENGTH(k), 1) >= 0) {
        return true;
      } else if (PyErr_Occurred()) {
        PyErr_Clear();
      }
    }
    return false;
  }

  // A copy of `d` (an object at guide node `node`) with every dotted key turned into nested
  // objects, merged with the nested objects already there (which are copied, never changed).
  // A dotted key that names a fact another key gives too (`{"a.b": 1, "a": {"b": 2}}`), or
  // that passes through a value that is not an object, is left out and listed in `clashes`
  // with a message: it becomes an error of the record at that key. Dotted paths that
  // reach no declared input are collected as unknown keys.
  py::object expand_dotted(PyObject* d, std::uint32_t node,
                           std::vector<std::pair<std::string, std::string>>& clashes) {
    py::object out = steal(PyDict_New());
    std::vector<std::pair<PyObject*, PyObject*>> dotted;
    Py_ssize_t pos = 0;
    PyObject* k = nullptr;
    PyObject* v = nullptr;
    while (PyDict_Next(d, &pos, &k, &v)) {
      Py_ssize_t n = 0;
      const char* s = PyUnicode_Check(k) ? PyUnicode_AsUTF8AndSize(k, &n) : nullptr;
      if (s == nullptr) PyErr_Clear();
      const std::string_view name(s == nullptr ? "" : s, static_cast<std::size_t>(n));
      // A dot at either end or two in a row: no path, the key is taken as it is.
      const bool path = name.find('.') != std::string_view::npos && name.front() != '.' &&
                        name.back() != '.' && name.find("..") == std::string_view::npos;
      if (path) {
        dotted.emplace_back(k, v);
      } else if (PyDict_SetItem(out.ptr(), k, v) != 0) {
        throw_py();
      }
    }
    std::vector<PyObject*> made;  // nested dicts this copy owns (made or copied here)
    auto owned = [&](PyObject* o) { return std::find(made.begin(), made.end(), o) != made.end(); };
    for (const auto& [key, val] : dotted) {
      const std::string name = PyUnicode_AsUTF8(key);
      const std::vector<std::string> segs = split_dotted(name);
      if (keys_ != nullptr && guide_->find(segs, node) == nullptr)
        keys_->add(guide_->nodes[node].prefix + name);
      PyObject* at = out.ptr();
      bool clash = false;
      std::string message;
      for (std::size_t i = 0; i + 1 < segs.size() && !clash; ++i) {
        py::object seg = steal(
            PyUnicode_FromStringAndSize(segs[i].data(), static_cast<Py_ssize_t>(segs[i].size())));
        PyObject* next = PyDict_GetItemWithError(at, seg.ptr());
        if (next == nullptr && PyErr_Occurred()) throw_py();
        if (next == nullptr || (options_.frame && frame_missing(next))) {
          py::object fresh = steal(PyDict_New());
          if (PyDict_SetItem(at, seg.ptr(), fresh.ptr()) != 0) throw_py();
          made.push_back(fresh.ptr());
          at = fresh.ptr();
        } else if (PyDict_Check(next)) {
          if (!owned(next)) {
            py::object copy = steal(PyDict_Copy(next));
            if (PyDict_SetItem(at, seg.ptr(), copy.ptr()) != 0) throw_py();
            made.push_back(copy.ptr());
            next = copy.ptr();
          }
          at = next;
        } else {
          clash = true;
          std::string held = segs[0];
          for (std::size_t j = 1; j <= i; ++j) held += "." + segs[j];
          message = "the dotted key `" + name + "` passes through `" + held +
                    "`, which the record gives as a " + kind_of_value(next) + ", not an object";
        }
      }
      if (!clash) {
        py::object last = steal(PyUnicode_FromStringAndSize(
            segs.back().data(), static_cast<Py_ssize_t>(segs.back().size())));
        const int has = PyDict_Contains(at, last.ptr());
        if (has < 0) throw_py();
        clash = has == 1;
        if (clash) {
          message =
              "the dotted key `" + name + "` gives a fact that another key of the record gives too";
        } else if (PyDict_SetItem(at, last.ptr(), val) != 0) {
          throw_py();
        }
      }
      if (clash) clashes.emplace_back(name, std::move(message));
    }
    return out;
  }

  // Whether sending `o` (an undeclared value at `depth` open containers) could make the binder
  // or the walker report anything. Conservative: false for anything unusual.
  bool clean(PyObject* o, std::size_t depth) const {
    if (o == Py_None || PyBool_Check(o)) return true;
    if (PyUnicode_Check(o)) return clean_text(o);
    if (PyLong_Check(o)) {
      int overflow = 0;
      const long long v = PyLong_AsLongLongAndOverflow(o, &overflow);
      if (v == -1 && PyErr_Occurred()) {
        PyErr_Clear();
        return false;
      }
      return overflow == 0;
    }
    if (PyFloat_Check(o)) {
      const double x = PyFloat_AS_DOUBLE(o);
      return std::isfinite(x) || std::isnan(x);
    }
    if (PyDict_Check(o)) {
      if (depth >= cap_) return false;
      Py_ssize_t pos = 0;
      PyObject* k = nullptr;
      PyObject* v = nullptr;
      while (PyDict_Next(o, &pos, &k, &v)) {
        if (!PyUnicode_Check(k) || !clean_text(k) || !clean(v, depth + 1)) return false;
      }
      return true;
    }
    if (PyList_Check(o) || PyTuple_Check(o)) {
      if (depth >= cap_) return false;
      const bool list = PyList_Check(o);
      const Py_ssize_t n = list ? PyList_GET_SIZE(o) : PyTuple_GET_SIZE(o);
      for (Py_ssize_t i = 0; i < n; ++i) {
        if (!clean(list ? PyList_GET_ITEM(o, i) : PyTuple_GET_ITEM(o, i), depth + 1)) return false;
      }
      return true;
    }
    if (PyDate_Check(o)) return true;
    return false;
  }

  // A str that converts to UTF-8 within json_string: no lone surrogate, not too long.
  bool clean_text(PyObject* o) const {
    if (PyUnicode_READY(o) != 0) {
      PyErr_Clear();
      return false;
    }
    const Py_ssize_t len = PyUnicode_GET_LENGTH(o);
    if (PyUnicode_IS_ASCII(o)) return static_cast<std::size_t>(len) <= options_.json_string;
    if (static_cast<std::size_t>(len) * 4 > options_.json_string) return false;
    const int kind = PyUnicode_KIND(o);
    if (kind == PyUnicode_1BYTE_KIND) return true;
    const void* data = PyUnicode_DATA(o);
    for (Py_ssize_t i = 0; i < len; ++i) {
      const Py_UCS4 c = PyUnicode_READ(kind, data, i);
      if (c >= 0xD800 && c <= 0xDFFF) return false;
    }
    return true;
  }

  // The UTF-8 of a dict key, or null after reporting a faulty key (not a str, a lone
  // surrogate, longer than json_string) and sending a null for its value, which is skipped.
  const char* key_text(PyObject* k, Py_ssize_t& n) {
    std::string message;
    if (!PyUnicode_Check(k)) {
      message = "dict keys must be str, got " + type_name(k) + " " + repr(k);
    } else if (const char* s = PyUnicode_AsUTF8AndSize(k, &n); s == nullptr) {
      PyErr_Clear();
      message = "invalid UTF-8 in key (a lone surrogate)";
    } else if (static_cast<std::size_t>(n) > options_.json_string) {
      message = limit_message("key", static_cast<std::size_t>(n), options_.json_string);
    } else {
      return s;
    }
    sink_.fault(std::move(message));
    sink_.null_value();
    return nullptr;
  }

  void object(PyObject* d) {
    if (depth_ >= cap_) return too_deep(false);
    ++depth_;
    sink_.begin_object();
    Py_ssize_t pos = 0;
    PyObject* k = nullptr;
    PyObject* v = nullptr;
    while (PyDict_Next(d, &pos, &k, &v)) {
      // Converting a value may run Python code (numpy, Decimal): hold both meanwhile.
      py::object key_ref = py::reinterpret_borrow<py::object>(k);
      py::object value_ref = py::reinterpret_borrow<py::object>(v);
      if (options_.frame && frame_missing(v)) continue;
      Py_ssize_t n = 0;
      const char* s = key_text(k, n);
      if (s == nullptr) continue;
      sink_.key(std::string_view(s, static_cast<std::size_t>(n)));
      value(v);
    }
    sink_.end_object();
    --depth_;
  }

  void array(PyObject* seq) {
    if (depth_ >= cap_) return too_deep(true);
    ++depth_;
    sink_.begin_array();
    const bool list = PyList_Check(seq);
    for (Py_ssize_t i = 0; i < (list ? PyList_GET_SIZE(seq) : PyTuple_GET_SIZE(seq)); ++i) {
      py::object item = py::reinterpret_borrow<py::object>(list ? PyList_GET_ITEM(seq, i)
                                                                : PyTuple_GET_ITEM(seq, i));
      if (options_.frame && frame_missing(item.ptr())) {
        sink_.null_value();
        continue;
      }
      value(item.ptr());
    }
    sink_.end_array();
    --depth_;
  }

  // Past the depth the binder accepts: it fails the record on the open; nothing below is sent.
  void too_deep(bool is_array) {
    if (is_array) {
      sink_.begin_array();
      sink_.end_array();
    } else {
      sink_.begin_object();
      sink_.end_object();
    }
  }

  void text(PyObject* o) {
    Py_ssize_t n = 0;
    const char* s = PyUnicode_AsUTF8AndSize(o, &n);
    if (s == nullptr) {
      PyErr_Clear();
      return sink_.fault("invalid UTF-8 in string (a lone surrogate)");
    }
    const auto size = static_cast<std::size_t>(n);
    if (size > options_.json_string) {
      return sink_.fault(limit_message("string", size, options_.json_string));
    }
    sink_.string_value(std::string_view(s, size));
  }

  void integer(PyObject* o) {
    int overflow = 0;
    const long long v = PyLong_AsLongLongAndOverflow(o, &overflow);
    if (v == -1 && PyErr_Occurred()) throw_py();
    if (overflow == 0) {
      char buf[24];
      const auto r = std::to_chars(buf, buf + sizeof buf, v);
      return sink_.number_value(std::string_view(buf, static_cast<std::size_t>(r.ptr - buf)));
    }
    // Beyond 64 bits: its decimal text (the binder says it is outside the int range).
    PyObject* s = PyLong_Type.tp_repr(o);
    if (s == nullptr) {  // more digits than int_max_str_digits
      PyErr_Clear();
      return sink_.fault("an int too large to convert");
    }
    py::object hold = py::reinterpret_steal<py::object>(s);
    Py_ssize_t n = 0;
    const char* t = PyUnicode_AsUTF8AndSize(s, &n);
    if (t == nullptr) throw_py();
    sink_.number_value(std::string_view(t, static_cast<std::size_t>(n)));
  }

  // A float: its repr (the shortest text that reads back the same double). `as_text`, when
  // given, is used instead (numpy float32 prints its own shortest form).
  void real(double d, PyObject* as_text) {
    if (!std::isfinite(d)) {
      // NaN is pandas' and numpy's "no value": missing, as None and NaT are, everywhere.
      if (std::isnan(d)) return sink_.null_value();
      return sink_.fault("infinity is not a valid number");
    }
    if (as_text != nullptr) {
      py::object s = steal(PyObject_Str(as_text));
      Py_ssize_t n = 0;
      const char* t = PyUnicode_AsUTF8AndSize(s.ptr(), &n);
      if (t == nullptr) throw_py();
      return sink_.number_value(std::string_view(t, static_cast<std::size_t>(n)));
    }
    char* s = PyOS_double_to_string(d, 'r', 0, Py_DTSF_ADD_DOT_0, nullptr);
    if (s == nullptr) throw_py();
    sink_.number_value(s);
    PyMem_Free(s);
  }

  void date(int y, int m, int d) {
    sink_.date_value(cr::days_from_civil(y, static_cast<unsigned>(m), static_cast<unsigned>(d)));
  }

  void other(PyObject* o) {
    const std::string_view name = Py_TYPE(o)->tp_name;
    if (is_nat_or_na(o)) return sink_.null_value();
    if (starts_with(name, "numpy.")) return numpy_value(o, name);
    if (name == "decimal.Decimal") return decimal(o);
    sink_.fault("a Python " + std::string(name) +
                " cannot be a fact (use dict, list, str, int, float, bool, None or "
                "datetime.date)");
  }

  void numpy_value(PyObject* o, std::string_view name) {
    if (name == "numpy.bool_") {
      const int b = PyObject_IsTrue(o);
      if (b < 0) throw_py();
      return sink_.bool_value(b != 0);
    }
    if (name == "numpy.datetime64") {
      py::object day = steal(PyObject_CallMethod(o, "astype", "s", "datetime64[D]"));
      py::object item = steal(PyObject_CallMethod(day.ptr(), "item", nullptr));
      if (item.is_none()) return sink_.null_value();  // NaT
      if (PyDate_Check(item.ptr())) return value(item.ptr());
      return sink_.fault("a numpy.datetime64 outside the years 1..9999");
    }
    if (name == "numpy.ndarray") {
      py::object list = steal(PyObject_CallMethod(o, "tolist", nullptr));
      return value(list.ptr());
    }
    if (name.find("complex") == std::string_view::npos) {
      if (PyIndex_Check(o)) {  // numpy integers
        py::object i = steal(PyNumber_Index(o));
        return integer(i.ptr());
      }
      if (Py_TYPE(o)->tp_as_number != nullptr && Py_TYPE(o)->tp_as_number->nb_float != nullptr) {
        const double d = PyFloat_AsDouble(o);
        if (d == -1.0 && PyErr_Occurred()) throw_py();
        return real(d, o);
      }
    }
    sink_.fault("a " + std::string(name) + " cannot be a fact");
  }

  void decimal(PyObject* o) {
    py::object s = steal(PyObject_Str(o));
    Py_ssize_t n = 0;
    const char* t = PyUnicode_AsUTF8AndSize(s.ptr(), &n);
    if (t == nullptr) throw_py();
    const std::string_view text(t, static_cast<std::size_t>(n));
    if (text.find_first_of("NnIi") != std::string_view::npos) {
      return sink_.fault("Decimal " + std::string(text) + " is not a valid number");
    }
    sink_.number_value(text);
  }

  static std::string repr(PyObject* o) {
    PyObject* r = PyObject_Repr(o);
    if (r == nullptr) {
      PyErr_Clear();
      return "?";
    }
    py::object hold = py::reinterpret_steal<py::object>(r);
    const char* t = PyUnicode_AsUTF8(r);
    if (t == nullptr) {
      PyErr_Clear();
      return "?";
    }
    std::string s(t);
    if (s.size() > 60) s = s.substr(0, 57) + "...";
    return s;
  }

  cr::fact_sink& sink_;
  const walk_options& options_;
  const guide* guide_;
  key_collector* keys_;
  std::size_t cap_;
  std::size_t depth_ = 0;
};

// ============================================================================ report -> dict

// Python strings for the texts that repeat from report to report (ids, titles, statuses,
// section and grade names), made once per ruleset. Only touched with the GIL held.
class string_cache {
 public:
  PyObject* get(std::string_view text) {  // a new reference
    // Looked up by the view itself: titles and cites are long, and a key made for every
    // lookup would allocate per report field.
    auto it = map_.find(text);
    if (it != map_.end()) {
      Py_INCREF(it->second.ptr());
      return it->second.ptr();
    }
    PyObject* o = new_str(text);
    if (map_.size() < max_entries) {
      PyUnicode_InternInPlace(&o);
      map_.emplace(std::string(text), py::reinterpret_borrow<py::object>(o));
    }
    return o;
  }

 private:
  static constexpr std::size_t max_entries = 8192;
  std::unordered_map<std::string, py::object, sv_hash, std::equal_to<>> map_;
};

PyObject* number_from_scaled(std::int64_t scaled) {
  if (scaled % cr::json_value::decimal_scale == 0) {
    return checked(PyLong_FromLongLong(scaled / cr::json_value::decimal_scale));
  }
  const std::string text = cr::json_value::of_decimal(scaled).to_json();
  double d = 0;
  std::from_chars(text.data(), text.data() + text.size(), d);  // as json.loads reads it
  return checked(PyFloat_FromDouble(d));
}

PyObject* json_to_py(const cr::json_value& v) {
  using kind = cr::json_value::kind;
  switch (v.type) {
    case kind::null:
      return new_none();
    case kind::boolean:
      return new_bool(v.b);
    case kind::integer:
      return checked(PyLong_FromLongLong(v.i));
    case kind::decimal:
      return number_from_scaled(v.i);
    case kind::string:
      return new_str(v.s);
    case kind::array: {
      py::object list = steal(PyList_New(static_cast<Py_ssize_t>(v.items.size())));
      for (std::size_t i = 0; i < v.items.size(); ++i) {
        PyList_SET_ITEM(list.ptr(), static_cast<Py_ssize_t>(i), json_to_py(v.items[i]));
      }
      return list.release().ptr();
    }
  }
  return new_none();
}

PyObject* strings_to_py(const std::vector<std::string>& v, string_cache* c = nullptr) {
  py::object list = steal(PyList_New(static_cast<Py_ssize_t>(v.size())));
  for (std::size_t i = 0; i < v.size(); ++i) {
    PyList_SET_ITEM(list.ptr(), static_cast<Py_ssize_t>(i), c ? c->get(v[i]) : new_str(v[i]));
  }
  return list.release().ptr();
}

PyObject* opt_str(string_cache& c, const std::optional<std::string>& s) {
  return s ? c.get(*s) : new_none();
}

PyObject* info_to_py(const cr::ruleset_info& info) {
  py::object d = steal(PyDict_New());
  put(d.ptr(), K.name, new_str(info.name));
  put(d.ptr(), K.title, new_str(info.title));
  put(d.ptr(), K.version, new_str(info.version));
  if (info.source) put(d.ptr(), K.source, new_str(*info.source));
  if (info.effective) put(d.ptr(), K.effective, new_str(*info.effective));
  put(d.ptr(), K.digest, new_str(info.digest));
  return d.release().ptr();
}

// Field for field as report::to_json writes it (lib/eval/report.cpp). `info` is the report's
// `ruleset` object made once (every report of a ruleset carries the same); each report gets a
// copy of it.
PyObject* report_to_py(const cr::report& r, string_cache& c, PyObject* info) {
  py::object d = steal(PyDict_New());
  PyObject* o = d.ptr();
  put(o, K.subject, r.subject ? new_str(*r.subject) : new_none());
  put(o, K.ruleset, PyDict_Copy(info));
  put(o, K.engine, c.get(r.engine));
  put(o, K.asof, c.get(r.asof));

  py::object hazards = steal(PyList_New(static_cast<Py_ssize_t>(r.hazards.size())));
  for (std::size_t i = 0; i < r.hazards.size(); ++i) {
    const cr::hazard_result& h = r.hazards[i];
    py::object hd = steal(PyDict_New());
    PyObject* x = hd.ptr();
    put(x, K.id, c.get(h.id));
    put(x, K.title, c.get(h.title));
    put(x, K.category, c.get(h.category));
    put(x, K.severity, c.get(cr::to_string(h.severity)));
    put(x, K.status, c.get(cr::to_string(h.status)));
    put(x, K.cite, opt_str(c, h.cite));
    py::object rect = steal(PyDict_New());
    put(rect.ptr(), K.action, c.get(h.rectify.action));
    if (h.rectify.within_days) {
      put(rect.ptr(), K.within_days, checked(PyLong_FromLongLong(*h.rectify.within_days)));
    }
    if (h.rectify.due) put(rect.ptr(), K.due, c.get(*h.rectify.due));
    put(x, K.rectify, rect.release().ptr());
    if (h.advice) put(x, K.advice, c.get(*h.advice));
    py::object ev = steal(PyDict_New());
    for (const auto& [path, value] : h.evidence) {
      py::object k = steal(c.get(path));
      put(ev.ptr(), k.ptr(), json_to_py(value));
    }
    put(x, K.evidence, ev.release().ptr());
    if (h.status == cr::hazard_status::undetermined)
      put(x, K.missing, strings_to_py(h.missing, &c));
    PyList_SET_ITEM(hazards.ptr(), static_cast<Py_ssize_t>(i), hd.release().ptr());
  }
  put(o, K.hazards, hazards.release().ptr());

  py::object scores = steal(PyDict_New());
  for (const cr::score_result& s : r.scores) {
    py::object sd = steal(PyDict_New());
    PyObject* x = sd.ptr();
    put(x, K.total, json_to_py(s.total));
    put(x, K.provisional, new_bool(s.provisional));
    py::object sections = steal(PyDict_New());
    for (const auto& [name, value] : s.sections) {
      py::object k = steal(c.get(name));
      put(sections.ptr(), k.ptr(), json_to_py(value));
    }
    put(x, K.sections, sections.release().ptr());
    py::object items = steal(PyList_New(static_cast<Py_ssize_t>(s.items.size())));
    for (std::size_t i = 0; i < s.items.size(); ++i) {
      const cr::item_result& it = s.items[i];
      py::object id = steal(PyDict_New());
      put(id.ptr(), K.id, c.get(it.id));
      put(id.ptr(), K.section, opt_str(c, it.section));
      put(id.ptr(), K.kind, c.get(cr::to_string(it.kind)));
      put(id.ptr(), K.points, json_to_py(it.points));
      put(id.ptr(), K.status, c.get(cr::to_string(it.status)));
      PyList_SET_ITEM(items.ptr(), static_cast<Py_ssize_t>(i), id.release().ptr());
    }
    put(x, K.items, items.release().ptr());
    if (s.provisional) put(x, K.missing, strings_to_py(s.missing, &c));
    py::object k = steal(c.get(s.name));
    put(scores.ptr(), k.ptr(), sd.release().ptr());
  }
  put(o, K.scores, scores.release().ptr());

  py::object grades = steal(PyDict_New());
  for (const cr::grade_result& g : r.grades) {
    py::object gd = steal(PyDict_New());
    put(gd.ptr(), K.value, c.get(g.value()));
    if (g.because) put(gd.ptr(), K.because, c.get(*g.because));
    if (g.outcome == cr::grade_outcome::undetermined)
      put(gd.ptr(), K.missing, strings_to_py(g.missing, &c));
    py::object k = steal(c.get(g.name));
    put(grades.ptr(), k.ptr(), gd.release().ptr());
  }
  put(o, K.grades, grades.release().ptr());

  py::object errors = steal(PyList_New(static_cast<Py_ssize_t>(r.errors.size())));
  for (std::size_t i = 0; i < r.errors.size(); ++i) {
    const cr::record_error& e = r.errors[i];
    py::object ed = steal(PyDict_New());
    if (e.path) put(ed.ptr(), K.path, new_str(*e.path));
    if (e.rule) put(ed.ptr(), K.rule, c.get(*e.rule));
    put(ed.ptr(), K.message, new_str(e.message));
    PyList_SET_ITEM(errors.ptr(), static_cast<Py_ssize_t>(i), ed.release().ptr());
  }
  put(o, K.errors, errors.release().ptr());
  return d.release().ptr();
}

// ======================================================================== threads and options

// Holds the cyclic garbage collector off while reports become dicts and lists: they form no
// cycles, and a collection every 700 new containers would cost a fifth of the conversion.
class gc_pause {
 public:
#if PY_VERSION_HEX >= 0x030A0000
  gc_pause() : was_enabled_(PyGC_Disable()) {}
  ~gc_pause() {
    if (was_enabled_ > 0) PyGC_Enable();
  }
  gc_pause(const gc_pause&) = delete;
  gc_pause& operator=(const gc_pause&) = delete;

 private:
  int was_enabled_;
#endif
};

// Frees converted reports on the batch's threads with the GIL released.
template <class R>
void free_reports(std::vector<std::vector<R>>& reports, unsigned threads) {
  py::gil_scoped_release release;
  cr::parallel_for(reports.size(), threads,
                   [&](std::size_t i) { std::vector<R>().swap(reports[i]); });
}

// Options of one call: asof resolved once (so a batch that runs over midnight states one date),
// a bad asof rejected before any work.
cr::eval_options make_options(const std::string& asof, const std::string& subject,
                              const std::string& each, unsigned threads) {
  cr::eval_options o;
  try {
    o.asof = cr::resolve_asof(asof);
  } catch (const std::invalid_argument& e) {
    throw py::value_error(e.what());
  }
  o.subject = subject;
  o.each = each;
  o.threads = threads;
  return o;
}

// The JSON kind of a Python value, as the engine's messages name kinds.
std::string kind_of(PyObject* o) {
  if (o == Py_None) return "null";
  if (PyUnicode_Check(o)) return "string";
  if (PyBool_Check(o)) return "bool";
  if (PyLong_Check(o) || PyFloat_Check(o)) return "number";
  if (PyDict_Check(o)) return "object";
  if (PyList_Check(o) || PyTuple_Check(o)) return "array";
  if (PyDate_Check(o)) return "date";
  return Py_TYPE(o)->tp_name;
}

// =============================================================================== the ruleset

// What a call reports back to Python as it goes: keys that reach no input (`on_unknown`,
// given the new ones after each chunk is bound, before it is evaluated: a strict caller
// raises there) and progress (`progress(done, total)` after each chunk). Both may be None.
struct call_hooks {
  key_collector keys;
  py::object on_unknown = py::none();
  py::object progress = py::none();

  call_hooks(bool strict, py::object unknown, py::object progress_cb)
      : on_unknown(std::move(unknown)), progress(std::move(progress_cb)) {
    keys.all = strict;
  }
  key_collector* collector() { return on_unknown.is_none() ? nullptr : &keys; }
  void bound() { keys.flush(on_unknown); }
  void done(std::size_t n, std::size_t total) {
    if (!progress.is_none()) progress(n, total);
  }
};

// One record of a batch: bound facts (from a dict; several with `each`) or JSON text.
struct batch_item {
  std::vector<cr::bound_facts> facts;
  std::string_view text;  // into a str/bytes object the batch holds
  bool is_text = false;
};

class core_ruleset {
 public:
  core_ruleset(cr::ruleset rs, cr::limits limits)
      : rs_(std::move(rs)), limits_(limits), cache_(std::make_shared<string_cache>()) {
    walk_.json_depth = static_cast<std::size_t>(limits_.json_depth);
    walk_.json_string = static_cast<std::size_t>(
        std::min<std::uint64_t>(limits_.json_string, UINT32_MAX));  // a fact's longest string
  }

  const cr::ruleset& get() const { return rs_; }

  py::dict info() const { return steal(info_to_py(rs_.info())); }

  py::list inputs() const {
    py::list out;
    for (const cr::input_info& in : rs_.inputs()) {
      py::object d = steal(PyDict_New());
      put(d.ptr(), K.path, new_str(in.path));
      put(d.ptr(), K.type, new_str(in.type));
      if (in.label) put(d.ptr(), K.label, new_str(*in.label));
      if (in.default_value) put(d.ptr(), K.default_, json_to_py(*in.default_value));
      if (in.range) {
        py::object r = steal(PyList_New(2));
        PyList_SET_ITEM(r.ptr(), 0, json_to_py(in.range->first));
        PyList_SET_ITEM(r.ptr(), 1, json_to_py(in.range->second));
        put(d.ptr(), K.range, r.release().ptr());
      }
      if (!in.enum_values.empty()) {
        py::object v = steal(PyList_New(static_cast<Py_ssize_t>(in.enum_values.size())));
        for (std::size_t i = 0; i < in.enum_values.size(); ++i) {
          PyList_SET_ITEM(v.ptr(), static_cast<Py_ssize_t>(i), json_to_py(in.enum_values[i]));
        }
        put(d.ptr(), K.values, v.release().ptr());
      }
      out.append(d);
    }
    return out;
  }

  // ---- evaluation ----

  // One record (dict or JSON text): a report, or with `each` a list of them.
  py::object evaluate(py::handle facts, const std::string& asof, const std::string& subject,
                      const std::string& each, bool strict, py::object on_unknown) {
    if (!PyDict_Check(facts.ptr()) && !PyUnicode_Check(facts.ptr()) &&
        !PyBytes_Check(facts.ptr())) {
      throw py::type_error("facts must be a dict or JSON text (str), got " +
                           type_name(facts.ptr()));
    }
    const cr::eval_options opts = make_options(asof, subject, each, 1);
    py::list one;
    one.append(facts);
    py::object result;
    call_hooks hooks(strict, std::move(on_unknown), py::none());
    run(one, opts, hooks, [&](std::size_t, std::vector<std::vector<cr::report>>& reports) {
      gc_pause pause;
      if (each.empty()) {
        result = steal(report_to_py(reports[0].at(0), *cache_, info_template()));
        return;
      }
      py::list out;
      for (const cr::report& r : reports[0]) {
        out.append(steal(report_to_py(r, *cache_, info_template())));
      }
      result = std::move(out);
    });
    return result;
  }

  // As evaluate_many, but each report as the engine's JSON text (report::to_json).
  py::list evaluate_json(py::handle records, const std::string& asof, const std::string& subject,
                         const std::string& each, unsigned threads, bool strict,
                         py::object on_unknown) {
    const cr::eval_options opts = make_options(asof, subject, each, threads);
    py::list out;
    call_hooks hooks(strict, std::move(on_unknown), py::none());
    // The library's fast writer: each report's JSON written on the threads, no report object.
    run<std::string>(records, opts, hooks,
                     [&](std::size_t, std::vector<std::vector<std::string>>& texts) {
                       for (const auto& v : texts)
                         for (const std::string& t : v) append(out.ptr(), new_str(t));
                     });
    return out;
  }

  py::list evaluate_many(py::handle records, const std::string& asof, const std::string& subject,
                         const std::string& each, unsigned threads, bool strict,
                         py::object on_unknown, py::object progress) {
    const cr::eval_options opts = make_options(asof, subject, each, threads);
    py::list out;
    call_hooks hooks(strict, std::move(on_unknown), std::move(progress));
    run(records, opts, hooks, [&](std::size_t, std::vector<std::vector<cr::report>>& reports) {
      gc_pause pause;
      for (const auto& v : reports) {
        for (const cr::report& r : v) append(out.ptr(), report_to_py(r, *cache_, info_template()));
      }
    });
    return out;
  }

  // evaluate_frame's engine for a batch of records: (column names, columns, record index of
  // each row). With `each`, a record gives as many rows as its list has elements.
  py::tuple evaluate_many_columns(py::handle records, const std::string& asof,
                                  const std::string& subject, const std::string& each,
                                  unsigned threads, bool details, bool strict,
                                  py::object on_unknown, py::object progress) {
    const cr::eval_options opts = make_options(asof, subject, each, threads);
    std::vector<py::object> cols = new_columns(details);
    py::list row_of;
    call_hooks hooks(strict, std::move(on_unknown), std::move(progress));
    run(records, opts, hooks,
        [&](std::size_t first, std::vector<std::vector<cr::report>>& reports) {
          std::vector<const cr::report*> flat;
          for (std::size_t i = 0; i < reports.size(); ++i) {
            for (const cr::report& r : reports[i]) {
              flat.push_back(&r);
              append(row_of.ptr(), PyLong_FromSize_t(first + i));
            }
          }
          append_columns(flat, cols, details);
        });
    return py::make_tuple(column_names(details), py::cast(cols), row_of);
  }

  // evaluate_frame's fast path: columns of a DataFrame, bound row by row without building a
  // dict per row. `paths` are dotted column names; `columns` pairs of (kind, data):
  //   "f" float64 array (NaN missing), "i" int64 array, "b" bool array,
  //   "d" int64 day numbers (INT64_MIN missing), "o" a list of Python objects.
  py::tuple evaluate_columns(const std::vector<std::string>& paths, py::list columns,
                             std::size_t rows, const std::string& asof, const std::string& subject,
                             unsigned threads, bool details, bool strict, py::object on_unknown,
                             py::object progress) {
    const cr::eval_options opts = make_options(asof, subject, "", threads);
    const guide& g = guide_for(subject);
    table t(paths, columns, rows, g);
    walk_options wo = walk_;
    wo.frame = true;
    std::vector<py::object> cols = new_columns(details);
    call_hooks hooks(strict, std::move(on_unknown), std::move(progress));
    for (std::size_t first = 0; first < rows; first += chunk_records) {
      const std::size_t n = std::min(rows - first, chunk_records);
      std::vector<cr::bound_facts> bound;
      bound.reserve(n);
      for (std::size_t r = first; r < first + n; ++r) {
        bound.push_back(rs_.bind(
            [&](cr::fact_sink& sink) {
              walker w(sink, wo, &g, hooks.collector());
              t.emit(sink, w, 0, r, 0);
            },
            opts));
      }
      hooks.bound();
      if (!details) {
        // The columns are the decisions and the scores: nothing traced, no report built.
        std::vector<cr::decisions> decided(n);
        {
          py::gil_scoped_release release;
          cr::parallel_for(n, opts.threads, [&](std::size_t i) {
            rs_.decide(bound[i], opts, decided[i]);
            bound[i] = cr::bound_facts();
          });
        }
        append_decided_columns(decided, cols);
        hooks.done(first + n, rows);
        if (PyErr_CheckSignals() != 0) throw py::error_already_set();
        continue;
      }
      std::vector<cr::report> reports(n);
      {
        py::gil_scoped_release release;
        cr::parallel_for(n, opts.threads, [&](std::size_t i) {
          reports[i] = rs_.evaluate(bound[i], opts);
          bound[i] = cr::bound_facts();
        });
      }
      std::vector<const cr::report*> flat;
      flat.reserve(n);
      for (const auto& r : reports) flat.push_back(&r);
      append_columns(flat, cols, details);
      {
        py::gil_scoped_release release;
        cr::parallel_for(n, opts.threads, [&](std::size_t i) { reports[i] = cr::report(); });
      }
      hooks.done(first + n, rows);
      if (PyErr_CheckSignals() != 0) throw py::error_already_set();
    }
    return py::make_tuple(column_names(details), py::cast(cols));
  }

  // ---- the rest of the API ----

  std::optional<std::string> explain(py::handle facts, const std::string& rule,
                                     const std::string& asof, const std::string& subject) {
    const cr::eval_options opts = make_options(asof, subject, "", 1);
    if (PyDict_Check(facts.ptr())) {
      cr::bound_facts bound = bind_dict(facts.ptr(), opts, nullptr);
      py::gil_scoped_release release;
      return rs_.explain(bound, rule, opts);
    }
    if (!PyUnicode_Check(facts.ptr()) && !PyBytes_Check(facts.ptr()))
      throw py::type_error("facts must be a dict or JSON text (str), got " +
                           type_name(facts.ptr()));
    const std::string text(text_of(facts.ptr()));
    py::gil_scoped_release release;
    return rs_.explain(text, rule, opts);
  }

  // Every key of a dict record that reaches no declared input (as `strict=True` sees them),
  // for records that came as JSON text and were parsed in Python.
  py::list unknown_keys(py::handle facts, const std::string& subject, const std::string& each) {
    if (!PyDict_Check(facts.ptr())) throw py::type_error("facts must be a dict");
    const cr::eval_options opts = make_options("", subject, each, 1);
    key_collector keys;
    keys.all = true;
    if (each.empty()) {
      bind_dict(facts.ptr(), opts, &keys);
    } else {
      bind_each(facts.ptr(), split_dotted(each), opts, &keys);
    }
    py::list out;
    for (const std::string& p : keys.fresh) out.append(py::str(p));
    return out;
  }

  std::string json_schema(bool strict) const { return rs_.json_schema(strict); }

  // [(name, canonical path, bytes)], the top file first.
  py::list source_files() const {
    py::list out;
    for (const auto& f : rs_.source_files())
      out.append(py::make_tuple(f.name, f.path, py::bytes(f.text)));
    return out;
  }

  py::dict run_tests() const {
    cr::test_run run;
    {
      py::gil_scoped_release release;
      run = rs_.run_tests();
    }
    py::list cases;
    for (const cr::test_case_result& t : run.cases) {
      py::object d = steal(PyDict_New());
      put(d.ptr(), K.name, new_str(t.name));
      put(d.ptr(), K.file, new_str(t.file));
      put(d.ptr(), K.line, checked(PyLong_FromLong(t.line)));
      put(d.ptr(), K.passed, new_bool(t.passed));
      put(d.ptr(), K.failures, strings_to_py(t.failures));
      cases.append(d);
    }
    py::object out = steal(PyDict_New());
    put(out.ptr(), K.cases, cases.release().ptr());
    put(out.ptr(), K.uncovered, strings_to_py(run.uncovered));
    return py::reinterpret_borrow<py::dict>(out);
  }

 private:
  static std::string_view text_of(PyObject* o) {
    if (PyBytes_Check(o)) {
      return {PyBytes_AS_STRING(o), static_cast<std::size_t>(PyBytes_GET_SIZE(o))};
    }
    Py_ssize_t n = 0;
    const char* s = PyUnicode_AsUTF8AndSize(o, &n);
    if (s == nullptr) throw_py();  // lone surrogates: UnicodeEncodeError
    return {s, static_cast<std::size_t>(n)};
  }

  // A record the engine could not read at all, with one error at `pointer`.
  cr::bound_facts unreadable(std::string pointer, std::string message,
                             const cr::eval_options& opts) const {
    cr::bound_facts b = rs_.bind([&](cr::fact_sink& sink) { sink.fault(message); }, opts);
    b.prefix_error_paths(pointer);
    return b;
  }

  cr::bound_facts bind_dict(PyObject* d, const cr::eval_options& opts, key_collector* keys) {
    const guide& g = guide_for(opts.subject);
    return rs_.bind([&](cr::fact_sink& sink) { walker(sink, walk_, &g, keys).record(d); }, opts);
  }

  PyObject* info_template() {
    if (!info_) info_ = steal(info_to_py(rs_.info()));
    return info_.ptr();
  }

  // The guide of this ruleset's inputs plus a subject path, made once per subject path.
  const guide& guide_for(const std::string& subject) {
    auto it = guides_.find(subject);
    if (it == guides_.end()) {
      std::vector<std::string> path = split_dotted(subject.empty() ? std::string("id") : subject);
      it = guides_.emplace(subject, std::make_shared<guide>(rs_.inputs(), path)).first;
    }
    return *it->second;
  }

  // `each` on a dict: one record per element of the list at the path, as the engine does it
  // for JSON text (lib/facts/json_reader.cpp, each_router): an absent or null path, or one
  // that is not a list, gives one unreadable record; a non-object element an
  // unreadable record at its pointer; errors inside an element get the element's pointer.
  std::vector<cr::bound_facts> bind_each(PyObject* d, const std::vector<std::string>& path,
                                         const cr::eval_options& opts, key_collector* keys) {
    std::vector<cr::bound_facts> out;
    std::string pointer;
    std::string dotted;
    std::string full_pointer, full_dotted;
    for (const auto& seg : path) {
      cr::append_json_pointer(full_pointer, seg);
      full_dotted += (full_dotted.empty() ? "" : ".") + seg;
    }
    // An absent or null PATH is not a list: that record's error, as for JSON text.
    auto none_found = [&] {
      out.push_back(
          unreadable(full_pointer, "expected a list at `" + full_dotted + "`, found none", opts));
    };
    PyObject* cur = d;
    for (std::size_t level = 0; level < path.size(); ++level) {
      cr::append_json_pointer(pointer, path[level]);
      if (level) dotted += '.';
      dotted += path[level];
      PyObject* v = PyDict_GetItemWithError(
          cur, steal(PyUnicode_FromStringAndSize(path[level].data(),
                                                 static_cast<Py_ssize_t>(path[level].size())))
                   .ptr());
      if (v == nullptr) {
        if (PyErr_Occurred()) throw_py();
        none_found();
        return out;
      }
      if (v == Py_None || is_nat_or_na(v)) {
        none_found();
        return out;
      }
      const bool last = level + 1 == path.size();
      if (!last) {
        if (!PyDict_Check(v)) {
          out.push_back(unreadable(
              pointer, "expected an object for `" + dotted + "`, got " + kind_of(v), opts));
          return out;
        }
        cur = v;
        continue;
      }
      py::object list = py::reinterpret_borrow<py::object>(v);
      if (type_name(v) == "numpy.ndarray") list = steal(PyObject_CallMethod(v, "tolist", nullptr));
      if (!PyList_Check(list.ptr()) && !PyTuple_Check(list.ptr())) {
        out.push_back(
            unreadable(pointer, "expected a list for `" + dotted + "`, got " + kind_of(v), opts));
        return out;
      }
      py::object fast = steal(PySequence_Fast(list.ptr(), "a list"));
      const Py_ssize_t n = PySequence_Fast_GET_SIZE(fast.ptr());
      out.reserve(static_cast<std::size_t>(n));
      for (Py_ssize_t i = 0; i < n; ++i) {
        PyObject* e = PySequence_Fast_GET_ITEM(fast.ptr(), i);
        const std::string at = pointer + "/" + std::to_string(i);
        if (!PyDict_Check(e)) {
          out.push_back(unreadable(at, "expected a JSON object, got " + kind_of(e), opts));
          continue;
        }
        cr::bound_facts b = bind_dict(e, opts, keys);
        b.prefix_error_paths(at);
        out.push_back(std::move(b));
      }
    }
    return out;
  }

  // Records are handled in chunks, so that memory stays bounded whatever the batch's length:
  // a chunk is bound with the GIL held, evaluated on threads with the GIL released, handed to
  // `convert(index of its first record, reports)` with the GIL held, and freed on the threads.
  static constexpr std::size_t chunk_records = 4096;

  // R: cr::report (report objects), or std::string (each report's JSON, by the fast writer).
  template <class R = cr::report, class Convert>
  void run(py::handle records, const cr::eval_options& opts, call_hooks& hooks, Convert&& convert) {
    if (PyUnicode_Check(records.ptr()) || PyBytes_Check(records.ptr()) ||
        PyDict_Check(records.ptr())) {
      throw py::type_error("records must be an iterable of dicts or JSON texts, got " +
                           type_name(records.ptr()));
    }
    py::object seq = steal(PySequence_Fast(records.ptr(), "records must be iterable"));
    const auto total = static_cast<std::size_t>(PySequence_Fast_GET_SIZE(seq.ptr()));
    const std::vector<std::string> each_path =
        opts.each.empty() ? std::vector<std::string>{} : split_dotted(opts.each);
    for (std::size_t first = 0; first == 0 || first < total; first += chunk_records) {
      const std::size_t n = std::min(total - first, chunk_records);
      std::vector<batch_item> items(n);
      for (std::size_t k = 0; k < n; ++k) {
        const std::size_t i = first + k;
        PyObject* rec = PySequence_Fast_GET_ITEM(seq.ptr(), static_cast<Py_ssize_t>(i));
        bind_item(rec, i, each_path, opts, items[k], hooks.collector());
      }
      hooks.bound();
      std::vector<std::vector<R>> reports(n);
      {
        // One record is evaluated with the GIL held: releasing it for a few microseconds
        // would let another busy Python thread keep it for a whole switch interval.
        std::optional<py::gil_scoped_release> release;
        if (total > 1) release.emplace();
        cr::parallel_for(n, opts.threads, [&](std::size_t k) {
          batch_item& item = items[k];
          if constexpr (std::is_same_v<R, std::string>) {
            if (item.is_text) {
              const std::vector<cr::batch_record> one{{std::string(item.text), 0, 0, false}};
              const cr::batch_text t = rs_.evaluate_text(one, opts);
              // One line per report (several with each=); report JSON holds no raw newline.
              std::size_t start = 0;
              for (std::uint64_t o = 0; o < t.outputs; ++o) {
                const std::size_t end = std::min(t.text.find('\n', start), t.text.size());
                reports[k].push_back(t.text.substr(start, end - start));
                start = end + 1;
              }
              return;
            }
            reports[k].reserve(item.facts.size());
            for (const cr::bound_facts& f : item.facts)
              reports[k].push_back(rs_.evaluate_json(f, opts));
          } else {
            if (item.is_text) {
              reports[k] = rs_.evaluate_record(item.text, opts);
              return;
            }
            reports[k].reserve(item.facts.size());
            for (const cr::bound_facts& f : item.facts) reports[k].push_back(rs_.evaluate(f, opts));
          }
          std::vector<cr::bound_facts>().swap(item.facts);  // freed here, on this thread
        });
      }
      convert(first, reports);
      if (total > 1) free_reports(reports, opts.threads);
      hooks.done(first + n, total);
      if (n == 0) break;
      // Ctrl-C between chunks, not only after the whole batch.
      if (PyErr_CheckSignals() != 0) throw py::error_already_set();
    }
  }

  // One record of a batch: a dict is bound now (GIL held); JSON text is kept as a view into
  // its str (held by the batch's sequence) and bound on the threads.
  void bind_item(PyObject* rec, std::size_t i, const std::vector<std::string>& each_path,
                 const cr::eval_options& opts, batch_item& item, key_collector* keys) {
    if (PyDict_Check(rec)) {
      if (each_path.empty()) {
        item.facts.push_back(bind_dict(rec, opts, keys));
      } else {
        item.facts = bind_each(rec, each_path, opts, keys);
      }
      return;
    }
    if (PyUnicode_Check(rec) || PyBytes_Check(rec)) {
      Py_ssize_t len = 0;
      const char* s = nullptr;
      if (PyBytes_Check(rec)) {
        s = PyBytes_AS_STRING(rec);
        len = PyBytes_GET_SIZE(rec);
      } else {
        s = PyUnicode_AsUTF8AndSize(rec, &len);
      }
      if (s == nullptr) {
        PyErr_Clear();
        item.facts.push_back(unreadable(
            "", "record " + std::to_string(i) + ": invalid UTF-8 in the text (a lone surrogate)",
            opts));
        return;
      }
      item.text = std::string_view(s, static_cast<std::size_t>(len));
      item.is_text = true;
      return;
    }
    item.facts.push_back(unreadable(
        "", "record " + std::to_string(i) + ": expected a dict or JSON text, got " + type_name(rec),
        opts));
  }

  // ---- evaluate_frame ----

  // Output columns as the CLI's csv has them (the library's report columns). An unreadable
  // record has None where the report holds nothing. With `details`, after them:
  // missing.<hazard id> (the missing facts' paths, [] unless undetermined), because.<grade>
  // (the matched line, or None) and errors.messages (each error as "where: message").
  py::list column_names(bool details) {
    py::list names;
    for (const auto& c : columns_) names.append(py::str(c.name));
    if (details) {
      for (const auto& h : rs_.hazards()) names.append(py::str("missing." + h.id));
      for (const auto& g : rs_.grades()) names.append(py::str("because." + g.name));
      names.append(py::str("errors.messages"));
    }
    return names;
  }

  std::vector<py::object> new_columns(bool details) {
    std::size_t n = columns_.size();
    if (details) n += rs_.hazards().size() + rs_.grades().size() + 1;
    std::vector<py::object> cols;
    for (std::size_t i = 0; i < n; ++i) cols.push_back(steal(PyList_New(0)));
    return cols;
  }

  void append_columns(const std::vector<const cr::report*>& reports, std::vector<py::object>& cols,
                      bool details) {
    using column_kind = cr::report_column::kind;
    string_cache& c = *cache_;
    const std::size_t hazards = rs_.hazards().size();
    const std::size_t grades = rs_.grades().size();
    for (const cr::report* rp : reports) {
      const cr::report& r = *rp;
      for (std::size_t col = 0; col < columns_.size(); ++col) {
        const cr::report_column& rc = columns_[col];
        PyObject* v = nullptr;
        if (rc.what == column_kind::subject) {
          v = r.subject ? new_str(*r.subject) : new_none();
        } else if (rc.what == column_kind::errors) {
          v = PyLong_FromSize_t(r.errors.size());
        } else if (r.unreadable) {
          v = new_none();
        } else if (rc.what == column_kind::hazard) {
          v = c.get(cr::to_string(r.hazards[rc.index].status));
        } else if (rc.what == column_kind::score) {
          v = json_to_py(r.scores[rc.index].total);
        } else if (rc.what == column_kind::section) {
          v = json_to_py(r.scores[rc.index].sections[rc.section].second);
        } else {
          v = c.get(r.grades[rc.index].value());
        }
        append(cols[col].ptr(), v);
      }
      if (!details) continue;
      std::size_t col = columns_.size();
      for (std::size_t i = 0; i < hazards; ++i, ++col) {
        append(cols[col].ptr(),
               r.unreadable ? new_none() : strings_to_py(r.hazards[i].missing, &c));
      }
      for (std::size_t i = 0; i < grades; ++i, ++col) {
        PyObject* v = nullptr;
        if (r.unreadable || !r.grades[i].because) {
          v = new_none();
        } else {
          v = c.get(*r.grades[i].because);
        }
        append(cols[col].ptr(), v);
      }
      py::object messages = steal(PyList_New(static_cast<Py_ssize_t>(r.errors.size())));
      for (std::size_t i = 0; i < r.errors.size(); ++i) {
        PyList_SET_ITEM(messages.ptr(), static_cast<Py_ssize_t>(i),
                        new_str(error_line(r.errors[i])));
      }
      append(cols[col].ptr(), messages.release().ptr());
    }
  }

  // The columns of columns() from decisions: what append_columns takes from reports when no
  // details are asked for.
  void append_decided_columns(const std::vector<cr::decisions>& decided,
                              std::vector<py::object>& cols) {
    using column_kind = cr::report_column::kind;
    string_cache& c = *cache_;
    // Where each score's cells start in decisions::scores.
    std::vector<std::size_t> score_at;
    for (std::size_t i = 0, at = 0; i < rs_.scores().size(); ++i) {
      score_at.push_back(at);
      at += 1 + rs_.scores()[i].sections.size();
    }
    auto number = [](std::int64_t scaled) {
      return json_to_py(scaled % cr::json_value::decimal_scale == 0
                            ? cr::json_value::of_int(scaled / cr::json_value::decimal_scale)
                            : cr::json_value::of_decimal(scaled));
    };
    for (const cr::decisions& d : decided) {
      for (std::size_t col = 0; col < columns_.size(); ++col) {
        const cr::report_column& rc = columns_[col];
        PyObject* v = nullptr;
        if (rc.what == column_kind::subject) {
          v = d.subject ? new_str(*d.subject) : new_none();
        } else if (rc.what == column_kind::errors) {
          v = PyLong_FromSize_t(d.errors);
        } else if (d.unreadable) {
          v = new_none();
        } else if (rc.what == column_kind::hazard) {
          v = c.get(cr::to_string(d.hazards[rc.index]));
        } else if (rc.what == column_kind::score) {
          v = number(d.scores[score_at[rc.index]]);
        } else if (rc.what == column_kind::section) {
          v = number(d.scores[score_at[rc.index] + 1 + rc.section]);
        } else {
          v = c.get(d.grades[rc.index]);
        }
        append(cols[col].ptr(), v);
      }
    }
  }

  // One record error as a line: "rule A4.1 at /facility/beds: message", "/facility/beds:
  // message", "rule A4.1: message", or the message alone for the whole record.
  static std::string error_line(const cr::record_error& e) {
    std::string where;
    if (e.rule) where = "rule " + *e.rule;
    if (e.path && !e.path->empty()) where += (where.empty() ? "" : " at ") + *e.path;
    return where.empty() ? e.message : where + ": " + e.message;
  }

  // DataFrame columns as a tree of dotted names, emitted row by row.
  class table {
   public:
    table(const std::vector<std::string>& paths, py::list columns, std::size_t rows,
          const guide& g) {
      if (paths.size() != columns.size())
        throw py::value_error("paths and columns differ in length");
      nodes_.emplace_back();
      cols_.resize(paths.size());
      for (std::size_t c = 0; c < paths.size(); ++c) {
        load(cols_[c], columns[c], rows);
        cols_[c].edge = g.find(split_dotted(paths[c]));
        std::size_t node = 0;
        for (const std::string& seg : split_dotted(paths[c])) {
          std::size_t next = 0;
          for (std::size_t k : nodes_[node].kids) {
            if (nodes_[k].name == seg) next = k;
          }
          if (next == 0) {
            if (nodes_[node].column >= 0) overlap(paths[c]);
            nodes_.push_back({seg, -1, {}});
            next = nodes_.size() - 1;
            nodes_[node].kids.push_back(next);
          }
          node = next;
        }
        if (nodes_[node].column >= 0 || !nodes_[node].kids.empty()) overlap(paths[c]);
        nodes_[node].column = static_cast<int>(c);
      }
    }

    // The object at `node` for row `r` (`depth`: objects open around it).
    void emit(cr::fact_sink& sink, walker& w, std::size_t node, std::size_t r,
              std::size_t depth) const {
      sink.begin_object();
      for (std::size_t k : nodes_[node].kids) {
        const tnode& n = nodes_[k];
        if (n.column >= 0) {
          const column& col = cols_[static_cast<std::size_t>(n.column)];
          if (!present(col, r)) continue;
          sink.key(n.name);
          cell(sink, w, col, r, depth + 1);
        } else if (any_present(k, r)) {
          sink.key(n.name);
          emit(sink, w, k, r, depth + 1);
        }
      }
      sink.end_object();
    }

   private:
    struct tnode {
      std::string name;
      int column = -1;
      std::vector<std::size_t> kids;
    };
    struct column {
      char kind = 'o';
      py::object keep;  // the array or list
      const double* f = nullptr;
      const std::int64_t* i = nullptr;
      const bool* b = nullptr;
      PyObject** o = nullptr;
      const guide::edge* edge = nullptr;  // how the ruleset reads the column's objects
    };

    [[noreturn]] static void overlap(const std::string& path) {
      throw py::value_error("column `" + path +
                            "` overlaps another column (one names an object the other is in)");
    }

    static void load(column& c, py::handle spec, std::size_t rows) {
      auto pair = py::reinterpret_borrow<py::tuple>(spec);
      const std::string kind = py::cast<std::string>(pair[0]);
      c.kind = kind.empty() ? 'o' : kind[0];
      auto check = [&](const py::array& a) {
        if (a.ndim() != 1 || static_cast<std::size_t>(a.shape(0)) != rows) {
          throw py::value_error("a column's length differs from the frame's");
        }
      };
      switch (c.kind) {
        case 'f': {
          auto a = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(pair[1]);
          if (!a) throw_py();
          check(a);
          c.f = a.data();
          c.keep = a;
          break;
        }
        case 'i':
        case 'd': {
          auto a =
              py::array_t<std::int64_t, py::array::c_style | py::array::forcecast>::ensure(pair[1]);
          if (!a) throw_py();
          check(a);
          c.i = a.data();
          c.keep = a;
          break;
        }
        case 'b': {
          auto a = py::array_t<bool, py::array::c_style | py::array::forcecast>::ensure(pair[1]);
          if (!a) throw_py();
          check(a);
          c.b = a.data();
          c.keep = a;
          break;
        }
        default: {
          c.kind = 'o';
          py::object fast = steal(PySequence_Fast(py::object(pair[1]).ptr(), "a column"));
          if (static_cast<std::size_t>(PySequence_Fast_GET_SIZE(fast.ptr())) != rows) {
            throw py::value_error("a column's length differs from the frame's");
          }
          c.o = PySequence_Fast_ITEMS(fast.ptr());
          c.keep = fast;
        }
      }
    }

    static bool present(const column& c, std::size_t r) {
      switch (c.kind) {
        case 'f':
          return !std::isnan(c.f[r]);
        case 'd':
          return c.i[r] != INT64_MIN;
        case 'i':
        case 'b':
          return true;
        default:
          return !frame_missing(c.o[r]);
      }
    }

    bool any_present(std::size_t node, std::size_t r) const {
      const tnode& n = nodes_[node];
      if (n.column >= 0) return present(cols_[static_cast<std::size_t>(n.column)], r);
      for (std::size_t k : n.kids) {
        if (any_present(k, r)) return true;
      }
      return false;
    }

    static void cell(cr::fact_sink& sink, walker& w, const column& c, std::size_t r,
                     std::size_t depth) {
      switch (c.kind) {
        case 'f': {
          const double d = c.f[r];
          if (std::isinf(d)) return sink.fault("infinity is not a valid number");
          char* s = PyOS_double_to_string(d, 'r', 0, Py_DTSF_ADD_DOT_0, nullptr);
          if (s == nullptr) throw_py();
          sink.number_value(s);
          PyMem_Free(s);
          return;
        }
        case 'i': {
          char buf[24];
          const auto res = std::to_chars(buf, buf + sizeof buf, c.i[r]);
          return sink.number_value(std::string_view(buf, static_cast<std::size_t>(res.ptr - buf)));
        }
        case 'b':
          return sink.bool_value(c.b[r]);
        case 'd':
          return sink.date_value(c.i[r]);
        default:
          w.set_depth(depth);
          w.guided(c.o[r], c.edge);
      }
    }

    std::vector<tnode> nodes_;
    std::vector<column> cols_;
  };

  cr::ruleset rs_;
  cr::limits limits_;
  walk_options walk_;
  std::shared_ptr<string_cache> cache_;
  std::vector<cr::report_column> columns_ = rs_.columns();
  std::unordered_map<std::string, std::shared_ptr<guide>> guides_;
  py::object info_;
};

// ============================================================================== compilation

cr::compile_options make_compile_options(
    const std::vector<std::string>& import_roots,
    const std::vector<std::pair<std::string, std::string>>& limits, const std::string& name) {
  cr::compile_options o;
  o.import_roots = import_roots;
  o.name = name;
  for (const auto& [k, v] : limits) {
    std::string error;
    if (!o.limits.set(k, v, error)) throw py::value_error(error);
  }
  return o;
}

py::list diagnostics_to_py(const std::vector<cr::diagnostic>& diags) {
  py::list out;
  for (const cr::diagnostic& d : diags) {
    py::object x = steal(PyDict_New());
    put(x.ptr(), K.file, new_str(d.file));
    put(x.ptr(), K.line, checked(PyLong_FromLong(d.line)));
    put(x.ptr(), K.column, checked(PyLong_FromLong(d.column)));
    put(x.ptr(), K.severity, new_str(d.severity));
    put(x.ptr(), K.message, new_str(d.message));
    put(x.ptr(), K.rendered, new_str(d.rendered));
    out.append(x);
  }
  return out;
}

// compile_result for Python: `ruleset` is None when compilation failed.
struct core_compile_result {
  std::optional<core_ruleset> ruleset;
  py::list diagnostics;
  std::string rendered;
  std::size_t error_count = 0;
  std::size_t dropped = 0;
};

core_compile_result wrap(const cr::compile_result& r, const cr::compile_options& o) {
  core_compile_result out;
  if (r.ok()) out.ruleset.emplace(r.value(), o.limits);
  out.diagnostics = diagnostics_to_py(r.diagnostics());
  out.rendered = r.rendered();
  out.error_count = r.error_count();
  out.dropped = r.dropped();
  return out;
}

}  // namespace

// ================================================================================== module

void bind_ledger(py::module_& m);  // ledger.cpp

PYBIND11_MODULE(_core, m) {
  PyDateTime_IMPORT;
  if (PyDateTimeAPI == nullptr) throw py::error_already_set();
  K.init();

  bind_ledger(m);
  m.doc() =
      "The carerules engine, bound 1:1 from C++ (include/carerules/). Use the `carerules`\n"
      "package, not this module: it checks arguments, raises CompileError and pickles.";
  m.attr("version") = cr::version_string;
  m.attr("engine") = std::string("carerules ") + cr::version_string;

  py::class_<core_ruleset>(m, "Ruleset",
                           "A compiled ruleset (immutable; safe to share across threads).")
      .def_property_readonly("name", [](const core_ruleset& r) { return r.get().name(); })
      .def_property_readonly("title", [](const core_ruleset& r) { return r.get().title(); })
      .def_property_readonly("version", [](const core_ruleset& r) { return r.get().version(); })
      .def_property_readonly("digest", [](const core_ruleset& r) { return r.get().digest(); })
      .def_property_readonly("info", &core_ruleset::info,
                             "The report's `ruleset` object: name, title, version, "
                             "source and effective (when declared), digest.")
      .def_property_readonly(
          "files",
          [](const core_ruleset& r) {
            py::list out;
            for (const cr::file_info& f : r.get().files()) {
              py::dict d;
              d["file"] = f.file;
              d["name"] = f.name;
              d["version"] = f.version;
              d["digest"] = f.digest;
              out.append(d);
            }
            return out;
          },
          "Every file of the ruleset, the top file first: dicts with file, name, version and "
          "digest (of that file alone).")
      .def_property_readonly("inputs", &core_ruleset::inputs,
                             "Declared inputs: dicts with path, type and, where declared, "
                             "label, default, range and values (enums).")
      .def_property_readonly(
          "hazards",
          [](const core_ruleset& r) {
            py::list out;
            for (const cr::hazard_info& h : r.get().hazards()) {
              py::dict d;
              d["id"] = h.id;
              d["title"] = h.title;
              d["category"] = h.category;
              d["severity"] = h.severity;
              d["cite"] = h.cite ? py::object(py::str(*h.cite)) : py::object(py::none());
              d["action"] = h.action;
              d["within_days"] =
                  h.within_days ? py::object(py::int_(*h.within_days)) : py::object(py::none());
              out.append(d);
            }
            return out;
          },
          "The hazards in report order: dicts with id, title, category, severity, cite, action "
          "and within_days (None when the rule gives no days).")
      .def_property_readonly(
          "grades",
          [](const core_ruleset& r) {
            py::list out;
            for (const cr::grade_info& g : r.get().grades()) {
              py::dict d;
              d["name"] = g.name;
              d["values"] = g.values;
              out.append(d);
            }
            return out;
          },
          "The grades in report order: dicts with name and values (the scale, lowest first).")
      .def_property_readonly(
          "scores",
          [](const core_ruleset& r) {
            py::list out;
            for (const cr::score_info& sc : r.get().scores()) {
              py::dict d;
              d["name"] = sc.name;
              d["sections"] = sc.sections;
              out.append(d);
            }
            return out;
          },
          "The scores in report order: dicts with name and sections.")
      .def("evaluate", &core_ruleset::evaluate, py::arg("facts"), py::arg("asof") = "",
           py::arg("subject") = "", py::arg("each") = "", py::arg("strict") = false,
           py::arg("on_unknown") = py::none(),
           "Evaluates one record (dict or JSON text): a report dict, or a list of them "
           "with `each`. on_unknown(paths) is called with keys that reach no input (flat "
           "dotted keys; every key when strict).")
      .def("evaluate_many", &core_ruleset::evaluate_many, py::arg("records"), py::arg("asof") = "",
           py::arg("subject") = "", py::arg("each") = "", py::arg("threads") = 0u,
           py::arg("strict") = false, py::arg("on_unknown") = py::none(),
           py::arg("progress") = py::none(),
           "Evaluates records (dicts or JSON texts) on `threads` threads (0: every core), the "
           "GIL released; reports in input order. progress(done, total) after each chunk.")
      .def("evaluate_json", &core_ruleset::evaluate_json, py::arg("records"), py::arg("asof") = "",
           py::arg("subject") = "", py::arg("each") = "", py::arg("threads") = 0u,
           py::arg("strict") = false, py::arg("on_unknown") = py::none(),
           "As evaluate_many, but each report as the engine's JSON text.")
      .def("evaluate_many_columns", &core_ruleset::evaluate_many_columns, py::arg("records"),
           py::arg("asof") = "", py::arg("subject") = "", py::arg("each") = "",
           py::arg("threads") = 0u, py::arg("details") = false, py::arg("strict") = false,
           py::arg("on_unknown") = py::none(), py::arg("progress") = py::none(),
           "As evaluate_many, but returns (column names, columns, record index of each row) "
           "with evaluate_frame's columns.")
      .def("evaluate_columns", &core_ruleset::evaluate_columns, py::arg("paths"),
           py::arg("columns"), py::arg("rows"), py::arg("asof") = "", py::arg("subject") = "",
           py::arg("threads") = 0u, py::arg("details") = false, py::arg("strict") = false,
           py::arg("on_unknown") = py::none(), py::arg("progress") = py::none(),
           "evaluate_frame's fast path: binds columns (kind, data) named by dotted paths, row "
           "by row; returns (column names, columns).")
      .def("unknown_keys", &core_ruleset::unknown_keys, py::arg("facts"), py::arg("subject") = "",
           py::arg("each") = "",
           "Every key of a dict record that reaches no declared input, as dotted paths.")
      .def("explain", &core_ruleset::explain, py::arg("facts"), py::arg("rule"),
           py::arg("asof") = "", py::arg("subject") = "",
           "The text of `carerules explain`, or None when nothing has that name.")
      .def("json_schema", &core_ruleset::json_schema, py::arg("strict") = false,
           "The inputs as JSON Schema text; strict refuses undeclared keys.")
      .def("source_files", &core_ruleset::source_files,
           "[(name, canonical path, bytes)] of the compilation, the top file first.")
      .def("run_tests", &core_ruleset::run_tests,
           "Runs the ruleset's test blocks: {'cases': [...], 'uncovered': [...]}.");

  py::class_<core_compile_result>(m, "CompileResult", "What compile_file/compile_source give.")
      .def_property_readonly("ok",
                             [](const core_compile_result& r) { return r.ruleset.has_value(); })
      .def_property_readonly("ruleset",
                             [](const core_compile_result& r) -> py::object {
                               if (!r.ruleset) return py::none();
                               return py::cast(*r.ruleset);
                             })
      .def_readonly("diagnostics", &core_compile_result::diagnostics)
      .def_readonly("rendered", &core_compile_result::rendered)
      .def_readonly("error_count", &core_compile_result::error_count)
      .def_readonly("dropped", &core_compile_result::dropped);

  m.def(
      "compile_file",
      [](const std::string& path, const std::vector<std::string>& import_roots,
         const std::vector<std::pair<std::string, std::string>>& limits) {
        const cr::compile_options o = make_compile_options(import_roots, limits, "<input>");
        cr::compile_result r = [&] {
          py::gil_scoped_release release;
          return cr::compile_file(path, o);
        }();
        return wrap(r, o);
      },
      py::arg("path"), py::arg("import_roots") = std::vector<std::string>{},
      py::arg("limits") = std::vector<std::pair<std::string, std::string>>{},
      "Compiles a ruleset file and its imports. limits: (name, decimal text) pairs.");
  m.def(
      "compile_source",
      [](py::bytes text, const std::string& name, const std::vector<std::string>& import_roots,
         const std::vector<std::pair<std::string, std::string>>& limits,
         const std::vector<std::pair<std::string, py::bytes>>& files) {
        cr::compile_options o = make_compile_options(import_roots, limits, name);
        for (const auto& [path, bytes] : files) o.files.emplace_back(path, std::string(bytes));
        const std::string source = text;
        cr::compile_result r = [&] {
          py::gil_scoped_release release;
          return cr::compile_source(source, o);
        }();
        return wrap(r, o);
      },
      py::arg("text"), py::arg("name") = "<input>",
      py::arg("import_roots") = std::vector<std::string>{},
      py::arg("limits") = std::vector<std::pair<std::string, std::string>>{},
      py::arg("files") = std::vector<std::pair<std::string, py::bytes>>{},
      "Compiles ruleset text (UTF-8 bytes); the first import root stands for its directory.\n"
      "files: (canonical path, bytes) pairs read instead of the disk.");
  m.def(
      "today", [] { return cr::resolve_asof(""); },
      "The host's local date, YYYY-MM-DD (the default asof).");
}
