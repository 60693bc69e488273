// Shared pieces of the `carerules` command-line tool: argument parsing, the options every
// command takes, checked output, and the entry point of each command.
//
// Exit codes (docs/reference/cli.md): 0 every record was evaluated, 1 a record has errors, a
// ruleset does not compile or an input cannot be read or the output cannot be written,
// 2 usage. A usage mistake is thrown as `usage_error` and turned into exit 2 by main().
#pragma once

#include <cstdio>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "carerules/labels.hpp"
#include "carerules/options.hpp"

namespace carerules::cli {

inline constexpr int exit_ok = 0;
inline constexpr int exit_failed = 1;
inline constexpr int exit_usage = 2;

// A mistake in the command line: main() prints it with a pointer to --help and exits 2.
class usage_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// ---- arguments ------------------------------------------------------------------------------

struct option_spec {
  std::string_view long_name;  // without the dashes: "rules"
  char short_name = 0;         // 'r', or 0
  bool takes_value = false;
};

// The command line of one command after parsing: options in the order given (repeatable
// ones appear several times) and the positional arguments.
struct parsed_args {
  std::vector<std::pair<std::string, std::string>> options;  // long name -> value ("" flags)
  std::vector<std::string> positional;
  bool help = false;

  bool has(std::string_view name) const;
  // The last value given for `name`, if any.
  std::optional<std::string> last(std::string_view name) const;
  std::vector<std::string> all(std::string_view name) const;
};

// Parses `args` (the words after the command name) against `specs` plus the options every
// command takes (--import-root, --limit, --help/-h). Accepts `--name value`, `--name=value`,
// `-r value`, `-rvalue`; `--` ends the options; a lone `-` is a positional (standard input).
// Throws usage_error for an unknown option or a missing value.
parsed_args parse_args(const std::vector<std::string>& args, std::vector<option_spec> specs);

// The compile options from --import-root and --limit (usage_error for a bad limit).
compile_options common_compile_options(const parsed_args& a);

// --asof: strict YYYY-MM-DD (usage_error otherwise); without it, the host's local date, fixed
// once so every report of a run states the same date.
std::string resolve_asof(const parsed_args& a);

// --lang zh|en (usage_error otherwise); nullopt without the option.
std::optional<lang> lang_option(const parsed_args& a);

// ---- output ---------------------------------------------------------------------------------

// Buffered writing to a C stream that remembers the first failure (full disk, closed pipe),
// so a command can stop and exit 1 with a message instead of losing output silently.
class output {
 public:
  explicit output(std::FILE* stream) : stream_(stream) {}
  output(const output&) = delete;
  output& operator=(const output&) = delete;
  ~output();

  void write(std::string_view text);
  output& operator<<(std::string_view text) {
    write(text);
    return *this;
  }
  // Writes the buffer out and flushes the stream. Returns false on failure.
  bool flush();
  bool failed() const { return failed_; }
  const std::string& error() const { return error_; }

 private:
  std::FILE* stream_;
  std::string buffer_;
  bool failed_ = false;
  std::string error_;
};

// Writes `text` to the file at `path` (replacing it); false with `error` set on failure.
bool write_file(const std::filesystem::path& path, const std::string& text, std::string& error);

// "carerules: error: <message>" on standard error.
void print_error(std::string_view message);

// Whether `p` is a dotted path of facts (`region.district`): no empty segment, no control
// characters.
bool valid_dotted_path(std::string_view p);
// The value of a path option (--by, --each, --subject, --name, --responsible), nullopt when
// not given; usage_error when it is not a dotted path.
std::optional<std::string> path_option(const parsed_args& a, std::string_view name);

// Whether to draw progress: standard error is a terminal and the output is not piped into
// another program (a pipe or a socket; a file it is redirected to still gets progress).
bool progress_wanted();

// Flushes `out`; on failure prints why and returns exit_failed, else `code`.
int finish_output(output& out, int code);

// ---- commands -------------------------------------------------------------------------------

int run_check(const std::vector<std::string>& args);
int run_test(const std::vector<std::string>& args);
int run_eval(const std::vector<std::string>& args);
int run_explain(const std::vector<std::string>& args);
int run_schema(const std::vector<std::string>& args);
int run_ledger(const std::vector<std::string>& args);
int run_report(const std::vector<std::string>& args);
int run_serve(const std::vector<std::string>& args);

// The help text of a command ("" for the tool itself); nullopt for an unknown command.
std::optional<std::string_view> help_text(std::string_view command);
// Prints a help text on standard output; returns the exit code.
int print_help(std::string_view text);

}  // namespace carerules::cli
