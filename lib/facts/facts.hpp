// Facts bound to a compiled ruleset's input schema.
//
// The checker turns the `input` declarations into a `record_schema`: every declared scalar
// gets a cell slot, every declared list a list slot, and nested objects of the JSON become a
// trie of names. Binding a record fills a `record_facts` by slot, so evaluation reads facts by
// index and never looks a name up. A record is filled from events (`fact_sink`), which the
// JSON reader (JSON text) and the Python binding (dicts) both produce.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace carerules::detail {

// ---- values -------------------------------------------------------------------------------

enum class vkind : std::uint8_t {
  unknown,  // missing, undetermined or errored
  none,     // the no-level value of grades
  boolean,  // i: 0/1
  integer,  // i
  number,   // i: scaled by 10^6
  string,   // s
  date,     // i: day number
  color,    // i: 0 blue .. 3 red
  level,    // i: position in its levels(...) scale, 0 lowest
  list,     // i: unused; p: the list instance (evaluation-time only)
  record,   // p: the record instance (evaluation-time only)
};

// 16 bytes, so that the evaluator passes and returns values in registers. `i` holds the
// number, date, colour or level, or for a string, list or record the address of its bytes or
// instance (p()). `n` holds a string's length in bytes (at most `max_string_bytes`: every
// reader of strings, JSON, Python or the rules' own literals, caps them below that), a
// list's source (source(): an input id, or hazards_list / literal_list) and a record's hazard
// index (0 for a record element of a list).
struct value {
  vkind kind = vkind::unknown;
  std::uint32_t n = 0;
  std::int64_t i = 0;

  static constexpr std::int32_t hazards_list = -1;  // the `hazards` list
  static constexpr std::int32_t literal_list = -2;  // p(): the list literal's node

  static value of_bool(bool b) { return {vkind::boolean, 0, b ? 1 : 0}; }
  static value of_int(std::int64_t v) { return {vkind::integer, 0, v}; }
  static value of_number(std::int64_t scaled) { return {vkind::number, 0, scaled}; }
  static value of_string(std::string_view v) {
    return {vkind::string, static_cast<std::uint32_t>(v.size()), address(v.data())};
  }
  static value of_date(std::int64_t d) { return {vkind::date, 0, d}; }
  static value of_color(std::int64_t c) { return {vkind::color, 0, c}; }
  static value of(vkind k, std::int64_t i) { return {k, 0, i}; }
  static value list_of(std::int32_t source, const void* instance) {
    return {vkind::list, static_cast<std::uint32_t>(source), address(instance)};
  }
  static value record_of(std::uint32_t hazard, const void* instance) {
    return {vkind::record, hazard, address(instance)};
  }
  bool known() const { return kind != vkind::unknown; }
  // The text of a string value (empty for any other kind).
  std::string_view s() const {
    return kind == vkind::string ? std::string_view(static_cast<const char*>(p()), n)
                                 : std::string_view();
  }
  const void* p() const { return reinterpret_cast<const void*>(static_cast<std::intptr_t>(i)); }
  std::int32_t source() const { return static_cast<std::int32_t>(n); }

 private:
  static std::int64_t address(const void* p) {
    return static_cast<std::int64_t>(reinterpret_cast<std::intptr_t>(p));
  }
};
static_assert(sizeof(value) == 16);

// The longest string a value holds (its length is 32 bits).
inline constexpr std::size_t max_string_bytes = UINT32_MAX;

// ---- schema -------------------------------------------------------------------------------

enum class scalar_type : std::uint8_t { bool_, int_, number, string, date, color };

struct record_schema;

// One declared input: a scalar, a list of scalars, or a list of records.
struct field_schema {
  std::string path;         // dotted path relative to its record ("facility.beds", "ability")
  std::string label;        // the declaration's label, may be empty
  std::uint32_t order = 0;  // position in the flattened declaration order (for `missing`)
  bool is_list = false;
  bool of_records = false;                 // is_list: list { ... } rather than list<T>
  scalar_type type = scalar_type::int_;    // scalar, or list<T> element type
  std::vector<std::string> enum_strings;   // enum of strings (empty: not such an enum)
  std::vector<std::int64_t> enum_numbers;  // enum of numbers, scaled by 10^6
  bool has_range = false;
  std::int64_t range_low = 0, range_high = 0;  // int: plain; number: scaled
  std::optional<value> default_value;          // strings point into the schema's storage
  std::uint32_t slot = 0;                      // index into cells (scalars) or lists
  std::shared_ptr<record_schema> element;      // of_records: the element's schema
};

// Trie of JSON object names. A node is an object on the way to declared paths; a key
// either leads to another node or ends at a field.
struct name_node {
  std::unordered_map<std::string, std::uint32_t> children;  // key -> node index
  // The same children in declaration order, each with its key's head (head_of): a few dozen
  // keys are found faster by comparing heads than by hashing (the binders look up every key
  // of every record), and a key's position here names it for the duplicate check.
  std::vector<std::pair<std::string, std::uint32_t>> ordered;
  struct key_head {
    std::uint64_t head;    // head_of(key)
    std::uint64_t tail;    // a longer key's last eight bytes (0 for up to eight)
    std::size_t size;      // the key's length
    std::uint64_t mask;    // the bytes of a first eight-byte load that are the key's
    std::uint32_t child;   // the child node
    int child_field = -1;  // its field (record_schema::finish), or -1: an object
  };
  std::vector<key_head> heads;  // parallel to `ordered`
  int field = -1;  // index into record_schema::fields when this key is a declared input

  // The first eight bytes of a key (fewer, zero-filled, for a shorter one).
  static std::uint64_t head_of(std::string_view key) {
    std::uint64_t h = 0;
    if (key.size() >= 8) {
      std::memcpy(&h, key.data(), 8);
    } else {
      // Byte by byte: a short copy then an 8-byte load would stall on store forwarding.
      for (std::size_t i = 0; i < key.size(); ++i)
        h |= static_cast<std::uint64_t>(static_cast<unsigned char>(key[i])) << (8 * i);
    }
    return h;
  }

  void add_child(const std::string& key, std::uint32_t node) {
    children.emplace(key, node);
    ordered.emplace_back(key, node);
    const std::uint64_t mask =
        key.size() >= 8 ? ~std::uint64_t{0} : (std::uint64_t{1} << (8 * key.size())) - 1;
    heads.push_back({head_of(key), tail_of(key), key.size(), mask, node, -1});
  }
  static std::uint64_t tail_of(std::string_view key) {
    std::uint64_t t = 0;
    if (key.size() > 8) std::memcpy(&t, key.data() + key.size() - 8, 8);
    return t;
  }
  // Any key's hash, in constant time from its length, head and tail: the binders' duplicate
  // checks compare hashes first and the strings only when two agree.
  static std::uint64_t key_hash(std::string_view key) {
    return (head_of(key) * 0x9E3779B97F4A7C15ull) ^
           (tail_of(key) + key.size()) * 0xC2B2AE3D27D4EB4Full;
  }
  // Whether the child at `i` is under `key` (with its head_of and tail_of).
  bool is_at(std::size_t i, std::string_view key, std::uint64_t head, std::uint64_t tail) const {
    const key_head& h = heads[i];
    if (h.head != head || h.size != key.size() || h.tail != tail) return false;
    // Up to sixteen bytes, head and tail cover the key.
    return key.size() <= 16 ||
           std::memcmp(ordered[i].first.data() + 8, key.data() + 8, key.size() - 16) == 0;
  }
  // The position in `ordered` of the child under `key`, or -1; `guess` is tried first (keys
  // usually come in the order they were declared).
  std::int64_t position_of(std::string_view key, std::uint64_t head, std::size_t guess = 0) const {
    const std::uint64_t tail = tail_of(key);
    if (guess < heads.size() && is_at(guess, key, head, tail))
      return static_cast<std::int64_t>(guess);
    for (std::size_t i = 0; i < heads.size(); ++i)
      if (is_at(i, key, head, tail)) return static_cast<std::int64_t>(i);
    return -1;
  }
  // The child node under `key`, or -1.
  std::int64_t find_child(std::string_view key) const {
    if (ordered.size() <= scan_limit) {
      const std::int64_t at = position_of(key, head_of(key));
      return at < 0 ? -1 : static_cast<std::int64_t>(ordered[static_cast<std::size_t>(at)].second);
    }
    auto it = children.find(std::string(key));
    return it == children.end() ? -1 : static_cast<std::int64_t>(it->second);
  }
  static constexpr std::size_t scan_limit = 64;
};

struct record_schema {
  std::vector<field_schema> fields;  // declaration order
  std::uint32_t scalar_count = 0;    // cells per record instance
  std::uint32_t list_count = 0;      // lists per record instance
  std::vector<name_node> nodes;      // nodes[0] is the record's root object
  std::deque<std::string> storage;   // owns strings that defaults point into
  // Worked out by finish(), for what binding does on every record:
  std::vector<std::uint32_t> defaulted;     // the scalar fields with a default
  std::vector<std::uint32_t> record_lists;  // the lists of records (with an element schema)

  // Once the fields and nodes are all placed: copies each child's field into its parent's
  // key_head (the plain reader finds a key's field without visiting the child node) and lists
  // the fields with defaults and the lists of records. Idempotent.
  void finish() {
    for (name_node& n : nodes)
      for (name_node::key_head& h : n.heads) h.child_field = nodes[h.child].field;
    defaulted.clear();
    record_lists.clear();
    for (std::uint32_t i = 0; i < fields.size(); ++i) {
      const field_schema& f = fields[i];
      if (f.is_list && f.of_records && f.element) record_lists.push_back(i);
      if (!f.is_list && f.default_value) defaulted.push_back(i);
    }
  }
};

// ---- bound facts --------------------------------------------------------------------------

enum class fact_state : std::uint8_t { absent, present, defaulted, error };

struct fact_cell {
  fact_state state = fact_state::absent;
  value v;  // present/defaulted: the value; otherwise unknown
};

struct list_instance;

struct record_instance {
  std::vector<fact_cell> cells;
  std::vector<list_instance> lists;
};

struct list_instance {
  fact_state state = fact_state::absent;  // error: a bad or null element, or too long
  std::vector<record_instance> records;   // list { ... }
  std::vector<fact_cell> items;           // list<T>
  // Element records of an earlier binding of these facts, kept with their memory for the
  // next (reset_instance puts them here, add_element takes them back): facts reused record
  // after record allocate nothing for a list's elements once they have seen the longest.
  std::vector<record_instance> spare;

  // A new element record at the end of `records`, reset for `element` (null: no schema, an
  // empty record).
  record_instance& add_element(const record_schema* element);
};

struct record_error {
  std::string path;  // JSON pointer ("" for the whole record)
  std::string rule;  // the declaration at fault, for evaluation errors ("" otherwise)
  std::string message;
};

// Owns the text of a record's string facts: blocks that never move (cells point into them),
// kept by clear() for the next record.
class text_store {
 public:
  std::string_view add(std::string_view s) {
    if (s.empty()) return {};
    if (blocks_.empty() || used_ + s.size() > blocks_[cur_].size) next(s.size());
    char* p = blocks_[cur_].data.get() + used_;
    std::memcpy(p, s.data(), s.size());
    used_ += s.size();
    return {p, s.size()};
  }
  void clear() {
    cur_ = 0;
    used_ = 0;
  }

 private:
  struct block {
    std::unique_ptr<char[]> data;
    std::size_t size = 0;
  };
  void next(std::size_t need) {
    if (!blocks_.empty()) ++cur_;
    while (cur_ < blocks_.size() && blocks_[cur_].size < need) ++cur_;
    if (cur_ >= blocks_.size()) {
      // The first block is small (a record's strings are usually a few dozen bytes, and
      // facts bound ahead of time are kept by the thousand); each next one doubles.
      const std::size_t grown = blocks_.empty() ? first_block : 2 * blocks_.back().size;
      const std::size_t size = std::max({need, grown, first_block});
      blocks_.push_back({std::make_unique<char[]>(size), size});
      cur_ = blocks_.size() - 1;
    }
    used_ = 0;
  }
  static constexpr std::size_t first_block = 256;
  std::vector<block> blocks_;
  std::size_t cur_ = 0, used_ = 0;
};

struct record_facts {
  // Cells point into `strings`: a copy would point into the original, so none is allowed.
  record_facts() = default;
  record_facts(const record_facts&) = delete;
  record_facts& operator=(const record_facts&) = delete;
  record_facts(record_facts&&) = default;
  record_facts& operator=(record_facts&&) = default;

  // Empties the facts for binding another record into them, keeping their memory (the
  // binder resets `root` to the schema).
  void clear() {
    strings.clear();
    errors.clear();
    subject.reset();
    unreadable = not_an_object = stopped_at_limit = false;
    syntax_line = syntax_column = 0;
  }

  record_instance root;
  text_store strings;  // owns the strings that cells point into
  std::vector<record_error> errors;
  std::optional<std::string> subject;
  // The record could not be read at all (not JSON, not an object): evaluation yields a report
  // with empty hazards, scores and grades and these errors.
  bool unreadable = false;
  // Where the text stopped being JSON (1-based line and column in code points), when that is
  // why it is unreadable; 0 otherwise. The message says the same for people.
  std::uint32_t syntax_line = 0, syntax_column = 0;
  // Unreadable because the record is not an object (an array, a number...): the text may be
  // broken JSON as well, which the reader then reports instead.
  bool not_an_object = false;
  // Reading stopped at a limit (nesting past json_depth): the binder's state is not kept;
  // the reader turns the record into facts_not_read, which keeps the report's shape.
  bool stopped_at_limit = false;
};

// ---- limits -------------------------------------------------------------------------------

struct fact_limits {
  std::size_t json_depth = 64;
  std::size_t json_string = 1u << 20;
  std::size_t list = 1'000'000;
  std::size_t line_bytes = 64u << 20;
};

}  // namespace carerules::detail
