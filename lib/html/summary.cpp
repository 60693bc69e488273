// Counts of a batch per group (`--by PATH`), escaping for HTML, facts by path, page names.
#include <algorithm>
#include <boost/json.hpp>
#include <boost/json/basic_parser_impl.hpp>

#include "carerules/html.hpp"
#include "util/decimal.hpp"
#include "util/json_sax.hpp"

namespace carerules {

std::string html_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size() + s.size() / 8);
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    // U+0080..U+009F (C1 control characters) are C2 80..C2 9F in UTF-8.
    if (c == '\xC2' && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) >= 0x80 &&
        static_cast<unsigned char>(s[i + 1]) <= 0x9F) {
      out += "\xEF\xBF\xBD";
      ++i;
      continue;
    }
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        if ((static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n') || c == 0x7f)
          out += "\xEF\xBF\xBD";
        else
          out += c;
    }
  }
  return out;
}

namespace {

// Finds the value at a dotted path in one pass over the JSON, without building it: what it
// needs of a number is its text, which a parsed document no longer has. A key given twice:
// the last one counts, as in a parsed document (null, an object or a list there: nothing).
class value_at : public detail::sax_sizes_unbounded {
 public:
  explicit value_at(std::string_view path) {
    for (std::size_t start = 0;;) {
      const std::size_t dot = path.find('.', start);
      path_.push_back(path.substr(start, dot == std::string_view::npos ? dot : dot - start));
      if (dot == std::string_view::npos) break;
      start = dot + 1;
    }
  }

  std::optional<std::string> found;
  bool object = false;  // the document is an object

  bool on_document_begin(boost::json::error_code&) { return true; }
  bool on_document_end(boost::json::error_code&) { return true; }
  bool on_object_begin(boost::json::error_code&) { return open(false); }
  bool on_object_end(std::size_t, boost::json::error_code&) { return close(); }
  bool on_array_begin(boost::json::error_code&) { return open(true); }
  bool on_array_end(std::size_t, boost::json::error_code&) { return close(); }
  bool on_key_part(boost::json::string_view s, std::size_t, boost::json::error_code&) {
    part_.append(s.data(), s.size());
    return true;
  }
  bool on_key(boost::json::string_view s, std::size_t, boost::json::error_code&) {
    const std::size_t level = on_path_.size();  // the object's level, from 1
    std::string_view key(s.data(), s.size());
    if (!part_.empty()) key = part_.append(key);
    on_path_.back() =
        level <= path_.size() && (level == 1 || on_path_[level - 2]) && key == path_[level - 1];
    // A key on the path given again replaces all that was found under it before.
    if (on_path_.back()) found.reset();
    part_.clear();
    return true;
  }
  bool on_string_part(boost::json::string_view s, std::size_t, boost::json::error_code&) {
    if (here()) part_.append(s.data(), s.size());
    return true;
  }
  bool on_string(boost::json::string_view s, std::size_t, boost::json::error_code&) {
    if (here()) found = part_.append(s.data(), s.size());
    part_.clear();
    return true;
  }
  bool on_number_part(boost::json::string_view s, boost::json::error_code&) {
    if (here()) part_.append(s.data(), s.size());
    return true;
  }
  bool on_int64(std::int64_t, boost::json::string_view s, boost::json::error_code&) {
    return number(s);
  }
  bool on_uint64(std::uint64_t, boost::json::string_view s, boost::json::error_code&) {
    return number(s);
  }
  bool on_double(double, boost::json::string_view s, boost::json::error_code&) { return number(s); }
  bool on_bool(bool b, boost::json::error_code&) {
    if (here()) found = b ? "true" : "false";
    return true;
  }
  bool on_null(boost::json::error_code&) { return true; }
  bool on_comment_part(boost::json::string_view, boost::json::error_code&) { return true; }
  bool on_comment(boost::json::string_view, boost::json::error_code&) { return true; }

 private:
  // The value now beginning is the one at the path.
  bool here() const { return on_path_.size() == path_.size() && on_path_.back(); }
  bool open(bool array) {
    if (on_path_.empty()) object = !array;
    on_path_.push_back(false);  // no key yet (an array's elements are never on the path)
    return true;
  }
  bool close() {
    on_path_.pop_back();
    return true;
  }
  bool number(boost::json::string_view s) {
    if (here()) found = detail::number_text(part_.append(s.data(), s.size()));
    part_.clear();
    return true;
  }

  std::vector<std::string_view> path_;
  // Per open object or array: its current key is the path's segment at that level, and so are
  // all the keys leading to it.
  std::vector<bool> on_path_;
  std::string part_;  // a key, string or number given in parts
};

}  // namespace

std::optional<std::string> fact_at(std::string_view facts_json, std::string_view path) {
  boost::json::parse_options po;
  po.max_depth = 512;
  boost::json::basic_parser<value_at> p(po, path);
  boost::system::error_code ec;
  const std::size_t n = p.write_some(false, facts_json.data(), facts_json.size(), ec);
  if (ec || !p.handler().object) return std::nullopt;
  for (char c : facts_json.substr(n))  // nothing but blanks may follow the record
    if (c != ' ' && c != '\t' && c != '\r' && c != '\n') return std::nullopt;
  return std::move(p.handler().found);
}

namespace {

std::uint32_t fnv1a(std::string_view s) {
  std::uint32_t h = 2166136261u;
  for (char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 16777619u;
  }
  return h;
}

// Length of the valid UTF-8 sequence at s[i] (2–4 bytes, non-ASCII), 0 when invalid.
std::size_t utf8_sequence(std::string_view s, std::size_t i) {
  const auto b = static_cast<unsigned char>(s[i]);
  std::size_t n = b >= 0xF0 && b <= 0xF4 ? 4 : b >= 0xE0 ? 3 : b >= 0xC2 && b < 0xE0 ? 2 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  for (std::size_t k = 1; k < n; ++k)
    if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return 0;
  return n;
}

bool reserved_stem(std::string_view stem) {
  std::string up;
  for (char c : stem) up += static_cast<char>(c >= 'a' && c <= 'z' ? c - 32 : c);
  if (up == "INDEX" || up == "CON" || up == "PRN" || up == "AUX" || up == "NUL") return true;
  return up.size() == 4 && (up.rfind("COM", 0) == 0 || up.rfind("LPT", 0) == 0) && up[3] >= '1' &&
         up[3] <= '9';
}

}  // namespace

std::string page_file_stem(const std::optional<std::string>& subject, std::uint64_t position) {
  if (!subject) return "record-" + std::to_string(position);
  const std::string& s = *subject;
  std::string out;
  bool changed = false;
  constexpr std::size_t max_bytes = 80;
  for (std::size_t i = 0; i < s.size();) {
    const char c = s[i];
    std::size_t n = 1;
    std::string piece;
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '_' || (c == '.' && !out.empty())) {
      piece = std::string(1, c);
    } else if (static_cast<unsigned char>(c) >= 0x80 && (n = utf8_sequence(s, i)) != 0) {
      piece = s.substr(i, n);
    } else {
      n = 1;
      piece = "_";
      changed = true;
    }
    if (out.size() + piece.size() > max_bytes) {
      changed = true;
      break;
    }
    out += piece;
    i += n;
  }
  if (out.empty() || reserved_stem(out)) changed = true;
  if (changed) {
    static constexpr char hex[] = "0123456789abcdef";
    std::uint32_t h = fnv1a(s);
    out += '-';
    for (int k = 7; k >= 0; --k) out += hex[(h >> (4 * k)) & 0xF];
  }
  return out;
}

// ---- group_summary ---------------------------------------------------------------------------

group_summary::group_summary(const ruleset& rs) : grades_(rs.grades()), hazards_(rs.hazards()) {
  for (const auto& g : grades_) {
    std::vector<std::string> v(g.values.rbegin(), g.values.rend());
    for (const char* other : {"none", "undetermined", "error"}) v.emplace_back(other);
    values_.push_back(std::move(v));
  }
  total_ = make_counts();
}

group_summary::counts group_summary::make_counts() const {
  counts c;
  for (const auto& v : values_) c.grades.emplace_back(v.size(), 0);
  c.hazards.resize(hazards_.size(), {0, 0, 0, 0});
  return c;
}

namespace {
std::size_t status_index(hazard_status s) {
  switch (s) {
    case hazard_status::present:
      return 0;
    case hazard_status::absent:
      return 1;
    case hazard_status::undetermined:
      return 2;
    case hazard_status::error:
      return 3;
  }
  return 3;
}
}  // namespace

void group_summary::count(counts& c, const report& r) const {
  ++c.reports;
  if (!r.errors.empty()) ++c.with_errors;
  if (r.unreadable) return;
  bool present = false;
  for (std::size_t i = 0; i < r.hazards.size() && i < c.hazards.size(); ++i) {
    ++c.hazards[i][status_index(r.hazards[i].status)];
    present = present || r.hazards[i].status == hazard_status::present;
  }
  if (present) ++c.with_present;
  for (std::size_t i = 0; i < r.grades.size() && i < values_.size(); ++i) {
    const auto& vals = values_[i];
    auto it = std::find(vals.begin(), vals.end(), r.grades[i].value());
    if (it != vals.end()) ++c.grades[i][static_cast<std::size_t>(it - vals.begin())];
  }
}

void group_summary::add_record(const std::optional<std::string>& group) {
  ++total_.records;
  if (group) {
    auto it = groups_.find(*group);
    if (it == groups_.end()) it = groups_.emplace(*group, make_counts()).first;
    ++it->second.records;
  } else {
    if (!ungrouped_) ungrouped_ = make_counts();
    ++ungrouped_->records;
  }
}

void group_summary::add(const report& r, const std::optional<std::string>& group) {
  count(total_, r);
  if (group) {
    auto it = groups_.find(*group);
    if (it == groups_.end()) it = groups_.emplace(*group, make_counts()).first;
    count(it->second, r);
  } else {
    if (!ungrouped_) ungrouped_ = make_counts();
    count(*ungrouped_, r);
  }
}

std::vector<std::pair<std::optional<std::string>, const group_summary::counts*>>
group_summary::groups() const {
  std::vector<std::pair<std::optional<std::string>, const counts*>> out;
  for (const auto& [k, c] : groups_) out.emplace_back(k, &c);
  if (ungrouped_) out.emplace_back(std::nullopt, &*ungrouped_);
  return out;
}

namespace {
constexpr const char* status_names[] = {"present", "absent", "undetermined", "error"};
}

std::string group_summary::to_json(const std::optional<std::string>& by) const {
  auto counts_json = [&](std::string& o, const counts& c) {
    o += "\"records\":" + std::to_string(c.records) + ",\"reports\":" + std::to_string(c.reports) +
         ",\"with_errors\":" + std::to_string(c.with_errors) +
         ",\"with_present_hazard\":" + std::to_string(c.with_present) + ",\"grades\":{";
    for (std::size_t g = 0; g < grades_.size(); ++g) {
      if (g) o += ',';
      append_json_string(o, grades_[g].name);
      o += ":{";
      for (std::size_t v = 0; v < values_[g].size(); ++v) {
        if (v) o += ',';
        append_json_string(o, values_[g][v]);
        o += ':' + std::to_string(c.grades[g][v]);
      }
      o += '}';
    }
    o += "},\"hazards\":{";
    for (std::size_t h = 0; h < hazards_.size(); ++h) {
      if (h) o += ',';
      append_json_string(o, hazards_[h].id);
      o += ":{";
      for (std::size_t k = 0; k < 4; ++k) {
        if (k) o += ',';
        o += std::string("\"") + status_names[k] + "\":" + std::to_string(c.hazards[h][k]);
      }
      o += '}';
    }
    o += '}';
  };
  std::string o = "{\"by\":";
  if (by)
    append_json_string(o, *by);
  else
    o += "null";
  o += ",\"groups\":[";
  bool first = true;
  for (const auto& [name, c] : groups()) {
    if (!first) o += ',';
    first = false;
    o += "{\"group\":";
    if (name)
      append_json_string(o, *name);
    else
      o += "null";
    o += ',';
    counts_json(o, *c);
    o += '}';
  }
  o += "],\"total\":{";
  counts_json(o, total_);
  o += "}}";
  return o;
}

std::vector<std::vector<std::string>> group_summary::rows(std::optional<lang> language) const {
  std::vector<std::vector<std::string>> out;
  std::vector<std::string> header;
  const lang l = language.value_or(lang::en);
  auto word = [&](std::string_view key, std::string_view code) {
    return language ? std::string(text(l, key)) : std::string(code);
  };
  header.push_back(word("group", "group"));
  header.push_back(word("records", "records"));
  header.push_back(word("reports", "reports"));
  header.push_back(word("with_errors", "with_errors"));
  header.push_back(word("with_present_hazard", "with_present_hazard"));
  for (std::size_t g = 0; g < grades_.size(); ++g)
    for (const auto& v : values_[g])
      header.push_back(language ? grades_[g].name + ": " + grade_value_label(l, v)
                                : "grade." + grades_[g].name + "." + v);
  static constexpr hazard_status statuses[] = {hazard_status::present, hazard_status::absent,
                                               hazard_status::undetermined, hazard_status::error};
  for (const auto& h : hazards_)
    for (std::size_t k = 0; k < 4; ++k)
      header.push_back(language ? h.id + ": " + std::string(label(l, statuses[k]))
                                : "hazard." + h.id + "." + status_names[k]);
  out.push_back(std::move(header));
  auto row = [&](std::string first, const counts& c) {
    std::vector<std::string> r{std::move(first), std::to_string(c.records),
                               std::to_string(c.reports), std::to_string(c.with_errors),
                               std::to_string(c.with_present)};
    for (const auto& g : c.grades)
      for (auto n : g) r.push_back(std::to_string(n));
    for (const auto& h : c.hazards)
      for (auto n : h) r.push_back(std::to_string(n));
    return r;
  };
  for (const auto& [name, c] : groups())
    out.push_back(row(name ? *name : word("no_group", ""), *c));
  out.push_back(row(word("total", "total"), total_));
  return out;
}

}  // namespace carerules
