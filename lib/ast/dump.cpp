#include <cstdio>

#include "ast/ast.hpp"
#include "util/date.hpp"
#include "util/decimal.hpp"

namespace carerules::ast {

namespace {

const char* op_text(op o) {
  switch (o) {
    case op::or_:
      return "or";
    case op::and_:
      return "and";
    case op::not_:
      return "not";
    case op::eq:
      return "==";
    case op::ne:
      return "!=";
    case op::lt:
      return "<";
    case op::le:
      return "<=";
    case op::gt:
      return ">";
    case op::ge:
      return ">=";
    case op::in:
      return "in";
    case op::not_in:
      return "not in";
    case op::add:
      return "+";
    case op::sub:
      return "-";
    case op::mul:
      return "*";
    case op::div:
      return "/";
    case op::mod:
      return "%";
    case op::neg:
      return "-";
  }
  return "?";
}

// A string literal as written in the language.
void quote_string(std::string& out, const std::string& s) {
  out += '"';
  for (char c : s) {
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
      default:
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04X", static_cast<unsigned>(c));
          out += buf;
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

// Deeper trees (a long operator chain, which the parser does not count as nesting) are
// cut with "..." rather than recursing without bound.
constexpr int max_dump_depth = 1000;

void dump_to(std::string& out, const expr_arena& arena, expr_id id, int depth = 0) {
  if (id == no_expr || id >= arena.nodes.size()) {
    out += "<none>";
    return;
  }
  if (depth >= max_dump_depth) {
    out += "...";
    return;
  }
  const expr& e = arena[id];
  auto list = [&](std::size_t from) {
    for (std::size_t k = from; k < e.args.size(); ++k) {
      if (k > from) out += ", ";
      dump_to(out, arena, e.args[k], depth + 1);
    }
  };
  switch (e.kind) {
    case expr_kind::lit_bool:
      out += e.i ? "true" : "false";
      break;
    case expr_kind::lit_int:
      out += std::to_string(e.i);
      break;
    case expr_kind::lit_number:
      out += detail::format_decimal(e.i);
      break;
    case expr_kind::lit_string:
      quote_string(out, e.text);
      break;
    case expr_kind::lit_date:
      out += '@';
      out += detail::date_in_range(e.i) ? detail::format_date(e.i) : std::to_string(e.i);
      break;
    case expr_kind::lit_color: {
      static const char* const names[] = {"blue", "yellow", "orange", "red"};
      out += e.i >= 0 && e.i < 4 ? names[e.i] : "<colour?>";
      break;
    }
    case expr_kind::lit_none:
      out += "none";
      break;
    case expr_kind::lit_list:
      out += '[';
      list(0);
      out += ']';
      break;
    case expr_kind::path:
      for (std::size_t k = 0; k < e.segments.size(); ++k) {
        if (k > 0) out += '.';
        out += e.segments[k];
      }
      break;
    case expr_kind::asof:
      out += "asof";
      break;
    case expr_kind::hazards:
      out += "hazards";
      break;
    case expr_kind::unary:
      out += '(';
      out += op_text(e.oper);
      if (e.oper == op::not_) out += ' ';
      dump_to(out, arena, e.args.empty() ? no_expr : e.args[0], depth + 1);
      out += ')';
      break;
    case expr_kind::binary:
    case expr_kind::coalesce:
      out += '(';
      dump_to(out, arena, e.args.size() > 0 ? e.args[0] : no_expr, depth + 1);
      out += ' ';
      out += e.kind == expr_kind::coalesce ? "??" : op_text(e.oper);
      out += ' ';
      dump_to(out, arena, e.args.size() > 1 ? e.args[1] : no_expr, depth + 1);
      out += ')';
      break;
    case expr_kind::if_else:
      out += "(if ";
      dump_to(out, arena, e.args.size() > 0 ? e.args[0] : no_expr, depth + 1);
      out += " then ";
      dump_to(out, arena, e.args.size() > 1 ? e.args[1] : no_expr, depth + 1);
      out += " else ";
      dump_to(out, arena, e.args.size() > 2 ? e.args[2] : no_expr, depth + 1);
      out += ')';
      break;
    case expr_kind::call:
      out += e.text;
      out += '(';
      list(0);
      out += ')';
      break;
    case expr_kind::aggregate:
      out += e.text;
      out += '(';
      out += e.var;
      out += " in ";
      dump_to(out, arena, e.args.size() > 0 ? e.args[0] : no_expr, depth + 1);
      if (e.args.size() > 1 && e.args[1] != no_expr) {
        out += " where ";
        dump_to(out, arena, e.args[1], depth + 1);
      }
      if (e.args.size() > 2 && e.args[2] != no_expr) {
        out += ": ";
        dump_to(out, arena, e.args[2], depth + 1);
      }
      out += ')';
      break;
    case expr_kind::member:
      dump_to(out, arena, e.args.empty() ? no_expr : e.args[0], depth + 1);
      out += '.';
      out += e.text;
      break;
  }
}

}  // namespace

std::string dump(const expr_arena& arena, expr_id id) {
  std::string out;
  dump_to(out, arena, id);
  return out;
}

}  // namespace carerules::ast
