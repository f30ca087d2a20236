package pluginhost

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"

	"github.com/hookhub/hookhub/sdk/abi"
)

// label names a module in a load error: its name, and where it was read
// from when known.
func (m Module) label() string {
	if m.Path != "" {
		return m.Name + " (" + m.Path + ")"
	}
	return m.Name
}

// loadError names the module's path in err, an error that starts
// "plugin NAME: " (as the pools' errors do); it unwraps to err.
func (m Module) loadError(err error) error {
	if m.Path == "" {
		return err
	}
	return &labelled{label: m.label(), name: m.Name, err: err}
}

type labelled struct {
	label, name string
	err         error
}

func (e *labelled) Error() string {
	return "plugin " + e.label + ": " + strings.TrimPrefix(e.err.Error(), "plugin "+e.name+": ")
}

func (e *labelled) Unwrap() error { return e.err }

// wantExports are the functions a module must export, with their signatures.
var wantExports = []struct {
	name           string
	params, result []api.ValueType
	optional       bool
}{
	{name: "hookhub_abi_version", result: []api.ValueType{api.ValueTypeI32}},
	{name: "hookhub_alloc", params: []api.ValueType{api.ValueTypeI32}, result: []api.ValueType{api.ValueTypeI32}},
	{name: "hookhub_transform", params: []api.ValueType{api.ValueTypeI32, api.ValueTypeI32}, result: []api.ValueType{api.ValueTypeI64}},
	{name: "hookhub_config_schema", result: []api.ValueType{api.ValueTypeI64}, optional: true},
	{name: "_initialize", optional: true},
	// A marker, never called: the module reads the input's URL (ABI 1.1).
	{name: abi.URLExport, optional: true},
}

// checkModule compiles m once, before it is run in either isolation, and
// says in one error everything that keeps it from loading: not WebAssembly,
// an import the host does not offer, a missing export or one of the wrong
// type. Each part of the message says what to do.
//
// It compiles the module as it came, before limitStack adds its global: code
// that names the global index the counter will take is invalid as it came,
// and must not get to reset the counter. wazero's interpreter checks it in
// about half the time its compiler takes; the host does it once per Load,
// and its workers get only modules it checked.
//
// readsURL is whether the module exports abi.URLExport: only such a module
// gets the input's URL (ABI 1.1); others get the 1.0 encoding.
func checkModule(ctx context.Context, m Module) (readsURL bool, err error) {
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter())
	defer rt.Close(ctx)
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, rt); err != nil {
		return false, fmt.Errorf("plugin %s: wasi: %w", m.label(), err)
	}
	wasi := rt.Module(wasi_snapshot_preview1.ModuleName).ExportedFunctionDefinitions()
	compiled, err := rt.CompileModule(ctx, m.Wasm)
	if err != nil {
		return false, fmt.Errorf("plugin %s: not a valid WebAssembly module: %w", m.label(), err)
	}
	var problems []string
	if missing := missingImports(compiled, wasi); len(missing) > 0 {
		p := fmt.Sprintf("imports %s, which the hub does not provide: a plugin may import only WASI preview 1 (%s)",
			strings.Join(missing, ", "), wasi_snapshot_preview1.ModuleName)
		for _, imp := range missing {
			if strings.HasPrefix(imp, "env.abort") {
				p += "; AssemblyScript imports env.abort by default: build with --use abort= (or give it your own abort)"
				break
			}
		}
		problems = append(problems, p)
	}
	if p := exportProblems(compiled); p != "" {
		problems = append(problems, p)
	}
	if len(problems) > 0 {
		return false, fmt.Errorf("plugin %s: %s (see the ABI in sdk/README.md)", m.label(), strings.Join(problems, "; and it "))
	}
	_, readsURL = compiled.ExportedFunctions()[abi.URLExport]
	return readsURL, nil
}

// missingImports lists the module's imports ("module.name") that the host
// does not offer: anything but a WASI preview 1 function.
func missingImports(compiled wazero.CompiledModule, wasi map[string]api.FunctionDefinition) []string {
	var missing []string
	for _, f := range compiled.ImportedFunctions() {
		mod, name, _ := f.Import()
		if mod != wasi_snapshot_preview1.ModuleName || wasi[name] == nil {
			missing = append(missing, mod+"."+name)
		}
	}
	for _, mem := range compiled.ImportedMemories() {
		mod, name, _ := mem.Import()
		missing = append(missing, mod+"."+name+" (a memory: export your own instead)")
	}
	slices.Sort(missing)
	return slices.Compact(missing)
}

// exportProblems says which required exports are missing or of the wrong
// type, or "".
func exportProblems(compiled wazero.CompiledModule) string {
	var missing, wrong []string
	if _, ok := compiled.ExportedMemories()["memory"]; !ok {
		missing = append(missing, "memory")
	}
	fns := compiled.ExportedFunctions()
	for _, w := range wantExports {
		f, ok := fns[w.name]
		switch {
		case !ok && !w.optional:
			missing = append(missing, w.name)
		case ok && (!slices.Equal(f.ParamTypes(), w.params) || !slices.Equal(f.ResultTypes(), w.result)):
			wrong = append(wrong, fmt.Sprintf("%s is %s, want %s", w.name,
				signature(f.ParamTypes(), f.ResultTypes()), signature(w.params, w.result)))
		}
	}
	var parts []string
	if len(missing) > 0 {
		p := "does not export " + strings.Join(missing, ", ")
		p += ": a plugin exports memory, hookhub_abi_version, hookhub_alloc and hookhub_transform" +
			" (in Go: import sdk/plugin, call plugin.Handle in init, and build with GOOS=wasip1 GOARCH=wasm -buildmode=c-shared)"
		parts = append(parts, p)
	}
	if len(wrong) > 0 {
		parts = append(parts, "exports "+strings.Join(wrong, ", "))
	}
	return strings.Join(parts, "; and it ")
}

// signature writes a function type as the README does: (i32, i32) -> i64.
func signature(params, results []api.ValueType) string {
	names := func(ts []api.ValueType) string {
		s := make([]string, len(ts))
		for i, t := range ts {
			s[i] = api.ValueTypeName(t)
		}
		return strings.Join(s, ", ")
	}
	out := "(" + names(params) + ")"
	if len(results) > 0 {
		out += " -> " + names(results)
	}
	return out
}
