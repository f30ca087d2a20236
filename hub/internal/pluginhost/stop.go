package pluginhost

import (
	"fmt"
)

// A guest in the hub's process must stop at its call's time limit. wazero's
// own way (WithCloseOnContextDone) leaves the guest's native code for Go at
// the head of every loop, about 70 ns each time, which made a C plugin that
// reads its JSON byte by byte several times slower in process than in a
// worker. So the host stops a guest much as wasmtime's epoch interruption
// does. The module is rewritten (with limitStack's rewrite) so that every
// function's entry (in its stack wrapper) counts down a global, tickGlobal,
// and the head of every loop counts up a local the rewrite adds to the
// function: a register's increment and a test in the compiled code, where
// the global costs a load and a store. Every ticks-th time, the guest
//
//   - traps (unreachable) if the host has set stopGlobal, which it does at
//     the call's limit (see instance.armFor); the instance is then closed like
//     any that trapped;
//   - leaves its native code for Go (memory.grow 0, which changes nothing),
//     because the Go runtime cannot preempt code it did not compile: without
//     that exit, a guest that runs on would hold up the runtime's
//     stop-the-world pauses (the garbage collector's) for the whole hub,
//     and with them the very timer that sets the stop flag.
//
// A guest cannot wait anywhere else: its only imports are WASI's, whose
// clocks and sleep are wazero's fakes (a sleep returns at once) and whose
// stdin is empty.
const (
	stopGlobal = "hookhub.stop"
	tickGlobal = "hookhub.tick"
	// ticks is the count between two looks at the stop flag: a few µs of a
	// guest's loops.
	ticks = 4096
)

// startExport names the module's start function, which the rewrite turns
// into an export so that the host calls it under the time limit (a start
// section would run inside instantiation, before the stop global can be
// reached).
const startExport = "hookhub.start"

// appendCheck appends the code the rewrite puts at each function's entry:
// tick -= 1; if tick == 0 { tick = ticks; stopHere }.
func appendCheck(dst []byte, stop, tick uint32) []byte {
	dst = appendOp(dst, 0x23, tick)
	dst = append(dst, 0x41, 0x7f, 0x6a) // i32.const -1, i32.add
	dst = appendOp(dst, 0x24, tick)
	dst = appendOp(dst, 0x23, tick)
	dst = append(dst, 0x45, 0x04, 0x40) // i32.eqz, if
	dst = appendI32Const(dst, ticks)
	dst = appendOp(dst, 0x24, tick)
	dst = appendStopHere(dst, stop)
	return append(dst, 0x0b) // end
}

// appendLoopCheck appends the code the rewrite puts at each loop's head,
// with the function's added local n: n += 1; if n & (ticks-1) == 0 {
// stopHere }.
func appendLoopCheck(dst []byte, stop, n uint32) []byte {
	dst = appendOp(dst, 0x20, n)
	dst = append(dst, 0x41, 0x01, 0x6a) // i32.const 1, i32.add
	dst = appendOp(dst, 0x22, n)        // local.tee
	dst = appendI32Const(dst, ticks-1)
	dst = append(dst, 0x71, 0x45, 0x04, 0x40) // i32.and, i32.eqz, if
	dst = appendStopHere(dst, stop)
	return append(dst, 0x0b) // end
}

// appendStopHere appends: if stop { unreachable }; drop(memory.grow 0).
func appendStopHere(dst []byte, stop uint32) []byte {
	dst = appendOp(dst, 0x23, stop)
	dst = append(dst, 0x04, 0x40, 0x00, 0x0b) // if unreachable end
	return append(dst, 0x41, 0x00, 0x40, 0x00, 0x1a)
}

// addLoopChecks returns a function's code entry (its size, locals and body)
// with a check (appendLoopCheck) after every loop's block type, and the
// local it counts in declared after the others (so no index changes), for
// a function of nparams parameters. It decodes every instruction of the
// body (WebAssembly 2.0: the MVP, sign extension, saturating conversions,
// bulk memory, reference types, multiple values and SIMD) and refuses what
// it cannot read; the body must end at its last byte, with its blocks
// balanced, which a misread would not.
func addLoopChecks(entry []byte, nparams, stop uint32) ([]byte, error) {
	r := reader{b: entry}
	size := r.u32()
	body := r.take(size)
	if r.err != nil {
		return nil, r.err
	}
	if len(r.b) != 0 {
		return nil, fmt.Errorf("%d bytes after the body", len(r.b))
	}
	r = reader{b: body}
	groups := r.u32()
	afterCount := len(body) - len(r.b) // the count may be a padded LEB128
	n := uint64(nparams)
	for i := 0; i < int(groups) && r.err == nil; i++ {
		n += uint64(r.u32())
		valueTypes(&r, r.take(1))
	}
	if r.err != nil {
		return nil, r.err
	}
	if n >= 1<<32-1 {
		return nil, fmt.Errorf("%d locals", n)
	}
	counter := uint32(n)
	// The locals, one group more: a single i32.
	out := appendU32(nil, groups+1)
	out = append(out, body[afterCount:len(body)-len(r.b)]...)
	out = append(out, 0x01, 0x7f)
	copied := len(body) - len(r.b) // body[:copied] is in out (its locals, as above)
	loops := 0
	depth := 0
walk:
	for r.err == nil {
		if len(r.b) == 0 {
			r.fail("the body ends inside a block")
			break
		}
		op := r.byte()
		switch {
		case op == 0x02 || op == 0x04: // block, if
			blockType(&r)
			depth++
		case op == 0x03: // loop
			blockType(&r)
			depth++
			at := len(body) - len(r.b)
			out = append(out, body[copied:at]...)
			out = appendLoopCheck(out, stop, counter)
			copied = at
			loops++
		case op == 0x0b: // end
			depth--
			if depth < 0 {
				if len(r.b) != 0 {
					r.fail(fmt.Sprintf("%d bytes after the body's end", len(r.b)))
				}
				break walk
			}
		case op == 0x00, op == 0x01, op == 0x05, op == 0x0f, op == 0x1a, op == 0x1b, op == 0xd1,
			op >= 0x45 && op <= 0xc4: // no immediates
		case op == 0x0c, op == 0x0d, op == 0x10, op == 0xd2, op >= 0x20 && op <= 0x26,
			op == 0x3f, op == 0x40: // one index
			r.u32()
		case op == 0x0e: // br_table
			n := r.u32()
			for i := uint32(0); i <= n && r.err == nil; i++ {
				r.u32()
			}
		case op == 0x11: // call_indirect
			r.u32()
			r.u32()
		case op == 0x1c: // select t*
			valueTypes(&r, r.take(r.u32()))
		case op >= 0x28 && op <= 0x3e: // loads and stores
			memArg(&r)
		case op == 0x41: // i32.const
			r.sleb(5)
		case op == 0x42: // i64.const
			r.sleb(10)
		case op == 0x43:
			r.take(4)
		case op == 0x44:
			r.take(8)
		case op == 0xd0: // ref.null
			r.byte()
		case op == 0xfc:
			miscOp(&r)
		case op == 0xfd:
			simdOp(&r)
		default:
			r.fail(fmt.Sprintf("opcode 0x%x, which the host does not enable", op))
		}
	}
	if r.err != nil {
		return nil, fmt.Errorf("at byte %d of its body: %v", len(body)-len(r.b), r.err)
	}
	if loops == 0 {
		return entry, nil
	}
	out = append(out, body[copied:]...)
	return append(appendU32(nil, uint32(len(out))), out...), nil
}

// blockType skips a block type: empty (0x40), a value type, or a type index
// (a positive signed LEB128).
func blockType(r *reader) {
	if len(r.b) == 0 {
		r.fail("truncated")
		return
	}
	switch r.b[0] {
	case 0x40, 0x7f, 0x7e, 0x7d, 0x7c, 0x7b, 0x70, 0x6f:
		r.byte()
	default:
		if r.b[0]&0x40 != 0 { // negative: no type index is
			r.fail(fmt.Sprintf("block type 0x%x", r.b[0]))
			return
		}
		r.sleb(5) // s33
	}
}

// memArg skips a load's or store's alignment (with a memory index when its
// bit 6 is set) and offset.
func memArg(r *reader) {
	if r.u32()&0x40 != 0 {
		r.u32()
	}
	r.u64()
}

// miscOp skips the 0xfc instructions: saturating conversions, bulk memory
// and tables.
func miscOp(r *reader) {
	switch sub := r.u32(); {
	case sub <= 7: // trunc_sat
	case sub == 8, sub == 10, sub == 12, sub == 14: // memory.init, memory.copy, table.init, table.copy
		r.u32()
		r.u32()
	case sub == 9, sub == 11, sub == 13, sub == 15, sub == 16, sub == 17: // data.drop, memory.fill, elem.drop, table.grow, .size, .fill
		r.u32()
	default:
		r.fail(fmt.Sprintf("opcode 0xfc %d", sub))
	}
}

// simdOp skips the 0xfd (fixed-width SIMD) instructions.
func simdOp(r *reader) {
	switch sub := r.u32(); {
	case sub <= 11, sub == 92, sub == 93: // loads and stores
		memArg(r)
	case sub == 12, sub == 13: // v128.const, i8x16.shuffle
		r.take(16)
	case sub >= 21 && sub <= 34: // extract_lane, replace_lane
		r.byte()
	case sub >= 84 && sub <= 91: // load_lane, store_lane
		memArg(r)
		r.byte()
	case sub <= 255: // the rest: no immediates
	default:
		r.fail(fmt.Sprintf("opcode 0xfd %d (relaxed SIMD), which the host does not enable", sub))
	}
}

// sleb skips a signed LEB128 number of at most max bytes.
func (r *reader) sleb(max int) {
	for i := 0; i < max; i++ {
		if r.byte()&0x80 == 0 {
			return
		}
	}
	r.fail("a malformed number")
}
