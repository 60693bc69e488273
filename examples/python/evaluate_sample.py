#!/usr/bin/env python3
"""Evaluate the sample institutions with the shipped rulesets, using pandas.

    PYTHONPATH=build/python /usr/bin/python3 examples/python/evaluate_sample.py
    .venv/bin/python examples/python/evaluate_sample.py --asof 2024-06-01 --out report.csv

1. Loads rulesets/institution.rules (major hazards, four-colour risk grade, GB/T 37276 level).
2. Reads examples/data/institutions.jsonl into a DataFrame whose columns are dotted paths
   (pandas.json_normalize: "facility.building.appraisal.grade"; lists stay as list cells).
3. evaluate_frame: one result row per institution, same index; written as CSV (UTF-8 with a
   byte-order mark, so spreadsheet programs read the Chinese text).
4. Prints a plot-free summary: counts per risk colour and per level, each hazard by status,
   records with errors — and, with rulesets/capability/gbt42195.rules, the residents'
   capability classes (each resident evaluated on its own with each="residents").
"""

import argparse
import collections
import json
import pathlib
import sys
import time

import pandas as pd

import carerules

REPO = pathlib.Path(__file__).resolve().parents[2]


def table(title, counts, order=None):
    """A two-column text table of counts."""
    keys = order or sorted(counts, key=lambda k: (-counts[k], str(k)))
    width = max([len(str(k)) for k in keys] + [len(title)])
    print(f"{title:<{width}}  count")
    for k in keys:
        print(f"{str(k):<{width}}  {counts.get(k, 0):5d}")
    print()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rules", default=REPO / "rulesets" / "institution.rules", type=pathlib.Path)
    ap.add_argument("--data", default=REPO / "examples" / "data" / "institutions.jsonl",
                    type=pathlib.Path)
    ap.add_argument("--asof", default="2024-06-01", help="evaluation date (YYYY-MM-DD)")
    ap.add_argument("--out", default=REPO / "build" / "examples" / "institutions_report.csv",
                    type=pathlib.Path, help="CSV to write")
    args = ap.parse_args(argv)

    rs = carerules.load(args.rules, import_roots=[args.rules.parent])
    print(f"ruleset  {rs.name} {rs.version}: {rs.title}")
    print(f"digest   {rs.digest}")

    with open(args.data, encoding="utf-8") as f:
        records = [json.loads(line) for line in f if line.strip()]
    df = pd.json_normalize(records, max_level=10)
    print(f"data     {args.data.name}: {len(df)} institutions, {len(df.columns)} columns")

    t0 = time.perf_counter()
    results = rs.evaluate_frame(df, asof=args.asof)
    elapsed = time.perf_counter() - t0
    print(f"asof     {args.asof}; evaluated in {elapsed * 1000:.1f} ms\n")

    # The results beside the institutions' names, in the input's order.
    out = pd.concat([df[["name"]] if "name" in df else df.iloc[:, :0], results], axis=1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    out.to_csv(args.out, index=False, encoding="utf-8-sig")

    grades = [c for c in results.columns if c.startswith("grade.")]
    colours = ["blue", "yellow", "orange", "red", "undetermined", "error"]
    for g in grades:
        counts = collections.Counter(results[g])
        order = [c for c in colours if c in counts] if set(counts) <= set(colours) else None
        table(g, counts, order)

    hazards = [c for c in results.columns if c.startswith("hazard.")]
    statuses = ["present", "absent", "undetermined", "error"]
    by_status = pd.DataFrame({s: [(results[h] == s).sum() for h in hazards] for s in statuses},
                             index=[h[len("hazard."):] for h in hazards])
    print("hazards by status")
    print(by_status.to_string())
    print()

    with_errors = int((results["errors"] > 0).sum())
    print(f"records with errors: {with_errors} of {len(results)}")

    capability = args.rules.parent / "capability" / "gbt42195.rules"
    if capability.exists() and "residents" in df:
        cap = carerules.load(capability, import_roots=[args.rules.parent])
        reports = cap.evaluate_many(records, asof=args.asof, each="residents")
        names = list(reports[0]["grades"]) if reports else []
        grade = "capability_class" if "capability_class" in names else (names[-1] if names else None)
        if grade:
            print()
            table(f"residents: {grade} ({len(reports)} residents)",
                  collections.Counter(r["grades"][grade]["value"] for r in reports))

    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
