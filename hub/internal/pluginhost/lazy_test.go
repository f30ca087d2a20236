package pluginhost_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookhub/hookhub/hub/internal/pluginhost"
	"github.com/hookhub/hookhub/hub/internal/wasmtest"
)

// TestLazyModule: a lazy plugin is known before it is made, is made on its
// first use, once; a failure to make it fails that use with the reason and
// the next use tries again.
func TestLazyModule(t *testing.T) {
	h := newHost(t)
	wasm := wasmtest.Build(t, "plugins/passthrough/wasm")
	var made atomic.Int32
	h.RegisterLazy(pluginhost.Lazy{
		Module: pluginhost.Module{Name: "later", Timeout: time.Second},
		Make: func(context.Context) ([]byte, error) {
			if made.Add(1) == 1 {
				return nil, errors.New("no toolchain today")
			}
			return wasm, nil
		},
		CheckByCall: true,
	})
	if !h.Has("later") || made.Load() != 0 {
		t.Fatalf("registered: Has=%v, made %d times; want known and not made", h.Has("later"), made.Load())
	}
	ctx := context.Background()
	if _, err := h.Transform(ctx, "later", input(10)); err == nil || !strings.Contains(err.Error(), "plugin later: no toolchain today") {
		t.Fatalf("first use, making fails: got %v", err)
	}
	in := input(10)
	for range 3 {
		out, err := h.Transform(ctx, "later", in)
		if err != nil || string(out.Request.Body) != string(in.Request.Body) {
			t.Fatalf("after it is made: %v", err)
		}
	}
	if err := h.ValidateConfig("later", []byte(`{}`)); err != nil {
		t.Errorf("a config checked by a call: %v", err)
	}
	if n := made.Load(); n != 2 {
		t.Errorf("made %d times, want 2 (a failure, then once)", n)
	}
}
