// `eval --summary --by PATH --summary-format table|csv|json`: the counts per group that
// index.html shows, as data.
#include "formats.hpp"
#include "util/utf8.hpp"

namespace carerules::cli {

std::string render_group_summary(const group_summary& s, summary_format f,
                                 const std::optional<std::string>& by,
                                 std::optional<lang> language) {
  if (f == summary_format::json) return s.to_json(by) + "\n";
  if (f == summary_format::csv) {
    std::string o = "\xEF\xBB\xBF";
    for (const auto& row : s.rows(language)) {
      for (std::size_t i = 0; i < row.size(); ++i) {
        if (i) o += ',';
        o += csv_field(row[i]);
      }
      o += "\r\n";
    }
    return o;
  }
  // The table: one block of counts per group, one per grade (its values), one of hazards
  // present per group.
  const lang l = language.value_or(lang::en);
  auto word = [&](std::string_view key) {
    return language ? std::string(text(l, key)) : std::string(key);
  };
  auto esc = [](std::string_view v) { return detail::escape_for_display(v); };
  std::vector<std::string> names;
  std::vector<const group_summary::counts*> counts;
  for (const auto& [g, c] : s.groups()) {
    names.push_back(g ? esc(*g) : (language ? word("no_group") : "-"));
    counts.push_back(c);
  }
  names.push_back(word("total"));
  counts.push_back(&s.total());
  const std::string head = by ? esc(*by) : word("group");
  std::string o = "summary";
  if (by) o += " by " + esc(*by);
  o += "\n";
  {
    std::vector<std::vector<std::string>> rows{
        {head, word("records"), word("reports"), word("with_errors"), word("with_present_hazard")}};
    for (std::size_t i = 0; i < names.size(); ++i)
      rows.push_back({names[i], std::to_string(counts[i]->records),
                      std::to_string(counts[i]->reports), std::to_string(counts[i]->with_errors),
                      std::to_string(counts[i]->with_present)});
    o += "\n" + aligned_table(rows, {false, true, true, true, true}, "  ");
  }
  for (std::size_t g = 0; g < s.grades().size(); ++g) {
    std::vector<std::vector<std::string>> rows{{head}};
    std::vector<bool> right{false};
    for (const auto& v : s.grade_values()[g]) {
      rows[0].push_back(esc(language ? grade_value_label(l, v) : v));
      right.push_back(true);
    }
    for (std::size_t i = 0; i < names.size(); ++i) {
      rows.push_back({names[i]});
      for (auto n : counts[i]->grades[g]) rows.back().push_back(std::to_string(n));
    }
    o += "\n  " + (language ? word("grade") + " " : std::string("grade ")) +
         esc(s.grades()[g].name) + "\n" + aligned_table(rows, right, "  ");
  }
  if (!s.hazards().empty()) {
    std::vector<std::vector<std::string>> rows{{head}};
    std::vector<bool> right{false};
    for (const auto& h : s.hazards()) {
      rows[0].push_back(esc(h.id));
      right.push_back(true);
    }
    for (std::size_t i = 0; i < names.size(); ++i) {
      rows.push_back({names[i]});
      for (const auto& h : counts[i]->hazards) rows.back().push_back(std::to_string(h[0]));
    }
    o += "\n  " + (language ? word("present_by_hazard") : std::string("hazards present")) + "\n" +
         aligned_table(rows, right, "  ");
  }
  return o;
}

}  // namespace carerules::cli
