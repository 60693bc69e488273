"""Conversions both ways: Python facts -> engine, report -> dicts (== json.loads(to_json))."""

import datetime
import decimal
import json
import subprocess

import numpy as np
import pandas as pd
import pytest

import carerules
from _binding import RULES, cli_path

ASOF = "2024-06-01"


def errors(report):
    return [(e.get("path"), e["message"]) for e in report["errors"]]


def test_dict_and_json_text_give_the_same_report(rs, record):
    from_dict = rs.evaluate(record, asof=ASOF)
    from_text = rs.evaluate(json.dumps(record, ensure_ascii=False), asof=ASOF)
    from_bytes = rs.evaluate(json.dumps(record).encode(), asof=ASOF)
    assert from_dict == from_text == from_bytes


def test_report_equals_json_loads_of_the_engines_json(rs, record):
    text = rs.evaluate_json(record, asof=ASOF)
    assert isinstance(text, str)
    assert rs.evaluate(record, asof=ASOF) == json.loads(text)
    # compact, CJK as is
    assert ", " not in text and "\\u" not in text and "危房" in text


def test_report_field_order_and_presence(rs, record):
    r = rs.evaluate(record, asof=ASOF)
    assert list(r) == ["subject", "ruleset", "engine", "asof", "hazards", "scores", "grades",
                       "errors"]
    assert list(r["ruleset"]) == ["name", "title", "version", "source", "effective", "digest"]
    h1, h2, h3 = r["hazards"]
    assert list(h1) == ["id", "title", "category", "severity", "status", "cite", "rectify",
                        "advice", "evidence"]
    assert h1["rectify"] == {"action": "suspend", "within_days": 90, "due": "2024-08-30"}
    assert "advice" not in h2 and h2["cite"] is None and "missing" not in h2
    q = r["scores"]["quality"]
    assert list(q) == ["total", "provisional", "sections", "items"]
    assert list(q["items"][0]) == ["id", "section", "kind", "points", "status"]
    assert q["items"][2] == {"id": "D1", "section": None, "kind": "deduct", "points": -5,
                             "status": "awarded"}
    assert list(r["grades"]["risk"]) == ["value", "because"]
    assert r["engine"] == "carerules 0.1.0" and r["asof"] == ASOF


def test_numbers_come_back_as_json_loads_makes_them(rs, record):
    record["facility"]["ratio"] = 0.3333333  # rounded to 6 digits: E2 = 6.66666
    r = rs.evaluate(record, asof=ASOF)
    q = r["scores"]["quality"]
    assert q["items"][1]["points"] == 6.66666 and isinstance(q["items"][1]["points"], float)
    assert q["sections"]["env"] == 16.66666
    record["facility"]["ratio"] = 0.5  # a decimal with an integral value is written "10"
    q = rs.evaluate(record, asof=ASOF)["scores"]["quality"]
    assert q["items"][1]["points"] == 10 and isinstance(q["items"][1]["points"], int)
    assert q == json.loads(rs.evaluate_json(record, asof=ASOF))["scores"]["quality"]


def test_undetermined_lists_missing(rs):
    r = rs.evaluate({"id": "X"}, asof=ASOF)
    h1 = r["hazards"][0]
    assert h1["status"] == "undetermined"
    assert h1["missing"] == ["facility.appraisal"]
    assert r["scores"]["quality"]["provisional"] is True
    assert "missing" in r["scores"]["quality"]
    assert r["grades"]["risk"]["value"] == "undetermined"
    assert r == json.loads(rs.evaluate_json({"id": "X"}, asof=ASOF))


def test_unicode_keys_and_values(rs, record):
    record["facility"]["名称"] = ""
    r = rs.evaluate(record, asof=ASOF)
    h3 = r["hazards"][2]
    assert h3["title"] == "名称为空"
    assert h3["status"] == "present"
    assert h3["evidence"] == {"facility.名称": ""}
    record["facility"]["名称"] = "福建省厦门市😀"
    r = rs.evaluate(record, asof=ASOF)
    assert r["hazards"][2]["evidence"] == {"facility.名称": "福建省厦门市😀"}
    assert r == json.loads(rs.evaluate_json(record, asof=ASOF))


def test_subject(rs, record):
    assert rs.evaluate(record, asof=ASOF)["subject"] == "FJ-XM-0007"
    del record["id"]
    assert rs.evaluate(record, asof=ASOF)["subject"] is None
    record["facility"]["code"] = 1234
    r = rs.evaluate(record, asof=ASOF, subject="facility.code")
    assert r["subject"] == "1234"
    r = rs.evaluate(record, asof=ASOF, subject="facility.名称")
    assert r["subject"] == "厦门思明养老院"


def test_dates_as_date_datetime_str_and_timestamps(rs, record):
    ref = rs.evaluate(record, asof=ASOF)
    for value in (datetime.date(2010, 5, 1), datetime.datetime(2010, 5, 1, 13, 30),
                  pd.Timestamp("2010-05-01 08:00"), np.datetime64("2010-05-01"),
                  np.datetime64("2010-05-01T12:00:00.123456789")):
        record["facility"]["opened"] = value
        r = rs.evaluate(record, asof=ASOF)
        assert r == ref, value
    # a native date read by the rules is shown as the engine shows dates
    assert rs.evaluate(record, asof=ASOF)["scores"] == ref["scores"]


def test_missing_date_values(rs, record):
    for value in (None, pd.NaT, np.datetime64("NaT")):
        record["facility"]["opened"] = value
        r = rs.evaluate(record, asof=ASOF)
        assert not r["errors"], value
        assert r["scores"]["quality"]["provisional"]  # D1 reads `old`, now unknown


def test_a_native_date_where_a_string_is_declared_is_a_record_error(rs, record):
    record["facility"]["名称"] = datetime.date(2020, 1, 1)
    r = rs.evaluate(record, asof=ASOF)
    assert errors(r) == [("/facility/名称",
                          "expected a string for `facility.名称`, got date 2020-01-01")]


def test_asof_as_date_and_days_since(rs, record):
    assert rs.evaluate(record, asof=datetime.date(2024, 6, 1)) == rs.evaluate(record, asof=ASOF)
    assert rs.evaluate(record, asof=datetime.datetime(2024, 6, 1, 23, 59))["asof"] == ASOF
    assert rs.evaluate(record, asof=pd.Timestamp("2024-06-01 08:00"))["asof"] == ASOF
    assert rs.evaluate(record, asof=np.datetime64("2024-06-01"))["asof"] == ASOF
    # 2010-05-01 + 3650 days is 2020-04-28: `old` flips there
    record["facility"]["opened"] = datetime.date(2010, 5, 1)
    items = lambda asof: rs.evaluate(record, asof=asof)["scores"]["quality"]["items"]  # noqa
    assert items("2020-04-28")[2]["status"] == "not_awarded"
    assert items("2020-04-29")[2]["status"] == "awarded"


def test_default_asof_is_today(rs, record):
    assert rs.evaluate(record)["asof"] == datetime.date.today().isoformat()


def test_numpy_scalars(rs, record):
    ref = rs.evaluate(record, asof=ASOF)
    f = record["facility"]
    f["beds"] = np.int64(60)
    f["ratio"] = np.float64(0.25)
    f["sprinklers"] = np.bool_(False)
    assert rs.evaluate(record, asof=ASOF) == ref
    for t in (np.int8, np.int16, np.int32, np.uint8, np.uint16, np.uint32, np.uint64):
        f["beds"] = t(60)
        assert rs.evaluate(record, asof=ASOF) == ref, t
    f["beds"] = 60
    f["ratio"] = np.float32(0.25)
    assert rs.evaluate(record, asof=ASOF) == ref
    f["ratio"] = np.float32(0.1)  # its own shortest text, 0.1, not 0.10000000149011612
    assert rs.evaluate(record, asof=ASOF)["scores"]["quality"]["items"][1]["points"] == 2
    f["codes"] = np.array(["甲", "乙"])
    record["codes"] = np.array(["甲", "乙"])
    r = rs.evaluate(record, asof=ASOF)
    assert not r["errors"]


def test_integral_floats_are_ints_and_big_ints_are_errors(rs, record):
    record["facility"]["beds"] = 60.0
    assert not rs.evaluate(record, asof=ASOF)["errors"]
    record["facility"]["beds"] = 2**64
    r = rs.evaluate(record, asof=ASOF)
    assert errors(r)[0][0] == "/facility/beds"
    assert "outside the int range" in errors(r)[0][1]
    record["facility"]["beds"] = 10**5000  # beyond Python's own str() limit
    assert errors(rs.evaluate(record, asof=ASOF))[0][0] == "/facility/beds"


def test_bool_is_not_an_int(rs, record):
    record["facility"]["beds"] = True
    r = rs.evaluate(record, asof=ASOF)
    assert errors(r) == [("/facility/beds", "expected an int in 0..1000 for `facility.beds`, "
                                            "got true")]


def test_decimal(rs, record):
    record["facility"]["ratio"] = decimal.Decimal("0.25")
    assert not rs.evaluate(record, asof=ASOF)["errors"]
    record["facility"]["ratio"] = decimal.Decimal("NaN")
    assert errors(rs.evaluate(record, asof=ASOF))[0][0] == "/facility/ratio"


@pytest.mark.parametrize("value", [float("nan"), np.float64("nan"), np.float32("nan")])
def test_nan_is_missing_as_in_a_frame(rs, record, value):
    # NaN is "no value", like None and NaT: the same report as leaving the fact out
    record["facility"]["ratio"] = value
    r = rs.evaluate(record, asof=ASOF)
    assert not r["errors"]
    del record["facility"]["ratio"]
    assert r == rs.evaluate(record, asof=ASOF)


@pytest.mark.parametrize("value", [float("inf"), -float("inf"), np.float32("inf")])
def test_infinity_is_a_fault(rs, record, value):
    record["facility"]["ratio"] = value
    r = rs.evaluate(record, asof=ASOF)
    assert [p for p, _ in errors(r)] == ["/facility/ratio"]
    assert "valid number" in r["errors"][0]["message"]
    # the fact reads as missing, not as the default
    assert r["scores"]["quality"]["provisional"]


def test_non_str_key_is_a_fault(rs, record):
    record["facility"][3] = "x"
    r = rs.evaluate(record, asof=ASOF)
    assert errors(r) == [("/facility", "dict keys must be str, got int 3")]
    # the rest of the record is kept
    assert r["hazards"][0]["status"] == "present"


def test_unsupported_types_are_faults(rs, record):
    record["facility"]["appraisal"] = {"C"}
    r = rs.evaluate(record, asof=ASOF)
    assert errors(r)[0][0] == "/facility/appraisal"
    assert "set" in errors(r)[0][1]
    assert r["hazards"][0]["status"] == "undetermined"


def test_wrong_types_are_record_errors(rs, record):
    record["facility"]["beds"] = "sixty"
    record["residents"][1]["ability"] = 95
    record["residents"].append(None)
    r = rs.evaluate(record, asof=ASOF)
    assert errors(r) == [
        ("/facility/beds", 'expected an int in 0..1000 for `facility.beds`, got "sixty"'),
        ("/residents/1/ability", "expected an int in 0..90 for `residents[].ability`, got 95"),
        ("/residents/2", "null element in list `residents`"),
    ]
    assert r == json.loads(rs.evaluate_json(record, asof=ASOF))


def test_tuples_are_lists(rs, record):
    ref = rs.evaluate(record, asof=ASOF)
    record["residents"] = tuple(record["residents"])
    record["codes"] = ("甲", "乙")
    assert rs.evaluate(record, asof=ASOF) == ref


def test_mappings_are_accepted(rs, record):
    import types
    ref = rs.evaluate(record, asof=ASOF)
    assert rs.evaluate(types.MappingProxyType(record), asof=ASOF) == ref


def test_lone_surrogate_is_a_fault(rs, record):
    record["facility"]["名称"] = "bad \udc80"
    r = rs.evaluate(record, asof=ASOF)
    assert errors(r)[0][0] == "/facility/名称"


def test_self_referential_list_does_not_crash(rs, record):
    loop = []
    loop.append(loop)
    record["facility"]["loop"] = loop
    r = rs.evaluate(record, asof=ASOF)
    assert r["subject"] is None and "json_depth" in r["errors"][0]["message"]


def test_top_level_must_be_an_object(rs):
    for text in ("[]", "3", "null", "not json"):
        r = rs.evaluate(text, asof=ASOF)
        assert r["hazards"] == [] and r["scores"] == {} and r["grades"] == {}
        assert r["errors"][0]["path"] == ""


def test_each(rs, record):
    reports = rs.evaluate(record, asof=ASOF, each="residents")
    assert isinstance(reports, list) and len(reports) == 2
    assert [r["subject"] for r in reports] == ["R1", "R2"]
    texts = rs.evaluate_json(record, asof=ASOF, each="residents")
    assert reports == [json.loads(t) for t in texts]
    assert reports == rs.evaluate(json.dumps(record), asof=ASOF, each="residents")


def test_each_edge_cases_match_json_text(rs, record):
    cases = [
        {"residents": []},
        {},
        {"residents": None},
        {"residents": {"a": 1}},
        {"residents": "x"},
        {"residents": [{"id": "A", "ability": "bad"}, 3, None, [], {"id": 5}]},
        {"a": {"b": [{"id": "Q"}]}},
    ]
    for case in cases:
        for each in ("residents", "a.b"):
            got = rs.evaluate(case, asof=ASOF, each=each)
            want = rs.evaluate(json.dumps(case), asof=ASOF, each=each)
            assert got == want, (case, each)


def test_cli_gives_the_same_report(rs, record, tmp_path):
    cli = cli_path()
    if not cli:
        pytest.skip("no CLI in this build")
    rules = tmp_path / "binding.rules"
    rules.write_text(RULES, encoding="utf-8")
    facts = tmp_path / "f.json"
    facts.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
    out = subprocess.run([cli, "eval", "-r", "binding.rules", "f.json", "--asof", ASOF],
                         cwd=tmp_path, capture_output=True, check=False)
    assert out.returncode == 0, out.stderr
    rs_file = carerules.compile(RULES, name="binding.rules")
    assert rs_file.evaluate(record, asof=ASOF) == json.loads(out.stdout)


def test_undeclared_facts_are_ignored_but_still_checked(rs, record):
    """Keys no input declares are not read, but a fault in them is still the record's error,
    at the same pointer as for JSON text."""
    ref = rs.evaluate(record, asof=ASOF)
    record["region"] = {"province": "福建省", "codes": [1, 2.5, None, True, "x"],
                        "deep": {"a": {"b": [{"c": datetime.date(2020, 1, 1)}]}}}
    record["residents"][0]["notes"] = {"diet": "低盐"}
    assert rs.evaluate(record, asof=ASOF) == ref
    # a non-str key, an infinity, a lone surrogate, a set: errors at their pointers
    record["region"]["deep"]["a"]["b"][0][7] = "seven"
    record["region"]["codes"][1] = float("inf")
    record["residents"][1]["notes"] = "bad \udc80"
    record["extra"] = {"s": {1, 2}}
    r = rs.evaluate(record, asof=ASOF)
    assert sorted(p for p, _ in errors(r)) == ["/extra/s", "/region/codes/1",
                                               "/region/deep/a/b/0", "/residents/1/notes"]
    assert r["hazards"] == ref["hazards"]


def test_undeclared_nesting_past_json_depth_matches_json_text(rs, record):
    deep = {}
    d = deep
    for _ in range(70):
        d["x"] = {}
        d = d["x"]
    record["undeclared"] = deep
    r = rs.evaluate(record, asof=ASOF)
    assert r == rs.evaluate(json.dumps(record), asof=ASOF)
    assert r["errors"][0]["message"] == "nesting deeper than 64 levels (limit json_depth)"


def test_evaluate_json_writes_the_bytes_the_cli_writes(tmp_path):
    # The sample institutions as dicts and as text: the module's JSON is the CLI's, byte for
    # byte (both come from the library's fast writer; the dicts through the module's binder).
    root = __import__("pathlib").Path(__file__).resolve().parents[2]
    rules = root / "rulesets" / "institution.rules"
    data = root / "examples" / "data" / "institutions.jsonl"
    lines = [l for l in data.read_text(encoding="utf-8").splitlines() if l.strip()][:60]
    lines.append('{"id": "broken", "beds": "many"}')
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    cli = subprocess.run([cli_path(), "eval", "-r", str(rules), str(path), "--format", "jsonl",
                          "--asof", ASOF], capture_output=True, check=False)
    assert cli.returncode == 1  # the broken record has an error
    expected = cli.stdout.decode("utf-8").splitlines()
    rs = carerules.load(str(rules), import_roots=[str(root / "rulesets")])
    assert [rs.evaluate_json(json.loads(l), asof=ASOF) for l in lines] == expected
    assert [rs.evaluate_json(l, asof=ASOF) for l in lines] == expected
