package pluginhost_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hookhub/hookhub/hub/internal/pluginhost"
	"github.com/hookhub/hookhub/hub/internal/wasmtest"
)

// TestLoadErrorsSayWhatToDo: a module that cannot load fails with one error,
// on one line, that names the plugin and where it came from, says what is
// wrong and what to do; in each isolation.
func TestLoadErrorsSayWhatToDo(t *testing.T) {
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			h := newHostIn(t, mode)
			for _, tc := range []struct {
				file string
				want []string
			}{
				{"abort-import.wat", []string{
					"plugin bad (plugins/bad.wasm): imports env.abort, which the hub does not provide",
					"only WASI preview 1 (wasi_snapshot_preview1)",
					"build with --use abort=",
				}},
				{"abi-version-2.wat", []string{
					"plugin bad (plugins/bad.wasm): hookhub_abi_version returned 2, and this hub speaks ABI version 1",
					"rebuild the plugin with an SDK for ABI 1",
				}},
				{"missing-exports.wat", []string{
					"plugin bad (plugins/bad.wasm): does not export memory, hookhub_alloc: a plugin exports memory, hookhub_abi_version",
					"plugin.Handle",
					"and it exports hookhub_transform is (i32, i32) -> i32, want (i32, i32) -> i64",
					"see the ABI in sdk/README.md",
				}},
			} {
				wasm := wasmtest.BuildWAT(t, "hub/internal/pluginhost/testdata/wat/"+tc.file)
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				err := h.Load(ctx, pluginhost.Module{Name: "bad", Path: "plugins/bad.wasm", Wasm: wasm})
				cancel()
				if err == nil {
					t.Errorf("%s: loaded; want an error", tc.file)
					continue
				}
				msg := err.Error()
				if strings.Contains(msg, "\n") || strings.Count(msg, "plugin bad") != 1 {
					t.Errorf("%s: want one error naming the plugin once, got %q", tc.file, msg)
				}
				for _, w := range tc.want {
					if !strings.Contains(msg, w) {
						t.Errorf("%s: error %q\nlacks %q", tc.file, msg, w)
					}
				}
				if h.Has("bad") {
					t.Errorf("%s: the plugin is known after a failed load", tc.file)
				}
			}
		})
	}
}

// TestAnswerThatBreaksTheABI: a call whose answer is not the ABI's output
// fails with one error that names the plugin and the wire format, and the
// next call still gets an answer (a fresh instance).
func TestAnswerThatBreaksTheABI(t *testing.T) {
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			h := newHostIn(t, mode)
			ctx := context.Background()
			wasm := wasmtest.BuildWAT(t, "hub/internal/pluginhost/testdata/wat/bad-answer.wat")
			if err := h.Load(ctx, pluginhost.Module{Name: "bad", Wasm: wasm}); err != nil {
				t.Fatal(err)
			}
			for range 2 {
				_, err := h.Transform(ctx, "bad", input(10))
				if err == nil || !strings.HasPrefix(err.Error(), "plugin bad: its answer breaks the ABI (") ||
					!strings.Contains(err.Error(), `an answer is "HHO1"`) || strings.Contains(err.Error(), "\n") {
					t.Errorf("Transform: got %v; want one error saying the answer breaks the ABI", err)
				}
			}
		})
	}
}

// TestHeaderTwiceInOneAnswer: an answer that sets one header under two
// spellings is refused (which one would be sent is not defined), and the
// same header once passes.
func TestHeaderTwiceInOneAnswer(t *testing.T) {
	h := newHost(t)
	ctx := context.Background()
	if err := h.Load(ctx, pluginhost.Module{Name: "echo", Wasm: wasmtest.BuildWAT(t, "examples/wat-plugin/passthrough.wat")}); err != nil {
		t.Fatal(err)
	}
	in := input(10)
	in.Request.Headers = map[string]string{"x-crm-id": "1", "X-Crm-Id": "2"}
	_, err := h.Transform(ctx, "echo", in)
	if want := `plugin echo: sets the X-Crm-Id header twice (as "X-Crm-Id" and "x-crm-id")`; err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("got %v, want %q...", err, want)
	}
	in.Request.Headers = map[string]string{"x-crm-id": "1", "X-Other": "2"}
	if _, err := h.Transform(ctx, "echo", in); err != nil {
		t.Errorf("distinct headers: %v", err)
	}
}
