package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"text/template"

	"github.com/hookhub/hookhub/sdk"
)

// kitFile is one file of a new project: where it comes from in sdk.Kits,
// and how it is written.
type kitFile struct {
	from, to string
	exec     bool                  // a script
	edit     func(b []byte) []byte // changes it (nil: as it is)
}

// The languages of plugin new, and the files of each project.
var kitLangs = map[string]func(name, sdkDir string) ([]kitFile, error){
	"go":             goKit,
	"c":              cKit,
	"assemblyscript": asKit,
	"js":             jsKit,
}

// validPluginName reports whether name is a lowercase letter followed by at
// most 62 lowercase letters, digits, - and _. (Not a regexp: `{0,62}`
// compiled into 62 nested copies, 1 ms of every command's start.)
func validPluginName(name string) bool {
	if len(name) == 0 || len(name) > 63 || name[0] < 'a' || name[0] > 'z' {
		return false
	}
	for _, c := range []byte(name[1:]) {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' && c != '_' {
			return false
		}
	}
	return true
}

// runPluginNew writes a new plugin project from a kit's template.
func runPluginNew(args []string, stdout, stderr io.Writer) error {
	flags := newFlags("plugin new", "plugin new NAME --lang go|c|assemblyscript|js [--dir D] [--sdk DIR]", stderr)
	lang := flags.String("lang", "", "the project's language: go, c, assemblyscript, or js (a script for the first-party js plugin)")
	dir := flags.String("dir", "", "the folder to write (default ./NAME); it must not exist or be empty")
	sdkDir := flags.String("sdk", "", "go: the hookhub sdk folder its go.mod replaces the SDK with (default: this repository's, when run inside it)")
	name, err := parseWithArg(flags, args)
	if err != nil {
		return err
	}
	if !validPluginName(name) {
		return fmt.Errorf("plugin name %q: use lowercase letters, digits, - and _, starting with a letter", name)
	}
	kit, ok := kitLangs[*lang]
	if !ok {
		return fmt.Errorf("--lang %q: want go, c, assemblyscript or js", *lang)
	}
	if *dir == "" {
		*dir = name
	}
	if ents, err := os.ReadDir(*dir); err == nil && len(ents) > 0 {
		return fmt.Errorf("%s exists and is not empty: choose another --dir", *dir)
	}
	if *lang == "go" && *sdkDir == "" {
		*sdkDir = findSDK(*dir)
	}
	files, err := kit(name, *sdkDir)
	if err != nil {
		return err
	}
	for _, f := range files {
		b, err := fs.ReadFile(sdk.Kits, f.from)
		if err != nil {
			return err
		}
		if f.edit != nil {
			b = f.edit(b)
		}
		to := filepath.Join(*dir, filepath.FromSlash(f.to))
		if err := os.MkdirAll(filepath.Dir(to), 0o750); err != nil {
			return err
		}
		mode := os.FileMode(0o644)
		if f.exec {
			mode = 0o755
		}
		if err := os.WriteFile(to, b, mode); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "wrote %s (%s, %d files). Next:\n", *dir, *lang, len(files))
	switch *lang {
	case "js":
		fmt.Fprintf(stdout, "  hookhub plugin test %s     # runs handler.js over events/ against expected/\n", *dir)
	case "assemblyscript":
		fmt.Fprintf(stdout, "  cd %s && npm install && ./build.sh && hookhub plugin test .\n", *dir)
	default:
		fmt.Fprintf(stdout, "  cd %s && ./build.sh && hookhub plugin test .\n", *dir)
	}
	if *lang == "go" && *sdkDir == "" {
		fmt.Fprintf(stdout, "No hookhub sdk folder was found, so %s/go.mod replaces nothing: point its replace line at a hookhub checkout's sdk folder\n"+
			"(or run this again with --sdk DIR) before ./build.sh.\n", *dir)
	}
	return nil
}

// samples are the Go template's events and golden files, which hold for
// the C and AssemblyScript templates too (they send the same bytes).
func samples() ([]kitFile, error) {
	var out []kitFile
	for _, d := range []string{"events", "expected"} {
		ents, err := fs.ReadDir(sdk.Kits, "template/"+d)
		if errors.Is(err, fs.ErrNotExist) && d == "expected" {
			continue // bootstrapping: plugin test --update writes them
		}
		if err != nil {
			return nil, err
		}
		for _, e := range ents {
			out = append(out, kitFile{from: "template/" + d + "/" + e.Name(), to: d + "/" + e.Name()})
		}
	}
	return out, nil
}

func goKit(name, sdkDir string) ([]kitFile, error) {
	mod, err := template.New("go.mod").Parse(string(mustKit("template/go.mod.tmpl")))
	if err != nil {
		return nil, err
	}
	var gomod bytes.Buffer
	if err := mod.Execute(&gomod, struct{ Module, SDKDir string }{"example.com/" + name, filepath.ToSlash(sdkDir)}); err != nil {
		return nil, err
	}
	files := []kitFile{
		{from: "template/go.mod.tmpl", to: "go.mod", edit: func([]byte) []byte { return gomod.Bytes() }},
		{from: "template/main.go", to: "main.go"},
		{from: "template/transform.go", to: "transform.go"},
		{from: "template/transform_test.go", to: "transform_test.go"},
		{from: "template/build.sh", to: "build.sh", exec: true},
	}
	s, err := samples()
	return append(files, s...), err
}

func cKit(string, string) ([]kitFile, error) {
	files := []kitFile{
		{from: "c/hookhub.h", to: "hookhub.h"},
		{from: "c/template/transform.c", to: "transform.c"},
		// The kit's build script, with hookhub.h beside it and plugin.wasm
		// as its output.
		{from: "c/template/build.sh", to: "build.sh", exec: true, edit: func(b []byte) []byte {
			b = bytes.ReplaceAll(b, []byte(`${HOOKHUB_H_DIR:-$here/..}`), []byte(`${HOOKHUB_H_DIR:-$here}`))
			return bytes.ReplaceAll(b, []byte(`$here/transform.wasm`), []byte(`$here/plugin.wasm`))
		}},
	}
	s, err := samples()
	return append(files, s...), err
}

// asPackage is a new AssemblyScript project's package.json: the compiler
// the kit pins.
func asPackage(name string) func([]byte) []byte {
	return func(kitPkg []byte) []byte {
		var kit struct {
			DevDependencies map[string]string `json:"devDependencies"`
		}
		_ = json.Unmarshal(kitPkg, &kit)
		b, _ := json.MarshalIndent(map[string]any{
			"name": name, "version": "0.1.0", "private": true, "type": "module",
			"scripts":         map[string]string{"build": "asc transform.ts --config asconfig.json --outFile plugin.wasm"},
			"devDependencies": kit.DevDependencies,
		}, "", "  ")
		return append(b, '\n')
	}
}

const asBuild = `#!/bin/sh
# Builds transform.ts into plugin.wasm with the AssemblyScript compiler
# (npm install first) and asconfig.json, which replaces env.abort with the
# kit's shim (in assembly/hookhub.ts). OUT is the output file.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"
exec ./node_modules/.bin/asc transform.ts --config asconfig.json --outFile "${OUT:-$here/plugin.wasm}"
`

func asKit(name, _ string) ([]kitFile, error) {
	files := []kitFile{
		{from: "assemblyscript/assembly/index.ts", to: "assembly/hookhub.ts"},
		{from: "assemblyscript/asconfig.json", to: "asconfig.json"},
		{from: "assemblyscript/template/transform.ts", to: "transform.ts", edit: func(b []byte) []byte {
			return bytes.ReplaceAll(b, []byte(`"../assembly/index"`), []byte(`"./assembly/hookhub"`))
		}},
		{from: "assemblyscript/template/build.sh", to: "build.sh", exec: true, edit: func([]byte) []byte { return []byte(asBuild) }},
		{from: "assemblyscript/package.json", to: "package.json", edit: asPackage(name)},
	}
	s, err := samples()
	return append(files, s...), err
}

func jsKit(string, string) ([]kitFile, error) {
	script := mustKit("js/template/handler.js")
	cfg, _ := json.MarshalIndent(map[string]string{"script": string(script)}, "", "  ")
	files := []kitFile{
		{from: "js/template/handler.js", to: "handler.js"},
		{from: "js/template/handler.js", to: "config.json", edit: func([]byte) []byte { return append(cfg, '\n') }},
	}
	err := fs.WalkDir(sdk.Kits, "js/template", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || path.Base(p) == "handler.js" {
			return err
		}
		files = append(files, kitFile{from: p, to: strings.TrimPrefix(p, "js/template/")})
		return nil
	})
	if err == nil && len(files) < 4 {
		err = errors.New("the js template has no sample events")
	}
	return files, err
}

func mustKit(name string) []byte {
	b, err := fs.ReadFile(sdk.Kits, name)
	if err != nil {
		panic("sdk.Kits: " + err.Error())
	}
	return b
}

// findSDK is the sdk folder of the hookhub repository that dir is to be
// in, or the working folder is in, as a path relative to dir when it can
// be; "" outside one.
func findSDK(dir string) string {
	for _, start := range []string{filepath.Dir(dir), "."} {
		d, err := filepath.Abs(start)
		if err != nil {
			continue
		}
		for {
			mod, err := os.ReadFile(filepath.Join(d, "sdk", "go.mod"))
			if err == nil && bytes.Contains(mod, []byte("module github.com/hookhub/hookhub/sdk\n")) {
				sdkDir := filepath.Join(d, "sdk")
				if abs, err := filepath.Abs(dir); err == nil {
					if rel, err := filepath.Rel(abs, sdkDir); err == nil {
						return rel
					}
				}
				return sdkDir
			}
			parent := filepath.Dir(d)
			if parent == d {
				break
			}
			d = parent
		}
	}
	return ""
}
