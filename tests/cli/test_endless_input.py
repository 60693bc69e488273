"""Endless and binary inputs: every read stops at its limit, in bounded time, with an error
that names the limit, and every record read before the stop keeps its report.

Each command runs under a timeout: a hang fails the test instead of stalling the suite.
"""

import json
import os
import pathlib
import subprocess
import threading

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = os.environ.get("CARERULES_BIN", str(ROOT / "build" / "bin" / "carerules"))
ASOF = "2024-06-01"
BUNDLE = str(ROOT / "rulesets" / "institution.rules")


def run(*args, timeout=60):
    return subprocess.run([BIN, *map(str, args)], capture_output=True, timeout=timeout)


@pytest.mark.parametrize("command", [["check"], ["schema"], ["test"]])
def test_a_ruleset_from_dev_zero_stops_at_source_bytes(command):
    p = run(*command, "/dev/zero", "--limit", "source_bytes=100000")
    assert p.returncode == 1
    assert b"source_bytes" in p.stderr


def test_eval_with_rules_from_dev_zero_stops_at_source_bytes():
    p = run("eval", "-r", "/dev/zero", ROOT / "examples" / "data" / "institutions.jsonl")
    assert p.returncode == 1
    assert b"source_bytes" in p.stderr
    assert p.stdout == b""


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_binary_facts_are_refused_at_once(device):
    p = run("eval", "-r", BUNDLE, device, "--asof", ASOF, timeout=30)
    assert p.returncode == 1
    assert b"not JSON text: a NUL byte" in p.stderr
    assert json.loads(p.stdout) == []


def test_one_record_from_dev_zero_stops_at_twice_line_bytes():
    p = run("eval", "-r", BUNDLE, "/dev/zero", "--input", "json", "--asof", ASOF,
            "--limit", "line_bytes=100000")
    assert p.returncode == 1
    rep = json.loads(p.stdout)
    # nothing was read, but the report keeps its shape: every hazard undetermined
    assert rep["subject"] is None and len(rep["hazards"]) == 8
    assert {h["status"] for h in rep["hazards"]} == {"undetermined"}
    message = rep["errors"][0]["message"]
    assert "more than" in message and "line_bytes (100000)" in message


def test_a_fifo_that_never_sends_a_newline_is_cut_off(tmp_path):
    fifo = tmp_path / "facts.fifo"
    os.mkfifo(fifo)
    record = json.dumps({"id": "first", "facility": {"beds": 10}}).encode() + b"\n"

    def produce():
        # One good record, then bytes without end until the reader goes away.
        try:
            with open(fifo, "wb") as f:
                f.write(record)
                chunk = b"x" * 65536
                for _ in range(100000):  # 6.5 GB at most: far past the bound below
                    f.write(chunk)
        except (BrokenPipeError, OSError):
            pass

    writer = threading.Thread(target=produce, daemon=True)
    writer.start()
    p = run("eval", "-r", BUNDLE, fifo, "--format", "jsonl", "--asof", ASOF,
            "--limit", "line_bytes=1000000", timeout=60)
    writer.join(timeout=30)
    assert p.returncode == 1
    lines = p.stdout.decode().splitlines()
    assert len(lines) == 2
    assert json.loads(lines[0])["subject"] == "first"
    cut = json.loads(lines[1])
    assert "line 2: line of more than" in cut["errors"][0]["message"]
    assert b"has no end" in p.stderr and b"line_bytes 1000000" in p.stderr


def test_a_long_line_that_ends_is_one_record_error_and_the_batch_goes_on(tmp_path):
    facts = tmp_path / "f.jsonl"
    long_line = json.dumps({"id": "big", "pad": "y" * 5000})
    facts.write_text(long_line + "\n" + json.dumps({"id": "after"}) + "\n")
    p = run("eval", "-r", BUNDLE, facts, "--format", "jsonl", "--asof", ASOF,
            "--limit", "line_bytes=1000")
    assert p.returncode == 1
    reps = [json.loads(x) for x in p.stdout.decode().splitlines()]
    assert [r["subject"] for r in reps] == [None, "after"]
    assert "line 1: line of 50" in reps[0]["errors"][0]["message"]


def test_one_output_per_line_even_for_a_byte_order_mark_alone(tmp_path):
    facts = tmp_path / "f.jsonl"
    facts.write_bytes(b'{"id": "a", "junk": 1e99999999999999999999}\n[1,\n\xef\xbb\xbf\n\n{"id": "b"}\n')
    p = run("eval", "-r", BUNDLE, facts, "--format", "jsonl", "--asof", ASOF)
    reps = [json.loads(x) for x in p.stdout.decode().splitlines()]
    assert [r["subject"] for r in reps] == ["a", None, None, "b"]  # the blank line has none
    assert reps[0]["errors"] == [] and len(reps[0]["hazards"]) == 8  # an unread bad number
    assert reps[1]["errors"][0]["message"].startswith("line 2: invalid JSON at 1:4")
    assert reps[2]["errors"][0]["message"].startswith("line 3: ")


def _peak_rss_kib_of_stream(records, threads):
    """Streams `records` lines of varied length (an undeclared note of 0 to 3 000 bytes; one
    line in 50 a short one that is not JSON) into `eval -` and returns the process's peak
    resident memory in KiB and its output lines."""
    rules = ROOT / "bench" / "peers" / "workload.rules"
    p = subprocess.Popen([BIN, "eval", "-r", str(rules), "-", "--asof", ASOF,
                          "--format", "decisions", "--threads", str(threads)],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)

    def feed():
        try:
            for i in range(records):
                if i % 50 == 49:
                    p.stdin.write(b"not json\n")
                    continue
                note = "x" * ((i * 7919) % 3001)
                p.stdin.write(('{"id": "S%d", "note": "%s", "areas": {"fire": {"L": 1, "E": 1, '
                               '"C": %d}}}\n' % (i, note, i % 400)).encode())
        finally:
            p.stdin.close()

    t = threading.Thread(target=feed)
    t.start()
    lines = 0
    for _ in p.stdout:
        lines += 1
    t.join()
    _, status, usage = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    assert p.returncode == 1  # the lines that are not JSON
    return usage.ru_maxrss, lines


@pytest.mark.parametrize("threads", [1, 2])
def test_memory_does_not_grow_with_the_length_of_a_stream(threads):
    # Four times the records must not take more memory: what a chunk held is reused or freed
    # before the next. (A reader that kept each chunk's texts grew by about 0.7 KB a record;
    # one that kept short texts among them stopped reusing the rest.)
    short, n_short = _peak_rss_kib_of_stream(30_000, threads)
    long, n_long = _peak_rss_kib_of_stream(120_000, threads)
    assert (n_short, n_long) == (30_000, 120_000)
    assert long - short < 16 * 1024, (short, long)
