package pluginhost_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"

	"github.com/hookhub/hookhub/hub/internal/pluginhost"
	"github.com/hookhub/hookhub/hub/internal/wasmtest"
	"github.com/hookhub/hookhub/sdk/abi"
)

// kitEvents are the inputs every kit's template must answer exactly as the Go
// example plugin (examples/plugin) does: ordinary events, escapes and
// surrogates, missing and null fields, values that are not strings, and a
// batch. (On JSON that is not valid, what a field reader finds is
// unspecified in each; kitBadJSON only holds the kits to answering.)
func kitEvents(t *testing.T) map[string]*abi.Input {
	t.Helper()
	example, err := os.ReadFile(filepath.Join(wasmtest.Root(t), "examples", "plugin", "testdata", "event.json"))
	if err != nil {
		t.Fatal(err)
	}
	one := func(ev string) *abi.Input {
		in := input(10)
		in.Events = [][]byte{[]byte(ev)}
		return in
	}
	withQuery := one(string(example))
	withQuery.Request.Query = map[string]string{"list": "12", "tag": "a b"}
	withQuery.Request.Headers = map[string]string{"X-Tenant": "acme", "Authorization": "Bearer t"}
	batch := input(10)
	batch.Events = append(batch.Events, example)
	return map[string]*abi.Input{
		"example":           one(string(example)),
		"1KiB":              input(800),
		"query and headers": withQuery,
		"no time":           one(`{"specversion":"1.0","id":"e1","type":"contact.added","source":"crm","data":{"email":"bo@example.com"}}`),
		"no source":         one(`{"type":"contact.added","time":"2026-11-22T10:00:00Z","data":{"email":"bo@example.com"}}`),
		"no email":          one(`{"type":"contact.deleted","source":"crm","data":{}}`),
		"null email":        one(`{"type":"contact.deleted","source":"crm","data":{"email":null}}`),
		"empty email":       one(`{"type":"contact.deleted","source":"crm","data":{"email":""}}`),
		"data not object":   one(`{"type":"x","source":"crm","data":[1,2]}`),
		"escapes":           one(`{"type":"contact.\"q\"","source":"a\\b\/c\n\t\u0001","data":{"email":"\u00e9l\u00E8ve+\ud83d\ude00@example.com"}}`),
		"lone surrogate":    one(`{"type":"t","source":"s","data":{"email":"x\ud800y\udc00z"}}`),
		"raw utf-8":         one(`{"type":"t","source":"Zürich ☃","data":{"email":"ünïcödé@example.com"}}`),
		"escaped key":       one(`{"type":"t","source":"s","data":{"\u0065mail":"k@example.com"}}`),
		"duplicate keys":    one(`{"type":"t","source":"s","data":{"email":"first@example.com","email":"second@example.com"}}`),
		"number fields":     one(`{"type":42,"source":true,"time":-15,"data":{"email":"n@example.com"}}`),
		"object field":      one(`{"type":{"a":[1,{"b":null}]},"source":"s","data":{"email":"o@example.com"}}`),
		"whitespace":        one(" {\n\t\"type\" : \"t\" ,\r\n \"data\" : { \"email\" : \"w@example.com\" } , \"source\":\"s\" } \n"),
		"deep":              one(`{"type":"t","source":"s","x":` + strings.Repeat("[", 200) + strings.Repeat("]", 200) + `,"data":{"email":"d@example.com"}}`),
		"batch":             batch,
		// The top level again: the kits index it once per event.
		"duplicate top-level keys": one(`{"type":"first","source":"s","type":"second","data":{"email":"a@example.com"},"data":{"email":"b@example.com"}}`),
		"escaped top-level key":    one(`{"\u0074ype":"t","source":"s","d\u0061ta":{"email":"e@example.com"}}`),
		"many top-level members":   one(`{` + strings.Repeat(`"k":1,`, 30) + `"type":"t","source":"s","data":{"email":"m@example.com"}}`),
	}
}

// kitBadJSON are events that are not valid JSON: a kit's template answers
// them (a skip or a request), never an error or a trap.
var kitBadJSON = []string{`not json`, `{"type":"t","data":{"email":"a@example.com"`,
	`{"type":"t","data":{"email":"a@example.com"}} x`, `{"type":"t\q","data":{"email":"a@example.com"}}`,
	"{\"type\":\"t\x01\",\"data\":{\"email\":\"a@example.com\"}}", `{"type":"t","n":01,"data":{"email":"a@example.com"}}`}

type kitResult struct {
	out *abi.Output
	err string
}

// TestKitTemplates builds the C and AssemblyScript templates from source,
// runs them in the real host over kitEvents, and checks each answer equals
// the Go example plugin's, byte for byte: body, content type, headers, query,
// skip and error text.
func TestKitTemplates(t *testing.T) {
	kits := map[string]func(testing.TB) []byte{
		"c":              wasmtest.BuildCTemplate,
		"assemblyscript": wasmtest.BuildAssemblyScriptTemplate,
	}
	events := kitEvents(t)
	ctx := context.Background()
	h := newHost(t)
	load(t, h, "go", "examples/plugin", 16, time.Second)
	want := map[string]kitResult{}
	for name, in := range events {
		out, err := h.Transform(ctx, "go", in)
		want[name] = result(out, err)
	}
	// The Go plugin's answers, checked so that agreeing with it means something.
	if w := want["example"]; w.out == nil || string(w.out.Request.Body) != `{"event":"contact.updated","email":"ada@example.com","at":"2026-11-22T10:00:00Z","source":"crm/contacts"}` {
		t.Fatalf("the Go example plugin answered %+v", w)
	}
	if w := want["no email"]; w.out == nil || !w.out.Skip {
		t.Fatalf("the Go example plugin did not skip an event without email: %+v", w)
	}
	if w := want["batch"]; !strings.Contains(w.err, "one event per request") {
		t.Fatalf("the Go example plugin on a batch: %+v", w)
	}
	for kit, build := range kits {
		t.Run(kit, func(t *testing.T) {
			if testing.Short() && kit == "assemblyscript" {
				t.Skip("-short (the race run): the AssemblyScript compiler takes about 10 s; the full run checks it")
			}
			wasm := build(t)
			if imports := envImports(t, wasm); len(imports) > 0 {
				t.Errorf("the %s template imports %v: only wasi_snapshot_preview1 is offered", kit, imports)
			}
			for _, mode := range modes {
				t.Run(mode, func(t *testing.T) {
					h := newHostIn(t, mode)
					if err := h.Load(ctx, pluginhost.Module{Name: kit, Wasm: wasm, Timeout: time.Second}); err != nil {
						t.Fatal(err)
					}
					for round := range 2 { // the second round reuses the instance and its buffers
						for name, in := range events {
							out, err := h.Transform(ctx, kit, in)
							got := result(out, err)
							w := want[name]
							w.err = strings.Replace(w.err, "plugin go:", "plugin "+kit+":", 1)
							if !reflect.DeepEqual(got, w) {
								t.Errorf("round %d, %s:\n got %s\nwant %s", round, name, got, w)
							}
						}
					}
					for _, ev := range kitBadJSON {
						in := input(10)
						in.Events = [][]byte{[]byte(ev)}
						if _, err := h.Transform(ctx, kit, in); err != nil {
							t.Errorf("%s: %v", ev, err)
						}
					}
				})
			}
		})
	}
}

func result(out *abi.Output, err error) kitResult {
	if err != nil {
		return kitResult{err: err.Error()}
	}
	return kitResult{out: out}
}

func (r kitResult) String() string {
	if r.out == nil {
		return "error " + r.err
	}
	if r.out.Skip {
		return "skip"
	}
	q := r.out.Request
	return fmt.Sprintf("%q headers %v query %v body %s", q.ContentType, q.Headers, q.Query, q.Body)
}

// envImports lists what wasm imports from outside WASI preview 1, such as
// AssemblyScript's env.abort when its shim is not in place.
func envImports(t *testing.T, wasm []byte) []string {
	t.Helper()
	ctx := context.Background()
	rt := wazero.NewRuntime(ctx)
	defer rt.Close(ctx)
	m, err := rt.CompileModule(ctx, wasm)
	if err != nil {
		t.Fatal(err)
	}
	var bad []string
	for _, f := range m.ImportedFunctions() {
		if mod, name, _ := f.Import(); mod != "wasi_snapshot_preview1" {
			bad = append(bad, mod+"."+name)
		}
	}
	return bad
}

// BenchmarkKits times the kits' templates per call on a 1 KiB event, beside
// the Go example plugin they copy: in the hub's process (wasm) and in a
// worker process (process), as hookhub serve runs them.
//
//	go test -run '^$' -bench Kits -benchtime 3000x ./hub/internal/pluginhost/
func BenchmarkKits(b *testing.B) {
	kits := map[string]func(testing.TB) []byte{
		"c":              wasmtest.BuildCTemplate,
		"assemblyscript": wasmtest.BuildAssemblyScriptTemplate,
		"go":             func(t testing.TB) []byte { return wasmtest.Build(t, "examples/plugin") },
	}
	for _, kit := range []string{"c", "assemblyscript", "go"} {
		for _, mode := range []string{"wasm", "process"} {
			b.Run(kit+"/"+mode, func(b *testing.B) {
				iso := pluginhost.IsolationInProcess
				if mode == "process" {
					iso = pluginhost.IsolationProcess
				}
				h := newHostIn(b, iso)
				if err := h.Load(context.Background(), pluginhost.Module{Name: kit, Wasm: kits[kit](b), MemoryMiB: 16, Timeout: time.Second}); err != nil {
					b.Fatal(err)
				}
				in := input(800)
				ctx := context.Background()
				b.ReportAllocs()
				for b.Loop() {
					if _, err := h.Transform(ctx, kit, in); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// TestKitAbortShim: an AssemblyScript plugin that aborts, built with the
// kit's asconfig.json, loads (no env.abort import) and fails its call with
// the abort's message and place, not an instantiation error; the config
// schema it declares with configSchema is enforced.
func TestKitAbortShim(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles an AssemblyScript module: runs in the full test run")
	}
	wasm := wasmtest.BuildAssemblyScript(t, "testdata/abort.ts")
	if imports := envImports(t, wasm); len(imports) > 0 {
		t.Fatalf("the module imports %v: the abort shim is not in place", imports)
	}
	h := newHost(t)
	ctx := context.Background()
	if err := h.Load(ctx, pluginhost.Module{Name: "aborts", Wasm: wasm, Timeout: time.Second}); err != nil {
		t.Fatal(err)
	}
	if err := h.ValidateConfig("aborts", []byte(`{"level":"high"}`)); err == nil {
		t.Error("a config outside the schema declared with configSchema was accepted")
	}
	if err := h.ValidateConfig("aborts", []byte(`{"level":2}`)); err != nil {
		t.Errorf("a config that fits the declared schema: %v", err)
	}
	_, err := h.Transform(ctx, "aborts", input(10))
	if want := "abort: Index out of range at ~lib/array.ts"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("got %v, want an error with %q", err, want)
	}
	if _, err := h.Transform(ctx, "aborts", input(10)); err == nil || !strings.Contains(err.Error(), "abort: ") {
		t.Errorf("second call (a new instance): got %v", err)
	}
}

// TestKitCollectsGarbage attacks the AssemblyScript kit's collection policy
// (it collects every 16 calls once an instance's memory is small and
// steady): an instance that first leaves little garbage per call and then a
// great deal, near its memory_mib, must keep answering, as it would with a
// collection before every call; and what a plugin keeps survives the
// collections.
func TestKitCollectsGarbage(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles an AssemblyScript module: runs in the full test run")
	}
	wasm := wasmtest.BuildAssemblyScript(t, "testdata/garbage.ts")
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			h := newHostIn(t, mode)
			ctx := context.Background()
			if err := h.Load(ctx, pluginhost.Module{Name: "garbage", Wasm: wasm, MemoryMiB: 8, Timeout: 5 * time.Second, Instances: 1}); err != nil {
				t.Fatal(err)
			}
			call := func(i, kib int) {
				t.Helper()
				in := input(10)
				in.Events = [][]byte{[]byte(fmt.Sprintf(`{"kib":%d}`, kib))}
				out, err := h.Transform(ctx, "garbage", in)
				if err != nil {
					t.Fatalf("call %d (%d KiB of garbage): %v", i, kib, err)
				}
				if got := out.Request.Headers["X-Kept"]; got != "42" {
					t.Fatalf("call %d: the buffer the plugin kept reads %q, want 42", i, got)
				}
			}
			i := 0
			for ; i < 200; i++ { // little garbage: the instance collects every 16 calls
				call(i, 1)
			}
			for ; i < 260; i++ { // 3 MiB a call: 16 calls of it would be 48 MiB
				call(i, 3072)
			}
			for ; i < 460; i++ { // little again, then much again
				call(i, 1)
			}
			for ; i < 520; i++ {
				call(i, 3072)
			}
		})
	}
}

// TestCKit: the parts of hookhub.h the template does not use: a declared
// config schema the host enforces, hh_fail, query parameters, headers
// replaced and removed in any letter case, array paths and the config.
func TestCKit(t *testing.T) {
	wasm := wasmtest.BuildC(t, "sdk/c/testdata/kit.c")
	h := newHost(t)
	ctx := context.Background()
	if err := h.Load(ctx, pluginhost.Module{Name: "kit", Wasm: wasm, Timeout: time.Second}); err != nil {
		t.Fatal(err)
	}
	if err := h.ValidateConfig("kit", []byte(`{"mode":"other"}`)); err == nil {
		t.Error("a config outside the declared schema was accepted")
	}
	if err := h.ValidateConfig("kit", []byte(`{"mode":"shape"}`)); err != nil {
		t.Errorf("a config that fits the schema: %v", err)
	}
	in := input(10)
	in.Config = []byte(`{"mode":"fail"}`)
	if _, err := h.Transform(ctx, "kit", in); err == nil || !strings.Contains(err.Error(), "failing as configured") {
		t.Errorf("hh_fail: got %v", err)
	}
	in.Config = []byte(`{"mode":"shape"}`)
	in.Request.Query = map[string]string{"keep": "1"}
	in.Events = [][]byte{[]byte(`{"type":"order.placed","data":{"items":[{"sku":"a"},{"sku":"b\u00e9"}]}}`)}
	out, err := h.Transform(ctx, "kit", in)
	if err != nil {
		t.Fatal(err)
	}
	want := abi.Request{ContentType: "application/json",
		Headers: map[string]string{"X-Was-Tenant": "acme", "X-Kind": "two"},
		Query:   map[string]string{"keep": "1", "sku": "bé", "webhook": "wh"},
		Body:    []byte(`[{"sku":"a"},{"sku":"b\u00e9"}]`)}
	if !reflect.DeepEqual(out.Request, want) {
		t.Errorf("got %+v\nwant %+v", out.Request, want)
	}
	in.Events = [][]byte{[]byte(`{"data":{"items":[{"sku":"a"}]}}`)}
	if out, err := h.Transform(ctx, "kit", in); err != nil || !out.Skip {
		t.Errorf("no second item: got %+v, %v; want a skip", out, err)
	}
}

// TestKitMalformedInput calls the kits' exports directly with inputs the
// host never sends (every truncation of a real one, huge counts, a wrong
// magic): each kit answers an error naming malformed input, never a trap or
// an answer outside its memory, and the next good input still works.
func TestKitMalformedInput(t *testing.T) {
	kits := map[string]func(testing.TB) []byte{"c": wasmtest.BuildCTemplate}
	if !testing.Short() {
		kits["assemblyscript"] = wasmtest.BuildAssemblyScriptTemplate
	}
	good := abi.AppendInput(nil, input(10))
	bad := [][]byte{[]byte("HHI2"), []byte("HH"), append([]byte("HHI1"), 0xff, 0xff, 0xff, 0xff)}
	for n := 4; n < len(good); n += 7 {
		bad = append(bad, good[:n])
	}
	huge := append([]byte(nil), good...)
	off := 4 + 4 + len("wh") + 4 // the event count, after the webhook and an empty config
	huge[off], huge[off+1], huge[off+2], huge[off+3] = 0xff, 0xff, 0xff, 0x7f
	bad = append(bad, huge, append(append([]byte(nil), good...), 0))
	for kit, build := range kits {
		t.Run(kit, func(t *testing.T) {
			ctx := context.Background()
			rt := wazero.NewRuntime(ctx)
			defer rt.Close(ctx)
			wasi_snapshot_preview1.MustInstantiate(ctx, rt)
			mod, err := rt.InstantiateWithConfig(ctx, build(t), wazero.NewModuleConfig().WithStartFunctions("_initialize"))
			if err != nil {
				t.Fatal(err)
			}
			call := func(in []byte) (*abi.Output, error) {
				r, err := mod.ExportedFunction("hookhub_alloc").Call(ctx, uint64(len(in)))
				if err != nil {
					t.Fatalf("alloc: %v", err)
				}
				if !mod.Memory().Write(uint32(r[0]), in) {
					t.Fatalf("alloc returned %d: out of memory range", r[0])
				}
				r, err = mod.ExportedFunction("hookhub_transform").Call(ctx, r[0], uint64(len(in)))
				if err != nil {
					t.Fatalf("transform trapped on %d bytes: %v", len(in), err)
				}
				view, ok := mod.Memory().Read(uint32(r[0]>>32), uint32(r[0]))
				if !ok {
					t.Fatalf("answer out of range")
				}
				return abi.DecodeOutput(view)
			}
			for _, in := range bad {
				if out, err := call(in); err == nil || !strings.Contains(err.Error(), "malformed input") {
					t.Errorf("%d bytes %q...: got %+v, %v; want an error naming malformed input", len(in), in[:min(len(in), 12)], out, err)
				}
			}
			if out, err := call(good); err != nil || string(out.Request.Body) == "" {
				t.Errorf("a good input after bad ones: %+v, %v", out, err)
			}
		})
	}
}
