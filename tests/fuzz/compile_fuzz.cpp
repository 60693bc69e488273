// Any bytes as a ruleset: compiling must give diagnostics or a ruleset, never a crash; a
// ruleset that compiles must evaluate an empty record and run its tests.
#include <carerules/carerules.hpp>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  carerules::compile_options o;
  o.name = "fuzz.rules";
  o.limits.steps = 100000;
  auto r = carerules::compile_source(text, o);
  (void)r.rendered();
  if (r.ok()) {
    (void)r.value().evaluate("{}", {.asof = "2024-06-01"}).to_json();
    (void)r.value().run_tests();
    (void)r.value().json_schema();
  }
  return 0;
}
