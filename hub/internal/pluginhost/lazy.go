package pluginhost

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/hookhub/hookhub/sdk/abi"
)

// Lazy is a WebAssembly plugin whose module is made only when something
// first needs it (a webhook's config checked, or a call): the js plugin's
// engine, which the hub builds from source.
type Lazy struct {
	// Module is loaded as Load would, with Wasm from Make.
	Module Module
	// Make returns the module's bytes; an error fails what needed it, and
	// the next need tries again.
	Make func(ctx context.Context) ([]byte, error)
	// CheckByCall has ValidateConfig also call the module with the config
	// and no events: an error it answers (such as a script's syntax error)
	// refuses the config. A module of the same name from Load is checked the
	// same way.
	CheckByCall bool
}

// makeLimit bounds making and loading a lazy module: the js engine's first
// compilation on a machine takes seconds, more on a busy one.
const makeLimit = 2 * time.Minute

type lazyEntry struct {
	mu sync.Mutex
	l  Lazy
}

// RegisterLazy adds a plugin whose module is made and loaded on first use.
// Load of a module of the same name (before or after) replaces it.
func (h *Host) RegisterLazy(l Lazy) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if l.CheckByCall {
		if h.checkByCall == nil {
			h.checkByCall = map[string]bool{}
		}
		h.checkByCall[l.Module.Name] = true
	}
	if e := h.plugins[l.Module.Name]; e != nil && e.lazy == nil {
		return // already loaded from a module the operator gave
	}
	h.plugins[l.Module.Name] = &entry{lazy: &lazyEntry{l: l}}
}

// ready returns the plugin's entry, making and loading a lazy module first.
func (h *Host) ready(ctx context.Context, name string) (*entry, error) {
	h.mu.RLock()
	e := h.plugins[name]
	h.mu.RUnlock()
	if e == nil || e.lazy == nil {
		return e, nil
	}
	e.lazy.mu.Lock()
	defer e.lazy.mu.Unlock()
	h.mu.RLock()
	cur := h.plugins[name]
	h.mu.RUnlock()
	if cur != e {
		return cur, nil // made by the call before this one, or replaced
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), makeLimit)
	defer cancel()
	start := time.Now()
	wasm, err := e.lazy.l.Make(ctx)
	if err != nil {
		return nil, fmt.Errorf("plugin %s: %w", name, err)
	}
	m := e.lazy.l.Module
	m.Wasm = wasm
	if err := h.Load(ctx, m); err != nil {
		return nil, err
	}
	h.log.Info().Str("plugin", name).Dur("took", time.Since(start)).Msg("plugin module made and loaded")
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.plugins[name], nil
}

// checkCall runs the plugin on config with no events: its own error
// refuses the config.
func (h *Host) checkCall(name string, config []byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), makeLimit)
	defer cancel()
	_, err := h.Transform(ctx, name, &abi.Input{Webhook: "config-check", Config: config})
	return err
}
