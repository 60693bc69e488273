// One compiled ruleset used from 8 threads at once, through evaluate, evaluate_many and
// evaluate_batch: every thread gets the answer one thread alone gets. Run under
// ThreadSanitizer by `make tsan` (and CI).
#include <gtest/gtest.h>

#include <carerules/carerules.hpp>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

namespace {

std::string source_dir() {
  const char* env = std::getenv("CARERULES_SOURCE_DIR");
  return env != nullptr ? env : CARERULES_SOURCE_DIR_DEFAULT;
}

std::vector<std::string> records() {
  std::vector<std::string> out;
  const char* appraisals[] = {"A", "B", "C", "D", "unappraised"};
  for (int i = 0; i < 40; ++i)
    out.push_back(R"({"id": "S)" + std::to_string(i) +
                  R"(", "facility": {"building": {"appraisal": ")" + appraisals[i % 5] +
                  R"("}, "beds": )" + std::to_string(20 + i * 7) + "}}");
  return out;
}

TEST(threads, one_ruleset_many_threads_same_answers) {
  auto compiled = carerules::compile_file(source_dir() + "/rulesets/institution.rules");
  ASSERT_TRUE(compiled.ok()) << compiled.rendered();
  const carerules::ruleset& rs = compiled.value();
  const carerules::eval_options opts{.asof = "2024-06-01", .threads = 2};
  const auto input = records();
  std::vector<std::string> expected;
  for (const auto& r : input) expected.push_back(rs.evaluate(r, opts).to_json());

  std::vector<int> mismatches(8, 0);
  std::vector<std::thread> pool;
  for (int t = 0; t < 8; ++t)
    pool.emplace_back([&, t] {
      for (std::size_t i = 0; i < input.size(); ++i)
        if (rs.evaluate(input[i], opts).to_json() != expected[i]) ++mismatches[t];
      auto many = rs.evaluate_many(input, opts);
      for (std::size_t i = 0; i < many.size(); ++i)
        if (many[i].to_json() != expected[i]) ++mismatches[t];
      std::vector<carerules::batch_record> batch;
      for (std::size_t i = 0; i < input.size(); ++i) batch.push_back({input[i], i + 1, 0, false});
      auto results = rs.evaluate_batch(batch, opts, true);
      for (std::size_t i = 0; i < results.size(); ++i)
        if (results[i].json.at(0) != expected[i]) ++mismatches[t];
    });
  for (auto& th : pool) th.join();
  for (int t = 0; t < 8; ++t) EXPECT_EQ(mismatches[t], 0) << "thread " << t;
}

}  // namespace
