#!/usr/bin/env python3
"""Records per second of the Python module next to the CLI, on the sample data, in one run.

    PYTHONPATH=build/python /usr/bin/python3 bench/python_bench.py [--repeat 25] [--threads 1,0]

The sample (examples/data/institutions.jsonl) is repeated --repeat times so that each timing
covers thousands of records; each figure is the best of --rounds runs. Rows:
  cli eval --format jsonl      build/bin/carerules on the same records (process start included)
  evaluate_many(dicts)         dicts from json.loads (parsing not timed) -> report dicts
  evaluate_many(json text)     the JSON lines themselves -> report dicts
  evaluate_json(dicts)         dicts -> the engine's JSON text per report (no report dicts)
  evaluate_frame(DataFrame)    json_normalize'd frame (not timed) -> result frame
The last column compares each row with the CLI at the same thread count. Converting Python
objects is cheap when "evaluate_many(dicts)" is close to "evaluate_many(json text)" (which
parses JSON in C++, as the CLI does).
"""

import argparse
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time

import pandas as pd

import carerules

REPO = pathlib.Path(__file__).resolve().parents[1]


def best_of(rounds, fn):
    best = float("inf")
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def find_cli(arg):
    if arg:
        return arg
    here = pathlib.Path(carerules.__file__).resolve().parents[2] / "bin" / "carerules"
    for p in (here, REPO / "build" / "bin" / "carerules"):
        if p.exists():
            return str(p)
    return None


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rules", default=str(REPO / "rulesets" / "institution.rules"))
    ap.add_argument("--data", default=str(REPO / "examples" / "data" / "institutions.jsonl"))
    ap.add_argument("--repeat", type=int, default=25, help="copies of the sample (default 25)")
    ap.add_argument("--rounds", type=int, default=3, help="best of N (default 3)")
    ap.add_argument("--threads", default="1,0", help="thread counts, 0 = every core")
    ap.add_argument("--asof", default="2024-06-01")
    ap.add_argument("--cli", default=None, help="path of the carerules CLI")
    args = ap.parse_args(argv)

    rs = carerules.load(args.rules)
    with open(args.data, encoding="utf-8") as f:
        lines = [line.rstrip("\n") for line in f if line.strip()]
    lines = lines * args.repeat
    dicts = [json.loads(line) for line in lines]
    df = pd.json_normalize(dicts, max_level=10)
    n = len(lines)
    threads = [int(t) for t in args.threads.split(",")]
    cli = find_cli(args.cli)

    print(f"ruleset {rs.name} {rs.version} ({os.path.relpath(args.rules)}); "
          f"{n} records ({len(lines) // args.repeat} x {args.repeat}); "
          f"best of {args.rounds}; {os.cpu_count()} cores")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        data = pathlib.Path(tmp) / "records.jsonl"
        data.write_text("\n".join(lines) + "\n", encoding="utf-8")
        for t in threads:
            cli_rate = None
            if cli:
                cmd = [cli, "eval", "-r", args.rules, str(data), "--format", "jsonl",
                       "--asof", args.asof, "--threads", str(t)]

                def run_cli():
                    with open(os.devnull, "wb") as null:
                        rc = subprocess.run(cmd, stdout=null, stderr=subprocess.DEVNULL).returncode
                    if rc not in (0, 1):  # 1: some record has errors
                        raise RuntimeError(f"{' '.join(cmd)} exited {rc}")

                cli_rate = n / best_of(args.rounds, run_cli)
                rows.append(("cli eval --format jsonl", t, cli_rate, cli_rate))
            cases = [
                ("evaluate_many(dicts)",
                 lambda: rs.evaluate_many(dicts, threads=t, asof=args.asof)),
                ("evaluate_many(json text)",
                 lambda: rs.evaluate_many(lines, threads=t, asof=args.asof)),
                ("evaluate_json(dicts)",
                 lambda: rs._core.evaluate_json(dicts, args.asof, "", "", t)),
                ("evaluate_frame(DataFrame)",
                 lambda: rs.evaluate_frame(df, threads=t, asof=args.asof)),
            ]
            for label, fn in cases:
                fn()  # warm up (first-use allocations, the frame layout)
                rows.append((label, t, n / best_of(args.rounds, fn), cli_rate))

    print()
    print(f"{'what':<28} {'threads':>7} {'records/s':>11} {'vs CLI':>7}")
    print(f"{'-' * 28} {'-' * 7} {'-' * 11} {'-' * 7}")
    for label, t, rate, cli_rate in rows:
        vs = f"{rate / cli_rate:6.2f}x" if cli_rate else "     -"
        print(f"{label:<28} {('all' if t == 0 else t):>7} {rate:11,.0f} {vs:>7}")
    if not cli:
        print("\n(no CLI found: build it, or pass --cli PATH)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
