"""Pickling and multiprocessing: a ruleset recompiles from its source text."""

import copy
import multiprocessing
import pickle

import pytest

import carerules
from _binding import RECORD, RULES

ASOF = "2024-06-01"


def evaluate_in_worker(rs, record):
    return rs.evaluate(record, asof=ASOF)


def describe_in_worker(rs):
    return rs.name, rs.digest, rs.path


def test_round_trip_of_a_compiled_ruleset(rs):
    again = pickle.loads(pickle.dumps(rs))
    assert isinstance(again, carerules.Ruleset)
    assert again.digest == rs.digest and again.name == rs.name
    assert again == rs
    assert again.inputs == rs.inputs
    assert again.evaluate(RECORD, asof=ASOF) == rs.evaluate(RECORD, asof=ASOF)


def test_round_trip_keeps_name_limits_and_path(tmp_path, monkeypatch):
    f = tmp_path / "t.rules"
    f.write_text(RULES, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    rs = carerules.load("t.rules", limits={"json_depth": 3})
    again = pickle.loads(pickle.dumps(rs, protocol=pickle.HIGHEST_PROTOCOL))
    assert again.path == "t.rules"
    deep = {"facility": {"a": {"b": {"c": {}}}}}
    assert again.evaluate(deep, asof=ASOF) == rs.evaluate(deep, asof=ASOF)
    assert "json_depth" in again.evaluate(deep, asof=ASOF)["errors"][0]["message"]
    # `because` still names the file as given
    r = again.evaluate({"facility": {"appraisal": "C"}}, asof=ASOF)
    assert r["grades"]["risk"]["because"].startswith("t.rules:")
    # the text travels with the pickle: the file may go away
    f.unlink()
    assert pickle.loads(pickle.dumps(rs)).digest == rs.digest


def test_round_trip_with_imports(tmp_path):
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "c.rules").write_text(
        'ruleset c {\n  title "c"\n  version "1"\n  input { x : int }\n'
        '  hazard C1 "c" { cite "c" when x > 1 }\n}\n')
    top = tmp_path / "top.rules"
    top.write_text('ruleset top {\n  title "t"\n  version "1"\n  import "lib/c.rules"\n}\n')
    rs = carerules.load(top)
    again = pickle.loads(pickle.dumps(rs))
    assert again.digest == rs.digest
    assert again.evaluate({"x": 2}) == rs.evaluate({"x": 2})
    # the imported files travel with the pickle: an import changed (or gone) since still
    # unpickles the ruleset that was pickled, with its digest
    carerules._restored.clear()  # (not the copy this process already made)
    data = pickle.dumps(rs)
    (tmp_path / "lib" / "c.rules").write_text(
        'ruleset c {\n  title "c"\n  version "2"\n  input { x : int }\n'
        '  hazard C1 "c" { cite "c" when x > 2 }\n}\n')
    changed = pickle.loads(data)
    assert changed.digest == rs.digest
    assert changed.evaluate({"x": 2}, asof="2024-06-01") == rs.evaluate({"x": 2}, asof="2024-06-01")
    carerules._restored.clear()
    (tmp_path / "lib" / "c.rules").unlink()
    top.unlink()
    moved = pickle.loads(data)
    assert moved.digest == rs.digest
    assert moved.evaluate({"x": 2}, asof="2024-06-01") == rs.evaluate({"x": 2}, asof="2024-06-01")


def test_unpickling_the_same_ruleset_twice_compiles_once(rs):
    data = pickle.dumps(rs)
    assert pickle.loads(data) is pickle.loads(data)


def test_rulesets_differing_in_limits_are_not_equal():
    a = carerules.compile(RULES, name="x.rules")
    b = carerules.compile(RULES, name="x.rules", limits={"json_depth": 5})
    assert a == carerules.compile(RULES, name="x.rules") and a != b
    assert len({a, b, carerules.compile(RULES, name="x.rules")}) == 2


def test_copy_is_the_same_immutable_object(rs):
    assert copy.copy(rs) is rs and copy.deepcopy(rs) is rs


def test_multiprocessing_pool_fork(rs):
    records = []
    for i in range(8):
        r = copy.deepcopy(RECORD)
        r["id"] = f"P{i}"
        records.append(r)
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(2) as pool:
        got = pool.starmap(evaluate_in_worker, [(rs, r) for r in records])
    assert got == rs.evaluate_many(records, asof=ASOF)


def test_multiprocessing_pool_spawn(rs):
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(1) as pool:
        got = pool.map(describe_in_worker, [rs])
    assert got == [(rs.name, rs.digest, None)]
