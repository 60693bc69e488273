#!/usr/bin/env bash
# Builds the CLIPS 6.30 harness:  bash bench/peers/clips/build.sh [OUT]  (default /tmp/pb-clips/clips_harness)
# Needs the Debian packages libclips-dev (headers, libclips.a) and libboost-json-dev (Boost.JSON).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="${1:-/tmp/pb-clips/clips_harness}"
if [[ ! -f /usr/include/clips/clips.h || ! -f /usr/lib/libclips.a ]]; then
  echo "build.sh: CLIPS 6.30 C API not found (need /usr/include/clips/clips.h and /usr/lib/libclips.a): install libclips-dev" >&2
  exit 1
fi
mkdir -p "$(dirname "$out")"
g++ -O2 -std=c++20 -DPB_CLIPS_WORKLOAD="\"$here/workload.clp\"" \
  "$here/clips_harness.cpp" -o "$out" /usr/lib/libclips.a -lboost_json -lm
