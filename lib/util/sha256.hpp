// SHA-256 (FIPS 180-4), used for `ruleset.digest`. Boost has none.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace carerules::detail {

class sha256 {
 public:
  sha256();
  void update(std::string_view data);
  std::array<std::uint8_t, 32> finish();  // once; the object is spent afterwards
  std::string hex_finish();               // 64 lowercase hex digits

 private:
  void block(const std::uint8_t* p);
  std::array<std::uint32_t, 8> h_;
  std::array<std::uint8_t, 64> buf_{};
  std::size_t buf_len_ = 0;
  std::uint64_t total_ = 0;
};

// One 64-byte block into the state, portably, and with the x86 SHA extensions (only where
// sha256_hardware() says the processor has them). sha256 picks one; both are here for tests.
void sha256_block_portable(std::uint32_t state[8], const std::uint8_t* block);
void sha256_block_hardware(std::uint32_t state[8], const std::uint8_t* block);
bool sha256_hardware();

}  // namespace carerules::detail
