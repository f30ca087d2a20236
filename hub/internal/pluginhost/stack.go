package pluginhost

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"github.com/tetratelabs/wazero/api"
)

// A guest's call stack lies outside its memory cap: wazero grows it, for a
// module that recurses without end, to about 84 MB before it gives up (some
// 165 MB of the process at the peak, per instance), and offers no knob to
// bound it. So the host bounds it in the module itself: limitStack rewrites
// the module so that each of its functions counts, on entry, an estimate of
// its frame (stackFrameBase plus stackPerValue per parameter and local) in a
// global, traps once the sum passes stackBudget, and takes its frame off on
// return. A trapped instance is dropped like any other, and the next call
// gets a fresh one.
//
// How: each function defined by the module keeps its index but becomes a
// wrapper that counts and calls the function's original body, moved to a new
// index. Every call, table entry, export and the start function thus reach
// the wrapper. The count unwinds by returns only: modules that use exception
// handling or tail calls (which the host does not enable) are not compiled
// anyway.
//
// The same rewrite adds the stop checks of stop.go: one in each wrapper, one
// at the head of each loop in the bodies (the only part that decodes the
// code), and the globals and exports they use; the start section becomes an
// export.
const (
	stackBudget    = 4 << 20 // estimated bytes of nested frames
	stackFrameBase = 64      // a wrapper's and a body's frames, beyond their values
	stackPerValue  = 8
	// stackGlobal exports the count, so that a trap can be told apart.
	stackGlobal = "hookhub.stack"
	// maxLocals bounds a function's locals, as browsers' engines do.
	maxLocals = 50000
)

// errStackRewrite is a module limitStack cannot read: it is refused.
var errStackRewrite = errors.New("malformed WebAssembly module")

// stackExhausted reports whether a module trapped at the stack budget.
func stackExhausted(mod api.Module) bool {
	if mod == nil {
		return false
	}
	g := mod.ExportedGlobal(stackGlobal)
	return g != nil && uint32(g.Get()) > stackBudget
}

// limitStack returns the module rewritten to trap past stackBudget (see
// above), or an error naming what it could not read.
func limitStack(wasm []byte) ([]byte, error) {
	if len(wasm) < 8 || string(wasm[:4]) != "\x00asm" {
		return nil, fmt.Errorf("%w: no WebAssembly header", errStackRewrite)
	}
	type section struct {
		id   byte
		body []byte
	}
	var secs []section
	for r := (reader{b: wasm[8:]}); len(r.b) > 0; {
		id := r.byte()
		n := r.u32()
		body := r.take(n)
		if r.err != nil {
			return nil, fmt.Errorf("%w: section %d: %v", errStackRewrite, id, r.err)
		}
		// A vector's count is bounded by its bytes (each entry takes one
		// at least): wazero allocates by the count before it reads the
		// entries, so a module claiming a billion types or globals in a
		// few bytes made it ask for gigabytes (found by FuzzRewrite).
		if id >= 1 && id <= 11 && id != 8 {
			vr := reader{b: body}
			if n := vr.u32(); vr.err == nil && uint64(n) > uint64(len(vr.b)) {
				return nil, fmt.Errorf("%w: section %d claims %d entries in %d bytes", errStackRewrite, id, n, len(vr.b))
			}
		}
		secs = append(secs, section{id, body})
	}
	var (
		params                       []int // by type index
		importedFuncs, importedGlobs uint32
		funcTypes                    []uint32
		definedGlobs                 uint32
		codes                        [][]byte // each body with its size
		start                        *uint32  // the start function
		memories                     uint32
	)
	for _, s := range secs {
		r := reader{b: s.body}
		switch s.id {
		case 1: // types
			for i, n := 0, r.u32(); i < int(n) && r.err == nil; i++ {
				if r.byte() != 0x60 {
					return nil, fmt.Errorf("%w: type %d is not a function type", errStackRewrite, i)
				}
				np := r.u32()
				valueTypes(&r, r.take(np))
				valueTypes(&r, r.take(r.u32()))
				params = append(params, int(np))
			}
		case 2: // imports
			for i, n := 0, r.u32(); i < int(n) && r.err == nil; i++ {
				r.take(r.u32())
				r.take(r.u32())
				switch kind := r.byte(); kind {
				case 0: // function
					r.u32()
					importedFuncs++
				case 1: // table
					r.byte()
					r.limits()
				case 2: // memory
					r.limits()
					memories++
				case 3: // global
					r.byte()
					r.byte()
					importedGlobs++
				default:
					r.fail(fmt.Sprintf("import %d of kind %d", i, kind))
				}
			}
		case 3: // functions
			for i, n := 0, r.u32(); i < int(n) && r.err == nil; i++ {
				funcTypes = append(funcTypes, r.u32())
			}
		case 5: // memories
			memories += r.u32()
		case 6: // globals
			definedGlobs = r.u32()
		case 8: // start
			f := r.u32()
			start = &f
		case 10: // code
			for i, n := 0, r.u32(); i < int(n) && r.err == nil; i++ {
				start := r.b
				size := r.u32()
				r.take(size)
				codes = append(codes, start[:len(start)-len(r.b)])
			}
		}
		if r.err != nil {
			return nil, fmt.Errorf("%w: section %d: %v", errStackRewrite, s.id, r.err)
		}
	}
	if len(funcTypes) != len(codes) {
		return nil, fmt.Errorf("%w: %d functions, %d bodies", errStackRewrite, len(funcTypes), len(codes))
	}
	if len(codes) == 0 {
		return wasm, nil
	}
	if memories == 0 { // the checks' memory.grow needs one
		return nil, fmt.Errorf("%w: it has no memory, where a plugin's input and answer lie", errStackRewrite)
	}
	counter := importedGlobs + definedGlobs
	stop, tick := counter+1, counter+2
	k := uint32(len(funcTypes))

	// The new sections.
	var fn, code []byte
	fn = appendU32(fn, 2*k)
	for _, t := range funcTypes {
		fn = appendU32(fn, t)
	}
	for _, t := range funcTypes {
		fn = appendU32(fn, t)
	}
	code = appendU32(code, 2*k)
	for i, t := range funcTypes {
		if int(t) >= len(params) {
			return nil, fmt.Errorf("%w: function %d has no type %d", errStackRewrite, i, t)
		}
		locals, err := countLocals(codes[i])
		if err != nil {
			return nil, fmt.Errorf("%w: function %d: %v", errStackRewrite, i, err)
		}
		if locals > maxLocals { // wazero allocates one entry per local
			return nil, fmt.Errorf("%w: function %d declares %d locals, more than %d", errStackRewrite, i, locals, maxLocals)
		}
		weight := stackFrameBase + stackPerValue*(2*uint64(params[t])+min(locals, 1<<20))
		code = appendWrapper(code, uint32(params[t]), importedFuncs+k+uint32(i), counter, stop, tick, int32(weight))
	}
	for i, c := range codes {
		c, err := addLoopChecks(c, uint32(params[funcTypes[i]]), stop)
		if err != nil {
			return nil, fmt.Errorf("%w: function %d: %v", errStackRewrite, importedFuncs+uint32(i), err)
		}
		code = append(code, c...)
	}
	zero := []byte{0x7f, 0x01, 0x41, 0x00, 0x0b} // mutable i32 = 0
	globals := append(append([]byte(nil), zero...), zero...)
	globals = append(appendI32Const(append(globals, 0x7f, 0x01), ticks), 0x0b)
	exports := appendU32(append(appendName(nil, stackGlobal), 0x03), counter)
	exports = appendU32(append(appendName(exports, stopGlobal), 0x03), stop)
	exports = appendU32(append(appendName(exports, tickGlobal), 0x03), tick)
	newExports := uint32(3)
	if start != nil {
		exports = appendU32(append(appendName(exports, startExport), 0x00), *start)
		newExports++
	}

	// Sections in their order, with the new global and export added.
	rank := map[byte]int{1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 13: 6, 6: 7, 7: 8, 8: 9, 9: 10, 12: 11, 10: 12, 11: 13}
	out := append([]byte(nil), wasm[:8]...)
	put := func(id byte, body []byte) {
		out = append(out, id)
		out = appendU32(out, uint32(len(body)))
		out = append(out, body...)
	}
	addVec := func(body []byte, added uint32, entries []byte) []byte { // more entries in a vector section
		r := reader{b: body}
		n := r.u32()
		return append(appendU32(nil, n+added), append(append([]byte(nil), r.b...), entries...)...)
	}
	haveGlobal, haveExport := false, false
	for _, s := range secs {
		if s.id != 0 {
			if !haveGlobal && rank[s.id] > rank[6] {
				put(6, addVec([]byte{0}, 3, globals))
				haveGlobal = true
			}
			if !haveExport && rank[s.id] > rank[7] {
				put(7, addVec([]byte{0}, newExports, exports))
				haveExport = true
			}
		}
		switch s.id {
		case 0:
			// DWARF would point into the code as it was: drop it.
			if r := (reader{b: s.body}); strings.HasPrefix(string(r.take(r.u32())), ".debug_") {
				continue
			}
			put(0, s.body)
		case 3:
			put(3, fn)
		case 6:
			put(6, addVec(s.body, 3, globals))
			haveGlobal = true
		case 7:
			put(7, addVec(s.body, newExports, exports))
			haveExport = true
		case 8:
			// The start function becomes an export (see startExport).
		case 10:
			put(10, code)
		default:
			put(s.id, s.body)
		}
	}
	if !haveGlobal {
		put(6, addVec([]byte{0}, 3, globals))
	}
	if !haveExport {
		put(7, addVec([]byte{0}, newExports, exports))
	}
	return out, nil
}

// appendWrapper appends the body of a function that adds weight to the
// counter global, traps past the budget, calls the function at index inner
// with its nparams parameters, and takes the weight off again.
func appendWrapper(dst []byte, nparams, inner, counter, stop, tick uint32, weight int32) []byte {
	var b []byte
	b = append(b, 0x00) // no locals
	b = appendCheck(b, stop, tick)
	b = appendOp(b, 0x23, counter)              // global.get
	b = appendI32Const(b, weight)               //
	b = append(b, 0x6a)                         // i32.add
	b = appendOp(b, 0x24, counter)              // global.set
	b = appendOp(b, 0x23, counter)              // global.get
	b = appendI32Const(b, stackBudget)          //
	b = append(b, 0x4b, 0x04, 0x40, 0x00, 0x0b) // i32.gt_u if unreachable end
	for i := range nparams {
		b = appendOp(b, 0x20, i) // local.get
	}
	b = appendOp(b, 0x10, inner)   // call
	b = appendOp(b, 0x23, counter) // global.get
	b = appendI32Const(b, weight)
	b = append(b, 0x6b)            // i32.sub
	b = appendOp(b, 0x24, counter) // global.set
	b = append(b, 0x0b)            // end
	dst = appendU32(dst, uint32(len(b)))
	return append(dst, b...)
}

// countLocals reads the locals a function body (with its size) declares.
func countLocals(entry []byte) (uint64, error) {
	r := reader{b: entry}
	r.u32() // size
	var n uint64
	for i, groups := 0, r.u32(); i < int(groups) && r.err == nil; i++ {
		n += uint64(r.u32())
		r.byte()
	}
	return n, r.err
}

// valueTypes checks that ts are value types of one byte each (no GC
// proposal, which wazero does not take either).
func valueTypes(r *reader, ts []byte) {
	for _, t := range ts {
		switch t {
		case 0x7f, 0x7e, 0x7d, 0x7c, 0x7b, 0x70, 0x6f:
		default:
			r.fail(fmt.Sprintf("value type 0x%x", t))
		}
	}
}

func appendOp(dst []byte, op byte, x uint32) []byte { return appendU32(append(dst, op), x) }

func appendI32Const(dst []byte, v int32) []byte {
	dst = append(dst, 0x41)
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if (v == 0 && c&0x40 == 0) || (v == -1 && c&0x40 != 0) {
			return append(dst, c)
		}
		dst = append(dst, c|0x80)
	}
}

func appendU32(dst []byte, v uint32) []byte {
	return binary.AppendUvarint(dst, uint64(v)) // LEB128 is the uvarint
}

func appendName(dst []byte, s string) []byte {
	return append(appendU32(dst, uint32(len(s))), s...)
}

// reader reads a module's bytes; its first error sticks.
type reader struct {
	b   []byte
	err error
}

func (r *reader) fail(what string) {
	if r.err == nil {
		r.err = errors.New(what)
	}
	r.b = nil
}

func (r *reader) byte() byte {
	if len(r.b) == 0 {
		r.fail("truncated")
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *reader) u32() uint32 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 || n > 5 || v > 1<<32-1 {
		r.fail("a malformed number")
		return 0
	}
	r.b = r.b[n:]
	return uint32(v)
}

func (r *reader) u64() {
	if _, n := binary.Uvarint(r.b); n <= 0 || n > 10 {
		r.fail("a malformed number")
		return
	}
	_, n := binary.Uvarint(r.b)
	r.b = r.b[n:]
}

func (r *reader) take(n uint32) []byte {
	if uint64(n) > uint64(len(r.b)) {
		r.fail("truncated")
		return nil
	}
	b := r.b[:n]
	r.b = r.b[n:]
	return b
}

// limits skips a table's or memory's limits (memory64 and shared alike).
func (r *reader) limits() {
	flags := r.byte()
	r.u64()
	if flags&1 != 0 {
		r.u64()
	}
}
