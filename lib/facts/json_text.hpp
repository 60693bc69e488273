// Characters of JSON text (RFC 8259), for the two readers of JSON records (json_reader.cpp,
// plain_reader.cpp) and the writer of JSON strings (eval/report.cpp).
#pragma once

#include <cstdint>
#include <cstring>

namespace carerules::detail {

// The four characters JSON allows between tokens.
inline bool is_json_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// A digit of a \uXXXX escape.
inline bool is_json_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

constexpr std::uint64_t byte_ones = 0x0101010101010101ull;
constexpr std::uint64_t byte_highs = 0x8080808080808080ull;

// Whether any of the eight bytes of `w` is zero (may also flag a byte above a zero one: a
// filter, not a count).
constexpr std::uint64_t has_zero_byte(std::uint64_t w) { return (w - byte_ones) & ~w & byte_highs; }

// The bytes of `w` that need a closer look inside a string: a quote, a backslash, a control
// character or a byte of a multi-byte sequence. Each flag is the byte's high bit; the lowest
// one flagged is exact (higher ones may be false), so it says where to look.
constexpr std::uint64_t special_in(std::uint64_t w) {
  const std::uint64_t control = (w - 0x20 * byte_ones) & ~w & byte_highs;
  return has_zero_byte(w ^ ('"' * byte_ones)) | has_zero_byte(w ^ ('\\' * byte_ones)) | control |
         (w & byte_highs);
}

// From `p` to the first byte in [p, end) that needs a closer look inside a JSON string (or
// to `end`): eight bytes at a time.
inline const char* next_special(const char* p, const char* end) {
  while (end - p >= 8) {
    std::uint64_t w;
    std::memcpy(&w, p, 8);
    if (const std::uint64_t m = special_in(w)) return p + (__builtin_ctzll(m) >> 3);
    p += 8;
  }
  while (p != end) {
    const auto c = static_cast<unsigned char>(*p);
    if (c == '"' || c == '\\' || c < 0x20 || c >= 0x80) return p;
    ++p;
  }
  return p;
}

}  // namespace carerules::detail
