// What `carerules ledger record -r RULES FACTS` keeps of each record's facts: the record as
// compact JSON without its lists (residents, equipment: most of a record's bytes; what `--by
// PATH` groups by is every scalar reached through objects), and the scalar at the
// `--responsible` path.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "carerules/facts.hpp"

namespace carerules::cli {

// The facts kept of one record, and its responsible (both nullopt for text that is not a JSON
// object). Numbers keep their text in the JSON; the responsible is written as the reports
// write numbers (1.50 -> 1.5), as fact_at does.
struct kept {
  std::optional<std::string_view> facts, responsible;
};

// Keeps them from the events of a parse: given to the binder's parse as its observer
// (detail::decide_observing), a record is read once for its decisions and what is kept of it.
class facts_keeper final : public fact_sink {
 public:
  explicit facts_keeper(std::vector<std::string> responsible_path)
      : responsible_path_(std::move(responsible_path)) {}
  const std::vector<std::string>& responsible_path() const { return responsible_path_; }
  // Ready for another record (the memory it holds is kept).
  void reset();
  // What was kept of the record whose events it was given (views valid until reset()).
  kept result() const;

  void begin_object() override;
  void key(std::string_view k) override;
  void end_object() override;
  void begin_array() override;
  void end_array() override;
  void string_value(std::string_view s) override;
  void number_value(std::string_view lexeme) override;
  void bool_value(bool b) override;
  void null_value() override;
  void date_value(std::int64_t) override {}  // (not from JSON)
  void fault(std::string) override {}        // (the caller knows: see bind_json)

 private:
  bool value_begins();
  bool at_responsible() const;

  std::vector<std::string> responsible_path_;
  std::string text_;                        // the compact JSON
  std::optional<std::string> responsible_;  // the value at the responsible path
  bool object_ = false;                     // the document was an object
  std::vector<std::string> keys_;           // the key of the current value at each open object
  std::vector<bool> first_;                 // no member written yet, per open object
  std::size_t skip_ = 0;                    // depth inside a left-out list
  bool pending_ = false;                    // a key was read; its value has not begun
};

// The nesting keep_facts_parsed() reads: a record nested deeper keeps no facts. A parse that
// allows more (a ruleset's json_depth of this or more) is not observed for the facts kept
// (decide_observing's max_depth), since it would keep them for a record this refuses.
constexpr std::size_t kept_facts_depth = 1024;

// The same from the text alone, through Boost.JSON's parser: for a record whose parse for its
// decisions could not be observed whole (see bind_json). Views valid until the next call on
// this thread.
kept keep_facts_parsed(std::string_view text, const std::vector<std::string>& responsible_path);

}  // namespace carerules::cli
