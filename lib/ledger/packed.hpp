// One subject's observations packed into one string, the way a round carries them from the
// threads that decide records to the store: one allocation per subject instead of nine strings
// per observation, and views into it when it is read back (no copy).
//
// Layout: the subject, its facts (optional), the count of observations, then per observation
// item, status, title, cite, action, due (optional), responsible (optional). The count and the
// observations alone are how the ledger keeps a subject's round (pack_items). A string is its
// length (4 bytes, little-endian) and its bytes; an optional string is a byte (0: none, 1: one)
// and then the string.
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace carerules::ledger {

struct observation_view {
  std::string_view item, status, title, cite, action;
  std::optional<std::string_view> due, responsible;
};

struct unpacked {
  std::string_view subject;
  std::optional<std::string_view> facts;
  std::string_view items;  // the observations as pack_items() wrote them
  std::vector<observation_view> observations;
};

namespace packing {

// Writes `n` over the 4 bytes of `out` at `at`.
inline void set_u32(std::string& out, std::size_t at, std::uint32_t n) {
  for (std::size_t k = 0; k < 4; ++k) out[at + k] = static_cast<char>((n >> (8 * k)) & 0xff);
}

inline void put(std::string& out, std::string_view s) {
  const auto n = static_cast<std::uint32_t>(s.size());
  const char len[4] = {static_cast<char>(n & 0xff), static_cast<char>((n >> 8) & 0xff),
                       static_cast<char>((n >> 16) & 0xff), static_cast<char>(n >> 24)};
  out.append(len, 4);
  out.append(s);
}

template <class Optional>
void put_opt(std::string& out, const Optional& s) {
  out.push_back(s ? '\1' : '\0');
  if (s) put(out, *s);
}

class reader {
 public:
  explicit reader(std::string_view in) : in_(in) {}
  bool ok() const { return ok_; }
  bool done() const { return at_ == in_.size(); }
  std::size_t left() const { return in_.size() - at_; }
  std::uint32_t u32() {
    if (in_.size() - at_ < 4) return fail(), 0;
    const auto* p = reinterpret_cast<const unsigned char*>(in_.data() + at_);
    at_ += 4;
    return static_cast<std::uint32_t>(p[0]) | static_cast<std::uint32_t>(p[1]) << 8 |
           static_cast<std::uint32_t>(p[2]) << 16 | static_cast<std::uint32_t>(p[3]) << 24;
  }
  std::string_view str() {
    const std::uint32_t n = u32();
    if (!ok_ || in_.size() - at_ < n) return fail(), std::string_view();
    const std::string_view s = in_.substr(at_, n);
    at_ += n;
    return s;
  }
  std::optional<std::string_view> opt() {
    if (at_ >= in_.size()) return fail(), std::nullopt;
    if (in_[at_++] == '\0') return std::nullopt;
    return str();
  }

 private:
  void fail() {
    ok_ = false;
    at_ = in_.size();
  }
  std::string_view in_;
  std::size_t at_ = 0;
  bool ok_ = true;
};

}  // namespace packing

// Appends the packed observations [first, last) to `out`: their count, then each one. This is
// also how the ledger keeps a subject's observations of a round (the end of its row in a block of
// `seen_blocks`).
// `It` iterates over `observation`s or `observation_view`s (the same member names).
template <class It>
void pack_items(std::string& out, It first, It last) {
  auto opt_size = [](const auto& s) -> std::size_t { return s ? 5 + s->size() : 1; };
  std::size_t size = 4;
  for (It it = first; it != last; ++it)
    size += 20 + it->item.size() + it->status.size() + it->title.size() + it->cite.size() +
            it->action.size() + opt_size(it->due) + opt_size(it->responsible);
  out.reserve(out.size() + size);
  const std::size_t count_at = out.size();
  out.append(4, '\0');  // the count, written below
  std::uint32_t n = 0;
  for (It it = first; it != last; ++it, ++n) {
    packing::put(out, it->item);
    packing::put(out, it->status);
    packing::put(out, it->title);
    packing::put(out, it->cite);
    packing::put(out, it->action);
    packing::put_opt(out, it->due);
    packing::put_opt(out, it->responsible);
  }
  packing::set_u32(out, count_at, n);
}

// Appends the packed form of `subject`'s observations [first, last) and its facts to `out`:
// the subject, the facts, then pack_items().
template <class It>
void pack(std::string& out, std::string_view subject, std::optional<std::string_view> facts,
          It first, It last) {
  out.reserve(out.size() + 9 + subject.size() + (facts ? facts->size() : 0));
  packing::put(out, subject);
  packing::put_opt(out, facts);
  pack_items(out, first, last);
}

// Reads what pack_items() wrote, from `r` on, into `out` (cleared first). False when it is
// not that.
inline bool unpack_items(packing::reader& r, std::vector<observation_view>& out) {
  const std::uint32_t n = r.u32();
  out.clear();
  for (std::uint32_t i = 0; i < n && r.ok(); ++i) {
    observation_view o;
    o.item = r.str();
    o.status = r.str();
    o.title = r.str();
    o.cite = r.str();
    o.action = r.str();
    o.due = r.opt();
    o.responsible = r.opt();
    out.push_back(o);
  }
  return r.ok();
}

// The same over all of `in`.
inline bool unpack_items(std::string_view in, std::vector<observation_view>& out) {
  packing::reader r(in);
  return unpack_items(r, out) && r.done();
}

// Reads what pack() wrote (all of `in`) into `out`, whose vector is reused. False when `in` is
// not a packed subject.
inline bool unpack(std::string_view in, unpacked& out) {
  packing::reader r(in);
  out.subject = r.str();
  out.facts = r.opt();
  out.items = in.substr(in.size() - r.left());
  return unpack_items(r, out.observations) && r.done();
}

}  // namespace carerules::ledger
