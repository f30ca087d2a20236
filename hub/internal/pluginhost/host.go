// Package pluginhost runs transform plugins for the delivery engine.
//
// # Trust
//
// First-party plugins (package plugins) are hub code: they run natively, as
// the Go functions they are, at native speed. A module from the config (a
// customer's plugin) is untrusted: it runs in wazero with no file system,
// network, real clock or real randomness, a memory cap, and a time limit per
// call. The first-party plugins' WebAssembly builds run the same way when an
// operator lists them under plugins[], and the conformance suite runs them so.
//
// A module runs in one of two places (Module.Isolation):
//
//   - "in_process" (the default): in the hub's process. The module is
//     rewritten before it is compiled so that every loop head and function
//     entry counts, and every 4,096 counts reads a stop flag, which the host
//     sets at the call's limit (see stop.go): the guest traps soon after.
//   - "process": in worker processes (hookhub plugin worker, see
//     ServeWorker), one call at a time each, for an operator who wants a
//     module's memory and any fault of the runtime outside the hub. At the
//     call's limit the host kills the worker (SIGKILL) and starts a fresh one
//     for a later call; a worker that dies or answers garbage fails only its
//     call and is replaced. Workers die with the hub (a death signal on
//     Linux, and the end of their stdin). The round trip costs both
//     processes a wake-up per call.
//
// # Instances
//
// Each module is compiled once (with an on-disk compilation cache, so a
// restart, or a new worker, does not recompile) and instantiated lazily into
// a pool, one instance (or worker) per concurrent call up to a bound, which
// the webhooks calling the module share fairly (see bounded). An instance
// that trapped, ran out of time, memory or stack, or answered something
// malformed is closed and replaced, never reused.
//
// # Stack
//
// A guest's call stack is bounded beside its memory: the module is rewritten
// before it is compiled so that nested calls past about 4 MiB of frames trap
// (see limitStack).
package pluginhost

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
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

	"github.com/hookhub/hookhub/hub/config"
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
	Name string
	// Path is where the module was read from, named in load errors ("" for
	// none).
	Path      string
	Wasm      []byte
	SHA256    string // refuse the module unless it hashes to this (hex), when set
	MemoryMiB int
	Timeout   time.Duration
	// Instances bounds the instances, or worker processes (so the calls at
	// once); 0 means GOMAXPROCS*2.
	Instances int
	// Isolation is where the module runs: IsolationInProcess or
	// IsolationProcess, which needs Options.WorkerCommand; "" for
	// Options.Isolation.
	Isolation string

	cacheDir string // the host's, where limitStack's output is kept (see modcache.go)
	// rewritten is limitStack's output, when Load has made it already.
	rewritten []byte
}

// The isolations of a module (see the package documentation).
const (
	IsolationInProcess = "in_process"
	IsolationProcess   = "process"
)

// Options configure a Host.
type Options struct {
	// CacheDir holds compiled modules across restarts ("" for none).
	// With WorkerCommand set and no CacheDir, a temporary one is made (so
	// workers share what the first one compiled) and removed by Close.
	CacheDir string
	Log      zerolog.Logger
	// WorkerCommand starts a plugin worker process: a program that calls
	// ServeWorker(os.Stdin, os.Stdout), such as
	// {os.Executable(), "plugin", "worker"} for the hookhub command. The
	// modules whose Isolation is "process" need it. The host never starts a
	// program it is not given.
	WorkerCommand []string
	// Isolation is that of the modules that set none: IsolationInProcess
	// (""), or IsolationProcess.
	Isolation string
	// WorkerEnv is a worker's whole environment (such as a variable that
	// makes a test binary serve as the worker): workers never inherit the
	// host's, which holds its API token and the secrets its config reads.
	// The guest never sees the environment.
	WorkerEnv []string
}

// Host runs plugins. It is safe for concurrent use.
type Host struct {
	log   zerolog.Logger
	cache wazero.CompilationCache

	cacheDir  string // for the workers
	tmpDir    string // removed by Close
	workerCmd []string
	workerEnv []string
	isolation string // Options.Isolation

	mu      sync.RWMutex
	plugins map[string]*entry
	// checkByCall names the plugins whose configs are also checked by a
	// call (see Lazy.CheckByCall).
	checkByCall map[string]bool
}

type entry struct {
	native *Native
	wasm   runner
	// readsURL: the module exports abi.URLExport, so its input may carry
	// the URL (ABI 1.1); a module without it gets the 1.0 encoding.
	readsURL bool
	lazy     *lazyEntry // made on first use (see RegisterLazy)
	// schema is the config's schema, compiled, and secrets the config's
	// fields it marks secret (found in its JSON, not through the compiled
	// schema); both nil when the plugin declares none. A first-party
	// plugin's are made on first use: compiling the six schemas took 3 ms of
	// every start, hookhub plugin run's included.
	schema  func() (*jsonschema.Schema, error)
	secrets func() []config.FieldPath
}

// compileConfigSchema compiles a plugin's config schema.
func compileConfigSchema(name string, schema []byte) (*jsonschema.Schema, error) {
	return schemacheck.Compile("https://hookhub.dev/plugins/"+name+"/config.schema.json", schema)
}

// runner runs a WebAssembly module: a pool of instances in the hub's
// process (interrupt), or of worker processes (process).
type runner interface {
	call(ctx context.Context, in *abi.Input) (*abi.Output, error)
	close(ctx context.Context)
}

// New returns a host with no plugins.
func New(o Options) (*Host, error) {
	h := &Host{log: o.Log.With().Str("component", "plugins").Logger(), plugins: map[string]*entry{},
		workerCmd: o.WorkerCommand, workerEnv: o.WorkerEnv, isolation: o.Isolation}
	if len(o.WorkerCommand) > 0 && o.CacheDir == "" {
		dir, err := os.MkdirTemp("", "hookhub-plugin-cache-")
		if err != nil {
			return nil, fmt.Errorf("plugins: cache dir: %w", err)
		}
		o.CacheDir, h.tmpDir = dir, dir
	}
	h.cacheDir = o.CacheDir
	if o.CacheDir != "" {
		if err := os.MkdirAll(o.CacheDir, 0o750); err != nil {
			return nil, fmt.Errorf("plugins: cache dir: %w", err)
		}
		pruneOtherBuilds(o.CacheDir, time.Now())
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
		if !json.Valid(n.ConfigSchema) {
			return fmt.Errorf("plugin %s: config schema: not JSON", name)
		}
		e.schema = sync.OnceValues(func() (*jsonschema.Schema, error) {
			s, err := compileConfigSchema(name, n.ConfigSchema)
			if err != nil {
				return nil, fmt.Errorf("plugin %s: config schema: %w", name, err)
			}
			return s, nil
		})
		e.secrets = sync.OnceValue(func() []config.FieldPath { return secretFields(n.ConfigSchema) })
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
			return fmt.Errorf("plugin %s: sha256 is %s, the config pins %s", m.label(), got, m.SHA256)
		}
	}
	// The rewrite's reader goes first: it refuses what it cannot read,
	// including counts that would make wazero's decoder allocate gigabytes.
	rewritten, err := limitStackCached(m.Wasm, h.cacheDir)
	if err != nil {
		return fmt.Errorf("plugin %s: not a valid WebAssembly module: %w", m.label(), err)
	}
	readsURL, err := checkModuleCached(ctx, m, h.cacheDir)
	if err != nil {
		return err
	}
	m.cacheDir, m.rewritten = h.cacheDir, rewritten
	if m.MemoryMiB <= 0 {
		m.MemoryMiB = DefaultMemoryMiB
	}
	if m.Timeout <= 0 {
		m.Timeout = DefaultTimeout
	}
	if m.Instances <= 0 {
		m.Instances = 2 * runtime.GOMAXPROCS(0)
	}
	if m.Isolation == "" {
		m.Isolation = cmp.Or(h.isolation, IsolationInProcess)
	}
	var p runner
	var schema []byte
	switch m.Isolation {
	case IsolationInProcess:
		ip, err := newPool(ctx, h.cache, m, h.log)
		if err != nil {
			return m.loadError(err)
		}
		p, schema = ip, ip.schema
	case IsolationProcess:
		if len(h.workerCmd) == 0 {
			return fmt.Errorf("plugin %s: isolation %q needs a worker command (pluginhost.Options.WorkerCommand)", m.Name, m.Isolation)
		}
		pp, err := newProcPool(ctx, m, h.workerCmd, h.workerEnv, h.cacheDir, h.log)
		if err != nil {
			return m.loadError(err)
		}
		p, schema = pp, pp.schema
	default:
		return fmt.Errorf("plugin %s: unknown isolation %q (%s or %s)", m.Name, m.Isolation, IsolationProcess, IsolationInProcess)
	}
	e := &entry{wasm: p, readsURL: readsURL}
	if len(schema) > 0 {
		s, err := compileConfigSchema(m.Name, schema)
		if err != nil {
			p.close(ctx)
			return fmt.Errorf("plugin %s: its config schema does not compile: %w", m.Name, err)
		}
		secrets := secretFields(schema)
		e.schema = func() (*jsonschema.Schema, error) { return s, nil }
		e.secrets = func() []config.FieldPath { return secrets }
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
	e, err := h.ready(context.Background(), name)
	if err != nil {
		return err
	}
	if e == nil {
		return fmt.Errorf("unknown plugin %q (known: %v)", name, h.Names())
	}
	if err := h.checkSchema(name, e, config); err != nil {
		return err
	}
	h.mu.RLock()
	byCall := h.checkByCall[name]
	h.mu.RUnlock()
	if byCall {
		return h.checkCall(name, config)
	}
	return nil
}

func (h *Host) checkSchema(name string, e *entry, config []byte) error {
	if e.schema == nil {
		return nil
	}
	schema, err := e.schema()
	if err != nil {
		return err
	}
	if len(config) == 0 {
		config = []byte("{}")
	}
	doc, err := schemacheck.Decode(config)
	if err != nil {
		return fmt.Errorf("plugin %s: config is not JSON", name)
	}
	issues := schemacheck.Check(schema, doc)
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
	e, err := h.ready(ctx, name)
	if err != nil {
		return nil, err
	}
	if e == nil {
		return nil, fmt.Errorf("plugin %q is not loaded", name)
	}
	if e.native != nil {
		return callNative(name, e.native.Transform, in)
	}
	if in.URL != "" && !e.readsURL {
		v10 := *in
		v10.URL = ""
		in = &v10
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
	err := h.cache.Close(ctx)
	if h.tmpDir != "" {
		_ = os.RemoveAll(h.tmpDir)
		h.tmpDir = ""
	}
	return err
}

// wasiInstantiate adds WASI to a runtime: the Go toolchain's wasip1 guests
// need it, and it gives them only what the module config allows (no files,
// fake clocks, fake randomness).
func wasiInstantiate(ctx context.Context, rt wazero.Runtime) error {
	_, err := wasi_snapshot_preview1.Instantiate(ctx, rt)
	return err
}
