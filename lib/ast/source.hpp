// Source files of a compilation and the diagnostics reported against them.
//
// Every stage reports into one `diagnostic_sink`; rendering (the source line, a caret padded
// by display width, escaping of control bytes, the 200-character window) lives here only.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ast/ast.hpp"

namespace carerules::ast {

struct source_file {
  std::string display;                     // the name shown in diagnostics and `because`
  std::string canonical;                   // canonical path on disk ("" for text given in memory)
  std::string text;                        // raw bytes, BOM included if present
  std::vector<std::uint32_t> line_starts;  // byte offset of each line; filled by index_lines
  void index_lines();
  // The bytes of line n (1-based), without the line ending.
  std::string_view line_text(std::uint32_t n) const;
};

struct source_set {
  std::vector<source_file> files;
};

enum class severity : std::uint8_t { error, warning, note };

struct diagnostic {
  severity level = severity::error;
  pos where;
  std::string message;
};

class diagnostic_sink {
 public:
  explicit diagnostic_sink(std::size_t limit = 100) : limit_(limit) {}
  void error(pos where, std::string message);
  void warning(pos where, std::string message);
  void note(pos where, std::string message);
  bool has_errors() const { return errors_ > 0; }
  std::size_t error_count() const { return errors_; }
  // Kept diagnostics (at most `limit`), and how many more were dropped.
  const std::vector<diagnostic>& items() const { return items_; }
  std::size_t dropped() const { return dropped_; }
  // Stable sort by file, line, column (errors found in different passes interleave).
  void sort();

 private:
  void add(severity level, pos where, std::string message);
  std::size_t limit_;
  std::size_t errors_ = 0;
  std::size_t dropped_ = 0;
  std::vector<diagnostic> items_;
};

// "file:line:column: error: message\n  source line\n  ^\n". The source line is escaped and
// cut to at most 200 characters around the caret.
std::string render(const source_set& sources, const diagnostic& d);

}  // namespace carerules::ast
