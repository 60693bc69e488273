// The page of one report: what a director reads and signs.
#include <algorithm>
#include <map>

#include "carerules/html.hpp"
#include "html/style.hpp"

namespace carerules {

namespace {

using detail::badge_class;

std::string esc(std::string_view s) { return html_escape(s); }

std::string json_text(const json_value& v) {
  return v.type == json_value::kind::string ? v.s : v.to_json();
}

// "residents[3].ability" -> "residents[].ability": the declared input of a missing path.
std::string declared_path(std::string_view path) {
  std::string out;
  for (std::size_t i = 0; i < path.size(); ++i) {
    out += path[i];
    if (path[i] == '[') {
      std::size_t close = path.find(']', i);
      if (close == std::string_view::npos) break;
      out += ']';
      i = close;
    }
  }
  return out;
}

class page_builder {
 public:
  page_builder(const ruleset& rs, const report& r, const page_options& o)
      : rs_(rs), r_(r), l_(o.language), o_(o) {
    for (const auto& in : rs.inputs())
      if (in.label) labels_.emplace(in.path, *in.label);
  }

  std::string t(std::string_view key) const { return esc(text(l_, key)); }

  std::string missing_item(const std::string& path) const {
    auto it = labels_.find(declared_path(path));
    std::string o = "<li>";
    if (it != labels_.end()) o += esc(it->second) + " ";
    o += "<code>" + esc(path) + "</code></li>";
    return o;
  }

  std::string missing_list(const std::vector<std::string>& paths) const {
    std::string o = "<ul class=\"missing\">";
    for (const auto& p : paths) o += missing_item(p);
    return o + "</ul>";
  }

  std::string head(std::string_view title) const {
    std::string o = "<!DOCTYPE html>\n<html lang=\"";
    o += l_ == lang::zh ? "zh-CN" : "en";
    o += "\">\n<head>\n<meta charset=\"utf-8\">\n";
    o += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
    o += "<title>" + esc(title) + "</title>\n<style>";
    o += detail::html_css;
    o += "</style>\n</head>\n<body>\n";
    return o;
  }

  std::string build(std::string_view facts_json) const {
    const std::string subject = r_.subject ? *r_.subject : std::string(text(l_, "no_subject"));
    std::string title = subject;
    if (o_.name) title = *o_.name + " (" + subject + ")";
    std::string o = head(title + " - " + std::string(text(l_, "report_title")));
    if (!o_.index_href.empty())
      o += "<p class=\"noprint\"><a href=\"" + esc(o_.index_href) + "\">" + t("back_to_index") +
           "</a></p>\n";
    o += "<h1>" + t("report_title") + "</h1>\n";
    o += "<p class=\"sub\"><strong>" + (o_.name ? esc(*o_.name) : esc(subject)) + "</strong>";
    if (o_.name) o += " <span class=\"none\">" + t("subject") + ": " + esc(subject) + "</span>";
    o += "</p>\n";
    o += meta();
    o += grades_section();
    o += hazards_section();
    o += scores_section();
    o += reasoning_section(facts_json);
    o += errors_section();
    o += "<div class=\"sign\"><div>" + t("assessor_sign") + "</div><div>" + t("director_sign") +
         "</div><div>" + t("date") + "</div></div>\n";
    o += "<footer>" + esc(r_.engine) + " · " + t("asof") + " " + esc(r_.asof) + "</footer>\n";
    o += "</body>\n</html>\n";
    return o;
  }

 private:
  std::string meta() const {
    const ruleset_info& info = r_.ruleset;
    std::string o = "<table class=\"meta\">\n";
    auto row = [&](std::string_view key, const std::string& value_html) {
      o += "<tr><th>" + t(key) + "</th><td>" + value_html + "</td></tr>\n";
    };
    row("subject", esc(r_.subject ? *r_.subject : std::string(text(l_, "no_subject"))));
    if (o_.name) row("name", esc(*o_.name));
    row("asof", esc(r_.asof));
    row("ruleset",
        esc(info.title.empty() ? info.name : info.title) + " <code>" + esc(info.name) + "</code>");
    row("version", esc(info.version));
    if (info.effective) row("effective", esc(*info.effective));
    row("digest", "<code>" + esc(info.digest) + "</code>");
    const auto& files = rs_.files();
    if (files.size() > 1) {
      std::string list = "<ul>";
      for (std::size_t i = 1; i < files.size(); ++i)
        list += "<li><code>" + esc(files[i].name) + "</code> " + t("version") + " " +
                esc(files[i].version) + " <span class=\"none\">(" + esc(files[i].file) +
                ")</span></li>";
      row("imported_files", list + "</ul>");
    }
    o += "</table>\n";
    return o;
  }

  std::string grades_section() const {
    std::string o = "<h2>" + t("grades") + "</h2>\n";
    if (r_.grades.empty()) return o + "<p class=\"none\">" + t("nothing") + "</p>\n";
    o += "<div class=\"badges\">\n";
    for (const auto& g : r_.grades) {
      const std::string value(g.value());
      o += "<span class=\"badge " + badge_class(value) + "\" data-grade=\"" + esc(g.name) +
           "\"><span class=\"k\">" + esc(g.name) + "</span>" + esc(grade_value_label(l_, value)) +
           "</span>\n";
    }
    return o + "</div>\n";
  }

  std::string hazard_row(const hazard_result& h) const {
    std::string o = "<tr><td><strong>" + esc(h.id) + "</strong></td><td>" + esc(h.title);
    if (h.advice)
      o += "<br><span class=\"none\">" + t("advice") + ": " + esc(*h.advice) + "</span>";
    o += "</td><td>" + esc(category_label(l_, h.category)) + "</td><td>" +
         esc(label(l_, h.severity)) + "</td><td>" + esc(h.cite.value_or("")) + "</td><td>" +
         esc(action_label(l_, h.rectify.action));
    if (h.rectify.within_days)
      o += "<br><span class=\"none\">" + t("within") + " " +
           std::to_string(*h.rectify.within_days) + " " + t("days") + "</span>";
    o += "</td><td>" + esc(h.rectify.due.value_or("")) + "</td></tr>\n";
    if (!h.evidence.empty()) {
      o += "<tr><td></td><td colspan=\"6\"><span class=\"none\">" + t("evidence") + ":</span> ";
      bool first = true;
      for (const auto& [path, v] : h.evidence) {
        if (!first) o += "; ";
        first = false;
        o += "<code>" + esc(path) + "</code> = " + esc(json_text(v));
      }
      o += "</td></tr>\n";
    }
    return o;
  }

  std::string hazards_section() const {
    std::string o;
    std::vector<const hazard_result*> present, undetermined, errored, absent;
    for (const auto& h : r_.hazards) {
      switch (h.status) {
        case hazard_status::present:
          present.push_back(&h);
          break;
        case hazard_status::undetermined:
          undetermined.push_back(&h);
          break;
        case hazard_status::error:
          errored.push_back(&h);
          break;
        case hazard_status::absent:
          absent.push_back(&h);
          break;
      }
    }
    o += "<h2>" + t("present_hazards") + " <span class=\"st-present\">(" +
         std::to_string(present.size()) + ")</span></h2>\n";
    if (present.empty()) {
      o += "<p class=\"none\">" + t("no_present_hazards") + "</p>\n";
    } else {
      o += "<table class=\"hazards present\"><tr><th>" + t("item") + "</th><th>" + t("hazard") +
           "</th><th>" + t("category") + "</th><th>" + t("severity") + "</th><th>" + t("clause") +
           "</th><th>" + t("action") + "</th><th>" + t("due") + "</th></tr>\n";
      for (const auto* h : present) o += hazard_row(*h);
      o += "</table>\n";
    }
    if (!undetermined.empty()) {
      o += "<h2>" + t("undetermined_hazards") + " <span class=\"st-undetermined\">(" +
           std::to_string(undetermined.size()) + ")</span></h2>\n";
      o += "<table class=\"hazards undetermined\"><tr><th>" + t("item") + "</th><th>" +
           t("hazard") + "</th><th>" + t("clause") + "</th><th>" + t("missing_facts") +
           "</th></tr>\n";
      for (const auto* h : undetermined)
        o += "<tr><td><strong>" + esc(h->id) + "</strong></td><td>" + esc(h->title) + "</td><td>" +
             esc(h->cite.value_or("")) + "</td><td>" + missing_list(h->missing) + "</td></tr>\n";
      o += "</table>\n";
    }
    if (!errored.empty()) {
      o += "<h2>" + t("error_hazards") + "</h2>\n<ul class=\"errors\">";
      for (const auto* h : errored)
        o += "<li><strong>" + esc(h->id) + "</strong> " + esc(h->title) + "</li>";
      o += "</ul>\n";
    }
    if (!absent.empty()) {
      o += "<h2>" + t("absent_hazards") + " (" + std::to_string(absent.size()) + ")</h2>\n<ul>";
      for (const auto* h : absent)
        o += "<li><strong>" + esc(h->id) + "</strong> " + esc(h->title) + " — " +
             esc(label(l_, h->status)) + "</li>";
      o += "</ul>\n";
    }
    return o;
  }

  std::string scores_section() const {
    if (r_.scores.empty()) return "";
    std::string o = "<h2>" + t("scores") + "</h2>\n";
    for (const auto& s : r_.scores) {
      o += "<h3>" + esc(s.name) + ": " +
           (s.total.type == json_value::kind::null ? t("unknown") : esc(json_text(s.total)));
      if (s.provisional) o += " <span class=\"st-undetermined\">(" + t("provisional") + ")</span>";
      o += "</h3>\n";
      if (!s.sections.empty()) {
        o += "<table class=\"sections\"><tr><th>" + t("section") + "</th><th class=\"n\">" +
             t("points") + "</th></tr>\n";
        for (const auto& [name, v] : s.sections)
          o += "<tr><td>" + esc(name) + "</td><td class=\"n\">" +
               (v.type == json_value::kind::null ? t("unknown") : esc(json_text(v))) +
               "</td></tr>\n";
        o += "</table>\n";
      }
      if (!s.missing.empty())
        o += "<p>" + t("missing_facts") + ":</p>" + missing_list(s.missing) + "\n";
    }
    return o;
  }

  std::string reasoning_section(std::string_view facts_json) const {
    if (r_.grades.empty()) return "";
    std::string o = "<h2>" + t("reasoning") + "</h2>\n";
    for (const auto& g : r_.grades) {
      const std::string value(g.value());
      // The summary line holds the deciding line, so that a printed page (details closed)
      // still says why; the full trace opens on screen.
      o += "<details><summary>" + esc(g.name) + ": " + esc(grade_value_label(l_, value));
      if (g.because) o += " — " + t("because") + ": <code>" + esc(*g.because) + "</code>";
      o += "</summary>\n";
      if (!g.missing.empty())
        o += "<p>" + t("missing_facts") + ":</p>" + missing_list(g.missing) + "\n";
      if (!facts_json.empty() && !r_.unreadable) {
        eval_options eo;
        eo.asof = r_.asof;
        std::optional<std::string> text;
        try {
          text = rs_.explain(facts_json, g.name, eo);
        } catch (const std::exception&) {
          text.reset();
        }
        if (text) o += "<pre>" + esc(*text) + "</pre>\n";
      }
      o += "</details>\n";
    }
    return o;
  }

  std::string errors_section() const {
    std::string o = "<h2>" + t("errors") + "</h2>\n";
    if (r_.errors.empty()) return o + "<p class=\"none\">" + t("no_errors") + "</p>\n";
    o += "<ul class=\"errors\">";
    for (const auto& e : r_.errors) {
      o += "<li>";
      if (e.rule) o += "<strong>" + esc(*e.rule) + "</strong> ";
      // "" points at the whole record (JSON Pointer); "/" would be a member named "".
      if (e.path && !e.path->empty()) o += "<code>" + esc(*e.path) + "</code> ";
      o += esc(e.message) + "</li>";
    }
    return o + "</ul>\n";
  }

  const ruleset& rs_;
  const report& r_;
  lang l_;
  const page_options& o_;
  std::map<std::string, std::string> labels_;
};

}  // namespace

std::string html_page(const ruleset& rs, const report& r, std::string_view facts_json,
                      const page_options& options) {
  return page_builder(rs, r, options).build(facts_json);
}

}  // namespace carerules
