#!/bin/sh
# Builds the js plugin's engine, plugins/js/js.wasm (or $OUT): QuickJS
# (quickjs-ng, QUICKJS_VERSION) with engine.c and the C kit's hookhub.h, a
# WASI reactor built with Debian's clang and wasi-libc
# (apt-get install clang lld wasi-libc libclang-rt-dev-wasm32).
#
# QuickJS's source comes through the Go module proxy, checked against Go's
# checksum database like any module (go mod download), or from QUICKJS_DIR.
# The same clang makes the same bytes from any checkout (file paths are
# mapped away): TestJSEngineIsItsSource holds the committed js.wasm to it.
set -eu
QUICKJS_VERSION=v0.10.1
here=$(cd "$(dirname "$0")" && pwd)
js=$(dirname "$here")
kit=$(cd "$js/../../sdk/c" && pwd)
CC=${CC:-clang}
gen=$(mktemp -d)
trap 'rm -rf "$gen"' EXIT

qjs=${QUICKJS_DIR:-}
if [ -z "$qjs" ]; then
	qjs=$(cd "$gen" && GOFLAGS=-mod=mod go mod download -json "github.com/quickjs-ng/quickjs@$QUICKJS_VERSION" |
		sed -n 's/^[[:space:]]*"Dir": "\(.*\)",*$/\1/p')
fi
[ -f "$qjs/quickjs.c" ] || { echo "build.sh: no QuickJS source in '$qjs'" >&2; exit 1; }

# Two changes to QuickJS, made on a copy of its quickjs.c:
# - every statement records where it starts, as its expression statements
#   already do, so an error in `return w.a.b` or `if (w.a.b)` names that
#   statement's line and column, not the function's first (a compile-time
#   note: no instruction at run time);
# - its stack limit works under WASI too (QuickJS turns it off there), so a
#   script that recurses without end gets a RangeError, not a trap; the stack
#   is placed first in memory (--stack-first), so whatever C code overflows
#   it traps instead of writing over the engine's data.
patch_line() { # patch_line ANCHOR SED-SCRIPT: the anchor must match once
	[ "$(grep -c "$1" "$gen/quickjs.c")" = 1 ] || { echo "build.sh: QuickJS changed where $1 was: update the patch" >&2; exit 1; }
	sed "$2" "$gen/quickjs.c" >"$gen/quickjs.c.new" && mv "$gen/quickjs.c.new" "$gen/quickjs.c"
}
cp "$qjs/quickjs.c" "$gen/quickjs.c"
patch_line '^    label_name = JS_ATOM_NULL;$' '/^    label_name = JS_ATOM_NULL;$/a\
    emit_source_loc(s); /* hookhub: every statement'"'"'s position */'
patch_line '^#if defined(__wasi__)$' 's|^#if defined(__wasi__)$|#if 0 /* hookhub: the stack limit under WASI too */|'

# The config's JSON Schema, as the C string the kit exports.
{
	printf '#define HOOKHUB_CONFIG_SCHEMA \\\n'
	sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/"/' -e 's/$/\\n" \\/' "$js/config.schema.json"
	printf '""\n'
} >"$gen/schema.h"

# -O2; a 1 MiB stack, first in memory (engine.c keeps QuickJS's limit under it); no
# names or debug sections; paths mapped so the bytes do not depend on them.
"$CC" --target=wasm32-wasi -O2 -mexec-model=reactor -D_GNU_SOURCE \
	-ffile-prefix-map="$qjs"=quickjs -ffile-prefix-map="$here"=engine -ffile-prefix-map="$gen"=gen \
	-I"$gen" -I"$kit" -I"$qjs" \
	-Wl,--strip-all -Wl,-z,stack-size=1048576 -Wl,--stack-first \
	-o "${OUT:-$js/js.wasm}" \
	"$here/engine.c" "$gen/quickjs.c" "$qjs/libregexp.c" "$qjs/libunicode.c" "$qjs/cutils.c" "$qjs/xsum.c"

# The committed module notes the compiler that made it: another clang makes
# other bytes, and TestJSEngineIsItsSource compares only with the same one.
[ -n "${OUT:-}" ] || "$CC" --version | head -n 1 >"$here/clang-version.txt"
