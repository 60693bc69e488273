// Facts without JSON text: a producer describes one record as a stream of events and the
// ruleset binds them to its inputs, exactly as it binds JSON (the same type checks, the same
// errors at the same JSON pointers). The Python module feeds dicts this way; a platform can
// feed rows of its own database without writing JSON first.
//
//   carerules::bound_facts facts = rs.bind([&](carerules::fact_sink& s) {
//     s.begin_object();
//     s.key("id");        s.string_value("FJ-XM-0007");
//     s.key("facility");  s.begin_object();
//       s.key("beds");      s.number_value("120");
//       s.key("opened");    s.date_value(carerules::days_from_civil(2015, 3, 1));
//     s.end_object();
//     s.end_object();
//   });
//   carerules::report r = rs.evaluate(facts, {.asof = "2024-06-01"});
//
// A sink never throws on bad input: a value of the wrong type, an unknown key, nesting past
// the json_depth limit each become the record's error (or are skipped when no input reads
// them). A sink is used by one thread, for one record.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

// Exported from the shared library (compiled with hidden visibility).
#pragma GCC visibility push(default)

namespace carerules {

// Events describing one JSON-like document, in document order.
class fact_sink {
 public:
  virtual ~fact_sink() = default;
  virtual void begin_object() = 0;
  virtual void key(std::string_view k) = 0;  // the next value's key, in the current object
  virtual void end_object() = 0;
  virtual void begin_array() = 0;
  virtual void end_array() = 0;
  virtual void string_value(std::string_view s) = 0;       // valid UTF-8 expected
  virtual void number_value(std::string_view lexeme) = 0;  // JSON number syntax
  virtual void bool_value(bool b) = 0;
  virtual void null_value() = 0;
  virtual void date_value(std::int64_t days) = 0;  // a native date: see days_from_civil
  // A fault the producer found at the current position (invalid UTF-8, a value it cannot
  // represent): recorded at the current pointer; the current value reads as missing.
  virtual void fault(std::string message) = 0;
};

// Dates as the engine counts them: days since 1970-01-01 (negative before).
std::int64_t days_from_civil(int year, unsigned month, unsigned day);
// "YYYY-MM-DD" of a real date between 0001-01-01 and 9999-12-31, else nullopt.
std::optional<std::int64_t> parse_date(std::string_view text);
// The day as "YYYY-MM-DD"; nullopt outside 0001-01-01 .. 9999-12-31.
std::optional<std::string> format_date(std::int64_t days);

// Appends "/key" to a JSON pointer, escaping `~` and `/` as RFC 6901 says.
void append_json_pointer(std::string& pointer, std::string_view key);

}  // namespace carerules
#pragma GCC visibility pop
