#!/usr/bin/env bash
# Runs every test suite against one build tree and ends with one summary line per suite and
# a total. Exit status is non-zero when any suite failed.
set -uo pipefail
build=${1:-build}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
python=${PYTHON:-/usr/bin/python3}
status=0
summary=()

echo "== C++ unit, golden and install tests (ctest)"
if ctest --test-dir "$build" --output-on-failure -j2 >"$build/ctest.log" 2>&1; then
  summary+=("ctest:   $(grep -E 'tests passed|tests failed' "$build/ctest.log" | tail -n1)")
else
  status=1
  cat "$build/ctest.log" | grep -vE '^\s+[0-9]+/[0-9]+ Test +#[0-9]+: .* Passed' | tail -n 80
  summary+=("ctest:   $(grep -E 'tests passed|tests failed' "$build/ctest.log" | tail -n1)")
fi
tail -n 3 "$build/ctest.log"

echo "== language conformance rulesets (carerules test tests/lang)"
out=$("$build/bin/carerules" test tests/lang 2>&1); rc=$?
echo "$out" | tail -n 20
summary+=("language: $(echo "$out" | tail -n1)")
[ $rc -eq 0 ] || status=1

echo "== ruleset test blocks (carerules test rulesets/)"
if [ -d rulesets ] && ls rulesets/*/*.rules rulesets/*.rules >/dev/null 2>&1; then
  out=$("$build/bin/carerules" test rulesets/ 2>&1); rc=$?
  echo "$out" | tail -n 20
  summary+=("rulesets: $(echo "$out" | tail -n1)")
  [ $rc -eq 0 ] || status=1
fi

if [ -z "${SKIP_FUZZ:-}" ]; then
  echo "== fuzz targets: committed corpora replayed, a few seconds each (scripts/fuzz-smoke.sh)"
  out=$(bash scripts/fuzz-smoke.sh "$build" 2>&1); rc=$?
  echo "$out" | tail -n 20
  summary+=("fuzz:    $(echo "$out" | tail -n1)")
  [ $rc -eq 0 ] || status=1
fi

if [ -z "${SKIP_PYTHON:-}" ]; then
  echo "== Python tests (pytest, $python)"
  dirs=()
  for d in tests/python tests/cli; do [ -d "$d" ] && dirs+=("$d"); done
  if [ ${#dirs[@]} -gt 0 ]; then
    PYTHONPATH="$root/$build/python" CARERULES_BIN="$root/$build/bin/carerules" \
      "$python" -m pytest -q -p no:cacheprovider "${dirs[@]}" 2>&1 | tee "$build/pytest.log" | tail -n 30
    rc=${PIPESTATUS[0]}
    summary+=("pytest:  $(tail -n1 "$build/pytest.log")")
    [ $rc -eq 0 ] || status=1
  fi
fi

echo
echo "== summary"
for s in "${summary[@]}"; do echo "$s"; done
if [ $status -eq 0 ]; then echo "ALL SUITES PASSED"; else echo "SOME SUITES FAILED"; fi
exit $status
