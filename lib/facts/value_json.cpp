#include "facts/value_json.hpp"

#include "util/date.hpp"

namespace carerules::detail {

json_value scalar_json(const value& v) {
  static const char* const colors[] = {"blue", "yellow", "orange", "red"};
  json_value j;
  switch (v.kind) {
    case vkind::boolean:
      j.type = json_value::kind::boolean;
      j.b = v.i != 0;
      break;
    case vkind::integer:
      j.type = json_value::kind::integer;
      j.i = v.i;
      break;
    case vkind::number:
      j.type = json_value::kind::decimal;
      j.i = v.i;
      break;
    case vkind::string:
      j.type = json_value::kind::string;
      j.s = std::string(v.s());
      break;
    case vkind::date:
      j.type = json_value::kind::string;
      j.s = format_date(v.i);
      break;
    case vkind::color:
      j.type = json_value::kind::string;
      j.s = colors[v.i & 3];
      break;
    case vkind::none:
      j.type = json_value::kind::string;
      j.s = "none";
      break;
    default:
      break;
  }
  return j;
}

}  // namespace carerules::detail
