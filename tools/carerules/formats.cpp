// The output formats of `carerules eval` and the batch summary.
#include "formats.hpp"

#include <algorithm>

#include "util/utf8.hpp"

namespace carerules::cli {

// ---- text helpers ---------------------------------------------------------------------------

std::size_t display_width(std::string_view text) {
  std::size_t width = 0;
  for (std::size_t i = 0; i < text.size();) {
    std::size_t len = 1;
    std::int32_t cp = detail::decode_utf8(text, i, len);
    width += cp < 0
                 ? 1u
                 : static_cast<std::size_t>(detail::display_width(static_cast<std::uint32_t>(cp)));
    i += len;
  }
  return width;
}

namespace {

std::string pad(std::string_view cell, std::size_t width, bool right) {
  std::size_t w = display_width(cell);
  std::string fill(w < width ? width - w : 0, ' ');
  return right ? fill + std::string(cell) : std::string(cell) + fill;
}

std::vector<std::size_t> column_widths(const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> widths;
  for (const auto& row : rows) {
    if (widths.size() < row.size()) widths.resize(row.size(), 0);
    for (std::size_t i = 0; i < row.size(); ++i)
      widths[i] = std::max(widths[i], display_width(row[i]));
  }
  return widths;
}

std::string format_row(const std::vector<std::string>& row, const std::vector<std::size_t>& widths,
                       const std::vector<bool>& right, std::string_view indent) {
  std::string line(indent);
  for (std::size_t i = 0; i < row.size(); ++i) {
    bool r = i < right.size() && right[i];
    bool last = i + 1 == row.size();
    std::size_t w = i < widths.size() ? widths[i] : 0;
    line += last && !r ? row[i] : pad(row[i], w, r);
    if (!last) line += "  ";
  }
  while (!line.empty() && line.back() == ' ') line.pop_back();
  line += '\n';
  return line;
}

}  // namespace

std::string aligned_table(const std::vector<std::vector<std::string>>& rows,
                          const std::vector<bool>& right, std::string_view indent) {
  auto widths = column_widths(rows);
  std::string out;
  for (const auto& row : rows) out += format_row(row, widths, right, indent);
  return out;
}

// ---- json and jsonl -------------------------------------------------------------------------

namespace {

class json_writer final : public report_writer {
 public:
  json_writer(output& out, bool as_array) : out_(out), array_(as_array) {}
  void add(const report& r, const std::string* json) override {
    // Compact like the reports themselves: no whitespace between the elements.
    if (array_) out_ << (count_ == 0 ? "[" : ",");
    out_ << (json ? *json : r.to_json());
    if (!array_) out_ << "\n";
    ++count_;
  }
  void end() override {
    if (array_) out_ << (count_ == 0 ? "[]\n" : "]\n");
  }

 private:
  output& out_;
  bool array_;
  std::uint64_t count_ = 0;
};

// Decisions lines from report objects: what `--summary` needs the reports for. The same
// bytes as the library's fast path (tests/cli compares the two).
class decisions_writer final : public report_writer {
 public:
  explicit decisions_writer(output& out) : out_(out) {}
  void add(const report& r, const std::string*) override {
    std::string o = "{\"subject\":";
    if (r.subject)
      append_json_string(o, *r.subject);
    else
      o += "null";
    for (auto want : {hazard_status::present, hazard_status::undetermined}) {
      o += want == hazard_status::present ? ",\"present\":[" : "],\"undetermined\":[";
      bool first = true;
      for (const auto& h : r.hazards) {
        if (h.status != want) continue;
        if (!first) o += ',';
        first = false;
        append_json_string(o, h.id);
      }
    }
    o += "],\"grades\":{";
    for (std::size_t i = 0; i < r.grades.size(); ++i) {
      if (i) o += ',';
      append_json_string(o, r.grades[i].name);
      o += ':';
      append_json_string(o, r.grades[i].value());
    }
    o += "},\"errors\":" + std::to_string(r.errors.size()) + "}\n";
    out_ << o;
  }

 private:
  output& out_;
};

class jsonl_writer final : public report_writer {
 public:
  explicit jsonl_writer(output& out) : out_(out) {}
  void add(const report& r, const std::string* json) override {
    out_ << (json ? *json : r.to_json()) << "\n";
  }

 private:
  output& out_;
};

// ---- csv ------------------------------------------------------------------------------------

}  // namespace

// RFC 4180: a field with a comma, quote, CR or LF is quoted, quotes doubled; lines end CRLF.
std::string csv_field(std::string_view s) {
  std::string o;
  append_csv_field(o, s);
  return o;
}

namespace {

// With --lang: the header a person reads for a column (the ruleset's own titles and names).
std::string column_label(const ruleset& rs, const report_column& c, lang l) {
  switch (c.what) {
    case report_column::kind::subject:
      return std::string(text(l, "subject"));
    case report_column::kind::hazard: {
      const auto& h = rs.hazards()[c.index];
      return h.id + " " + h.title;
    }
    case report_column::kind::score:
      return rs.scores()[c.index].name;
    case report_column::kind::section:
      return rs.scores()[c.index].name + ": " + rs.scores()[c.index].sections[c.section];
    case report_column::kind::grade:
      return rs.grades()[c.index].name;
    case report_column::kind::errors:
      return std::string(text(l, "errors"));
  }
  return c.name;
}

// With --lang: a cell's value as a label (statuses and grade values; numbers as they are).
std::string cell_label(const report& r, const report_column& c, lang l) {
  if (r.unreadable) return report_cell(r, c);
  if (c.what == report_column::kind::hazard && c.index < r.hazards.size())
    return std::string(label(l, r.hazards[c.index].status));
  if (c.what == report_column::kind::grade && c.index < r.grades.size())
    return grade_value_label(l, r.grades[c.index].value());
  return report_cell(r, c);
}

class csv_writer final : public report_writer {
 public:
  csv_writer(output& out, const ruleset& rs, std::optional<lang> language)
      : out_(out), rs_(rs), columns_(rs.columns()), lang_(language) {}
  void begin() override {
    std::vector<std::string> header;
    for (const auto& c : columns_) header.push_back(lang_ ? column_label(rs_, c, *lang_) : c.name);
    out_ << "\xEF\xBB\xBF";
    write_row(header);
  }
  void add(const report& r, const std::string*) override {
    std::vector<std::string> row;
    for (const auto& c : columns_)
      row.push_back(lang_ ? cell_label(r, c, *lang_) : report_cell(r, c));
    write_row(row);
  }

 private:
  void write_row(const std::vector<std::string>& row) {
    std::string line;
    for (std::size_t i = 0; i < row.size(); ++i) {
      if (i) line += ',';
      line += csv_field(row[i]);
    }
    line += "\r\n";
    out_ << line;
  }
  output& out_;
  const ruleset& rs_;
  std::vector<report_column> columns_;
  std::optional<lang> lang_;
};

// ---- table ----------------------------------------------------------------------------------

// subject | hazards: present absent undetermined error | each score | each grade | errors
class table_writer final : public report_writer {
 public:
  table_writer(output& out, const ruleset& rs, std::optional<lang> language)
      : out_(out), rs_(rs), lang_(language) {
    header_ = {"subject", "present", "absent", "undetermined", "error"};
    if (lang_)
      for (auto& h : header_) h = std::string(text(*lang_, h));
    right_ = {false, true, true, true, true};
    for (const auto& s : rs_.scores()) {
      header_.push_back(detail::escape_for_display(s.name));
      right_.push_back(true);
    }
    for (const auto& g : rs_.grades()) {
      header_.push_back(detail::escape_for_display(g.name));
      right_.push_back(false);
    }
    header_.push_back(lang_ ? std::string(text(*lang_, "errors")) : "errors");
    right_.push_back(true);
  }
  void add(const report& r, const std::string*) override {
    std::vector<std::string> row;
    row.push_back(r.subject ? detail::escape_for_display(*r.subject) : "-");
    const bool readable = !r.unreadable;
    if (readable) {
      batch_summary::status_counts n;
      for (const auto& h : r.hazards) n.add(h.status);
      for (auto c : {n.present, n.absent, n.undetermined, n.error})
        row.push_back(std::to_string(c));
    } else {
      for (int i = 0; i < 4; ++i) row.push_back("-");
    }
    for (std::size_t i = 0; i < rs_.scores().size(); ++i) {
      if (!readable) {
        row.push_back("-");
        continue;
      }
      std::string cell =
          report_cell(r, {report_column::kind::score, {}, static_cast<std::uint32_t>(i)});
      if (cell.empty()) cell = "-";
      if (r.scores[i].provisional) {
        cell += "*";
        provisional_ = true;
      }
      row.push_back(cell);
    }
    for (std::size_t i = 0; i < rs_.grades().size(); ++i)
      row.push_back(!readable ? "-"
                    : lang_
                        ? detail::escape_for_display(grade_value_label(*lang_, r.grades[i].value()))
                        : detail::escape_for_display(r.grades[i].value()));
    row.push_back(std::to_string(r.errors.size()));
    if (widths_.empty()) {
      pending_.push_back(std::move(row));
    } else {
      out_ << format_row(row, widths_, right_, "");
    }
  }
  void chunk_done() override {
    if (widths_.empty()) print_pending();
  }
  void end() override {
    if (widths_.empty()) print_pending();
    if (provisional_)
      out_ << (lang_ ? "* " + std::string(text(*lang_, "provisional")) + "\n"
                     : std::string("* provisional: some items could not be decided\n"));
  }

 private:
  void print_pending() {
    std::vector<std::vector<std::string>> rows;
    rows.push_back(header_);
    for (auto& r : pending_) rows.push_back(std::move(r));
    pending_.clear();
    widths_ = column_widths(rows);
    std::string group(widths_[0] + 2, ' ');
    group += lang_ ? std::string(text(*lang_, "hazard")) : "hazards";
    out_ << group << "\n";
    for (const auto& row : rows) out_ << format_row(row, widths_, right_, "");
  }

  output& out_;
  const ruleset& rs_;
  std::vector<std::string> header_;
  std::vector<bool> right_;
  std::vector<std::vector<std::string>> pending_;
  std::vector<std::size_t> widths_;
  bool provisional_ = false;
  std::optional<lang> lang_;
};

}  // namespace

std::unique_ptr<report_writer> make_writer(format f, output& out, const ruleset& rs, bool as_array,
                                           std::optional<lang> language) {
  switch (f) {
    case format::json:
      return std::make_unique<json_writer>(out, as_array);
    case format::jsonl:
      return std::make_unique<jsonl_writer>(out);
    case format::csv:
      return std::make_unique<csv_writer>(out, rs, language);
    case format::table:
      return std::make_unique<table_writer>(out, rs, language);
    case format::decisions:
      return std::make_unique<decisions_writer>(out);
  }
  return nullptr;
}

// ---- summary --------------------------------------------------------------------------------

void batch_summary::status_counts::add(hazard_status status) {
  switch (status) {
    case hazard_status::present:
      ++present;
      break;
    case hazard_status::absent:
      ++absent;
      break;
    case hazard_status::undetermined:
      ++undetermined;
      break;
    case hazard_status::error:
      ++error;
      break;
  }
}

batch_summary::batch_summary(const ruleset& rs) {
  // Each grade's values in scale order, highest first (red … blue, 五级 … 一级), so every
  // value has a row even when no record reached it.
  for (const auto& g : rs.grades()) {
    grades_.push_back({g.name, {}});
    for (auto it = g.values.rbegin(); it != g.values.rend(); ++it)
      grades_.back().values.emplace_back(*it, 0);
    // ...then the outcomes that are not on the scale, always listed so that every summary
    // of one ruleset has the same rows.
    for (const char* other : {"none", "undetermined", "error"})
      grades_.back().values.emplace_back(other, 0);
  }
  for (const auto& h : rs.hazards()) {
    hazards_.emplace_back(h.id, h.category);
    if (std::find(categories_.begin(), categories_.end(), h.category) == categories_.end())
      categories_.push_back(h.category);
  }
  hazard_counts_.resize(hazards_.size());
  category_counts_.resize(categories_.size());
}

void batch_summary::add(const report& r) {
  ++reports_;
  if (!r.errors.empty()) ++with_errors_;
  if (!r.unreadable) {
    // A category's status for one record: present if any of its hazards is present, else
    // error, else undetermined, else absent (so the counts are of records).
    std::vector<int> worst(categories_.size(), 0);  // 0 absent 1 undetermined 2 error 3 present
    for (std::size_t i = 0; i < r.hazards.size(); ++i) {
      const hazard_status st = r.hazards[i].status;
      hazard_counts_[i].add(st);
      int rank = st == hazard_status::present        ? 3
                 : st == hazard_status::error        ? 2
                 : st == hazard_status::undetermined ? 1
                                                     : 0;
      auto c = std::find(categories_.begin(), categories_.end(), hazards_[i].second);
      int& w = worst[static_cast<std::size_t>(c - categories_.begin())];
      w = std::max(w, rank);
    }
    static constexpr hazard_status names[] = {hazard_status::absent, hazard_status::undetermined,
                                              hazard_status::error, hazard_status::present};
    for (std::size_t c = 0; c < worst.size(); ++c)
      category_counts_[c].add(names[static_cast<std::size_t>(worst[c])]);
  }
  if (!r.unreadable) {
    for (std::size_t i = 0; i < r.grades.size(); ++i) {
      auto& values = grades_[i].values;
      auto it = std::find_if(values.begin(), values.end(),
                             [&](const auto& v) { return v.first == r.grades[i].value(); });
      if (it == values.end())
        values.emplace_back(r.grades[i].value(), 1);
      else
        ++it->second;
    }
  }
}

std::string batch_summary::render(bool each) const {
  auto esc = [](std::string_view s) { return detail::escape_for_display(s); };
  std::string o = "summary\n";
  {
    std::vector<std::vector<std::string>> rows;
    rows.push_back({"records", std::to_string(records_)});
    rows.push_back({"records with errors", std::to_string(records_with_errors_)});
    if (each) {
      rows.push_back({"reports (--each)", std::to_string(reports_)});
      rows.push_back({"reports with errors", std::to_string(with_errors_)});
    }
    o += aligned_table(rows, {false, true}, "  ");
  }
  for (const auto& g : grades_) {
    // Labels in the order first seen; none, undetermined and error after them.
    auto values = g.values;
    auto rank = [](const std::string& v) {
      return v == "none" ? 1 : v == "undetermined" ? 2 : v == "error" ? 3 : 0;
    };
    std::stable_sort(values.begin(), values.end(),
                     [&](const auto& a, const auto& b) { return rank(a.first) < rank(b.first); });
    std::vector<std::vector<std::string>> rows{{"grade " + esc(g.name), "count"}};
    for (const auto& [v, n] : values) rows.push_back({esc(v), std::to_string(n)});
    o += "\n" + aligned_table(rows, {false, true}, "  ");
  }
  auto status_row = [](std::vector<std::string> row, const status_counts& c) {
    row.push_back(std::to_string(c.present));
    row.push_back(std::to_string(c.absent));
    row.push_back(std::to_string(c.undetermined));
    row.push_back(std::to_string(c.error));
    return row;
  };
  if (!hazards_.empty()) {
    std::vector<std::vector<std::string>> rows{
        {"hazard", "category", "present", "absent", "undetermined", "error"}};
    for (std::size_t i = 0; i < hazards_.size(); ++i)
      rows.push_back(
          status_row({esc(hazards_[i].first), esc(hazards_[i].second)}, hazard_counts_[i]));
    o += "\n" + aligned_table(rows, {false, false, true, true, true, true}, "  ");
    std::vector<std::vector<std::string>> cats{
        {"category", "present", "absent", "undetermined", "error"}};
    for (std::size_t i = 0; i < categories_.size(); ++i)
      cats.push_back(status_row({esc(categories_[i])}, category_counts_[i]));
    o += "\n" + aligned_table(cats, {false, true, true, true, true}, "  ");
  }
  return o;
}

}  // namespace carerules::cli
