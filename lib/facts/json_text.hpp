// Characters of JSON text (RFC 8259), for the two readers of JSON records (json_reader.cpp,
// plain_reader.cpp).
#pragma once

namespace carerules::detail {

// The four characters JSON allows between tokens.
inline bool is_json_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// A digit of a \uXXXX escape.
inline bool is_json_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

}  // namespace carerules::detail
