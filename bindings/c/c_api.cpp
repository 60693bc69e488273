// The C ABI over the public C++ API (include/carerules/). Every entry point catches every
// exception: nothing but a status crosses the boundary.
#include "carerules/c_api.h"

#include <boost/json.hpp>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <new>
#include <stdexcept>
#include <string>
#include <string_view>

#include "carerules/carerules.hpp"

struct cr_ruleset {
  carerules::ruleset rs;
};

namespace {

namespace json = boost::json;

// A status and its message, thrown inside an entry point and turned into its return value.
struct failure {
  cr_status status;
  std::string message;
  std::vector<carerules::diagnostic> diagnostics;
};

constexpr std::size_t options_max_bytes = 1u << 20;

// A string the caller frees with cr_string_free.
char* give(std::string_view s) {
  char* out = static_cast<char*>(std::malloc(s.size() + 1));
  if (out == nullptr) throw std::bad_alloc();
  std::memcpy(out, s.data(), s.size());
  out[s.size()] = '\0';
  return out;
}

const char* status_name(cr_status s) {
  switch (s) {
    case CR_OK:
      return "ok";
    case CR_COMPILE_ERROR:
      return "compile_error";
    case CR_USAGE_ERROR:
      return "usage_error";
    case CR_IO_ERROR:
      return "io_error";
    case CR_LIMIT:
      return "limit";
    case CR_INTERNAL:
      return "internal";
  }
  return "internal";
}

// Compact JSON, written in order: it places the commas, append_json_string escapes.
class json_writer {
 public:
  std::string text;

  void open(char bracket) {
    comma();
    text += bracket;
    first_ = true;
  }
  void close(char bracket) {
    text += bracket;
    first_ = false;
  }
  void key(std::string_view k) {
    comma();
    carerules::append_json_string(text, k);
    text += ':';
    first_ = true;
  }
  void string(std::string_view v) {
    comma();
    carerules::append_json_string(text, v);
  }
  void raw(std::string_view json) {
    comma();
    text += json;
  }
  void field(std::string_view k, std::string_view v) {
    key(k);
    string(v);
  }
  // "k": [{…}, …], one object per element, filled by `fields`.
  template <class T, class F>
  void objects(std::string_view k, const std::vector<T>& elements, F fields) {
    key(k);
    open('[');
    for (const auto& e : elements) {
      open('{');
      fields(e);
      close('}');
    }
    close(']');
  }
  void strings(std::string_view k, const std::vector<std::string>& values) {
    key(k);
    open('[');
    for (const auto& v : values) string(v);
    close(']');
  }

 private:
  void comma() {
    if (!first_) text += ',';
    first_ = false;
  }
  bool first_ = true;
};

std::string status_json(cr_status s, std::string_view message,
                        const std::vector<carerules::diagnostic>& diags) {
  json_writer w;
  w.open('{');
  w.field("status", status_name(s));
  if (!message.empty()) w.field("message", message);
  w.objects("diagnostics", diags, [&](const carerules::diagnostic& d) {
    w.field("file", d.file);
    w.key("line");
    w.raw(std::to_string(d.line));
    w.key("column");
    w.raw(std::to_string(d.column));
    w.field("severity", d.severity);
    w.field("message", d.message);
  });
  w.close('}');
  return std::move(w.text);
}

// Runs `body`; maps what it throws to a status, writing the error JSON into *err_out.
template <class F>
cr_status guarded(char** err_out, F&& body) {
  try {
    try {
      return body();
    } catch (const failure& f) {
      if (err_out != nullptr) *err_out = give(status_json(f.status, f.message, f.diagnostics));
      return f.status;
    } catch (const std::bad_alloc&) {
      if (err_out != nullptr) *err_out = give(status_json(CR_INTERNAL, "out of memory", {}));
      return CR_INTERNAL;
    } catch (const std::exception& e) {
      if (err_out != nullptr) *err_out = give(status_json(CR_INTERNAL, e.what(), {}));
      return CR_INTERNAL;
    } catch (...) {
      if (err_out != nullptr) *err_out = give(status_json(CR_INTERNAL, "unknown fault", {}));
      return CR_INTERNAL;
    }
  } catch (...) {  // no memory left even for the message
    return CR_INTERNAL;
  }
}

[[noreturn]] void usage(std::string message) {
  throw failure{CR_USAGE_ERROR, std::move(message), {}};
}

// The options object, or an empty one for NULL; anything else is a usage error.
json::object parse_options(const char* options_json) {
  if (options_json == nullptr) return {};
  const std::string_view text(options_json, ::strnlen(options_json, options_max_bytes + 1));
  if (text.size() > options_max_bytes)
    throw failure{CR_LIMIT, "options_json is longer than 1 MiB", {}};
  json::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec) usage("options_json is not valid JSON: " + ec.message());
  if (!v.is_object()) usage("options_json must be a JSON object");
  return std::move(v.as_object());
}

std::string string_option(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end() || it->value().is_null()) return {};
  if (!it->value().is_string()) usage("option \"" + std::string(key) + "\" must be a string");
  return std::string(it->value().as_string());
}

void check_keys(const json::object& o, std::initializer_list<std::string_view> known) {
  for (const auto& kv : o) {
    bool ok = false;
    for (auto k : known) ok = ok || kv.key() == k;
    if (!ok) {
      std::string list;
      for (auto k : known) list += (list.empty() ? "" : ", ") + std::string(k);
      usage("unknown option \"" + std::string(kv.key()) + "\" (known: " + list + ")");
    }
  }
}

carerules::compile_options compile_options_of(const char* options_json) {
  json::object o = parse_options(options_json);
  check_keys(o, {"import_roots", "limits", "name"});
  carerules::compile_options c;
  if (auto it = o.find("import_roots"); it != o.end()) {
    if (!it->value().is_array()) usage("option \"import_roots\" must be an array of strings");
    for (const auto& r : it->value().as_array()) {
      if (!r.is_string()) usage("option \"import_roots\" must be an array of strings");
      c.import_roots.emplace_back(r.as_string());
    }
  }
  if (auto it = o.find("limits"); it != o.end()) {
    if (!it->value().is_object()) usage("option \"limits\" must be an object");
    for (const auto& kv : it->value().as_object()) {
      const auto& v = kv.value();
      std::string text;
      if (v.is_uint64())
        text = std::to_string(v.as_uint64());
      else if (v.is_int64() && v.as_int64() >= 0)
        text = std::to_string(v.as_int64());
      else
        usage("limit \"" + std::string(kv.key()) + "\" must be a non-negative integer");
      std::string err;
      if (!c.limits.set(kv.key(), text, err)) usage(err);
    }
  }
  c.name = string_option(o, "name");
  if (c.name.empty()) c.name = "<input>";
  return c;
}

carerules::eval_options eval_options_of(const char* options_json) {
  json::object o = parse_options(options_json);
  check_keys(o, {"asof", "subject", "each", "threads"});
  carerules::eval_options e;
  try {
    e.asof = carerules::resolve_asof(string_option(o, "asof"));
  } catch (const std::invalid_argument& x) {
    usage(x.what());
  }
  e.subject = string_option(o, "subject");
  e.each = string_option(o, "each");
  if (auto it = o.find("threads"); it != o.end()) {
    const auto& v = it->value();
    if (v.is_uint64())
      e.threads = static_cast<unsigned>(std::min<std::uint64_t>(v.as_uint64(), 1000));
    else if (v.is_int64() && v.as_int64() >= 0)
      e.threads = static_cast<unsigned>(std::min<std::int64_t>(v.as_int64(), 1000));
    else
      usage("option \"threads\" must be an integer >= 0");
  }
  return e;
}

cr_status finish_compile(carerules::compile_result r, cr_ruleset** out, char** diagnostics_json) {
  if (!r.ok()) {
    std::string first;
    for (const auto& d : r.diagnostics())
      if (d.severity == "error") {
        first = d.rendered.substr(0, d.rendered.find('\n'));
        break;
      }
    throw failure{CR_COMPILE_ERROR, first, r.diagnostics()};
  }
  if (diagnostics_json != nullptr)
    *diagnostics_json = give(status_json(CR_OK, "", r.diagnostics()));
  *out = new cr_ruleset{r.value()};
  return CR_OK;
}

std::string info_json(const carerules::ruleset& rs) {
  const auto& info = rs.info();
  json_writer w;
  w.open('{');
  w.field("name", info.name);
  w.field("title", info.title);
  w.field("version", info.version);
  if (info.source) w.field("source", *info.source);
  if (info.effective) w.field("effective", *info.effective);
  w.field("digest", info.digest);
  w.field("engine", cr_engine_version());
  w.objects("files", rs.files(), [&](const auto& f) {
    w.field("file", f.file);
    w.field("name", f.name);
    w.field("version", f.version);
    w.field("digest", f.digest);
  });
  w.objects("inputs", rs.inputs(), [&](const auto& in) {
    w.field("path", in.path);
    w.field("type", in.type);
    if (in.label) w.field("label", *in.label);
    if (in.default_value) {
      w.key("default");
      w.raw(in.default_value->to_json());
    }
    if (in.range) {
      w.key("range");
      w.open('[');
      w.raw(in.range->first.to_json());
      w.raw(in.range->second.to_json());
      w.close(']');
    }
    if (!in.enum_values.empty()) {
      w.key("values");
      w.open('[');
      for (const auto& v : in.enum_values) w.raw(v.to_json());
      w.close(']');
    }
  });
  w.objects("hazards", rs.hazards(), [&](const auto& h) {
    w.field("id", h.id);
    w.field("title", h.title);
    w.field("category", h.category);
    w.field("severity", h.severity);
  });
  w.objects("scores", rs.scores(), [&](const auto& sc) {
    w.field("name", sc.name);
    w.strings("sections", sc.sections);
  });
  w.objects("grades", rs.grades(), [&](const auto& g) {
    w.field("name", g.name);
    w.strings("values", g.values);
  });
  w.close('}');
  return std::move(w.text);
}

template <class T>
void clear(T** p) {
  if (p != nullptr) *p = nullptr;
}

}  // namespace

extern "C" {

int cr_abi_version(void) { return 1; }

const char* cr_engine_version(void) {
  static const std::string text = std::string("carerules ") + carerules::version_string;
  return text.c_str();
}

cr_status cr_compile_file(const char* path, const char* options_json, cr_ruleset** out,
                          char** diagnostics_json) {
  clear(out);
  clear(diagnostics_json);
  return guarded(diagnostics_json, [&] {
    if (path == nullptr) usage("path is NULL");
    if (out == nullptr) usage("out is NULL");
    carerules::compile_options o = compile_options_of(options_json);
    std::error_code ec;
    const auto st = std::filesystem::status(path, ec);
    if (ec || !std::filesystem::exists(st))
      throw failure{CR_IO_ERROR, std::string("cannot read `") + path + "`: no such file", {}};
    if (std::filesystem::is_directory(st))
      throw failure{CR_IO_ERROR, std::string("cannot read `") + path + "`: it is a directory", {}};
    return finish_compile(carerules::compile_file(path, o), out, diagnostics_json);
  });
}

cr_status cr_compile_text(const char* text, size_t len, const char* name, const char* options_json,
                          cr_ruleset** out, char** diagnostics_json) {
  clear(out);
  clear(diagnostics_json);
  return guarded(diagnostics_json, [&] {
    if (text == nullptr && len > 0) usage("text is NULL");
    if (out == nullptr) usage("out is NULL");
    carerules::compile_options o = compile_options_of(options_json);
    if (name != nullptr) o.name = name;
    return finish_compile(
        carerules::compile_source(std::string_view(text == nullptr ? "" : text, len), o), out,
        diagnostics_json);
  });
}

cr_status cr_evaluate(const cr_ruleset* rs, const char* facts_json, size_t len,
                      const char* options_json, char** report_json) {
  clear(report_json);
  return guarded(report_json, [&] {
    if (rs == nullptr) usage("rs is NULL");
    if (facts_json == nullptr && len > 0) usage("facts_json is NULL");
    if (report_json == nullptr) usage("report_json is NULL");
    const carerules::eval_options o = eval_options_of(options_json);
    const std::string_view facts(facts_json == nullptr ? "" : facts_json, len);
    if (o.each.empty()) {
      *report_json = give(rs->rs.evaluate_json(facts, o));
      return CR_OK;
    }
    const std::vector<carerules::batch_record> one{{std::string(facts), 0, 0, false}};
    std::string out = "[" + rs->rs.evaluate_text(one, o, carerules::line_format::report, ",").text;
    out += ']';
    *report_json = give(out);
    return CR_OK;
  });
}

cr_status cr_evaluate_batch(const cr_ruleset* rs, const char* jsonl, size_t len,
                            const char* options_json, char** reports_jsonl) {
  clear(reports_jsonl);
  return guarded(reports_jsonl, [&] {
    if (rs == nullptr) usage("rs is NULL");
    if (jsonl == nullptr && len > 0) usage("jsonl is NULL");
    if (reports_jsonl == nullptr) usage("reports_jsonl is NULL");
    const carerules::eval_options o = eval_options_of(options_json);
    *reports_jsonl =
        give(rs->rs.evaluate_jsonl(std::string_view(jsonl == nullptr ? "" : jsonl, len), o));
    return CR_OK;
  });
}

cr_status cr_ruleset_info(const cr_ruleset* rs, char** info) {
  clear(info);
  return guarded(info, [&] {
    if (rs == nullptr) usage("rs is NULL");
    if (info == nullptr) usage("info_json is NULL");
    *info = give(info_json(rs->rs));
    return CR_OK;
  });
}

cr_status cr_schema(const cr_ruleset* rs, char** schema_json) {
  clear(schema_json);
  return guarded(schema_json, [&] {
    if (rs == nullptr) usage("rs is NULL");
    if (schema_json == nullptr) usage("schema_json is NULL");
    *schema_json = give(rs->rs.json_schema());
    return CR_OK;
  });
}

void cr_ruleset_free(cr_ruleset* rs) { delete rs; }

void cr_string_free(char* s) { std::free(s); }

}  // extern "C"
