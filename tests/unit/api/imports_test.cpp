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

namespace {

// Each file keeps its own identity: name, version and a digest of its bytes alone, the top
// file first, then imports in first-reached order (a diamond's shared file once).
TEST_F(imports, files_list_each_file_with_its_own_identity) {
  std::ofstream(dir_ / "root" / "c.rules")
      << "ruleset gamma {\n title \"c\"\n version \"2.1\"\n let z = 1\n}\n";
  write("root/b.rules", "import \"c.rules\"\nlet y = z", "beta");
  write("root/a.rules", "import \"b.rules\"\nimport \"c.rules\"\nlet x = y", "alpha");
  auto r = compile("root/a.rules");
  ASSERT_TRUE(r.ok()) << r.rendered();
  const auto& files = r.value().files();
  ASSERT_EQ(files.size(), 3u);
  EXPECT_EQ(files[0].name, "alpha");
  EXPECT_EQ(files[1].name, "beta");
  EXPECT_EQ(files[2].name, "gamma");
  EXPECT_EQ(files[1].file, "b.rules");
  EXPECT_EQ(files[0].version, "1");
  EXPECT_EQ(files[2].version, "2.1");
  for (const auto& f : files) EXPECT_EQ(f.digest.size(), 7u + 64u) << f.file;
  EXPECT_NE(files[1].digest, files[2].digest);
  // The bundle's digest covers all three; a lone file's digest is that of its bytes.
  EXPECT_NE(files[0].digest, r.value().digest());
  auto lone = compile("root/c.rules");
  ASSERT_TRUE(lone.ok()) << lone.rendered();
  EXPECT_EQ(lone.value().files()[0].digest, files[2].digest);
  EXPECT_EQ(lone.value().files()[0].digest, lone.value().digest());
}

}  // namespace

namespace {

// Files held in memory stand in for the disk: the bytes given win over the file (a pickle
// made before the file changed), and a file that is gone still compiles.
TEST_F(imports, files_held_in_memory_are_read_instead_of_the_disk) {
  write("root/c.rules", "input { x : int }\nlet big = x > 2", "gamma");
  write("root/a.rules", "import \"c.rules\"\nlet y = big", "alpha");
  auto first = compile("root/a.rules");
  ASSERT_TRUE(first.ok()) << first.rendered();
  carerules::compile_options o;
  o.name = "a.rules";
  o.import_roots.push_back((dir_ / "root").string());
  for (const auto& f : first.value().source_files())
    if (!f.path.empty()) o.files.emplace_back(f.path, f.text);
  const std::string top = first.value().source_files()[0].text;
  write("root/c.rules", "input { x : int }\nlet big = x > 200", "gamma");
  auto held = carerules::compile_source(top, o);
  ASSERT_TRUE(held.ok()) << held.rendered();
  EXPECT_EQ(held.value().digest(), first.value().digest());
  fs::remove(dir_ / "root" / "c.rules");
  auto gone = carerules::compile_source(top, o);
  ASSERT_TRUE(gone.ok()) << gone.rendered();
  EXPECT_EQ(gone.value().digest(), first.value().digest());
  // Without the held copy, the missing file is a diagnostic.
  o.files.clear();
  EXPECT_FALSE(carerules::compile_source(top, o).ok());
}

}  // namespace
