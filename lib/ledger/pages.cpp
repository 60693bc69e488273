// The ledger's HTML pages: each institution's file and the status page, in the style of the
// report pages (the same style sheet, labels and escaping; self-contained, printable).
#include <cstdio>
#include <map>
#include <memory>

#include "carerules/html.hpp"
#include "carerules/ledger.hpp"
#include "html/style.hpp"
#include "ledger/packed.hpp"
#include "ledger/spill.hpp"

namespace carerules::ledger {
namespace {

std::string e(std::string_view s) { return html_escape(s); }

std::string word(lang l, std::string_view zh, std::string_view en) {
  return std::string(l == lang::zh ? zh : en);
}

std::string status_label(lang l, const std::string& s) {
  if (s == "open") return word(l, "整改中", "open");
  if (s == "overdue") return word(l, "逾期未改", "overdue");
  if (s == "closed") return word(l, "已销号", "closed");
  if (s == "present") return word(l, "存在", "present");
  if (s == "absent") return word(l, "不存在", "absent");
  if (s == "undetermined") return word(l, "无法判定", "undetermined");
  return s;
}

std::string head(lang l, const std::string& title) {
  return "<!DOCTYPE html>\n<html lang=\"" + std::string(to_string(l)) +
         "\">\n<head>\n<meta charset=\"utf-8\">\n<title>" + e(title) + "</title>\n<style>" +
         std::string(detail::html_css) + "td.nw{white-space:nowrap}</style>\n</head>\n<body>\n";
}

}  // namespace

std::string subject_page(const std::string& subject, const std::vector<finding>& findings,
                         const std::string& asof, lang l) {
  std::string o = head(l, word(l, "整改台账 ", "Rectification file ") + subject);
  o += "<h1>" + word(l, "整改台账：", "Rectification file: ") + e(subject) + "</h1>\n";
  o += "<p>" + word(l, "截至 ", "As of ") + e(asof) + "</p>\n";
  o += "<table>\n<tr><th>" + word(l, "事项", "Item") + "</th><th>" + word(l, "状态", "Status") +
       "</th><th>" + word(l, "整改措施", "Action") + "</th><th>" + word(l, "整改期限", "Due") +
       "</th><th>" + word(l, "责任人", "Responsible") + "</th><th>" +
       word(l, "发现 / 销号", "Opened / closed") + "</th><th>" + word(l, "历次检查", "Rounds") +
       "</th></tr>\n";
  for (const auto& f : findings) {
    o += "<tr><td><b>" + e(f.item) + "</b> " + e(f.title);
    if (!f.cite.empty()) o += "<br><small>" + e(f.cite) + "</small>";
    o += "</td><td class=\"nw\">" + e(status_label(l, f.status));
    if (f.rebound) o += word(l, "（反弹）", " (rebound)");
    o += "</td><td class=\"nw\">" + e(f.action.empty() ? "" : action_label(l, f.action)) +
         "</td><td class=\"nw\">" + e(f.closed ? "" : f.due.value_or("")) + "</td><td>" +
         e(f.responsible.value_or("")) + "</td><td class=\"nw\">" + e(f.opened) + " / " +
         e(f.closed.value_or("—")) + "</td><td class=\"nw\">";
    for (const auto& h : f.history) o += e(h.round) + " " + e(status_label(l, h.status)) + "<br>";
    o += "</td></tr>\n";
  }
  o += "</table>\n";
  if (findings.empty()) o += "<p>" + word(l, "无整改事项。", "No findings.") + "</p>\n";
  o += "<p><a href=\"index.html\">" + word(l, "返回台账总览", "Back to the status page") +
       "</a></p>\n</body>\n</html>\n";
  return o;
}

struct status_page_writer::state {
  std::string by, asof;
  lang l;
  std::map<std::string, finding_counts> per_group;
  finding_counts total;
  // The rows of the findings not closed, overdue ones first on the page: each row behind its
  // length (4 bytes, little-endian), so that write() can give the first k.
  spill overdue, open;
  std::string row;
  std::uint64_t max_rows = 0;  // 0: every one
  std::string full_list;
  std::uint64_t not_closed = 0;
};

status_page_writer::status_page_writer(std::string by, std::string asof, lang language)
    : s_(std::make_unique<state>()) {
  s_->by = std::move(by);
  s_->asof = std::move(asof);
  s_->l = language;
}
status_page_writer::status_page_writer(status_page_writer&&) noexcept = default;
status_page_writer::~status_page_writer() = default;

void status_page_writer::limit_rows(std::uint64_t max_rows, std::string full_list) {
  s_->max_rows = max_rows;
  s_->full_list = std::move(full_list);
}

void status_page_writer::add(const finding& f, const std::string* file, const std::string* group) {
  state& st = *s_;
  const lang l = st.l;
  st.total.add(f);
  if (!st.by.empty()) st.per_group[group ? *group : word(l, "（未知）", "(unknown)")].add(f);
  if (f.status == "closed") return;
  ++st.not_closed;
  // Each list keeps at most max_rows: the page shows the overdue ones, then the others, up to
  // max_rows in all.
  spill& rows = f.status == "overdue" ? st.overdue : st.open;
  if (st.max_rows && rows.count() >= st.max_rows) return;
  std::string& o = st.row;
  o.assign(4, '\0');
  o += "<tr><td>";
  if (file)
    o += "<a href=\"" + e(*file) + "\">" + e(f.subject) + "</a>";
  else
    o += e(f.subject);
  o += "</td><td>" + e(f.item) + " " + e(f.title) + "</td><td class=\"nw\">" +
       e(status_label(l, f.status)) + (f.rebound ? word(l, "（反弹）", " (rebound)") : "") +
       "</td><td class=\"nw\">" + e(f.action.empty() ? "" : action_label(l, f.action)) +
       "</td><td class=\"nw\">" + e(f.due.value_or("")) + "</td><td>" +
       e(f.responsible.value_or("")) + "</td></tr>\n";
  packing::set_u32(o, 0, static_cast<std::uint32_t>(o.size() - 4));
  rows.write(o);
}

void status_page_writer::write(const std::function<void(std::string_view)>& piece) {
  state& st = *s_;
  const lang l = st.l;
  const bool grouped = !st.by.empty();
  std::string o = head(l, word(l, "整改台账总览", "Rectification status"));
  o += "<h1>" + word(l, "整改台账总览", "Rectification status") + "</h1>\n<p>" +
       word(l, "截至 ", "As of ") + e(st.asof) + "</p>\n";
  auto row = [&](const std::string& name, const finding_counts& c, bool strong) {
    const char* td = strong ? "<th>" : "<td>";
    const char* end = strong ? "</th>" : "</td>";
    return std::string("<tr>") + td + e(name) + end + td + std::to_string(c.open) + end + td +
           std::to_string(c.overdue) + end + td + std::to_string(c.closed) + end + td +
           std::to_string(c.rebound) + end + "</tr>\n";
  };
  o += "<table>\n<tr><th>" + (grouped ? e(st.by) : word(l, "范围", "Scope")) + "</th>";
  for (const char* s : {"open", "overdue", "closed"}) o += "<th>" + e(status_label(l, s)) + "</th>";
  o += "<th>" + word(l, "反弹", "rebound") + "</th></tr>\n";
  for (const auto& [g, c] : st.per_group) o += row(g, c, false);
  o += row(word(l, "合计", "Total"), st.total, grouped);
  o += "</table>\n";
  o += "<h2>" + word(l, "未销号事项（逾期在前）", "Findings not closed (overdue first)") +
       "</h2>\n<table>\n<tr><th>" + word(l, "机构", "Subject") + "</th><th>" +
       word(l, "事项", "Item") + "</th><th>" + word(l, "状态", "Status") + "</th><th>" +
       word(l, "整改措施", "Action") + "</th><th>" + word(l, "整改期限", "Due") + "</th><th>" +
       word(l, "责任人", "Responsible") + "</th></tr>\n";
  piece(o);
  std::uint64_t listed = 0;
  for (spill* rows : {&st.overdue, &st.open}) {
    rows->rewind();
    while ((st.max_rows == 0 || listed < st.max_rows) && rows->read_row(st.row)) {
      piece(std::string_view(st.row).substr(4));
      ++listed;
    }
  }
  o = "</table>\n";
  if (listed == 0) o += "<p>" + word(l, "全部已销号。", "Every finding is closed.") + "</p>\n";
  if (st.not_closed > listed) {
    const std::string more = std::to_string(st.not_closed - listed);
    const std::string link = "<a href=\"" + e(st.full_list) + "\">" + e(st.full_list) + "</a>";
    o += "<p>" +
         word(l,
              "以上列出前 " + std::to_string(listed) + " 项，另有 " + more +
                  " 项未列出；全部事项见 " + link + "。",
              "The first " + std::to_string(listed) + " are listed; " + more +
                  " more are not. Every finding is in " + link + ".") +
         "</p>\n";
  }
  o += "</body>\n</html>\n";
  piece(o);
}

std::string status_page(const std::vector<finding>& findings,
                        const std::map<std::string, std::string>& files,
                        const std::map<std::string, std::string>& groups, const std::string& by,
                        const std::string& asof, lang l) {
  status_page_writer w(by, asof, l);
  for (const auto& f : findings) {
    auto file = files.find(f.subject);
    auto group = groups.find(f.subject);
    w.add(f, file == files.end() ? nullptr : &file->second,
          group == groups.end() ? nullptr : &group->second);
  }
  std::string o;
  w.write([&](std::string_view piece) { o += piece; });
  return o;
}

}  // namespace carerules::ledger
