// The checker: names, types, dependency order and cycles, then lowering to the plan.
//
// Input: the parsed files of one compilation in report order (an import's imports first),
// sharing one expression arena. Output: a `program`, or diagnostics. Every error that can be
// found is reported; lowering goes on after an error with the offending expression typed
// `error` so that one mistake does not cascade into many.
#pragma once

#include <memory>
#include <vector>

#include "ast/ast.hpp"
#include "ast/source.hpp"
#include "plan/plan.hpp"

namespace carerules::detail {

struct check_input {
  const std::vector<ast::ruleset_file>* files = nullptr;  // report order; top file last
  const ast::expr_arena* arena = nullptr;
  std::shared_ptr<ast::source_set> sources;
  carerules::limits limits;
};

// Returns the program when there were no errors (warnings allowed), else nullptr.
std::shared_ptr<program> check_and_lower(const check_input& in, ast::diagnostic_sink& diags);

}  // namespace carerules::detail
