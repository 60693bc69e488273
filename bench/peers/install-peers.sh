#!/usr/bin/env bash
# Installs the peers that bench/peers/ compares carerules with. Run it by hand, once, as root
# (or with sudo); nothing in the build or the tests downloads anything.
#   CLIPS 6.30 and its C headers from Debian (apt), and three npm packages at pinned versions
#   into a private prefix (default /tmp/carerules-peers), so the project tree stays clean.
# The machine's nodejs (>= 20.19, needed by cel-js 8) must not be replaced by Debian's older
# one: the apt step is simulated first and refused if it would touch nodejs.
set -euo pipefail

PEERS_PREFIX="${PEERS_PREFIX:-/tmp/carerules-peers}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

$SUDO apt-get update
plan="$($SUDO apt-get install -s -y --no-install-recommends clips libclips-dev)"
if printf '%s\n' "$plan" | grep -Eq '^(Inst|Remv) (nodejs|libnode)'; then
  echo "install-peers.sh: apt would replace or remove nodejs; refusing. Plan:" >&2
  printf '%s\n' "$plan" | grep -E '^(Inst|Remv)' >&2
  exit 1
fi
$SUDO apt-get install -y --no-install-recommends clips libclips-dev

node_major="$(node -p 'process.versions.node.split(".")[0]')"
if [ "$node_major" -lt 20 ]; then
  echo "install-peers.sh: node $(node --version) is too old (cel-js 8 needs >= 20.19)" >&2
  exit 1
fi
npm install --prefix "$PEERS_PREFIX" \
  @gorules/zen-engine@0.54.0 json-logic-js@2.0.5 @marcbachmann/cel-js@8.0.0

echo "peers installed: CLIPS (apt), npm packages under $PEERS_PREFIX"
