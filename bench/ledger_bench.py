#!/usr/bin/env python3
"""Ledger bench (not a test): records R rounds of N institutions through `carerules ledger
record` (the peers' style of record: 8 hazards each, about 15 % with a hazard present) and
times `status` and `diff` over the result.

    /usr/bin/python3 bench/ledger_bench.py [--records 100000] [--rounds 3] [--bin build/bin/carerules]

With --bundle N it records instead N institutions with their residents from
examples/data/generate.py (about 7.4 KB each) against the shipped rulesets/institution.rules,
three rounds of one ledger, each next to `eval --format jsonl` on the same file.

`eval` is timed twice: its reports discarded (to /dev/null) and written to a file, as a user
keeps them (not synced to the disk, where the ledger's round is).
"""

import argparse
import json
import os
import pathlib
import random
import subprocess
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
RULES = """ruleset bench_ledger {
  title "ledger bench" version "1"
  input { id : string  h : list<string> }
HAZARDS
}
"""


def time_eval(bin_, rules, facts, asof, out_file):
    """`eval --format jsonl` on FACTS, its reports discarded, then written to OUT_FILE (what a
    user keeps; not synced): the two times in seconds."""
    cmd = [bin_, "eval", "-r", str(rules), str(facts), "--asof", asof, "--format", "jsonl"]
    t = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL)  # exit 1 when some records have errors
    discarded = time.perf_counter() - t
    with open(out_file, "wb") as f:
        t = time.perf_counter()
        subprocess.run(cmd, stdout=f)
        written = time.perf_counter() - t
    os.unlink(out_file)
    return discarded, written


def ratios(record, discarded, written):
    return (f"eval --format jsonl {discarded:.2f} s to /dev/null, {written:.2f} s to a file; "
            f"record/eval {record / discarded:.2f} and {record / written:.2f}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--bin", default=str(ROOT / "build" / "bin" / "carerules"))
    ap.add_argument("--present-share", type=float, default=None,
                    help="instead of the drift of a campaign, each hazard present with this "
                         "probability in every round (0.6 over 200 000 institutions and two "
                         "rounds makes about 1.3 million findings)")
    ap.add_argument("--bundle", type=int, default=None, metavar="N",
                    help="record N generated institutions against the shipped bundle instead")
    args = ap.parse_args()
    if args.bundle:
        return bundle(args)
    hazards = "\n".join(f'  hazard H{k} "hazard {k}" {{ cite "clause {k}" when "H{k}" in h '
                        f'rectify deadline within 30 days }}' for k in range(8))
    rng = random.Random(1)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        (tmp / "b.rules").write_text(RULES.replace("HAZARDS", hazards), encoding="utf-8")
        db = tmp / "ledger.db"
        present = [set() for _ in range(args.records)]
        print(f"{args.records} institutions x 8 hazards, {args.rounds} rounds, "
              f"{os.cpu_count()} cores")
        for r in range(args.rounds):
            for i in range(args.records):  # a few new defects, most old ones put right
                if args.present_share is not None:
                    present[i] = {f"H{k}" for k in range(8) if rng.random() < args.present_share}
                    continue
                if rng.random() < 0.15:
                    present[i].add(f"H{rng.randrange(8)}")
                present[i] = {h for h in sorted(present[i]) if rng.random() < 0.4}
            path = tmp / f"r{r}.jsonl"
            with open(path, "w", encoding="utf-8") as f:
                for i in range(args.records):
                    f.write(json.dumps({"id": f"S{i}", "h": sorted(present[i])}) + "\n")
            asof = f"2024-{r + 1:02d}-01"
            # the target: record as fast as eval writes the reports
            ev, ev_file = time_eval(args.bin, tmp / "b.rules", path, asof, tmp / "reports.jsonl")
            t = time.perf_counter()
            subprocess.run([args.bin, "ledger", "record", "--db", str(db), "--round", f"R{r}",
                            "-r", str(tmp / "b.rules"), str(path), "--asof",
                            asof], check=True, capture_output=True)
            dt = time.perf_counter() - t
            print(f"record round R{r}: {dt:.2f} s, {args.records / dt:,.0f} reports/s; "
                  + ratios(dt, ev, ev_file))
        for what, cmd in (("status", ["status", "--asof", "2024-12-31", "--format", "json"]),
                          ("diff", ["diff", "--from", "R0", "--to", f"R{args.rounds - 1}",
                                    "--format", "json"])):
            t = time.perf_counter()
            out = subprocess.run([args.bin, "ledger", *cmd, "--db", str(db)], check=True,
                                 capture_output=True).stdout
            dt = time.perf_counter() - t
            extra = ""
            if what == "status":
                total = json.loads(out)["total"]
                extra = f" ({sum(total.values()) - total['rebound']:,} findings)"
            print(f"{what}: {dt:.2f} s{extra}")
        print(f"ledger file: {db.stat().st_size / 2**20:.1f} MiB")


def bundle(args):
    rules = ROOT / "rulesets" / "institution.rules"
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        facts = tmp / "bundle.jsonl"
        subprocess.run(["/usr/bin/python3", str(ROOT / "examples" / "data" / "generate.py"),
                        "--count", str(args.bundle), "--out", str(facts)], check=True)
        print(f"{args.bundle} institutions with residents "
              f"({facts.stat().st_size / args.bundle / 1024:.1f} KiB each), {os.cpu_count()} cores")
        db = tmp / "bundle.db"
        for k in range(3):  # three rounds of one ledger (the first one creates the file)
            t = time.perf_counter()
            subprocess.run([args.bin, "ledger", "record", "--db", str(db), "--round", f"R{k + 1}",
                            "-r", str(rules), str(facts), "--asof", f"2024-0{k + 6}-01"],
                           capture_output=True)  # exit 1: some generated records have errors
            dt = time.perf_counter() - t
            ev, ev_file = time_eval(args.bin, rules, facts, f"2024-0{k + 6}-01",
                                    tmp / "reports.jsonl")
            print(f"record round R{k + 1}: {dt:.2f} s, {args.bundle / dt:,.0f} reports/s; "
                  + ratios(dt, ev, ev_file))


if __name__ == "__main__":
    main()
