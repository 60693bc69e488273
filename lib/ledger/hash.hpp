// The content hash of a round, which tells "the same round again" (nothing changes) from
// "another round under a recorded name" (refused). It is computed subject by subject and does
// not depend on the order of subjects, so a round streams through without being held, and it
// covers what the ledger keeps: for an absent item only its status and responsible (the clause
// and action of an item a subject did not have are not kept per subject).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "carerules/ledger.hpp"
#include "ledger/packed.hpp"

namespace carerules::ledger {

// One subject's observations (any order; all of one subject), digested. The views' vector is
// put in item order.
std::array<std::uint8_t, 32> subject_digest(std::string_view subject,
                                            std::vector<observation_view>& observations);
std::array<std::uint8_t, 32> subject_digest(const std::vector<const observation*>& observations);
// The text subject_digest() hashes, in two parts: the subject's (written when it has any
// observation), then its observations' (given in item order). So a caller that has the second
// part already (the same for many subjects) hashes digest_text(subject) + that part.
void digest_text(std::string& out, std::string_view subject);
void digest_text(std::string& out, const std::vector<observation_view>& in_item_order);
std::array<std::uint8_t, 32> digest_of(std::string_view text);

class round_hasher {
 public:
  void add(const std::array<std::uint8_t, 32>& subject);  // sums digests modulo 2^256
  std::string finish(const round_info& round) const;      // "2:" and 64 hex digits

 private:
  std::array<std::uint8_t, 32> sum_{};
  std::uint64_t subjects_ = 0;
};

}  // namespace carerules::ledger
