#!/usr/bin/env bash
# Installs the built tree into a temporary prefix, then configures, builds and runs the
# consumer project against it.
set -euo pipefail
build=$1
src=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake --install "$build" --prefix "$work/prefix" >/dev/null
cmake -S "$src" -B "$work/consumer" -G Ninja -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/consumer" >/dev/null
"$work/consumer/consumer" | grep -q '"status":"present"'
"$work/consumer/consumer_shared" | grep -q '"status":"present"'
test -L "$work/prefix/lib/libcarerules.so.0"
# A C program through pkg-config and the C ABI.
export PKG_CONFIG_PATH="$work/prefix/lib/pkgconfig"
cc -std=c11 -Wall -Werror -o "$work/consumer_c" "$src/consumer.c" $(pkg-config --cflags --libs carerules)
LD_LIBRARY_PATH="$work/prefix/lib" "$work/consumer_c" | grep -q '"status":"present"'
test -f "$work/prefix/share/carerules/rulesets/institution.rules" || test ! -f "$(dirname "$src")/../rulesets/institution.rules"
test -x "$work/prefix/bin/carerules"
echo "install: static, shared and C (pkg-config) consumers built and ran against $work/prefix"
