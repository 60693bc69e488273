// `carerules check` and `carerules test`.
#include <algorithm>
#include <filesystem>
#include <map>
#include <string>
#include <system_error>
#include <vector>

#include "carerules/ruleset.hpp"
#include "cli.hpp"

namespace carerules::cli {
namespace {

namespace fs = std::filesystem;

void print_diagnostics(const compile_result& r) {
  std::string text = r.rendered();
  if (!text.empty()) std::fputs(text.c_str(), stderr);
}

// One ruleset file to test, with the extra import root its directory argument brings.
struct test_target {
  std::string path;
  std::optional<std::string> root;
};

// *.rules files under `dir`, recursively, sorted so runs are reproducible. Directory
// symlinks are not followed (no loops); unreadable subdirectories are reported and skipped.
bool collect_rules(const std::string& dir, std::vector<test_target>& out) {
  std::error_code ec;
  std::vector<std::string> found;
  fs::recursive_directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec);
  if (ec) {
    print_error("cannot read `" + dir + "`: " + ec.message());
    return false;
  }
  for (fs::recursive_directory_iterator end; it != end; it.increment(ec)) {
    if (ec) {
      print_error("cannot read `" + dir + "`: " + ec.message());
      return false;
    }
    std::error_code type_ec;
    if (it->path().extension() != ".rules" || !it->is_regular_file(type_ec)) continue;
    // A link to a file outside DIR is not DIR's: its lines must not be shown (language.md
    // §11: diagnostics never show a file outside the import roots).
    if (it->is_symlink(type_ec)) {
      fs::path target = fs::weakly_canonical(it->path(), type_ec);
      fs::path root = fs::weakly_canonical(dir, type_ec);
      auto rel = target.lexically_relative(root);
      if (rel.empty() || *rel.begin() == "..") {
        print_error("skipping `" + it->path().string() + "`: it links to a file outside `" + dir +
                    "`");
        continue;
      }
    }
    found.push_back(it->path().string());
  }
  std::sort(found.begin(), found.end());
  for (auto& f : found) out.push_back({std::move(f), dir});
  return true;
}

}  // namespace

int run_check(const std::vector<std::string>& args) {
  parsed_args a = parse_args(args, {});
  if (a.help) return print_help(*help_text("check"));
  compile_options opts = common_compile_options(a);
  if (a.positional.empty()) throw usage_error("no ruleset file given");
  int code = exit_ok;
  for (const auto& file : a.positional) {
    compile_result r = compile_file(file, opts);
    print_diagnostics(r);
    if (!r.ok() || r.error_count() > 0) code = exit_failed;
  }
  return code;
}

int run_test(const std::vector<std::string>& args) {
  parsed_args a = parse_args(args, {{"coverage", 0, false}});
  if (a.help) return print_help(*help_text("test"));
  const compile_options base = common_compile_options(a);
  if (a.positional.empty()) throw usage_error("no ruleset file or directory given");
  const bool coverage = a.has("coverage");

  std::size_t passed = 0, failed = 0;
  std::vector<test_target> targets;
  for (const auto& p : a.positional) {
    std::error_code ec;
    if (fs::is_directory(p, ec)) {
      if (!collect_rules(p, targets)) ++failed;
    } else {
      targets.push_back({p, std::nullopt});  // a missing file fails to compile below
    }
  }

  output out(stdout);
  std::vector<coverage_item> coverage_items;
  std::map<std::string, std::size_t> coverage_index;
  for (const auto& t : targets) {
    compile_options opts = base;
    if (t.root) opts.import_roots.push_back(*t.root);
    compile_result r = compile_file(t.path, opts);
    if (!r.ok()) {
      print_diagnostics(r);
      ++failed;
      continue;
    }
    test_run run = r.value().run_tests();
    for (const auto& c : run.cases) {
      if (c.passed) {
        ++passed;
        continue;
      }
      ++failed;
      for (const auto& f : c.failures) out << f << "\n";
      if (c.failures.empty())  // a failing case always has a line, even if the library gave none
        out << c.file << ":" << std::to_string(c.line) << ": test \"" << c.name << "\" failed\n";
    }
    if (coverage) {
      // Combined over the run: an item counts as exercised when any file's tests exercised
      // it (an imported hazard is covered by its importer's tests too).
      for (auto& c : run.coverage) {
        std::string key = (c.canonical.empty() ? c.file : c.canonical) + ":" +
                          std::to_string(c.line) + ":" + c.what;
        auto it = coverage_index.find(key);
        if (it == coverage_index.end()) {
          coverage_index.emplace(key, coverage_items.size());
          coverage_items.push_back(std::move(c));
        } else if (c.covered) {
          coverage_items[it->second].covered = true;
        }
      }
    }
    if (out.failed()) break;
  }
  if (coverage)
    for (const auto& c : coverage_items)
      if (!c.covered) {
        // One name per file however it was reached: relative to the working directory.
        std::error_code ec;
        std::string shown = c.file;
        if (!c.canonical.empty()) {
          fs::path rel = fs::path(c.canonical).lexically_relative(fs::current_path(ec));
          if (!ec && !rel.empty()) shown = rel.generic_string();
        }
        out << shown << ":" << std::to_string(c.line) << ": " << c.what << " not covered\n";
      }
  out << std::to_string(passed) << " passed, " << std::to_string(failed) << " failed\n";
  return finish_output(out, failed > 0 ? exit_failed : exit_ok);
}

}  // namespace carerules::cli
