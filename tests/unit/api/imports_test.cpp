// Imports: roots, cycles, diamonds, conflicting declarations, the `imports` limit, digests.
#include <gtest/gtest.h>

#include <carerules/carerules.hpp>
#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;

namespace {

class imports : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("carerules_imports_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "root" / "sub");
    fs::create_directories(dir_ / "outside");
  }
  void TearDown() override { fs::remove_all(dir_); }
  void write(const std::string& rel, const std::string& body, const std::string& name = "r") {
    std::ofstream(dir_ / rel) << "ruleset " << name << " {\n title \"t\"\n version \"1\"\n"
                              << body << "\n}\n";
  }
  carerules::compile_result compile(const std::string& rel, carerules::compile_options o = {}) {
    return carerules::compile_file((dir_ / rel).string(), o);
  }
  fs::path dir_;
};

TEST_F(imports, outside_the_roots_is_an_error) {
  write("outside/x.rules", "let a = 1");
  write("root/top.rules", "import \"../outside/x.rules\"");
  auto r = compile("root/top.rules");
  EXPECT_FALSE(r.ok());
  EXPECT_NE(r.rendered().find("resolves outside the import roots"), std::string::npos)
      << r.rendered();
  // ...unless the caller adds a root.
  carerules::compile_options o;
  o.import_roots.push_back((dir_ / "outside").string());
  EXPECT_TRUE(compile("root/top.rules", o).ok());
}

TEST_F(imports, absolute_path_inside_a_root_is_allowed) {
  write("root/sub/x.rules", "let a = 1");
  write("root/top.rules",
        "import \"" + (dir_ / "root" / "sub" / "x.rules").string() + "\"\nlet b = a + 1");
  auto r = compile("root/top.rules");
  EXPECT_TRUE(r.ok()) << r.rendered();
}

TEST_F(imports, cycle_names_its_files) {
  write("root/a.rules", "import \"b.rules\"", "a");
  write("root/b.rules", "import \"a.rules\"", "b");
  auto r = compile("root/a.rules");
  EXPECT_FALSE(r.ok());
  EXPECT_NE(r.rendered().find("import cycle"), std::string::npos) << r.rendered();
  EXPECT_NE(r.rendered().find("a.rules"), std::string::npos);
  EXPECT_NE(r.rendered().find("b.rules"), std::string::npos);
}

TEST_F(imports, diamond_is_merged_once_and_digested_once) {
  write("root/base.rules", "input { n : int }\nlet big = n > 1", "base");
  write("root/b.rules", "import \"base.rules\"\nlet b = big", "b");
  write("root/c.rules", "import \"base.rules\"\ninput { n : int }\nlet c = big", "c");
  write("root/top.rules", "import \"b.rules\"\nimport \"c.rules\"\nlet t = b and c", "top");
  auto r = compile("root/top.rules");
  ASSERT_TRUE(r.ok()) << r.rendered();
  // sha256 over top, b, base, c: each file once, in first-reached order.
  auto rep = r.value().evaluate(R"({"n": 5})", {.asof = "2024-06-01"});
  EXPECT_EQ(rep.ruleset.name, "top");
  EXPECT_EQ(r.value().digest().size(), std::string("sha256:").size() + 64);
}

TEST_F(imports, input_declared_differently_is_an_error) {
  write("root/x.rules", "input { n : int }", "x");
  write("root/top.rules", "import \"x.rules\"\ninput { n : number }", "top");
  auto r = compile("root/top.rules");
  EXPECT_FALSE(r.ok());
  EXPECT_NE(r.rendered().find("input `n` is declared differently"), std::string::npos)
      << r.rendered();
}

TEST_F(imports, name_declared_twice_is_an_error) {
  write("root/x.rules", "let a = 1", "x");
  write("root/top.rules", "import \"x.rules\"\nlet a = 2", "top");
  auto r = compile("root/top.rules");
  EXPECT_FALSE(r.ok());
  EXPECT_NE(r.rendered().find("`a` is already declared"), std::string::npos) << r.rendered();
}

TEST_F(imports, limit_counts_files_along_one_chain) {
  write("root/c.rules", "let c = 1", "c");
  write("root/b.rules", "import \"c.rules\"", "b");
  write("root/a.rules", "import \"b.rules\"", "a");
  carerules::compile_options o;
  o.limits.imports = 3;
  EXPECT_TRUE(compile("root/a.rules", o).ok());
  o.limits.imports = 2;
  auto r = compile("root/a.rules", o);
  EXPECT_FALSE(r.ok());
  EXPECT_NE(r.rendered().find("limit `imports`"), std::string::npos) << r.rendered();
}

TEST_F(imports, missing_file_is_a_diagnostic) {
  write("root/top.rules", "import \"nope.rules\"");
  auto r = compile("root/top.rules");
  EXPECT_FALSE(r.ok());
  EXPECT_NE(r.rendered().find("no such file"), std::string::npos) << r.rendered();
}

}  // namespace
