// Bounded reading of facts.
#include "input.hpp"

#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>

namespace carerules::cli {
namespace {
constexpr std::size_t chunk_bytes = 1u << 16;

// Past the limit, the rest of a record is read and dropped (to find where the next one
// starts, and to say how long it was). A regular file ends; from a stream (a pipe, a device,
// standard input) at most as many bytes again are dropped: a record longer than that has no
// end worth waiting for (/dev/zero, a producer that never sends a newline).
std::uint64_t drain_bound(std::uint64_t max_bytes) {
  return max_bytes > UINT64_MAX / 2 ? UINT64_MAX : 2 * max_bytes + 1;
}
}  // namespace

input_file::~input_file() {
  if (file_ != nullptr && file_ != stdin) std::fclose(file_);
}

bool input_file::open(const std::string& path, std::string& error) {
  path_ = path;
  if (path == "-") {
    file_ = stdin;
    return true;
  }
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    error = "cannot read `" + path + "`: " + std::strerror(errno);
    return false;
  }
  if (S_ISDIR(st.st_mode)) {
    error = "cannot read `" + path + "`: it is a directory";
    return false;
  }
  file_ = std::fopen(path.c_str(), "rb");
  if (file_ == nullptr) {
    error = "cannot read `" + path + "`: " + std::strerror(errno);
    return false;
  }
  return true;
}

bool input_file::rewind() {
  if (file_ == nullptr || file_ == stdin) return false;
  struct stat st {};
  if (::fstat(fileno(file_), &st) != 0 || !S_ISREG(st.st_mode)) return false;
  return std::fseek(file_, 0, SEEK_SET) == 0;
}

whole_read read_whole(std::FILE* f, std::uint64_t max_bytes) {
  whole_read r;
  struct stat st {};
  const bool stream = ::fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode);
  std::vector<char> buf(chunk_bytes);
  while (true) {
    std::size_t n = std::fread(buf.data(), 1, buf.size(), f);
    if (n > 0) {
      r.size += n;
      if (!r.too_large) {
        if (r.size > max_bytes) {
          r.too_large = true;
          std::string().swap(r.text);
        } else {
          r.text.append(buf.data(), n);
        }
      }
      if (stream && r.size > drain_bound(max_bytes)) {
        r.unended = true;
        break;
      }
    }
    if (n < buf.size()) {
      if (std::ferror(f)) r.error = std::strerror(errno);
      break;
    }
  }
  return r;
}

line_reader::line_reader(std::FILE* f, std::uint64_t max_bytes)
    : file_(f), max_(max_bytes), buffer_(chunk_bytes) {
  struct stat st {};
  stream_ = ::fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode);
}

// read(2), not fread: a pipe gives what it has, so a slow producer is answered line by line.
bool line_reader::fill() {
  if (eof_) return false;
  pos_ = 0;
  end_ = 0;
  while (true) {
    ssize_t n = ::read(fileno(file_), buffer_.data(), buffer_.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) error_ = std::strerror(errno);
    if (n <= 0) {
      eof_ = true;
      return false;
    }
    end_ = static_cast<std::size_t>(n);
    if (first_ && stream_) {
      // JSON text never holds a NUL byte; a stream with one in its first block is binary
      // (/dev/zero, /dev/urandom), not JSON lines: say so rather than answer an endless
      // stream of garbage lines with an endless stream of error reports. (A regular file
      // ends: its lines are reported one by one.)
      first_ = false;
      if (const void* nul = std::memchr(buffer_.data(), '\0', end_)) {
        error_ = "not JSON text: a NUL byte at byte " +
                 std::to_string(static_cast<const char*>(nul) - buffer_.data() + 1) +
                 " of the input; reading stopped";
        eof_ = true;
        end_ = 0;
        return false;
      }
    }
    return true;
  }
}

bool line_reader::would_block() const {
  if (pos_ < end_ || eof_) return false;
  pollfd p{fileno(file_), POLLIN, 0};
  return ::poll(&p, 1, 0) == 0;
}

bool line_reader::next(line& out) {
  out.text.clear();
  out.too_long = false;
  out.unended = false;
  out.size = 0;
  bool any = false;
  while (true) {
    if (pos_ >= end_ && !fill()) break;
    any = true;
    const char* start = buffer_.data() + pos_;
    const std::size_t avail = end_ - pos_;
    const void* nl = std::memchr(start, '\n', avail);
    const std::size_t take =
        nl != nullptr ? static_cast<std::size_t>(static_cast<const char*>(nl) - start) : avail;
    out.size += take;
    if (stream_ && out.size > drain_bound(max_)) {  // no end in sight: give up the line and
      out.too_long = true;                          // the rest of the input
      out.unended = true;
      std::string().swap(out.text);
      pos_ = end_ = 0;
      eof_ = true;
      error_ = "line " + std::to_string(number_ + 1) + " has no end within " +
               std::to_string(out.size) + " bytes (limit line_bytes " + std::to_string(max_) +
               "); reading stopped";
      break;
    }
    if (!out.too_long) {
      if (out.size > max_ + 1) {  // +1: a CR of a CRLF end is not part of the line
        out.too_long = true;
        std::string().swap(out.text);
      } else {
        // Room in whole powers of two, so that a text read into again (for_each_chunk
        // recycles them) nearly always fits the next line without reallocating.
        if (out.text.capacity() < out.text.size() + take)
          out.text.reserve(std::bit_ceil(std::max<std::size_t>(out.text.size() + take, 256)));
        out.text.append(start, take);
      }
    }
    pos_ += take;
    if (nl != nullptr) {
      ++pos_;  // the '\n'
      break;
    }
  }
  if (!any) return false;
  if (!out.too_long && !out.text.empty() && out.text.back() == '\r') {
    out.text.pop_back();
    --out.size;
  }
  if (!out.too_long && out.size > max_) {
    out.too_long = true;
    std::string().swap(out.text);
  }
  out.number = ++number_;
  return true;
}

bool is_complete_json_value(const std::string& text) {
  std::size_t i = 0;
  if (text.compare(0, 3, "\xEF\xBB\xBF") == 0) i = 3;
  while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
  if (i >= text.size() || (text[i] != '{' && text[i] != '[')) return false;
  std::size_t depth = 0;
  bool in_string = false;
  for (; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      ++depth;
    } else if (c == '}' || c == ']') {
      if (depth == 0) return false;
      if (--depth == 0) {
        for (++i; i < text.size(); ++i)
          if (text[i] != ' ' && text[i] != '\t') return false;
        return true;
      }
    }
  }
  return false;
}

batch_record record_of(whole_read&& w) {
  batch_record r;
  if (w.too_large) {
    r.oversize = w.size;
    r.unended = w.unended;
  } else {
    r.text = std::move(w.text);
  }
  return r;
}

batch_record record_of(line_reader::line&& l) {
  batch_record r;
  r.line = l.number;
  if (l.too_long) {
    r.oversize = l.size;
    r.unended = l.unended;
  } else {
    r.text = std::move(l.text);
  }
  l.text = std::string();
  return r;
}

namespace {

// Runs one task at a time on a thread of its own, kept for the whole input: a thread started
// per chunk cost a clone, a fresh stack and its page faults every 512 or 1 024 records.
class chunk_runner {
 public:
  chunk_runner() : thread_([this] { loop(); }) {}
  ~chunk_runner() {
    {
      std::lock_guard lock(m_);
      quit_ = true;
    }
    changed_.notify_all();
    thread_.join();
  }
  chunk_runner(const chunk_runner&) = delete;
  chunk_runner& operator=(const chunk_runner&) = delete;

  // Starts `task`; the task before it must have been waited for.
  void start(std::function<void()> task) {
    {
      std::lock_guard lock(m_);
      task_ = std::move(task);
      busy_ = true;
    }
    changed_.notify_all();
  }
  // Waits for the task started last; rethrows what it threw.
  void wait() {
    std::unique_lock lock(m_);
    changed_.wait(lock, [&] { return !busy_; });
    if (failure_) std::rethrow_exception(std::exchange(failure_, nullptr));
  }

 private:
  void loop() {
    std::unique_lock lock(m_);
    while (true) {
      changed_.wait(lock, [&] { return quit_ || task_; });
      if (!task_) return;  // quit with nothing to run
      std::function<void()> task = std::move(task_);
      task_ = nullptr;
      lock.unlock();
      std::exception_ptr failure;
      try {
        task();
      } catch (...) {
        failure = std::current_exception();
      }
      lock.lock();
      failure_ = failure;
      busy_ = false;
      changed_.notify_all();
    }
  }

  std::mutex m_;
  std::condition_variable changed_;
  std::function<void()> task_;
  std::exception_ptr failure_;
  bool busy_ = false, quit_ = false;
  std::thread thread_;  // last: started when the rest is ready
};

}  // namespace

namespace {

// Reads the next chunk into `chunk` (chunked_input says how much), reusing the texts of what it
// held before. Returns whether more input may follow; `cut_short` is set when nothing more was
// ready (a producer may be waiting for these answers before it writes more).
class chunk_filler {
 public:
  chunk_filler(line_reader& reader, const chunked_input& how) : reader_(reader), how_(how) {}

  bool fill(std::vector<batch_record>& chunk, bool& cut_short) {
    // The texts of a delivered chunk, emptied, are read into again: a line costs no
    // allocation (nor a free) on the reading thread. Only texts on the heap of ordinary size
    // are kept (a short one lives inside its string), at most a chunk's worth.
    for (auto& r : chunk)
      if (r.text.capacity() > inline_capacity && r.text.capacity() <= spare_capacity &&
          spare_.size() < how_.records) {
        r.text.clear();
        spare_.push_back(std::move(r.text));
      }
    chunk.clear();
    std::size_t bytes = 0;
    cut_short = false;
    bool more;
    while (true) {
      if (!spare_.empty() && l_.text.capacity() <= inline_capacity) {  // (moved from)
        l_.text = std::move(spare_.back());
        spare_.pop_back();
      }
      if (!(more = reader_.next(l_))) break;
      if (!l_.too_long && blank_line(l_.text)) continue;
      bytes += l_.text.size();
      chunk.push_back(record_of(std::move(l_)));
      if (chunk.size() >= how_.records || bytes >= how_.bytes) {
        // Full, with nothing more ready: the chunk goes out at once, as one cut short.
        cut_short = reader_.would_block();
        break;
      }
      if (reader_.would_block()) {
        cut_short = true;
        break;
      }
    }
    return more;
  }

 private:
  static constexpr std::size_t spare_capacity = 64u << 10;
  static inline const std::size_t inline_capacity = std::string().capacity();
  line_reader& reader_;
  const chunked_input& how_;
  line_reader::line l_;
  std::vector<std::string> spare_;
};

}  // namespace

std::string for_each_chunk(
    std::FILE* in, std::uint64_t line_bytes, const chunked_input& how,
    const std::function<void(const std::vector<batch_record>&, int)>& work,
    const std::function<void(const std::vector<batch_record>&, int)>& deliver,
    const std::function<bool()>& stop) {
  line_reader reader(in, line_bytes);
  std::vector<batch_record> chunks[2];
  std::optional<chunk_runner> runner;  // when pipelined
  if (how.pipelined) runner.emplace();
  int running_slot = -1;  // the chunk whose work was started last and is not delivered yet
  // Waits for that chunk's work (a worker's exception reaches the caller here; when a delivery
  // throws while a chunk is in work, the caller gets the delivery's exception and the work's,
  // if it throws too, is dropped when the runner stops).
  auto wait = [&] {
    const int slot = running_slot;
    running_slot = -1;
    if (runner) runner->wait();
    return slot;
  };
  int slot = 0;  // the slot read into next: never the running one
  chunk_filler filler(reader, how);
  bool more = true;
  while (more && !stop()) {
    std::vector<batch_record>& chunk = chunks[slot];
    bool cut_short;
    more = filler.fill(chunk, cut_short);
    // The chunk before this one is delivered while this one's work runs.
    const int before = running_slot >= 0 ? wait() : -1;
    const bool go = !chunk.empty() && !stop();
    if (go) {
      if (runner)
        runner->start([&work, &chunk, slot] { work(chunk, slot); });
      else
        work(chunk, slot);
      running_slot = slot;
    }
    if (before >= 0) deliver(chunks[before], before);
    if (!go) continue;
    if (!runner || cut_short) {
      const int now = wait();
      if (stop()) break;  // that delivery failed the output: it takes no more
      deliver(chunks[now], now);
    }
    slot ^= 1;
  }
  if (running_slot >= 0) {
    const int last = wait();
    if (!stop()) deliver(chunks[last], last);  // (an output that failed takes no more)
  }
  return reader.error();
}

std::string for_each_chunk_on_workers(
    std::FILE* in, std::uint64_t line_bytes, const chunked_input& how, unsigned workers,
    const std::function<void(const std::vector<batch_record>&, int)>& work,
    const std::function<void(const std::vector<batch_record>&, int)>& deliver,
    const std::function<bool()>& stop) {
  workers = std::max(workers, 1u);
  line_reader reader(in, line_bytes);
  chunk_filler filler(reader, how);
  // Two chunks per worker (slots 2w and 2w + 1): one it works on, one that waits, worked,
  // for its turn to be delivered.
  std::vector<std::vector<batch_record>> chunks(2 * static_cast<std::size_t>(workers));

  std::mutex read_m;            // the reader, the filler and what follows
  bool no_more = false;         // the input ended, or nothing more is to be read
  bool last_cut_short = false;  // the chunk read last was cut short (nothing more was ready)
  std::uint64_t read = 0;       // chunks read (each chunk's number, in input order)

  std::mutex turn_m;  // what follows, and every delivery
  std::condition_variable turn;
  std::uint64_t delivered = 0;     // the number of the chunk whose turn it is
  std::atomic<bool> ended{false};  // a work or a delivery threw, or the output failed: no more
  std::exception_ptr failure;
  // Chunks worked and waiting for their turn, by number and slot; whoever delivers the chunk
  // before one delivers it too, so the chunk whose turn it is never waits here.
  std::vector<std::pair<std::uint64_t, int>> parked;
  auto is_parked = [&](int slot) {
    return std::any_of(parked.begin(), parked.end(),
                       [&](const auto& p) { return p.second == slot; });
  };
  auto end = [&](std::exception_ptr e) {  // with turn_m held
    if (e && !failure) failure = e;
    ended = true;
    turn.notify_all();
  };
  // With turn_m held: the parked chunk whose turn it is, and the ones after it, in order.
  // False when the run ended (a delivery threw, or the output failed).
  auto deliver_in_turn = [&] {
    for (;;) {
      auto it = std::find_if(parked.begin(), parked.end(),
                             [&](const auto& p) { return p.first == delivered; });
      if (it == parked.end()) {
        turn.notify_all();
        return true;
      }
      const int slot = it->second;
      parked.erase(it);
      std::exception_ptr failed;
      if (!stop()) {
        try {
          deliver(chunks[static_cast<std::size_t>(slot)], slot);
        } catch (...) {
          failed = std::current_exception();
        }
        ++delivered;
        if (!failed) continue;
      }
      end(failed);  // (no failure: the output failed, and takes no more)
      return false;
    }
  };

  auto run = [&](unsigned w) {
    int slot = static_cast<int>(2 * w);
    while (true) {
      std::vector<batch_record>& chunk = chunks[static_cast<std::size_t>(slot)];
      std::uint64_t number;
      {
        std::lock_guard lock(read_m);
        if (no_more) return;
        if (last_cut_short) {
          // A producer may be waiting for that chunk's answers before it writes more: read
          // (which may block) only once every chunk read is delivered, as with one thread. So
          // a reader never blocks while a chunk is still in work, and whatever ends the run
          // finds no reader waiting on a quiet pipe.
          std::unique_lock t(turn_m);
          turn.wait(t, [&] { return delivered == read || ended; });
        }
        if (ended) {
          no_more = true;
          return;
        }
        if (!filler.fill(chunk, last_cut_short)) no_more = true;
        if (chunk.empty()) return;
        number = read++;
      }
      std::exception_ptr failed;
      try {
        work(chunk, slot);
      } catch (...) {
        failed = std::current_exception();
      }
      std::unique_lock lock(turn_m);
      if (failed) {
        // A chunk whose work failed ends the run in its turn: the chunks before it are
        // delivered, none after it (unless the run ended before: that end stands).
        turn.wait(lock, [&] { return delivered == number || ended; });
        if (!ended) end(failed);
        return;
      }
      if (ended) return;
      parked.emplace_back(number, slot);
      if (delivered == number) {
        if (!deliver_in_turn()) return;
        continue;  // (this slot is free again)
      }
      // Not its turn yet: the chunk waits, worked, and this worker goes on with its other
      // slot once that one's chunk (parked before) is delivered.
      const int other = slot ^ 1;
      turn.wait(lock, [&] { return !is_parked(other) || ended; });
      if (ended) return;
      slot = other;
    }
  };
  // Whatever else throws (reading: out of memory) ends the run at once, before the chunks
  // still waiting for their turn.
  auto guarded = [&](unsigned w) {
    try {
      run(w);
    } catch (...) {
      std::lock_guard lock(turn_m);
      end(std::current_exception());
    }
  };
  std::vector<std::thread> threads;
  try {
    threads.reserve(workers - 1);
    for (unsigned w = 1; w < workers; ++w) threads.emplace_back(guarded, w);
  } catch (...) {  // a thread that cannot start: the ones started stop at their next turn
    std::lock_guard lock(turn_m);
    end(std::current_exception());
  }
  guarded(0);
  for (auto& t : threads) t.join();
  if (failure) std::rethrow_exception(failure);
  return reader.error();
}

}  // namespace carerules::cli
