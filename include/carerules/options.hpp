// Options of compilation and evaluation, and the limits that guard against hostile input.
//
//   carerules::compile_options opts{.import_roots = {"rulesets"}};
//   opts.limits.depth = 64;
//   std::string err;
//   if (!opts.limits.set("string", "1048576", err)) { /* err says why */ }
//
// Plain aggregates; copy them freely.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

// Exported from the shared library (compiled with hidden visibility).
#pragma GCC visibility push(default)

namespace carerules {

// Every limit of the language reference (docs/reference/language.md, limits), with its default.
// Hitting a ruleset limit is a diagnostic; hitting a facts limit is a record error at the JSON
// pointer where it was hit.
struct limits {
  std::uint64_t source_bytes = 16u << 20;  // bytes of one ruleset file
  std::uint64_t depth = 256;               // nesting of expressions and blocks
  std::uint64_t identifier = 256;          // characters of one identifier segment
  std::uint64_t string = 1u << 20;         // bytes of one string literal
  std::uint64_t imports = 64;              // files along one import chain
  std::uint64_t diagnostics = 100;         // diagnostics kept ("and N more" after)
  std::uint64_t json_depth = 64;           // nesting of a facts record
  std::uint64_t json_string = 1u << 20;    // bytes of one facts string
  std::uint64_t list = 1'000'000;          // elements of one facts list
  std::uint64_t line_bytes = 64u << 20;    // bytes of one .jsonl line or .json file
  std::uint64_t steps = 100'000'000;       // evaluation steps per record

  // Sets a limit by its name from its decimal text. Returns false, with `error` saying why,
  // for an unknown name or a value that is not a non-negative integer.
  bool set(std::string_view name, std::string_view value, std::string& error);
  // Parses "NAME=N" (the CLI's --limit argument).
  bool set(std::string_view assignment, std::string& error);
};

struct compile_options {
  // Directories imports may resolve into, beside the top file's own directory.
  std::vector<std::string> import_roots;
  carerules::limits limits;
  // For compile_source: the name diagnostics and `because` show for the text.
  std::string name = "<input>";
  // Files held in memory, as (canonical path, bytes): an import that resolves to one of
  // these paths reads the bytes instead of the disk. A ruleset whose imported files travel
  // with it (ruleset::source_files(), a Python pickle) compiles where those files are not.
  std::vector<std::pair<std::string, std::string>> files;
};

struct eval_options {
  std::string asof;      // "YYYY-MM-DD"; empty: the host's local date
  std::string subject;   // dotted path of the subject id; empty: "id"
  std::string each;      // dotted path of a list: evaluate once per element; empty: off
  unsigned threads = 0;  // evaluate_many: 0 uses every core; clamped to 256
};

// The evaluation date an `asof` names, as "YYYY-MM-DD": the text itself when it is a valid
// date, the host's local date when it is empty. Throws std::invalid_argument, naming the
// text, for anything else. Every surface resolves it once per call, so that a batch running
// over midnight states one date.
std::string resolve_asof(std::string_view asof);

// The number of threads to use for `work` items when `requested` were asked for: 0 means
// every core; never more than 256 nor more than the work; at least 1.
unsigned thread_count(unsigned requested, std::size_t work);

}  // namespace carerules
#pragma GCC visibility pop
