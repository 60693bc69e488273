// The plain reader: bind_json's fast path for the records that make up nearly every batch.
//
// A record is plain when its text binds without a fault: JSON as it is usually written (no
// escapes in keys or in the strings that bind, no exponents in the numbers that bind, no
// surrogate escapes), no duplicate keys, every declared fact of its declared type, no limit
// reached. Such a text is
// read here in one pass, straight into the facts' slots: no events, no key stack, no JSON
// pointer kept on the way. Anything else — every text the event binder would say something
// about, and a few it would not (an escaped key, a large undeclared object) — makes the
// reader give up at once, and bind_json reads the text again with Boost.JSON and the event
// binder (bind.cpp), which says where and what.
//
// So the reader never has to be right about a fault: it only has to give up on anything it
// is not sure binds cleanly, and on what it accepts give the facts the event binder gives.
// Values convert through convert_scalar, which the event binder uses too; the differential
// tests (tests/unit/facts/plain_reader_test.cpp) compare the two readers on generated,
// shipped and damaged records.

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "facts/bind.hpp"
#include "facts/convert.hpp"
#include "facts/json_text.hpp"
#include "util/decimal.hpp"
#include "util/utf8.hpp"

namespace carerules::detail {
namespace {

// Nesting the reader follows itself (deeper records go to the event binder, which has no
// native recursion).
constexpr std::size_t plain_depth_cap = 48;
// Undeclared keys of one object checked for duplicates by a scan; an object with more goes
// to the event binder.
constexpr std::size_t plain_other_keys = 32;
// The longest number lexeme read here.
constexpr std::size_t plain_number_bytes = 40;

class plain_reader {
 public:
  plain_reader(std::string_view text, const bind_options& options, record_facts& out,
               std::vector<std::pair<std::uint64_t, std::string_view>>& others)
      : p_(text.data()),
        end_(text.data() + text.size()),
        options_(options),
        out_(out),
        others_(others),
        max_string_(std::min<std::size_t>(options.limits.json_string, max_string_bytes)),
        max_depth_(std::min(options.limits.json_depth, plain_depth_cap)),
        max_key_(std::min<std::size_t>(max_string_, 16)) {}

  bool record(const record_schema& schema) {
    space();
    if (p_ == end_ || *p_ != '{') return false;
    reset_instance(out_.root, schema);
    const int subject_level = options_.subject_path.empty() ? -1 : 0;
    if (!object(&schema, schema.nodes.empty() ? -1 : 0, &out_.root, subject_level, 1)) return false;
    space();
    if (p_ != end_) return false;
    apply_defaults(schema, out_.root);
    return true;
  }

 private:
  void space() {
    // One comparison for the usual case, text without white space.
    while (p_ != end_ && static_cast<unsigned char>(*p_) <= ' ' && is_json_space(*p_)) ++p_;
  }

  // Steps over `c`, with white space before it: whether it was there. Compact text (no white
  // space) costs one comparison.
  bool step_over(char c) {
    if (p_ != end_ && *p_ == c) {
      ++p_;
      return true;
    }
    space();
    if (p_ == end_ || *p_ != c) return false;
    ++p_;
    return true;
  }

  // The length of the escape at p (a backslash) that a string no fact takes may hold, or 0:
  // one of \" \\ \/ \b \f \n \r \t, or \uXXXX but for a surrogate (which may be lone).
  std::size_t escape_at(const char* p) const {
    if (end_ - p < 2) return 0;
    switch (p[1]) {
      case '"':
      case '\\':
      case '/':
      case 'b':
      case 'f':
      case 'n':
      case 'r':
      case 't':
        return 2;
      case 'u':
        if (end_ - p < 6 || !is_json_hex(p[2]) || !is_json_hex(p[3]) || !is_json_hex(p[4]) ||
            !is_json_hex(p[5]))
          return 0;
        if ((p[2] == 'd' || p[2] == 'D') &&
            ((p[3] >= '8' && p[3] <= '9') || (p[3] >= 'a' && p[3] <= 'f') ||
             (p[3] >= 'A' && p[3] <= 'F')))
          return 0;  // a surrogate
        return 6;
      default:
        return 0;
    }
  }

  // After the opening quote: a string, its raw text (between the quotes) in `raw`, valid UTF-8
  // and within the limit. With `Escapes` (a string no fact takes) escapes are allowed, as
  // escape_at says; without, a string with one is left to the event binder. The raw text is no
  // shorter than the string it stands for, and an escape stands for valid UTF-8: a raw text
  // within the limit and valid is a string within it and valid.
  template <bool Escapes>
  bool string_at(std::string_view& raw) {
    const char* const begin = p_;
    const char* p = begin;
    bool ascii = true;
    for (;;) {
      p = next_special(p, end_);
      if (p == end_) return false;
      const auto c = static_cast<unsigned char>(*p);
      if (c == '"') break;
      if (c >= 0x80) {
        ascii = false;
        ++p;
        continue;
      }
      if (!Escapes || c != '\\') return false;  // a control character, or an escape not read here
      const std::size_t n = escape_at(p);
      if (n == 0) return false;
      p += n;
    }
    raw = std::string_view(begin, static_cast<std::size_t>(p - begin));
    p_ = p + 1;
    if (raw.size() > max_string_) return false;
    return ascii || find_invalid_utf8(raw) == std::string_view::npos;
  }
  bool plain_string(std::string_view& s) { return string_at<false>(s); }
  bool skip_string() {
    std::string_view raw;
    return string_at<true>(raw);
  }

  // A number: -?(0|[1-9][0-9]*)(.[0-9]+)? and, when `exponent_allowed`, ([eE][+-]?[0-9]+)?;
  // a plain integer of at most twelve digits is also worked out (input::small).
  bool number(input& in, bool exponent_allowed = false) {
    const char* begin = p_;
    const bool negative = p_ != end_ && *p_ == '-';
    if (negative) ++p_;
    if (p_ == end_) return false;
    std::int64_t small = 0;
    const char* digits = p_;
    if (*p_ == '0') {
      ++p_;
    } else if (*p_ >= '1' && *p_ <= '9') {
      for (; p_ != end_ && *p_ >= '0' && *p_ <= '9'; ++p_)
        if (p_ - digits < 12) small = small * 10 + (*p_ - '0');  // past twelve: not used
    } else {
      return false;
    }
    in.has_small = p_ - digits <= 12;
    if (p_ != end_ && *p_ == '.') {
      in.has_small = false;
      const char* fraction = ++p_;
      while (p_ != end_ && *p_ >= '0' && *p_ <= '9') ++p_;
      if (p_ == fraction) return false;
    }
    if (p_ != end_ && (*p_ == 'e' || *p_ == 'E')) {
      // A number no fact takes may have one (however large, the event binder reads it
      // without a fault); one a fact takes goes to the event binder.
      if (!exponent_allowed) return false;
      in.has_small = false;
      if (++p_ != end_ && (*p_ == '+' || *p_ == '-')) ++p_;
      const char* digits_e = p_;
      while (p_ != end_ && *p_ >= '0' && *p_ <= '9') ++p_;
      if (p_ == digits_e) return false;
    }
    in.kind = in_kind::number;
    in.text = std::string_view(begin, static_cast<std::size_t>(p_ - begin));
    if (in.has_small) in.small = negative ? -small : small;
    return in.text.size() <= plain_number_bytes;
  }

  // `true`, `false` or `null` at p_ (N: the word's length with its terminating zero, known
  // when compiling, so the comparison needs no call).
  template <std::size_t N>
  bool literal(const char (&word)[N]) {
    constexpr std::size_t size = N - 1;
    if (static_cast<std::size_t>(end_ - p_) < size || std::memcmp(p_, word, size) != 0)
      return false;
    p_ += size;
    return true;
  }

  // A scalar (not null) for field `f`, converted into `cell` (a fact's, or a new item of a
  // list; when the reader gives up, bind_json resets the facts). Inline in object(): the call
  // cost more than a bool's or a number's reading.
  [[gnu::always_inline]] bool scalar(const field_schema& f, fact_cell& cell, bool subject) {
    input in{in_kind::string, {}};
    switch (*p_) {
      case '"':
        ++p_;
        if (!plain_string(in.text)) return false;
        break;
      case 't':
      case 'f':
        if (subject) return false;
        in.kind = in_kind::boolean;
        in.b = *p_ == 't';
        if (!(in.b ? literal("true") : literal("false"))) return false;
        if (f.type == scalar_type::bool_) {  // what convert_scalar gives a bool, without the call
          cell = fact_cell{fact_state::present, value::of_bool(in.b)};
          return true;
        }
        break;
      default:
        if (!number(in)) return false;
        break;
    }
    value v;
    if (!(in.kind == in_kind::number && in.has_small && convert_small(f, in.small, v)) &&
        convert_scalar(f, in, v, out_.strings) != conversion::ok)
      return false;
    cell = fact_cell{fact_state::present, v};
    if (subject) take_subject(in);
    return true;
  }

  void take_subject(const input& in) {
    if (in.kind == in_kind::string) {
      out_.subject = std::string(in.text);
    } else {
      out_.subject = number_text(in.text);
    }
  }

  // A value no fact takes, but the subject perhaps.
  bool subject_only(bool subject) {
    input in{in_kind::string, {}};
    if (*p_ == '"') {
      ++p_;
      if (!plain_string(in.text)) return false;
    } else if (!number(in)) {
      return false;
    }
    if (subject) take_subject(in);
    return true;
  }

  // Any value, read for its syntax alone.
  bool skip_value(std::size_t depth) {
    if (p_ == end_) return false;
    switch (*p_) {
      case '{':
        return object(nullptr, -1, nullptr, -1, depth + 1);
      case '[':
        return skip_array(depth + 1);
      case '"':
        ++p_;
        return skip_string();
      case 't':
        return literal("true");
      case 'f':
        return literal("false");
      case 'n':
        return literal("null");
      default: {
        input in{in_kind::number, {}};
        return number(in, true);
      }
    }
  }

  // Closes a container after an element: true with `more` when a comma follows.
  bool next(char close, bool& more) {
    if (p_ == end_) return false;
    if (*p_ != ',' && *p_ != close) {
      space();
      if (p_ == end_) return false;
    }
    if (*p_ == ',') {
      ++p_;
      space();
      more = true;
      return true;
    }
    more = false;
    if (*p_ != close) return false;
    ++p_;
    return true;
  }

  bool skip_array(std::size_t depth) {
    if (depth > max_depth_) return false;
    ++p_;
    space();
    if (p_ != end_ && *p_ == ']') {
      ++p_;
      return true;
    }
    for (bool more = true; more;) {
      if (!skip_value(depth) || !next(']', more)) return false;
    }
    return true;
  }

  // The elements of a declared list.
  bool list(const field_schema& f, list_instance& l, std::size_t depth) {
    if (depth > max_depth_) return false;
    ++p_;
    space();
    l.state = fact_state::present;
    if (p_ != end_ && *p_ == ']') {
      ++p_;
      return true;
    }
    std::size_t count = 0;
    for (bool more = true; more;) {
      if (count++ >= options_.limits.list || p_ == end_) return false;
      if (f.of_records) {
        if (*p_ != '{') return false;
        const record_schema* element = f.element.get();
        record_instance& r = l.add_element(element);
        const int node = element && !element->nodes.empty() ? 0 : -1;
        if (!object(element, node, &r, -1, depth + 1)) return false;
      } else {
        if (*p_ == '{' || *p_ == '[' || *p_ == 'n') return false;
        if (!scalar(f, l.items.emplace_back(), false)) return false;
      }
      if (!next(']', more)) return false;
    }
    return true;
  }

  // Whether the text at p_ (after a key's opening quote) is the key at `guess` of an object's
  // `count` declared keys, with its closing quote: then its position, else -1. Declared keys
  // hold no quote, backslash or control character and are valid UTF-8, so such a key needs no
  // scan; the common case, records keeping the declared order, costs a compare or two of
  // eight bytes.
  std::int64_t expected_key(const name_node::key_head* heads, std::size_t count,
                            std::size_t guess) const {
    if (guess >= count || end_ - p_ < 24) return -1;
    const name_node::key_head& h = heads[guess];
    const std::size_t size = h.size;
    if (size > max_key_ || p_[size] != '"') return -1;
    std::uint64_t head;
    std::memcpy(&head, p_, 8);
    if ((head & h.mask) != h.head) return -1;
    if (size > 8) {
      std::uint64_t tail;
      std::memcpy(&tail, p_ + size - 8, 8);
      if (tail != h.tail) return -1;
    }
    return static_cast<std::int64_t>(guess);
  }

  // A key outside the declared names: false when the object had it already (a duplicate) or
  // has too many to scan.
  bool other_key(std::string_view key, std::size_t first) {
    const std::uint64_t h = name_node::key_hash(key);
    if (others_.size() - first >= plain_other_keys) return false;
    for (std::size_t i = first; i < others_.size(); ++i)
      if (others_[i].first == h && others_[i].second == key) return false;
    others_.emplace_back(h, key);
    return true;
  }

  // An object at trie node `node` of `schema` (-1: not declared) filling `rec`;
  // `subject_level` segments of the subject path lead here (-1: none).
  bool object(const record_schema* schema, std::int64_t node, record_instance* rec,
              int subject_level, std::size_t depth) {
    if (depth > max_depth_) return false;
    ++p_;
    space();
    if (p_ != end_ && *p_ == '}') {
      ++p_;
      return true;
    }
    const name_node* n = node >= 0 ? &schema->nodes[static_cast<std::size_t>(node)] : nullptr;
    // The declared keys here (none in an object not declared), looked at for every key.
    const name_node::key_head* heads = n ? n->heads.data() : nullptr;
    const std::size_t key_count = n ? n->heads.size() : 0;
    if (key_count > 64) return false;
    const std::size_t first_other = others_.size();
    std::uint64_t seen = 0;  // declared keys met, by position
    std::size_t guess = 0;   // the position the next key likely has
    // The subject path's segment at this level, if it leads here.
    const auto& path = options_.subject_path;
    const bool subject_here =
        subject_level >= 0 && static_cast<std::size_t>(subject_level) < path.size();
    const std::string_view subject_key =
        subject_here ? std::string_view(path[static_cast<std::size_t>(subject_level)])
                     : std::string_view();
    const bool subject_last =
        subject_here && static_cast<std::size_t>(subject_level) + 1 == path.size();
    for (bool more = true; more;) {
      if (p_ == end_ || *p_ != '"') return false;
      ++p_;
      std::string_view key;
      std::int64_t at = expected_key(heads, key_count, guess);
      const bool expected = at >= 0;
      if (expected) {
        key = std::string_view(p_, heads[static_cast<std::size_t>(at)].size);
        p_ += key.size() + 1;
      } else {
        if (!plain_string(key)) return false;
        if (n) at = n->position_of(key, name_node::head_of(key), guess);
      }
      // Compact text: the colon, then the value. An expected key leaves at least seven bytes
      // (expected_key wants 24 and takes at most 16 and a quote), so both can be read.
      if (expected && p_[0] == ':' && static_cast<unsigned char>(p_[1]) > ' ') {
        ++p_;
      } else {
        if (!step_over(':')) return false;
        space();
        if (p_ == end_) return false;
      }

      const field_schema* f = nullptr;
      std::int64_t child = -1;
      if (at >= 0) {
        guess = static_cast<std::size_t>(at) + 1;
        const std::uint64_t bit = std::uint64_t{1} << at;
        if (seen & bit) return false;
        seen |= bit;
        const name_node::key_head& h = heads[static_cast<std::size_t>(at)];
        if (h.child_field >= 0) {
          f = &schema->fields[static_cast<std::size_t>(h.child_field)];
        } else {
          child = h.child;
        }
      } else if (!other_key(key, first_other)) {
        return false;
      }
      bool subject = false;
      int below = -1;
      if (subject_here && key == subject_key) {
        if (subject_last) {
          subject = true;
        } else {
          below = subject_level + 1;
        }
      }

      const char c = *p_;
      if (c == 'n') {  // null: nothing is bound, and nothing is wrong
        if (!literal("null")) return false;
      } else if (c == '{') {
        if (subject || f) return false;
        if (!object(child >= 0 ? schema : nullptr, child, child >= 0 ? rec : nullptr, below,
                    depth + 1))
          return false;
      } else if (c == '[') {
        if (subject || child >= 0) return false;
        if (f) {
          if (!f->is_list || !list(*f, rec->lists[f->slot], depth + 1)) return false;
        } else if (!skip_array(depth + 1)) {
          return false;
        }
      } else if (child >= 0) {
        return false;  // a scalar where an object is declared
      } else if (f) {
        if (f->is_list || !scalar(*f, rec->cells[f->slot], subject)) return false;
      } else if (subject) {
        if (!subject_only(true)) return false;
      } else if (c == '"') {
        ++p_;
        if (!skip_string()) return false;
      } else if (!skip_value(depth)) {
        return false;
      }
      if (!next('}', more)) return false;
    }
    others_.resize(first_other);
    return true;
  }

  const char* p_;
  const char* end_;
  const bind_options& options_;
  record_facts& out_;
  std::vector<std::pair<std::uint64_t, std::string_view>>& others_;
  std::size_t max_string_;
  std::size_t max_depth_;
  std::size_t max_key_;  // the longest key expected_key compares: 16 bytes, or the string limit
};

}  // namespace

bool bind_plain_json(const record_schema& schema, std::string_view json,
                     const bind_options& options, record_facts& out) {
  thread_local std::vector<std::pair<std::uint64_t, std::string_view>> others;
  others.clear();
  plain_reader reader(json, options, out, others);
  return reader.record(schema);
}

}  // namespace carerules::detail
