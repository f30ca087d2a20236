package pluginhost

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/tetratelabs/wazero"

	"github.com/hookhub/hookhub/hub/internal/wasmtest"
	"github.com/hookhub/hookhub/sdk/abi"
)

// BenchmarkRoundTrip times the host's own part of a call, on a 1 KiB
// event, with two modules in WebAssembly text (no guest runtime to time):
// pass (examples/wat-plugin: the least a plugin can do) and scan (the same,
// after reading each byte of its input in a loop, 1,181 iterations, as
// a JSON reader in C or AssemblyScript does); and, when
// HOOKHUB_BENCH_WASM names a .wasm file, that module as "extra". Each runs
//
//   - interrupt: in the hub's process, as Isolation "in_process" does (the
//     stop flag armed at each call's limit, see stop.go);
//   - nocheck: in the hub's process with the flag never armed (what a
//     worker runs; not a mode the hub offers, since nothing would stop the
//     guest);
//   - process: in a worker process, as Isolation "process" does (the frames
//     over the pipes, both sides).
//
// So interrupt-nocheck is what arming the stop costs, and process-nocheck
// what the worker round trip costs:
//
//	go test -run '^$' -bench RoundTrip -benchmem -count 6 ./hub/internal/pluginhost/
func BenchmarkRoundTrip(b *testing.B) {
	if _, err := lookWAT(); err != nil {
		b.Skip("wat2wasm is not installed")
	}
	for _, mod := range []struct{ name, file string }{
		{"pass", "examples/wat-plugin/passthrough.wat"},
		{"scan", "hub/internal/pluginhost/testdata/wat/scan.wat"},
		{"extra", os.Getenv("HOOKHUB_BENCH_WASM")},
	} {
		var wasm []byte
		switch {
		case strings.HasSuffix(mod.file, ".wat"):
			wasm = wasmtest.BuildWAT(b, mod.file)
		case mod.file == "":
			continue
		default:
			var err error
			if wasm, err = os.ReadFile(mod.file); err != nil {
				b.Fatal(err)
			}
		}
		m := Module{Name: mod.name, Wasm: wasm, MemoryMiB: 16, Timeout: time.Second, Instances: 1}
		for _, mode := range []string{"interrupt", "nocheck", "process"} {
			b.Run(mod.name+"/"+mode, func(b *testing.B) {
				ctx := context.Background()
				var r runner
				var err error
				switch mode {
				case "interrupt":
					r, err = newPool(ctx, wazero.NewCompilationCache(), m, zerolog.Nop())
				case "nocheck":
					r, err = newPoolWith(ctx, wazero.NewCompilationCache(), m, zerolog.Nop(), false, nil)
				case "process":
					r, err = newProcPool(ctx, m, []string{os.Args[0]}, []string{"HOOKHUB_TEST_PLUGIN_WORKER=1"}, b.TempDir(), zerolog.Nop())
				}
				if err != nil {
					b.Fatal(err)
				}
				defer r.close(ctx)
				in := benchInput()
				b.ReportAllocs()
				cpu0 := cpuTime(b, r)
				for b.Loop() {
					if _, err := r.call(ctx, in); err != nil {
						b.Fatal(err)
					}
				}
				// CPU, not wall time: the machine may be shared.
				b.ReportMetric(float64((cpuTime(b, r)-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
			})
		}
	}
}

// cpuTime is the CPU this process and r's worker processes have used.
func cpuTime(b *testing.B, r runner) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	t := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	if p, ok := r.(*procPool); ok {
		for _, w := range p.workers() {
			t += threadsTime(b, w.cmd.Process.Pid)
		}
	}
	return t
}

// threadsTime is the CPU the threads of process pid have used, from
// /proc/PID/task/*/schedstat (nanoseconds on the CPU first).
func threadsTime(b *testing.B, pid int) time.Duration {
	files, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/schedstat", pid))
	var t time.Duration
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			continue // a thread gone meanwhile
		}
		ns, err := strconv.ParseInt(strings.Fields(string(raw))[0], 10, 64)
		if err != nil {
			b.Fatal(err)
		}
		t += time.Duration(ns)
	}
	return t
}

// benchInput is a 1 KiB event and the request built from it.
func benchInput() *abi.Input {
	ev := `{"specversion":"1.0","id":"evt_2f9c","source":"crm/contacts","type":"contact.updated","account":"acme",` +
		`"data":{"email":"ada@example.com","plan":"pro","attributes":{"FIRSTNAME":"Ada","NOTE":"` + strings.Repeat("x", 800) + `"}}}`
	return &abi.Input{Webhook: "wh", Events: [][]byte{[]byte(ev)}, Request: abi.Request{
		ContentType: "application/json", Headers: map[string]string{"X-Tenant": "acme"},
		Body: []byte(`{"type":"contact.updated","timestamp":"2026-11-22T10:00:00Z","account":"acme","data":{"email":"ada@example.com"}}`),
	}}
}
