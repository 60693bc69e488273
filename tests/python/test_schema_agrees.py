"""`carerules schema` says what the engine accepts: for generated good and bad records a real
JSON Schema validator (Debian's python3-jsonschema, with format checking) and the engine give
the same verdict, and `--strict` also refuses a misspelt key."""

import copy
import json
import pathlib

import pytest

import carerules

jsonschema = pytest.importorskip("jsonschema")

ROOT = pathlib.Path(__file__).resolve().parents[2]
ASOF = "2024-06-01"
RECORDS = [json.loads(line) for line in
           (ROOT / "examples" / "data" / "institutions.jsonl").read_text(encoding="utf-8").splitlines()
           if line.strip()]


def validator(rs, strict=False):
    return jsonschema.Draft202012Validator(rs.json_schema(strict=strict),
                                           format_checker=jsonschema.FormatChecker())


def engine_accepts(rs, record):
    return rs.evaluate(record, asof=ASOF)["errors"] == []


def schema_accepts(v, record):
    return v.is_valid(record)


@pytest.fixture(scope="module")
def bundle():
    return carerules.load(ROOT / "rulesets" / "institution.rules")


@pytest.fixture(scope="module")
def residents():
    return carerules.load(ROOT / "rulesets" / "capability" / "gbt42195.rules")


def test_sample_institutions_get_the_same_verdict(bundle):
    v = validator(bundle)
    verdicts = [(schema_accepts(v, r), engine_accepts(bundle, r)) for r in RECORDS]
    assert all(s == e for s, e in verdicts), [
        (r.get("id"), s, e) for r, (s, e) in zip(RECORDS, verdicts) if s != e]
    # the sample holds both kinds
    assert any(e for _, e in verdicts) and not all(e for _, e in verdicts)


def set_path(record, path, value):
    r = copy.deepcopy(record)
    cur = r
    for k in path[:-1]:
        cur = cur.setdefault(k, {})
    cur[path[-1]] = value
    return r


GOOD = {"id": "S-1", "facility": {"building": {"appraisal": {"grade": "B"},
                                                "structural_major_hazard": False},
                                   "fire": {"findings": [{"by": "fire_rescue", "date": "2024-01-10",
                                                          "lacks_fire_safety_conditions": False}]}},
        "areas": {"fire": {"L": 3, "E": 6, "C": 7}}}

MUTATIONS = [
    # (path, value, engine and schema accept it?)
    (["facility", "building", "appraisal", "grade"], "E", False),           # not in the enum
    (["facility", "building", "appraisal", "grade"], None, True),           # null is absent
    (["facility", "building", "appraisal"], None, True),                    # a null object
    (["facility", "building", "appraisal"], 3, False),                      # not an object
    (["facility", "building", "structural_major_hazard"], "否", False),      # not a bool
    (["facility", "fire", "findings"], None, True),                         # a null list
    (["facility", "fire", "findings"], [None], False),                      # a null element
    (["facility", "fire", "findings"], {"by": "x"}, False),                 # not a list
    (["facility", "fire", "findings"], [{"date": "2024/01/10"}], False),    # not YYYY-MM-DD
    (["facility", "fire", "findings"], [{"date": "2023-02-29"}], False),    # no such day
    (["facility", "fire", "findings"], [{"date": "2024-02-29"}], True),
    (["areas", "fire", "L"], 5, False),                                     # not an LEC value
    (["areas", "fire", "L"], 0.5, True),
    (["areas", "fire", "likelihood"], 6, False),                            # out of 1..5
    (["areas", "fire", "likelihood"], 3.5, False),                          # not an int
    (["areas", "fire", "likelihood"], 5.0, True),                           # an integral value
    (["unknown_key"], {"anything": [1, 2]}, True),                          # ignored
]


@pytest.mark.parametrize("path,value,accepted", MUTATIONS,
                         ids=[".".join(p) + "=" + json.dumps(v, ensure_ascii=False)
                              for p, v, _ in MUTATIONS])
def test_good_and_bad_values_get_the_same_verdict(bundle, path, value, accepted):
    record = set_path(GOOD, path, value)
    assert engine_accepts(bundle, GOOD) and schema_accepts(validator(bundle), GOOD)
    assert engine_accepts(bundle, record) == accepted
    assert schema_accepts(validator(bundle), record) == accepted


def test_residents_lists_get_the_same_verdict(residents):
    v = validator(residents)
    people = [p for r in RECORDS for p in r.get("residents", [])]
    assert len(people) > 1000
    disagree = [p.get("id") for p in people if schema_accepts(v, p) != engine_accepts(residents, p)]
    assert disagree == []


def test_strict_refuses_a_misspelt_key(bundle):
    misspelt = {"id": "S-1", "facilty": {"building": {"appraisal": {"grade": "C"}}}}
    assert schema_accepts(validator(bundle), misspelt)          # undeclared keys are ignored
    assert not schema_accepts(validator(bundle, strict=True), misspelt)
    assert schema_accepts(validator(bundle, strict=True), GOOD)
    nested = set_path(GOOD, ["facility", "building", "apraisal"], {"grade": "C"})
    assert not schema_accepts(validator(bundle, strict=True), nested)
