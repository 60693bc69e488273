// JSON text -> fact events, with Boost.JSON's basic_parser (SAX) and our own
// handler. Not the DOM parser: it would cap the depth on its own terms, keep
// the last of two duplicate keys and turn every number into a double. Here
// numbers reach the binder as their lexeme, strings are checked for valid
// UTF-8 one by one (so one bad string is an error at its pointer, not an
// unreadable record), and the binder sees every duplicate key.
//
// basic_parser_impl.hpp holds the template's definitions, included where a handler of
// our own is parsed with (here, fact_at in html/summary.cpp, the ledger's kept facts); the
// non-template parts of Boost.JSON come from libboost_json.

#include <algorithm>
#include <boost/json/basic_parser_impl.hpp>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "facts/bind.hpp"
#include "facts/json_text.hpp"
#include "util/json_sax.hpp"
#include "util/utf8.hpp"

namespace carerules::detail {

namespace {

namespace json = boost::json;

// basic_parser recurses once per nesting level on the native stack; beyond
// this depth it stops with `too_deep` whatever json_depth says.
constexpr std::size_t parser_depth_cap = 2'000;

// The nesting Boost.JSON's parser is allowed: one past json_depth (the binder says what is
// too deep), at most parser_depth_cap; json_depth may be as large as a limit can be set.
std::size_t parser_depth(const fact_limits& limits) {
  return limits.json_depth >= parser_depth_cap ? parser_depth_cap : limits.json_depth + 1;
}

std::string limit_message(const char* what, std::size_t size, const char* name, std::size_t limit) {
  return std::string(what) + " of " + std::to_string(size) + " bytes exceeds the limit " + name +
         " (" + std::to_string(limit) + ")";
}

// Most strings are ASCII: checked eight bytes at a time.
bool is_ascii(std::string_view s) {
  std::size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    std::uint64_t word;
    std::memcpy(&word, s.data() + i, 8);
    if (word & 0x8080808080808080u) return false;
  }
  for (; i < s.size(); ++i) {
    if (static_cast<unsigned char>(s[i]) >= 0x80) return false;
  }
  return true;
}

// Forwards basic_parser events to a fact_sink. Strings and numbers split into
// parts (escapes, buffer ends) are gathered first; a complete string or key is
// checked for length and UTF-8 before the sink sees it.
constexpr std::string_view lone_surrogate_mark = "\xEF\xBF\xBF";  // U+FFFF, see below

class json_handler : public sax_sizes_unbounded {
 public:
  json_handler(fact_sink& sink, const bool& stop, std::size_t max_string, bool patched = false)
      : sink_(sink),
        stop_(stop),
        max_string_(std::min<std::size_t>(max_string, max_string_bytes)),
        patched_(patched) {}

  bool on_document_begin(json::error_code&) { return true; }
  bool on_document_end(json::error_code&) { return true; }

  bool on_object_begin(json::error_code& ec) {
    sink_.begin_object();
    return go_on(ec);
  }
  bool on_object_end(std::size_t, json::error_code& ec) {
    sink_.end_object();
    return go_on(ec);
  }
  bool on_array_begin(json::error_code& ec) {
    sink_.begin_array();
    return go_on(ec);
  }
  bool on_array_end(std::size_t, json::error_code& ec) {
    sink_.end_array();
    return go_on(ec);
  }

  bool on_key_part(json::string_view s, std::size_t, json::error_code&) {
    part(s);
    return true;
  }
  bool on_key(json::string_view s, std::size_t, json::error_code& ec) {
    std::string message;
    const std::string_view k = text(s, "key", message);
    if (message.empty()) {
      sink_.key(k);
    } else {
      sink_.fault(std::move(message));
    }
    reset();
    return go_on(ec);
  }
  bool on_string_part(json::string_view s, std::size_t, json::error_code&) {
    part(s);
    return true;
  }
  bool on_string(json::string_view s, std::size_t, json::error_code& ec) {
    std::string message;
    const std::string_view v = text(s, "string", message);
    if (message.empty()) {
      sink_.string_value(v);
    } else {
      sink_.fault(std::move(message));
    }
    reset();
    return go_on(ec);
  }

  bool on_number_part(json::string_view s, json::error_code&) {
    number_.append(s.data(), s.size());
    return true;
  }
  bool on_int64(std::int64_t, json::string_view s, json::error_code& ec) { return number(s, ec); }
  bool on_uint64(std::uint64_t, json::string_view s, json::error_code& ec) { return number(s, ec); }
  bool on_double(double, json::string_view s, json::error_code& ec) { return number(s, ec); }

  bool on_bool(bool b, json::error_code& ec) {
    sink_.bool_value(b);
    return go_on(ec);
  }
  bool on_null(json::error_code& ec) {
    sink_.null_value();
    return go_on(ec);
  }
  bool on_comment_part(json::string_view, json::error_code&) { return true; }
  bool on_comment(json::string_view, json::error_code&) { return true; }

 private:
  // false (and an error code) when the sink gave up on the text.
  bool go_on(json::error_code& ec) {
    if (!stop_) return true;
    ec = json::error::exception;
    return false;
  }

  void part(json::string_view s) {
    parted_ = true;
    size_ += s.size();
    if (size_ <= max_string_) buffer_.append(s.data(), s.size());
  }

  // The complete string (valid until reset()); sets `message` when it is too
  // long or not UTF-8.
  std::string_view text(json::string_view last, const char* what, std::string& message) {
    std::string_view whole(last.data(), last.size());
    const std::size_t size = size_ + last.size();
    if (parted_) {
      if (size <= max_string_) buffer_.append(last.data(), last.size());
      whole = buffer_;
    }
    if (size > max_string_) {
      message = limit_message(what, size, "json_string", max_string_);
      return {};
    }
    const bool ascii = is_ascii(whole);
    const std::size_t bad = ascii ? std::string_view::npos : find_invalid_utf8(whole);
    if (bad != std::string_view::npos) {
      message = std::string("invalid UTF-8 in ") + what + " at byte " + std::to_string(bad);
    } else if (patched_ && !ascii && whole.find(lone_surrogate_mark) != std::string_view::npos) {
      message = std::string("lone surrogate escape in ") + what;
    }
    return whole;
  }

  void reset() {
    parted_ = false;
    size_ = 0;
    buffer_.clear();
  }

  bool number(json::string_view s, json::error_code& ec) {
    std::string_view lexeme(s.data(), s.size());
    if (!number_.empty()) {
      number_.append(s.data(), s.size());
      lexeme = number_;
    }
    // A number whose exponent the parser could not hold was given an exponent of zeros (same
    // length); its own text goes on, so the binder judges it like any other number.
    if (!exponents_.empty() && lexeme == exponents_.front().first) {
      sink_.number_value(exponents_.front().second);
      exponents_.pop_front();
    } else {
      sink_.number_value(lexeme);
    }
    number_.clear();
    return go_on(ec);
  }

 public:
  // (patched lexeme, original lexeme) of numbers with an overflowing exponent, in text order.
  std::deque<std::pair<std::string, std::string>> exponents_;

 private:
  fact_sink& sink_;
  const bool& stop_;
  std::size_t max_string_;
  bool patched_ = false;  // lone surrogate escapes were replaced by the mark
  std::string buffer_;
  std::size_t size_ = 0;
  bool parted_ = false;
  std::string number_;
};

}  // namespace

record_facts facts_not_read(const record_schema& schema, std::string pointer, std::string message) {
  record_facts r;
  r.root.cells.assign(schema.scalar_count, fact_cell{fact_state::error, value{}});
  list_instance unread;
  unread.state = fact_state::error;
  r.root.lists.assign(schema.list_count, unread);
  r.errors.push_back({std::move(pointer), "", std::move(message)});
  return r;
}

namespace {

// An unreadable record: no facts (every cell absent), one error.
record_facts unreadable(const record_schema& schema, std::string path, std::string message) {
  record_facts r;
  r.root.cells.resize(schema.scalar_count);
  r.root.lists.resize(schema.list_count);
  r.unreadable = true;
  r.errors.push_back({std::move(path), "", std::move(message)});
  return r;
}

struct text_position {
  std::uint32_t line = 0, column = 0;
  std::string text() const { return std::to_string(line) + ":" + std::to_string(column); }
};

// 1-based line and column (in code points) of byte `offset` in `text`.
text_position location(std::string_view text, std::size_t offset) {
  offset = std::min(offset, text.size());
  std::size_t line = 1;
  std::size_t line_start = 0;
  for (std::size_t i = 0; i < offset; ++i) {
    if (text[i] == '\n') {
      ++line;
      line_start = i + 1;
    }
  }
  const std::size_t column = count_code_points(text.substr(line_start, offset - line_start)) + 1;
  return {static_cast<std::uint32_t>(line), static_cast<std::uint32_t>(column)};
}

// Whether basic_parser stopped at `offset` just after a high surrogate escape
// ("\uD800") that no low surrogate escape follows: it reports that as a
// plain syntax error.
bool after_high_surrogate(std::string_view text, std::size_t offset) {
  for (std::size_t back = 6; back <= 7; ++back) {
    if (offset < back) continue;
    const std::string_view s = text.substr(offset - back, 6);
    if (s[0] == '\\' && s[1] == 'u' && (s[2] == 'd' || s[2] == 'D') &&
        std::string_view("89abAB").find(s[3]) != std::string_view::npos && is_json_hex(s[4]) &&
        is_json_hex(s[5])) {
      return true;
    }
  }
  return false;
}

std::string_view skip_bom(std::string_view json) {
  if (json.size() >= 3 && json.substr(0, 3) == "\xEF\xBB\xBF") {
    json.remove_prefix(3);
  }
  return json;
}

// Boost.JSON 1.81 stops at a lone surrogate escape ("\uD800" with no low half), which would
// lose the whole record. Such escapes are replaced, in a copy of the same length, by "\uFFFF"
// (a noncharacter); the handler then reports each string holding it as a fault at its own
// pointer. nullopt when the text has none (the common case: one find).
std::optional<std::string> patch_lone_surrogates(std::string_view text) {
  if (text.find("\\u") == std::string_view::npos) return std::nullopt;
  auto hex4 = [&](std::size_t at, unsigned& cp) {
    if (at + 4 > text.size()) return false;
    cp = 0;
    for (std::size_t k = 0; k < 4; ++k) {
      char c = text[at + k];
      if (!is_json_hex(c)) return false;
      cp = cp * 16 + static_cast<unsigned>(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
    }
    return true;
  };
  std::optional<std::string> out;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (!in_string) {
      if (c == '"') in_string = true;
      continue;
    }
    if (c == '"') {
      in_string = false;
      continue;
    }
    if (c != '\\' || i + 1 >= text.size()) continue;
    if (text[i + 1] != 'u') {
      ++i;  // a two-character escape
      continue;
    }
    unsigned cp;
    if (!hex4(i + 2, cp)) continue;  // malformed: basic_parser reports it
    bool lone = false;
    if (cp >= 0xD800 && cp <= 0xDBFF) {
      unsigned lo;
      if (i + 7 < text.size() && text[i + 6] == '\\' && text[i + 7] == 'u' && hex4(i + 8, lo) &&
          lo >= 0xDC00 && lo <= 0xDFFF) {
        i += 11;  // a valid pair
        continue;
      }
      lone = true;
    } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
      lone = true;
    }
    if (lone) {
      if (!out) out.emplace(text);
      out->replace(i, 6, "\\uFFFF");
    }
    i += 5;
  }
  return out;
}

// Outcome of parsing a whole text into a sink.
struct parse_outcome {
  bool ok = true;
  bool too_deep = false;           // basic_parser's own depth cap
  bool surrogate = false;          // a lone surrogate escape
  bool exponent_overflow = false;  // a number's exponent too long for the parser: try again
                                   // with fix_exponents
  std::string message;             // "invalid JSON at L:C: ..."
  text_position where;             // L:C of the message, for callers that point at it
};

// Boost.JSON refuses a number whose exponent does not fit its counter
// (1e99999999999999999999), and with it the whole document. Such a number is one bad value,
// not a bad record: its exponent becomes zeros of the same length (so positions do not
// move), the document parses, and the handler hands the binder the number's own text (an
// error at its pointer when an input reads it, nothing when none does). Returns the patched
// text and (patched, original) lexemes in text order; strings are skipped.
std::string patch_exponents(std::string_view text,
                            std::deque<std::pair<std::string, std::string>>& out) {
  std::string patched(text);
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  for (std::size_t i = 0; i < patched.size(); ++i) {
    char c = patched[i];
    if (c == '"') {  // skip a string, escapes included
      for (++i; i < patched.size() && patched[i] != '"'; ++i)
        if (patched[i] == '\\') ++i;
      continue;
    }
    if (!(digit(c) || c == '-')) continue;
    std::size_t begin = i, end = i;
    while (end < patched.size() && (digit(patched[end]) || std::strchr("+-.eE", patched[end])))
      ++end;
    std::size_t e = patched.find_first_of("eE", begin);
    if (e != std::string::npos && e < end) {
      std::size_t k = e + 1;
      if (k < end && (patched[k] == '+' || patched[k] == '-')) ++k;
      while (k < end && patched[k] == '0') ++k;
      if (end - k > 9) {  // more significant exponent digits than any parser counter holds
        std::string original = patched.substr(begin, end - begin);
        for (std::size_t j = e + 1; j < end; ++j)
          if (digit(patched[j])) patched[j] = '0';
        out.emplace_back(patched.substr(begin, end - begin), std::move(original));
      }
    }
    i = end - 1;
  }
  return patched;
}

// Gives every event to the binder and to an observer (bind_json's caller), and notes whether
// any was a fault (the observer then saw less than the text holds).
class tee_sink final : public fact_sink {
 public:
  tee_sink(fact_sink& binder, fact_sink& observer) : a_(binder), b_(observer) {}
  bool faulted = false;
  void begin_object() override {
    a_.begin_object();
    b_.begin_object();
  }
  void key(std::string_view k) override {
    a_.key(k);
    b_.key(k);
  }
  void end_object() override {
    a_.end_object();
    b_.end_object();
  }
  void begin_array() override {
    a_.begin_array();
    b_.begin_array();
  }
  void end_array() override {
    a_.end_array();
    b_.end_array();
  }
  void string_value(std::string_view v) override {
    a_.string_value(v);
    b_.string_value(v);
  }
  void number_value(std::string_view lexeme) override {
    a_.number_value(lexeme);
    b_.number_value(lexeme);
  }
  void bool_value(bool v) override {
    a_.bool_value(v);
    b_.bool_value(v);
  }
  void null_value() override {
    a_.null_value();
    b_.null_value();
  }
  void date_value(std::int64_t days) override {
    a_.date_value(days);
    b_.date_value(days);
  }
  void fault(std::string message) override {
    faulted = true;
    a_.fault(std::move(message));
  }

 private:
  fact_sink& a_;
  fact_sink& b_;
};

// With `fix_exponents`, numbers with an exponent the parser cannot hold are patched first
// (patch_exponents); callers ask for it after an attempt failed with `exponent_overflow`,
// since the pre-scan costs a pass over the text. With an `observer`, the events of a text read
// as it is (nothing patched) also go to it; `observed` says whether it saw the whole text
// without a fault.
parse_outcome parse_into(fact_sink& sink, const bool& stop, std::string_view text,
                         std::size_t max_depth, std::size_t max_string, bool fix_exponents = false,
                         fact_sink* observer = nullptr, bool* observed = nullptr) {
  json::parse_options opts;
  opts.max_depth = max_depth;
  opts.allow_invalid_utf8 = true;
  std::optional<std::string> patched = patch_lone_surrogates(text);
  if (patched) text = *patched;
  std::deque<std::pair<std::string, std::string>> exponents;
  std::string renumbered;
  if (fix_exponents) {
    renumbered = patch_exponents(text, exponents);
    text = renumbered;
  }
  std::optional<tee_sink> tee;
  if (observer && !patched && !fix_exponents) tee.emplace(sink, *observer);
  json::basic_parser<json_handler> parser(opts, tee ? static_cast<fact_sink&>(*tee) : sink, stop,
                                          max_string, patched.has_value());
  parser.handler().exponents_ = std::move(exponents);
  json::error_code ec;
  std::size_t n = parser.write_some(false, text.data(), text.size(), ec);
  parse_outcome result;
  if (!ec) {
    while (n < text.size() && is_json_space(text[n])) ++n;
    if (n == text.size()) {
      if (observed) *observed = tee && !tee->faulted;
      return result;
    }
    result.ok = false;
    result.where = location(text, n);
    result.message = "invalid JSON at " + result.where.text() + ": extra data";
    return result;
  }
  result.ok = false;
  if (stop) return result;  // the sink gave up and said why
  result.exponent_overflow = ec == json::error::exponent_overflow;
  result.too_deep = ec == json::error::too_deep;
  result.surrogate = ec == json::error::illegal_leading_surrogate ||
                     ec == json::error::illegal_trailing_surrogate ||
                     (ec == json::error::syntax && after_high_surrogate(text, n));
  result.where = location(text, n);
  result.message = "invalid JSON at " + result.where.text() + ": " +
                   (result.surrogate ? std::string("lone surrogate escape") : ec.message());
  return result;
}

// Takes every event and keeps nothing: a syntax check.
class null_sink final : public fact_sink {
 public:
  void begin_object() override {}
  void key(std::string_view) override {}
  void end_object() override {}
  void begin_array() override {}
  void end_array() override {}
  void string_value(std::string_view) override {}
  void number_value(std::string_view) override {}
  void bool_value(bool) override {}
  void null_value() override {}
  void date_value(std::int64_t) override {}
  void fault(std::string) override {}
};

// `--each`: routes the events of one document to one binder per element of
// the list at the path; everything else is only parsed.
class each_router final : public fact_sink {
 public:
  each_router(const record_schema& schema, const std::vector<std::string>& path,
              const bind_options& options)
      : schema_(schema), path_(path), options_(options) {}

  bool stop = false;
  std::deque<record_facts> records;

  // Set when the whole text yields one unreadable record.
  bool found_list = false;  // the list at the path was seen (possibly empty)
  bool failed() const { return failure_.has_value(); }
  record_facts take_failure() { return std::move(*failure_); }

  std::string pointer() const {
    return element_ ? element_pointer_ + element_->pointer() : std::string();
  }

  void begin_object() override {
    if (element_) {
      element_->begin_object();
      ++element_depth_;
      return;
    }
    if (frames_.empty()) {
      frames_.push_back({false, 0});
      return;
    }
    frame& top = frames_.back();
    if (top.is_array && top.each_list) {
      records.emplace_back();
      element_pointer_ = list_pointer() + "/" + std::to_string(top.index);
      element_ = std::make_unique<binder>(schema_, options_, records.back());
      element_->begin_object();
      element_depth_ = 1;
      return;
    }
    int level = -1;
    if (!top.is_array && top.match) {
      if (top.level + 1 == static_cast<int>(path_.size())) {
        fail(path_pointer(path_.size()),
             "expected a list for `" + dotted(path_.size()) + "`, got object");
        return;
      }
      level = top.level + 1;
    }
    frames_.push_back({false, level});
  }

  void key(std::string_view k) override {
    if (element_) {
      element_->key(k);
      return;
    }
    if (frames_.empty()) return;
    frame& top = frames_.back();
    top.match = false;
    top.has_key = true;
    if (top.level < 0 || static_cast<std::size_t>(top.level) >= path_.size()) {
      return;
    }
    if (path_[static_cast<std::size_t>(top.level)] != k || top.seen) return;
    top.match = true;  // a duplicate of the key is ignored: the first counts
    top.seen = true;
  }

  void end_object() override { close(&fact_sink::end_object); }
  void end_array() override { close(&fact_sink::end_array); }

  void begin_array() override {
    if (element_) {
      element_->begin_array();
      ++element_depth_;
      return;
    }
    if (frames_.empty()) {
      fail("", "expected a JSON object, got array");
      return;
    }
    frame& top = frames_.back();
    frame nf{true, -1};
    if (top.is_array && top.each_list) {
      element_unreadable("expected a JSON object, got array");
    } else if (!top.is_array && top.match) {
      if (top.level + 1 == static_cast<int>(path_.size())) {
        nf.each_list = true;
        found_list = true;
      } else {
        not_object(top.level, "array");
        return;
      }
    }
    frames_.push_back(nf);
  }

  void string_value(std::string_view s) override {
    if (element_) return element_->string_value(s);
    scalar("string");
  }
  void number_value(std::string_view lexeme) override {
    if (element_) return element_->number_value(lexeme);
    scalar("number");
  }
  void bool_value(bool b) override {
    if (element_) return element_->bool_value(b);
    scalar("bool");
  }
  void date_value(std::int64_t days) override {
    if (element_) return element_->date_value(days);
    scalar("date");
  }
  void null_value() override {
    if (element_) return element_->null_value();
    if (frames_.empty()) return fail("", "expected a JSON object, got null");
    frame& top = frames_.back();
    if (top.is_array && top.each_list) {
      element_unreadable("expected a JSON object, got null");
    }
    value_done();  // a null list or object on the path: no records
  }
  void fault(std::string message) override {
    if (element_) return element_->fault(std::move(message));
    if (frames_.empty()) return fail("", std::move(message));
    frame& top = frames_.back();
    if (!top.is_array && !top.has_key) {  // a faulty key: never on the path
      top.has_key = true;
      top.match = false;
      return;
    }
    if (top.is_array && top.each_list) {
      element_unreadable(std::move(message));
    } else if (!top.is_array && top.match) {
      return not_object(top.level, "string");
    }
    value_done();
  }

 private:
  struct frame {
    bool is_array;
    int level;               // objects: path segments matched to reach here, -1 off path
    bool match = false;      // objects: the current key is the next segment
    bool seen = false;       // objects: the next segment's key was seen
    bool has_key = false;    // objects: a key (or faulty key) is current
    bool each_list = false;  // arrays: the list at the path
    std::size_t index = 0;   // arrays: the current element
  };

  std::string path_pointer(std::size_t segments) const {
    std::string p;
    for (std::size_t i = 0; i < segments; ++i) {
      append_pointer_segment(p, path_[i]);
    }
    return p;
  }
  std::string list_pointer() const { return path_pointer(path_.size()); }

  std::string dotted(std::size_t segments) const {
    std::string p;
    for (std::size_t i = 0; i < segments; ++i) {
      if (i > 0) p.push_back('.');
      p += path_[i];
    }
    return p;
  }

  void fail(std::string ptr, std::string message) {
    if (!failure_) failure_ = unreadable(schema_, std::move(ptr), std::move(message));
    stop = true;
  }

  // A value that is not an object where the path continues (level: segments
  // matched by the object holding it).
  void not_object(int level, const char* kind) {
    const auto n = static_cast<std::size_t>(level) + 1;
    if (n == path_.size()) {
      fail(path_pointer(n), "expected a list for `" + dotted(n) + "`, got " + kind);
    } else {
      fail(path_pointer(n), "expected an object for `" + dotted(n) + "`, got " + kind);
    }
  }

  void element_unreadable(std::string message) {
    records.push_back(unreadable(
        schema_, list_pointer() + "/" + std::to_string(frames_.back().index), std::move(message)));
  }

  void scalar(const char* kind) {
    if (frames_.empty()) {
      return fail("", std::string("expected a JSON object, got ") + kind);
    }
    frame& top = frames_.back();
    if (top.is_array && top.each_list) {
      element_unreadable(std::string("expected a JSON object, got ") + kind);
    } else if (!top.is_array && top.match) {
      return not_object(top.level, kind);
    }
    value_done();
  }

  void value_done() {
    if (frames_.empty()) return;
    frame& top = frames_.back();
    if (top.is_array) {
      ++top.index;
    } else {
      top.match = false;
      top.has_key = false;
    }
  }

  void close(void (fact_sink::*end)()) {
    if (element_) {
      (element_.get()->*end)();
      if (--element_depth_ > 0) return;
      element_->finish();
      record_facts& r = records.back();
      for (record_error& e : r.errors) e.path.insert(0, element_pointer_);
      element_.reset();
      value_done();
      return;
    }
    if (frames_.empty()) return;
    frames_.pop_back();
    value_done();
  }

  const record_schema& schema_;
  const std::vector<std::string>& path_;
  const bind_options& options_;
  std::vector<frame> frames_;
  std::unique_ptr<binder> element_;
  std::string element_pointer_;
  std::size_t element_depth_ = 0;
  std::optional<record_facts> failure_;
};

}  // namespace

void bind_json(const record_schema& schema, std::string_view json, const bind_options& options,
               record_facts& out) {
  bool observed = false;
  bind_json(schema, json, options, out, nullptr, observed);
}

namespace {

void bind_json_text(const record_schema& schema, std::string_view json, const bind_options& options,
                    record_facts& out, fact_sink* observer, bool& observed, bool plain_first) {
  observed = false;
  const fact_limits& limits = options.limits;
  if (json.size() > limits.line_bytes) {
    out = facts_not_read(schema, "",
                         limit_message("record", json.size(), "line_bytes", limits.line_bytes));
    return;
  }
  if (skip_bom(json).size() != json.size()) observer = nullptr;  // a text a parser would refuse
  json = skip_bom(json);
  // Most records are plain: read straight into the slots. An observer then gets the text's
  // events from a parse of their own (the event binder's work costs more than that parse).
  if (plain_first && bind_plain_json(schema, json, options, out)) {
    if (observer) {
      const bool never = false;
      observed = parse_into(*observer, never, json, parser_depth(limits), limits.json_string).ok;
    }
    return;
  }
  out.clear();
  std::string ptr;
  std::string message;
  text_position where;
  for (bool fix_exponents : {false, true}) {
    if (fix_exponents) out = record_facts();
    binder b(schema, options, out);
    b.set_source(json);
    const std::size_t depth = parser_depth(limits);
    const parse_outcome result = parse_into(b, out.unreadable, json, depth, limits.json_string,
                                            fix_exponents, observer, &observed);
    if (result.ok) {
      b.finish();
      return;
    }
    if (out.unreadable && out.not_an_object) {
      // Not an object, and perhaps not JSON either ("[1,"): broken JSON is the first thing
      // to say, so read the rest of the text for its syntax alone.
      null_sink ignore;
      const bool never = false;
      const parse_outcome syntax =
          parse_into(ignore, never, json, parser_depth_cap, limits.json_string, true);
      if (syntax.ok || syntax.too_deep) return;
      message = syntax.message;
      where = syntax.where;
      break;
    }
    if (out.unreadable && out.stopped_at_limit) {
      record_error e = std::move(out.errors.front());
      out = facts_not_read(schema, std::move(e.path), std::move(e.message));
      return;
    }
    if (out.unreadable) return;  // the binder said why
    if (result.exponent_overflow && !fix_exponents) continue;
    if (result.too_deep) {
      out = facts_not_read(schema, b.pointer(), depth_message(limits.json_depth));
      return;
    }
    if (result.too_deep || result.surrogate) ptr = b.pointer();
    message = result.too_deep ? depth_message(limits.json_depth) : result.message;
    if (!result.too_deep) where = result.where;
    break;
  }
  out = unreadable(schema, std::move(ptr), std::move(message));
  out.syntax_line = where.line;
  out.syntax_column = where.column;
}

}  // namespace

void bind_json(const record_schema& schema, std::string_view json, const bind_options& options,
               record_facts& out, fact_sink* observer, bool& observed) {
  bind_json_text(schema, json, options, out, observer, observed, true);
}

void bind_json_by_events(const record_schema& schema, std::string_view json,
                         const bind_options& options, record_facts& out) {
  bool observed = false;
  bind_json_text(schema, json, options, out, nullptr, observed, false);
}

std::vector<record_facts> bind_json_each(const record_schema& schema, std::string_view json,
                                         const std::vector<std::string>& each_path,
                                         const bind_options& options) {
  const fact_limits& limits = options.limits;
  std::vector<record_facts> result;
  if (json.size() > limits.line_bytes) {
    result.push_back(unreadable(
        schema, "", limit_message("record", json.size(), "line_bytes", limits.line_bytes)));
    return result;
  }
  json = skip_bom(json);
  // Deep enough that an element nested past json_depth is that element's
  // error, not the whole text's.
  const std::size_t depth = parser_depth_cap;
  auto router = std::make_unique<each_router>(schema, each_path, options);
  parse_outcome outcome = parse_into(*router, router->stop, json, depth, limits.json_string);
  if (outcome.exponent_overflow) {
    router = std::make_unique<each_router>(schema, each_path, options);
    outcome = parse_into(*router, router->stop, json, depth, limits.json_string, true);
  }
  if (router->failed()) {
    result.push_back(router->take_failure());
    return result;
  }
  if (!outcome.ok) {
    std::string ptr = outcome.too_deep || outcome.surrogate ? router->pointer() : "";
    result.push_back(unreadable(schema, std::move(ptr),
                                outcome.too_deep
                                    ? depth_message(std::min(limits.json_depth, parser_depth_cap))
                                    : outcome.message));
    return result;
  }
  if (!router->found_list) {
    // An absent or null PATH is not a list either: say so rather than print nothing.
    std::string ptr, dotted;
    for (const auto& seg : each_path) {
      append_pointer_segment(ptr, seg);
      dotted += (dotted.empty() ? "" : ".") + seg;
    }
    result.push_back(unreadable(schema, ptr, "expected a list at `" + dotted + "`, found none"));
    return result;
  }
  // Moved, never copied: cells point into each record's own strings.
  result.reserve(router->records.size());
  for (record_facts& r : router->records) result.push_back(std::move(r));
  return result;
}

}  // namespace carerules::detail
