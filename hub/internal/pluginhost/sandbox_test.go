package pluginhost_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hookhub/hookhub/hub/internal/pluginhost"
	"github.com/hookhub/hookhub/hub/internal/wasmtest"
	"github.com/hookhub/hookhub/plugins"
)

// TestHostileGuests: each misbehaving module fails its call with a clear
// reason, the host survives, and a healthy plugin beside it keeps working;
// in each isolation.
func TestHostileGuests(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles six modules: slow under the race detector; runs in the full test run")
	}
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) { testHostileGuests(t, mode) })
	}
}

func testHostileGuests(t *testing.T, mode string) {
	h := newHostIn(t, mode)
	load(t, h, "healthy", "plugins/passthrough/wasm", 16, time.Second)
	cases := []struct {
		name    string
		mib     int
		timeout time.Duration
		want    string
	}{
		{"loop", 16, 200 * time.Millisecond, "exceeded its time limit"},
		{"memory", 16, 5 * time.Second, "plugin memory"},
		{"exit", 16, time.Second, "exited with code 3 (stderr: giving up)"},
		{"huge", 64, 5 * time.Second, "more than the limit"},
	}
	ctx := context.Background()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			load(t, h, c.name, "hub/internal/pluginhost/testdata/hostile/"+c.name, c.mib, c.timeout)
			for round := range 2 { // the spoiled instance is replaced, and fails the same way
				start := time.Now()
				_, err := h.Transform(ctx, c.name, input(100))
				if took := time.Since(start); c.name == "loop" && took > c.timeout+time.Second {
					t.Errorf("round %d: the looping call took %v, its limit is %v", round, took, c.timeout)
				}
				if err == nil || !strings.Contains(err.Error(), "plugin "+c.name) {
					t.Fatalf("round %d: got %v, want an error naming the plugin", round, err)
				}
				if c.name != "memory" && !strings.Contains(err.Error(), c.want) {
					t.Errorf("round %d: %v, want it to say %q", round, err, c.want)
				}
				if c.name == "memory" && !strings.Contains(err.Error(), "memory") && !strings.Contains(err.Error(), "trapped") {
					t.Errorf("round %d: %v, want it to say it ran out of memory or trapped", round, err)
				}
			}
			if _, err := h.Transform(ctx, "healthy", input(100)); err != nil {
				t.Errorf("the healthy plugin beside it failed: %v", err)
			}
		})
	}
}

// TestTimeLimitThenFresh: a call that runs past its limit fails at the
// limit, and the next call to the same plugin (a fresh instance, or worker)
// succeeds.
func TestTimeLimitThenFresh(t *testing.T) {
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			h := newHostIn(t, mode)
			const limit = 300 * time.Millisecond
			load(t, h, "sometimes", "hub/internal/pluginhost/testdata/hostile/sometimes", 16, limit)
			ctx := context.Background()
			for round := range 2 {
				loop := input(10)
				loop.Webhook = "loop"
				start := time.Now()
				_, err := h.Transform(ctx, "sometimes", loop)
				took := time.Since(start)
				if err == nil || err.Error() != "plugin sometimes: exceeded its time limit" {
					t.Fatalf("round %d: got %v, want it to exceed its time limit", round, err)
				}
				if took < limit || took > limit+500*time.Millisecond {
					t.Errorf("round %d: the call failed after %v, its limit is %v", round, took, limit)
				}
				in := input(10)
				out, err := h.Transform(ctx, "sometimes", in)
				if err != nil || string(out.Request.Body) != string(in.Request.Body) {
					t.Fatalf("round %d: the call after the time limit: %v", round, err)
				}
			}
		})
	}
}

// TestNoFilesNoRealClock: a module sees no file system, no environment, a
// fake clock and fake randomness; in each isolation.
func TestNoFilesNoRealClock(t *testing.T) {
	if testing.Short() {
		t.Skip("runs in the full test run")
	}
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) { testNoFilesNoRealClock(t, mode) })
	}
}

func testNoFilesNoRealClock(t *testing.T, mode string) {
	h := newHostIn(t, mode)
	load(t, h, "files", "hub/internal/pluginhost/testdata/hostile/files", 16, time.Second)
	load(t, h, "clock", "hub/internal/pluginhost/testdata/hostile/clock", 16, time.Second)
	out, err := h.Transform(context.Background(), "files", input(10))
	if err != nil {
		t.Fatal(err)
	}
	if got := string(out.Request.Body); !strings.HasPrefix(got, "read 0 bytes, err=") || strings.Contains(got, "err=<nil>") || !strings.HasSuffix(got, "env=0") {
		t.Errorf("the module read something: %s", got)
	}
	out, err = h.Transform(context.Background(), "clock", input(10))
	if err != nil {
		t.Fatal(err)
	}
	if year := time.Now().UTC().Format("2006"); strings.HasPrefix(string(out.Request.Body), year) {
		t.Errorf("the module saw the real clock: %s", out.Request.Body)
	}
}

func TestLoadRefusals(t *testing.T) {
	h := newHost(t)
	ctx := context.Background()
	wasm := wasmtest.Build(t, "plugins/passthrough/wasm")
	err := h.Load(ctx, pluginhost.Module{Name: "pinned", Wasm: wasm, SHA256: strings.Repeat("0", 64)})
	if err == nil || !strings.Contains(err.Error(), "the config pins") {
		t.Errorf("sha256 pin: got %v", err)
	}
	if err := h.Load(ctx, pluginhost.Module{Name: "junk", Wasm: []byte("not wasm")}); err == nil || !strings.Contains(err.Error(), "not a valid WebAssembly module") {
		t.Errorf("junk: got %v", err)
	}
	if _, err := h.Transform(ctx, "nothing", input(1)); err == nil {
		t.Error("an unknown plugin transformed")
	}
}

func TestValidateConfig(t *testing.T) {
	h := newHost(t)
	for name, p := range plugins.FirstParty {
		if err := h.Register(name, pluginhost.Native{Transform: p.Transform, ConfigSchema: p.ConfigSchema}); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.ValidateConfig("mapper", []byte(`{"filter":{"field":"data.plan","in":["pro"]},"rename":{"data.email":"email"}}`)); err != nil {
		t.Errorf("a good mapper config: %v", err)
	}
	err := h.ValidateConfig("mapper", []byte(`{"filter":{"feild":"data.plan"},"token":"s3cr3t-value"}`))
	if err == nil || !strings.Contains(err.Error(), "config.filter") || !strings.Contains(err.Error(), "token") {
		t.Errorf("a bad mapper config: got %v", err)
	}
	if err != nil && strings.Contains(err.Error(), "s3cr3t-value") {
		t.Errorf("a config value shows in the error: %v", err)
	}
	if err := h.ValidateConfig("nope", nil); err == nil {
		t.Error("an unknown plugin's config validated")
	}
	// A first-party plugin's schema is compiled on first use, not by
	// Register: each must compile, and the first check must say so if not.
	for name, p := range plugins.FirstParty {
		if len(p.ConfigSchema) == 0 {
			continue
		}
		if err := h.ValidateConfig(name, []byte(`{"no such field of any plugin":1,"filter":{"feild":1}}`)); err != nil && strings.Contains(err.Error(), "config schema") {
			t.Errorf("%s: its config schema does not compile: %v", name, err)
		}
	}
	bad := newHost(t)
	if err := bad.Register("broken", pluginhost.Native{Transform: plugins.FirstParty["passthrough"].Transform, ConfigSchema: []byte(`{"type":"nonsense"}`)}); err != nil {
		t.Fatal(err)
	}
	if err := bad.ValidateConfig("broken", []byte(`{}`)); err == nil || !strings.Contains(err.Error(), "plugin broken: config schema") {
		t.Errorf("a config checked against a schema that does not compile: got %v", err)
	}
	if err := bad.Register("notjson", pluginhost.Native{Transform: plugins.FirstParty["passthrough"].Transform, ConfigSchema: []byte(`{`)}); err == nil {
		t.Error("Register took a config schema that is not JSON")
	}
}
