#!/usr/bin/env bash
# The cost of crossing the C ABI: one record of the shipped bundle evaluated to report JSON
# through the C++ API, the C ABI, Java (JNA) and Go (cgo), in one run, as µs per record and
# as ratios to the C++ API. Not a test. Usage: bench/abi/run.sh [BUILD_DIR] [N]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
n=${2:-20000}
rules=$root/rulesets/institution.rules
facts=$root/examples/data/cases/case2_dangerous_building.json
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
jna=/usr/share/java/jna.jar
g++ -std=c++20 -O2 -o "$work/abi_bench" "$root/bench/abi/abi_bench.cpp" -I"$root/include" \
  -I"$build/include" -L"$build/lib" -lcarerules -Wl,-rpath,"$build/lib"
javac -encoding UTF-8 -d "$work" -cp "$jna" "$root"/bindings/java/src/org/carerules/*.java "$root/bench/abi/Bench.java"
cpp=$("$work/abi_bench" "$rules" "$facts" "$n")
java=$(java -Djna.library.path="$build/lib" -cp "$work:$jna" Bench "$rules" "$facts" "$n")
go_ns=$(cd "$root/bindings/go" && GOPROXY=off GOTOOLCHAIN=local GOFLAGS= GOCACHE="$build/go/cache" \
  GOPATH="$build/go/path" CGO_CFLAGS="-I$root/include" \
  CGO_LDFLAGS="-L$build/lib -Wl,-rpath,$build/lib" CARERULES_SOURCE_DIR="$root" \
  go test -run XXX -bench BenchmarkEvaluate -benchtime "${n}x" ./carerules | awk '/BenchmarkEvaluate/ {print $3}')
echo "$cpp
$java
go_us $(awk -v ns="$go_ns" 'BEGIN {printf "%.2f", ns / 1000}')" | awk '
  {v[$1] = $2; order[++k] = $1}
  END {
    base = v["cpp_api_us"]
    printf "%-28s %10s %8s\n", "one record of the bundle", "us/record", "ratio"
    names["cpp_api_us"] = "C++ API"; names["c_abi_us"] = "C ABI (from C++)"
    names["java_us"] = "Java (JNA)"; names["go_us"] = "Go (cgo)"
    for (i = 1; i <= k; i++) printf "%-28s %10.2f %7.2fx\n", names[order[i]], v[order[i]], v[order[i]] / base
  }'
echo "($(nproc) cores; $n records each; $(date -u +%F))"
