// Batches on threads, unreadable records, and the tabular layout of reports: the one place
// every surface (CLI, Python, C ABI, server) asks.
#include "carerules/batch.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>

#include "api/evaluate.hpp"
#include "carerules/ruleset.hpp"
#include "facts/bind.hpp"
#include "plan/plan.hpp"

namespace carerules {

namespace {

// The workers every parallel_for shares: started when first needed, grown to the largest
// thread count asked for, kept for the life of the process. Keeping them keeps what each
// thread caches (its evaluator, the binder's stacks, its malloc arena) warm across calls,
// and saves starting threads for every chunk of a stream.
//
// A call hands out "tokens" (one per extra thread it may use) and works through its indices
// itself too. When it has run out of indices it takes back the tokens no worker picked up and
// waits only for those being worked on, so a call always finishes, even when every worker is
// busy with other calls, or in a child process after fork (where the workers do not exist).
class worker_pool {
 public:
  struct job {
    const std::function<void(std::size_t)>* f = nullptr;
    std::size_t n = 0;
    std::atomic<std::size_t> next{0};
    std::size_t working = 0;  // tokens picked up and not finished (guarded by the pool mutex)
    std::mutex failure_m;
    std::exception_ptr failure;
    std::condition_variable finished;
  };

  static worker_pool& get() {
    static worker_pool* pool = new worker_pool();  // never destroyed: workers may outlive main
    if (pool->pid_ != ::getpid()) pool = new worker_pool();  // a forked child: start afresh
    return *pool;
  }

  void run(job& j, unsigned extra) {
    {
      std::lock_guard<std::mutex> lock(m_);
      while (workers_ < extra && workers_ < 255) {
        std::thread(&worker_pool::work, this).detach();
        ++workers_;
      }
      for (unsigned i = 0; i < extra; ++i) queue_.push_back(&j);
    }
    wake_.notify_all();
    loop(j);
    std::unique_lock<std::mutex> lock(m_);
    queue_.erase(std::remove(queue_.begin(), queue_.end(), &j), queue_.end());
    j.finished.wait(lock, [&] { return j.working == 0; });
  }

 private:
  worker_pool() : pid_(::getpid()) {}

  static void loop(job& j) {
    try {
      for (std::size_t i; (i = j.next.fetch_add(1)) < j.n;) (*j.f)(i);
    } catch (...) {
      std::lock_guard<std::mutex> lock(j.failure_m);
      if (!j.failure) j.failure = std::current_exception();
      j.next = j.n;  // nobody starts more work
    }
  }

  void work() {
    std::unique_lock<std::mutex> lock(m_);
    while (true) {
      wake_.wait(lock, [&] { return !queue_.empty(); });
      job* j = queue_.front();
      queue_.pop_front();
      ++j->working;
      lock.unlock();
      loop(*j);
      lock.lock();
      if (--j->working == 0) j->finished.notify_all();
    }
  }

  const pid_t pid_;
  std::mutex m_;
  std::condition_variable wake_;
  std::deque<job*> queue_;
  unsigned workers_ = 0;
};

}  // namespace

void parallel_for(std::size_t n, unsigned threads, const std::function<void(std::size_t)>& f) {
  threads = thread_count(threads, n);
  if (threads <= 1) {
    for (std::size_t i = 0; i < n; ++i) f(i);
    return;
  }
  worker_pool::job j;
  j.f = &f;
  j.n = n;
  worker_pool::get().run(j, threads - 1);
  if (j.failure) std::rethrow_exception(j.failure);
}

bool blank_line(std::string_view text) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c != ' ' && c != '\t' && c != '\r' && c != '\n') return false;
  }
  return true;
}

namespace {

// A number of the report as a cell: as the JSON writes it, empty for null.
std::string number_cell(const json_value& v) {
  if (v.type == json_value::kind::null) return "";
  if (v.type == json_value::kind::string) return v.s;
  return v.to_json();
}

}  // namespace

std::string report_cell(const report& r, const report_column& c) {
  switch (c.what) {
    case report_column::kind::subject:
      return r.subject.value_or("");
    case report_column::kind::hazard:
      return c.index < r.hazards.size() ? std::string(to_string(r.hazards[c.index].status)) : "";
    case report_column::kind::score:
      return c.index < r.scores.size() ? number_cell(r.scores[c.index].total) : "";
    case report_column::kind::section:
      if (c.index >= r.scores.size() || c.section >= r.scores[c.index].sections.size()) return "";
      return number_cell(r.scores[c.index].sections[c.section].second);
    case report_column::kind::grade:
      return c.index < r.grades.size() ? std::string(r.grades[c.index].value()) : "";
    case report_column::kind::errors:
      return std::to_string(r.errors.size());
  }
  return "";
}

std::vector<report_column> ruleset::columns() const {
  using K = report_column::kind;
  std::vector<report_column> out;
  out.push_back({K::subject, "subject", 0, 0});
  const auto& hz = hazards();
  for (std::size_t i = 0; i < hz.size(); ++i)
    out.push_back({K::hazard, "hazard." + hz[i].id, static_cast<std::uint32_t>(i), 0});
  const auto& sc = scores();
  for (std::size_t i = 0; i < sc.size(); ++i) {
    out.push_back({K::score, "score." + sc[i].name, static_cast<std::uint32_t>(i), 0});
    for (std::size_t k = 0; k < sc[i].sections.size(); ++k)
      out.push_back({K::section, "score." + sc[i].name + "." + sc[i].sections[k],
                     static_cast<std::uint32_t>(i), static_cast<std::uint32_t>(k)});
  }
  const auto& gr = grades();
  for (std::size_t i = 0; i < gr.size(); ++i)
    out.push_back({K::grade, "grade." + gr[i].name, static_cast<std::uint32_t>(i), 0});
  out.push_back({K::errors, "errors", 0, 0});
  return out;
}

report ruleset::unreadable_report(std::string message, std::string pointer,
                                  const eval_options& options) const {
  report r;
  r.ruleset = info();
  r.engine = std::string("carerules ") + version_string;
  r.asof = resolve_asof(options.asof);
  r.unreadable = true;
  r.errors.push_back({std::move(pointer), std::nullopt, std::move(message)});
  return r;
}

std::vector<batch_result> ruleset::evaluate_batch(const std::vector<batch_record>& records,
                                                  const eval_options& options,
                                                  bool render_json) const {
  // One date for the whole batch, checked before any work.
  eval_options o = options;
  o.asof = resolve_asof(options.asof);
  const std::uint64_t line_bytes = program().limits.line_bytes;
  std::vector<batch_result> results(records.size());
  parallel_for(records.size(), o.threads, [&](std::size_t i) {
    const batch_record& rec = records[i];
    batch_result& res = results[i];
    const std::string where = rec.line ? "line " + std::to_string(rec.line) + ": " : "";
    if (rec.oversize) {
      // Nothing of the record was read: every declared fact is in error, so the report keeps
      // its shape (hazards undetermined, the limit named) rather than losing its hazards.
      const detail::record_facts facts = detail::facts_not_read(
          *program().schema, "",
          where + (rec.line ? "line" : "record") + " of " + (rec.unended ? "more than " : "") +
              std::to_string(rec.oversize) + " bytes exceeds the limit line_bytes (" +
              std::to_string(line_bytes) + ")");
      res.reports.push_back(detail::evaluate_facts(program(), facts, detail::asof_days(o)));
    } else {
      res.reports = evaluate_record(rec.text, o);
      if (!where.empty())
        for (auto& r : res.reports)
          if (r.unreadable)
            for (auto& e : r.errors) e.message.insert(0, where);
    }
    if (render_json)
      for (const auto& r : res.reports) res.json.push_back(r.to_json());
  });
  return results;
}

std::string ruleset::evaluate_jsonl(std::string_view jsonl, const eval_options& options) const {
  // Chunks keep the records in memory bounded by the chunk, not by the batch.
  constexpr std::size_t chunk_records = 512;
  eval_options o = options;
  o.asof = resolve_asof(options.asof);
  const std::uint64_t line_bytes = program().limits.line_bytes;
  batch_text out;
  std::vector<batch_record> chunk;
  auto run = [&] {
    evaluate_text(chunk, o, line_format::report, "\n", out);
    chunk.clear();
  };
  std::uint64_t number = 0;
  for (std::size_t start = 0; start < jsonl.size();) {
    std::size_t end = jsonl.find('\n', start);
    if (end == std::string_view::npos) end = jsonl.size();
    std::string_view line = jsonl.substr(start, end - start);
    start = end + 1;
    ++number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.size() > line_bytes)
      chunk.push_back({std::string(), number, line.size(), false});
    else if (!blank_line(line))
      chunk.push_back({std::string(line), number, 0, false});
    if (chunk.size() >= chunk_records) run();
  }
  run();
  if (out.outputs) out.text += '\n';
  return std::move(out.text);
}

}  // namespace carerules
