"""Tests of the `carerules` command-line tool (api.md "CLI", language.md §9-§11).

Run with `/usr/bin/python3 -m pytest tests/cli`. The binary is $CARERULES_BIN, or
build/bin/carerules under the repository root.
"""

import csv
import io
import json
import re
import os
import pathlib
import shutil
import subprocess
import threading

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = os.environ.get("CARERULES_BIN", str(ROOT / "build" / "bin" / "carerules"))

ASOF = "2024-06-01"

RULES = """\
ruleset demo {
  title   "演示规则"
  version "1"
  input {
    id                 : string
    code               : string
    facility.beds      : int in 0..10000
    facility.appraisal : enum("A", "B", "C", "D")
    residents : list {
      id      : string
      ability : int in 0..90
    }
  }
  hazard H1 "危房" {
    category facilities
    cite     "第四条第(一)项"
    when     facility.appraisal in ["C", "D"]
  }
  hazard H2 "床位过多" {
    category other
    severity general
    cite     "示例"
    when     facility.beds > 100
  }
  score quality max 100 {
    section env max 50 {
      item E1 "有床位" 10 when facility.beds > 5
    }
  }
  grade risk : color {
    red  when any(h in hazards where h.severity == "major")
    blue otherwise
  }
  test "grade C is a major hazard" {
    asof  @2024-06-01
    given { "facility": { "appraisal": "C", "beds": 10 } }
    expect hazard H1
    expect risk == red
  }
  test "grade A is not" {
    asof  @2024-06-01
    given { "facility": { "appraisal": "A", "beds": 10 } }
    expect not hazard H1
    expect risk == blue
  }
}
"""

# The same, for evaluating one resident at a time with --each.
RESIDENT_RULES = """\
ruleset resident {
  title   "resident"
  version "1"
  input {
    id      : string
    ability : int in 0..90
  }
  hazard LOW "low ability" {
    cite "own screening rule"
    when ability < 30
  }
}
"""


def run(*args, input=None, timeout=60):
    proc = subprocess.run(
        [BIN, *map(str, args)],
        input=input if input is None or isinstance(input, bytes) else input.encode(),
        capture_output=True,
        timeout=timeout,
    )
    proc.out = proc.stdout.decode("utf-8", "replace")
    proc.err = proc.stderr.decode("utf-8", "replace")
    return proc


@pytest.fixture(scope="session", autouse=True)
def binary_exists():
    if not os.path.exists(BIN):
        pytest.fail(f"carerules binary not found at {BIN} (build it, or set CARERULES_BIN)")


@pytest.fixture
def rules(tmp_path):
    p = tmp_path / "demo.rules"
    p.write_text(RULES, encoding="utf-8")
    return p


def record(i, appraisal="A", beds=10):
    return {"id": str(i), "facility": {"appraisal": appraisal, "beds": beds}}


def write_jsonl(path, records):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records),
                    encoding="utf-8")
    return path


# ---- the tool -------------------------------------------------------------------------------

def test_version():
    p = run("--version")
    assert p.returncode == 0
    assert p.out == "carerules 0.1.0\n"


@pytest.mark.parametrize("command", ["", "check", "test", "eval", "explain", "schema"])
@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_help(command, flag):
    p = run(*([command] if command else []), flag)
    assert p.returncode == 0, p.err
    assert p.out.startswith("Usage: carerules")
    assert "--import-root" in p.out and "--limit" in p.out
    if command:
        assert f"carerules {command}" in p.out


def test_help_wins_over_missing_arguments():
    assert run("eval", "--format", "nonsense", "--help").returncode == 0


def test_no_command_and_unknown_command():
    assert run().returncode == 2
    p = run("frobnicate")
    assert p.returncode == 2 and "frobnicate" in p.err


# ---- usage errors ---------------------------------------------------------------------------

@pytest.mark.parametrize("extra", [
    ["--threads", "-1"], ["--threads", "x"], ["--threads", "1.5"], ["--threads", ""],
    ["--asof", "2024-02-30"], ["--asof", "2024-6-1"], ["--asof", "yesterday"],
    ["--asof", "0000-01-01"],
    ["--format", "xml"], ["--input", "yaml"],
    ["--limit", "no_such_limit=3"], ["--limit", "depth=lots"], ["--limit", "depth"],
    ["--no-such-option"], ["extra.json"],
])
def test_eval_usage_errors(rules, tmp_path, extra):
    facts = write_jsonl(tmp_path / "f.jsonl", [record(1)])
    p = run("eval", "-r", rules, facts, *extra)
    assert p.returncode == 2, (extra, p.out, p.err)
    assert p.err.strip()
    assert p.out == ""


def test_eval_missing_rules(tmp_path):
    facts = write_jsonl(tmp_path / "f.jsonl", [record(1)])
    p = run("eval", facts)
    assert p.returncode == 2 and "-r" in p.err


def test_usage_errors_on_other_commands(rules):
    assert run("check").returncode == 2
    assert run("test").returncode == 2
    assert run("schema").returncode == 2
    assert run("check", "--limit", "bogus=1", rules).returncode == 2
    assert run("schema", "--limit", "depth=-1", rules).returncode == 2
    assert run("test", "--bogus", rules).returncode == 2


def test_threads_large_is_clamped(rules, tmp_path):
    facts = write_jsonl(tmp_path / "f.jsonl", [record(1)])
    p = run("eval", "-r", rules, facts, "--asof", ASOF, "--threads", "99999999999999999999")
    assert p.returncode == 0, p.err
    assert len(json.loads(p.out)) == 1


# ---- check ----------------------------------------------------------------------------------

def test_check_good(rules):
    p = run("check", rules)
    assert p.returncode == 0
    assert p.err == "" and p.out == ""


def test_check_error(tmp_path, rules):
    bad = tmp_path / "bad.rules"
    bad.write_text(RULES.replace("when     facility.beds > 100", "when     facility.bedz > 100"))
    p = run("check", rules, bad)
    assert p.returncode == 1
    assert "bad.rules:" in p.err and "error:" in p.err
    assert "^" in p.err  # the caret line


def test_check_warning_only(tmp_path):
    w = tmp_path / "w.rules"
    w.write_text('ruleset w {\n title "w"\n version "1"\n input { a : bool }\n'
                 ' hazard H1 "x" { when a }\n}\n')
    p = run("check", w)
    assert p.returncode == 0
    assert "warning:" in p.err


def test_check_diagnostics_limit(tmp_path):
    lets = "".join(f"  let x{i} = undeclared{i}\n" for i in range(5))
    f = tmp_path / "many.rules"
    f.write_text('ruleset m {\n  title "m"\n  version "1"\n  input { a : bool }\n' + lets + "}\n")
    p = run("check", "--limit", "diagnostics=2", f)
    assert p.returncode == 1
    assert p.err.count(": error:") == 2
    assert "and 3 more" in p.err


def test_check_missing_file_and_directory(tmp_path):
    p = run("check", tmp_path / "nope.rules")
    assert p.returncode == 1 and "nope.rules" in p.err
    p = run("check", tmp_path)
    assert p.returncode == 1 and str(tmp_path) in p.err


def test_check_import_root(tmp_path):
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "common.rules").write_text(
        'ruleset common {\n title "c"\n version "1"\n input { a : bool }\n'
        ' hazard C1 "c" { cite "x" when a }\n}\n')
    top = tmp_path / "top"
    top.mkdir()
    (top / "main.rules").write_text(
        'ruleset main {\n title "m"\n version "1"\n import "../lib/common.rules"\n}\n')
    assert run("check", top / "main.rules").returncode == 1  # outside the roots
    p = run("check", "--import-root", lib, top / "main.rules")
    assert p.returncode == 0, p.err


# ---- test -----------------------------------------------------------------------------------

def test_test_passing(rules):
    p = run("test", rules)
    assert p.returncode == 0, p.out + p.err
    assert p.out.splitlines()[-1] == "2 passed, 0 failed"


def test_test_failing(tmp_path):
    f = tmp_path / "fail.rules"
    f.write_text(RULES.replace("expect risk == blue", "expect risk == red"))
    p = run("test", f)
    assert p.returncode == 1
    lines = p.out.splitlines()
    assert lines[-1] == "1 passed, 1 failed"
    failure = [l for l in lines if "expect" in l]
    assert len(failure) == 1
    assert failure[0].startswith(str(f) + ":")
    assert 'test "grade A is not": expect risk == red' in failure[0]
    assert "got" in failure[0]


def test_test_directory(tmp_path):
    d = tmp_path / "suite"
    (d / "sub").mkdir(parents=True)
    (d / "a.rules").write_text(RULES)
    (d / "sub" / "broken.rules").write_text("ruleset broken {\n")
    (d / "sub" / "notes.txt").write_text("not a ruleset")
    p = run("test", d)
    assert p.returncode == 1
    assert p.out.splitlines()[-1] == "2 passed, 1 failed"
    assert "broken.rules" in p.err


def test_test_directory_is_an_import_root(tmp_path):
    d = tmp_path / "suite"
    (d / "common").mkdir(parents=True)
    (d / "bundles").mkdir()
    (d / "common" / "c.rules").write_text(
        'ruleset common {\n title "c"\n version "1"\n input { a : bool }\n'
        ' hazard C1 "c" { cite "x" when a }\n}\n')
    (d / "bundles" / "b.rules").write_text(
        'ruleset b {\n title "b"\n version "1"\n import "../common/c.rules"\n'
        ' test "t" {\n  asof @2024-01-01\n  given { "a": true }\n  expect hazard C1\n }\n}\n')
    p = run("test", d)
    assert p.returncode == 0, p.out + p.err
    assert p.out.splitlines()[-1] == "1 passed, 0 failed"


def test_test_coverage(rules):
    p = run("test", "--coverage", rules)
    assert p.returncode == 0
    assert "hazard H2" in p.out  # no test sees H2 present
    assert "hazard H1" not in p.out
    assert p.out.splitlines()[-1] == "2 passed, 0 failed"


def test_test_missing_file(tmp_path):
    p = run("test", tmp_path / "nope.rules")
    assert p.returncode == 1
    assert p.out.splitlines()[-1] == "0 passed, 1 failed"


# ---- eval: formats --------------------------------------------------------------------------

def test_eval_one_json_record(rules, tmp_path):
    facts = tmp_path / "one.json"
    facts.write_text(json.dumps(record("FJ-1", "C")))
    p = run("eval", "-r", rules, facts, "--asof", ASOF)
    assert p.returncode == 0, p.err
    rep = json.loads(p.out)
    assert isinstance(rep, dict)
    assert rep["subject"] == "FJ-1"
    assert rep["asof"] == ASOF
    assert rep["engine"] == "carerules 0.1.0"
    assert [h["status"] for h in rep["hazards"]] == ["present", "absent"]
    assert rep["grades"]["risk"]["value"] == "red"
    assert "演示规则" in p.out  # CJK written as is


def test_eval_default_asof_is_today(rules, tmp_path):
    import datetime
    facts = tmp_path / "one.json"
    facts.write_text(json.dumps(record(1)))
    p = run("eval", "-r", rules, facts)
    assert json.loads(p.out)["asof"] in {
        datetime.date.today().isoformat(),
        (datetime.date.today() + datetime.timedelta(days=1)).isoformat()}


def test_eval_batch_json_array(rules, tmp_path):
    facts = write_jsonl(tmp_path / "b.jsonl", [record(1, "C"), record(2)])
    p = run("eval", "-r", rules, facts, "--asof", ASOF)
    assert p.returncode == 0, p.err
    reps = json.loads(p.out)
    assert [r["subject"] for r in reps] == ["1", "2"]


def test_eval_jsonl(rules, tmp_path):
    facts = write_jsonl(tmp_path / "b.jsonl", [record(1, "C"), record(2)])
    p = run("eval", "-r", rules, facts, "--asof", ASOF, "--format", "jsonl")
    assert p.returncode == 0
    lines = p.out.splitlines()
    assert len(lines) == 2
    assert [json.loads(l)["subject"] for l in lines] == ["1", "2"]


def test_eval_csv(rules, tmp_path):
    recs = [record("FJ,1", "C", 200), record("长者\"之家\"")]
    facts = write_jsonl(tmp_path / "b.jsonl", recs)
    p = run("eval", "-r", rules, facts, "--asof", ASOF, "--format", "csv")
    assert p.returncode == 0, p.err
    assert p.stdout.startswith(b"\xef\xbb\xbf")
    text = p.stdout[3:].decode("utf-8")
    assert "\r\n" in text
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[0] == ["subject", "hazard.H1", "hazard.H2", "score.quality",
                       "score.quality.env", "grade.risk", "errors"]
    assert rows[1] == ["FJ,1", "present", "present", "10", "10", "red", "0"]
    assert rows[2] == ['长者"之家"', "absent", "absent", "10", "10", "blue", "0"]
    assert len(rows) == 3


def test_eval_csv_keeps_formula_like_subjects_as_text(rules, tmp_path):
    # A subject from the facts that a spreadsheet would run as a formula is written behind an
    # apostrophe; a negative number is not.
    hostile = ['=HYPERLINK("http://x.example","点此")', "+1+1", "@SUM(A1)", "-1+2", "-7"]
    facts = write_jsonl(tmp_path / "b.jsonl", [record(h) for h in hostile])
    p = run("eval", "-r", rules, facts, "--asof", ASOF, "--format", "csv")
    assert p.returncode == 0, p.err
    rows = list(csv.reader(io.StringIO(p.stdout[3:].decode("utf-8"), newline="")))
    assert [r[0] for r in rows[1:]] == ["'" + h for h in hostile[:4]] + ["-7"]
    # The JSON report keeps the subject as it came.
    p = run("eval", "-r", rules, facts, "--asof", ASOF, "--format", "jsonl")
    assert [json.loads(l)["subject"] for l in p.out.splitlines()] == hostile


def test_a_due_date_past_the_calendar_is_an_error_not_a_missing_date(tmp_path):
    rules = tmp_path / "due.rules"
    rules.write_text('ruleset due { title "t" version "1" input { a : bool }\n'
                     '  hazard H "h" { cite "c" when a rectify deadline within 30 days } }\n',
                     encoding="utf-8")
    late = run("eval", "-r", rules, "-", "--asof", "9999-12-15", "--format", "jsonl",
               input='{"a": true}\n')
    assert late.returncode == 1
    r = json.loads(late.out)
    assert r["hazards"][0]["status"] == "present" and "due" not in r["hazards"][0]["rectify"]
    assert [e["rule"] for e in r["errors"]] == ["H"] and "9999-12-31" in r["errors"][0]["message"]
    ok = run("eval", "-r", rules, "-", "--asof", "9999-11-15", "--format", "jsonl",
             input='{"a": true}\n')
    assert ok.returncode == 0 and json.loads(ok.out)["hazards"][0]["rectify"]["due"] == "9999-12-15"
    # A period longer than the calendar does not compile.
    rules.write_text(rules.read_text(encoding="utf-8").replace("30 days", "3652059 days"),
                     encoding="utf-8")
    bad = run("check", rules)
    assert bad.returncode == 1 and "longer than the calendar allows" in bad.err


def test_eval_table_aligned_by_display_width(rules, tmp_path):
    recs = [record("长者之家", "C"), record("ab")]
    facts = write_jsonl(tmp_path / "b.jsonl", recs)
    p = run("eval", "-r", rules, facts, "--asof", ASOF, "--format", "table")
    assert p.returncode == 0, p.err
    lines = [l for l in p.out.splitlines() if l.startswith(("subject", "长者", "ab"))]
    assert len(lines) == 3
    assert "quality" in lines[0] and "risk" in lines[0] and "errors" in lines[0]

    def width(s):  # display columns: CJK counts two
        return sum(2 if ord(c) >= 0x1100 else 1 for c in s)

    # the right-aligned column after the subject ends at the same display column everywhere
    ends = []
    for l in lines:
        second = l.split()[1]
        ends.append(width(l[:l.index(second, len(l.split()[0])) + len(second)]))
    assert len(set(ends)) == 1, lines
    assert "red" in lines[1] and "blue" in lines[2]


# ---- eval: batches --------------------------------------------------------------------------

def test_eval_malformed_line_in_the_middle(rules, tmp_path):
    text = (json.dumps(record(1)) + "\n"
            + "\n"                       # blank: skipped
            + "{not json\n"              # line 3
            + json.dumps(record(2)) + "\n"
            + "[1, 2]\n"                 # line 5: not an object
            + json.dumps(record(3)) + "\n")
    facts = tmp_path / "b.jsonl"
    facts.write_text(text)
    p = run("eval", "-r", rules, facts, "--asof", ASOF, "--threads", "3")
    assert p.returncode == 1
    reps = json.loads(p.out)
    assert [r["subject"] for r in reps] == ["1", None, "2", None, "3"]
    for r, line in ((reps[1], 3), (reps[3], 5)):
        assert r["hazards"] == [] and r["scores"] == {} and r["grades"] == {}
        assert len(r["errors"]) == 1
        assert r["errors"][0]["path"] == ""
        assert f"line {line}" in r["errors"][0]["message"]
    assert reps[0]["errors"] == [] and reps[4]["errors"] == []


def test_eval_line_longer_than_limit(rules, tmp_path):
    recs = [record(1), {"id": "x" * 500}, record(3)]
    facts = write_jsonl(tmp_path / "b.jsonl", recs)
    p = run("eval", "-r", rules, facts, "--asof", ASOF, "--format", "jsonl",
            "--limit", "line_bytes=200")
    assert p.returncode == 1
    reps = [json.loads(l) for l in p.out.splitlines()]
    assert [r["subject"] for r in reps] == ["1", None, "3"]
    assert "line 2" in reps[1]["errors"][0]["message"]
    assert "line_bytes" in reps[1]["errors"][0]["message"]


def test_eval_json_file_larger_than_limit(rules, tmp_path):
    facts = tmp_path / "big.json"
    facts.write_text(json.dumps({"id": "y" * 1000}))
    p = run("eval", "-r", rules, facts, "--asof", ASOF, "--limit", "line_bytes=100")
    assert p.returncode == 1
    rep = json.loads(p.out)
    assert rep["subject"] is None and "line_bytes" in rep["errors"][0]["message"]


def test_eval_empty_batch(rules, tmp_path):
    facts = tmp_path / "empty.jsonl"
    facts.write_text("\n  \n")
    p = run("eval", "-r", rules, facts, "--asof", ASOF)
    assert p.returncode == 0
    assert json.loads(p.out) == []
    p = run("eval", "-r", rules, facts, "--asof", ASOF, "--format", "jsonl")
    assert p.returncode == 0 and p.out == ""


def test_eval_order_kept_with_threads(rules, tmp_path):
    recs = [record(i, "C" if i % 7 == 0 else "A", i % 300) for i in range(1500)]
    facts = write_jsonl(tmp_path / "b.jsonl", recs)
    p = run("eval", "-r", rules, facts, "--asof", ASOF, "--format", "jsonl", "--threads", "4")
    assert p.returncode == 0
    reps = [json.loads(l) for l in p.out.splitlines()]
    assert [r["subject"] for r in reps] == [str(i) for i in range(1500)]
    assert all((r["hazards"][0]["status"] == "present") == (int(r["subject"]) % 7 == 0)
               for r in reps)


def test_eval_crlf_lines(rules, tmp_path):
    facts = tmp_path / "b.jsonl"
    facts.write_bytes((json.dumps(record(1)) + "\r\n" + json.dumps(record(2)) + "\r\n").encode())
    p = run("eval", "-r", rules, facts, "--asof", ASOF)
    assert p.returncode == 0, p.out
    assert [r["subject"] for r in json.loads(p.out)] == ["1", "2"]


def test_eval_each(tmp_path):
    rules = tmp_path / "resident.rules"
    rules.write_text(RESIDENT_RULES)
    facts = write_jsonl(tmp_path / "b.jsonl", [
        {"id": "F1", "residents": [{"id": "r1", "ability": 10}, {"id": "r2", "ability": 80}]},
        {"id": "F2", "residents": [{"id": "r3", "ability": 20}]},
    ])
    p = run("eval", "-r", rules, facts, "--asof", ASOF, "--each", "residents")
    assert p.returncode == 0, p.err
    reps = json.loads(p.out)
    assert [r["subject"] for r in reps] == ["r1", "r2", "r3"]
    assert [r["hazards"][0]["status"] for r in reps] == ["present", "absent", "present"]
    # one .json record with --each: the reports still form one array
    one = tmp_path / "one.json"
    one.write_text(json.dumps({"residents": [{"id": "r9", "ability": 5}]}))
    p = run("eval", "-r", rules, one, "--asof", ASOF, "--each", "residents")
    assert [r["subject"] for r in json.loads(p.out)] == ["r9"]
    # PATH that is not a list is that record's error
    bad = write_jsonl(tmp_path / "bad.jsonl", [{"residents": 3}])
    p = run("eval", "-r", rules, bad, "--asof", ASOF, "--each", "residents")
    assert p.returncode == 1
    assert json.loads(p.out)[0]["errors"]


def test_eval_subject(rules, tmp_path):
    facts = write_jsonl(tmp_path / "b.jsonl", [{"id": "ignored", "code": "FJ-XM-7"}])
    p = run("eval", "-r", rules, facts, "--asof", ASOF, "--subject", "code")
    assert p.returncode == 0, p.err
    assert json.loads(p.out)[0]["subject"] == "FJ-XM-7"


def test_eval_stdin(rules):
    text = json.dumps(record(1)) + "\n" + json.dumps(record(2, "D")) + "\n"
    p = run("eval", "-r", rules, "-", "--asof", ASOF, input=text)
    assert p.returncode == 0, p.err
    assert [r["subject"] for r in json.loads(p.out)] == ["1", "2"]
    pretty = json.dumps(record("p", "C"), indent=2)
    p = run("eval", "-r", rules, "-", "--asof", ASOF, "--input", "json", input=pretty)
    assert p.returncode == 0, p.err
    assert json.loads(p.out)["subject"] == "p"


def test_eval_other_extension_by_content(rules, tmp_path):
    lines = tmp_path / "b.txt"
    write_jsonl(lines, [record(1), record(2)])
    assert len(json.loads(run("eval", "-r", rules, lines, "--asof", ASOF).out)) == 2
    pretty = tmp_path / "r.dat"
    pretty.write_text(json.dumps(record("p"), indent=2))
    assert json.loads(run("eval", "-r", rules, pretty, "--asof", ASOF).out)["subject"] == "p"


def test_eval_summary(rules, tmp_path):
    facts = write_jsonl(tmp_path / "b.jsonl", [record(1, "C"), record(2), record(3)])
    (tmp_path / "b.jsonl").open("a").write("oops\n")
    p = run("eval", "-r", rules, facts, "--asof", ASOF, "--summary")
    assert p.returncode == 1
    assert len(json.loads(p.out)) == 4  # stdout stays JSON
    assert "records" in p.err and "H1" in p.err and "facilities" in p.err
    assert "grade risk" in p.err and "red" in p.err and "blue" in p.err
    assert re.search(r"records with errors +1\n", p.err)


def test_eval_summary_with_each_counts_records_and_reports_with_errors(tmp_path):
    rules = tmp_path / "resident.rules"
    rules.write_text(RESIDENT_RULES)
    # F1: one good and two bad residents; F2: residents not a list (one report, its error);
    # F3: fine.
    facts = write_jsonl(tmp_path / "b.jsonl", [
        {"id": "F1", "residents": [{"id": "r1", "ability": 10}, {"id": "r2", "ability": "x"},
                                   {"id": "r3", "ability": "y"}]},
        {"id": "F2", "residents": 3},
        {"id": "F3", "residents": [{"id": "r4", "ability": 20}]},
    ])
    p = run("eval", "-r", rules, facts, "--asof", ASOF, "--each", "residents", "--summary",
            "--format", "jsonl")
    assert p.returncode == 1
    rows = dict(re.findall(r"^  (records|records with errors|reports \(--each\)|"
                           r"reports with errors) +(\d+)$", p.err, re.M))
    assert rows == {"records": "3", "records with errors": "2", "reports (--each)": "5",
                    "reports with errors": "3"}


def test_eval_record_error_exit_code(rules, tmp_path):
    facts = write_jsonl(tmp_path / "b.jsonl", [record(1, "Z")])
    p = run("eval", "-r", rules, facts, "--asof", ASOF)
    assert p.returncode == 1
    assert json.loads(p.out)[0]["errors"][0]["path"] == "/facility/appraisal"


def test_eval_write_failure(rules, tmp_path):
    facts = write_jsonl(tmp_path / "b.jsonl", [record(1)])
    with open("/dev/full", "w") as full:
        p = subprocess.run([BIN, "eval", "-r", str(rules), str(facts), "--asof", ASOF],
                           stdout=full, stderr=subprocess.PIPE, timeout=60)
    assert p.returncode == 1
    assert b"write" in p.stderr


def test_eval_directory_and_missing_facts(rules, tmp_path):
    p = run("eval", "-r", rules, tmp_path, "--asof", ASOF)
    assert p.returncode == 1 and str(tmp_path) in p.err and p.out == ""
    p = run("eval", "-r", rules, tmp_path / "nope.jsonl", "--asof", ASOF)
    assert p.returncode == 1 and "nope.jsonl" in p.err


def test_eval_directory_rules(tmp_path):
    facts = write_jsonl(tmp_path / "b.jsonl", [record(1)])
    p = run("eval", "-r", tmp_path, facts, "--asof", ASOF)
    assert p.returncode == 1 and str(tmp_path) in p.err


def test_eval_rules_do_not_compile(tmp_path):
    bad = tmp_path / "bad.rules"
    bad.write_text("ruleset bad {")
    facts = write_jsonl(tmp_path / "b.jsonl", [record(1)])
    p = run("eval", "-r", bad, facts)
    assert p.returncode == 1 and "bad.rules:" in p.err and p.out == ""


# ---- explain and schema ---------------------------------------------------------------------

def test_explain(rules, tmp_path):
    facts = tmp_path / "one.json"
    facts.write_text(json.dumps(record(1, "C")))
    p = run("explain", "-r", rules, facts, "--rule", "H1", "--asof", ASOF)
    assert p.returncode == 0, p.err
    assert "H1" in p.out and "facility.appraisal" in p.out and "present" in p.out
    p = run("explain", "-r", rules, facts, "--rule", "NOPE", "--asof", ASOF)
    assert p.returncode == 2 and "NOPE" in p.err
    assert run("explain", "-r", rules, facts).returncode == 2  # no --rule


def test_schema(rules):
    p = run("schema", rules)
    assert p.returncode == 0, p.err
    doc = json.loads(p.out)
    assert "2020-12" in doc["$schema"]
    assert "facility" in doc["properties"]


# ---- hostile input --------------------------------------------------------------------------

def assert_clean_failure(p):
    assert p.returncode == 1, (p.returncode, p.err[:500])  # a negative code is a signal
    assert "error" in p.err


def test_hostile_empty_ruleset(tmp_path):
    f = tmp_path / "empty.rules"
    f.write_bytes(b"")
    assert_clean_failure(run("check", f))


def test_hostile_binary_ruleset(tmp_path):
    f = tmp_path / "garbage.rules"
    f.write_bytes(bytes(range(256)) * 64 + b"\x00\xff\xfe" * 100)
    p = run("check", f)
    assert_clean_failure(p)
    assert "\x00" not in p.err


def test_hostile_deep_nesting(tmp_path):
    f = tmp_path / "deep.rules"
    n = 100000
    f.write_text('ruleset x {\n title "t"\n version "1"\n let a = ' + "(" * n + "1" + ")" * n
                 + "\n}\n")
    p = run("check", f)
    assert_clean_failure(p)
    assert "depth" in p.err


def test_hostile_huge_string_literal(tmp_path):
    f = tmp_path / "big.rules"
    with f.open("w") as out:
        out.write('ruleset x {\n title "t"\n version "1"\n let a = "')
        out.write("a" * (50 << 20))
        out.write('"\n}\n')
    p = run("check", f)
    assert_clean_failure(p)
    assert len(p.err) < 10000  # the diagnostic does not echo the literal


def test_hostile_facts(rules, tmp_path):
    facts = tmp_path / "garbage.jsonl"
    facts.write_bytes(b"\xff\xfe\x00garbage\n" + b"[" * 100000 + b"\n" + b"{}\n")
    p = run("eval", "-r", rules, facts, "--asof", ASOF, "--format", "jsonl")
    assert p.returncode == 1
    reps = [json.loads(l) for l in p.out.splitlines()]
    assert len(reps) == 3
    assert "line 1" in reps[0]["errors"][0]["message"]
    assert "line 2" in reps[1]["errors"][0]["message"]
    assert reps[2]["errors"] == []


# ---- decisions and the fast path ------------------------------------------------------------

def test_decisions_lines_say_what_the_full_reports_say(rules, tmp_path):
    recs = [record(i, appraisal="CD"[i % 2] if i % 3 == 0 else "A", beds=i * 13 % 140)
            for i in range(40)]
    recs[5] = {"id": "bad", "facility": {"beds": "many"}}
    path = write_jsonl(tmp_path / "b.jsonl", recs)
    with open(path, "a", encoding="utf-8") as f:
        f.write("[1,\n")
    full = run("eval", "-r", rules, path, "--format", "jsonl", "--asof", "2024-06-01")
    dec = run("eval", "-r", rules, path, "--format", "decisions", "--asof", "2024-06-01")
    assert full.returncode == dec.returncode == 1  # a record has errors
    reports = [json.loads(l) for l in full.stdout.splitlines()]
    lines = [json.loads(l) for l in dec.stdout.splitlines()]
    assert len(lines) == len(reports) == 41
    for r, d in zip(reports, lines):
        assert d["subject"] == r["subject"]
        assert d["present"] == [h["id"] for h in r["hazards"] if h["status"] == "present"]
        assert d["undetermined"] == [h["id"] for h in r["hazards"]
                                     if h["status"] == "undetermined"]
        assert d["grades"] == {k: g["value"] for k, g in r["grades"].items()}
        assert d["errors"] == len(r["errors"])
    assert any(d["present"] for d in lines) and lines[-1]["subject"] is None
    # With --summary the lines come from report objects: the same bytes.
    summ = run("eval", "-r", rules, path, "--format", "decisions", "--asof", "2024-06-01",
               "--summary", "--threads", "2")
    assert summ.stdout == dec.stdout
    assert summ.stderr.strip()  # the summary table


def test_decisions_and_reports_agree_wherever_the_steps_limit_cuts(tmp_path):
    # Decisions and CSV rows are evaluated without traces (the ruleset's decision code),
    # reports with them (the walk): a steps limit must end the same declarations either way.
    sample = ROOT / "examples" / "data" / "institutions.jsonl"
    path = tmp_path / "some.jsonl"
    path.write_text("".join(sample.read_text(encoding="utf-8").splitlines(True)[:12]),
                    encoding="utf-8")
    rules = ROOT / "rulesets" / "institution.rules"
    cut_somewhere = 0
    for steps in [0, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144, 233, 377, 610, 987, 1597, 2584,
                  4181, 6765, 100000000]:
        args = ["eval", "-r", rules, path, "--asof", ASOF, "--limit", f"steps={steps}"]
        full = run(*args, "--format", "jsonl")
        dec = run(*args, "--format", "decisions")
        reports = [json.loads(l) for l in full.stdout.splitlines()]
        lines = [json.loads(l) for l in dec.stdout.splitlines()]
        assert len(lines) == len(reports) == 12
        assert full.returncode == dec.returncode
        for r, d in zip(reports, lines):
            assert d["present"] == [h["id"] for h in r["hazards"] if h["status"] == "present"]
            assert d["undetermined"] == [h["id"] for h in r["hazards"]
                                         if h["status"] == "undetermined"], steps
            assert d["grades"] == {k: g["value"] for k, g in r["grades"].items()}, steps
            assert d["errors"] == len(r["errors"]), steps
            cut_somewhere += any("limit `steps`" in e["message"] for e in r["errors"])
    assert cut_somewhere > 12  # the limit did cut records, at several places


def test_json_array_and_jsonl_are_the_same_reports_on_any_thread_count(rules, tmp_path):
    path = write_jsonl(tmp_path / "b.jsonl", [record(i, beds=i) for i in range(1500)])
    base = run("eval", "-r", rules, path, "--format", "jsonl", "--asof", "2024-06-01",
               "--threads", "1")
    arr = run("eval", "-r", rules, path, "--format", "json", "--asof", "2024-06-01",
              "--threads", "2")
    assert base.returncode == arr.returncode == 0
    assert json.loads(arr.stdout) == [json.loads(l) for l in base.stdout.splitlines()]
    summ = run("eval", "-r", rules, path, "--format", "jsonl", "--asof", "2024-06-01",
               "--summary")  # report objects, the library's other writer
    assert summ.stdout == base.stdout


@pytest.mark.skipif(shutil.which("script") is None, reason="needs script(1) for a terminal")
def test_progress_is_drawn_on_a_terminal_but_not_when_the_output_is_piped(tmp_path):
    # Standard error on a terminal (script(1) gives one); a batch that lasts over a second
    # (progress is drawn after one), however fast the machine: its input pauses midway.
    sample = ROOT / "examples" / "data" / "institutions.jsonl"
    rules = ROOT / "rulesets" / "institution.rules"
    base = (f"{{ cat '{sample}'; sleep 1.5; cat '{sample}'; }} | "
            f"'{BIN}' eval -r '{rules}' - --threads 1 --format csv")
    def terminal(command):
        return subprocess.run(["script", "-qec", command, "/dev/null"], capture_output=True,
                              timeout=300).stdout
    assert b"records evaluated" in terminal(base + f" > '{tmp_path / 'out.csv'}'")
    assert b"records evaluated" not in terminal(base + " | cat > /dev/null")


def test_a_pipe_gets_each_report_line_before_the_input_ends(rules):
    # A long-lived co-process: one record in, its line out, while standard input stays open.
    p = subprocess.Popen([BIN, "eval", "-r", str(rules), "-", "--format", "decisions",
                          "--asof", "2024-06-01"], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, text=True, encoding="utf-8")
    try:
        for i in range(3):
            p.stdin.write(json.dumps(record(i, appraisal="D")) + "\n")
            p.stdin.flush()
            line = p.stdout.readline()
            assert json.loads(line)["subject"] == str(i)
    finally:
        p.stdin.close()
        assert p.wait(timeout=30) == 0


@pytest.mark.parametrize("burst", [511, 512, 1024, 1500])
def test_a_pipe_gets_a_burst_of_records_answered_before_it_sends_more(rules, burst):
    # A co-process that sends a burst (a chunk's worth, 512, among them) and waits for all its
    # answers before sending the next: a full chunk with nothing more ready goes out at once.
    p = subprocess.Popen([BIN, "eval", "-r", str(rules), "-", "--format", "decisions",
                          "--asof", "2024-06-01", "--threads", "2"], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, text=True, encoding="utf-8")
    timer = threading.Timer(60, p.kill)  # a stall fails the test instead of hanging it
    timer.start()
    try:
        for round_ in range(2):
            p.stdin.write("".join(json.dumps(record(round_ * burst + i)) + "\n"
                                  for i in range(burst)))
            p.stdin.flush()
            got = [json.loads(p.stdout.readline())["subject"] for _ in range(burst)]
            assert got == [str(round_ * burst + i) for i in range(burst)]
    finally:
        timer.cancel()
        p.stdin.close()
        assert p.wait(timeout=30) == 0


def test_csv_rows_are_the_same_from_the_fast_path_and_from_reports(rules, tmp_path):
    recs = [record(i, appraisal="ABCD"[i % 4], beds=i * 17 % 200) for i in range(700)]
    recs[3] = {"id": 'quote "and", comma', "facility": {"beds": "x"}}
    path = write_jsonl(tmp_path / "b.jsonl", recs)
    with open(path, "a", encoding="utf-8") as f:
        f.write("{broken\n")
    fast = run("eval", "-r", rules, path, "--format", "csv", "--asof", "2024-06-01",
               "--threads", "2")
    slow = run("eval", "-r", rules, path, "--format", "csv", "--asof", "2024-06-01",
               "--summary")  # --summary needs report objects: the other writer
    assert fast.returncode == slow.returncode == 1
    assert fast.stdout == slow.stdout
    text = fast.stdout.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[0][0] == "subject" and len(rows) == 1 + 701
    assert rows[4][0] == 'quote "and", comma' and rows[4][-1] == "1"
    assert rows[-1][0] == "" and rows[-1][-1] == "1"  # the unreadable line keeps its row
    empty = tmp_path / "empty.jsonl"
    empty.write_text("", encoding="utf-8")
    none = run("eval", "-r", rules, empty, "--format", "csv", "--asof", "2024-06-01")
    assert none.stdout.decode("utf-8-sig").splitlines() == [",".join(rows[0])]  # header only


@pytest.mark.parametrize("command", [
    ["eval", "--summary", "--by"], ["eval", "--subject"], ["eval", "--each"],
    ["report", "--out", "{tmp}/pages", "--by"], ["report", "--out", "{tmp}/pages", "--name"],
])
@pytest.mark.parametrize("path", ["", "a..b", ".a", "region.", "a\tb"])
def test_path_options_that_are_not_dotted_paths_are_usage_errors(command, path, tmp_path):
    # Before, `--by a..b` put every record in the "not given" group without a word.
    args = [c.replace("{tmp}", str(tmp_path)) for c in command]
    p = run(args[0], "-r", ROOT / "rulesets" / "institution.rules",
            ROOT / "examples" / "data" / "institutions.jsonl", *args[1:], path)
    assert p.returncode == 2 and "needs a dotted path" in p.err, p.err
