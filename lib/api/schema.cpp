// `carerules schema`: the inputs as a JSON Schema (draft 2020-12) document.
#include <algorithm>

#include "carerules/ruleset.hpp"
#include "facts/value_json.hpp"
#include "plan/plan.hpp"
#include "util/decimal.hpp"

namespace carerules {

// ---- JSON Schema ----------------------------------------------------------------------------

namespace {

void schema_string(std::string& o, std::string_view s) {
  o += json_value{json_value::kind::string, false, 0, std::string(s), {}}.to_json();
}

void field_schema_json(std::string& o, const detail::field_schema& f, bool strict);

// An object of the facts. `nullable`: it may be null (an object property; null means
// absent), which the record itself and list elements may not. `strict`: keys nobody declared
// are refused (additionalProperties false), so that a misspelt key fails validation.
void record_schema_json(std::string& o, const detail::record_schema& rs, std::uint32_t node,
                        bool nullable, bool strict) {
  const auto& nd = rs.nodes[node];
  std::vector<std::pair<std::string, std::uint32_t>> kids(nd.children.begin(), nd.children.end());
  // declaration order: order of the first field under each child
  auto first_order = [&](std::uint32_t n) {
    std::uint32_t best = UINT32_MAX;
    std::vector<std::uint32_t> stack{n};
    while (!stack.empty()) {
      auto x = stack.back();
      stack.pop_back();
      if (rs.nodes[x].field >= 0)
        best = std::min(best, rs.fields[static_cast<std::size_t>(rs.nodes[x].field)].order);
      for (const auto& [k, c] : rs.nodes[x].children) stack.push_back(c);
    }
    return best;
  };
  std::sort(kids.begin(), kids.end(), [&](const auto& a, const auto& b) {
    return first_order(a.second) < first_order(b.second);
  });
  o += nullable ? "{\"type\":[\"object\",\"null\"]," : "{\"type\":\"object\",";
  if (strict) o += "\"additionalProperties\":false,";
  o += "\"properties\":{";
  for (std::size_t i = 0; i < kids.size(); ++i) {
    if (i) o += ',';
    schema_string(o, kids[i].first);
    o += ':';
    const auto& child = rs.nodes[kids[i].second];
    if (child.field >= 0)
      field_schema_json(o, rs.fields[static_cast<std::size_t>(child.field)], strict);
    else
      record_schema_json(o, rs, kids[i].second, true, strict);
  }
  o += "}}";
}

// A scalar input. `nullable`: JSON null is allowed (in the language, null means absent), for
// object properties; list elements may not be null.
void scalar_json(std::string& o, const detail::field_schema& f, bool nullable) {
  using detail::scalar_type;
  auto num = [](std::int64_t scaled) { return detail::format_decimal(scaled); };
  auto type = [&](const char* t) {
    o += nullable ? std::string("{\"type\":[\"") + t + "\",\"null\"]"
                  : std::string("{\"type\":\"") + t + "\"";
  };
  const char* null_enum = nullable ? ",null" : "";
  if (!f.enum_strings.empty()) {
    type("string");
    o += ",\"enum\":[";
    for (std::size_t i = 0; i < f.enum_strings.size(); ++i) {
      if (i) o += ',';
      schema_string(o, f.enum_strings[i]);
    }
    o += null_enum;
    o += "]";
  } else if (!f.enum_numbers.empty()) {
    type("number");
    o += ",\"enum\":[";
    for (std::size_t i = 0; i < f.enum_numbers.size(); ++i) {
      if (i) o += ',';
      o += num(f.enum_numbers[i]);
    }
    o += null_enum;
    o += "]";
  } else {
    switch (f.type) {
      case scalar_type::bool_:
        type("boolean");
        break;
      case scalar_type::int_:
        type("integer");
        break;
      case scalar_type::number:
        type("number");
        break;
      case scalar_type::string:
        type("string");
        break;
      case scalar_type::date:
        // the engine's dates: strictly YYYY-MM-DD (format "date" adds the calendar check)
        type("string");
        o += ",\"format\":\"date\",\"pattern\":\"^[0-9]{4}-[0-9]{2}-[0-9]{2}$\"";
        break;
      case scalar_type::color:
        type("string");
        o += ",\"enum\":[\"blue\",\"yellow\",\"orange\",\"red\"";
        o += null_enum;
        o += "]";
        break;
    }
  }
  if (f.has_range) {
    bool i = f.type == scalar_type::int_;
    o += ",\"minimum\":" + (i ? std::to_string(f.range_low) : num(f.range_low));
    o += ",\"maximum\":" + (i ? std::to_string(f.range_high) : num(f.range_high));
  }
}

void field_schema_json(std::string& o, const detail::field_schema& f, bool strict) {
  if (f.is_list) {  // a list may be null (absent); its elements may not
    o += "{\"type\":[\"array\",\"null\"],";
    if (!f.label.empty()) {
      o += "\"description\":";
      schema_string(o, f.label);
      o += ',';
    }
    o += "\"items\":";
    if (f.of_records) {
      record_schema_json(o, *f.element, 0, false, strict);
    } else {
      scalar_json(o, f, false);
      o += '}';
    }
    o += '}';
    return;
  }
  scalar_json(o, f, true);
  if (!f.label.empty()) {
    o += ",\"description\":";
    schema_string(o, f.label);
  }
  if (f.default_value) o += ",\"default\":" + detail::scalar_json(*f.default_value).to_json();
  o += '}';
}

}  // namespace

std::string ruleset::json_schema(bool strict) const {
  const detail::program& p = *program_;
  std::string o = "{\"$schema\":\"https://json-schema.org/draft/2020-12/schema\",\"title\":";
  schema_string(o, p.info.title);
  o += ",\"description\":";
  schema_string(o, p.info.name + " " + p.info.version);
  o += ',';
  std::string body;
  record_schema_json(body, *p.schema, 0, false, strict);
  // splice: drop the leading '{' of the record object
  o += body.substr(1);
  return o;
}

}  // namespace carerules
