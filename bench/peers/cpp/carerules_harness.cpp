// carerules through its C++ API on the side-by-side workload: `decide` on facts bound
// beforehand (eval), and from JSON text to a JSON answer (e2e: `decide` on the text; and the
// full report, `evaluate_json`, as a second e2e row).
#include <boost/json.hpp>
#include <carerules/carerules.hpp>

#include "harness.hpp"

int main(int argc, char** argv) {
  if (argc != 4 && argc != 5) {
    std::fprintf(stderr,
                 "usage: carerules_harness eval|e2e|report RECORDS.jsonl OUT.txt [RULES]\n");
    return 2;
  }
  const std::string mode = argv[1];
  const std::string rules = argc == 5 ? argv[4] : CARERULES_PEERS_RULES;
  peers::args a{mode == "report" ? "e2e" : mode, argv[2], argv[3]};
  const auto compiled = carerules::compile_file(rules);
  if (!compiled.ok()) {
    std::fputs(compiled.rendered().c_str(), stderr);
    return 1;
  }
  const carerules::ruleset& rs = compiled.value();
  carerules::eval_options eo;
  eo.asof = "2024-06-01";
  // Hazard k of the result line is the ruleset's hazard with that id; the colour is grade 0.
  std::vector<unsigned> bit(rs.hazards().size(), 0);
  for (std::size_t h = 0; h < rs.hazards().size(); ++h)
    for (unsigned k = 0; k < 8; ++k)
      if (rs.hazards()[h].id == peers::hazard_ids[k]) bit[h] = 1u << k;
  auto colour_of = [](std::string_view c) {
    for (int k = 0; k < 4; ++k)
      if (c == peers::colour_names[k]) return k;
    return -1;
  };
  std::string lines, answers;
  auto line_of = [&](const carerules::decisions& d) {
    unsigned hz = 0;
    for (std::size_t h = 0; h < d.hazards.size(); ++h)
      if (d.hazards[h] == carerules::hazard_status::present) hz |= bit[h];
    const int colour = d.grades.empty() ? -1 : colour_of(d.grades[0]);
    if (!d.subject || colour < 0 || d.errors) {  // never expected: make the check fail loudly
      lines += "ERROR\n";
      return;
    }
    peers::result_line(lines, *d.subject, hz, colour);
  };
  const auto text = peers::read_lines(a.records);
  // One answer reused from record to record, as a caller deciding a stream would.
  carerules::decisions d;
  if (mode == "eval") {
    std::vector<carerules::bound_facts> bound;
    bound.reserve(text.size());
    for (const auto& t : text) bound.push_back(rs.bind_json(t, eo));
    peers::run(
        "carerules (C++ API, decide)", a, bound.size(),
        [&](std::size_t i) {
          rs.decide(bound[i], eo, d);
          line_of(d);
        },
        lines);
  } else if (mode == "e2e") {
    peers::run(
        "carerules (C++ API, decide)", a, text.size(),
        [&](std::size_t i) {
          rs.decide(text[i], eo, d);
          line_of(d);
          // The answer a service returns: {"id","hazards":[...],"colour"}.
          answers += "{\"id\":";
          answers += boost::json::serialize(boost::json::string_view(d.subject.value_or("")));
          answers += ",\"hazards\":[";
          bool first = true;
          for (std::size_t h = 0; h < d.hazards.size(); ++h)
            if (d.hazards[h] == carerules::hazard_status::present) {
              if (!first) answers += ',';
              answers += '"';
              answers += rs.hazards()[h].id;
              answers += '"';
              first = false;
            }
          answers += "],\"colour\":\"";
          answers += d.grades.empty() ? std::string_view() : d.grades[0];
          answers += "\"}\n";
        },
        lines);
  } else {
    // The full report (hazards with their evidence, clauses and missing facts, the grade's
    // reasons): what `carerules eval --format jsonl` writes. The line for the check is read
    // off `decide` after the clock, so the timed loop is the report alone.
    // Each report is dropped once written (a platform sends it on), so the loop measures
    // writing reports, not holding 100 000 of them.
    std::size_t bytes = 0;
    peers::run(
        "carerules (C++ API, full JSON report)", a, text.size(),
        [&](std::size_t i) { bytes += rs.evaluate_json(text[i], eo).size(); }, lines);
    if (bytes == 0) return 1;
    lines.clear();
    for (const auto& t : text) line_of(rs.decide(t, eo));
    std::ofstream(a.out, std::ios::binary) << lines;
  }
  return 0;
}
