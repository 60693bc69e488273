// Source files, the diagnostic sink and render() (spec §10, §11).
#include "ast/source.hpp"

#include <gtest/gtest.h>

#include <string>

namespace carerules::ast {
namespace {

source_set one_file(std::string text, std::string name = "a.rules") {
  source_set s;
  s.files.push_back({std::move(name), "", std::move(text), {}});
  s.files[0].index_lines();
  return s;
}

TEST(Source, Lines) {
  source_set s = one_file("ab\r\ncd\n\nlast");
  const source_file& f = s.files[0];
  ASSERT_EQ(f.line_starts.size(), 4u);
  EXPECT_EQ(f.line_text(1), "ab");
  EXPECT_EQ(f.line_text(2), "cd");
  EXPECT_EQ(f.line_text(3), "");
  EXPECT_EQ(f.line_text(4), "last");
  EXPECT_EQ(f.line_text(0), "");
  EXPECT_EQ(f.line_text(5), "");
  source_set b = one_file("\xEF\xBB\xBFx\n");
  EXPECT_EQ(b.files[0].line_text(1), "x");
  EXPECT_EQ(b.files[0].line_text(2), "");
  source_set e = one_file("");
  EXPECT_EQ(e.files[0].line_starts.size(), 1u);
  EXPECT_EQ(e.files[0].line_text(1), "");
}

TEST(Source, SinkKeepsLimitAndCountsErrors) {
  diagnostic_sink sink(2);
  sink.warning({0, 1, 1}, "w");
  sink.error({0, 3, 1}, "e1");
  sink.error({0, 2, 5}, "e2");
  sink.note({0, 1, 1}, "n");
  EXPECT_EQ(sink.items().size(), 2u);
  EXPECT_EQ(sink.dropped(), 2u);
  EXPECT_EQ(sink.error_count(), 2u);
  EXPECT_TRUE(sink.has_errors());
  diagnostic_sink quiet;
  quiet.warning({0, 1, 1}, "w");
  EXPECT_FALSE(quiet.has_errors());
}

TEST(Source, SortIsStableByPosition) {
  diagnostic_sink sink;
  sink.error({1, 1, 1}, "f1");
  sink.error({0, 2, 3}, "b");
  sink.error({0, 2, 1}, "a");
  sink.error({0, 2, 3}, "c");
  sink.sort();
  std::string order;
  for (const auto& d : sink.items()) order += d.message + " ";
  EXPECT_EQ(order, "a b c f1 ");
}

struct render_case {
  std::string text;
  diagnostic d;
  std::string expected;
};

TEST(Source, Render) {
  const render_case cases[] = {
      {"ruleset t {\n  let x = 1 +\n}",
       {severity::error, {0, 2, 13}, "expected an expression"},
       "a.rules:2:13: error: expected an expression\n"
       "    let x = 1 +\n"
       "              ^\n"},
      {"let 名字 = 中文 + $",
       {severity::error, {0, 1, 14}, "unexpected character `$`"},
       "a.rules:1:14: error: unexpected character `$`\n"
       "  let 名字 = 中文 + $\n"
       "                   ^\n"},
      {"x\n\tbad\x01here",
       {severity::warning, {0, 2, 5}, "w"},
       "a.rules:2:5: warning: w\n"
       "  \\tbad\\x01here\n"
       "       ^\n"},
      {"a \x80\x81 b",
       {severity::note, {0, 1, 5}, "n"},
       "a.rules:1:5: note: n\n"
       "  a \\x80\\x81 b\n"
       "            ^\n"},
      {"abc\r\n",
       {severity::error, {0, 1, 4}, "at the end"},
       "a.rules:1:4: error: at the end\n"
       "  abc\n"
       "     ^\n"},
      {"\xEF\xBB\xBFruleset",
       {severity::error, {0, 1, 1}, "m"},
       "a.rules:1:1: error: m\n"
       "  ruleset\n"
       "  ^\n"},
      {"x", {severity::error, {0, 0, 0}, "no position"}, "a.rules: error: no position\n"},
      {"x", {severity::error, {0, 1, 0}, "line only"}, "a.rules:1: error: line only\n  x\n  ^\n"},
      {"x", {severity::error, {0, 9, 1}, "past the end"}, "a.rules:9:1: error: past the end\n"},
      {"x",
       {severity::error, {0, 1, 1}, "esc\x1b[31m"},
       "a.rules:1:1: error: esc\\x1b[31m\n  x\n  ^\n"},
  };
  for (const auto& c : cases) {
    source_set s = one_file(c.text);
    EXPECT_EQ(render(s, c.d), c.expected) << c.text;
  }
}

// Bidi controls and line separators in the source line and in a quoted name are shown by code
// point (a `Trojan Source` line cannot reorder what the reader sees), and the caret still
// points under the character the column names.
TEST(Source, RenderShowsBidiControlsAndSeparatorsByCodePoint) {
  const render_case cases[] = {
      {"let s = \"\u202Eadmin\u2066\" + x",
       {severity::error, {0, 1, 21}, "unknown name `x`"},
       "a.rules:1:21: error: unknown name `x`\n"
       "  let s = \"<U+202E>admin<U+2066>\" + x\n"
       "  " +
           std::string(34, ' ') + "^\n"},
      {"a\u2028b c\u2029d \u061Ce",
       {severity::error, {0, 1, 9}, "here"},
       "a.rules:1:9: error: here\n"
       "  a<U+2028>b c<U+2029>d <U+061C>e\n"
       "  " +
           std::string(22, ' ') + "^\n"},
      {"x",
       {severity::error, {0, 1, 1}, "unknown level `\"\u200F\u202Bred\u2069\"`"},
       "a.rules:1:1: error: unknown level `\"<U+200F><U+202B>red<U+2069>\"`\n  x\n  ^\n"},
  };
  for (const auto& c : cases) {
    source_set s = one_file(c.text);
    EXPECT_EQ(render(s, c.d), c.expected) << c.text;
  }
}

// The message itself is kept escaped, for readers that never render it.
TEST(Source, SinkKeepsMessagesEscaped) {
  diagnostic_sink sink;
  sink.error({0, 1, 1}, "title `\u202Eabc` and\nmore \x01");
  ASSERT_EQ(sink.items().size(), 1u);
  EXPECT_EQ(sink.items()[0].message, "title `<U+202E>abc` and\\nmore \\x01");
}

TEST(Source, RenderUnknownFile) {
  source_set s;
  EXPECT_EQ(render(s, {severity::error, {3, 1, 1}, "m"}), "<unknown>:1:1: error: m\n");
}

TEST(Source, RenderWindowsLongLines) {
  std::string line;
  for (int k = 0; k < 1000; ++k) line += static_cast<char>('a' + k % 26);
  source_set s = one_file(line);
  std::string r = render(s, {severity::error, {0, 1, 500}, "m"});
  std::size_t first = r.find('\n') + 1;
  std::size_t second = r.find('\n', first) + 1;
  std::string shown = r.substr(first + 2, second - first - 3);
  std::string caret = r.substr(second + 2);
  EXPECT_EQ(shown.size(), 200u);
  EXPECT_EQ(shown, line.substr(399, 200));
  EXPECT_EQ(caret, std::string(100, ' ') + "^\n");
  // Near the start and the end the window stays full.
  std::string head = render(s, {severity::error, {0, 1, 3}, "m"});
  EXPECT_NE(head.find("  " + line.substr(0, 200) + "\n    ^\n"), std::string::npos);
  std::string tail = render(s, {severity::error, {0, 1, 1000}, "m"});
  EXPECT_NE(tail.find("  " + line.substr(800) + "\n"), std::string::npos);
  EXPECT_NE(tail.find("\n  " + std::string(199, ' ') + "^\n"), std::string::npos);
  // Wide characters: the window counts characters, the caret display columns.
  std::string cjk;
  for (int k = 0; k < 300; ++k) cjk += "中";
  source_set w = one_file(cjk);
  std::string rw = render(w, {severity::error, {0, 1, 150}, "m"});
  EXPECT_NE(rw.find("\n  " + std::string(200, ' ') + "^\n"), std::string::npos) << rw;
}

}  // namespace
}  // namespace carerules::ast
