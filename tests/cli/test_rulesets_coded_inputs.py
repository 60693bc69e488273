"""An integrator maps data onto the shipped rulesets from `carerules schema` and
docs/rulesets.md alone, so no coded input may be ambiguous there: every value of every enum
and boolean a rule reads says, in the input's description, what it decides and how to say
"unknown"; the doc's generated tables (scripts/rulesets_tables.py) are current.

The binary is $CARERULES_BIN, or build/bin/carerules.
"""

import json
import os
import pathlib
import re
import shutil
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = os.environ.get("CARERULES_BIN", str(ROOT / "build" / "bin" / "carerules"))
os.environ["CARERULES_BIN"] = BIN
sys.path.insert(0, str(ROOT / "scripts"))
import rulesets_tables as tables  # noqa: E402

ASOF = tables.ASOF


def cli(*args):
    return subprocess.run([BIN, *args], capture_output=True, text=True, encoding="utf-8",
                          timeout=120)


def schema_node(path, file="hazards/mca_2023.rules"):
    return dict(tables.schema_inputs(tables.RULESETS / file))[path]


def coded_values():
    for f, path, node in tables.coded_inputs():
        for value, clause in tables.decisions(node):
            yield pytest.param(path, value, clause, id=f"{f}:{path}={value}")


def test_every_shipped_ruleset_is_walked():
    shipped = {str(p.relative_to(tables.RULESETS)) for p in tables.RULESETS.rglob("*.rules")}
    # the bundle declares no input of its own: it imports the files listed
    assert shipped - set(tables.FILES) == {tables.BUNDLE}
    assert set(tables.FILES) <= shipped


def test_there_are_coded_values_to_check():
    values = list(coded_values())
    paths = {p.values[0] for p in values}
    assert {"facility.building.appraisal.grade", "facility.special_equipment_staff[].duty",
            "areas.fire.L", "coma", "facility.special_equipment"} <= paths
    assert len(values) >= 60


@pytest.mark.parametrize("path,value,clause", coded_values())
def test_each_value_says_what_it_decides(path, value, clause):
    assert tables.says_something(value, clause), \
        f"the description of `{path}` does not say what {value} decides"


def test_no_input_a_rule_reads_is_left_unexplained():
    # cross-checked with the engine: an input counts as read when evaluating a record with
    # nothing filled in reports it missing
    assert tables.problems() == []


def test_every_enum_value_of_the_schema_has_a_row_in_the_doc():
    doc = tables.DOC.read_text(encoding="utf-8")
    for f, path, node in tables.coded_inputs():
        for v in node.get("enum", []):
            if isinstance(v, str):
                row = f"| `{f}` | `{path}` | {json.dumps(v, ensure_ascii=False)} | "
                assert row in doc, f"docs/rulesets.md has no row for {path} = {v!r}"


@pytest.fixture
def tree(tmp_path):
    """A copy of the shipped rulesets to damage."""
    shutil.copytree(tables.RULESETS, tmp_path / "rulesets")
    return tmp_path / "rulesets"


def damage(tree, old, new):
    f = tree / "hazards" / "mca_2023.rules"
    text = f.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    f.write_text(text.replace(old, new), encoding="utf-8")


def test_a_removed_description_is_caught(tree):
    damage(tree, '"岗位: 特种设备安全管理 / 检测 / 作业 / 其他. 判定:', '"岗位. 从前:')
    found = tables.problems(["hazards/mca_2023.rules"], tree)
    assert any("facility.special_equipment_staff[].duty" in p and "判定" in p for p in found), found


def test_a_value_left_out_of_the_description_is_caught(tree):
    # the "unappraised" clause removed: the remaining text names C, D, A and B only
    label = schema_node("facility.building.appraisal.grade")["description"]
    clause = next(c for c in tables.part(label, "判定:").split("; ") if '"unappraised"' in c)
    damage(tree, "; " + clause.replace('"', '\\"'), "")
    found = tables.problems(["hazards/mca_2023.rules"], tree)
    assert found == ['hazards/mca_2023.rules: `facility.building.appraisal.grade`: the label '
                     'does not say what "unappraised" decides'], found


def test_a_boolean_side_left_out_is_caught(tree):
    damage(tree, "判定: true 构成A3.5; false 不构成A3.5.", "判定: true 构成A3.5.")
    found = tables.problems(["hazards/mca_2023.rules"], tree)
    assert found == ["hazards/mca_2023.rules: `facility.other_hazard.found`: the label does not "
                     "say what false decides"], found


def test_a_list_whose_empty_value_is_not_explained_is_caught(tree):
    # "[]" (known: none) and a list left out (not collected) decide differently
    damage(tree, "判定: [] 表示确知无在用特种设备, A4.4 不构成. ", "")
    found = tables.problems(["hazards/mca_2023.rules"], tree)
    assert any("`facility.special_equipment`" in p and "判定" in p for p in found), found


def test_no_way_to_say_unknown_is_caught(tree):
    damage(tree, "true 构成A3.5; false 不构成A3.5. 未知: 不填或填 null", "true 构成A3.5; false 不构成A3.5")
    found = tables.problems(["hazards/mca_2023.rules"], tree)
    assert any("facility.other_hazard.found" in p and "未知" in p for p in found), found


def test_an_input_a_rule_reads_cannot_hide_as_recorded(tree):
    damage(tree, '"检查人员认定存在其他可能造成群死群伤或重大财产损失的事故隐患. 判定: true 构成A3.5; '
           'false 不构成A3.5. 未知: 不填或填 null"', '"检查人员认定 (recorded, not read by a rule)"')
    found = tables.problems(["hazards/mca_2023.rules"], tree)
    assert found == ["hazards/mca_2023.rules: `facility.other_hazard.found` is marked 'not read "
                     "by a rule' but a rule reads it"], found


def test_unappraised_is_described_as_known_never_appraised_in_the_schema():
    p = cli("schema", str(tables.RULESETS / "institution.rules"))
    assert p.returncode == 0, p.stderr
    node = json.loads(p.stdout)["properties"]["facility"]["properties"]["building"]
    label = node["properties"]["appraisal"]["properties"]["grade"]["description"]
    unappraised = dict(tables.decisions(
        {"enum": ["unappraised"], "description": label}))['"unappraised"']
    assert "确知从未鉴定" in unappraised and "structural_major_hazard" in unappraised
    assert '不要填 "unappraised"' in tables.part(label, "未知:")


def test_unappraised_rests_on_the_housing_departments_finding():
    """What the description says is what the engine does."""
    def a41(building):
        p = subprocess.run([BIN, "eval", "-r", str(tables.RULESETS / "hazards" / "mca_2023.rules"),
                            "-", "--asof", ASOF, "--input", "json"],
                           input=json.dumps({"facility": {"building": building}}),
                           capture_output=True, text=True, encoding="utf-8", timeout=60)
        return next(h["status"] for h in json.loads(p.stdout)["hazards"] if h["id"] == "A4.1")

    never = {"appraisal": {"grade": "unappraised"}}
    assert a41({**never, "structural_major_hazard": False}) == "absent"
    assert a41({**never, "structural_major_hazard": True}) == "present"
    assert a41(never) == "undetermined"
    assert a41({"appraisal": {"grade": None}, "structural_major_hazard": False}) == "undetermined"


def test_operators_are_recorded_and_outside_a5_3_as_the_docs_say():
    label = schema_node("facility.special_equipment_staff[].duty")["description"]
    operation = dict(tables.decisions(schema_node("facility.special_equipment_staff[].duty")))
    assert "不计入A5.3" in operation['"operation"'] and "未能确认" in operation['"operation"']
    assert "docs/rulesets.md" in label
    doc = tables.DOC.read_text(encoding="utf-8")
    assert "does not settle" in doc and "作业人员" in doc


def test_the_generated_tables_of_the_doc_are_current():
    doc = tables.DOC.read_text(encoding="utf-8")
    assert tables.render(doc, tables.sections()) == doc, \
        "docs/rulesets.md is stale: run scripts/rulesets_tables.py --write"


def test_undetermined_counts_agree_with_the_cli_summary():
    p = cli("eval", "-r", str(tables.RULESETS / tables.BUNDLE), str(tables.SAMPLE), "--asof", ASOF,
            "--format", "jsonl", "--summary")
    summary = {m.group(1): int(m.group(2)) for m in
               re.finditer(r"^\s+(A[\d.]+)\s+\w+\s+\d+\s+\d+\s+(\d+)\s+\d+$", p.stderr, re.M)}
    table = {m.group(1): int(m.group(2)) for m in
             re.finditer(r"^\| (A[\d.]+) \| (\d+) \|", tables.undetermined_table(), re.M)}
    assert summary and table == summary


def test_the_test_counts_of_the_doc_are_current():
    doc = tables.DOC.read_text(encoding="utf-8")
    rows = re.findall(r"^\| `([\w/]+\.rules)` \| `\w+` \| .* \| (\d+) \|$", doc, re.M)
    assert {f for f, _ in rows} == set(tables.FILES) | {tables.BUNDLE}
    for f, n in rows:
        p = cli("test", str(tables.RULESETS / f), "--import-root", str(tables.RULESETS))
        assert re.search(rf"^{n} passed, 0 failed$", p.stdout, re.M), (f, n, p.stdout)
    total = sum(int(n) for _, n in rows)
    assert f"{total} test blocks in all" in doc
