// The checker's class, shared by the files that implement it (one job each):
//   check.cpp         the entry point, check_and_lower
//   resolve.cpp       symbols: every declared name once, duplicates, did-you-mean
//   inputs.cpp        the input schema: declared paths, types, ranges, defaults, imports merged
//   lower.cpp         expressions: names resolved, types checked, plan nodes made
//   lower_tables.cpp  decision tables lowered (their row analysis is tables.cpp)
//   program.cpp       the run: whole declarations (lets, hazards, scores, grades), dependency
//                     order and cycles, test blocks, the public descriptions
// Internal to lib/check; include check.hpp from elsewhere.
#pragma once

#include <algorithm>
#include <functional>
#include <map>
#include <set>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

#include "check/check.hpp"
#include "check/tables.hpp"
#include "facts/bind.hpp"
#include "facts/value_json.hpp"
#include "util/date.hpp"
#include "util/decimal.hpp"
#include "util/utf8.hpp"

namespace carerules::detail::checking {

using ast::expr_id;
using ast::expr_kind;
using ast::no_expr;

inline const char* color_names[] = {"blue", "yellow", "orange", "red"};

inline std::string type_name(const type_ref& t, const program& p) {
  switch (t.t) {
    case ty::error:
      return "<error>";
    case ty::bool_:
      return "bool";
    case ty::int_:
      return "int";
    case ty::number:
      return "number";
    case ty::string:
      return "string";
    case ty::date:
      return "date";
    case ty::color:
      return "color";
    case ty::level: {
      std::string s = "levels(";
      if (t.scale != none_index) {
        const auto& sc = p.scales[t.scale];
        for (std::size_t i = 0; i < sc.size(); ++i) s += (i ? ", \"" : "\"") + sc[i] + "\"";
      }
      return s + ")";
    }
    case ty::none:
      return "none";
    case ty::list:
      return "list";
    case ty::record:
      return "record";
    case ty::hazard_list:
      return "hazards";
    case ty::hazard:
      return "hazard";
  }
  return "?";
}

inline bool numeric(ty t) { return t == ty::int_ || t == ty::number; }

inline type_ref simple(ty t) {
  type_ref r;
  r.t = t;
  return r;
}

inline ty scalar_to_ty(scalar_type s) {
  switch (s) {
    case scalar_type::bool_:
      return ty::bool_;
    case scalar_type::int_:
      return ty::int_;
    case scalar_type::number:
      return ty::number;
    case scalar_type::string:
      return ty::string;
    case scalar_type::date:
      return ty::date;
    case scalar_type::color:
      return ty::color;
  }
  return ty::error;
}

// Levenshtein distance on bytes, for "did you mean".
inline std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t sub = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

inline std::string join(const std::vector<std::string>& segs, std::size_t from = 0,
                        std::size_t to = std::string::npos) {
  std::string s;
  to = std::min(to, segs.size());
  for (std::size_t i = from; i < to; ++i) {
    if (i > from) s += '.';
    s += segs[i];
  }
  return s;
}

// Strips a `#` comment (outside string literals) and collapses white space.
inline std::string normalize_line(std::string_view line) {
  std::string out;
  bool in_str = false, esc = false, space = false;
  for (char c : line) {
    if (in_str) {
      out += c;
      if (esc)
        esc = false;
      else if (c == '\\')
        esc = true;
      else if (c == '"')
        in_str = false;
      continue;
    }
    if (c == '#') break;
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      space = true;
      continue;
    }
    if (space && !out.empty()) out += ' ';
    space = false;
    if (c == '"') in_str = true;
    out += c;
  }
  return out;
}

struct symbol {
  enum kind_t { let, hazard, item, score, grade, table } kind;
  std::uint32_t index;
  ast::pos where;
};

inline const char* symbol_kind_name(symbol::kind_t k) {
  switch (k) {
    case symbol::let:
      return "let";
    case symbol::hazard:
      return "hazard";
    case symbol::item:
      return "item";
    case symbol::score:
      return "score";
    case symbol::grade:
      return "grade";
    case symbol::table:
      return "table";
  }
  return "?";
}

struct var_binding {
  std::string name;
  type_ref type;  // the element: record (schema), scalar type, or hazard
  std::uint32_t depth;
};

class checker {
 public:
  checker(const check_input& in, ast::diagnostic_sink& d)
      : files_(*in.files), arena_(*in.arena), diags_(d), prog_(std::make_shared<program>()) {
    prog_->sources = in.sources;
    prog_->limits = in.limits;
  }

  std::shared_ptr<program> run();

 private:
  // ---- declarations ----
  void collect_symbols();
  void add_symbol(const std::string& name, symbol s);
  void build_inputs();
  void lower_all();
  void order_declarations();
  void lower_tests();

  // ---- inputs ----
  struct pending_input {
    const ast::input_decl* decl;
    std::uint32_t file;
  };
  void add_fields(record_schema& schema, const std::vector<const ast::input_decl*>& decls,
                  std::uint32_t parent, const std::string& prefix);
  std::string input_signature(const ast::input_decl& d);
  bool literal_value(expr_id id, value& out, type_ref& t);
  bool convert_literal(expr_id id, const field_schema& f, value& out, record_schema& owner);

  // ---- expressions ----
  node_id lower(expr_id id, type_ref& t);
  node_id lower_path(const ast::expr& e, type_ref& t);
  node_id lower_call(const ast::expr& e, type_ref& t);
  node_id lower_aggregate(const ast::expr& e, type_ref& t);
  node_id lower_binary(const ast::expr& e, type_ref& t);
  // Warns when a string or number constant is compared with an input whose enum cannot hold
  // it (`appraisal == "Z"` against enum("A", "B")): the comparison has one answer.
  void check_enum_constant(node_id fact, node_id constant, ast::pos where);
  node_id lower_condition(expr_id id);
  node_id lower_number(expr_id id);
  node_id make(opcode op, ast::pos where, std::vector<node_id> kids = {},
               std::uint32_t a = none_index, std::uint32_t b = none_index, std::uint8_t sub = 0);
  node_id make_const(value v, ast::pos where);
  node_id error_node(ast::pos where, type_ref& t) {
    t = simple(ty::error);
    return make_const(value{}, where);
  }
  void type_error(ast::pos where, std::string msg) { diags_.error(where, std::move(msg)); }
  // The expression's source text, comments removed and white space collapsed ("" for none).
  std::string source_text(expr_id id) const {
    if (id == no_expr) return "";
    const auto& e = arena_[id];
    std::string_view text = prog_->sources->files[e.where.file].text;
    if (e.source.end > text.size() || e.source.begin >= e.source.end) return "";
    std::string out;
    std::string_view rest = text.substr(e.source.begin, e.source.end - e.source.begin);
    while (!rest.empty()) {
      std::size_t nl = rest.find('\n');
      std::string part = normalize_line(rest.substr(0, nl));
      if (!part.empty()) out += (out.empty() ? "" : " ") + part;
      if (nl == std::string_view::npos) break;
      rest.remove_prefix(nl + 1);
    }
    return out;
  }
  // A close name among what may stand here: declarations of the kinds `kinds` accepts, and
  // for paths (`paths`) the inputs and aggregate variables too.
  std::string did_you_mean(const std::string& name, bool paths = true,
                           const std::function<bool(symbol::kind_t)>& kinds = nullptr);
  type_ref let_type(std::uint32_t index);
  void mentions(expr_id root, std::vector<std::string>& out) const;
  static std::vector<std::uint32_t> reference_order(
      const std::vector<std::vector<std::uint32_t>>& refs);
  bool lowering_lets_ = false;
  node_id coerce_level_literal(node_id n, const type_ref& from, const type_ref& to, ast::pos where,
                               bool& ok);
  bool comparable(const type_ref& a, const type_ref& b, bool ordering);
  void note_dep(decl_kind k, std::uint32_t i) {
    if (deps_) deps_->push_back({k, i});
  }

  // ---- tables ----
  void lower_table(std::uint32_t index);

  const std::vector<ast::ruleset_file>& files_;
  const ast::expr_arena& arena_;
  ast::diagnostic_sink& diags_;
  std::shared_ptr<program> prog_;

  std::unordered_map<std::string, symbol> names_;
  std::unordered_map<std::string, std::uint32_t> input_by_path_;  // top-level full path
  std::unordered_set<std::string> input_roots_;                   // first segments
  std::vector<std::string> all_input_paths_;

  // AST back-references, by plan index
  std::vector<const ast::let_decl*> let_ast_;
  std::vector<const ast::hazard_decl*> hazard_ast_;
  std::vector<const ast::score_decl*> score_ast_;
  std::vector<const ast::grade_decl*> grade_ast_;
  std::vector<const ast::table_decl*> table_ast_;

  std::vector<type_ref> let_types_;
  std::vector<std::uint8_t> let_state_;  // 0 not lowered, 1 lowering, 2 done
  std::vector<std::vector<decl_entry>> let_deps_;
  std::vector<std::vector<decl_entry>> hazard_deps_, score_deps_, grade_deps_;
  std::vector<std::uint8_t> table_state_;
  std::vector<std::vector<std::uint32_t>> table_calls_;

  std::vector<decl_entry>* deps_ = nullptr;
  std::vector<std::uint32_t>* table_deps_ = nullptr;
  std::vector<var_binding> vars_;
  const std::vector<type_ref>* params_ = nullptr;
  const ast::table_decl* params_decl_ = nullptr;
  const ast::hazard_decl* in_hazard_ = nullptr;  // the hazard whose condition is lowered
  bool in_table_ = false;
  std::uint32_t depth_ = 0;
  bool depth_reported_ = false;
};

}  // namespace carerules::detail::checking
