// `carerules ledger`: record rounds of reports into the rectification ledger and read the
// findings back (status by group, one subject's file, what changed between two rounds).
#include "carerules/ledger.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <condition_variable>
#include <deque>
#include <exception>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "api/evaluate.hpp"
#include "carerules/batch.hpp"
#include "carerules/html.hpp"
#include "carerules/labels.hpp"
#include "carerules/ruleset.hpp"
#include "cli.hpp"
#include "input.hpp"
#include "kept_facts.hpp"
#include "ledger/spill.hpp"
#include "util/utf8.hpp"

namespace carerules::cli {
namespace {

namespace L = carerules::ledger;
namespace json = boost::json;

enum class out_format { table, csv, json };

out_format parse_out_format(const parsed_args& a) {
  const std::string f = a.last("format").value_or("table");
  if (f == "table") return out_format::table;
  if (f == "csv") return out_format::csv;
  if (f == "json") return out_format::json;
  throw usage_error("unknown format \"" + f + "\" (table, csv or json)");
}

std::vector<L::grade_pick> parse_grade_picks(const parsed_args& a) {
  std::vector<L::grade_pick> out;
  for (const auto& g : a.all("include-grade")) {
    const auto eq = g.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == g.size())
      throw usage_error("--include-grade needs NAME=VALUE, e.g. risk=red, got \"" + g + "\"");
    out.push_back({g.substr(0, eq), g.substr(eq + 1)});
  }
  return out;
}

// ---- writing findings -------------------------------------------------------------------------

void put(json::object& o, const char* k, const std::optional<std::string>& v) {
  if (v)
    o[k] = *v;
  else
    o[k] = nullptr;
}

json::object finding_json(const L::finding& f, bool with_history) {
  json::object o;
  o["subject"] = f.subject;
  o["item"] = f.item;
  o["title"] = f.title;
  o["cite"] = f.cite;
  o["action"] = f.action;
  put(o, "due", f.due);
  o["status"] = f.status;
  o["rebound"] = f.rebound;
  o["opened"] = f.opened;
  put(o, "reopened", f.reopened);
  put(o, "closed", f.closed);
  put(o, "responsible", f.responsible);
  o["last_status"] = f.last_status;
  if (with_history) {
    json::array h;
    for (const auto& e : f.history)
      h.push_back(json::object{{"round", e.round}, {"asof", e.asof}, {"status", e.status}});
    o["history"] = std::move(h);
  }
  return o;
}

const std::vector<std::string> finding_columns = {"subject", "item",   "title",      "cite",
                                                  "action",  "due",    "status",     "rebound",
                                                  "opened",  "closed", "responsible"};

std::vector<std::string> finding_row(const L::finding& f) {
  return {f.subject,
          f.item,
          f.title,
          f.cite,
          f.action,
          f.due.value_or(""),
          f.status,
          f.rebound ? "yes" : "no",
          f.opened,
          f.closed.value_or(""),
          f.responsible.value_or("")};
}

std::string csv_line(const std::vector<std::string>& cells) {
  std::string line;
  for (std::size_t i = 0; i < cells.size(); ++i) {
    if (i) line += ',';
    append_csv_field(line, cells[i]);
  }
  return line + "\r\n";
}

// A cell's width on a terminal: a CJK character (three or four bytes of UTF-8) counts two.
std::size_t display_width(std::string_view s) {
  std::size_t w = 0;
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    const std::size_t len = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    w += len >= 3 ? 2 : 1;
    i += len;
  }
  return w;
}

// One line of a table whose columns are `widths` wide (two spaces between them).
void table_line(std::string& out, const std::vector<std::string>& cells,
                const std::vector<std::size_t>& widths) {
  for (std::size_t i = 0; i < cells.size(); ++i) {
    out += cells[i];
    if (i + 1 < cells.size()) out += std::string(widths[i] - display_width(cells[i]) + 2, ' ');
  }
  out += '\n';
}

// Columns padded to their widest cell; control characters and bytes that are not UTF-8 shown
// escaped (`\n`, `\xff`), so that a value from the facts cannot break a row or the terminal.
std::string table(const std::vector<std::string>& header,
                  std::vector<std::vector<std::string>> rows) {
  std::vector<std::size_t> widths(header.size());
  for (std::size_t i = 0; i < header.size(); ++i) widths[i] = display_width(header[i]);
  for (auto& r : rows)
    for (std::size_t i = 0; i < r.size() && i < widths.size(); ++i) {
      r[i] = detail::escape_for_display(r[i]);
      widths[i] = std::max(widths[i], display_width(r[i]));
    }
  std::string out;
  table_line(out, header, widths);
  for (const auto& r : rows) table_line(out, r, widths);
  return out;
}

// ---- the subcommands ---------------------------------------------------------------------------

// The subjects of a round so far and the line each came on, so that a subject given again is
// refused by line. Open addressing over 8-byte slots (a part of the name's hash and the number of
// its entry), the entries and names appended in order: nothing is allocated per subject, and a
// probe touches one small slot (the table of a million subjects is 16 MiB).
class subject_lines {
 public:
  static std::uint64_t hash(std::string_view subject) {
    return std::hash<std::string_view>{}(subject);
  }
  // Makes room for `more` subjects, then starts loading the slots of those with these hashes
  // (the table is far larger than a cache: a chunk's subjects are looked up together).
  void expect(std::size_t more, const std::vector<std::uint64_t>& hashes) {
    while ((entries_.size() + more) * 4 > slots_.size() * 3) grow();
    for (const std::uint64_t h : hashes) __builtin_prefetch(&slots_[h & (slots_.size() - 1)]);
  }
  // The line `subject` (whose hash() is `h`) came on before (0 when it came without one), or
  // nullopt after noting that it comes on `line`.
  std::optional<std::uint64_t> first(std::string_view subject, std::uint64_t h,
                                     std::uint64_t line) {
    if ((entries_.size() + 1) * 4 > slots_.size() * 3) grow();
    const auto tag = static_cast<std::uint32_t>(h >> 32);
    for (std::size_t i = h & (slots_.size() - 1);; i = (i + 1) & (slots_.size() - 1)) {
      slot& s = slots_[i];
      if (s.entry == 0) {
        s = {tag, static_cast<std::uint32_t>(entries_.size() + 1)};
        entries_.push_back({h, names_.size(), subject.size(), line});
        names_.append(subject);
        return std::nullopt;
      }
      if (s.tag != tag) continue;
      const entry& e = entries_[s.entry - 1];
      if (e.hash == h && std::string_view(names_).substr(e.at, e.size) == subject) return e.line;
    }
  }

 private:
  struct slot {
    std::uint32_t tag = 0, entry = 0;  // entry: 1 + its index, 0 for a free slot
  };
  struct entry {
    std::uint64_t hash, at, size, line;
  };
  void grow() {
    if (entries_.size() >= UINT32_MAX - 1)
      throw L::ledger_error("a round of more than 4 294 967 294 subjects");
    slots_.assign(std::max<std::size_t>(1024, slots_.size() * 2), slot{});
    for (std::size_t k = 0; k < entries_.size(); ++k) {
      std::size_t i = entries_[k].hash & (slots_.size() - 1);
      while (slots_[i].entry != 0) i = (i + 1) & (slots_.size() - 1);
      slots_[i] = {static_cast<std::uint32_t>(entries_[k].hash >> 32),
                   static_cast<std::uint32_t>(k + 1)};
    }
  }
  std::vector<slot> slots_;
  std::vector<entry> entries_;
  std::string names_;
};

// Adds batches of prepared subjects to a round on a thread of its own, so that the store's work
// overlaps the evaluation of the next records. At most two batches wait; the writer is used by
// this thread alone until finish().
class background_adder {
 public:
  explicit background_adder(L::book::round_writer& writer) : writer_(writer) {
    thread_ = std::thread([this] { run(); });
  }
  ~background_adder() { stop(); }
  background_adder(const background_adder&) = delete;
  background_adder& operator=(const background_adder&) = delete;

  void push(std::vector<L::book::round_writer::prepared>&& batch) {
    if (batch.empty()) return;
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return queue_.size() < 2 || error_; });
    if (error_) return;  // finish() reports it
    queue_.push_back(std::move(batch));
    changed_.notify_all();
  }
  // Waits for every batch; rethrows what adding threw.
  void finish() {
    stop();
    if (error_) std::rethrow_exception(error_);
  }

 private:
  void run() {
    while (true) {
      std::vector<L::book::round_writer::prepared> batch;
      {
        std::unique_lock lock(mutex_);
        changed_.wait(lock, [&] { return !queue_.empty() || done_; });
        if (queue_.empty()) return;
        batch = std::move(queue_.front());
        queue_.pop_front();
        changed_.notify_all();
      }
      try {
        for (const auto& p : batch) writer_.add(p);
      } catch (...) {
        std::lock_guard lock(mutex_);
        error_ = std::current_exception();
        queue_.clear();
        changed_.notify_all();
        return;
      }
    }
  }
  void stop() {
    {
      std::lock_guard lock(mutex_);
      done_ = true;
    }
    changed_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

  L::book::round_writer& writer_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<std::vector<L::book::round_writer::prepared>> queue_;
  std::exception_ptr error_;
  bool done_ = false;
  std::thread thread_;
};

int record(const parsed_args& a, output& out) {
  const auto db = a.last("db");
  const auto round = a.last("round");
  if (!round || round->empty()) throw usage_error("missing --round NAME");
  const auto reports_path = a.last("reports");
  const auto rules = a.last("rules");
  if (reports_path && rules) throw usage_error("give -r RULES FACTS or --reports FILE, not both");
  if (reports_path && a.has("responsible"))
    throw usage_error("--responsible reads the facts: record from -r RULES FACTS");
  const auto picks = parse_grade_picks(a);
  const auto responsible_path = path_option(a, "responsible");
  L::round_info info;
  info.id = *round;
  std::size_t skipped = 0, with_errors = 0;  // not recorded; recorded with errors
  bool mixed_dates = false;                  // --reports: reports of more than one date
  // The ledger is opened first (a bad file is said before any work); subjects go in as they
  // are read, staged outside the ledger's lock, and the round is stored at the end in one
  // transaction.
  L::book book = L::book::open(*db);
  std::optional<L::book::round_writer> writer;
  std::optional<background_adder> adder;
  std::vector<L::book::round_writer::prepared> batch;  // for the adder
  // A subject given twice in one round: the later record is refused, named with both lines.
  subject_lines first_line;
  std::vector<std::uint64_t> hashes;  // of a chunk's subjects, for first_line
  auto expect = [&](const std::vector<L::book::round_writer::prepared>& chunk) {
    hashes.assign(chunk.size(), 0);
    for (std::size_t i = 0; i < chunk.size(); ++i)
      if (chunk[i].items) hashes[i] = subject_lines::hash(chunk[i].subject());
    first_line.expect(chunk.size(), hashes);
  };
  // The i-th prepared subject of the chunk given to expect() last.
  auto add = [&](const auto& where, std::uint64_t line, std::size_t i,
                 L::book::round_writer::prepared&& prepared) {
    if (prepared.items == 0) return;
    if (const auto before = first_line.first(prepared.subject(), hashes[i], line)) {
      print_error(where() + ": subject " + std::string(prepared.subject()) + " is given again" +
                  (*before ? " (first on line " + std::to_string(*before) + ")" : "") +
                  "; a round holds one report per subject: not recorded");
      ++skipped;
      return;
    }
    batch.push_back(std::move(prepared));
    if (batch.size() >= 1024) adder->push(std::move(batch)), batch.clear();
  };
  const compile_options copts = common_compile_options(a);
  const std::uint64_t line_bytes = copts.limits.line_bytes;
  // FACTS or REPORTS read with the bounded reader (a line over line_bytes, an endless stream:
  // an error naming the limit, in bounded memory), in chunks: `work` runs on the workers while
  // the next chunk is read, `deliver` on this thread in input order (for_each_chunk).
  using chunk_fn = std::function<void(const std::vector<batch_record>&, int)>;
  auto read_chunks = [&](const std::string& path, bool whole, const chunk_fn& work,
                         const chunk_fn& deliver) {
    input_file in;
    if (std::string error; !in.open(path, error)) throw L::ledger_error(error);
    if (whole) {
      whole_read w = read_whole(in.get(), line_bytes);
      if (!w.error.empty()) throw L::ledger_error("cannot read `" + path + "`: " + w.error);
      std::vector<batch_record> one;
      one.push_back(record_of(std::move(w)));
      work(one, 0);
      deliver(one, 0);
      return;
    }
    chunked_input how;
    how.records = 1024;
    how.pipelined = thread_count(eval_options{}.threads, 1u << 20) > 1;
    const std::string error =
        for_each_chunk(in.get(), line_bytes, how, work, deliver, [] { return false; });
    if (!error.empty()) throw L::ledger_error(path + ": " + error);
  };
  std::vector<L::book::round_writer::prepared> prepared[2];  // per slot
  if (reports_path) {
    if (!a.positional.empty()) throw usage_error("--reports takes no FACTS argument");
    writer.emplace(book.begin_round(info));
    adder.emplace(*writer);
    std::vector<std::optional<report>> reports[2];
    read_chunks(
        *reports_path, false,
        [&](const std::vector<batch_record>& part, int slot) {
          reports[slot].assign(part.size(), std::nullopt);
          prepared[slot].assign(part.size(), {});
          parallel_for(part.size(), eval_options{}.threads, [&](std::size_t i) {
            if (part[i].oversize) return;
            auto& r = reports[slot][i];
            r = L::report_from_json(part[i].text);
            if (r && r->subject)
              prepared[slot][i] = L::book::round_writer::prepare(L::observations_of(*r, picks));
          });
        },
        [&](const std::vector<batch_record>& part, int slot) {
          expect(prepared[slot]);
          for (std::size_t i = 0; i < part.size(); ++i) {
            const std::string where = *reports_path + ": line " + std::to_string(part[i].line);
            const auto& r = reports[slot][i];
            if (part[i].oversize) {
              print_error(where + ": over the line_bytes limit (" + std::to_string(line_bytes) +
                          " bytes)");
              ++skipped;
              continue;
            }
            if (!r) {
              print_error(where + ": not a report (JSON object)");
              ++skipped;
              continue;
            }
            if (!r->subject) {
              print_error(where + ": a report without a subject is not recorded");
              ++skipped;
              continue;
            }
            if (!r->errors.empty()) ++with_errors;  // recorded, and the exit code says so
            L::round_info& ri = writer->round();
            if (ri.asof.empty()) {
              ri.asof = r->asof;
            } else if (r->asof != ri.asof && !mixed_dates && !a.has("asof")) {
              mixed_dates = true;  // said once: the round has one date
              std::fputs(("carerules: warning: " + where + ": a report dated " + r->asof +
                          " in a round dated " + ri.asof +
                          " (the first report's date; give --asof to choose)\n")
                             .c_str(),
                         stderr);
            }
            if (ri.ruleset.empty()) {
              ri.ruleset = r->ruleset.name;
              ri.version = r->ruleset.version;
              ri.digest = r->ruleset.digest;
            }
            add([&] { return where; }, part[i].line, i, std::move(prepared[slot][i]));
          }
          reports[slot].clear();
        });
    if (a.has("asof") || writer->round().asof.empty()) writer->round().asof = resolve_asof(a);
  } else {
    if (!rules || rules->empty()) throw usage_error("missing -r RULES FACTS (or --reports FILE)");
    if (a.positional.size() != 1) throw usage_error("expected one FACTS argument");
    compile_result compiled = compile_file(*rules, copts);
    if (!compiled.ok()) {
      std::fputs(compiled.rendered().c_str(), stderr);
      return exit_failed;
    }
    const ruleset& rs = compiled.value();
    for (const auto& p : picks) {  // a grade or value the ruleset does not have picks nothing
      const auto g = std::find_if(rs.grades().begin(), rs.grades().end(),
                                  [&](const grade_info& gi) { return gi.name == p.name; });
      if (g == rs.grades().end())
        throw usage_error("--include-grade " + p.name + "=" + p.value +
                          ": the ruleset has no grade `" + p.name + "`");
      if (p.value != "none" &&
          std::find(g->values.begin(), g->values.end(), p.value) == g->values.end()) {
        std::string scale;
        for (const auto& v : g->values) scale += (scale.empty() ? "" : ", ") + v;
        throw usage_error("--include-grade " + p.name + "=" + p.value + ": grade `" + p.name +
                          "` has no value `" + p.value + "` (" + scale + ", none)");
      }
    }
    eval_options eo;
    eo.asof = resolve_asof(a);
    info.asof = eo.asof;
    info.ruleset = rs.name();
    info.version = rs.version();
    info.digest = rs.digest();
    writer.emplace(book.begin_round(info));
    adder.emplace(*writer);
    const std::string path = a.positional[0];
    const bool one = path.size() >= 5 && path.compare(path.size() - 5, 5, ".json") == 0;
    // Each record is decided (no report is built: the hazards' titles, clauses and actions
    // are the ruleset's), and what the ledger keeps of its facts is taken from the same parse
    // of its text (a text that parse could not give whole is read again), on the workers.
    const std::vector<std::string> responsible_keys =
        responsible_path ? detail::split_path(*responsible_path) : std::vector<std::string>{};
    std::vector<decisions> decided[2];
    read_chunks(
        path, one,
        [&](const std::vector<batch_record>& part, int slot) {
          decided[slot].assign(part.size(), decisions{});
          prepared[slot].assign(part.size(), {});
          parallel_for(part.size(), eo.threads, [&](std::size_t i) {
            if (part[i].oversize) return;  // unreadable: no subject
            decisions& d = decided[slot][i];
            thread_local std::optional<facts_keeper> keeper;
            if (!keeper || keeper->responsible_path() != responsible_keys)
              keeper.emplace(responsible_keys);
            keeper->reset();
            bool observed = false;
            d = detail::decide_observing(rs, part[i].text, eo, *keeper, kept_facts_depth, observed);
            if (!d.subject) return;
            const kept k =
                observed ? keeper->result() : keep_facts_parsed(part[i].text, responsible_keys);
            prepared[slot][i] =
                L::book::round_writer::prepare(rs, d, eo.asof, picks, k.responsible, k.facts);
          });
        },
        [&](const std::vector<batch_record>& part, int slot) {
          expect(prepared[slot]);
          for (std::size_t i = 0; i < part.size(); ++i) {
            auto where = [&] {
              return path + (part[i].line ? ": line " + std::to_string(part[i].line) : "");
            };
            const decisions& d = decided[slot][i];
            if (d.errors > 0 && d.subject) ++with_errors;  // recorded; the others are skipped
            if (!d.subject) {
              print_error(where() + ": a record without a subject is not recorded" +
                          (part[i].oversize ? " (over the line_bytes limit)"
                           : d.errors > 0   ? " (the record has errors: `carerules eval` shows "
                                              "them)"
                                            : ""));
              ++skipped;
            }
            add(where, part[i].line, i, std::move(prepared[slot][i]));
          }
        });
  }
  adder->push(std::move(batch));
  adder->finish();
  if (writer->items() == 0) {  // a round of nothing would only block the round's name
    print_error("round " + info.id + " not recorded: no record with a subject and an item");
    return exit_failed;
  }
  const bool changed = writer->commit();
  out << (changed ? "recorded round " : "round ") << info.id << " (" << writer->round().asof
      << "): " << std::to_string(writer->subjects()) << " subjects, "
      << std::to_string(writer->items()) << " items"
      << (changed ? "" : " — recorded before with the same content, nothing changed") << "\n";
  if (skipped)
    print_error(std::to_string(skipped) + " record(s) not recorded (no subject, or given again)");
  if (with_errors)  // recorded, but the exit code is 1: say why
    std::fputs(("carerules: warning: " + std::to_string(with_errors) +
                " record(s) with errors: recorded, their undetermined items deciding nothing "
                "(`carerules eval` shows the errors)\n")
                   .c_str(),
               stderr);
  return skipped || with_errors ? exit_failed : exit_ok;
}

int status(const parsed_args& a, output& out, out_format fmt) {
  const std::string asof = resolve_asof(a);
  const auto by = path_option(a, "by");
  L::book book = L::book::open(*a.last("db"), false);
  using counts = L::finding_counts;
  std::map<std::string, counts> groups;
  counts total;
  std::map<std::string, std::string> group_of;  // subject -> group
  book.for_each_finding(asof, [&](L::finding&& f) {
    std::string g = "all";
    if (by) {
      auto it = group_of.find(f.subject);
      if (it == group_of.end()) {
        std::optional<std::string> v;
        if (auto facts = book.facts_of(f.subject)) v = fact_at(*facts, *by);
        it = group_of.emplace(f.subject, v.value_or("(unknown)")).first;
      }
      g = it->second;
    }
    groups[g].add(f);
    total.add(f);
  });
  const std::vector<std::string> header = {by ? *by : "group", "open", "overdue", "closed",
                                           "rebound"};
  auto row = [](const std::string& g, const counts& c) {
    return std::vector<std::string>{g, std::to_string(c.open), std::to_string(c.overdue),
                                    std::to_string(c.closed), std::to_string(c.rebound)};
  };
  if (fmt == out_format::json) {
    json::array gs;
    auto obj = [](const counts& c) {
      return json::object{
          {"open", c.open}, {"overdue", c.overdue}, {"closed", c.closed}, {"rebound", c.rebound}};
    };
    for (const auto& [g, c] : groups) {
      json::object o = obj(c);
      o["group"] = g;
      gs.push_back(std::move(o));
    }
    json::object doc{{"asof", asof},
                     {"by", by ? json::value(*by) : json::value(nullptr)},
                     {"groups", std::move(gs)},
                     {"total", obj(total)}};
    out << json::serialize(doc) << "\n";
  } else if (fmt == out_format::csv) {
    out << "\xEF\xBB\xBF" << csv_line(header);
    for (const auto& [g, c] : groups) out << csv_line(row(g, c));
  } else {
    std::vector<std::vector<std::string>> rows;
    for (const auto& [g, c] : groups) rows.push_back(row(g, c));
    if (by) rows.push_back(row("total", total));
    out << "findings as of " << asof
        << " (open past due: overdue; present again after closing: rebound)\n"
        << table(header, std::move(rows));
  }
  return exit_ok;
}

int show(const parsed_args& a, output& out, out_format fmt) {
  if (a.positional.size() != 1) throw usage_error("expected one SUBJECT");
  const std::string asof = resolve_asof(a);
  L::book book = L::book::open(*a.last("db"), false);
  const auto findings = book.subject(a.positional[0], asof);
  if (fmt == out_format::json) {
    json::array fs;
    for (const auto& f : findings) fs.push_back(finding_json(f, true));
    out << json::serialize(json::object{
               {"subject", a.positional[0]}, {"asof", asof}, {"findings", std::move(fs)}})
        << "\n";
  } else if (fmt == out_format::csv) {
    auto header = finding_columns;
    header.push_back("history");
    out << "\xEF\xBB\xBF" << csv_line(header);
    for (const auto& f : findings) {
      auto r = finding_row(f);
      std::string h;
      for (const auto& e : f.history) h += (h.empty() ? "" : "; ") + e.round + " " + e.status;
      r.push_back(h);
      out << csv_line(r);
    }
  } else {
    out << "file of " << a.positional[0] << " as of " << asof << ": "
        << std::to_string(findings.size()) << " finding(s)\n";
    for (const auto& f : findings) {
      out << "\n"
          << f.item << "  " << f.title << "\n  " << f.status << (f.rebound ? " (rebound)" : "")
          << ", opened " << f.opened << (f.closed ? ", closed " + *f.closed : "")
          << (f.due ? ", due " + *f.due : "") << (f.cite.empty() ? "" : ", " + f.cite)
          << "\n  rounds:";
      for (const auto& e : f.history) out << " " << e.round << " " << e.status << ";";
      out << "\n";
    }
  }
  return exit_ok;
}

// `ledger pages --out DIR`: one HTML file per subject with findings and index.html, the status
// page linking to them (the report pages' style).
// The findings not closed that the status page lists; the rest are in findings.csv.
constexpr std::uint64_t status_page_rows = 2000;

int pages(const parsed_args& a, output& out) {
  const auto out_dir = a.last("out");
  if (!out_dir || out_dir->empty()) throw usage_error("missing --out DIR (where to write pages)");
  if (!a.positional.empty()) throw usage_error("ledger pages takes no positional argument");
  const lang language = lang_option(a).value_or(lang::zh);
  const std::string asof = resolve_asof(a);
  L::book book = L::book::open(*a.last("db"), false);
  namespace fs = std::filesystem;
  const fs::path dir(*out_dir);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec || !fs::is_directory(dir))
    throw L::ledger_error("cannot create the output directory `" + *out_dir + "`");
  // The findings come subject by subject: each subject's page is written when its findings are
  // all in (one file each; stems made safe, duplicates -2, -3), and each finding goes to the
  // status page, which keeps only counts in memory.
  const std::string by = path_option(a, "by").value_or("");
  L::status_page_writer index(by, asof, language);
  // Every finding also goes to findings.csv beside the pages (a spreadsheet's full list); the
  // status page lists the first of those not closed, so that it stays a page a browser opens.
  index.limit_rows(status_page_rows, "findings.csv");
  std::ofstream csv(dir / "findings.csv", std::ios::binary | std::ios::trunc);
  {
    auto header = finding_columns;
    header.push_back("page");
    csv << "\xEF\xBB\xBF" << csv_line(header);
  }
  std::set<std::string> used{"index"};
  std::uint64_t position = 0;
  std::vector<L::finding> current;
  auto folded = [](std::string s) {
    for (char& c : s)
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
    return s;
  };
  auto flush = [&] {
    if (current.empty()) return;
    const std::string& subject = current.front().subject;
    const std::string stem = page_file_stem(subject, ++position);
    std::string candidate = stem;
    for (unsigned k = 2; !used.insert(folded(candidate)).second; ++k)
      candidate = stem + "-" + std::to_string(k);
    const std::string file = candidate + ".html";
    std::string error;
    if (!write_file(dir / file, L::subject_page(subject, current, asof, language), error))
      throw L::ledger_error(error);
    std::optional<std::string> group;
    if (!by.empty())
      if (auto facts = book.facts_of(subject)) group = fact_at(*facts, by);
    for (const auto& f : current) {
      index.add(f, &file, group ? &*group : nullptr);
      auto row = finding_row(f);
      row.push_back(file);
      csv << csv_line(row);
    }
    current.clear();
  };
  book.for_each_finding(asof, [&](L::finding&& f) {
    if (!current.empty() && current.front().subject != f.subject) flush();
    current.push_back(std::move(f));
  });
  flush();
  std::ofstream page(dir / "index.html", std::ios::binary | std::ios::trunc);
  index.write([&](std::string_view piece) {
    page.write(piece.data(), static_cast<std::streamsize>(piece.size()));
  });
  page.close();
  if (!page) throw L::ledger_error("cannot write `" + (dir / "index.html").string() + "`");
  csv.close();
  if (!csv) throw L::ledger_error("cannot write `" + (dir / "findings.csv").string() + "`");
  const auto order_size = position;
  out << "wrote " << std::to_string(order_size) << " subject page(s) as of " << asof
      << "; the status page: " << (dir / "index.html").string()
      << "; every finding: " << (dir / "findings.csv").string() << "\n";
  return exit_ok;
}

int diff(const parsed_args& a, output& out, out_format fmt) {
  const auto from = a.last("from"), to = a.last("to");
  if (!from || !to) throw usage_error("diff needs --from ROUND and --to ROUND");
  // Open or overdue as of --asof when given, else as of round `to`'s date.
  const std::optional<std::string> asof =
      a.has("asof") ? std::optional<std::string>(resolve_asof(a)) : std::nullopt;
  L::book book = L::book::open(*a.last("db"), false);
  // Each list goes to its own temporary file as the findings come (subject by subject), then
  // the lists are written one after another.
  const char* const names[] = {"new", "closed", "still_open", "rebound", "undetermined"};
  L::spill lists[5];
  const std::vector<std::string> brief_header = {"change", "subject", "item",
                                                 "title",  "due",     "status"};
  std::vector<std::size_t> widths(brief_header.size());  // of the table
  for (std::size_t i = 0; i < widths.size(); ++i) widths[i] = display_width(brief_header[i]);
  std::string line;
  book.for_each_change(
      *from, *to,
      [&](L::change c, L::finding&& f) {
        const auto k = static_cast<std::size_t>(c);
        line.clear();
        if (fmt == out_format::json) {
          if (lists[k].count()) line += ',';
          line += json::serialize(finding_json(f, false));
        } else {
          auto row = finding_row(f);
          row.insert(row.begin(), names[k]);
          if (fmt == out_format::csv) {
            line = csv_line(row);
          } else {  // the table's cells, one JSON array a line, and the widest of each column
            std::vector<std::string> brief = {row[0], row[1], row[2], row[3], row[6], row[7]};
            for (auto& cell : brief) cell = detail::escape_for_display(cell);  // one line each
            json::array cells;
            for (std::size_t i = 0; i < brief.size(); ++i) {
              widths[i] = std::max(widths[i], display_width(brief[i]));
              cells.emplace_back(brief[i]);
            }
            line = json::serialize(cells) + "\n";
          }
        }
        lists[k].write(line);
      },
      asof);
  auto copy = [&](L::spill& s) { s.read_back([&](std::string_view piece) { out << piece; }); };
  if (fmt == out_format::json) {
    out << "{\"from\":" << json::serialize(json::value(*from))
        << ",\"to\":" << json::serialize(json::value(*to));
    for (std::size_t k = 0; k < 5; ++k) {
      out << ",\"" << names[k] << "\":[";
      copy(lists[k]);
      out << "]";
    }
    out << "}\n";
    return exit_ok;
  }
  if (fmt == out_format::csv) {
    auto header = finding_columns;
    header.insert(header.begin(), "change");
    out << "\xEF\xBB\xBF" << csv_line(header);
    for (auto& l : lists) copy(l);
    return exit_ok;
  }
  out << "from " << *from << " to " << *to << ": " << std::to_string(lists[0].count()) << " new, "
      << std::to_string(lists[1].count()) << " closed, " << std::to_string(lists[2].count())
      << " still open, " << std::to_string(lists[3].count()) << " rebound, "
      << std::to_string(lists[4].count()) << " now undetermined\n";
  std::string text;
  table_line(text, brief_header, widths);
  out << text;
  std::string partial;  // a line cut between two pieces
  for (auto& l : lists)
    l.read_back([&](std::string_view piece) {
      partial.append(piece);
      std::size_t start = 0;
      for (std::size_t end; (end = partial.find('\n', start)) != std::string::npos;
           start = end + 1) {
        const json::value row = json::parse(std::string_view(partial).substr(start, end - start));
        std::vector<std::string> cells;
        for (const auto& c : row.as_array()) cells.emplace_back(c.as_string());
        text.clear();
        table_line(text, cells, widths);
        out << text;
      }
      partial.erase(0, start);
    });
  return exit_ok;
}

}  // namespace

int run_ledger(const std::vector<std::string>& args) {
  if (args.empty() || args[0].empty() || args[0][0] == '-') {
    parsed_args a = parse_args(args, {});
    if (a.help) return print_help(*help_text("ledger"));
    throw usage_error("missing the ledger command: record, status, show, diff or pages");
  }
  const std::string sub = args[0];
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  parsed_args a = parse_args(rest, {{"db", 0, true},
                                    {"round", 0, true},
                                    {"rules", 'r', true},
                                    {"reports", 0, true},
                                    {"asof", 0, true},
                                    {"responsible", 0, true},
                                    {"include-grade", 0, true},
                                    {"by", 0, true},
                                    {"from", 0, true},
                                    {"to", 0, true},
                                    {"format", 0, true},
                                    {"out", 0, true},
                                    {"lang", 0, true}});
  if (a.help) return print_help(*help_text("ledger"));
  if (sub != "record" && sub != "status" && sub != "show" && sub != "diff" && sub != "pages")
    throw usage_error("unknown ledger command `" + sub + "` (record, status, show, diff or pages)");
  if (!a.last("db") || a.last("db")->empty()) throw usage_error("missing --db FILE");
  // Names the ledger stores or looks up, and writes into JSON, CSV and pages: UTF-8 only.
  for (const char* name : {"round", "from", "to", "by", "responsible", "include-grade"})
    for (const std::string& v : a.all(name))
      if (detail::find_invalid_utf8(v) != std::string::npos)
        throw usage_error(std::string("--") + name + " is not valid UTF-8");
  if (sub == "show")
    for (const std::string& v : a.positional)
      if (detail::find_invalid_utf8(v) != std::string::npos)
        throw usage_error("the subject is not valid UTF-8");
  const out_format fmt = parse_out_format(a);
  output out(stdout);
  int code = exit_ok;
  try {
    if (sub == "record") {
      code = record(a, out);
    } else if (sub == "status")
      code = status(a, out, fmt);
    else if (sub == "show")
      code = show(a, out, fmt);
    else if (sub == "pages")
      code = pages(a, out);
    else
      code = diff(a, out, fmt);
  } catch (const L::ledger_error& e) {
    print_error(e.what());
    code = exit_failed;
  }
  return finish_output(out, code);
}

}  // namespace carerules::cli
