// The rules of closure, over whatever store keeps the rounds (store.hpp).
#include "carerules/ledger.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <span>
#include <unordered_map>

#include "carerules/facts.hpp"
#include "carerules/ruleset.hpp"
#include "ledger/hash.hpp"
#include "ledger/report_fields.hpp"
#include "ledger/store.hpp"

namespace carerules::ledger {
namespace json = boost::json;
namespace {

// Rectification within 3 months as a rule, when the report gives no due date.
constexpr std::int64_t default_days = 90;

std::string plus_days(const std::string& date, std::int64_t days) {
  if (auto d = carerules::parse_date(date))
    if (auto s = carerules::format_date(*d + days)) return *s;
  return date;
}

struct walked {
  finding f;
  std::size_t reopened_at = 0;  // round position of the last rebound
};

// The findings from the observations of rounds at positions < `upto` (date order).
std::map<std::pair<std::string, std::string>, walked> walk(
    const std::vector<store::row>& rows, const std::unordered_map<std::string, std::size_t>& pos,
    const std::vector<round_info>& rounds, std::size_t upto) {
  std::vector<const store::row*> sorted;
  for (const auto& r : rows) {
    auto p = pos.find(r.round);
    if (p != pos.end() && p->second < upto) sorted.push_back(&r);
  }
  std::sort(sorted.begin(), sorted.end(), [&](const store::row* a, const store::row* b) {
    if (a->obs.subject != b->obs.subject) return a->obs.subject < b->obs.subject;
    if (a->obs.item != b->obs.item) return a->obs.item < b->obs.item;
    return pos.at(a->round) < pos.at(b->round);
  });
  std::map<std::pair<std::string, std::string>, walked> out;
  std::map<std::pair<std::string, std::string>, std::vector<history_entry>> seen;
  for (const store::row* r : sorted) {
    const observation& o = r->obs;
    const std::size_t at = pos.at(r->round);
    const round_info& ri = rounds[at];
    auto key = std::make_pair(o.subject, o.item);
    seen[key].push_back({r->round, ri.asof, o.status});
    auto it = out.find(key);
    const auto due = o.due ? *o.due : plus_days(ri.asof, default_days);
    if (o.status == "present") {
      if (it == out.end()) {
        walked w;
        w.f.subject = o.subject;
        w.f.item = o.item;
        w.f.title = o.title;
        w.f.cite = o.cite;
        w.f.action = o.action;
        w.f.responsible = o.responsible;
        w.f.due = due;
        w.f.opened = r->round;
        out.emplace(key, std::move(w));
      } else if (it->second.f.closed) {
        finding& f = it->second.f;
        f.rebound = true;
        f.reopened = r->round;
        f.closed.reset();
        f.due = due;
        f.title = o.title;
        f.cite = o.cite;
        f.action = o.action;
        if (o.responsible) f.responsible = o.responsible;
        it->second.reopened_at = at;
      }
    } else if (o.status == "absent" && it != out.end() && !it->second.f.closed) {
      it->second.f.closed = r->round;
    }
  }
  for (auto& [key, w] : out) {
    w.f.history = std::move(seen[key]);
    w.f.last_status = w.f.history.empty() ? "" : w.f.history.back().status;
    w.f.status = w.f.closed ? "closed" : "open";
  }
  return out;
}

std::unordered_map<std::string, std::size_t> positions(const std::vector<round_info>& rounds) {
  std::unordered_map<std::string, std::size_t> pos;
  for (std::size_t i = 0; i < rounds.size(); ++i) pos[rounds[i].id] = i;
  return pos;
}

// Rounds dated on or before `asof`: their count (rounds are in date order).
std::size_t upto_date(const std::vector<round_info>& rounds, const std::string& asof) {
  std::size_t n = 0;
  while (n < rounds.size() && rounds[n].asof <= asof) ++n;
  return n;
}

// Calls `group` with the rows of each subject and item in turn (the store gives them grouped).
void each_group(const store& s, const std::optional<std::string>& subject,
                const std::function<void(const std::vector<store::row>&)>& group) {
  std::vector<store::row> rows;
  s.observations(subject, [&](store::row&& r) {
    if (!rows.empty() &&
        (rows.back().obs.subject != r.obs.subject || rows.back().obs.item != r.obs.item)) {
      group(rows);
      rows.clear();
    }
    rows.push_back(std::move(r));
  });
  if (!rows.empty()) group(rows);
}

void mark_overdue(finding& f, const std::string& asof) {
  if (f.status == "open" && f.due && *f.due < asof) f.status = "overdue";
}

}  // namespace

namespace {

// A picked grade as an item: `name=value`, titled "grade name is value"; present when the
// grade's value is the picked one, undetermined when the value is "undetermined" (the grade
// could not be decided), absent otherwise.
void pick_texts(const grade_pick& p, std::string& item, std::string& title) {
  item.assign(p.name).append("=").append(p.value);
  title.assign("grade ").append(p.name).append(" is ").append(p.value);
}
std::string_view pick_status(const grade_pick& p, std::string_view value) {
  return value == "undetermined" ? "undetermined" : value == p.value ? "present" : "absent";
}

void add_pick(std::vector<observation>& out, const std::string& subject, const grade_pick& p,
              std::string_view value, const std::optional<std::string>& responsible) {
  observation o;
  pick_texts(p, o.item, o.title);
  for (const observation& x : out)
    if (x.item == o.item) return;  // the same pick twice is one item
  o.subject = subject;
  o.status.assign(pick_status(p, value));
  o.responsible = responsible;
  out.push_back(std::move(o));
}

// The hazards' due dates as of `asof` (asof plus each one's days), the same for every record
// of a batch: worked out once per thread, ruleset and date.
const std::vector<std::optional<std::string>>& due_dates(const ruleset& rs,
                                                         const std::string& asof) {
  struct cached {
    const ruleset* rs = nullptr;
    std::string digest, asof;
    std::vector<std::optional<std::string>> due;
  };
  thread_local cached dates;
  if (dates.rs != &rs || dates.asof != asof || dates.digest != rs.digest()) {
    dates.rs = nullptr;  // the key is set last: a throw on the way leaves no half-made entry
    dates.due.clear();
    const auto day = carerules::parse_date(asof);
    for (const hazard_info& h : rs.hazards())
      dates.due.push_back(h.within_days && day ? carerules::format_date(*day + *h.within_days)
                                               : std::nullopt);
    dates.digest = rs.digest();
    dates.asof = asof;
    dates.rs = &rs;
  }
  return dates.due;
}

std::string_view status_word(hazard_status s) {
  return s == hazard_status::present  ? "present"
         : s == hazard_status::absent ? "absent"
                                      : "undetermined";  // an error decides nothing
}

std::optional<std::string_view> view(const std::optional<std::string>& s) {
  return s ? std::optional<std::string_view>(*s) : std::nullopt;
}

// A record's observations, from its decisions, as views into the ruleset, the thread's due
// dates and picked grades' texts: valid until the next call on this thread (which the caller
// may change them for: prepare_views() puts them in order).
std::vector<observation_view>& decided_views(const ruleset& rs, const decisions& d,
                                             const std::string& asof,
                                             const std::vector<grade_pick>& picks,
                                             std::optional<std::string_view> responsible) {
  thread_local std::vector<observation_view> views;
  thread_local std::vector<std::string> pick_text;  // item, title, item, title, ...
  views.clear();
  const auto& hazards = rs.hazards();
  const std::vector<std::optional<std::string>>& due = due_dates(rs, asof);
  const std::size_t hazard_count = std::min(d.hazards.size(), hazards.size());
  for (std::size_t n = 0; n < hazard_count; ++n) {
    const hazard_info& h = hazards[n];
    views.push_back({h.id, status_word(d.hazards[n]), h.title,
                     h.cite ? std::string_view(*h.cite) : std::string_view(), h.action,
                     view(due[n]), responsible});
  }
  pick_text.resize(2 * picks.size());  // not to move while views point into it
  const auto& grades = rs.grades();
  std::size_t k = 0;
  for (const auto& p : picks) {
    std::size_t g = 0;
    while (g < grades.size() && grades[g].name != p.name) ++g;
    if (g == grades.size() || g >= d.grades.size()) continue;
    std::string& item = pick_text[k];
    std::string& title = pick_text[k + 1];
    pick_texts(p, item, title);
    if (std::any_of(views.begin(), views.end(),
                    [&](const observation_view& v) { return v.item == item; }))
      continue;  // the same pick twice is one item
    k += 2;
    const std::string_view value = d.grades[g] == "error" ? "undetermined" : d.grades[g];
    views.push_back({item, pick_status(p, value), title, {}, {}, std::nullopt, responsible});
  }
  return views;
}

}  // namespace

std::vector<observation> observations_of(const report& r, const std::vector<grade_pick>& picks,
                                         const std::optional<std::string>& responsible,
                                         const std::optional<std::string>& facts) {
  std::vector<observation> out;
  if (!r.subject) return out;
  for (const auto& h : r.hazards) {
    observation o;
    o.subject = *r.subject;
    o.item = h.id;
    o.status.assign(status_word(h.status));
    o.title = h.title;
    o.cite = h.cite.value_or("");
    o.action = h.rectify.action;
    o.due = h.rectify.due;
    o.responsible = responsible;
    out.push_back(std::move(o));
  }
  for (const auto& p : picks) {
    auto g = std::find_if(r.grades.begin(), r.grades.end(),
                          [&](const grade_result& x) { return x.name == p.name; });
    if (g == r.grades.end()) continue;
    const bool unsure =
        g->outcome == grade_outcome::undetermined || g->outcome == grade_outcome::error;
    add_pick(out, *r.subject, p, unsure ? "undetermined" : g->value(), responsible);
  }
  if (!out.empty()) out.front().facts = facts;  // once per subject
  return out;
}

std::vector<observation> observations_of(const ruleset& rs, const decisions& d,
                                         const std::string& asof,
                                         const std::vector<grade_pick>& picks,
                                         const std::optional<std::string>& responsible,
                                         const std::optional<std::string>& facts) {
  std::vector<observation> out;
  observations_of(rs, d, asof, picks, responsible, facts, out);
  return out;
}

void observations_of(const ruleset& rs, const decisions& d, const std::string& asof,
                     const std::vector<grade_pick>& picks,
                     const std::optional<std::string>& responsible,
                     const std::optional<std::string>& facts, std::vector<observation>& out) {
  if (!d.subject) {
    out.clear();
    return;
  }
  const auto& views = decided_views(rs, d, asof, picks, view(responsible));
  // Assigned into the observations `out` has (their strings keep their memory), then resized.
  if (out.size() < views.size()) out.resize(views.size());
  for (std::size_t n = 0; n < views.size(); ++n) {
    const observation_view& v = views[n];
    observation& o = out[n];
    o.subject = *d.subject;
    o.item = v.item;
    o.status = v.status;
    o.title = v.title;
    o.cite = v.cite;
    o.action = v.action;
    if (v.due)
      o.due = *v.due;
    else
      o.due.reset();
    o.responsible = responsible;
    if (n == 0)
      o.facts = facts;
    else
      o.facts.reset();
  }
  out.resize(views.size());
}

namespace {

// A value of a Boost.JSON document, for report_from().
struct json_node {
  const json::value* v;
  bool is_object() const { return v->is_object(); }
  bool is_array() const { return v->is_array(); }
  std::optional<std::string_view> string() const {
    if (!v->is_string()) return std::nullopt;
    return std::string_view(v->get_string());
  }
  std::optional<json_node> member(const char* key) const {
    const json::value* m = v->as_object().if_contains(key);
    if (!m) return std::nullopt;
    return json_node{m};
  }
  template <class F>
  void for_each_element(F f) const {
    for (const json::value& e : v->get_array()) f(json_node{&e});
  }
  template <class F>
  void for_each_member(F f) const {
    for (const auto& m : v->get_object()) f(std::string_view(m.key()), json_node{&m.value()});
  }
};

}  // namespace

std::optional<report> report_from_json(std::string_view text) {
  json::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return std::nullopt;
  return report_from(json_node{&v});
}

void finding_counts::add(const finding& f) {
  if (f.status == "open") ++open;
  if (f.status == "overdue") ++overdue;
  if (f.status == "closed") ++closed;
  if (f.rebound && f.status != "closed") ++rebound;
}

book::book(std::unique_ptr<store> s) : store_(std::move(s)) {}
book::book(book&&) noexcept = default;
book& book::operator=(book&&) noexcept = default;
book::~book() = default;

book book::open(const std::string& path, bool create) { return book(open_sqlite(path, create)); }

struct book::round_writer::state {
  round_info round;
  std::unique_ptr<store::stage> stage;
  round_hasher hasher;
  bool done = false;
};

book::round_writer::round_writer(std::unique_ptr<state> s) : state_(std::move(s)) {}
book::round_writer::round_writer(round_writer&&) noexcept = default;
book::round_writer& book::round_writer::operator=(round_writer&&) noexcept = default;
book::round_writer::~round_writer() = default;

namespace {

// Packed observations and facts of subject `name` over 2 GiB are refused: lengths are kept in
// 32 bits and bound to SQLite as int.
void check_size(std::string_view name, const std::string& packed) {
  if (packed.size() > std::size_t{INT32_MAX} - 64)
    throw ledger_error("the observations and facts of subject `" + std::string(name) +
                       "` are over 2 GiB: not recorded");
}

// prepare() of one subject's observations as views (put in item order), its facts with them.
// An absent item's title, clause, action and due date are not kept (no finding reads them,
// and the round's hash leaves them out).
book::round_writer::prepared prepare_views(std::string_view name,
                                           std::optional<std::string_view> facts,
                                           std::vector<observation_view>& views) {
  book::round_writer::prepared p;
  if (views.empty()) return p;
  for (observation_view& v : views)
    if (v.status == "absent") v = {v.item, v.status, {}, {}, {}, std::nullopt, v.responsible};
  p.digest = subject_digest(name, views);  // puts them in item order
  for (std::size_t i = 1; i < views.size(); ++i)
    if (views[i].item == views[i - 1].item)
      throw ledger_error("subject `" + std::string(name) + "` has item `" +
                         std::string(views[i].item) +
                         "` twice: a round holds one observation per item");
  pack(p.packed, name, facts, views.begin(), views.end());
  check_size(name, p.packed);
  p.items = static_cast<std::uint32_t>(views.size());
  return p;
}

// prepare() of the observations [first, last).
book::round_writer::prepared prepare_range(const observation* first, const observation* last) {
  if (first == last) return {};
  const std::string& name = first->subject;
  std::optional<std::string_view> facts;
  thread_local std::vector<observation_view> views;
  views.clear();
  for (const observation& o : std::span(first, last)) {
    if (o.subject != name)
      throw ledger_error("observations of `" + name + "` and `" + o.subject +
                         "` given as one subject");
    if (o.facts && !facts) facts = *o.facts;
    views.push_back(
        {o.item, o.status, o.title, o.cite, o.action, view(o.due), view(o.responsible)});
  }
  return prepare_views(name, facts, views);
}

}  // namespace

book::round_writer::prepared book::round_writer::prepare(const std::vector<observation>& subject) {
  return prepare_range(subject.data(), subject.data() + subject.size());
}

book::round_writer::prepared book::round_writer::prepare(
    const ruleset& rs, const decisions& d, const std::string& asof,
    const std::vector<grade_pick>& picks, std::optional<std::string_view> responsible,
    std::optional<std::string_view> facts) {
  if (!d.subject) return {};
  const auto& hazards = rs.hazards();
  // Most records have every hazard absent; with no responsible and no picked grade their
  // observations are the same for all: packed and digested once per thread and ruleset.
  struct all_absent {
    const ruleset* rs = nullptr;
    std::string digest;
    bool usable = false;      // the ruleset has hazards, each id once
    std::string items, text;  // pack_items(), digest_text() of the observations
    std::uint32_t count = 0;
  };
  thread_local all_absent absent;
  if (absent.rs != &rs || absent.digest != rs.digest()) {
    absent.rs = nullptr;  // the key is set last: a throw on the way leaves no half-made entry
    std::vector<observation_view> views;
    for (const hazard_info& h : hazards)
      views.push_back({h.id, "absent", {}, {}, {}, std::nullopt, std::nullopt});
    std::sort(views.begin(), views.end(),
              [](const observation_view& a, const observation_view& b) { return a.item < b.item; });
    absent.usable = !views.empty() &&
                    std::adjacent_find(views.begin(), views.end(),
                                       [](const observation_view& a, const observation_view& b) {
                                         return a.item == b.item;
                                       }) == views.end();
    absent.items.clear();
    absent.text.clear();
    pack_items(absent.items, views.begin(), views.end());
    digest_text(absent.text, views);
    absent.count = static_cast<std::uint32_t>(views.size());
    absent.digest = rs.digest();
    absent.rs = &rs;
  }
  if (absent.usable && picks.empty() && !responsible && d.hazards.size() == hazards.size() &&
      std::all_of(d.hazards.begin(), d.hazards.end(),
                  [](hazard_status h) { return h == hazard_status::absent; })) {
    const std::string_view name = *d.subject;
    thread_local std::string text;
    text.clear();
    digest_text(text, name);
    text += absent.text;
    book::round_writer::prepared p;
    p.digest = digest_of(text);
    p.packed.reserve(9 + name.size() + (facts ? facts->size() : 0) + absent.items.size());
    packing::put(p.packed, name);
    packing::put_opt(p.packed, facts);
    p.packed += absent.items;
    check_size(name, p.packed);
    p.items = absent.count;
    return p;
  }
  return prepare_views(*d.subject, facts, decided_views(rs, d, asof, picks, responsible));
}

std::string_view book::round_writer::prepared::subject() const {
  packing::reader r(packed);
  return r.str();
}

void book::round_writer::add(const std::vector<observation>& subject) { add(prepare(subject)); }

void book::round_writer::add(const prepared& subject) {
  if (subject.items == 0) return;
  if (state_->done) throw ledger_error("round `" + state_->round.id + "` is committed already");
  state_->hasher.add(subject.digest);
  state_->stage->add(subject.packed);
  ++subjects_;
  items_ += subject.items;
}

bool book::round_writer::commit() {
  if (state_->done) throw ledger_error("round `" + state_->round.id + "` is committed already");
  const round_info& r = state_->round;
  if (!carerules::parse_date(r.asof))
    throw ledger_error("the round's date `" + r.asof + "` is not a date (YYYY-MM-DD)");
  state_->done = true;
  const auto outcome = state_->stage->commit(r, state_->hasher.finish(r));
  state_->stage.reset();  // ends its transaction
  if (outcome == store::stage::outcome::other)
    throw ledger_error("round `" + state_->round.id +
                       "` is recorded already with other content; record the new one under "
                       "another round name");
  return outcome == store::stage::outcome::recorded;
}

round_info& book::round_writer::round() { return state_->round; }

book::round_writer book::begin_round(const round_info& round) {
  if (!round.asof.empty() && !carerules::parse_date(round.asof))
    throw ledger_error("the round's date `" + round.asof + "` is not a date (YYYY-MM-DD)");
  auto s = std::make_unique<round_writer::state>();
  s->round = round;
  s->stage = store_->begin_round();
  return round_writer(std::move(s));
}

bool book::record(const round_info& round, const std::vector<observation>& observations) {
  round_writer w = begin_round(round);
  const observation* all = observations.data();
  std::size_t first = 0;
  for (std::size_t k = 0; k < observations.size(); ++k)
    if (k + 1 == observations.size() || observations[k + 1].subject != observations[k].subject) {
      w.add(prepare_range(all + first, all + k + 1));
      first = k + 1;
    }
  return w.commit();
}

std::vector<round_info> book::rounds() const { return store_->rounds(); }

void book::for_each_finding(const std::string& asof,
                            const std::function<void(finding&&)>& each) const {
  const auto rounds = store_->rounds();
  const auto pos = positions(rounds);
  const std::size_t upto = upto_date(rounds, asof);
  each_group(*store_, std::nullopt, [&](const std::vector<store::row>& rows) {
    for (auto& [key, w] : walk(rows, pos, rounds, upto)) {
      mark_overdue(w.f, asof);
      each(std::move(w.f));
    }
  });
}

std::vector<finding> book::findings(const std::string& asof) const {
  std::vector<finding> out;
  for_each_finding(asof, [&](finding&& f) { out.push_back(std::move(f)); });
  return out;
}

std::vector<finding> book::subject(const std::string& subject, const std::string& asof) const {
  const auto rounds = store_->rounds();
  const auto pos = positions(rounds);
  const std::size_t upto = upto_date(rounds, asof);
  std::vector<finding> out;
  each_group(*store_, subject, [&](const std::vector<store::row>& rows) {
    for (auto& [key, w] : walk(rows, pos, rounds, upto)) {
      mark_overdue(w.f, asof);
      out.push_back(std::move(w.f));
    }
  });
  return out;
}

void book::for_each_change(const std::string& from, const std::string& to,
                           const std::function<void(change, finding&&)>& each,
                           const std::optional<std::string>& asof) const {
  const auto rounds = store_->rounds();
  const auto pos = positions(rounds);
  auto f = pos.find(from), t = pos.find(to);
  if (f == pos.end()) throw ledger_error("no round `" + from + "` in the ledger");
  if (t == pos.end()) throw ledger_error("no round `" + to + "` in the ledger");
  if (f->second > t->second) {
    const std::string& a = rounds[f->second].asof;
    if (a == rounds[t->second].asof)
      throw ledger_error("round `" + from + "` comes after round `" + to + "`: both are dated " +
                         a + ", and rounds of one date are in the order they were recorded");
    throw ledger_error("round `" + from + "` is dated after round `" + to + "`");
  }
  each_group(*store_, std::nullopt, [&](const std::vector<store::row>& rows) {
    const auto before = walk(rows, pos, rounds, f->second + 1);
    auto after = walk(rows, pos, rounds, t->second + 1);
    for (auto& [key, w] : after) {
      finding& now = w.f;
      mark_overdue(now, asof ? *asof : rounds[t->second].asof);
      auto b = before.find(key);
      const bool was_open = b != before.end() && !b->second.f.closed;
      const bool was_closed = b != before.end() && b->second.f.closed;
      const bool open = !now.closed;
      const bool undetermined_now = open && !now.history.empty() &&
                                    now.history.back().round == to &&
                                    now.history.back().status == "undetermined";
      if (b == before.end()) {
        // New, or opened and closed again between the two rounds.
        each(open ? change::new_finding : change::closed, std::move(now));
      } else if (was_open && !open) {
        each(change::closed, std::move(now));
      } else if (was_open && undetermined_now) {
        // Open at A and B cannot tell, though it closed and came back in between: what B
        // asks of the inspector is the missing data.
        each(change::undetermined, std::move(now));
      } else if (open && (was_closed || (now.rebound && w.reopened_at > f->second))) {
        each(change::rebound, std::move(now));
      } else if (open && undetermined_now) {
        each(change::undetermined, std::move(now));
      } else if (was_open && open) {
        each(change::still_open, std::move(now));
      }
    }
  });
}

diff_result book::diff(const std::string& from, const std::string& to,
                       const std::optional<std::string>& asof) const {
  diff_result d;
  d.from = from;
  d.to = to;
  std::vector<finding>* const lists[] = {&d.new_findings, &d.closed, &d.still_open, &d.rebound,
                                         &d.undetermined};  // in the order of `change`
  for_each_change(
      from, to,
      [&](change c, finding&& f) { lists[static_cast<std::size_t>(c)]->push_back(std::move(f)); },
      asof);
  return d;
}

std::optional<std::string> book::facts_of(const std::string& subject) const {
  return store_->facts_of(subject);
}

}  // namespace carerules::ledger
