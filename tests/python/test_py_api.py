"""The rest of the API: explain, json_schema, run_tests, help(), the type stubs."""

import ast
import pathlib
import pydoc

import pytest

import carerules
from _binding import RECORD

ASOF = "2024-06-01"
PACKAGE = pathlib.Path(carerules.__file__).parent


def test_explain(rs):
    text = rs.explain(RECORD, "H1", asof=ASOF)
    assert text.startswith("hazard H1")
    assert "facility.appraisal" in text and '"C"' in text
    assert "present" in text
    # dict or JSON text, same answer
    import json
    assert rs.explain(json.dumps(RECORD), "H1", asof=ASOF) == text
    # a native date is shown as the engine reads it
    rec = dict(RECORD, facility=dict(RECORD["facility"]))
    import datetime
    rec["facility"]["opened"] = datetime.date(2010, 5, 1)
    assert "2010-05-01" in rs.explain(rec, "old", asof=ASOF)
    assert rs.explain(rec, "quality", asof=ASOF).startswith("score quality")


def test_explain_unknown_rule(rs):
    with pytest.raises(carerules.UnknownRuleError) as e:
        rs.explain(RECORD, "nope", asof=ASOF)
    assert isinstance(e.value, KeyError) and isinstance(e.value, ValueError)
    assert "nope" in str(e.value)
    with pytest.raises(TypeError):
        rs.explain(RECORD, 3)
    with pytest.raises(TypeError):
        rs.explain(3, "H1")


def test_json_schema(rs):
    s = rs.json_schema()
    assert s["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert s["title"] == rs.title
    props = s["properties"]
    # null is allowed: it means the same as an absent key (language.md §3)
    assert props["facility"]["properties"]["beds"]["type"] == ["integer", "null"]
    assert props["facility"]["properties"]["beds"]["maximum"] == 1000
    assert props["residents"]["type"] == ["array", "null"]  # null means absent; elements may not be null


def test_run_tests(rs):
    run = rs.run_tests()
    assert run["passed"] == 2 and run["failed"] == 0
    assert [c["name"] for c in run["cases"]] == ["a C building is a major hazard",
                                                  "an A building is not"]
    case = run["cases"][0]
    assert case["file"] == "binding.rules" and case["line"] > 0 and case["failures"] == []
    assert any("H2" in u for u in run["uncovered"])


def test_run_tests_reports_failures():
    rs = carerules.compile('ruleset t {\n title "t"\n version "1"\n input { x : int }\n'
                           ' hazard H "h" { cite "c" when x > 1 }\n'
                           ' test "wrong" {\n  asof @2024-01-01\n  given {"x": 0}\n'
                           '  expect hazard H\n }\n}\n', name="t.rules")
    run = rs.run_tests()
    assert run["failed"] == 1
    assert run["cases"][0]["failures"][0].startswith('t.rules:9: test "wrong": expect hazard H')


def test_help_reads_well():
    for obj in (carerules, carerules.load, carerules.compile, carerules.Ruleset,
                carerules.Ruleset.evaluate, carerules.Ruleset.evaluate_many,
                carerules.Ruleset.evaluate_frame, carerules.CompileError, carerules.Diagnostic):
        assert obj.__doc__ and len(obj.__doc__.strip()) > 40, obj
    text = pydoc.render_doc(carerules.Ruleset, renderer=pydoc.plaintext)
    assert "evaluate_many" in text and "GIL" in text


def test_stubs_cover_the_public_api():
    assert (PACKAGE / "py.typed").exists()
    stub = ast.parse((PACKAGE / "__init__.pyi").read_text(encoding="utf-8"))
    names = {n.name for n in stub.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    names |= {t.id for n in stub.body if isinstance(n, (ast.Assign, ast.AnnAssign))
              for t in ([n.target] if isinstance(n, ast.AnnAssign) else n.targets)
              if isinstance(t, ast.Name)}
    assert set(carerules.__all__) <= names
    ruleset = next(n for n in stub.body if isinstance(n, ast.ClassDef) and n.name == "Ruleset")
    members = {n.name for n in ruleset.body if isinstance(n, ast.FunctionDef)}
    public = {m for m in dir(carerules.Ruleset) if not m.startswith("_")}
    assert public <= members, public - members
    core = ast.parse((PACKAGE / "_core.pyi").read_text(encoding="utf-8"))
    core_ruleset = next(n for n in core.body if isinstance(n, ast.ClassDef) and n.name == "Ruleset")
    core_members = {n.name for n in core_ruleset.body if isinstance(n, ast.FunctionDef)}
    assert {m for m in dir(carerules._core.Ruleset) if not m.startswith("_")} <= core_members


def test_files_list_every_file_with_its_own_identity():
    import hashlib
    root = pathlib.Path(__file__).resolve().parents[2] / "rulesets"
    rs = carerules.load(root / "institution.rules")
    files = rs.files
    assert files[0]["name"] == "institution" and files[0]["version"] == rs.version
    names = [f["name"] for f in files]
    assert "mca_major_hazards_2023" in names and "gbt37276_levels" in names
    assert len(set(names)) == len(names)
    for f in files:
        path = root / f["file"] if f is not files[0] else root / "institution.rules"
        assert f["digest"] == "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest(), f


def test_hazards_give_what_every_report_of_a_hazard_says():
    rs = carerules.load(str(pathlib.Path(__file__).resolve().parents[2] / "rulesets" /
                            "institution.rules"))
    report = rs.evaluate({"id": "x"}, asof=ASOF)
    assert [h["id"] for h in rs.hazards] == [h["id"] for h in report["hazards"]]
    first = rs.hazards[0]
    assert set(first) == {"id", "title", "category", "severity", "cite", "action",
                          "within_days"}
    assert (first["title"], first["cite"]) == (report["hazards"][0]["title"],
                                               report["hazards"][0]["cite"])


def test_empty_subject_or_each_is_refused_as_the_cli_does(rs):
    for kw in ({"subject": ""}, {"each": ""}):
        with pytest.raises(ValueError, match="must not be empty"):
            rs.evaluate(RECORD, asof=ASOF, **kw)
        with pytest.raises(ValueError, match="must not be empty"):
            rs.evaluate_many([RECORD], asof=ASOF, **kw)


def test_an_empty_frame_result_has_the_dtypes_rows_would_give(rs):
    import pandas as pd
    empty = rs.evaluate_frame(pd.DataFrame({"id": pd.Series([], dtype=object)}), asof=ASOF)
    full = rs.evaluate_frame(pd.DataFrame({"id": ["a"]}), asof=ASOF)
    assert empty["subject"].dtype == object and empty["errors"].dtype == "int64"
    assert pd.concat([full, empty])["errors"].dtype == "int64"
