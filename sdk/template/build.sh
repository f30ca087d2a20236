#!/bin/sh
# Builds this plugin into plugin.wasm (standard Go: GOOS=wasip1 GOARCH=wasm,
# -buildmode=c-shared). OUT is the output file (default: plugin.wasm here).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"
GOOS=wasip1 GOARCH=wasm CGO_ENABLED=0 GOWORK=off exec go build -buildmode=c-shared -o "${OUT:-$here/plugin.wasm}" .
