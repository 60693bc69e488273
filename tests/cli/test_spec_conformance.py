# Spec conformance: one test per testable sentence or example of the language and the API
# (docs/reference/), with expected values worked out by hand from the specs (not from the
# tool). Cases about the language's semantics alone (a value or a hazard's outcome from given
# facts) live in tests/lang/spec/ as test blocks, which run in-process and through the
# reference evaluator; what stays here is about the CLI, the report and diagnostics.
import datetime
import hashlib
import json
import os
import re
import subprocess
import unicodedata
from decimal import Decimal

import pytest

BIN = os.environ.get("CARERULES_BIN") or str(
    __import__("pathlib").Path(__file__).resolve().parents[2] / "build" / "bin" / "carerules")
ASOF = "2024-06-01"


def load(text):
    return json.loads(text, parse_float=Decimal)


def R(body, name="t", header=""):
    return f'ruleset {name} {{\n  title "T"\n  version "1"\n{header}{body}\n}}\n'


class W:
    def __init__(self, d):
        self.d = d

    def write(self, name, content):
        p = self.d / name
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            content = content.encode("utf-8")
        p.write_bytes(content)
        return p

    def run(self, *args, stdin=None):
        p = subprocess.run([BIN, *args], cwd=self.d, input=stdin, capture_output=True, timeout=120)
        p.out = p.stdout.decode("utf-8", "replace")
        p.err = p.stderr.decode("utf-8", "replace")
        return p

    def eval(self, rules, facts, *extra, asof=ASOF, fname="f.json"):
        self.write("t.rules", rules)
        if isinstance(facts, (dict, list)):
            facts = json.dumps(facts, ensure_ascii=False)
        self.write(fname, facts)
        args = ["eval", "-r", "t.rules", fname]
        if asof:
            args += ["--asof", asof]
        p = self.run(*args, *extra)
        rep = None
        if p.stdout.strip():
            try:
                rep = load(p.out)
            except ValueError:
                rep = None
        return rep, p

    def check(self, rules, *extra):
        self.write("t.rules", rules)
        return self.run("check", "t.rules", *extra)

    def test(self, rules, *extra):
        self.write("t.rules", rules)
        return self.run("test", "t.rules", *extra)


@pytest.fixture
def w(tmp_path):
    return W(tmp_path)


def item(w, expr, inputs="", facts=None):
    """Value of an expression observed as the signed points of a score item."""
    inp = f"  input {{\n{inputs}\n  }}\n" if inputs else ""
    rep, p = w.eval(R(inp + f"  score s {{ item V \"v\" ({expr}) }}"), facts or {})
    assert rep is not None, p.err
    return rep["scores"]["s"]["items"][0], rep, p


def hz(w, cond, inputs="", facts=None, extra=""):
    inp = f"  input {{\n{inputs}\n  }}\n" if inputs else ""
    rep, p = w.eval(R(inp + extra + f'  hazard H "h" {{ cite "c" when {cond} }}'), facts or {})
    assert rep is not None, p.err
    return rep["hazards"][-1], rep, p


DIAG = re.compile(r"^(?P<file>[^\n:]+):(?P<line>\d+):(?P<col>\d+): (?P<sev>error|warning): (?P<msg>.*)$", re.M)


def errors_of(p):
    return [m for m in DIAG.finditer(p.err) if m["sev"] == "error"]


def dwidth(s):
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in s)


# ---------------------------------------------------------------- §1 lexical

def test_cjk_identifiers_and_ids(w):
    rules = R('  input { 设施.消防验收 : bool }\n  hazard 第四条.一 "未验收" { cite "c" when 设施.消防验收 == false }')
    rep, p = w.eval(rules, {"设施": {"消防验收": False}})
    assert rep["hazards"][0]["id"] == "第四条.一"
    assert rep["hazards"][0]["status"] == "present"


def test_integer_literal_must_fit_64_bits(w):
    p = w.check(R('  score s { item V "v" (9223372036854775808) }'))
    assert p.returncode == 1 and errors_of(p)


def test_string_escapes(w):
    rules = 'ruleset t {\n  title "a\\"b\\\\c\\n\\t\\u4e2d"\n  version "1"\n}\n'
    rep, p = w.eval(rules, {})
    assert rep["ruleset"]["title"] == 'a"b\\c\n\t中'


def test_unknown_escape_is_error(w):
    p = w.check('ruleset t {\n  title "a\\qb"\n  version "1"\n}\n')
    assert p.returncode == 1
    e = errors_of(p)
    assert e and e[0]["line"] == "2"


def test_lone_surrogate_escape_is_error(w):
    p = w.check('ruleset t {\n  title "a\\ud800b"\n  version "1"\n}\n')
    assert p.returncode == 1 and errors_of(p)


def test_decimal_needs_digits_both_sides(w):
    p = w.check(R('  score s { item V "v" (.5) }'))
    assert p.returncode == 1
    p = w.check(R('  score s { item V "v" (1e2) }'))
    assert p.returncode == 1


def test_column_counts_code_points_and_caret_display_width(w):
    rules = R("  let 甲乙 = zz.q\n")
    p = w.check(rules)
    assert p.returncode == 1
    e = errors_of(p)[0]
    assert (e["file"], e["line"], e["col"]) == ("t.rules", "4", "12")
    lines = p.err.splitlines()
    i = next(k for k, l in enumerate(lines) if "let 甲乙 = zz.q" in l)
    src, caret = lines[i], lines[i + 1]
    assert caret.index("^") == dwidth(src[:src.index("zz.q")])


# ---------------------------------------------------------------- §2 a file

SPEC_HEADER = '''ruleset mca_major_hazards {
  title   "养老机构重大事故隐患判定"
  version "2023.1"
  source  "民政部办公厅, 2023-11-27; Articles 4–5(三) encoded"   # shown in every report
  effective @2023-11-27                  # optional; reports carry it
  input { facility.building.appraisal   : enum("A", "B", "C", "D") }
  hazard A4.1 "建筑设施经鉴定属于C级、D级危房" {
    category facilities                    # any identifier; reports group by it (default: other)
    severity major                         # major | general (default: major)
    cite     "养老机构重大事故隐患判定标准(2023) 第四条第(一)项"
    when     facility.building.appraisal in ["C", "D"]
    rectify  suspend within 90 days        # immediate | deadline | suspend | close
    advice   "停止使用危房, 安置入住老年人后加固或拆除"   # optional text for the remedy list
  }
}
'''


def test_spec_header_and_report_ruleset_block(w):
    rep, p = w.eval(SPEC_HEADER, {"facility": {"building": {"appraisal": "C"}}})
    assert p.returncode == 0, p.err
    data = (w.d / "t.rules").read_bytes()
    rs = rep["ruleset"]
    assert list(rs) == ["name", "title", "version", "source", "effective", "digest"]
    assert rs == {"name": "mca_major_hazards", "title": "养老机构重大事故隐患判定", "version": "2023.1",
                  "source": "民政部办公厅, 2023-11-27; Articles 4–5(三) encoded", "effective": "2023-11-27",
                  "digest": "sha256:" + hashlib.sha256(data).hexdigest()}


def test_spec_hazard_example_report_entry(w):
    rep, p = w.eval(SPEC_HEADER, {"facility": {"building": {"appraisal": "C"}}})
    h = rep["hazards"][0]
    assert list(h) == ["id", "title", "category", "severity", "status", "cite", "rectify", "advice", "evidence"]
    assert h == {"id": "A4.1", "title": "建筑设施经鉴定属于C级、D级危房", "category": "facilities",
                 "severity": "major", "status": "present", "cite": "养老机构重大事故隐患判定标准(2023) 第四条第(一)项",
                 "rectify": {"action": "suspend", "within_days": 90, "due": "2024-08-30"},
                 "advice": "停止使用危房, 安置入住老年人后加固或拆除",
                 "evidence": {"facility.building.appraisal": "C"}}
    assert list(h["rectify"]) == ["action", "within_days", "due"]


def test_source_and_effective_omitted_when_absent(w):
    rep, p = w.eval(R(""), {})
    assert list(rep["ruleset"]) == ["name", "title", "version", "digest"]


def test_title_required(w):
    p = w.check('ruleset t {\n  version "1"\n}\n')
    assert p.returncode == 1 and errors_of(p)


def test_version_required(w):
    p = w.check('ruleset t {\n  title "x"\n}\n')
    assert p.returncode == 1 and errors_of(p)


def test_cycle_rejected_with_names(w):
    p = w.check(R("  let alpha = beta + 1\n  let beta = alpha + 1"))
    assert p.returncode == 1
    assert "alpha" in p.err and "beta" in p.err


def test_shared_namespace_let_and_hazard(w):
    p = w.check(R('  let A1 = 1\n  hazard A1 "h" { cite "c" when true }'))
    assert p.returncode == 1 and errors_of(p)


def test_import_merges_and_orders_c_b_a(w):
    w.write("c.rules", R('  hazard HC "c" { cite "c" when true }', name="c"))
    w.write("b.rules", R('  import "c.rules"\n  hazard HB "b" { cite "c" when true }', name="b"))
    rep, p = w.eval(R('  import "b.rules"\n  hazard HA "a" { cite "c" when true }', name="a"), {})
    assert p.returncode == 0, p.err
    assert [h["id"] for h in rep["hazards"]] == ["HC", "HB", "HA"]
    assert rep["ruleset"]["name"] == "a"


def test_import_diamond_merged_once_and_digest_order(w):
    w.write("d.rules", R('  input { x : int }\n  hazard HD "d" { cite "c" when x > 0 }', name="d"))
    w.write("b.rules", R('  import "d.rules"\n  hazard HB "b" { cite "c" when true }', name="b"))
    w.write("c.rules", R('  import "d.rules"\n  hazard HC "c" { cite "c" when true }', name="c"))
    rep, p = w.eval(R('  import "b.rules"\n  import "c.rules"', name="a"), {"x": 1})
    assert p.returncode == 0, p.err
    ids = [h["id"] for h in rep["hazards"]]
    assert ids.count("HD") == 1
    b = lambda n: (w.d / n).read_bytes()
    dig = hashlib.sha256(b("t.rules") + b("b.rules") + b("d.rules") + b("c.rules")).hexdigest()
    assert rep["ruleset"]["digest"] == "sha256:" + dig


def test_import_same_input_alike_is_one(w):
    w.write("b.rules", R('  input { x : int in 0..9 = 1 }', name="b"))
    p = w.check(R('  import "b.rules"\n  input { x : int in 0..9 = 1 }'))
    assert p.returncode == 0, p.err


def test_import_same_input_differently_is_error(w):
    w.write("b.rules", R('  input { x : int }', name="b"))
    p = w.check(R('  import "b.rules"\n  input { x : number }'))
    assert p.returncode == 1


def test_import_cycle_is_error_naming_files(w):
    w.write("b.rules", R('  import "t.rules"', name="b"))
    p = w.check(R('  import "b.rules"'))
    assert p.returncode == 1
    assert "b.rules" in p.err and "t.rules" in p.err


def test_imported_tests_not_run(w):
    w.write("b.rules", R('  test "bad" { asof @2024-06-01 given {} expect 1 == 2 }', name="b"))
    p = w.test(R('  import "b.rules"\n  test "good" { asof @2024-06-01 given {} expect 1 == 1 }'))
    assert p.returncode == 0, p.out + p.err
    assert p.out.strip().splitlines()[-1] == "1 passed, 0 failed"


def test_import_dotdot_leaving_root_is_error(w):
    w.write("outside.rules", R("", name="o"))
    w.write("sub/t.rules", R('  import "../outside.rules"'))
    p = w.run("check", "sub/t.rules")
    assert p.returncode == 1 and errors_of(p)


def test_import_root_option_allows(w):
    w.write("lib/o.rules", R('  hazard HO "o" { cite "c" when true }', name="o"))
    w.write("sub/t.rules", R('  import "../lib/o.rules"'))
    p = w.run("check", "sub/t.rules", "--import-root", "lib")
    assert p.returncode == 0, p.err


def test_absolute_import_outside_roots_error_inside_ok(w):
    w.write("outside.rules", R("", name="o"))
    w.write("sub/in.rules", R("", name="i"))
    w.write("sub/t.rules", R(f'  import "{w.d}/outside.rules"'))
    assert w.run("check", "sub/t.rules").returncode == 1
    w.write("sub/t.rules", R(f'  import "{w.d}/sub/in.rules"'))
    p = w.run("check", "sub/t.rules")
    assert p.returncode == 0, p.err


# ---------------------------------------------------------------- §3 inputs

SPEC_INPUT = '''  input {
    id                            : string
    facility.beds                 : int     "核定床位数"
    facility.building.appraisal   : enum("A", "B", "C", "D")
    facility.fire.last_drill      : date
    facility.kitchen.exists       : bool = false     # default used when the fact is absent
    areas.fire.L                  : enum(10, 6, 3, 1, 0.5, 0.2, 0.1)
    residents : list {
      id       : string
      ability  : int in 0..90                        # inclusive range, checked on every fact
      wanders  : bool = false
    }
    codes : list<string>
  }
'''


def test_spec_input_block_compiles_and_default(w):
    rules = R(SPEC_INPUT + '  hazard K "k" { cite "c" when not facility.kitchen.exists }')
    rep, p = w.eval(rules, {"id": "FJ-XM-0007"})
    assert p.returncode == 0, p.err
    assert rep["subject"] == "FJ-XM-0007"
    assert rep["hazards"][0]["status"] == "present"
    assert rep["hazards"][0]["evidence"] == {"facility.kitchen.exists": False}


def test_json_null_same_as_absent_uses_default(w):
    rules = R(SPEC_INPUT + '  hazard K "k" { cite "c" when not facility.kitchen.exists }')
    # the outcome itself is a test block in tests/lang/spec/facts_read.rules
    rep, p = w.eval(rules, {"facility": {"kitchen": {"exists": None}}})
    assert rep["errors"] == []


def test_range_inclusive_edge_ok(w):
    rules = R(SPEC_INPUT)
    rep, p = w.eval(rules, {"residents": [{"id": "a", "ability": 90}, {"id": "b", "ability": 0}]})
    assert p.returncode == 0 and rep["errors"] == []


def test_range_violation_is_record_error_at_pointer(w):
    rep, p = w.eval(R(SPEC_INPUT), {"residents": [{"id": "a", "ability": 10}, {"id": "b", "ability": 91}]})
    assert p.returncode == 1
    assert [e["path"] for e in rep["errors"]] == ["/residents/1/ability"]


def test_enum_of_numbers(w):
    # the outcome itself is a test block in tests/lang/spec/facts_read.rules
    rules = R(SPEC_INPUT + '  hazard L "l" { cite "c" when areas.fire.L == 0.5 }')
    rep, p = w.eval(rules, {"areas": {"fire": {"L": 0.5}}})
    assert p.returncode == 0
    rep, p = w.eval(rules, {"areas": {"fire": {"L": 2}}})
    assert p.returncode == 1 and rep["errors"][0]["path"] == "/areas/fire/L"
    assert rep["hazards"][0]["status"] == "undetermined"
    assert rep["hazards"][0]["missing"] == ["areas.fire.L"]


def test_undeclared_path_did_you_mean(w):
    p = w.check(R('  input { facility.beds : int }\n  hazard H "h" { cite "c" when facility.bed > 1 }'))
    assert p.returncode == 1
    assert "did you mean" in p.err and "facility.beds" in p.err


def test_undeclared_keys_ignored(w):
    rep, p = w.eval(R('  input { x : int }'), {"x": 1, "junk": {"a": [1, 2]}})
    assert p.returncode == 0 and rep["errors"] == []


def test_null_list_element_is_record_error(w):
    rules = R('  input { residents : list { a : int } }\n  score s { item V "v" (count(r in residents)) }')
    # the outcome itself is a test block in tests/lang/spec/null_element.rules
    rep, p = w.eval(rules, {"residents": [{"a": 1}, None]})
    assert p.returncode == 1
    assert rep["errors"][0]["path"] == "/residents/1"


# ---------------------------------------------------------------- §4 expressions

def test_coalesce_does_not_replace_error(w):
    # the outcome itself is a test block in tests/lang/spec/evaluation_errors.rules
    it, rep, p = item(w, "(1 / z) ?? 7", "z : int", {"z": 0})
    assert any(e.get("rule") == "V" for e in rep["errors"])
    assert p.returncode == 1


def test_division_result_written_shortest(w):
    it, rep, p = item(w, "1 / 3")
    assert '"points":0.333333' in p.out
    it, rep, p = item(w, "812.5 + 0")
    assert '"points":812.5' in p.out


def test_modulo_of_number_is_compile_error(w):
    assert w.check(R('  score s { item V "v" (7.5 % 2) }')).returncode == 1
    assert w.check(R('  score s { item V "v" (7 / 1 % 2) }')).returncode == 1


def test_int_overflow_is_error(w):
    # the outcome itself is a test block in tests/lang/spec/evaluation_errors.rules
    it, rep, p = item(w, "9223372036854775807 + x", "x : int", {"x": 1})
    assert any(e.get("rule") == "V" for e in rep["errors"])


def test_division_by_zero_is_error(w):
    # the outcome itself is a test block in tests/lang/spec/evaluation_errors.rules
    it, rep, p = item(w, "1 / z", "z : int", {"z": 0})
    assert it["points"] == 0
    assert any(e.get("rule") == "V" for e in rep["errors"])


def test_date_past_9999_is_error(w):
    # the outcome itself is a test block in tests/lang/spec/evaluation_errors.rules
    h, rep, p = hz(w, "@9999-12-31 + n > @2000-01-01", "n : int", {"n": 1})
    assert any(e.get("rule") == "H" for e in rep["errors"])


def test_date_fact_days_since_and_evidence(w):
    # the outcome itself is a test block in tests/lang/spec/facts_read.rules
    h, rep, p = hz(w, "days_since(facility.fire.last_drill) > 30", "facility.fire.last_drill : date",
                   {"facility": {"fire": {"last_drill": "2024-04-01"}}})
    assert h["evidence"] == {"facility.fire.last_drill": "2024-04-01"}


RES = "residents : list { ability : int\n wanders : bool }"


def test_any_all_need_where(w):
    p = w.check(R(f"  input {{ {RES} }}\n" + '  hazard H "h" { cite "c" when any(r in residents) }'))
    assert p.returncode == 1


def test_sum_needs_value(w):
    p = w.check(R(f"  input {{ {RES} }}\n" + '  score s { item V "v" (sum(r in residents where r.wanders)) }'))
    assert p.returncode == 1


def test_unknown_arithmetic_missing(w):
    # the outcome itself is a test block in tests/lang/spec/unknowns.rules
    h, rep, p = hz(w, "x + 1 > 0", "x : int", {})
    assert h["missing"] == ["x"]
    assert p.returncode == 0


def test_missing_indirect_through_let(w):
    h, rep, p = hz(w, "l > 1", "a : int", {}, extra="  let l = a + 1\n")
    assert h["missing"] == ["a"]


def test_missing_order_declaration_then_index(w):
    inputs = "residents : list { ability : int }\n x : int\n y : int"
    cond = "y > 1 and x > 1 and count(r in residents where r.ability < 30) > 0 and y > 2"
    h, rep, p = hz(w, cond, inputs, {"residents": [{}, {"ability": 5}, {}]})
    assert h["status"] == "undetermined"
    assert h["missing"] == ["residents[0].ability", "residents[2].ability", "x", "y"]


def test_hazards_list_one_present_major_decides(w):
    rules = R('  input { a : bool\n b : bool }\n'
              '  hazard H1 "1" { cite "c" when a }\n  hazard H2 "2" { cite "c" when b }\n'
              '  grade risk : color {\n    red when any(h in hazards where h.severity == "major")\n    blue otherwise\n  }')
    # the outcome itself is a test block in tests/lang/spec/hazards_list.rules
    rep, p = w.eval(rules, {"a": False})
    assert rep["grades"]["risk"]["missing"] == ["b"]


def test_hazard_reading_hazards_is_error(w):
    p = w.check(R('  hazard H "h" { cite "c" when any(h in hazards where h.severity == "major") }'))
    assert p.returncode == 1


def test_error_in_let_listed_and_unknown_to_readers(w):
    # the outcome itself is a test block in tests/lang/spec/evaluation_errors.rules
    h, rep, p = hz(w, "bad > 1", "z : int", {"z": 0}, extra="  let bad = 10 / z\n")
    assert [e.get("rule") for e in rep["errors"]] == ["bad"]
    assert p.returncode == 1


def test_error_in_hazard(w):
    # the outcome itself is a test block in tests/lang/spec/evaluation_errors.rules
    h, rep, p = hz(w, "10 / z > 1", "z : int", {"z": 0})
    assert rep["errors"][0]["rule"] == "H" and rep["errors"][0]["message"]


# ---------------------------------------------------------------- §5 hazards

def test_hazard_defaults(w):
    rules = R('  hazard H1 "1" { when true }\n  hazard H2 "2" { severity general when true }')
    rep, p = w.eval(rules, {})
    h1, h2 = rep["hazards"]
    assert (h1["category"], h1["severity"], h1["rectify"], h1["cite"]) == ("other", "major", {"action": "suspend"}, None)
    assert (h2["severity"], h2["rectify"]) == ("general", {"action": "deadline"})
    assert "advice" not in h1


def test_check_warns_without_cite(w):
    p = w.check(R('  hazard H1 "1" { when true }'))
    assert p.returncode == 0
    assert re.search(r"^t\.rules:\d+:\d+: warning: ", p.err, re.M)


def test_rectify_within_day_and_actions(w):
    rules = R('  hazard H1 "1" { cite "c" when true rectify immediate within 1 day }\n'
              '  hazard H2 "2" { cite "c" when true rectify close }\n'
              '  hazard H3 "3" { cite "c" when true rectify deadline within 30 days }')
    rep, p = w.eval(rules, {})
    assert rep["hazards"][0]["rectify"] == {"action": "immediate", "within_days": 1, "due": "2024-06-02"}
    assert rep["hazards"][1]["rectify"] == {"action": "close"}
    assert rep["hazards"][2]["rectify"] == {"action": "deadline", "within_days": 30, "due": "2024-07-01"}


def test_hazard_requires_when(w):
    assert w.check(R('  hazard H1 "1" { cite "c" }')).returncode == 1


def test_undetermined_hazard_entry_shape(w):
    rules = R('  input { facility.fire.found_noncompliant : bool }\n'
              '  hazard A4.2 "t" { category facilities cite "c" when facility.fire.found_noncompliant }')
    rep, p = w.eval(rules, {})
    h = rep["hazards"][0]
    assert list(h) == ["id", "title", "category", "severity", "status", "cite", "rectify", "evidence", "missing"]
    assert h["status"] == "undetermined" and h["evidence"] == {}
    assert h["missing"] == ["facility.fire.found_noncompliant"]
    assert h["rectify"] == {"action": "suspend"}


def test_absent_hazard_listed_without_missing(w):
    rep, p = w.eval(R('  hazard H "h" { cite "c" when false }'), {})
    assert rep["hazards"][0]["status"] == "absent" and "missing" not in rep["hazards"][0]


def test_evidence_short_circuit_and_first_read_order(w):
    h, rep, p = hz(w, "b or a or c", "a : bool\n b : bool\n c : bool", {"a": True, "b": False, "c": True})
    assert h["status"] == "present"
    assert list(h["evidence"].items()) == [("b", False), ("a", True)]


def test_evidence_list_element_paths(w):
    h, rep, p = hz(w, "any(r in residents where r.wanders)", RES,
                   {"residents": [{"wanders": False}, {"wanders": False}, {"wanders": True}]})
    assert h["evidence"] == {"residents[0].wanders": False, "residents[1].wanders": False,
                             "residents[2].wanders": True}


# ---------------------------------------------------------------- §6 scores

SPEC_SCORE = '''  input {
    facility.env.transit : bool
    facility.env.barrier_free_ratio : number
    facility.env.blocked_passage : bool
    facility.scores.service : number
    facility.accidents_12m : int
  }
  score quality max 1000 {
    section environment max 120 {
      item E1 "交通便利, 周边有公共服务设施"   10  when facility.env.transit
      item E2 "无障碍通道覆盖全部公共区域"      (if facility.env.barrier_free_ratio >= 1 then 15 else 5)
      deduct E9 "消防通道堆放杂物"              5   when facility.env.blocked_passage
    }
    section service max 600 { item S1 "服务评分" facility.scores.service }
    deduct D1 "近一年发生安全责任事故" 50 when facility.accidents_12m > 0
  }
'''
SPEC_SCORE_F = {"facility": {"env": {"transit": True, "barrier_free_ratio": 1, "blocked_passage": True},
                             "scores": {"service": 540}, "accidents_12m": 0}}


def test_spec_score_example(w):
    rep, p = w.eval(R(SPEC_SCORE), SPEC_SCORE_F)
    assert p.returncode == 0, p.err
    q = rep["scores"]["quality"]
    assert list(q) == ["total", "provisional", "sections", "items"]
    assert q["total"] == 560 and q["provisional"] is False
    assert q["sections"] == {"environment": 20, "service": 540}
    assert q["items"] == [
        {"id": "E1", "section": "environment", "kind": "item", "points": 10, "status": "awarded"},
        {"id": "E2", "section": "environment", "kind": "item", "points": 15, "status": "awarded"},
        {"id": "E9", "section": "environment", "kind": "deduct", "points": -5, "status": "awarded"},
        {"id": "S1", "section": "service", "kind": "item", "points": 540, "status": "awarded"},
        {"id": "D1", "section": None, "kind": "deduct", "points": 0, "status": "not_awarded"},
    ]


def test_score_without_max_no_upper_clamp_and_negative_item(w):
    # the outcome itself is a test block in tests/lang/spec/scores.rules
    rep, p = w.eval(R('  score s { item A "a" 1500 item B "b" -3 }'), {})
    assert rep["scores"]["s"]["items"][1]["points"] == -3


def test_score_provisional(w):
    f = json.loads(json.dumps(SPEC_SCORE_F))
    del f["facility"]["env"]["transit"]
    # the outcome itself is a test block in tests/lang/spec/scores.rules
    rep, p = w.eval(R(SPEC_SCORE), f)
    q = rep["scores"]["quality"]
    assert q["total"] == 550
    assert q["items"][0] == {"id": "E1", "section": "environment", "kind": "item", "points": 0, "status": "undetermined"}
    assert q["missing"] == ["facility.env.transit"]
    assert list(q)[-1] == "missing"


def test_score_errored_item_makes_provisional(w):
    # the outcome itself is a test block in tests/lang/spec/scores.rules
    rep, p = w.eval(R('  input { z : int }\n  score s { item A "a" (1 / z) item B "b" 2 }'), {"z": 0})
    assert rep["scores"]["s"]["total"] == 2


# ---------------------------------------------------------------- §7 grades

RISK = '''  input { a : bool
    risk_points : int }
  hazard H1 "h" { cite "c" when a }
  grade risk : color {                      # built-in scale blue < yellow < orange < red
    red    when any(h in hazards where h.severity == "major")
    orange   when   risk_points >= 160   # comment
    yellow when risk_points >= 70
    blue   otherwise
  }
'''


@pytest.mark.parametrize("facts,value,because", [
    ({"a": True}, "red", 'red when any(h in hazards where h.severity == "major")'),
    ({"a": False, "risk_points": 160}, "orange", "orange when risk_points >= 160"),
    ({"a": False, "risk_points": 100}, "yellow", "yellow when risk_points >= 70"),
    ({"a": False, "risk_points": 10}, "blue", "blue otherwise"),
])
def test_spec_risk_grade(w, facts, value, because):
    rep, p = w.eval(R(RISK), facts)
    line = {"red": 8, "orange": 9, "yellow": 10, "blue": 11}[value]
    assert rep["grades"]["risk"] == {"value": value, "because": f"t.rules:{line}: {because}"}


def test_grade_undetermined_never_blue(w):
    # the outcome itself is a test block in tests/lang/spec/grade_risk.rules
    rep, p = w.eval(R(RISK), {"risk_points": 0})
    g = rep["grades"]["risk"]
    assert g["missing"] == ["a"] and "because" not in g
    rep, p = w.eval(R(RISK), {"a": False})
    assert rep["grades"]["risk"]["missing"] == ["risk_points"]


def test_grade_no_line_matches_is_none(w):
    # the outcome itself is a test block in tests/lang/spec/grade_values.rules
    rep, p = w.eval(R('  input { x : int }\n  grade g : color { red when x > 5 }'), {"x": 1})
    assert "because" not in rep["grades"]["g"]


LEVELS = '''  input { svc : int
    oth : int
    major : bool = false }
  hazard M "m" { cite "c" when major }
  score quality max 1000 { section service max 600 { item S1 "s" svc } section other { item O1 "o" oth } }
  grade level : levels("一级", "二级", "三级", "四级", "五级") {
    none   when any(h in hazards where h.severity == "major")   # `none`: no level (a veto)
    "五级" when quality >= 900 and quality.service >= 540
    "四级" when quality >= 700
    "二级" when quality >= 300
    none   otherwise
  }
  grade g2 : color {
    red when level >= "三级"
    orange when level == none
    blue otherwise
  }
'''


def test_levels_because_veto_line(w):
    rep, p = w.eval(R(LEVELS), {"svc": 1, "oth": 1, "major": True})
    assert rep["grades"]["level"]["because"] == 't.rules:10: none when any(h in hazards where h.severity == "major")'


def test_grade_error_value(w):
    # the outcome itself is a test block in tests/lang/spec/evaluation_errors.rules
    rep, p = w.eval(R('  input { z : int }\n  grade g : color { red when 1 / z > 1 blue otherwise }'), {"z": 0})
    assert rep["errors"][0]["rule"] == "g"


# ---------------------------------------------------------------- §8 tables

def test_table_no_hit_unknown_and_warning(w):
    # the outcome itself is a test block in tests/lang/spec/tables.rules
    rules = R('  table t(x: int) -> int { when x > 5 => 1 }\n  input { x : int }\n  score s { item V "v" (t(x)) }')
    c = w.check(rules)
    assert c.returncode == 0 and " warning: " in c.err


def test_table_unreachable_row_warning(w):
    c = w.check(R('  table t(x: int) -> int {\n    otherwise => 1\n    when x > 5 => 2\n  }'))
    assert c.returncode == 0
    assert re.search(r"^t\.rules:\d+:\d+: warning: ", c.err, re.M)


def test_table_reads_no_inputs(w):
    c = w.check(R('  input { y : int }\n  table t(x: int) -> int { when x > y => 1 otherwise => 2 }'))
    assert c.returncode == 1


# ---------------------------------------------------------------- §9 tests

SPEC_TEST_RULES = '''  input { facility.building.appraisal : enum("A", "B", "C", "D")
    x : int }
  hazard A4.1 "a" { cite "c" when facility.building.appraisal in ["C", "D"] }
  hazard A4.2 "b" { cite "c" when facility.building.appraisal == "D" }
  hazard A4.3 "c" { cite "c" when x > 1 }
  grade risk : color { red when any(h in hazards where h.severity == "major") blue otherwise }
  score quality { section environment { item E1 "e" 110 } }
test "a grade C building is a major hazard" {
  asof  @2024-06-01                                            # required
  given { "facility": { "building": { "appraisal": "C" } } }   # strict JSON, no comments
  expect hazard A4.1
  expect not hazard A4.2
  expect undetermined A4.3
  expect risk == red
  expect quality.environment == 110
}
'''


def test_spec_test_block_passes(w):
    p = w.test(R(SPEC_TEST_RULES))
    assert p.returncode == 0, p.out + p.err
    assert p.out.strip().splitlines()[-1] == "1 passed, 0 failed"


def test_failing_expect_line_format(w):
    rules = R('  input { x : int }\n  hazard H "h" { cite "c" when x > 1 }\n'
              '  test "two fails" {\n    asof @2024-06-01\n    given { "x": 0 }\n    expect hazard H\n    expect x == 5\n  }')
    p = w.test(rules)
    assert p.returncode == 1
    lines = p.out.strip().splitlines()
    assert lines[-1] == "0 passed, 1 failed"
    assert any(l.startswith('t.rules:9: test "two fails": expect hazard H — got ') for l in lines), p.out
    assert any(l.startswith('t.rules:10: test "two fails": expect ') and " — got " in l for l in lines), p.out


def test_expect_not_hazard_only_when_absent(w):
    rules = R('  input { x : int }\n  hazard H "h" { cite "c" when x > 1 }\n'
              '  test "u" { asof @2024-06-01 given {} expect not hazard H }')
    p = w.test(rules)
    assert p.returncode == 1 and p.out.strip().splitlines()[-1] == "0 passed, 1 failed"


def test_expect_undetermined_grade_error_provisional(w):
    rules = R('  input { x : int\n z : int }\n  hazard H "h" { cite "c" when 1 / z > 1 }\n'
              '  grade g : color { red when x > 1 blue otherwise }\n'
              '  score q { item I "i" 1 when x > 0 }\n'
              '  test "forms" { asof @2024-06-01 given { "z": 0 }\n'
              '    expect undetermined g\n    expect error H\n    expect provisional q\n  }')
    p = w.test(rules)
    assert p.returncode == 0, p.out + p.err
    assert p.out.strip().splitlines()[-1] == "1 passed, 0 failed"


def test_expect_error_names_an_item_and_says_what_it_got(w):
    rules = R('  input { z : int }\n'
              '  score q {\n    item I "i" (10 / z)\n    item J "j" (1)\n  }\n'
              '  test "i" { asof @2024-06-01 given { "z": 0 } expect error I }\n'
              '  test "j" { asof @2024-06-01 given { "z": 0 } expect error J }')
    p = w.test(rules)
    assert p.returncode == 1
    lines = p.out.strip().splitlines()
    assert lines[-1] == "1 passed, 1 failed"
    assert any(re.search(r't\.rules:\d+: test "j": expect error J — got awarded$', ln)
               for ln in lines), p.out
    rules = R('  input { z : int }\n  table t(x: int) -> int { otherwise => 1 }\n'
              '  test "t" { asof @2024-06-01 given {} expect error t }')
    p = w.test(rules)
    assert "`t` is not a hazard, item, let, score or grade" in p.out + p.err


def test_expect_unknown_expression_fails(w):
    rules = R('  input { x : int }\n  test "u" { asof @2024-06-01 given {} expect x > 1 or x <= 1 }')
    p = w.test(rules)
    assert p.returncode == 1


def test_test_asof_required(w):
    rules = R('  test "noasof" { given {} expect 1 == 1 }')
    p = w.test(rules)
    assert p.returncode == 1
    assert p.out.strip().splitlines()[-1] == "0 passed, 1 failed"


def test_test_directory_recursive_and_noncompiling_file(w):
    w.write("d/a.rules", R('  test "ok" { asof @2024-06-01 given {} expect 1 == 1 }\n'
                           '  test "ok2" { asof @2024-06-01 given {} expect 2 == 2 }'))
    w.write("d/sub/b.rules", R('  test "ok" { asof @2024-06-01 given {} expect true }', name="b"))
    w.write("d/sub/c.rules", "ruleset broken {")
    w.write("d/notrules.txt", "garbage")
    p = w.run("test", "d")
    assert p.returncode == 1
    assert p.out.strip().splitlines()[-1] == "3 passed, 1 failed"
    assert "c.rules" in p.out + p.err


def test_test_given_strict_json(w):
    p = w.test(R('  test "x" { asof @2024-06-01 given { "a": 1, } expect true }'))
    assert p.returncode == 1


def test_coverage(w):
    rules = R('  input { x : int }\n  hazard HXONE "1" { cite "c" when x > 1 }\n'
              '  hazard HZTWO "2" { cite "c" when x > 100 }\n'
              '  test "t" { asof @2024-06-01 given { "x": 5 } expect hazard HXONE }')
    p = w.test(rules, "--coverage")
    assert p.returncode == 0
    assert "HZTWO" in p.out and "HXONE" not in p.out.replace('expect hazard HXONE', '')


# ---------------------------------------------------------------- §10 errors

def test_diagnostic_format_and_expected(w):
    p = w.check(R('  hazard H "h" { cite "c" bogus }'))
    assert p.returncode == 1
    e = errors_of(p)
    assert e and e[0]["file"] == "t.rules" and e[0]["line"] == "4"
    assert "expected" in e[0]["msg"]
    assert e[0]["col"] == str(len('  hazard H "h" { cite "c" ') + 1)


def test_several_errors_at_once(w):
    p = w.check(R("  input { x : int }\n  let a = yy + 1\n  let b = zz + 1"))
    e = errors_of(p)
    assert p.returncode == 1 and len(e) >= 2
    assert {x["line"] for x in e} >= {"5", "6"}


def test_fullwidth_punctuation_hint(w):
    p = w.check(R('  input { x : int }\n  hazard H "h" { cite "c" when max（x, 1) > 1 }'))
    assert p.returncode == 1
    assert "（" in p.err or "U+FF08" in p.err.upper() or "full" in p.err.lower()
    assert "hint" in p.err.lower() or "full" in p.err.lower() or "did you mean" in p.err.lower()


def test_control_chars_escaped_in_diagnostics(w):
    p = w.check(R('  let a = 1 \x01 2'))
    assert p.returncode == 1
    assert b"\x01" not in p.stderr
    assert re.search(r"t\.rules:4:\d+: error: ", p.err)


def test_long_line_truncated_in_diagnostics(w):
    p = w.check(R("  let a = " + "1 + " * 300 + "?"))
    assert p.returncode == 1
    assert max(len(l) for l in p.err.splitlines()) < 400


# ---------------------------------------------------------------- §11 hostile input

def test_bom_and_crlf(w):
    rules = "\ufeff" + R('  input { x : int }\n  hazard H "h" { cite "c" when x > 1 }').replace("\n", "\r\n")
    rep, p = w.eval(rules, {"x": 2})
    assert p.returncode == 0, p.err
    assert rep["hazards"][0]["status"] == "present"


def test_invalid_utf8_position(w):
    data = R("  let a = 1\n  let b = \xff\n").encode("utf-8").replace("\xff".encode("utf-8"), b"\xff")
    p = w.check(data)
    assert p.returncode == 1
    assert re.search(r"^t\.rules:5:11: error: ", p.err, re.M), p.err
    assert b"\xff" not in p.stderr


def test_nul_byte_position(w):
    p = w.check(R('  let a = 1\n  # x\x00y\n'))
    assert p.returncode == 1
    assert re.search(r"^t\.rules:5:6: error: ", p.err, re.M), p.err


@pytest.mark.parametrize("n,ok", [(256, True), (257, False)])
def test_identifier_limit_default_edge(w, n, ok):
    name = "a" * n
    p = w.check(R(f"  let {name} = 1"))
    assert (p.returncode == 0) == ok, p.err


@pytest.mark.parametrize("n,ok", [(10, True), (11, False)])
def test_identifier_limit_option_edge(w, n, ok):
    p = w.check(R(f"  let {'b' * n} = 1"), "--limit", "identifier=10")
    assert (p.returncode == 0) == ok, p.err


def test_identifier_limit_counts_characters(w):
    p = w.check(R(f"  let {'中' * 10} = 1"), "--limit", "identifier=10")
    assert p.returncode == 0, p.err


@pytest.mark.parametrize("s,ok", [("abcde", True), ("abcdef", False), ("中文", False)])
def test_string_limit_bytes(w, s, ok):
    p = w.check(f'ruleset t {{\n  title "{s}"\n  version "1"\n}}\n', "--limit", "string=5")
    assert (p.returncode == 0) == ok, p.err


def test_source_bytes_limit_edge(w):
    text = R("")
    n = len(text.encode())
    assert w.check(text, "--limit", f"source_bytes={n}").returncode == 0
    p = w.check(text, "--limit", f"source_bytes={n - 1}")
    assert p.returncode == 1 and errors_of(p)


def test_depth_limit_no_crash(w):
    p = w.check(R('  score s { item V "v" (' + "(" * 5000 + "1" + ")" * 5000 + ") }"))
    assert p.returncode == 1 and errors_of(p)
    assert "depth" in p.err


def test_diagnostics_limit_and_n_more(w):
    body = "\n".join(f"  let a{i} = undefined_{i}" for i in range(5))
    p = w.check(R(body), "--limit", "diagnostics=2")
    assert p.returncode == 1
    assert len(errors_of(p)) == 2
    assert "and 3 more" in p.err


def test_imports_limit_counts_chain(w):
    w.write("c.rules", R("", name="c"))
    w.write("b.rules", R('  import "c.rules"', name="b"))
    w.write("a.rules", R('  import "b.rules"', name="a"))
    assert w.run("check", "a.rules", "--limit", "imports=3").returncode == 0
    p = w.run("check", "a.rules", "--limit", "imports=2")
    assert p.returncode == 1


@pytest.mark.parametrize("arg", ["bogus=3", "depth=abc", "depth=-1", "depth"])
def test_bad_limit_usage_error(w, arg):
    p = w.check(R(""), "--limit", arg)
    assert p.returncode == 2


@pytest.mark.parametrize("n,ok", [(3, True), (4, False)])
def test_list_limit_exact(w, n, ok):
    rules = R("  input { xs : list<int> }")
    rep, p = w.eval(rules, {"xs": list(range(n))}, "--limit", "list=3")
    assert (p.returncode == 0) == ok
    if not ok:
        assert rep["errors"][0]["path"].startswith("/xs")


@pytest.mark.parametrize("s,ok", [("abcde", True), ("abcdef", False)])
def test_json_string_limit(w, s, ok):
    rep, p = w.eval(R("  input { s : string }"), {"s": s}, "--limit", "json_string=5")
    assert (p.returncode == 0) == ok
    if not ok:
        assert rep["errors"][0]["path"] == "/s"


def test_json_depth_limit_record_error(w):
    facts = '{"junk":' + "[" * 200 + "]" * 200 + "}"
    rep, p = w.eval(R(""), facts)
    assert p.returncode == 1 and rep["errors"]


def test_line_bytes_limit_jsonl(w):
    w.write("t.rules", R("  input { s : string }"))
    w.write("f.jsonl", '{"id":"a","s":"x"}\n{"id":"b","s":"' + "y" * 200 + '"}\n{"id":"c"}\n')
    p = w.run("eval", "-r", "t.rules", "f.jsonl", "--asof", ASOF, "--limit", "line_bytes=100")
    assert p.returncode == 1
    reps = load(p.out)
    assert [r["subject"] for r in reps] == ["a", None, "c"]
    assert reps[1]["errors"] and reps[0]["errors"] == [] and reps[2]["errors"] == []


def test_line_bytes_bounds_json_file(w):
    rep, p = w.eval(R("  input { s : string }"), {"s": "y" * 200}, "--limit", "line_bytes=100")
    assert p.returncode == 1


def test_steps_limit(w):
    rules = R("  input { xs : list<int> }\n  score s { item V \"v\" (sum(x in xs: x * 2)) }")
    rep, p = w.eval(rules, {"xs": list(range(1000))}, "--limit", "steps=50")
    assert p.returncode == 1 and rep["errors"]
    rep, p = w.eval(rules, {"xs": list(range(1000))})
    assert p.returncode == 0 and rep["scores"]["s"]["total"] == 999000


def test_facts_bom_ignored(w):
    rep, p = w.eval(R("  input { x : int }"), b"\xef\xbb\xbf" + b'{"x": 1}')
    assert p.returncode == 0 and rep["errors"] == []


def test_facts_invalid_utf8(w):
    rep, p = w.eval(R("  input { s : string }"), b'{"s": "a\xffb"}')
    assert p.returncode == 1 and rep["errors"]


def test_facts_duplicate_key(w):
    rep, p = w.eval(R("  input { x : int }"), '{"x": 1, "x": 2}')
    assert p.returncode == 1 and rep["errors"][0]["path"] == "/x"


@pytest.mark.parametrize("d,ok", [("2024-02-29", True), ("2023-02-29", False), ("2024-6-01", False),
                                  ("0000-01-01", False), ("9999-12-31", True), ("２０２４-01-01", False),
                                  ("2024-04-31", False)])
def test_fact_dates_strict(w, d, ok):
    rep, p = w.eval(R("  input { d : date }"), {"d": d})
    assert (p.returncode == 0) == ok
    if not ok:
        assert rep["errors"][0]["path"] == "/d"


def test_fact_number_out_of_range(w):
    rep, p = w.eval(R("  input { i : int }"), '{"i": 1e30}')
    assert p.returncode == 1 and rep["errors"][0]["path"] == "/i"
    rep, p = w.eval(R("  input { n : number }"), '{"n": 10000000000000}')
    assert p.returncode == 1 and rep["errors"][0]["path"] == "/n"


def test_wrong_typed_object_on_the_way(w):
    rep, p = w.eval(R("  input { facility.beds : int }"), {"facility": 3})
    assert p.returncode == 1 and rep["errors"][0]["path"] == "/facility"


def test_decimal_rounded_before_range_check(w):
    # the outcome itself is a test block in tests/lang/spec/facts_read.rules
    rep, p = w.eval(R("  input { x : number in 0..1 }"), '{"x": 1.0000005}')
    assert p.returncode == 1 and rep["errors"][0]["path"] == "/x"


def test_fact_with_error_reads_missing(w):
    # the outcome itself is a test block in tests/lang/spec/facts_read.rules
    h, rep, p = hz(w, "x > 1", "x : int", {"x": "seven"})
    assert h["missing"] == ["x"]
    assert rep["errors"][0]["path"] == "/x"


def test_json_file_not_object(w):
    rep, p = w.eval(R(""), "[1, 2]")
    assert p.returncode == 1
    assert rep["errors"][0]["path"] == ""


@pytest.mark.parametrize("idv,subject", [(7, "7"), ("FJ-1", "FJ-1"), (True, None), ([1], None)])
def test_subject_id(w, idv, subject):
    rep, p = w.eval(R(""), {"id": idv})
    assert rep["subject"] == subject
    if subject is None:
        assert p.returncode == 1 and rep["errors"][0]["path"] == "/id"


def test_invalid_json_in_undeclared_part(w):
    rep, p = w.eval(R("  input { x : int }"), '{"x": 1, "junk": [1, 2,]}')
    assert p.returncode == 1


# ---------------------------------------------------------------- api.md report and CLI

def test_report_field_order_compact_utf8(w):
    rules = R('  input { x : int }\n  hazard H "火灾" { cite "c" when x > 1 }\n  score s { item I "i" 812 }\n'
              '  grade g : color { red when x > 1 blue otherwise }')
    rep, p = w.eval(rules, {"x": 2, "id": "S1"})
    assert list(rep) == ["subject", "ruleset", "engine", "asof", "hazards", "scores", "grades", "errors"]
    assert p.out.startswith('{"subject":"S1","ruleset":{"name":"t",')
    assert "火灾" in p.out and "\\u" not in p.out
    assert '"total":812,' in p.out
    assert rep["asof"] == ASOF and rep["errors"] == [] and p.returncode == 0


def test_engine_and_version(w):
    v = w.run("--version")
    assert v.returncode == 0 and re.fullmatch(r"carerules \d+\.\d+\.\d+", v.out.strip())
    rep, p = w.eval(R(""), {})
    assert rep["engine"] == v.out.strip()


def test_asof_defaults_to_local_date(w):
    rep, p = w.eval(R(""), {}, asof=None)
    assert rep["asof"] == datetime.date.today().isoformat()


def test_subject_option_and_null(w):
    rep, p = w.eval(R(""), {"facility": {"code": "X9"}}, "--subject", "facility.code")
    assert rep["subject"] == "X9"
    rep, p = w.eval(R(""), {})
    assert rep["subject"] is None


def test_byte_equal_output(w):
    rules = R(SPEC_SCORE)
    _, p1 = w.eval(rules, SPEC_SCORE_F)
    _, p2 = w.eval(rules, SPEC_SCORE_F)
    assert p1.stdout == p2.stdout


def test_batch_json_and_jsonl(w):
    w.write("t.rules", R('  input { x : int }\n  hazard H "h" { cite "c" when x > 1 }'))
    w.write("f.jsonl", '{"id":"a","x":2}\n\n{"id":"b","x":0}\n[1]\n')
    p = w.run("eval", "-r", "t.rules", "f.jsonl", "--asof", ASOF)
    reps = load(p.out)
    assert isinstance(reps, list) and len(reps) == 3
    assert [r["subject"] for r in reps] == ["a", "b", None]
    bad = reps[2]
    assert bad["hazards"] == [] and bad["scores"] == {} and bad["grades"] == {}
    assert bad["errors"][0]["path"] == "" and "4" in bad["errors"][0]["message"]
    assert p.returncode == 1
    p = w.run("eval", "-r", "t.rules", "f.jsonl", "--asof", ASOF, "--format", "jsonl")
    lines = p.out.splitlines()
    assert len(lines) == 3 and load(lines[0])["subject"] == "a"


def test_empty_batch(w):
    w.write("t.rules", R(""))
    w.write("f.jsonl", "")
    p = w.run("eval", "-r", "t.rules", "f.jsonl", "--asof", ASOF)
    assert p.returncode == 0 and p.out.strip() == "[]"
    p = w.run("eval", "-r", "t.rules", "f.jsonl", "--asof", ASOF, "--format", "jsonl")
    assert p.returncode == 0 and p.out == ""


def test_stdin_jsonl_and_input_json(w):
    w.write("t.rules", R("  input { x : int }"))
    p = w.run("eval", "-r", "t.rules", "-", "--asof", ASOF, "--format", "jsonl",
              stdin=b'{"id":"a"}\n{"id":"b"}\n')
    assert [load(l)["subject"] for l in p.out.splitlines()] == ["a", "b"]
    p = w.run("eval", "-r", "t.rules", "-", "--asof", ASOF, "--input", "json", stdin=b'{\n "id": "c",\n "x": 1\n}\n')
    assert p.returncode == 0
    out = load(p.out)
    out = out[0] if isinstance(out, list) else out
    assert out["subject"] == "c"


def test_threads_keep_order(w):
    w.write("t.rules", R('  input { x : int }\n  hazard H "h" { cite "c" when x > 1 }'))
    w.write("f.jsonl", "".join(json.dumps({"id": f"s{i}", "x": i}) + "\n" for i in range(200)))
    p = w.run("eval", "-r", "t.rules", "f.jsonl", "--asof", ASOF, "--threads", "4", "--format", "jsonl")
    assert [load(l)["subject"] for l in p.out.splitlines()] == [f"s{i}" for i in range(200)]
    p = w.run("eval", "-r", "t.rules", "f.jsonl", "--asof", ASOF, "--threads", "1000")
    assert p.returncode == 0


def test_each(w):
    rules = R('  input { id : string\n ability : int in 0..90 }\n  hazard LOW "low" { cite "c" when ability < 30 }')
    rep, p = w.eval(rules, {"id": "inst", "residents": [{"id": "r1", "ability": 10}, {"id": "r2", "ability": 50}]},
                    "--each", "residents")
    assert p.returncode == 0, p.err
    assert [r["subject"] for r in rep] == ["r1", "r2"]
    assert [r["hazards"][0]["status"] for r in rep] == ["present", "absent"]


def test_each_not_a_list_is_error(w):
    rep, p = w.eval(R("  input { ability : int }"), {"residents": 5}, "--each", "residents")
    assert p.returncode == 1


def test_csv_columns(w):
    rules = R('  input { x : int\n y : bool }\n  hazard H1 "h" { cite "c" when x > 1 }\n  hazard H2 "h" { cite "c" when y }\n'
              '  score q { section sec { item I "i" 2.5 } }\n'
              '  grade g : color { red when x > 1 blue otherwise }')
    rep, p = w.eval(rules, {"id": "a,b", "x": 2}, "--format", "csv")
    assert p.returncode == 0
    assert p.stdout.startswith(b"\xef\xbb\xbf")
    rows = [l for l in p.stdout[3:].decode().splitlines() if l]
    assert rows[0] == "subject,hazard.H1,hazard.H2,score.q,score.q.sec,grade.g,errors"
    assert rows[1] == '"a,b",present,undetermined,2.5,2.5,red,0'


def test_summary_on_stderr(w):
    w.write("t.rules", R('  input { x : int }\n  hazard H "h" { cite "c" when x > 1 }'))
    w.write("f.jsonl", '{"x":2}\n{"x":0}\n')
    p = w.run("eval", "-r", "t.rules", "f.jsonl", "--asof", ASOF, "--summary")
    assert p.returncode == 0
    assert len(load(p.out)) == 2
    assert p.err.strip() and "H" in p.err


@pytest.mark.parametrize("args", [["--threads", "-1"], ["--threads", "x"], ["--asof", "2024-13-01"],
                                  ["--format", "xml"]])
def test_cli_usage_errors(w, args):
    w.write("t.rules", R(""))
    w.write("f.json", "{}")
    p = w.run("eval", "-r", "t.rules", "f.json", *args)
    assert p.returncode == 2


def test_facts_directory_or_missing_file(w):
    w.write("t.rules", R(""))
    (w.d / "dd").mkdir()
    p = w.run("eval", "-r", "t.rules", "dd")
    assert p.returncode == 1 and "dd" in p.err
    p = w.run("eval", "-r", "t.rules", "nope.json")
    assert p.returncode == 1 and "nope.json" in p.err


def test_schema(w):
    w.write("t.rules", R('  input { facility.beds : int in 0..500 "床位" }'))
    p = w.run("schema", "t.rules")
    assert p.returncode == 0
    s = load(p.out)
    assert "2020-12" in s.get("$schema", "")
    assert "facility" in s["properties"]


def test_explain(w):
    rules = R('  input { x : int }\n  hazard H "h" { cite "c" when x > 1 }')
    w.write("t.rules", rules)
    w.write("f.json", '{"x": 5}')
    p = w.run("explain", "-r", "t.rules", "f.json", "--rule", "H")
    assert p.returncode == 0, p.err
    assert "x > 1" in p.out and "present" in p.out


def test_check_ok_exit_0(w):
    assert w.check(R(SPEC_SCORE)).returncode == 0


# ---------------------------------------------------------------- extra probes

def test_because_imported_file_relative_to_root(w):
    w.write("lib/g.rules", R('  input { x : int }\n  grade g : color {\n    red when x > 1\n    blue otherwise\n  }', name="g"))
    rep, p = w.eval(R('  import "lib/g.rules"'), {"x": 5})
    assert rep["grades"]["g"]["because"] == "lib/g.rules:6: red when x > 1"


def test_because_file_as_given(w):
    w.write("sub/t.rules", R('  grade g : color {\n    red when true\n  }'))
    w.write("f.json", "{}")
    p = w.run("eval", "-r", "sub/t.rules", "f.json", "--asof", ASOF)
    assert load(p.out)["grades"]["g"]["because"] == "sub/t.rules:5: red when true"


def test_because_multiline_condition_joined(w):
    rep, p = w.eval(R('  input { x : int }\n  grade g : color {\n    red when x > 1   # c1\n      and   x < 9\n    blue otherwise\n  }'), {"x": 5})
    assert rep["grades"]["g"]["because"] == "t.rules:6: red when x > 1 and x < 9"


def test_missing_without_duplicates(w):
    h, rep, p = hz(w, "x > 1 or x < -5 or y", "x : int\n y : bool", {})
    assert h["missing"] == ["x", "y"]


def test_present_cycle_is_error(w):
    p = w.check(R('  hazard A "a" { when present(B) }\n  hazard B "b" { when present(A) }'))
    assert p.returncode == 1 and "A" in p.err and "B" in p.err


def test_round_with_digits_is_number(w):
    assert w.check(R('  score s { item V "v" (round(2.5, 0) % 2) }')).returncode == 1


def test_subject_decimal_number(w):
    rep, p = w.eval(R(""), '{"id": 7.5}')
    assert rep["subject"] == "7.5"


@pytest.mark.parametrize("decl,value", [("c : color", "Red"), ("b : bool", "true"), ("i : int", 1.5),
                                        ("e : enum(\"A\", \"B\")", "Z"), ("s : string", 5), ("d : date", 20240101)])
def test_fact_wrong_type_is_error(w, decl, value):
    name = decl.split()[0]
    rep, p = w.eval(R(f"  input {{ {decl} }}"), {name: value})
    assert p.returncode == 1 and rep["errors"][0]["path"] == "/" + name


def test_fact_lone_surrogate(w):
    rep, p = w.eval(R("  input { s : string\n x : int }\n  score q { item V \"v\" x }"), '{"s": "\\ud800", "x": 3}')
    assert p.returncode == 1 and rep["errors"][0]["path"] == "/s"
    assert rep["scores"]["q"]["total"] == 3


def test_nested_list_error_pointer(w):
    rules = R("  input { residents : list { visits : list { d : date } } }")
    rep, p = w.eval(rules, {"residents": [{"visits": []}, {"visits": [{"d": "2024-01-01"}, {"d": "bad"}]}]})
    assert rep["errors"][0]["path"] == "/residents/1/visits/1/d"


def test_csv_number_format_and_each(w):
    rules = R('  input { id : string\n a : int }\n  score q { item V "v" (a / 3) }')
    rep, p = w.eval(rules, {"residents": [{"id": "r1", "a": 1}, {"id": "r2", "a": 3}]}, "--each", "residents",
                    "--format", "csv")
    rows = [l for l in p.stdout[3:].decode().splitlines() if l]
    assert rows == ["subject,score.q,errors", "r1,0.333333,0", "r2,1,0"]


def test_format_table_runs(w):
    rep, p = w.eval(R('  hazard H "h" { when true }'), {}, "--format", "table")
    assert p.returncode == 0 and p.out.strip()


def test_jsonl_crlf(w):
    w.write("t.rules", R("  input { x : int }"))
    w.write("f.jsonl", '{"id":"a","x":1}\r\n{"id":"b","x":2}\r\n')
    p = w.run("eval", "-r", "t.rules", "f.jsonl", "--asof", ASOF)
    assert p.returncode == 0 and [r["subject"] for r in load(p.out)] == ["a", "b"]


def test_each_batch_one_array(w):
    w.write("t.rules", R("  input { id : string }"))
    w.write("f.jsonl", '{"rs":[{"id":"a"},{"id":"b"}]}\n{"rs":[{"id":"c"}]}\n')
    p = w.run("eval", "-r", "t.rules", "f.jsonl", "--asof", ASOF, "--each", "rs")
    assert [r["subject"] for r in load(p.out)] == ["a", "b", "c"]


def test_fullwidth_space_hint(w):
    p = w.check(R("  let a\u3000= 1"))
    assert p.returncode == 1
    e = errors_of(p)
    assert e and e[0]["line"] == "4" and e[0]["col"] == "8"


def test_diagnostic_in_imported_file_names_it(w):
    w.write("lib/b.rules", R("  let q = nope + 1", name="b"))
    p = w.check(R('  import "lib/b.rules"'))
    assert p.returncode == 1
    assert re.search(r"^lib/b\.rules:4:\d+: error: ", p.err, re.M), p.err


def test_test_due_uses_test_asof_and_expect_expression(w):
    rules = R('  input { d : date }\n  hazard H "h" { when days_since(d) > 10 }\n'
              '  test "t" { asof @2024-01-20 given { "d": "2024-01-01" } expect hazard H expect days_since(d) == 19 expect 7 / 2 == 3.5 }')
    p = w.test(rules)
    assert p.returncode == 0, p.out


def test_expect_hazard_fails_when_undetermined(w):
    rules = R('  input { x : int }\n  hazard H "h" { when x > 1 }\n  test "t" { asof @2024-01-20 given {} expect hazard H }')
    assert w.test(rules).returncode == 1


def test_table_wrong_arity_is_error(w):
    assert w.check(R('  table t(x: int) -> int { otherwise => 1 }\n  score s { item V "v" (t(1, 2)) }')).returncode == 1


def test_report_number_formats(w):
    it, rep, p = item(w, "0 - 0.5")
    assert '"points":-0.5' in p.out
    it, rep, p = item(w, "1000000.5 + 0")
    assert '"points":1000000.5' in p.out


# ---------------------------------------------------------------- default limits at their edges

@pytest.mark.parametrize("n,ok", [(64, True), (65, False)])
def test_json_depth_default_edge(w, n, ok):
    rep, p = w.eval(R(""), '{"a":' * n + "1" + "}" * n)
    assert (rep["errors"] == []) == ok
    if not ok:
        assert rep["errors"][0]["path"] == "/a" * 64


def test_diagnostics_default_100(w):
    body = "\n".join(f"  let a{i} = undefined_{i}" for i in range(105))
    p = w.check(R(body))
    assert len(errors_of(p)) == 100 and "and 5 more" in p.err


@pytest.mark.parametrize("n,ok", [(1_000_000, True), (1_000_001, False)])
def test_list_default_edge(w, n, ok):
    rep, p = w.eval(R("  input { xs : list<int> }"), "{\"xs\":[" + ",".join(["1"] * n) + "]}")
    assert (p.returncode == 0) == ok


@pytest.mark.parametrize("n,ok", [(1 << 20, True), ((1 << 20) + 1, False)])
def test_string_default_edge(w, n, ok):
    p = w.check(f'ruleset t {{\n  title "{"x" * n}"\n  version "1"\n}}\n')
    assert (p.returncode == 0) == ok


@pytest.mark.parametrize("n,ok", [(1 << 20, True), ((1 << 20) + 1, False)])
def test_json_string_default_edge(w, n, ok):
    rep, p = w.eval(R("  input { s : string }"), '{"s":"' + "x" * n + '"}')
    assert (p.returncode == 0) == ok


@pytest.mark.parametrize("n,ok", [(64, True), (65, False)])
def test_imports_default_edge(w, n, ok):
    # chain of n files: t.rules -> i1 -> ... -> i(n-1)
    for k in range(1, n):
        nxt = f'  import "i{k + 1}.rules"' if k + 1 < n else ""
        w.write(f"i{k}.rules", R(nxt, name=f"i{k}"))
    p = w.check(R('  import "i1.rules"'))
    assert (p.returncode == 0) == ok, p.err[:500]


@pytest.mark.parametrize("n,ok", [(16 << 20, True), ((16 << 20) + 1, False)])
def test_source_bytes_default_edge(w, n, ok):
    base = R("").encode()
    pad = n - len(base) - 2
    p = w.check(base + b"#" + b"x" * pad + b"\n")
    assert (p.returncode == 0) == ok


def test_identifier_limit_per_segment(w):
    seg = "a" * 256
    p = w.check(R(f'  hazard {seg}.{seg} "h" {{ cite "c" when true }}'))
    assert p.returncode == 0, p.err


def test_outside_file_lines_never_shown(w):
    w.write("secret.rules", "SECRET_TOKEN_42 garbage {\n")
    w.write("sub/t.rules", R('  import "../secret.rules"'))
    p = w.run("check", "sub/t.rules")
    assert p.returncode == 1 and "SECRET_TOKEN_42" not in p.err + p.out


def test_symlink_escaping_root_is_error(w):
    w.write("secret.rules", "SECRET_TOKEN_43 garbage {\n")
    (w.d / "sub").mkdir()
    os.symlink(w.d / "secret.rules", w.d / "sub" / "link.rules")
    w.write("sub/t.rules", R('  import "link.rules"'))
    p = w.run("check", "sub/t.rules")
    assert p.returncode == 1 and "SECRET_TOKEN_43" not in p.err + p.out


def test_line_bytes_bounds_stdin_json_record(w):
    w.write("t.rules", R("  input { s : string }"))
    p = w.run("eval", "-r", "t.rules", "-", "--input", "json", "--asof", ASOF, "--limit", "line_bytes=50",
              stdin=('{\n"s": "' + "y" * 100 + '"\n}\n').encode())
    assert p.returncode == 1


# ---------------------------------------------------------------- hostile rulesets: no hang
# A ruleset far inside source_bytes must not hold a record (or its own loading) for minutes.
# These sizes took minutes before (a chain's uses were copied into every later let, and every
# table row was compared with every earlier one); the subprocess timeout of W.run is the check.

def test_a_chain_of_twenty_thousand_lets_evaluates_and_explains(w):
    n = 20000
    lets = "\n".join(["  let l0 = a"] + [f"  let l{k} = l{k - 1}" for k in range(1, n)])
    rules = R(f'  input {{ a : int }}\n{lets}\n  hazard H "h" {{ cite "c" when l{n - 1} > 0 }}')
    rep, p = w.eval(rules, {"a": 1})
    assert p.returncode == 0, p.err
    h = rep["hazards"][0]
    assert h["status"] == "present"
    assert h["evidence"] == {"a": 1}
    p = w.run("explain", "-r", "t.rules", "f.json", "--rule", "H", "--asof", ASOF)
    assert p.returncode == 0, p.err
    uses = [line.split()[1] for line in p.out.splitlines() if line.startswith("  uses")]
    # The let the hazard reads, then what each let read in turn, each once.
    assert uses == [f"l{k}" for k in range(n - 1, -1, -1)]


def test_a_table_of_a_hundred_thousand_rows_loads_and_says_where_its_row_check_stopped(w):
    n = 100_000
    rows = "\n".join(f"    | {k} | {k} |" for k in range(n))
    rules = R(f'  table t(x: int) -> int {{\n    | x | => |\n{rows}\n    | - | -1 |\n  }}\n'
              '  input { x : int }\n  score s { item V "v" (t(x)) }')
    p = w.check(rules)
    assert p.returncode == 0, p.err
    warnings = [m for m in DIAG.finditer(p.out + p.err) if m["sev"] == "warning"]
    assert any("checked up to this row only" in m["msg"] and "100001 rows" in m["msg"]
               for m in warnings), p.out + p.err
    rep, p = w.eval(rules, {"x": n - 1})
    assert rep["scores"]["s"]["items"][0]["points"] == n - 1


def test_a_row_implied_by_an_earlier_row_is_still_found_in_a_small_table(w):
    rules = R('  table t(x: int) -> int {\n    when x >= 5 => 1\n    when x >= 7 => 2\n'
              '    otherwise => 0\n  }\n  input { x : int }\n  score s { item V "v" (t(x)) }')
    p = w.check(rules)
    warnings = [m for m in DIAG.finditer(p.out + p.err) if m["sev"] == "warning"]
    assert any(m["line"] == "6" and "can never be reached" in m["msg"] and "line 5" in m["msg"]
               for m in warnings), p.out + p.err
    assert not any("checked up to" in m["msg"] for m in warnings)


def test_a_chain_of_lets_each_reading_its_own_fact_shows_every_fact_once(w):
    # Each let reads the one before and a fact of its own: the hazard's evidence is all of
    # them, in the order read; with no facts, all of them are missing.
    n = 20000
    inputs = "\n".join(f"    x{k} : int" for k in range(n))
    lets = "\n".join(["  let l0 = x0"] + [f"  let l{k} = l{k - 1} + x{k}" for k in range(1, n)])
    rules = R(f"  input {{\n{inputs}\n  }}\n{lets}\n"
              f'  hazard H "h" {{ cite "c" when l{n - 1} > 0 }}')
    rep, p = w.eval(rules, {f"x{k}": 1 for k in range(n)})
    assert p.returncode == 0, p.err
    h = rep["hazards"][0]
    assert h["status"] == "present"
    assert list(h["evidence"]) == [f"x{k}" for k in range(n)]
    rep, p = w.eval(rules, {})
    h = rep["hazards"][0]
    assert h["status"] == "undetermined"
    assert h["missing"] == [f"x{k}" for k in range(n)]


def test_evidence_missing_and_explain_through_lets_agree_record_after_record(w):
    # Facts read through lets show in evidence, missing and explain, whichever is gathered
    # first, for every record of a batch (the gathering is kept per thread between records).
    rules = R('  input { a : int\n b : int\n c : int }\n  let x = a + 1\n  let y = x + b\n'
              '  hazard H "h" { cite "c" when y > c }\n'
              '  hazard K "k" { cite "c" when y > 0 }\n'
              '  grade g : color {\n    red when y > 100 and c > 0\n    blue otherwise\n  }')
    w.write("t.rules", rules)
    w.write("f.jsonl", '{"b": 2}\n{"a": 1, "b": 2}\n{"a": 1, "b": 2, "c": 1}\n{"b": 2}\n')
    p = w.run("eval", "-r", "t.rules", "f.jsonl", "--asof", ASOF, "--format", "jsonl")
    reps = [json.loads(line) for line in p.out.splitlines()]
    assert reps[0]["hazards"][0]["missing"] == ["a", "c"]
    assert reps[0]["hazards"][1]["missing"] == ["a"]
    reps = reps[1:]
    h, k = reps[0]["hazards"]
    assert h["status"] == "undetermined" and h["missing"] == ["c"]
    assert h["evidence"] == {"a": 1, "b": 2} and k["evidence"] == {"a": 1, "b": 2}
    assert reps[0]["grades"]["g"]["value"] == "blue"
    assert reps[1]["hazards"][0]["evidence"] == {"a": 1, "b": 2, "c": 1}
    h, k = reps[2]["hazards"]
    assert h["missing"] == ["a", "c"] and k["missing"] == ["a"]
    w.write("f.json", '{"a": 1, "b": 2}')
    for rule in ("g", "H", "K"):
        p = w.run("explain", "-r", "t.rules", "f.json", "--rule", rule, "--asof", ASOF)
        reads = [line.split()[1] for line in p.out.splitlines() if line.startswith("  read")]
        assert reads[:2] == ["a", "b"], (rule, p.out)
