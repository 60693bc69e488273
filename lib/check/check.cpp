// The checker and lowering to the plan (see check.hpp).
#include "check/check.hpp"

#include <algorithm>
#include <functional>
#include <map>
#include <set>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

#include "check/tables.hpp"
#include "facts/bind.hpp"
#include "facts/value_json.hpp"
#include "util/date.hpp"
#include "util/decimal.hpp"
#include "util/utf8.hpp"

namespace carerules::detail {
namespace {

using ast::expr_id;
using ast::expr_kind;
using ast::no_expr;

const char* color_names[] = {"blue", "yellow", "orange", "red"};

std::string type_name(const type_ref& t, const program& p) {
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

bool numeric(ty t) { return t == ty::int_ || t == ty::number; }

type_ref simple(ty t) {
  type_ref r;
  r.t = t;
  return r;
}

ty scalar_to_ty(scalar_type s) {
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
std::size_t edit_distance(std::string_view a, std::string_view b) {
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

std::string join(const std::vector<std::string>& segs, std::size_t from = 0,
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
std::string normalize_line(std::string_view line) {
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

const char* symbol_kind_name(symbol::kind_t k) {
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
      : files_(*in.files), A_(*in.arena), D_(d), P_(std::make_shared<program>()) {
    P_->sources = in.sources;
    P_->limits = in.limits;
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
  node_id lower_condition(expr_id id);
  node_id lower_number(expr_id id);
  node_id make(opcode op, ast::pos where, std::vector<node_id> kids = {},
               std::uint32_t a = none_index, std::uint32_t b = none_index, std::uint8_t sub = 0);
  node_id make_const(value v, ast::pos where);
  node_id error_node(ast::pos where, type_ref& t) {
    t = simple(ty::error);
    return make_const(value{}, where);
  }
  void type_error(ast::pos where, std::string msg) { D_.error(where, std::move(msg)); }
  // The expression's source text, comments removed and white space collapsed ("" for none).
  std::string source_text(expr_id id) const {
    if (id == no_expr) return "";
    const auto& e = A_[id];
    std::string_view text = P_->sources->files[e.where.file].text;
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
  const ast::expr_arena& A_;
  ast::diagnostic_sink& D_;
  std::shared_ptr<program> P_;

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
  bool in_hazard_ = false;
  bool in_table_ = false;
  std::uint32_t depth_ = 0;
  bool depth_reported_ = false;
};

node_id checker::make(opcode op, ast::pos where, std::vector<node_id> kids, std::uint32_t a,
                      std::uint32_t b, std::uint8_t sub) {
  node n;
  n.op = op;
  n.sub = sub;
  n.a = a;
  n.b = b;
  n.where = where;
  n.kids = static_cast<std::uint32_t>(P_->kids.size());
  n.nkids = static_cast<std::uint32_t>(kids.size());
  for (auto k : kids) P_->kids.push_back(k);
  P_->nodes.push_back(n);
  return static_cast<node_id>(P_->nodes.size() - 1);
}

node_id checker::make_const(value v, ast::pos where) {
  node_id id = make(opcode::constant, where);
  P_->nodes[id].k = v;
  return id;
}

// ---- symbols --------------------------------------------------------------------------------

void checker::add_symbol(const std::string& name, symbol s) {
  auto [it, inserted] = names_.emplace(name, s);
  if (!inserted) {
    const auto& prev = it->second;
    const auto& f = P_->sources->files[prev.where.file];
    D_.error(s.where, "`" + name + "` is already declared (as " + symbol_kind_name(prev.kind) +
                          " at " + f.display + ":" + std::to_string(prev.where.line) + ")");
  }
}

void checker::collect_symbols() {
  for (const auto& f : files_) {
    for (const auto& l : f.lets) {
      add_symbol(l.name, {symbol::let, static_cast<std::uint32_t>(let_ast_.size()), l.where});
      let_ast_.push_back(&l);
    }
    for (const auto& h : f.hazards) {
      add_symbol(h.id, {symbol::hazard, static_cast<std::uint32_t>(hazard_ast_.size()), h.where});
      hazard_ast_.push_back(&h);
    }
    for (const auto& s : f.scores) {
      add_symbol(s.name, {symbol::score, static_cast<std::uint32_t>(score_ast_.size()), s.where});
      score_ast_.push_back(&s);
      for (const auto& it : s.items) add_symbol(it.id, {symbol::item, 0, it.where});
      std::set<std::string> secs;
      for (const auto& sec : s.sections)
        if (!secs.insert(sec.name).second)
          D_.error(sec.where,
                   "section `" + sec.name + "` is declared twice in score `" + s.name + "`");
    }
    for (const auto& g : f.grades) {
      add_symbol(g.name, {symbol::grade, static_cast<std::uint32_t>(grade_ast_.size()), g.where});
      grade_ast_.push_back(&g);
    }
    for (const auto& t : f.tables) {
      add_symbol(t.name, {symbol::table, static_cast<std::uint32_t>(table_ast_.size()), t.where});
      table_ast_.push_back(&t);
    }
  }
}

// ---- inputs ---------------------------------------------------------------------------------

bool checker::literal_value(expr_id id, value& out, type_ref& t) {
  const auto& e = A_[id];
  switch (e.kind) {
    case expr_kind::lit_bool:
      out = value::of_bool(e.i != 0);
      t = simple(ty::bool_);
      return true;
    case expr_kind::lit_int:
      out = value::of_int(e.i);
      t = simple(ty::int_);
      return true;
    case expr_kind::lit_number:
      out = value::of_number(e.i);
      t = simple(ty::number);
      return true;
    case expr_kind::lit_string:
      out = value::of_string(e.text);
      t = simple(ty::string);
      return true;
    case expr_kind::lit_date:
      out = value::of_date(e.i);
      t = simple(ty::date);
      return true;
    case expr_kind::lit_color:
      out = value::of_color(e.i);
      t = simple(ty::color);
      return true;
    case expr_kind::lit_none:
      out = value{vkind::none, 0, {}, nullptr};
      t = simple(ty::none);
      return true;
    case expr_kind::unary:
      if (e.oper == ast::op::neg && !e.args.empty() && literal_value(e.args[0], out, t)) {
        if (out.kind == vkind::integer) {
          auto r = int_neg(out.i);
          if (!r) return false;
          out.i = *r;
          return true;
        }
        if (out.kind == vkind::number) {
          out.i = -out.i;
          return true;
        }
      }
      return false;
    default:
      return false;
  }
}

std::string checker::input_signature(const ast::input_decl& d) {
  std::string s = std::to_string(static_cast<int>(d.type.kind)) + "/" +
                  std::to_string(static_cast<int>(d.type.element));
  auto lit = [&](expr_id id) {
    if (id == no_expr) return std::string("-");
    return ast::dump(A_, id);
  };
  for (auto v : d.type.enum_values) s += "|" + lit(v);
  for (auto v : d.type.element_enum) s += "|" + lit(v);
  s += "/" + lit(d.range_low) + ".." + lit(d.range_high) + "=" + lit(d.default_value);
  for (const auto& f : d.fields) s += "{" + join(f.path) + ":" + input_signature(f) + "}";
  return s;
}

bool checker::convert_literal(expr_id id, const field_schema& f, value& out, record_schema& owner) {
  type_ref t;
  if (!literal_value(id, out, t)) {
    D_.error(A_[id].where, "expected a literal");
    return false;
  }
  ty want = scalar_to_ty(f.type);
  if (want == ty::number && t.t == ty::int_) {
    auto r = int_to_decimal(out.i);
    if (!r) {
      D_.error(A_[id].where, "the value is outside the range of a number");
      return false;
    }
    out = value::of_number(*r);
    t.t = ty::number;
  }
  if (t.t != want) {
    D_.error(A_[id].where, "expected a literal of type " + type_name(simple(want), *P_) +
                               ", found " + type_name(t, *P_));
    return false;
  }
  if (out.kind == vkind::string) {
    owner.storage.emplace_back(out.s);
    out.s = owner.storage.back();
  }
  return true;
}

void checker::add_fields(record_schema& schema, const std::vector<const ast::input_decl*>& decls,
                         std::uint32_t parent, const std::string& prefix) {
  schema.nodes.emplace_back();  // root
  for (const ast::input_decl* d : decls) {
    field_schema f;
    f.path = join(d->path);
    if (d->label) f.label = *d->label;
    const auto& ts = d->type;
    auto set_scalar = [&](ast::type_kind k, const std::vector<expr_id>& enums) -> bool {
      switch (k) {
        case ast::type_kind::bool_:
          f.type = scalar_type::bool_;
          break;
        case ast::type_kind::int_:
          f.type = scalar_type::int_;
          break;
        case ast::type_kind::number:
          f.type = scalar_type::number;
          break;
        case ast::type_kind::string:
          f.type = scalar_type::string;
          break;
        case ast::type_kind::date:
          f.type = scalar_type::date;
          break;
        case ast::type_kind::color:
          f.type = scalar_type::color;
          break;
        case ast::type_kind::enum_: {
          bool strings = false, numbers = false, all_int = true;
          for (auto v : enums) {
            value val;
            type_ref t;
            if (!literal_value(v, val, t) ||
                !(t.t == ty::string || t.t == ty::int_ || t.t == ty::number)) {
              D_.error(A_[v].where, "enum values must be string or number literals");
              return false;
            }
            if (t.t == ty::string) {
              strings = true;
              f.enum_strings.emplace_back(val.s);
            } else {
              numbers = true;
              if (t.t == ty::number) all_int = false;
              auto scaled = t.t == ty::int_ ? int_to_decimal(val.i) : checked(val.i);
              if (!scaled) {
                D_.error(A_[v].where, "enum value is outside the range of a number");
                return false;
              }
              f.enum_numbers.push_back(*scaled);
            }
          }
          if (strings && numbers) {
            D_.error(ts.where, "an enum mixes strings and numbers");
            return false;
          }
          if (enums.empty()) {
            D_.error(ts.where, "an enum needs at least one value");
            return false;
          }
          f.type =
              strings ? scalar_type::string : (all_int ? scalar_type::int_ : scalar_type::number);
          break;
        }
        default:
          D_.error(ts.where, "a list element type must be a scalar type");
          return false;
      }
      return true;
    };
    if (ts.kind == ast::type_kind::list_record) {
      f.is_list = true;
      f.of_records = true;
    } else if (ts.kind == ast::type_kind::list_scalar) {
      f.is_list = true;
      if (!set_scalar(ts.element, ts.element_enum)) continue;
    } else if (!set_scalar(ts.kind, ts.enum_values)) {
      continue;
    }
    // range
    if (d->range_low != no_expr || d->range_high != no_expr) {
      if (f.is_list || !(f.type == scalar_type::int_ || f.type == scalar_type::number)) {
        D_.error(d->where, "a range `in LOW..HIGH` applies to int and number inputs only");
      } else {
        value lo, hi;
        if (convert_literal(d->range_low, f, lo, schema) &&
            convert_literal(d->range_high, f, hi, schema)) {
          f.has_range = true;
          f.range_low = lo.i;
          f.range_high = hi.i;
          if (lo.i > hi.i) D_.error(A_[d->range_low].where, "the range is empty (LOW > HIGH)");
        }
      }
    }
    if (d->default_value != no_expr) {
      if (f.is_list) {
        D_.error(A_[d->default_value].where, "a list input cannot have a default");
      } else {
        value v;
        if (convert_literal(d->default_value, f, v, schema)) {
          bool ok = true;
          if (!f.enum_strings.empty())
            ok = std::find(f.enum_strings.begin(), f.enum_strings.end(), v.s) !=
                 f.enum_strings.end();
          if (!f.enum_numbers.empty()) {
            std::int64_t sc = f.type == scalar_type::int_ ? *int_to_decimal(v.i) : v.i;
            ok =
                std::find(f.enum_numbers.begin(), f.enum_numbers.end(), sc) != f.enum_numbers.end();
          }
          if (f.has_range && (v.i < f.range_low || v.i > f.range_high)) ok = false;
          if (!ok)
            D_.error(A_[d->default_value].where,
                     "the default is not an allowed value of the input");
          else
            f.default_value = v;
        }
      }
    }
    // place in the name trie
    std::uint32_t node_index = 0;
    bool conflict = false;
    for (std::size_t i = 0; i < d->path.size(); ++i) {
      auto& nd = schema.nodes[node_index];
      if (nd.field >= 0) {
        conflict = true;
        break;
      }
      auto it = nd.children.find(d->path[i]);
      if (it == nd.children.end()) {
        schema.nodes.emplace_back();
        std::uint32_t child = static_cast<std::uint32_t>(schema.nodes.size() - 1);
        schema.nodes[node_index].children.emplace(d->path[i], child);
        node_index = child;
      } else {
        node_index = it->second;
      }
    }
    if (conflict || schema.nodes[node_index].field >= 0 ||
        !schema.nodes[node_index].children.empty()) {
      D_.error(d->where,
               "input `" + prefix + f.path +
                   "` conflicts with another input: a path cannot be both a value and an object");
      continue;
    }
    f.order = static_cast<std::uint32_t>(P_->inputs.size());
    f.slot = f.is_list ? schema.list_count++ : schema.scalar_count++;
    schema.nodes[node_index].field = static_cast<int>(schema.fields.size());
    input_meta meta;
    meta.rel_path = f.path;
    meta.parent = parent;
    P_->inputs.push_back(meta);
    std::uint32_t my_id = f.order;

    input_info info;
    info.path = prefix + f.path;
    static const char* tnames[] = {"bool", "int", "number", "string", "date", "color"};
    if (f.of_records)
      info.type = "list";
    else if (f.is_list)
      info.type =
          std::string("list<") +
          (f.enum_strings.empty() && f.enum_numbers.empty() ? tnames[static_cast<int>(f.type)]
                                                            : "enum") +
          ">";
    else if (!f.enum_strings.empty() || !f.enum_numbers.empty())
      info.type = "enum";
    else
      info.type = tnames[static_cast<int>(f.type)];
    if (!f.label.empty()) info.label = f.label;
    if (f.default_value) info.default_value = scalar_json(*f.default_value);
    if (f.has_range) {
      if (f.type == scalar_type::int_)
        info.range =
            std::make_pair(json_value::of_int(f.range_low), json_value::of_int(f.range_high));
      else
        info.range = std::make_pair(scalar_json(value::of_number(f.range_low)),
                                    scalar_json(value::of_number(f.range_high)));
    }
    for (const auto& s : f.enum_strings) {
      json_value j;
      j.type = json_value::kind::string;
      j.s = s;
      info.enum_values.push_back(j);
    }
    for (auto n : f.enum_numbers) {
      json_value j;
      j.type = json_value::kind::decimal;
      j.i = n;
      info.enum_values.push_back(j);
    }
    P_->input_infos.push_back(std::move(info));

    schema.fields.push_back(std::move(f));
    if (ts.kind == ast::type_kind::list_record) {
      auto elem = std::make_shared<record_schema>();
      std::vector<const ast::input_decl*> sub;
      for (const auto& fd : d->fields) sub.push_back(&fd);
      add_fields(*elem, sub, my_id, prefix + join(d->path) + "[].");
      schema.fields.back().element = elem;
    }
  }
}

void checker::build_inputs() {
  // Merge the files' inputs: the same path declared alike is one input.
  std::vector<const ast::input_decl*> decls;
  std::unordered_map<std::string, std::pair<const ast::input_decl*, std::string>> seen;
  for (const auto& f : files_) {
    for (const auto& d : f.inputs) {
      std::string path = join(d.path);
      std::string sig = input_signature(d);
      auto it = seen.find(path);
      if (it != seen.end()) {
        if (it->second.second != sig) {
          const auto& pf = P_->sources->files[it->second.first->where.file];
          D_.error(d.where, "input `" + path + "` is declared differently at " + pf.display + ":" +
                                std::to_string(it->second.first->where.line));
        } else if (it->second.first->where.file == d.where.file) {
          D_.error(d.where, "input `" + path + "` is declared twice");
        }
        continue;
      }
      seen.emplace(path, std::make_pair(&d, sig));
      decls.push_back(&d);
    }
  }
  P_->schema = std::make_shared<record_schema>();
  add_fields(*P_->schema, decls, none_index, "");
  // Resolve field pointers of input_meta now that schema vectors are stable.
  std::function<void(const record_schema&)> walk = [&](const record_schema& s) {
    for (const auto& f : s.fields) {
      P_->inputs[f.order].field = &f;
      if (f.element) walk(*f.element);
    }
  };
  walk(*P_->schema);
  for (const auto& f : P_->schema->fields) {
    input_by_path_.emplace(f.path, f.order);
    all_input_paths_.push_back(f.path);
    input_roots_.insert(f.path.substr(0, f.path.find('.')));
  }
  // A name that is also the first segment of an input path is ambiguous.
  for (const auto& [name, sym] : names_) {
    if (sym.kind == symbol::item || sym.kind == symbol::hazard) continue;
    if (input_roots_.count(name))
      D_.error(sym.where, "`" + name + "` names both a " + symbol_kind_name(sym.kind) +
                              " and the inputs under `" + name + ".`; rename one");
  }
}

// ---- expressions ----------------------------------------------------------------------------

std::string checker::did_you_mean(const std::string& name, bool paths,
                                  const std::function<bool(symbol::kind_t)>& kinds) {
  std::string best;
  std::size_t best_d = std::string::npos;
  auto consider = [&](const std::string& cand) {
    if (cand == name) return;  // the name itself, declared as something else
    std::size_t d = edit_distance(name, cand);
    if (d < best_d) {
      best_d = d;
      best = cand;
    }
  };
  if (paths) {
    for (const auto& p : all_input_paths_) consider(p);
    for (const auto& v : vars_) consider(v.name);
  }
  for (const auto& [n, s] : names_) {
    bool ok = kinds ? kinds(s.kind)
                    : (s.kind == symbol::let || s.kind == symbol::score || s.kind == symbol::grade);
    if (ok) consider(n);
  }
  if (best.empty()) return "";
  std::size_t limit = std::max<std::size_t>(2, name.size() / 3);
  if (best_d > limit) return "";
  return "; did you mean `" + best + "`?";
}

type_ref checker::let_type(std::uint32_t index) {
  if (let_state_[index] == 2) return let_types_[index];
  // Lets are lowered in the order of their references (see reference_order), so a let that
  // is not done yet is on a cycle: the cycle is reported by order_declarations.
  if (let_state_[index] == 1 || lowering_lets_) return simple(ty::error);
  let_state_[index] = 1;
  lowering_lets_ = true;
  deps_ = &let_deps_[index];
  vars_.clear();
  in_hazard_ = false;
  depth_ = 0;
  type_ref t;
  P_->lets[index].value = lower(let_ast_[index]->value, t);
  let_types_[index] = t;
  deps_ = nullptr;
  lowering_lets_ = false;
  let_state_[index] = 2;
  return t;
}

// The first segments of paths and the names of calls an expression mentions, found without
// recursion (the tree may be deep before the checker has measured it).
void checker::mentions(expr_id root, std::vector<std::string>& out) const {
  std::vector<expr_id> stack{root};
  while (!stack.empty()) {
    expr_id id = stack.back();
    stack.pop_back();
    if (id == no_expr) continue;
    const auto& e = A_[id];
    if (e.kind == expr_kind::path && !e.segments.empty()) out.push_back(e.segments[0]);
    if (e.kind == expr_kind::call) out.push_back(e.text);
    for (auto a : e.args) stack.push_back(a);
  }
}

// Orders nodes so that each comes after the nodes it refers to (cycles broken anywhere);
// iterative, so a chain of thousands of declarations cannot exhaust the stack.
std::vector<std::uint32_t> checker::reference_order(
    const std::vector<std::vector<std::uint32_t>>& refs) {
  std::vector<std::uint32_t> order;
  std::vector<std::uint8_t> state(refs.size(), 0);
  for (std::uint32_t r = 0; r < refs.size(); ++r) {
    if (state[r]) continue;
    std::vector<std::pair<std::uint32_t, std::size_t>> stack{{r, 0}};
    state[r] = 1;
    while (!stack.empty()) {
      auto& [n, next] = stack.back();
      if (next < refs[n].size()) {
        std::uint32_t d = refs[n][next++];
        if (state[d] == 0) {
          state[d] = 1;
          stack.push_back({d, 0});
        }
      } else {
        state[n] = 2;
        order.push_back(n);
        stack.pop_back();
      }
    }
  }
  return order;
}

bool checker::comparable(const type_ref& a, const type_ref& b, bool ordering) {
  if (a.t == ty::error || b.t == ty::error) return true;
  if (numeric(a.t) && numeric(b.t)) return true;
  if (a.t == ty::none || b.t == ty::none) {
    ty o = a.t == ty::none ? b.t : a.t;
    return o == ty::none || o == ty::level || o == ty::color;
  }
  if (a.t != b.t) return false;
  switch (a.t) {
    case ty::bool_:
      return !ordering;
    case ty::string:
    case ty::date:
    case ty::color:
      return true;
    case ty::level:
      return a.scale == b.scale;
    default:
      return false;
  }
}

// A string literal compared with a level becomes that level's position.
node_id checker::coerce_level_literal(node_id n, const type_ref& from, const type_ref& to,
                                      ast::pos where, bool& ok) {
  ok = true;
  if (to.t != ty::level || from.t != ty::string) return n;
  const node& nd = P_->nodes[n];
  if (nd.op != opcode::constant || nd.k.kind != vkind::string) {
    ok = false;
    return n;
  }
  const auto& sc = P_->scales[to.scale];
  auto it = std::find(sc.begin(), sc.end(), std::string(nd.k.s));
  if (it == sc.end()) {
    D_.error(where, "\"" + std::string(nd.k.s) + "\" is not a level of " + type_name(to, *P_));
    return n;
  }
  value v{vkind::level, it - sc.begin(), {}, nullptr};
  return make_const(v, where);
}

node_id checker::lower_condition(expr_id id) {
  type_ref t;
  node_id n = lower(id, t);
  if (t.t != ty::bool_ && t.t != ty::error)
    type_error(A_[id].where, "a condition must be bool, found " + type_name(t, *P_));
  return n;
}

node_id checker::lower_number(expr_id id) {
  type_ref t;
  node_id n = lower(id, t);
  if (!numeric(t.t) && t.t != ty::error)
    type_error(A_[id].where, "points must be a number, found " + type_name(t, *P_));
  return n;
}

node_id checker::lower(expr_id id, type_ref& t) {
  const ast::expr& e = A_[id];
  // The parser counts brackets and prefix operators; long operator chains (a + b + c ...)
  // nest in the tree too, and are caught here before recursion can go deeper.
  if (++depth_ > P_->limits.depth) {
    --depth_;
    if (!depth_reported_) {
      depth_reported_ = true;
      D_.error(e.where, "the expression nests deeper than the limit of " +
                            std::to_string(P_->limits.depth) + " (limit `depth`)");
    }
    return error_node(e.where, t);
  }
  struct guard {
    std::uint32_t& d;
    ~guard() { --d; }
  } g{depth_};
  value v;
  if (e.kind != expr_kind::unary && e.kind != expr_kind::lit_list && literal_value(id, v, t)) {
    if (v.kind == vkind::string) {
      // Strings of the arena outlive the program only if copied.
      P_->schema->storage.emplace_back(v.s);
      v.s = P_->schema->storage.back();
    }
    return make_const(v, e.where);
  }
  switch (e.kind) {
    case expr_kind::lit_list: {
      std::vector<node_id> kids;
      type_ref el = simple(ty::error);
      bool first = true;
      for (auto a : e.args) {
        type_ref at;
        kids.push_back(lower(a, at));
        if (first) {
          el = at;
          first = false;
        } else if (numeric(el.t) && numeric(at.t)) {
          if (at.t == ty::number) el = at;
        } else if (el.t != at.t && at.t != ty::error && el.t != ty::error) {
          type_error(A_[a].where, "list elements must have one type: " + type_name(el, *P_) +
                                      " and " + type_name(at, *P_));
        }
      }
      t = simple(ty::list);
      t.element = first ? ty::none : el.t;
      if (t.element == ty::level) t.scale = el.scale;
      return make(opcode::list_literal, e.where, kids);
    }
    case expr_kind::path:
      return lower_path(e, t);
    case expr_kind::asof:
      t = simple(ty::date);
      return make(opcode::asof, e.where);
    case expr_kind::hazards:
      if (in_hazard_) {
        type_error(e.where,
                   "a hazard's condition may not read `hazards` (it would depend on itself)");
        return error_node(e.where, t);
      }
      if (in_table_) {
        type_error(e.where, "a table reads only its parameters, not `hazards`");
        return error_node(e.where, t);
      }
      for (std::uint32_t i = 0; i < P_->hazards.size(); ++i) note_dep(decl_kind::hazard, i);
      t = simple(ty::hazard_list);
      t.element = ty::hazard;
      return make(opcode::hazards, e.where);
    case expr_kind::unary: {
      type_ref at;
      node_id k = lower(e.args[0], at);
      if (e.oper == ast::op::not_) {
        if (at.t != ty::bool_ && at.t != ty::error)
          type_error(e.where, "`not` needs a bool, found " + type_name(at, *P_));
        t = simple(ty::bool_);
      } else {
        if (!numeric(at.t) && at.t != ty::error)
          type_error(e.where, "unary `-` needs a number, found " + type_name(at, *P_));
        t = at;
      }
      return make(opcode::unary, e.where, {k}, none_index, none_index,
                  static_cast<std::uint8_t>(e.oper));
    }
    case expr_kind::binary:
      return lower_binary(e, t);
    case expr_kind::coalesce: {
      type_ref a, b;
      node_id x = lower(e.args[0], a);
      node_id y = lower(e.args[1], b);
      if (a.t == ty::error)
        t = b;
      else if (b.t == ty::error)
        t = a;
      else if (numeric(a.t) && numeric(b.t))
        t = simple(a.t == ty::number || b.t == ty::number ? ty::number : ty::int_);
      else if (a.t == b.t || (a.t == ty::level && b.t == ty::none) || b.t == ty::none)
        t = a;
      else if (a.t == ty::level && b.t == ty::string) {
        bool ok;
        y = coerce_level_literal(y, b, a, e.where, ok);
        t = a;
      } else {
        type_error(e.where, "`??` needs both sides of one type: " + type_name(a, *P_) + " and " +
                                type_name(b, *P_));
        t = simple(ty::error);
      }
      return make(opcode::coalesce, e.where, {x, y});
    }
    case expr_kind::if_else: {
      node_id c = lower_condition(e.args[0]);
      type_ref a, b;
      node_id x = lower(e.args[1], a);
      node_id y = lower(e.args[2], b);
      if (a.t == ty::error)
        t = b;
      else if (b.t == ty::error)
        t = a;
      else if (numeric(a.t) && numeric(b.t))
        t = simple(a.t == ty::number || b.t == ty::number ? ty::number : ty::int_);
      else if (a.t == b.t && (a.t != ty::level || a.scale == b.scale))
        t = a;
      else if (a.t == ty::none || b.t == ty::none)
        t = a.t == ty::none ? b : a;
      else {
        type_error(A_[e.args[2]].where, "`if` branches have different types: " + type_name(a, *P_) +
                                            " and " + type_name(b, *P_));
        t = simple(ty::error);
      }
      return make(opcode::if_else, e.where, {c, x, y});
    }
    case expr_kind::call:
      return lower_call(e, t);
    case expr_kind::aggregate:
      return lower_aggregate(e, t);
    case expr_kind::member:
      type_error(e.where, "a field can only be read from a path or an aggregate variable");
      return error_node(e.where, t);
    default:
      break;
  }
  type_error(e.where, "unsupported expression");
  return error_node(e.where, t);
}

node_id checker::lower_path(const ast::expr& e, type_ref& t) {
  const auto& segs = e.segments;
  const std::string& first = segs[0];
  // 1. table parameters
  if (params_decl_) {
    for (std::uint32_t i = 0; i < params_decl_->params.size(); ++i) {
      if (params_decl_->params[i].name == first) {
        if (segs.size() > 1) {
          type_error(e.where, "parameter `" + first + "` has no fields");
          return error_node(e.where, t);
        }
        t = (*params_)[i];
        return make(opcode::param, e.where, {}, i);
      }
    }
  }
  // 2. aggregate variables, innermost first
  for (auto it = vars_.rbegin(); it != vars_.rend(); ++it) {
    if (it->name != first) continue;
    const type_ref& vt = it->type;
    if (segs.size() == 1) {
      t = vt;
      return make(opcode::var, e.where, {}, it->depth);
    }
    if (vt.t == ty::hazard) {
      static const char* fields[] = {"id", "category", "severity", "status"};
      if (segs.size() == 2)
        for (std::uint8_t i = 0; i < 4; ++i)
          if (segs[1] == fields[i]) {
            t = simple(ty::string);
            return make(opcode::hazard_field, e.where, {}, it->depth, i);
          }
      type_error(e.where,
                 "a hazard record has the fields id, category, severity and status, not `" +
                     join(segs, 1) + "`");
      return error_node(e.where, t);
    }
    if (vt.t == ty::error) return error_node(e.where, t);  // already reported
    if (vt.t != ty::record || !vt.schema) {
      type_error(e.where, "`" + first + "` is a " + type_name(vt, *P_) + " and has no fields");
      return error_node(e.where, t);
    }
    const record_schema& rs = *vt.schema;
    std::uint32_t nd = 0;
    for (std::size_t i = 1; i < segs.size(); ++i) {
      auto c = rs.nodes[nd].children.find(segs[i]);
      if (c == rs.nodes[nd].children.end()) break;
      nd = c->second;
      if (rs.nodes[nd].field >= 0) {
        if (i + 1 != segs.size()) break;
        const field_schema& f = rs.fields[static_cast<std::size_t>(rs.nodes[nd].field)];
        if (f.is_list) {
          t = simple(ty::list);
          if (f.of_records) {
            t.element = ty::record;
            t.schema = f.element.get();
          } else {
            t.element = scalar_to_ty(f.type);
          }
          return make(opcode::var_list, e.where, {}, it->depth, f.order);
        }
        t = simple(scalar_to_ty(f.type));
        return make(opcode::var_field, e.where, {}, it->depth, f.order);
      }
    }
    std::string rest = join(segs, 1);
    std::string hint;
    std::size_t best = std::string::npos;
    for (const auto& f : rs.fields) {
      std::size_t d = edit_distance(rest, f.path);
      if (d < best) {
        best = d;
        hint = f.path;
      }
    }
    std::string msg =
        "`" + join(segs) + "`: the elements of `" + first + "` have no field `" + rest + "`";
    if (!hint.empty() && best <= std::max<std::size_t>(2, rest.size() / 3))
      msg += "; did you mean `" + first + "." + hint + "`?";
    type_error(e.where, msg);
    return error_node(e.where, t);
  }
  // 3. declarations
  auto sym = names_.find(first);
  if (sym != names_.end()) {
    const symbol& s = sym->second;
    if (in_table_ && s.kind != symbol::table) {
      type_error(e.where, "a table reads only its parameters; `" + first + "` is a " +
                              symbol_kind_name(s.kind));
      return error_node(e.where, t);
    }
    switch (s.kind) {
      case symbol::let:
        if (segs.size() > 1) break;
        note_dep(decl_kind::let, s.index);
        t = let_type(s.index);
        return make(opcode::decl, e.where, {}, s.index, static_cast<std::uint32_t>(decl_kind::let));
      case symbol::score: {
        note_dep(decl_kind::score, s.index);
        t = simple(ty::number);
        if (segs.size() == 1)
          return make(opcode::decl, e.where, {}, s.index,
                      static_cast<std::uint32_t>(decl_kind::score));
        if (segs.size() == 2) {
          const auto* sd = score_ast_[s.index];
          for (std::uint32_t i = 0; i < sd->sections.size(); ++i)
            if (sd->sections[i].name == segs[1])
              return make(opcode::section, e.where, {}, s.index, i);
          type_error(e.where, "score `" + first + "` has no section `" + segs[1] + "`");
          return error_node(e.where, t);
        }
        break;
      }
      case symbol::grade: {
        if (segs.size() > 1) break;
        note_dep(decl_kind::grade, s.index);
        const auto* gd = grade_ast_[s.index];
        if (gd->color_scale) {
          t = simple(ty::color);
        } else {
          t = simple(ty::level);
          t.scale = P_->grades[s.index].scale;
        }
        return make(opcode::decl, e.where, {}, s.index,
                    static_cast<std::uint32_t>(decl_kind::grade));
      }
      case symbol::hazard:
        type_error(e.where, "`" + first + "` is a hazard: write present(" + first + ")");
        return error_node(e.where, t);
      case symbol::table:
        type_error(e.where, "`" + first + "` is a table: call it with arguments");
        return error_node(e.where, t);
      case symbol::item:
        type_error(e.where, "`" + first + "` is an item; read its score or section instead");
        return error_node(e.where, t);
    }
    type_error(e.where, "`" + first + "` is a " + symbol_kind_name(s.kind) + " and has no field `" +
                            join(segs, 1) + "`");
    return error_node(e.where, t);
  }
  // 4. inputs
  if (in_table_) {
    type_error(e.where, "a table reads only its parameters, not the input `" + join(segs) + "`");
    return error_node(e.where, t);
  }
  std::string full = join(segs);
  auto in = input_by_path_.find(full);
  if (in != input_by_path_.end()) {
    const field_schema& f = *P_->inputs[in->second].field;
    if (f.is_list) {
      t = simple(ty::list);
      if (f.of_records) {
        t.element = ty::record;
        t.schema = f.element.get();
      } else {
        t.element = scalar_to_ty(f.type);
      }
      return make(opcode::fact_list, e.where, {}, f.order);
    }
    t = simple(scalar_to_ty(f.type));
    return make(opcode::fact, e.where, {}, f.order);
  }
  type_error(e.where, "`" + full + "` is not declared" + did_you_mean(full));
  return error_node(e.where, t);
}

node_id checker::lower_binary(const ast::expr& e, type_ref& t) {
  using ast::op;
  type_ref a, b;
  node_id x = lower(e.args[0], a);
  node_id y = lower(e.args[1], b);
  auto sub = static_cast<std::uint8_t>(e.oper);
  bool err = a.t == ty::error || b.t == ty::error;
  auto mk = [&] { return make(opcode::binary, e.where, {x, y}, none_index, none_index, sub); };
  switch (e.oper) {
    case op::and_:
    case op::or_:
      if (!err && (a.t != ty::bool_ || b.t != ty::bool_))
        type_error(e.where, std::string("`") + (e.oper == op::and_ ? "and" : "or") +
                                "` needs bool operands, found " + type_name(a, *P_) + " and " +
                                type_name(b, *P_));
      t = simple(ty::bool_);
      return mk();
    case op::eq:
    case op::ne:
    case op::lt:
    case op::le:
    case op::gt:
    case op::ge: {
      bool ordering = e.oper != op::eq && e.oper != op::ne;
      bool ok = true;
      if (a.t == ty::level && b.t == ty::string)
        y = coerce_level_literal(y, b, a, e.where, ok), b = a;
      else if (b.t == ty::level && a.t == ty::string)
        x = coerce_level_literal(x, a, b, e.where, ok), a = b;
      if (!ok) {
        type_error(e.where, "a level can be compared with a level label literal only");
      } else if (!comparable(a, b, ordering)) {
        type_error(e.where, std::string(ordering ? "cannot order " : "cannot compare ") +
                                type_name(a, *P_) + " with " + type_name(b, *P_));
      }
      t = simple(ty::bool_);
      return make(opcode::binary, e.where, {x, y}, none_index, none_index, sub);
    }
    case op::in:
    case op::not_in: {
      t = simple(ty::bool_);
      if (err) return mk();
      if (b.t != ty::list || b.element == ty::record) {
        type_error(A_[e.args[1]].where,
                   "`in` needs a list literal or a list<T> input on its right, found " +
                       type_name(b, *P_));
        return mk();
      }
      if (b.element != ty::none && !comparable(a, simple(b.element), false) &&
          !(a.t == ty::level && b.element == ty::string))
        type_error(e.where, "cannot look for a " + type_name(a, *P_) + " in a list of " +
                                type_name(simple(b.element), *P_));
      if (a.t == ty::level && b.element == ty::string) {
        // convert the literal elements to level positions
        const node& ln = P_->nodes[y];
        if (ln.op == opcode::list_literal) {
          std::vector<node_id> kids;
          for (std::uint32_t i = 0; i < ln.nkids; ++i) {
            bool ok;
            node_id k = P_->kid(P_->nodes[y], i);
            kids.push_back(coerce_level_literal(k, simple(ty::string), a, e.where, ok));
          }
          y = make(opcode::list_literal, e.where, kids);
        }
      }
      return mk();
    }
    case op::add:
    case op::sub: {
      if (err) {
        t = simple(ty::error);
        return mk();
      }
      if (numeric(a.t) && numeric(b.t)) {
        t = simple(a.t == ty::number || b.t == ty::number ? ty::number : ty::int_);
        return mk();
      }
      if (a.t == ty::date && b.t == ty::int_) {
        t = simple(ty::date);
        return mk();
      }
      if (e.oper == op::sub && a.t == ty::date && b.t == ty::date) {
        t = simple(ty::int_);
        return mk();
      }
      type_error(e.where, std::string("cannot ") + (e.oper == op::add ? "add " : "subtract ") +
                              type_name(b, *P_) + (e.oper == op::add ? " to " : " from ") +
                              type_name(a, *P_));
      t = simple(ty::error);
      return mk();
    }
    case op::mul:
    case op::div:
      if (!err && !(numeric(a.t) && numeric(b.t)))
        type_error(e.where, std::string("`") + (e.oper == op::mul ? "*" : "/") +
                                "` needs numbers, found " + type_name(a, *P_) + " and " +
                                type_name(b, *P_));
      t = simple(e.oper == op::div || a.t == ty::number || b.t == ty::number ? ty::number
                                                                             : ty::int_);
      return mk();
    case op::mod:
      if (!err && (a.t != ty::int_ || b.t != ty::int_))
        type_error(e.where,
                   "`%` takes ints only, found " + type_name(a, *P_) + " and " + type_name(b, *P_));
      t = simple(ty::int_);
      return mk();
    default:
      break;
  }
  type_error(e.where, "unsupported operator");
  return error_node(e.where, t);
}

node_id checker::lower_call(const ast::expr& e, type_ref& t) {
  const std::string& fn = e.text;
  std::size_t n = e.args.size();
  auto arity = [&](std::size_t lo, std::size_t hi) {
    if (n < lo || n > hi) {
      type_error(e.where, "`" + fn + "` takes " +
                              (lo == hi ? std::to_string(lo)
                                        : std::to_string(lo) + " to " + std::to_string(hi)) +
                              " argument" + (hi == 1 ? "" : "s") + ", found " + std::to_string(n));
      return false;
    }
    return true;
  };
  // present(ID), exists(path), missing(path)
  if (fn == "present") {
    if (!arity(1, 1)) return error_node(e.where, t);
    const auto& a = A_[e.args[0]];
    std::string id = a.kind == expr_kind::path ? join(a.segments) : "";
    auto s = names_.find(id);
    t = simple(ty::bool_);
    if (s == names_.end() || s->second.kind != symbol::hazard) {
      type_error(a.where,
                 "`" + id + "` is not a hazard" +
                     did_you_mean(id, false, [](symbol::kind_t k) { return k == symbol::hazard; }));
      return error_node(e.where, t);
    }
    if (in_table_) {
      type_error(e.where, "a table reads only its parameters");
      return error_node(e.where, t);
    }
    note_dep(decl_kind::hazard, s->second.index);
    return make(opcode::present, e.where, {}, s->second.index);
  }
  if (fn == "exists" || fn == "missing") {
    if (!arity(1, 1)) return error_node(e.where, t);
    type_ref at;
    node_id k = lower(e.args[0], at);
    t = simple(ty::bool_);
    const node& kn = P_->nodes[k];
    std::uint32_t input = none_index, depth = none_index;
    if (kn.op == opcode::fact || kn.op == opcode::fact_list)
      input = kn.a;
    else if (kn.op == opcode::var_field || kn.op == opcode::var_list)
      input = kn.b, depth = kn.a;
    if (input == none_index) {
      if (at.t != ty::error) type_error(A_[e.args[0]].where, "`" + fn + "` takes an input path");
      return error_node(e.where, t);
    }
    return make(opcode::exists, e.where, {}, input, depth, fn == "missing" ? 1 : 0);
  }
  // tables
  auto s = names_.find(fn);
  if (s != names_.end() && s->second.kind == symbol::table) {
    std::uint32_t ti = s->second.index;
    const auto* td = table_ast_[ti];
    if (table_deps_) table_deps_->push_back(ti);
    // Tables are lowered in the order of their calls; one not done yet is on a cycle.
    std::vector<node_id> kids;
    if (n != td->params.size()) {
      type_error(e.where, "table `" + fn + "` takes " + std::to_string(td->params.size()) +
                              " argument(s), found " + std::to_string(n));
    }
    for (std::size_t i = 0; i < n; ++i) {
      type_ref at;
      node_id k = lower(e.args[i], at);
      if (i < P_->tables[ti].params.size()) {
        const type_ref& pt = P_->tables[ti].params[i];
        bool ok = at.t == ty::error || pt.t == ty::error || at.t == pt.t ||
                  (pt.t == ty::number && at.t == ty::int_);
        if (!ok)
          type_error(A_[e.args[i]].where, "argument " + std::to_string(i + 1) + " of `" + fn +
                                              "` (" + td->params[i].name + ") must be " +
                                              type_name(pt, *P_) + ", found " + type_name(at, *P_));
      }
      kids.push_back(k);
    }
    t = P_->tables[ti].result;
    return make(opcode::table_call, e.where, kids, ti);
  }
  // builtins
  std::vector<node_id> kids;
  std::vector<type_ref> ts;
  for (auto a : e.args) {
    type_ref at;
    kids.push_back(lower(a, at));
    ts.push_back(at);
  }
  bool err = std::any_of(ts.begin(), ts.end(), [](const type_ref& x) { return x.t == ty::error; });
  auto call = [&](builtin b, type_ref rt) {
    t = rt;
    return make(opcode::call, e.where, kids, none_index, none_index, static_cast<std::uint8_t>(b));
  };
  auto need = [&](std::size_t i, bool ok, const char* what) {
    if (!err && !ok)
      type_error(A_[e.args[i]].where, "argument " + std::to_string(i + 1) + " of `" + fn +
                                          "` must be " + what + ", found " + type_name(ts[i], *P_));
  };
  if (fn == "len") {
    if (!arity(1, 1)) return error_node(e.where, t);
    need(0, ts[0].t == ty::string || ts[0].t == ty::list || ts[0].t == ty::hazard_list,
         "a string or a list");
    return call(builtin::len, simple(ty::int_));
  }
  if (fn == "abs") {
    if (!arity(1, 1)) return error_node(e.where, t);
    need(0, numeric(ts[0].t), "a number");
    return call(builtin::abs, ts[0]);
  }
  if (fn == "min" || fn == "max") {
    if (n < 1) {
      arity(1, 99);
      return error_node(e.where, t);
    }
    type_ref rt = ts[0];
    for (std::size_t i = 0; i < n; ++i) {
      if (err) break;
      if (numeric(rt.t) && numeric(ts[i].t)) {
        if (ts[i].t == ty::number) rt = ts[i];
      } else if (rt.t != ts[i].t || !(rt.t == ty::color || rt.t == ty::date || rt.t == ty::string ||
                                      (rt.t == ty::level && rt.scale == ts[i].scale))) {
        type_error(A_[e.args[i]].where, "`" + fn + "` needs arguments of one ordered type, found " +
                                            type_name(rt, *P_) + " and " + type_name(ts[i], *P_));
        break;
      }
    }
    return call(fn == "min" ? builtin::min : builtin::max, rt);
  }
  if (fn == "round") {
    if (!arity(1, 2)) return error_node(e.where, t);
    need(0, numeric(ts[0].t), "a number");
    if (n == 2) {
      need(1, ts[1].t == ty::int_, "an int");
      return call(builtin::round_n, simple(ty::number));
    }
    return call(builtin::round, simple(ty::int_));
  }
  if (fn == "floor" || fn == "ceil") {
    if (!arity(1, 1)) return error_node(e.where, t);
    need(0, numeric(ts[0].t), "a number");
    return call(fn == "floor" ? builtin::floor : builtin::ceil, simple(ty::int_));
  }
  if (fn == "days_since" || fn == "year") {
    if (!arity(1, 1)) return error_node(e.where, t);
    need(0, ts[0].t == ty::date, "a date");
    return call(fn == "year" ? builtin::year : builtin::days_since, simple(ty::int_));
  }
  if (fn == "years_between") {
    if (!arity(2, 2)) return error_node(e.where, t);
    need(0, ts[0].t == ty::date, "a date");
    need(1, ts[1].t == ty::date, "a date");
    return call(builtin::years_between, simple(ty::int_));
  }
  if (fn == "starts_with") {
    if (!arity(2, 2)) return error_node(e.where, t);
    need(0, ts[0].t == ty::string, "a string");
    need(1, ts[1].t == ty::string, "a string");
    return call(builtin::starts_with, simple(ty::bool_));
  }
  static const char* aggs[] = {"count", "any", "all", "sum", "avg"};
  for (const char* a : aggs)
    if (fn == a) {
      type_error(e.where, "`" + fn + "` is an aggregate: write " + fn + "(x in LIST ...)");
      return error_node(e.where, t);
    }
  std::string hint;
  static const char* known[] = {"len",        "abs",           "min",    "max",        "round",
                                "floor",      "ceil",          "exists", "missing",    "present",
                                "days_since", "years_between", "year",   "starts_with"};
  std::size_t best = std::string::npos;
  for (const char* k : known) {
    std::size_t d = edit_distance(fn, k);
    if (d < best) best = d, hint = k;
  }
  for (const auto& [name, sym] : names_)
    if (sym.kind == symbol::table) {
      std::size_t d = edit_distance(fn, name);
      if (d < best) best = d, hint = name;
    }
  type_error(e.where, "unknown function `" + fn + "`" +
                          (best <= 2 ? "; did you mean `" + hint + "`?" : std::string()));
  return error_node(e.where, t);
}

node_id checker::lower_aggregate(const ast::expr& e, type_ref& t) {
  const std::string& fn = e.text;
  agg kind;
  if (fn == "count")
    kind = agg::count;
  else if (fn == "any")
    kind = agg::any;
  else if (fn == "all")
    kind = agg::all;
  else if (fn == "sum")
    kind = agg::sum;
  else if (fn == "min")
    kind = agg::min;
  else if (fn == "max")
    kind = agg::max;
  else if (fn == "avg")
    kind = agg::avg;
  else {
    type_error(e.where, "`" + fn + "` is not an aggregate (count any all sum min max avg)");
    return error_node(e.where, t);
  }
  expr_id src = e.args[0], where = e.args.size() > 1 ? e.args[1] : no_expr,
          val = e.args.size() > 2 ? e.args[2] : no_expr;
  type_ref st;
  node_id sn = lower(src, st);
  if ((kind == agg::any || kind == agg::all) && where == no_expr)
    type_error(e.where, "`" + fn + "` needs a `where` condition");
  if ((kind == agg::any || kind == agg::all || kind == agg::count) && val != no_expr)
    type_error(A_[val].where, "`" + fn + "` takes no `: value`");
  if ((kind == agg::sum || kind == agg::min || kind == agg::max || kind == agg::avg) &&
      val == no_expr)
    type_error(e.where, "`" + fn + "` needs `: value` (e.g. " + fn + "(r in residents: r.score))");
  type_ref elem;
  if (st.t == ty::list) {
    elem = simple(st.element);
    elem.schema = st.schema;
    elem.scale = st.scale;
  } else if (st.t == ty::hazard_list) {
    elem = simple(ty::hazard);
  } else {
    if (st.t != ty::error)
      type_error(A_[src].where, "`" + fn + "` iterates over a list, found " + type_name(st, *P_));
    elem = simple(ty::error);
  }
  if (names_.count(e.var) || input_roots_.count(e.var))
    type_error(e.where,
               "the variable `" + e.var + "` would hide the declaration or input of that name");
  std::uint32_t depth = static_cast<std::uint32_t>(vars_.size());
  P_->max_frame_depth = std::max(P_->max_frame_depth, depth + 1);
  vars_.push_back({e.var, elem, depth});
  node_id wn = where != no_expr ? lower_condition(where) : none_index;
  type_ref vt = simple(ty::int_);
  node_id vn = none_index;
  if (val != no_expr) {
    vn = lower(val, vt);
    if ((kind == agg::sum || kind == agg::avg) && !numeric(vt.t) && vt.t != ty::error)
      type_error(A_[val].where, "`" + fn + "` needs a number value, found " + type_name(vt, *P_));
  }
  vars_.pop_back();
  switch (kind) {
    case agg::count:
      t = simple(ty::int_);
      break;
    case agg::any:
    case agg::all:
      t = simple(ty::bool_);
      break;
    case agg::sum:
      t = vt.t == ty::error ? vt : simple(vt.t == ty::int_ ? ty::int_ : ty::number);
      break;
    case agg::avg:
      t = simple(ty::number);
      break;
    case agg::min:
    case agg::max:
      t = vt;
      break;
  }
  // kids: source, where, value (none_index encoded as the source itself never happens)
  std::vector<node_id> kids{sn, wn, vn};
  return make(opcode::aggregate, e.where, kids, depth, none_index, static_cast<std::uint8_t>(kind));
}

// ---- tables ---------------------------------------------------------------------------------

void checker::lower_table(std::uint32_t index) {
  if (table_state_[index] != 0) return;
  table_state_[index] = 1;
  depth_ = 0;
  const ast::table_decl& td = *table_ast_[index];
  table_plan& tp = P_->tables[index];
  auto scalar_type_of = [&](const ast::type_spec& ts) -> type_ref {
    switch (ts.kind) {
      case ast::type_kind::bool_:
        return simple(ty::bool_);
      case ast::type_kind::int_:
        return simple(ty::int_);
      case ast::type_kind::number:
        return simple(ty::number);
      case ast::type_kind::string:
        return simple(ty::string);
      case ast::type_kind::date:
        return simple(ty::date);
      case ast::type_kind::color:
        return simple(ty::color);
      default:
        D_.error(
            ts.where,
            "table parameters and results are scalar types (bool int number string date color)");
        return simple(ty::error);
    }
  };
  for (const auto& p : td.params) tp.params.push_back(scalar_type_of(p.type));
  tp.result = scalar_type_of(td.result);

  auto saved_vars = std::move(vars_);
  vars_.clear();
  auto* saved_params = params_;
  auto* saved_decl = params_decl_;
  bool saved_table = in_table_;
  auto* saved_deps = deps_;
  auto* saved_tdeps = table_deps_;
  deps_ = nullptr;
  table_deps_ = &table_calls_[index];
  params_ = &tp.params;
  params_decl_ = &td;
  in_table_ = true;

  std::vector<table_row_shape> shapes;
  for (const auto& row : td.rows) {
    table_row_plan rp;
    table_row_shape shape;
    shape.where = row.where;
    // result literal
    value rv;
    type_ref rt;
    if (row.result != no_expr && literal_value(row.result, rv, rt)) {
      if (tp.result.t == ty::number && rt.t == ty::int_) {
        auto sc = int_to_decimal(rv.i);
        if (sc) rv = value::of_number(*sc), rt = simple(ty::number);
      }
      if (rt.t != tp.result.t && tp.result.t != ty::error)
        D_.error(A_[row.result].where, "the result must be " + type_name(tp.result, *P_) +
                                           ", found " + type_name(rt, *P_));
      if (rv.kind == vkind::string) {
        P_->schema->storage.emplace_back(rv.s);
        rv.s = P_->schema->storage.back();
      }
      rp.result = rv;
    } else if (row.result != no_expr) {
      D_.error(A_[row.result].where, "a table result must be a literal");
    }
    if (!td.pipe_form) {
      if (row.otherwise) {
        shape.catch_all = true;
      } else {
        rp.cond = lower_condition(row.cond);
        shape = describe_condition(A_, row.cond, td);
        shape.where = row.where;
      }
    } else {
      std::vector<node_id> conds;
      shape.analyzable = true;
      shape.cells.resize(td.params.size());
      bool all_any = true;
      for (std::size_t i = 0; i < row.cells.size() && i < td.params.size(); ++i) {
        const auto& c = row.cells[i];
        shape.cells[i] = describe_cell(A_, c);
        if (c.kind == ast::cell_kind::any) continue;
        all_any = false;
        node_id pn = make(opcode::param, c.where, {}, static_cast<std::uint32_t>(i));
        const type_ref& pt = tp.params[i];
        auto lit = [&](expr_id id) {
          type_ref lt;
          node_id ln = lower(id, lt);
          bool ok = lt.t == ty::error || pt.t == ty::error || lt.t == pt.t ||
                    (numeric(lt.t) && numeric(pt.t));
          if (lt.t == ty::list) ok = true;
          if (!ok)
            D_.error(A_[id].where, "column `" + td.params[i].name + "` is " + type_name(pt, *P_) +
                                       ", this cell is " + type_name(lt, *P_));
          return ln;
        };
        switch (c.kind) {
          case ast::cell_kind::compare:
            conds.push_back(make(opcode::binary, c.where, {pn, lit(c.a)}, none_index, none_index,
                                 static_cast<std::uint8_t>(c.oper)));
            break;
          case ast::cell_kind::in_list:
            conds.push_back(make(opcode::binary, c.where, {pn, lit(c.a)}, none_index, none_index,
                                 static_cast<std::uint8_t>(ast::op::in)));
            break;
          case ast::cell_kind::range: {
            node_id lo = make(opcode::binary, c.where, {pn, lit(c.a)}, none_index, none_index,
                              static_cast<std::uint8_t>(ast::op::ge));
            node_id pn2 = make(opcode::param, c.where, {}, static_cast<std::uint32_t>(i));
            node_id hi = make(opcode::binary, c.where, {pn2, lit(c.b)}, none_index, none_index,
                              static_cast<std::uint8_t>(ast::op::le));
            conds.push_back(make(opcode::binary, c.where, {lo, hi}, none_index, none_index,
                                 static_cast<std::uint8_t>(ast::op::and_)));
            break;
          }
          default:
            break;
        }
      }
      if (row.cells.size() != td.params.size())
        D_.error(row.where, "this row has " + std::to_string(row.cells.size()) +
                                " condition cell(s); the table has " +
                                std::to_string(td.params.size()) + " parameter(s)");
      if (all_any) {
        shape.catch_all = true;
      } else {
        node_id acc = conds[0];
        for (std::size_t i = 1; i < conds.size(); ++i)
          acc = make(opcode::binary, row.where, {acc, conds[i]}, none_index, none_index,
                     static_cast<std::uint8_t>(ast::op::and_));
        rp.cond = acc;
      }
    }
    if (shape.catch_all) rp.cond = none_index;
    tp.rows.push_back(rp);
    shapes.push_back(std::move(shape));
  }
  analyze_table_rows(A_, td, shapes, D_);

  vars_ = std::move(saved_vars);
  params_ = saved_params;
  params_decl_ = saved_decl;
  in_table_ = saved_table;
  deps_ = saved_deps;
  table_deps_ = saved_tdeps;
  table_state_[index] = 2;
}

// ---- whole program --------------------------------------------------------------------------

void checker::lower_all() {
  const auto& src = *P_->sources;
  P_->lets.resize(let_ast_.size());
  let_types_.resize(let_ast_.size());
  let_state_.assign(let_ast_.size(), 0);
  let_deps_.resize(let_ast_.size());
  for (std::size_t i = 0; i < let_ast_.size(); ++i) {
    P_->lets[i].name = let_ast_[i]->name;
    P_->lets[i].text = source_text(let_ast_[i]->value);
  }
  P_->tables.resize(table_ast_.size());
  table_state_.assign(table_ast_.size(), 0);
  table_calls_.resize(table_ast_.size());
  for (std::size_t i = 0; i < table_ast_.size(); ++i) P_->tables[i].name = table_ast_[i]->name;
  // Hazards and grades are declared first so that references find them.
  for (std::size_t i = 0; i < hazard_ast_.size(); ++i) {
    const auto& h = *hazard_ast_[i];
    hazard_plan hp;
    hp.id = h.id;
    hp.title = h.title;
    hp.category = h.category;
    hp.major = h.major;
    hp.cite = h.cite;
    hp.advice = h.advice;
    hp.where = h.where;
    static const char* actions[] = {"immediate", "deadline", "suspend", "close"};
    hp.action =
        h.action ? actions[static_cast<int>(*h.action)] : (h.major ? "suspend" : "deadline");
    hp.within_days = h.within_days;
    if (h.when != no_expr) {
      const auto& e = A_[h.when];
      const auto& text = src.files[e.where.file].text;
      if (e.source.end <= text.size() && e.source.begin < e.source.end)
        hp.condition_text = normalize_line(
            std::string_view(text).substr(e.source.begin, e.source.end - e.source.begin));
    }
    P_->hazards.push_back(std::move(hp));
  }
  for (std::size_t i = 0; i < grade_ast_.size(); ++i) {
    grade_plan gp;
    gp.name = grade_ast_[i]->name;
    gp.color_scale = grade_ast_[i]->color_scale;
    if (!gp.color_scale) {
      gp.scale = static_cast<std::uint32_t>(P_->scales.size());
      P_->scales.push_back(grade_ast_[i]->levels);
      std::set<std::string> uniq(grade_ast_[i]->levels.begin(), grade_ast_[i]->levels.end());
      if (uniq.size() != grade_ast_[i]->levels.size())
        D_.error(grade_ast_[i]->where, "grade `" + gp.name + "` repeats a level label");
    }
    P_->grades.push_back(std::move(gp));
  }
  for (std::size_t i = 0; i < score_ast_.size(); ++i) {
    score_plan sp;
    sp.name = score_ast_[i]->name;
    P_->scores.push_back(std::move(sp));
  }

  // Tables first (lets call them), each after the tables it calls; then lets likewise.
  {
    std::vector<std::vector<std::uint32_t>> refs(table_ast_.size());
    for (std::uint32_t i = 0; i < table_ast_.size(); ++i) {
      std::vector<std::string> names;
      for (const auto& row : table_ast_[i]->rows) mentions(row.cond, names);
      for (const auto& n : names) {
        auto it = names_.find(n);
        if (it != names_.end() && it->second.kind == symbol::table)
          refs[i].push_back(it->second.index);
      }
    }
    std::vector<std::uint64_t> chain(table_ast_.size(), 0);
    bool reported = false;
    for (auto i : reference_order(refs)) {
      lower_table(i);
      for (auto d : refs[i]) chain[i] = std::max(chain[i], chain[d]);
      ++chain[i];
      if (chain[i] > P_->limits.depth && !reported) {
        reported = true;
        D_.error(table_ast_[i]->where, "table `" + table_ast_[i]->name + "` calls tables " +
                                           std::to_string(chain[i]) +
                                           " deep, more than the limit of " +
                                           std::to_string(P_->limits.depth) + " (limit `depth`)");
      }
    }
  }
  {
    std::vector<std::vector<std::uint32_t>> refs(let_ast_.size());
    for (std::uint32_t i = 0; i < let_ast_.size(); ++i) {
      std::vector<std::string> names;
      mentions(let_ast_[i]->value, names);
      for (const auto& n : names) {
        auto it = names_.find(n);
        if (it != names_.end() && it->second.kind == symbol::let)
          refs[i].push_back(it->second.index);
      }
    }
    for (auto i : reference_order(refs)) let_type(i);
  }

  hazard_deps_.resize(hazard_ast_.size());
  for (std::uint32_t i = 0; i < hazard_ast_.size(); ++i) {
    const auto& h = *hazard_ast_[i];
    deps_ = &hazard_deps_[i];
    in_hazard_ = true;
    P_->hazards[i].when =
        h.when != no_expr ? lower_condition(h.when) : make_const(value{}, h.where);
    in_hazard_ = false;
    if (!h.cite)
      D_.warning(h.where, "hazard `" + h.id + "` has no `cite`: say which clause it encodes");
  }

  auto scaled_literal = [&](expr_id id) -> std::optional<std::int64_t> {
    if (id == no_expr) return std::nullopt;
    value v;
    type_ref t;
    if (!literal_value(id, v, t) || !numeric(t.t)) {
      D_.error(A_[id].where, "`max` must be a number literal");
      return std::nullopt;
    }
    if (t.t == ty::int_) {
      auto r = int_to_decimal(v.i);
      if (!r) {
        D_.error(A_[id].where, "`max` is outside the range of a number");
        return std::nullopt;
      }
      return r;
    }
    return v.i;
  };
  score_deps_.resize(score_ast_.size());
  for (std::uint32_t i = 0; i < score_ast_.size(); ++i) {
    const auto& sd = *score_ast_[i];
    auto& sp = P_->scores[i];
    deps_ = &score_deps_[i];
    sp.max = scaled_literal(sd.max);
    for (const auto& sec : sd.sections) sp.sections.push_back({sec.name, scaled_literal(sec.max)});
    for (const auto& it : sd.items) {
      item_plan ip;
      ip.id = it.id;
      ip.label = it.label;
      ip.deduct = it.deduct;
      ip.section = it.section;
      ip.where = it.where;
      ip.points =
          it.points != no_expr ? lower_number(it.points) : make_const(value::of_int(0), it.where);
      if (it.when != no_expr) ip.when = lower_condition(it.when);
      ip.points_text = source_text(it.points);
      ip.condition_text = source_text(it.when);
      sp.items.push_back(std::move(ip));
    }
  }

  grade_deps_.resize(grade_ast_.size());
  for (std::uint32_t i = 0; i < grade_ast_.size(); ++i) {
    const auto& gd = *grade_ast_[i];
    auto& gp = P_->grades[i];
    deps_ = &grade_deps_[i];
    const auto& file = src.files[gd.where.file];
    for (const auto& line : gd.lines) {
      grade_line_plan lp;
      lp.where = line.where;
      lp.is_none = line.is_none;
      lp.otherwise = line.otherwise;
      lp.label_text = line.is_none ? "none" : line.label;
      if (line.is_none) {
        lp.label = value{vkind::none, 0, {}, nullptr};
      } else if (gd.color_scale) {
        auto it = std::find(std::begin(color_names), std::end(color_names), line.label);
        if (it == std::end(color_names) ||
            (line.label_expr != no_expr && A_[line.label_expr].kind != expr_kind::lit_color)) {
          D_.error(line.where, "grade `" + gd.name +
                                   "` is on the color scale: a line starts with blue, yellow, "
                                   "orange, red or none, not `" +
                                   line.label + "`");
        } else {
          lp.label = value::of_color(it - std::begin(color_names));
        }
      } else {
        const auto& sc = P_->scales[gp.scale];
        auto it = std::find(sc.begin(), sc.end(), line.label);
        if (it == sc.end() ||
            (line.label_expr != no_expr && A_[line.label_expr].kind != expr_kind::lit_string)) {
          D_.error(line.where, "\"" + line.label + "\" is not a level of grade `" + gd.name + "`");
        } else {
          lp.label = value{vkind::level, it - sc.begin(), {}, nullptr};
        }
      }
      if (!line.otherwise) lp.cond = lower_condition(line.cond);
      // because: the line's source text from the label to the end of its condition (or of
      // `otherwise`), comments removed and white space collapsed.
      const std::string_view text = file.text;
      std::size_t begin = file.line_starts[line.where.line - 1];
      for (std::uint32_t cp = 1; begin < text.size() && cp < line.where.column; ++cp) {
        std::size_t len;
        decode_utf8(text, begin, len);
        begin += len;
      }
      const std::size_t stop = std::min<std::size_t>(
          line.cond != no_expr ? A_[line.cond].source.end : line.otherwise_end, text.size());
      std::string text_out;
      std::string_view rest = text.substr(begin, stop > begin ? stop - begin : 0);
      while (!rest.empty()) {
        std::size_t nl = rest.find('\n');
        std::string part = normalize_line(rest.substr(0, nl));
        if (!part.empty()) text_out += (text_out.empty() ? "" : " ") + part;
        if (nl == std::string_view::npos) break;
        rest.remove_prefix(nl + 1);
      }
      const std::string& text_done = text_out;
      lp.because = file.display + ":" + std::to_string(line.where.line) + ": " + text_done;
      gp.lines.push_back(std::move(lp));
    }
  }
  deps_ = nullptr;
}

void checker::order_declarations() {
  // Nodes: lets, hazards, scores, grades. Iterative DFS, reporting each cycle once.
  auto deps_of = [&](const decl_entry& d) -> const std::vector<decl_entry>& {
    switch (d.kind) {
      case decl_kind::let:
        return let_deps_[d.index];
      case decl_kind::hazard:
        return hazard_deps_[d.index];
      case decl_kind::score:
        return score_deps_[d.index];
      case decl_kind::grade:
        return grade_deps_[d.index];
    }
    return let_deps_[0];
  };
  auto name_of = [&](const decl_entry& d) -> std::string {
    switch (d.kind) {
      case decl_kind::let:
        return P_->lets[d.index].name;
      case decl_kind::hazard:
        return P_->hazards[d.index].id;
      case decl_kind::score:
        return P_->scores[d.index].name;
      case decl_kind::grade:
        return P_->grades[d.index].name;
    }
    return "";
  };
  auto pos_of = [&](const decl_entry& d) -> ast::pos {
    switch (d.kind) {
      case decl_kind::let:
        return let_ast_[d.index]->where;
      case decl_kind::hazard:
        return hazard_ast_[d.index]->where;
      case decl_kind::score:
        return score_ast_[d.index]->where;
      case decl_kind::grade:
        return grade_ast_[d.index]->where;
    }
    return {};
  };
  auto key = [&](const decl_entry& d) {
    return (static_cast<std::uint64_t>(d.kind) << 32) | d.index;
  };
  std::unordered_map<std::uint64_t, std::uint8_t> state;  // 1 on stack, 2 done
  std::vector<decl_entry> all;
  // Report order: the files' declaration order is kept by walking kinds in file order.
  for (std::uint32_t i = 0; i < P_->lets.size(); ++i) all.push_back({decl_kind::let, i});
  for (std::uint32_t i = 0; i < P_->hazards.size(); ++i) all.push_back({decl_kind::hazard, i});
  for (std::uint32_t i = 0; i < P_->scores.size(); ++i) all.push_back({decl_kind::score, i});
  for (std::uint32_t i = 0; i < P_->grades.size(); ++i) all.push_back({decl_kind::grade, i});
  for (const auto& root : all) {
    if (state[key(root)]) continue;
    struct frame {
      decl_entry d;
      std::size_t next;
    };
    std::vector<frame> stack{{root, 0}};
    state[key(root)] = 1;
    while (!stack.empty()) {
      frame& f = stack.back();
      const auto& ds = deps_of(f.d);
      if (f.next < ds.size()) {
        decl_entry dep = ds[f.next++];
        auto& st = state[key(dep)];
        if (st == 0) {
          st = 1;
          stack.push_back({dep, 0});
        } else if (st == 1) {
          // cycle: from dep's frame to the top
          std::string names;
          std::size_t start = 0;
          for (std::size_t i = 0; i < stack.size(); ++i)
            if (key(stack[i].d) == key(dep)) start = i;
          for (std::size_t i = start; i < stack.size(); ++i)
            names += "`" + name_of(stack[i].d) + "` -> ";
          names += "`" + name_of(dep) + "`";
          D_.error(pos_of(dep), "dependency cycle: " + names);
        }
      } else {
        state[key(f.d)] = 2;
        P_->order.push_back(f.d);
        stack.pop_back();
      }
    }
  }
  // Table cycles (a table calling itself through others).
  std::vector<std::uint8_t> tstate(P_->tables.size(), 0);
  for (std::uint32_t r = 0; r < P_->tables.size(); ++r) {
    if (tstate[r]) continue;
    std::vector<std::pair<std::uint32_t, std::size_t>> stack{{r, 0}};
    tstate[r] = 1;
    while (!stack.empty()) {
      auto& [t, next] = stack.back();
      if (next < table_calls_[t].size()) {
        std::uint32_t d = table_calls_[t][next++];
        if (tstate[d] == 0) {
          tstate[d] = 1;
          stack.push_back({d, 0});
        } else if (tstate[d] == 1) {
          std::string names;
          std::size_t start = 0;
          for (std::size_t i = 0; i < stack.size(); ++i)
            if (stack[i].first == d) start = i;
          for (std::size_t i = start; i < stack.size(); ++i)
            names += "`" + P_->tables[stack[i].first].name + "` -> ";
          names += "`" + P_->tables[d].name + "`";
          D_.error(table_ast_[d]->where, "dependency cycle between tables: " + names);
        }
      } else {
        tstate[t] = 2;
        stack.pop_back();
      }
    }
  }
}

void checker::lower_tests() {
  if (files_.empty()) return;
  const auto& top = files_.back();
  const auto& file = P_->sources->files[top.file];
  for (const auto& td : top.tests) {
    test_plan tp;
    tp.name = td.name;
    tp.line = td.where.line;
    if (!td.asof)
      D_.error(td.where, "test \"" + td.name + "\" needs `asof @YYYY-MM-DD`");
    else
      tp.asof = *td.asof;
    tp.given = td.has_given ? td.given : "{}";
    if (td.has_given) {
      // `given` is strict JSON: a text the facts reader cannot read is a compile error,
      // placed at the offending character when the reader says where.
      record_facts facts;
      bind_json(*P_->schema, tp.given, bind_options{}, facts);
      if (facts.unreadable && !facts.errors.empty()) {
        const std::string& m = facts.errors.front().message;
        ast::pos at = td.given_where;
        if (const std::uint32_t l = facts.syntax_line, c = facts.syntax_column; l >= 1 && c >= 1) {
          if (l == 1) {
            at.column += c - 1;
          } else {
            at.line += l - 1;
            at.column = c;
          }
        }
        D_.error(at, "`given` is not strict JSON: " + m);
      }
    }
    for (const auto& ex : td.expects) {
      expect_plan ep;
      ep.kind = static_cast<expect_kind>(ex.kind);
      ep.line = ex.where.line;
      if (ex.source.end <= file.text.size() && ex.source.begin <= ex.source.end)
        ep.text = normalize_line(
            std::string_view(file.text).substr(ex.source.begin, ex.source.end - ex.source.begin));
      if (ep.kind == expect_kind::expression) {
        deps_ = nullptr;
        ep.e = lower_condition(ex.e);
      } else {
        auto s = names_.find(ex.name);
        bool ok = s != names_.end();
        if (ok) {
          const symbol& sym = s->second;
          switch (ep.kind) {
            case expect_kind::hazard:
            case expect_kind::not_hazard:
              ok = sym.kind == symbol::hazard;
              ep.target = {decl_kind::hazard, sym.index};
              break;
            case expect_kind::undetermined:
              ok = sym.kind == symbol::hazard || sym.kind == symbol::grade;
              ep.target = {sym.kind == symbol::hazard ? decl_kind::hazard : decl_kind::grade,
                           sym.index};
              break;
            case expect_kind::error:
              ok = sym.kind != symbol::table && sym.kind != symbol::item;
              ep.target = {sym.kind == symbol::hazard  ? decl_kind::hazard
                           : sym.kind == symbol::grade ? decl_kind::grade
                           : sym.kind == symbol::score ? decl_kind::score
                                                       : decl_kind::let,
                           sym.index};
              break;
            case expect_kind::provisional:
              ok = sym.kind == symbol::score;
              ep.target = {decl_kind::score, sym.index};
              break;
            default:
              break;
          }
        }
        if (!ok) {
          static const char* wants[] = {
              "a hazard", "a hazard", "a hazard or a grade", "a hazard, let, score or grade",
              "a score",  ""};
          const expect_kind want = ep.kind;
          auto accept = [want](symbol::kind_t k) {
            switch (want) {
              case expect_kind::hazard:
              case expect_kind::not_hazard:
                return k == symbol::hazard;
              case expect_kind::undetermined:
                return k == symbol::hazard || k == symbol::grade;
              case expect_kind::provisional:
                return k == symbol::score;
              default:
                return k != symbol::table && k != symbol::item;
            }
          };
          D_.error(ex.name_where, "`" + ex.name + "` is not " + wants[static_cast<int>(ep.kind)] +
                                      did_you_mean(ex.name, false, accept));
        }
      }
      tp.expects.push_back(std::move(ep));
    }
    P_->tests.push_back(std::move(tp));
  }
}

std::shared_ptr<program> checker::run() {
  if (files_.empty()) return nullptr;
  const auto& top = files_.back();
  auto& info = P_->info;
  info.name = top.name;
  info.title = top.title.value_or("");
  info.version = top.version.value_or("");
  info.source = top.source;
  if (top.effective) info.effective = format_date(*top.effective);
  for (const auto& f : files_) {
    if (!f.title) D_.error(f.where, "ruleset `" + f.name + "` needs a `title`");
    if (!f.version) D_.error(f.where, "ruleset `" + f.name + "` needs a `version`");
  }
  collect_symbols();
  build_inputs();
  lower_all();
  order_declarations();
  lower_tests();
  if (D_.has_errors()) return nullptr;
  for (const auto& h : P_->hazards)
    P_->hazard_infos.push_back({h.id, h.title, h.category, h.major ? "major" : "general"});
  for (const auto& sc : P_->scores) {
    score_info si{sc.name, {}};
    for (const auto& sec : sc.sections) si.sections.push_back(sec.name);
    P_->score_infos.push_back(std::move(si));
  }
  for (const auto& g : P_->grades) {
    grade_info gi{g.name, {}};
    if (g.color_scale)
      gi.values.assign(std::begin(color_names), std::end(color_names));
    else
      gi.values = P_->scales[g.scale];
    P_->grade_infos.push_back(std::move(gi));
  }
  return P_;
}

}  // namespace

std::shared_ptr<program> check_and_lower(const check_input& in, ast::diagnostic_sink& diags) {
  checker c(in, diags);
  return c.run();
}

}  // namespace carerules::detail
