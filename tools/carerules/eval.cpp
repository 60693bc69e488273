// `carerules eval`: evaluate one record or a streamed batch and write the reports.
//
// A batch is read line by line with a bounded reader and evaluated in chunks (at most
// `chunk_records` records or `chunk_bytes` bytes, or less when the input pipe has nothing
// more ready). With one thread the chunks are read, evaluated and written in turn; with more,
// each worker reads a chunk, evaluates it and writes it when the chunks before it are written.
// Reports are written in input order as each chunk completes, so memory depends on the chunk
// (one per worker), not on the length of the batch.
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <exception>
#include <functional>
#include <optional>

#include "carerules/ruleset.hpp"
#include "cli.hpp"
#include "formats.hpp"
#include "input.hpp"

namespace carerules::cli {
namespace {

// 512 records (about a quarter of a megabyte of text for small records) stay in cache
// between reading and evaluating.
constexpr std::size_t chunk_records = 512;
constexpr std::size_t chunk_bytes = 32u << 20;

format parse_format(const std::string& s) {
  if (s == "json") return format::json;
  if (s == "jsonl") return format::jsonl;
  if (s == "table") return format::table;
  if (s == "csv") return format::csv;
  if (s == "decisions") return format::decisions;
  throw usage_error("unknown format \"" + s + "\" (json, jsonl, table, csv or decisions)");
}

// An integer >= 0 (0: every core); the library clamps it (thread_count).
unsigned parse_threads(const std::string& s) {
  if (s.empty() || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }))
    throw usage_error("--threads needs an integer >= 0, got \"" + s + "\"");
  unsigned v = 0;
  for (char c : s) v = std::min(v * 10u + static_cast<unsigned>(c - '0'), 1000u);
  return v;
}

std::string lower_extension(const std::string& path) {
  auto slash = path.find_last_of('/');
  auto dot = path.find_last_of('.');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) return "";
  std::string ext = path.substr(dot);
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return ext;
}

enum class input_mode { one_record, lines };

// How to read FACTS: --input, else `-` is lines, else the extension, else the content: a
// regular file whose first non-blank line is a whole JSON value followed by another
// non-blank line is JSON lines; an empty file is an empty batch; anything else one record.
input_mode decide_mode(const parsed_args& a, input_file& in, std::uint64_t line_bytes) {
  if (auto input = a.last("input"))
    return *input == "json" ? input_mode::one_record : input_mode::lines;
  if (in.is_stdin()) return input_mode::lines;
  const std::string ext = lower_extension(in.path());
  if (ext == ".json") return input_mode::one_record;
  if (ext == ".jsonl" || ext == ".ndjson") return input_mode::lines;
  if (!in.rewind()) return input_mode::lines;  // a pipe or device: lines, as standard input
  input_mode mode = input_mode::lines;
  {
    line_reader probe(in.get(), line_bytes);
    line_reader::line l;
    bool first_found = false;
    while (probe.next(l)) {
      if (!l.too_long && blank_line(l.text)) continue;
      if (first_found) {  // a second non-blank line after a complete first one
        mode = input_mode::lines;
        break;
      }
      first_found = true;
      mode = input_mode::one_record;
      if (l.too_long || !is_complete_json_value(l.text)) break;
    }
  }
  in.rewind();
  return mode;
}

// Progress on standard error, only when it is a terminal and the output is not piped, and
// only once a batch has run for a second; cleared at the end.
class progress {
 public:
  progress() : enabled_(progress_wanted()), start_(clock::now()), last_(start_) {}
  void update(std::uint64_t records) {
    if (!enabled_) return;
    auto now = clock::now();
    if (now - start_ < std::chrono::seconds(1) || now - last_ < std::chrono::milliseconds(200))
      return;
    last_ = now;
    shown_ = true;
    std::string line = "\rcarerules: " + std::to_string(records) + " records evaluated";
    std::fputs(line.c_str(), stderr);
    std::fflush(stderr);
  }
  void clear() {
    if (!shown_) return;
    std::fputs("\r\x1b[K", stderr);
    std::fflush(stderr);
    shown_ = false;
  }

 private:
  using clock = std::chrono::steady_clock;
  bool enabled_;
  clock::time_point start_, last_;
  bool shown_ = false;
};

}  // namespace

int run_eval(const std::vector<std::string>& args) {
  parsed_args a = parse_args(args, {{"rules", 'r', true},
                                    {"asof", 0, true},
                                    {"format", 0, true},
                                    {"threads", 0, true},
                                    {"each", 0, true},
                                    {"summary", 0, false},
                                    {"by", 0, true},
                                    {"summary-format", 0, true},
                                    {"lang", 0, true},
                                    {"subject", 0, true},
                                    {"input", 0, true}});
  if (a.help) return print_help(*help_text("eval"));
  const compile_options copts = common_compile_options(a);
  const auto rules = a.last("rules");
  if (!rules || rules->empty()) throw usage_error("missing -r RULES (the ruleset file)");
  if (a.positional.empty())
    throw usage_error("missing FACTS (a .json or .jsonl file, or - for standard input)");
  if (a.positional.size() > 1)
    throw usage_error("expected one FACTS argument, got " + std::to_string(a.positional.size()));
  const format fmt = parse_format(a.last("format").value_or("json"));
  eval_options eo;
  eo.asof = resolve_asof(a);
  if (auto t = a.last("threads")) eo.threads = parse_threads(*t);
  if (auto each = path_option(a, "each")) eo.each = *each;
  if (auto subject = path_option(a, "subject")) eo.subject = *subject;
  if (auto input = a.last("input"); input && *input != "json" && *input != "jsonl")
    throw usage_error("unknown input format \"" + *input + "\" (json or jsonl)");
  // --by and --summary-format give the summary by group (group_summary); without them
  // --summary prints the batch_summary table as before.
  const std::optional<std::string> by = path_option(a, "by");
  std::optional<summary_format> sfmt;
  if (auto f = a.last("summary-format")) {
    if (*f == "table")
      sfmt = summary_format::table;
    else if (*f == "csv")
      sfmt = summary_format::csv;
    else if (*f == "json")
      sfmt = summary_format::json;
    else
      throw usage_error("unknown summary format \"" + *f + "\" (table, csv or json)");
  }
  const std::optional<lang> language = lang_option(a);
  const bool grouped = by || sfmt;
  if (grouped && !a.has("summary")) throw usage_error("--by and --summary-format need --summary");
  const bool want_summary = a.has("summary");
  const std::string& facts_path = a.positional[0];

  compile_result compiled = compile_file(*rules, copts);
  if (!compiled.ok()) {
    std::string text = compiled.rendered();
    if (text.empty()) text = *rules + ": error: the ruleset does not compile\n";
    std::fputs(text.c_str(), stderr);
    return exit_failed;
  }
  const ruleset& rs = compiled.value();

  input_file in;
  if (std::string error; !in.open(facts_path, error)) {
    print_error(error);
    return exit_failed;
  }
  const std::uint64_t line_bytes = copts.limits.line_bytes;
  const input_mode mode = decide_mode(a, in, line_bytes);

  std::optional<whole_read> whole;
  if (mode == input_mode::one_record) {
    whole = read_whole(in.get(), line_bytes);
    if (!whole->error.empty()) {
      print_error("cannot read `" + facts_path + "`: " + whole->error);
      return exit_failed;
    }
  }

  output out(stdout);
  const bool as_array = mode == input_mode::lines || !eo.each.empty();

  // The records, one batch at a time (the whole record, or chunks of lines as they come):
  // `work` evaluates a batch into its slot, `deliver` writes a slot out, in input order, one
  // delivery at a time. False when the input failed. With one thread: for_each_chunk, slots 0
  // and 1. With more, each worker reads and evaluates chunks of its own
  // (for_each_chunk_on_workers, two slots per worker), evaluating each chunk alone; the
  // workers' chunks, two a worker, share the byte bound (each holds at least one line).
  const unsigned workers = thread_count(eo.threads, 1u << 20);
  const std::size_t slot_count = 2 * static_cast<std::size_t>(workers);
  chunked_input how;
  how.bytes = workers > 1 ? chunk_bytes / (2 * workers) : chunk_bytes;  // two chunks a worker
  how.records = chunk_records;
  eval_options chunk_eo = eo;
  if (workers > 1) chunk_eo.threads = 1;
  auto for_each_batch =
      [&](const std::function<void(const std::vector<batch_record>&, int)>& work,
          const std::function<void(const std::vector<batch_record>&, int)>& deliver) {
        if (whole) {
          std::vector<batch_record> one;
          one.push_back(record_of(std::move(*whole)));
          work(one, 0);
          deliver(one, 0);
          return true;
        }
        progress shown;
        std::uint64_t records = 0;
        auto delivered = [&](const std::vector<batch_record>& chunk, int slot) {
          deliver(chunk, slot);
          records += chunk.size();
          out.flush();
          shown.update(records);
        };
        auto stop = [&] { return out.failed(); };
        const std::string error =
            workers > 1 ? for_each_chunk_on_workers(in.get(), line_bytes, how, workers, work,
                                                    delivered, stop)
                        : for_each_chunk(in.get(), line_bytes, how, work, delivered, stop);
        shown.clear();
        if (error.empty()) return true;
        print_error("cannot read `" + facts_path + "`: " + error);
        return false;
      };

  // JSON reports, decisions and CSV without a summary take the library's fast path: text
  // written on the workers straight from the evaluation, no report objects.
  // (CSV with --lang writes labels: the report writers do that.)
  if (!want_summary && (fmt == format::json || fmt == format::jsonl || fmt == format::decisions ||
                        (fmt == format::csv && !language))) {
    const line_format lf = fmt == format::decisions ? line_format::decisions
                           : fmt == format::csv     ? line_format::csv
                                                    : line_format::report;
    const bool array = fmt == format::json && as_array;
    const std::string_view line_end = fmt == format::csv ? "\r\n" : "\n";
    if (fmt == format::csv) {
      // The byte-order mark (so that spreadsheet programs read UTF-8) and the header row.
      std::string header = "\xEF\xBB\xBF";
      bool first = true;
      for (const auto& c : rs.columns()) {
        if (!first) header += ',';
        first = false;
        append_csv_field(header, c.name);
      }
      out << header << line_end;
    }
    // One buffer for the whole run: each batch's text is written out and the buffer reused.
    // In an array its output count carries the commas across batches; lines end each batch
    // with a line end, so that a reader of a pipe gets every line as soon as it is written.
    std::vector<batch_text> slots(slot_count);
    std::uint64_t written = 0;
    bool errors = false;
    bool ok = for_each_batch(
        [&](const std::vector<batch_record>& batch, int k) {
          rs.evaluate_text(batch, chunk_eo, lf, array ? std::string_view(",") : line_end,
                           slots[static_cast<std::size_t>(k)]);
        },
        [&](const std::vector<batch_record>&, int k) {
          batch_text& t = slots[static_cast<std::size_t>(k)];
          if (t.with_errors) errors = true;
          if (t.outputs) {
            if (array) out << (written == 0 ? "[" : ",");
            if (!array) t.text += line_end;
            out << t.text;
            written += t.outputs;
          }
          t.text.clear();
          t.outputs = t.with_errors = 0;
        });
    if (array) out << (written == 0 ? "[]\n" : "]\n");
    return finish_output(out, ok && !errors ? exit_ok : exit_failed);
  }

  auto writer = make_writer(fmt, out, rs, as_array, language);
  batch_summary summary(rs);
  group_summary groups(rs);
  int code = exit_ok;
  writer->begin();
  const bool render_json = fmt == format::json || fmt == format::jsonl;
  std::vector<std::vector<batch_result>> results(slot_count);
  if (!for_each_batch(
          [&](const std::vector<batch_record>& batch, int k) {
            results[static_cast<std::size_t>(k)] = rs.evaluate_batch(batch, chunk_eo, render_json);
          },
          [&](const std::vector<batch_record>& batch, int k) {
            // The chunk was evaluated (and its JSON rendered); its reports are
            // written here, in input order, one delivery at a time.
            auto& chunk_results = results[static_cast<std::size_t>(k)];
            for (std::size_t b = 0; b < chunk_results.size(); ++b) {
              const batch_result& res = chunk_results[b];
              // --by: the record's group, any path in its facts, declared or not.
              std::optional<std::string> group;
              if (grouped) {
                if (by && !batch[b].text.empty()) group = fact_at(batch[b].text, *by);
                groups.add_record(group);
              }
              bool record_errors = false;
              for (std::size_t i = 0; i < res.reports.size(); ++i) {
                const report& r = res.reports[i];
                writer->add(r, render_json ? &res.json[i] : nullptr);
                if (want_summary) summary.add(r);
                if (grouped) groups.add(r, group);
                if (!r.errors.empty()) code = exit_failed, record_errors = true;
              }
              if (want_summary) summary.add_record(record_errors);
            }
            chunk_results.clear();
            writer->chunk_done();
          }))
    code = exit_failed;
  writer->end();
  code = finish_output(out, code);
  if (want_summary && !out.failed()) {
    std::string text =
        grouped ? render_group_summary(groups, sfmt.value_or(summary_format::table), by, language)
                : summary.render(!eo.each.empty());
    std::fputs(text.c_str(), stderr);
  }
  return code;
}

}  // namespace carerules::cli
