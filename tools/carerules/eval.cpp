// `carerules eval`: evaluate one record or a streamed batch and write the reports.
//
// A batch is read line by line with a bounded reader and evaluated in chunks (at most
// `chunk_records` records or `chunk_bytes` bytes, or less when the input pipe has nothing
// more ready), each chunk on the requested threads. Reports are written in input order as
// each chunk completes, so memory depends on the chunk, not on the length of the batch.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>

#include "carerules/ruleset.hpp"
#include "cli.hpp"
#include "formats.hpp"
#include "input.hpp"

namespace carerules::cli {
namespace {

constexpr std::size_t chunk_records = 512;
constexpr std::size_t chunk_bytes = 32u << 20;

format parse_format(const std::string& s) {
  if (s == "json") return format::json;
  if (s == "jsonl") return format::jsonl;
  if (s == "table") return format::table;
  if (s == "csv") return format::csv;
  throw usage_error("unknown format \"" + s + "\" (json, jsonl, table or csv)");
}

// An integer >= 0; 0 means every core; anything above 256 is clamped to 256.
unsigned parse_threads(const std::string& s) {
  if (s.empty() || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }))
    throw usage_error("--threads needs an integer >= 0, got \"" + s + "\"");
  unsigned v = 0;
  for (char c : s) v = std::min(v * 10u + static_cast<unsigned>(c - '0'), 1000u);
  return std::min(v, 256u);
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
      if (!l.too_long && is_blank(l.text)) continue;
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

// The report of a record the engine never saw (a line over the size limit): the shape of
// an unreadable record, with one error at "".
report error_report(const report& shape, std::string message) {
  report r;
  r.ruleset = shape.ruleset;
  r.engine = shape.engine;
  r.asof = shape.asof;
  r.errors.push_back({std::string(), std::nullopt, std::move(message)});
  return r;
}

std::string size_message(const char* what, std::uint64_t size, std::uint64_t limit) {
  return std::string(what) + " of " + std::to_string(size) +
         " bytes exceeds the limit line_bytes (" + std::to_string(limit) + ")";
}

struct chunk_result {
  std::vector<report> reports;
  std::vector<std::string> json;  // reports rendered, for json and jsonl
};

struct pending_record {
  std::uint64_t line = 0;
  std::string text;
  bool too_long = false;
  std::uint64_t size = 0;
};

// Runs f(0..n-1) on up to `threads` threads (0: every core). The first exception thrown by
// any call is rethrown after all threads have stopped.
template <class F>
void parallel_for(std::size_t n, unsigned threads, F&& f) {
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  threads = static_cast<unsigned>(std::min<std::size_t>({threads, 256u, n}));
  if (threads <= 1) {
    for (std::size_t i = 0; i < n; ++i) f(i);
    return;
  }
  std::atomic<std::size_t> next{0};
  std::atomic<bool> stop{false};
  std::exception_ptr failure;
  std::mutex failure_mutex;
  std::vector<std::thread> pool;
  pool.reserve(threads);
  for (unsigned t = 0; t < threads; ++t)
    pool.emplace_back([&] {
      for (std::size_t i; !stop && (i = next.fetch_add(1)) < n;) {
        try {
          f(i);
        } catch (...) {
          std::lock_guard<std::mutex> lock(failure_mutex);
          if (!failure) failure = std::current_exception();
          stop = true;
        }
      }
    });
  for (auto& t : pool) t.join();
  if (failure) std::rethrow_exception(failure);
}

// Progress on standard error, only when it is a terminal, and only once a batch has run
// for a second; cleared at the end.
class progress {
 public:
  progress() : enabled_(::isatty(STDERR_FILENO) == 1), start_(clock::now()), last_(start_) {}
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
  if (auto each = a.last("each")) {
    if (each->empty()) throw usage_error("--each needs a dotted path, e.g. residents");
    eo.each = *each;
  }
  if (auto subject = a.last("subject")) {
    if (subject->empty()) throw usage_error("--subject needs a dotted path, e.g. facility.code");
    eo.subject = *subject;
  }
  if (auto input = a.last("input"); input && *input != "json" && *input != "jsonl")
    throw usage_error("unknown input format \"" + *input + "\" (json or jsonl)");
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

  // A report of an empty record gives the columns of csv, table and summary.
  eval_options shape_opts = eo;
  shape_opts.each.clear();
  const report shape = rs.evaluate("{}", shape_opts);
  const bool shape_empty = shape.hazards.empty() && shape.scores.empty() && shape.grades.empty();

  output out(stdout);
  const bool as_array = mode == input_mode::lines || !eo.each.empty();
  auto writer = make_writer(fmt, out, shape, as_array);
  batch_summary summary(shape, rs.grades());
  int code = exit_ok;
  auto emit = [&](const report& r, const std::string* json) {
    writer->add(r, json);
    if (want_summary) summary.add(r);
    if (!r.errors.empty()) code = exit_failed;
  };
  writer->begin();

  if (whole) {
    summary.add_record();
    if (whole->too_large) {
      emit(error_report(shape, size_message("record", whole->size, line_bytes)), nullptr);
    } else {
      for (const auto& r : rs.evaluate_record(whole->text, eo)) emit(r, nullptr);
    }
  } else {
    line_reader reader(in.get(), line_bytes);
    progress shown;
    std::uint64_t records = 0;
    std::vector<pending_record> chunk;
    std::size_t bytes = 0;
    const bool render_json = fmt == format::json || fmt == format::jsonl;
    auto run_chunk = [&] {
      if (chunk.empty()) return;
      // Workers evaluate, number the errors of unreadable lines and render JSON; this
      // thread only writes, in input order.
      std::vector<chunk_result> results(chunk.size());
      parallel_for(chunk.size(), eo.threads, [&](std::size_t i) {
        const pending_record& rec = chunk[i];
        chunk_result& res = results[i];
        const std::string where = "line " + std::to_string(rec.line) + ": ";
        if (rec.too_long) {
          res.reports.push_back(
              error_report(shape, where + size_message("line", rec.size, line_bytes)));
        } else {
          res.reports = rs.evaluate_record(rec.text, eo);
          for (auto& r : res.reports) {
            // The engine's report of an unreadable record (not JSON, not an object) has no
            // hazards, scores or grades; its errors get the line number.
            bool root_error =
                std::any_of(r.errors.begin(), r.errors.end(),
                            [](const record_error& e) { return e.path && e.path->empty(); });
            if (r.hazards.empty() && r.scores.empty() && r.grades.empty() &&
                (!shape_empty || root_error))
              for (auto& e : r.errors) e.message.insert(0, where);
          }
        }
        if (render_json)
          for (const auto& r : res.reports) res.json.push_back(r.to_json());
      });
      for (auto& res : results) {
        for (std::size_t k = 0; k < res.reports.size(); ++k)
          emit(res.reports[k], render_json ? &res.json[k] : nullptr);
        res = chunk_result();
      }
      records += chunk.size();
      chunk.clear();
      bytes = 0;
      writer->chunk_done();
      out.flush();
      shown.update(records);
    };
    line_reader::line l;
    while (!out.failed() && reader.next(l)) {
      if (!l.too_long && is_blank(l.text)) continue;
      if (want_summary) summary.add_record();
      bytes += l.text.size();
      chunk.push_back({l.number, std::move(l.text), l.too_long, l.size});
      l.text = std::string();
      if (chunk.size() >= chunk_records || bytes >= chunk_bytes || reader.would_block())
        run_chunk();
    }
    if (!out.failed()) run_chunk();
    shown.clear();
    if (!reader.error().empty()) {
      print_error("cannot read `" + facts_path + "`: " + reader.error());
      code = exit_failed;
    }
  }
  writer->end();
  code = finish_output(out, code);
  if (want_summary && !out.failed()) {
    std::string text = summary.render(!eo.each.empty());
    std::fputs(text.c_str(), stderr);
  }
  return code;
}

}  // namespace carerules::cli
