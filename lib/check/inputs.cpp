// The checker: the input schema of the compilation (see checker.hpp for the map of the checker's
// files).
#include "check/checker.hpp"

namespace carerules::detail::checking {

// ---- inputs ---------------------------------------------------------------------------------

bool checker::literal_value(expr_id id, value& out, type_ref& t) {
  const auto& e = arena_[id];
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
      out = value::of(vkind::none, 0);
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
    return ast::dump(arena_, id);
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
    diags_.error(arena_[id].where, "expected a literal");
    return false;
  }
  ty want = scalar_to_ty(f.type);
  if (want == ty::number && t.t == ty::int_) {
    auto r = int_to_decimal(out.i);
    if (!r) {
      diags_.error(arena_[id].where, "the value is outside the range of a number");
      return false;
    }
    out = value::of_number(*r);
    t.t = ty::number;
  }
  if (t.t != want) {
    diags_.error(arena_[id].where, "expected a literal of type " + type_name(simple(want), *prog_) +
                                       ", found " + type_name(t, *prog_));
    return false;
  }
  if (out.kind == vkind::string) {
    owner.storage.emplace_back(out.s());
    out = value::of_string(owner.storage.back());
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
              diags_.error(arena_[v].where, "enum values must be string or number literals");
              return false;
            }
            if (t.t == ty::string) {
              strings = true;
              f.enum_strings.emplace_back(val.s());
            } else {
              numbers = true;
              if (t.t == ty::number) all_int = false;
              auto scaled = t.t == ty::int_ ? int_to_decimal(val.i) : checked(val.i);
              if (!scaled) {
                diags_.error(arena_[v].where, "enum value is outside the range of a number");
                return false;
              }
              f.enum_numbers.push_back(*scaled);
            }
          }
          if (strings && numbers) {
            diags_.error(ts.where, "an enum mixes strings and numbers");
            return false;
          }
          if (enums.empty()) {
            diags_.error(ts.where, "an enum needs at least one value");
            return false;
          }
          f.type =
              strings ? scalar_type::string : (all_int ? scalar_type::int_ : scalar_type::number);
          break;
        }
        default:
          diags_.error(ts.where, "a list element type must be a scalar type");
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
        diags_.error(d->where, "a range `in LOW..HIGH` applies to int and number inputs only");
      } else {
        value lo, hi;
        if (convert_literal(d->range_low, f, lo, schema) &&
            convert_literal(d->range_high, f, hi, schema)) {
          f.has_range = true;
          f.range_low = lo.i;
          f.range_high = hi.i;
          if (lo.i > hi.i)
            diags_.error(arena_[d->range_low].where, "the range is empty (LOW > HIGH)");
        }
      }
    }
    if (d->default_value != no_expr) {
      if (f.is_list) {
        diags_.error(arena_[d->default_value].where, "a list input cannot have a default");
      } else {
        value v;
        if (convert_literal(d->default_value, f, v, schema)) {
          bool ok = true;
          if (!f.enum_strings.empty())
            ok = std::find(f.enum_strings.begin(), f.enum_strings.end(), v.s()) !=
                 f.enum_strings.end();
          if (!f.enum_numbers.empty()) {
            std::int64_t sc = f.type == scalar_type::int_ ? *int_to_decimal(v.i) : v.i;
            ok =
                std::find(f.enum_numbers.begin(), f.enum_numbers.end(), sc) != f.enum_numbers.end();
          }
          if (f.has_range && (v.i < f.range_low || v.i > f.range_high)) ok = false;
          if (!ok)
            diags_.error(arena_[d->default_value].where,
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
        schema.nodes[node_index].add_child(d->path[i], child);
        node_index = child;
      } else {
        node_index = it->second;
      }
    }
    if (conflict || schema.nodes[node_index].field >= 0 ||
        !schema.nodes[node_index].children.empty()) {
      diags_.error(
          d->where,
          "input `" + prefix + f.path +
              "` conflicts with another input: a path cannot be both a value and an object");
      continue;
    }
    f.order = static_cast<std::uint32_t>(prog_->inputs.size());
    f.slot = f.is_list ? schema.list_count++ : schema.scalar_count++;
    schema.nodes[node_index].field = static_cast<int>(schema.fields.size());
    input_meta meta;
    meta.rel_path = f.path;
    meta.parent = parent;
    prog_->inputs.push_back(meta);
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
    prog_->input_infos.push_back(std::move(info));

    schema.fields.push_back(std::move(f));
    if (ts.kind == ast::type_kind::list_record) {
      auto elem = std::make_shared<record_schema>();
      std::vector<const ast::input_decl*> sub;
      for (const auto& fd : d->fields) sub.push_back(&fd);
      add_fields(*elem, sub, my_id, prefix + join(d->path) + "[].");
      schema.fields.back().element = elem;
    }
  }
  schema.finish();
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
          const auto& pf = prog_->sources->files[it->second.first->where.file];
          diags_.error(d.where, "input `" + path + "` is declared differently at " + pf.display +
                                    ":" + std::to_string(it->second.first->where.line));
        } else if (it->second.first->where.file == d.where.file) {
          diags_.error(d.where, "input `" + path + "` is declared twice");
        }
        continue;
      }
      seen.emplace(path, std::make_pair(&d, sig));
      decls.push_back(&d);
    }
  }
  prog_->schema = std::make_shared<record_schema>();
  add_fields(*prog_->schema, decls, none_index, "");
  // Resolve field pointers of input_meta now that schema vectors are stable.
  std::function<void(const record_schema&)> walk = [&](const record_schema& s) {
    for (const auto& f : s.fields) {
      prog_->inputs[f.order].field = &f;
      if (f.element) walk(*f.element);
    }
  };
  walk(*prog_->schema);
  for (const auto& f : prog_->schema->fields) {
    input_by_path_.emplace(f.path, f.order);
    all_input_paths_.push_back(f.path);
    input_roots_.insert(f.path.substr(0, f.path.find('.')));
  }
  // A name that is also the first segment of an input path is ambiguous.
  for (const auto& [name, sym] : names_) {
    if (sym.kind == symbol::item || sym.kind == symbol::hazard) continue;
    if (input_roots_.count(name))
      diags_.error(sym.where, "`" + name + "` names both a " + symbol_kind_name(sym.kind) +
                                  (input_by_path_.count(name)
                                       ? " and the input `" + name + "`; rename one"
                                       : " and the inputs under `" + name + ".`; rename one"));
  }
}

}  // namespace carerules::detail::checking
