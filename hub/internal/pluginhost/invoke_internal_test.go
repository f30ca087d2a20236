package pluginhost

import (
	"context"
	"errors"
	"os/exec"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/tetratelabs/wazero"

	"github.com/hookhub/hookhub/hub/internal/wasmtest"
	"github.com/hookhub/hookhub/sdk/abi"
)

// TestMalformedBytesAreAnError: bytes that are not an ABI input make the
// guest answer an error (the Go SDK and the WAT plugin alike); the module
// does not trap, and its instance stays in use.
func TestMalformedBytesAreAnError(t *testing.T) {
	modules := map[string][]byte{"go": wasmtest.Build(t, "plugins/passthrough/wasm")}
	if _, err := lookWAT(); err == nil {
		modules["wat"] = wasmtest.BuildWAT(t, "examples/wat-plugin/passthrough.wat")
	}
	ctx := context.Background()
	for name, wasm := range modules {
		cache := wazero.NewCompilationCache()
		p, err := newPool(ctx, cache, Module{Name: name, Wasm: wasm, MemoryMiB: 16, Timeout: time.Second, Instances: 1}, zerolog.Nop())
		if err != nil {
			t.Fatal(err)
		}
		inst, _ := p.get(ctx, "")
		for _, junk := range [][]byte{[]byte("HHI1\xff\xff\xff\xff"), []byte("nonsense"), nil} {
			_, err := p.invoke(ctx, inst, junk)
			var ge *abi.GuestError
			if !errors.As(err, &ge) {
				t.Errorf("%s: %q: got %v, want the guest's error", name, junk, err)
			}
		}
		if _, err := p.invoke(ctx, inst, abi.AppendInput(nil, &abi.Input{Request: abi.Request{Body: []byte("ok")}})); err != nil {
			t.Errorf("%s: after junk: %v", name, err)
		}
		p.close(ctx)
	}
}

func lookWAT() (string, error) { return exec.LookPath("wat2wasm") }
