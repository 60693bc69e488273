// The rectification ledger: rounds of inspection reports in, findings out.
//
// A round is what one inspection found for each subject: every hazard's status (and, when
// asked, whether a grade took a given value), with the hazard's clause, action and due date.
// A finding is one item of one subject that was present in some round. It closes in the first
// later round whose report shows the item absent; `undetermined` never closes it (no evidence
// is not evidence of rectification). A closed finding present again is a rebound. An open
// finding past its due date is overdue. Findings are derived from the recorded rounds in the
// order of their dates, so a round recorded late still takes its place in the history.
//
//   auto book = carerules::ledger::book::open("ledger.db");
//   book.record(round, observations);         // one transaction; the same round again: no change
//   for (const auto& f : book.findings("2024-09-01")) ...
//
// Storage is behind an interface (lib/ledger/store.hpp); the SQLite store is the default.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "carerules/labels.hpp"
#include "carerules/report.hpp"

#pragma GCC visibility push(default)

namespace carerules {
class ruleset;
struct decisions;
}  // namespace carerules

namespace carerules::ledger {

// A ledger that cannot be opened or written (corrupt, read-only, locked, a newer schema) or a
// request it cannot answer (an unknown round).
struct ledger_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct round_info {
  std::string id;    // as the user names it: "2024-Q2"
  std::string asof;  // YYYY-MM-DD: orders the rounds
  std::string ruleset, version, digest;
};

// One item of one subject as a round saw it.
struct observation {
  std::string subject, item;  // item: a hazard id, or "grade=value" (e.g. "risk=red")
  std::string status;         // present | absent | undetermined
  std::string title, cite, action;
  std::optional<std::string> due;  // the report's rectify.due, when it gave one
  std::optional<std::string> responsible;
  std::optional<std::string> facts;  // the subject's facts (JSON), for grouping: on one
                                     // observation of the subject (observations_of: the first)
};

struct history_entry {
  std::string round, asof, status;  // the item's status in that round
};

struct finding {
  std::string subject, item, title, cite, action;
  std::optional<std::string> due, responsible;
  std::string status = "open";          // open | overdue | closed
  bool rebound = false;                 // closed once, present again
  std::string opened;                   // the round it was first present in
  std::optional<std::string> reopened;  // the round of the last rebound
  std::optional<std::string> closed;    // the round that closed it
  std::string last_status;              // the item's status in the last round that saw it
  std::vector<history_entry> history;   // every round that saw the item, in date order
};

// Findings counted as `ledger status` counts them: open, overdue, closed, and open again
// after a rebound (not closed since).
struct finding_counts {
  std::uint64_t open = 0, overdue = 0, closed = 0, rebound = 0;
  void add(const finding& f);
};

// How a finding changed between two rounds (book::diff).
enum class change : std::uint8_t { new_finding, closed, still_open, rebound, undetermined };

struct diff_result {
  std::string from, to;
  std::vector<finding> new_findings, closed, still_open, rebound, undetermined;
};

// A grade value that makes a finding (`--include-grade risk=red`).
struct grade_pick {
  std::string name, value;
};

// The observations of one report: every hazard, and each picked grade as item "name=value"
// (present when the grade has that value, undetermined when it could not be decided, absent
// otherwise). Reports without a subject give none. `responsible` is stored with each item,
// `facts` once per subject (on its first observation).
std::vector<observation> observations_of(const report& r, const std::vector<grade_pick>& picks,
                                         const std::optional<std::string>& responsible = {},
                                         const std::optional<std::string>& facts = {});

// The same from a record's decisions (ruleset::decide, evaluated as of `asof`), without
// building its report: titles, clauses and actions are the ruleset's, due dates asof plus the
// hazard's days, exactly as the report would give them.
std::vector<observation> observations_of(const ruleset& rs, const decisions& d,
                                         const std::string& asof,
                                         const std::vector<grade_pick>& picks,
                                         const std::optional<std::string>& responsible = {},
                                         const std::optional<std::string>& facts = {});
// The same into `out`, whose observations' memory is reused (a record after another on one
// thread allocates little).
void observations_of(const ruleset& rs, const decisions& d, const std::string& asof,
                     const std::vector<grade_pick>& picks,
                     const std::optional<std::string>& responsible,
                     const std::optional<std::string>& facts, std::vector<observation>& out);

// A report read back from its JSON (what `eval --format jsonl` wrote): the subject, asof,
// ruleset, hazards and grades the ledger needs, and its errors (so that a round recorded from
// reports with errors exits 1, as `eval` did). nullopt when the text is not a JSON object.
std::optional<report> report_from_json(std::string_view text);

// The HTML pages of the ledger (the report pages' style): one subject's file, and the status
// page: counts (per group when `by` is not empty: `groups[subject]` is the subject's group) and
// every finding not closed, linking each subject to `files[subject]`. Every value is escaped.
std::string subject_page(const std::string& subject, const std::vector<finding>& findings,
                         const std::string& asof, lang language);
std::string status_page(const std::vector<finding>& findings,
                        const std::map<std::string, std::string>& files,
                        const std::map<std::string, std::string>& groups, const std::string& by,
                        const std::string& asof, lang language);

// The status page written as the findings come, for ledgers of millions of findings: add()
// each finding (any order; its file and group, when it has them), then write() the page. The
// rows of the findings not closed wait in a temporary file, so memory holds only the counts.
class status_page_writer {
 public:
  status_page_writer(std::string by, std::string asof, lang language);
  status_page_writer(status_page_writer&&) noexcept;
  ~status_page_writer();
  // Lists at most `max_rows` of the findings not closed (the overdue ones first, each kind in
  // the order added); the page then says how many more there are and links to `full_list`, a
  // file beside it that has them all. The counts always cover every finding.
  void limit_rows(std::uint64_t max_rows, std::string full_list);
  void add(const finding& f, const std::string* file, const std::string* group);
  // Gives the page in pieces, in order. Throws ledger_error when the temporary file fails.
  void write(const std::function<void(std::string_view)>& piece);

 private:
  struct state;
  std::unique_ptr<state> s_;
};

class store;

class book {
 public:
  // Opens (creating when `create`) the ledger at `path`. Throws ledger_error.
  static book open(const std::string& path, bool create = true);
  book(book&&) noexcept;
  book& operator=(book&&) noexcept;
  ~book();

  // Records a round in one transaction. Returns false when the round was recorded before
  // with the same content (nothing changes); throws ledger_error when it was recorded with
  // other content, or when a subject comes twice (a round holds one report per subject).
  bool record(const round_info& round, const std::vector<observation>& observations);

  // The same, given subject by subject without holding the round in memory: add() each
  // subject's observations, then commit(). A writer dropped before commit() records nothing.
  // One round at a time per book (open another book to record two at once).
  class round_writer {
   public:
    round_writer(round_writer&&) noexcept;
    round_writer& operator=(round_writer&&) noexcept;
    ~round_writer();
    // One subject's observations (all of one subject; none: nothing). Throws ledger_error.
    void add(const std::vector<observation>& subject);
    // The same in two steps, so that the first can run on other threads: a subject's
    // observations packed into one string with their digest (prepare touches no ledger and is
    // thread-safe), then added in the round's thread. Throws ledger_error when the
    // observations are of more than one subject.
    struct prepared {
      std::string packed;  // the observations as the round carries them (opaque)
      std::array<std::uint8_t, 32> digest{};
      std::uint32_t items = 0;           // how many observations (none: add() adds nothing)
      std::string_view subject() const;  // a view into `packed`
    };
    static prepared prepare(const std::vector<observation>& subject);
    // The same from a record's decisions, as observations_of(rs, d, ...) gives them, without
    // building them (no string is copied): what `carerules ledger record` does per record.
    static prepared prepare(const ruleset& rs, const decisions& d, const std::string& asof,
                            const std::vector<grade_pick>& picks,
                            std::optional<std::string_view> responsible,
                            std::optional<std::string_view> facts);
    void add(const prepared& subject);
    // As record() returns; throws as record() throws. Once.
    bool commit();
    std::uint64_t subjects() const { return subjects_; }
    std::uint64_t items() const { return items_; }
    // The round's description, which may be completed until commit() (a stream of reports
    // tells its date and ruleset with its first report).
    round_info& round();

   private:
    friend class book;
    struct state;
    explicit round_writer(std::unique_ptr<state> s);
    std::unique_ptr<state> state_;
    std::uint64_t subjects_ = 0, items_ = 0;
  };
  // Throws ledger_error for a round date that is given and not YYYY-MM-DD (commit() throws
  // when it is still missing or wrong).
  round_writer begin_round(const round_info& round);

  std::vector<round_info> rounds() const;  // in date order
  // Every finding as of `asof` (rounds dated after it are ignored; overdue against it).
  std::vector<finding> findings(const std::string& asof) const;
  // The same, one at a time in subject then item order, without holding them all: for
  // ledgers of millions of findings.
  void for_each_finding(const std::string& asof, const std::function<void(finding&&)>& each) const;
  // One subject's findings, every round, as of `asof`.
  std::vector<finding> subject(const std::string& subject, const std::string& asof) const;
  // What changed between two recorded rounds; a finding's status (open or overdue) is judged
  // as of `asof`, by default the date of round `to`. Throws ledger_error for an unknown round.
  diff_result diff(const std::string& from, const std::string& to,
                   const std::optional<std::string>& asof = std::nullopt) const;
  // The same, one finding at a time in subject then item order, without holding them: for
  // ledgers of millions of findings. Throws ledger_error for an unknown round (before `each`).
  void for_each_change(const std::string& from, const std::string& to,
                       const std::function<void(change, finding&&)>& each,
                       const std::optional<std::string>& asof = std::nullopt) const;
  // The subject's facts (JSON text) as last recorded, when the round had them.
  std::optional<std::string> facts_of(const std::string& subject) const;

 private:
  explicit book(std::unique_ptr<store> s);
  std::unique_ptr<store> store_;
};

}  // namespace carerules::ledger

#pragma GCC visibility pop
