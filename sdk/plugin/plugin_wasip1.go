package plugin

import (
	"runtime"
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

// collectEvery is the calls between two collections the module makes
// itself. A Go guest's collector cannot run beside the plugin: the module
// runs only during a call, so a cycle the runtime starts (when the heap
// reaches its goal) is done by the calls' allocations, a little in each,
// with write barriers on across thousands of calls. The template's call on
// a 1 KiB event cost 18 µs that way. A collection before every 2,048th call
// (0.4-0.5 ms, its roots mostly the module's data) keeps a plugin that
// allocates a few hundred bytes a call under the runtime's goal, so it never
// starts one of its own: 15 µs a call. A plugin that allocates more reaches
// the goal first and is collected as before, the collections here adding
// about 0.25 µs a call.
const collectEvery = 2048

var calls int

//go:wasmexport hookhub_transform
func transform(ptr, size int32) int64 {
	if calls++; calls == collectEvery {
		calls = 0
		runtime.GC()
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
