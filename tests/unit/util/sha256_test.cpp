#include "util/sha256.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <string>

namespace carerules::detail {
namespace {

std::string hash_of(std::string_view data) {
  sha256 h;
  h.update(data);
  return h.hex_finish();
}

TEST(Sha256, FipsVectors) {
  struct row {
    std::string message;
    const char* want;
  };
  const row rows[] = {
      {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
      {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
      {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
      {"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmno"
       "pjklmnopqklmnopqrlm"
       "nopqrsmnopqrstnopqrstu",
       "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"},
  };
  for (const auto& r : rows) {
    SCOPED_TRACE(r.message);
    EXPECT_EQ(hash_of(r.message), r.want);
  }
}

// Lengths either side of the padding boundaries (55/56: the length fits in the
// last block or not; 64: a whole block).
TEST(Sha256, PaddingBoundaries) {
  struct row {
    std::size_t length;
    const char* want;
  };
  const row rows[] = {
      {55, "d5e285683cd4efc02d021a5c62014694958901005d6f71e89e0989fac77e4072"},
      {56, "04c26261370ee7541549d16dee320c723e3fd14671e66a099afe0a377c16888e"},
      {63, "75220b47218278e656f2013bb8f0c455a25eaf01e86c64924e9d48d89776d6f2"},
      {64, "7ce100971f64e7001e8fe5a51973ecdfe1ced42befe7ee8d5fd6219506b5393c"},
      {65, "9537c5fdf120482f7d58d25e9ed583f52c02b4e304ea814db1633ad565aed7e9"},
      {119, "000b48d4edf0fa7bee3c6236ecd2785baa5db4eeb8bb54341b029e0d9fa5fb0c"},
      {120, "13f05a0b594787f5ecd315edc96141bd3243203d1b7d4f0836f37308b276ba98"},
  };
  for (const auto& r : rows) {
    SCOPED_TRACE(r.length);
    const std::string message(r.length, 'x');
    EXPECT_EQ(hash_of(message), r.want);
    // Byte at a time exercises the partial-block path on every call.
    sha256 h;
    for (char c : message) h.update(std::string_view(&c, 1));
    EXPECT_EQ(h.hex_finish(), r.want);
  }
}

TEST(Sha256, MillionAInOddChunks) {
  const char* want = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";
  const std::string million(1'000'000, 'a');
  EXPECT_EQ(hash_of(million), want);

  const std::size_t chunk_sizes[] = {1, 3, 7, 13, 61, 63, 64, 65, 127, 129, 1000, 4099};
  sha256 h;
  std::size_t pos = 0;
  for (std::size_t k = 0; pos < million.size(); ++k) {
    const std::size_t n = std::min(chunk_sizes[k % std::size(chunk_sizes)], million.size() - pos);
    h.update(std::string_view(million).substr(pos, n));
    pos += n;
  }
  EXPECT_EQ(h.hex_finish(), want);
}

TEST(Sha256, EmptyUpdatesChangeNothing) {
  sha256 h;
  h.update("");
  h.update("a");
  h.update("");
  h.update("bc");
  h.update("");
  EXPECT_EQ(h.hex_finish(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Sha256, RawDigestMatchesHex) {
  sha256 h;
  h.update("abc");
  const auto digest = h.finish();
  EXPECT_EQ(digest[0], 0xba);
  EXPECT_EQ(digest[1], 0x78);
  EXPECT_EQ(digest[30], 0x15);
  EXPECT_EQ(digest[31], 0xad);
}

TEST(Sha256, BinaryInput) {
  // Every byte value once, including NUL and bytes >= 0x80 (sign of char must
  // not matter).
  std::string all;
  for (int b = 0; b < 256; ++b) all += static_cast<char>(b);
  EXPECT_EQ(hash_of(all), "40aff2e9d2d8922e47afd4648e6967497158785fbd1da870e7110266bf944880");
}

// The hashes above come from whichever block function this machine uses; the two must agree
// block for block (chained states of random blocks), or the ledger's round hashes would depend
// on the processor that recorded them.
TEST(Sha256, HardwareBlocksAgreeWithPortable) {
  if (!sha256_hardware()) GTEST_SKIP() << "no SHA extensions on this processor";
  std::uint32_t soft[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                           0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
  std::uint32_t hard[8];
  std::copy(std::begin(soft), std::end(soft), std::begin(hard));
  std::uint64_t x = 0x9E3779B97F4A7C15ull;
  std::uint8_t block[64];
  for (int round = 0; round < 2000; ++round) {
    for (auto& b : block) {  // xorshift bytes; every 50th block all 0x00 or all 0xff
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      b = round % 50 == 0 ? static_cast<std::uint8_t>(round % 100 ? 0xff : 0)
                          : static_cast<std::uint8_t>(x);
    }
    sha256_block_portable(soft, block);
    sha256_block_hardware(hard, block);
    ASSERT_TRUE(std::equal(std::begin(soft), std::end(soft), std::begin(hard)))
        << "block " << round;
  }
}

// The portable block on its own against the FIPS answer for "abc" (one padded block), so it is
// checked on machines whose sha256 uses the SHA extensions too.
TEST(Sha256, PortableBlockKnownAnswer) {
  std::uint8_t block[64] = {'a', 'b', 'c', 0x80};
  block[63] = 24;  // the message length in bits
  std::uint32_t state[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                            0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
  sha256_block_portable(state, block);
  const std::uint32_t want[8] = {0xba7816bf, 0x8f01cfea, 0x414140de, 0x5dae2223,
                                 0xb00361a3, 0x96177a9c, 0xb410ff61, 0xf20015ad};
  EXPECT_TRUE(std::equal(std::begin(state), std::end(state), std::begin(want)));
}

}  // namespace
}  // namespace carerules::detail
