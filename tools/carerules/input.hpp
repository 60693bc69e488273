// Reading facts: opening FACTS (a file or `-`), reading one whole record with a size bound,
// and reading JSON lines with a bounded line reader, so a hostile input can neither exhaust
// memory nor crash the tool.
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "carerules/batch.hpp"

namespace carerules::cli {

// An open facts source. `-` is standard input (never closed).
class input_file {
 public:
  input_file() = default;
  input_file(const input_file&) = delete;
  input_file& operator=(const input_file&) = delete;
  ~input_file();

  // Opens `path`; on failure returns false with `error` naming the path and why (a
  // directory, no such file, no permission).
  bool open(const std::string& path, std::string& error);
  std::FILE* get() const { return file_; }
  const std::string& path() const { return path_; }
  bool is_stdin() const { return path_ == "-"; }
  // Whether the source can be read again from the start (a regular file).
  bool rewind();

 private:
  std::FILE* file_ = nullptr;
  std::string path_;
};

// The whole content of a source, up to `max_bytes`. When the content is longer, `text` is
// empty, `too_large` is set and `size` counts every byte read and dropped; from a stream,
// reading stops (`unended`) once twice the limit has gone by, so an endless source takes
// bounded time.
struct whole_read {
  std::string text;
  bool too_large = false;
  bool unended = false;
  std::uint64_t size = 0;
  std::string error;  // a read error (strerror), empty on success
};
whole_read read_whole(std::FILE* f, std::uint64_t max_bytes);

// Reads lines (LF or CRLF) of at most `max_bytes` bytes each. A longer line is consumed and
// dropped, with its length reported, in bounded memory. From a stream (not a regular file),
// a line still without an end after twice the limit is given up (`unended`) and so is the
// rest of the input (error() says why).
// A stream whose first block holds a NUL byte is binary, not JSON lines: nothing is read.
class line_reader {
 public:
  line_reader(std::FILE* f, std::uint64_t max_bytes);

  struct line {
    std::string text;  // without the line end; empty when too_long
    bool too_long = false;
    bool unended = false;      // too_long, and no end was found: reading stopped
    std::uint64_t size = 0;    // bytes of the line without its end (read so far if unended)
    std::uint64_t number = 0;  // 1-based
  };
  // Reads the next line into `out`. Returns false at the end of input or on a read error
  // (then error() is non-empty).
  bool next(line& out);
  const std::string& error() const { return error_; }
  // True when no input is buffered and none is ready (a pipe waiting for its producer), so
  // a caller can deal with what it has before blocking.
  bool would_block() const;

 private:
  bool fill();

  std::FILE* file_;
  std::uint64_t max_;
  std::vector<char> buffer_;
  std::size_t pos_ = 0, end_ = 0;
  bool eof_ = false;
  bool first_ = true;
  bool stream_ = true;  // not a regular file: an over-long line may never end
  std::uint64_t number_ = 0;
  std::string error_;
};

// A record as the batch functions take it: the text read, or, past the line_bytes limit, how
// many bytes it had (its report says so). The text is moved out.
batch_record record_of(whole_read&& w);
batch_record record_of(line_reader::line&& l);

// Whether `text` is one complete JSON object or array: brackets balance outside strings and
// close at the end. Used to tell JSON lines from one pretty-printed record.
bool is_complete_json_value(const std::string& text);

// Records read from JSON lines in chunks and handed over in input order: each chunk (at most
// `records` records or `bytes` bytes, fewer when a pipe has nothing more ready) goes to `work`,
// then to `deliver` on this thread. When `pipelined`, `work` runs on another thread while the
// next chunk is read and while the chunk before it is delivered (at most two chunks are held:
// one in `work`, one read or delivered); the two are told apart by their slot (0 or 1), so
// that each can keep its results in its own buffers. A chunk cut short because the input has
// nothing ready is delivered before reading on, so that a program at the other end of a pipe
// gets its answers. Blank lines are skipped. Reading ends early when `stop()` says so (an
// output that failed). Returns the reader's error, empty when the input was read to its end.
struct chunked_input {
  std::size_t records = 512;
  std::size_t bytes = 32u << 20;
  bool pipelined = false;
};
std::string for_each_chunk(
    std::FILE* in, std::uint64_t line_bytes, const chunked_input& how,
    const std::function<void(const std::vector<batch_record>&, int)>& work,
    const std::function<void(const std::vector<batch_record>&, int)>& deliver,
    const std::function<bool()>& stop);

// The same with `workers` threads (this one among them), each reading a chunk in turn,
// running `work` on it and then `deliver`ing it, in input order. A chunk is read and worked
// by one thread; a chunk worked before its turn has come waits, and its worker goes on with
// another, so each worker has two slots (2w and 2w + 1, of 0 .. 2 * workers - 1) to keep its
// results apart; the chunk that waited is delivered by whichever worker delivers the one
// before it. `deliver` and `stop` run on the workers, one at a time; `stop()` is asked at each
// delivery's turn. A work's or a delivery's exception reaches
// the caller once the chunks before it are delivered, and none after it is; a failure to read
// (out of memory) ends the run at once. After a chunk cut short, nothing is read until every
// chunk read is delivered, as with one thread.
std::string for_each_chunk_on_workers(
    std::FILE* in, std::uint64_t line_bytes, const chunked_input& how, unsigned workers,
    const std::function<void(const std::vector<batch_record>&, int)>& work,
    const std::function<void(const std::vector<batch_record>&, int)>& deliver,
    const std::function<bool()>& stop);

}  // namespace carerules::cli
