// Lexer: token kinds, positions in code points, ids, lexical errors (spec §1, §11).
#include "parse/lexer.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "../util/unicode_data.hpp"
#include "parse/parse.hpp"
#include "util/utf8.hpp"

namespace carerules::parse {
namespace {

struct lexed {
  ast::diagnostic_sink diags{1000};
  std::vector<token> tokens;
  std::string errors;  // "line:col: message\n" each
};

lexed lex_all(std::string_view text, std::size_t identifier = 256, std::size_t string = 1u << 20) {
  lexed out;
  lexer lx(text, 0, identifier, string, out.diags);
  for (;;) {
    token t = lx.next();
    out.tokens.push_back(t);
    if (t.kind == tok::eof) break;
  }
  for (const auto& d : out.diags.items()) {
    out.errors += std::to_string(d.where.line) + ":" + std::to_string(d.where.column) + ": " +
                  d.message + "\n";
  }
  return out;
}

// "kind@line:col" for each token but eof.
std::string shape(const lexed& l) {
  std::string s;
  for (const auto& t : l.tokens) {
    if (t.kind == tok::eof) break;
    if (!s.empty()) s += ' ';
    switch (t.kind) {
      case tok::word:
        s += "w(" + t.text + ")";
        break;
      case tok::integer:
        s += "i(" + std::to_string(t.u) + ")";
        break;
      case tok::decimal:
        s += "d(" + std::to_string(t.i) + ")";
        break;
      case tok::string:
        s += "s(" + t.text + ")";
        break;
      case tok::date:
        s += "@(" + std::to_string(t.i) + ")";
        break;
      default:
        s += describe(t.kind);
        break;
    }
    s += "@" + std::to_string(t.line) + ":" + std::to_string(t.column);
  }
  return s;
}

struct shape_case {
  const char* input;
  const char* expected;
};

TEST(Lexer, Shapes) {
  const shape_case cases[] = {
      {"a b", "w(a)@1:1 w(b)@1:3"},
      {"0..90", "i(0)@1:1 `..`@1:2 i(90)@1:4"},
      {"3.5", "d(3500000)@1:1"},
      {"1.", "i(1)@1:1 `.`@1:2"},
      {"0.1234567", "d(123457)@1:1"},
      {"a.b.c", "w(a)@1:1 `.`@1:2 w(b)@1:3 `.`@1:4 w(c)@1:5"},
      {"设施.消防验收 x", "w(设施)@1:1 `.`@1:3 w(消防验收)@1:4 w(x)@1:9"},
      {"_x1 é", "w(_x1)@1:1 w(é)@1:5"},
      {"# comment\nx", "w(x)@2:1"},
      {"a\r\nb", "w(a)@1:1 w(b)@2:1"},
      {"\xEF\xBB\xBFx y", "w(x)@1:1 w(y)@1:3"},
      {"== != <= >= < > = => -> ?? | - + * / %",
       "`==`@1:1 `!=`@1:4 `<=`@1:7 `>=`@1:10 `<`@1:13 `>`@1:15 `=`@1:17 `=>`@1:19 "
       "`->`@1:22 `??`@1:25 `|`@1:28 `-`@1:30 `+`@1:32 `*`@1:34 `/`@1:36 `%`@1:38"},
      {"( ) { } [ ] , :", "`(`@1:1 `)`@1:3 `{`@1:5 `}`@1:7 `[`@1:9 `]`@1:11 `,`@1:13 `:`@1:15"},
      {"@1970-01-02", "@(1)@1:1"},
      {R"("a\"b\\c\n\t")", "s(a\"b\\c\n\t)@1:1"},
      {R"("\u4E2D\uD83D\uDE00")", "s(中😀)@1:1"},
      {"\"中文\" x", "s(中文)@1:1 w(x)@1:6"},
      {"9223372036854775808", "i(9223372036854775808)@1:1"},
      {"x # 注释 \xE4\xB8\xAD\n  y", "w(x)@1:1 w(y)@2:3"},
  };
  for (const auto& c : cases) {
    lexed l = lex_all(c.input);
    EXPECT_EQ(shape(l), c.expected) << c.input;
    EXPECT_EQ(l.errors, "") << c.input;
  }
}

// Names in the scripts of many users (UAX #31): each is one word, with no error.
TEST(Lexer, NamesOfManyScripts) {
  const shape_case cases[] = {
      {"let नाम = 1", "w(let)@1:1 w(नाम)@1:5 `=`@1:9 i(1)@1:11"},  // Devanagari with a vowel sign
      {"ที่ x", "w(ที่)@1:1 w(x)@1:5"},                                // Thai with two marks
      {"cafe\u0301 x", "w(cafe\u0301)@1:1 w(x)@1:7"},              // decomposed café
      {"let ཀ = 1", "w(let)@1:1 w(ཀ)@1:5 `=`@1:7 i(1)@1:9"},       // Tibetan
      {"ᠮᠣᠩᠭᠣᠯ", "w(ᠮᠣᠩᠭᠣᠯ)@1:1"},                                 // Mongolian
      {"ꓡꓲꓢꓳ", "w(ꓡꓲꓢꓳ)@1:1"},                                     // Lisu
      {"ᥖᥭᥰ", "w(ᥖᥭᥰ)@1:1"},                                       // Tai Le
      {"x٣", "w(x٣)@1:1"},                                         // an Arabic-Indic digit
      {"\U00020000\U00031350", "w(\U00020000\U00031350)@1:1"},     // CJK extensions B and H
      {"ab\u203Fcd", "w(ab\u203Fcd)@1:1"},                         // a connector
  };
  for (const auto& c : cases) {
    lexed l = lex_all(c.input);
    EXPECT_EQ(shape(l), c.expected) << c.input;
    EXPECT_EQ(l.errors, "") << c.input;
  }
}

std::string code_point_name(std::uint32_t cp) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "U+%04X", cp);
  return buf;
}

// The lexer over every scalar value, against Unicode's data read by the test itself: a
// character starts a name exactly when it is XID_Start (or `_`), and continues one exactly
// when it is XID_Continue.
TEST(Lexer, EveryCodePointStartsAndContinuesNamesAsUnicodeSays) {
  const auto start = test::unicode_property("DerivedCoreProperties.txt", "XID_Start");
  const auto cont = test::unicode_property("DerivedCoreProperties.txt", "XID_Continue");
  std::size_t starts = 0, continues = 0, wrong = 0;
  auto fail = [&](std::uint32_t cp, const char* what, const lexed& l) {
    if (++wrong <= 20) ADD_FAILURE() << code_point_name(cp) << " " << what << ": " << shape(l);
  };
  for (std::uint32_t cp = 0; cp < test::unicode_end; ++cp) {
    if (cp == 0xD800) cp = 0xE000;
    std::string ch;
    detail::append_utf8(ch, cp);
    {
      const lexed l = lex_all(ch + "z");
      const token& t = l.tokens.front();
      const bool is_name = t.kind == tok::word && t.begin == 0 && t.text == ch + "z";
      const bool starts_name = t.kind == tok::word && t.begin == 0;
      if (start[cp] || cp == '_') {
        ++starts;
        if (!is_name || !l.errors.empty()) fail(cp, "refused as a first character", l);
      } else if (starts_name) {
        fail(cp, "accepted as a first character", l);
      }
    }
    {
      const lexed l = lex_all("z" + ch);
      const token& t = l.tokens.front();
      if (cont[cp]) {
        ++continues;
        if (t.kind != tok::word || t.text != "z" + ch || !l.errors.empty())
          fail(cp, "refused as a continuation", l);
      } else if (t.kind != tok::word || t.text != "z") {
        fail(cp, "accepted as a continuation", l);
      }
    }
  }
  EXPECT_EQ(wrong, 0u);
  EXPECT_GT(starts, 130000u);  // Unicode 15: about 136 000
  EXPECT_GT(continues, starts);
}

// Characters no name may hold: each gets one error at its column naming its code point.
TEST(Lexer, NonIdentifierCharactersNamedInTheError) {
  const auto cont = test::unicode_property("DerivedCoreProperties.txt", "XID_Continue");
  const std::string general = "extracted/DerivedGeneralCategory.txt";
  const auto unassigned = test::unicode_property(general, "Cn");
  std::vector<bool> symbol(test::unicode_end, false);
  for (const char* category : {"Sm", "Sc", "Sk", "So"}) {
    const auto in = test::unicode_property(general, category);
    for (std::uint32_t cp = 0; cp < test::unicode_end; ++cp) symbol[cp] = symbol[cp] || in[cp];
  }
  std::size_t checked = 0, unassigned_cjk = 0, wrong = 0;
  for (std::uint32_t cp = 0x80; cp < test::unicode_end; ++cp) {
    // Unassigned code points of the ideographic planes and of the CJK compatibility block,
    // and every non-ASCII symbol.
    const bool cjk_gap =
        unassigned[cp] && ((cp >= 0x20000 && cp <= 0x3FFFF) || (cp >= 0xF900 && cp <= 0xFAFF));
    if (!(cjk_gap || symbol[cp]) || cont[cp]) continue;
    if (cp >= 0xD800 && cp <= 0xDFFF) continue;
    std::string ch;
    detail::append_utf8(ch, cp);
    ++checked;
    unassigned_cjk += cjk_gap;
    const lexed l = lex_all("a " + ch);
    const std::string want =
        "1:3: unexpected character `" + ch + "` (" + code_point_name(cp) + ")\n";
    if (l.errors != want && ++wrong <= 20) ADD_FAILURE() << "want " << want << "got " << l.errors;
  }
  EXPECT_EQ(wrong, 0u);
  EXPECT_GT(unassigned_cjk, 1000u);
  EXPECT_GT(checked, 7000u);
}

TEST(Lexer, LineStart) {
  lexed l = lex_all("a b\n  c");
  ASSERT_EQ(l.tokens.size(), 4u);
  EXPECT_TRUE(l.tokens[0].line_start);
  EXPECT_FALSE(l.tokens[1].line_start);
  EXPECT_TRUE(l.tokens[2].line_start);
}

TEST(Lexer, ByteSpans) {
  lexed l = lex_all("ab  \"中\"");
  ASSERT_EQ(l.tokens.size(), 3u);
  EXPECT_EQ(l.tokens[0].begin, 0u);
  EXPECT_EQ(l.tokens[0].end, 2u);
  EXPECT_EQ(l.tokens[1].begin, 4u);
  EXPECT_EQ(l.tokens[1].end, 9u);
}

TEST(Lexer, Ids) {
  struct id_case {
    const char* input;
    const char* id;
    const char* rest;  // the next ordinary token's text, "" for eof
  };
  const id_case cases[] = {
      {"H1.1.2 x", "H1.1.2", "x"}, {"A4.1", "A4.1", ""},         {"第四条.一)", "第四条.一", ")"},
      {"E1. x", "E1", "."},        {"a.b_c.3d", "a.b_c.3d", ""}, {"  # c\n  E9 \"l\"", "E9", "l"},
  };
  for (const auto& c : cases) {
    ast::diagnostic_sink diags;
    lexer lx(c.input, 0, 256, 1024, diags);
    token id = lx.scan_id();
    EXPECT_EQ(id.kind, tok::word) << c.input;
    EXPECT_EQ(id.text, c.id) << c.input;
    token rest = lx.next();
    EXPECT_EQ(rest.kind == tok::eof ? std::string()
              : rest.text.empty()   ? describe(rest.kind)
                                    : rest.text,
              std::string(c.rest).empty()  ? std::string()
              : std::string(c.rest) == "." ? describe(tok::dot)
              : std::string(c.rest) == ")" ? describe(tok::rparen)
                                           : std::string(c.rest))
        << c.input;
    EXPECT_FALSE(diags.has_errors()) << c.input;
  }
  ast::diagnostic_sink diags;
  lexer lx("42", 0, 256, 1024, diags);
  EXPECT_EQ(lx.scan_id().kind, tok::integer);
}

TEST(Lexer, JsonCapture) {
  ast::diagnostic_sink diags;
  std::string text = " { \"a\": {\"b\": \"}\\\"{\"},\n \"c\": [1] } tail";
  lexer lx(text, 0, 256, 1024, diags);
  std::string json;
  ast::pos where;
  ast::span bytes;
  ASSERT_TRUE(lx.capture_json(json, where, bytes));
  EXPECT_EQ(json, "{ \"a\": {\"b\": \"}\\\"{\"},\n \"c\": [1] }");
  EXPECT_EQ(where.column, 2u);
  EXPECT_EQ(bytes.begin, 1u);
  token t = lx.next();
  EXPECT_EQ(t.text, "tail");
  EXPECT_EQ(t.line, 2u);
  EXPECT_FALSE(diags.has_errors());
}

// true when some line of `errors` starts with the "line:col: " of `expected` and contains
// the rest of it.
bool has_error(const std::string& errors, const std::string& expected) {
  std::size_t colon = expected.find(": ");
  std::string where = expected.substr(0, colon + 2);
  std::string message = expected.substr(colon + 2);
  std::size_t start = 0;
  while (start < errors.size()) {
    std::size_t end = errors.find('\n', start);
    if (end == std::string::npos) end = errors.size();
    std::string line = errors.substr(start, end - start);
    if (line.rfind(where, 0) == 0 && line.find(message) != std::string::npos) return true;
    start = end + 1;
  }
  return false;
}

struct error_case {
  std::string input;
  const char* expected;  // "line:col: message substring"
};

TEST(Lexer, Errors) {
  const error_case cases[] = {
      {"a \x80 b", "1:3: invalid UTF-8 byte 0x80"},
      {"a\n  \xC3\x28", "2:3: invalid UTF-8"},
      {"# \xFF in a comment", "1:3: invalid UTF-8 byte 0xFF"},
      {"\"ab\xE4\"", "1:4: invalid UTF-8"},
      {std::string("x \0 y", 5), "1:3: NUL byte"},
      {"中 \xED\xA0\x80", "1:3: invalid UTF-8"},  // an encoded surrogate
      {"\"abc", "1:1: unterminated string"},
      {"\"abc\nx\"", "1:1: unterminated string"},
      {R"("a\q")", "1:3: unknown escape `\\q`"},
      {R"("\uD800")", "1:2: lone surrogate `\\uD800`"},
      {R"("\uDC00x")", "1:2: lone surrogate `\\uDC00`"},
      {R"("\uD800\u0041")", "1:2: lone surrogate"},
      {R"("\u12")", "1:2: four hex digits"},
      {"9223372036854775809", "1:1: integer `9223372036854775809` does not fit in 64 bits"},
      {"99999999999999.5", "1:1: number `99999999999999.5` is out of range"},
      {"@2023-02-29", "1:1: invalid date `@2023-02-29`"},
      {"x @2024-1-01", "1:3: invalid date"},
      {"@", "1:1: invalid date"},
      {"a （", "1:3: unexpected full-width `（` (U+FF08): use the ASCII `(`"},
      {"a ）", "1:3: use the ASCII `)`"},
      {"a ， b", "1:3: use the ASCII `,`"},
      {"a ： b", "1:3: use the ASCII `:`"},
      {"  “x”", "1:3: unexpected full-width `“` (U+201C): use the ASCII `\"`"},
      {"  ”", "1:3: use the ASCII `\"`"},
      {"中\u3000x", "1:2: unexpected full-width `\u3000` (U+3000): use an ASCII space"},
      {"a ! b", "1:3: unexpected `!`: use `not`"},
      {"a ? b", "1:3: unexpected `?`"},
      {"a && b", "1:3: unexpected `&`: use `and`"},
      {"'x'", "1:1: unexpected `'`"},
      {"a $", "1:3: unexpected character `$`"},
      {"a \x01", "1:3: unexpected character (U+0001)"},
      {"€", "1:1: unexpected character `€` (U+20AC)"},
      // Controls that would reorder or break the line are named, never echoed.
      {"let x\u202E = 1", "1:6: unexpected character (U+202E)"},
      {"a \u2028 b", "1:3: unexpected character (U+2028)"},
      {"\u2066x", "1:1: unexpected character (U+2066)"},
      // What may continue a name but not start it.
      {"a \u0301", "1:3: unexpected character `\u0301` (U+0301): a name cannot start with it"},
      {"x = \u0966", "1:5: unexpected character `\u0966` (U+0966): a name cannot start with it"},
      {"\u203F", "1:1: unexpected character `\u203F` (U+203F): a name cannot start with it"},
      {"x٣ ۴", "1:4: unexpected character `۴` (U+06F4): a name cannot start with it"},
      // Unassigned, though inside the CJK extension blocks.
      {"\U0002A6E0", "1:1: unexpected character `\U0002A6E0` (U+2A6E0)"},
      {"x\U0002B73A", "1:2: unexpected character `\U0002B73A` (U+2B73A)"},
  };
  for (const auto& c : cases) {
    lexed l = lex_all(c.input);
    EXPECT_TRUE(has_error(l.errors, c.expected))
        << "input: " << c.input << "\nwant: " << c.expected << "\ngot:\n"
        << l.errors;
  }
}

TEST(Lexer, LookalikesRecoverAsAscii) {
  lexed l = lex_all("f（a， b）：“s”");
  EXPECT_EQ(shape(l), "w(f)@1:1 `(`@1:2 w(a)@1:3 `,`@1:4 w(b)@1:6 `)`@1:7 `:`@1:8 s(s)@1:9");
  EXPECT_EQ(l.diags.error_count(), 5u);
}

TEST(Lexer, InvalidRunIsOneError) {
  lexed l = lex_all("a \x80\x81\x82 b");
  EXPECT_EQ(l.diags.error_count(), 1u);
  EXPECT_EQ(shape(l), "w(a)@1:1 w(b)@1:7");
}

TEST(Lexer, IdentifierLimit) {
  std::string name(300, 'x');
  lexed l = lex_all("a " + name);
  EXPECT_NE(l.errors.find("1:3: identifier is longer than the limit of 256 characters "
                          "(limit `identifier`)"),
            std::string::npos)
      << l.errors;
  std::string cjk;
  for (int k = 0; k < 256; ++k) cjk += "中";
  EXPECT_EQ(lex_all(cjk).errors, "");  // characters, not bytes
  EXPECT_NE(lex_all(cjk + "文").errors, "");
  ast::diagnostic_sink diags;
  std::string id = "A1." + name;
  lexer lx(id, 0, 256, 1024, diags);
  lx.scan_id();
  EXPECT_TRUE(diags.has_errors());  // per segment
}

TEST(Lexer, StringLimit) {
  std::string big = "\"" + std::string(2u << 20, 'a') + "\" x";
  lexed l = lex_all(big);
  EXPECT_NE(l.errors.find("1:1: string is longer than the limit of 1048576 bytes (limit "
                          "`string`)"),
            std::string::npos)
      << l.errors;
  EXPECT_EQ(l.diags.error_count(), 1u);
  ASSERT_GE(l.tokens.size(), 2u);
  EXPECT_EQ(l.tokens[1].text, "x");
  EXPECT_EQ(lex_all("\"" + std::string(1u << 20, 'a') + "\"").errors, "");
  EXPECT_NE(lex_all("\"" + std::string(10, 'a') + "\"", 256, 9).errors, "");
}

TEST(Lexer, BinaryGarbageTerminates) {
  std::string garbage;
  std::uint32_t x = 12345;
  for (int k = 0; k < 200000; ++k) {
    x = x * 1103515245u + 12345u;
    garbage.push_back(static_cast<char>(x >> 24));
  }
  lexed l = lex_all(garbage);
  EXPECT_TRUE(l.diags.has_errors());
  EXPECT_EQ(l.tokens.back().kind, tok::eof);
}

}  // namespace
}  // namespace carerules::parse
