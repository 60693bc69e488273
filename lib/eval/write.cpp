// The fast report writer: a report's JSON written straight from the evaluation's state.
//
// Most of a report does not vary from one record to the next: the ruleset block, each
// hazard's id, title, category, severity, cite and rectification, the score and grade keys.
// `build_report_fragments` escapes those once, when the ruleset is compiled; the writer
// appends them and writes only what the record decided (statuses, evidence, totals, grade
// values, errors). The output is byte for byte what `report::to_json()` gives for the report
// `evaluator::make_report()` would build; tests/unit/eval/write_test.cpp holds the two
// against each other over every test record, and the facts fuzzer does on arbitrary input.
#include <string>

#include "eval/eval.hpp"
#include "util/date.hpp"
#include "util/decimal.hpp"

namespace carerules::detail {

using namespace std::string_view_literals;

namespace {

void put_string(std::string& out, std::string_view s) { append_json_string(out, s); }

void put_key(std::string& out, std::string_view k) {
  append_json_string(out, k);
  out += ':';
}

// A scaled decimal as the report writes it: an integer when it is whole.
void put_decimal(std::string& out, std::int64_t scaled_value) {
  if (scaled_value % decimal_scale == 0)
    out += std::to_string(scaled_value / decimal_scale);
  else
    out += format_decimal(scaled_value);
}

// A scalar fact value as evidence shows it (as scalar_json and json_value::to_json do).
void put_scalar(std::string& out, const value& v) {
  static const char* const colors[] = {"\"blue\"", "\"yellow\"", "\"orange\"", "\"red\""};
  switch (v.kind) {
    case vkind::boolean:
      out += v.i ? "true"sv : "false"sv;
      return;
    case vkind::integer:
      out += std::to_string(v.i);
      return;
    case vkind::number:
      out += format_decimal(v.i);
      return;
    case vkind::string:
      put_string(out, v.s());
      return;
    case vkind::date:
      out += '"';
      out += format_date(v.i);
      out += '"';
      return;
    case vkind::color:
      out += colors[v.i & 3];
      return;
    case vkind::none:
      out += "\"none\""sv;
      return;
    default:
      out += "null"sv;
      return;
  }
}

// ,"missing":[…] for what a declaration found missing.
void put_missing(std::string& out, const std::vector<std::string>& paths) {
  out += ",\"missing\":["sv;
  for (std::size_t i = 0; i < paths.size(); ++i) {
    if (i) out += ',';
    put_string(out, paths[i]);
  }
  out += ']';
}

}  // namespace

void build_report_fragments(program& p) {
  report_fragments& f = p.fragments;
  f = report_fragments{};
  std::string& a = f.after_subject;
  a += ',';
  put_key(a, "ruleset");
  a += '{';
  put_key(a, "name");
  put_string(a, p.info.name);
  a += ',';
  put_key(a, "title");
  put_string(a, p.info.title);
  a += ',';
  put_key(a, "version");
  put_string(a, p.info.version);
  if (p.info.source) {
    a += ',';
    put_key(a, "source");
    put_string(a, *p.info.source);
  }
  if (p.info.effective) {
    a += ',';
    put_key(a, "effective");
    put_string(a, *p.info.effective);
  }
  a += ',';
  put_key(a, "digest");
  put_string(a, p.info.digest);
  a += "},"sv;
  put_key(a, "engine");
  put_string(a, std::string("carerules ") + version_string);
  a += ',';
  put_key(a, "asof");

  for (const auto& hp : p.hazards) {
    report_fragments::hazard_frag h;
    h.head += '{';
    put_key(h.head, "id");
    put_string(h.head, hp.id);
    h.head += ',';
    put_key(h.head, "title");
    put_string(h.head, hp.title);
    h.head += ',';
    put_key(h.head, "category");
    put_string(h.head, hp.category);
    h.head += ',';
    put_key(h.head, "severity");
    put_string(h.head, hp.major ? "major" : "general");
    h.head += ',';
    put_key(h.head, "status");
    h.rectify += ',';
    put_key(h.rectify, "cite");
    if (hp.cite)
      put_string(h.rectify, *hp.cite);
    else
      h.rectify += "null"sv;
    h.rectify += ',';
    put_key(h.rectify, "rectify");
    h.rectify += '{';
    put_key(h.rectify, "action");
    put_string(h.rectify, hp.action);
    if (hp.within_days) {
      h.rectify += ',';
      put_key(h.rectify, "within_days");
      h.rectify += std::to_string(*hp.within_days);
    }
    if (hp.advice) {
      h.advice += ',';
      put_key(h.advice, "advice");
      put_string(h.advice, *hp.advice);
    }
    f.hazards.push_back(std::move(h));
    std::string id;
    put_string(id, hp.id);
    f.hazard_ids.push_back(std::move(id));
  }

  for (const auto& sp : p.scores) {
    report_fragments::score_frag s;
    put_key(s.head, sp.name);
    s.head += '{';
    put_key(s.head, "total");
    for (const auto& sec : sp.sections) {
      std::string k;
      put_key(k, sec.name);
      s.section_keys.push_back(std::move(k));
    }
    for (const auto& ip : sp.items) {
      std::string h = "{";
      put_key(h, "id");
      put_string(h, ip.id);
      h += ',';
      put_key(h, "section");
      if (ip.section >= 0)
        put_string(h, sp.sections[static_cast<std::size_t>(ip.section)].name);
      else
        h += "null"sv;
      h += ',';
      put_key(h, "kind");
      put_string(h, ip.deduct ? "deduct" : "item");
      h += ',';
      put_key(h, "points");
      s.item_heads.push_back(std::move(h));
    }
    f.scores.push_back(std::move(s));
  }

  for (const auto& gp : p.grades) {
    report_fragments::grade_frag g;
    put_key(g.head, gp.name);
    g.head += '{';
    put_key(g.head, "value");
    for (const auto& line : gp.lines) {
      std::string v, b;
      put_string(v, line.is_none ? std::string_view("none") : std::string_view(line.label_text));
      b += ',';
      put_key(b, "because");
      put_string(b, line.because);
      g.values.push_back(std::move(v));
      g.because.push_back(std::move(b));
    }
    f.grades.push_back(std::move(g));
    std::string name;
    put_key(name, gp.name);
    f.grade_names.push_back(std::move(name));
  }

  // An input outside any list reads at its dotted path (evaluator::path_of at depth 0).
  for (std::size_t in = 0; in < p.inputs.size(); ++in) {
    std::string path;
    std::vector<std::uint32_t> chain;
    for (std::uint32_t k = static_cast<std::uint32_t>(in); k != none_index && chain.size() < 16;
         k = p.inputs[k].parent)
      chain.push_back(k);
    for (std::size_t k = chain.size(); k-- > 0;) {
      if (!path.empty()) path += '.';
      path += p.inputs[chain[k]].rel_path;
    }
    std::string key;
    put_key(key, path);
    f.input_keys.push_back(std::move(key));
  }
}

void evaluator::write_json(std::string& o) const {
  const report_fragments& fr = p_.fragments;
  o += "{\"subject\":"sv;
  if (f_->subject)
    put_string(o, *f_->subject);
  else
    o += "null"sv;
  o += fr.after_subject;
  // The date and the hazards' due dates are the same for every record of a batch: written
  // out once for each date the evaluator meets.
  if (dates_for_ != asof_) {
    asof_text_ = format_date(asof_);
    due_text_.assign(p_.hazards.size(), std::string());
    for (std::size_t i = 0; i < p_.hazards.size(); ++i)
      if (const auto& within = p_.hazards[i].within_days) {
        const std::int64_t due = asof_ + *within;
        if (date_in_range(due)) due_text_[i] = ",\"due\":\"" + format_date(due) + '"';
      }
    dates_for_ = asof_;
  }
  o += '"';
  o += asof_text_;
  o += "\",\"hazards\":["sv;
  for (std::size_t i = 0; i < p_.hazards.size(); ++i) {
    const decl_state& st = hazards_[i];
    const auto& hf = fr.hazards[i];
    if (i) o += ',';
    o += hf.head;
    const bool undetermined = st.status == outcome::unknown;
    o += st.status == outcome::error ? "\"error\""sv
         : undetermined              ? "\"undetermined\""sv
         : st.v.i                    ? "\"present\""sv
                                     : "\"absent\""sv;
    o += hf.rectify;
    o += due_text_[i];
    o += '}';
    o += hf.advice;
    o += ",\"evidence\":{"sv;
    bool first = true;
    for (const auto& rd : st.tr.reads()) {
      if (!first) o += ',';
      first = false;
      if (rd.depth == 0) {
        o += fr.input_keys[rd.input];
      } else {
        path_text_.clear();
        append_path(rd, path_text_);
        put_key(o, path_text_);
      }
      if (rd.v.kind == vkind::list)
        o += to_json(rd.v).to_json();
      else
        put_scalar(o, rd.v);
    }
    o += '}';
    if (undetermined) put_missing(o, missing_of(st.tr));
    o += '}';
  }
  o += "],\"scores\":{"sv;
  for (std::size_t i = 0; i < p_.scores.size(); ++i) {
    const score_plan& sp = p_.scores[i];
    const score_state& ss = scores_[i];
    const auto& sf = fr.scores[i];
    if (i) o += ',';
    o += sf.head;
    put_decimal(o, ss.total);
    o += ss.provisional ? ",\"provisional\":true"sv : ",\"provisional\":false"sv;
    o += ",\"sections\":{"sv;
    for (std::size_t k = 0; k < sp.sections.size(); ++k) {
      if (k) o += ',';
      o += sf.section_keys[k];
      put_decimal(o, ss.sections[k]);
    }
    o += "},\"items\":["sv;
    for (std::size_t k = 0; k < sp.items.size(); ++k) {
      if (k) o += ',';
      o += sf.item_heads[k];
      put_decimal(o, ss.items[k].points);
      o += ",\"status\":\""sv;
      o += to_string(ss.items[k].status);
      o += "\"}"sv;
    }
    o += ']';
    if (ss.provisional) put_missing(o, missing_of(score_decls_[i].tr));
    o += '}';
  }
  o += "},\"grades\":{"sv;
  for (std::size_t i = 0; i < p_.grades.size(); ++i) {
    const decl_state& st = grades_[i];
    const auto& gf = fr.grades[i];
    if (i) o += ',';
    o += gf.head;
    if (st.status == outcome::error) {
      o += "\"error\""sv;
    } else if (st.status == outcome::unknown) {
      o += "\"undetermined\""sv;
      put_missing(o, missing_of(st.tr));
    } else if (st.matched_line < 0) {
      o += "\"none\""sv;
    } else {
      auto k = static_cast<std::size_t>(st.matched_line);
      o += gf.values[k];
      o += gf.because[k];
    }
    o += '}';
  }
  o += "},\"errors\":["sv;
  bool first = true;
  for (const auto& e : f_->errors) {
    if (!first) o += ',';
    first = false;
    o += "{\"path\":"sv;
    put_string(o, e.path);
    o += ",\"message\":"sv;
    put_string(o, e.message);
    o += '}';
  }
  for (const auto& e : eval_errors_) {
    if (!first) o += ',';
    first = false;
    o += "{\"rule\":"sv;
    put_string(o, e.rule);
    o += ",\"message\":"sv;
    put_string(o, e.message);
    o += '}';
  }
  o += "]}"sv;
}

void evaluator::write_decisions(std::string& o) const {
  const report_fragments& fr = p_.fragments;
  o += "{\"subject\":"sv;
  if (f_->subject)
    put_string(o, *f_->subject);
  else
    o += "null"sv;
  o += ",\"present\":["sv;
  const bool read = !f_->unreadable;
  bool first = true;
  if (read)
    for (std::size_t i = 0; i < p_.hazards.size(); ++i) {
      const decl_state& st = hazards_[i];
      if (st.status != outcome::known || !st.v.i) continue;
      if (!first) o += ',';
      first = false;
      o += fr.hazard_ids[i];
    }
  o += "],\"undetermined\":["sv;
  first = true;
  if (read)
    for (std::size_t i = 0; i < p_.hazards.size(); ++i) {
      if (hazards_[i].status != outcome::unknown) continue;
      if (!first) o += ',';
      first = false;
      o += fr.hazard_ids[i];
    }
  o += "],\"grades\":{"sv;
  if (read)
    for (std::size_t i = 0; i < p_.grades.size(); ++i) {
      const decl_state& st = grades_[i];
      if (i) o += ',';
      o += fr.grade_names[i];
      if (st.status == outcome::error)
        o += "\"error\""sv;
      else if (st.status == outcome::unknown)
        o += "\"undetermined\""sv;
      else if (st.matched_line < 0)
        o += "\"none\""sv;
      else
        o += fr.grades[i].values[static_cast<std::size_t>(st.matched_line)];
    }
  o += "},\"errors\":"sv;
  o += std::to_string(error_count());
  o += '}';
}

void evaluator::write_csv_row(std::string& o) const {
  // The cells of ruleset::columns(), as report_cell gives them (batch.cpp): an unreadable
  // record has its subject and error count only.
  append_csv_field(o, f_->subject ? std::string_view(*f_->subject) : std::string_view());
  const bool read = !f_->unreadable;
  for (std::size_t i = 0; i < p_.hazards.size(); ++i) {
    o += ',';
    if (!read) continue;
    const decl_state& st = hazards_[i];
    o += to_string(status_of(st));
  }
  for (std::size_t i = 0; i < p_.scores.size(); ++i) {
    o += ',';
    if (read) put_decimal(o, scores_[i].total);
    for (std::size_t k = 0; k < p_.scores[i].sections.size(); ++k) {
      o += ',';
      if (read) put_decimal(o, scores_[i].sections[k]);
    }
  }
  for (std::size_t i = 0; i < p_.grades.size(); ++i) {
    o += ',';
    if (!read) continue;
    const decl_state& st = grades_[i];
    if (st.status == outcome::error) {
      o += "error"sv;
    } else if (st.status == outcome::unknown) {
      o += "undetermined"sv;
    } else if (st.matched_line < 0) {
      o += "none"sv;
    } else {
      const auto& line = p_.grades[i].lines[static_cast<std::size_t>(st.matched_line)];
      append_csv_field(o,
                       line.is_none ? std::string_view("none") : std::string_view(line.label_text));
    }
  }
  o += ',';
  o += std::to_string(error_count());
}

}  // namespace carerules::detail

namespace carerules {

namespace {

// A number as this project writes one: digits, perhaps a fraction, perhaps an exponent
// (`1e-7`, `1.5e20`, for numbers past the decimal range); the sign is checked by the caller.
bool plain_number(std::string_view s) {
  const auto digits = [](std::string_view d) {
    return !d.empty() && d.find_first_not_of("0123456789") == std::string_view::npos;
  };
  const std::size_t e = s.find('e');
  if (e != std::string_view::npos) {
    std::string_view exponent = s.substr(e + 1);
    if (!exponent.empty() && exponent.front() == '-') exponent.remove_prefix(1);
    if (!digits(exponent)) return false;
    s = s.substr(0, e);
  }
  const std::size_t dot = s.find('.');
  if (dot == std::string_view::npos) return digits(s);
  return digits(s.substr(0, dot)) && digits(s.substr(dot + 1));
}

// Text a spreadsheet would run as a formula when the file is opened: it starts with `=`, `+`,
// `-`, `@`, a tab or a CR. A negative number is not guarded.
bool formula_like(std::string_view s) {
  if (s.empty()) return false;
  switch (s.front()) {
    case '-':
      return !plain_number(s.substr(1));
    case '=':
    case '+':
    case '@':
    case '\t':
    case '\r':
      return true;
    default:
      return false;
  }
}

}  // namespace

void append_csv_field(std::string& out, std::string_view s) {
  const bool guard = formula_like(s);
  if (!guard && s.find_first_of(",\"\r\n") == std::string_view::npos) {
    out += s;
    return;
  }
  // Quoted; a formula-like text behind an apostrophe, which spreadsheets read as "this is text"
  // (a subject `=HYPERLINK(...)` from the facts must not become a live link in a bureau's copy).
  out += '"';
  if (guard) out += '\'';
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
}

}  // namespace carerules
