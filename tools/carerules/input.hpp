// Reading facts: opening FACTS (a file or `-`), reading one whole record with a size bound,
// and reading JSON lines with a bounded line reader, so a hostile input can neither exhaust
// memory nor crash the tool.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

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
// empty, `too_large` is set and `size` counts every byte (read and dropped).
struct whole_read {
  std::string text;
  bool too_large = false;
  std::uint64_t size = 0;
  std::string error;  // a read error (strerror), empty on success
};
whole_read read_whole(std::FILE* f, std::uint64_t max_bytes);

// Reads lines (LF or CRLF) of at most `max_bytes` bytes each. A longer line is consumed and
// dropped, with its length reported, in bounded memory.
class line_reader {
 public:
  line_reader(std::FILE* f, std::uint64_t max_bytes);

  struct line {
    std::string text;  // without the line end; empty when too_long
    bool too_long = false;
    std::uint64_t size = 0;    // bytes of the line without its end
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
  std::uint64_t number_ = 0;
  std::string error_;
};

// Whether `text` is one complete JSON object or array: brackets balance outside strings and
// close at the end. Used to tell JSON lines from one pretty-printed record.
bool is_complete_json_value(const std::string& text);

}  // namespace carerules::cli
