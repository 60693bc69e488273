// The CLI's chunked reading (for_each_chunk, and for_each_chunk_on_workers with several
// threads): records delivered in input order with the work of the next chunk overlapping (at
// most two chunks held; on workers, one per worker), a worker's exception reaching the caller,
// a failed output taking no more, a pipe's bursts answered without waiting for more input, and
// no hang when the run ends while the input is quiet.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <functional>
#include <future>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "input.hpp"

namespace carerules::cli {
namespace {

// A temporary file holding `n` JSON lines {"n":0} ... (and a blank line now and then).
std::FILE* lines_file(int n) {
  std::FILE* f = std::tmpfile();
  for (int i = 0; i < n; ++i) {
    std::fprintf(f, "{\"n\":%d}\n", i);
    if (i % 97 == 0) std::fputs("\n", f);
  }
  std::rewind(f);
  return f;
}

int number(const batch_record& r) { return std::stoi(r.text.substr(5)); }

TEST(CliChunks, DeliveredInOrderEachWithItsOwnResultsOneChunkInWorkAtATime) {
  for (const bool pipelined : {false, true}) {
    std::FILE* f = lines_file(2500);
    chunked_input how;
    how.records = 100;
    how.pipelined = pipelined;
    std::vector<int> seen;
    std::vector<int> results[2];
    std::atomic<int> in_work{0}, most_held{0};
    const std::string error = for_each_chunk(
        f, 1 << 20, how,
        [&](const std::vector<batch_record>& chunk, int slot) {
          const int held = ++in_work;
          most_held = std::max(most_held.load(), held);
          results[slot].clear();
          for (const auto& r : chunk) results[slot].push_back(number(r));
          std::this_thread::sleep_for(std::chrono::microseconds(200));
          --in_work;
        },
        [&](const std::vector<batch_record>& chunk, int slot) {
          ASSERT_EQ(results[slot].size(), chunk.size());
          for (std::size_t i = 0; i < chunk.size(); ++i) {
            EXPECT_EQ(results[slot][i], number(chunk[i]));  // this chunk's own results
            seen.push_back(results[slot][i]);
          }
        },
        [] { return false; });
    std::fclose(f);
    EXPECT_TRUE(error.empty()) << error;
    ASSERT_EQ(seen.size(), 2500u) << pipelined;
    for (int i = 0; i < 2500; ++i) ASSERT_EQ(seen[static_cast<std::size_t>(i)], i);
    EXPECT_EQ(most_held.load(), 1);  // one chunk in work at a time
  }
}

TEST(CliChunks, AWorkersExceptionReachesTheCaller) {
  std::FILE* f = lines_file(1000);
  chunked_input how;
  how.records = 100;
  how.pipelined = true;
  int delivered = 0;
  EXPECT_THROW(for_each_chunk(
                   f, 1 << 20, how,
                   [&](const std::vector<batch_record>& chunk, int) {
                     if (number(chunk.front()) == 300) throw std::runtime_error("bad chunk");
                   },
                   [&](const std::vector<batch_record>& chunk, int) { delivered += chunk.size(); },
                   [] { return false; }),
               std::runtime_error);
  std::fclose(f);
  EXPECT_EQ(delivered, 300);  // the chunks before it, and none after
}

TEST(CliChunks, AFailedOutputTakesNoMore) {
  std::FILE* f = lines_file(1000);
  chunked_input how;
  how.records = 100;
  how.pipelined = true;
  int delivered = 0, deliveries = 0;
  for_each_chunk(
      f, 1 << 20, how, [](const std::vector<batch_record>&, int) {},
      [&](const std::vector<batch_record>& chunk, int) {
        delivered += chunk.size();
        ++deliveries;
      },
      [&] { return deliveries >= 2; });  // the output fails after its second chunk
  std::fclose(f);
  EXPECT_EQ(delivered, 200);
}

using chunk_fn = std::function<void(const std::vector<batch_record>&, int)>;

// A producer writes bursts into a pipe and waits for each burst's answers before the next:
// every burst must come back whole though the pipe stays open (a full chunk among them).
// `read` runs one of the chunked readers on the pipe, delivering to the function it is given.
void expect_each_burst_answered(const std::function<void(std::FILE*, const chunk_fn&)>& read) {
  for (const int burst : {99, 100, 250}) {
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    std::FILE* in = ::fdopen(fds[0], "r");
    std::atomic<int> answered{0};
    std::atomic<bool> stalled{false};
    std::thread producer([&, w = fds[1]] {
      for (int round = 0; round < 3; ++round) {
        std::string text;
        for (int i = 0; i < burst; ++i)
          text += "{\"n\":" + std::to_string(round * burst + i) + "}\n";
        ASSERT_EQ(::write(w, text.data(), text.size()), static_cast<ssize_t>(text.size()));
        const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
        while (answered < (round + 1) * burst) {
          if (std::chrono::steady_clock::now() > until) {
            stalled = true;
            break;
          }
          std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        if (stalled) break;
      }
      ::close(w);
    });
    read(in, [&](const std::vector<batch_record>& chunk, int) {
      answered += static_cast<int>(chunk.size());
    });
    producer.join();
    std::fclose(in);
    EXPECT_FALSE(stalled) << "a burst of " << burst << " waited for more input";
    EXPECT_EQ(answered.load(), 3 * burst);
  }
}

TEST(CliChunks, APipesBurstIsAnsweredBeforeMoreInput) {
  expect_each_burst_answered([](std::FILE* in, const chunk_fn& deliver) {
    chunked_input how;
    how.records = 100;
    how.pipelined = true;
    for_each_chunk(
        in, 1 << 20, how, [](const std::vector<batch_record>&, int) {}, deliver,
        [] { return false; });
  });
}

// for_each_chunk_on_workers: each worker reads, works and delivers chunks of its own.
TEST(CliChunks, OnWorkersDeliveredInOrderEachWithItsOwnResultsDeliveriesNeverOverlap) {
  for (const unsigned workers : {1u, 2u, 3u}) {
    std::FILE* f = lines_file(2500);
    chunked_input how;
    how.records = 100;
    std::vector<int> seen;
    std::vector<std::vector<int>> results(2 * workers);
    std::atomic<int> in_work{0}, most_held{0}, delivering{0};
    std::atomic<bool> overlapped{false};
    const std::string error = for_each_chunk_on_workers(
        f, 1 << 20, how, workers,
        [&](const std::vector<batch_record>& chunk, int slot) {
          const int held = ++in_work;
          most_held = std::max(most_held.load(), held);
          auto& mine = results[static_cast<std::size_t>(slot)];
          mine.clear();
          for (const auto& r : chunk) mine.push_back(number(r));
          std::this_thread::sleep_for(std::chrono::microseconds(200));
          --in_work;
        },
        [&](const std::vector<batch_record>& chunk, int slot) {
          if (++delivering > 1) overlapped = true;
          const auto& mine = results[static_cast<std::size_t>(slot)];
          EXPECT_EQ(mine.size(), chunk.size());
          for (std::size_t i = 0; i < chunk.size() && i < mine.size(); ++i) {
            EXPECT_EQ(mine[i], number(chunk[i]));  // this chunk's own results
            seen.push_back(mine[i]);
          }
          --delivering;
        },
        [] { return false; });
    std::fclose(f);
    EXPECT_TRUE(error.empty()) << error;
    EXPECT_FALSE(overlapped.load());
    ASSERT_EQ(seen.size(), 2500u) << workers;
    for (int i = 0; i < 2500; ++i) ASSERT_EQ(seen[static_cast<std::size_t>(i)], i);
    EXPECT_LE(most_held.load(), static_cast<int>(workers));
    if (workers == 1) EXPECT_EQ(most_held.load(), 1);
  }
}

// A worker whose chunk is worked before its turn has come does not wait: the chunk waits,
// and the worker reads and works the next one, which the old one-slot design could not.
TEST(CliChunks, OnWorkersAChunkWorkedEarlyWaitsButItsWorkerGoesOn) {
  std::FILE* f = lines_file(1000);
  chunked_input how;
  how.records = 100;
  std::mutex m;
  std::vector<std::string> events;  // "work N" as each chunk's work starts, "deliver N"
  auto note = [&](const char* what, const std::vector<batch_record>& chunk) {
    std::lock_guard lock(m);
    events.push_back(std::string(what) + " " + std::to_string(number(chunk.front()) / 100));
  };
  std::vector<int> delivered_chunks;
  const std::string error = for_each_chunk_on_workers(
      f, 1 << 20, how, 2,
      [&](const std::vector<batch_record>& chunk, int) {
        note("work", chunk);
        // The first chunk takes long: the other worker finishes its own meanwhile.
        if (number(chunk.front()) == 0) std::this_thread::sleep_for(std::chrono::milliseconds(200));
      },
      [&](const std::vector<batch_record>& chunk, int) {
        note("deliver", chunk);
        delivered_chunks.push_back(number(chunk.front()) / 100);
      },
      [] { return false; });
  std::fclose(f);
  EXPECT_TRUE(error.empty()) << error;
  ASSERT_EQ(delivered_chunks.size(), 10u);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(delivered_chunks[static_cast<std::size_t>(i)], i);
  const auto at = [&](const std::string& e) {
    return std::find(events.begin(), events.end(), e) - events.begin();
  };
  // Chunk 1 was worked and waited; its worker took chunk 2 before chunk 0 was delivered.
  EXPECT_LT(at("work 2"), at("deliver 0"));
}

TEST(CliChunks, OnWorkersAnExceptionReachesTheCallerAfterTheChunksBeforeIt) {
  for (const bool in_delivery : {false, true}) {
    std::FILE* f = lines_file(1000);
    chunked_input how;
    how.records = 100;
    int delivered = 0;
    EXPECT_THROW(for_each_chunk_on_workers(
                     f, 1 << 20, how, 2,
                     [&](const std::vector<batch_record>& chunk, int) {
                       if (!in_delivery && number(chunk.front()) == 300)
                         throw std::runtime_error("bad chunk");
                     },
                     [&](const std::vector<batch_record>& chunk, int) {
                       if (in_delivery && number(chunk.front()) == 300)
                         throw std::runtime_error("output failed");
                       delivered += static_cast<int>(chunk.size());
                     },
                     [] { return false; }),
                 std::runtime_error);
    std::fclose(f);
    EXPECT_EQ(delivered, 300) << in_delivery;  // the chunks before it, and none after
  }
}

TEST(CliChunks, OnWorkersAFailedOutputTakesNoMore) {
  std::FILE* f = lines_file(1000);
  chunked_input how;
  how.records = 100;
  int delivered = 0, deliveries = 0;
  for_each_chunk_on_workers(
      f, 1 << 20, how, 2, [](const std::vector<batch_record>&, int) {},
      [&](const std::vector<batch_record>& chunk, int) {
        delivered += static_cast<int>(chunk.size());
        ++deliveries;
      },
      [&] { return deliveries >= 2; });  // the output fails after its second chunk
  std::fclose(f);
  EXPECT_EQ(delivered, 200);
}

TEST(CliChunks, OnWorkersAPipesBurstIsAnsweredBeforeMoreInput) {
  expect_each_burst_answered([](std::FILE* in, const chunk_fn& deliver) {
    chunked_input how;
    how.records = 100;
    for_each_chunk_on_workers(
        in, 1 << 20, how, 2, [](const std::vector<batch_record>&, int) {}, deliver,
        [] { return false; });
  });
}

// The run ends (an output that fails, a work that throws) while the input is quiet but open,
// as `tail -f` leaves it: the call returns, no worker being left waiting for more input.
TEST(CliChunks, OnWorkersEndsWhileTheInputIsQuietButOpen) {
  for (const bool work_throws : {false, true}) {
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    std::FILE* in = ::fdopen(fds[0], "r");
    std::atomic<int> answered{0}, chunks{0}, deliveries{0};
    std::atomic<bool> quit{false};
    std::thread producer([&, w = fds[1]] {
      for (int burst = 0; burst < 2 && !quit; ++burst) {
        std::string text;
        for (int i = 0; i < 10; ++i) text += "{\"n\":" + std::to_string(i) + "}\n";
        ASSERT_EQ(::write(w, text.data(), text.size()), static_cast<ssize_t>(text.size()));
        while (answered < (burst + 1) * 10 && !quit)
          std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
      while (!quit) std::this_thread::sleep_for(std::chrono::milliseconds(1));  // quiet, open
      ::close(w);
    });
    chunked_input how;
    how.records = 100;
    auto run = std::async(std::launch::async, [&] {
      try {
        for_each_chunk_on_workers(
            in, 1 << 20, how, 3,
            [&](const std::vector<batch_record>&, int) {
              std::this_thread::sleep_for(std::chrono::milliseconds(20));
              if (work_throws && ++chunks == 2) {
                answered += 10;
                throw std::runtime_error("bad chunk");
              }
            },
            [&](const std::vector<batch_record>& chunk, int) {
              ++deliveries;
              answered += static_cast<int>(chunk.size());
            },
            [&] { return !work_throws && deliveries >= 1; });  // the output fails after one
      } catch (const std::runtime_error&) {
      }
    });
    const bool returned = run.wait_for(std::chrono::seconds(20)) == std::future_status::ready;
    quit = true;  // closes the pipe: a worker still reading gets its end
    run.wait();
    producer.join();
    std::fclose(in);
    EXPECT_TRUE(returned) << (work_throws ? "a work threw" : "the output failed");
    EXPECT_EQ(deliveries.load(), 1);
  }
}

}  // namespace
}  // namespace carerules::cli
