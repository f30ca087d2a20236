package plugin

import (
	"runtime"
	"runtime/metrics"
	"unsafe"

	"github.com/hookhub/hookhub/sdk/abi"
)

// The buffer the host writes the input into; kept referenced so the
// collector never frees it while the host holds its address (outBuf, in
// plugin.go, likewise for the output).
var inBuf []byte

//go:wasmexport hookhub_abi_version
func abiVersion() int32 { return abi.Version }

// abiURL is never called: exported, it tells the host this module reads
// the input's URL (ABI 1.1, abi.URLExport).
//
//go:wasmexport hookhub_abi_url
func abiURL() {}

//go:wasmexport hookhub_alloc
func alloc(size int32) int32 {
	if size <= 0 {
		inBuf = inBuf[:0]
		return 0
	}
	if cap(inBuf) < int(size) {
		inBuf = make([]byte, size)
	}
	inBuf = inBuf[:size]
	return int32(uintptr(unsafe.Pointer(unsafe.SliceData(inBuf))))
}

// A Go guest's collector cannot run beside the plugin: the module runs
// only during a call, so a cycle the runtime starts (when the heap nears its
// goal) is done by the calls' own allocations, a little in each, with write
// barriers on across thousands of calls. The template's call on a 1 KiB
// event cost 18 µs that way. So every checkEvery calls the module looks at
// its heap, and when the calls until the next look may bring it to where
// the runtime would start a cycle (half the way from the live heap to the
// goal: the runtime starts before the goal), it collects at once, in one go
// (0.4-0.5 ms for the template, its roots mostly the module's data): 15 µs
// a call. A module whose live heap is over maxForcedLive is left to the
// runtime, so that no single call pauses for the marking of a large heap
// (a call has a time limit).
const (
	checkEvery    = 256
	maxForcedLive = 8 << 20
)

var (
	calls     int
	heapStats = []metrics.Sample{{Name: "/gc/heap/goal:bytes"}, {Name: "/gc/heap/live:bytes"},
		{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/gc/heap/allocs:bytes"}}
	lastAllocs uint64
)

// collectSoon collects now when the runtime would start a cycle before the
// next look.
func collectSoon() {
	metrics.Read(heapStats)
	goal, live := heapStats[0].Value.Uint64(), heapStats[1].Value.Uint64()
	heap, allocs := heapStats[2].Value.Uint64(), heapStats[3].Value.Uint64()
	window := allocs - lastAllocs // what the last checkEvery calls allocated
	lastAllocs = allocs
	if live <= maxForcedLive && goal > live && heap+2*window >= live+(goal-live)/2 {
		runtime.GC()
	}
}

//go:wasmexport hookhub_transform
func transform(ptr, size int32) int64 {
	if calls++; calls == checkEvery {
		calls = 0
		collectSoon()
	}
	var in []byte
	if size > 0 && len(inBuf) >= int(size) && int32(uintptr(unsafe.Pointer(unsafe.SliceData(inBuf)))) == ptr {
		in = inBuf[:size]
	}
	return packed(callReusing(handler, in))
}

//go:wasmexport hookhub_config_schema
func configSchemaExport() int64 { return packed(configSchema) }

func packed(b []byte) int64 {
	if len(b) == 0 {
		return 0
	}
	return int64(uintptr(unsafe.Pointer(unsafe.SliceData(b))))<<32 | int64(len(b))
}
