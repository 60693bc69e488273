// `carerules explain` and `carerules schema`.
#include "carerules/ruleset.hpp"
#include "cli.hpp"
#include "input.hpp"

namespace carerules::cli {
namespace {

// Compiles RULES; on failure prints the diagnostics and returns nullopt.
std::optional<compile_result> compile_or_report(const std::string& rules,
                                                const compile_options& opts) {
  compile_result r = compile_file(rules, opts);
  if (!r.ok()) {
    std::string text = r.rendered();
    if (text.empty()) text = rules + ": error: the ruleset does not compile\n";
    std::fputs(text.c_str(), stderr);
    return std::nullopt;
  }
  return r;
}

}  // namespace

int run_explain(const std::vector<std::string>& args) {
  parsed_args a = parse_args(
      args, {{"rules", 'r', true}, {"rule", 0, true}, {"asof", 0, true}, {"subject", 0, true}});
  if (a.help) return print_help(*help_text("explain"));
  const compile_options copts = common_compile_options(a);
  const auto rules = a.last("rules");
  if (!rules || rules->empty()) throw usage_error("missing -r RULES (the ruleset file)");
  const auto rule = a.last("rule");
  if (!rule || rule->empty()) throw usage_error("missing --rule ID");
  if (a.positional.size() != 1)
    throw usage_error("expected one FACTS argument (a JSON file, or - for standard input)");
  eval_options eo;
  eo.asof = resolve_asof(a);
  if (auto subject = path_option(a, "subject")) eo.subject = *subject;
  const std::string& facts_path = a.positional[0];

  auto compiled = compile_or_report(*rules, copts);
  if (!compiled) return exit_failed;
  const ruleset& rs = compiled->value();

  input_file in;
  if (std::string error; !in.open(facts_path, error)) {
    print_error(error);
    return exit_failed;
  }
  whole_read w = read_whole(in.get(), copts.limits.line_bytes);
  if (!w.error.empty()) {
    print_error("cannot read `" + facts_path + "`: " + w.error);
    return exit_failed;
  }
  if (w.too_large) {
    print_error("`" + facts_path + "`: record of " + (w.unended ? "more than " : "") +
                std::to_string(w.size) + " bytes exceeds the limit line_bytes (" +
                std::to_string(copts.limits.line_bytes) + ")");
    return exit_failed;
  }
  auto text = rs.explain(w.text, *rule, eo);
  if (!text)
    throw usage_error("no hazard, item, deduction, let, score or grade is named `" + *rule +
                      "` in `" + *rules + "`");
  output out(stdout);
  out << *text;
  if (!text->empty() && text->back() != '\n') out << "\n";
  int code = exit_ok;
  // The record's own errors go to standard error, so a script sees why an outcome is
  // undetermined; they make the exit status 1 as in `eval`.
  report r = rs.evaluate(w.text, eo);
  for (const auto& e : r.errors) {
    std::string line = "carerules: record error";
    if (e.rule) line += " in " + *e.rule;
    if (e.path) line += " at \"" + *e.path + "\"";
    line += ": " + e.message + "\n";
    std::fputs(line.c_str(), stderr);
    code = exit_failed;
  }
  return finish_output(out, code);
}

int run_schema(const std::vector<std::string>& args) {
  parsed_args a = parse_args(args, {{"strict", 0, false}});
  if (a.help) return print_help(*help_text("schema"));
  const compile_options copts = common_compile_options(a);
  if (a.positional.size() != 1) throw usage_error("expected one RULES argument");
  auto compiled = compile_or_report(a.positional[0], copts);
  if (!compiled) return exit_failed;
  output out(stdout);
  std::string schema = compiled->value().json_schema(a.has("strict"));
  out << schema;
  if (schema.empty() || schema.back() != '\n') out << "\n";
  return finish_output(out, exit_ok);
}

}  // namespace carerules::cli
