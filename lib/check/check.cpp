// The checker and lowering to the plan (see check.hpp); the work is spread over the files
// listed in checker.hpp.
#include "check/checker.hpp"

namespace carerules::detail {

std::shared_ptr<program> check_and_lower(const check_input& in, ast::diagnostic_sink& diags) {
  checking::checker c(in, diags);
  return c.run();
}

}  // namespace carerules::detail
