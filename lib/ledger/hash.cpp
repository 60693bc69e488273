// The content hash of a round (hash.hpp).
#include "ledger/hash.hpp"

#include <algorithm>

#include "util/sha256.hpp"

namespace carerules::ledger {
namespace {

void put(detail::sha256& h, const std::string& s) {
  h.update(std::to_string(s.size()));
  h.update(":");
  h.update(s);
}
void put(detail::sha256& h, const std::optional<std::string>& s) {
  if (s)
    put(h, *s);
  else
    h.update("\x01null");
}

}  // namespace

std::array<std::uint8_t, 32> subject_digest(std::vector<const observation*> observations) {
  std::sort(observations.begin(), observations.end(),
            [](const observation* a, const observation* b) { return a->item < b->item; });
  detail::sha256 h;
  if (!observations.empty()) put(h, observations.front()->subject);
  for (const observation* o : observations) {
    put(h, o->item);
    put(h, o->status);
    if (o->status != "absent") {
      put(h, o->title);
      put(h, o->cite);
      put(h, o->action);
      put(h, o->due);
    }
    put(h, o->responsible);
  }
  return h.finish();
}

void round_hasher::add(const std::array<std::uint8_t, 32>& subject) {
  unsigned carry = 0;
  for (std::size_t i = 32; i-- > 0;) {
    const unsigned s = sum_[i] + subject[i] + carry;
    sum_[i] = static_cast<std::uint8_t>(s);
    carry = s >> 8;
  }
  ++subjects_;
}

std::string round_hasher::finish(const round_info& round) const {
  detail::sha256 h;
  put(h, round.asof);
  put(h, round.ruleset);
  put(h, round.version);
  put(h, round.digest);
  put(h, std::to_string(subjects_));
  h.update(std::string_view(reinterpret_cast<const char*>(sum_.data()), sum_.size()));
  return "2:" + h.hex_finish();
}

}  // namespace carerules::ledger
