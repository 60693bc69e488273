// Any bytes as facts for a ruleset that reads every kind of input: binding and evaluation
// must never crash, and the report must be produced.
#include <carerules/carerules.hpp>
#include <cstdint>
#include <cstdlib>
#include <string_view>

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
  return 0;
}
