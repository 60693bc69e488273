"""carerules.Ledger: the ledger from Python gives the CLI's lists, as DataFrames."""

import json
import pathlib
import subprocess

import pandas as pd
import pytest

import carerules
from _binding import cli_path

RULES = pathlib.Path(__file__).resolve().parents[1] / "cli" / "ledger_demo.rules"


def rec(subject, fire_ok=True, beds=50):
    r = {"id": subject, "beds": beds}
    if fire_ok is not None:
        r["fire"] = {"ok": fire_ok}
    if beds is None:
        del r["beds"]
    return r


ROUNDS = [
    ("R1", "2024-01-10", [rec("A", False), rec("B", beds=150), rec("C"), rec("D", False)]),
    ("R2", "2024-04-10", [rec("A", True), rec("B", beds=None), rec("C", False), rec("D", False)]),
    ("R3", "2024-07-10", [rec("A", False), rec("B", beds=90), rec("C", True), rec("D", None)]),
]


@pytest.fixture
def ledger(tmp_path):
    rs = carerules.load(str(RULES))
    led = carerules.Ledger(tmp_path / "py.db")
    for name, asof, records in ROUNDS:
        assert led.record(rs.evaluate_many(records, asof=asof), round=name) is True
    return led


def pairs(frame, change):
    rows = frame[frame["change"] == change]
    return sorted(zip(rows["subject"], rows["item"]))


def test_the_lists_are_the_supervisors(ledger):
    d = ledger.diff("R1", "R2")
    assert isinstance(d, pd.DataFrame)
    assert pairs(d, "new") == [("C", "F1")]
    assert pairs(d, "closed") == [("A", "F1")]
    assert pairs(d, "still_open") == [("D", "F1")]
    assert pairs(d, "undetermined") == [("B", "B1")]
    d = ledger.diff("R2", "R3")
    assert pairs(d, "rebound") == [("A", "F1")]
    assert pairs(d, "closed") == [("B", "B1"), ("C", "F1")]
    assert pairs(d, "undetermined") == [("D", "F1")]


def test_status_findings_show_and_rounds(ledger):
    s = ledger.status(asof="2024-07-10")
    assert s.to_dict("records") == [{"open": 1, "overdue": 1, "closed": 2, "rebound": 1}]
    assert s["rebound"].dtype.kind == "i"  # a count
    f = ledger.findings(asof="2024-07-10")
    assert len(f) == 4 and set(f["status"]) == {"open", "overdue", "closed"}
    a = ledger.show("A", asof="2024-07-10")
    assert [h["status"] for h in a.loc[0, "history"]] == ["present", "absent", "present"]
    assert list(ledger.rounds()["round"]) == ["R1", "R2", "R3"]


def test_same_round_again_and_errors(ledger, tmp_path):
    rs = carerules.load(str(RULES))
    again = rs.evaluate_many(ROUNDS[1][2], asof=ROUNDS[1][1])
    assert ledger.record(again, round="R2") is False
    with pytest.raises(carerules.LedgerError, match="other content"):
        ledger.record(rs.evaluate_many([rec("A", False)], asof="2024-04-10"), round="R2")
    with pytest.raises(carerules.LedgerError, match="no round"):
        ledger.diff("R1", "R9")
    with pytest.raises(ValueError, match="no subject"):
        ledger.record([{"subject": None, "asof": "2024-01-01", "hazards": []}], round="X")
    # One report per subject in a round: a second report of A refuses the round, naming A.
    twice = rs.evaluate_many([rec("A", False), rec("B"), rec("A", True)], asof="2024-10-10")
    with pytest.raises(carerules.LedgerError, match="subject `A` is given more than once"):
        ledger.record(twice, round="R4")
    assert list(ledger.rounds()["round"]) == ["R1", "R2", "R3"]
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a ledger" * 200)
    with pytest.raises(carerules.LedgerError, match="not a database"):
        carerules.Ledger(junk).findings()


def test_asof_and_round_are_checked_and_reports_may_come_as_one_text(ledger, tmp_path):
    for bad in ("2024-02-30", "nope", ""):
        for call in (ledger.findings, ledger.status, lambda asof: ledger.show("A", asof=asof)):
            with pytest.raises(ValueError, match="YYYY-MM-DD"):
                call(asof=bad)
    with pytest.raises(TypeError):
        ledger.status(asof=5)
    with pytest.raises(TypeError):
        ledger.show(None)
    assert ledger.show("nobody").empty and ledger.show("nobody")["rebound"].dtype == bool
    assert ledger.findings(asof="2024-07-10")["rebound"].dtype == bool
    assert ledger.status(asof="2024-07-10").loc[0, "closed"] == 2
    rs = carerules.load(str(RULES))
    reports = rs.evaluate_many(ROUNDS[0][2], asof=ROUNDS[0][1])
    with pytest.raises(ValueError, match="round"):
        ledger.record(reports, round="")
    with pytest.raises(TypeError, match="round"):
        ledger.record(reports, round=5)
    # The text of a reports file, as JSON lines or as one JSON array, records what the dicts do.
    lines = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in reports)
    for name, text in (("lines", lines), ("array", json.dumps(reports))):
        other = carerules.Ledger(tmp_path / f"{name}.db")
        assert other.record(text, round="R1") is True
        assert other.record(reports, round="R1") is False  # the same content
        assert len(other.findings(asof="2024-01-10")) == 3


def test_python_and_cli_read_one_ledger_alike(ledger):
    cli = subprocess.run([cli_path(), "ledger", "diff", "--db", ledger.path, "--from", "R2",
                          "--to", "R3", "--format", "json"], capture_output=True, check=True)
    d = json.loads(cli.stdout)
    mine = ledger.diff("R2", "R3")
    for change in ("new", "closed", "still_open", "rebound", "undetermined"):
        assert sorted((f["subject"], f["item"]) for f in d[change]) == pairs(mine, change)


def test_a_grade_picked_twice_is_one_item(tmp_path):
    rs = carerules.load(str(RULES))
    led = carerules.Ledger(tmp_path / "g.db")
    reports = rs.evaluate_many(ROUNDS[0][2], asof=ROUNDS[0][1])
    assert led.record(reports, round="R1", include_grades=["risk=red", "risk=red"]) is True
    f = led.findings(asof="2024-01-10")
    assert sorted(f.loc[f["item"] == "risk=red", "subject"]) == ["A", "D"]


def test_dicts_are_read_as_their_json_text_is(tmp_path):
    """Reports given as dicts are read in place (no JSON written for them) and give the round
    their JSON text gives: same findings, same hash. Lists may be tuples, as json.dumps
    writes them; members the ledger does not read are not looked at; a grade dict with a key
    that is not a str is read through json.dumps (which writes the key as a str)."""
    rs = carerules.load(str(RULES))
    reports = rs.evaluate_many(ROUNDS[0][2], asof=ROUNDS[0][1])
    tuples = [{**r, "hazards": tuple(r["hazards"]), "notes": {1, 2}} for r in reports]
    int_keys = [{**r, "grades": {**r["grades"], 7: {"value": "none"}}} for r in reports]
    texts = [json.dumps(r, ensure_ascii=False) for r in reports]
    int_texts = [json.dumps(r, ensure_ascii=False) for r in int_keys]
    for name, dicts, same in (("tuples", tuples, texts), ("int_keys", int_keys, int_texts)):
        a = carerules.Ledger(tmp_path / f"{name}-dicts.db")
        b = carerules.Ledger(tmp_path / f"{name}-texts.db")
        assert a.record(dicts, round="R1", include_grades=["risk=red"]) is True
        assert b.record(same, round="R1", include_grades=["risk=red"]) is True
        assert a.record(same, round="R1", include_grades=["risk=red"]) is False  # same content
        fa, fb = a.findings(asof="2024-01-10"), b.findings(asof="2024-01-10")
        assert fa.to_dict("records") == fb.to_dict("records") and len(fa) == 5
    # The grade read through json.dumps is there: picking it makes findings of every subject.
    c = carerules.Ledger(tmp_path / "pick7.db")
    assert c.record(int_keys, round="R1", include_grades=["7=none"]) is True
    assert len(c.findings(asof="2024-01-10").query("item == '7=none'")) == len(reports)
    # What is not text in a dict reads as missing, as in JSON: a subject that is a number.
    with pytest.raises(ValueError, match=r"reports\[0\] has no subject"):
        c.record([{**reports[0], "subject": 5}], round="R2")
    # A str that is not text (a lone surrogate) is refused, and nothing is recorded.
    with pytest.raises(UnicodeError):
        c.record([{**reports[0], "subject": "A\ud800"}], round="R3")
    assert list(c.rounds()["round"]) == ["R1"]


def test_the_first_bad_report_is_the_one_named(tmp_path):
    """Reports are read on every core, but what is wrong is said of the first bad one, in the
    order given, and nothing is recorded."""
    rs = carerules.load(str(RULES))
    good = rs.evaluate_many(ROUNDS[0][2], asof=ROUNDS[0][1])
    twice = {**good[0], "hazards": good[0]["hazards"] * 2}  # one item given twice
    nobody = {**good[1], "subject": None}
    led = carerules.Ledger(tmp_path / "bad.db")
    with pytest.raises(carerules.LedgerError, match="twice|more than once"):
        led.record(good[2:] + [twice, nobody], round="R1")
    with pytest.raises(ValueError, match=r"reports\[2\] has no subject"):
        led.record(good[2:] + [nobody, twice], round="R1")
    with pytest.raises(ValueError, match=r"reports\[1\] is not a report"):
        led.record([json.dumps(good[0]), "[1, 2]", nobody], round="R1")
    assert led.rounds().empty
