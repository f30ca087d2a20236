package pluginhost

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
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

// TestCheckOutputHeaders: an answer may not set a header twice in
// different letter case, nor a reserved one, with few headers (compared in
// pairs) or many (through the sorted path).
func TestCheckOutputHeaders(t *testing.T) {
	many := func(extra ...string) map[string]string {
		h := map[string]string{}
		for i := range 10 {
			h[fmt.Sprintf("X-H%d", i)] = "v"
		}
		for _, k := range extra {
			h[k] = "v"
		}
		return h
	}
	for _, c := range []struct {
		headers map[string]string
		want    string // "" for no error
	}{
		{map[string]string{"X-A": "1", "X-B": "2"}, ""},
		{map[string]string{"X-Crm-Id": "1", "x-crm-id": "2", "X-B": "3"}, `sets the X-Crm-Id header twice (as "X-Crm-Id" and "x-crm-id")`},
		{map[string]string{"X-A": "1", "Webhook-Signature": "forged"}, "may not set the Webhook-Signature header"},
		{many(), ""},
		{many("x-h3"), `sets the X-H3 header twice (as "X-H3" and "x-h3")`},
		{many("Content-Length"), "may not set the Content-Length header"},
	} {
		err := checkOutput("p", &abi.Output{Request: abi.Request{Headers: c.headers}})
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%v: %v", c.headers, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%v: got %v, want %q", c.headers, err, c.want)
		}
	}
}
