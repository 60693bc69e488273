#!/usr/bin/env python3
"""Records per second of the Python module next to the CLI, on the sample data, in one run.

    PYTHONPATH=build/python /usr/bin/python3 bench/python_bench.py [--repeat 25] [--threads 1,0]

The sample (examples/data/institutions.jsonl) is repeated --repeat times so that each timing
covers thousands of records; each figure is the best of --rounds runs. Rows:
  cli eval --format jsonl      build/bin/carerules on the same records (process start included)
  cli eval --format csv        the same, writing the columns evaluate_frame gives
  evaluate_many(dicts)         dicts from json.loads (parsing not timed) -> report dicts
  evaluate_many(json text)     the JSON lines themselves -> report dicts
  evaluate_json(dicts)         dicts -> the engine's JSON text per report (no report dicts)
  evaluate_frame(DataFrame)    json_normalize'd frame (not timed) -> result frame
The last column compares each row with the CLI at the same thread count. Converting Python
objects is cheap when "evaluate_many(dicts)" is close to "evaluate_many(json text)" (which
parses JSON in C++, as the CLI does).

Three more sections (--sections sample,dask,pandas,ledger; the first three by default):
  dask     --dask-rows (1 000 000) generated residents through the capability ruleset
           (rulesets/capability/gbt42195.rules): evaluate_frame in this process, then
           carerules.dask.evaluate on a distributed.LocalCluster of 1 and 2 worker processes
           (one thread each). Each partition is generated on its worker and the result is
           reduced there (a count of each level), so the figure is evaluation, not transfer.
  pandas   --frame-rows (1 000 000) generated institutions through the four-colour area logic
           of rulesets/risk/four_color.rules (LEC and risk-matrix bands per area, the worst
           area; without its import of the hazard standard): evaluate_frame against the same
           logic written by hand as vectorised pandas/numpy, with both answers checked equal.
  ledger   the sample's reports recorded as a round of a new ledger: Ledger.record of the
           report dicts evaluate_many gave and of their JSON text, next to evaluate_many
           itself and `carerules ledger record --reports` on the same text.
"""

import argparse
import datetime
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


# ------------------------------------------------------------------------ dask section

CAPABILITY = REPO / "rulesets" / "capability" / "gbt42195.rules"


def residents(n, seed, items):
    """n generated residents for the capability ruleset: every item scored, coma, a
    dementia diagnosis for one in twenty, no care-risk events."""
    import numpy as np
    rng = np.random.default_rng(seed)
    cols = {"id": [f"P{seed:04d}-{i:07d}" for i in range(n)]}
    for path, hi in items:
        cols[path] = rng.integers(0, hi + 1, n, dtype=np.int64)
    cols["coma"] = rng.random(n) < 0.01
    none, dementia = [], [{"code": "F01", "by_psychiatrist": False}]
    cols["diagnoses"] = [dementia if x < 0.05 else none for x in rng.random(n)]
    cols["risk_events"] = [none] * n
    return pd.DataFrame(cols)


def _level_counts(frame):
    return frame["grade.capability_level"].astype(str).value_counts()


def dask_section(args, rows):
    try:
        import dask
        import dask.dataframe as dd
        import distributed
    except ImportError:
        print("\n(dask section skipped: dask or distributed is not installed)")
        return
    import carerules.dask

    rs = carerules.load(CAPABILITY)
    items = [(i["path"], i["range"][1]) for i in rs.inputs if i["type"] == "int"]
    n = args.dask_rows
    parts = args.partitions
    per = -(-n // parts)
    sizes = [min(per, n - k * per) for k in range(parts) if n - k * per > 0]
    whole = pd.concat([residents(m, k, items) for k, m in enumerate(sizes)], ignore_index=True)

    def single():
        return _level_counts(rs.evaluate_frame(whole, asof=args.asof, threads=1))

    want = single()
    rows.append(("evaluate_frame, 1 process", "capability", n,
                 n / best_of(args.rounds, single), None))
    del whole
    meta = residents(1, 0, items).iloc[:0]
    for workers in args.workers:
        with distributed.LocalCluster(n_workers=workers, processes=True, threads_per_worker=1,
                                      dashboard_address=None, silence_logs=50) as cluster, \
                distributed.Client(cluster):
            ddf = dd.from_delayed([dask.delayed(residents)(m, k, items)
                                   for k, m in enumerate(sizes)], meta=meta)
            ddf = ddf.persist()  # generated on the workers, kept there: not timed
            distributed.wait(ddf)
            day = iter(range(1, 1000))

            def run():
                # New task names each time (the graph's names come from its arguments, and a
                # result still held by the scheduler would be handed back at once): the date
                # moves by a day, which changes nothing here, as no resident has care-risk
                # events.
                asof = (datetime.date.fromisoformat(args.asof)
                        + datetime.timedelta(days=next(day))).isoformat()
                lazy = carerules.dask.evaluate(ddf, rs, asof=asof)
                return lazy["grade.capability_level"].astype(str).value_counts().compute()

            got = run()
            assert got.sort_index().equals(want.sort_index()), "dask and pandas disagree"
            rate = n / best_of(args.rounds, run)
            rows.append((f"dask, {workers} worker{'s' if workers > 1 else ''}", "capability",
                         n, rate, None))


# ---------------------------------------------------------------------- pandas section

AREAS = ["fire", "food", "facilities", "emergency"]
L_VALUES = [10, 6, 3, 1, 0.5, 0.2, 0.1]
E_VALUES = [10, 6, 3, 2, 1, 0.5]
C_VALUES = [100, 40, 15, 7, 3, 1]
COLOURS = ["blue", "yellow", "orange", "red"]


def four_colour_rules():
    """The area logic of rulesets/risk/four_color.rules, without the hazard import."""
    def area(a):
        return f"""
  let {a}_has_lec    = exists(areas.{a}.L) or exists(areas.{a}.E) or exists(areas.{a}.C)
  let {a}_has_matrix = exists(areas.{a}.likelihood) or exists(areas.{a}.severity)
  let {a}_by_lec     = lec_band(areas.{a}.L * areas.{a}.E * areas.{a}.C)
  let {a}_by_matrix  = matrix_band(areas.{a}.likelihood * areas.{a}.severity)
  let {a}_colour     = if {a}_has_lec and not {a}_has_matrix then {a}_by_lec
                       else if {a}_has_matrix and not {a}_has_lec then {a}_by_matrix
                       else max({a}_by_lec, {a}_by_matrix)"""
    inputs = "".join(f"""
    areas.{a}.L          : enum({", ".join(map(str, L_VALUES))})
    areas.{a}.E          : enum({", ".join(map(str, E_VALUES))})
    areas.{a}.C          : enum({", ".join(map(str, C_VALUES))})
    areas.{a}.likelihood : int in 1..5
    areas.{a}.severity   : int in 1..5""" for a in AREAS)
    return f"""ruleset bench_four_colour {{
  title "four-colour area logic (bench)"
  version "1"
  input {{{inputs}
  }}
  table lec_band(D: number) -> color {{
    when D >= 320 => red
    when D >= 160 => orange
    when D >= 70  => yellow
    otherwise     => blue
  }}
  table matrix_band(R: int) -> color {{
    when R >= 20 => red
    when R >= 15 => orange
    when R >= 9  => yellow
    otherwise    => blue
  }}
{"".join(area(a) for a in AREAS)}
  let worst = max({", ".join(a + "_colour" for a in AREAS)})
  grade risk : color {{
    red    when worst == red
    orange when worst == orange
    yellow when worst == yellow
    blue   when worst == blue
  }}
}}
"""


def institutions(n, seed=11):
    """n generated institutions: each area assessed by LEC, by the matrix, or by both."""
    import numpy as np
    rng = np.random.default_rng(seed)
    cols = {"id": [f"I{i:07d}" for i in range(n)]}
    for a in AREAS:
        how = rng.integers(0, 3, n)  # 0 LEC only, 1 matrix only, 2 both
        lec, mat = how != 1, how != 0
        for name, values in (("L", L_VALUES), ("E", E_VALUES), ("C", C_VALUES)):
            v = rng.choice(np.array(values, dtype=float), n)
            cols[f"areas.{a}.{name}"] = np.where(lec, v, np.nan)
        for name in ("likelihood", "severity"):
            v = rng.integers(1, 6, n).astype(float)
            cols[f"areas.{a}.{name}"] = np.where(mat, v, np.nan)
    return pd.DataFrame(cols)


def four_colour_pandas(df):
    """What a data scientist would write instead: the same bands with numpy, per area, then
    the worst area. Products are rounded to 6 decimals, as the engine computes exactly."""
    import numpy as np
    worst = None
    for a in AREAS:
        L, E, C = (df[f"areas.{a}.{x}"] for x in ("L", "E", "C"))
        like, sev = df[f"areas.{a}.likelihood"], df[f"areas.{a}.severity"]
        D = (L * E * C).round(6)
        R = like * sev
        lec = np.select([D >= 320, D >= 160, D >= 70], [3, 2, 1], 0)
        mat = np.select([R >= 20, R >= 15, R >= 9], [3, 2, 1], 0)
        has_lec = (L.notna() | E.notna() | C.notna()).to_numpy()
        has_mat = (like.notna() | sev.notna()).to_numpy()
        colour = np.where(has_lec & ~has_mat, lec,
                          np.where(has_mat & ~has_lec, mat, np.maximum(lec, mat)))
        worst = colour if worst is None else np.maximum(worst, colour)
    return pd.Categorical.from_codes(worst, categories=COLOURS, ordered=True)


def pandas_section(args, rows):
    rs = carerules.compile(four_colour_rules(), name="bench_four_colour.rules")
    n = args.frame_rows
    df = institutions(n)
    engine = rs.evaluate_frame(df, asof=args.asof)["grade.risk"]
    by_hand = four_colour_pandas(df)
    if list(engine.astype(str)) != list(by_hand.astype(str)):
        raise AssertionError("evaluate_frame and the pandas implementation disagree")
    for t in args.thread_list:
        rate = n / best_of(args.rounds, lambda: rs.evaluate_frame(df, asof=args.asof, threads=t))
        rows.append((f"evaluate_frame, threads {'all' if t == 0 else t}", "four-colour", n,
                     rate, None))
    rate = n / best_of(args.rounds, lambda: four_colour_pandas(df))
    rows.append(("vectorised pandas by hand", "four-colour", n, rate, None))


def ledger_section(args):
    rs = carerules.load(args.rules)
    with open(args.data, encoding="utf-8") as f:
        sample = [json.loads(line) for line in f if line.strip()]
    # each copy of the sample under its own names: a round holds one report per subject
    dicts = [{**d, "id": f"{d['id']}-{k}"} for k in range(args.repeat) for d in sample]
    n = len(dicts)
    reports = rs.evaluate_many(dicts, asof=args.asof)
    texts = [json.dumps(r, ensure_ascii=False) for r in reports]
    cli = find_cli(args.cli)
    print(f"\nledger: a round of {n} reports into a new ledger; best of {args.rounds}")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        runs = iter(range(10**6))

        def fresh():
            return tmp / f"l{next(runs)}.db"

        rows = [("evaluate_many(dicts)", lambda: rs.evaluate_many(dicts, asof=args.asof)),
                ("Ledger.record(report dicts)",
                 lambda: carerules.Ledger(fresh()).record(reports, round="R1")),
                ("Ledger.record(JSON texts)",
                 lambda: carerules.Ledger(fresh()).record(texts, round="R1"))]
        if cli:
            path = tmp / "reports.jsonl"
            path.write_text("".join(t + "\n" for t in texts), encoding="utf-8")
            rows.append(("cli ledger record --reports", lambda: subprocess.run(
                [cli, "ledger", "record", "--db", str(fresh()), "--round", "R1", "--reports",
                 str(path)], capture_output=True)))
        for label, fn in rows:
            print(f"  {label:<30} {n / best_of(args.rounds, fn):11,.0f} records/s")


def print_data_rows(rows):
    if not rows:
        return
    print()
    print(f"{'what':<30} {'ruleset':<12} {'rows':>9} {'records/s':>11} {'ratio':>7}")
    print(f"{'-' * 30} {'-' * 12} {'-' * 9} {'-' * 11} {'-' * 7}")
    first = {}
    for label, which, n, rate, _ in rows:
        base = first.setdefault(which, rate)
        print(f"{label:<30} {which:<12} {n:>9,} {rate:11,.0f} {rate / base:6.2f}x")
    print("(ratio: against the first row of the same ruleset)")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rules", default=str(REPO / "rulesets" / "institution.rules"))
    ap.add_argument("--data", default=str(REPO / "examples" / "data" / "institutions.jsonl"))
    ap.add_argument("--repeat", type=int, default=25, help="copies of the sample (default 25)")
    ap.add_argument("--rounds", type=int, default=3, help="best of N (default 3)")
    ap.add_argument("--threads", default="1,0", help="thread counts, 0 = every core")
    ap.add_argument("--asof", default="2024-06-01")
    ap.add_argument("--cli", default=None, help="path of the carerules CLI")
    ap.add_argument("--sections", default="sample,dask,pandas",
                    help="which sections to run (default: sample,dask,pandas)")
    ap.add_argument("--dask-rows", type=int, default=1_000_000)
    ap.add_argument("--partitions", type=int, default=16, help="dask partitions (default 16)")
    ap.add_argument("--workers", default="1,2", help="dask worker processes to try")
    ap.add_argument("--frame-rows", type=int, default=1_000_000)
    args = ap.parse_args(argv)
    args.workers = [int(w) for w in args.workers.split(",")]
    args.thread_list = [int(t) for t in args.threads.split(",")]
    sections = set(args.sections.split(","))
    if "sample" in sections:
        sample_section(args)
    if "ledger" in sections:
        ledger_section(args)
    data_rows = []
    if "pandas" in sections:
        pandas_section(args, data_rows)
    if "dask" in sections:
        dask_section(args, data_rows)
    print_data_rows(data_rows)
    return 0


def sample_section(args):

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
                # The CSV the frame is compared with (evaluate_frame gives the same columns).
                cmd = cmd[:cmd.index("--format") + 1] + ["csv"] + cmd[cmd.index("--format") + 2:]
                rows.append(("cli eval --format csv", t, n / best_of(args.rounds, run_cli),
                             cli_rate))
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


if __name__ == "__main__":  # (the guard matters: dask's workers are spawned processes)
    sys.exit(main())
