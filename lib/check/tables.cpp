// Reachability of decision-table rows (see tables.hpp).
#include "check/tables.hpp"

#include <optional>
#include <string>

#include "util/decimal.hpp"

namespace carerules::detail {
namespace {

using ast::expr_kind;

// A literal as a comparable key: numbers scaled, strings as text.
struct key {
  int family = -1;  // 0 numeric, 1 string, 2 date, 3 color, 4 bool
  __int128 n = 0;
  std::string s;
};

std::optional<key> literal_key(const ast::expr_arena& A, ast::expr_id id) {
  if (id == ast::no_expr) return std::nullopt;
  const auto& e = A[id];
  key k;
  switch (e.kind) {
    case expr_kind::lit_int:
      k.family = 0;
      k.n = static_cast<__int128>(e.i) * decimal_scale;
      return k;
    case expr_kind::lit_number:
      k.family = 0;
      k.n = e.i;
      return k;
    case expr_kind::lit_string:
      k.family = 1;
      k.s = e.text;
      return k;
    case expr_kind::lit_date:
      k.family = 2;
      k.n = e.i;
      return k;
    case expr_kind::lit_color:
      k.family = 3;
      k.n = e.i;
      return k;
    case expr_kind::lit_bool:
      k.family = 4;
      k.n = e.i;
      return k;
    case expr_kind::unary:
      if (e.oper == ast::op::neg && !e.args.empty()) {
        auto inner = literal_key(A, e.args[0]);
        if (inner && inner->family == 0) {
          inner->n = -inner->n;
          return inner;
        }
      }
      return std::nullopt;
    default:
      return std::nullopt;
  }
}

// -1, 0, 1; nullopt when incomparable.
std::optional<int> cmp(const key& a, const key& b) {
  if (a.family != b.family) return std::nullopt;
  if (a.family == 1) return a.s < b.s ? -1 : (a.s == b.s ? 0 : 1);
  return a.n < b.n ? -1 : (a.n == b.n ? 0 : 1);
}

interval point(ast::expr_id lit) {
  interval i;
  i.lo = {false, true, lit};
  i.hi = {false, true, lit};
  return i;
}

std::optional<cell_shape> compare_shape(ast::op op, ast::expr_id lit) {
  cell_shape c;
  c.any = false;
  interval i;
  switch (op) {
    case ast::op::eq:
      c.parts.push_back(point(lit));
      return c;
    case ast::op::lt:
      i.hi = {false, false, lit};
      break;
    case ast::op::le:
      i.hi = {false, true, lit};
      break;
    case ast::op::gt:
      i.lo = {false, false, lit};
      break;
    case ast::op::ge:
      i.lo = {false, true, lit};
      break;
    case ast::op::ne: {
      interval a, b;
      a.hi = {false, false, lit};
      b.lo = {false, false, lit};
      c.parts = {a, b};
      return c;
    }
    default:
      return std::nullopt;
  }
  c.parts.push_back(i);
  return c;
}

ast::op flip(ast::op o) {
  switch (o) {
    case ast::op::lt:
      return ast::op::gt;
    case ast::op::le:
      return ast::op::ge;
    case ast::op::gt:
      return ast::op::lt;
    case ast::op::ge:
      return ast::op::le;
    default:
      return o;
  }
}

// Is the lower bound a at or below lower bound b (a admits everything b admits below)?
bool lower_le(const ast::expr_arena& A, const bound& a, const bound& b, bool& ok) {
  if (a.infinite) return true;
  if (b.infinite) return false;
  auto ka = literal_key(A, a.lit), kb = literal_key(A, b.lit);
  if (!ka || !kb) return ok = false;
  auto c = cmp(*ka, *kb);
  if (!c) return ok = false;
  if (*c < 0) return true;
  if (*c > 0) return false;
  return a.closed || !b.closed;
}

bool upper_ge(const ast::expr_arena& A, const bound& a, const bound& b, bool& ok) {
  if (a.infinite) return true;
  if (b.infinite) return false;
  auto ka = literal_key(A, a.lit), kb = literal_key(A, b.lit);
  if (!ka || !kb) return ok = false;
  auto c = cmp(*ka, *kb);
  if (!c) return ok = false;
  if (*c > 0) return true;
  if (*c < 0) return false;
  return a.closed || !b.closed;
}

// Does cell a admit every value cell b admits? (false when unsure) The call and each
// comparison of two parts spend one unit of `budget`; with none left the answer is "unsure".
bool covers(const ast::expr_arena& A, const cell_shape& a, const cell_shape& b,
            std::size_t& budget) {
  if (budget == 0) return false;
  --budget;
  if (a.any) return true;
  if (b.any) return false;
  for (const auto& pb : b.parts) {
    bool inside = false;
    for (const auto& pa : a.parts) {
      if (budget == 0) return false;
      --budget;
      bool ok = true;
      bool lo = lower_le(A, pa.lo, pb.lo, ok);
      bool hi = upper_ge(A, pa.hi, pb.hi, ok);
      if (ok && lo && hi) {
        inside = true;
        break;
      }
    }
    if (!inside) return false;
  }
  return true;
}

// Intersects two single-interval shapes (for `x >= 1 and x <= 5`).
std::optional<cell_shape> intersect(const ast::expr_arena& A, const cell_shape& a,
                                    const cell_shape& b) {
  if (a.any) return b;
  if (b.any) return a;
  if (a.parts.size() != 1 || b.parts.size() != 1) return std::nullopt;
  interval r;
  bool ok = true;
  r.lo = lower_le(A, a.parts[0].lo, b.parts[0].lo, ok) ? b.parts[0].lo : a.parts[0].lo;
  r.hi = upper_ge(A, a.parts[0].hi, b.parts[0].hi, ok) ? b.parts[0].hi : a.parts[0].hi;
  if (!ok) return std::nullopt;
  cell_shape c;
  c.any = false;
  c.parts.push_back(r);
  return c;
}

bool describe_into(const ast::expr_arena& A, ast::expr_id id, const ast::table_decl& t,
                   std::vector<cell_shape>& cells) {
  const auto& e = A[id];
  if (e.kind == expr_kind::lit_bool && e.i == 1) return true;
  if (e.kind != expr_kind::binary) return false;
  if (e.oper == ast::op::and_)
    return describe_into(A, e.args[0], t, cells) && describe_into(A, e.args[1], t, cells);
  auto param_index = [&](ast::expr_id x) -> int {
    const auto& pe = A[x];
    if (pe.kind != expr_kind::path || pe.segments.size() != 1) return -1;
    for (std::size_t i = 0; i < t.params.size(); ++i)
      if (t.params[i].name == pe.segments[0]) return static_cast<int>(i);
    return -1;
  };
  int p = param_index(e.args[0]);
  ast::expr_id lit = e.args[1];
  ast::op o = e.oper;
  if (p < 0) {
    p = param_index(e.args[1]);
    lit = e.args[0];
    o = flip(o);
  }
  if (p < 0) return false;
  std::optional<cell_shape> c;
  if (o == ast::op::in && A[lit].kind == expr_kind::lit_list) {
    cell_shape s;
    s.any = false;
    for (auto el : A[lit].args) {
      if (!literal_key(A, el)) return false;
      s.parts.push_back(point(el));
    }
    c = s;
  } else {
    if (!literal_key(A, lit)) return false;
    c = compare_shape(o, lit);
  }
  if (!c) return false;
  auto merged = intersect(A, cells[static_cast<std::size_t>(p)], *c);
  if (!merged) return false;
  cells[static_cast<std::size_t>(p)] = *merged;
  return true;
}

}  // namespace

cell_shape describe_cell(const ast::expr_arena& A, const ast::table_cell& cell) {
  cell_shape c;
  switch (cell.kind) {
    case ast::cell_kind::any:
      return c;
    case ast::cell_kind::compare: {
      auto s = compare_shape(cell.oper, cell.a);
      if (s) return *s;
      break;
    }
    case ast::cell_kind::range: {
      c.any = false;
      interval i;
      i.lo = {false, true, cell.a};
      i.hi = {false, true, cell.b};
      c.parts.push_back(i);
      return c;
    }
    case ast::cell_kind::in_list: {
      c.any = false;
      if (cell.a != ast::no_expr)
        for (auto el : A[cell.a].args) c.parts.push_back(point(el));
      return c;
    }
  }
  return c;
}

table_row_shape describe_condition(const ast::expr_arena& A, ast::expr_id cond,
                                   const ast::table_decl& t) {
  table_row_shape r;
  r.cells.resize(t.params.size());
  if (cond == ast::no_expr) return r;
  r.analyzable = describe_into(A, cond, t, r.cells);
  if (r.analyzable) {
    bool all = true;
    for (const auto& c : r.cells) all = all && c.any;
    r.catch_all = all;
  }
  return r;
}

// Comparing every row with the rows before it is quadratic: a table of a few thousand rows
// is checked whole, a larger one as far as this many comparisons of cell parts go, and the
// checker says where it stopped (a ruleset within source_bytes may hold 10^5 rows or more).
constexpr std::size_t row_check_budget = 8'000'000;

void analyze_table_rows(const ast::expr_arena& A, const ast::table_decl& t,
                        const std::vector<table_row_shape>& rows, ast::diagnostic_sink& diags) {
  std::size_t budget = row_check_budget;
  bool stopped = false;
  auto stop_at = [&](const table_row_shape& r) {
    stopped = true;
    diags.warning(r.where, "table `" + t.name + "` has " + std::to_string(rows.size()) +
                               " rows: whether a row is implied by an earlier one was checked "
                               "up to this row only");
  };
  bool has_catch_all = false;
  std::uint32_t catch_line = 0;
  for (std::size_t j = 0; j < rows.size(); ++j) {
    const auto& r = rows[j];
    if (has_catch_all) {
      diags.warning(r.where, "this row of table `" + t.name +
                                 "` can never be reached: it follows the catch-all row at line " +
                                 std::to_string(catch_line));
      continue;
    }
    if (r.catch_all) {
      has_catch_all = true;
      catch_line = r.where.line;
      continue;
    }
    if (!r.analyzable || stopped) continue;
    for (std::size_t i = 0; i < j; ++i) {
      const auto& e = rows[i];
      if (budget == 0) {
        stop_at(r);
        break;
      }
      --budget;  // every pair costs, whatever it holds
      if (!e.analyzable || e.catch_all) continue;
      bool all = true;
      for (std::size_t c = 0; c < r.cells.size() && all; ++c)
        all = covers(A, e.cells[c], r.cells[c], budget);
      if (!all && budget == 0) {
        stop_at(r);
        break;
      }
      if (all) {
        diags.warning(r.where, "this row of table `" + t.name +
                                   "` can never be reached: the row at line " +
                                   std::to_string(e.where.line) + " matches everything it matches");
        break;
      }
    }
  }
  if (!has_catch_all)
    diags.warning(t.where, "table `" + t.name +
                               "` has no catch-all row (`otherwise` or all `-`): arguments that no "
                               "row matches give unknown");
}

}  // namespace carerules::detail
