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

// Letters that may start or continue an identifier. Deliberately coarse per
// script, but punctuation and symbols that sit inside letter blocks are cut
// out, because treating a lookalike of `;` (U+037E) or `・` (U+30FB) as a
// letter would make a typo an identifier.
constexpr cp_range letters[] = {
    {0x0041, 0x005A},
    {0x0061, 0x007A},
    {0x00AA, 0x00AA},
    {0x00B5, 0x00B5},
    {0x00BA, 0x00BA},
    {0x00C0, 0x00D6},
    {0x00D8, 0x00F6},
    {0x00F8, 0x02AF},
    // Greek: without the numeral signs, tonos marks, question mark (U+037E),
    // ano teleia.
    {0x0370, 0x0373},
    {0x0376, 0x0377},
    {0x037A, 0x037D},
    {0x037F, 0x037F},
    {0x0386, 0x0386},
    {0x0388, 0x038A},
    {0x038C, 0x038C},
    {0x038E, 0x03A1},
    {0x03A3, 0x03F5},
    {0x03F7, 0x03FF},
    // Cyrillic and its supplement, without the thousands sign and combining
    // marks.
    {0x0400, 0x0481},
    {0x048A, 0x052F},
    // Armenian
    {0x0531, 0x0556},
    {0x0560, 0x0588},
    // Hebrew
    {0x05D0, 0x05EA},
    {0x05EF, 0x05F2},
    // Arabic
    {0x0620, 0x064A},
    {0x066E, 0x066F},
    {0x0671, 0x06D3},
    {0x06D5, 0x06D5},
    {0x0904, 0x0939},  // Devanagari
    // Thai
    {0x0E01, 0x0E30},
    {0x0E32, 0x0E33},
    {0x0E40, 0x0E46},
    // Georgian
    {0x10A0, 0x10C5},
    {0x10D0, 0x10FA},
    {0x10FC, 0x10FF},
    {0x1100, 0x11FF},  // hangul jamo
    {0x1E00, 0x1EFF},  // Latin extended additional (Vietnamese)
    // Greek extended, without the spacing accents.
    {0x1F00, 0x1F15},
    {0x1F18, 0x1F1D},
    {0x1F20, 0x1F45},
    {0x1F48, 0x1F4D},
    {0x1F50, 0x1F57},
    {0x1F59, 0x1F59},
    {0x1F5B, 0x1F5B},
    {0x1F5D, 0x1F5D},
    {0x1F5F, 0x1F7D},
    {0x1F80, 0x1FB4},
    {0x1FB6, 0x1FBC},
    {0x1FBE, 0x1FBE},
    {0x1FC2, 0x1FC4},
    {0x1FC6, 0x1FCC},
    {0x1FD0, 0x1FD3},
    {0x1FD6, 0x1FDB},
    {0x1FE0, 0x1FEC},
    {0x1FF2, 0x1FF4},
    {0x1FF6, 0x1FFC},
    // CJK symbols and punctuation hold only three letters: 々 〆 〇.
    {0x3005, 0x3007},
    // Kana, without the sound marks (U+3099-309C), the double hyphen (U+30A0)
    // and the middle dot (U+30FB).
    {0x3041, 0x3096},
    {0x309D, 0x309F},
    {0x30A1, 0x30FA},
    {0x30FC, 0x30FF},
    {0x3105, 0x312F},  // bopomofo
    {0x3131, 0x318E},  // hangul compatibility jamo
    {0x31A0, 0x31BF},  // bopomofo extended
    {0x31F0, 0x31FF},  // katakana phonetic extensions
    {0x3400, 0x4DBF},  // CJK extension A
    {0x4E00, 0x9FFF},  // CJK unified ideographs
    {0xA000, 0xA48C},  // Yi syllables
    {0xAC00, 0xD7A3},  // hangul syllables
    {0xF900, 0xFAFF},  // CJK compatibility ideographs
    // Full-width Latin letters and half-width kana and hangul; full-width
    // punctuation (U+FF01-FF20, FF3B-FF40, FF5B-FF65) stays out so lookalikes
    // get a hint, not a name.
    {0xFF21, 0xFF3A},
    {0xFF41, 0xFF5A},
    {0xFF66, 0xFF9F},
    {0xFFA0, 0xFFBE},
    {0xFFC2, 0xFFC7},
    {0xFFCA, 0xFFCF},
    {0xFFD2, 0xFFD7},
    {0xFFDA, 0xFFDC},
    {0x20000, 0x2FA1F},  // CJK extensions B-F, compatibility supplement
    {0x30000, 0x323AF},  // CJK extensions G, H
};

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
static_assert(sorted_and_disjoint(letters));

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

bool is_letter(std::uint32_t cp) {
  if (cp < 0x80) return (cp >= 'A' && cp <= 'Z') || (cp >= 'a' && cp <= 'z');
  return in_ranges(letters, cp);
}

bool is_digit(std::uint32_t cp) { return cp >= '0' && cp <= '9'; }

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
