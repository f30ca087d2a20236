package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/rs/zerolog"

	"github.com/hookhub/hookhub/hub/internal/pluginhost"
	"github.com/hookhub/hookhub/sdk/abi"
	"github.com/hookhub/hookhub/sdk/event"
)

// benchWorker is the worker command and environment plugin bench runs the
// module's worker with: this executable's plugin worker (tests replace it).
var benchWorker = func() (argv, env []string) { return pluginWorker(), nil }

// pluginBench is what plugin bench --json prints.
type pluginBench struct {
	File       string      `json:"file"`
	EventBytes int         `json:"event_bytes"`
	Worker     *benchTimes `json:"worker,omitempty"`
	InProcess  *benchTimes `json:"in_process"`
	Memory     benchMemory `json:"memory"`
}

type benchTimes struct {
	Calls       int     `json:"calls"`
	P50us       float64 `json:"p50_us"`
	P99us       float64 `json:"p99_us"`
	CallsPerSec float64 `json:"calls_per_sec"`
}

type benchMemory struct {
	GuestPages     uint32 `json:"guest_pages"`
	GuestBytes     int64  `json:"guest_bytes"`
	WorkerRSSBytes int64  `json:"worker_rss_bytes"`
}

// runPluginBench times a module's calls in a worker process (as serve runs
// it) and in the hub's process (the interrupt mode), serially, each bounded
// by --n calls and --time.
func runPluginBench(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("plugin bench", "plugin bench FILE.wasm [--json] [--event FILE] [--config JSON] [--n N] [--time D]", stderr)
	asJSON := fs.Bool("json", false, "print the figures as JSON")
	eventFile := fs.String("event", "", "a CloudEvent as JSON (an array for a batch) to run on, instead of a 1 KiB contact.updated")
	pluginCfg := fs.String("config", "", "the plugin's config as JSON")
	n := fs.Int("n", 2000, "calls per mode (1 to 1000000)")
	limit := fs.Duration("time", 10*time.Second, "at most this long per mode (1s to 2m)")
	memMiB := fs.Int("memory-mib", pluginhost.DefaultMemoryMiB, "the module's memory cap, as the config's memory_mib")
	cacheDir := fs.String("cache-dir", defaultPluginCache(), "where compiled modules are kept between runs (\"\" for none)")
	file, err := parseWithArg(fs, args)
	if err != nil {
		return err
	}
	switch {
	case *n < 1 || *n > 1_000_000:
		return fmt.Errorf("--n %d: want 1 to 1000000", *n)
	case *limit < time.Second || *limit > 2*time.Minute:
		return fmt.Errorf("--time %s: want 1s to 2m", *limit)
	case *pluginCfg != "" && !json.Valid([]byte(*pluginCfg)):
		return fmt.Errorf("--config is not valid JSON")
	}
	wasm, err := readWasm(file)
	if err != nil {
		return err
	}
	in, err := benchInput(*eventFile)
	if err != nil {
		return err
	}
	if *pluginCfg != "" {
		in.Config = []byte(*pluginCfg)
	}
	res := pluginBench{File: file, EventBytes: len(in.Events[0])}
	m := pluginhost.Module{Name: "bench", Path: file, Wasm: wasm, MemoryMiB: *memMiB, Timeout: time.Second, Instances: 1}
	argv, env := benchWorker()
	if len(argv) > 0 {
		m.Isolation = pluginhost.IsolationProcess
		t, mem, err := benchMode(m, pluginhost.Options{CacheDir: *cacheDir, WorkerCommand: argv, WorkerEnv: env}, in, *n, *limit)
		if err != nil {
			return err
		}
		res.Worker, res.Memory.WorkerRSSBytes = t, mem.WorkerRSS
	}
	m.Isolation = pluginhost.IsolationInProcess
	t, mem, err := benchMode(m, pluginhost.Options{CacheDir: *cacheDir}, in, *n, *limit)
	if err != nil {
		return err
	}
	res.InProcess, res.Memory.GuestPages, res.Memory.GuestBytes = t, mem.GuestPages, int64(mem.GuestPages)<<16
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	printBench(stdout, res)
	return nil
}

func printBench(w io.Writer, r pluginBench) {
	fmt.Fprintf(w, "%s on a %d-byte event, one call at a time:\n", r.File, r.EventBytes)
	fmt.Fprintf(w, "  %-12s %7s %10s %10s %10s\n", "mode", "calls", "p50", "p99", "calls/s")
	row := func(name string, t *benchTimes) {
		if t != nil {
			fmt.Fprintf(w, "  %-12s %7d %7.1f µs %7.1f µs %10.0f\n", name, t.Calls, t.P50us, t.P99us, t.CallsPerSec)
		}
	}
	row("worker", r.Worker)
	row("in-process", r.InProcess)
	fmt.Fprintf(w, "memory: guest %d pages (%.1f MiB) in-process", r.Memory.GuestPages, float64(r.Memory.GuestBytes)/(1<<20))
	if r.Memory.WorkerRSSBytes > 0 {
		fmt.Fprintf(w, "; worker process RSS %.1f MiB", float64(r.Memory.WorkerRSSBytes)/(1<<20))
	}
	fmt.Fprintln(w)
}

// benchMode loads m into a host of its own and calls it up to n times or
// for limit, after a few calls to warm up.
func benchMode(m pluginhost.Module, o pluginhost.Options, in *abi.Input, n int, limit time.Duration) (*benchTimes, pluginhost.Memory, error) {
	ctx, cancel := context.WithTimeout(context.Background(), limit+5*time.Minute) // compiling a cold module may take minutes
	defer cancel()
	o.Log = zerolog.Nop()
	h, err := pluginhost.New(o)
	if err != nil {
		return nil, pluginhost.Memory{}, err
	}
	defer h.Close(ctx)
	if err := h.Load(ctx, m); err != nil {
		return nil, pluginhost.Memory{}, err
	}
	for range min(n, 20) {
		if _, err := h.Transform(ctx, m.Name, in); err != nil {
			return nil, pluginhost.Memory{}, fmt.Errorf("%s: the plugin failed on the event: %w", m.Isolation, err)
		}
	}
	times := make([]time.Duration, 0, n)
	start := time.Now()
	for len(times) < n && time.Since(start) < limit {
		t0 := time.Now()
		if _, err := h.Transform(ctx, m.Name, in); err != nil {
			return nil, pluginhost.Memory{}, fmt.Errorf("%s: the plugin failed on the event: %w", m.Isolation, err)
		}
		times = append(times, time.Since(t0))
	}
	total := time.Since(start)
	mem, _ := h.Memory(m.Name)
	slices.Sort(times)
	us := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e3 }
	return &benchTimes{Calls: len(times), P50us: us(times[len(times)/2]), P99us: us(times[len(times)*99/100]),
		CallsPerSec: float64(len(times)) / total.Seconds()}, mem, nil
}

// benchInput is the plugin's input for an event file, or for a 1 KiB
// contact.updated; its request is the default body.
func benchInput(file string) (*abi.Input, error) {
	var events [][]byte
	if file != "" {
		var err error
		if events, err = readEvents(file); err != nil {
			return nil, err
		}
	} else {
		const ev = `{"specversion":"1.0","id":"evt_2f9c","source":"crm/contacts","type":"contact.updated","time":"2026-11-22T10:00:00Z",` +
			`"datacontenttype":"application/json","account":"acme","initiator":"api","lists":"12,15",` +
			`"data":{"email":"ada@example.com","plan":"pro","attributes":{"FIRSTNAME":"Ada","NOTE":"%s"}}}`
		pad := 1024 - len(fmt.Sprintf(ev, ""))
		events = [][]byte{fmt.Appendf(nil, ev, strings.Repeat("x", pad))}
	}
	body := []byte("[")
	for i, raw := range events {
		e, err := event.Parse(raw)
		if err != nil {
			return nil, fmt.Errorf("%s: event %d: %w", file, i, err)
		}
		b, _ := json.Marshal(map[string]any{"type": e.Type, "timestamp": e.Time, "account": e.Account, "initiator": e.Initiator, "data": e.Data})
		if i > 0 {
			body = append(body, ',')
		}
		body = append(body, b...)
	}
	body = append(body, ']')
	if len(events) == 1 {
		body = body[1 : len(body)-1]
	}
	return &abi.Input{Webhook: "bench", Events: events, Request: abi.Request{ContentType: "application/json", Body: body}}, nil
}

// readWasm reads a plugin module, saying clearly when the file is not one.
func readWasm(file string) ([]byte, error) {
	b, err := os.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s does not exist: build the plugin first (a new project's ./build.sh), or name its module with --wasm", file)
	}
	if err != nil {
		return nil, err
	}
	if !bytes.HasPrefix(b, []byte("\x00asm")) {
		hint := "build the plugin first (see sdk/README.md), and name its .wasm output"
		if utf8.Valid(b) && bytes.Contains(b, []byte("(module")) {
			hint = "it is WebAssembly text: assemble it first (wat2wasm " + file + ")"
		}
		return nil, fmt.Errorf("%s is not a WebAssembly module (a module begins with \\0asm): %s", file, hint)
	}
	return b, nil
}
