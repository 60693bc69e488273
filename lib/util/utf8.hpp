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

// Identifier characters as Unicode's UAX #31 gives them (the tables are generated from
// DerivedCoreProperties.txt at build time): a letter of any script may start an identifier;
// letters, combining marks, digits of any script and connectors may continue one.
bool is_xid_start(std::uint32_t cp);
bool is_xid_continue(std::uint32_t cp);

// Copy of s with control characters as \n \t \r \xHH and invalid bytes as \xHH, so that a
// diagnostic never echoes raw bytes.
std::string escape_for_display(std::string_view s);

}  // namespace carerules::detail
