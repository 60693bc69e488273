#!/usr/bin/env bash
# The cost of crossing the C ABI: one record of the shipped bundle evaluated to report JSON
# through the C++ API, the C ABI, Java (JNA) and Go (cgo), in one run, as µs per record and
# as ratios to the C++ API. Not a test. Usage: bench/abi/run.sh [BUILD_DIR] [N] [ROUNDS]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
n=${2:-20000}
rounds=${3:-5}
rules=$root/rulesets/institution.rules
facts=$root/examples/data/cases/case2_dangerous_building.json
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
jna=/usr/share/java/jna.jar
g++ -std=c++20 -O2 -o "$work/abi_bench" "$root/bench/abi/abi_bench.cpp" -I"$root/include" \
  -I"$build/include" -L"$build/lib" -lcarerules -Wl,-rpath,"$build/lib"
javac -encoding UTF-8 -d "$work" -cp "$jna" "$root"/bindings/java/src/org/carerules/*.java "$root/bench/abi/Bench.java"
# Rounds alternate the languages so that a neighbour's load falls on all of them; each ratio
# is to the C++ API of its own round, and the table gives the medians and the spread.
for round in $(seq "$rounds"); do
  "$work/abi_bench" "$rules" "$facts" "$n" | sed "s/^/$round /"
  java -Djna.library.path="$build/lib" -cp "$work:$jna" Bench "$rules" "$facts" "$n" | sed "s/^/$round /"
  (cd "$root/bindings/go" && GOPROXY=off GOTOOLCHAIN=local GOFLAGS= GOCACHE="$build/go/cache" \
    GOPATH="$build/go/path" CGO_CFLAGS="-I$root/include" \
    CGO_LDFLAGS="-L$build/lib -Wl,-rpath,$build/lib" CARERULES_SOURCE_DIR="$root" \
    go test -run XXX -bench BenchmarkEvaluate -benchtime "${n}x" ./carerules) |
    awk -v r="$round" '/BenchmarkEvaluate/ {printf "%s go_us %.2f\n", r, $3 / 1000}'
done >"$work/times"
awk '
  function median(list, n,    i, j, t) {
    for (i = 2; i <= n; i++) for (j = i; j > 1 && list[j - 1] > list[j]; j--) {
      t = list[j]; list[j] = list[j - 1]; list[j - 1] = t }
    return n % 2 ? list[(n + 1) / 2] : (list[n / 2] + list[n / 2 + 1]) / 2
  }
  { us[$1, $2] = $3; if (!($2 in seen)) { seen[$2] = 1; order[++k] = $2 } rounds = $1 }
  END {
    names["cpp_api_us"] = "C++ API"; names["c_abi_us"] = "C ABI (from C++)"
    names["java_us"] = "Java (JNA), String"; names["java_utf8_us"] = "Java (JNA), UTF-8"
    names["go_us"] = "Go (cgo)"
    printf "%-22s %10s %8s %15s\n", "one record", "us/record", "ratio", "ratio range"
    for (i = 1; i <= k; i++) {
      name = order[i]; lo = 1e9; hi = 0
      for (r = 1; r <= rounds; r++) {
        a[r] = us[r, name]; q = us[r, name] / us[r, "cpp_api_us"]; b[r] = q
        if (q < lo) lo = q; if (q > hi) hi = q
      }
      printf "%-22s %10.2f %7.2fx %7.2f-%.2fx\n", names[name], median(a, rounds), median(b, rounds), lo, hi
    }
  }' "$work/times"
echo "(medians of $rounds rounds of $n records each; $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); $(date -u +%F))"
