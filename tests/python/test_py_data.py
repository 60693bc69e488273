"""Data work without silent mistakes: strict=True, near-miss warnings, flat dotted keys,
each= checks, details=True, categorical columns, progress, the Jupyter views."""

import json
import sys
import warnings

import pandas as pd
import pytest

import carerules
from _binding import RECORD

ASOF = "2024-06-01"
PERSON = ('ruleset p {\n title "p"\n version "1"\n'
          ' input { id : string\n ability : int\n wanders : bool = false }\n'
          ' hazard P1 "low" { cite "x" when ability < 30 }\n}\n')


def statuses(report):
    return {h["id"]: h["status"] for h in report["hazards"]}


# ------------------------------------------------------------------------ strict=True


def test_strict_names_every_unknown_key_with_a_did_you_mean(rs, record):
    record["facility"]["apraisal"] = record["facility"].pop("appraisal")
    record["residents"][0]["abilty"] = record["residents"][0].pop("ability")
    record["notes"] = "free text"
    with pytest.raises(KeyError) as e:
        rs.evaluate(record, asof=ASOF, strict=True)
    message = str(e.value)
    assert "'facility.apraisal' (did you mean 'facility.appraisal'?)" in message
    assert "'residents[].abilty' (did you mean 'residents[].ability'?)" in message
    assert "'notes'" in message
    assert isinstance(e.value, carerules.UnknownInputError)
    assert sorted(e.value.keys) == ["facility.apraisal", "notes", "residents[].abilty"]


def test_strict_passes_a_clean_record_unchanged(rs, record):
    assert rs.evaluate(record, asof=ASOF, strict=True) == rs.evaluate(record, asof=ASOF)
    # the subject path given by subject= is a known key too
    record["code"] = "C-1"
    assert rs.evaluate(record, asof=ASOF, subject="code", strict=True)["subject"] == "C-1"


def test_strict_checks_json_text_and_every_record_of_a_batch(rs, record):
    bad = json.loads(json.dumps(record))
    bad["facility"]["bed"] = 3
    with pytest.raises(KeyError, match=r"facility\.bed' \(did you mean 'facility\.beds'"):
        rs.evaluate(json.dumps(bad), asof=ASOF, strict=True)
    records = [record] * 5000 + [bad]  # the bad one in the second chunk
    with pytest.raises(KeyError, match="facility.bed"):
        rs.evaluate_many(records, asof=ASOF, strict=True)
    with pytest.raises(KeyError, match="facility.bed"):
        rs.evaluate_many([record, json.dumps(bad)], asof=ASOF, strict=True)
    assert len(rs.evaluate_many([record] * 3, asof=ASOF, strict=True)) == 3


def test_strict_with_each_checks_the_elements(record):
    person = carerules.compile(PERSON)
    assert len(person.evaluate(record, asof=ASOF, each="residents", strict=True)) == 2
    record["residents"][1]["wander"] = True
    with pytest.raises(KeyError, match="'wander' \\(did you mean 'wanders'"):
        person.evaluate(record, asof=ASOF, each="residents", strict=True)


def test_strict_must_be_a_bool(rs, record):
    with pytest.raises(TypeError):
        rs.evaluate(record, strict="yes")


def test_frame_strict_names_unknown_columns(rs):
    df = pd.DataFrame({"id": ["a"], "facility.building.apprasal": ["C"], "facility.beds": [3]})
    with pytest.raises(KeyError, match="'facility.building.apprasal'"):
        rs.evaluate_frame(df, asof=ASOF, strict=True)
    df = pd.DataFrame({"id": ["a"], "facility.apraisal": ["C"]})
    with pytest.raises(KeyError, match="did you mean 'facility.appraisal'"):
        rs.evaluate_frame(df, asof=ASOF, strict=True)
    # keys inside a list column's records are checked too
    df = pd.DataFrame({"id": ["a"], "residents": [[{"id": "r", "abilty": 3}]]})
    with pytest.raises(KeyError, match="residents\\[\\].abilty"):
        rs.evaluate_frame(df, asof=ASOF, strict=True)


# ------------------------------------------------------------------- near-miss warnings


def test_a_near_miss_column_warns_once_and_the_frame_is_still_made(rs):
    df = pd.DataFrame({"id": [f"r{i}" for i in range(200)],
                       "facility.apraisal": ["C"] * 200,
                       "comment": ["x"] * 200})  # far from every input: no warning
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = rs.evaluate_frame(df, asof=ASOF)
    mine = [w for w in caught if issubclass(w.category, carerules.UnknownInputWarning)]
    assert len(mine) == 1
    assert "'facility.apraisal'" in str(mine[0].message)
    assert "did you mean 'facility.appraisal'" in str(mine[0].message)
    assert mine[0].filename == __file__  # points at the caller's line
    assert issubclass(carerules.UnknownInputWarning, UserWarning)
    assert list(out["hazard.H1"].astype(str)) == ["undetermined"] * 200


def test_a_near_miss_dotted_key_warns_once_per_call(rs, record):
    del record["facility"]["appraisal"]
    record["facility.apprasal"] = "C"
    with pytest.warns(carerules.UnknownInputWarning, match="facility.apprasal") as caught:
        rs.evaluate_many([record] * 100, asof=ASOF)
    assert len([w for w in caught if w.category is carerules.UnknownInputWarning]) == 1


def test_a_nested_misspelt_key_is_silent_without_strict(rs, record):
    record["facility"]["apraisal"] = "C"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rs.evaluate(record, asof=ASOF)


# ----------------------------------------------------------------------- flat dotted keys


def test_flat_dotted_keys_are_paths(rs):
    flat = {"id": "X", "facility.appraisal": "C", "facility.beds": 60,
            "facility.sprinklers": False}
    nested = {"id": "X", "facility": {"appraisal": "C", "beds": 60, "sprinklers": False}}
    assert rs.evaluate(flat, asof=ASOF) == rs.evaluate(nested, asof=ASOF)
    assert statuses(rs.evaluate(flat, asof=ASOF))["H1"] == "present"
    # mixed with nested objects, which are merged and left unchanged
    mixed = {"id": "X", "facility": {"beds": 60}, "facility.appraisal": "C",
             "facility.sprinklers": False}
    assert rs.evaluate(mixed, asof=ASOF) == rs.evaluate(nested, asof=ASOF)
    assert mixed["facility"] == {"beds": 60}
    assert rs.evaluate_many([flat, mixed], asof=ASOF) == [rs.evaluate(nested, asof=ASOF)] * 2


def test_a_dotted_key_with_a_bad_value_fails_at_its_path(rs):
    flat = rs.evaluate({"facility.beds": "many"}, asof=ASOF)
    nested = rs.evaluate({"facility": {"beds": "many"}}, asof=ASOF)
    assert flat["errors"] == nested["errors"]
    assert flat["errors"][0]["path"] == "/facility/beds"


def test_a_dotted_key_that_clashes_is_the_records_error(rs):
    r = rs.evaluate({"facility.beds": 3, "facility": {"beds": 40}}, asof=ASOF)
    assert [e["path"] for e in r["errors"]] == ["/facility.beds"]
    assert "facility.beds" in r["errors"][0]["message"]
    # the nested value still counts
    assert r["scores"]["quality"]["items"][0]["status"] == "awarded"
    assert "another key of the record gives too" in r["errors"][0]["message"]
    r = rs.evaluate({"facility": 5, "facility.beds": 3}, asof=ASOF)
    clash = [e for e in r["errors"] if e["path"] == "/facility.beds"]
    assert clash and "passes through `facility`" in clash[0]["message"]
    assert "number, not an object" in clash[0]["message"]


def test_dotted_keys_inside_list_records(rs):
    rec = {"facility": {"appraisal": "A"},
           "residents": [{"id": "R1", "ability": 10}, {"id": "R2", "ability": 80}]}
    assert rs.evaluate(rec, asof=ASOF)["grades"]["risk"]["value"] == "yellow"
    dotted = {"facility": {"appraisal": "A"}, "residents": [{"id": "R1", "ability": 10}]}
    flat = {"facility.appraisal": "A", "residents": [{"id": "R1", "ability": 10}]}
    assert rs.evaluate(flat, asof=ASOF) == rs.evaluate(dotted, asof=ASOF)


# ------------------------------------------------------------------------------- each=


def test_each_on_a_path_that_is_not_a_declared_list(rs, record):
    with pytest.raises(ValueError, match="did you mean 'residents'"):
        rs.evaluate(record, asof=ASOF, each="residentz")
    with pytest.raises(ValueError, match="int"):
        rs.evaluate_many([record], asof=ASOF, each="facility.beds")
    with pytest.raises(ValueError, match="object"):
        rs.evaluate(record, asof=ASOF, each="facility")
    with pytest.raises(ValueError, match="list<string>"):
        rs.evaluate(record, asof=ASOF, each="codes")
    df = pd.DataFrame({"residents": [record["residents"]]})
    with pytest.raises(ValueError, match="residentz"):
        rs.evaluate_frame(df, asof=ASOF, each="residentz")
    # a path the ruleset does not declare at all is the document's own list
    assert len(rs.evaluate({"people": record["residents"]}, asof=ASOF, each="people")) == 2


def test_frame_each_needs_a_column_holding_the_list():
    person = carerules.compile(PERSON)
    df = pd.DataFrame({"id": ["H1"], "residents": [[{"id": "a", "ability": 10}]]})
    assert list(person.evaluate_frame(df, asof=ASOF, each="residents")["subject"]) == ["a"]
    with pytest.raises(ValueError, match="did you mean 'residents'"):
        person.evaluate_frame(df, asof=ASOF, each="resident")


# ------------------------------------------------------------- details and categoricals


def frame():
    return pd.DataFrame({
        "id": ["a", "b", "c", "d"],
        "facility.appraisal": ["C", "A", None, "A"],
        "facility.beds": [60, 10, 20, "many"],
        "facility.sprinklers": [False, True, True, True],
        "facility.名称": ["x", "y", "z", "w"],
        "residents": [[], [{"id": "r", "ability": 10}], [], []],
    }, index=[5, 6, 7, 8])


def test_details_columns_match_the_reports(rs):
    df = frame()
    out = rs.evaluate_frame(df, asof=ASOF, details=True)
    plain = rs.evaluate_frame(df, asof=ASOF)
    assert list(out.columns) == list(plain.columns) + [
        "missing.H1", "missing.H2", "missing.H3", "because.risk", "errors.messages"]
    records = [{"id": r["id"], "facility": {k.split(".", 1)[1]: r[k] for k in df.columns
                                            if k.startswith("facility.") and r[k] is not None},
                "residents": r["residents"]} for r in df.to_dict("records")]
    for (_, row), rep in zip(out.iterrows(), rs.evaluate_many(records, asof=ASOF)):
        for h in rep["hazards"]:
            assert row[f"missing.{h['id']}"] == h.get("missing", [])
        assert row["because.risk"] == rep["grades"]["risk"].get("because")
        assert len(row["errors.messages"]) == row["errors"] == len(rep["errors"])
    assert out.loc[7, "missing.H1"] == ["facility.appraisal"]
    assert out.loc[5, "because.risk"].startswith("binding.rules:")
    assert out.loc[8, "errors.messages"][0].startswith("/facility/beds: ")


def test_grade_columns_are_ordered_in_scale_order(rs):
    out = rs.evaluate_frame(frame(), asof=ASOF)
    g = out["grade.risk"]
    assert isinstance(g.dtype, pd.CategoricalDtype) and g.dtype.ordered
    cats = list(g.cat.categories)
    assert cats[-4:] == ["blue", "yellow", "orange", "red"]
    assert cats[:-4] == ["error", "undetermined", "none"]
    # sorting and comparing follow the scale, not the alphabet
    assert list(out.sort_values("grade.risk")["grade.risk"].astype(str)) == \
        ["undetermined", "blue", "yellow", "red"]
    assert list(out.index[out["grade.risk"] >= "yellow"]) == [5, 6]
    assert out["grade.risk"].max() == "red"


def test_level_grades_keep_the_declared_order():
    rs = carerules.compile('ruleset p {\n title "p"\n version "1"\n input { n : int }\n'
                           ' grade band : levels("低", "中", "高") {\n'
                           '  "低" when n < 30\n  "中" when n < 60\n  "高" otherwise\n }\n}\n')
    out = rs.evaluate_frame(pd.DataFrame({"n": [70, 10, 40]}), asof=ASOF)
    assert list(out["grade.band"].cat.categories)[-3:] == ["低", "中", "高"]
    assert list(out.sort_values("grade.band")["grade.band"].astype(str)) == ["低", "中", "高"]


def test_hazard_columns_are_categorical(rs):
    out = rs.evaluate_frame(frame(), asof=ASOF)
    h = out["hazard.H1"]
    assert isinstance(h.dtype, pd.CategoricalDtype) and not h.dtype.ordered
    assert set(h.cat.categories) == {"absent", "present", "undetermined", "error"}
    assert list(h.astype(str)) == ["present", "absent", "undetermined", "absent"]
    assert h.value_counts()["present"] == 1


def test_each_frame_is_typed_too(rs, record):
    df = pd.DataFrame({"residents": [record["residents"]]})
    out = rs.evaluate_frame(df, asof=ASOF, each="residents", details=True)
    assert isinstance(out["grade.risk"].dtype, pd.CategoricalDtype)
    assert "errors.messages" in out


# ----------------------------------------------------------------------------- progress


def test_progress_callable_sees_every_chunk(rs, record):
    calls = []
    rs.evaluate_many([record] * 10000, asof=ASOF, progress=lambda d, t: calls.append((d, t)))
    assert calls == [(4096, 10000), (8192, 10000), (10000, 10000)]
    calls.clear()
    df = pd.DataFrame({"facility.beds": list(range(5000))})
    rs.evaluate_frame(df, asof=ASOF, progress=lambda d, t: calls.append((d, t)))
    assert calls == [(4096, 5000), (5000, 5000)]


def test_progress_true_draws_a_bar_on_stderr(rs, record, capsys):
    rs.evaluate_many([record] * 10, asof=ASOF, progress=True)
    assert "10/10" in capsys.readouterr().err


def test_progress_without_tqdm_prints_a_counter(rs, record, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm", None)  # import tqdm now fails
    rs.evaluate_many([record] * 10, asof=ASOF, progress=True)
    assert "carerules: 10/10 records" in capsys.readouterr().err


def test_progress_of_the_wrong_kind(rs, record):
    with pytest.raises(TypeError):
        rs.evaluate_many([record], progress="yes")


# ---------------------------------------------------------------------- Jupyter and files


def test_report_html_is_compact_and_escaped(rs, record):
    record["id"] = "<script>alert(1)</script>"
    html = carerules.report_html(rs.evaluate(record, asof=ASOF))
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "risk: <b>red</b>" in html and "#d2222d" in html
    assert "H1" in html and "建筑设施属于C级、D级危房" in html
    assert "3 hazards: 2 present, 1 absent" in html
    assert len(html) < 4000


def test_ruleset_repr_html(rs):
    html = rs._repr_html_()
    assert "binding_test" in html and rs.digest in html and "binding.rules" in html
    assert "blue" in html and html.index("blue") < html.index("red")


def test_rs_files_name_each_file(rs):
    assert rs.files == [{"file": "binding.rules", "name": "binding_test", "version": "1.0",
                         "digest": rs.digest}]


def test_inside_ipython_reports_display_as_html(rs, record, monkeypatch):
    """IPython is not installed here: a stand-in with the formatter API IPython documents
    (for_type, type_printers, lookup_by_type) checks what the module registers."""
    import types
    from carerules import _html

    class Formatter:
        def __init__(self):
            self.type_printers = {}

        def for_type(self, typ, func):
            old = self.type_printers.get(typ)
            self.type_printers[typ] = func
            return old

        def lookup_by_type(self, typ):
            return self.type_printers[typ]

    html_formatter = Formatter()
    shell = types.SimpleNamespace(
        display_formatter=types.SimpleNamespace(formatters={"text/html": html_formatter}))
    fake = types.ModuleType("IPython")
    fake.get_ipython = lambda: shell
    monkeypatch.setitem(sys.modules, "IPython", fake)
    _html.register_ipython()
    show = html_formatter.type_printers[dict]
    report = rs.evaluate(record, asof=ASOF)
    assert show(report) == carerules.report_html(report)
    assert show({"a": 1}) is None  # any other dict keeps IPython's own display
