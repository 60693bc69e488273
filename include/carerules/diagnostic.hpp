// A diagnostic about rule text: where, how bad, what.
//
//   for (const auto& d : result.diagnostics()) std::cerr << d.rendered;
#pragma once

#include <string>

// Exported from the shared library (compiled with hidden visibility).
#pragma GCC visibility push(default)

namespace carerules {

struct diagnostic {
  std::string file;      // as given to the compiler (imports: relative to their import root)
  int line = 0;          // 1-based
  int column = 0;        // 1-based, in code points
  std::string severity;  // "error", "warning" or "note"
  std::string message;   // English; ruleset text quoted as written
  // "file:line:column: severity: message", the source line and a caret under the column.
  std::string rendered;
};

}  // namespace carerules
#pragma GCC visibility pop
