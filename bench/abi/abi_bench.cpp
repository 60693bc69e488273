// One record of the shipped bundle, evaluated to report JSON through the C++ API and through
// the C ABI, in one process: µs per record for each. Usage: abi_bench RULES FACTS N
#include <carerules/c_api.h>

#include <carerules/carerules.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

int main(int argc, char** argv) {
  if (argc < 4) return 2;
  std::ifstream in(argv[2]);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string facts = ss.str();
  const int n = std::atoi(argv[3]);
  auto compiled = carerules::compile_file(argv[1]);
  if (!compiled.ok()) return 1;
  const carerules::ruleset& rs = compiled.value();
  cr_ruleset* crs = nullptr;
  char* diags = nullptr;
  if (cr_compile_file(argv[1], nullptr, &crs, &diags) != CR_OK) return 1;
  cr_string_free(diags);
  using clock = std::chrono::steady_clock;
  std::size_t sink = 0;
  for (int round = 0; round < 2; ++round) {  // the first round warms up
    auto t0 = clock::now();
    for (int i = 0; i < n; ++i) sink += rs.evaluate(facts, {.asof = "2024-06-01"}).to_json().size();
    auto t1 = clock::now();
    for (int i = 0; i < n; ++i) {
      char* report = nullptr;
      cr_evaluate(crs, facts.data(), facts.size(), "{\"asof\": \"2024-06-01\"}", &report);
      sink += std::char_traits<char>::length(report);
      cr_string_free(report);
    }
    auto t2 = clock::now();
    if (round == 1) {
      std::printf("cpp_api_us %.2f\n",
                  std::chrono::duration<double, std::micro>(t1 - t0).count() / n);
      std::printf("c_abi_us %.2f\n",
                  std::chrono::duration<double, std::micro>(t2 - t1).count() / n);
    }
  }
  cr_ruleset_free(crs);
  return sink == 0;
}
