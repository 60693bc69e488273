// The reference evaluator: a direct walk over the AST, written from language.md alone.
// See reference.hpp for what it is for and what it leaves out.
#include "reference.hpp"

#include <algorithm>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>
#include <stdexcept>

#include "parse/parse.hpp"

namespace carerules::reference {

namespace {

__extension__ typedef __int128 i128;  // exact intermediate arithmetic
constexpr std::int64_t scale_factor = 1'000'000;
constexpr std::int64_t i64_max = INT64_MAX;
constexpr std::int64_t i64_min = INT64_MIN;

// An evaluation error (overflow, division by zero, a date out of range): the declaration
// being evaluated is `error`.
struct fault {
  std::string message;
};

i128 round_div(i128 n, i128 d) {  // n / d rounded half away from zero
  if (d < 0) {
    n = -n;
    d = -d;
  }
  i128 q = n / d;
  i128 r = n % d;
  if (r < 0) r = -r;
  if (2 * r >= d) q += n < 0 ? -1 : 1;
  return q;
}

i128 floor_div(i128 n, i128 d) {
  i128 q = n / d;
  if ((n % d != 0) && ((n < 0) != (d < 0))) --q;
  return q;
}

bool fits(i128 v) { return v >= i64_min && v <= i64_max; }

rvalue make_int(i128 v) {
  if (!fits(v)) throw fault{"integer overflow"};
  return rvalue::integer_of(static_cast<std::int64_t>(v));
}
rvalue make_number(i128 scaled) {
  if (!fits(scaled)) throw fault{"number overflow"};
  return rvalue::number_of(static_cast<std::int64_t>(scaled));
}

bool numeric(const rvalue& v) { return v.k == rkind::integer || v.k == rkind::number; }
// The exact value scaled by 10^6 (never overflows in 128 bits).
i128 scaled(const rvalue& v) {
  return v.k == rkind::integer ? static_cast<i128>(v.i) * scale_factor : static_cast<i128>(v.i);
}

const std::int64_t min_day = days_from_civil(1, 1, 1);
const std::int64_t max_day = days_from_civil(9999, 12, 31);

rvalue make_date(i128 day) {
  if (day < min_day || day > max_day) throw fault{"date out of range"};
  return rvalue::date_of(static_cast<std::int64_t>(day));
}

std::string join(const std::vector<std::string>& segs, std::size_t from = 0) {
  std::string out;
  for (std::size_t i = from; i < segs.size(); ++i) {
    if (i > from) out += '.';
    out += segs[i];
  }
  return out;
}

const char* const color_names[] = {"blue", "yellow", "orange", "red"};

std::int64_t color_index(std::string_view s) {
  for (std::int64_t i = 0; i < 4; ++i)
    if (s == color_names[i]) return i;
  return -1;
}

std::size_t code_points(std::string_view s) {
  std::size_t n = 0;
  for (char c : s)
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  return n;
}

// ---- JSON numbers as exact decimals ------------------------------------------------------

// The text of a JSON number: integers as they are; doubles in their shortest round-trip
// form, which for any literal of up to 15 significant digits is that literal.
std::string number_text(const boost::json::value& j) {
  if (j.is_int64()) return std::to_string(j.get_int64());
  if (j.is_uint64()) return std::to_string(j.get_uint64());
  return boost::json::serialize(j);
}

struct decimal_text {
  bool negative = false;
  std::string digits;      // mantissa digits, leading zeros stripped
  std::int64_t exp10 = 0;  // value = digits * 10^exp10
};

std::optional<decimal_text> split_decimal(std::string_view t) {
  decimal_text d;
  std::size_t i = 0;
  if (i < t.size() && t[i] == '-') {
    d.negative = true;
    ++i;
  }
  std::string mant;
  std::int64_t frac = 0;
  bool dot = false;
  for (; i < t.size() && t[i] != 'e' && t[i] != 'E'; ++i) {
    if (t[i] == '.') {
      dot = true;
      continue;
    }
    if (t[i] < '0' || t[i] > '9') return std::nullopt;
    mant += t[i];
    if (dot) ++frac;
  }
  std::int64_t e = 0;
  if (i < t.size()) {
    ++i;
    bool eneg = false;
    if (i < t.size() && (t[i] == '+' || t[i] == '-')) eneg = t[i++] == '-';
    for (; i < t.size(); ++i) {
      if (t[i] < '0' || t[i] > '9') return std::nullopt;
      if (e < 100000) e = e * 10 + (t[i] - '0');
    }
    if (eneg) e = -e;
  }
  std::size_t nz = mant.find_first_not_of('0');
  d.digits = nz == std::string::npos ? "" : mant.substr(nz);
  d.exp10 = e - frac;
  return d;
}

// digits * 10^shift, rounded half away from zero when shift < 0; nullopt beyond ~10^36.
std::optional<i128> shifted(const decimal_text& d, std::int64_t shift) {
  if (d.digits.empty()) return i128{0};
  std::string digits = d.digits;
  if (shift >= 0) {
    if (static_cast<std::int64_t>(digits.size()) + shift > 36) return std::nullopt;
    digits.append(static_cast<std::size_t>(shift), '0');
    i128 v = 0;
    for (char c : digits) v = v * 10 + (c - '0');
    return d.negative ? -v : v;
  }
  std::size_t drop = static_cast<std::size_t>(-shift);
  if (drop > digits.size()) return i128{0};  // below half of the last place kept
  std::string keep = digits.substr(0, digits.size() - drop);
  if (keep.size() > 36) return std::nullopt;
  i128 v = 0;
  for (char c : keep) v = v * 10 + (c - '0');
  if (drop > 0 && digits[digits.size() - drop] >= '5') v += 1;  // half away from zero
  return d.negative ? -v : v;
}

// A JSON number as a number (scaled by 10^6), or nullopt outside the decimal range.
std::optional<std::int64_t> json_decimal(const boost::json::value& j) {
  auto d = split_decimal(number_text(j));
  if (!d) return std::nullopt;
  auto v = shifted(*d, d->exp10 + 6);
  if (!v || !fits(*v)) return std::nullopt;
  return static_cast<std::int64_t>(*v);
}

// A JSON number as an int: it must be integral and fit 64 bits.
std::optional<std::int64_t> json_integral(const boost::json::value& j) {
  auto d = split_decimal(number_text(j));
  if (!d) return std::nullopt;
  if (d->exp10 < 0) {
    std::size_t drop = static_cast<std::size_t>(-d->exp10);
    std::size_t n = d->digits.size();
    for (std::size_t k = 0; k < drop && k < n; ++k)
      if (d->digits[n - 1 - k] != '0') return std::nullopt;
  }
  auto v = shifted(*d, d->exp10);
  if (!v || !fits(*v)) return std::nullopt;
  return static_cast<std::int64_t>(*v);
}

}  // namespace

// ---- dates --------------------------------------------------------------------------------

std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const std::int64_t yoe = y - era * 400;
  const std::int64_t mp = m > 2 ? m - 3 : m + 9;
  const std::int64_t doy = (153 * mp + 2) / 5 + d - 1;
  const std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

void civil_from_days(std::int64_t z, std::int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const std::int64_t doe = z - era * 146097;
  const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const std::int64_t mp = (5 * doy + 2) / 153;
  d = static_cast<unsigned>(doy - (153 * mp + 2) / 5 + 1);
  m = static_cast<unsigned>(mp < 10 ? mp + 3 : mp - 9);
  y = yoe + era * 400 + (m <= 2 ? 1 : 0);
}

std::optional<std::int64_t> parse_iso_date(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return std::nullopt;
  for (std::size_t i : {0u, 1u, 2u, 3u, 5u, 6u, 8u, 9u})
    if (s[i] < '0' || s[i] > '9') return std::nullopt;
  auto num = [&](std::size_t a, std::size_t n) {
    int v = 0;
    for (std::size_t i = a; i < a + n; ++i) v = v * 10 + (s[i] - '0');
    return v;
  };
  const int y = num(0, 4), m = num(5, 2), d = num(8, 2);
  if (y < 1 || m < 1 || m > 12 || d < 1) return std::nullopt;
  static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  const int dim = m == 2 && leap ? 29 : mdays[m - 1];
  if (d > dim) return std::nullopt;
  return days_from_civil(y, static_cast<unsigned>(m), static_cast<unsigned>(d));
}

std::string format_iso_date(std::int64_t day) {
  std::int64_t y;
  unsigned m, d;
  civil_from_days(day, y, m, d);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02u", static_cast<long long>(y), m, d);
  return buf;
}

// ---- values -------------------------------------------------------------------------------

std::string describe(const rvalue& v) {
  switch (v.k) {
    case rkind::unknown:
      return "unknown";
    case rkind::none:
      return "none";
    case rkind::boolean:
      return v.i ? "true" : "false";
    case rkind::integer:
      return std::to_string(v.i);
    case rkind::number: {
      std::int64_t a = v.i < 0 ? -v.i : v.i;
      char buf[64];
      std::snprintf(buf, sizeof buf, "%s%lld.%06lld", v.i < 0 ? "-" : "",
                    static_cast<long long>(a / scale_factor),
                    static_cast<long long>(a % scale_factor));
      return buf;
    }
    case rkind::string:
      return "\"" + v.s + "\"";
    case rkind::date:
      return "@" + format_iso_date(v.i);
    case rkind::color:
      return v.i >= 0 && v.i < 4 ? color_names[v.i] : "colour?";
    case rkind::level:
      return "level " + std::to_string(v.i);
    case rkind::list:
      return "list of " + std::to_string(v.items ? v.items->size() : 0);
    case rkind::record:
      return "record";
    case rkind::hazard:
      return "hazard " + std::to_string(v.i);
  }
  return "?";
}

bool same_value(const rvalue& a, const rvalue& b) {
  if (numeric(a) && numeric(b)) return scaled(a) == scaled(b);
  if (a.k != b.k) return false;
  switch (a.k) {
    case rkind::unknown:
    case rkind::none:
      return true;
    case rkind::string:
      return a.s == b.s;
    case rkind::list: {
      if (!a.items || !b.items || a.items->size() != b.items->size()) return false;
      for (std::size_t i = 0; i < a.items->size(); ++i)
        if (!same_value((*a.items)[i], (*b.items)[i])) return false;
      return true;
    }
    default:
      return a.i == b.i;
  }
}

// ---- loading ------------------------------------------------------------------------------

namespace {

bool read_text(const std::filesystem::path& p, std::string& out) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return false;
  std::stringstream ss;
  ss << in.rdbuf();
  out = ss.str();
  return true;
}

void parse_into(loaded_ruleset& rs, std::string display, std::string text,
                const std::filesystem::path& dir, std::set<std::string>& seen) {
  ast::source_file f;
  f.display = std::move(display);
  f.text = std::move(text);
  f.index_lines();
  rs.sources.files.push_back(std::move(f));
  const auto index = static_cast<std::uint32_t>(rs.sources.files.size() - 1);
  ast::diagnostic_sink diags;
  ast::ruleset_file file = parse::parse_file(rs.sources, index, rs.arena, {}, diags);
  if (diags.has_errors()) {
    rs.error = rs.sources.files[index].display + ": syntax errors";
    return;
  }
  // An import's own imports come before it (post-order); a file reached twice once.
  for (const auto& imp : file.imports) {
    std::filesystem::path p = dir / imp.path;
    std::error_code ec;
    std::string canon = std::filesystem::weakly_canonical(p, ec).string();
    if (!seen.insert(canon).second) continue;
    std::string text2;
    if (!read_text(p, text2)) {
      rs.error = "cannot read " + p.string();
      return;
    }
    parse_into(rs, p.string(), std::move(text2), p.parent_path(), seen);
    if (!rs.error.empty()) return;
  }
  rs.files.push_back(std::move(file));
}

}  // namespace

loaded_ruleset load_file(const std::filesystem::path& top) {
  loaded_ruleset rs;
  std::string text;
  if (!read_text(top, text)) {
    rs.error = "cannot read " + top.string();
    return rs;
  }
  std::set<std::string> seen;
  std::error_code ec;
  seen.insert(std::filesystem::weakly_canonical(top, ec).string());
  parse_into(rs, top.string(), std::move(text), top.parent_path(), seen);
  return rs;
}

loaded_ruleset load_text(std::string text) {
  loaded_ruleset rs;
  std::set<std::string> seen;
  parse_into(rs, "<text>", std::move(text), {}, seen);
  if (rs.error.empty() && !rs.files.back().imports.empty()) rs.error = "imports in text";
  return rs;
}

// ---- the evaluator ------------------------------------------------------------------------

struct reference_evaluator::impl {
  const loaded_ruleset& rs;
  const ast::expr_arena& arena;
  const boost::json::object* root;
  std::int64_t asof;

  // The merged declarations.
  std::map<std::string, const ast::input_decl*> inputs;
  std::vector<const ast::let_decl*> lets;
  std::map<std::string, std::size_t> let_index;
  std::vector<const ast::hazard_decl*> hazards;
  std::map<std::string, std::size_t> hazard_index;
  std::vector<const ast::score_decl*> scores;
  std::map<std::string, std::size_t> score_index;
  std::vector<const ast::grade_decl*> grades;
  std::map<std::string, std::size_t> grade_index;
  std::map<std::string, const ast::table_decl*> tables;

  enum class phase : std::uint8_t { todo, running, done };
  struct memo {
    phase p = phase::todo;
    std::string status;
    rvalue v;  // the value readers see (unknown unless decided)
  };
  std::vector<memo> let_memo, hazard_memo, grade_memo;
  std::vector<phase> score_phase;
  std::vector<score_outcome> score_out;
  std::vector<std::vector<bool>> section_provisional;

  // Names bound by aggregates (and, inside a table, its parameters), innermost last.
  using scope_t = std::vector<std::pair<std::string, rvalue>>;
  scope_t scope;

  // A declaration (or a table) sees none of its reader's bound names.
  struct fresh_scope {
    scope_t& s;
    scope_t saved;
    explicit fresh_scope(scope_t& sc) : s(sc), saved(std::move(sc)) { s.clear(); }
    ~fresh_scope() { s = std::move(saved); }
    fresh_scope(const fresh_scope&) = delete;
    fresh_scope& operator=(const fresh_scope&) = delete;
  };

  impl(const loaded_ruleset& r, const boost::json::value& facts, std::int64_t day)
      : rs(r), arena(r.arena), root(facts.is_object() ? &facts.as_object() : nullptr), asof(day) {
    for (const auto& f : rs.files) {
      for (const auto& in : f.inputs) inputs.emplace(join(in.path), &in);  // first wins
      for (const auto& l : f.lets) {
        let_index[l.name] = lets.size();
        lets.push_back(&l);
      }
      for (const auto& h : f.hazards) {
        hazard_index[h.id] = hazards.size();
        hazards.push_back(&h);
      }
      for (const auto& s : f.scores) {
        score_index[s.name] = scores.size();
        scores.push_back(&s);
      }
      for (const auto& g : f.grades) {
        grade_index[g.name] = grades.size();
        grades.push_back(&g);
      }
      for (const auto& t : f.tables) tables[t.name] = &t;
    }
    let_memo.resize(lets.size());
    hazard_memo.resize(hazards.size());
    grade_memo.resize(grades.size());
    score_phase.resize(scores.size(), phase::todo);
    score_out.resize(scores.size());
    section_provisional.resize(scores.size());
  }

  // ---- facts ----------------------------------------------------------------------------

  enum class fstate : std::uint8_t { absent, present, defaulted, error };
  struct fact {
    fstate st = fstate::absent;
    rvalue v;
  };

  rvalue literal(ast::expr_id id) {  // a literal (or a negated one) in a declaration
    const ast::expr& e = arena[id];
    if (e.kind == ast::expr_kind::unary && e.oper == ast::op::neg) {
      rvalue v = literal(e.args[0]);
      v.i = -v.i;
      return v;
    }
    return eval(id);
  }

  // A scalar JSON value checked against its declared type; nullopt when it does not fit.
  std::optional<rvalue> scalar_of(const boost::json::value& j, ast::type_kind kind,
                                  const std::vector<ast::expr_id>& enum_values, ast::expr_id low,
                                  ast::expr_id high) {
    std::optional<rvalue> v;
    if (kind == ast::type_kind::enum_) {
      bool strings = false, decimals = false;
      for (ast::expr_id e : enum_values) {
        if (arena[e].kind == ast::expr_kind::lit_string) strings = true;
        if (arena[e].kind == ast::expr_kind::lit_number) decimals = true;
      }
      if (strings) {
        if (!j.is_string()) return std::nullopt;
        v = rvalue::string_of(std::string(j.as_string()));
      } else {
        if (!j.is_number()) return std::nullopt;
        if (decimals) {
          auto d = json_decimal(j);
          if (!d) return std::nullopt;
          v = rvalue::number_of(*d);
        } else {
          auto n = json_integral(j);
          if (!n) return std::nullopt;
          v = rvalue::integer_of(*n);
        }
      }
      bool found = false;
      for (ast::expr_id e : enum_values) found = found || same_value(literal(e), *v);
      if (!found) return std::nullopt;
      return v;
    }
    switch (kind) {
      case ast::type_kind::bool_:
        if (!j.is_bool()) return std::nullopt;
        v = rvalue::boolean_of(j.as_bool());
        break;
      case ast::type_kind::int_: {
        if (!j.is_number()) return std::nullopt;
        auto n = json_integral(j);
        if (!n) return std::nullopt;
        v = rvalue::integer_of(*n);
        break;
      }
      case ast::type_kind::number: {
        if (!j.is_number()) return std::nullopt;
        auto d = json_decimal(j);
        if (!d) return std::nullopt;
        v = rvalue::number_of(*d);
        break;
      }
      case ast::type_kind::string:
        if (!j.is_string()) return std::nullopt;
        v = rvalue::string_of(std::string(j.as_string()));
        break;
      case ast::type_kind::date: {
        if (!j.is_string()) return std::nullopt;
        auto d = parse_iso_date(j.as_string());
        if (!d) return std::nullopt;
        v = rvalue::date_of(*d);
        break;
      }
      case ast::type_kind::color: {
        if (!j.is_string()) return std::nullopt;
        std::int64_t c = color_index(j.as_string());
        if (c < 0) return std::nullopt;
        v = rvalue::color_of(c);
        break;
      }
      default:
        return std::nullopt;
    }
    if (low != ast::no_expr) {
      rvalue lo = literal(low), hi = literal(high);
      if (compare(*v, lo) < 0 || compare(*v, hi) > 0) return std::nullopt;
    }
    return v;
  }

  // The fact at `d.path` below `obj` (a record: the top-level object or a list element).
  fact read_fact(const boost::json::object* obj, const ast::input_decl& d) {
    fact f;
    const boost::json::value* at = nullptr;
    for (std::size_t i = 0; obj && i < d.path.size(); ++i) {
      auto it = obj->find(d.path[i]);
      if (it == obj->end() || it->value().is_null()) {
        obj = nullptr;
        break;
      }
      if (i + 1 == d.path.size()) {
        at = &it->value();
      } else if (!it->value().is_object()) {
        f.st = fstate::error;  // a wrong-typed object on the way: no default stands in
        return f;
      } else {
        obj = &it->value().as_object();
      }
    }
    if (!at) {
      if (d.default_value != ast::no_expr) {
        f.st = fstate::defaulted;
        f.v = literal(d.default_value);
      }
      return f;
    }
    if (d.type.kind == ast::type_kind::list_record || d.type.kind == ast::type_kind::list_scalar) {
      if (!at->is_array()) {
        f.st = fstate::error;
        return f;
      }
      auto items = std::make_shared<std::vector<rvalue>>();
      for (const auto& el : at->as_array()) {
        if (d.type.kind == ast::type_kind::list_record) {
          if (!el.is_object()) {  // a null or non-object element spoils the list
            f.st = fstate::error;
            return f;
          }
          rvalue r;
          r.k = rkind::record;
          r.obj = &el.as_object();
          r.fields = &d.fields;
          items->push_back(std::move(r));
        } else {
          auto v = el.is_null() ? std::nullopt
                                : scalar_of(el, d.type.element, d.type.element_enum, ast::no_expr,
                                            ast::no_expr);
          if (!v) {
            f.st = fstate::error;
            return f;
          }
          items->push_back(std::move(*v));
        }
      }
      f.st = fstate::present;
      f.v.k = rkind::list;
      f.v.items = std::move(items);
      return f;
    }
    auto v = scalar_of(*at, d.type.kind, d.type.enum_values, d.range_low, d.range_high);
    if (!v) {
      f.st = fstate::error;
      return f;
    }
    f.st = fstate::present;
    f.v = std::move(*v);
    return f;
  }

  static const ast::input_decl* field_named(const std::vector<ast::input_decl>& fields,
                                            const std::string& name) {
    for (const auto& f : fields)
      if (join(f.path) == name) return &f;
    return nullptr;
  }

  // The input a path names (top level or a field of a bound record) and where it lives.
  bool locate(const std::vector<std::string>& segs, const boost::json::object*& obj,
              const ast::input_decl*& decl) {
    for (auto it = scope.rbegin(); it != scope.rend(); ++it) {
      if (it->first != segs[0]) continue;
      if (it->second.k != rkind::record || segs.size() < 2) return false;
      obj = it->second.obj;
      decl = field_named(*it->second.fields, join(segs, 1));
      return decl != nullptr;
    }
    auto in = inputs.find(join(segs));
    if (in == inputs.end()) return false;
    obj = root;
    decl = in->second;
    return true;
  }

  // ---- declarations ---------------------------------------------------------------------

  rvalue let_value(std::size_t i) {
    memo& m = let_memo[i];
    if (m.p == phase::running) throw std::logic_error("cycle through let " + lets[i]->name);
    if (m.p == phase::todo) {
      m.p = phase::running;
      fresh_scope fs(scope);
      try {
        rvalue v = eval(lets[i]->value);
        let_memo[i].status = v.known() ? "known" : "unknown";
        let_memo[i].v = v;
      } catch (const fault&) {
        let_memo[i].status = "error";
        let_memo[i].v = rvalue{};
      }
      let_memo[i].p = phase::done;
    }
    return let_memo[i].v;
  }

  const std::string& hazard_status(std::size_t i) {
    memo& m = hazard_memo[i];
    if (m.p == phase::running) throw std::logic_error("cycle through hazard " + hazards[i]->id);
    if (m.p == phase::todo) {
      m.p = phase::running;
      fresh_scope fs(scope);
      std::string status;
      try {
        rvalue c = eval(hazards[i]->when);
        status = !c.known() ? "undetermined" : c.i ? "present" : "absent";
      } catch (const fault&) {
        status = "error";
      }
      hazard_memo[i].status = status;
      hazard_memo[i].p = phase::done;
    }
    return hazard_memo[i].status;
  }

  rvalue hazards_list() {
    auto items = std::make_shared<std::vector<rvalue>>();
    for (std::size_t i = 0; i < hazards.size(); ++i) {
      const std::string& s = hazard_status(i);
      if (s == "absent") continue;
      rvalue h;
      h.k = rkind::hazard;
      h.i = static_cast<std::int64_t>(i);
      h.member_unknown = s != "present";
      items->push_back(std::move(h));
    }
    rvalue v;
    v.k = rkind::list;
    v.items = std::move(items);
    return v;
  }

  void score(std::size_t si) {
    if (score_phase[si] == phase::done) return;
    if (score_phase[si] == phase::running) throw std::logic_error("cycle through a score");
    score_phase[si] = phase::running;
    fresh_scope fs(scope);
    const ast::score_decl& s = *scores[si];
    score_outcome out;
    out.name = s.name;
    std::vector<i128> section_sum(s.sections.size(), 0);
    std::vector<bool> section_prov(s.sections.size(), false);
    i128 top_sum = 0;
    for (const auto& it : s.items) {
      item_outcome io;
      io.id = it.id;
      io.points = rvalue::integer_of(0);
      try {
        rvalue c = it.when == ast::no_expr ? rvalue::boolean_of(true) : eval(it.when);
        if (!c.known()) {
          io.status = "undetermined";
        } else if (!c.i) {
          io.status = "not_awarded";
        } else {
          rvalue p = eval(it.points);
          if (!p.known()) {
            io.status = "undetermined";
          } else {
            io.status = "awarded";
            io.points = it.deduct ? negate(p) : p;
            make_number(scaled(io.points));  // a score is a number: the points must fit one
          }
        }
      } catch (const fault&) {
        io.status = "error";
        io.points = rvalue::integer_of(0);
      }
      const bool unsure = io.status == "undetermined" || io.status == "error";
      if (io.status == "error") out.error = true;
      if (unsure) out.provisional = true;
      if (it.section >= 0) {
        const auto k = static_cast<std::size_t>(it.section);
        section_sum[k] += scaled(io.points);
        if (unsure) section_prov[k] = true;
      } else {
        top_sum += scaled(io.points);
      }
      out.items.push_back(std::move(io));
    }
    i128 total = top_sum;
    for (std::size_t k = 0; k < s.sections.size(); ++k) {
      i128 v = std::max<i128>(section_sum[k], 0);
      if (s.sections[k].max != ast::no_expr) v = std::min(v, scaled(literal(s.sections[k].max)));
      // Sums beyond the number range are not modelled: they show as 0 and make the score
      // provisional and in error (never reached by the tests).
      if (!fits(v)) {
        out.error = out.provisional = section_prov[k] = true;
        v = 0;  // and counts 0 in the total, as the section shows
      }
      out.sections.emplace_back(s.sections[k].name, make_number(v));
      total += v;
    }
    total = std::max<i128>(total, 0);
    if (s.max != ast::no_expr) total = std::min(total, scaled(literal(s.max)));
    if (!fits(total)) out.error = out.provisional = true;
    out.total = fits(total) ? make_number(total) : rvalue::number_of(0);
    score_out[si] = std::move(out);
    section_provisional[si] = std::move(section_prov);
    score_phase[si] = phase::done;
  }

  const std::string& grade_status(std::size_t gi) {
    memo& m = grade_memo[gi];
    if (m.p == phase::running) throw std::logic_error("cycle through a grade");
    if (m.p != phase::todo) return m.status;
    m.p = phase::running;
    fresh_scope fs(scope);
    const ast::grade_decl& g = *grades[gi];
    std::string status = "none";
    rvalue v;
    v.k = rkind::none;
    try {
      for (const auto& line : g.lines) {
        bool match = line.otherwise;
        if (!match) {
          rvalue c = eval(line.cond);
          if (!c.known()) {
            status = "undetermined";
            v = rvalue{};
            break;
          }
          match = c.i != 0;
        }
        if (!match) continue;
        if (line.is_none) break;
        status = line.label;
        if (g.color_scale) {
          v = rvalue::color_of(color_index(line.label));
        } else {
          v.k = rkind::level;
          v.scale = &g.levels;
          v.i = std::find(g.levels.begin(), g.levels.end(), line.label) - g.levels.begin();
        }
        break;
      }
    } catch (const fault&) {
      status = "error";
      v = rvalue{};
    }
    grade_memo[gi].status = status;
    grade_memo[gi].v = v;
    grade_memo[gi].p = phase::done;
    return grade_memo[gi].status;
  }

  // ---- operations -----------------------------------------------------------------------

  rvalue negate(const rvalue& v) {
    if (v.k == rkind::integer) return make_int(-static_cast<i128>(v.i));
    return make_number(-static_cast<i128>(v.i));
  }

  // -1, 0, 1; 2 when the two cannot be ordered (none, or unlike kinds).
  int compare(const rvalue& a, const rvalue& b) {
    auto sign = [](auto x, auto y) { return x < y ? -1 : x > y ? 1 : 0; };
    if (numeric(a) && numeric(b)) return sign(scaled(a), scaled(b));
    if (a.k == rkind::level && b.k == rkind::string) {
      auto p = std::find(a.scale->begin(), a.scale->end(), b.s) - a.scale->begin();
      if (static_cast<std::size_t>(p) == a.scale->size()) return 2;
      return sign(a.i, static_cast<std::int64_t>(p));
    }
    if (a.k == rkind::string && b.k == rkind::level) {
      int c = compare(b, a);
      return c == 2 ? 2 : -c;
    }
    if (a.k != b.k) return 2;
    switch (a.k) {
      case rkind::string:
        return sign(a.s.compare(b.s), 0);  // bytes of UTF-8: code points
      case rkind::boolean:
      case rkind::date:
      case rkind::color:
      case rkind::level:
        return sign(a.i, b.i);
      default:
        return 2;
    }
  }

  bool equal(const rvalue& a, const rvalue& b) {
    if (a.k == rkind::none || b.k == rkind::none) return a.k == b.k;
    return compare(a, b) == 0;
  }

  rvalue kleene_and(const rvalue& a, const rvalue& b) {
    if ((a.known() && !a.i) || (b.known() && !b.i)) return rvalue::boolean_of(false);
    if (a.known() && b.known()) return rvalue::boolean_of(true);
    return {};
  }

  rvalue in_list(const rvalue& x, const rvalue& list) {
    if (!x.known() || !list.known()) return {};
    bool unsure = false;
    for (const auto& el : *list.items) {
      if (!el.known()) {
        unsure = true;
        continue;
      }
      if (equal(x, el)) return rvalue::boolean_of(true);
    }
    if (unsure) return {};
    return rvalue::boolean_of(false);
  }

  rvalue arith(ast::op o, const rvalue& a, const rvalue& b) {
    if (!a.known() || !b.known()) return {};
    switch (o) {
      case ast::op::add:
        if (a.k == rkind::date && b.k == rkind::integer) return make_date(i128{a.i} + b.i);
        if (a.k == rkind::integer && b.k == rkind::date) return make_date(i128{a.i} + b.i);
        if (a.k == rkind::integer && b.k == rkind::integer) return make_int(i128{a.i} + b.i);
        return make_number(scaled(a) + scaled(b));
      case ast::op::sub:
        if (a.k == rkind::date && b.k == rkind::date) return make_int(i128{a.i} - b.i);
        if (a.k == rkind::date && b.k == rkind::integer) return make_date(i128{a.i} - b.i);
        if (a.k == rkind::integer && b.k == rkind::integer) return make_int(i128{a.i} - b.i);
        return make_number(scaled(a) - scaled(b));
      case ast::op::mul:
        if (a.k == rkind::integer && b.k == rkind::integer) {
          // |a*b| < 2^126: exact in 128 bits
          return make_int(i128{a.i} * i128{b.i});
        }
        if (a.k == rkind::integer) return make_number(i128{a.i} * b.i);
        if (b.k == rkind::integer) return make_number(i128{a.i} * b.i);
        return make_number(round_div(i128{a.i} * b.i, scale_factor));
      case ast::op::div: {
        // a / b = (A / 10^6) / (B / 10^6); scaled result = A * 10^6 / B.
        i128 num = scaled(a), den = scaled(b);
        if (den == 0) throw fault{"division by zero"};
        // A * 10^6 may pass 2^127 only for |A| > 1.7e32, which no int64 reaches.
        return make_number(round_div(num * scale_factor, den));
      }
      case ast::op::mod:
        if (b.i == 0) throw fault{"modulo by zero"};
        return make_int(i128{a.i} % i128{b.i});
      default:
        break;
    }
    throw std::logic_error("not arithmetic");
  }

  rvalue compare_op(ast::op o, const rvalue& a, const rvalue& b) {
    if (!a.known() || !b.known()) return {};
    switch (o) {
      case ast::op::eq:
        return rvalue::boolean_of(equal(a, b));
      case ast::op::ne:
        return rvalue::boolean_of(!equal(a, b));
      default:
        break;
    }
    const int c = compare(a, b);
    if (c == 2) return rvalue::boolean_of(false);  // ordering with none: false
    switch (o) {
      case ast::op::lt:
        return rvalue::boolean_of(c < 0);
      case ast::op::le:
        return rvalue::boolean_of(c <= 0);
      case ast::op::gt:
        return rvalue::boolean_of(c > 0);
      case ast::op::ge:
        return rvalue::boolean_of(c >= 0);
      default:
        break;
    }
    throw std::logic_error("not a comparison");
  }

  // ---- expressions ----------------------------------------------------------------------

  struct bind_guard {
    std::vector<std::pair<std::string, rvalue>>& s;
    bind_guard(std::vector<std::pair<std::string, rvalue>>& sc, std::string name, rvalue v)
        : s(sc) {
      s.emplace_back(std::move(name), std::move(v));
    }
    ~bind_guard() { s.pop_back(); }
    bind_guard(const bind_guard&) = delete;
    bind_guard& operator=(const bind_guard&) = delete;
  };

  rvalue field_of(const rvalue& v, const std::vector<std::string>& segs, std::size_t from) {
    if (from == segs.size() || !v.known()) return v;
    if (v.k == rkind::record) {
      const ast::input_decl* d = field_named(*v.fields, join(segs, from));
      if (!d) throw std::logic_error("no field " + join(segs, from));
      fact f = read_fact(v.obj, *d);
      return f.st == fstate::present || f.st == fstate::defaulted ? f.v : rvalue{};
    }
    if (v.k == rkind::hazard) {
      const ast::hazard_decl& h = *hazards[static_cast<std::size_t>(v.i)];
      const std::string& name = segs[from];
      if (name == "id") return rvalue::string_of(h.id);
      if (name == "category") return rvalue::string_of(h.category);
      if (name == "severity") return rvalue::string_of(h.major ? "major" : "general");
      if (name == "status") return rvalue::string_of(hazard_status(static_cast<std::size_t>(v.i)));
    }
    throw std::logic_error("no field " + join(segs, from) + " of " + describe(v));
  }

  rvalue path(const std::vector<std::string>& segs) {
    for (auto it = scope.rbegin(); it != scope.rend(); ++it)
      if (it->first == segs[0]) return field_of(it->second, segs, 1);
    if (auto l = let_index.find(segs[0]); l != let_index.end()) return let_value(l->second);
    if (auto s = score_index.find(segs[0]); s != score_index.end()) {
      score(s->second);
      const score_outcome& so = score_out[s->second];
      if (segs.size() == 1) return so.provisional ? rvalue{} : so.total;
      for (std::size_t k = 0; k < so.sections.size(); ++k)
        if (so.sections[k].first == segs[1])
          return section_provisional[s->second][k] ? rvalue{} : so.sections[k].second;
      throw std::logic_error("no section " + segs[1]);
    }
    if (auto g = grade_index.find(segs[0]); g != grade_index.end()) {
      grade_status(g->second);
      return grade_memo[g->second].v;
    }
    const boost::json::object* obj = nullptr;
    const ast::input_decl* d = nullptr;
    if (!locate(segs, obj, d)) throw std::logic_error("unresolved path " + join(segs));
    fact f = read_fact(obj, *d);
    return f.st == fstate::present || f.st == fstate::defaulted ? f.v : rvalue{};
  }

  rvalue eval(ast::expr_id id) {
    const ast::expr& e = arena[id];
    switch (e.kind) {
      case ast::expr_kind::lit_bool:
        return rvalue::boolean_of(e.i != 0);
      case ast::expr_kind::lit_int:
        return rvalue::integer_of(e.i);
      case ast::expr_kind::lit_number:
        return rvalue::number_of(e.i);
      case ast::expr_kind::lit_string:
        return rvalue::string_of(e.text);
      case ast::expr_kind::lit_date:
        return rvalue::date_of(e.i);
      case ast::expr_kind::lit_color:
        return rvalue::color_of(e.i);
      case ast::expr_kind::lit_none: {
        rvalue v;
        v.k = rkind::none;
        return v;
      }
      case ast::expr_kind::lit_list: {
        auto items = std::make_shared<std::vector<rvalue>>();
        for (ast::expr_id a : e.args) items->push_back(eval(a));
        rvalue v;
        v.k = rkind::list;
        v.items = std::move(items);
        return v;
      }
      case ast::expr_kind::path:
        return path(e.segments);
      case ast::expr_kind::asof:
        return rvalue::date_of(asof);
      case ast::expr_kind::hazards:
        return hazards_list();
      case ast::expr_kind::unary: {
        rvalue v = eval(e.args[0]);
        if (!v.known()) return {};
        if (e.oper == ast::op::not_) return rvalue::boolean_of(v.i == 0);
        return negate(v);
      }
      case ast::expr_kind::binary:
        return binary(e);
      case ast::expr_kind::coalesce: {
        rvalue v = eval(e.args[0]);  // an error is not unknown: it propagates
        return v.known() ? v : eval(e.args[1]);
      }
      case ast::expr_kind::if_else: {
        rvalue c = eval(e.args[0]);
        if (!c.known()) return {};
        return eval(e.args[c.i ? 1 : 2]);
      }
      case ast::expr_kind::call:
        return call(e);
      case ast::expr_kind::aggregate:
        return aggregate(e);
      case ast::expr_kind::member: {
        rvalue base = eval(e.args[0]);
        return field_of(base, {"", e.text}, 1);
      }
    }
    throw std::logic_error("unknown expression kind");
  }

  rvalue binary(const ast::expr& e) {
    switch (e.oper) {
      case ast::op::and_: {
        rvalue a = eval(e.args[0]);
        if (a.known() && !a.i) return a;  // false and … is false, unread
        return kleene_and(a, eval(e.args[1]));
      }
      case ast::op::or_: {
        rvalue a = eval(e.args[0]);
        if (a.known() && a.i) return a;
        rvalue b = eval(e.args[1]);
        if (b.known() && b.i) return b;
        if (a.known() && b.known()) return rvalue::boolean_of(false);
        return {};
      }
      case ast::op::in:
      case ast::op::not_in: {
        rvalue x = eval(e.args[0]);
        rvalue l = eval(e.args[1]);
        rvalue r = in_list(x, l);
        if (e.oper == ast::op::not_in && r.known()) r.i = !r.i;
        return r;
      }
      case ast::op::eq:
      case ast::op::ne:
      case ast::op::lt:
      case ast::op::le:
      case ast::op::gt:
      case ast::op::ge: {
        rvalue a = eval(e.args[0]);
        rvalue b = eval(e.args[1]);
        return compare_op(e.oper, a, b);
      }
      default: {
        rvalue a = eval(e.args[0]);
        rvalue b = eval(e.args[1]);
        return arith(e.oper, a, b);
      }
    }
  }

  rvalue call(const ast::expr& e) {
    const std::string& f = e.text;
    if (auto t = tables.find(f); t != tables.end()) return table_call(*t->second, e);
    if (f == "present") {
      const std::string& s = hazard_status(hazard_index.at(join(arena[e.args[0]].segments)));
      if (s == "present") return rvalue::boolean_of(true);
      if (s == "absent") return rvalue::boolean_of(false);
      return {};
    }
    if (f == "exists" || f == "missing") {
      const boost::json::object* obj = nullptr;
      const ast::input_decl* d = nullptr;
      if (!locate(arena[e.args[0]].segments, obj, d)) throw std::logic_error("exists of ?");
      const bool supplied = read_fact(obj, *d).st == fstate::present;
      return rvalue::boolean_of(f == "exists" ? supplied : !supplied);
    }
    std::vector<rvalue> a;
    // Every argument is evaluated: an error in any of them is the declaration's error, even
    // when another argument already decides the result (docs/language.md).
    for (ast::expr_id x : e.args) a.push_back(eval(x));
    if (f == "min" || f == "max") return min_max(f == "max", a);
    for (const auto& v : a)
      if (!v.known()) return {};
    if (f == "len") {
      if (a[0].k == rkind::string)
        return rvalue::integer_of(static_cast<std::int64_t>(code_points(a[0].s)));
      for (const auto& el : *a[0].items)
        if (el.member_unknown) return {};  // an undetermined hazard may or may not count
      return rvalue::integer_of(static_cast<std::int64_t>(a[0].items->size()));
    }
    if (f == "abs") return a[0].i < 0 ? negate(a[0]) : a[0];
    if (f == "round" && a.size() == 2) {
      const std::int64_t n = a[1].i;
      const i128 x = scaled(a[0]);
      if (n >= 6) return make_number(x);
      i128 p = 1;
      for (std::int64_t k = n; k < 6; ++k) p *= 10;
      return make_number(round_div(x, p) * p);
    }
    if (f == "round" || f == "floor" || f == "ceil") {
      if (a[0].k == rkind::integer) return a[0];
      const i128 x = a[0].i;
      if (f == "round") return make_int(round_div(x, scale_factor));
      if (f == "floor") return make_int(floor_div(x, scale_factor));
      return make_int(-floor_div(-x, scale_factor));
    }
    if (f == "days_since") return make_int(i128{asof} - a[0].i);
    if (f == "year") {
      std::int64_t y;
      unsigned m, d;
      civil_from_days(a[0].i, y, m, d);
      return rvalue::integer_of(y);
    }
    if (f == "years_between") {
      auto whole_years = [](std::int64_t from, std::int64_t to) {
        std::int64_t y1, y2;
        unsigned m1, d1, m2, d2;
        civil_from_days(from, y1, m1, d1);
        civil_from_days(to, y2, m2, d2);
        std::int64_t n = y2 - y1;
        if (m2 < m1 || (m2 == m1 && d2 < d1)) --n;  // 29 Feb completes on 1 Mar
        return n;
      };
      if (a[1].i >= a[0].i) return rvalue::integer_of(whole_years(a[0].i, a[1].i));
      return rvalue::integer_of(-whole_years(a[1].i, a[0].i));
    }
    if (f == "starts_with")
      return rvalue::boolean_of(a[0].s.compare(0, a[1].s.size(), a[1].s) == 0 &&
                                a[0].s.size() >= a[1].s.size());
    throw std::logic_error("unknown function " + f);
  }

  rvalue min_max(bool is_max, const std::vector<rvalue>& all) {
    // `none` (no colour, no level) contributes nothing; only `none` gives `none`.
    std::vector<rvalue> a;
    for (const auto& v : all)
      if (v.k != rkind::none) a.push_back(v);
    if (a.empty()) return all.empty() ? rvalue{} : all.front();
    bool unsure = false, colours = false;
    for (const auto& v : a) {
      if (!v.known()) unsure = true;
      if (v.k == rkind::color) colours = true;
    }
    if (colours) {  // nothing is worse than red, nothing better than blue
      const std::int64_t extreme = is_max ? 3 : 0;
      for (const auto& v : a)
        if (v.k == rkind::color && v.i == extreme) return v;
    }
    if (unsure) return {};
    rvalue best = a[0];
    for (std::size_t k = 1; k < a.size(); ++k) {
      const int c = compare(a[k], best);
      if (is_max ? c == 1 : c == -1) best = a[k];
    }
    return best;
  }

  rvalue table_call(const ast::table_decl& t, const ast::expr& e) {
    std::vector<rvalue> args;
    for (ast::expr_id x : e.args) args.push_back(eval(x));
    fresh_scope fs(scope);  // a table reads its parameters only
    for (std::size_t k = 0; k < t.params.size(); ++k) scope.emplace_back(t.params[k].name, args[k]);
    rvalue result;
    for (const auto& row : t.rows) {
      rvalue test = rvalue::boolean_of(true);
      if (t.pipe_form) {
        for (std::size_t k = 0; k < row.cells.size(); ++k)
          test = kleene_and(test, cell_test(row.cells[k], args[k]));
      } else if (!row.otherwise) {
        test = eval(row.cond);
      }
      if (!test.known()) break;  // an unknown row before the hit: unknown
      if (test.i) {
        result = eval(row.result);
        break;
      }
    }
    return result;
  }

  rvalue cell_test(const ast::table_cell& c, const rvalue& arg) {
    switch (c.kind) {
      case ast::cell_kind::any:
        return rvalue::boolean_of(true);
      case ast::cell_kind::compare:
        return compare_op(c.oper, arg, literal(c.a));
      case ast::cell_kind::in_list:
        return in_list(arg, eval(c.a));
      case ast::cell_kind::range:
        return kleene_and(compare_op(ast::op::ge, arg, literal(c.a)),
                          compare_op(ast::op::le, arg, literal(c.b)));
    }
    return {};
  }

  rvalue aggregate(const ast::expr& e) {
    rvalue src = eval(e.args[0]);
    if (!src.known()) return {};  // an absent (or spoilt) list
    const std::string& kind = e.text;
    const ast::expr_id where = e.args[1], value = e.args[2];
    // The element's condition: `where` (true without one), read as `unknown and where` for
    // an undetermined or errored hazard.
    auto cond = [&](const rvalue& el) {
      bind_guard g(scope, e.var, el);
      rvalue c = where == ast::no_expr ? rvalue::boolean_of(true) : eval(where);
      if (el.member_unknown) c = kleene_and(rvalue{}, c);
      return c;
    };
    auto val = [&](const rvalue& el) {
      bind_guard g(scope, e.var, el);
      return eval(value);
    };
    bool unsure = false;
    if (kind == "any" || kind == "all") {
      const bool decisive = kind == "any";
      for (const auto& el : *src.items) {
        rvalue c = cond(el);
        if (!c.known()) {
          unsure = true;
        } else if ((c.i != 0) == decisive) {
          return rvalue::boolean_of(decisive);
        }
      }
      if (unsure) return {};
      return rvalue::boolean_of(!decisive);
    }
    if (kind == "count") {
      std::int64_t n = 0;
      for (const auto& el : *src.items) {
        rvalue c = cond(el);
        if (!c.known())
          unsure = true;
        else if (c.i)
          ++n;
      }
      if (unsure) return {};
      return rvalue::integer_of(n);
    }
    // sum, min, max, avg
    std::vector<rvalue> picked;
    for (const auto& el : *src.items) {
      rvalue c = cond(el);
      if (!c.known()) {
        unsure = true;
        continue;
      }
      if (!c.i) continue;
      rvalue v = val(el);
      if (!v.known())
        unsure = true;
      else
        picked.push_back(v);
    }
    if (kind == "sum") {
      rvalue acc = rvalue::integer_of(0);
      for (const auto& v : picked) acc = arith(ast::op::add, acc, v);
      return unsure ? rvalue{} : acc;
    }
    if (unsure || picked.empty()) return {};
    if (kind == "avg") {
      i128 total = 0;
      for (const auto& v : picked) total += scaled(v);
      return make_number(round_div(total, static_cast<i128>(picked.size())));
    }
    return min_max(kind == "max", picked);
  }
};

reference_evaluator::reference_evaluator(const loaded_ruleset& rs, const boost::json::value& facts,
                                         std::int64_t asof)
    : impl_(std::make_unique<impl>(rs, facts, asof)) {}

reference_evaluator::~reference_evaluator() = default;

outcomes reference_evaluator::run() {
  impl& m = *impl_;
  outcomes out;
  for (std::size_t i = 0; i < m.hazards.size(); ++i)
    out.hazards.push_back({m.hazards[i]->id, m.hazard_status(i)});
  for (std::size_t i = 0; i < m.lets.size(); ++i) {
    m.let_value(i);
    out.lets.push_back({m.lets[i]->name, m.let_memo[i].status, m.let_memo[i].v});
  }
  for (std::size_t i = 0; i < m.scores.size(); ++i) {
    m.score(i);
    out.scores.push_back(m.score_out[i]);
  }
  for (std::size_t i = 0; i < m.grades.size(); ++i)
    out.grades.push_back({m.grades[i]->name, m.grade_status(i)});
  return out;
}

bool reference_evaluator::expect_holds(const ast::expect_stmt& e) {
  impl& m = *impl_;
  auto hazard_is = [&](const char* s) {
    auto it = m.hazard_index.find(e.name);
    return it != m.hazard_index.end() && m.hazard_status(it->second) == s;
  };
  auto grade_is = [&](const char* s) {
    auto it = m.grade_index.find(e.name);
    return it != m.grade_index.end() && m.grade_status(it->second) == s;
  };
  switch (e.kind) {
    case ast::expect_kind::hazard:
      return hazard_is("present");
    case ast::expect_kind::not_hazard:
      return hazard_is("absent");
    case ast::expect_kind::undetermined:
      return hazard_is("undetermined") || grade_is("undetermined");
    case ast::expect_kind::error: {
      if (hazard_is("error") || grade_is("error")) return true;
      if (auto l = m.let_index.find(e.name); l != m.let_index.end()) {
        m.let_value(l->second);
        return m.let_memo[l->second].status == "error";
      }
      if (auto s = m.score_index.find(e.name); s != m.score_index.end()) {
        m.score(s->second);
        return m.score_out[s->second].error;
      }
      for (std::size_t s = 0; s < m.scores.size(); ++s) {  // an item of some score
        m.score(s);
        for (const auto& it : m.score_out[s].items)
          if (it.id == e.name) return it.status == "error";
      }
      return false;
    }
    case ast::expect_kind::provisional: {
      auto s = m.score_index.find(e.name);
      if (s == m.score_index.end()) return false;
      m.score(s->second);
      return m.score_out[s->second].provisional;
    }
    case ast::expect_kind::expression:
      try {
        rvalue v = m.eval(e.e);
        return v.k == rkind::boolean && v.i == 1;
      } catch (const fault&) {
        return false;
      }
  }
  return false;
}

bool reference_evaluator::test_passes(const ast::test_decl& t) {
  bool ok = true;
  for (const auto& e : t.expects) ok = expect_holds(e) && ok;
  return ok;
}

}  // namespace carerules::reference
