#!/bin/sh
# Builds transform.ts into transform.wasm with the kit's asconfig.json (which
# replaces env.abort with the kit's shim). Run `npm ci` in sdk/assemblyscript
# first. OUT is the output file (default: transform.wasm beside this script).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
kit=$(cd "$here/.." && pwd)
cd "$kit"
exec ./node_modules/.bin/asc template/transform.ts --config asconfig.json --outFile "${OUT:-$here/transform.wasm}"
