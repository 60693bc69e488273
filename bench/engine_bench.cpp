// Compile, bind and evaluate measured separately, on the shipped institution bundle and the
// sample data (examples/data/institutions.jsonl). Run:
//   cmake -S . -B build -DCARERULES_BUILD_BENCH=ON && cmake --build build -j2
//   build/bench/engine_bench
#include <benchmark/benchmark.h>

#include <carerules/carerules.hpp>
#include <fstream>
#include <string>
#include <vector>

namespace {

const std::string root = CARERULES_SOURCE_DIR;

std::vector<std::string> sample_records() {
  std::ifstream in(root + "/examples/data/institutions.jsonl");
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.push_back(line);
  return out;
}

const carerules::ruleset& bundle() {
  static auto compiled = carerules::compile_file(root + "/rulesets/institution.rules");
  if (!compiled.ok()) throw std::runtime_error(compiled.rendered());
  return compiled.value();
}

void BM_compile(benchmark::State& state) {
  for (auto _ : state) {
    auto c = carerules::compile_file(root + "/rulesets/institution.rules");
    benchmark::DoNotOptimize(c.ok());
  }
}
BENCHMARK(BM_compile)->Unit(benchmark::kMillisecond);

void BM_bind(benchmark::State& state) {
  const auto& rs = bundle();
  auto records = sample_records();
  std::size_t i = 0, bytes = 0;
  for (auto _ : state) {
    auto b = rs.bind_json(records[i % records.size()]);
    bytes += records[i % records.size()].size();
    benchmark::DoNotOptimize(b);
    ++i;
  }
  state.SetItemsProcessed(static_cast<int64_t>(i));
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}
BENCHMARK(BM_bind);

void BM_evaluate_bound(benchmark::State& state) {
  const auto& rs = bundle();
  auto records = sample_records();
  std::vector<carerules::bound_facts> bound;
  for (const auto& r : records) bound.push_back(rs.bind_json(r));
  std::size_t i = 0;
  for (auto _ : state) {
    auto rep = rs.evaluate(bound[i % bound.size()], {.asof = "2024-06-01"});
    benchmark::DoNotOptimize(rep.hazards.data());
    ++i;
  }
  state.SetItemsProcessed(static_cast<int64_t>(i));
}
BENCHMARK(BM_evaluate_bound);

void BM_evaluate_to_json(benchmark::State& state) {
  const auto& rs = bundle();
  auto records = sample_records();
  std::size_t i = 0;
  for (auto _ : state) {
    auto text = rs.evaluate(records[i % records.size()], {.asof = "2024-06-01"}).to_json();
    benchmark::DoNotOptimize(text.data());
    ++i;
  }
  state.SetItemsProcessed(static_cast<int64_t>(i));
}
BENCHMARK(BM_evaluate_to_json);

void BM_evaluate_many(benchmark::State& state) {
  const auto& rs = bundle();
  auto records = sample_records();
  for (auto _ : state) {
    auto reps = rs.evaluate_many(
        records, {.asof = "2024-06-01", .threads = static_cast<unsigned>(state.range(0))});
    benchmark::DoNotOptimize(reps.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * records.size()));
}
BENCHMARK(BM_evaluate_many)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

// A hazard whose aggregate reads every element of a list: the evidence lists each element
// once, so the time grows linearly with the list (state.range(0) elements).
void BM_evaluate_large_list(benchmark::State& state) {
  auto compiled = carerules::compile_source(R"(
ruleset big { title "t" version "1"
  input { xs : list<int> }
  hazard H1 "h" { cite "c" when count(x in xs where x > 0) > 5 }
}
)");
  if (!compiled.ok()) throw std::runtime_error(compiled.rendered());
  std::string facts = "{\"xs\":[";
  for (int64_t i = 0; i < state.range(0); ++i) facts += i ? ",1" : "1";
  facts += "]}";
  auto bound = compiled.value().bind_json(facts);
  for (auto _ : state) {
    auto rep = compiled.value().evaluate(bound, {.asof = "2024-06-01"});
    benchmark::DoNotOptimize(rep.hazards.data());
  }
  state.SetComplexityN(state.range(0));
}
BENCHMARK(BM_evaluate_large_list)
    ->RangeMultiplier(4)
    ->Range(1 << 12, 1 << 18)
    ->Unit(benchmark::kMillisecond)
    ->Complexity();

}  // namespace

BENCHMARK_MAIN();
