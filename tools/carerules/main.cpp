// carerules: compile, test and evaluate rulesets from the command line.
//
//   carerules check   FILE...
//   carerules test    FILE|DIR... [--coverage]
//   carerules eval    -r RULES FACTS [--asof D] [--format json|jsonl|table|csv|decisions] ...
//   carerules explain -r RULES FACTS.json --rule ID
//   carerules schema  RULES
//   carerules --version
//
// This file dispatches to the commands and turns usage mistakes into exit code 2; the
// commands live in check_test.cpp, eval.cpp and explain_schema.cpp.
#include <cstdio>
#include <exception>
#include <new>
#include <string>
#include <vector>

#include "carerules/ruleset.hpp"
#include "cli.hpp"

namespace carerules::cli {
namespace {

constexpr std::string_view tool_help =
    R"(Usage: carerules COMMAND [OPTIONS] [ARGS]

Compile, test and evaluate carerules rulesets.

Commands:
  check   FILE...                compile rulesets; diagnostics to standard error
  test    FILE|DIR... [--coverage]
                                 run the test blocks of rulesets (directories recursively)
  eval    -r RULES FACTS         evaluate facts (a .json record, a .jsonl batch, - for stdin)
  explain -r RULES FACTS --rule ID
                                 show how one hazard, item, let, score or grade was decided
  schema  RULES                  print the ruleset's inputs as a JSON Schema (draft 2020-12)
  ledger  record|status|show|diff|pages --db FILE
                                 the rectification ledger: rounds in, findings out
  report  -r RULES FACTS --out DIR
                                 write HTML pages, one per subject, and index.html
  serve   --rulesets DIR [--listen 127.0.0.1:8181]
                                 the rulesets of DIR as an HTTP JSON service

Options every command takes:
  --import-root DIR   a directory imports may resolve into (repeatable)
  --limit NAME=N      change a limit: source_bytes depth identifier string imports
                      diagnostics json_depth json_string list line_bytes steps
  -h, --help          show the help of the tool or of a command

  --version           print the version and exit

Exit codes: 0 success; 1 a record has errors, a ruleset does not compile, an input cannot
be read or the output cannot be written; 2 a mistake in the command line.
Run `carerules COMMAND --help` for the options of a command.
)";

constexpr std::string_view ledger_help =
    R"(Usage: carerules ledger COMMAND --db FILE [OPTIONS]

The rectification ledger: one SQLite file holding rounds of inspection reports, and the
findings they make (an item present in some round). A finding closes in the first later round
whose report shows the item absent; undetermined never closes it; a closed finding present
again is a rebound; an open finding past its due date is overdue. Due: the report's
rectify.due, else the round's date + 90 days.

Commands:
  record --round NAME -r RULES FACTS [--asof D] [--responsible PATH] [--include-grade NAME=VALUE]
                       evaluate FACTS and record the round (one transaction; the same round
                       again with the same content changes nothing)
  record --round NAME --reports REPORTS.jsonl [--include-grade NAME=VALUE]
                       record reports made earlier (their asof unless --asof)
  status [--asof D] [--by PATH]
                       open, overdue, closed and rebound findings, per group of the fact at PATH
  show SUBJECT [--asof D]
                       the subject's file: every finding with its rounds
  diff --from ROUND --to ROUND [--asof D]
                       new, closed, still open, rebound and now undetermined findings (open
                       or overdue as of D, by default the date of the --to round)
  pages --out DIR [--asof D] [--by PATH] [--lang zh|en]
                       HTML: one page per subject with findings (its file) and index.html
                       (the status and every finding not closed), in Chinese by default

Options:
  --db FILE           the ledger (created by record on first use)
  --format F          table (default), csv or json
  --asof DATE         the date findings are judged at (default: today)
  --import-root DIR, --limit NAME=N, -h/--help as for every command

Exit status: 0 done; 1 a ledger or input that cannot be read or written (corrupt, read-only,
locked, made by a newer carerules), or records with errors or without a subject; 2 usage.
)";

constexpr std::string_view check_help =
    R"(Usage: carerules check [OPTIONS] FILE...

Compile each ruleset file (and its imports) and print every diagnostic, warnings included,
to standard error. Nothing is printed on standard output.

Options:
  --import-root DIR   a directory imports may resolve into (repeatable)
  --limit NAME=N      change a limit (see `carerules --help`)
  -h, --help          show this help

Exit status: 0 when every file compiles (warnings alone do not fail), 1 on any error,
2 on a usage mistake.
)";

constexpr std::string_view test_help =
    R"(Usage: carerules test [OPTIONS] FILE|DIR...

Run the `test` blocks of ruleset files. A directory is searched recursively for *.rules
files and is added as an import root for them. Each test block counts once; a file that
does not compile counts as one failure and its diagnostics go to standard error. Each
failing expect is printed on standard output as
  file:line: test "name": expect ... — got ...
and the last line is `N passed, N failed`.

Options:
  --coverage          also list hazards, items and grade lines that no test exercised
  --import-root DIR   a directory imports may resolve into (repeatable)
  --limit NAME=N      change a limit (see `carerules --help`)
  -h, --help          show this help

Exit status: 0 when every test passed, 1 if any failed, 2 on a usage mistake.
)";

constexpr std::string_view eval_help =
    R"(Usage: carerules eval -r RULES [OPTIONS] FACTS

Evaluate facts against a ruleset and print the reports.

FACTS is a .json file (one record), a .jsonl file (one record per line) or - for standard
input (one record per line unless --input json). For another extension --input decides;
without it a file whose first non-blank line is a whole JSON value followed by more
non-blank lines is read as JSON lines, anything else as one record. Batches stream: lines
are read and evaluated in chunks, and reports come out in input order. A blank line is
skipped; a line that is not a JSON object gives a report with an error naming its line.

Options:
  -r, --rules RULES   the ruleset file (required)
  --asof DATE         the evaluation date, YYYY-MM-DD (default: today, local time)
  --format FORMAT     json (default: one report for one record, an array for a batch),
                      jsonl (one report per line), table (a terminal table),
                      csv (UTF-8 with a byte-order mark; the columns of evaluate_frame) or
                      decisions (one line per record: subject, present and undetermined
                      hazard ids, grade values, error count; the fastest output)
  --threads N         evaluation threads; 0 (default) uses every core, at most 256
  --each PATH         evaluate once per element of the list at PATH (e.g. residents)
  --subject PATH      the fact that names the subject (default: id)
  --input FORMAT      json or jsonl: how to read FACTS
  --summary           after the batch, print counts per grade value, per hazard and
                      category by status, and of records with errors, to standard error
  --by PATH           with --summary: the counts per group of this fact (e.g.
                      region.district; declared or not), as `carerules report` shows them
  --summary-format F  with --summary: table, csv or json (the counts per group; without
                      --by, one group for the whole batch)
  --lang LANG         zh or en: table and csv write display labels (headers, statuses,
                      grade values) instead of codes; default: codes
  --import-root DIR   a directory imports may resolve into (repeatable)
  --limit NAME=N      change a limit (see `carerules --help`)
  -h, --help          show this help

Exit status: 0 when every record was evaluated (whatever it found), 1 when a record has
errors, the ruleset does not compile, the facts cannot be read or the output cannot be
written, 2 on a usage mistake.
)";

constexpr std::string_view explain_help =
    R"(Usage: carerules explain -r RULES [OPTIONS] FACTS --rule ID

Evaluate one record (FACTS: a JSON file, or - for standard input) and show how one
declaration was decided: its condition, each value it read, and the outcome. ID names a
hazard, item, deduction, let, score or grade.

Options:
  -r, --rules RULES   the ruleset file (required)
  --rule ID           the declaration to explain (required)
  --asof DATE         the evaluation date, YYYY-MM-DD (default: today, local time)
  --subject PATH      the fact that names the subject (default: id)
  --import-root DIR   a directory imports may resolve into (repeatable)
  --limit NAME=N      change a limit (see `carerules --help`)
  -h, --help          show this help

Exit status: 0 on success; 1 when the record has errors (listed on standard error), the
ruleset does not compile or the facts cannot be read; 2 on a usage mistake, including an
ID that names nothing in the ruleset.
)";

constexpr std::string_view schema_help =
    R"(Usage: carerules schema [OPTIONS] RULES

Print the inputs of a ruleset as a JSON Schema (draft 2020-12) document: a record that
validates is one the engine reads without a record error (dates also need a real calendar
date, which format "date" checks).

Options:
  --strict            refuse keys that no input declares (additionalProperties: false), so
                      that a misspelt key fails validation; the engine itself ignores them
  --import-root DIR   a directory imports may resolve into (repeatable)
  --limit NAME=N      change a limit (see `carerules --help`)
  -h, --help          show this help

Exit status: 0 on success, 1 when the ruleset does not compile, 2 on a usage mistake.
)";

constexpr std::string_view serve_help =
    R"(Usage: carerules serve --rulesets DIR [OPTIONS]

Serve every *.rules file directly in DIR (by its ruleset name) over HTTP/1.1, JSON in and out.

Routes:
  GET  /v1/rulesets                  [{"name","title","version","digest","file","files"}]
  GET  /v1/rulesets/NAME             one of those
  GET  /v1/rulesets/NAME/schema      the ruleset's inputs as a JSON Schema
  POST /v1/rulesets/NAME/evaluate?asof=D&each=PATH&subject=PATH
                                     body application/json: one record -> its report (with
                                     each: an array of reports); body application/x-ndjson:
                                     one record per line -> one report per line, in order
  POST /v1/reload                    recompile DIR and swap it in (SIGHUP does the same); if a
                                     file does not compile: 422 with its diagnostics, and the
                                     rulesets loaded before keep serving
  GET  /healthz                      {"status":"ok"} (503 while draining)
  GET  /metrics                      Prometheus text

Errors are {"error": "..."}: 400 bad body or query, 404 unknown route or ruleset, 405 wrong
method, 413 body over --max-body, 431 head over 64 KiB, 503 draining or
too many connections. SIGTERM (or SIGINT) stops accepting, lets the requests in flight
finish, and exits 0.

Options:
  --rulesets DIR        the directory of *.rules files (required; imports may resolve into it)
  --listen HOST:PORT    default 127.0.0.1:8181 (loopback only); port 0 picks a free port;
                        [::1]:8181 for IPv6. The chosen address is printed on standard output
  --threads N           threads answering requests and evaluating (default 0: every core)
  --max-body BYTES      largest request body, suffix K, M or G allowed (default 64M)
  --max-connections N   open connections at once; more are answered 503 and closed
                        (default 10000, or fewer when descriptors are short)
  --header-timeout S    seconds to receive a request's head, and to wait on an idle
                        keep-alive connection (default 10)
  --body-timeout S      seconds to receive a body and to send an answer (default 60); a
                        client slower than the timeouts is disconnected
  --drain-timeout S     after SIGTERM, the longest wait for requests in flight (default 30)
  --import-root DIR, --limit NAME=N, -h/--help as for every command

Exit status: 0 stopped by SIGTERM or SIGINT; 1 a ruleset does not compile or the address
cannot be bound; 2 usage.
)";

constexpr std::string_view report_help =
    R"(Usage: carerules report -r RULES [OPTIONS] FACTS --out DIR

Evaluate facts and write one HTML page per subject into DIR, plus DIR/index.html, the
summary: counts per grade value and per hazard, by group, with bar charts, and the list of
subjects with a hazard present. Pages are self-contained (no script, nothing fetched) and
print on A4. Prints the path of index.html. See docs/reports.md.

FACTS is a .json file (one record), any other file JSON lines, or - for standard input
(JSON lines unless --input json). Page files are named after the subject (see
docs/reports.md, "File names"); a record with errors still gets its page.

Options:
  -r, --rules RULES   the ruleset file (required)
  -o, --out DIR       the output directory (created when missing; pages are overwritten)
  --asof DATE         the evaluation date, YYYY-MM-DD (default: today, local time)
  --by PATH           group the summary by this fact (e.g. region.district), declared or not
  --name PATH         the fact that holds the subject's name (e.g. name), declared or not
  --lang LANG         zh (default) or en
  --subject PATH      the fact that names the subject (default: id)
  --threads N         evaluation threads; 0 (default) uses every core
  --input FORMAT      json or jsonl: how to read FACTS
  --import-root DIR   a directory imports may resolve into (repeatable)
  --limit NAME=N      change a limit (see `carerules --help`)
  -h, --help          show this help

Exit status: 0 when every record was evaluated, 1 when a record has errors (its page shows
them), the ruleset does not compile, the facts cannot be read or a page cannot be written,
2 on a usage mistake.
)";

int usage(std::string_view command, std::string_view message) {
  std::string text = "carerules";
  if (!command.empty()) {
    text += ' ';
    text.append(command);
  }
  text += ": error: ";
  text.append(message);
  text += "\nTry `carerules";
  if (!command.empty()) {
    text += ' ';
    text.append(command);
  }
  text += " --help`.\n";
  std::fputs(text.c_str(), stderr);
  return exit_usage;
}

int run(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) return usage("", "no command given");
  const std::string& first = args[0];
  if (first == "--version") {
    // --help wins over any other mistake on the line (docs/cli.md)
    for (std::size_t i = 1; i < args.size(); ++i)
      if (args[i] == "--help" || args[i] == "-h") return print_help(tool_help);
    if (args.size() > 1) return usage("", "--version takes no arguments");
    output out(stdout);
    out << "carerules " << version_string << "\n";
    return finish_output(out, exit_ok);
  }
  if (first == "--help" || first == "-h") return print_help(tool_help);
  if (first == "help") {
    if (args.size() == 1) return print_help(tool_help);
    auto text = help_text(args[1]);
    if (!text) return usage("", "unknown command `" + args[1] + "`");
    return print_help(*text);
  }
  std::vector<std::string> rest(args.begin() + 1, args.end());
  using command_fn = int (*)(const std::vector<std::string>&);
  command_fn fn = nullptr;
  if (first == "check")
    fn = run_check;
  else if (first == "test")
    fn = run_test;
  else if (first == "eval")
    fn = run_eval;
  else if (first == "explain")
    fn = run_explain;
  else if (first == "schema")
    fn = run_schema;
  else if (first == "ledger")
    fn = run_ledger;
  else if (first == "report")
    fn = run_report;
  else if (first == "serve")
    fn = run_serve;
  if (fn == nullptr) {
    if (!first.empty() && first[0] == '-') return usage("", "unknown option `" + first + "`");
    return usage("", "unknown command `" + first + "`");
  }
  try {
    return fn(rest);
  } catch (const usage_error& e) {
    return usage(first, e.what());
  }
}

}  // namespace

int print_help(std::string_view text) {
  output out(stdout);
  out << text;
  return finish_output(out, exit_ok);
}

std::optional<std::string_view> help_text(std::string_view command) {
  if (command.empty()) return tool_help;
  if (command == "check") return check_help;
  if (command == "test") return test_help;
  if (command == "eval") return eval_help;
  if (command == "explain") return explain_help;
  if (command == "schema") return schema_help;
  if (command == "ledger") return ledger_help;
  if (command == "report") return report_help;
  if (command == "serve") return serve_help;
  return std::nullopt;
}

}  // namespace carerules::cli

int main(int argc, char** argv) {
  try {
    return carerules::cli::run(argc, argv);
  } catch (const std::bad_alloc&) {
    carerules::cli::print_error("out of memory");
  } catch (const std::exception& e) {
    carerules::cli::print_error(e.what());
  }
  return carerules::cli::exit_failed;
}
