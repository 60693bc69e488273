"""The side-by-side benchmark's workload stays right: its ruleset's tests pass, and the CLI
agrees with the Python reference of bench/peers/gen.py on every generated record."""

import json
import os
import pathlib
import subprocess

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = os.environ.get("CARERULES_BIN", str(ROOT / "build" / "bin" / "carerules"))
ORDER = ["A4.1", "A4.2", "A4.3", "A4.4", "A5.1", "A5.2", "A5.3", "A2"]


def test_the_workload_ruleset_agrees_with_the_reference(tmp_path):
    rules = ROOT / "bench" / "peers" / "workload.rules"
    t = subprocess.run([BIN, "test", str(rules)], capture_output=True, text=True, timeout=60)
    assert t.returncode == 0, t.stdout + t.stderr
    subprocess.run(["/usr/bin/python3", str(ROOT / "bench" / "peers" / "gen.py"), "--n", "3000",
                    "--out", str(tmp_path)], check=True, capture_output=True, timeout=120)
    p = subprocess.run([BIN, "eval", "-r", str(rules), str(tmp_path / "records.jsonl"), "--asof",
                        "2024-06-01", "--format", "decisions"], capture_output=True, text=True,
                       timeout=120)
    assert p.returncode == 0, p.stderr
    got = []
    for line in p.stdout.splitlines():
        d = json.loads(line)
        assert d["errors"] == 0 and d["undetermined"] == []
        hazards = ",".join(h for h in ORDER if h in d["present"])
        got.append(f"{d['subject']}|{hazards}|{d['grades']['colour']}")
    expected = (tmp_path / "expected.txt").read_text(encoding="utf-8").splitlines()
    assert len(got) == 3000 and got == expected
    # The records reach every hazard and every colour, so the check means something.
    assert all(any(h in line.split("|")[1] for line in expected) for h in ORDER)
    assert {line.split("|")[2] for line in expected} == {"red", "orange", "yellow", "blue"}
