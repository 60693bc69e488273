// Text set aside in a temporary file until it can be written in its place: the ledger's
// outputs over millions of findings (diff's lists, the status page's rows) are written in
// their order without holding them in memory, and a large round's subjects wait in sorted
// runs until they are stored.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <string_view>

#include "carerules/ledger.hpp"

namespace carerules::ledger {

class spill {
 public:
  spill() : file_(std::tmpfile()) {
    if (!file_) throw ledger_error("cannot create a temporary file");
  }
  ~spill() { std::fclose(file_); }
  spill(const spill&) = delete;
  spill& operator=(const spill&) = delete;

  void write(std::string_view text) {
    if (std::fwrite(text.data(), 1, text.size(), file_) != text.size())
      throw ledger_error("cannot write a temporary file");
    ++count_;
  }
  std::uint64_t count() const { return count_; }  // writes so far
  // To read from the start with read_row().
  void rewind() {
    if (std::fflush(file_) != 0 || std::fseek(file_, 0, SEEK_SET) != 0)
      throw ledger_error("cannot read back a temporary file");
  }
  // The next piece written, when each piece starts with its length (4 bytes, little-endian,
  // not counting themselves), into `row` with its length. False at the end.
  bool read_row(std::string& row) {
    unsigned char len[4];
    const std::size_t got = std::fread(len, 1, 4, file_);
    if (got == 0 && std::feof(file_)) return false;
    if (got != 4) throw ledger_error("cannot read back a temporary file");
    const std::size_t n =
        len[0] | std::size_t{len[1]} << 8 | std::size_t{len[2]} << 16 | std::size_t{len[3]} << 24;
    row.resize(4 + n);
    std::memcpy(row.data(), len, 4);
    if (std::fread(row.data() + 4, 1, n, file_) != n)
      throw ledger_error("cannot read back a temporary file");
    return true;
  }
  // Gives back what was written, in pieces of up to 64 KiB.
  void read_back(const std::function<void(std::string_view)>& piece) {
    if (std::fflush(file_) != 0 || std::fseek(file_, 0, SEEK_SET) != 0)
      throw ledger_error("cannot read back a temporary file of the output");
    std::string buffer(1 << 16, '\0');
    while (const std::size_t n = std::fread(buffer.data(), 1, buffer.size(), file_))
      piece(std::string_view(buffer.data(), n));
    if (std::ferror(file_)) throw ledger_error("cannot read back a temporary file of the output");
  }

 private:
  std::FILE* file_;
  std::uint64_t count_ = 0;
};

}  // namespace carerules::ledger
