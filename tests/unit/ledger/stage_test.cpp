// A round's subjects on their way into the SQLite store: packed by prepare(), held in memory
// or set aside in sorted runs, and stored in subject order whatever order they came in.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "carerules/ledger.hpp"
#include "ledger/hash.hpp"
#include "ledger/packed.hpp"
#include "ledger/store.hpp"
#include "util/sha256.hpp"

namespace carerules::ledger {
namespace {

namespace fs = std::filesystem;

observation obs(const std::string& subject, const std::string& item, const std::string& status) {
  observation o;
  o.subject = subject;
  o.item = item;
  o.status = status;
  o.title = "title of " + item;
  o.cite = "clause of " + item;
  o.action = "action of " + item;
  if (status == "present") o.due = "2024-04-10";
  o.responsible = "director of " + subject;
  return o;
}

// Three items; subject i has item (i % 3) present, and every seventh subject has only two
// items (so its absent rows are stored, not implied).
std::vector<observation> subject_observations(int i) {
  const std::string s = "S" + std::to_string(i);
  std::vector<observation> out;
  for (int k = 0; k < 3; ++k) {
    if (i % 7 == 0 && k == 2) continue;
    out.push_back(obs(s, "F" + std::to_string(k), k == i % 3 ? "present" : "absent"));
  }
  if (i == 0) out.front().facts = R"({"id":"S0"})";
  return out;
}

struct temp_db {
  fs::path path = fs::temp_directory_path() /
                  ("carerules_stage_" + std::to_string(std::random_device{}()) + ".db");
  ~temp_db() {
    for (const char* end : {"", "-wal", "-shm"}) fs::remove(path.string() + end);
  }
};

// Every stored row the store gives back, as text, in its order.
std::vector<std::string> rows_of(const store& s) {
  std::vector<std::string> out;
  s.observations(std::nullopt, [&](store::row&& r) {
    out.push_back(r.round + " " + r.obs.subject + " " + r.obs.item + " " + r.obs.status + " " +
                  r.obs.title + " " + r.obs.due.value_or("-") + " " +
                  r.obs.responsible.value_or("-"));
  });
  return out;
}

std::vector<std::string> record_shuffled(std::size_t run_bytes, std::string* hash = nullptr,
                                         int subjects = 500) {
  temp_db db;
  auto s = open_sqlite(db.path.string(), true, run_bytes);
  std::vector<int> order(static_cast<std::size_t>(subjects));
  for (int i = 0; i < subjects; ++i) order[static_cast<std::size_t>(i)] = i;
  std::shuffle(order.begin(), order.end(), std::mt19937(7));
  auto stage = s->begin_round();
  round_hasher hasher;
  for (const int i : order) {
    const auto p = book::round_writer::prepare(subject_observations(i));
    hasher.add(p.digest);
    stage->add(p.packed);
  }
  const round_info r{"R1", "2024-01-10", "demo", "1", "d"};
  if (hash) *hash = hasher.finish(r);
  EXPECT_EQ(stage->commit(r, hasher.finish(r)), store::stage::outcome::recorded);
  stage.reset();
  return rows_of(*s);
}

// Records `subjects` shuffled twice, with runs set aside past `run_bytes` or not, and checks
// that both give every subject's rows, the same, in subject order, under the same hash.
std::vector<std::string> same_either_way(std::size_t run_bytes, int subjects) {
  std::string hash_memory, hash_runs;
  const auto memory = record_shuffled(default_run_bytes, &hash_memory, subjects);
  const auto runs = record_shuffled(run_bytes, &hash_runs, subjects);
  EXPECT_EQ(hash_memory, hash_runs);
  // One row per subject with a present item: all but those of the seventh subjects whose
  // present item would have been the one they lack.
  std::size_t with_finding = 0;
  for (int i = 0; i < subjects; ++i) with_finding += !(i % 7 == 0 && i % 3 == 2);
  EXPECT_EQ(memory.size(), with_finding);
  EXPECT_EQ(memory, runs);
  EXPECT_TRUE(std::is_sorted(memory.begin(), memory.end(), [](const auto& a, const auto& b) {
    auto key = [](const std::string& row) { return row.substr(3, row.find(' ', 3) - 3); };
    return key(a) < key(b);
  }));
  return memory;
}

TEST(LedgerStage, SortedRunsSetAsideGiveTheSameRowsAsOneRunInMemory) {
  const auto rows = same_either_way(512, 500);  // a run every few subjects
  EXPECT_NE(
      std::find(rows.begin(), rows.end(), "R1 S1 F1 present title of F1 2024-04-10 director of S1"),
      rows.end());
}

// Past 16 384 subjects the rows in memory are sorted a run at a time as they come; the runs
// are merged with those set aside in files (here one every ~20 000 subjects).
TEST(LedgerStage, RunsSortedInMemoryMergeWithRunsSetAside) {
  same_either_way(std::size_t{3} << 20, 40000);
}

TEST(LedgerStage, ASubjectGivenTwiceIsRefusedAcrossRuns) {
  temp_db db;
  auto s = open_sqlite(db.path.string(), true, 256);
  auto stage = s->begin_round();
  for (int i = 0; i < 40; ++i)
    stage->add(book::round_writer::prepare(subject_observations(i)).packed);
  stage->add(book::round_writer::prepare(subject_observations(3)).packed);
  try {
    stage->commit({"R1", "2024-01-10", "demo", "1", "d"}, "h");
    FAIL() << "a subject given twice was stored";
  } catch (const ledger_error& e) {
    EXPECT_NE(std::string(e.what()).find("subject `S3` is given more than once in round `R1`"),
              std::string::npos)
        << e.what();
  }
  stage.reset();
  EXPECT_TRUE(s->rounds().empty());  // nothing of the round was kept
}

// A round is stored in blocks of subjects: every subject is found in its block, whether the
// readers walk all subjects (status, diff) or look one up (show, facts for --by), including a
// subject a later round did not see though a block of that round spans its name.
TEST(LedgerStage, SubjectsInManyBlocksAreEachFoundWithTheirOwnRows) {
  temp_db db;
  auto s = open_sqlite(db.path.string(), true, default_run_bytes);
  const std::string filler(200, 'x');  // 3 000 subjects with their facts: several blocks
  auto record = [&](const round_info& r, int skip_every) {
    auto stage = s->begin_round();
    round_hasher hasher;
    for (int i = 0; i < 3000; ++i) {
      if (skip_every && i % skip_every == 0) continue;
      auto subject = subject_observations(i);
      subject.front().facts = R"({"id":"S)" + std::to_string(i) + R"(","round":")" + r.id +
                              R"(","f":")" + filler + "\"}";
      const auto p = book::round_writer::prepare(subject);
      hasher.add(p.digest);
      stage->add(p.packed);
    }
    ASSERT_EQ(stage->commit(r, hasher.finish(r)), store::stage::outcome::recorded);
  };
  record({"R1", "2024-01-10", "demo", "1", "d"}, 0);
  record({"R2", "2024-02-10", "demo", "1", "d"}, 5);  // S0, S5, S10, ... not seen in R2
  const auto all = rows_of(*s);
  std::vector<std::string> one_by_one;
  for (int i = 0; i < 3000; ++i) {
    const std::string name = "S" + std::to_string(i);
    s->observations(name, [&](store::row&& r) {
      one_by_one.push_back(r.round + " " + r.obs.subject + " " + r.obs.item + " " + r.obs.status +
                           " " + r.obs.title + " " + r.obs.due.value_or("-") + " " +
                           r.obs.responsible.value_or("-"));
    });
    const auto facts = s->facts_of(name);
    ASSERT_TRUE(facts) << name;
    const std::string latest = i % 5 == 0 ? "R1" : "R2";
    EXPECT_NE(facts->find(R"("id":")" + name + R"(","round":")" + latest + "\""), std::string::npos)
        << name << " " << *facts;
  }
  std::sort(one_by_one.begin(), one_by_one.end());
  auto sorted_all = all;
  std::sort(sorted_all.begin(), sorted_all.end());
  EXPECT_EQ(one_by_one, sorted_all);
  // S10 was seen in R1 only: its present item has one row; S11 in both.
  EXPECT_EQ(
      std::count_if(all.begin(), all.end(),
                    [](const std::string& r) { return r.find(" S10 ") != std::string::npos; }),
      1);
  EXPECT_EQ(
      std::count_if(all.begin(), all.end(),
                    [](const std::string& r) { return r.find(" S11 ") != std::string::npos; }),
      2);
  // Names before, between and after the stored ones.
  for (const char* name : {"A", "S", "S1x", "S9999", "T"}) {
    EXPECT_FALSE(s->facts_of(name)) << name;
    bool any = false;
    s->observations(std::string(name), [&](store::row&&) { any = true; });
    EXPECT_FALSE(any) << name;
  }
}

// A book's readers are const and may be called from several threads at once: `show` and the
// facts for --by share a cache of blocks (one block per round), which they take in turn.
TEST(threads, LedgerReadersShareOneBook) {
  temp_db db;
  {
    book b = book::open(db.path.string());
    for (const char* round : {"R1", "R2"}) {
      std::vector<observation> all;
      for (int i = 0; i < 3000; ++i) {
        auto subject = subject_observations(i + (round[1] == '2' ? 1 : 0));
        for (auto& o : subject) o.subject = "S" + std::to_string(i);
        subject.front().facts = R"({"id":"S)" + std::to_string(i) + R"(","round":")" + round +
                                R"(","pad":")" + std::string(100, 'p') + "\"}";
        all.insert(all.end(), subject.begin(), subject.end());
      }
      ASSERT_TRUE(
          b.record({round, round[1] == '1' ? "2024-01-10" : "2024-02-10", "demo", "1", "d"}, all));
    }
  }
  const book b = book::open(db.path.string(), false);
  auto answer = [&](int i) {
    const std::string name = "S" + std::to_string(i);
    std::string out = b.facts_of(name).value_or("-");
    for (const finding& f : b.subject(name, "2024-12-31"))
      out += " " + f.item + ":" + f.status + ":" + f.opened + ":" + f.closed.value_or("-");
    return out;
  };
  std::vector<std::string> serial;
  for (int i = 0; i < 3000; ++i) serial.push_back(answer(i));
  EXPECT_NE(serial[7].find(R"("round":"R2")"), std::string::npos) << serial[7];
  std::vector<std::thread> threads;
  std::vector<int> wrong(3, 0);
  for (int t = 0; t < 3; ++t)
    threads.emplace_back([&, t] {
      for (int k = 0; k < 3000; ++k) {
        const int i = (k * (t + 1) * 7) % 3000;  // each thread in its own order
        try {
          if (answer(i) != serial[static_cast<std::size_t>(i)])
            ++wrong[static_cast<std::size_t>(t)];
        } catch (const std::exception&) {
          ++wrong[static_cast<std::size_t>(t)];
        }
      }
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong, std::vector<int>(3, 0));
}

TEST(LedgerPacked, RoundTripsAndRefusesDamage) {
  auto subject = subject_observations(1);
  subject[0].facts = R"({"id":"S1","name":"院"})";
  const auto p = book::round_writer::prepare(subject);
  EXPECT_EQ(p.subject(), "S1");
  EXPECT_EQ(p.items, 3u);
  unpacked u;
  ASSERT_TRUE(unpack(p.packed, u));
  EXPECT_EQ(u.subject, "S1");
  ASSERT_TRUE(u.facts);
  EXPECT_EQ(*u.facts, R"({"id":"S1","name":"院"})");
  ASSERT_EQ(u.observations.size(), 3u);
  EXPECT_EQ(u.observations[1].item, "F1");
  EXPECT_EQ(u.observations[1].status, "present");
  EXPECT_EQ(u.observations[1].title, "title of F1");
  EXPECT_EQ(u.observations[1].cite, "clause of F1");
  EXPECT_EQ(u.observations[1].due, std::optional<std::string_view>("2024-04-10"));
  EXPECT_EQ(u.observations[1].responsible, std::optional<std::string_view>("director of S1"));
  // An absent item keeps its status and responsible only.
  EXPECT_EQ(u.observations[0].title, "");
  EXPECT_EQ(u.observations[0].responsible, std::optional<std::string_view>("director of S1"));
  for (std::size_t cut = 0; cut < p.packed.size(); ++cut)
    EXPECT_FALSE(unpack(std::string_view(p.packed).substr(0, cut), u)) << cut;
  EXPECT_FALSE(unpack(p.packed + "x", u));
}

TEST(LedgerPacked, ObservationsOfAnotherSubjectAreRefused) {
  auto subject = subject_observations(1);
  subject.push_back(obs("S2", "F9", "present"));
  EXPECT_THROW(book::round_writer::prepare(subject), ledger_error);
}

TEST(LedgerPacked, AnItemGivenTwiceForOneSubjectIsRefused) {
  auto subject = subject_observations(1);
  subject.push_back(obs("S1", "F0", "present"));  // F0 is there already, absent
  try {
    book::round_writer::prepare(subject);
    FAIL() << "an item given twice was packed";
  } catch (const ledger_error& e) {
    EXPECT_NE(std::string(e.what()).find("subject `S1` has item `F0` twice"), std::string::npos)
        << e.what();
  }
}

// The digest is what recorded rounds' hashes were computed from: spelled out here byte by
// byte, so that a change of it (which would make a round recorded before look changed) fails.
TEST(LedgerHash, SubjectDigestKeepsItsFormat) {
  std::vector<observation> subject{obs("S1", "F2", "absent"), obs("S1", "F1", "present")};
  subject[0].responsible.reset();
  detail::sha256 h;
  h.update(
      "2:S1"
      "2:F1"
      "7:present"
      "11:title of F1"
      "12:clause of F1"
      "12:action of F1"
      "10:2024-04-10"
      "14:director of S1"
      "2:F2"
      "6:absent"
      "\x01null");
  std::vector<const observation*> ptrs{&subject[0], &subject[1]};
  EXPECT_EQ(subject_digest(ptrs), h.finish());
  EXPECT_EQ(book::round_writer::prepare(subject).digest, subject_digest(ptrs));
}

// The round's hash sums its subjects' digests modulo 2^256 (big-endian numbers): checked against
// the sum done byte by byte, with carries running through whole limbs and past the top.
TEST(LedgerHash, RoundHashSumsDigestsModulo2To256) {
  using digest = std::array<std::uint8_t, 32>;
  auto byte_sum = [](digest& sum, const digest& d) {
    unsigned carry = 0;
    for (std::size_t i = 32; i-- > 0;) {
      const unsigned s = sum[i] + d[i] + carry;
      sum[i] = static_cast<std::uint8_t>(s);
      carry = s >> 8;
    }
  };
  digest ones;
  ones.fill(0xff);
  digest one{};
  one[31] = 1;
  digest low_limb{};  // carries out of the last limb only
  for (std::size_t i = 24; i < 32; ++i) low_limb[i] = 0xff;
  std::vector<digest> digests{ones, one, low_limb, one, ones, ones};
  std::uint32_t state = 12345;
  for (int k = 0; k < 200; ++k) {
    digest d;
    for (auto& b : d) {
      state = state * 1103515245u + 12345u;
      b = static_cast<std::uint8_t>(state >> 16);
    }
    digests.push_back(d);
  }
  round_hasher hasher;
  digest expected{};
  for (const digest& d : digests) {
    hasher.add(d);
    byte_sum(expected, d);
  }
  round_info r;
  r.asof = "2024-03-01";
  r.ruleset = "rs";
  r.version = "1";
  r.digest = "d";
  detail::sha256 h;
  for (const std::string& part :
       {r.asof, r.ruleset, r.version, r.digest, std::to_string(digests.size())})
    h.update(std::to_string(part.size()) + ":" + part);
  h.update(std::string_view(reinterpret_cast<const char*>(expected.data()), expected.size()));
  EXPECT_EQ(hasher.finish(r), "2:" + h.hex_finish());
}

}  // namespace
}  // namespace carerules::ledger
