// Golden tests: tests/golden/**/NAME.rules evaluated over NAME.json (asof 2024-06-01) must
// give exactly NAME.expected.json, byte for byte. Set CARERULES_UPDATE_GOLDEN=1 to rewrite
// the expected files after a deliberate change, then review the diff by hand.
#include <gtest/gtest.h>

#include <carerules/carerules.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace fs = std::filesystem;

namespace {

fs::path golden_dir() {
  const char* src = std::getenv("CARERULES_SOURCE_DIR");
  return fs::path(src ? src : CARERULES_SOURCE_DIR_DEFAULT) / "tests" / "golden";
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> cases() {
  std::vector<std::string> out;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(golden_dir(), ec);
       it != fs::recursive_directory_iterator(); ++it) {
    const fs::path& p = it->path();
    if (p.extension() != ".rules") continue;
    fs::path facts = p;
    facts.replace_extension(".json");
    if (fs::exists(facts)) out.push_back(fs::relative(p, golden_dir()).generic_string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

class golden : public ::testing::TestWithParam<std::string> {};

TEST_P(golden, report_matches_expected) {
  const fs::path dir = golden_dir();
  const fs::path saved = fs::current_path();
  fs::current_path(dir);  // `because` shows the file as given: relative to tests/golden
  const std::string rules = GetParam();
  auto compiled = carerules::compile_file(rules);
  fs::current_path(saved);
  ASSERT_TRUE(compiled.ok()) << compiled.rendered();
  fs::path stem = dir / rules;
  stem.replace_extension("");
  std::string facts = slurp(stem.string() + ".json");
  std::string got = compiled.value().evaluate(facts, {.asof = "2024-06-01"}).to_json() + "\n";
  fs::path expected_path = stem.string() + ".expected.json";
  if (std::getenv("CARERULES_UPDATE_GOLDEN")) {
    std::ofstream(expected_path, std::ios::binary) << got;
    GTEST_SKIP() << "rewrote " << expected_path;
  }
  ASSERT_TRUE(fs::exists(expected_path)) << "no " << expected_path;
  EXPECT_EQ(slurp(expected_path), got);
  // Identical input gives byte-identical output.
  EXPECT_EQ(compiled.value().evaluate(facts, {.asof = "2024-06-01"}).to_json() + "\n", got);
}

INSTANTIATE_TEST_SUITE_P(files, golden, ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string n = info.param;
                           for (char& c : n)
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           return n;
                         });

}  // namespace
