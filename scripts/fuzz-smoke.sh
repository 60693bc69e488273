#!/usr/bin/env bash
# The fuzzers as regression tests: builds the libFuzzer targets with clang (ASan + UBSan) in
# BUILD-fuzz, replays every input of the committed corpora (tests/fuzz/corpus/TARGET: inputs
# that once reached new code, and every reproducer of a fixed finding), then fuzzes each
# target for FUZZ_SMOKE_SECONDS (default 5) from there. Skipped, saying so, without clang.
# Exit status non-zero on a crash, a leak, a sanitizer report or a differential mismatch; the
# input is left in BUILD-fuzz/findings.
set -uo pipefail
build=${1:-build}-fuzz
seconds=${FUZZ_SMOKE_SECONDS:-5}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
if ! command -v clang++ >/dev/null 2>&1; then
  echo "fuzz: SKIPPED (no clang++)"
  exit 0
fi
launcher=$(command -v ccache >/dev/null 2>&1 && echo -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
if ! { cmake -S . -B "$build" -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCARERULES_FUZZ=ON \
         -DCARERULES_BUILD_TESTS=OFF -DCARERULES_BUILD_PYTHON=OFF $launcher \
         -DCMAKE_CXX_FLAGS="-fsanitize=fuzzer-no-link,address,undefined" >"$build.log" 2>&1 &&
       cmake --build "$build" -j"${JOBS:-2}" >>"$build.log" 2>&1; }; then
  tail -n 30 "$build.log"
  echo "fuzz: FAILED to build (see $build.log)"
  exit 1
fi
mkdir -p "$build/findings"
status=0
passed=0
for target in compile facts diff c_api serve; do
  bin="$build/tests/fuzz/${target}_fuzz"
  corpus="tests/fuzz/corpus/$target"
  work="$build/smoke/$target"
  rm -rf "$work" && mkdir -p "$work"
  n=$(ls "$corpus" | wc -l)
  # Replay: every committed input once.
  if ! "$bin" -runs=0 -artifact_prefix="$build/findings/$target-" "$corpus" >"$work.replay.log" 2>&1; then
    tail -n 40 "$work.replay.log"
    echo "fuzz: $target FAILED replaying its corpus ($n inputs)"
    status=1
    continue
  fi
  # A few seconds of new inputs (written to $work, never to the committed corpus).
  if ! "$bin" -max_len=4096 -max_total_time="$seconds" -artifact_prefix="$build/findings/$target-" \
       "$work" "$corpus" >"$work.fuzz.log" 2>&1; then
    tail -n 40 "$work.fuzz.log"
    echo "fuzz: $target FAILED after fuzzing (see $build/findings)"
    status=1
    continue
  fi
  runs=$(grep -Eo '#[0-9]+' "$work.fuzz.log" | tail -n 1 | tr -d '#')
  echo "fuzz: $target: $n corpus inputs replayed, ${runs:-0} executions in ${seconds}s, no finding"
  passed=$((passed + 1))
done
echo "fuzz: $passed of 5 targets passed"
exit $status
