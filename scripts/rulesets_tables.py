#!/usr/bin/env python3
"""Generates the two tables of docs/rulesets.md that must never drift from the rulesets:

* coded inputs: every enum and boolean input of the shipped rulesets that a rule reads, with
  what its values decide and how to say "unknown" (taken from the input's label, which is
  what `carerules schema` prints as the description);
* undetermined items: per hazard of the bundle, how many sample institutions it leaves
  undetermined and which missing inputs cause it (what a bureau would ask for first).

    PYTHONPATH=build/python /usr/bin/python3 scripts/rulesets_tables.py --write   # update the doc
    PYTHONPATH=build/python /usr/bin/python3 scripts/rulesets_tables.py --check   # exit 1 if stale
    PYTHONPATH=build/python /usr/bin/python3 scripts/rulesets_tables.py --undetermined   # print one

A label describes a coded input with "判定: …" (what the values decide) and "未知: …" (how to
say that the value is not known); inputs only recorded say "(recorded, not read by a rule)".
"""

import collections
import json
import pathlib
import re
import sys

import carerules

ROOT = pathlib.Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "rulesets.md"
# Each file once, the national hazards first, so an input imported by several files is
# listed under the file that declares it.
FILES = ["hazards/mca_2023.rules", "hazards/local_example.rules", "risk/four_color.rules",
         "levels/gbt37276.rules", "capability/gbt42195.rules",
         "capability/gb38600_screening.rules", "regional/sanming_2017.rules"]
SAMPLE = ROOT / "examples" / "data" / "institutions.jsonl"
ASOF = "2024-06-01"
RECORDED = "not read by a rule"


def coded_inputs():
    """(file, input dict) for every enum or bool input a rule reads, each path once."""
    seen = set()
    for f in FILES:
        rs = carerules.load(ROOT / "rulesets" / f, import_roots=[ROOT / "rulesets"])
        for i in rs.inputs:
            if i["path"] in seen:
                continue
            seen.add(i["path"])
            if i["type"] not in ("bool", "enum"):
                continue
            if RECORDED in (i.get("label") or ""):
                continue
            yield f, i


def part(label, key):
    """The text after `key` up to the next '. ' that starts another part, or the end."""
    m = re.search(re.escape(key) + r"\s*(.*?)(?=\.\s+(?:判定|未知|可选):|$)", label)
    return m.group(1).strip().rstrip(".") if m else ""


def cell(text):
    return text.replace("|", "\\|")


def coded_table():
    rows = ["| ruleset | input | values | what the values decide | unknown |", "|---|---|---|---|---|"]
    for f, i in coded_inputs():
        label = i.get("label") or ""
        values = " ".join(json.dumps(v, ensure_ascii=False) for v in i.get("values", [])) or "true / false"
        unknown = part(label, "未知:") or part(label, "可选:")
        rows.append(f"| `{f}` | `{i['path']}` | {cell(values)} | {cell(part(label, '判定:'))} | "
                    f"{cell(unknown)} |")
    return "\n".join(rows)


def undetermined_table():
    rs = carerules.load(ROOT / "rulesets" / "institution.rules")
    records = [line for line in SAMPLE.read_text(encoding="utf-8").splitlines() if line.strip()]
    reports = rs.evaluate_many(records, asof=ASOF)
    counts = collections.Counter()
    causes = collections.defaultdict(collections.Counter)
    titles = {}
    for r in reports:
        for h in r["hazards"]:
            titles[h["id"]] = h["title"]
            if h["status"] != "undetermined":
                continue
            counts[h["id"]] += 1
            # list elements count under their field: "special_equipment[3].registered" and
            # "special_equipment[0].registered" are one input to collect
            for m in {re.sub(r"\[\d+\]", "[]", p) for p in h["missing"]}:
                causes[h["id"]][m] += 1
    rows = [f"| item | undetermined (of {len(reports)}) | missing input (institutions) |",
            "|---|---|---|"]
    for hid in titles:
        top = ", ".join(f"`{p}` ({n})" for p, n in
                        sorted(causes[hid].items(), key=lambda x: (-x[1], x[0])))
        rows.append(f"| {hid} | {counts[hid]} | {top or '—'} |")
    return "\n".join(rows)


def sections():
    return {"coded-inputs": coded_table(), "undetermined": undetermined_table()}


def render(doc, tables):
    for name, table in tables.items():
        pattern = re.compile(r"(<!-- generated:" + name + r" [^>]*-->\n).*?(<!-- end generated -->)",
                             re.S)
        if not pattern.search(doc):
            raise SystemExit(f"docs/rulesets.md has no <!-- generated:{name} … --> section")
        doc = pattern.sub(lambda m: m.group(1) + table + "\n" + m.group(2), doc)
    return doc


def main(argv):
    if "--undetermined" in argv:
        print(undetermined_table())
        return 0
    doc = DOC.read_text(encoding="utf-8")
    new = render(doc, sections())
    if "--write" in argv:
        DOC.write_text(new, encoding="utf-8")
        return 0
    if new != doc:
        print("docs/rulesets.md is stale: run scripts/rulesets_tables.py --write", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
