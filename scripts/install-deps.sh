#!/usr/bin/env bash
# Installs exactly the Debian packages carerules needs to build, test and run its demo.
# Idempotent: checks each package with dpkg first and calls apt-get only for the missing ones.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache
  libboost1.81-dev libboost-json1.81-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  python3-dev python3-venv python3-pip python3-setuptools python3-wheel
  pybind11-dev python3-pybind11
  python3-pytest python3-pandas python3-numpy python3-jsonschema
  clang libclang-rt-14-dev clang-format
  pkgconf default-jdk-headless libjna-java golang-go unicode-data
  libsqlite3-dev sqlite3 python3-dask python3-distributed python3-tqdm
  chromium fonts-wqy-microhei poppler-utils
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
