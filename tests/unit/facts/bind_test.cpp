// Binding JSON facts to a record schema: types, errors with their pointers,
// limits, hostile text, subjects and `--each`.

#include "facts/bind.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "util/date.hpp"

namespace carerules::detail {
namespace {

// ---- a hand-made schema -----------------------------------------------------

std::vector<std::string> split(const std::string& dotted) {
  std::vector<std::string> out;
  std::stringstream in(dotted);
  std::string part;
  while (std::getline(in, part, '.')) out.push_back(part);
  return out;
}

field_schema& add(record_schema& s, field_schema f) {
  if (s.nodes.empty()) s.nodes.emplace_back();
  std::uint32_t node = 0;
  const std::vector<std::string> parts = split(f.path);
  for (const std::string& part : parts) {
    auto it = s.nodes[node].children.find(part);
    if (it == s.nodes[node].children.end()) {
      s.nodes.emplace_back();
      const auto child = static_cast<std::uint32_t>(s.nodes.size() - 1);
      s.nodes[node].add_child(part, child);
      node = child;
    } else {
      node = it->second;
    }
  }
  s.nodes[node].field = static_cast<int>(s.fields.size());
  f.order = static_cast<std::uint32_t>(s.fields.size());
  if (f.is_list) {
    f.slot = s.list_count++;
  } else {
    f.slot = s.scalar_count++;
  }
  s.fields.push_back(std::move(f));
  s.finish();
  return s.fields.back();
}

field_schema scalar(std::string path, scalar_type type) {
  field_schema f;
  f.path = std::move(path);
  f.type = type;
  return f;
}

field_schema list_of(std::string path, scalar_type type) {
  field_schema f = scalar(std::move(path), type);
  f.is_list = true;
  return f;
}

field_schema list_of_records(std::string path, std::shared_ptr<record_schema> element) {
  field_schema f;
  f.path = std::move(path);
  f.is_list = true;
  f.of_records = true;
  f.element = std::move(element);
  return f;
}

field_schema ranged(field_schema f, std::int64_t lo, std::int64_t hi) {
  f.has_range = true;
  f.range_low = lo;
  f.range_high = hi;
  return f;
}

// input {
//   id                          : string
//   facility.beds               : int in 0..10000
//   facility.building.appraisal : enum("A", "B", "C", "D")
//   facility.fire.last_drill    : date
//   facility.kitchen.exists     : bool = false
//   facility.ratio              : number in 0..1
//   facility.risk               : color
//   facility.name               : string
//   areas.fire.L                : enum(10, 6, 3, 1, 0.5, 0.2, 0.1)
//   residents : list {
//     id      : string
//     ability : int in 0..90
//     wanders : bool = false
//     meds    : list { name : string  dose : number }
//   }
//   codes : list<string>
//   drills : list<date>
// }
std::shared_ptr<record_schema> make_schema() {
  auto s = std::make_shared<record_schema>();
  add(*s, scalar("id", scalar_type::string));
  add(*s, ranged(scalar("facility.beds", scalar_type::int_), 0, 10000));
  field_schema appraisal = scalar("facility.building.appraisal", scalar_type::string);
  appraisal.enum_strings = {"A", "B", "C", "D"};
  add(*s, appraisal);
  add(*s, scalar("facility.fire.last_drill", scalar_type::date));
  field_schema kitchen = scalar("facility.kitchen.exists", scalar_type::bool_);
  kitchen.default_value = value::of_bool(false);
  add(*s, kitchen);
  add(*s, ranged(scalar("facility.ratio", scalar_type::number), 0, 1'000'000));
  add(*s, scalar("facility.risk", scalar_type::color));
  add(*s, scalar("facility.name", scalar_type::string));
  field_schema l = scalar("areas.fire.L", scalar_type::number);
  l.enum_numbers = {10'000'000, 6'000'000, 3'000'000, 1'000'000, 500'000, 200'000, 100'000};
  add(*s, l);

  auto meds = std::make_shared<record_schema>();
  add(*meds, scalar("name", scalar_type::string));
  add(*meds, scalar("dose", scalar_type::number));

  auto resident = std::make_shared<record_schema>();
  add(*resident, scalar("id", scalar_type::string));
  add(*resident, ranged(scalar("ability", scalar_type::int_), 0, 90));
  field_schema wanders = scalar("wanders", scalar_type::bool_);
  wanders.default_value = value::of_bool(false);
  add(*resident, wanders);
  add(*resident, list_of_records("meds", meds));

  add(*s, list_of_records("residents", resident));
  add(*s, list_of("codes", scalar_type::string));
  add(*s, list_of("drills", scalar_type::date));
  return s;
}

const record_schema& schema() {
  static const std::shared_ptr<record_schema> s = make_schema();
  return *s;
}

const field_schema& field(const record_schema& s, std::string_view path) {
  for (const field_schema& f : s.fields) {
    if (f.path == path) return f;
  }
  ADD_FAILURE() << "no field " << path;
  return s.fields.front();
}

const fact_cell& cell(const record_instance& r, std::string_view path,
                      const record_schema& s = schema()) {
  return r.cells[field(s, path).slot];
}

const list_instance& list(const record_instance& r, std::string_view path,
                          const record_schema& s = schema()) {
  return r.lists[field(s, path).slot];
}

const record_schema& resident_schema() { return *field(schema(), "residents").element; }

record_facts bind_text(std::string_view json, bind_options options = {}) {
  record_facts out;
  bind_json(schema(), json, options, out);
  return out;
}

// "path: message" lines, for compact expectations.
std::string errors_of(const record_facts& r) {
  std::string out;
  for (const record_error& e : r.errors) {
    if (!out.empty()) out += "\n";
    out += e.path + ": " + e.message;
  }
  return out;
}

std::int64_t day(const char* text) { return *parse_date(text); }

// ---- values of every type
// -----------------------------------------------------

TEST(Bind, EveryTypePresent) {
  const record_facts r = bind_text(R"({
    "id": "FJ-7",
    "facility": {"beds": 120, "building": {"appraisal": "C"},
                 "fire": {"last_drill": "2024-03-05"},
                 "kitchen": {"exists": true}, "ratio": 0.75, "risk": "orange",
                 "name": "福州 \"东\" 院"},
    "areas": {"fire": {"L": 0.5}},
    "codes": ["F01", "F02"],
    "drills": ["2024-01-01"]
  })");
  EXPECT_EQ(errors_of(r), "");
  EXPECT_FALSE(r.unreadable);
  ASSERT_TRUE(r.subject.has_value());
  EXPECT_EQ(*r.subject, "FJ-7");
  const record_instance& root = r.root;
  EXPECT_EQ(cell(root, "id").v.s(), "FJ-7");
  EXPECT_EQ(cell(root, "facility.beds").state, fact_state::present);
  EXPECT_EQ(cell(root, "facility.beds").v.kind, vkind::integer);
  EXPECT_EQ(cell(root, "facility.beds").v.i, 120);
  EXPECT_EQ(cell(root, "facility.building.appraisal").v.kind, vkind::string);
  EXPECT_EQ(cell(root, "facility.building.appraisal").v.s(), "C");
  EXPECT_EQ(cell(root, "facility.fire.last_drill").v.kind, vkind::date);
  EXPECT_EQ(cell(root, "facility.fire.last_drill").v.i, day("2024-03-05"));
  EXPECT_EQ(cell(root, "facility.kitchen.exists").state, fact_state::present);
  EXPECT_EQ(cell(root, "facility.kitchen.exists").v.kind, vkind::boolean);
  EXPECT_EQ(cell(root, "facility.kitchen.exists").v.i, 1);
  EXPECT_EQ(cell(root, "facility.ratio").v.kind, vkind::number);
  EXPECT_EQ(cell(root, "facility.ratio").v.i, 750'000);
  EXPECT_EQ(cell(root, "facility.risk").v.kind, vkind::color);
  EXPECT_EQ(cell(root, "facility.risk").v.i, 2);
  EXPECT_EQ(cell(root, "facility.name").v.s(), "福州 \"东\" 院");
  EXPECT_EQ(cell(root, "areas.fire.L").v.i, 500'000);
  const list_instance& codes = list(root, "codes");
  EXPECT_EQ(codes.state, fact_state::present);
  ASSERT_EQ(codes.items.size(), 2u);
  EXPECT_EQ(codes.items[1].v.s(), "F02");
  ASSERT_EQ(list(root, "drills").items.size(), 1u);
  EXPECT_EQ(list(root, "drills").items[0].v.i, day("2024-01-01"));
  EXPECT_EQ(list(root, "residents").state, fact_state::absent);
}

TEST(Bind, AbsentAndNullAreTheSame) {
  const record_facts a = bind_text(R"({"facility": {}})");
  const record_facts b = bind_text(
      R"({"facility": {"beds": null, "building": null}, "codes": null,
          "residents": null, "id": null})");
  for (const record_facts* r : {&a, &b}) {
    EXPECT_EQ(errors_of(*r), "");
    EXPECT_EQ(cell(r->root, "facility.beds").state, fact_state::absent);
    EXPECT_EQ(cell(r->root, "facility.beds").v.kind, vkind::unknown);
    EXPECT_EQ(cell(r->root, "facility.building.appraisal").state, fact_state::absent);
    EXPECT_EQ(list(r->root, "codes").state, fact_state::absent);
    EXPECT_EQ(list(r->root, "residents").state, fact_state::absent);
    EXPECT_FALSE(r->subject.has_value());
  }
}

struct type_case {
  const char* json;
  const char* path;  // field
  bool ok;
  std::int64_t i;      // expected value (ok)
  const char* errors;  // expected errors (not ok)
};

class TypeCases : public ::testing::TestWithParam<type_case> {};

TEST_P(TypeCases, Check) {
  const type_case& c = GetParam();
  const record_facts r = bind_text(c.json);
  const fact_cell& got = cell(r.root, c.path);
  if (c.ok) {
    EXPECT_EQ(errors_of(r), "");
    EXPECT_EQ(got.state, fact_state::present);
    EXPECT_EQ(got.v.i, c.i);
  } else {
    EXPECT_EQ(errors_of(r), c.errors);
    EXPECT_EQ(got.state, fact_state::error);
    EXPECT_EQ(got.v.kind, vkind::unknown);
    EXPECT_FALSE(r.unreadable);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Types, TypeCases,
    ::testing::Values(
        // int
        type_case{R"({"facility": {"beds": 150.0}})", "facility.beds", true, 150, ""},
        type_case{R"({"facility": {"beds": 1e2}})", "facility.beds", true, 100, ""},
        type_case{R"({"facility": {"beds": 1.5e3}})", "facility.beds", true, 1500, ""},
        type_case{R"({"facility": {"beds": 0}})", "facility.beds", true, 0, ""},
        type_case{R"({"facility": {"beds": 1.5}})", "facility.beds", false, 0,
                  "/facility/beds: expected an int in 0..10000 for "
                  "`facility.beds`, got 1.5"},
        type_case{R"({"facility": {"beds": "12"}})", "facility.beds", false, 0,
                  "/facility/beds: expected an int in 0..10000 for "
                  "`facility.beds`, got \"12\""},
        type_case{R"({"facility": {"beds": 10001}})", "facility.beds", false, 0,
                  "/facility/beds: expected an int in 0..10000 for "
                  "`facility.beds`, got 10001"},
        type_case{R"({"facility": {"beds": -1}})", "facility.beds", false, 0,
                  "/facility/beds: expected an int in 0..10000 for "
                  "`facility.beds`, got -1"},
        type_case{R"({"facility": {"beds": 9223372036854775808}})", "facility.beds", false, 0,
                  "/facility/beds: expected an int in 0..10000 for "
                  "`facility.beds`, got 9223372036854775808 (outside the int "
                  "range)"},
        type_case{R"({"facility": {"beds": 1e300}})", "facility.beds", false, 0,
                  "/facility/beds: expected an int in 0..10000 for "
                  "`facility.beds`, got 1e300 (outside the int range)"},
        type_case{R"({"facility": {"beds": true}})", "facility.beds", false, 0,
                  "/facility/beds: expected an int in 0..10000 for "
                  "`facility.beds`, got true"},
        type_case{R"({"facility": {"beds": {"n": 1}}})", "facility.beds", false, 0,
                  "/facility/beds: expected an int in 0..10000 for "
                  "`facility.beds`, got object"},
        type_case{R"({"facility": {"beds": [1]}})", "facility.beds", false, 0,
                  "/facility/beds: expected an int in 0..10000 for "
                  "`facility.beds`, got array"},
        // number: rounded to 6 digits before the range check
        type_case{R"({"facility": {"ratio": 0.1234567}})", "facility.ratio", true, 123'457, ""},
        type_case{R"({"facility": {"ratio": 1.0000004}})", "facility.ratio", true, 1'000'000, ""},
        type_case{R"({"facility": {"ratio": 1}})", "facility.ratio", true, 1'000'000, ""},
        type_case{R"({"facility": {"ratio": 25e-2}})", "facility.ratio", true, 250'000, ""},
        type_case{R"({"facility": {"ratio": 1.0000005}})", "facility.ratio", false, 0,
                  "/facility/ratio: expected a number in 0..1 for "
                  "`facility.ratio`, got 1.0000005"},
        type_case{R"({"facility": {"ratio": 1e13}})", "facility.ratio", false, 0,
                  "/facility/ratio: expected a number in 0..1 for "
                  "`facility.ratio`, got 1e13 (outside the number range)"},
        type_case{R"({"facility": {"ratio": "0.5"}})", "facility.ratio", false, 0,
                  "/facility/ratio: expected a number in 0..1 for "
                  "`facility.ratio`, got \"0.5\""},
        // numeric enum compares scaled decimals
        type_case{R"({"areas": {"fire": {"L": 0.50}}})", "areas.fire.L", true, 500'000, ""},
        type_case{R"({"areas": {"fire": {"L": 5e-1}}})", "areas.fire.L", true, 500'000, ""},
        type_case{R"({"areas": {"fire": {"L": 10}}})", "areas.fire.L", true, 10'000'000, ""},
        type_case{R"({"areas": {"fire": {"L": 0.3}}})", "areas.fire.L", false, 0,
                  "/areas/fire/L: expected one of 10, 6, 3, 1, 0.5, 0.2, 0.1 "
                  "for `areas.fire.L`, got 0.3"},
        // string enum compares exactly
        type_case{R"({"facility": {"building": {"appraisal": "c"}}})",
                  "facility.building.appraisal", false, 0,
                  "/facility/building/appraisal: expected one of \"A\", "
                  "\"B\", \"C\", \"D\" for `facility.building.appraisal`, got "
                  "\"c\""},
        type_case{R"({"facility": {"building": {"appraisal": 3}}})", "facility.building.appraisal",
                  false, 0,
                  "/facility/building/appraisal: expected one of \"A\", "
                  "\"B\", \"C\", \"D\" for `facility.building.appraisal`, got "
                  "3"},
        // date
        type_case{R"({"facility": {"fire": {"last_drill": "2024-02-29"}}})",
                  "facility.fire.last_drill", true, day("2024-02-29"), ""},
        type_case{R"({"facility": {"fire": {"last_drill": "2023-02-29"}}})",
                  "facility.fire.last_drill", false, 0,
                  "/facility/fire/last_drill: expected a date (YYYY-MM-DD) for "
                  "`facility.fire.last_drill`, got \"2023-02-29\""},
        type_case{R"({"facility": {"fire": {"last_drill": "2024-3-05"}}})",
                  "facility.fire.last_drill", false, 0,
                  "/facility/fire/last_drill: expected a date (YYYY-MM-DD) for "
                  "`facility.fire.last_drill`, got \"2024-3-05\""},
        type_case{R"({"facility": {"fire": {"last_drill": "0000-01-01"}}})",
                  "facility.fire.last_drill", false, 0,
                  "/facility/fire/last_drill: expected a date (YYYY-MM-DD) for "
                  "`facility.fire.last_drill`, got \"0000-01-01\""},
        type_case{R"({"facility": {"fire": {"last_drill": 20240305}}})", "facility.fire.last_drill",
                  false, 0,
                  "/facility/fire/last_drill: expected a date (YYYY-MM-DD) for "
                  "`facility.fire.last_drill`, got 20240305"},
        // color
        type_case{R"({"facility": {"risk": "blue"}})", "facility.risk", true, 0, ""},
        type_case{R"({"facility": {"risk": "red"}})", "facility.risk", true, 3, ""},
        type_case{R"({"facility": {"risk": "Red"}})", "facility.risk", false, 0,
                  "/facility/risk: expected a color (blue, yellow, orange, "
                  "red) for `facility.risk`, got \"Red\""},
        // bool
        type_case{R"({"facility": {"kitchen": {"exists": false}}})", "facility.kitchen.exists",
                  true, 0, ""},
        type_case{R"({"facility": {"kitchen": {"exists": "yes"}}})", "facility.kitchen.exists",
                  false, 0,
                  "/facility/kitchen/exists: expected a bool for "
                  "`facility.kitchen.exists`, got \"yes\""},
        type_case{R"({"facility": {"kitchen": {"exists": 1}}})", "facility.kitchen.exists", false,
                  0,
                  "/facility/kitchen/exists: expected a bool for "
                  "`facility.kitchen.exists`, got 1"},
        // string
        type_case{R"({"facility": {"name": 5}})", "facility.name", false, 0,
                  "/facility/name: expected a string for `facility.name`, got "
                  "5"}));

TEST(Bind, MessagesEscapeAndCutValues) {
  const record_facts r = bind_text(
      R"({"facility": {"risk": "a\nb\u0001", "name": 1, "building":
          {"appraisal": "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}}})");
  ASSERT_EQ(r.errors.size(), 3u);
  EXPECT_EQ(r.errors[0].message,
            "expected a color (blue, yellow, orange, red) for `facility.risk`, "
            "got \"a\\nb\\x01\"");
  EXPECT_EQ(r.errors[2].path, "/facility/building/appraisal");
  EXPECT_NE(r.errors[2].message.find("got \"" + std::string(60, 'x') + "...\""), std::string::npos)
      << r.errors[2].message;
  // Cuts count code points, never splitting a character.
  const record_facts cjk =
      bind_text("{\"facility\": {\"risk\": \"" + std::string(30 * 2, ' ') + [] {
        std::string s;
        for (int i = 0; i < 10; ++i) s += "东";
        return s;
      }() + "\"}}");
  ASSERT_EQ(cjk.errors.size(), 1u);
  EXPECT_NE(cjk.errors[0].message.find("  ...\""), std::string::npos) << cjk.errors[0].message;
}

TEST(Bind, WrongTypeOnTheWayToAPath) {
  const record_facts r = bind_text(
      R"({"facility": 3, "areas": {"fire": [1]}, "codes": {"a": 1},
          "residents": "none"})");
  EXPECT_EQ(errors_of(r),
            "/facility: expected an object for `facility`, got number\n"
            "/areas/fire: expected an object for `areas.fire`, got array\n"
            "/codes: expected a list for `codes`, got object\n"
            "/residents: expected a list for `residents`, got string");
  // Facts below a wrong-typed object are errors: no default stands in.
  EXPECT_EQ(cell(r.root, "facility.beds").state, fact_state::error);
  EXPECT_EQ(cell(r.root, "facility.kitchen.exists").state, fact_state::error);
  EXPECT_EQ(cell(r.root, "facility.kitchen.exists").v.kind, vkind::unknown);
  EXPECT_EQ(cell(r.root, "areas.fire.L").state, fact_state::error);
  EXPECT_EQ(list(r.root, "codes").state, fact_state::error);
  EXPECT_EQ(list(r.root, "residents").state, fact_state::error);
}

// ---- defaults -------------------------------------------------------------

TEST(Bind, Defaults) {
  const record_facts absent = bind_text(R"({"facility": {"beds": 3}})");
  EXPECT_EQ(cell(absent.root, "facility.kitchen.exists").state, fact_state::defaulted);
  EXPECT_EQ(cell(absent.root, "facility.kitchen.exists").v.kind, vkind::boolean);
  EXPECT_EQ(cell(absent.root, "facility.kitchen.exists").v.i, 0);
  EXPECT_EQ(cell(absent.root, "facility.beds").state, fact_state::present);

  const record_facts null = bind_text(R"({"facility": {"kitchen": {"exists": null}}})");
  EXPECT_EQ(cell(null.root, "facility.kitchen.exists").state, fact_state::defaulted);

  const record_facts given = bind_text(R"({"facility": {"kitchen": {"exists": true}}})");
  EXPECT_EQ(cell(given.root, "facility.kitchen.exists").state, fact_state::present);
  EXPECT_EQ(cell(given.root, "facility.kitchen.exists").v.i, 1);

  const record_facts bad = bind_text(R"({"facility": {"kitchen": {"exists": 2}}})");
  EXPECT_EQ(cell(bad.root, "facility.kitchen.exists").state, fact_state::error);

  const record_facts residents =
      bind_text(R"({"residents": [{"id": "a", "wanders": true}, {"id": "b"}]})");
  const list_instance& l = list(residents.root, "residents");
  ASSERT_EQ(l.records.size(), 2u);
  EXPECT_EQ(cell(l.records[0], "wanders", resident_schema()).state, fact_state::present);
  EXPECT_EQ(cell(l.records[1], "wanders", resident_schema()).state, fact_state::defaulted);
  EXPECT_EQ(cell(l.records[1], "wanders", resident_schema()).v.i, 0);
}

// ---- lists ------------------------------------------------------------------

TEST(Bind, ListsOfRecordsNest) {
  const record_facts r = bind_text(R"({"residents": [
      {"id": "r1", "ability": 30, "meds": [{"name": "x", "dose": 0.5},
                                           {"name": "y"}]},
      {"id": "r2", "ability": 95, "meds": []},
      {"id": "r3", "meds": [{"dose": "lots"}], "extra": {"deep": [1, 2]}}
  ]})");
  EXPECT_EQ(errors_of(r),
            "/residents/1/ability: expected an int in 0..90 for "
            "`residents[].ability`, got 95\n"
            "/residents/2/meds/0/dose: expected a number for "
            "`residents[].meds[].dose`, got \"lots\"");
  const list_instance& l = list(r.root, "residents");
  EXPECT_EQ(l.state, fact_state::present);
  ASSERT_EQ(l.records.size(), 3u);
  const record_schema& rs = resident_schema();
  const record_schema& ms = *field(rs, "meds").element;
  EXPECT_EQ(cell(l.records[0], "ability", rs).v.i, 30);
  EXPECT_EQ(cell(l.records[1], "ability", rs).state, fact_state::error);
  EXPECT_EQ(cell(l.records[2], "ability", rs).state, fact_state::absent);
  const list_instance& m0 = list(l.records[0], "meds", rs);
  ASSERT_EQ(m0.records.size(), 2u);
  EXPECT_EQ(cell(m0.records[0], "name", ms).v.s(), "x");
  EXPECT_EQ(cell(m0.records[0], "dose", ms).v.i, 500'000);
  EXPECT_EQ(cell(m0.records[1], "dose", ms).state, fact_state::absent);
  EXPECT_EQ(list(l.records[1], "meds", rs).state, fact_state::present);
  EXPECT_TRUE(list(l.records[1], "meds", rs).records.empty());
  EXPECT_EQ(cell(list(l.records[2], "meds", rs).records[0], "dose", ms).state, fact_state::error);
}

TEST(Bind, BadListElements) {
  const record_facts r = bind_text(
      R"({"residents": [{"id": "a"}, null, 3, [], {"id": "e"}],
          "codes": ["a", 1, null, "d", {}], "drills": ["2024-13-01"]})");
  EXPECT_EQ(errors_of(r),
            "/residents/1: null element in list `residents`\n"
            "/residents/2: expected an object for an element of `residents`, "
            "got number\n"
            "/residents/3: expected an object for an element of `residents`, "
            "got array\n"
            "/codes/1: expected a string for `codes[]`, got 1\n"
            "/codes/2: null element in list `codes`\n"
            "/codes/4: expected a string for `codes[]`, got object\n"
            "/drills/0: expected a date (YYYY-MM-DD) for `drills[]`, got "
            "\"2024-13-01\"");
  const list_instance& res = list(r.root, "residents");
  EXPECT_EQ(res.state, fact_state::error);
  ASSERT_EQ(res.records.size(), 5u);  // indices stay aligned
  EXPECT_EQ(cell(res.records[4], "id", resident_schema()).v.s(), "e");
  const list_instance& codes = list(r.root, "codes");
  EXPECT_EQ(codes.state, fact_state::error);
  ASSERT_EQ(codes.items.size(), 5u);
  EXPECT_EQ(codes.items[0].state, fact_state::present);
  EXPECT_EQ(codes.items[1].state, fact_state::error);
  EXPECT_EQ(codes.items[2].state, fact_state::error);
  EXPECT_EQ(codes.items[3].v.s(), "d");
  EXPECT_EQ(list(r.root, "drills").state, fact_state::error);
}

TEST(Bind, ListLimitAllowsExactlyTheLimit) {
  bind_options options;
  options.limits.list = 3;
  const record_facts at =
      bind_text(R"({"codes": ["a", "b", "c"], "residents": [{}, {}, {}]})", options);
  EXPECT_EQ(errors_of(at), "");
  EXPECT_EQ(list(at.root, "codes").state, fact_state::present);
  EXPECT_EQ(list(at.root, "codes").items.size(), 3u);

  const record_facts over = bind_text(
      R"({"codes": ["a", "b", "c", "d", "e"], "residents": [{}, {}, {}, {"id": 1}],
          "other": [1, 2, 3, 4, 5]})",
      options);
  EXPECT_EQ(errors_of(over),
            "/codes/3: list `codes` has more than 3 elements (limit list)\n"
            "/residents/3: list `residents` has more than 3 elements (limit "
            "list)");
  EXPECT_EQ(list(over.root, "codes").state, fact_state::error);
  EXPECT_EQ(list(over.root, "codes").items.size(), 3u);
  EXPECT_EQ(list(over.root, "residents").state, fact_state::error);
  EXPECT_EQ(list(over.root, "residents").records.size(), 3u);
  EXPECT_FALSE(over.unreadable);
}

// ---- duplicates and undeclared keys
// --------------------------------------------

TEST(Bind, DuplicateKeysMakeTheFactAnError) {
  const record_facts r = bind_text(
      R"({"facility": {"beds": 1, "beds": "x", "name": "n"},
          "other": {"a": 1, "b": {"c": 1, "c": 2}, "a": [1]},
          "facility": {"beds": 5},
          "a/b~c": 1, "a/b~c": 2})");
  EXPECT_EQ(errors_of(r),
            "/facility/beds: duplicate key \"beds\"\n"
            "/other/b/c: duplicate key \"c\"\n"
            "/other/a: duplicate key \"a\"\n"
            "/facility: duplicate key \"facility\"\n"
            "/a~1b~0c: duplicate key \"a/b~c\"");
  // Two values for one fact: neither is trusted (language.md §11: a fact with an error
  // reads as missing), and a duplicated object puts every fact below it in error.
  EXPECT_EQ(cell(r.root, "facility.beds").state, fact_state::error);
  EXPECT_EQ(cell(r.root, "facility.name").state, fact_state::error);
  const record_facts one = bind_text(R"({"facility": {"beds": 1, "beds": 2, "name": "n"}})");
  EXPECT_EQ(cell(one.root, "facility.beds").state, fact_state::error);
  EXPECT_EQ(cell(one.root, "facility.name").v.s(), "n");
}

TEST(Bind, ManyKeysInOneObject) {
  std::string json = "{";
  for (int i = 0; i < 5000; ++i) {
    json += "\"k" + std::to_string(i) + "\": " + std::to_string(i) + ", ";
  }
  json += "\"k17\": 0, \"k4999\": 1, \"id\": \"x\"}";
  const record_facts r = bind_text(json);
  EXPECT_EQ(errors_of(r), "/k17: duplicate key \"k17\"\n/k4999: duplicate key \"k4999\"");
  EXPECT_EQ(*r.subject, "x");
}

TEST(Bind, EscapedAndPlainSpellingsOfAKeyAreOneKey) {
  // A plain key is kept as a view of the JSON text, one with an escape as a copy of what the
  // parser unescaped: the duplicate check sees one key either way, in small objects and past
  // the size where it keeps a set of the keys.
  const record_facts r =
      bind_text(R"({"facility": {"b\u0065ds": 1, "beds": 2}, "k": {"x": 1, "\u0078": 2}})");
  EXPECT_EQ(errors_of(r),
            "/facility/beds: duplicate key \"beds\"\n"
            "/k/x: duplicate key \"x\"");
  EXPECT_EQ(cell(r.root, "facility.beds").state, fact_state::error);
  std::string json = "{";
  for (int i = 0; i < 40; ++i)
    json += "\"k" + std::to_string(i) + "\": " + std::to_string(i) + ", ";
  json += R"("\u006b7": 0, "k3\u0039": 1, "id": "x"})";
  const record_facts big = bind_text(json);
  EXPECT_EQ(errors_of(big), "/k7: duplicate key \"k7\"\n/k39: duplicate key \"k39\"");
  EXPECT_EQ(*big.subject, "x");
}

TEST(Bind, DuplicateDetectionInsideDuplicates) {
  // Keys of a skipped duplicate's subtree are still checked, and their
  // pointers name the duplicate.
  const record_facts r = bind_text(R"({"a": 1, "a": {"x": 1, "x": 2}, "b": {"y": 1}, "b": 2})");
  EXPECT_EQ(errors_of(r),
            "/a: duplicate key \"a\"\n"
            "/a/x: duplicate key \"x\"\n"
            "/b: duplicate key \"b\"");
}

TEST(Bind, UndeclaredKeysAreIgnored) {
  const record_facts r = bind_text(
      R"({"zzz": {"beds": "x"}, "facility": {"beds": 4, "unknown": [{"a": 1}]},
          "residents": [{"ability": 3, "hobby": "chess"}]})");
  EXPECT_EQ(errors_of(r), "");
  EXPECT_EQ(cell(r.root, "facility.beds").v.i, 4);
}

// ---- subject
// ------------------------------------------------------------------

TEST(Bind, Subject) {
  EXPECT_EQ(*bind_text(R"({"id": "FJ-XM-0007"})").subject, "FJ-XM-0007");
  // A number is written as the report writes numbers; `id` is also a declared string input.
  const record_facts number = bind_text(R"({"id": 1.50})");
  EXPECT_EQ(*number.subject, "1.5");
  EXPECT_EQ(*bind_text(R"({"id": 1e2})").subject, "100");
  EXPECT_EQ(*bind_text(R"({"id": 7.0})").subject, "7");
  EXPECT_EQ(errors_of(number), "/id: expected a string for `id`, got 1.50");
  EXPECT_FALSE(bind_text(R"({"id": null})").subject.has_value());
  EXPECT_FALSE(bind_text(R"({})").subject.has_value());

  const record_facts boolean = bind_text(R"({"id": true})");
  EXPECT_FALSE(boolean.subject.has_value());
  EXPECT_EQ(errors_of(boolean),
            "/id: expected a string for `id`, got true\n"
            "/id: the subject `id` must be a string or number, got bool");
  const record_facts object = bind_text(R"({"id": {"a": 1}})");
  EXPECT_FALSE(object.subject.has_value());
  EXPECT_NE(errors_of(object).find("/id: the subject `id` must be a string or number, got object"),
            std::string::npos);

  // A nested subject path, not a declared input; a duplicate keeps the first.
  bind_options options;
  options.subject_path = {"meta", "code"};
  const record_facts nested =
      bind_text(R"({"id": "ignored", "meta": {"code": 42, "code": "x"}})", options);
  EXPECT_EQ(*nested.subject, "42");
  EXPECT_EQ(errors_of(nested), "/meta/code: duplicate key \"code\"");
  EXPECT_FALSE(bind_text(R"({"meta": 3})", options).subject.has_value());
  EXPECT_EQ(errors_of(bind_text(R"({"meta": {"code": []}})", options)),
            "/meta/code: the subject `meta.code` must be a string or number, "
            "got array");
  // Subject keys inside a list element are not the subject.
  EXPECT_FALSE(bind_text(R"({"residents": [{"id": "r"}]})").subject.has_value());
}

// ---- hostile text
// -------------------------------------------------------------

TEST(Bind, NotAnObject) {
  const std::pair<const char*, const char*> cases[] = {
      {"[1, 2]", "expected a JSON object, got array"},
      {"\"text\"", "expected a JSON object, got string"},
      {"12", "expected a JSON object, got number"},
      {"true", "expected a JSON object, got bool"},
      {"null", "expected a JSON object, got null"},
  };
  for (const auto& [json, message] : cases) {
    const record_facts r = bind_text(json);
    EXPECT_TRUE(r.unreadable) << json;
    EXPECT_EQ(errors_of(r), std::string(": ") + message);
    EXPECT_FALSE(r.subject.has_value());
  }
}

TEST(Bind, SyntaxErrorsNameLineAndColumn) {
  const std::pair<std::string, std::string> cases[] = {
      {R"({"facility": {"beds" 1}})", ": invalid JSON at 1:22: syntax error"},
      {"{\n  \"id\": \"x\",\n  \"a\": tru\n}", ": invalid JSON at 3:8: syntax error"},
      {"{\"名字\": \"值\", x}", ": invalid JSON at 1:13: syntax error"},
      {R"({"id": "x"} {})", ": invalid JSON at 1:13: extra data"},
      {R"({"id": "x")", ": invalid JSON at 1:11: incomplete JSON"},
      {"", ": invalid JSON at 1:1: incomplete JSON"},
      {"   \n ", ": invalid JSON at 2:2: incomplete JSON"},
      {R"({"a": [1, 2,]})", ": invalid JSON at 1:13: syntax error"},
      {"{\"a\": \"x\ty\"}", ": invalid JSON at 1:9: syntax error"},
      {R"({"a": 01})", ": invalid JSON at 1:8: syntax error"},
  };
  for (const auto& [json, expected] : cases) {
    const record_facts r = bind_text(json);
    EXPECT_TRUE(r.unreadable) << json;
    EXPECT_EQ(errors_of(r), expected) << json;
    EXPECT_FALSE(r.subject.has_value());
    EXPECT_EQ(cell(r.root, "facility.kitchen.exists").state, fact_state::absent);
  }
}

TEST(Bind, ErrorsBeforeASyntaxErrorAreDropped) {
  const record_facts r = bind_text(R"({"id": "s", "facility": {"beds": "x"}, })");
  EXPECT_TRUE(r.unreadable);
  EXPECT_EQ(r.errors.size(), 1u);
  EXPECT_FALSE(r.subject.has_value());
  EXPECT_EQ(cell(r.root, "facility.beds").state, fact_state::absent);
}

TEST(Bind, WhitespaceAndByteOrderMark) {
  const record_facts r = bind_text("\xEF\xBB\xBF \r\n\t{\"facility\": {\"beds\": 2}} \r\n");
  EXPECT_EQ(errors_of(r), "");
  EXPECT_EQ(cell(r.root, "facility.beds").v.i, 2);
  // A BOM anywhere else is not whitespace.
  EXPECT_TRUE(bind_text(" \xEF\xBB\xBF{}").unreadable);
}

TEST(Bind, InvalidUtf8IsAnErrorAtItsString) {
  const record_facts r = bind_text(
      "{\"facility\": {\"name\": \"ab\xC3\x28\", \"beds\": 3},"
      " \"codes\": [\"ok\", \"\xFF\"], \"x\xE2\x82\": 1, \"z\": \"\xC0\xAF\","
      " \"id\": \"\xED\xA0\x80\"}");
  EXPECT_FALSE(r.unreadable);
  EXPECT_EQ(errors_of(r),
            "/facility/name: invalid UTF-8 in string at byte 2\n"
            "/codes/1: invalid UTF-8 in string at byte 0\n"
            ": invalid UTF-8 in key at byte 1\n"
            "/z: invalid UTF-8 in string at byte 0\n"
            "/id: invalid UTF-8 in string at byte 0");
  EXPECT_EQ(cell(r.root, "facility.name").state, fact_state::error);
  EXPECT_EQ(cell(r.root, "facility.beds").v.i, 3);
  EXPECT_EQ(list(r.root, "codes").state, fact_state::error);
  EXPECT_EQ(list(r.root, "codes").items.size(), 2u);
  EXPECT_FALSE(r.subject.has_value());
  EXPECT_EQ(cell(r.root, "id").state, fact_state::error);
}

TEST(Bind, LoneSurrogateIsAnErrorOfItsString) {
  const record_facts high =
      bind_text(R"({"id": "x", "facility": {"name": "a\ud800b", "beds": 3}})");
  EXPECT_FALSE(high.unreadable);
  ASSERT_EQ(high.errors.size(), 1u);
  EXPECT_EQ(high.errors[0].path, "/facility/name");
  EXPECT_NE(high.errors[0].message.find("surrogate"), std::string::npos) << high.errors[0].message;
  EXPECT_EQ(cell(high.root, "facility.name").state, fact_state::error);
  EXPECT_EQ(cell(high.root, "facility.beds").v.i, 3);  // the rest of the record is kept
  EXPECT_EQ(*high.subject, "x");

  const record_facts low = bind_text(R"({"facility": {"\udc00": 1, "beds": 2}})");
  EXPECT_FALSE(low.unreadable);
  EXPECT_EQ(low.errors[0].path, "/facility");
  EXPECT_EQ(cell(low.root, "facility.beds").v.i, 2);

  for (const char* json :
       {R"({"facility": {"name": "\uD800"}})", R"({"facility": {"name": "\ud800\u0041"}})",
        R"({"facility": {"name": "\udbff\\"}})", R"({"facility": {"name": "x\udfff"}})"}) {
    const record_facts r = bind_text(json);
    EXPECT_FALSE(r.unreadable) << json;
    ASSERT_FALSE(r.errors.empty()) << json;
    EXPECT_EQ(r.errors[0].path, "/facility/name") << json;
    EXPECT_NE(r.errors[0].message.find("surrogate"), std::string::npos) << r.errors[0].message;
  }
  // A valid pair is one character; an escaped backslash before "ud800" is no escape at all.
  EXPECT_EQ(errors_of(bind_text(R"({"facility": {"name": "\ud83d\ude00"}})")), "");
  EXPECT_EQ(errors_of(bind_text(R"({"facility": {"name": "\\ud800"}})")), "");
}

TEST(Bind, EscapesInStringsAndKeys) {
  const record_facts r =
      bind_text(R"({"fac\u0069lity": {"na\/me": "x", "name": "a\"b\\c\n\u4e1c"}})");
  EXPECT_EQ(errors_of(r), "");
  EXPECT_EQ(cell(r.root, "facility.name").v.s(), "a\"b\\c\n东");
}

TEST(Bind, StringLimit) {
  bind_options options;
  options.limits.json_string = 1u << 20;
  const std::string big(2u << 20, 'a');
  const record_facts r =
      bind_text("{\"facility\": {\"name\": \"" + big + "\", \"beds\": 7}}", options);
  EXPECT_FALSE(r.unreadable);
  EXPECT_EQ(errors_of(r),
            "/facility/name: string of 2097152 bytes exceeds the limit "
            "json_string (1048576)");
  EXPECT_EQ(cell(r.root, "facility.name").state, fact_state::error);
  EXPECT_EQ(cell(r.root, "facility.beds").v.i, 7);

  // Exactly at the limit is fine, escapes or not; one byte more is not.
  options.limits.json_string = 8;
  EXPECT_EQ(errors_of(bind_text(R"({"facility": {"name": "12345678"}})", options)), "");
  EXPECT_EQ(errors_of(bind_text(R"({"facility": {"name": "12\n\n5678"}})", options)), "");
  EXPECT_EQ(errors_of(bind_text(R"({"facility": {"name": "12\n\n56789"}})", options)),
            "/facility/name: string of 9 bytes exceeds the limit json_string (8)");
  // A key over the limit: error at its object, the value skipped.
  const record_facts key =
      bind_text(R"({"facility": {"beds": 1, "123456789": {"x": 1, "x": 2}}})", options);
  EXPECT_EQ(errors_of(key),
            "/facility: key of 9 bytes exceeds the limit json_string (8)\n"
            "/facility/x: duplicate key \"x\"");
  EXPECT_EQ(cell(key.root, "facility.beds").v.i, 1);
}

std::string nested(std::size_t depth, char open, char close, const std::string& inner = "1") {
  std::string out;
  for (std::size_t i = 0; i < depth; ++i) {
    out.push_back(open);
    if (open == '{') out += "\"a\":";
  }
  out += inner;
  out.append(depth, close);
  return out;
}

TEST(Bind, DepthLimit) {
  // The top-level object is level 1: 64 levels are allowed.
  EXPECT_EQ(errors_of(bind_text(nested(64, '{', '}'))), "");
  // Past the limit the record keeps its shape (every fact in error), with the error at the
  // deepest pointer reached.
  const record_facts over = bind_text(nested(65, '{', '}'));
  EXPECT_FALSE(over.unreadable);
  std::string ptr;
  for (int i = 0; i < 64; ++i) ptr += "/a";
  EXPECT_EQ(errors_of(over), ptr + ": nesting deeper than 64 levels (limit json_depth)");

  const record_facts arrays = bind_text("{\"x\": " + nested(100, '[', ']') + "}");
  EXPECT_FALSE(arrays.unreadable);
  ASSERT_EQ(arrays.errors.size(), 1u);
  EXPECT_EQ(arrays.errors[0].path.substr(0, 7), "/x/0/0/");

  bind_options options;
  options.limits.json_depth = 3;
  EXPECT_EQ(errors_of(bind_text(R"({"residents": [{"meds": [{"name": "x"}]}]})", options)),
            "/residents/0/meds: nesting deeper than 3 levels (limit json_depth)");
}

TEST(Bind, HostileDepthDoesNotCrash) {
  for (const char* kind : {"[]", "{}"}) {
    const std::string deep = nested(100'000, kind[0], kind[1]);
    // an array is not an object at all; an object nested too deep keeps its shape
    EXPECT_EQ(bind_text(deep).unreadable, kind[0] == '[');
    // Reading stopped at the limit: the record keeps its shape, every fact in error.
    const record_facts stopped = bind_text("{\"a\":" + deep + "}");
    EXPECT_FALSE(stopped.unreadable);
    EXPECT_NE(errors_of(stopped).find("limit json_depth"), std::string::npos);
    EXPECT_EQ(cell(stopped.root, "facility.beds").state, fact_state::error);
    bind_options options;
    options.limits.json_depth = 1'000'000;
    const record_facts r = bind_text("{\"a\":" + deep + "}", options);
    EXPECT_FALSE(r.unreadable);
    EXPECT_NE(errors_of(r).find("limit json_depth"), std::string::npos);
    const std::vector<record_facts> each =
        bind_json_each(schema(), "{\"residents\": [{\"a\":" + deep + "}]}", {"residents"}, options);
    ASSERT_EQ(each.size(), 1u);
    EXPECT_TRUE(each[0].unreadable);
  }
  // Unclosed, too.
  EXPECT_TRUE(bind_text(std::string(1'000'000, '[')).unreadable);
}

TEST(Bind, LineBytes) {
  bind_options options;
  options.limits.line_bytes = 16;
  EXPECT_EQ(errors_of(bind_text(R"({"id": "123456"})", options)), "");
  const record_facts r = bind_text(R"({"id": "1234567"})", options);
  EXPECT_FALSE(r.unreadable);  // nothing read, every fact in error: the report keeps its shape
  EXPECT_EQ(errors_of(r), ": record of 17 bytes exceeds the limit line_bytes (16)");
}

// ---- the event interface (used by the Python binding)
// --------------------------------

TEST(Binder, EventsWithNativeDatesAndFaults) {
  record_facts out;
  bind_options options;
  binder b(schema(), options, out);
  b.begin_object();
  b.key("facility");
  b.begin_object();
  b.key("fire");
  b.begin_object();
  b.key("last_drill");
  EXPECT_EQ(b.pointer(), "/facility/fire/last_drill");
  b.date_value(day("2024-05-07"));
  b.end_object();
  b.key("name");
  b.fault("unsupported type numpy.ndarray");
  b.key("beds");
  b.date_value(day("2024-05-07"));
  b.end_object();
  b.key("codes");
  b.begin_array();
  b.string_value("a");
  EXPECT_EQ(b.pointer(), "/codes/1");
  b.fault("bad element");
  b.end_array();
  b.end_object();
  b.finish();
  EXPECT_EQ(errors_of(out),
            "/facility/name: unsupported type numpy.ndarray\n"
            "/facility/beds: expected an int in 0..10000 for `facility.beds`, "
            "got date 2024-05-07\n"
            "/codes/1: bad element");
  EXPECT_EQ(cell(out.root, "facility.fire.last_drill").v.i, day("2024-05-07"));
  EXPECT_EQ(cell(out.root, "facility.name").state, fact_state::error);
  EXPECT_EQ(list(out.root, "codes").state, fact_state::error);
  EXPECT_EQ(cell(out.root, "facility.kitchen.exists").state, fact_state::defaulted);
}

TEST(Binder, NothingBoundIsUnreadable) {
  record_facts out;
  bind_options options;
  binder b(schema(), options, out);
  b.finish();
  EXPECT_TRUE(out.unreadable);
}

// ---- strings stay put
// -----------------------------------------------------------

TEST(Bind, StringsAreStable) {
  std::string json = R"({"codes": [)";
  for (int i = 0; i < 2000; ++i) {
    if (i > 0) json += ",";
    json += "\"code-number-" + std::to_string(i) + "-long-enough-to-allocate\"";
  }
  json += "]}";
  const record_facts r = bind_text(json);
  const list_instance& codes = list(r.root, "codes");
  ASSERT_EQ(codes.items.size(), 2000u);
  for (int i = 0; i < 2000; i += 199) {
    EXPECT_EQ(codes.items[static_cast<std::size_t>(i)].v.s(),
              "code-number-" + std::to_string(i) + "-long-enough-to-allocate");
  }
}

// ---- --each
// -------------------------------------------------------------------

std::vector<record_facts> each(std::string_view json, std::vector<std::string> path = {"residents"},
                               bind_options options = {}) {
  return bind_json_each(schema(), json, path, options);
}

TEST(BindEach, OneRecordPerElement) {
  // Elements bind against the top-level schema: `id`, `facility`...
  const std::vector<record_facts> r = each(
      R"({"id": "home", "residents": [
            {"id": "r1", "facility": {"beds": 3}},
            {"id": 7, "facility": {"beds": "x"}},
            {"facility": {"beds": 1, "beds": 2}}
          ], "after": [1, {"x": 2}]})");
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(*r[0].subject, "r1");
  EXPECT_EQ(errors_of(r[0]), "");
  EXPECT_EQ(cell(r[0].root, "facility.beds").v.i, 3);
  EXPECT_EQ(cell(r[0].root, "facility.kitchen.exists").state, fact_state::defaulted);
  EXPECT_EQ(*r[1].subject, "7");
  // Pointers point into the whole text.
  EXPECT_EQ(errors_of(r[1]),
            "/residents/1/id: expected a string for `id`, got 7\n"
            "/residents/1/facility/beds: expected an int in 0..10000 for "
            "`facility.beds`, got \"x\"");
  EXPECT_FALSE(r[2].subject.has_value());
  EXPECT_EQ(errors_of(r[2]), "/residents/2/facility/beds: duplicate key \"beds\"");
}

TEST(BindEach, AbsentOrNullPathIsTheRecordsError) {
  // An empty list is no records; an absent or null PATH is not a list (api.md: a PATH that
  // is not a list in a record is that record's error).
  EXPECT_TRUE(each(R"({"residents": []})").empty());
  for (const char* json : {R"({"id": 1})", R"({"residents": null})"}) {
    const std::vector<record_facts> r = each(json);
    ASSERT_EQ(r.size(), 1u) << json;
    EXPECT_TRUE(r[0].unreadable);
    EXPECT_EQ(errors_of(r[0]), "/residents: expected a list at `residents`, found none");
  }
  const std::vector<record_facts> nested = each(R"({"a": {"c": []}})", {"a", "b"});
  ASSERT_EQ(nested.size(), 1u);
  EXPECT_EQ(errors_of(nested[0]), "/a/b: expected a list at `a.b`, found none");
}

TEST(BindEach, NestedPath) {
  const std::vector<record_facts> r =
      each(R"({"a": {"x": [], "b": [{"id": "one"}, {"id": "two"}]}, "b": [{}]})", {"a", "b"});
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(*r[1].subject, "two");
}

TEST(BindEach, PathNotAList) {
  const std::vector<record_facts> r = each(R"({"residents": {"id": 1}})");
  ASSERT_EQ(r.size(), 1u);
  EXPECT_TRUE(r[0].unreadable);
  EXPECT_EQ(errors_of(r[0]), "/residents: expected a list for `residents`, got object");
  const std::vector<record_facts> s = each(R"({"a": {"b": 3}})", {"a", "b"});
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(errors_of(s[0]), "/a/b: expected a list for `a.b`, got number");
  const std::vector<record_facts> t = each(R"({"a": "b"})", {"a", "b"});
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(errors_of(t[0]), "/a: expected an object for `a`, got string");
}

TEST(BindEach, ElementNotAnObject) {
  const std::vector<record_facts> r =
      each(R"({"residents": [{"id": "a"}, 3, null, ["x"], "s", {"id": "f"}]})");
  ASSERT_EQ(r.size(), 6u);
  EXPECT_FALSE(r[0].unreadable);
  EXPECT_EQ(errors_of(r[1]), "/residents/1: expected a JSON object, got number");
  EXPECT_EQ(errors_of(r[2]), "/residents/2: expected a JSON object, got null");
  EXPECT_EQ(errors_of(r[3]), "/residents/3: expected a JSON object, got array");
  EXPECT_EQ(errors_of(r[4]), "/residents/4: expected a JSON object, got string");
  for (int i = 1; i <= 4; ++i) EXPECT_TRUE(r[static_cast<std::size_t>(i)].unreadable);
  EXPECT_EQ(*r[5].subject, "f");
}

TEST(BindEach, UnreadableText) {
  const std::vector<record_facts> syntax = each(R"({"residents": [{"id": "a"}, {"id": "b"},)");
  ASSERT_EQ(syntax.size(), 1u);
  EXPECT_TRUE(syntax[0].unreadable);
  EXPECT_EQ(errors_of(syntax[0]), ": invalid JSON at 1:41: incomplete JSON");

  const std::vector<record_facts> top = each("[1]");
  ASSERT_EQ(top.size(), 1u);
  EXPECT_EQ(errors_of(top[0]), ": expected a JSON object, got array");

  bind_options options;
  options.limits.line_bytes = 4;
  const std::vector<record_facts> big = each("{   }", {"residents"}, options);
  ASSERT_EQ(big.size(), 1u);
  EXPECT_TRUE(big[0].unreadable);
}

TEST(BindEach, ElementDepthIsThatElementsError) {
  bind_options options;
  options.limits.json_depth = 3;
  const std::vector<record_facts> r =
      each(R"({"residents": [{"a": {"b": {"c": {}}}}, {"id": "ok"}]})", {"residents"}, options);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_FALSE(r[0].unreadable);  // the element keeps its shape, every fact in error
  EXPECT_EQ(errors_of(r[0]),
            "/residents/0/a/b/c: nesting deeper than 3 levels (limit "
            "json_depth)");
  EXPECT_EQ(*r[1].subject, "ok");
}

TEST(BindEach, RecordsAreMovedNotCopied) {
  std::string json = R"({"residents": [)";
  for (int i = 0; i < 300; ++i) {
    if (i > 0) json += ",";
    json +=
        R"({"facility": {"name": "a name long enough to allocate )" + std::to_string(i) + "\"}}";
  }
  json += "]}";
  const std::vector<record_facts> r = each(json);
  ASSERT_EQ(r.size(), 300u);
  EXPECT_EQ(cell(r[299].root, "facility.name").v.s(), "a name long enough to allocate 299");
  EXPECT_EQ(cell(r[0].root, "facility.name").v.s(), "a name long enough to allocate 0");
}

}  // namespace
}  // namespace carerules::detail

namespace carerules::detail {
namespace {

// One bad value never spoils a record: a number whose exponent no parser counter holds is
// nothing when no input reads it, and an error at its own pointer when one does.
TEST(Bind, ExponentOverflowIsOneBadValue) {
  const record_facts unread =
      bind_text(R"({"junk": 1e99999999999999999999, "facility": {"beds": 3}})");
  EXPECT_FALSE(unread.unreadable);
  EXPECT_TRUE(unread.errors.empty()) << unread.errors.front().message;
  EXPECT_EQ(cell(unread.root, "facility.beds").state, fact_state::present);

  const record_facts read = bind_text(
      R"({"facility": {"beds": -1e-99999999999999999999, "risk": "red"}, "s": "1e99999999999"})");
  EXPECT_FALSE(read.unreadable);
  ASSERT_EQ(read.errors.size(), 1u);
  EXPECT_EQ(read.errors[0].path, "/facility/beds");
  EXPECT_EQ(cell(read.root, "facility.beds").state, fact_state::error);
  EXPECT_EQ(cell(read.root, "facility.risk").state, fact_state::present);
}

// Wherever an overflowing number sits in text no input reads (any case of `e`, a sign, inside
// lists and nested objects, before or after the facts, next to strings that look like
// numbers), the record is read as if it were not there.
TEST(Bind, UnreadOverflowingNumbersLeaveNoTrace) {
  const std::string big = "1e99999999999999999999";
  const std::string cases[] = {
      R"({"junk": 1E+99999999999999999999, "facility": {"beds": 3}})",
      R"({"junk": [)" + big + R"(, -0.5e-99999999999999999999], "facility": {"beds": 3}})",
      R"({"x": {"y": {"z": )" + big + R"(}}, "facility": {"beds": 3}})",
      R"({"facility": {"beds": 3}, "junk": )" + big + "}",
      R"({"facility": {"beds": 3, "extra": )" + big + "}}",
      R"({"q": "a\"1e9", "k)" + big + R"(": )" + big + R"(, "facility": {"beds": 3}})",
      R"({"a": )" + big + ", \"b\": " + big + R"(, "facility": {"beds": 3}})",
      R"({"huge": 123456789012345678901234567890e-5, "facility": {"beds": 3}})",
      R"({"inf": 1e400, "zero": 1e-400, "facility": {"beds": 3}})",
  };
  for (const std::string& json : cases) {
    SCOPED_TRACE(json);
    const record_facts r = bind_text(json);
    EXPECT_FALSE(r.unreadable);
    EXPECT_EQ(errors_of(r), "");
    EXPECT_EQ(cell(r.root, "facility.beds").state, fact_state::present);
    EXPECT_EQ(cell(r.root, "facility.beds").v.i, 3);
  }
}

// An overflowing number that an input reads is an error at its own pointer only: the rest of
// the record, and the other elements of its list, are read.
TEST(Bind, ReadOverflowingNumberIsAnErrorAtItsPointer) {
  const std::string big = "1e99999999999999999999";
  struct row {
    std::string json;
    std::string error_path;
  };
  const row rows[] = {
      {R"({"id": "x", "facility": {"beds": )" + big + "}}", "/facility/beds"},
      {R"({"id": "x", "facility": {"ratio": -)" + big + "}}", "/facility/ratio"},
      {R"({"id": "x", "facility": {"name": )" + big + "}}", "/facility/name"},
      {R"({"id": "x", "residents": [{"ability": )" + big + R"(}, {"ability": 3}]})",
       "/residents/0/ability"},
      {R"({"id": "x", "codes": ["a", )" + big + "]}", "/codes/1"},
  };
  for (const row& r : rows) {
    SCOPED_TRACE(r.json);
    const record_facts f = bind_text(r.json);
    EXPECT_FALSE(f.unreadable);
    ASSERT_EQ(f.errors.size(), 1u) << errors_of(f);
    EXPECT_EQ(f.errors[0].path, r.error_path);
    ASSERT_TRUE(f.subject.has_value());
    EXPECT_EQ(*f.subject, "x");
  }
  // With `--each`, each element is a record of the top-level schema.
  const std::vector<record_facts> elements =
      each(R"({"residents": [{"facility": {"beds": )" + big + R"(}}, {"facility": {"beds": 3}}]})");
  ASSERT_EQ(elements.size(), 2u);
  EXPECT_EQ(errors_of(elements[0]).rfind("/residents/0/facility/beds: ", 0), 0u)
      << errors_of(elements[0]);
  EXPECT_EQ(errors_of(elements[1]), "");
  EXPECT_EQ(cell(elements[1].root, "facility.beds").v.i, 3);
}

// Text that is not an object: broken JSON is said to be broken (where), whole JSON of another
// kind is said to be that kind.
TEST(Bind, NonObjectRecords) {
  struct row {
    std::string json;
    std::string message;  // the start of the one error
  };
  const row rows[] = {
      {"[1,", "invalid JSON at 1:4"},
      {"[1e99999999999999999999,", "invalid JSON at 1:25"},
      {"\"abc", "invalid JSON at 1:5"},
      {"tru", "invalid JSON at 1:4"},
      {"[1, 2] x", "invalid JSON at 1:8: extra data"},
      {"[{\"a\": 1},\n", "invalid JSON at 2:1"},
      {"1e99999999999999999999", "expected a JSON object, got number"},
      {"[1, 2]", "expected a JSON object, got array"},
      {"\"s\"", "expected a JSON object, got string"},
      {"null", "expected a JSON object, got null"},
  };
  for (const row& r : rows) {
    SCOPED_TRACE(r.json);
    const record_facts f = bind_text(r.json);
    EXPECT_TRUE(f.unreadable);
    ASSERT_EQ(f.errors.size(), 1u) << errors_of(f);
    EXPECT_EQ(f.errors[0].message.rfind(r.message, 0), 0u) << f.errors[0].message;
  }
}

// Text that is neither an object nor JSON is reported as broken JSON, with where.
TEST(Bind, BrokenNonObjectIsInvalidJson) {
  const record_facts r = bind_text("[1,");
  ASSERT_TRUE(r.unreadable);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].message.rfind("invalid JSON at 1:4", 0), 0u) << r.errors[0].message;
  EXPECT_EQ(r.syntax_line, 1u);
  EXPECT_EQ(r.syntax_column, 4u);
  const record_facts whole = bind_text("[1, 2]");
  ASSERT_TRUE(whole.unreadable);
  EXPECT_EQ(whole.errors[0].message, "expected a JSON object, got array");
}

}  // namespace
}  // namespace carerules::detail
