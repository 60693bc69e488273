#include "util/utf8.hpp"

#include <algorithm>
#include <iterator>

namespace carerules::detail {

namespace {

struct cp_range {
  std::uint32_t lo;
  std::uint32_t hi;  // inclusive
};

// Tables are sorted and disjoint, so a binary search finds the only candidate
// range.
template <std::size_t N>
bool in_ranges(const cp_range (&table)[N], std::uint32_t cp) {
  const cp_range* end = table + N;
  const cp_range* it =
      std::upper_bound(table, end, cp, [](std::uint32_t v, const cp_range& r) { return v < r.lo; });
  if (it == table) return false;
  --it;
  return cp <= it->hi;
}

// Combining marks take no column of their own: they sit on the preceding
// character.
constexpr cp_range zero_width[] = {
    {0x0300, 0x036F},  // combining diacritical marks
    {0x1AB0, 0x1AFF},  // combining diacritical marks extended
    {0x1DC0, 0x1DFF},  // combining diacritical marks supplement
    {0x20D0, 0x20FF},  // combining marks for symbols
    {0xFE20, 0xFE2F},  // combining half marks
};

// East Asian Wide and Fullwidth, in the broad blocks a terminal renders two
// columns wide. Unassigned points inside the blocks are included: terminals
// treat them the same way.
constexpr cp_range wide[] = {
    {0x1100, 0x115F},    // hangul jamo initial consonants
    {0x2E80, 0x303E},    // CJK radicals .. CJK symbols and punctuation (U+3000 included)
    {0x3040, 0xA4CF},    // kana .. CJK ideographs .. Yi (U+303F is half width)
    {0xAC00, 0xD7A3},    // hangul syllables
    {0xF900, 0xFAFF},    // CJK compatibility ideographs
    {0xFE10, 0xFE19},    // vertical forms
    {0xFE30, 0xFE6F},    // CJK compatibility forms, small form variants
    {0xFF00, 0xFF60},    // full-width forms
    {0xFFE0, 0xFFE6},    // full-width signs
    {0x1F300, 0x1F64F},  // pictographs, emoticons
    {0x1F900, 0x1F9FF},  // supplemental symbols and pictographs
    {0x20000, 0x3FFFD},  // CJK extensions, planes 2 and 3
};

// XID_Start and XID_Continue, generated from Unicode's data (cmake/gen_xid.py).
#include "xid_tables.inc"

template <std::size_t N>
constexpr bool sorted_and_disjoint(const cp_range (&table)[N]) {
  for (std::size_t k = 0; k < N; ++k) {
    if (table[k].lo > table[k].hi) return false;
    if (k > 0 && table[k - 1].hi >= table[k].lo) return false;
  }
  return true;
}
static_assert(sorted_and_disjoint(zero_width));
static_assert(sorted_and_disjoint(wide));
static_assert(sorted_and_disjoint(xid_start));
static_assert(sorted_and_disjoint(xid_continue));

bool is_continuation(unsigned char b) { return (b & 0xC0) == 0x80; }

void append_hex_escape(std::string& out, unsigned char b) {
  static constexpr char hex[] = "0123456789abcdef";
  out += "\\x";
  out += hex[b >> 4];
  out += hex[b & 0x0F];
}

}  // namespace

std::int32_t decode_utf8(std::string_view s, std::size_t i, std::size_t& len) {
  len = 1;
  if (i >= s.size()) return -1;
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) return b0;

  // The allowed range of the second byte depends on the lead byte: narrowing it
  // is what rejects overlong forms (E0, F0), surrogates (ED) and values past
  // U+10FFFF (F4).
  std::size_t need;
  std::uint32_t cp;
  unsigned char lo = 0x80, hi = 0xBF;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    need = 1;
    cp = b0 & 0x1Fu;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    need = 2;
    cp = b0 & 0x0Fu;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    need = 3;
    cp = b0 & 0x07u;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;
  } else {
    return -1;  // stray continuation byte, C0/C1 overlong lead, or F5..FF
  }
  if (s.size() - i <= need) return -1;
  for (std::size_t k = 1; k <= need; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if (k == 1 ? (b < lo || b > hi) : !is_continuation(b)) return -1;
    cp = (cp << 6) | (b & 0x3Fu);
  }
  len = need + 1;
  return static_cast<std::int32_t>(cp);
}

std::size_t find_invalid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    std::size_t len;
    if (decode_utf8(s, i, len) < 0) return i;
    i += len;
  }
  return std::string_view::npos;
}

void append_utf8(std::string& out, std::uint32_t cp) {
  // A surrogate or a value past U+10FFFF has no UTF-8 form; writing U+FFFD
  // keeps the output valid rather than producing bytes that every later check
  // would reject.
  if ((cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) cp = 0xFFFD;
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

std::size_t count_code_points(std::string_view s) {
  std::size_t count = 0;
  std::size_t i = 0;
  while (i < s.size()) {
    std::size_t len;
    decode_utf8(s, i, len);
    i += len;
    ++count;
  }
  return count;
}

int display_width(std::uint32_t cp) {
  if (cp < 0x0300) return 1;  // fast path for ASCII and Latin-1
  if (in_ranges(zero_width, cp)) return 0;
  if (in_ranges(wide, cp)) return 2;
  return 1;
}

bool is_xid_start(std::uint32_t cp) {
  if (cp < 0x80) return (cp >= 'A' && cp <= 'Z') || (cp >= 'a' && cp <= 'z');
  return in_ranges(xid_start, cp);
}

bool is_xid_continue(std::uint32_t cp) {
  if (cp < 0x80)
    return (cp >= 'A' && cp <= 'Z') || (cp >= 'a' && cp <= 'z') || (cp >= '0' && cp <= '9') ||
           cp == '_';
  return in_ranges(xid_continue, cp);
}

std::string escape_for_display(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  std::size_t i = 0;
  while (i < s.size()) {
    std::size_t len;
    const std::int32_t cp = decode_utf8(s, i, len);
    if (cp == '\n') {
      out += "\\n";
    } else if (cp == '\t') {
      out += "\\t";
    } else if (cp == '\r') {
      out += "\\r";
    } else if (cp == 0x061C || cp == 0x200E || cp == 0x200F || (cp >= 0x202A && cp <= 0x202E) ||
               (cp >= 0x2066 && cp <= 0x2069) || cp == 0x2028 || cp == 0x2029) {
      // Bidi controls (Unicode's Bidi_Control: U+061C, U+200E-F, U+202A-E, U+2066-9) and the
      // line and paragraph separators would reorder or break the line a person reads (a
      // `Trojan Source` diagnostic): shown by code point instead.
      static const char hex[] = "0123456789ABCDEF";
      const auto u = static_cast<std::uint32_t>(cp);
      out += "<U+";
      for (int shift = 12; shift >= 0; shift -= 4) out += hex[(u >> shift) & 0xF];
      out += '>';
    } else if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F)) {
      // Invalid bytes (cp < 0), C0 controls and DEL, and the C1 controls:
      // U+009B alone is a CSI to some terminals. Every byte is shown, so the
      // escape is faithful.
      for (std::size_t k = 0; k < len; ++k) {
        append_hex_escape(out, static_cast<unsigned char>(s[i + k]));
      }
    } else {
      out.append(s.substr(i, len));
    }
    i += len;
  }
  return out;
}

}  // namespace carerules::detail
