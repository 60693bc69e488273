// compile_file / compile_source: read files, follow imports inside the import roots, parse,
// check, and digest the sources.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <system_error>

#include "api/access.hpp"
#include "ast/source.hpp"
#include "carerules/ruleset.hpp"
#include "check/check.hpp"
#include "eval/eval.hpp"
#include "parse/parse.hpp"
#include "util/sha256.hpp"

namespace carerules {
namespace {

namespace fs = std::filesystem;

struct loader {
  const compile_options& options;
  std::shared_ptr<ast::source_set> sources = std::make_shared<ast::source_set>();
  ast::expr_arena arena;
  ast::diagnostic_sink diags;
  std::vector<ast::ruleset_file> files;     // report order (imports first)
  std::vector<std::uint32_t> digest_order;  // first-reached order
  std::vector<fs::path> roots;              // canonical
  std::vector<std::string> chain;           // canonical paths along the current import chain
  std::set<std::string> loaded;
  bool too_large = false;  // the last read failed on source_bytes (the file has a line 1)

  explicit loader(const compile_options& o)
      : options(o),
        diags(static_cast<std::size_t>(std::min<std::uint64_t>(o.limits.diagnostics, 1u << 20))) {}

  static bool within(const fs::path& p, const fs::path& root) {
    auto r = root.begin(), q = p.begin();
    for (; r != root.end(); ++r, ++q) {
      if (r->empty()) continue;
      if (q == p.end() || *q != *r) return false;
    }
    return true;
  }

  const fs::path* root_of(const fs::path& canonical) const {
    for (const auto& r : roots)
      if (within(canonical, r)) return &r;
    return nullptr;
  }

  // Reads a file into the source set (from options.files when held there); reports at
  // `where` when it cannot.
  std::optional<std::uint32_t> read(const fs::path& path, const std::string& display,
                                    const std::string& canonical, ast::pos where) {
    std::string text;
    auto held = std::find_if(options.files.begin(), options.files.end(),
                             [&](const auto& f) { return f.first == canonical; });
    if (held != options.files.end()) {
      text = held->second;
    } else {
      std::error_code ec;
      auto st = fs::status(path, ec);
      if (ec || !fs::exists(st)) {
        diags.error(where, "cannot read `" + display + "`: no such file");
        return std::nullopt;
      }
      if (fs::is_directory(st)) {
        diags.error(where, "cannot read `" + display + "`: it is a directory");
        return std::nullopt;
      }
      auto size = fs::file_size(path, ec);
      if (!ec && size > options.limits.source_bytes) {
        too_large = true;
        diags.error(where, "`" + display + "` is " + std::to_string(size) +
                               " bytes, more than the limit of " +
                               std::to_string(options.limits.source_bytes) +
                               " (limit `source_bytes`)");
        return std::nullopt;
      }
      std::ifstream in(path, std::ios::binary);
      if (!in) {
        diags.error(where, "cannot read `" + display + "`");
        return std::nullopt;
      }
      // Read no further than the limit: a device or a pipe (/dev/zero) may never end.
      char chunk[1 << 16];
      while (text.size() <= options.limits.source_bytes &&
             in.read(chunk, sizeof chunk).gcount() > 0)
        text.append(chunk, static_cast<std::size_t>(in.gcount()));
    }
    if (text.size() > options.limits.source_bytes) {
      too_large = true;
      diags.error(where, "`" + display + "` is larger than the limit of " +
                             std::to_string(options.limits.source_bytes) +
                             " bytes (limit `source_bytes`)");
      return std::nullopt;
    }
    return add(display, canonical, std::move(text));
  }

  std::uint32_t add(const std::string& display, const std::string& canonical, std::string text) {
    ast::source_file f;
    f.display = display;
    f.canonical = canonical;
    f.text = std::move(text);
    f.index_lines();
    sources->files.push_back(std::move(f));
    return static_cast<std::uint32_t>(sources->files.size() - 1);
  }

  void load(std::uint32_t file, const fs::path& dir) {
    digest_order.push_back(file);
    parse::parse_limits pl;
    pl.depth = options.limits.depth;
    pl.identifier = options.limits.identifier;
    pl.string = options.limits.string;
    ast::ruleset_file rf = parse::parse_file(*sources, file, arena, pl, diags);
    chain.push_back(sources->files[file].canonical);
    for (const auto& imp : rf.imports) {
      fs::path target = fs::path(imp.path);
      if (target.is_relative()) target = dir / target;
      std::error_code ec;
      fs::path canon = fs::weakly_canonical(target, ec);
      if (ec) canon = target.lexically_normal();
      const fs::path* root = root_of(canon);
      if (!root) {
        diags.error(imp.where, "import \"" + imp.path +
                                   "\" resolves outside the import roots (add one: --import-root "
                                   "DIR, or import_roots=[...] in Python)");
        continue;
      }
      std::string key = canon.string();
      if (std::find(chain.begin(), chain.end(), key) != chain.end()) {
        std::string names;
        bool on = false;
        for (const auto& c : chain) {
          if (c == key) on = true;
          // (appends rather than operator+: GCC 12 -O3 warns falsely on `"x" + string`)
          if (on) names.append("`").append(display_of(c)).append("` -> ");
        }
        names.append("`").append(display_of(key)).append("`");
        diags.error(imp.where, "import cycle: " + names);
        continue;
      }
      if (loaded.count(key)) continue;  // a diamond: merged once
      if (chain.size() >= options.limits.imports) {
        diags.error(imp.where, "imports nest deeper than the limit of " +
                                   std::to_string(options.limits.imports) +
                                   " files (limit `imports`)");
        continue;
      }
      loaded.insert(key);
      std::string display = canon.lexically_relative(*root).generic_string();
      auto idx = read(canon, display, key, imp.where);
      if (!idx) continue;
      load(*idx, canon.parent_path());
    }
    chain.pop_back();
    files.push_back(std::move(rf));
  }

  std::string display_of(const std::string& canonical) const {
    for (const auto& f : sources->files)
      if (f.canonical == canonical) return f.display;
    return canonical;
  }

  compile_result finish() {
    std::shared_ptr<detail::program> prog;
    if (!diags.has_errors() && !files.empty()) {
      detail::check_input in;
      in.files = &files;
      in.arena = &arena;
      in.sources = sources;
      in.limits = options.limits;
      prog = detail::check_and_lower(in, diags);
      if (prog) {
        detail::sha256 h;
        for (auto f : digest_order) h.update(sources->files[f].text);
        prog->info.digest = "sha256:" + h.hex_finish();
        for (auto f : digest_order) {
          auto rf = std::find_if(files.begin(), files.end(),
                                 [f](const ast::ruleset_file& r) { return r.file == f; });
          if (rf == files.end()) continue;
          detail::sha256 one;
          one.update(sources->files[f].text);
          prog->files.push_back({sources->files[f].display, rf->name, rf->version.value_or(""),
                                 "sha256:" + one.hex_finish()});
        }
        prog->top_display = sources->files[0].display;
        detail::build_report_fragments(*prog);
      }
    }
    diags.sort();
    std::vector<diagnostic> out;
    for (const auto& d : diags.items()) {
      diagnostic x;
      if (d.where.file < sources->files.size()) x.file = sources->files[d.where.file].display;
      x.line = static_cast<int>(d.where.line);
      x.column = static_cast<int>(d.where.column);
      x.severity = d.level == ast::severity::error     ? "error"
                   : d.level == ast::severity::warning ? "warning"
                                                       : "note";
      x.message = d.message;
      x.rendered = ast::render(*sources, d);
      out.push_back(std::move(x));
    }
    std::optional<ruleset> rs;
    if (prog && !diags.has_errors()) rs = detail::access::make_ruleset(std::move(prog));
    return compile_result(std::move(rs), std::move(out), diags.error_count(), diags.dropped());
  }
};

fs::path canonical_dir(const fs::path& p) {
  std::error_code ec;
  fs::path c = fs::weakly_canonical(p, ec);
  return ec ? p.lexically_normal() : c;
}

}  // namespace

compile_result compile_file(const std::string& path, const compile_options& options) {
  loader L(options);
  fs::path p(path);
  std::error_code ec;
  fs::path canon = fs::weakly_canonical(p, ec);
  if (ec) canon = fs::absolute(p, ec).lexically_normal();
  L.roots.push_back(canon.parent_path());
  for (const auto& r : options.import_roots) L.roots.push_back(canonical_dir(r));
  // A pseudo file so that a read failure has somewhere to point.
  auto idx = L.read(p, path, canon.string(), ast::pos{0, 0, 0});
  if (!idx) {
    std::vector<diagnostic> out;
    for (const auto& d : L.diags.items()) {
      diagnostic x;
      x.file = path;
      x.severity = "error";
      x.message = d.message;
      // A file too large to read still has a first line to point at; a missing one has none.
      if (L.too_large) {
        x.line = 1;
        x.column = 1;
        x.rendered = path + ":1:1: error: " + d.message + "\n";
      } else {
        x.rendered = path + ": error: " + d.message + "\n";
      }
      out.push_back(std::move(x));
    }
    return compile_result(std::nullopt, std::move(out), 1, 0);
  }
  L.loaded.insert(canon.string());
  L.load(*idx, canon.parent_path());
  return L.finish();
}

compile_result compile_source(std::string_view text, const compile_options& options) {
  loader L(options);
  std::error_code ec;
  fs::path base =
      options.import_roots.empty() ? fs::current_path(ec) : canonical_dir(options.import_roots[0]);
  for (const auto& r : options.import_roots) L.roots.push_back(canonical_dir(r));
  if (L.roots.empty()) L.roots.push_back(base);
  if (text.size() > options.limits.source_bytes) {
    diagnostic x;
    x.file = options.name;
    x.severity = "error";
    x.message = "the source is " + std::to_string(text.size()) + " bytes, more than the limit of " +
                std::to_string(options.limits.source_bytes) + " (limit `source_bytes`)";
    x.line = 1;
    x.column = 1;
    x.rendered = options.name + ":1:1: error: " + x.message + "\n";
    return compile_result(std::nullopt, {x}, 1, 0);
  }
  auto idx = L.add(options.name, "", std::string(text));
  L.load(idx, base);
  return L.finish();
}

std::string compile_result::rendered() const {
  std::string s;
  for (const auto& d : diagnostics_) s += d.rendered;
  if (dropped_ > 0) s += "and " + std::to_string(dropped_) + " more\n";
  return s;
}

}  // namespace carerules
