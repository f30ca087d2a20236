package pluginhost

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/hookhub/hookhub/hub/internal/wasmtest"
	"github.com/hookhub/hookhub/sdk/abi"
)

// TestRecursionRunsOutOfStack: a module that recurses without end fails its
// call with a reason that says so, long before wazero's own limit (which let
// it take some 165 MB beyond memory_mib: 1), its instance is dropped, and
// the next call works; in each isolation. In a worker the peak of the
// process's memory shows the bound (it grew by some 165 MB before, by under
// 10 MB now).
func TestRecursionRunsOutOfStack(t *testing.T) {
	wasm := wasmtest.BuildWAT(t, "hub/internal/pluginhost/testdata/wat/recurse.wat")
	ctx := context.Background()
	for _, mode := range []string{IsolationInProcess, IsolationProcess} {
		t.Run(mode, func(t *testing.T) {
			h := processHost(t)
			if err := h.Load(ctx, Module{Name: "rec", Wasm: wasm, MemoryMiB: 1, Timeout: 20 * time.Second, Instances: 1, Isolation: mode}); err != nil {
				t.Fatal(err)
			}
			before := 0
			if mode == IsolationProcess {
				before = peakMiB(t, h.plugins["rec"].wasm.(*procPool).workers()[0].cmd.Process.Pid)
			}
			for round := range 2 {
				_, err := h.Transform(ctx, "rec", &abi.Input{Webhook: "a webhook that makes it recurse"})
				if err == nil || err.Error() != "plugin rec: ran out of stack (calls nested too deep)" {
					t.Fatalf("round %d: got %v, want it to run out of stack", round, err)
				}
				if _, err := h.Transform(ctx, "rec", &abi.Input{}); err != nil {
					t.Fatalf("round %d: the next call: %v", round, err)
				}
			}
			if mode != IsolationProcess {
				return
			}
			ws := h.plugins["rec"].wasm.(*procPool).workers()
			if len(ws) != 1 {
				t.Fatalf("%d workers, want the one", len(ws))
			}
			if peak := peakMiB(t, ws[0].cmd.Process.Pid); peak-before > 48 {
				t.Errorf("the worker's memory peaked at %d MiB, %d MiB more than before the recursion; want the stack bounded (well under 48 MiB more)", peak, peak-before)
			}
		})
	}
}

// peakMiB reads a process's peak resident memory (VmHWM).
func peakMiB(t *testing.T, pid int) int {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) == 3 && f[0] == "VmHWM:" {
			kb, err := strconv.Atoi(f[1])
			if err != nil {
				t.Fatal(err)
			}
			return kb >> 10
		}
	}
	t.Fatal("no VmHWM in /proc/<pid>/status")
	return 0
}

// TestLimitStackRefusesWhatItCannotRead: a module the rewrite cannot read is
// refused with a reason, not loaded without its bound.
func TestLimitStackRefusesWhatItCannotRead(t *testing.T) {
	wasm := wasmtest.BuildWAT(t, "hub/internal/pluginhost/testdata/wat/recurse.wat")
	for _, bad := range [][]byte{nil, []byte("\x00asm\x01\x00\x00\x00\x01\xff"), wasm[:len(wasm)-3]} {
		if _, err := limitStack(bad); err == nil {
			t.Errorf("%q: rewritten", bad)
		}
	}
	h, err := New(Options{Log: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close(context.Background())
	if err := h.Load(context.Background(), Module{Name: "cut", Wasm: wasm[:len(wasm)-3]}); err == nil || !strings.Contains(err.Error(), "plugin cut: not a valid WebAssembly module") {
		t.Errorf("a truncated module: %v", err)
	}
	// Counts far beyond the bytes that follow them: a function type of
	// 826 million parameters, and a billion globals. wazero's decoder
	// allocated by such a count before reading (6.6 GB for the first, found
	// by FuzzRewrite): the hub must refuse them before wazero sees them.
	for name, claim := range map[string][]byte{
		"params":  {0x01, 0x07, 0x01, 0x60, 0xc8, 0x90, 0xbd, 0x8a, 0x03},
		"globals": {0x06, 0x06, 0x80, 0x80, 0x80, 0x80, 0x04, 0x00},
	} {
		huge := append([]byte("\x00asm\x01\x00\x00\x00"), claim...)
		if err := h.Load(context.Background(), Module{Name: name, Wasm: huge}); err == nil || !strings.Contains(err.Error(), "plugin "+name+": not a valid WebAssembly module") {
			t.Errorf("%s: %v", name, err)
		}
	}
	// A function of 60,000 locals (wazero allocates one entry per local).
	locals := []byte("\x00asm\x01\x00\x00\x00" +
		"\x01\x04\x01\x60\x00\x00" + // a type: () -> ()
		"\x03\x02\x01\x00" + // a function of it
		"\x05\x03\x01\x00\x01" + // a memory
		"\x0a\x08\x01\x06\x01\xe0\xd4\x03\x7f\x0b") // its body: 60,000 i32 locals, end
	if err := h.Load(context.Background(), Module{Name: "locals", Wasm: locals}); err == nil || !strings.Contains(err.Error(), "declares 60000 locals, more than 50000") {
		t.Errorf("locals: %v", err)
	}
}

// TestModuleCannotResetTheStackCounter: a module whose code names the
// global the stack counter or the stop flag takes (an index it does not
// have) is refused, not loaded with the counter or the flag in its hands.
func TestModuleCannotResetTheStackCounter(t *testing.T) {
	tool, err := exec.LookPath("wat2wasm")
	if err != nil {
		t.Skip("wat2wasm is not installed (Debian: apt-get install wabt)")
	}
	h := processHost(t)
	for _, name := range []string{"reset-stack", "reset-stop"} {
		out := filepath.Join(t.TempDir(), name+".wasm")
		src := filepath.Join(wasmtest.Root(t), "hub/internal/pluginhost/testdata/wat/"+name+".wat")
		if b, err := exec.Command(tool, "--no-check", src, "-o", out).CombinedOutput(); err != nil {
			t.Fatalf("wat2wasm: %v\n%s", err, b)
		}
		wasm, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		err = h.Load(context.Background(), Module{Name: "reset", Wasm: wasm, MemoryMiB: 1, Isolation: IsolationInProcess})
		if err == nil || !strings.Contains(err.Error(), "plugin reset: not a valid WebAssembly module") {
			t.Errorf("%s: got %v, want the module refused", name, err)
		}
	}
}
