#!/usr/bin/env bash
# Runs the Go binding's tests against the freshly built libcarerules.so.0, offline: no
# module is downloaded (the package has no dependencies), caches live in the build tree.
# Usage: run-test.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
src=$1
build=$2
# GOFLAGS is emptied so that a setting of the caller's (-mod=vendor) cannot change the build.
export GOPROXY=off GOTOOLCHAIN=local GO111MODULE=on GOFLAGS=
export GOCACHE="$build/go/cache" GOPATH="$build/go/path"
export CGO_CFLAGS="-I$src/include"
export CGO_LDFLAGS="-L$build/lib -Wl,-rpath,$build/lib"
export CARERULES_SOURCE_DIR="$src" CARERULES_BIN="$build/bin/carerules"
cd "$src/bindings/go"
go test -count=1 -v ./... 2>&1 | tail -n 20
