// The content hash of a round (hash.hpp).
#include "ledger/hash.hpp"

#include <algorithm>
#include <charconv>

#include "util/sha256.hpp"

namespace carerules::ledger {
namespace {

void put(detail::sha256& h, std::string_view s) {
  char digits[24];
  const auto end = std::to_chars(digits, digits + sizeof digits, s.size()).ptr;
  *end = ':';
  h.update(std::string_view(digits, static_cast<std::size_t>(end + 1 - digits)));
  h.update(s);
}
template <class Optional>
void put_opt(detail::sha256& h, const Optional& s) {
  if (s)
    put(h, std::string_view(*s));
  else
    h.update("\x01null");
}

}  // namespace

std::array<std::uint8_t, 32> subject_digest(std::string_view subject,
                                            std::vector<observation_view>& observations) {
  std::sort(observations.begin(), observations.end(),
            [](const observation_view& a, const observation_view& b) { return a.item < b.item; });
  detail::sha256 h;
  if (!observations.empty()) put(h, subject);
  for (const observation_view& o : observations) {
    put(h, o.item);
    put(h, o.status);
    if (o.status != "absent") {
      put(h, o.title);
      put(h, o.cite);
      put(h, o.action);
      put_opt(h, o.due);
    }
    put_opt(h, o.responsible);
  }
  return h.finish();
}

std::array<std::uint8_t, 32> subject_digest(const std::vector<const observation*>& observations) {
  std::vector<observation_view> views;
  views.reserve(observations.size());
  for (const observation* o : observations)
    views.push_back({o->item, o->status, o->title, o->cite, o->action, o->due, o->responsible});
  return subject_digest(observations.empty() ? std::string_view() : observations.front()->subject,
                        views);
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
