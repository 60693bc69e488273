// The content hash of a round (hash.hpp).
#include "ledger/hash.hpp"

#include <algorithm>
#include <charconv>

#include "util/sha256.hpp"

namespace carerules::ledger {
namespace {

// What is digested, written into one buffer first (a subject's many short strings are then
// one update of the hash instead of two each).
void put(std::string& out, std::string_view s) {
  char digits[24];
  const auto end = std::to_chars(digits, digits + sizeof digits, s.size()).ptr;
  *end = ':';
  out.append(digits, static_cast<std::size_t>(end + 1 - digits));
  out.append(s);
}
template <class Optional>
void put_opt(std::string& out, const Optional& s) {
  if (s)
    put(out, std::string_view(*s));
  else
    out.append("\x01null");
}
void put(detail::sha256& h, std::string_view s) {
  std::string text;
  put(text, s);
  h.update(text);
}

}  // namespace

void digest_text(std::string& out, std::string_view subject) { put(out, subject); }

void digest_text(std::string& out, const std::vector<observation_view>& in_item_order) {
  for (const observation_view& o : in_item_order) {
    put(out, o.item);
    put(out, o.status);
    if (o.status != "absent") {
      put(out, o.title);
      put(out, o.cite);
      put(out, o.action);
      put_opt(out, o.due);
    }
    put_opt(out, o.responsible);
  }
}

std::array<std::uint8_t, 32> digest_of(std::string_view text) {
  detail::sha256 h;
  h.update(text);
  return h.finish();
}

std::array<std::uint8_t, 32> subject_digest(std::string_view subject,
                                            std::vector<observation_view>& observations) {
  std::sort(observations.begin(), observations.end(),
            [](const observation_view& a, const observation_view& b) { return a.item < b.item; });
  thread_local std::string text;
  text.clear();
  if (!observations.empty()) digest_text(text, subject);
  digest_text(text, observations);
  return digest_of(text);
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
  // Big-endian 256-bit numbers added as four 64-bit limbs, the last limb first.
  auto limb = [](const std::uint8_t* p) {
    std::uint64_t v = 0;
    for (int k = 0; k < 8; ++k) v = v << 8 | p[k];
    return v;
  };
  std::uint64_t carry = 0;
  for (std::size_t i = 32; i > 0; i -= 8) {
    const std::uint64_t a = limb(sum_.data() + i - 8), b = limb(subject.data() + i - 8);
    const std::uint64_t s = a + b;
    const std::uint64_t t = s + carry;
    carry = (s < a) | (t < s);
    for (std::size_t k = 0; k < 8; ++k) sum_[i - 1 - k] = static_cast<std::uint8_t>(t >> (8 * k));
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
