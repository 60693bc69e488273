#!/usr/bin/env python3
"""Generates, and checks, the tables of docs/rulesets.md that must never drift from the
shipped rulesets. It reads the rulesets only through the command-line tool, as an outside
integrator does: `carerules schema` for the inputs, `carerules eval` for what they decide.

* coded-inputs: one row per value of every enum and boolean input that a rule reads (and
  for the value `[]` of every list of records), with what that value decides and how to say
  "unknown" (both taken from the input's label, which `carerules schema` prints as the
  description);
* undetermined: per hazard of institution.rules, how many sample institutions it leaves
  undetermined and which missing inputs cause it, most frequent first (what a bureau asks for
  first).

    scripts/rulesets_tables.py --write          # rewrite the generated sections of the doc
    scripts/rulesets_tables.py --check          # exit 1 if a label lacks a part or the doc is stale
    scripts/rulesets_tables.py --undetermined [--reports FILE]   # print that table alone

The tool is $CARERULES_BIN, or build/bin/carerules. A coded input's label has the parts
"判定: …" (what the values decide, clauses separated by "; ", each naming the values it is
about: "C"、"D" … for an enum, a leading true / false for a boolean, [] for a list of
records) and "未知: …" (how to say the value is not known), or "可选: …" for an input that
is optional by design. An input that no rule reads says "(recorded, not read by a rule)".
"""

import collections
import json
import os
import pathlib
import re
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[1]
RULESETS = ROOT / "rulesets"
DOC = ROOT / "docs" / "rulesets.md"
# Each file once, the national hazards first, so that an input several files see (through
# imports) is listed under the file that declares it.
FILES = ["hazards/mca_2023.rules", "hazards/local_example.rules", "risk/four_color.rules",
         "levels/gbt37276.rules", "capability/gbt42195.rules",
         "capability/gb38600_screening.rules", "regional/sanming_2017.rules"]
BUNDLE = "institution.rules"
SAMPLE = ROOT / "examples" / "data" / "institutions.jsonl"
ASOF = "2024-06-01"
RECORDED = "not read by a rule"
PART = r"(?=\.\s+(?:判定|未知|可选):|$)"


def cli():
    return os.environ.get("CARERULES_BIN", str(ROOT / "build" / "bin" / "carerules"))


def run(*args, root=RULESETS):
    p = subprocess.run([cli(), *args, "--import-root", str(root)], capture_output=True,
                       text=True, encoding="utf-8", timeout=300)
    # eval exits 1 when a record has errors; the reports are still complete
    if p.returncode not in (0, 1) or not p.stdout:
        raise SystemExit(f"carerules {' '.join(args)} failed ({p.returncode}): {p.stderr}")
    return p.stdout


def schema_inputs(path, root=RULESETS):
    """[(input path, schema node)] for every leaf input of the ruleset file; list elements'
    fields as `list[].field`."""
    out = []

    def walk(node, prefix):
        items = node.get("items")
        if isinstance(items, dict) and "properties" in items:
            out.append((prefix, node))
            walk(items, prefix + "[]")
        elif "properties" in node:
            for key, child in node["properties"].items():
                walk(child, f"{prefix}.{key}" if prefix else key)
        else:
            out.append((prefix, node))

    walk(json.loads(run("schema", str(path), root=root)), "")
    return out


def kind(node):
    """"enum", "bool", "list" (of records: `[]` is a coded value, "none"), or None."""
    types = node.get("type")
    types = types if isinstance(types, list) else [types]
    if "enum" in node:
        return "enum"
    if "boolean" in types:
        return "bool"
    items = node.get("items")
    return "list" if isinstance(items, dict) and "properties" in items else None


def skeleton(node):
    """A record with every object present, every list of records holding one empty element,
    and no leaf value: evaluated, every input a rule reads shows up as missing."""
    items = node.get("items")
    if isinstance(items, dict) and "properties" in items:
        return [skeleton(items)]
    if "properties" in node:
        return {k: v for k, v in ((k, skeleton(c)) for k, c in node["properties"].items())
                if v is not None}
    return None


def read_inputs(path, root=RULESETS):
    """Input paths (list indices as []) the ruleset's rules read, as the engine reports them."""
    schema = json.loads(run("schema", str(path), root=root))
    with tempfile.NamedTemporaryFile("w", suffix=".json", encoding="utf-8", delete=False) as f:
        json.dump(skeleton(schema) or {}, f)
    try:
        report = json.loads(run("eval", "-r", str(path), f.name, "--asof", ASOF, root=root))
    finally:
        os.unlink(f.name)
    found = set()
    nodes = list(report.get("hazards", [])) + list(report.get("scores", {}).values()) + \
        list(report.get("grades", {}).values())
    for n in nodes:
        found.update(re.sub(r"\[\d+\]", "[]", m) for m in n.get("missing", []))
    return found


def part(label, key):
    """The text after `key` up to the next ". 判定:/未知:/可选:" or the end."""
    m = re.search(re.escape(key) + r"\s*(.*?)" + PART, label)
    return m.group(1).strip().rstrip(".") if m else ""


def value_text(v):
    return json.dumps(v, ensure_ascii=False)


def decisions(node):
    """[(value shown, what it decides)] for one coded input, from its label. A string enum
    value, a boolean or the empty list `[]` gets the clauses of its 判定 part that name it
    (an absent list is "not collected", `[]` "collected, none"); numeric enum values
    (LEC factors) all enter one formula, which is what each of them decides."""
    decides = part(node.get("description") or "", "判定:")
    clauses = [c.strip() for c in decides.split(";") if c.strip()]
    values = [v for v in node.get("enum", []) if v is not None]
    if kind(node) == "list":
        return [("[]", "; ".join(c for c in clauses if "[]" in c))]
    if kind(node) == "bool":
        return [(w, "; ".join(c for c in clauses if re.match(w + r"\b", c))) for w in ("true", "false")]
    if values and all(isinstance(v, str) for v in values):
        return [(value_text(v), "; ".join(c for c in clauses if value_text(v) in c)) for v in values]
    return [(" ".join(value_text(v) for v in values), decides)]


def says_something(value, clause):
    """The clause says more than the value names it lists."""
    rest = re.sub(r'"[^"]*"|\btrue\b|\bfalse\b|\[\]|[、,，与和及/\s]', "", clause)
    return len(rest) >= 2


def coded_inputs(files=FILES, root=RULESETS):
    """(file, path, node) for every enum or boolean input that is not marked as only
    recorded, each path once (under the first file that has it)."""
    seen = set()
    for f in files:
        for path, node in schema_inputs(root / f, root):
            if path in seen:
                continue
            seen.add(path)
            if kind(node) and RECORDED not in (node.get("description") or ""):
                yield f, path, node


def problems(files=FILES, root=RULESETS):
    """What makes a coded input ambiguous to someone who reads only the schema: a read input
    marked as recorded, a value whose decision is not said, no way to say "unknown"."""
    out = []
    seen = set()
    for f in files:
        read = read_inputs(root / f, root)
        for path, node in schema_inputs(root / f, root):
            if path in seen or not kind(node):
                continue
            seen.add(path)
            label = node.get("description") or ""
            where = f"{f}: `{path}`"
            if RECORDED in label:
                if path in read:
                    out.append(f"{where} is marked '{RECORDED}' but a rule reads it")
                continue
            if not part(label, "判定:"):
                out.append(f"{where}: its label has no '判定:' part saying what its values decide"
                           + (" (a rule reads it)" if path in read else ""))
                continue
            if not (part(label, "未知:") or part(label, "可选:")):
                out.append(f"{where}: its label does not say how to give an unknown value ('未知:')")
            for value, clause in decisions(node):
                if not says_something(value, clause):
                    out.append(f"{where}: the label does not say what {value} decides")
    return out


def cell(text):
    return text.replace("|", "\\|")


def coded_table():
    rows = ["| ruleset | input | value | what it decides | unknown |", "|---|---|---|---|---|"]
    for f, path, node in coded_inputs():
        label = node.get("description") or ""
        unknown = part(label, "未知:") or "optional: " + part(label, "可选:")
        for value, clause in decisions(node):
            rows.append(f"| `{f}` | `{path}` | {cell(value)} | {cell(clause)} | {cell(unknown)} |")
    return "\n".join(rows)


def undetermined_table(reports_file=None):
    """Counted from the reports of `carerules eval --format jsonl` over the sample file."""
    if reports_file:
        text = pathlib.Path(reports_file).read_text(encoding="utf-8")
    else:
        text = run("eval", "-r", str(RULESETS / BUNDLE), str(SAMPLE), "--asof", ASOF,
                   "--format", "jsonl")
    reports = [json.loads(line) for line in text.splitlines() if line.strip()]
    counts = collections.Counter()
    causes = collections.defaultdict(collections.Counter)
    order = []
    for r in reports:
        for h in r["hazards"]:
            if h["id"] not in order:
                order.append(h["id"])
            if h["status"] != "undetermined":
                continue
            counts[h["id"]] += 1
            # an element's field counts once per institution, whichever elements lack it
            for m in {re.sub(r"\[\d+\]", "[]", p) for p in h.get("missing", [])}:
                causes[h["id"]][m] += 1
    rows = [f"| item | undetermined (of {len(reports)}) | missing input (institutions), "
            "most frequent first |", "|---|---|---|"]
    for hid in order:
        top = ", ".join(f"`{p}` ({n})" for p, n in
                        sorted(causes[hid].items(), key=lambda x: (-x[1], x[0])))
        rows.append(f"| {hid} | {counts[hid]} | {top or '—'} |")
    return "\n".join(rows)


def render(doc, tables):
    for name, table in tables.items():
        pattern = re.compile(r"(<!-- generated:" + name + r" [^>]*-->\n).*?(<!-- end generated -->)",
                             re.S)
        if not pattern.search(doc):
            raise SystemExit(f"docs/rulesets.md has no <!-- generated:{name} … --> section")
        doc = pattern.sub(lambda m: m.group(1) + table + "\n" + m.group(2), doc)
    return doc


def sections():
    return {"coded-inputs": coded_table(), "undetermined": undetermined_table()}


def main(argv):
    if "--undetermined" in argv:
        i = argv.index("--reports") + 1 if "--reports" in argv else None
        print(undetermined_table(argv[i] if i else None))
        return 0
    found = problems()
    for p in found:
        print(p, file=sys.stderr)
    doc = DOC.read_text(encoding="utf-8")
    new = render(doc, sections())
    if "--write" in argv:
        DOC.write_text(new, encoding="utf-8")
    elif new != doc:
        print("docs/rulesets.md is stale: run scripts/rulesets_tables.py --write", file=sys.stderr)
        return 1
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
