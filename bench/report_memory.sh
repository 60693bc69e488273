#!/usr/bin/env bash
# Peak memory and time of `carerules report` for 1 000 and 10 000 records (the sample data
# repeated with distinct ids): the pages stream, so the peak should barely move.
#   bash bench/report_memory.sh [build]
set -euo pipefail
build=${1:-build}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for n in 1000 10000; do
  /usr/bin/python3 - "$n" > "$tmp/facts.jsonl" <<'PY'
import json, sys
lines = [l for l in open("examples/data/institutions.jsonl", encoding="utf-8") if l.strip()]
for i in range(int(sys.argv[1])):
    d = json.loads(lines[i % len(lines)])
    d["id"] = f'{d["id"]}-{i}'
    print(json.dumps(d, ensure_ascii=False))
PY
  /usr/bin/time -f "$n records: %e s, peak %M KB" "$build/bin/carerules" report \
    -r rulesets/institution.rules "$tmp/facts.jsonl" --out "$tmp/out-$n" --asof 2024-06-01 \
    --by region.district --name name > /dev/null || true
  echo "  $(ls "$tmp/out-$n" | wc -l) files"
done
