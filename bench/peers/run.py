#!/usr/bin/python3
"""carerules side by side with the hand-written limit and its peers, on one workload, in one run.

    /usr/bin/python3 bench/peers/run.py [--n 100000] [--build build-release]

`make bench` runs it. The workload (bench/peers/gen.py): N institutions, eight major hazards,
four area colours by LEC and the risk matrix, the institution's colour. Every system writes one
result line per record (`id|hazards|colour`) and is checked against the Python reference on
every record; a system that disagrees is marked and its time not compared. Each harness runs
pinned to one CPU (`taskset -c CPU`), warms up on the first 5 000 records, and times one pass
over all of them:

  eval  the records already in the system's own form (parsed objects, bound facts, a struct);
  e2e   JSON text in, an answer out (the JSON `{"id", "hazards", "colour"}`), per record.

The CLI rows are timed from outside, process start, compiling and file I/O included.
A second, heavier workload is the shipped bundle (rulesets/institution.rules: hazards,
four-colour risk, GB/T 37276 levels) over generated institutions with their residents;
only carerules runs it.

Peers (installed by bench/peers/install-peers.sh, never by this script): CLIPS 6.30 through its
C API (Debian libclips-dev), and from npm into PEERS_PREFIX (default /tmp/carerules-peers)
cel-js, json-logic-js and GoRules ZEN. A missing peer is reported as skipped.
"""

import argparse
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def sh(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def pinned(cpu, cmd):
    return ["taskset", "-c", str(cpu), *cmd] if shutil.which("taskset") and cpu >= 0 else cmd


def check(out_file, expected):
    """The number of records whose line differs from the reference, and the first one."""
    got = pathlib.Path(out_file).read_text(encoding="utf-8").splitlines()
    if len(got) != len(expected):
        return max(len(got), len(expected)), f"{len(got)} lines for {len(expected)} records"
    bad = [(g, e) for g, e in zip(got, expected) if g != e]
    return len(bad), (f"got {bad[0][0]!r}, expected {bad[0][1]!r}" if bad else "")


def harness(rows, name, mode, cmd, out, expected, timeout=1800):
    p = sh(cmd, timeout=timeout)
    if p.returncode != 0 or not p.stdout.strip():
        rows.append({"system": name, "mode": mode, "skip": (p.stderr or p.stdout).strip()[-300:]})
        return
    summary = json.loads(p.stdout.strip().splitlines()[-1])
    bad, first = check(out, expected)
    rows.append({"system": summary.get("system", name), "mode": mode,
                 "us": summary["us_per_record"], "bad": bad, "first": first})


def cli_rows(rows, args, data, expected, tmp):
    """The CLI end to end: one process over the file, timed from outside."""
    cli = pathlib.Path(args.build) / "bin" / "carerules"
    rules = HERE / "workload.rules"
    records = data / "records.jsonl"
    one = tmp / "one.jsonl"
    one.write_text(records.open(encoding="utf-8").readline(), encoding="utf-8")
    for fmt, label in (("decisions", "carerules CLI, --format decisions"),
                       ("jsonl", "carerules CLI, full jsonl reports")):
        out = tmp / f"cli-{fmt}.jsonl"
        base = [str(cli), "eval", "-r", str(rules), "--asof", "2024-06-01", "--format", fmt,
                "--threads", "1"]
        t0 = time.perf_counter()
        sh(pinned(args.cpu, base + [str(one)]))
        fixed = time.perf_counter() - t0
        t0 = time.perf_counter()
        with open(out, "w", encoding="utf-8") as f:
            p = subprocess.run(pinned(args.cpu, base + [str(records)]), stdout=f,
                               stderr=subprocess.PIPE, text=True)
        wall = time.perf_counter() - t0
        if p.returncode != 0:
            rows.append({"system": label, "mode": "e2e", "skip": p.stderr[-300:]})
            continue
        lines = tmp / f"cli-{fmt}.txt"
        order = ["A4.1", "A4.2", "A4.3", "A4.4", "A5.1", "A5.2", "A5.3", "A2"]
        with open(out, encoding="utf-8") as f, open(lines, "w", encoding="utf-8") as g:
            for line in f:
                d = json.loads(line)
                if fmt == "decisions":
                    present, colour = set(d["present"]), d["grades"]["colour"]
                else:
                    present = {h["id"] for h in d["hazards"] if h["status"] == "present"}
                    colour = d["grades"]["colour"]["value"]
                g.write(f"{d['subject']}|{','.join(h for h in order if h in present)}|{colour}\n")
        bad, first = check(lines, expected)
        n = len(expected)
        rows.append({"system": label, "mode": "e2e", "us": wall / n * 1e6, "bad": bad,
                     "first": first, "note": f"process start and compile {fixed * 1000:.0f} ms"})


def bundle_rows(args, tmp):
    """The shipped bundle over institutions with residents: carerules only."""
    data = tmp / "bundle.jsonl"
    sh(["/usr/bin/python3", str(ROOT / "examples" / "data" / "generate.py"), "--count",
        str(args.bundle_n), "--out", str(data)], check=True)
    rules = ROOT / "rulesets" / "institution.rules"
    harn = pathlib.Path(args.build) / "bench" / "peers_carerules"
    cli = pathlib.Path(args.build) / "bin" / "carerules"
    out = []
    size = data.stat().st_size / args.bundle_n
    for mode, label in (("eval", "C++ API, decide on bound facts"),
                        ("e2e", "C++ API, decide on JSON text"),
                        ("report", "C++ API, full JSON report")):
        p = sh(pinned(args.cpu, [str(harn), mode, str(data), str(tmp / "bundle-out.txt"),
                                 str(rules)]))
        if p.returncode == 0:
            out.append((label, json.loads(p.stdout.strip().splitlines()[-1])["us_per_record"]))
    for fmt in ("decisions", "jsonl"):
        t0 = time.perf_counter()
        with open(tmp / "bundle-cli.out", "w") as f:
            subprocess.run(pinned(args.cpu, [str(cli), "eval", "-r", str(rules), str(data),
                                             "--asof", "2024-06-01", "--format", fmt,
                                             "--threads", "1"]), stdout=f,
                           stderr=subprocess.DEVNULL)
        out.append((f"CLI, --format {fmt}", (time.perf_counter() - t0) / args.bundle_n * 1e6))
    return out, size


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--bundle-n", type=int, default=10_000)
    ap.add_argument("--build", default=str(ROOT / "build-release"))
    ap.add_argument("--data", default="/tmp/carerules-peers-data")
    ap.add_argument("--cpu", type=int, default=1, help="the CPU to pin to (-1: no pinning)")
    ap.add_argument("--peers-prefix", default=os.environ.get("PEERS_PREFIX",
                                                               "/tmp/carerules-peers"))
    args = ap.parse_args()

    data = pathlib.Path(args.data)
    print(f"generating {args.n} records into {data} ...", file=sys.stderr)
    sh(["/usr/bin/python3", str(HERE / "gen.py"), "--n", str(args.n), "--out", str(data)],
       check=True)
    expected = (data / "expected.txt").read_text(encoding="utf-8").splitlines()
    records = str(data / "records.jsonl")
    rows = []
    with tempfile.TemporaryDirectory() as t:
        tmp = pathlib.Path(t)
        bench_dir = pathlib.Path(args.build) / "bench"
        for mode in ("eval", "e2e"):
            harness(rows, "hand-written C++ (limit)", mode,
                    pinned(args.cpu, [str(bench_dir / "peers_limit"), mode, records,
                                      str(tmp / f"limit-{mode}.txt")]),
                    tmp / f"limit-{mode}.txt", expected)
        for mode in ("eval", "e2e", "report"):
            harness(rows, "carerules", "e2e" if mode == "report" else mode,
                    pinned(args.cpu, [str(bench_dir / "peers_carerules"), mode, records,
                                      str(tmp / f"cr-{mode}.txt")]),
                    tmp / f"cr-{mode}.txt", expected)
        cli_rows(rows, args, data, expected, tmp)
        clips = tmp / "clips_harness"
        built = sh(["bash", str(HERE / "clips" / "build.sh"), str(clips)])
        for mode in ("eval", "e2e"):
            if built.returncode != 0:
                rows.append({"system": "CLIPS 6.30 (C API)", "mode": mode,
                             "skip": built.stderr.strip()[-200:] or "not built"})
                continue
            harness(rows, "CLIPS 6.30 (C API)", mode,
                    pinned(args.cpu, [str(clips), mode, records, str(tmp / f"clips-{mode}.txt")]),
                    tmp / f"clips-{mode}.txt", expected)
        env = dict(os.environ, PEERS_PREFIX=args.peers_prefix)
        for script, name in (("cel.mjs", "cel-js"), ("jsonlogic.mjs", "json-logic-js"),
                             ("zen.mjs", "GoRules ZEN")):
            for mode in ("eval", "e2e"):
                out = tmp / f"{script}-{mode}.txt"
                if not (pathlib.Path(args.peers_prefix) / "node_modules").is_dir():
                    rows.append({"system": name, "mode": mode,
                                 "skip": f"no {args.peers_prefix}/node_modules "
                                         "(bench/peers/install-peers.sh)"})
                    continue
                cmd = pinned(args.cpu, ["node", str(HERE / "js" / script), mode, records, str(out)])
                p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=3600)
                if p.returncode != 0 or not p.stdout.strip():
                    rows.append({"system": name, "mode": mode, "skip": p.stderr.strip()[-300:]})
                    continue
                s = json.loads(p.stdout.strip().splitlines()[-1])
                bad, first = check(out, expected)
                rows.append({"system": s["system"], "mode": mode, "us": s["us_per_record"],
                             "bad": bad, "first": first})
        bundle, bundle_size = bundle_rows(args, tmp)

    # One table: per-record times; ratios against carerules' API row of the same mode.
    ref = {r["mode"]: r["us"] for r in rows
           if r["system"] == "carerules (C++ API, decide)" and "us" in r and r["bad"] == 0}
    systems = []
    for r in rows:
        if r["system"] not in systems:
            systems.append(r["system"])
    print(f"\n{args.n} records ({os.path.getsize(records) / args.n:.0f} bytes each), one run, "
          f"pinned to CPU {args.cpu}, {os.cpu_count()} cores; {time.strftime('%Y-%m-%d %H:%M')}")
    print("ratio: the system's time over carerules' (C++ API, decide) in the same mode\n")
    print("| system | eval µs/rec | ratio | e2e µs/rec | ratio | check |")
    print("|---|---:|---:|---:|---:|---|")
    for name in systems:
        cells, checks = [], []
        for mode in ("eval", "e2e"):
            r = next((x for x in rows if x["system"] == name and x["mode"] == mode), None)
            if r is None:
                cells += ["–", "–"]
            elif "skip" in r:
                cells += ["skipped", "–"]
                checks.append(f"{mode} skipped: {r['skip'].splitlines()[-1] if r['skip'] else ''}")
            elif r["bad"]:
                cells += [f"{r['us']:.3f}", "–"]
                checks.append(f"{mode}: {r['bad']} records DISAGREE ({r['first']})")
            else:
                ratio = f"{r['us'] / ref[mode]:.2f}" if mode in ref else "–"
                cells += [f"{r['us']:.3f}", ratio]
                if r.get("note"):
                    checks.append(r["note"])
        agreed = all(("us" in x and x["bad"] == 0) for x in rows if x["system"] == name)
        status = "; ".join((["agrees on every record"] if agreed else []) + checks)
        print(f"| {name} | {' | '.join(cells)} | {status} |")
    print(f"\nThe shipped bundle (rulesets/institution.rules), {args.bundle_n} generated "
          f"institutions with their residents ({bundle_size / 1024:.1f} KB each):\n")
    print("| carerules | µs/rec |")
    print("|---|---:|")
    for label, us in bundle:
        print(f"| {label} | {us:.2f} |")
    return 1 if any(r.get("bad") for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
