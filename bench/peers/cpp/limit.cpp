// The hand-written limit: the workload's decisions coded directly in C++ over a plain struct
// (eval), and from JSON text through a Boost.JSON DOM per record to a JSON answer (e2e). No
// engine can do less work than this.
#include <boost/json.hpp>

#include "harness.hpp"

namespace json = boost::json;

namespace {

struct institution {
  std::string id;
  bool cd_building = false, major_hazard = false, fire_ok = true, panels = false;
  bool clinic = false, clinic_licensed = false, clinic_filed = false;
  bool canteen = false, food_licence = false, staff_unqualified = false, other_major = false;
  bool equipment_bad = false;  // some item unlicensed or past its date
  double fire_d = 0, food_d = 0;
  long facilities_r = 0, emergency_r = 0;
};

constexpr std::string_view asof = "2024-06-01";

bool flag(const json::object& o, std::string_view k) {
  auto* v = o.if_contains(k);
  return v && v->is_bool() && v->get_bool();
}
double num(const json::object& o, std::string_view k) { return o.at(k).to_number<double>(); }

institution read(const json::object& r) {
  institution x;
  x.id = r.at("id").as_string();
  const auto& b = r.at("building").as_object();
  if (auto* g = b.if_contains("appraisal"); g && g->is_string())
    x.cd_building = g->get_string() == "C" || g->get_string() == "D";
  x.major_hazard = flag(b, "major_hazard");
  x.fire_ok = flag(r.at("fire").as_object(), "compliant");
  x.panels = flag(r, "panels_flammable");
  for (const auto& e : r.at("equipment").as_array()) {
    const auto& eo = e.as_object();
    if (!flag(eo, "licensed") || std::string_view(eo.at("valid_until").as_string()) < asof)
      x.equipment_bad = true;
  }
  const auto& c = r.at("clinic").as_object();
  x.clinic = flag(c, "exists");
  x.clinic_licensed = flag(c, "licensed");
  x.clinic_filed = flag(c, "filed");
  const auto& k = r.at("canteen").as_object();
  x.canteen = flag(k, "exists");
  x.food_licence = flag(k, "food_licence");
  x.staff_unqualified = flag(r, "staff_unqualified");
  x.other_major = flag(r, "other_major");
  const auto& areas = r.at("areas").as_object();
  auto lec = [&](const char* a) {
    const auto& o = areas.at(a).as_object();
    return num(o, "L") * num(o, "E") * num(o, "C");
  };
  auto matrix = [&](const char* a) {
    const auto& o = areas.at(a).as_object();
    return o.at("likelihood").to_number<long>() * o.at("severity").to_number<long>();
  };
  x.fire_d = lec("fire");
  x.food_d = lec("food");
  x.facilities_r = matrix("facilities");
  x.emergency_r = matrix("emergency");
  return x;
}

int lec_band(double d) { return d >= 320 ? 3 : d >= 160 ? 2 : d >= 70 ? 1 : 0; }
int matrix_band(long r) { return r >= 20 ? 3 : r >= 15 ? 2 : r >= 9 ? 1 : 0; }

void decide(const institution& x, unsigned& hazards, int& colour) {
  hazards = (x.cd_building || x.major_hazard ? 1u : 0u) | (!x.fire_ok ? 2u : 0u) |
            (x.panels ? 4u : 0u) | (x.equipment_bad ? 8u : 0u) |
            (x.clinic && !x.clinic_licensed && !x.clinic_filed ? 16u : 0u) |
            (x.canteen && !x.food_licence ? 32u : 0u) | (x.staff_unqualified ? 64u : 0u) |
            (x.other_major ? 128u : 0u);
  colour = hazards ? 3
                   : std::max(std::max(lec_band(x.fire_d), lec_band(x.food_d)),
                              std::max(matrix_band(x.facilities_r), matrix_band(x.emergency_r)));
}

}  // namespace

int main(int argc, char** argv) {
  const auto a = peers::parse(argc, argv, "limit eval|e2e RECORDS.jsonl OUT.txt");
  const auto text = peers::read_lines(a.records);
  std::string lines, answers;
  unsigned hz = 0;
  int colour = 0;
  if (a.mode == "eval") {
    std::vector<institution> recs;
    for (const auto& t : text) recs.push_back(read(json::parse(t).as_object()));
    peers::run(
        "hand-written C++ (limit)", a, recs.size(),
        [&](std::size_t i) {
          decide(recs[i], hz, colour);
          peers::result_line(lines, recs[i].id, hz, colour);
        },
        lines);
    return 0;
  }
  unsigned char stack[16384];
  peers::run(
      "hand-written C++ (limit)", a, text.size(),
      [&](std::size_t i) {
        json::monotonic_resource mr(stack, sizeof stack);
        const json::value v = json::parse(text[i], &mr);
        const institution x = read(v.as_object());
        decide(x, hz, colour);
        peers::result_line(lines, x.id, hz, colour);
        json::array hs(&mr);
        for (int k = 0; k < 8; ++k)
          if (hz & (1u << k)) hs.emplace_back(peers::hazard_ids[k]);
        answers += json::serialize(json::object(
            {{"id", x.id}, {"hazards", std::move(hs)}, {"colour", peers::colour_names[colour]}},
            &mr));
        answers += '\n';
      },
      lines);
  return answers.empty() ? 1 : 0;
}
