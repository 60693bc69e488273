#include "util/utf8.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "unicode_data.hpp"

namespace carerules::detail {
namespace {

std::string hex_bytes(std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  for (char c : s) {
    const auto b = static_cast<unsigned char>(c);
    out += hex[b >> 4];
    out += hex[b & 0x0F];
    out += ' ';
  }
  return out;
}

TEST(DecodeUtf8, ValidSequences) {
  struct row {
    std::string bytes;
    std::int32_t cp;
    std::size_t len;
  };
  const row rows[] = {
      {"A", 0x41, 1},
      {std::string("\0", 1), 0, 1},
      {"\x7f", 0x7F, 1},
      {"\xc2\x80", 0x80, 2},
      {"\xc3\xa9", 0xE9, 2},
      {"\xdf\xbf", 0x7FF, 2},
      {"\xe0\xa0\x80", 0x800, 3},
      {"\xe4\xb8\xad", 0x4E2D, 3},  // 中
      {"\xed\x9f\xbf", 0xD7FF, 3},  // last before the surrogates
      {"\xee\x80\x80", 0xE000, 3},  // first after them
      {"\xef\xbb\xbf", 0xFEFF, 3},
      {"\xef\xbf\xbf", 0xFFFF, 3},
      {"\xf0\x90\x80\x80", 0x10000, 4},
      {"\xf0\x9f\x98\x80", 0x1F600, 4},
      {"\xf4\x8f\xbf\xbf", 0x10FFFF, 4},
      {"\xe4\xb8\xad\xe6\x96\x87", 0x4E2D, 3},  // only the first code point
  };
  for (const auto& r : rows) {
    SCOPED_TRACE(hex_bytes(r.bytes));
    std::size_t len = 99;
    EXPECT_EQ(decode_utf8(r.bytes, 0, len), r.cp);
    EXPECT_EQ(len, r.len);
  }
}

TEST(DecodeUtf8, InvalidSequences) {
  const std::string rows[] = {
      "\x80",  // stray continuation
      "\xbf",
      "\xc0\x80",          // overlong NUL
      "\xc1\xbf",          // overlong 0x7F
      "\xe0\x80\x80",      // overlong
      "\xe0\x9f\xbf",      // overlong 0x7FF
      "\xed\xa0\x80",      // U+D800
      "\xed\xbf\xbf",      // U+DFFF
      "\xf0\x80\x80\x80",  // overlong
      "\xf0\x8f\xbf\xbf",  // overlong 0xFFFF
      "\xf4\x90\x80\x80",  // U+110000
      "\xf5\x80\x80\x80",
      "\xf8\x88\x80\x80\x80",
      "\xfe",
      "\xff",
      "\xc2",  // truncated
      "\xe4\xb8",
      "\xf0\x9f\x98",
      "\xc2\x41",  // continuation missing
      "\xe4\x41\xad",
      "\xe4\xb8\x41",
      "\xf0\x9f\x98\x41",
      "\xe4\xb8\xc2\x80",
  };
  for (const auto& bytes : rows) {
    SCOPED_TRACE(hex_bytes(bytes));
    std::size_t len = 99;
    EXPECT_EQ(decode_utf8(bytes, 0, len), -1);
    EXPECT_EQ(len, 1u);
  }
}

TEST(DecodeUtf8, AtOffsetAndPastTheEnd) {
  const std::string s = "a\xe4\xb8\xad";
  std::size_t len = 0;
  EXPECT_EQ(decode_utf8(s, 1, len), 0x4E2D);
  EXPECT_EQ(len, 3u);
  // A sequence truncated by the end of the view is invalid even if the bytes
  // exist beyond.
  EXPECT_EQ(decode_utf8(std::string_view(s).substr(0, 3), 1, len), -1);
  EXPECT_EQ(decode_utf8(s, 4, len), -1);
  EXPECT_EQ(len, 1u);
}

// Every 2- and 3-byte string, and every 4-byte string with a plausible lead:
// what decodes must re-encode to the same bytes (so no overlong is accepted),
// and the counts of accepted sequences match the number of scalar values of
// each length (so none is rejected wrongly).
TEST(DecodeUtf8, ExhaustiveAgreesWithEncoder) {
  std::size_t valid2 = 0, valid3 = 0, valid4 = 0;
  std::string s(2, '\0');
  for (unsigned a = 0; a < 256; ++a) {
    for (unsigned b = 0; b < 256; ++b) {
      s[0] = static_cast<char>(a);
      s[1] = static_cast<char>(b);
      std::size_t len;
      const std::int32_t cp = decode_utf8(s, 0, len);
      if (len != 2) continue;
      std::string again;
      append_utf8(again, static_cast<std::uint32_t>(cp));
      ASSERT_EQ(again, s) << hex_bytes(s);
      ++valid2;
    }
  }
  s.assign(3, '\0');
  for (unsigned a = 0xE0; a < 0x100; ++a) {
    for (unsigned b = 0; b < 256; ++b) {
      for (unsigned c = 0; c < 256; ++c) {
        s[0] = static_cast<char>(a);
        s[1] = static_cast<char>(b);
        s[2] = static_cast<char>(c);
        std::size_t len;
        const std::int32_t cp = decode_utf8(s, 0, len);
        if (len != 3) continue;
        std::string again;
        append_utf8(again, static_cast<std::uint32_t>(cp));
        ASSERT_EQ(again, s) << hex_bytes(s);
        ++valid3;
      }
    }
  }
  s.assign(4, '\0');
  for (unsigned a = 0xF0; a < 0x100; ++a) {
    for (unsigned b = 0x80; b < 0xC0; ++b) {
      for (unsigned c = 0x80; c < 0xC0; ++c) {
        for (unsigned e = 0x80; e < 0xC0; ++e) {
          s[0] = static_cast<char>(a);
          s[1] = static_cast<char>(b);
          s[2] = static_cast<char>(c);
          s[3] = static_cast<char>(e);
          std::size_t len;
          const std::int32_t cp = decode_utf8(s, 0, len);
          if (len != 4) continue;
          std::string again;
          append_utf8(again, static_cast<std::uint32_t>(cp));
          ASSERT_EQ(again, s) << hex_bytes(s);
          ++valid4;
        }
      }
    }
  }
  EXPECT_EQ(valid2, 0x800u - 0x80u);
  EXPECT_EQ(valid3, 0x10000u - 0x800u - 0x800u);  // minus the surrogates
  EXPECT_EQ(valid4, 0x110000u - 0x10000u);
}

TEST(AppendUtf8, EveryScalarValueRoundTrips) {
  for (std::uint32_t cp = 0; cp <= 0x10FFFF; ++cp) {
    if (cp == 0xD800) cp = 0xE000;
    std::string s;
    append_utf8(s, cp);
    std::size_t len;
    ASSERT_EQ(decode_utf8(s, 0, len), static_cast<std::int32_t>(cp));
    ASSERT_EQ(len, s.size());
  }
}

TEST(AppendUtf8, Table) {
  struct row {
    std::uint32_t cp;
    std::string want;
  };
  const row rows[] = {
      {0x41, "A"},
      {0xE9, "\xc3\xa9"},
      {0x4E2D, "\xe4\xb8\xad"},
      {0x1F600, "\xf0\x9f\x98\x80"},
      // No UTF-8 form: the replacement character keeps the output valid.
      {0xD800, "\xef\xbf\xbd"},
      {0xDFFF, "\xef\xbf\xbd"},
      {0x110000, "\xef\xbf\xbd"},
      {0xFFFFFFFF, "\xef\xbf\xbd"},
  };
  for (const auto& r : rows) {
    SCOPED_TRACE(r.cp);
    std::string out = "x";
    append_utf8(out, r.cp);
    EXPECT_EQ(out, "x" + r.want);
  }
}

TEST(FindInvalidUtf8, Table) {
  constexpr std::size_t npos = std::string_view::npos;
  struct row {
    std::string s;
    std::size_t want;
  };
  const row rows[] = {
      {"", npos},
      {"abc", npos},
      {"\xe4\xb8\xad\xe6\x96\x87", npos},
      {std::string("a\0b", 3), npos},  // NUL is valid UTF-8; rejecting it is the lexer's job
      {"ab\x80", 2},
      {"\xe4\xb8\xad\xff", 3},
      {"\xe4\xb8", 0},
      {"ok\xed\xa0\x80", 2},
      {"\xc0\xaf", 0},
  };
  for (const auto& r : rows) {
    SCOPED_TRACE(hex_bytes(r.s));
    EXPECT_EQ(find_invalid_utf8(r.s), r.want);
  }
}

TEST(CountCodePoints, Table) {
  struct row {
    std::string s;
    std::size_t want;
  };
  const row rows[] = {
      {"", 0},          {"abc", 3},      {"\xe4\xb8\xad\xe6\x96\x87", 2}, {"\xf0\x9f\x98\x80", 1},
      {"a\xffz", 3},    {"\xe4\xb8", 2},  // each invalid byte counts one
      {"e\xcc\x81", 2},                   // e + combining acute: two code points
  };
  for (const auto& r : rows) {
    SCOPED_TRACE(hex_bytes(r.s));
    EXPECT_EQ(count_code_points(r.s), r.want);
  }
}

TEST(DisplayWidth, Table) {
  struct row {
    std::uint32_t cp;
    int want;
  };
  const row rows[] = {
      {'a', 1},      {' ', 1},     {0xE9, 1},    {0x0300, 0},  {0x0301, 0},  {0x036F, 0},
      {0x0370, 1},   {0x20D7, 0},  {0x10FF, 1},  {0x1100, 2},  {0x115F, 2},  {0x1160, 1},
      {0x2E7F, 1},   {0x2E80, 2},  {0x3000, 2},  {0x3001, 2},  {0x303E, 2},  {0x303F, 1},
      {0x3040, 2},   {0x3042, 2},  {0x4E2D, 2},  {0xA4CF, 2},  {0xA4D0, 1},  {0xABFF, 1},
      {0xAC00, 2},   {0xD7A3, 2},  {0xD7A4, 1},  {0xF8FF, 1},  {0xF900, 2},  {0xFAFF, 2},
      {0xFE0F, 1},   {0xFE10, 2},  {0xFE19, 2},  {0xFE1A, 1},  {0xFE20, 0},  {0xFE30, 2},
      {0xFE6F, 2},   {0xFE70, 1},  {0xFF00, 2},  {0xFF08, 2},  {0xFF60, 2},  {0xFF61, 1},
      {0xFF9E, 1},   {0xFFE0, 2},  {0xFFE6, 2},  {0xFFE7, 1},  {0x1F2FF, 1}, {0x1F300, 2},
      {0x1F600, 2},  {0x1F64F, 2}, {0x1F650, 1}, {0x1F8FF, 1}, {0x1F900, 2}, {0x1F9FF, 2},
      {0x1FA00, 1},  {0x1FFFF, 1}, {0x20000, 2}, {0x2A6DF, 2}, {0x3FFFD, 2}, {0x3FFFE, 1},
      {0x10FFFF, 1},
  };
  for (const auto& r : rows) {
    SCOPED_TRACE(r.cp);
    EXPECT_EQ(display_width(r.cp), r.want);
  }
}

// Every code point, checked against Unicode's own data read here independently of the build's
// generator: XID_Start and XID_Continue exactly as DerivedCoreProperties.txt lists them.
std::vector<bool> derived_property(const std::string& name) {
  return test::unicode_property("DerivedCoreProperties.txt", name);
}

TEST(Identifiers, XidStartIsUnicodes) {
  const auto want = derived_property("XID_Start");
  std::size_t count = 0, wrong = 0;
  for (std::uint32_t cp = 0; cp < 0x110000; ++cp) {
    count += want[cp];
    if (is_xid_start(cp) != want[cp] && ++wrong <= 10) ADD_FAILURE() << std::hex << cp;
  }
  EXPECT_GT(count, 130000u);  // Unicode 15: 136 000 or so
  EXPECT_EQ(wrong, 0u);
}

TEST(Identifiers, XidContinueIsUnicodes) {
  const auto want = derived_property("XID_Continue");
  std::size_t wrong = 0;
  for (std::uint32_t cp = 0; cp < 0x110000; ++cp)
    if (is_xid_continue(cp) != want[cp] && ++wrong <= 10) ADD_FAILURE() << std::hex << cp;
  EXPECT_EQ(wrong, 0u);
}

TEST(Identifiers, Examples) {
  struct row {
    std::uint32_t cp;
    bool start, cont;
  };
  const row rows[] = {
      {'a', true, true},       {'0', false, true}, {'_', false, true}, {0x4E2D, true, true},  // 中
      {0x0928, true, true},     // Devanagari न
      {0x093E, false, true},    // Devanagari vowel sign (a combining mark)
      {0x0E17, true, true},     // Thai ท
      {0x0E35, false, true},    // Thai vowel sign
      {0x0F40, true, true},     // Tibetan ཀ
      {0x1820, true, true},     // Mongolian
      {0xA4D0, true, true},     // Lisu
      {0x1950, true, true},     // Tai Le
      {0x0301, false, true},    // combining acute (a decomposed é)
      {0x0660, false, true},    // Arabic-Indic digit zero
      {0x2A6E0, false, false},  // unassigned, inside the CJK extension blocks
      {0x3001, false, false},   // 、
      {0xFF08, false, false},   // （
      {0x037E, false, false},   // Greek question mark, a lookalike of ;
      {0x1F600, false, false},  // an emoji
  };
  for (const auto& r : rows) {
    SCOPED_TRACE(r.cp);
    EXPECT_EQ(is_xid_start(r.cp), r.start);
    EXPECT_EQ(is_xid_continue(r.cp), r.cont);
  }
}

TEST(EscapeForDisplay, BidiControlsAndLineSeparatorsByName) {
  EXPECT_EQ(escape_for_display("a\u202Eb"), "a<U+202E>b");
  EXPECT_EQ(escape_for_display("x\u2028y\u2029z"), "x<U+2028>y<U+2029>z");
  EXPECT_EQ(escape_for_display("\u2066\u2069\u200F"), "<U+2066><U+2069><U+200F>");
  EXPECT_EQ(escape_for_display("\u061C\u0627"), "<U+061C>\u0627");  // Arabic letter mark
  EXPECT_EQ(escape_for_display("中文"), "中文");
}

// Over every scalar value, against Unicode's data: exactly the controls (Cc), the bidi controls
// (Bidi_Control) and the line and paragraph separators (Zl, Zp) are escaped; every other
// character, whatever its script, is shown as written.
TEST(EscapeForDisplay, EscapesExactlyControlsBidiAndSeparators) {
  const auto bidi = test::unicode_property("PropList.txt", "Bidi_Control");
  const auto cc = test::unicode_property("extracted/DerivedGeneralCategory.txt", "Cc");
  const auto zl = test::unicode_property("extracted/DerivedGeneralCategory.txt", "Zl");
  const auto zp = test::unicode_property("extracted/DerivedGeneralCategory.txt", "Zp");
  std::size_t escaped = 0, wrong = 0;
  for (std::uint32_t cp = 0; cp < test::unicode_end; ++cp) {
    if (cp == 0xD800) cp = 0xE000;
    std::string raw;
    append_utf8(raw, cp);
    const std::string shown = escape_for_display(raw);
    const bool want = bidi[cp] || cc[cp] || zl[cp] || zp[cp];
    escaped += want;
    if ((shown != raw) != want && ++wrong <= 10) ADD_FAILURE() << std::hex << cp << " " << shown;
  }
  EXPECT_EQ(wrong, 0u);
  EXPECT_EQ(escaped, 65u + 12u + 2u);  // Unicode 15: 65 controls, 12 bidi controls, 2 separators
}

TEST(EscapeForDisplay, Table) {
  struct row {
    std::string in;
    std::string want;
  };
  const row rows[] = {
      {"", ""},
      {"abc", "abc"},
      {"a\nb", "a\\nb"},
      {"\t", "\\t"},
      {"\r\n", "\\r\\n"},
      {std::string("\0", 1), "\\x00"},
      {"\x1b[31mred", "\\x1b[31mred"},
      {"\x7f", "\\x7f"},
      {"\x01\x1f", "\\x01\\x1f"},
      {"back\\slash", "back\\slash"},
      {"\xe4\xb8\xad\xe6\x96\x87", "\xe4\xb8\xad\xe6\x96\x87"},
      {"caf\xc3\xa9", "caf\xc3\xa9"},
      {"\xc2\xa0", "\xc2\xa0"},  // no-break space is printable
      {"\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80"},
      {"\xff", "\\xff"},
      {"a\xe4\xb8", "a\\xe4\\xb8"},         // truncated: each byte escaped
      {"\xed\xa0\x80", "\\xed\\xa0\\x80"},  // surrogate
      {"\xc0\xaf", "\\xc0\\xaf"},           // overlong '/'
      {"\xc2\x9b"
       "2J",
       "\\xc2\\x9b2J"},            // C1 control CSI
      {"\xc2\x85", "\\xc2\\x85"},  // C1 next line
  };
  for (const auto& r : rows) {
    SCOPED_TRACE(hex_bytes(r.in));
    EXPECT_EQ(escape_for_display(r.in), r.want);
  }
}

TEST(EscapeForDisplay, OutputIsAlwaysCleanUtf8) {
  std::mt19937 rng(12345);
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_int_distribution<int> length(0, 40);
  for (int round = 0; round < 20000; ++round) {
    std::string in;
    const int n = length(rng);
    for (int k = 0; k < n; ++k) in += static_cast<char>(byte(rng));
    const std::string out = escape_for_display(in);
    ASSERT_EQ(find_invalid_utf8(out), std::string_view::npos) << hex_bytes(in);
    for (char c : out) {
      const auto b = static_cast<unsigned char>(c);
      ASSERT_TRUE(b >= 0x20 && b != 0x7F) << hex_bytes(in);
    }
  }
}

}  // namespace
}  // namespace carerules::detail
