// Text set aside in a temporary file until it can be written in its place: the ledger's
// outputs over millions of findings (diff's lists, the status page's rows) are written in
// their order without holding them in memory.
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>
#include <string_view>

#include "carerules/ledger.hpp"

namespace carerules::ledger {

class spill {
 public:
  spill() : file_(std::tmpfile()) {
    if (!file_) throw ledger_error("cannot create a temporary file for the output");
  }
  ~spill() { std::fclose(file_); }
  spill(const spill&) = delete;
  spill& operator=(const spill&) = delete;

  void write(std::string_view text) {
    if (std::fwrite(text.data(), 1, text.size(), file_) != text.size())
      throw ledger_error("cannot write a temporary file for the output");
    ++count_;
  }
  std::uint64_t count() const { return count_; }  // writes so far
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
