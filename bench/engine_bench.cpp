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

// Every shipped ruleset file, compiled with its imports (state.range(0) picks the file).
const std::vector<std::string> shipped = {"institution.rules",
                                          "hazards/mca_2023.rules",
                                          "hazards/local_example.rules",
                                          "risk/four_color.rules",
                                          "levels/gbt37276.rules",
                                          "capability/gbt42195.rules",
                                          "capability/gb38600_screening.rules",
                                          "regional/sanming_2017.rules"};

void BM_compile(benchmark::State& state) {
  const std::string file = shipped[static_cast<std::size_t>(state.range(0))];
  carerules::compile_options o;
  o.import_roots = {root + "/rulesets"};
  for (auto _ : state) {
    auto c = carerules::compile_file(root + "/rulesets/" + file, o);
    if (!c.ok()) state.SkipWithError(c.rendered().c_str());
    benchmark::DoNotOptimize(c.ok());
  }
  state.SetLabel(file);
}
BENCHMARK(BM_compile)->DenseRange(0, 7)->Unit(benchmark::kMillisecond);

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

// Decisions only (no trace, no report) on facts bound beforehand.
void BM_decide_bound(benchmark::State& state) {
  const auto& rs = bundle();
  auto records = sample_records();
  std::vector<carerules::bound_facts> bound;
  for (const auto& r : records) bound.push_back(rs.bind_json(r));
  std::size_t i = 0;
  for (auto _ : state) {
    auto d = rs.decide(bound[i % bound.size()], {.asof = "2024-06-01"});
    benchmark::DoNotOptimize(d.hazards.data());
    ++i;
  }
  state.SetItemsProcessed(static_cast<int64_t>(i));
}
BENCHMARK(BM_decide_bound);

// JSON text in, the report's JSON out, through the fast writer (no report object).
void BM_evaluate_json(benchmark::State& state) {
  const auto& rs = bundle();
  auto records = sample_records();
  std::size_t i = 0;
  for (auto _ : state) {
    auto text = rs.evaluate_json(records[i % records.size()], {.asof = "2024-06-01"});
    benchmark::DoNotOptimize(text.data());
    ++i;
  }
  state.SetItemsProcessed(static_cast<int64_t>(i));
}
BENCHMARK(BM_evaluate_json);

// A batch of JSON lines to text on 1 or 2 threads.
void BM_evaluate_text(benchmark::State& state) {
  const auto& rs = bundle();
  std::vector<carerules::batch_record> batch;
  for (auto& r : sample_records()) batch.push_back({std::move(r), 0, 0, false});
  const auto format =
      state.range(1) ? carerules::line_format::decisions : carerules::line_format::report;
  for (auto _ : state) {
    auto text = rs.evaluate_text(
        batch, {.asof = "2024-06-01", .threads = static_cast<unsigned>(state.range(0))}, format);
    benchmark::DoNotOptimize(text.text.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * batch.size()));
}
BENCHMARK(BM_evaluate_text)
    ->Args({1, 0})
    ->Args({2, 0})
    ->Args({1, 1})
    ->Args({2, 1})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

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
