"""`carerules ledger`: three inspection rounds of four institutions, and the lists a
supervisor would write by hand; idempotent rounds, late rounds, reports recorded later,
concurrent writers, a killed writer, corrupt and newer files."""

import csv
import io
import json
import re
import os
import pathlib
import shutil
import signal
import sqlite3
import subprocess
import threading
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = os.environ.get("CARERULES_BIN", str(ROOT / "build" / "bin" / "carerules"))
RULES = pathlib.Path(__file__).with_name("ledger_demo.rules")


def run(*args, check=None):
    p = subprocess.run([BIN, *map(str, args)], capture_output=True, text=True, encoding="utf-8",
                       timeout=120)
    if check is not None:
        assert p.returncode == check, p.stderr + p.stdout
    return p


def rec(subject, fire_ok=True, beds=50, district="思明区"):
    r = {"id": subject, "beds": beds, "region": {"district": district}}
    if fire_ok is not None:
        r["fire"] = {"ok": fire_ok}
    if beds is None:
        del r["beds"]
    return r


# A and B in 思明区, C and D in 湖里区. What happens, round by round:
#   R1 2024-01-10  A fire bad; B 150 beds; C fine; D fire bad
#   R2 2024-04-10  A fire fixed (F1 closed); B beds not reported (B1 undetermined: stays open);
#                  C fire bad (new); D fire still bad (open, due 2024-02-09: overdue)
#   R3 2024-07-10  A fire bad again (rebound); B 90 beds (B1 closed); C fixed (closed);
#                  D fire not reported (undetermined: not closed)
ROUNDS = [
    ("R1", "2024-01-10", [rec("A", False), rec("B", beds=150), rec("C"),
                          rec("D", False, district="湖里区")]),
    ("R2", "2024-04-10", [rec("A", True), rec("B", beds=None), rec("C", False, district="湖里区"),
                          rec("D", False, district="湖里区")]),
    ("R3", "2024-07-10", [rec("A", False), rec("B", beds=90), rec("C", True, district="湖里区"),
                          rec("D", None, district="湖里区")]),
]
ROUNDS[0][2][2]["region"]["district"] = "湖里区"


def changed_copy(ledger, path, sql):
    """A copy of the ledger at `path`, changed behind carerules' back by `sql`."""
    shutil.copy(ledger, path)
    con = sqlite3.connect(path)
    con.execute(sql)
    con.commit()
    con.close()
    return path


def facts_file(tmp_path, name, records):
    p = tmp_path / f"{name}.jsonl"
    p.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records),
                 encoding="utf-8")
    return p


@pytest.fixture
def ledger(tmp_path):
    db = tmp_path / "ledger.db"
    for name, asof, records in ROUNDS:
        out = run("ledger", "record", "--db", db, "--round", name, "-r", RULES,
                  facts_file(tmp_path, name, records), "--asof", asof, check=0)
        assert f"recorded round {name} ({asof}): 4 subjects, 8 items" in out.stdout
    return db


def pairs(findings):
    return sorted((f["subject"], f["item"]) for f in findings)


def diff(db, a, b):
    return json.loads(run("ledger", "diff", "--db", db, "--from", a, "--to", b, "--format",
                          "json", check=0).stdout)


def test_the_lists_between_rounds_are_what_a_supervisor_writes_by_hand(ledger):
    d = diff(ledger, "R1", "R2")
    assert (d["from"], d["to"]) == ("R1", "R2")
    assert pairs(d["new"]) == [("C", "F1")]
    assert pairs(d["closed"]) == [("A", "F1")]
    assert pairs(d["still_open"]) == [("D", "F1")]
    assert pairs(d["rebound"]) == []
    assert pairs(d["undetermined"]) == [("B", "B1")]  # no evidence is not a rectification

    d = diff(ledger, "R2", "R3")
    assert pairs(d["new"]) == []
    assert pairs(d["closed"]) == [("B", "B1"), ("C", "F1")]
    assert pairs(d["still_open"]) == []
    assert pairs(d["rebound"]) == [("A", "F1")]
    assert pairs(d["undetermined"]) == [("D", "F1")]

    closed_a = d["rebound"][0]
    assert closed_a["status"] == "open" and closed_a["rebound"] is True
    assert closed_a["opened"] == "R1" and closed_a["closed"] is None
    assert closed_a["due"] == "2024-08-09"  # R3 + 30 days, from the report's rectify.due
    for key in ("subject", "item", "title", "cite", "action", "due", "status", "opened", "closed"):
        assert key in closed_a
    assert closed_a["title"] == "消防不合格" and closed_a["cite"] == "条款一"
    assert closed_a["action"] == "deadline"


def test_status_counts_per_group_and_overdue_against_the_date(ledger):
    s = json.loads(run("ledger", "status", "--db", ledger, "--asof", "2024-07-10", "--by",
                       "region.district", "--format", "json", check=0).stdout)
    groups = {g["group"]: g for g in s["groups"]}
    # 思明区: A F1 open again (rebound, due 2024-08-09), B B1 closed.
    assert groups["思明区"] == {"group": "思明区", "open": 1, "overdue": 0, "closed": 1,
                                "rebound": 1}
    # 湖里区: C F1 closed; D F1 open since R1, due 2024-02-09: overdue.
    assert groups["湖里区"] == {"group": "湖里区", "open": 0, "overdue": 1, "closed": 1,
                                "rebound": 0}
    assert s["total"] == {"open": 1, "overdue": 1, "closed": 2, "rebound": 1}
    # As of R1's date nothing is overdue yet, and later rounds do not count.
    early = json.loads(run("ledger", "status", "--db", ledger, "--asof", "2024-01-10",
                           "--format", "json", check=0).stdout)
    assert early["total"] == {"open": 3, "overdue": 0, "closed": 0, "rebound": 0}
    table = run("ledger", "status", "--db", ledger, "--asof", "2024-07-10", "--by",
                "region.district", check=0).stdout
    assert "思明区" in table and "overdue" in table
    csv_text = run("ledger", "status", "--db", ledger, "--asof", "2024-07-10", "--format", "csv",
                   check=0).stdout
    assert csv_text.startswith("\ufeffgroup,open,overdue,closed,rebound\n")  # text mode: CRLF read as LF


def test_show_is_the_institutions_file_round_by_round(ledger):
    s = json.loads(run("ledger", "show", "--db", ledger, "A", "--asof", "2024-07-10",
                       "--format", "json", check=0).stdout)
    assert s["subject"] == "A"
    [f] = s["findings"]
    assert [(h["round"], h["status"]) for h in f["history"]] == [
        ("R1", "present"), ("R2", "absent"), ("R3", "present")]
    assert f["reopened"] == "R3" and f["rebound"] is True
    text = run("ledger", "show", "--db", ledger, "A", "--asof", "2024-07-10", check=0).stdout
    assert "R1 present" in text and "R2 absent" in text and "rebound" in text


def test_the_same_round_twice_changes_nothing_and_other_content_is_refused(ledger, tmp_path):
    before = run("ledger", "diff", "--db", ledger, "--from", "R1", "--to", "R3", "--format",
                 "json", check=0).stdout
    again = run("ledger", "record", "--db", ledger, "--round", "R2", "-r", RULES,
                facts_file(tmp_path, "R2", ROUNDS[1][2]), "--asof", "2024-04-10", check=0)
    assert "nothing changed" in again.stdout
    other = run("ledger", "record", "--db", ledger, "--round", "R2", "-r", RULES,
                facts_file(tmp_path, "x", [rec("A", False)]), "--asof", "2024-04-10", check=1)
    assert "recorded already with other content" in other.stderr
    assert run("ledger", "diff", "--db", ledger, "--from", "R1", "--to", "R3", "--format",
               "json", check=0).stdout == before


def test_a_round_recorded_late_takes_its_place_by_date(tmp_path):
    db = tmp_path / "late.db"
    for name, asof, records in (ROUNDS[2], ROUNDS[0], ROUNDS[1]):
        run("ledger", "record", "--db", db, "--round", name, "-r", RULES,
            facts_file(tmp_path, name, records), "--asof", asof, check=0)
    d = diff(db, "R2", "R3")
    assert pairs(d["rebound"]) == [("A", "F1")]
    assert pairs(d["closed"]) == [("B", "B1"), ("C", "F1")]
    bad = run("ledger", "diff", "--db", db, "--from", "R3", "--to", "R1", check=1)
    assert "dated after" in bad.stderr
    assert "no round `R9`" in run("ledger", "diff", "--db", db, "--from", "R1", "--to", "R9",
                                  check=1).stderr
    # Two rounds of one date are in recording order: from the first to the second is a diff,
    # the other way round is refused with a message that says why.
    run("ledger", "record", "--db", db, "--round", "R3b", "-r", RULES, "--asof", "2024-07-10",
        facts_file(tmp_path, "R3b", ROUNDS[2][2]), check=0)
    assert diff(db, "R3", "R3b")["still_open"]
    same = run("ledger", "diff", "--db", db, "--from", "R3b", "--to", "R3", check=1)
    assert "both are dated 2024-07-10" in same.stderr and "order they were recorded" in same.stderr


def test_diff_lists_a_finding_open_at_a_and_undetermined_at_b_as_undetermined(tmp_path):
    # F1 of Q: present in R1, absent in R2 (closed), present in R3 (rebound), not reported in
    # R4. From R1 to R4 it was open and R4 cannot tell: undetermined, not rebound.
    db = tmp_path / "q.db"
    for n, (asof, ok) in enumerate((("2024-01-01", False), ("2024-03-01", True),
                                    ("2024-05-01", False), ("2024-07-01", None)), 1):
        run("ledger", "record", "--db", db, "--round", f"R{n}", "-r", RULES, "--asof", asof,
            facts_file(tmp_path, f"R{n}", [rec("Q", ok)]), check=0)
    d = diff(db, "R1", "R4")
    assert pairs(d["undetermined"]) == [("Q", "F1")] and d["rebound"] == []
    # Its status is judged at R4's date (due 30 days after R3: overdue), or as of --asof.
    assert d["undetermined"][0]["status"] == "overdue"
    early = json.loads(run("ledger", "diff", "--db", db, "--from", "R1", "--to", "R4", "--asof",
                           "2024-05-02", "--format", "json", check=0).stdout)
    assert early["undetermined"][0]["status"] == "open"
    # From R2 (closed) it came back, whatever R4 could tell.
    assert pairs(diff(db, "R2", "R4")["rebound"]) == [("Q", "F1")]


def test_reports_made_earlier_record_the_same_findings(ledger, tmp_path):
    db = tmp_path / "from-reports.db"
    for name, asof, records in ROUNDS:
        reports = run("eval", "-r", RULES, facts_file(tmp_path, name, records), "--asof", asof,
                      "--format", "jsonl")
        path = tmp_path / f"{name}.reports.jsonl"
        path.write_text(reports.stdout, encoding="utf-8")
        run("ledger", "record", "--db", db, "--round", name, "--reports", path, check=0)
    # A report with errors is recorded, and the exit code says so, as eval's did.
    bad = facts_file(tmp_path, "bad", [dict(rec("E"), fire={"ok": "yes"})])
    reports = run("eval", "-r", RULES, bad, "--asof", "2024-01-10", "--format", "jsonl")
    assert reports.returncode == 1 and json.loads(reports.stdout)["errors"]
    (tmp_path / "bad.reports.jsonl").write_text(reports.stdout, encoding="utf-8")
    got = run("ledger", "record", "--db", tmp_path / "e.db", "--round", "E", "--reports",
              tmp_path / "bad.reports.jsonl", check=1)
    assert "recorded round E" in got.stdout
    # Reports of two dates in one round: recorded at the first one's date, with a warning.
    mixed = tmp_path / "mixed.reports.jsonl"
    mixed.write_text((tmp_path / "R1.reports.jsonl").read_text(encoding="utf-8") +
                     (tmp_path / "R2.reports.jsonl").read_text(encoding="utf-8").replace(
                         '"subject":"', '"subject":"x'),
                     encoding="utf-8")
    got = run("ledger", "record", "--db", tmp_path / "m.db", "--round", "M", "--reports", mixed,
              check=0)
    assert "recorded round M (2024-01-10)" in got.stdout
    assert "warning" in got.stderr and "dated 2024-04-10 in a round dated 2024-01-10" in got.stderr
    for a, b in (("R1", "R2"), ("R2", "R3")):
        mine, theirs = diff(db, a, b), diff(ledger, a, b)
        for key in ("new", "closed", "still_open", "rebound", "undetermined"):
            assert pairs(mine[key]) == pairs(theirs[key]), key
    # Recording from the facts decides each record without building its report; the findings
    # (titles, clauses, actions, due dates, histories) are those of the reports.
    for subject in "ABCD":
        show = ["ledger", "show", subject, "--asof", "2024-12-31", "--format", "json"]
        assert (run(*show, "--db", db, check=0).stdout ==
                run(*show, "--db", ledger, check=0).stdout)


def test_grade_outcomes_become_findings_when_asked(tmp_path):
    db = tmp_path / "g.db"
    for name, asof, records in ROUNDS[:2]:
        run("ledger", "record", "--db", db, "--round", name, "-r", RULES,
            facts_file(tmp_path, name, records), "--asof", asof, "--include-grade", "risk=red",
            "--include-grade", "risk=red", check=0)  # the same pick twice is one item
    d = diff(db, "R1", "R2")
    assert ("C", "risk=red") in pairs(d["new"])
    assert ("A", "risk=red") in pairs(d["closed"])
    assert "NAME=VALUE" in run("ledger", "record", "--db", db, "--round", "x", "-r", RULES,
                               facts_file(tmp_path, "x", []), "--include-grade", "risk",
                               check=2).stderr
    # A grade or a value the ruleset does not have would pick nothing: a usage error.
    x = facts_file(tmp_path, "x", [rec("A")])
    assert "no grade `riks`" in run("ledger", "record", "--db", db, "--round", "x", "-r", RULES,
                                    x, "--include-grade", "riks=red", check=2).stderr
    assert "has no value `purple`" in run("ledger", "record", "--db", db, "--round", "x", "-r",
                                          RULES, x, "--include-grade", "risk=purple",
                                          check=2).stderr
    assert "no round `x`" in run("ledger", "diff", "--db", db, "--from", "x", "--to", "R2",
                                 check=1).stderr  # nothing was recorded


def test_records_with_errors_are_recorded_and_said_so_and_tables_escape_control_characters(
        tmp_path):
    db = tmp_path / "e.db"
    records = [dict(rec("E"), fire={"ok": "yes"}), rec("A\u0001b\nc", False)]
    p = run("ledger", "record", "--db", db, "--round", "R1", "-r", RULES, "--asof", "2024-01-10",
            facts_file(tmp_path, "e", records), check=1)
    assert "recorded round R1" in p.stdout
    assert "1 record(s) with errors: recorded" in p.stderr
    # A subject holding control characters stays on its row of a table.
    for args in (("status", "--by", "id"), ("diff", "--from", "R1", "--to", "R1")):
        table = run("ledger", *args, "--db", db, "--asof", "2024-01-10", check=0).stdout
        assert "A\\x01b\\nc" in table and "\x01" not in table


def test_two_writers_at_once_lose_nothing(tmp_path):
    db = tmp_path / "two.db"
    big = [rec(f"S{i}", i % 3 != 0, beds=i % 200) for i in range(3000)]
    files = [facts_file(tmp_path, f"w{k}", big) for k in range(2)]
    procs = [subprocess.Popen([BIN, "ledger", "record", "--db", str(db), "--round", f"W{k}",
                               "-r", str(RULES), str(files[k]), "--asof", f"2024-0{k + 1}-01"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for k in range(2)]
    for p in procs:
        assert p.wait(timeout=120) == 0, p.stderr.read()
    con = sqlite3.connect(db)
    assert con.execute("SELECT COUNT(*) FROM rounds").fetchone()[0] == 2
    assert len(seen_rows(con)) == 2 * 3000  # every subject
    # A new ledger's pages are 16 KiB (docs/ledger.md).
    assert con.execute("PRAGMA page_size").fetchone()[0] == 16384
    # S0's fire is bad in both rounds: its file has both.
    s0 = json.loads(run("ledger", "show", "--db", db, "S0", "--asof", "2024-12-31", "--format",
                        "json", check=0).stdout)
    assert [(h["round"], h["status"]) for h in s0["findings"][0]["history"]] == [
        ("W0", "present"), ("W1", "present")]


def test_a_killed_writer_leaves_the_previous_state(tmp_path):
    db = tmp_path / "kill.db"
    run("ledger", "record", "--db", db, "--round", "R1", "-r", RULES,
        facts_file(tmp_path, "R1", ROUNDS[0][2]), "--asof", "2024-01-10", check=0)
    big = facts_file(tmp_path, "big", [rec(f"S{i}", False) for i in range(60000)])
    for delay in (0.2, 0.6, 1.2):
        p = subprocess.Popen([BIN, "ledger", "record", "--db", str(db), "--round", "BIG", "-r",
                              str(RULES), str(big), "--asof", "2024-02-01"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        p.send_signal(signal.SIGKILL)
        p.wait()
        con = sqlite3.connect(db)
        rounds = [r[0] for r in con.execute("SELECT id FROM rounds ORDER BY id")]
        big = seen_rows(con, "BIG")
        seen = len(big)
        present = sum(o[1] == "present" for row in big if row[5] for o in unpack_items(row[5]))
        con.close()
        # All or nothing: either the round is there whole (60 000 subjects, each with its fire
        # finding), or the ledger is as before.
        assert (seen, present) == ((60000, 60000) if "BIG" in rounds else (0, 0))
        if "BIG" in rounds:
            break
    status = run("ledger", "status", "--db", db, "--asof", "2024-01-10", "--format", "json",
                 check=0)
    assert json.loads(status.stdout)["total"]["open"] >= 3


def test_corrupt_and_newer_files_are_refused_clearly(ledger, tmp_path):
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not a ledger" * 100)
    bad = run("ledger", "status", "--db", junk, check=1)
    assert "carerules: error:" in bad.stderr and "not a database" in bad.stderr
    assert "junk.db" in bad.stderr  # the message names the file
    # Another program's SQLite database is refused and left as it was, by readers and writers.
    other = tmp_path / "other.db"
    con = sqlite3.connect(other)
    con.execute("CREATE TABLE x (a)")
    con.commit()
    con.close()
    for args in (("status",), ("record", "--round", "R1", "-r", RULES, "--asof", "2024-01-10",
                               facts_file(tmp_path, "o", [rec("A", False)]))):
        refused = run("ledger", *args, "--db", other, check=1)
        assert "other.db` is not a carerules ledger" in refused.stderr
    con = sqlite3.connect(other)
    assert [r[0] for r in con.execute("SELECT name FROM sqlite_master")] == ["x"]
    con.close()
    # A ledger whose schema_version lost its row is damaged, not a new ledger to build on.
    damaged = changed_copy(ledger, tmp_path / "damaged.db", "DELETE FROM schema_version")
    assert "is damaged" in run("ledger", "status", "--db", damaged, check=1).stderr
    # Names that are not UTF-8 would make every later JSON output invalid: refused (usage).
    for args in ([b"record", b"--round", b"R\xff", b"-r", bytes(RULES), b"--asof", b"2024-01-10",
                  bytes(facts_file(tmp_path, "u", [rec("A", False)]))],
                 [b"show", b"A\xff"], [b"diff", b"--from", b"R1", b"--to", b"R\xff"]):
        p = subprocess.run([BIN.encode(), b"ledger", *args, b"--db", bytes(ledger)],
                           capture_output=True, timeout=60)
        assert p.returncode == 2 and b"not valid UTF-8" in p.stderr, p.stderr
    con = sqlite3.connect(ledger)
    con.execute("INSERT INTO schema_version (version) VALUES (99)")
    con.commit()
    con.close()
    newer = run("ledger", "status", "--db", ledger, check=1)
    assert "schema version 99" in newer.stderr and "newer" in newer.stderr
    missing = run("ledger", "status", "--db", tmp_path / "none.db", check=1)
    assert "cannot open the ledger" in missing.stderr
    assert run("ledger", "status", check=2).stderr.count("--db") >= 1
    assert "unknown ledger command" in run("ledger", "frobnicate", "--db", ledger,
                                           check=2).stderr


def test_the_status_page_of_a_large_ledger_lists_the_first_findings_and_links_to_all(tmp_path):
    db = tmp_path / "large.db"
    run("ledger", "record", "--db", db, "--round", "R1", "-r", RULES, "--asof", "2024-01-10",
        facts_file(tmp_path, "R1", [rec(f"S{i:04d}", False) for i in range(2100)]), check=0)
    out = tmp_path / "pages"
    run("ledger", "pages", "--db", db, "--out", out, "--asof", "2024-01-10", "--lang", "en",
        check=0)
    index = (out / "index.html").read_text(encoding="utf-8")
    listed = re.findall(r'<tr><td><a href="(S\d{4})\.html">', index)
    assert listed == [f"S{i:04d}" for i in range(2000)]
    assert ("The first 2000 are listed; 100 more are not. Every finding is in "
            '<a href="findings.csv">findings.csv</a>.') in index
    # The counts cover every finding.
    assert "<tr><td>Total</td><td>2100</td><td>0</td><td>0</td><td>0</td></tr>" in index
    with open(out / "findings.csv", encoding="utf-8-sig", newline="") as f:
        assert [r["subject"] for r in csv.DictReader(f)] == [f"S{i:04d}" for i in range(2100)]
    assert len(list(out.glob("S*.html"))) == 2100


def test_the_status_page_lists_overdue_findings_first(tmp_path):
    # Z000..Z049 found on 2024-01-10 and still there: overdue by June; S0000..S2099 found on
    # 2024-06-01: open. The page lists the overdue ones first, then the open ones, 2 000 in all.
    db = tmp_path / "mixed.db"
    late = [rec(f"Z{i:03d}", False) for i in range(50)]
    fresh = [rec(f"S{i:04d}", False) for i in range(2100)]
    run("ledger", "record", "--db", db, "--round", "R1", "-r", RULES, "--asof", "2024-01-10",
        facts_file(tmp_path, "R1", late), check=0)
    run("ledger", "record", "--db", db, "--round", "R2", "-r", RULES, "--asof", "2024-06-01",
        facts_file(tmp_path, "R2", late + fresh), check=0)
    out = tmp_path / "pages"
    run("ledger", "pages", "--db", db, "--out", out, "--asof", "2024-06-10", "--lang", "en",
        check=0)
    index = (out / "index.html").read_text(encoding="utf-8")
    rows = re.findall(r'<tr><td><a href="([SZ]\d+)\.html">[^<]*</a></td><td>[^<]*</td>'
                      r'<td class="nw">(\w+)', index)
    assert rows == ([(f"Z{i:03d}", "overdue") for i in range(50)] +
                    [(f"S{i:04d}", "open") for i in range(1950)])
    assert "Findings not closed (overdue first)" in index
    assert "The first 2000 are listed; 150 more are not." in index
    assert "<tr><td>Total</td><td>2100</td><td>50</td><td>0</td><td>0</td></tr>" in index


def test_pages_are_each_institutions_file_and_the_status_with_every_value_escaped(ledger, tmp_path):
    out = tmp_path / "pages"
    p = run("ledger", "pages", "--db", ledger, "--out", out, "--asof", "2024-07-10", "--by",
            "region.district", check=0)
    assert str(out / "index.html") in p.stdout
    assert sorted(x.name for x in out.iterdir()) == ["A.html", "B.html", "C.html", "D.html",
                                                     "findings.csv", "index.html"]
    # Every finding, closed ones too, is in findings.csv with the page of its subject, as
    # `status` counts them: A's rebound, B's and C's closed, D's overdue.
    with open(out / "findings.csv", encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [(r["subject"], r["status"], r["rebound"], r["page"]) for r in rows] == [
        ("A", "open", "yes", "A.html"), ("B", "closed", "no", "B.html"),
        ("C", "closed", "no", "C.html"), ("D", "overdue", "no", "D.html")]
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "<style>" in index and "<script" not in index and "http" not in index
    # The counts per district as `status` gives them: 思明区 1 open, 1 closed, 1 rebound.
    assert "<tr><td>思明区</td><td>1</td><td>0</td><td>1</td><td>1</td></tr>" in index
    assert "<tr><td>湖里区</td><td>0</td><td>1</td><td>1</td><td>0</td></tr>" in index
    # Findings not closed link to their subject's file: A (rebound) and D (overdue), not B or C.
    assert '<a href="A.html">A</a>' in index and '<a href="D.html">D</a>' in index
    assert '<a href="B.html">' not in index and '<a href="C.html">' not in index
    assert "逾期未改" in index and "（反弹）" in index and "限期整改" in index
    a = (out / "A.html").read_text(encoding="utf-8")
    assert "消防不合格" in a and "条款一" in a and "2024-08-09" in a
    assert "R1 存在<br>R2 不存在<br>R3 存在" in a
    b = (out / "B.html").read_text(encoding="utf-8")
    assert "已销号" in b and "R2 无法判定" in b
    en = run("ledger", "pages", "--db", ledger, "--out", tmp_path / "en", "--lang", "en",
             "--asof", "2024-07-10", check=0)
    assert en.returncode == 0
    assert "R1 present<br>R2 absent<br>R3 present" in (tmp_path / "en" / "A.html").read_text(
        encoding="utf-8")
    # A subject and a title holding markup show as text.
    db = tmp_path / "x.db"
    hostile = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'
    run("ledger", "record", "--db", db, "--round", "R1", "-r", RULES, "--asof", "2024-01-10",
        facts_file(tmp_path, "x", [rec(hostile, False, district=hostile)]), check=0)
    run("ledger", "pages", "--db", db, "--out", tmp_path / "x", "--by", "region.district",
        "--asof", "2024-01-10", check=0)
    pages = list((tmp_path / "x").glob("*.html"))
    assert len(pages) == 2
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert "<script" not in text and "<img" not in text
        assert "&lt;script&gt;" in text
    # The CSV keeps the value as it is, quoted where it holds a comma or a quote.
    with open(tmp_path / "x" / "findings.csv", encoding="utf-8-sig", newline="") as f:
        assert [r["subject"] for r in csv.DictReader(f)] == [hostile]
    # A subject or group a spreadsheet would run as a formula is kept as text (an apostrophe
    # in front) in every CSV the ledger writes; `show` in JSON keeps the value as it came.
    db = tmp_path / "f.db"
    formula = '=HYPERLINK("http://x.example","ok")'
    run("ledger", "record", "--db", db, "--round", "R1", "-r", RULES, "--asof", "2024-01-10",
        facts_file(tmp_path, "f", [rec(formula, False, district="@SUM(A1)")]), check=0)
    run("ledger", "pages", "--db", db, "--out", tmp_path / "f", "--asof", "2024-01-10", check=0)
    with open(tmp_path / "f" / "findings.csv", encoding="utf-8-sig", newline="") as f:
        assert [r["subject"] for r in csv.DictReader(f)] == ["'" + formula]
    status = run("ledger", "status", "--db", db, "--by", "region.district", "--format", "csv",
                 "--asof", "2024-01-10", check=0).stdout
    assert [r["region.district"] for r in csv.DictReader(io.StringIO(status.lstrip("\ufeff")))
            ] == ["'@SUM(A1)"]
    shown = json.loads(run("ledger", "show", formula, "--db", db, "--format", "json",
                           check=0).stdout)
    assert shown["subject"] == formula
    assert run("ledger", "pages", "--db", db).returncode == 2  # --out is required


# What this carerules writes, read back as docs/ledger.md describes it, and taken back to the
# layout of an earlier schema.
class Packed:
    """Reads the ledger's packed bytes: a string is its length in 4 bytes, little-endian, then
    its bytes; an optional string has a byte 0 (none) or 1 before it."""

    def __init__(self, blob, at=0):
        self.blob, self.at = blob, at

    def u32(self):
        self.at += 4
        return int.from_bytes(self.blob[self.at - 4:self.at], "little")

    def text(self):
        n = self.u32()
        self.at += n
        return self.blob[self.at - n:self.at].decode("utf-8")

    def opt(self):
        self.at += 1
        return self.text() if self.blob[self.at - 1] else None


def seen_rows(con, round=None):
    """Each subject of each round (of `round` only when given) as `seen_blocks` keeps them:
    (round, subject, responsible, full, facts, items), items None when none are stored.
    A block's rows are one after another: the row's length (4 bytes), full (a byte),
    responsible (optional), subject, facts (optional), then the items."""
    query = "SELECT round, first, last, subjects, rows FROM seen_blocks"
    blocks = con.execute(query + (" WHERE round = ?" if round else "") + " ORDER BY round, first",
                         (round,) if round else ()).fetchall()
    out = []
    for rnd, first, last, count, blob in blocks:
        r, rows = Packed(blob), []
        while r.at < len(blob):
            end = r.at + 4 + r.u32()
            r.at += 1
            full = blob[r.at - 1] != 0
            responsible, subject, facts = r.opt(), r.text(), r.opt()
            items = bytes(blob[r.at:end])
            r.at = end
            rows.append((rnd, subject, responsible, int(full), facts,
                         items if items != bytes(4) else None))
        assert r.at == len(blob) and len(rows) == count
        assert (rows[0][1], rows[-1][1]) == (first, last)
        assert [row[1] for row in rows] == sorted(row[1] for row in rows)
        out += rows
    return out


def to_schema_5(con):
    rows = seen_rows(con)
    con.executescript("""
        CREATE TABLE seen (round TEXT NOT NULL REFERENCES rounds(id), subject TEXT NOT NULL,
                           responsible TEXT, full INTEGER NOT NULL, facts TEXT, items BLOB,
                           PRIMARY KEY (round, subject)) WITHOUT ROWID;""")
    con.executemany("INSERT INTO seen VALUES (?, ?, ?, ?, ?, ?)", rows)
    con.executescript("""
        DROP TABLE seen_blocks;
        DELETE FROM schema_version; INSERT INTO schema_version (version) VALUES (5);""")


def unpack_items(blob):
    """A subject's observations as the ledger keeps them: a count, then per observation item,
    status, title, cite, action, due (optional) and responsible (optional)."""
    r = Packed(blob)
    out = [(r.text(), r.text(), r.text(), r.text(), r.text(), r.opt(), r.opt())
           for _ in range(r.u32())]
    assert r.at == len(blob)
    return out


def to_schema_4(con):
    con.executescript("""
        CREATE TABLE observations (
          round TEXT NOT NULL REFERENCES rounds(id), subject TEXT NOT NULL, item TEXT NOT NULL,
          status TEXT NOT NULL CHECK (status IN ('present', 'absent', 'undetermined')),
          title TEXT NOT NULL, cite TEXT NOT NULL, action TEXT NOT NULL, due TEXT,
          responsible TEXT, PRIMARY KEY (round, subject, item));
        CREATE INDEX observations_by_subject ON observations(subject, item);
        CREATE INDEX observations_present ON observations(subject, item)
          WHERE status = 'present';""")
    for rnd, subject, blob in con.execute(
            "SELECT round, subject, items FROM seen WHERE items IS NOT NULL").fetchall():
        for o in unpack_items(blob):
            con.execute("INSERT INTO observations VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (rnd, subject) + o)
    con.executescript("""
        ALTER TABLE seen DROP COLUMN items;
        DELETE FROM schema_version; INSERT INTO schema_version (version) VALUES (4);""")


TO_SCHEMA_3 = """
    CREATE TABLE seen3 (round TEXT NOT NULL REFERENCES rounds(id), subject TEXT NOT NULL,
                        responsible TEXT, full INTEGER NOT NULL, facts TEXT,
                        PRIMARY KEY (subject, round)) WITHOUT ROWID;
    INSERT INTO seen3 SELECT round, subject, responsible, full, facts FROM seen;
    DROP TABLE seen; ALTER TABLE seen3 RENAME TO seen;
    DELETE FROM schema_version; INSERT INTO schema_version (version) VALUES (3);
"""
TO_SCHEMA_2 = """
    CREATE TABLE facts (round TEXT NOT NULL REFERENCES rounds(id), subject TEXT NOT NULL,
                        json TEXT NOT NULL, PRIMARY KEY (round, subject));
    INSERT INTO facts SELECT round, subject, facts FROM seen WHERE facts IS NOT NULL;
    ALTER TABLE seen DROP COLUMN facts;
    UPDATE rounds SET hash = 'a hash of schema 2 for ' || id;
    DELETE FROM schema_version; INSERT INTO schema_version (version) VALUES (2);
"""
TO_SCHEMA_1 = """
    INSERT INTO observations (round, subject, item, status, title, cite, action, due,
                              responsible)
      SELECT s.round, s.subject, ri.item, 'absent', ri.title, ri.cite, ri.action, NULL,
             s.responsible
        FROM seen s JOIN round_items ri ON ri.round = s.round
       WHERE s.full = 1 AND NOT EXISTS (SELECT 1 FROM observations o WHERE
             o.round = s.round AND o.subject = s.subject AND o.item = ri.item);
    DROP TABLE seen; DROP TABLE round_items;
    DELETE FROM schema_version; INSERT INTO schema_version (version) VALUES (1);
"""


@pytest.mark.parametrize("schema", [1, 2, 3, 4, 5])
def test_an_older_file_is_migrated_and_gives_the_same_lists(ledger, tmp_path, schema):
    # Schema 1 stored every item of every round, absent ones included; schema 2 kept facts in
    # a table of their own and hashed rounds whole; schema 3 kept `seen` in subject order;
    # schema 4 kept a row per observation not absent; schema 5 a row of `seen` per subject and
    # round.
    # Make such a file from the first two rounds, then let this carerules migrate it and
    # record the third round.
    old = tmp_path / "old.db"
    for name, asof, records in ROUNDS[:2]:
        run("ledger", "record", "--db", old, "--round", name, "-r", RULES,
            facts_file(tmp_path, name, records), "--asof", asof, check=0)
    con = sqlite3.connect(old)
    to_schema_5(con)
    if schema == 5:
        assert con.execute("SELECT COUNT(*) FROM seen").fetchone()[0] == 8  # 4 subjects x 2
    if schema <= 4:
        to_schema_4(con)
    if schema <= 3:
        con.executescript(TO_SCHEMA_3 + (TO_SCHEMA_2 if schema <= 2 else "") +
                          (TO_SCHEMA_1 if schema == 1 else ""))
    if schema == 4:
        assert con.execute("SELECT COUNT(*) FROM observations").fetchone()[0] > 0
    if schema == 3:
        assert con.execute("SELECT sql FROM sqlite_master WHERE name = 'seen'").fetchone()[0] \
            .endswith("PRIMARY KEY (subject, round)) WITHOUT ROWID")
    if schema == 1:
        assert con.execute("SELECT COUNT(*) FROM observations").fetchone()[0] == 16  # 2 x 4 x 2
    con.close()
    name, asof, records = ROUNDS[2]
    run("ledger", "record", "--db", old, "--round", name, "-r", RULES,
        facts_file(tmp_path, name, records), "--asof", asof, check=0)
    con = sqlite3.connect(old)
    assert con.execute("SELECT MAX(version) FROM schema_version").fetchone()[0] == 6
    assert sum(r[4] is not None for r in seen_rows(con)) == 12  # facts of 4 subjects x 3 rounds
    assert con.execute("SELECT COUNT(*) FROM sqlite_master WHERE name IN ('observations', "
                       "'seen')").fetchone()[0] == 0
    con.close()
    for args in (["status", "--asof", "2024-07-10", "--by", "region.district"],
                 ["diff", "--from", "R1", "--to", "R3"], ["diff", "--from", "R2", "--to", "R3"],
                 ["show", "A", "--asof", "2024-07-10"], ["show", "B", "--asof", "2024-07-10"]):
        assert (run("ledger", *args, "--db", old, "--format", "json", check=0).stdout ==
                run("ledger", *args, "--db", ledger, "--format", "json", check=0).stdout), args
    # The hashes of the migrated rounds were computed again from what they stored: the same
    # round again changes nothing, other content under its name is refused.
    again = run("ledger", "record", "--db", old, "--round", "R1", "-r", RULES,
                facts_file(tmp_path, "R1", ROUNDS[0][2]), "--asof", "2024-01-10", check=0)
    assert "nothing changed" in again.stdout
    other = run("ledger", "record", "--db", old, "--round", "R2", "-r", RULES,
                facts_file(tmp_path, "R2", ROUNDS[0][2]), "--asof", "2024-04-10", check=1)
    assert "recorded already with other content" in other.stderr


def test_a_damaged_block_of_subjects_is_an_error_naming_its_round(ledger, tmp_path):
    # Bytes of a stored block cut short (a disk or a hand gone wrong): the readers that reach it
    # say which round is damaged and exit 1, without a crash.
    every = (["status"], ["diff", "--from", "R1", "--to", "R3"], ["show", "A"])
    for n, (change, readers) in enumerate([
            ("UPDATE seen_blocks SET rows = substr(rows, 1, 30) WHERE round = 'R2'", every),
            ("UPDATE seen_blocks SET rows = substr(rows, 1, length(rows) - 1) "
             "WHERE round = 'R2'", every),
            ("UPDATE seen_blocks SET subjects = subjects + 1 WHERE round = 'R2'", every),
            # Not its first subject: a lookup of A no longer finds that block at all (the round
            # looks as if it had not seen A); the walks see the block and refuse it.
            ("UPDATE seen_blocks SET first = 'ZZZ' WHERE round = 'R2'", every[:2])]):
        db = changed_copy(ledger, tmp_path / f"cut{n}.db", change)
        for args in readers:
            p = run("ledger", *args, "--db", db, "--asof", "2024-07-10", check=1)
            assert f"cut{n}.db`: the stored subjects of round `R2` are damaged" in p.stderr, \
                (change, args, p.stderr)


def test_a_subject_given_twice_in_a_round_is_refused_by_line_and_the_rest_recorded(tmp_path):
    db = tmp_path / "twice.db"
    records = [rec("A", False), rec("B"), rec("A", True), rec("C", False)]
    p = run("ledger", "record", "--db", db, "--round", "R1", "-r", RULES, "--asof", "2024-01-10",
            facts_file(tmp_path, "R1", records), check=1)
    assert "line 3: subject A is given again (first on line 1)" in p.stderr
    assert "recorded round R1 (2024-01-10): 3 subjects, 6 items" in p.stdout
    a = json.loads(run("ledger", "show", "--db", db, "A", "--asof", "2024-01-10", "--format",
                       "json", check=0).stdout)
    assert [(f["item"], f["last_status"]) for f in a["findings"]] == [("F1", "present")]
    # The same from reports.
    reports = tmp_path / "r.jsonl"
    reports.write_text(run("eval", "-r", RULES, facts_file(tmp_path, "x", records), "--asof",
                           "2024-01-10", "--format", "jsonl").stdout, encoding="utf-8")
    p = run("ledger", "record", "--db", tmp_path / "r.db", "--round", "R1", "--reports", reports,
            check=1)
    assert "line 3: subject A is given again (first on line 1)" in p.stderr


def test_what_is_kept_of_the_facts_is_the_record_without_its_lists(tmp_path):
    db = tmp_path / "facts.db"
    r = rec("A", False)
    r.update({"staff": [{"name": "x"}], "ratio": 1.5, "big": 12345678901234567890,
              "head": {"name": "王院长", "phone": ["1", "2"]}, "note": 'a "quoted"\n\\ line'})
    line = json.dumps(r, ensure_ascii=False).replace('"ratio": 1.5', '"ratio": 1.50')
    (tmp_path / "R1.jsonl").write_text(line + "\n", encoding="utf-8")
    run("ledger", "record", "--db", db, "--round", "R1", "-r", RULES, "--asof", "2024-01-10",
        tmp_path / "R1.jsonl", "--responsible", "head.name", check=0)
    con = sqlite3.connect(db)
    [(_, _, responsible, _, kept, _)] = [r for r in seen_rows(con) if r[1] == "A"]
    con.close()
    assert '"ratio":1.50' in kept and '"big":12345678901234567890' in kept  # as written
    expect = {k: v for k, v in r.items() if k != "staff"}
    expect["head"] = {"name": "王院长"}
    assert json.loads(kept) == expect
    assert responsible == "王院长"
    status = json.loads(run("ledger", "status", "--db", db, "--asof", "2024-01-10", "--by",
                            "head.name", "--format", "json", check=0).stdout)
    assert [g["group"] for g in status["groups"]] == ["王院长"]
    # Looking a subject up (`show`, the facts for --by) closes the ledger on the way out: SQLite
    # removes its -wal and -shm files when the last connection closes.
    run("ledger", "show", "--db", db, "A", "--asof", "2024-01-10", check=0)
    assert not any(pathlib.Path(str(db) + end).exists() for end in ("-wal", "-shm"))


def test_numbers_group_by_their_value_and_a_responsible_number_reads_as_reports_write_it(tmp_path):
    # 1.50, 1.5 and 15e-1 are one group and one responsible, `1.5` (not a double's `1.5E0`).
    db = tmp_path / "n.db"
    lines = [json.dumps(rec(s, False))[:-1] + ', "g": %s}' % g for s, g in
             (("A", "1.50"), ("B", "1.5"), ("C", "15e-1"), ("D", "2"))]
    (tmp_path / "n.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    run("ledger", "record", "--db", db, "--round", "R1", "-r", RULES, "--asof", "2024-01-10",
        tmp_path / "n.jsonl", "--responsible", "g", check=0)
    status = json.loads(run("ledger", "status", "--db", db, "--asof", "2024-01-10", "--by", "g",
                            "--format", "json", check=0).stdout)
    assert [(g["group"], g["open"]) for g in status["groups"]] == [("1.5", 3), ("2", 1)]
    shown = json.loads(run("ledger", "show", "A", "--db", db, "--format", "json",
                           check=0).stdout)
    assert {f["responsible"] for f in shown["findings"]} == {"1.5"}


def test_endless_and_oversize_inputs_stop_at_the_limit_and_record_nothing(tmp_path):
    db = tmp_path / "z.db"
    for args in (["-r", RULES, "/dev/zero"], ["--reports", "/dev/zero"]):
        p = run("ledger", "record", "--db", db, "--round", "R1", *args, check=1)
        assert "NUL byte" in p.stderr
    big = tmp_path / "big.jsonl"
    big.write_text('{"id": "A", "pad": "' + "x" * 200_000 + '"}\n', encoding="utf-8")
    p = run("ledger", "record", "--db", db, "--round", "R1", "-r", RULES, big, "--limit",
            "line_bytes=100000", check=1)
    assert "line 1" in p.stderr and "line_bytes" in p.stderr
    assert "round R1 not recorded" in p.stderr
    # Nothing was recorded, so R1 is still free for the real round.
    run("ledger", "record", "--db", db, "--round", "R1", "-r", RULES,
        facts_file(tmp_path, "R1", ROUNDS[0][2]), "--asof", "2024-01-10", check=0)


def test_subjects_with_other_items_than_the_rounds_first_keep_every_item(tmp_path):
    # Reports of two rulesets in one round (a third hazard in the second): the round's items
    # are its first subject's; a subject with other items keeps a row for each of its items, so
    # an absent one still closes and one its report did not have is not taken as absent.
    wider = tmp_path / "wider.rules"
    wider.write_text(RULES.read_text(encoding="utf-8").replace(
        '  grade risk', '  hazard X1 "其他" { cite "条款三" when beds > 300 }\n  grade risk'),
        encoding="utf-8")

    def reports(name, pairs_):
        lines = [run("eval", "-r", rules, facts_file(tmp_path, f"{name}-{r['id']}", [r]),
                     "--asof", "2024-01-10", "--format", "jsonl").stdout for rules, r in pairs_]
        path = tmp_path / f"{name}.jsonl"
        path.write_text("".join(lines), encoding="utf-8")
        return path

    db = tmp_path / "mixed.db"
    r1 = reports("R1", [(RULES, rec("A", False)), (wider, rec("B", True, beds=400))])
    r2 = reports("R2", [(wider, rec("A", True)), (RULES, rec("B", True))])
    run("ledger", "record", "--db", db, "--round", "R1", "--reports", r1, "--asof", "2024-01-10",
        check=0)
    run("ledger", "record", "--db", db, "--round", "R2", "--reports", r2, "--asof", "2024-04-10",
        check=0)

    def show(subject):
        out = json.loads(run("ledger", "show", "--db", db, subject, "--asof", "2024-04-10",
                             "--format", "json", check=0).stdout)
        return {f["item"]: (f["status"], [h["status"] for h in f["history"]])
                for f in out["findings"]}

    assert show("A") == {"F1": ("closed", ["present", "absent"])}
    # B's R2 report had no X1: the finding stays open (overdue: 90 days from R1 have passed).
    assert show("B") == {"B1": ("closed", ["present", "absent"]), "X1": ("overdue", ["present"])}


def test_diff_gives_the_same_lists_as_json_csv_and_a_table(ledger):
    import csv
    import io
    import unicodedata
    for a, b in (("R1", "R2"), ("R2", "R3"), ("R1", "R3")):
        d = diff(ledger, a, b)
        order = ["new", "closed", "still_open", "rebound", "undetermined"]
        expect = [(k, f["subject"], f["item"], f["status"]) for k in order for f in d[k]]
        assert expect, (a, b)
        text = run("ledger", "diff", "--db", ledger, "--from", a, "--to", b, "--format", "csv",
                   check=0).stdout
        rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
        assert [(r["change"], r["subject"], r["item"], r["status"]) for r in rows] == expect
        table = run("ledger", "diff", "--db", ledger, "--from", a, "--to", b, check=0).stdout
        lines = table.splitlines()
        counts = [len(d[k]) for k in order]
        assert lines[0] == (f"from {a} to {b}: {counts[0]} new, {counts[1]} closed, {counts[2]} "
                            f"still open, {counts[3]} rebound, {counts[4]} now undetermined")
        assert lines[1].split() == ["change", "subject", "item", "title", "due", "status"]
        body = lines[2:]
        assert [(r.split()[0], r.split()[1], r.split()[2], r.split()[-1]) for r in body] == expect

        def columns(line):  # where each cell starts, counting a CJK character as two
            starts, col, prev = [], 0, " "
            for ch in line:
                if ch != " " and prev == " " and (not starts or col >= starts[-1] + 2):
                    starts.append(col)
                col += 2 if unicodedata.east_asian_width(ch) in "WF" else 1
                prev = ch
            return starts
        assert all(columns(r)[:3] == columns(lines[1])[:3] for r in body)
