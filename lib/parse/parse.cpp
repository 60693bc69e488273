// Recursive-descent parser of the rules language (spec §1-§9).
//
// Error handling: a syntax error is reported, then `syntax_error` is thrown and caught by
// the innermost block loop (`block`), which skips to the next clause keyword that starts a
// line, or to the block's `}` (braces counted). The ruleset body is such a block, its
// clauses the declarations. Nesting (`depth_guard`) is counted before every recursion.
#include "parse/parse.hpp"

#include <algorithm>
#include <array>
#include <functional>
#include <new>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "parse/lexer.hpp"
#include "util/utf8.hpp"

namespace carerules::parse {

namespace {

using ast::expr;
using ast::expr_id;
using ast::expr_kind;
using ast::no_expr;

struct syntax_error {};

constexpr std::array<std::string_view, 19> reserved_words = {
    "and",  "or",    "not",  "in",      "if",   "then", "else",   "where",  "when", "otherwise",
    "true", "false", "none", "hazards", "asof", "blue", "yellow", "orange", "red"};

// Words that begin a declaration or a clause. They are not reserved (a path may be called
// `score`), but one that starts a line and is followed by what follows such a keyword (a
// name, a string, a date or `{`) is taken to begin the next declaration when an
// expression was expected, so that `let a = 1 +` is reported at the next line's `let`.
constexpr std::array<std::string_view, 23> statement_words = {
    "title",  "version", "source", "effective", "import",   "input",    "let",    "table",
    "hazard", "score",   "grade",  "test",      "category", "severity", "cite",   "rectify",
    "advice", "section", "item",   "deduct",    "given",    "expect",   "ruleset"};

bool is_statement_word(std::string_view w) {
  return std::find(statement_words.begin(), statement_words.end(), w) != statement_words.end();
}

bool is_reserved(std::string_view w) {
  return std::find(reserved_words.begin(), reserved_words.end(), w) != reserved_words.end();
}

int color_index(std::string_view w) {
  if (w == "blue") return 0;
  if (w == "yellow") return 1;
  if (w == "orange") return 2;
  if (w == "red") return 3;
  return -1;
}

bool is_aggregate(std::string_view w) {
  return w == "count" || w == "any" || w == "all" || w == "sum" || w == "min" || w == "max" ||
         w == "avg";
}

std::string quote(std::string_view s) { return "`" + std::string(s) + "`"; }

// "`a`, `b` or `c`"
std::string one_of(std::initializer_list<std::string_view> words) {
  std::string out;
  std::size_t i = 0;
  for (auto w : words) {
    if (i > 0) out += i + 1 == words.size() ? " or " : ", ";
    out += quote(w);
    ++i;
  }
  return out;
}

using start_test = std::function<bool(const token&)>;

class parser {
 public:
  parser(const ast::source_file& src, std::uint32_t file, ast::expr_arena& arena,
         const parse_limits& limits, ast::diagnostic_sink& diags)
      : src_(src),
        file_(file),
        arena_(arena),
        limits_(limits),
        diags_(diags),
        lex_(src.text, file, limits.identifier, limits.string, diags) {}

  ast::ruleset_file run();

 private:
  // ---- tokens -----------------------------------------------------------------------
  const token& peek() {
    if (!have_cur_) {
      before_cur_ = lex_.save();
      cur_ = lex_.next();
      have_cur_ = true;
    }
    return cur_;
  }
  token take() {
    peek();
    have_cur_ = false;
    prev_ = cur_;
    return prev_;
  }
  // The token after peek(), without consuming anything.
  token peek2() {
    peek();
    lexer::state s = lex_.save();
    token t = lex_.next();
    lex_.restore(s);
    return t;
  }
  // An id (`A4.1`, `第四条.一`) at the current position; on anything else, returns that
  // token unconsumed (kind != word).
  token take_id() {
    if (have_cur_) {
      lex_.restore(before_cur_);
      have_cur_ = false;
    }
    lexer::state s = lex_.save();
    token t = lex_.scan_id();
    if (t.kind != tok::word) {
      lex_.restore(s);
      return t;
    }
    prev_ = t;
    return t;
  }
  bool at(tok k) { return peek().kind == k; }
  bool at_word(std::string_view w) { return peek().kind == tok::word && cur_.text == w; }

  ast::pos pos_of(const token& t) const { return {file_, t.line, t.column}; }

  std::string found(const token& t) const {
    switch (t.kind) {
      case tok::eof:
        return "end of file";
      case tok::string:
        return "a string";
      case tok::word:
        return quote(t.text);
      default: {
        std::string_view raw = std::string_view(src_.text).substr(t.begin, t.end - t.begin);
        if (raw.size() > 40) raw = raw.substr(0, 40);
        return quote(detail::escape_for_display(raw));
      }
    }
  }

  void error(const token& t, std::string message) { diags_.error(pos_of(t), std::move(message)); }
  [[noreturn]] void fail(const token& t, std::string message) {
    error(t, std::move(message));
    throw syntax_error{};
  }
  [[noreturn]] void fail_expected(std::string what, std::string_view context = {}) {
    const token& t = peek();
    std::string m = "expected " + what;
    if (!context.empty()) m += " " + std::string(context);
    fail(t, m + ", found " + found(t));
  }
  // In a table row, which is one line: a token on a later line is reported as the end of
  // the row's line, just past the row's last token, not as the token found.
  [[noreturn]] void fail_in_row(std::string what, std::string_view context, std::uint32_t line) {
    if (peek().line == line) fail_expected(std::move(what), context);
    // Just past the row's last token, where the missing bar belongs.
    const std::string_view raw =
        std::string_view(src_.text).substr(prev_.begin, prev_.end - prev_.begin);
    ast::pos at = pos_of(prev_);
    at.column += static_cast<std::uint32_t>(detail::count_code_points(raw));
    diags_.error(at,
                 "expected " + what + " " + std::string(context) + ", found the end of the line");
    throw syntax_error{};
  }
  token expect(tok k, std::string_view context = {}) {
    if (peek().kind != k) fail_expected(describe(k), context);
    return take();
  }
  token expect_word(std::string_view w, std::string_view context = {}) {
    if (!at_word(w)) fail_expected(quote(w), context);
    return take();
  }
  // A name for a declaration, parameter or bound variable: a word that is not reserved.
  token expect_name(std::string_view what) {
    const token& t = peek();
    if (t.kind == tok::word && is_reserved(t.text))
      fail(t, quote(t.text) + " is reserved and cannot be used as " + std::string(what));
    if (t.kind != tok::word) fail_expected(std::string(what));
    return take();
  }

  // ---- nesting ----------------------------------------------------------------------
  // A nesting level. Besides `limits.depth`, the native stack in use is bounded by
  // `stack_budget`, so that a large configured depth cannot overflow it either (a level
  // takes about 1 KiB, 2.5 KiB under AddressSanitizer).
  static constexpr std::size_t stack_budget = std::size_t{4} << 20;
  struct depth_guard {
    parser& p;
    depth_guard(parser& parent, const token& at) : p(parent) {
      char here = 0;
      auto addr = reinterpret_cast<std::uintptr_t>(&here);
      std::size_t used = p.stack_base_ > addr ? p.stack_base_ - addr : addr - p.stack_base_;
      if (++p.depth_ > p.limits_.depth || used > stack_budget) {
        --p.depth_;
        if (!p.depth_reported_) {
          p.depth_reported_ = true;
          p.error(at, p.depth_ >= p.limits_.depth
                          ? "nesting is deeper than the limit of " +
                                std::to_string(p.limits_.depth) + " (limit `depth`)"
                          : "nesting is deeper than the parser's stack allows (" +
                                std::to_string(p.depth_) + " levels; limit `depth` is " +
                                std::to_string(p.limits_.depth) + ")");
        }
        throw syntax_error{};
      }
    }
    ~depth_guard() { --p.depth_; }
    depth_guard(const depth_guard&) = delete;
    depth_guard& operator=(const depth_guard&) = delete;
  };

  // ---- blocks and recovery ----------------------------------------------------------
  // `{` clause* `}`: `clause` is called with the current token as the clause's first
  // token; on a syntax error, tokens are skipped up to the next token that `starts` a
  // clause (at the block's brace level, first on its line) or the closing `}`.
  void block(const token& opener, std::string_view what, const start_test& starts,
             const std::function<void(const token&)>& clause);
  void sync(std::uint32_t after, const start_test& starts);
  std::string closes(const token& opener, std::string_view what) const {
    return "to close " + quote(what) + " at line " + std::to_string(opener.line);
  }

  // ---- expressions ------------------------------------------------------------------
  expr_id add(expr e) { return arena_.add(std::move(e)); }
  expr_id leaf(expr_kind k, const token& t) {
    expr e;
    e.kind = k;
    e.where = pos_of(t);
    e.source = {t.begin, t.end};
    return add(std::move(e));
  }
  expr_id binary(ast::op o, const token& op_tok, expr_id l, expr_id r) {
    expr e;
    e.kind = expr_kind::binary;
    e.oper = o;
    e.where = pos_of(op_tok);
    e.source = {arena_[l].source.begin, arena_[r].source.end};
    e.args = {l, r};
    return add(std::move(e));
  }
  static constexpr int prec_or = 1, prec_and = 2, prec_not = 3, prec_cmp = 4, prec_add = 5,
                       prec_mul = 6;
  struct binary_op {
    ast::op oper = ast::op::eq;
    int prec = 0;
  };
  expr_id expression();
  [[gnu::noinline]] expr_id if_expression();
  binary_op peek_binary();
  expr_id binary_expr(int min_prec);
  [[gnu::noinline]] expr_id not_operand();
  expr_id unary();
  [[gnu::noinline]] expr_id negation();
  [[gnu::noinline]] expr_id member(expr_id base);
  [[gnu::noinline]] expr_id coalesce(expr_id base);
  expr_id postfix(expr_id base);
  expr_id primary();
  [[gnu::noinline]] expr_id word_primary();
  [[gnu::noinline]] expr_id list_literal();
  [[gnu::noinline]] expr_id number_literal(const token* minus);
  expr_id literal();
  expr_id literal_list();
  expr_id list_of(expr_id (parser::*element)());
  expr_id paren_expression();
  expr_id path_expression();  // word ('.' word)*

  // ---- declarations -----------------------------------------------------------------
  void body(ast::ruleset_file& out, const token& opener);
  void declaration(ast::ruleset_file& out, const token& t);
  ast::type_spec type(bool allow_list, std::vector<ast::input_decl>* fields);
  void input_entries(const token& opener, std::vector<ast::input_decl>& out);
  ast::input_decl input_entry();
  void table(ast::ruleset_file& out);
  void table_header(ast::table_decl& t, const token& bar);
  void table_row(ast::table_decl& t, const token& bar);
  ast::table_cell table_cell(bool& bare, std::uint32_t line);
  void hazard(ast::ruleset_file& out);
  void score(ast::ruleset_file& out);
  void item(ast::score_decl& s, int section);
  expr_id points();
  void grade(ast::ruleset_file& out);
  void test(ast::ruleset_file& out);
  void expect_statement(ast::test_decl& t);
  std::string string_value(std::string_view context) { return expect(tok::string, context).text; }

  // Reports a duplicate clause; returns true when `key` was already seen.
  bool duplicate(std::unordered_map<std::string, std::uint32_t>& seen, const token& t,
                 std::string_view in) {
    auto [it, fresh] = seen.emplace(t.text, t.line);
    if (fresh) return false;
    error(t, "duplicate " + quote(t.text) + " in " + std::string(in) + " (first at line " +
                 std::to_string(it->second) + ")");
    return true;
  }

  const ast::source_file& src_;
  std::uint32_t file_;
  ast::expr_arena& arena_;
  const parse_limits& limits_;
  ast::diagnostic_sink& diags_;
  lexer lex_;
  lexer::state before_cur_;
  token cur_;
  token prev_;
  bool have_cur_ = false;
  std::size_t depth_ = 0;
  bool depth_reported_ = false;
  bool eof_reported_ = false;
  std::uintptr_t stack_base_ = 0;
};

// ---- blocks ---------------------------------------------------------------------------

void parser::block(const token& opener, std::string_view what, const start_test& starts,
                   const std::function<void(const token&)>& clause) {
  token open = expect(tok::lbrace, "after " + quote(what));
  depth_guard guard(*this, open);
  for (;;) {
    const token& t = peek();
    if (t.kind == tok::rbrace) {
      take();
      return;
    }
    if (t.kind == tok::eof) {
      if (!eof_reported_) {
        eof_reported_ = true;
        error(t, "expected `}` " + closes(opener, what) + ", found end of file");
      }
      return;
    }
    std::uint32_t start = t.begin;
    try {
      token first = t;
      clause(first);
    } catch (const syntax_error&) {
      sync(start, starts);
    }
  }
}

void parser::sync(std::uint32_t after, const start_test& starts) {
  std::size_t braces = 0;
  for (;;) {
    const token& t = peek();
    if (t.kind == tok::eof) return;
    if (braces == 0) {
      if (t.kind == tok::rbrace) return;
      if (t.begin > after && t.line_start && starts(t)) return;
    }
    if (t.kind == tok::lbrace) ++braces;
    if (t.kind == tok::rbrace) --braces;
    bool given = t.kind == tok::word && t.text == "given";
    take();
    if (given) {  // skip its JSON raw: JSON escapes are not the language's
      lexer::state before = lex_.save();
      std::string json;
      ast::pos where;
      ast::span bytes;
      if (!lex_.capture_json(json, where, bytes) && json.empty()) lex_.restore(before);
    }
  }
}

// ---- expressions ----------------------------------------------------------------------

// expression := 'if' expression 'then' expression 'else' expression | binary(or)
expr_id parser::expression() {
  depth_guard guard(*this, peek());
  if (!at_word("if")) return binary_expr(prec_or);
  return if_expression();
}

expr_id parser::if_expression() {
  token if_tok = take();
  expr_id c = expression();
  expect_word("then", "after the condition of `if` at line " + std::to_string(if_tok.line));
  expr_id a = expression();
  expect_word("else", "in `if` at line " + std::to_string(if_tok.line));
  expr_id b = expression();
  expr e;
  e.kind = expr_kind::if_else;
  e.where = pos_of(if_tok);
  e.source = {if_tok.begin, arena_[b].source.end};
  e.args = {c, a, b};
  return add(std::move(e));
}

// The binary operator at the current token and its precedence (0: none); `not in` takes
// two tokens.
parser::binary_op parser::peek_binary() {
  const token& t = peek();
  switch (t.kind) {
    case tok::eq:
      return {ast::op::eq, prec_cmp};
    case tok::ne:
      return {ast::op::ne, prec_cmp};
    case tok::lt:
      return {ast::op::lt, prec_cmp};
    case tok::le:
      return {ast::op::le, prec_cmp};
    case tok::gt:
      return {ast::op::gt, prec_cmp};
    case tok::ge:
      return {ast::op::ge, prec_cmp};
    case tok::plus:
      return {ast::op::add, prec_add};
    case tok::minus:
      return {ast::op::sub, prec_add};
    case tok::star:
      return {ast::op::mul, prec_mul};
    case tok::slash:
      return {ast::op::div, prec_mul};
    case tok::percent:
      return {ast::op::mod, prec_mul};
    case tok::word:
      if (t.text == "or") return {ast::op::or_, prec_or};
      if (t.text == "and") return {ast::op::and_, prec_and};
      if (t.text == "in") return {ast::op::in, prec_cmp};
      if (t.text == "not") {
        token n = peek2();
        if (n.kind == tok::word && n.text == "in") return {ast::op::not_in, prec_cmp};
      }
      return {};
    default:
      return {};
  }
}

// Precedence climbing over, lowest first:
//   or · and · 'not' (prefix) · == != < <= > >= in 'not in' · + - · * / %
// All binary operators are left-associative. Recursion here is bounded by the number of
// levels; nesting is counted in expression(), not_operand() and unary().
expr_id parser::binary_expr(int min_prec) {
  expr_id l = min_prec <= prec_not && at_word("not") ? not_operand() : unary();
  for (;;) {
    binary_op o = peek_binary();
    if (o.prec == 0 || o.prec < min_prec) return l;
    token op_tok = take();
    if (o.oper == ast::op::not_in) take();  // `in`
    expr_id r = binary_expr(o.prec + 1);
    l = binary(o.oper, op_tok, l, r);
  }
}

// 'not' binary(not): `not a == b` is not (a == b); `not a and b` is (not a) and b.
expr_id parser::not_operand() {
  depth_guard guard(*this, peek());
  token o = take();
  expr_id operand = binary_expr(prec_not);
  expr e;
  e.kind = expr_kind::unary;
  e.oper = ast::op::not_;
  e.where = pos_of(o);
  e.source = {o.begin, arena_[operand].source.end};
  e.args = {operand};
  return add(std::move(e));
}

// unary := '-' unary | postfix;  '-' before a number literal folds into the literal, so
// that -9223372036854775808 is an int.
expr_id parser::unary() {
  if (!at(tok::minus)) return postfix(primary());
  return negation();
}

expr_id parser::negation() {
  depth_guard guard(*this, peek());
  token m = take();
  if (at(tok::integer) || at(tok::decimal)) return postfix(number_literal(&m));
  expr_id operand = unary();
  expr e;
  e.kind = expr_kind::unary;
  e.oper = ast::op::neg;
  e.where = pos_of(m);
  e.source = {m.begin, arena_[operand].source.end};
  e.args = {operand};
  return add(std::move(e));
}

// postfix := primary ('.' word | '??' unary)*
expr_id parser::postfix(expr_id base) {
  for (;;) {
    if (at(tok::dot)) {
      base = member(base);
    } else if (at(tok::qq)) {
      base = coalesce(base);
    } else if (at(tok::lparen) && arena_[base].kind == expr_kind::path) {
      std::string name;
      for (const auto& s : arena_[base].segments) name += (name.empty() ? "" : ".") + s;
      fail(peek(), "only a function or table name can be called, not " + quote(name));
    } else {
      return base;
    }
  }
}

expr_id parser::member(expr_id base) {
  take();
  if (!at(tok::word)) fail_expected("a field name", "after `.`");
  token f = take();
  if (arena_[base].kind == expr_kind::path) {
    arena_[base].segments.push_back(f.text);
    arena_[base].source.end = f.end;
    return base;
  }
  expr e;
  e.kind = expr_kind::member;
  e.where = arena_[base].where;
  e.source = {arena_[base].source.begin, f.end};
  e.text = f.text;
  e.args = {base};
  return add(std::move(e));
}

expr_id parser::coalesce(expr_id base) {
  depth_guard guard(*this, peek());
  take();
  expr_id r = unary();
  expr e;
  e.kind = expr_kind::coalesce;
  e.where = arena_[base].where;
  e.source = {arena_[base].source.begin, arena_[r].source.end};
  e.args = {base, r};
  return add(std::move(e));
}

expr_id parser::number_literal(const token* minus) {
  token t = take();
  expr e;
  e.where = pos_of(minus ? *minus : t);
  e.source = {minus ? minus->begin : t.begin, t.end};
  constexpr std::uint64_t two63 = std::uint64_t{1} << 63;
  if (t.kind == tok::integer) {
    e.kind = expr_kind::lit_int;
    if (t.bad) {
      e.i = 0;
    } else if (minus) {
      e.i = t.u == two63 ? INT64_MIN : -static_cast<std::int64_t>(t.u);
    } else if (t.u == two63) {
      error(t, "integer `" + t.text + "` does not fit in 64 bits");
    } else {
      e.i = static_cast<std::int64_t>(t.u);
    }
  } else {
    e.kind = expr_kind::lit_number;
    e.i = minus ? -t.i : t.i;
  }
  return add(std::move(e));
}

expr_id parser::paren_expression() {
  token open = take();
  expr_id e = expression();
  token close = expect(tok::rparen, "to close `(` at line " + std::to_string(open.line) +
                                        ", column " + std::to_string(open.column));
  arena_[e].source = {open.begin, close.end};
  return e;
}

// primary := literal | '(' expression ')' | '[' list ']' | word-led forms
expr_id parser::primary() {
  const token& t = peek();
  switch (t.kind) {
    case tok::integer:
    case tok::decimal:
      return number_literal(nullptr);
    case tok::string: {
      expr_id id = leaf(expr_kind::lit_string, t);
      arena_[id].text = t.text;
      take();
      return id;
    }
    case tok::date: {
      expr_id id = leaf(expr_kind::lit_date, t);
      arena_[id].i = t.i;
      take();
      return id;
    }
    case tok::lparen:
      return paren_expression();
    case tok::lbracket:
      return list_literal();
    case tok::word:
      return word_primary();
    default:
      fail_expected("an expression");
  }
}

expr_id parser::word_primary() {
  token t = peek();
  const std::string& w = t.text;
  if (w == "true" || w == "false") {
    take();
    expr_id id = leaf(expr_kind::lit_bool, t);
    arena_[id].i = w == "true";
    return id;
  }
  if (w == "none") return take(), leaf(expr_kind::lit_none, t);
  if (int c = color_index(w); c >= 0) {
    take();
    expr_id id = leaf(expr_kind::lit_color, t);
    arena_[id].i = c;
    return id;
  }
  if (w == "asof") return take(), leaf(expr_kind::asof, t);
  if (w == "hazards") return take(), leaf(expr_kind::hazards, t);
  if (w == "if") return expression();
  if (is_reserved(w)) fail_expected("an expression");
  if (t.line_start && is_statement_word(w)) {
    token n = peek2();
    if ((n.kind == tok::word && !is_reserved(n.text)) || n.kind == tok::string ||
        n.kind == tok::date || n.kind == tok::lbrace)
      fail_expected("an expression");
  }
  take();
  if (!at(tok::lparen)) {
    expr_id id = leaf(expr_kind::path, t);
    arena_[id].segments = {w};
    return id;
  }
  // A call, an aggregate `agg(v in xs [where c] [: v])`, or `present(ID)`.
  token open = take();
  expr e;
  e.where = pos_of(t);
  e.text = w;
  std::string closing = "to close `(` of " + quote(w) + " at line " + std::to_string(open.line);
  if (w == "present") {
    e.kind = expr_kind::call;
    token id = take_id();
    if (id.kind != tok::word) fail_expected("a hazard id", "in `present(...)`");
    expr_id arg = leaf(expr_kind::path, id);
    arena_[arg].segments = {id.text};
    e.args = {arg};
  } else if (is_aggregate(w) && at(tok::word) && !is_reserved(cur_.text) && [&] {
               token n = peek2();
               return n.kind == tok::word && n.text == "in";
             }()) {
    e.kind = expr_kind::aggregate;
    e.var = take().text;
    take();  // in
    expr_id source = expression();
    expr_id where = no_expr, value = no_expr;
    if (at_word("where")) {
      take();
      where = expression();
    }
    if (at(tok::colon)) {
      take();
      value = expression();
    }
    e.args = {source, where, value};
    if (!at(tok::rparen)) {
      fail_expected(where == no_expr && value == no_expr ? "`where`, `:` or `)`"
                    : value == no_expr                   ? "`:` or `)`"
                                                         : "`)`",
                    closing);
    }
  } else {
    e.kind = expr_kind::call;
    while (!at(tok::rparen)) {
      e.args.push_back(expression());
      if (!at(tok::comma)) break;
      take();
    }
    if (!at(tok::rparen)) fail_expected("`,` or `)`", closing);
  }
  token close = expect(tok::rparen, closing);
  e.source = {t.begin, close.end};
  return add(std::move(e));
}

expr_id parser::list_literal() { return list_of(&parser::expression); }

// '[' [element (',' element)*] ']' -- expressions in rules, literals in table cells.
expr_id parser::list_of(expr_id (parser::*element)()) {
  token open = expect(tok::lbracket);
  expr e;
  e.kind = expr_kind::lit_list;
  e.where = pos_of(open);
  while (!at(tok::rbracket)) {
    e.args.push_back((this->*element)());
    if (!at(tok::comma)) break;
    take();
  }
  token close =
      expect(tok::rbracket, "or `,` in the list opened at line " + std::to_string(open.line));
  e.source = {open.begin, close.end};
  return add(std::move(e));
}

// literal := ['-'] number | string | date | true | false | colour | none
expr_id parser::literal() {
  const token& t = peek();
  if (t.kind == tok::minus) {
    token m = take();
    if (!at(tok::integer) && !at(tok::decimal)) fail_expected("a number", "after `-`");
    return number_literal(&m);
  }
  switch (t.kind) {
    case tok::integer:
    case tok::decimal:
    case tok::string:
    case tok::date:
      return primary();
    case tok::word:
      if (t.text == "true" || t.text == "false" || t.text == "none" || color_index(t.text) >= 0)
        return word_primary();
      break;
    default:
      break;
  }
  fail_expected("a literal (a number, a string, a date, `true`, `false`, a colour or `none`)");
}

// literal_list := '[' [literal (',' literal)*] ']'
expr_id parser::literal_list() { return list_of(&parser::literal); }

expr_id parser::path_expression() {
  token t = expect_name("a path");
  expr_id id = leaf(expr_kind::path, t);
  arena_[id].segments = {t.text};
  while (at(tok::dot)) {
    take();
    if (!at(tok::word)) fail_expected("a field name", "after `.`");
    token f = take();
    arena_[id].segments.push_back(f.text);
    arena_[id].source.end = f.end;
  }
  return id;
}

// ---- the file -------------------------------------------------------------------------

const std::array<std::string_view, 12> decl_keywords = {"title",  "version", "source", "effective",
                                                        "import", "input",   "let",    "table",
                                                        "hazard", "score",   "grade",  "test"};

ast::ruleset_file parser::run() {
  ast::ruleset_file out;
  out.file = file_;
  char base = 0;
  stack_base_ = reinterpret_cast<std::uintptr_t>(&base);
  try {
    if (!at_word("ruleset")) fail_expected("`ruleset`");
    token kw = take();
    token name = expect_name("the ruleset's name");
    out.where = pos_of(name);
    out.name = name.text;
    body(out, kw);
    if (!at(tok::eof)) fail_expected("end of file", "after the ruleset's closing `}`");
  } catch (const syntax_error&) {
  } catch (const std::bad_alloc&) {
    diags_.error({file_, peek().line, peek().column}, "out of memory while parsing");
  } catch (...) {
    diags_.error({file_, 1, 1}, "internal error while parsing");
  }
  return out;
}

// ruleset NAME { (title | version | source | effective | import | input | let | table |
//                 hazard | score | grade | test)* }
void parser::body(ast::ruleset_file& out, const token& opener) {
  std::unordered_map<std::string, std::uint32_t> seen;
  auto starts = [](const token& t) {
    return t.kind == tok::word &&
           std::find(decl_keywords.begin(), decl_keywords.end(), t.text) != decl_keywords.end();
  };
  block(opener, "ruleset", starts, [&](const token& t) {
    if (t.kind == tok::word &&
        (t.text == "title" || t.text == "version" || t.text == "source" || t.text == "effective")) {
      token kw = take();
      bool dup = duplicate(seen, kw, "the ruleset");
      if (kw.text == "effective") {
        token d = expect(tok::date, "after `effective`");
        if (!dup && !d.bad) out.effective = d.i;
        return;
      }
      std::string s = string_value("after " + quote(kw.text));
      if (dup) return;
      (kw.text == "title" ? out.title : kw.text == "version" ? out.version : out.source) = s;
      return;
    }
    declaration(out, t);
  });
}

void parser::declaration(ast::ruleset_file& out, const token& t) {
  if (t.kind != tok::word) {
    fail_expected("a declaration (" +
                  one_of({"title", "version", "source", "effective", "import", "input", "let",
                          "table", "hazard", "score", "grade", "test"}) +
                  ") or `}`");
  }
  const std::string& w = t.text;
  if (w == "import") {
    token kw = take();
    ast::import_decl d;
    d.where = pos_of(kw);
    d.path = string_value("after `import`");
    out.imports.push_back(std::move(d));
  } else if (w == "input") {
    token kw = take();
    input_entries(kw, out.inputs);
  } else if (w == "let") {
    take();
    ast::let_decl d;
    token name = expect_name("the name of a `let`");
    d.where = pos_of(name);
    d.name = name.text;
    expect(tok::assign, "after `let " + name.text + "`");
    d.value = expression();
    out.lets.push_back(std::move(d));
  } else if (w == "table") {
    table(out);
  } else if (w == "hazard") {
    hazard(out);
  } else if (w == "score") {
    score(out);
  } else if (w == "grade") {
    grade(out);
  } else if (w == "test") {
    test(out);
  } else {
    fail_expected("a declaration (" +
                  one_of({"title", "version", "source", "effective", "import", "input", "let",
                          "table", "hazard", "score", "grade", "test"}) +
                  ") or `}`");
  }
}

// ---- inputs ---------------------------------------------------------------------------

// type := bool | int | number | string | date | color | enum '(' literal, ... ')'
//       | list '{' entries '}' | list '<' scalar-type '>'
ast::type_spec parser::type(bool allow_list, std::vector<ast::input_decl>* fields) {
  ast::type_spec t;
  const token& w = peek();
  t.where = pos_of(w);
  static const std::array<std::pair<std::string_view, ast::type_kind>, 6> scalars = {{
      {"bool", ast::type_kind::bool_},
      {"int", ast::type_kind::int_},
      {"number", ast::type_kind::number},
      {"string", ast::type_kind::string},
      {"date", ast::type_kind::date},
      {"color", ast::type_kind::color},
  }};
  auto expected = [&]() -> std::string {
    return "a type (" +
           std::string(allow_list ? one_of({"bool", "int", "number", "string", "date", "color",
                                            "enum(...)", "list"})
                                  : one_of({"bool", "int", "number", "string", "date", "color",
                                            "enum(...)"})) +
           ")";
  };
  if (w.kind != tok::word) fail_expected(expected());
  for (const auto& [name, kind] : scalars) {
    if (w.text == name) {
      take();
      t.kind = kind;
      return t;
    }
  }
  auto enum_values = [&](std::vector<expr_id>& values) {
    token kw = take();
    token open = expect(tok::lparen, "after `enum`");
    while (!at(tok::rparen)) {
      values.push_back(literal());
      if (!at(tok::comma)) break;
      take();
    }
    expect(tok::rparen, "or `,` to close `enum(` at line " + std::to_string(open.line));
    if (values.empty()) error(kw, "an enum needs at least one value");
  };
  if (w.text == "enum") {
    t.kind = ast::type_kind::enum_;
    enum_values(t.enum_values);
    return t;
  }
  if (w.text == "list" && allow_list) {
    token kw = take();
    if (at(tok::lt)) {
      take();
      t.kind = ast::type_kind::list_scalar;
      ast::type_spec e = type(false, nullptr);
      t.element = e.kind;
      t.element_enum = std::move(e.enum_values);
      expect(tok::gt, "to close `list<`");
      return t;
    }
    if (!at(tok::lbrace)) fail_expected("`{` or `<`", "after `list`");
    t.kind = ast::type_kind::list_record;
    input_entries(kw, *fields);
    return t;
  }
  fail_expected(expected());
}

void parser::input_entries(const token& opener, std::vector<ast::input_decl>& out) {
  auto starts = [](const token& t) { return t.kind == tok::word; };
  block(opener, opener.text, starts, [&](const token&) { out.push_back(input_entry()); });
}

// entry := path ':' type ['in' LOW '..' HIGH] ['=' literal] [STRING]   (options in any order)
ast::input_decl parser::input_entry() {
  ast::input_decl d;
  token first = expect_name("an input path");
  d.where = pos_of(first);
  d.path.push_back(first.text);
  while (at(tok::dot)) {
    take();
    if (!at(tok::word)) fail_expected("a path segment", "after `.`");
    d.path.push_back(take().text);
  }
  expect(tok::colon, "after the input path");
  d.type = type(true, &d.fields);
  for (;;) {
    if (at_word("in")) {
      token kw = take();
      if (d.range_low != no_expr) error(kw, "duplicate `in` range in this input");
      expr_id lo = literal();
      expect(tok::dotdot, "in the range `LOW..HIGH`");
      expr_id hi = literal();
      if (d.range_low == no_expr) d.range_low = lo, d.range_high = hi;
    } else if (at(tok::assign)) {
      token kw = take();
      if (d.default_value != no_expr) error(kw, "duplicate default `=` in this input");
      expr_id v = literal();
      if (d.default_value == no_expr) d.default_value = v;
    } else if (at(tok::string)) {
      token s = take();
      if (d.label) {
        error(s, "duplicate label in this input");
      } else {
        d.label = s.text;
      }
    } else {
      return d;
    }
  }
}

// ---- tables ---------------------------------------------------------------------------

// table NAME '(' [P ':' type (',' P ':' type)*] ')' '->' type '{' rows '}'
// rows := ('when' expr '=>' literal | 'otherwise' '=>' literal)*
//       | '|' P '|' ... '=>' '|'  ('|' cell '|' ... literal '|')*     (one row per line)
void parser::table(ast::ruleset_file& out) {
  token kw = take();
  ast::table_decl d;
  token name = expect_name("the table's name");
  d.where = pos_of(name);
  d.name = name.text;
  token open = expect(tok::lparen, "after the table's name");
  while (!at(tok::rparen)) {
    ast::table_param p;
    token pn = expect_name("a parameter name");
    p.where = pos_of(pn);
    p.name = pn.text;
    expect(tok::colon, "after parameter " + quote(pn.text));
    p.type = type(false, nullptr);
    d.params.push_back(std::move(p));
    if (!at(tok::comma)) break;
    take();
  }
  expect(tok::rparen, "or `,` to close `(` at line " + std::to_string(open.line));
  expect(tok::arrow, "and the result type after the parameters");
  d.result = type(false, nullptr);
  bool header = false, when_rows = false;
  auto starts = [](const token& t) {
    return t.kind == tok::pipe ||
           (t.kind == tok::word && (t.text == "when" || t.text == "otherwise"));
  };
  // Rows are pushed before they are complete so that recovery keeps the table usable;
  // an incomplete row is removed again.
  block(kw, "table", starts, [&](const token& t) {
    if (t.kind == tok::pipe) {
      if (when_rows) {
        fail(t, "a table has either `when` rows or `|` rows, not both");
      }
      d.pipe_form = true;
      if (!header) {
        header = true;
        table_header(d, t);
      } else {
        table_row(d, t);
      }
      return;
    }
    if (t.kind == tok::word && (t.text == "when" || t.text == "otherwise")) {
      if (d.pipe_form) fail(t, "a table has either `when` rows or `|` rows, not both");
      when_rows = true;
      token k = take();
      ast::table_row r;
      r.where = pos_of(k);
      if (k.text == "when") {
        r.cond = expression();
      } else {
        r.otherwise = true;
      }
      expect(tok::fat_arrow, "before the row's result");
      r.result = literal();
      d.rows.push_back(std::move(r));
      return;
    }
    fail_expected(header ? "`|` (a row) or `}`" : "`when`, `otherwise`, `|` or `}`");
  });
  out.tables.push_back(std::move(d));
}

void parser::table_header(ast::table_decl& d, const token& bar) {
  std::uint32_t line = bar.line;
  std::string row_end = "on line " + std::to_string(line) + " (a table header is one line)";
  take();
  std::size_t n = 0;
  bool names_ok = true;
  for (;;) {
    if (peek().line != line || at(tok::eof)) fail_in_row("`=>` and `|`", row_end, line);
    if (at(tok::fat_arrow)) {
      token arrow = take();
      if (peek().line != line || !at(tok::pipe)) fail_in_row("`|`", row_end, line);
      take();
      if (names_ok && n != d.params.size()) {
        error(arrow, "the header names " + std::to_string(n) + " column" + (n == 1 ? "" : "s") +
                         " but the table has " + std::to_string(d.params.size()) + " parameter" +
                         (d.params.size() == 1 ? "" : "s"));
      }
      return;
    }
    if (!at(tok::word)) fail_expected("a parameter name or `=>`", row_end);
    token name = take();
    if (names_ok && (n >= d.params.size() || d.params[n].name != name.text)) {
      names_ok = false;
      error(name, n < d.params.size()
                      ? "the header names " + quote(name.text) + " where parameter " +
                            quote(d.params[n].name) +
                            " was expected (the header names the parameters in order)"
                      : "the header names " + quote(name.text) + " but the table has only " +
                            std::to_string(d.params.size()) + " parameter" +
                            (d.params.size() == 1 ? "" : "s"));
    }
    ++n;
    if (peek().line != line || !at(tok::pipe)) fail_in_row("`|`", row_end, line);
    take();
  }
}

void parser::table_row(ast::table_decl& d, const token& bar) {
  std::uint32_t line = bar.line;
  std::string row_end =
      "to end the row on line " + std::to_string(line) + " (a table row is one line)";
  take();
  ast::table_row r;
  r.where = pos_of(bar);
  bool bare = false;
  for (;;) {
    if (peek().line != line || at(tok::eof)) fail_in_row("a cell", row_end, line);
    if (at(tok::pipe)) fail(peek(), "empty cell: write `-` for any value");
    r.cells.push_back(table_cell(bare, line));
    if (peek().line != line || !at(tok::pipe)) fail_in_row("`|`", row_end, line);
    take();
    if (peek().line != line || at(tok::eof)) break;
  }
  std::size_t want = d.params.size() + 1;
  if (r.cells.size() != want) {
    error(bar, "the row has " + std::to_string(r.cells.size()) + " cell" +
                   (r.cells.size() == 1 ? "" : "s") + "; expected " + std::to_string(want) +
                   ": one per parameter, then the result");
  }
  ast::table_cell last = r.cells.back();
  if (!bare) {
    diags_.error(last.where, "the result cell must be a literal");
  }
  r.result = last.a;
  r.cells.pop_back();
  d.rows.push_back(std::move(r));
}

// cell := '-' | literal | ('==' | '!=' | '<' | '<=' | '>' | '>=') literal
//       | 'in' '[' literal, ... ']' | literal '..' literal
ast::table_cell parser::table_cell(bool& bare, std::uint32_t line) {
  ast::table_cell c;
  const token& t = peek();
  c.where = pos_of(t);
  bare = false;
  if (t.kind == tok::minus) {
    token n = peek2();
    if (n.line != line || (n.kind != tok::integer && n.kind != tok::decimal)) {
      take();
      c.kind = ast::cell_kind::any;
      return c;
    }
  }
  std::optional<ast::op> o;
  switch (t.kind) {
    case tok::eq:
      o = ast::op::eq;
      break;
    case tok::ne:
      o = ast::op::ne;
      break;
    case tok::lt:
      o = ast::op::lt;
      break;
    case tok::le:
      o = ast::op::le;
      break;
    case tok::gt:
      o = ast::op::gt;
      break;
    case tok::ge:
      o = ast::op::ge;
      break;
    default:
      break;
  }
  if (o) {
    take();
    c.kind = ast::cell_kind::compare;
    c.oper = *o;
    c.a = literal();
    return c;
  }
  if (t.kind == tok::word && t.text == "in") {
    take();
    c.kind = ast::cell_kind::in_list;
    c.a = literal_list();
    return c;
  }
  c.a = literal();
  if (at(tok::dotdot)) {
    take();
    c.kind = ast::cell_kind::range;
    c.b = literal();
    return c;
  }
  c.kind = ast::cell_kind::compare;
  c.oper = ast::op::eq;
  bare = true;
  return c;
}

// ---- hazards --------------------------------------------------------------------------

// hazard ID STRING '{' (category NAME | severity (major|general) | cite STRING | when expr
//                       | rectify ACTION [within N (day|days)] | advice STRING)* '}'
void parser::hazard(ast::ruleset_file& out) {
  token kw = take();
  ast::hazard_decl h;
  token id = take_id();
  if (id.kind != tok::word) fail_expected("a hazard id such as `A4.1`", "after `hazard`");
  h.where = pos_of(id);
  h.id = id.text;
  h.title = string_value("(the hazard's title) after the id");
  const std::size_t errors_before = diags_.error_count();
  std::unordered_map<std::string, std::uint32_t> seen;
  std::string in = "hazard " + quote(h.id);
  auto starts = [](const token& t) {
    return t.kind == tok::word &&
           (t.text == "category" || t.text == "severity" || t.text == "cite" || t.text == "when" ||
            t.text == "rectify" || t.text == "advice");
  };
  bool saw_when = false;
  block(kw, "hazard", starts, [&](const token& t) {
    if (!starts(t)) {
      fail_expected(one_of({"category", "severity", "cite", "when", "rectify", "advice", "}"}));
    }
    token k = take();
    bool dup = duplicate(seen, k, in);
    if (k.text == "category") {
      token c = expect_name("a category name");
      if (!dup) h.category = c.text;
    } else if (k.text == "severity") {
      if (!at_word("major") && !at_word("general"))
        fail_expected("`major` or `general`", "after `severity`");
      token s = take();
      if (!dup) h.major = s.text == "major";
    } else if (k.text == "cite") {
      std::string s = string_value("after `cite`");
      if (!dup) h.cite = std::move(s);
    } else if (k.text == "advice") {
      std::string s = string_value("after `advice`");
      if (!dup) h.advice = std::move(s);
    } else if (k.text == "when") {
      saw_when = true;
      expr_id e = expression();
      if (!dup) h.when = e;
    } else {  // rectify
      static const std::array<std::pair<std::string_view, ast::rectify_action>, 4> actions = {{
          {"immediate", ast::rectify_action::immediate},
          {"deadline", ast::rectify_action::deadline},
          {"suspend", ast::rectify_action::suspend},
          {"close", ast::rectify_action::close},
      }};
      const token& a = peek();
      auto it = std::find_if(actions.begin(), actions.end(), [&](const auto& p) {
        return a.kind == tok::word && a.text == p.first;
      });
      if (it == actions.end())
        fail_expected(one_of({"immediate", "deadline", "suspend", "close"}), "after `rectify`");
      take();
      if (!dup) h.action = it->second;
      if (at_word("within")) {
        take();
        token n = expect(tok::integer, "(a number of days) after `within`");
        if (!at_word("day") && !at_word("days")) fail_expected("`days`", "after the number");
        take();
        // The longest period two dates of the calendar (0001-01-01..9999-12-31) can span.
        constexpr std::uint64_t max_days = 3'652'058;
        if (n.u > max_days) {
          error(n, "`within " + n.text + " days` is longer than the calendar allows (at most " +
                       std::to_string(max_days) + " days)");
        } else if (!dup && !n.bad) {
          h.within_days = static_cast<std::int64_t>(n.u);
        }
      }
    }
  });
  // After an error inside the block the `when` may have been skipped by recovery.
  if (!saw_when && diags_.error_count() == errors_before)
    error(id, "hazard " + quote(h.id) + " has no `when` condition");
  out.hazards.push_back(std::move(h));
}

// ---- scores ---------------------------------------------------------------------------

// score NAME ['max' literal] '{' (section | item | deduct)* '}'
// section NAME ['max' literal] '{' (item | deduct)* '}'
void parser::score(ast::ruleset_file& out) {
  token kw = take();
  ast::score_decl s;
  token name = expect_name("the score's name");
  s.where = pos_of(name);
  s.name = name.text;
  if (at_word("max")) {
    take();
    s.max = literal();
  }
  auto starts = [](const token& t) {
    return t.kind == tok::word && (t.text == "section" || t.text == "item" || t.text == "deduct");
  };
  auto items_only = [](const token& t) {
    return t.kind == tok::word && (t.text == "item" || t.text == "deduct");
  };
  block(kw, "score", starts, [&](const token& t) {
    if (t.kind == tok::word && (t.text == "item" || t.text == "deduct")) {
      item(s, -1);
      return;
    }
    if (!(t.kind == tok::word && t.text == "section"))
      fail_expected(one_of({"section", "item", "deduct", "}"}));
    token skw = take();
    ast::section_decl sec;
    token sn = expect_name("the section's name");
    sec.where = pos_of(sn);
    sec.name = sn.text;
    if (at_word("max")) {
      take();
      sec.max = literal();
    }
    int index = static_cast<int>(s.sections.size());
    s.sections.push_back(std::move(sec));
    block(skw, "section", items_only, [&](const token& u) {
      if (!items_only(u)) fail_expected(one_of({"item", "deduct", "}"}));
      item(s, index);
    });
  });
  out.scores.push_back(std::move(s));
}

// item := ('item' | 'deduct') ID STRING points ['when' expr]
void parser::item(ast::score_decl& s, int section) {
  token kw = take();
  ast::item_decl it;
  it.deduct = kw.text == "deduct";
  it.section = section;
  token id = take_id();
  if (id.kind != tok::word) fail_expected("an id such as `E1`", "after " + quote(kw.text));
  it.where = pos_of(id);
  it.id = id.text;
  it.label = string_value("(the label) after the id");
  it.points = points();
  if (at_word("when")) {
    take();
    it.when = expression();
  } else {
    // Anything but the next item or the end of the block: name `when` among the options.
    const token& t = peek();
    bool next = t.kind == tok::rbrace ||
                (t.kind == tok::word &&
                 (t.text == "item" || t.text == "deduct" || (section < 0 && t.text == "section")));
    if (!next) {
      s.items.push_back(std::move(it));
      if (section >= 0) fail_expected(one_of({"when", "item", "deduct", "}"}));
      fail_expected(one_of({"when", "section", "item", "deduct", "}"}));
    }
  }
  s.items.push_back(std::move(it));
}

// points := ['-'] number | '(' expression ')' | path
expr_id parser::points() {
  const token& t = peek();
  if (t.kind == tok::lparen) {
    depth_guard guard(*this, t);
    return paren_expression();
  }
  if (t.kind == tok::minus || t.kind == tok::integer || t.kind == tok::decimal) return literal();
  if (t.kind == tok::word && !is_reserved(t.text)) return path_expression();
  fail_expected("the points (a number, a parenthesised expression or a path)");
}

// ---- grades ---------------------------------------------------------------------------

// grade NAME ':' (color | levels '(' STRING, ... ')') '{' (label (when expr | otherwise))* '}'
// label := blue | yellow | orange | red | STRING | none
void parser::grade(ast::ruleset_file& out) {
  token kw = take();
  ast::grade_decl g;
  token name = expect_name("the grade's name");
  g.where = pos_of(name);
  g.name = name.text;
  expect(tok::colon, "and the scale after the grade's name");
  if (at_word("color")) {
    take();
  } else if (at_word("levels")) {
    take();
    g.color_scale = false;
    token open = expect(tok::lparen, "after `levels`");
    while (!at(tok::rparen)) {
      g.levels.push_back(string_value("(a level label)"));
      if (!at(tok::comma)) break;
      take();
    }
    expect(tok::rparen, "or `,` to close `levels(` at line " + std::to_string(open.line));
    if (g.levels.empty()) error(open, "`levels(...)` needs at least one label");
  } else {
    fail_expected("`color` or `levels(...)`", "after `:`");
  }
  auto starts = [](const token& t) {
    return t.kind == tok::string ||
           (t.kind == tok::word && (t.text == "none" || color_index(t.text) >= 0));
  };
  block(kw, "grade", starts, [&](const token& t) {
    if (!starts(t)) {
      fail_expected(g.color_scale ? "a colour (" + one_of({"blue", "yellow", "orange", "red"}) +
                                        "), `none` or `}`"
                                  : std::string("a level label (a string), `none` or `}`"));
    }
    ast::grade_line l;
    l.where = pos_of(t);
    l.line = t.line;
    if (t.kind == tok::string) {
      l.label = t.text;
      l.label_expr = primary();
    } else {
      l.is_none = t.text == "none";
      if (!l.is_none) l.label = t.text;
      l.label_expr = word_primary();
    }
    if (at_word("otherwise")) {
      l.otherwise_end = take().end;
      l.otherwise = true;
    } else {
      expect_word("when", "or `otherwise` after the label");
      l.cond = expression();
    }
    g.lines.push_back(std::move(l));
  });
  out.grades.push_back(std::move(g));
}

// ---- tests ----------------------------------------------------------------------------

// test STRING '{' ('asof' DATE | 'given' JSON-object | expect)* '}'
void parser::test(ast::ruleset_file& out) {
  token kw = take();
  ast::test_decl d;
  token name = expect(tok::string, "(the test's name) after `test`");
  d.where = pos_of(name);
  d.name = name.text;
  std::unordered_map<std::string, std::uint32_t> seen;
  auto starts = [](const token& t) {
    return t.kind == tok::word && (t.text == "asof" || t.text == "given" || t.text == "expect");
  };
  std::string in = "test \"" + d.name + "\"";
  block(kw, "test", starts, [&](const token& t) {
    if (!starts(t)) fail_expected(one_of({"asof", "given", "expect", "}"}));
    if (t.text == "expect") {
      expect_statement(d);
      return;
    }
    token k = take();
    bool dup = duplicate(seen, k, in);
    if (k.text == "asof") {
      token date = expect(tok::date, "after `asof`");
      if (!dup && !date.bad) d.asof = date.i;
      return;
    }
    // given: raw JSON, captured without tokenising it.
    std::string json;
    ast::pos where;
    ast::span bytes;
    have_cur_ = false;  // take() left nothing buffered; the lexer stands after `given`
    lexer::state before = lex_.save();
    bool ok = lex_.capture_json(json, where, bytes);
    if (!ok && json.empty()) {
      lex_.restore(before);
      fail_expected("`{` and the JSON facts", "after `given`");
    }
    prev_.end = bytes.end;
    if (!dup) {
      d.given = std::move(json);
      d.given_where = where;
      d.has_given = true;
    }
  });
  out.tests.push_back(std::move(d));
}

// expect := 'expect' ( 'hazard' ID | 'not' 'hazard' ID | 'undetermined' ID | 'error' ID
//                    | 'provisional' ID | expression )
void parser::expect_statement(ast::test_decl& d) {
  token kw = take();
  ast::expect_stmt s;
  s.where = pos_of(kw);
  const token& first = peek();
  std::uint32_t begin = first.begin;
  auto named = [&](ast::expect_kind k, std::string_view after) {
    token id = take_id();
    if (id.kind != tok::word) fail_expected("a name or id", "after " + std::string(after));
    s.kind = k;
    s.name = id.text;
    s.name_where = pos_of(id);
  };
  // The forms with a name need it on the same line: `expect hazard` alone is an expression.
  token second = first.kind == tok::word ? peek2() : token{};
  if (second.line_start) second = token{};
  if (first.kind == tok::word && first.text == "not" && second.kind == tok::word &&
      second.text == "hazard") {
    take();
    take();
    named(ast::expect_kind::not_hazard, "`expect not hazard`");
  } else if (first.kind == tok::word && second.kind == tok::word &&
             (first.text == "hazard" || first.text == "undetermined" || first.text == "error" ||
              first.text == "provisional")) {
    std::string w = take().text;
    named(w == "hazard"         ? ast::expect_kind::hazard
          : w == "undetermined" ? ast::expect_kind::undetermined
          : w == "error"        ? ast::expect_kind::error
                                : ast::expect_kind::provisional,
          "`expect " + w + "`");
  } else {
    s.kind = ast::expect_kind::expression;
    s.e = expression();
  }
  s.source = {begin, prev_.end};
  d.expects.push_back(std::move(s));
}

}  // namespace

ast::ruleset_file parse_file(const ast::source_set& sources, std::uint32_t file,
                             ast::expr_arena& arena, const parse_limits& limits,
                             ast::diagnostic_sink& diags) {
  try {
    if (file >= sources.files.size()) {
      diags.error({file, 1, 1}, "no such source file");
      ast::ruleset_file out;
      out.file = file;
      return out;
    }
    const ast::source_file& src = sources.files[file];
    if (src.text.size() >= UINT32_MAX) {
      diags.error({file, 1, 1}, "the file is too large to parse");
      ast::ruleset_file out;
      out.file = file;
      return out;
    }
    parser p(src, file, arena, limits, diags);
    return p.run();
  } catch (...) {
    ast::ruleset_file out;
    out.file = file;
    return out;
  }
}

}  // namespace carerules::parse
