#!/usr/bin/env bash
# The demo: every shipped ruleset over the sample data, the regional summary, and one
# institution's full report.
set -euo pipefail
build=${1:-build}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
cli="$build/bin/carerules"
data=examples/data/institutions.jsonl
asof=2024-06-01

echo "== carerules demo ($("$cli" --version)), asof $asof"
echo
echo "== 1. the shipped rulesets' own tests"
"$cli" test rulesets/ | tail -n 1
echo
echo "== 2. institutions: hazards, risk colour, level ($(wc -l < "$data") records in $data)"
echo "   regional summary (counts per grade, hazard and category):"
"$cli" eval -r rulesets/institution.rules "$data" --asof "$asof" --format jsonl --summary \
  > "$build/demo-institutions.jsonl" || true
echo "   reports written to $build/demo-institutions.jsonl"
echo
echo "   undetermined items, and the missing inputs behind them, most frequent first"
echo "   (what a bureau asks for first), counted from those reports:"
CARERULES_BIN="$cli" /usr/bin/python3 scripts/rulesets_tables.py --undetermined \
  --reports "$build/demo-institutions.jsonl" | sed 's/^/   /'
echo
echo "== 3. residents: GB/T 42195 capability level, one report per resident"
"$cli" eval -r rulesets/capability/gbt42195.rules "$data" --each residents --asof "$asof" \
  --format jsonl --summary > "$build/demo-residents.jsonl" || true
echo "   reports written to $build/demo-residents.jsonl"
echo
case=examples/data/cases/case2_dangerous_building.json
echo "== 4. one institution in full: $case"
"$cli" eval -r rulesets/institution.rules "$case" --asof "$asof" --format table || true
echo
echo "   why is it red?"
"$cli" explain -r rulesets/institution.rules "$case" --asof "$asof" --rule risk || true
echo
echo "   the report:"
"$cli" eval -r rulesets/institution.rules "$case" --asof "$asof" | /usr/bin/python3 -m json.tool --no-ensure-ascii
echo
echo "== 5. HTML reports: one page per institution and the summary by district"
"$cli" report -r rulesets/institution.rules "$data" --asof "$asof" --out "$build/demo-report" \
  --by region.district --name name > "$build/demo-report.path" || true
echo "   $(ls "$build/demo-report" | wc -l) files in $build/demo-report; the summary:"
echo "   $root/$(cat "$build/demo-report.path")"
echo
echo "== 6. the rectification ledger: three inspection rounds of the same institutions"
rounds="$build/demo-rounds"
/usr/bin/python3 examples/data/rounds.py --out "$rounds" > /dev/null
rm -f "$rounds/ledger.db" "$rounds/ledger.db-wal" "$rounds/ledger.db-shm"
n=0
for asof_n in 2024-06-01 2024-09-01 2024-12-01; do
  n=$((n + 1))
  "$cli" ledger record --db "$rounds/ledger.db" --round "R$n" -r rulesets/institution.rules \
    "$rounds/round$n.jsonl" --asof "$asof_n" --responsible name | sed 's/^/   /' || true
done
echo
"$cli" ledger status --db "$rounds/ledger.db" --asof 2024-12-01 --by region.city | sed 's/^/   /'
echo
"$cli" ledger diff --db "$rounds/ledger.db" --from R2 --to R3 | sed -n "1s/^/   /p"
subject=$("$cli" ledger diff --db "$rounds/ledger.db" --from R2 --to R3 --format json |
  /usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); print((d["rebound"] or d["still_open"])[0]["subject"])')
echo
"$cli" ledger show --db "$rounds/ledger.db" "$subject" --asof 2024-12-01 | sed 's/^/   /'
echo
"$cli" ledger pages --db "$rounds/ledger.db" --out "$rounds/ledger-pages" --asof 2024-12-01 \
  --by region.city | sed 's/^/   /'
echo "   the ledger: $rounds/ledger.db (carerules ledger --help)"
