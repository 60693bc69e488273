"""evaluate_frame: pandas in, pandas out."""

import datetime
import json

import numpy as np
import pandas as pd
import pytest

from _binding import RECORD

ASOF = "2024-06-01"

COLUMNS = ["subject", "hazard.H1", "hazard.H2", "hazard.H3", "score.quality",
           "score.quality.env", "grade.risk", "errors"]


def frame():
    return pd.DataFrame({
        "id": ["A", "B", "C", "D"],
        "facility.beds": [60, 5, 200, 61],
        "facility.ratio": [0.25, np.nan, 0.5, 0.1],
        "facility.appraisal": ["C", "A", None, "B"],
        "facility.opened": pd.to_datetime(["2010-05-01", "2020-01-01", None, "2015-03-03"]),
        "facility.sprinklers": [False, True, False, True],
        "facility.名称": ["甲院", "乙院", "", "丁院"],
        "residents": [
            [{"id": "R1", "ability": 20}],
            json.dumps([{"id": "R2", "ability": 80}]),
            None,
            [],
        ],
        "unrelated": [object(), object(), object(), object()],
    }, index=pd.Index([10, 20, 30, 40], name="row"))


def as_record(row):
    """The same row as a nested dict, for evaluate()."""
    rec = {}
    for col, v in row.items():
        if col == "unrelated":
            continue
        if v is None or v is pd.NaT or (isinstance(v, float) and np.isnan(v)):
            continue
        if isinstance(v, str) and col == "residents":
            v = json.loads(v)
        if isinstance(v, pd.Timestamp):
            v = v.date()
        d = rec
        *head, last = col.split(".")
        for k in head:
            d = d.setdefault(k, {})
        d[last] = v
    return rec


def test_shape_index_columns(rs):
    df = frame()
    out = rs.evaluate_frame(df, asof=ASOF)
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == COLUMNS
    assert out.index.equals(df.index) and out.index.name == "row"
    assert len(out) == len(df)
    assert list(out["subject"]) == ["A", "B", "C", "D"]


def test_rows_agree_with_evaluate(rs):
    df = frame()
    out = rs.evaluate_frame(df, asof=ASOF)
    for (label, row), (_, got) in zip(df.iterrows(), out.iterrows()):
        r = rs.evaluate(as_record(row), asof=ASOF)
        assert got["subject"] == r["subject"]
        for h in r["hazards"]:
            assert got[f"hazard.{h['id']}"] == h["status"], (label, h["id"])
        q = r["scores"]["quality"]
        assert got["score.quality"] == q["total"]
        assert got["score.quality.env"] == q["sections"]["env"]
        assert got["grade.risk"] == r["grades"]["risk"]["value"]
        assert got["errors"] == len(r["errors"])


def test_values(rs):
    out = rs.evaluate_frame(frame(), asof=ASOF)
    assert list(out["hazard.H1"]) == ["present", "absent", "undetermined", "absent"]
    assert list(out["hazard.H3"]) == ["absent", "absent", "present", "absent"]
    assert list(out["grade.risk"]) == ["red", "blue", "undetermined", "blue"]
    assert list(out["errors"]) == [0, 0, 0, 0]
    assert out.loc[10, "score.quality"] == 10


def test_missing_cells_are_missing_facts(rs):
    df = pd.DataFrame({"facility.appraisal": [None, np.nan, pd.NA, "C"],
                       "facility.opened": pd.Series([pd.NaT, None, np.nan, "2020-01-01"],
                                                    dtype=object)})
    out = rs.evaluate_frame(df, asof=ASOF)
    assert list(out["hazard.H1"]) == ["undetermined"] * 3 + ["present"]
    assert list(out["errors"]) == [0, 0, 0, 0]


def test_dates_and_dtypes(rs):
    ref = rs.evaluate_frame(frame(), asof=ASOF)
    df = frame()
    df["facility.opened"] = df["facility.opened"].dt.tz_localize("Asia/Shanghai")
    assert rs.evaluate_frame(df, asof=ASOF).equals(ref)
    df = frame()
    df["facility.opened"] = pd.Series([datetime.date(2010, 5, 1), "2020-01-01", None,
                                       datetime.datetime(2015, 3, 3)], dtype=object,
                                      index=df.index)
    assert rs.evaluate_frame(df, asof=ASOF).equals(ref)
    df = frame()
    df["facility.beds"] = df["facility.beds"].astype("Int64")
    df["facility.sprinklers"] = df["facility.sprinklers"].astype("boolean")
    df["facility.appraisal"] = df["facility.appraisal"].astype("category")
    df["facility.名称"] = df["facility.名称"].astype("string")
    assert rs.evaluate_frame(df, asof=ASOF).equals(ref)
    df = frame()
    df["facility.beds"] = df["facility.beds"].astype(np.float64)  # 60.0 is an int fact
    assert rs.evaluate_frame(df, asof=ASOF).equals(ref)
    df["facility.beds"] = df["facility.beds"].astype(np.uint8)
    assert rs.evaluate_frame(df, asof=ASOF).equals(ref)


def test_bad_cells_are_row_errors(rs):
    df = frame()
    df["facility.beds"] = [60, "many", 2000, np.inf]
    out = rs.evaluate_frame(df, asof=ASOF)
    assert list(out["errors"]) == [0, 1, 1, 1]
    # B and D have sprinklers (absent whatever the beds); C's beds are out of range
    assert list(out["hazard.H2"]) == ["present", "absent", "undetermined", "absent"]


def test_nested_dict_cells_and_multiindex_columns(rs):
    df = pd.DataFrame({"facility": [{"appraisal": "C"}, {"appraisal": "A"}]})
    assert list(rs.evaluate_frame(df, asof=ASOF)["hazard.H1"]) == ["present", "absent"]
    df = pd.DataFrame([["C", 60], ["A", 5]],
                      columns=pd.MultiIndex.from_tuples([("facility", "appraisal"),
                                                         ("facility", "beds")]))
    assert list(rs.evaluate_frame(df, asof=ASOF)["hazard.H1"]) == ["present", "absent"]


def test_subject_and_each(rs):
    df = frame()
    df["facility.code"] = ["a", "b", "c", "d"]
    out = rs.evaluate_frame(df, asof=ASOF, subject="facility.code")
    assert list(out["subject"]) == ["a", "b", "c", "d"]
    out = rs.evaluate_frame(df, asof=ASOF, each="residents")
    # a row without the list gives one row with the error (api.md: a PATH that is not a list
    # in a record is that record's error); an empty list gives none
    assert list(out["subject"])[:2] == ["R1", "R2"]
    assert out["subject"].iloc[2] is None or pd.isna(out["subject"].iloc[2])
    assert list(out.index)[:2] == [10, 20]
    assert list(out["errors"])[:2] == [0, 0] and out["errors"].iloc[2] == 1
    # each element alone is the record: the facility is not part of it
    assert list(out["hazard.H1"])[:2] == ["undetermined", "undetermined"]


def test_empty_frame(rs):
    out = rs.evaluate_frame(pd.DataFrame({"id": pd.Series([], dtype=object)}), asof=ASOF)
    assert list(out.columns) == COLUMNS and len(out) == 0


def test_big_frame_with_threads(rs):
    records = []
    for i in range(2000):
        records.append({"id": f"S{i}", "facility.beds": i % 300,
                        "facility.appraisal": "ABCD"[i % 4],
                        "facility.sprinklers": bool(i % 2)})
    df = pd.DataFrame(records)
    one = rs.evaluate_frame(df, asof=ASOF, threads=1)
    assert one.equals(rs.evaluate_frame(df, asof=ASOF, threads=0))
    assert list(one["subject"][:3]) == ["S0", "S1", "S2"]


def test_argument_errors(rs):
    with pytest.raises(TypeError):
        rs.evaluate_frame([RECORD])
    with pytest.raises(TypeError, match="evaluate_frame"):
        rs.evaluate_many(frame())
    with pytest.raises(ValueError):
        rs.evaluate_frame(frame(), asof="2024-13-01")
    with pytest.raises(ValueError):
        rs.evaluate_frame(frame(), threads=-2)
    df = pd.DataFrame([[1, 2]], columns=["facility.beds", "facility.beds"])
    with pytest.raises(ValueError, match="twice"):
        rs.evaluate_frame(df)
    df = pd.DataFrame({"facility": [{"beds": 1}], "facility.beds": [2]})
    with pytest.raises(ValueError, match="overlaps"):
        rs.evaluate_frame(df)


def test_numpy_missing_cells_in_object_columns(rs):
    df = pd.DataFrame({"facility.ratio": pd.Series([np.float32("nan"), np.float64("nan"), 0.25],
                                                   dtype=object),
                       "facility.opened": pd.Series([np.datetime64("NaT"), pd.NaT,
                                                     np.datetime64("2010-05-01")], dtype=object)})
    out = rs.evaluate_frame(df, asof=ASOF)
    assert list(out["errors"]) == [0, 0, 0]


def test_frames_longer_than_a_chunk(rs):
    n = 9000
    df = pd.DataFrame({"id": [f"F{i}" for i in range(n)],
                       "facility.appraisal": ["ABCD"[i % 4] for i in range(n)],
                       "residents": [[{"id": f"F{i}-{k}"} for k in range(i % 3)] for i in range(n)]},
                      index=pd.RangeIndex(n, 2 * n))
    out = rs.evaluate_frame(df, asof=ASOF)
    assert list(out["subject"]) == list(df["id"])
    assert out.index.equals(df.index)
    assert list(out["hazard.H1"][:4]) == ["absent", "absent", "present", "present"]
    each = rs.evaluate_frame(df, asof=ASOF, each="residents")
    assert len(each) == sum(i % 3 for i in range(n))
    assert list(each.index[:3]) == [n + 1, n + 2, n + 2]
