// The parser of the rules language: text of one ruleset file -> ast::ruleset_file.
//
// A hand-written lexer and recursive-descent parser rather than Boost.Spirit X3: columns
// must count code points exactly, one file should yield every error it can recover from
// (resynchronising at the next declaration or clause), nesting is counted before each
// recursion so that hostile input cannot overflow the native stack, and it builds fast.
//
// Example:
//   ast::source_set sources;
//   sources.files.push_back({.display = "a.rules", .text = text});
//   ast::expr_arena arena;
//   ast::diagnostic_sink diags;
//   ast::ruleset_file f = parse::parse_file(sources, 0, arena, {}, diags);
//   if (diags.has_errors()) ...
//
// Thread-safety: parse_file touches only its arguments; distinct arguments may be parsed
// concurrently.
#pragma once

#include <cstddef>
#include <cstdint>

#include "ast/ast.hpp"
#include "ast/source.hpp"

namespace carerules::parse {

struct parse_limits {
  std::size_t depth = 256;        // nested expressions and blocks
  std::size_t identifier = 256;   // code points per identifier segment
  std::size_t string = 1u << 20;  // bytes of a decoded string literal
};

// Parses sources.files[file].text into a ruleset (the lexer counts lines itself, so
// line_starts need not be filled; render() needs them),
// appending its expressions to `arena`. Every syntax error it can recover from is reported
// to `diags`; the result is then partial but well formed (ids refer to existing nodes or are
// no_expr). Never throws; never recurses deeper than limits.depth.
ast::ruleset_file parse_file(const ast::source_set& sources, std::uint32_t file,
                             ast::expr_arena& arena, const parse_limits& limits,
                             ast::diagnostic_sink& diags);

}  // namespace carerules::parse
