// UTF-8 helpers: validation, decoding, display width, escaping for diagnostics.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace carerules::detail {

// Decodes one code point at s[i]. On success returns the code point and sets len to its
// byte length (1..4). On an invalid sequence (bad lead, truncated, overlong, surrogate,
// > U+10FFFF) returns -1 and sets len to 1.
std::int32_t decode_utf8(std::string_view s, std::size_t i, std::size_t& len);

// Byte offset of the first invalid byte, or npos when s is valid UTF-8.
std::size_t find_invalid_utf8(std::string_view s);

// Appends the UTF-8 encoding of cp.
void append_utf8(std::string& out, std::uint32_t cp);

// Number of code points (invalid bytes count one each).
std::size_t count_code_points(std::string_view s);

// Terminal columns a code point takes: 2 for East Asian wide and full-width characters,
// 0 for combining marks, else 1.
int display_width(std::uint32_t cp);

// Unicode letter test for identifiers (ASCII letters, Latin/Greek/Cyrillic letters, CJK
// ideographs, kana, hangul and other alphabetic ranges).
bool is_letter(std::uint32_t cp);
bool is_digit(std::uint32_t cp);  // ASCII 0-9 only

// Copy of s with control characters as \n \t \r \xHH and invalid bytes as \xHH, so that a
// diagnostic never echoes raw bytes.
std::string escape_for_display(std::string_view s);

}  // namespace carerules::detail
