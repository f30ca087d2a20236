// Package pluginhost runs transform plugins for the delivery engine.
//
// # Trust
//
// First-party plugins (package plugins) are hub code: they run natively, as
// the Go functions they are, at native speed. A module from the config (a
// customer's plugin) is untrusted: it runs in wazero with no file system,
// network, real clock or real randomness, a memory cap, and a time limit per
// call enforced by closing the instance when the call's context ends
// (WithCloseOnContextDone). The first-party plugins' WebAssembly builds run
// the same way when an operator lists them under plugins[], and the
// conformance suite runs them so.
//
// # Instances
//
// Each module is compiled once (with an on-disk compilation cache, so a
// restart does not recompile) and instantiated lazily into a pool, one
// instance per concurrent call up to a bound. An instance that trapped, ran
// out of time or memory, or answered something malformed is closed and
// replaced, never reused.
package pluginhost

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"runtime"
	"sort"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/hookhub/hookhub/hub/internal/schemacheck"
	"github.com/hookhub/hookhub/sdk/abi"
)

// Defaults of a module's limits.
const (
	DefaultMemoryMiB = 16
	DefaultTimeout   = 100 * time.Millisecond
	// MaxOutput bounds what a module may answer.
	MaxOutput = 8 << 20
	// defaultInitTimeout bounds instantiating a module (the Go runtime's
	// start-up), beside ten times the call limit.
	defaultInitTimeout = 5 * time.Second
)

// Native is a first-party plugin run as Go code.
type Native struct {
	Transform    func(*abi.Input) (*abi.Output, error)
	ConfigSchema []byte // JSON Schema of its config, or nil
}

// Module is a WebAssembly plugin to load.
type Module struct {
	Name      string
	Wasm      []byte
	SHA256    string // refuse the module unless it hashes to this (hex), when set
	MemoryMiB int
	Timeout   time.Duration
	// Instances bounds the instances (so the calls at once); 0 means GOMAXPROCS*2.
	Instances int
}

// Options configure a Host.
type Options struct {
	// CacheDir holds compiled modules across restarts ("" for none).
	CacheDir string
	Log      zerolog.Logger
}

// Host runs plugins. It is safe for concurrent use.
type Host struct {
	log   zerolog.Logger
	cache wazero.CompilationCache

	mu      sync.RWMutex
	plugins map[string]*entry
}

type entry struct {
	native *Native
	wasm   *pool
	schema *jsonschema.Schema
}

// New returns a host with no plugins.
func New(o Options) (*Host, error) {
	h := &Host{log: o.Log.With().Str("component", "plugins").Logger(), plugins: map[string]*entry{}}
	if o.CacheDir != "" {
		if err := os.MkdirAll(o.CacheDir, 0o750); err != nil {
			return nil, fmt.Errorf("plugins: cache dir: %w", err)
		}
		c, err := wazero.NewCompilationCacheWithDir(o.CacheDir)
		if err != nil {
			return nil, fmt.Errorf("plugins: cache dir: %w", err)
		}
		h.cache = c
	} else {
		h.cache = wazero.NewCompilationCache()
	}
	return h, nil
}

// Register adds a first-party plugin that runs natively.
func (h *Host) Register(name string, n Native) error {
	e := &entry{native: &n}
	if len(n.ConfigSchema) > 0 {
		s, err := schemacheck.Compile("https://hookhub.dev/plugins/"+name+"/config.schema.json", n.ConfigSchema)
		if err != nil {
			return fmt.Errorf("plugin %s: config schema: %w", name, err)
		}
		e.schema = s
	}
	h.mu.Lock()
	h.plugins[name] = e
	h.mu.Unlock()
	return nil
}

// Load compiles a WebAssembly module, checks it implements the ABI by
// instantiating it once, and adds it under m.Name (replacing a first-party
// plugin of the same name).
func (h *Host) Load(ctx context.Context, m Module) error {
	if m.SHA256 != "" {
		sum := sha256.Sum256(m.Wasm)
		if got := hex.EncodeToString(sum[:]); got != m.SHA256 {
			return fmt.Errorf("plugin %s: sha256 is %s, the config pins %s", m.Name, got, m.SHA256)
		}
	}
	if m.MemoryMiB <= 0 {
		m.MemoryMiB = DefaultMemoryMiB
	}
	if m.Timeout <= 0 {
		m.Timeout = DefaultTimeout
	}
	if m.Instances <= 0 {
		m.Instances = 2 * runtime.GOMAXPROCS(0)
	}
	p, err := newPool(ctx, h.cache, m, h.log)
	if err != nil {
		return err
	}
	e := &entry{wasm: p}
	if len(p.schema) > 0 {
		s, err := schemacheck.Compile("https://hookhub.dev/plugins/"+m.Name+"/config.schema.json", p.schema)
		if err != nil {
			p.close(ctx)
			return fmt.Errorf("plugin %s: its config schema does not compile: %w", m.Name, err)
		}
		e.schema = s
	}
	h.mu.Lock()
	old := h.plugins[m.Name]
	h.plugins[m.Name] = e
	h.mu.Unlock()
	if old != nil && old.wasm != nil {
		old.wasm.close(ctx)
	}
	return nil
}

// Has reports whether a plugin is known.
func (h *Host) Has(name string) bool {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.plugins[name] != nil
}

// Names lists the plugins, sorted.
func (h *Host) Names() []string {
	h.mu.RLock()
	defer h.mu.RUnlock()
	out := make([]string, 0, len(h.plugins))
	for n := range h.plugins {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// ValidateConfig checks a webhook's plugin config against the plugin's
// schema, when it declares one. Errors name the path and the reason, never
// the values (a config may hold secrets).
func (h *Host) ValidateConfig(name string, config []byte) error {
	h.mu.RLock()
	e := h.plugins[name]
	h.mu.RUnlock()
	if e == nil {
		return fmt.Errorf("unknown plugin %q (known: %v)", name, h.Names())
	}
	if e.schema == nil {
		return nil
	}
	if len(config) == 0 {
		config = []byte("{}")
	}
	doc, err := schemacheck.Decode(config)
	if err != nil {
		return fmt.Errorf("plugin %s: config is not JSON", name)
	}
	issues := schemacheck.Check(e.schema, doc)
	if len(issues) == 0 {
		return nil
	}
	errs := make([]error, len(issues))
	for i, is := range issues {
		p := "config"
		if is.Path != "" {
			p += "." + is.Path
		}
		errs[i] = fmt.Errorf("plugin %s: %s: %s", name, p, redactValues(is.Msg))
	}
	return errors.Join(errs...)
}

// Transform runs the plugin on one input.
func (h *Host) Transform(ctx context.Context, name string, in *abi.Input) (*abi.Output, error) {
	h.mu.RLock()
	e := h.plugins[name]
	h.mu.RUnlock()
	if e == nil {
		return nil, fmt.Errorf("plugin %q is not loaded", name)
	}
	if e.native != nil {
		return callNative(name, e.native.Transform, in)
	}
	return e.wasm.call(ctx, in)
}

func callNative(name string, f func(*abi.Input) (*abi.Output, error), in *abi.Input) (out *abi.Output, err error) {
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("plugin %s panicked: %v", name, r)
		}
	}()
	out, err = f(in)
	if err != nil {
		return nil, fmt.Errorf("plugin %s: %w", name, err)
	}
	if out == nil {
		return nil, fmt.Errorf("plugin %s: returned neither a request nor a skip", name)
	}
	return out, checkOutput(name, out)
}

// Close releases every module.
func (h *Host) Close(ctx context.Context) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, e := range h.plugins {
		if e.wasm != nil {
			e.wasm.close(ctx)
		}
	}
	h.plugins = map[string]*entry{}
	return h.cache.Close(ctx)
}

// wasiInstantiate adds WASI to a runtime: the Go toolchain's wasip1 guests
// need it, and it gives them only what the module config allows (no files,
// fake clocks, fake randomness).
func wasiInstantiate(ctx context.Context, rt wazero.Runtime) error {
	_, err := wasi_snapshot_preview1.Instantiate(ctx, rt)
	return err
}
