// The fuzzer's bytes choose a small ruleset and records (the differential test's generator,
// driven by bytes instead of a seed); the production engine and the reference evaluator
// (tests/reference) must agree on every outcome, and the fast paths (report JSON written
// without a report object, decisions without traces) must say what the report says.
#include <cstdio>
#include <cstdlib>

#include "../reference/differential.hpp"
#include "../reference/reference.cpp"  // NOLINT: the reference is a test-only library

namespace diff = carerules::differential;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  diff::generator g(std::string_view(reinterpret_cast<const char*>(data), size));
  const std::string text = g.ruleset();
  const auto compiled = carerules::compile_source(text);
  if (!compiled.ok()) {
    // The generator writes only valid rulesets: a refusal is the checker's bug or the
    // generator's, and either is a finding.
    std::fprintf(stderr, "generated ruleset refused:\n%s\n%s", text.c_str(),
                 compiled.rendered().c_str());
    std::abort();
  }
  const diff::ref::loaded_ruleset loaded = diff::ref::load_text(text);
  if (!loaded.error.empty()) {
    std::fprintf(stderr, "reference refused:\n%s\n%s\n", text.c_str(), loaded.error.c_str());
    std::abort();
  }
  diff::tally t;
  for (int k = 0; k < 3; ++k) {
    const std::string facts = g.record();
    const std::int64_t asof = g.asof();
    diff::compare_record(compiled.value(), loaded, facts, asof, "record " + std::to_string(k), t);
    if (!t.disagreements.empty()) {
      std::fprintf(stderr, "%s\n%s\n", text.c_str(), facts.c_str());
      for (const auto& d : t.disagreements) std::fprintf(stderr, "%s\n", d.c_str());
      std::abort();
    }
  }
  return 0;
}
