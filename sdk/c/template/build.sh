#!/bin/sh
# Builds transform.c into transform.wasm, a WASI reactor, with Debian's clang
# and wasi-libc (apt-get install clang lld wasi-libc libclang-rt-dev-wasm32).
# HOOKHUB_H_DIR is the folder of hookhub.h (default: the kit, one folder up);
# OUT the output file (default: transform.wasm beside this script).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
CC=${CC:-clang}
"$CC" --target=wasm32-wasi -O2 -mexec-model=reactor \
	-Wall -Wextra -Werror \
	-I"${HOOKHUB_H_DIR:-$here/..}" \
	-Wl,--strip-all \
	-o "${OUT:-$here/transform.wasm}" "$here/transform.c"
