// Writing reports as JSON, exactly as docs/reference/report.md gives them; the words of the
// outcome enums.
#include "carerules/report.hpp"

#include <string>

#include "facts/json_text.hpp"
#include "util/decimal.hpp"
#include "util/utf8.hpp"

namespace carerules {

std::string_view to_string(hazard_status s) {
  switch (s) {
    case hazard_status::absent:
      return "absent";
    case hazard_status::present:
      return "present";
    case hazard_status::undetermined:
      return "undetermined";
    case hazard_status::error:
      return "error";
  }
  return "";
}

std::string_view to_string(hazard_severity s) {
  return s == hazard_severity::major ? "major" : "general";
}

std::string_view to_string(item_kind k) { return k == item_kind::item ? "item" : "deduct"; }

std::string_view to_string(item_status s) {
  switch (s) {
    case item_status::awarded:
      return "awarded";
    case item_status::not_awarded:
      return "not_awarded";
    case item_status::undetermined:
      return "undetermined";
    case item_status::error:
      return "error";
  }
  return "";
}

std::string_view to_string(grade_outcome g) {
  switch (g) {
    case grade_outcome::label:
      return "label";
    case grade_outcome::none:
      return "none";
    case grade_outcome::undetermined:
      return "undetermined";
    case grade_outcome::error:
      return "error";
  }
  return "";
}

namespace {

void put_string_impl(std::string& out, std::string_view s) {
  out += '"';
  const char* const begin = s.data();
  const char* const end = begin + s.size();
  const char* run = begin;  // start of the current run of bytes written as they are
  // From one byte that needs a look to the next, eight bytes at a time in between.
  for (const char* p = detail::next_special(begin, end); p != end;
       p = detail::next_special(p, end)) {
    auto c = static_cast<unsigned char>(*p);
    if (c >= 0x80) {  // UTF-8 as it is; a byte that starts no valid sequence becomes U+FFFD
      std::size_t len = 0;
      if (detail::decode_utf8(s, static_cast<std::size_t>(p - begin), len) >= 0) {
        p += len;
        continue;
      }
      out.append(run, static_cast<std::size_t>(p - run));
      run = ++p;
      out += "\xEF\xBF\xBD";
      continue;
    }
    out.append(run, static_cast<std::size_t>(p - run));
    run = ++p;
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default: {
        static const char hex[] = "0123456789abcdef";
        char esc[] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
        out.append(esc, sizeof esc);
      }
    }
  }
  out.append(run, static_cast<std::size_t>(end - run));
  out += '"';
}

void put_string(std::string& out, std::string_view s) { put_string_impl(out, s); }

void put_value(std::string& out, const json_value& v) {
  switch (v.type) {
    case json_value::kind::null:
      out += "null";
      break;
    case json_value::kind::boolean:
      out += v.b ? "true" : "false";
      break;
    case json_value::kind::integer:
      out += std::to_string(v.i);
      break;
    case json_value::kind::decimal:
      out += detail::format_decimal(v.i);
      break;
    case json_value::kind::string:
      put_string(out, v.s);
      break;
    case json_value::kind::array:
      out += '[';
      for (std::size_t i = 0; i < v.items.size(); ++i) {
        if (i) out += ',';
        put_value(out, v.items[i]);
      }
      out += ']';
      break;
  }
}

void put_key(std::string& out, std::string_view k) {
  put_string(out, k);
  out += ':';
}

void put_opt(std::string& out, const std::optional<std::string>& s) {
  if (s)
    put_string(out, *s);
  else
    out += "null";
}

void put_strings(std::string& out, const std::vector<std::string>& v) {
  out += '[';
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (i) out += ',';
    put_string(out, v[i]);
  }
  out += ']';
}

}  // namespace

void append_json_string(std::string& out, std::string_view s) { put_string_impl(out, s); }

std::string json_value::to_json() const {
  std::string out;
  put_value(out, *this);
  return out;
}

std::string report::to_json() const {
  std::string o;
  o.reserve(1024);
  o += '{';
  put_key(o, "subject");
  put_opt(o, subject);
  o += ',';
  put_key(o, "ruleset");
  o += '{';
  put_key(o, "name");
  put_string(o, ruleset.name);
  o += ',';
  put_key(o, "title");
  put_string(o, ruleset.title);
  o += ',';
  put_key(o, "version");
  put_string(o, ruleset.version);
  if (ruleset.source) {
    o += ',';
    put_key(o, "source");
    put_string(o, *ruleset.source);
  }
  if (ruleset.effective) {
    o += ',';
    put_key(o, "effective");
    put_string(o, *ruleset.effective);
  }
  o += ',';
  put_key(o, "digest");
  put_string(o, ruleset.digest);
  o += "},";
  put_key(o, "engine");
  put_string(o, engine);
  o += ',';
  put_key(o, "asof");
  put_string(o, asof);
  o += ',';
  put_key(o, "hazards");
  o += '[';
  for (std::size_t i = 0; i < hazards.size(); ++i) {
    const auto& h = hazards[i];
    if (i) o += ',';
    o += '{';
    put_key(o, "id");
    put_string(o, h.id);
    o += ',';
    put_key(o, "title");
    put_string(o, h.title);
    o += ',';
    put_key(o, "category");
    put_string(o, h.category);
    o += ',';
    put_key(o, "severity");
    put_string(o, to_string(h.severity));
    o += ',';
    put_key(o, "status");
    put_string(o, to_string(h.status));
    o += ',';
    put_key(o, "cite");
    put_opt(o, h.cite);
    o += ',';
    put_key(o, "rectify");
    o += '{';
    put_key(o, "action");
    put_string(o, h.rectify.action);
    if (h.rectify.within_days) {
      o += ',';
      put_key(o, "within_days");
      o += std::to_string(*h.rectify.within_days);
    }
    if (h.rectify.due) {
      o += ',';
      put_key(o, "due");
      put_string(o, *h.rectify.due);
    }
    o += '}';
    if (h.advice) {
      o += ',';
      put_key(o, "advice");
      put_string(o, *h.advice);
    }
    o += ',';
    put_key(o, "evidence");
    o += '{';
    for (std::size_t k = 0; k < h.evidence.size(); ++k) {
      if (k) o += ',';
      put_key(o, h.evidence[k].first);
      put_value(o, h.evidence[k].second);
    }
    o += '}';
    if (h.status == hazard_status::undetermined) {
      o += ',';
      put_key(o, "missing");
      put_strings(o, h.missing);
    }
    o += '}';
  }
  o += "],";
  put_key(o, "scores");
  o += '{';
  for (std::size_t i = 0; i < scores.size(); ++i) {
    const auto& s = scores[i];
    if (i) o += ',';
    put_key(o, s.name);
    o += '{';
    put_key(o, "total");
    put_value(o, s.total);
    o += ',';
    put_key(o, "provisional");
    o += s.provisional ? "true" : "false";
    o += ',';
    put_key(o, "sections");
    o += '{';
    for (std::size_t k = 0; k < s.sections.size(); ++k) {
      if (k) o += ',';
      put_key(o, s.sections[k].first);
      put_value(o, s.sections[k].second);
    }
    o += "},";
    put_key(o, "items");
    o += '[';
    for (std::size_t k = 0; k < s.items.size(); ++k) {
      const auto& it = s.items[k];
      if (k) o += ',';
      o += '{';
      put_key(o, "id");
      put_string(o, it.id);
      o += ',';
      put_key(o, "section");
      put_opt(o, it.section);
      o += ',';
      put_key(o, "kind");
      put_string(o, to_string(it.kind));
      o += ',';
      put_key(o, "points");
      put_value(o, it.points);
      o += ',';
      put_key(o, "status");
      put_string(o, to_string(it.status));
      o += '}';
    }
    o += ']';
    if (s.provisional) {
      o += ',';
      put_key(o, "missing");
      put_strings(o, s.missing);
    }
    o += '}';
  }
  o += "},";
  put_key(o, "grades");
  o += '{';
  for (std::size_t i = 0; i < grades.size(); ++i) {
    const auto& g = grades[i];
    if (i) o += ',';
    put_key(o, g.name);
    o += '{';
    put_key(o, "value");
    put_string(o, g.value());
    if (g.because) {
      o += ',';
      put_key(o, "because");
      put_string(o, *g.because);
    }
    if (g.outcome == grade_outcome::undetermined) {
      o += ',';
      put_key(o, "missing");
      put_strings(o, g.missing);
    }
    o += '}';
  }
  o += "},";
  put_key(o, "errors");
  o += '[';
  for (std::size_t i = 0; i < errors.size(); ++i) {
    const auto& e = errors[i];
    if (i) o += ',';
    o += '{';
    bool first = true;
    if (e.path) {
      put_key(o, "path");
      put_string(o, *e.path);
      first = false;
    }
    if (e.rule) {
      if (!first) o += ',';
      put_key(o, "rule");
      put_string(o, *e.rule);
      first = false;
    }
    if (!first) o += ',';
    put_key(o, "message");
    put_string(o, e.message);
    o += '}';
  }
  o += "]}";
  return o;
}

}  // namespace carerules
