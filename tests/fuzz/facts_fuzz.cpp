// Any bytes as facts for a ruleset that reads every kind of input: binding and evaluation
// must never crash, and the report must be produced.
#include <carerules/carerules.hpp>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "api/access.hpp"
#include "api/evaluate.hpp"
#include "facts/bind.hpp"
#include "plan/plan.hpp"

namespace {
const char* rules = R"(
ruleset fuzz {
  title "fuzz" version "1"
  input {
    id : string
    a.b : int in 0..100
    a.c : number = 1.5
    d : date
    e : enum("A", "B")
    f : color
    g : bool
    codes : list<string>
    rs : list { x : int  y : list { z : number } }
  }
  let s = sum(r in rs: r.x) + count(c in codes where c == "A")
  hazard H1 "h" { cite "c" when a.b / a.c > 3 or days_since(d) > 30 }
  hazard H2 "h" { cite "c" when any(r in rs where any(q in r.y where q.z > 1)) }
  score sc max 10 { item I1 "i" (s * 2) when g }
  grade gr : color { red when present(H1) orange when f >= orange blue otherwise }
}
)";
// Two bindings hold the same facts.
bool same(const carerules::detail::record_instance& a,
          const carerules::detail::record_instance& b) {
  using namespace carerules::detail;
  if (a.cells.size() != b.cells.size() || a.lists.size() != b.lists.size()) return false;
  auto same_cell = [](const fact_cell& x, const fact_cell& y) {
    if (x.state != y.state || x.v.kind != y.v.kind) return false;
    return x.v.kind == vkind::string ? x.v.s() == y.v.s() : x.v.i == y.v.i;
  };
  for (std::size_t i = 0; i < a.cells.size(); ++i)
    if (!same_cell(a.cells[i], b.cells[i])) return false;
  for (std::size_t i = 0; i < a.lists.size(); ++i) {
    const list_instance &x = a.lists[i], &y = b.lists[i];
    if (x.state != y.state || x.records.size() != y.records.size() ||
        x.items.size() != y.items.size())
      return false;
    for (std::size_t k = 0; k < x.records.size(); ++k)
      if (!same(x.records[k], y.records[k])) return false;
    for (std::size_t k = 0; k < x.items.size(); ++k)
      if (!same_cell(x.items[k], y.items[k])) return false;
  }
  return true;
}

const carerules::ruleset& rs() {
  static auto c = carerules::compile_source(rules);
  if (!c.ok()) std::abort();
  return c.value();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  const carerules::eval_options o{.asof = "2024-06-01"};
  const carerules::report r = rs().evaluate(text, o);
  const std::string json = r.to_json();
  // The fast paths say what the report says, whatever the bytes.
  if (rs().evaluate_json(text, o) != json) std::abort();
  const carerules::decisions d = rs().decide(text, o);
  if (d.errors != r.errors.size() || d.unreadable != r.unreadable) std::abort();
  for (std::size_t i = 0; i < d.hazards.size(); ++i)
    if (i >= r.hazards.size() || d.hazards[i] != r.hazards[i].status) std::abort();
  const auto each = carerules::eval_options{.asof = "2024-06-01", .each = "rs"};
  std::string joined;
  for (const auto& e : rs().evaluate_record(text, each)) {
    if (!joined.empty()) joined += '\n';
    joined += e.to_json();
  }
  if (rs().evaluate_text({{std::string(text), 0, 0, false}}, each).text != joined) std::abort();
  // The plain reader (bind_json's fast path) takes only texts that bind without a fault, and
  // binds them as Boost.JSON and the event binder do.
  using namespace carerules::detail;
  const program& p = access::program_of(rs());
  const bind_options bo = bind_opts(p, o);
  record_facts plain;
  if (size <= bo.limits.line_bytes && (size < 3 || text.substr(0, 3) != "\xEF\xBB\xBF") &&
      bind_plain_json(*p.schema, text, bo, plain)) {
    record_facts events;
    bind_json_by_events(*p.schema, text, bo, events);
    if (events.unreadable || !events.errors.empty() || events.subject != plain.subject ||
        !same(events.root, plain.root))
      std::abort();
  }
  return 0;
}
