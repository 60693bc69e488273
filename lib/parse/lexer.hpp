// The lexer of the rules language (spec §1, §11).
//
// The lexer is pulled by the parser one token at a time, because two places need a mode
// other than the ordinary token stream: ids of hazards, items and deductions (`H1.1.2` is
// one id, not `H1` `.` `1.2`), scanned by `scan_id`, and the raw JSON of a test's `given`,
// captured by `capture_json`. Its state is three numbers, so the parser can look ahead and
// come back (`save` / `restore`).
//
// Lexical errors (invalid UTF-8, NUL, a bad escape, an unterminated string, a number that
// does not fit, a full-width lookalike...) go straight into the diagnostic sink; a region
// scanned twice reports each error once. The lexer never throws.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <utility>

#include "ast/source.hpp"

namespace carerules::parse {

struct parse_limits;

enum class tok : std::uint8_t {
  eof,
  word,       // identifier or keyword: text
  integer,    // u: magnitude (fits when <= 2^63; the parser folds a leading '-')
  decimal,    // i: value scaled by 10^6
  string,     // text: decoded
  date,       // i: day number
  lparen,     // (
  rparen,     // )
  lbrace,     // {
  rbrace,     // }
  lbracket,   // [
  rbracket,   // ]
  comma,      // ,
  colon,      // :
  dot,        // .
  dotdot,     // ..
  assign,     // =
  eq,         // ==
  ne,         // !=
  lt,         // <
  le,         // <=
  gt,         // >
  ge,         // >=
  plus,       // +
  minus,      // -
  star,       // *
  slash,      // /
  percent,    // %
  qq,         // ??
  fat_arrow,  // =>
  arrow,      // ->
  pipe,       // |
};

// A short description for messages: "`(`", "a name", "a string", "end of file".
std::string describe(tok kind);

struct token {
  tok kind = tok::eof;
  std::uint32_t begin = 0;  // byte offsets [begin, end)
  std::uint32_t end = 0;
  std::uint32_t line = 1;
  std::uint32_t column = 1;
  bool line_start = false;  // first token on its line
  bool bad = false;         // a lexical error was reported for it (value unusable)
  std::string text;
  std::uint64_t u = 0;
  std::int64_t i = 0;
};

class lexer {
 public:
  struct state {
    std::uint32_t offset = 0;
    std::uint32_t line = 1;
    std::uint32_t column = 1;
    bool line_start = true;
  };

  lexer(std::string_view text, std::uint32_t file, std::size_t identifier_limit,
        std::size_t string_limit, ast::diagnostic_sink& diags);

  // The next token of the ordinary stream (eof at the end, forever).
  token next();
  // An id at the current position (after white space and comments): an identifier, then
  // `.segment`s of letters, digits and `_`. Returns kind word with the whole id as text, or
  // whatever ordinary token stands there when it does not start with a letter or `_`.
  token scan_id();
  // Captures balanced `{...}` starting at the current position (after white space), JSON
  // strings and escapes respected, into out. false (and an error) when unbalanced.
  bool capture_json(std::string& out, ast::pos& where, ast::span& bytes);

  state save() const { return st_; }
  void restore(const state& s) { st_ = s; }
  ast::pos pos_at(const token& t) const { return {file_, t.line, t.column}; }

 private:
  void error_at(std::uint32_t offset, std::uint32_t line, std::uint32_t column,
                std::string message);
  void skip_space();
  // Decodes the code point at the current offset; -1 for an invalid sequence (len 1).
  std::int32_t peek_cp(std::size_t& len) const;
  void advance_bytes(std::size_t len);  // one code point
  bool scan_word(token& t, bool id_mode);
  void scan_number(token& t);
  void scan_string(token& t, bool curly);
  void scan_date(token& t);
  bool bad_char_error();  // reports invalid UTF-8 / NUL at the current offset, skips it

  std::string_view text_;
  std::uint32_t file_;
  std::size_t identifier_limit_;
  std::size_t string_limit_;
  ast::diagnostic_sink& diags_;
  state st_;
  std::set<std::pair<std::uint32_t, std::string>> reported_;
};

}  // namespace carerules::parse
