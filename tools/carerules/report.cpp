// `carerules report`: HTML pages, one per subject, and index.html, the summary by group.
//
// Records are read and evaluated in chunks like `eval`; for each chunk the pages are rendered
// and written on the evaluation threads, the counts added to the summary and the subjects with
// a present hazard appended to a temporary file in DIR. Nothing else is kept, so memory does
// not grow with the batch (beyond one small hash per page name, to number duplicates).
// index.html is written at the end from the counts and that file.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <unordered_set>

#include "carerules/html.hpp"
#include "carerules/ruleset.hpp"
#include "cli.hpp"
#include "input.hpp"

namespace carerules::cli {
namespace {

constexpr std::size_t chunk_records = 256;

std::string lower_ascii(std::string s) {
  for (char& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  return s;
}

// Pages written, on standard error when it is a terminal (the output is the folder of pages,
// so standard output being piped does not matter here).
class page_progress {
 public:
  page_progress() : enabled_(::isatty(STDERR_FILENO) == 1), last_(clock::now()) {}
  void update(std::uint64_t pages) {
    if (!enabled_) return;
    auto now = clock::now();
    if (now - last_ < std::chrono::milliseconds(200)) return;
    last_ = now;
    shown_ = true;
    std::string line = "\rcarerules: " + std::to_string(pages) + " pages written";
    std::fputs(line.c_str(), stderr);
    std::fflush(stderr);
  }
  void clear() {
    if (!shown_) return;
    std::fputs("\r\x1b[K", stderr);
    std::fflush(stderr);
  }

 private:
  using clock = std::chrono::steady_clock;
  bool enabled_;
  clock::time_point last_;
  bool shown_ = false;
};

std::string dotted_path(const parsed_args& a, std::string_view option) {
  return path_option(a, option).value_or("");
}

}  // namespace

int run_report(const std::vector<std::string>& args) {
  parsed_args a = parse_args(args, {{"rules", 'r', true},
                                    {"out", 'o', true},
                                    {"asof", 0, true},
                                    {"by", 0, true},
                                    {"name", 0, true},
                                    {"lang", 0, true},
                                    {"subject", 0, true},
                                    {"threads", 0, true},
                                    {"input", 0, true}});
  if (a.help) return print_help(*help_text("report"));
  const compile_options copts = common_compile_options(a);
  const auto rules = a.last("rules");
  if (!rules || rules->empty()) throw usage_error("missing -r RULES (the ruleset file)");
  const auto out_dir = a.last("out");
  if (!out_dir || out_dir->empty()) throw usage_error("missing --out DIR (where to write pages)");
  if (a.positional.size() != 1)
    throw usage_error("expected one FACTS argument (a .json or .jsonl file, or -)");
  const lang language = lang_option(a).value_or(lang::zh);
  eval_options eo;
  eo.asof = resolve_asof(a);
  eo.subject = dotted_path(a, "subject");
  if (auto t = a.last("threads")) {
    if (t->empty() || t->find_first_not_of("0123456789") != std::string::npos)
      throw usage_error("--threads needs an integer >= 0, got \"" + *t + "\"");
    eo.threads = static_cast<unsigned>(std::min<unsigned long>(std::stoul(t->substr(0, 6)), 1000));
  }
  const std::string by = dotted_path(a, "by");
  const std::string name_path = dotted_path(a, "name");
  auto input = a.last("input");
  if (input && *input != "json" && *input != "jsonl")
    throw usage_error("unknown input format \"" + *input + "\" (json or jsonl)");
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
  namespace fs = std::filesystem;
  const fs::path dir(*out_dir);
  {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec || !fs::is_directory(dir)) {
      print_error("cannot create the output directory `" + *out_dir + "`");
      return exit_failed;
    }
  }
  const fs::path rows_path = dir / ".index-rows.tmp";
  std::FILE* rows = std::fopen(rows_path.c_str(), "w+b");
  if (rows == nullptr) {
    print_error("cannot write in `" + *out_dir + "`");
    return exit_failed;
  }

  // One record (.json or --input json) or JSON lines (anything else).
  std::string ext = facts_path.size() >= 5 ? lower_ascii(facts_path.substr(facts_path.size() - 5))
                                           : std::string();
  const bool one_record = input ? *input == "json" : (!in.is_stdin() && ext == ".json");

  const std::uint64_t line_bytes = copts.limits.line_bytes;
  group_summary summary(rs);
  index_options io{language, by.empty() ? std::nullopt : std::optional<std::string>(by), eo.asof};
  std::unordered_set<std::size_t> used{std::hash<std::string>{}("index")};
  std::uint64_t position = 0, pages = 0, listed = 0;
  int code = exit_ok;
  std::string failure;
  page_progress shown;

  auto run_chunk = [&](std::vector<batch_record>& chunk) {
    if (chunk.empty() || !failure.empty()) return;
    auto results = rs.evaluate_batch(chunk, eo);
    const std::size_t n = chunk.size();
    std::vector<std::optional<std::string>> names(n), groups(n);
    std::vector<std::string> files(n);
    parallel_for(n, eo.threads, [&](std::size_t i) {
      const std::string& text = chunk[i].text;
      if (!name_path.empty()) names[i] = fact_at(text, name_path);
      if (!by.empty()) groups[i] = fact_at(text, by);
    });
    for (std::size_t i = 0; i < n; ++i) {
      const report& r = results[i].reports.front();
      std::string stem = page_file_stem(r.subject, position + i + 1);
      // Duplicates (compared without case, for case-insensitive file systems): -2, -3, …
      std::string candidate = stem;
      for (unsigned k = 2; !used.insert(std::hash<std::string>{}(lower_ascii(candidate))).second;
           ++k)
        candidate = stem + "-" + std::to_string(k);
      files[i] = candidate + ".html";
    }
    std::vector<std::string> errors(n);
    parallel_for(n, eo.threads, [&](std::size_t i) {
      page_options po;
      po.language = language;
      po.name = names[i];
      std::string page = html_page(rs, results[i].reports.front(), chunk[i].text, po);
      write_file(dir / files[i], page, errors[i]);
    });
    for (std::size_t i = 0; i < n; ++i) {
      if (!errors[i].empty()) {
        failure = errors[i];
        return;
      }
      const report& r = results[i].reports.front();
      summary.add_record(groups[i]);
      summary.add(r, groups[i]);
      if (!r.errors.empty()) code = exit_failed;
      index_entry e;
      for (const auto& h : r.hazards)
        if (h.status == hazard_status::present) e.hazards.push_back(h.id);
      if (e.hazards.empty()) continue;
      e.file = files[i];
      e.subject = r.subject;
      e.name = names[i];
      e.group = groups[i];
      for (const auto& g : r.grades) e.grades.emplace_back(g.value());
      std::string row = html_index_row(rs, e, io);
      if (std::fwrite(row.data(), 1, row.size(), rows) != row.size())
        failure = "cannot write `" + rows_path.string() + "`";
      ++listed;
    }
    position += n;
    pages += n;
    chunk.clear();
    shown.update(pages);
  };

  std::vector<batch_record> chunk;
  if (one_record) {
    whole_read whole = read_whole(in.get(), line_bytes);
    if (!whole.error.empty()) {
      std::fclose(rows);
      print_error("cannot read `" + facts_path + "`: " + whole.error);
      return exit_failed;
    }
    chunk.push_back(record_of(std::move(whole)));
    run_chunk(chunk);
  } else {
    line_reader reader(in.get(), line_bytes);
    line_reader::line l;
    while (failure.empty() && reader.next(l)) {
      if (!l.too_long && blank_line(l.text)) continue;
      chunk.push_back(record_of(std::move(l)));
      if (chunk.size() >= chunk_records || reader.would_block()) run_chunk(chunk);
    }
    run_chunk(chunk);
    if (!reader.error().empty()) {
      print_error("cannot read `" + facts_path + "`: " + reader.error());
      code = exit_failed;
    }
  }
  shown.clear();

  // index.html: the head, the streamed rows, the tail.
  if (failure.empty()) {
    std::ofstream index(dir / "index.html", std::ios::binary | std::ios::trunc);
    std::string head = html_index_head(rs, summary, io);
    index.write(head.data(), static_cast<std::streamsize>(head.size()));
    std::rewind(rows);
    char buf[1 << 16];
    std::size_t got = 0;
    while ((got = std::fread(buf, 1, sizeof buf, rows)) > 0)
      index.write(buf, static_cast<std::streamsize>(got));
    std::string tail = html_index_tail(io, listed);
    index.write(tail.data(), static_cast<std::streamsize>(tail.size()));
    index.close();
    if (!index) failure = "cannot write `" + (dir / "index.html").string() + "`";
  }
  std::fclose(rows);
  std::error_code ec;
  fs::remove(rows_path, ec);
  if (!failure.empty()) {
    print_error(failure);
    return exit_failed;
  }
  output out(stdout);
  out << (dir / "index.html").string() << "\n";
  return finish_output(out, code);
}

}  // namespace carerules::cli
