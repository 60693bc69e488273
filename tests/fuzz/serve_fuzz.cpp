// Any bytes as one HTTP request to `carerules serve`: Beast's parser, the routes, the query
// parsing and the evaluation, without a socket (tools/carerules/serve.cpp, CARERULES_SERVE_FUZZ).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "cli.hpp"

namespace carerules::cli {
int serve_fuzz_one(const std::uint8_t* data, std::size_t size);
// run_serve's help, which the fuzz target does not show.
std::optional<std::string_view> help_text(std::string_view) { return std::string_view(); }
int print_help(std::string_view) { return 0; }
}  // namespace carerules::cli

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return carerules::cli::serve_fuzz_one(data, size);
}
