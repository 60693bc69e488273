"""No coded input of a shipped ruleset is ambiguous to someone who reads only `carerules
schema` and docs/rulesets.md: every enum and boolean a rule reads says what its values decide
and how to say "unknown", every enum value is named, and the doc's generated tables are
current (scripts/rulesets_tables.py)."""

import pathlib
import re
import sys

import pytest

import carerules

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
import rulesets_tables  # noqa: E402

CODED = list(rulesets_tables.coded_inputs())


def test_there_are_coded_inputs_to_check():
    files = {f for f, _ in CODED}
    assert {"hazards/mca_2023.rules", "risk/four_color.rules",
            "capability/gbt42195.rules"} <= files
    assert len(CODED) >= 30


@pytest.mark.parametrize("f,inp", CODED, ids=[f"{f}:{i['path']}" for f, i in CODED])
def test_label_says_what_the_values_decide_and_how_to_say_unknown(f, inp):
    label = inp.get("label") or ""
    decides = rulesets_tables.part(label, "判定:")
    assert decides, f"{inp['path']}: no '判定:' part in its label: {label!r}"
    assert "未知:" in label or "可选:" in label, f"{inp['path']}: no '未知:' part: {label!r}"
    for v in inp.get("values", []):
        if isinstance(v, str):
            assert f'"{v}"' in decides, f"{inp['path']}: value {v!r} is not named in {decides!r}"


def test_unappraised_means_known_never_appraised():
    rs = carerules.load(ROOT / "rulesets" / "hazards" / "mca_2023.rules")
    grade = next(i for i in rs.inputs if i["path"] == "facility.building.appraisal.grade")
    assert "确知从未鉴定" in grade["label"] and "不要填" in grade["label"]
    schema = rs.json_schema()  # a dict: what `carerules schema` prints
    node = schema["properties"]["facility"]["properties"]["building"]["properties"]
    assert "确知从未鉴定" in node["appraisal"]["properties"]["grade"]["description"]


def test_the_generated_tables_of_the_doc_are_current():
    doc = rulesets_tables.DOC.read_text(encoding="utf-8")
    assert rulesets_tables.render(doc, rulesets_tables.sections()) == doc, \
        "docs/rulesets.md is stale: run scripts/rulesets_tables.py --write"
