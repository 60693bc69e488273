// Binding facts to a record schema: JSON text, or events from another source.
//
// Nothing here throws on bad input. Every fault becomes a `record_error` with the JSON pointer
// where it was found; the faulty fact reads as missing and the rest of the record is kept.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "carerules/facts.hpp"
#include "facts/facts.hpp"

namespace carerules::detail {

// Appends "/segment" to a JSON pointer, escaping `~` and `/` (RFC 6901).
void append_pointer_segment(std::string& out, std::string_view segment);

// The record error for nesting past the `json_depth` limit.
std::string depth_message(std::size_t depth);

// The producer's side of binding is public (include/carerules/facts.hpp).
using carerules::fact_sink;

struct bind_options {
  fact_limits limits;
  std::vector<std::string> subject_path{"id"};  // dotted path of the subject id
};

// Fills `out` (freshly constructed, or emptied by record_facts::clear()) from events. Use:
//   binder b(schema, options, out);  ...events...;  b.finish();
class binder final : public fact_sink {
 public:
  binder(const record_schema& schema, const bind_options& options, record_facts& out);
  ~binder() override;
  void begin_object() override;
  void key(std::string_view k) override;
  void end_object() override;
  void begin_array() override;
  void end_array() override;
  void string_value(std::string_view s) override;
  void number_value(std::string_view lexeme) override;
  void bool_value(bool b) override;
  void null_value() override;
  void date_value(std::int64_t days) override;
  void fault(std::string message) override;
  // Applies defaults to absent facts and checks the top level was an object.
  void finish();
  // The text being parsed, alive until finish(): keys that lie inside it are kept as views
  // instead of copies (the JSON reader's unescaped keys).
  void set_source(std::string_view text);
  // The current JSON pointer ("/facility/beds", "/residents/2/ability").
  std::string pointer() const;

 private:
  struct impl;
  impl* impl_;
};

// Parses one JSON text (a whole record) and binds it. A text that is not valid JSON or not
// an object makes `out.unreadable` true with an error at "" (or at the pointer reached).
// A record whose facts could not be read because reading stopped at a limit (nesting past
// json_depth, a line past line_bytes): every declared fact is in error (none missing, so no
// default stands in for what was not read), with `message` at `pointer`. Evaluated, it gives
// a report of the usual shape: what reads facts is undetermined, the error says why.
record_facts facts_not_read(const record_schema& schema, std::string pointer, std::string message);

void bind_json(const record_schema& schema, std::string_view json, const bind_options& options,
               record_facts& out);
// The same, with every event of the parse also given to `observer` (a caller that keeps
// something of the text gets it in the same pass). `observed` is true afterwards when the
// observer saw the whole text, read as it is: no fault (invalid UTF-8, a string over the
// limit), nothing patched (a lone surrogate, an exponent out of range), no byte order mark,
// no syntax error. Otherwise what it saw is partial, and the caller reads the text its own way.
void bind_json(const record_schema& schema, std::string_view json, const bind_options& options,
               record_facts& out, fact_sink* observer, bool& observed);

// bind_json's fast path (plain_reader.cpp): binds a text that binds without a fault and
// returns true; on any other text returns false, and `out` must be cleared before the text is
// read again by bind_json's event binder. `json` has no byte order mark and is within
// line_bytes.
bool bind_plain_json(const record_schema& schema, std::string_view json,
                     const bind_options& options, record_facts& out);

// bind_json without its fast path: every text is read by Boost.JSON and the event binder
// (the plain reader's tests compare the two).
void bind_json_by_events(const record_schema& schema, std::string_view json,
                         const bind_options& options, record_facts& out);

// `--each PATH`: one record per element of the list at `each_path` (dotted), each bound with
// only the element's fields at the top level. When the text is unreadable or PATH is not a
// list, returns one unreadable record whose errors say why (pointer of PATH).
std::vector<record_facts> bind_json_each(const record_schema& schema, std::string_view json,
                                         const std::vector<std::string>& each_path,
                                         const bind_options& options);

}  // namespace carerules::detail
