"""Acceptance suite for the Python module `carerules`, written from the module's reference
(docs/reference/python.md, docs/reference/report.md) and the language reference
(docs/reference/language.md) only. Where those are silent, the project's documented choices
(docs/python.md) are tested and marked DOCS."""
import csv
import datetime as dt
import glob
import hashlib
import io
import json
import math
import multiprocessing
import os
import pathlib
import pickle
import re
import subprocess
import sys
import threading
import time
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

import carerules

MAIN = str(pathlib.Path(__file__).resolve().parents[2])
CLI = os.environ.get("CARERULES_BIN") or f"{MAIN}/build/bin/carerules"
INSTITUTION = f"{MAIN}/rulesets/institution.rules"
ROOTS = [f"{MAIN}/rulesets"]
DATA = f"{MAIN}/examples/data/institutions.jsonl"
ASOF = "2024-06-01"

DEMO = """\
ruleset demo {
  title   "演示规则"
  version "1.2"
  input {
    id                     : string  "编号"
    code                   : string
    facility.beds          : int in 0..1000 = 10 "核定床位数"
    facility.fire.accepted : bool "消防验收"
    facility.opened        : date
    facility.ratio         : number
    facility.grade         : enum("A", "B", "C")
    residents : list {
      id      : string
      ability : int in 0..90 "能力"
      wanders : bool = false
    }
  }
  hazard H1 "未通过消防验收" {
    category fire
    severity major
    cite     "第一条"
    when     not facility.fire.accepted
    rectify  suspend within 30 days
  }
  hazard H2 "开业超过一年" {
    severity general
    cite     "第二条"
    when     days_since(facility.opened) > 365
  }
  hazard H3 "有走失风险的老人" {
    severity general
    cite     "第三条"
    when     any(r in residents where r.wanders)
  }
  score quality max 100 {
    section env max 50 {
      item E1 "床位" 10 when facility.beds >= 10
      item E2 "比例" facility.ratio
    }
    section safety max 50 {
      item S1 "消防" 20 when facility.fire.accepted
      item S2 "评级" 15 when facility.grade in ["A", "B"]
    }
    deduct D1 "走失" 5 when any(r in residents where r.wanders)
  }
  grade risk : color {
    red    when any(h in hazards where h.severity == "major")
    yellow when present(H2)
    blue   otherwise
  }
}
"""

PERSON = """\
ruleset person {
  title   "个人"
  version "0.1"
  input {
    id      : string
    ability : int in 0..90
    wanders : bool = false
  }
  hazard P1 "能力低" { cite "x" when ability < 30 }
  grade band : levels("低", "中", "高") {
    "低" when ability < 30
    "中" when ability < 60
    "高" otherwise
  }
}
"""

FULL = {
    "id": "D-1",
    "code": "C-9",
    "facility": {"beds": 12, "fire": {"accepted": False}, "opened": "2020-01-01",
                 "ratio": 7.5, "grade": "B"},
    "residents": [{"id": "R1", "ability": 20, "wanders": True},
                  {"id": "R2", "ability": 75}],
}


# ------------------------------------------------------------------ helpers
def strict_eq(a, b, where="$"):
    """Equality that also distinguishes int/float/bool (what json.loads gives)."""
    assert type(a) is type(b), f"{where}: {type(a).__name__} {a!r} vs {type(b).__name__} {b!r}"
    if isinstance(a, dict):
        assert list(a.keys()) == list(b.keys()), f"{where}: keys {list(a)} vs {list(b)}"
        for k in a:
            strict_eq(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, list):
        assert len(a) == len(b), f"{where}: len {len(a)} vs {len(b)}"
        for i, (x, y) in enumerate(zip(a, b)):
            strict_eq(x, y, f"{where}[{i}]")
    else:
        assert a == b, f"{where}: {a!r} vs {b!r}"


def cli(*args, check_rc=None):
    p = subprocess.run([CLI, *map(str, args)], capture_output=True)
    if check_rc is not None:
        assert p.returncode == check_rc, p.stderr.decode()
    return p


def cli_eval(rules, facts, *extra):
    p = cli("eval", "-r", rules, facts, *extra)
    assert p.returncode in (0, 1), p.stderr.decode()
    return json.loads(p.stdout.decode("utf-8"))


@pytest.fixture(scope="module")
def tmp(tmp_path_factory):
    return tmp_path_factory.mktemp("acc")


@pytest.fixture(scope="module")
def demo_path(tmp):
    p = tmp / "demo.rules"
    p.write_text(DEMO, encoding="utf-8")
    return str(p)


@pytest.fixture(scope="module")
def demo(demo_path):
    return carerules.load(demo_path)


@pytest.fixture(scope="module")
def person_path(tmp):
    p = tmp / "person.rules"
    p.write_text(PERSON, encoding="utf-8")
    return str(p)


@pytest.fixture(scope="module")
def inst():
    return carerules.load(INSTITUTION, import_roots=ROOTS)


@pytest.fixture(scope="module")
def records():
    with open(DATA, encoding="utf-8") as f:
        return [json.loads(l) for l in f if l.strip()]


def write_json(tmp, name, obj):
    p = tmp / name
    p.write_text(json.dumps(obj, ensure_ascii=False), encoding="utf-8")
    return str(p)


def bad_rules(tmp, name, text):
    p = tmp / name
    p.write_text(text, encoding="utf-8")
    return str(p)


BAD = """\
ruleset bad {
  title "t"
  version "1"
  input { facility.beds : int }
  hazard H1 "床位过多" { cite "c" when facility.bedz > 3 }
}
"""

# ================================================================ version / load / compile
def test_version_is_semver_and_matches_cli_and_engine(demo):
    assert re.fullmatch(r"\d+\.\d+\.\d+", carerules.__version__)
    out = cli("--version", check_rc=0).stdout.decode().strip()
    assert out == f"carerules {carerules.__version__}"
    assert demo.evaluate({}, asof=ASOF)["engine"] == f"carerules {carerules.__version__}"


def test_load_shipped_ruleset_with_import_roots(inst):
    assert inst.name == "institution"
    assert inst.version == "1.0"


def test_load_default_import_root_is_the_files_folder():
    rs = carerules.load(INSTITUTION)
    assert rs.digest == carerules.load(INSTITUTION, import_roots=ROOTS).digest


def test_compile_from_text_matches_load(demo):
    rs = carerules.compile(DEMO, name="inline.rules")
    assert (rs.name, rs.version, rs.digest) == ("demo", "1.2", demo.digest)
    assert rs.evaluate(FULL, asof=ASOF)["hazards"] == demo.evaluate(FULL, asof=ASOF)["hazards"]


def test_name_version_digest_are_strings(demo):
    assert demo.name == "demo" and demo.version == "1.2"
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", demo.digest)


def test_digest_is_sha256_of_file_bytes(demo_path, demo):
    with open(demo_path, "rb") as f:
        assert demo.digest == "sha256:" + hashlib.sha256(f.read()).hexdigest()


def test_digest_covers_imports_in_first_reached_order(inst):
    order = ["institution.rules", "hazards/mca_2023.rules", "risk/four_color.rules",
             "levels/gbt37276.rules"]
    h = hashlib.sha256()
    for rel in order:
        with open(f"{MAIN}/rulesets/{rel}", "rb") as f:
            h.update(f.read())
    assert inst.digest == "sha256:" + h.hexdigest()
    assert inst.evaluate({}, asof=ASOF)["ruleset"]["digest"] == inst.digest


def test_import_roots_allow_import_outside_the_files_folder(tmp):
    (tmp / "lib").mkdir()
    (tmp / "app").mkdir()
    (tmp / "lib" / "common.rules").write_text(
        'ruleset common {\n  title "c"\n  version "1"\n  input { facility.beds : int }\n'
        '  hazard C1 "c" { cite "c" when facility.beds > 100 }\n}\n', encoding="utf-8")
    main = tmp / "app" / "main.rules"
    main.write_text('ruleset main {\n  title "m"\n  version "2"\n  import "../lib/common.rules"\n'
                    '  hazard M1 "m" { cite "m" when facility.beds > 200 }\n}\n', encoding="utf-8")
    with pytest.raises(carerules.CompileError):
        carerules.load(str(main))
    rs = carerules.load(str(main), import_roots=[str(tmp)])
    rep = rs.evaluate({"facility": {"beds": 150}}, asof=ASOF)
    assert [(h["id"], h["status"]) for h in rep["hazards"]] == [("C1", "present"), ("M1", "absent")]
    h = hashlib.sha256(main.read_bytes() + (tmp / "lib" / "common.rules").read_bytes())
    assert rs.digest == "sha256:" + h.hexdigest()


def test_limits_apply_to_rulesets():
    with pytest.raises(carerules.CompileError) as ei:
        carerules.compile(DEMO, name="inline.rules", limits={"identifier": 4})
    assert ei.value.diagnostics and ei.value.diagnostics[0]["severity"] == "error"
    carerules.compile(DEMO, name="inline.rules", limits={"identifier": 256})


def test_limits_apply_to_load(demo_path):
    with pytest.raises(carerules.CompileError):
        carerules.load(demo_path, limits={"identifier": 4})


def test_limits_apply_to_facts_list():
    rs = carerules.compile(DEMO, name="inline.rules", limits={"list": 2})
    ok = rs.evaluate(FULL, asof=ASOF)
    assert ok["errors"] == []                           # exactly the limit is allowed
    rec = dict(FULL, residents=FULL["residents"] + [{"id": "R3", "ability": 50}])
    rep = rs.evaluate(rec, asof=ASOF)
    assert rep["errors"] and rep["errors"][0]["path"].startswith("/residents")


def test_unknown_limit_name_or_bad_value_is_valueerror():
    with pytest.raises(ValueError):
        carerules.compile(DEMO, name="inline.rules", limits={"no_such_limit": 3})
    with pytest.raises(ValueError):
        carerules.compile(DEMO, name="inline.rules", limits={"depth": -1})


# ================================================================ CompileError
def test_compile_error_is_exception_with_diagnostics():
    with pytest.raises(carerules.CompileError) as ei:
        carerules.compile(BAD, name="bad.rules")
    e = ei.value
    assert isinstance(e, Exception)
    assert len(e.diagnostics) >= 1
    d = e.diagnostics[0]
    for k in ("file", "line", "column", "severity", "message"):
        assert d[k] is not None if hasattr(d, "__getitem__") else getattr(d, k) is not None
    assert d["file"] == "bad.rules" and d["severity"] == "error"
    assert d["line"] == 5 and isinstance(d["column"], int)
    assert "facility.bedz" in d["message"] or "bedz" in d["message"]


def test_compile_error_first_line_column_message():
    with pytest.raises(carerules.CompileError) as ei:
        carerules.compile(BAD, name="bad.rules")
    e, d = ei.value, ei.value.diagnostics[0]
    assert (e.line, e.column, e.message) == (d["line"], d["column"], d["message"])


def test_compile_error_column_counts_code_points():
    with pytest.raises(carerules.CompileError) as ei:
        carerules.compile(BAD, name="bad.rules")
    line = BAD.splitlines()[4]
    candidates = {line.index("facility.bedz") + 1, line.index("bedz") + 1}
    assert ei.value.column in candidates


def test_compile_error_str_is_cli_form():
    with pytest.raises(carerules.CompileError) as ei:
        carerules.compile(BAD, name="bad.rules")
    e = ei.value
    assert str(e) == f"bad.rules:{e.line}:{e.column}: error: {e.message}"


def test_compile_error_str_equals_cli_check_first_line(tmp):
    path = bad_rules(tmp, "bad_cli.rules", BAD)
    with pytest.raises(carerules.CompileError) as ei:
        carerules.load(path)
    p = cli("check", path, check_rc=1)
    first = p.stderr.decode("utf-8").splitlines()[0]
    assert str(ei.value) == first


def test_compile_error_diagnostics_match_cli(tmp):
    text = BAD.replace('}\n}\n', '}\n  hazard H2 "x" { cite "c" when facility.roomz > 1 }\n}\n')
    path = bad_rules(tmp, "bad_two.rules", text)
    with pytest.raises(carerules.CompileError) as ei:
        carerules.load(path)
    diags = ei.value.diagnostics
    assert len(diags) >= 2
    assert [d["line"] for d in diags[:2]] == [5, 6]
    lines = [l for l in cli("check", path).stderr.decode().splitlines()
             if re.match(re.escape(path) + r":\d+:\d+: (error|warning): ", l)]
    want = [f'{d["file"]}:{d["line"]}:{d["column"]}: {d["severity"]}: {d["message"]}' for d in diags]
    assert want == lines


def test_compile_error_first_diagnostic_is_an_error_not_a_warning():
    # DOCS: errors first, then warnings. Line 5 has a hazard without cite (a warning).
    text = ('ruleset w {\n  title "t"\n  version "1"\n  input { a : int }\n'
            '  hazard W1 "no cite" { when a > 1 }\n  hazard W2 "bad" { cite "c" when b > 1 }\n}\n')
    with pytest.raises(carerules.CompileError) as ei:
        carerules.compile(text, name="w.rules")
    assert ei.value.diagnostics[0]["severity"] == "error"
    assert ei.value.line == 6


def test_warnings_do_not_raise():
    text = 'ruleset w {\n  title "t"\n  version "1"\n  input { a : int }\n  hazard W1 "no cite" { when a > 1 }\n}\n'
    rs = carerules.compile(text, name="w.rules")
    assert rs.name == "w"
    assert any(d["severity"] == "warning" for d in rs.warnings)     # DOCS


def test_load_missing_file_is_filenotfounderror(tmp):
    with pytest.raises(FileNotFoundError):
        carerules.load(str(tmp / "nope.rules"))


def test_load_directory_is_isadirectoryerror(tmp):
    with pytest.raises(IsADirectoryError):                         # DOCS
        carerules.load(str(tmp))


def test_wrong_kinds_to_load_and_compile_are_typeerror(demo_path):
    with pytest.raises(TypeError):
        carerules.load(42)
    with pytest.raises(TypeError):
        carerules.compile(42)
    with pytest.raises(TypeError):
        carerules.load(demo_path, import_roots=42)
    with pytest.raises(TypeError):
        carerules.load(demo_path, limits=["depth"])


# ================================================================ evaluate
def test_evaluate_dict_equals_cli_json(tmp, demo_path, demo):
    facts = write_json(tmp, "full.json", FULL)
    strict_eq(demo.evaluate(FULL, asof=ASOF), cli_eval(demo_path, facts, "--asof", ASOF))


def test_evaluate_partial_facts_equals_cli_json(tmp, demo_path, demo):
    rec = {"id": 7, "facility": {"fire": {"accepted": True}, "ratio": 0.1}}
    facts = write_json(tmp, "partial.json", rec)
    rep = demo.evaluate(rec, asof=ASOF)
    strict_eq(rep, cli_eval(demo_path, facts, "--asof", ASOF))
    assert rep["subject"] == "7"


def test_evaluate_institutions_equal_cli(tmp, inst, records):
    for i in (0, 1, 7, 42, 199):
        facts = write_json(tmp, f"inst{i}.json", records[i])
        strict_eq(inst.evaluate(records[i], asof=ASOF),
                  cli_eval(INSTITUTION, facts, "--asof", ASOF, "--import-root", ROOTS[0]))


def test_evaluate_json_text_equals_dict(demo):
    strict_eq(demo.evaluate(json.dumps(FULL, ensure_ascii=False), asof=ASOF),
              demo.evaluate(FULL, asof=ASOF))


def test_evaluate_report_shape(demo):
    rep = demo.evaluate(FULL, asof=ASOF)
    assert list(rep) == ["subject", "ruleset", "engine", "asof", "hazards", "scores", "grades", "errors"]
    assert rep["asof"] == ASOF and rep["subject"] == "D-1"
    h1 = rep["hazards"][0]
    assert h1["id"] == "H1" and h1["status"] == "present"
    assert h1["rectify"] == {"action": "suspend", "within_days": 30, "due": "2024-07-01"}
    assert [h["id"] for h in rep["hazards"]] == ["H1", "H2", "H3"]
    assert rep["grades"]["risk"]["value"] == "red"


def test_evaluate_numbers_are_int_when_integral(demo):
    rep = demo.evaluate(FULL, asof=ASOF)
    q = rep["scores"]["quality"]
    assert q["total"] == 27.5 and isinstance(q["total"], float)   # 10 + 7.5 + 15 - 5
    assert q["sections"]["safety"] == 15 and type(q["sections"]["safety"]) is int
    assert type(q["provisional"]) is bool


def test_asof_defaults_to_local_today(demo):
    assert demo.evaluate(FULL)["asof"] == dt.date.today().isoformat()


@pytest.mark.parametrize("bad", ["2024-02-30", "2024/06/01", "yesterday", "24-06-01", ""])
def test_bad_asof_is_valueerror(demo, bad):
    with pytest.raises(ValueError):
        demo.evaluate(FULL, asof=bad)


def test_bad_asof_is_valueerror_in_batches(demo):
    with pytest.raises(ValueError):
        demo.evaluate_many([FULL], asof="2024-13-01")
    with pytest.raises(ValueError):
        demo.evaluate_frame(pd.DataFrame({"id": ["a"]}), asof="2024-13-01")


def test_asof_changes_days_since(demo):
    rec = {"facility": {"opened": "2024-01-01"}}
    assert demo.evaluate(rec, asof="2024-06-01")["hazards"][1]["status"] == "absent"
    assert demo.evaluate(rec, asof="2025-06-01")["hazards"][1]["status"] == "present"


def test_subject_path_like_cli(tmp, demo_path, demo):
    facts = write_json(tmp, "subj.json", FULL)
    rep = demo.evaluate(FULL, asof=ASOF, subject="code")
    assert rep["subject"] == "C-9"
    strict_eq(rep, cli_eval(demo_path, facts, "--asof", ASOF, "--subject", "code"))


def test_subject_absent_is_none(demo):
    assert demo.evaluate({"facility": {}}, asof=ASOF)["subject"] is None


def test_each_like_cli(tmp, person_path):
    rs = carerules.load(person_path)
    facts = write_json(tmp, "each.json", FULL)
    reps = rs.evaluate(FULL, asof=ASOF, each="residents")
    assert [r["subject"] for r in reps] == ["R1", "R2"]
    assert [r["hazards"][0]["status"] for r in reps] == ["present", "absent"]
    strict_eq(reps, cli_eval(person_path, facts, "--asof", ASOF, "--each", "residents"))


def test_each_path_not_a_list_is_record_error(person_path):
    rs = carerules.load(person_path)
    out = rs.evaluate({"id": "x", "residents": 5}, asof=ASOF, each="residents")
    reps = out if isinstance(out, list) else [out]
    assert reps and reps[0]["errors"]


def test_wrong_kinds_to_evaluate_are_typeerror(demo):
    for bad in (42, 3.5, object()):
        with pytest.raises(TypeError):
            demo.evaluate(bad, asof=ASOF)
    with pytest.raises(TypeError):
        demo.evaluate(FULL, asof=20240601)
    with pytest.raises(TypeError):
        demo.evaluate(FULL, asof=ASOF, subject=5)


def test_json_text_not_an_object_is_record_error(demo):
    rep = demo.evaluate("[1, 2]", asof=ASOF)
    assert rep["subject"] is None and rep["errors"] and rep["errors"][0]["path"] == ""


# ---------------------------------------------------------------- Python facts
def test_datetime_date_is_a_date(demo):
    a = demo.evaluate({"facility": {"opened": dt.date(2020, 1, 1)}}, asof=ASOF)
    b = demo.evaluate({"facility": {"opened": "2020-01-01"}}, asof=ASOF)
    strict_eq(a, b)
    assert a["hazards"][1]["status"] == "present"


def test_datetime_like_values_are_dates(demo):     # DOCS: datetime, Timestamp, datetime64
    want = demo.evaluate({"facility": {"opened": "2020-01-01"}}, asof=ASOF)
    for v in (dt.datetime(2020, 1, 1, 12, 0), pd.Timestamp("2020-01-01"),
              np.datetime64("2020-01-01")):
        strict_eq(demo.evaluate({"facility": {"opened": v}}, asof=ASOF), want)


def test_numpy_scalars_are_facts(demo):
    plain = {"facility": {"beds": 12, "ratio": 7.5, "fire": {"accepted": True}}}
    npy = {"facility": {"beds": np.int64(12), "ratio": np.float64(7.5),
                        "fire": {"accepted": np.bool_(True)}}}
    strict_eq(demo.evaluate(npy, asof=ASOF), demo.evaluate(plain, asof=ASOF))
    npy32 = {"facility": {"beds": np.int32(12), "ratio": np.float32(7.5),
                          "fire": {"accepted": np.bool_(True)}}}
    strict_eq(demo.evaluate(npy32, asof=ASOF), demo.evaluate(plain, asof=ASOF))


def test_python_ints_and_integral_floats(demo):
    a = demo.evaluate({"facility": {"beds": 12}}, asof=ASOF)
    b = demo.evaluate({"facility": {"beds": 12.0}}, asof=ASOF)
    strict_eq(a, b)
    assert a["errors"] == []


def test_python_int_beyond_int64_is_record_error(demo):
    rep = demo.evaluate({"facility": {"ratio": 2 ** 70}}, asof=ASOF)
    assert any(e.get("path") == "/facility/ratio" for e in rep["errors"])
    rep = demo.evaluate({"facility": {"beds": 2 ** 64}}, asof=ASOF)
    assert any(e.get("path") == "/facility/beds" for e in rep["errors"])


def test_decimal_is_a_number(demo):                  # DOCS
    strict_eq(demo.evaluate({"facility": {"ratio": Decimal("7.5")}}, asof=ASOF),
              demo.evaluate({"facility": {"ratio": 7.5}}, asof=ASOF))


def test_none_and_nan_mean_missing(demo):
    absent = demo.evaluate({"facility": {}}, asof=ASOF)
    for v in (None, float("nan"), pd.NaT, pd.NA):
        rep = demo.evaluate({"facility": {"fire": {"accepted": v}, "opened": v, "ratio": v}}, asof=ASOF)
        strict_eq(rep, absent)
    assert absent["hazards"][0]["status"] == "undetermined"
    assert absent["hazards"][0]["missing"] == ["facility.fire.accepted"]


def test_out_of_range_value_is_record_error_with_pointer(demo):
    rep = demo.evaluate({"residents": [{"id": "a", "ability": 95}]}, asof=ASOF)
    assert [e["path"] for e in rep["errors"]] == ["/residents/0/ability"]


# ================================================================ evaluate_many
def test_evaluate_many_equals_cli_batch(tmp, inst, records):
    p = tmp / "inst.jsonl"
    p.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records[:60]) + "\n",
                 encoding="utf-8")
    want = cli_eval(INSTITUTION, str(p), "--asof", ASOF, "--import-root", ROOTS[0])
    got = inst.evaluate_many(records[:60], asof=ASOF, threads=0)
    assert isinstance(got, list)
    strict_eq(got, want)


def test_evaluate_many_keeps_order_and_matches_evaluate(inst, records):
    got = inst.evaluate_many(records, asof=ASOF, threads=2)
    assert [r["subject"] for r in got] == [r["id"] for r in records]
    for i in (0, 99, 199):
        strict_eq(got[i], inst.evaluate(records[i], asof=ASOF))


def test_evaluate_many_same_for_any_thread_count(inst, records):
    a = inst.evaluate_many(records, asof=ASOF, threads=0)
    b = inst.evaluate_many(records, asof=ASOF, threads=1)
    c = inst.evaluate_many(records, asof=ASOF, threads=7)
    assert a == b == c


def test_evaluate_many_negative_threads_is_valueerror(demo):
    with pytest.raises(ValueError):
        demo.evaluate_many([FULL], threads=-1)


def test_evaluate_many_wrong_kinds_are_typeerror(demo):
    with pytest.raises(TypeError):
        demo.evaluate_many(42)
    with pytest.raises(TypeError):
        demo.evaluate_many([FULL], threads="2")


def test_evaluate_many_empty(demo):
    assert demo.evaluate_many([], asof=ASOF) == []


def test_evaluate_many_non_dict_element_is_that_records_error(demo):
    batch = [FULL, 42, ["not", "a", "dict"], None, dict(FULL, id="D-2")]
    got = demo.evaluate_many(batch, asof=ASOF)
    assert len(got) == 5
    strict_eq(got[0], demo.evaluate(FULL, asof=ASOF))
    strict_eq(got[4], demo.evaluate(dict(FULL, id="D-2"), asof=ASOF))
    for r in got[1:4]:
        assert r["subject"] is None and r["errors"]
        assert r["hazards"] == [] and r["scores"] == {} and r["grades"] == {}


def test_evaluate_many_accepts_json_text_elements(demo):          # DOCS
    got = demo.evaluate_many([json.dumps(FULL), FULL], asof=ASOF)
    assert got[0] == got[1]


def test_evaluate_many_subject_and_each_like_cli(tmp, person_path, demo):
    rs = carerules.load(person_path)
    recs = [FULL, dict(FULL, residents=[{"id": "R9", "ability": 45}])]
    p = tmp / "each.jsonl"
    p.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in recs) + "\n", encoding="utf-8")
    strict_eq(rs.evaluate_many(recs, asof=ASOF, each="residents"),
              cli_eval(person_path, str(p), "--asof", ASOF, "--each", "residents"))
    got = demo.evaluate_many(recs, asof=ASOF, subject="code")
    assert [r["subject"] for r in got] == ["C-9", "C-9"]


def test_evaluate_many_releases_the_gil(inst, records):
    batch = records * 60          # 12 000 records
    ticks = []
    done = threading.Event()
    t0 = time.perf_counter()
    inst.evaluate_many(batch[:2000], asof=ASOF, threads=2)
    def work():
        inst.evaluate_many(batch, asof=ASOF, threads=2)
        done.set()
    th = threading.Thread(target=work)
    start = time.perf_counter()
    th.start()
    while not done.is_set():
        ticks.append(time.perf_counter())
    th.join()
    end = time.perf_counter()
    ticks = [start] + ticks + [end]
    max_gap = max(b - a for a, b in zip(ticks, ticks[1:]))
    dur = end - start
    assert dur > 0.05, "batch too quick to measure"
    # With the GIL held for the whole call, the counting thread would stall for ~dur.
    assert max_gap < 0.6 * dur, f"max gap {max_gap:.3f}s of {dur:.3f}s"


# ================================================================ evaluate_frame
DEMO_COLS = ["subject", "hazard.H1", "hazard.H2", "hazard.H3", "score.quality",
             "score.quality.env", "score.quality.safety", "grade.risk", "errors"]


def demo_frame():
    return pd.DataFrame({
        "id": ["a", "b", "c", "d"],
        "facility.beds": [12, np.nan, 5, 30],
        "facility.fire.accepted": [True, None, False, True],
        "facility.opened": pd.to_datetime(["2020-01-01", None, "2024-05-01", "2019-03-03"]),
        "facility.ratio": [7.5, 1.0, np.nan, 0.25],
        "facility.grade": ["A", "C", None, "B"],
        "residents": [[{"id": "R1", "ability": 20, "wanders": True}],
                      '[{"id": "R2", "ability": 70}]', None, []],
    }, index=[10, 3, 7, 1])


def demo_frame_dicts():
    return [
        {"id": "a", "facility": {"beds": 12, "fire": {"accepted": True}, "opened": "2020-01-01",
                                 "ratio": 7.5, "grade": "A"},
         "residents": [{"id": "R1", "ability": 20, "wanders": True}]},
        {"id": "b", "facility": {"ratio": 1.0, "grade": "C"},
         "residents": [{"id": "R2", "ability": 70}]},
        {"id": "c", "facility": {"beds": 5, "fire": {"accepted": False}, "opened": "2024-05-01"}},
        {"id": "d", "facility": {"beds": 30, "fire": {"accepted": True}, "opened": "2019-03-03",
                                 "ratio": 0.25, "grade": "B"}, "residents": []},
    ]


def row_of(rep):
    row = {"subject": rep["subject"]}
    for h in rep["hazards"]:
        row[f"hazard.{h['id']}"] = h["status"]
    for n, s in rep["scores"].items():
        row[f"score.{n}"] = s["total"]
        for sec, v in s["sections"].items():
            row[f"score.{n}.{sec}"] = v
    for n, g in rep["grades"].items():
        row[f"grade.{n}"] = g["value"]
    row["errors"] = len(rep["errors"])
    return row


def test_frame_returns_dataframe_with_same_index_and_order(demo):
    df = demo_frame()
    out = demo.evaluate_frame(df, asof=ASOF)
    assert isinstance(out, pd.DataFrame)
    assert list(out.index) == [10, 3, 7, 1]
    assert len(out) == len(df)
    assert list(out["subject"]) == ["a", "b", "c", "d"]


def test_frame_columns_and_order(demo):
    out = demo.evaluate_frame(demo_frame(), asof=ASOF)
    assert list(out.columns) == DEMO_COLS


def test_frame_rows_match_evaluate_of_nested_dicts(demo):
    out = demo.evaluate_frame(demo_frame(), asof=ASOF)
    for (label, row), rec in zip(out.iterrows(), demo_frame_dicts()):
        want = row_of(demo.evaluate(rec, asof=ASOF))
        got = {k: (v.item() if hasattr(v, "item") else v) for k, v in row.items()}
        assert got == want, label


def test_frame_nan_none_nat_are_missing(demo):
    out = demo.evaluate_frame(demo_frame(), asof=ASOF)
    assert out.loc[3, "hazard.H1"] == "undetermined"    # None in bool column
    assert out.loc[3, "hazard.H2"] == "undetermined"    # NaT
    assert out.loc[3, "errors"] == 0                     # NaN in int column is not an error
    assert out.loc[7, "hazard.H3"] == "undetermined"    # None list cell


def test_frame_datetime64_is_a_date(demo):
    out = demo.evaluate_frame(demo_frame(), asof=ASOF)
    assert out.loc[10, "hazard.H2"] == "present" and out.loc[7, "hazard.H2"] == "absent"


def test_frame_list_cells_dicts_or_json_text(demo):
    out = demo.evaluate_frame(demo_frame(), asof=ASOF)
    assert out.loc[10, "hazard.H3"] == "present"     # list of dicts
    assert out.loc[3, "hazard.H3"] == "absent"       # JSON text
    assert out.loc[1, "hazard.H3"] == "absent"       # empty list


def test_frame_errors_column_counts(demo):
    df = pd.DataFrame({"id": ["x", "y"], "facility.beds": [5000, 5],
                       "facility.grade": ["Z", "A"]})
    out = demo.evaluate_frame(df, asof=ASOF)
    assert list(out["errors"]) == [2, 0]


def test_frame_subject_parameter(demo):
    df = pd.DataFrame({"id": ["x", "y"], "code": ["C1", "C2"]})
    out = demo.evaluate_frame(df, asof=ASOF, subject="code")
    assert list(out["subject"]) == ["C1", "C2"]


def test_frame_each_one_row_per_element(person_path):
    rs = carerules.load(person_path)
    df = pd.DataFrame({"id": ["f1", "f2"],
                       "residents": [[{"id": "R1", "ability": 10}, {"id": "R2", "ability": 50}],
                                     [{"id": "R3", "ability": 80}]]}, index=["p", "q"])
    out = rs.evaluate_frame(df, asof=ASOF, each="residents")
    assert list(out["subject"]) == ["R1", "R2", "R3"]
    assert list(out["grade.band"]) == ["低", "中", "高"]
    assert list(out.index) == ["p", "p", "q"]                       # DOCS


def test_frame_empty(demo):
    out = demo.evaluate_frame(pd.DataFrame({"id": pd.Series([], dtype=object)}), asof=ASOF)
    assert len(out) == 0 and list(out.columns) == DEMO_COLS


def test_frame_wrong_kind_is_typeerror(demo):
    with pytest.raises(TypeError):
        demo.evaluate_frame([FULL], asof=ASOF)
    with pytest.raises(TypeError):
        demo.evaluate_frame({"id": ["a"]}, asof=ASOF)


def test_frame_negative_threads_is_valueerror(demo):             # DOCS: frames take threads
    with pytest.raises(ValueError):
        demo.evaluate_frame(demo_frame(), asof=ASOF, threads=-1)


def test_frame_of_institutions_equals_cli_csv(inst, records):
    df = pd.json_normalize(records)
    out = inst.evaluate_frame(df, asof=ASOF)
    p = cli("eval", "-r", INSTITUTION, DATA, "--asof", ASOF, "--format", "csv",
            "--import-root", ROOTS[0])
    assert p.returncode in (0, 1), p.stderr.decode()
    assert p.stdout.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(p.stdout.decode("utf-8-sig"))))
    assert list(out.columns) == rows[0]
    assert len(out) == len(rows) - 1
    for (_, row), crow in zip(out.iterrows(), rows[1:]):
        for col, cell in zip(rows[0], crow):
            v = row[col]
            if col.startswith("score.") or col == "errors":
                assert float(cell) == float(v), (col, cell, v)
            else:
                assert cell == ("" if v is None else str(v)), (col, cell, v)


def test_frame_equals_evaluate_many_for_institutions(inst, records):
    df = pd.json_normalize(records)
    out = inst.evaluate_frame(df, asof=ASOF)
    reps = inst.evaluate_many(records, asof=ASOF)
    for (_, row), rep in zip(out.iterrows(), reps):
        want = row_of(rep)
        got = {k: (v.item() if hasattr(v, "item") else v) for k, v in row.items()}
        assert got == want


# ================================================================ inputs
def test_inputs_is_list_of_dicts_with_path_and_type(demo):
    inputs = demo.inputs
    assert isinstance(inputs, list) and all(isinstance(d, dict) for d in inputs)
    by = {d["path"]: d for d in inputs}
    assert by["facility.beds"]["type"] == "int"
    assert by["facility.fire.accepted"]["type"] == "bool"
    assert by["facility.opened"]["type"] == "date"
    assert by["facility.ratio"]["type"] == "number"
    assert by["code"]["type"] == "string"


def test_inputs_keep_declaration_order(demo):
    paths = [d["path"] for d in demo.inputs]
    scalars = ["id", "code", "facility.beds", "facility.fire.accepted", "facility.opened",
               "facility.ratio", "facility.grade"]
    assert [p for p in paths if p in scalars] == scalars
    assert paths.index("residents[].id") < paths.index("residents[].ability") < paths.index("residents[].wanders")


def test_inputs_list_record_fields(demo, inst):
    paths = [d["path"] for d in demo.inputs]
    assert "residents[].ability" in paths
    ipaths = [d["path"] for d in inst.inputs]
    assert "facility.fire.findings[].by" in ipaths
    assert "facility.special_equipment[].next_inspection" in ipaths


def test_inputs_label_default_range_where_declared(demo):
    by = {d["path"]: d for d in demo.inputs}
    beds = by["facility.beds"]
    assert beds["label"] == "核定床位数"
    assert beds["default"] == 10 and type(beds["default"]) is int
    assert list(beds["range"]) == [0, 1000] or beds["range"] in ({"low": 0, "high": 1000},
                                                                   {"min": 0, "max": 1000})
    ab = by["residents[].ability"]
    assert ab["label"] == "能力" and list(ab["range"]) == [0, 90] if isinstance(ab["range"], (list, tuple)) else True
    assert by["residents[].wanders"]["default"] is False


def test_inputs_omit_what_is_not_declared(demo):
    by = {d["path"]: d for d in demo.inputs}
    opened = by["facility.opened"]
    for k in ("label", "default", "range"):
        assert opened.get(k) is None


# ================================================================ pickling
def test_pickle_roundtrip(demo):
    rs2 = pickle.loads(pickle.dumps(demo))
    assert (rs2.name, rs2.version, rs2.digest) == (demo.name, demo.version, demo.digest)
    strict_eq(rs2.evaluate(FULL, asof=ASOF), demo.evaluate(FULL, asof=ASOF))


def test_pickle_recompiles_from_source_text(tmp):
    p = tmp / "gone.rules"
    p.write_text(DEMO, encoding="utf-8")
    rs = carerules.load(str(p))
    data = pickle.dumps(rs)
    p.unlink()
    rs2 = pickle.loads(data)
    assert rs2.digest == rs.digest
    assert rs2.evaluate(FULL, asof=ASOF) == rs.evaluate(FULL, asof=ASOF)


def test_pickle_with_imports(inst, records):
    rs2 = pickle.loads(pickle.dumps(inst))
    assert rs2.digest == inst.digest
    assert rs2.evaluate(records[3], asof=ASOF) == inst.evaluate(records[3], asof=ASOF)


def _mp_eval(args):
    rs, rec = args
    return rs.evaluate(rec, asof=ASOF)


@pytest.mark.parametrize("method", ["fork", "spawn", "forkserver"])
def test_multiprocessing(inst, records, method):
    ctx = multiprocessing.get_context(method)
    with ctx.Pool(2) as pool:
        got = pool.map(_mp_eval, [(inst, r) for r in records[:6]])
    assert got == [inst.evaluate(r, asof=ASOF) for r in records[:6]]


# ================================================================ added after a first run
MINI = 'ruleset mini {\n  title "m"\n  version "1"\n  input { a : int }\n  hazard M1 "m" { cite "c" when a > 1 }\n}\n'


def test_frame_numeric_subject_is_a_string():
    rs = carerules.compile(MINI, name="mini.rules")
    out = rs.evaluate_frame(pd.DataFrame({"id": [101, 102], "a": [1, 2]}), asof=ASOF)
    assert list(out["subject"]) == ["101", "102"]
    assert list(out["hazard.M1"]) == ["absent", "present"]


def test_frame_nullable_dtypes_and_date_objects(demo):
    df = pd.DataFrame({
        "facility.beds": pd.array([12, None], dtype="Int64"),
        "facility.fire.accepted": pd.array([True, None], dtype="boolean"),
        "facility.grade": pd.array(["A", None], dtype="string"),
        "facility.opened": [dt.date(2020, 1, 1), None],
    })
    out = demo.evaluate_frame(df, asof=ASOF)
    recs = [{"facility": {"beds": 12, "fire": {"accepted": True}, "grade": "A", "opened": "2020-01-01"}},
            {"facility": {}}]
    for (_, row), rec in zip(out.iterrows(), recs):
        got = {k: (v.item() if hasattr(v, "item") else v) for k, v in row.items()}
        assert got == row_of(demo.evaluate(rec, asof=ASOF))


def test_frame_overlapping_columns_is_valueerror(demo):          # DOCS
    with pytest.raises(ValueError):
        demo.evaluate_frame(pd.DataFrame({"facility": [1], "facility.beds": [2]}), asof=ASOF)


BAD_FACTS = [
    {"id": "b1", "facility": 5},
    {"id": "b2", "facility": {"opened": "2024-02-30", "grade": "Z"}},
    {"id": "b3", "residents": [None, {"id": "r", "ability": 91}]},
    {"id": True},
    {"id": "b5", "facility": {"beds": "12", "fire": {"accepted": 1}}},
    {"id": "b6", "facility": {"beds": 1e2, "ratio": 0.1234567}},
]


def test_bad_facts_same_from_dict_text_and_cli(tmp, demo_path, demo):
    p = tmp / "badfacts.jsonl"
    p.write_text("\n".join(json.dumps(r) for r in BAD_FACTS) + "\n", encoding="utf-8")
    want = cli_eval(demo_path, str(p), "--asof", ASOF)
    strict_eq(demo.evaluate_many(BAD_FACTS, asof=ASOF), want)
    strict_eq([demo.evaluate(json.dumps(r), asof=ASOF) for r in BAD_FACTS], want)


def test_bool_is_not_an_int_fact(demo):
    rep = demo.evaluate({"facility": {"beds": True}}, asof=ASOF)
    assert [e["path"] for e in rep["errors"]] == ["/facility/beds"]


def test_infinity_is_a_fault_of_that_fact(demo):                  # DOCS
    rep = demo.evaluate({"facility": {"ratio": float("inf")}}, asof=ASOF)
    assert [e["path"] for e in rep["errors"]] == ["/facility/ratio"]
