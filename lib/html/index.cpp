// index.html: the bureau's summary of a batch, per group, with SVG bar charts.
#include <algorithm>

#include "carerules/html.hpp"
#include "html/style.hpp"

namespace carerules {

namespace {

std::string esc(std::string_view s) { return html_escape(s); }

std::string group_name(lang l, const std::optional<std::string>& g) {
  return g ? *g : std::string(text(l, "no_group"));
}

// One horizontal stacked bar per row: segments[i] counts in colour colours[i].
std::string stacked_chart(const std::vector<std::string>& rows,
                          const std::vector<std::vector<std::uint64_t>>& values,
                          const std::vector<std::string>& colours,
                          const std::vector<std::string>& legend) {
  std::uint64_t max = 1;
  for (const auto& v : values) {
    std::uint64_t sum = 0;
    for (auto n : v) sum += n;
    max = std::max(max, sum);
  }
  constexpr int label_w = 180, bar_w = 460, row_h = 22, num_w = 50;
  const int height = static_cast<int>(rows.size()) * row_h + 4;
  std::string o = "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"" +
                  std::to_string(label_w + bar_w + num_w) + "\" height=\"" +
                  std::to_string(height) + "\" role=\"img\">\n";
  for (std::size_t r = 0; r < rows.size(); ++r) {
    const int y = static_cast<int>(r) * row_h + 2;
    o += "<text x=\"" + std::to_string(label_w - 6) + "\" y=\"" + std::to_string(y + 15) +
         "\" text-anchor=\"end\" font-size=\"12\">" + esc(rows[r]) + "</text>\n";
    double x = label_w;
    std::uint64_t sum = 0;
    for (std::size_t k = 0; k < values[r].size(); ++k) {
      const std::uint64_t n = values[r][k];
      sum += n;
      if (n == 0) continue;
      const double w = static_cast<double>(n) * bar_w / static_cast<double>(max);
      char buf[160];
      std::snprintf(buf, sizeof buf,
                    "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"%s\">", x, y, w,
                    row_h - 6, colours[k].c_str());
      o += buf;
      o += "<title>" + esc(legend[k]) + ": " + std::to_string(n) + "</title></rect>\n";
      x += w;
    }
    char buf[96];
    std::snprintf(buf, sizeof buf, "<text x=\"%.1f\" y=\"%d\" font-size=\"12\">", x + 4, y + 15);
    o += buf + std::to_string(sum) + "</text>\n";
  }
  o += "</svg>\n<div class=\"legend\">";
  for (std::size_t k = 0; k < legend.size(); ++k)
    o += "<span><i style=\"background:" + colours[k] + "\"></i>" + esc(legend[k]) + "</span>";
  return o + "</div>\n";
}

}  // namespace

std::string html_index_head(const ruleset& rs, const group_summary& s, const index_options& o) {
  const lang l = o.language;
  auto t = [&](std::string_view key) { return esc(text(l, key)); };
  const auto groups = s.groups();
  std::string h = "<!DOCTYPE html>\n<html lang=\"";
  h += l == lang::zh ? "zh-CN" : "en";
  h += "\">\n<head>\n<meta charset=\"utf-8\">\n<title>" + t("summary_title") + " - " +
       esc(rs.info().title.empty() ? rs.name() : rs.info().title) + "</title>\n<style>";
  h += detail::html_css;
  h += "</style>\n</head>\n<body>\n<h1>" + t("summary_title") + "</h1>\n";
  h += "<table class=\"meta\">\n";
  h += "<tr><th>" + t("asof") + "</th><td>" + esc(o.asof) + "</td></tr>\n";
  h += "<tr><th>" + t("ruleset") + "</th><td>" +
       esc(rs.info().title.empty() ? rs.name() : rs.info().title) + " <code>" + esc(rs.name()) +
       "</code></td></tr>\n";
  h += "<tr><th>" + t("version") + "</th><td>" + esc(rs.version()) + "</td></tr>\n";
  h += "<tr><th>" + t("digest") + "</th><td><code>" + esc(rs.digest()) + "</code></td></tr>\n";
  if (o.by) h += "<tr><th>" + t("by") + "</th><td><code>" + esc(*o.by) + "</code></td></tr>\n";
  const auto& tot = s.total();
  h += "<tr><th>" + t("records") + "</th><td>" + std::to_string(tot.records) + "</td></tr>\n";
  h += "<tr><th>" + t("with_present_hazard") + "</th><td>" + std::to_string(tot.with_present) +
       "</td></tr>\n";
  h += "<tr><th>" + t("with_errors") + "</th><td>" + std::to_string(tot.with_errors) +
       "</td></tr>\n</table>\n";

  // Rows: each group, then the total.
  std::vector<std::string> row_names;
  std::vector<const group_summary::counts*> row_counts;
  for (const auto& [g, c] : groups) {
    row_names.push_back(group_name(l, g));
    row_counts.push_back(c);
  }
  row_names.emplace_back(text(l, "total"));
  row_counts.push_back(&tot);

  const auto& values = s.grade_values();
  for (std::size_t g = 0; g < s.grades().size(); ++g) {
    h += "<h2>" + t("grade") + ": " + esc(s.grades()[g].name) + "</h2>\n";
    h += "<table class=\"counts\" data-grade=\"" + esc(s.grades()[g].name) + "\"><tr><th>" +
         (o.by ? esc(*o.by) : t("group")) + "</th>";
    std::vector<std::string> legend, colours;
    for (std::size_t v = 0; v < values[g].size(); ++v) {
      legend.push_back(grade_value_label(l, values[g][v]));
      colours.emplace_back(detail::value_colour(values[g][v], v));
      h += "<th class=\"n\">" + esc(legend.back()) + "</th>";
    }
    h += "</tr>\n";
    std::vector<std::vector<std::uint64_t>> bars;
    for (std::size_t r = 0; r < row_names.size(); ++r) {
      h += "<tr><td>" + esc(row_names[r]) + "</td>";
      for (auto n : row_counts[r]->grades[g]) h += "<td class=\"n\">" + std::to_string(n) + "</td>";
      h += "</tr>\n";
      if (r + 1 < row_names.size() || row_names.size() == 1)
        bars.push_back(row_counts[r]->grades[g]);
    }
    h += "</table>\n";
    std::vector<std::string> bar_rows(row_names.begin(),
                                      row_names.begin() + static_cast<long>(bars.size()));
    h += stacked_chart(bar_rows, bars, colours, legend);
  }

  if (!s.hazards().empty()) {
    h += "<h2>" + t("present_by_hazard") + "</h2>\n<table class=\"counts hazards\"><tr><th>" +
         t("hazard") + "</th>";
    for (const auto& name : row_names) h += "<th class=\"n\">" + esc(name) + "</th>";
    h += "</tr>\n";
    std::vector<std::string> hz_rows;
    std::vector<std::vector<std::uint64_t>> bars;
    for (std::size_t k = 0; k < s.hazards().size(); ++k) {
      const auto& hz = s.hazards()[k];
      h += "<tr><td><strong>" + esc(hz.id) + "</strong> " + esc(hz.title) + "</td>";
      for (const auto* c : row_counts)
        h += "<td class=\"n\">" + std::to_string(c->hazards[k][0]) + "</td>";
      h += "</tr>\n";
      hz_rows.push_back(hz.id);
      bars.push_back({tot.hazards[k][0], tot.hazards[k][2]});
    }
    h += "</table>\n";
    h += stacked_chart(hz_rows, bars, {"#c81e1e", "#dddddd"},
                       {std::string(text(l, "present")), std::string(text(l, "undetermined"))});
  }

  h += "<h2>" + t("institutions_with_present") + "</h2>\n<table class=\"present-list\"><tr><th>" +
       t("subject") + "</th><th>" + t("name") + "</th>";
  if (o.by) h += "<th>" + esc(*o.by) + "</th>";
  h += "<th>" + t("present_hazards") + "</th><th>" + t("grades") + "</th></tr>\n";
  return h;
}

std::string html_index_row(const ruleset& rs, const index_entry& e, const index_options& o) {
  const lang l = o.language;
  std::string subject = e.subject ? *e.subject : std::string(text(l, "no_subject"));
  std::string h = "<tr><td><a href=\"" + esc(e.file) + "\">" + esc(subject) + "</a></td><td>" +
                  esc(e.name.value_or("")) + "</td>";
  if (o.by) h += "<td>" + esc(group_name(l, e.group)) + "</td>";
  h += "<td>";
  for (std::size_t i = 0; i < e.hazards.size(); ++i) h += (i ? ", " : "") + esc(e.hazards[i]);
  h += "</td><td>";
  for (std::size_t i = 0; i < e.grades.size(); ++i) {
    if (i) h += " ";
    const std::string name = i < rs.grades().size() ? rs.grades()[i].name : "";
    h += "<span class=\"badge " + detail::badge_class(e.grades[i]) +
         "\" style=\"font-size:12px;padding:1px 6px\" title=\"" + esc(name) + "\">" +
         esc(grade_value_label(l, e.grades[i])) + "</span>";
  }
  h += "</td></tr>";
  // One line per entry: nothing escaped leaves a raw line end.
  std::replace(h.begin(), h.end(), '\n', ' ');
  return h + "\n";
}

std::string html_index_tail(const index_options& o, std::uint64_t rows) {
  std::string h = "</table>\n";
  if (rows == 0) h += "<p class=\"none\">" + esc(text(o.language, "no_present_hazards")) + "</p>\n";
  h += "</body>\n</html>\n";
  return h;
}

}  // namespace carerules
