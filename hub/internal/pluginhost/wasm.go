package pluginhost

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"net/textproto"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/sys"

	"github.com/hookhub/hookhub/hub/config"
	"github.com/hookhub/hookhub/sdk/abi"
)

// pool holds one module's runtime, compiled code and idle instances.
type pool struct {
	m        Module
	rt       wazero.Runtime
	compiled wazero.CompiledModule
	schema   []byte
	log      zerolog.Logger
	hung     func(error) // see newPoolWith
	// interrupt: calls set the instance's stop flag at their limit (see
	// stop.go); a worker's calls do not, its host kills it instead.
	interrupt bool

	instances bounded[*instance]
	mu        sync.Mutex
	bufs      sync.Pool
}

// instance is one instantiated module.
type instance struct {
	mod       api.Module
	alloc     api.Function
	transform api.Function
	stderr    *limitedBuffer
	stack     [2]uint64 // the calls' parameters and results (CallWithStack)
	stop      api.MutableGlobal
	dec       abi.OutputDecoder // its answers' strings, reused while they repeat
	limit     *time.Timer       // sets stop at a call's limit (armFor)
}

// arm sets the instance's stop flag (see stop.go) when ctx ends. disarm
// reports whether the flag stayed clear; an instance whose flag was set
// must not be used again.
func (inst *instance) arm(ctx context.Context) (disarm func() bool) {
	return context.AfterFunc(ctx, func() { inst.stop.Set(1) })
}

// armFor sets the instance's stop flag after d: a call's time limit, with
// the instance's one timer, reset for each call, and no context of its own
// (WithTimeout and AfterFunc each register with the caller's context, which
// cost a few µs a call; a timer made per call cost an allocation). A call
// in flight when its caller's context ends runs to its limit at most. The
// timer's Stop reports whether the flag stayed clear.
func (inst *instance) armFor(d time.Duration) *time.Timer {
	if inst.limit == nil {
		inst.limit = time.AfterFunc(d, func() { inst.stop.Set(1) })
	} else {
		inst.limit.Reset(d)
	}
	return inst.limit
}

// newPool makes a pool whose calls end at their time limit by the stop flag
// the rewrite puts in the module (in_process, see stop.go).
func newPool(ctx context.Context, cache wazero.CompilationCache, m Module, log zerolog.Logger) (*pool, error) {
	return newPoolWith(ctx, cache, m, log, true, nil)
}

// newPoolWith makes a pool; with interrupt, a call's time limit sets the
// instance's stop flag, which ends the call. Without it, a call runs until
// it returns: only a worker process, which its host kills at the limit, may
// run so.
//
// hung, when set, is called (from another goroutine) with the reason when a
// call at start passes the start limit: nothing inside a worker stops its
// guest, so the worker reports and exits.
func newPoolWith(ctx context.Context, cache wazero.CompilationCache, m Module, log zerolog.Logger, interrupt bool, hung func(error)) (*pool, error) {
	cfg := wazero.NewRuntimeConfigCompiler().
		WithCompilationCache(cache).
		WithMemoryLimitPages(uint32(m.MemoryMiB) * 16) // 64 KiB pages
	rt := wazero.NewRuntimeWithConfig(ctx, cfg)
	if err := wasiInstantiate(ctx, rt); err != nil {
		_ = rt.Close(ctx)
		return nil, fmt.Errorf("plugin %s: wasi: %w", m.Name, err)
	}
	wasm, err := m.rewritten, error(nil)
	if wasm == nil {
		wasm, err = limitStackCached(m.Wasm, m.cacheDir) // see stack.go
	}
	var compiled wazero.CompiledModule
	if err != nil {
		if _, cerr := rt.CompileModule(ctx, m.Wasm); cerr != nil {
			err = cerr // wazero's reason says more
		}
	} else {
		compiled, err = rt.CompileModule(ctx, wasm)
	}
	if err != nil {
		_ = rt.Close(ctx)
		return nil, fmt.Errorf("plugin %s: not a valid WebAssembly module: %w", m.Name, err)
	}
	for _, exp := range []string{"hookhub_abi_version", "hookhub_alloc", "hookhub_transform"} {
		if _, ok := compiled.ExportedFunctions()[exp]; !ok {
			_ = rt.Close(ctx)
			return nil, fmt.Errorf("plugin %s: does not export %s (see sdk/README.md)", m.Name, exp)
		}
	}
	p := &pool{m: m, rt: rt, compiled: compiled, log: log, hung: hung, interrupt: interrupt,
		instances: newBounded[*instance](m.Name, m.Instances)}
	// One instance now: it proves the module works and reads its schema.
	inst, err := p.instantiate(ctx)
	if err != nil {
		_ = rt.Close(ctx)
		return nil, err
	}
	if err := p.probe(ctx, inst); err != nil {
		_ = rt.Close(ctx)
		return nil, err
	}
	p.instances.add(inst)
	return p, nil
}

// probe checks the ABI version of a fresh instance and reads its config
// schema, each call by the start limit.
func (p *pool) probe(ctx context.Context, inst *instance) error {
	name := p.m.Name
	if v := inst.mod.ExportedFunction("hookhub_abi_version"); v != nil {
		r, err := p.atStart(ctx, inst, "hookhub_abi_version", v)
		if err != nil {
			return err
		}
		if len(r) != 1 {
			return fmt.Errorf("plugin %s: hookhub_abi_version returned %d values, want one i32", name, len(r))
		}
		if uint32(r[0]) != abi.Version {
			return fmt.Errorf("plugin %s: hookhub_abi_version returned %d, and this hub speaks ABI version %d: "+
				"rebuild the plugin with an SDK for ABI %[3]d (the Go sdk module v%[3]d.x), or run a hub that speaks its version", name, int32(r[0]), abi.Version)
		}
	}
	if f := inst.mod.ExportedFunction("hookhub_config_schema"); f != nil {
		r, err := p.atStart(ctx, inst, "hookhub_config_schema", f)
		if err != nil {
			return err
		}
		if len(r) == 1 && r[0] != 0 {
			if b, ok := inst.mod.Memory().Read(uint32(r[0]>>32), uint32(r[0])); ok {
				p.schema = bytes.Clone(b)
			}
		}
	}
	return nil
}

// startLimit bounds starting an instance, and each call it answers at
// start: ten times the call limit, and at least defaultInitTimeout.
func (p *pool) startLimit() time.Duration { return max(p.m.Timeout*10, defaultInitTimeout) }

// atStart calls f (the export what) by the start limit. In the hub's process
// the limit sets the stop flag; in a worker, nothing stops the guest but the
// end of the process: p.hung says why and ends it.
func (p *pool) atStart(ctx context.Context, inst *instance, what string, f api.Function) ([]uint64, error) {
	limit := p.startLimit()
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	hung := fmt.Errorf("plugin %s: %s: did not return within %s", p.m.Name, what, limit)
	if p.hung != nil {
		stop := context.AfterFunc(ctx, func() {
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				p.hung(hung)
			}
		})
		defer stop()
	}
	stopped := func() bool { return false }
	if p.interrupt {
		disarm := inst.arm(ctx)
		stopped = func() bool { return !disarm() }
	}
	r, err := f.Call(ctx)
	switch {
	case stopped(): // even if it returned: the flag set, the instance is spent
		return nil, hung
	case err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded):
		return nil, hung
	case err != nil:
		return nil, trapError(p.m.Name, what+": ", err, inst.mod, inst.stderr, ctx)
	}
	return r, nil
}

func (p *pool) instantiate(ctx context.Context) (*instance, error) {
	stderr := &limitedBuffer{max: 4096}
	// No file system, no environment or arguments, fake clocks and
	// randomness: wazero's defaults. No start function runs inside
	// instantiation, where nothing could stop it: the module's own (see
	// startExport), then _initialize (the Go runtime's setup), run after, by
	// the start limit.
	mc := wazero.NewModuleConfig().WithName("").WithStartFunctions().WithStderr(stderr)
	mod, err := p.rt.InstantiateModule(ctx, p.compiled, mc)
	if err != nil {
		return nil, trapError(p.m.Name, "instantiating: ", err, nil, stderr, ctx)
	}
	inst := &instance{mod: mod, alloc: mod.ExportedFunction("hookhub_alloc"),
		transform: mod.ExportedFunction("hookhub_transform"), stderr: stderr}
	inst.stop, _ = mod.ExportedGlobal(stopGlobal).(api.MutableGlobal)
	if inst.stop == nil {
		_ = mod.Close(ctx)
		return nil, fmt.Errorf("plugin %s: the host's rewrite of the module is missing its %s global", p.m.Name, stopGlobal)
	}
	for _, start := range []string{startExport, "_initialize"} {
		if f := mod.ExportedFunction(start); f != nil {
			what := start
			if start == startExport {
				what = "its start function"
			}
			if _, err := p.atStart(ctx, inst, what, f); err != nil {
				_ = mod.Close(ctx)
				return nil, err
			}
		}
	}
	return inst, nil
}

// get takes an idle instance for a call of webhook, or makes one if the
// bound and the webhook's share allow, or waits.
func (p *pool) get(ctx context.Context, webhook string) (*instance, error) {
	return p.instances.get(ctx, webhook, func() (*instance, error) { return p.instantiate(context.WithoutCancel(ctx)) })
}

// put returns webhook's healthy instance to the pool, or closes a spoiled one
// and frees its slot for a fresh one.
func (p *pool) put(webhook string, inst *instance, spoiled bool) {
	p.instances.put(webhook, inst, spoiled, func(inst *instance) { _ = inst.mod.Close(context.Background()) })
}

// call runs one transform with the module's time limit.
func (p *pool) call(ctx context.Context, in *abi.Input) (*abi.Output, error) {
	inst, err := p.get(ctx, in.Webhook)
	if err != nil {
		return nil, err
	}
	buf, _ := p.bufs.Get().(*[]byte)
	if buf == nil {
		buf = new([]byte)
	}
	enc := abi.AppendInput((*buf)[:0], in)
	var limit *time.Timer
	if p.interrupt {
		limit = inst.armFor(p.m.Timeout)
	}
	out, err := p.invoke(ctx, inst, enc)
	stopped := limit != nil && !limit.Stop()
	*buf = enc
	p.bufs.Put(buf)
	if stopped && err != nil {
		err = errTimeLimit(p.m.Name)
	}
	// A guest's own error leaves the instance sound; anything else spoils
	// it, as does a stop flag set at the limit as the call returned.
	var ge *abi.GuestError
	p.put(in.Webhook, inst, stopped || (err != nil && !errors.As(err, &ge)))
	if err != nil {
		if errors.As(err, &ge) {
			return nil, fmt.Errorf("plugin %s: %s", p.m.Name, ge.Msg)
		}
		return nil, err
	}
	return out, checkOutput(p.m.Name, out)
}

func (p *pool) invoke(ctx context.Context, inst *instance, enc []byte) (*abi.Output, error) {
	view, err := p.invokeRaw(ctx, inst, enc)
	if err != nil {
		return nil, err
	}
	return decodeOutput(p.m.Name, &inst.dec, bytes.Clone(view))
}

// invokeRaw runs one transform and returns the guest's answer as it lies in
// its memory (valid until the next call on the instance).
func (p *pool) invokeRaw(ctx context.Context, inst *instance, enc []byte) ([]byte, error) {
	name := p.m.Name
	// CallWithStack: no slice made per call for the parameters and results.
	st := inst.stack[:]
	st[0] = uint64(len(enc))
	if err := inst.alloc.CallWithStack(ctx, st); err != nil {
		return nil, trapError(name, "alloc: ", err, inst.mod, inst.stderr, ctx)
	}
	ptr := uint32(st[0])
	if len(enc) > 0 && !inst.mod.Memory().Write(ptr, enc) {
		return nil, fmt.Errorf("plugin %s: alloc returned %d, outside its memory", name, ptr)
	}
	st[0], st[1] = uint64(ptr), uint64(len(enc))
	if err := inst.transform.CallWithStack(ctx, st); err != nil {
		return nil, trapError(name, "", err, inst.mod, inst.stderr, ctx)
	}
	optr, olen := uint32(st[0]>>32), uint32(st[0])
	if olen > MaxOutput {
		return nil, fmt.Errorf("plugin %s: answered %d bytes, more than the limit of %d", name, olen, MaxOutput)
	}
	view, ok := inst.mod.Memory().Read(optr, olen)
	if !ok {
		return nil, fmt.Errorf("plugin %s: its answer lies outside its memory: hookhub_transform must return out_ptr<<32 | out_len of bytes in its memory", name)
	}
	return view, nil
}

// decodeOutput decodes a guest's answer with its instance's decoder (b is
// not copied): the guest's own error as a *abi.GuestError, anything
// malformed as an error naming it.
func decodeOutput(name string, dec *abi.OutputDecoder, b []byte) (*abi.Output, error) {
	out, err := dec.Decode(b)
	if err != nil {
		var ge *abi.GuestError
		if errors.As(err, &ge) {
			return nil, err
		}
		return nil, fmt.Errorf("plugin %s: its answer breaks the ABI (%w): an answer is \"HHO1\", a kind byte, then the wire format in sdk/README.md; "+
			"with the Go SDK, let plugin.Handle encode it", name, err)
	}
	return out, nil
}

func (p *pool) close(ctx context.Context) { _ = p.rt.Close(ctx) }

// describeTrap says why a call into mod (nil while it is instantiated)
// failed: the time limit, the memory cap, the stack's limit, an exit, or a
// trap with what the guest printed to stderr.
func describeTrap(err error, mod api.Module, stderr *limitedBuffer, ctx context.Context) string {
	var exit *sys.ExitError
	if errors.As(err, &exit) {
		switch exit.ExitCode() {
		case sys.ExitCodeDeadlineExceeded:
			return reasonTimeLimit
		case sys.ExitCodeContextCanceled:
			return "cancelled"
		}
		if ctx.Err() != nil {
			return reasonTimeLimit
		}
		return fmt.Sprintf("exited with code %d%s", exit.ExitCode(), stderr.reason())
	}
	if errors.Is(ctx.Err(), context.Canceled) {
		return "cancelled"
	}
	if ctx.Err() != nil {
		return reasonTimeLimit
	}
	msg := err.Error()
	if stackExhausted(mod) || strings.Contains(firstLine(msg), "stack overflow") {
		return "ran out of stack (calls nested too deep)"
	}
	if bytes.Contains(stderr.Bytes(), []byte("out of memory")) {
		return "ran out of memory (its cap is set by memory_mib)" + stderr.reason()
	}
	return "trapped: " + firstLine(msg) + stderr.reason()
}

func firstLine(s string) string {
	if i := bytes.IndexByte([]byte(s), '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// checkOutput refuses what a plugin may not do: set the headers the hub
// signs or owns, set one header under two spellings (which one the request
// would carry is not defined), or answer more than MaxOutput.
func checkOutput(name string, out *abi.Output) error {
	h := out.Request.Headers
	// The usual answer has a few headers: their names are gathered in one
	// pass over the map and compared in pairs, with no allocation (a map
	// iteration per name cost a C plugin's call 0.4 µs).
	var few [8]string
	n := 0
	for k := range h {
		if config.ReservedHeader(k) {
			return fmt.Errorf("plugin %s: may not set the %s header", name, k)
		}
		if n < len(few) {
			few[n] = k
		}
		n++
	}
	if n > len(few) || twice(few[:n]) {
		if err := sameHeaderTwice(name, h); err != nil {
			return err
		}
	}
	if len(out.Request.Body) > MaxOutput {
		return fmt.Errorf("plugin %s: body of %d bytes, more than the limit of %d", name, len(out.Request.Body), MaxOutput)
	}
	return nil
}

// twice reports whether two of names differ only in case.
func twice(names []string) bool {
	for i, a := range names {
		for _, b := range names[i+1:] {
			if strings.EqualFold(a, b) {
				return true
			}
		}
	}
	return false
}

// sameHeaderTwice refuses header names that differ only in case, naming
// the pair.
func sameHeaderTwice(name string, h map[string]string) error {
	keys := slices.Sorted(maps.Keys(h))
	seen := make(map[string]string, len(keys))
	for _, k := range keys {
		c := textproto.CanonicalMIMEHeaderKey(k)
		if first, ok := seen[c]; ok {
			return fmt.Errorf("plugin %s: sets the %s header twice (as %q and %q): header names are case-insensitive, so send each once", name, c, first, k)
		}
		seen[c] = k
	}
	return nil
}

var quoted = regexp.MustCompile(`'[^']*'`)

// redactValues hides the quoted values the schema validator puts in its
// messages (a plugin config may hold secrets), but keeps property names.
func redactValues(msg string) string {
	if strings.Contains(msg, "properties") || strings.HasPrefix(msg, "missing property") {
		return msg // names of fields, not values
	}
	return quoted.ReplaceAllString(msg, "a value")
}

// limitedBuffer keeps the first max bytes written to it.
type limitedBuffer struct {
	mu  sync.Mutex
	max int
	buf bytes.Buffer
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if room := b.max - b.buf.Len(); room > 0 {
		b.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (b *limitedBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return bytes.Clone(b.buf.Bytes())
}

func (b *limitedBuffer) reason() string {
	s := bytes.TrimSpace(b.Bytes())
	if len(s) == 0 {
		return ""
	}
	if i := bytes.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return " (stderr: " + string(s) + ")"
}
