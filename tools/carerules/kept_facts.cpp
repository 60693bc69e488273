// What the ledger keeps of a record's facts (kept_facts.hpp).
#include "kept_facts.hpp"

#include <boost/json.hpp>
#include <boost/json/basic_parser_impl.hpp>

#include "carerules/batch.hpp"
#include "carerules/report.hpp"
#include "util/decimal.hpp"
#include "util/json_sax.hpp"

namespace carerules::cli {

void facts_keeper::reset() {
  text_.clear();
  responsible_.reset();
  object_ = false;
  keys_.clear();
  first_.clear();
  skip_ = 0;
  pending_ = false;
}

kept facts_keeper::result() const {
  kept k;
  if (!object_) return k;
  k.facts = text_;
  if (responsible_) k.responsible = *responsible_;
  return k;
}

// A value outside any list starts: writes its key (a top-level scalar is not kept).
bool facts_keeper::value_begins() {
  if (keys_.empty()) return first_.empty() && !object_ && text_.empty();  // the document itself
  if (!pending_) return false;
  pending_ = false;
  if (!first_.back()) text_ += ',';
  first_.back() = false;
  append_json_string(text_, keys_.back());
  text_ += ':';
  return true;
}

bool facts_keeper::at_responsible() const {
  if (responsible_path_.empty() || keys_.size() != responsible_path_.size()) return false;
  for (std::size_t i = 0; i < keys_.size(); ++i)
    if (keys_[i] != responsible_path_[i]) return false;
  return true;
}

void facts_keeper::begin_object() {
  if (skip_ > 0 || !value_begins()) {
    ++skip_;
    return;
  }
  if (keys_.empty()) object_ = true;
  text_ += '{';
  keys_.emplace_back();
  first_.push_back(true);
}

void facts_keeper::end_object() {
  if (skip_ > 0) {
    --skip_;
    return;
  }
  text_ += '}';
  keys_.pop_back();
  first_.pop_back();
}

void facts_keeper::begin_array() {
  ++skip_;  // a list and all it holds are left out, its key with it
  pending_ = false;
}

void facts_keeper::end_array() { --skip_; }

void facts_keeper::key(std::string_view k) {
  if (skip_ > 0) return;
  keys_.back().assign(k);
  pending_ = true;
  if (at_responsible()) responsible_.reset();  // given again: the last one counts
}

void facts_keeper::string_value(std::string_view s) {
  if (skip_ > 0 || !value_begins()) return;
  append_json_string(text_, s);
  if (at_responsible()) responsible_ = std::string(s);
}

void facts_keeper::number_value(std::string_view lexeme) {
  if (skip_ > 0 || !value_begins()) return;
  text_ += lexeme;
  if (at_responsible()) responsible_ = detail::number_text(lexeme);
}

void facts_keeper::bool_value(bool b) {
  if (skip_ > 0 || !value_begins()) return;
  text_ += b ? "true" : "false";
  if (at_responsible()) responsible_ = b ? "true" : "false";
}

void facts_keeper::null_value() {
  if (skip_ == 0 && value_begins()) text_ += "null";
}

namespace {

namespace json = boost::json;

// Boost.JSON's events, gathered into whole keys, strings and numbers, for a facts_keeper.
class keeper_events : public detail::sax_sizes_unbounded {
 public:
  explicit keeper_events(std::vector<std::string> path) : keeper(std::move(path)) {}
  facts_keeper keeper;
  // Ready for another document (a parse that failed may have left a part behind).
  void reset() {
    keeper.reset();
    part_.clear();
  }

  bool on_document_begin(json::error_code&) { return true; }
  bool on_document_end(json::error_code&) { return true; }
  bool on_object_begin(json::error_code&) { return keeper.begin_object(), true; }
  bool on_object_end(std::size_t, json::error_code&) { return keeper.end_object(), true; }
  bool on_array_begin(json::error_code&) { return keeper.begin_array(), true; }
  bool on_array_end(std::size_t, json::error_code&) { return keeper.end_array(), true; }
  bool on_key_part(json::string_view s, std::size_t, json::error_code&) { return part(s); }
  bool on_key(json::string_view s, std::size_t, json::error_code&) {
    keeper.key(whole(s));
    part_.clear();
    return true;
  }
  bool on_string_part(json::string_view s, std::size_t, json::error_code&) { return part(s); }
  bool on_string(json::string_view s, std::size_t, json::error_code&) {
    keeper.string_value(whole(s));
    part_.clear();
    return true;
  }
  bool on_number_part(json::string_view s, json::error_code&) { return part(s); }
  bool on_int64(std::int64_t, json::string_view s, json::error_code&) { return number(s); }
  bool on_uint64(std::uint64_t, json::string_view s, json::error_code&) { return number(s); }
  bool on_double(double, json::string_view s, json::error_code&) { return number(s); }
  bool on_bool(bool b, json::error_code&) { return keeper.bool_value(b), true; }
  bool on_null(json::error_code&) { return keeper.null_value(), true; }
  bool on_comment_part(json::string_view, json::error_code&) { return true; }
  bool on_comment(json::string_view, json::error_code&) { return true; }

 private:
  bool part(json::string_view s) {
    part_.append(s.data(), s.size());
    return true;
  }
  std::string_view whole(json::string_view last) {
    if (part_.empty()) return {last.data(), last.size()};
    part_.append(last.data(), last.size());
    return part_;
  }
  bool number(json::string_view last) {
    keeper.number_value(whole(last));
    part_.clear();
    return true;
  }
  std::string part_;  // a key, string or number given in parts
};

}  // namespace

kept keep_facts_parsed(std::string_view text, const std::vector<std::string>& responsible_path) {
  thread_local std::optional<json::basic_parser<keeper_events>> parser;
  if (!parser || parser->handler().keeper.responsible_path() != responsible_path) {
    json::parse_options po;
    po.max_depth = kept_facts_depth;
    parser.emplace(po, responsible_path);
  }
  json::basic_parser<keeper_events>& p = *parser;
  p.reset();
  p.handler().reset();
  json::error_code ec;
  const std::size_t n = p.write_some(false, text.data(), text.size(), ec);
  if (ec || !blank_line(text.substr(n))) return {};
  return p.handler().keeper.result();
}

}  // namespace carerules::cli
