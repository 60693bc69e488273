// Limits by name (the CLI's --limit NAME=N, Python's limits={...}); the evaluation date and
// the thread count every surface resolves the same way.
#include "carerules/options.hpp"

#include <algorithm>
#include <charconv>
#include <stdexcept>
#include <thread>

#include "util/date.hpp"

namespace carerules {

bool limits::set(std::string_view name, std::string_view text, std::string& error) {
  std::uint64_t v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size()) {
    error = "limit `" + std::string(name) + "` needs a non-negative integer, got \"" +
            std::string(text) + "\"";
    return false;
  }
  struct entry {
    const char* name;
    std::uint64_t limits::*field;
  };
  static const entry table[] = {
      {"source_bytes", &limits::source_bytes},
      {"depth", &limits::depth},
      {"identifier", &limits::identifier},
      {"string", &limits::string},
      {"imports", &limits::imports},
      {"diagnostics", &limits::diagnostics},
      {"json_depth", &limits::json_depth},
      {"json_string", &limits::json_string},
      {"list", &limits::list},
      {"line_bytes", &limits::line_bytes},
      {"steps", &limits::steps},
  };
  for (const auto& e : table) {
    if (name == e.name) {
      this->*e.field = v;
      return true;
    }
  }
  error = "unknown limit `" + std::string(name) +
          "` (known: source_bytes depth identifier string imports diagnostics json_depth "
          "json_string list line_bytes steps)";
  return false;
}

bool limits::set(std::string_view assignment, std::string& error) {
  auto eq = assignment.find('=');
  if (eq == std::string_view::npos) {
    error = "expected NAME=N, got \"" + std::string(assignment) + "\"";
    return false;
  }
  return set(assignment.substr(0, eq), assignment.substr(eq + 1), error);
}

std::string resolve_asof(std::string_view asof) {
  if (asof.empty()) return detail::format_date(detail::today_local());
  if (!detail::parse_date(asof))
    throw std::invalid_argument("asof must be a date YYYY-MM-DD, got \"" + std::string(asof) +
                                "\"");
  return std::string(asof);
}

unsigned thread_count(unsigned requested, std::size_t work) {
  // The cores, asked once: the C library reads them from /sys on every call.
  static const unsigned cores = std::thread::hardware_concurrency();
  unsigned n = requested == 0 ? cores : requested;
  n = std::min(n, 256u);
  n = static_cast<unsigned>(std::min<std::size_t>(n, work));
  return std::max(n, 1u);
}

}  // namespace carerules
