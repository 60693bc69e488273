// Compiles a ruleset from text, evaluates one record and checks the outcome.
#include <carerules/carerules.hpp>
#include <iostream>

int main() {
  const char* rules = R"(
ruleset consumer_check {
  title "consumer"
  version "1"
  input { facility.beds : int }
  hazard H1 "too many beds" {
    cite "example"
    when facility.beds > 100
  }
}
)";
  auto compiled = carerules::compile_source(rules, {.name = "consumer.rules"});
  if (!compiled.ok()) {
    std::cerr << compiled.rendered();
    return 1;
  }
  auto report = compiled.value().evaluate(R"({"facility": {"beds": 150}})", {.asof = "2024-06-01"});
  if (report.hazards.size() != 1 || report.hazards[0].status != carerules::hazard_status::present) {
    std::cerr << "unexpected report: " << report.to_json() << "\n";
    return 1;
  }
  std::cout << report.to_json() << "\n";
  return 0;
}
