#!/usr/bin/env bash
# Builds the Java binding and its test with javac and runs the test against the freshly built
# libcarerules.so.0. Usage: run-test.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
src=$1
build=$2
out="$build/java"
jna=/usr/share/java/jna.jar
rm -rf "$out" && mkdir -p "$out"
mkdir -p "$out/规则"
printf 'ruleset zh {\n  title "规则"\n  version "1"\n}\n' >"$out/规则/规则.rules"
javac -encoding UTF-8 -d "$out" -cp "$jna" "$src"/bindings/java/src/org/carerules/*.java "$src"/bindings/java/test/RulesetTest.java
# LC_ALL=C: a service started without a locale must still pass Chinese paths and names.
LC_ALL=C java -Djna.library.path="$build/lib" -cp "$out:$jna" RulesetTest "$src" \
  "$build/bin/carerules" "$out"
