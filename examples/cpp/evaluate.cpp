// The README's C++ example: compile the shipped institution bundle, evaluate one facts file,
// print the report and say why each present hazard was found.
//
//   build/examples/evaluate rulesets/institution.rules
//   examples/data/cases/case2_dangerous_building.json
#include <carerules/carerules.hpp>
#include <fstream>
#include <iostream>
#include <sstream>

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: evaluate RULES FACTS.json\n";
    return 2;
  }
  auto compiled = carerules::compile_file(argv[1]);
  if (!compiled.ok()) {
    std::cerr << compiled.rendered();
    return 1;
  }
  std::ifstream in(argv[2], std::ios::binary);
  if (!in) {
    std::cerr << "cannot read " << argv[2] << "\n";
    return 1;
  }
  std::stringstream facts;
  facts << in.rdbuf();
  const carerules::ruleset& rs = compiled.value();
  carerules::report r = rs.evaluate(facts.str(), {.asof = "2024-06-01"});
  for (const auto& h : r.hazards) {
    if (h.status != carerules::hazard_status::present) continue;
    std::cout << h.id << " " << h.title << " (" << h.cite.value_or("no cite") << ")\n";
    for (const auto& [path, value] : h.evidence)
      std::cout << "  " << path << " = " << value.to_json() << "\n";
    std::cout << "  rectify: " << h.rectify.action << "\n";
  }
  for (const auto& g : r.grades) std::cout << g.name << ": " << g.value() << "\n";
  std::cout << r.to_json() << "\n";
  return r.errors.empty() ? 0 : 1;
}
