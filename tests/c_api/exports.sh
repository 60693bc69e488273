#!/usr/bin/env bash
# The shared library exports the C ABI (cr_*) and the C++ API (carerules::), never
# carerules::detail nor anything of the standard library or Boost; its SONAME is
# libcarerules.so.0.
set -euo pipefail
lib=$1
soname=$(objdump -p "$lib" | awk '/SONAME/ {print $2}')
[ "$soname" = libcarerules.so.0 ] || { echo "SONAME is '$soname'"; exit 1; }
symbols=$(nm -D --defined-only -C "$lib" | cut -d' ' -f3-)
bad=$(echo "$symbols" | grep -vE '^(cr_[a-z_]+|carerules::.*|typeinfo (name )?for carerules::.*|vtable for carerules::.*)$' || true)
detail=$(echo "$symbols" | grep 'carerules::detail' || true)
for need in cr_abi_version cr_compile_file cr_evaluate cr_evaluate_batch cr_string_free \
            'carerules::compile_file(' 'carerules::ruleset::evaluate('; do
  # (a here-string: `echo | grep -q` fails now and then under pipefail, echo getting SIGPIPE
  # when grep stops at the first match)
  grep -qF "$need" <<<"$symbols" || { echo "missing export: $need"; exit 1; }
done
if [ -n "$bad$detail" ]; then
  echo "unexpected exports:"; echo "$bad"; echo "$detail"; exit 1
fi
echo "$(echo "$symbols" | wc -l) exports, all cr_* or carerules::"
