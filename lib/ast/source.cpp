#include "ast/source.hpp"

#include <algorithm>
#include <tuple>

#include "util/utf8.hpp"

namespace carerules::ast {

void source_file::index_lines() {
  line_starts.clear();
  // A byte-order mark is not part of line 1.
  std::uint32_t start = text.compare(0, 3, "\xEF\xBB\xBF") == 0 ? 3 : 0;
  line_starts.push_back(start);
  for (std::size_t i = start; i < text.size(); ++i) {
    if (text[i] == '\n') line_starts.push_back(static_cast<std::uint32_t>(i + 1));
  }
}

std::string_view source_file::line_text(std::uint32_t n) const {
  if (n == 0 || n > line_starts.size()) return {};
  std::size_t begin = line_starts[n - 1];
  std::size_t end = n < line_starts.size() ? line_starts[n] - 1 : text.size();
  if (begin > text.size()) return {};
  std::string_view line = std::string_view(text).substr(begin, end - begin);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

void diagnostic_sink::error(pos where, std::string message) {
  add(severity::error, where, std::move(message));
}
void diagnostic_sink::warning(pos where, std::string message) {
  add(severity::warning, where, std::move(message));
}
void diagnostic_sink::note(pos where, std::string message) {
  add(severity::note, where, std::move(message));
}

void diagnostic_sink::add(severity level, pos where, std::string message) {
  if (level == severity::error) ++errors_;
  if (items_.size() >= limit_) {
    ++dropped_;
    return;
  }
  // Escaped once here, so that every reader of a message (the rendered text, the API's
  // `message`, a Python exception) sees a quoted string's controls, bidi controls and line
  // separators by code point rather than raw. Escaping is idempotent: render() may do it again.
  items_.push_back({level, where, detail::escape_for_display(message)});
}

void diagnostic_sink::sort() {
  std::stable_sort(items_.begin(), items_.end(), [](const diagnostic& a, const diagnostic& b) {
    return std::tie(a.where.file, a.where.line, a.where.column) <
           std::tie(b.where.file, b.where.line, b.where.column);
  });
}

namespace {

constexpr std::size_t window = 200;  // characters of a source line shown

const char* severity_word(severity s) {
  switch (s) {
    case severity::error:
      return "error";
    case severity::warning:
      return "warning";
    case severity::note:
      return "note";
  }
  return "error";
}

// The code points of a line as byte ranges (an invalid byte is one unit).
std::vector<std::pair<std::size_t, std::size_t>> units_of(std::string_view line) {
  std::vector<std::pair<std::size_t, std::size_t>> units;
  for (std::size_t i = 0; i < line.size();) {
    std::size_t len = 1;
    detail::decode_utf8(line, i, len);
    if (len == 0) len = 1;
    units.emplace_back(i, len);
    i += len;
  }
  return units;
}

// Terminal columns of already escaped text.
std::size_t width_of(std::string_view shown) {
  std::size_t w = 0;
  for (std::size_t i = 0; i < shown.size();) {
    std::size_t len = 1;
    std::int32_t cp = detail::decode_utf8(shown, i, len);
    if (len == 0) len = 1;
    w += cp < 0 ? 1
                : static_cast<std::size_t>(detail::display_width(static_cast<std::uint32_t>(cp)));
    i += len;
  }
  return w;
}

}  // namespace

std::string render(const source_set& sources, const diagnostic& d) {
  std::string out;
  const source_file* f =
      d.where.file < sources.files.size() ? &sources.files[d.where.file] : nullptr;
  out += detail::escape_for_display(f ? f->display : std::string("<unknown>"));
  if (d.where.line > 0) {
    out += ":" + std::to_string(d.where.line);
    if (d.where.column > 0) out += ":" + std::to_string(d.where.column);
  }
  out += ": ";
  out += severity_word(d.level);
  out += ": ";
  out += detail::escape_for_display(d.message);
  out += "\n";
  if (!f || d.where.line == 0 || d.where.line > f->line_starts.size()) return out;
  std::string_view line = f->line_text(d.where.line);
  auto units = units_of(line);
  std::size_t caret = d.where.column > 0 ? d.where.column - 1 : 0;  // unit index
  std::size_t first = 0, last = units.size();
  if (units.size() > window) {
    std::size_t half = window / 2;
    first = caret > half ? caret - half : 0;
    if (first + window > units.size()) first = units.size() - window;
    last = first + window;
  }
  std::string shown, pad;
  for (std::size_t k = first; k < last; ++k) {
    std::string piece = detail::escape_for_display(line.substr(units[k].first, units[k].second));
    if (k < caret) pad.append(width_of(piece), ' ');
    shown += piece;
  }
  if (caret > last) pad.append(caret - last, ' ');
  out += "  " + shown + "\n";
  out += "  " + pad + "^\n";
  return out;
}

}  // namespace carerules::ast
