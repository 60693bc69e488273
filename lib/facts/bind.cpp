// The binder: walks a record schema's name trie as fact events arrive and fills
// a record_facts by slot. The JSON reader (json_reader.cpp) and the Python
// binding produce the events.
//
// State is a stack of frames, one per open object or array. An object frame
// knows the trie node it stands for (or -1 when its subtree is not declared)
// and the keys seen so far (for duplicates); an array frame knows the list it
// fills, if any. Each value is routed by a `target` computed when its key (or
// array position) arrives. Keys are copied once into a reusable key stack,
// which serves the duplicate check, the trie lookup and the JSON pointer.

#include "facts/bind.hpp"

#include <algorithm>
#include <cstring>
#include <deque>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_set>
#include <utility>
#include <vector>

#include "facts/convert.hpp"
#include "util/date.hpp"
#include "util/decimal.hpp"
#include "util/utf8.hpp"

namespace carerules::detail {

namespace {

constexpr std::size_t npos = std::numeric_limits<std::size_t>::max();
// Values longer than this many code points are cut in messages.
constexpr std::size_t display_cut = 60;
// Objects with more keys than this get a hash set for the duplicate check.
constexpr std::size_t key_set_threshold = 16;

// At most `display_cut` code points of s, then "..." when cut.
std::string cut_for_display(std::string_view s) {
  std::size_t i = 0;
  std::size_t n = 0;
  while (i < s.size() && n < display_cut) {
    std::size_t len = 1;
    decode_utf8(s, i, len);
    i += len;
    ++n;
  }
  if (i >= s.size()) return std::string(s);
  std::string out(s.substr(0, i));
  out += "...";
  return out;
}

// A string as shown in a message: quoted, cut, quotes and backslashes escaped,
// control characters and invalid bytes made visible.
std::string quote_for_display(std::string_view s) {
  std::string raw = cut_for_display(s);
  std::string escaped;
  escaped.reserve(raw.size() + 2);
  for (char c : raw) {
    if (c == '"' || c == '\\') escaped.push_back('\\');
    escaped.push_back(c);
  }
  return "\"" + escape_for_display(escaped) + "\"";
}

// A number lexeme (JSON syntax) with an integral value, however large.
bool lexeme_is_integral(std::string_view s) {
  std::size_t i = 0;
  if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
  std::string digits;
  std::int64_t point = 0;  // digits before the decimal point
  for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i) {
    digits.push_back(s[i]);
    ++point;
  }
  if (i < s.size() && s[i] == '.') {
    for (++i; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i) {
      digits.push_back(s[i]);
    }
  }
  std::int64_t exponent = 0;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    bool negative = false;
    if (i < s.size() && (s[i] == '-' || s[i] == '+')) negative = s[i++] == '-';
    for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i) {
      if (exponent < 1'000'000'000) exponent = exponent * 10 + (s[i] - '0');
    }
    if (negative) exponent = -exponent;
  }
  const std::size_t last_nonzero = digits.find_last_not_of('0');
  if (last_nonzero == std::string::npos) return true;  // zero
  return static_cast<std::int64_t>(last_nonzero) < point + exponent;
}

const char* kind_name(in_kind k) {
  switch (k) {
    case in_kind::string:
      return "string";
    case in_kind::number:
      return "number";
    case in_kind::boolean:
      return "bool";
    case in_kind::date:
      return "date";
    case in_kind::object:
      return "object";
    case in_kind::array:
      return "array";
  }
  return "value";
}

// The value found, as a message shows it.
std::string describe(const input& in) {
  switch (in.kind) {
    case in_kind::string:
      return quote_for_display(in.text);
    case in_kind::number:
      return escape_for_display(cut_for_display(in.text));
    case in_kind::boolean:
      return in.b ? "true" : "false";
    case in_kind::date:
      return date_in_range(in.days) ? "date " + format_date(in.days)
                                    : std::string("a date out of range");
    case in_kind::object:
    case in_kind::array:
      return kind_name(in.kind);
  }
  return "value";
}

std::string format_bound(const field_schema& f, std::int64_t v) {
  if (f.type == scalar_type::number) return format_decimal(v);
  if (f.type == scalar_type::date && date_in_range(v)) return format_date(v);
  return std::to_string(v);
}

// "an int in 0..90", "one of "A", "B"", "a date (YYYY-MM-DD)".
std::string expected_description(const field_schema& f) {
  constexpr std::size_t max_shown = 12;
  std::string out;
  if (!f.enum_strings.empty() || !f.enum_numbers.empty()) {
    out = "one of ";
    const std::size_t n = std::max(f.enum_strings.size(), f.enum_numbers.size());
    for (std::size_t i = 0; i < n && i < max_shown; ++i) {
      if (i > 0) out += ", ";
      out += f.enum_strings.empty() ? format_decimal(f.enum_numbers[i])
                                    : quote_for_display(f.enum_strings[i]);
    }
    if (n > max_shown) out += ", ...";
    return out;
  }
  switch (f.type) {
    case scalar_type::bool_:
      out = "a bool";
      break;
    case scalar_type::int_:
      out = "an int";
      break;
    case scalar_type::number:
      out = "a number";
      break;
    case scalar_type::string:
      out = "a string";
      break;
    case scalar_type::date:
      out = "a date (YYYY-MM-DD)";
      break;
    case scalar_type::color:
      out = "a color (blue, yellow, orange, red)";
      break;
  }
  if (f.has_range) {
    out += " in " + format_bound(f, f.range_low) + ".." + format_bound(f, f.range_high);
  }
  return out;
}

std::int64_t color_index(std::string_view s) {
  if (s == "blue") return 0;
  if (s == "yellow") return 1;
  if (s == "orange") return 2;
  if (s == "red") return 3;
  return -1;
}

// Every declared fact below trie node `node` reads as an error (its object
// was of the wrong type), so no default stands in for it.
void mark_below(const record_schema& s, record_instance& r, std::uint32_t node) {
  for (const auto& child : s.nodes[node].children) {
    const name_node& n = s.nodes[child.second];
    if (n.field < 0) {
      mark_below(s, r, child.second);
      continue;
    }
    const field_schema& f = s.fields[static_cast<std::size_t>(n.field)];
    if (f.is_list) {
      r.lists[f.slot].state = fact_state::error;
    } else {
      r.cells[f.slot] = fact_cell{fact_state::error, {}};
    }
  }
}

}  // namespace

conversion convert_scalar(const field_schema& f, const input& in, value& v, text_store& strings) {
  if (in.kind == in_kind::number && in.has_small && convert_small(f, in.small, v))
    return conversion::ok;
  std::int64_t scaled = 0;  // numeric enums compare scaled decimals
  bool numeric = false;
  value out;
  switch (f.type) {
    case scalar_type::bool_:
      if (in.kind != in_kind::boolean) return conversion::mismatch;
      out = value::of_bool(in.b);
      break;
    case scalar_type::int_: {
      if (in.kind != in_kind::number) return conversion::mismatch;
      checked i = in.has_small ? checked(in.small) : parse_integral(in.text);
      if (!i) return lexeme_is_integral(in.text) ? conversion::outside_int : conversion::mismatch;
      if (f.has_range && (*i < f.range_low || *i > f.range_high)) return conversion::mismatch;
      if (!f.enum_numbers.empty()) {
        checked d = int_to_decimal(*i);
        if (!d) return conversion::mismatch;
        scaled = *d;
        numeric = true;
      }
      out = value::of_int(*i);
      break;
    }
    case scalar_type::number: {
      if (in.kind != in_kind::number) return conversion::mismatch;
      checked d = in.has_small ? checked(in.small * decimal_scale) : parse_decimal(in.text);
      if (!d) return conversion::outside_number;
      if (f.has_range && (*d < f.range_low || *d > f.range_high)) return conversion::mismatch;
      scaled = *d;
      numeric = true;
      out = value::of_number(*d);
      break;
    }
    case scalar_type::string:
      if (in.kind != in_kind::string) return conversion::mismatch;
      // The readers stop such strings before here.
      if (in.text.size() > max_string_bytes) return conversion::too_long;
      if (!f.enum_strings.empty() &&
          std::find(f.enum_strings.begin(), f.enum_strings.end(), in.text) == f.enum_strings.end())
        return conversion::mismatch;
      break;
    case scalar_type::date: {
      std::optional<std::int64_t> d;
      if (in.kind == in_kind::string) {
        d = parse_date(in.text);
      } else if (in.kind == in_kind::date && date_in_range(in.days)) {
        d = in.days;
      }
      if (!d) return conversion::mismatch;
      if (f.has_range && (*d < f.range_low || *d > f.range_high)) return conversion::mismatch;
      out = value::of_date(*d);
      break;
    }
    case scalar_type::color: {
      const std::int64_t c = in.kind == in_kind::string ? color_index(in.text) : -1;
      if (c < 0) return conversion::mismatch;
      out = value::of_color(c);
      break;
    }
  }
  if (numeric && !f.enum_numbers.empty() &&
      std::find(f.enum_numbers.begin(), f.enum_numbers.end(), scaled) == f.enum_numbers.end())
    return conversion::mismatch;
  // A string is copied only once it is known to bind.
  v = f.type == scalar_type::string ? value::of_string(strings.add(in.text)) : out;
  return conversion::ok;
}

// Facts reused for one record after another allocate nothing once they have seen the largest
// (a list's element records go to its spares, with their memory).
void reset_instance(record_instance& r, const record_schema& s) {
  if (r.cells.size() == s.scalar_count) {
    // An absent cell is all zero bytes: one fill of the whole array (none for no cells, whose
    // data() may be null).
    static_assert(std::is_trivially_copyable_v<fact_cell> && fact_state::absent == fact_state{} &&
                  vkind::unknown == vkind{});
    if (!r.cells.empty())
      std::memset(static_cast<void*>(r.cells.data()), 0, r.cells.size() * sizeof(fact_cell));
  } else {
    r.cells.assign(s.scalar_count, fact_cell{});
  }
  r.lists.resize(s.list_count);
  for (list_instance& l : r.lists) {
    l.state = fact_state::absent;
    for (record_instance& e : l.records) l.spare.push_back(std::move(e));
    l.records.clear();
    l.items.clear();
  }
}

record_instance& list_instance::add_element(const record_schema* element) {
  if (spare.empty()) {
    records.emplace_back();
  } else {
    records.push_back(std::move(spare.back()));
    spare.pop_back();
  }
  record_instance& r = records.back();
  if (element) {
    reset_instance(r, *element);
  } else {
    r.cells.clear();
    r.lists.clear();
  }
  return r;
}

void apply_defaults(const record_schema& s, record_instance& r) {
  for (const std::uint32_t i : s.defaulted) {
    const field_schema& f = s.fields[i];
    if (f.slot >= r.cells.size()) continue;
    fact_cell& cell = r.cells[f.slot];
    if (cell.state == fact_state::absent) {
      cell.state = fact_state::defaulted;
      cell.v = *f.default_value;
    }
  }
  for (const std::uint32_t i : s.record_lists) {
    const field_schema& f = s.fields[i];
    if (f.slot >= r.lists.size()) continue;
    for (record_instance& e : r.lists[f.slot].records) apply_defaults(*f.element, e);
  }
}

void append_pointer_segment(std::string& out, std::string_view segment) {
  out.push_back('/');
  for (char c : segment) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out.push_back(c);
    }
  }
}

std::string depth_message(std::size_t depth) {
  return "nesting deeper than " + std::to_string(depth) + (depth == 1 ? " level" : " levels") +
         " (limit json_depth)";
}

struct binder::impl {
  // Where the next value goes.
  struct target {
    enum kind_t : std::uint8_t {
      skip,    // not declared (or a duplicate): checked for syntax only
      node,    // an object on the way to declared paths
      field,   // a declared scalar or list
      item,    // an element of a list<T>
      record,  // an element of a list { ... }
    } kind = skip;
    bool subject = false;             // the value is the subject
    int subject_level = -1;           // an object here matched this many segments
    std::uint32_t node_index = 0;     // node
    const field_schema* f = nullptr;  // field; item/record: the list
    list_instance* list = nullptr;    // item/record
  };

  // One record being filled: the top-level one or a list element.
  struct context {
    const record_schema* schema;
    record_instance* rec;
    std::size_t parent;              // context index; unused for the root
    const field_schema* list_field;  // the list holding this record, or null
    std::size_t root_frame;          // frame index of the record's object
  };

  struct frame {
    bool is_array = false;
    std::size_t ctx = 0;
    // Objects.
    std::int64_t node = -1;      // trie node in the context's schema; -1: skipped
    int subject_level = -1;      // segments of subject_path matched to reach here
    std::size_t key_begin = 0;   // first key slot of this object
    std::size_t key_count = 0;   // distinct keys so far
    std::size_t cur_key = npos;  // slot of the current key
    bool key_fault = false;      // the current key was faulty (no slot)
    std::unique_ptr<std::unordered_set<std::string_view>> key_set;
    target pending;
    // Arrays.
    std::size_t index = 0;  // the current element
    const field_schema* list_field = nullptr;
    list_instance* list = nullptr;

    // First key slot free for a child object.
    std::size_t key_end() const {
      if (is_array) return key_begin;
      return cur_key != npos ? cur_key + 1 : key_begin + key_count;
    }
  };

  // The stacks of the last binder on this thread, handed to the next one: a thread binding
  // many records allocates them once.
  struct scratch {
    std::vector<frame> frames;
    std::vector<context> contexts;
    std::vector<std::unique_ptr<std::string>> keys;
    std::vector<std::string_view> key_views;
    std::vector<std::uint64_t> key_hashes;
  };
  static scratch& pool() {
    thread_local scratch s;
    return s;
  }

  impl(const record_schema& s, const bind_options& o, record_facts& r)
      : schema(s),
        options(o),
        out(r),
        frames(std::move(pool().frames)),
        contexts(std::move(pool().contexts)),
        keys(std::move(pool().keys)),
        key_views(std::move(pool().key_views)),
        key_hashes(std::move(pool().key_hashes)) {
    frames.clear();
    contexts.clear();
    reset_instance(out.root, schema);
    contexts.push_back({&schema, &out.root, 0, nullptr, 0});
  }
  ~impl() {
    frames.clear();
    scratch& p = pool();
    p.frames = std::move(frames);
    p.contexts = std::move(contexts);
    p.keys = std::move(keys);
    p.key_views = std::move(key_views);
    p.key_hashes = std::move(key_hashes);
  }
  impl(const impl&) = delete;
  impl& operator=(const impl&) = delete;

  const record_schema& schema;
  const bind_options& options;
  record_facts& out;
  std::vector<frame> frames;
  std::vector<context> contexts;
  // The key stack; slots are reused. A key is a view into the source text when it lies there
  // (set_source), else into its slot's own copy in `keys`: each copy is a separate
  // allocation, so the views stay valid when the stack grows.
  std::vector<std::unique_ptr<std::string>> keys;
  std::vector<std::string_view> key_views;  // the key of each slot
  // name_node::key_hash of each slot: the duplicate scan compares these (a contiguous vector)
  // and looks at the strings only when two hashes agree.
  std::vector<std::uint64_t> key_hashes;
  std::string_view source;  // the text being parsed, if known
  bool started = false;
  bool dead = false;  // the record is unreadable: events are ignored

  // ---- pointers, paths and errors ----

  std::string pointer() const {
    std::string p;
    for (const frame& f : frames) {
      if (f.is_array) {
        p.push_back('/');
        p += std::to_string(f.index);
      } else if (f.cur_key != npos) {
        append_pointer_segment(p, key_views[f.cur_key]);
      }
    }
    return p;
  }

  // "residents[]." for a record in list `residents` of the top-level record.
  std::string context_prefix(std::size_t ctx) const {
    if (ctx == 0 || contexts[ctx].list_field == nullptr) return {};
    return context_prefix(contexts[ctx].parent) + contexts[ctx].list_field->path + "[].";
  }

  std::string field_path(const field_schema& f) const {
    return context_prefix(frames.back().ctx) + f.path;
  }

  // Dotted path of the object the current key leads to.
  std::string node_path() const {
    const std::size_t ctx = frames.back().ctx;
    std::string p = context_prefix(ctx);
    bool first = true;
    for (std::size_t i = contexts[ctx].root_frame; i < frames.size(); ++i) {
      if (frames[i].is_array || frames[i].cur_key == npos) continue;
      if (!first) p.push_back('.');
      p += key_views[frames[i].cur_key];
      first = false;
    }
    return p;
  }

  void error(std::string message) { out.errors.push_back({pointer(), "", std::move(message)}); }

  void fail_record(std::string ptr, std::string message) {
    out.errors.clear();
    out.errors.push_back({std::move(ptr), "", std::move(message)});
    out.unreadable = true;
    out.subject.reset();
    reset_instance(out.root, schema);
    dead = true;
  }

  // ---- routing ----

  record_instance& rec() { return *contexts[frames.back().ctx].rec; }

  // The target of the value now arriving (the top frame's key or element).
  target take_target() {
    frame& top = frames.back();
    if (!top.is_array) return top.pending;
    target t;
    if (top.list == nullptr) return t;
    if (top.index >= options.limits.list) {
      if (top.index == options.limits.list) {
        error("list `" + field_path(*top.list_field) + "` has more than " +
              std::to_string(options.limits.list) + " elements (limit list)");
        top.list->state = fact_state::error;
      }
      return t;
    }
    t.kind = top.list_field->of_records ? target::record : target::item;
    t.f = top.list_field;
    t.list = top.list;
    return t;
  }

  // The value at the top frame's key or element is complete.
  void value_done() {
    if (frames.empty()) return;
    frame& top = frames.back();
    if (top.is_array) {
      ++top.index;
    } else {
      top.cur_key = npos;
      top.key_fault = false;
      top.pending = target{};
    }
  }

  // Adds an element record to a list { ... } and returns it.
  record_instance& push_record(const target& t) { return t.list->add_element(t.f->element.get()); }

  void element_error(const target& t, const std::string& message) {
    error(message);
    t.list->state = fact_state::error;
    if (t.kind == target::item) {
      t.list->items.push_back(fact_cell{fact_state::error, {}});
    } else {
      push_record(t);
    }
  }

  void field_error(const field_schema& f, std::string message) {
    error(std::move(message));
    if (f.is_list) {
      rec().lists[f.slot].state = fact_state::error;
    } else {
      rec().cells[f.slot] = fact_cell{fact_state::error, {}};
    }
  }

  void node_error(const target& t, in_kind found) {
    error("expected an object for `" + node_path() + "`, got " + kind_name(found));
    mark_below(*contexts[frames.back().ctx].schema, rec(), t.node_index);
  }

  void subject_error(in_kind found) {
    std::string path;
    for (const std::string& s : options.subject_path) {
      if (!path.empty()) path.push_back('.');
      path += s;
    }
    error("the subject `" + path + "` must be a string or number, got " + kind_name(found));
  }

  // Checks a scalar against a field (or, `element`, a list<T>'s element
  // type) and converts it. On failure sets `message`.
  bool convert(const field_schema& f, bool element, const input& in, value& v,
               std::string& message) {
    auto mismatch = [&](const char* note = "") {
      message = "expected " + expected_description(f) + " for `" + field_path(f) +
                (element ? "[]" : "") + "`, got " + describe(in) + note;
      return false;
    };
    switch (convert_scalar(f, in, v, out.strings)) {
      case conversion::ok:
        return true;
      case conversion::mismatch:
        return mismatch();
      case conversion::outside_int:
        return mismatch(" (outside the int range)");
      case conversion::outside_number:
        return mismatch(" (outside the number range)");
      case conversion::too_long:
        message = "a string of " + std::to_string(in.text.size()) + " bytes for `" + field_path(f) +
                  "` is longer than a fact holds";
        return false;
    }
    return mismatch();
  }

  // A scalar value (not null) at the current position.
  void scalar(const input& in) {
    if (dead) return;
    if (frames.empty()) {
      fail_record("", std::string("expected a JSON object, got ") + kind_name(in.kind));
      out.not_an_object = true;
      return;
    }
    const target t = take_target();
    switch (t.kind) {
      case target::skip:
        break;
      case target::node:
        node_error(t, in.kind);
        break;
      case target::field: {
        const field_schema& f = *t.f;
        if (f.is_list) {
          field_error(f, "expected a list for `" + field_path(f) + "`, got " + kind_name(in.kind));
          break;
        }
        value v;
        std::string message;
        if (convert(f, false, in, v, message)) {
          rec().cells[f.slot] = fact_cell{fact_state::present, v};
        } else {
          field_error(f, std::move(message));
        }
        break;
      }
      case target::item: {
        value v;
        std::string message;
        if (convert(*t.f, true, in, v, message)) {
          t.list->items.push_back(fact_cell{fact_state::present, v});
        } else {
          element_error(t, message);
        }
        break;
      }
      case target::record:
        element_error(t, "expected an object for an element of `" + field_path(*t.f) + "`, got " +
                             kind_name(in.kind));
        break;
    }
    if (t.subject) {
      if (in.kind == in_kind::string) {
        out.subject = std::string(in.text);
      } else if (in.kind == in_kind::number) {
        // Written as the report writes numbers (7.50 -> "7.5", 1e2 and 1.0 -> "100", "1"),
        // so the same id gives the same subject from JSON text, Python floats or a CSV.
        out.subject = number_text(in.text);
      } else {
        subject_error(in.kind);
      }
    }
    value_done();
  }

  // An object or array opens at the current position; returns the new frame.
  void open(bool is_array) {
    if (dead) return;
    const in_kind kind = is_array ? in_kind::array : in_kind::object;
    if (frames.size() >= options.limits.json_depth) {
      fail_record(pointer(), depth_message(options.limits.json_depth));
      out.stopped_at_limit = true;
      return;
    }
    if (frames.empty()) {
      if (is_array || started) {
        fail_record("", std::string("expected a JSON object, got ") + kind_name(kind));
        out.not_an_object = true;
        return;
      }
      started = true;
      frame root;
      root.node = schema.nodes.empty() ? -1 : 0;
      root.subject_level = options.subject_path.empty() ? -1 : 0;
      frames.push_back(std::move(root));
      return;
    }
    const target t = take_target();
    frame nf;
    nf.is_array = is_array;
    nf.ctx = frames.back().ctx;
    nf.key_begin = frames.back().key_end();
    switch (t.kind) {
      case target::skip:
        break;
      case target::node:
        if (is_array) {
          node_error(t, kind);
        } else {
          nf.node = t.node_index;
        }
        break;
      case target::field: {
        const field_schema& f = *t.f;
        if (is_array && f.is_list) {
          list_instance& li = rec().lists[f.slot];
          li.state = fact_state::present;
          nf.list = &li;
          nf.list_field = &f;
        } else if (f.is_list) {
          field_error(f, "expected a list for `" + field_path(f) + "`, got object");
        } else {
          value v;
          std::string message;
          convert(f, false, input{kind, {}}, v, message);
          field_error(f, std::move(message));
        }
        break;
      }
      case target::item: {
        value v;
        std::string message;
        convert(*t.f, true, input{kind, {}}, v, message);
        element_error(t, message);
        break;
      }
      case target::record:
        if (is_array) {
          element_error(
              t, "expected an object for an element of `" + field_path(*t.f) + "`, got array");
        } else {
          record_instance& r = push_record(t);
          contexts.push_back({t.f->element.get(), &r, nf.ctx, t.f, frames.size()});
          nf.ctx = contexts.size() - 1;
          nf.node = t.f->element && !t.f->element->nodes.empty() ? 0 : -1;
        }
        break;
    }
    if (t.subject) subject_error(kind);
    if (!is_array) nf.subject_level = t.subject_level;
    frames.push_back(std::move(nf));
  }

  void close() {
    if (dead || frames.empty()) return;
    const std::size_t ctx = frames.back().ctx;
    if (ctx != 0 && contexts[ctx].root_frame == frames.size() - 1) {
      contexts.pop_back();
    }
    frames.pop_back();
    value_done();
  }

  bool duplicate(frame& f, std::size_t slot) {
    const std::string_view k = key_views[slot];
    if (f.key_set) return f.key_set->count(k) != 0;
    const std::uint64_t h = key_hashes[slot];
    for (std::size_t i = f.key_begin; i < slot; ++i) {
      if (key_hashes[i] == h && key_views[i] == k) return true;
    }
    return false;
  }

  void key(std::string_view k) {
    if (dead || frames.empty() || frames.back().is_array) return;
    frame& f = frames.back();
    const std::size_t slot = f.key_begin + f.key_count;
    if (key_hashes.size() <= slot) {
      key_hashes.resize(slot + 1);
      key_views.resize(slot + 1);
    }
    const auto at = reinterpret_cast<std::uintptr_t>(k.data());
    const auto begin = reinterpret_cast<std::uintptr_t>(source.data());
    if (at >= begin && at - begin <= source.size() && k.size() <= source.size() - (at - begin)) {
      key_views[slot] = k;
    } else {
      while (keys.size() <= slot) keys.push_back(std::make_unique<std::string>());
      keys[slot]->assign(k);
      key_views[slot] = *keys[slot];
    }
    key_hashes[slot] = name_node::key_hash(k);
    f.cur_key = slot;
    f.pending = target{};
    if (duplicate(f, slot)) {
      error("duplicate key " + quote_for_display(k));
      // The first value was bound already; with two values neither can be trusted, so a
      // declared fact (or every fact below a declared object) reads as an error.
      if (f.node >= 0) {
        const record_schema& s = *contexts[f.ctx].schema;
        const name_node& n = s.nodes[static_cast<std::size_t>(f.node)];
        if (const std::int64_t child = n.find_child(key_views[slot]); child >= 0) {
          const name_node& c = s.nodes[static_cast<std::size_t>(child)];
          if (c.field >= 0) {
            const field_schema& fs = s.fields[static_cast<std::size_t>(c.field)];
            if (fs.is_list)
              rec().lists[fs.slot].state = fact_state::error;
            else
              rec().cells[fs.slot] = fact_cell{fact_state::error, {}};
          } else {
            mark_below(s, rec(), static_cast<std::uint32_t>(child));
          }
        }
      }
      return;
    }
    ++f.key_count;
    if (f.key_set) {
      f.key_set->insert(key_views[slot]);
    } else if (f.key_count > key_set_threshold) {
      f.key_set = std::make_unique<std::unordered_set<std::string_view>>();
      for (std::size_t i = f.key_begin; i <= slot; ++i) {
        f.key_set->insert(key_views[i]);
      }
    }
    target t;
    if (f.node >= 0) {
      const record_schema& s = *contexts[f.ctx].schema;
      const name_node& n = s.nodes[static_cast<std::size_t>(f.node)];
      if (const std::int64_t child = n.find_child(key_views[slot]); child >= 0) {
        const name_node& c = s.nodes[static_cast<std::size_t>(child)];
        if (c.field >= 0) {
          t.kind = target::field;
          t.f = &s.fields[static_cast<std::size_t>(c.field)];
        } else {
          t.kind = target::node;
          t.node_index = static_cast<std::uint32_t>(child);
        }
      }
    }
    if (f.subject_level >= 0 && f.ctx == 0) {
      const auto level = static_cast<std::size_t>(f.subject_level);
      if (level < options.subject_path.size() && options.subject_path[level] == k) {
        if (level + 1 == options.subject_path.size()) {
          t.subject = true;
        } else {
          t.subject_level = f.subject_level + 1;
        }
      }
    }
    f.pending = t;
  }

  void null() {
    if (dead) return;
    if (frames.empty()) {
      fail_record("", "expected a JSON object, got null");
      return;
    }
    const target t = take_target();
    if (t.kind == target::item || t.kind == target::record) {
      element_error(t, "null element in list `" + field_path(*t.f) + "`");
    }
    value_done();
  }

  void fault(std::string message) {
    if (dead) return;
    if (frames.empty()) {
      fail_record("", std::move(message));
      return;
    }
    frame& top = frames.back();
    if (!top.is_array && top.cur_key == npos && !top.key_fault) {
      // A faulty key: its value is skipped.
      error(std::move(message));
      top.key_fault = true;
      top.pending = target{};
      return;
    }
    const target t = take_target();
    switch (t.kind) {
      case target::skip:
        error(std::move(message));
        break;
      case target::node:
        error(std::move(message));
        mark_below(*contexts[top.ctx].schema, rec(), t.node_index);
        break;
      case target::field:
        field_error(*t.f, std::move(message));
        break;
      case target::item:
      case target::record:
        element_error(t, message);
        break;
    }
    value_done();
  }

  void finish() {
    if (dead && out.stopped_at_limit) {  // keep the report's shape: see facts_not_read
      record_error e = std::move(out.errors.front());
      out = facts_not_read(schema, std::move(e.path), std::move(e.message));
      return;
    }
    if (dead) return;
    if (!started) {
      fail_record("", "expected a JSON object, got nothing");
      return;
    }
    if (!frames.empty()) {
      fail_record("", "the record ended inside an object or array");
      return;
    }
    apply_defaults(schema, out.root);
  }
};

binder::binder(const record_schema& schema, const bind_options& options, record_facts& out)
    : impl_(new impl(schema, options, out)) {}

binder::~binder() { delete impl_; }

void binder::set_source(std::string_view text) { impl_->source = text; }
void binder::begin_object() { impl_->open(false); }
void binder::key(std::string_view k) { impl_->key(k); }
void binder::end_object() { impl_->close(); }
void binder::begin_array() { impl_->open(true); }
void binder::end_array() { impl_->close(); }

void binder::string_value(std::string_view s) { impl_->scalar(input{in_kind::string, s}); }

void binder::number_value(std::string_view lexeme) {
  impl_->scalar(input{in_kind::number, lexeme});
}

void binder::bool_value(bool b) { impl_->scalar(input{in_kind::boolean, {}, b}); }

void binder::null_value() { impl_->null(); }

void binder::date_value(std::int64_t days) { impl_->scalar(input{in_kind::date, {}, false, days}); }

void binder::fault(std::string message) { impl_->fault(std::move(message)); }

void binder::finish() { impl_->finish(); }

std::string binder::pointer() const { return impl_->pointer(); }

}  // namespace carerules::detail
