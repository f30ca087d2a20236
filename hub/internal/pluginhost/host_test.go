package pluginhost_test

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/hookhub/hookhub/hub/internal/pluginhost"
	"github.com/hookhub/hookhub/hub/internal/wasmtest"
	"github.com/hookhub/hookhub/plugins"
	"github.com/hookhub/hookhub/sdk/abi"
)

const sampleEvent = `{"specversion":"1.0","id":"evt_2f9c","source":"crm/contacts","type":"contact.updated",
 "time":"2026-11-22T10:00:00Z","datacontenttype":"application/json","account":"acme","initiator":"api","lists":"12,15",
 "data":{"email":"ada@example.com","plan":"pro","attributes":{"FIRSTNAME":"Ada","NOTE":"%s"}}}`

func input(pad int) *abi.Input {
	ev := fmt.Sprintf(sampleEvent, strings.Repeat("x", pad))
	return &abi.Input{Webhook: "wh", Events: [][]byte{[]byte(ev)}, Request: abi.Request{
		ContentType: "application/json", Headers: map[string]string{"X-Tenant": "acme"},
		Body: []byte(`{"type":"contact.updated","timestamp":"2026-11-22T10:00:00Z","account":"acme","initiator":"api","data":{"email":"ada@example.com","plan":"pro","attributes":{"FIRSTNAME":"Ada"}}}`),
	}}
}

func newHost(t testing.TB) *pluginhost.Host {
	t.Helper()
	h, err := pluginhost.New(pluginhost.Options{CacheDir: t.TempDir(), Log: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.Close(context.Background()) })
	return h
}

func load(t testing.TB, h *pluginhost.Host, name, dir string, mib int, timeout time.Duration) {
	t.Helper()
	err := h.Load(context.Background(), pluginhost.Module{Name: name, Wasm: wasmtest.Build(t, dir), MemoryMiB: mib, Timeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
}

// TestConformance runs every first-party plugin's wasm build and the example
// plugin through what any plugin must do.
func TestConformance(t *testing.T) {
	dirs := map[string]string{"example": "examples/plugin"}
	for _, n := range wasmtest.FirstParty(t) {
		dirs[n] = "plugins/" + n + "/wasm"
	}
	for name, dir := range dirs {
		if testing.Short() && name != "passthrough" {
			continue // -short (the race run): one plugin shows the pool's concurrency
		}
		t.Run(name, func(t *testing.T) {
			h := newHost(t)
			load(t, h, name, dir, 16, time.Second)
			ctx := context.Background()
			in := input(800)
			if name == "mapper" {
				in.Config = []byte(`{"rename":{"data.email":"email"}}`)
			}

			// It answers a 1 KiB event within its limits, and round-trips:
			// the same input gives the same output, natively and in wasm.
			out, err := h.Transform(ctx, name, in)
			if err != nil {
				t.Fatalf("transform: %v", err)
			}
			if out.Skip || len(out.Request.Body) == 0 {
				t.Fatalf("empty answer: %+v", out)
			}
			if fp, ok := plugins.FirstParty[name]; ok {
				nin := input(800)
				nin.Config = in.Config
				native, err := fp.Transform(nin)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(native.Request.Body, out.Request.Body) {
					t.Errorf("wasm and native differ:\nwasm   %s\nnative %s", out.Request.Body, native.Request.Body)
				}
			}

			// Malformed input is an error, never a trap: the next call works.
			bad := &abi.Input{Webhook: "wh", Events: [][]byte{[]byte(`{not json`)}, Request: in.Request}
			if _, err := h.Transform(ctx, name, bad); err == nil && name != "passthrough" && name != "example" {
				t.Errorf("malformed event: no error")
			} else if err != nil && strings.Contains(err.Error(), "trapped") {
				t.Errorf("malformed event trapped the module: %v", err)
			}
			if _, err := h.Transform(ctx, name, in); err != nil {
				t.Errorf("after malformed input: %v", err)
			}

			// Signature headers cannot be set, whatever the plugin answers.
			sneaky := input(10)
			sneaky.Config = in.Config
			sneaky.Request.Headers = map[string]string{"webhook-signature": "v1,forged"}
			if _, err := h.Transform(ctx, name, sneaky); err == nil || !strings.Contains(err.Error(), "may not set the webhook-signature header") {
				t.Errorf("a webhook-signature header from the plugin: got %v", err)
			}

			// Concurrent calls share the pool safely.
			var wg sync.WaitGroup
			for range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if _, err := h.Transform(ctx, name, in); err != nil {
						t.Errorf("concurrent: %v", err)
					}
				}()
			}
			wg.Wait()
		})
	}
}
