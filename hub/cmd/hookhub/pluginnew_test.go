package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/hookhub/hookhub/hub/hubtest"
	"github.com/hookhub/hookhub/hub/internal/wasmtest"
	"github.com/hookhub/hookhub/sdk/publish"
)

// TestPluginNewKits: for each kit, plugin new writes a project that builds
// with the kit's toolchain (skipped, saying which, where it is missing),
// passes plugin test as generated, and whose module delivers for real
// through a hub: the golden file's body and header arrive, signed, and the
// event the plugin skips never does.
func TestPluginNewKits(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: builds every kit's template")
	}
	for _, lang := range []string{"go", "c", "assemblyscript", "js"} {
		t.Run(lang, func(t *testing.T) {
			dir := newProject(t, lang)
			cache := t.TempDir()
			switch lang {
			case "go":
				build(t, dir)
			case "c":
				wasmtest.BuildCTemplate(t) // skips where clang or wasi-libc is missing
				build(t, dir)
			case "assemblyscript":
				kit := filepath.Join(wasmtest.Root(t), "sdk", "assemblyscript")
				wasmtest.BuildAssemblyScriptTemplate(t) // skips where node or the kit's compiler is missing
				// The kit's compiler, as npm install would put it here.
				if err := os.Symlink(filepath.Join(kit, "node_modules"), filepath.Join(dir, "node_modules")); err != nil {
					t.Fatal(err)
				}
				build(t, dir)
			}
			out, errs, code := runCLI(t, "plugin", "test", dir, "--cache-dir", cache)
			if code != 0 || !strings.Contains(out, "PASS: 3 events") {
				t.Fatalf("plugin test of the new %s project (exit %d):\n%s%s", lang, code, out, errs)
			}
			deliverThroughHub(t, dir, lang, cache)
		})
	}
}

// deliverThroughHub runs a hub whose webhook uses the project's plugin,
// publishes the project's sample events, and checks what arrives against
// the golden files.
func deliverThroughHub(t *testing.T, dir, lang, cache string) {
	t.Helper()
	rc := hubtest.NewReceiver(t)
	plugin := `{"name":"crm"}`
	plugins := ""
	dataDir := t.TempDir()
	if lang == "js" {
		cfg, err := os.ReadFile(filepath.Join(dir, "config.json"))
		if err != nil {
			t.Fatal(err)
		}
		plugin = `{"name":"js","config":` + string(cfg) + `}`
		// The hub's cache is the one plugin test filled: the engine is
		// compiled once per test run.
		if err := os.Symlink(cache, filepath.Join(dataDir, "plugin-cache")); err != nil {
			t.Fatal(err)
		}
	} else {
		plugins = `"plugins":[{"name":"crm","path":` + jsonString(filepath.Join(dir, "plugin.wasm")) + `}],`
	}
	doc := `{"data_dir":` + jsonString(dataDir) + `,` + plugins + `"webhooks":[{"id":"wh_crm","account":"acme","url":` + jsonString(rc.URL+"/crm") +
		`,"events":["contact.*"],"secret":"` + hubtest.Secret + `","plugin":` + plugin + `}]}`
	h := hubtest.StartHub(t, doc, nil)
	p := publish.New(h.JetStream(), "hookhub")
	for _, name := range []string{"contact.deleted", "contact.updated"} { // the plugin skips the first
		raw, err := os.ReadFile(filepath.Join(dir, "events", name+".json"))
		if err != nil {
			t.Fatal(err)
		}
		publishRaw(t, p, raw)
	}
	got := rc.WaitFor(t, 1, 3*time.Minute)[0]
	golden, err := os.ReadFile(filepath.Join(dir, "expected", "contact.updated.http"))
	if err != nil {
		t.Fatal(err)
	}
	_, body, _ := strings.Cut(string(golden), "\n\n")
	if string(got.Body)+"\n" != body || got.Header.Get("X-Event-Type") != "contact.updated" ||
		got.Header.Get("Content-Type") != "application/json" || !strings.HasPrefix(got.Header.Get("Webhook-Signature"), "v1,") {
		t.Errorf("delivered %s %v\nwant the body of %s: %s", got.Body, got.Header, filepath.Join(dir, "expected", "contact.updated.http"), body)
	}
	time.Sleep(200 * time.Millisecond)
	if n := rc.Count(); n != 1 {
		t.Errorf("%d requests arrived; want 1 (the plugin skips contact.deleted)", n)
	}
}

func publishRaw(t *testing.T, p *publish.Publisher, raw []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var ack *jetstream.PubAck
	ack, err := p.PublishRaw(ctx, raw)
	if err != nil || ack == nil {
		t.Fatalf("publish: %v", err)
	}
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// TestPluginNewRefuses: plugin new says what is wrong with its arguments
// and never writes into a folder that holds files.
func TestPluginNewRefuses(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "keep.txt"), []byte("mine"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"crm", "--lang", "rust"}, `--lang "rust": want go, c, assemblyscript or js`},
		{[]string{"Bad Name", "--lang", "go"}, `plugin name "Bad Name"`},
		{[]string{"crm", "--lang", "go", "--dir", dir}, "exists and is not empty"},
	} {
		_, errs, code := runCLI(t, append([]string{"plugin", "new"}, c.args...)...)
		if code != 1 || !strings.Contains(errs, c.want) {
			t.Errorf("plugin new %v (exit %d): %s; want %q", c.args, code, errs, c.want)
		}
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("the folder holds %d entries; want only keep.txt", len(ents))
	}
	// Every kit's project is whole: each file the language needs is there.
	for lang, want := range map[string][]string{
		"go":             {"go.mod", "main.go", "transform.go", "transform_test.go", "build.sh", "events/contact.updated.json", "expected/contact.updated.http"},
		"c":              {"hookhub.h", "transform.c", "build.sh", "events/contact.updated.json", "expected/contact.deleted.http"},
		"assemblyscript": {"package.json", "asconfig.json", "assembly/hookhub.ts", "transform.ts", "build.sh", "expected/contact.added.http"},
		"js":             {"handler.js", "config.json", "events/contact.added.json", "expected/contact.updated.http"},
	} {
		d := filepath.Join(t.TempDir(), lang)
		if _, errs, code := runCLI(t, "plugin", "new", "crm", "--lang", lang, "--dir", d); code != 0 {
			t.Fatalf("%s: %s", lang, errs)
		}
		for _, f := range want {
			if _, err := os.Stat(filepath.Join(d, f)); err != nil {
				t.Errorf("%s: %v", lang, err)
			}
		}
	}
}

// TestPluginNewGoOutsideACheckout: outside a hookhub checkout, with no
// --sdk, the Go project's go.mod can find no SDK (the module is not
// published): plugin new says so and how to fix it, rather than leave
// ./build.sh to fail with a missing go.sum entry.
func TestPluginNewGoOutsideACheckout(t *testing.T) {
	t.Chdir(t.TempDir())
	out, errs, code := runCLI(t, "plugin", "new", "crm", "--lang", "go")
	if code != 0 || !strings.Contains(out, "No hookhub sdk folder was found") || !strings.Contains(out, "--sdk DIR") {
		t.Errorf("plugin new outside a checkout (exit %d): %s%s; want the hint about --sdk", code, out, errs)
	}
	out, _, _ = runCLI(t, "plugin", "new", "crm2", "--lang", "go", "--sdk", "/opt/hookhub/sdk")
	if strings.Contains(out, "No hookhub sdk folder") {
		t.Errorf("plugin new with --sdk still warns: %s", out)
	}
}

func TestValidPluginName(t *testing.T) {
	for name, want := range map[string]bool{
		"a": true, "crm": true, "my-plugin_2": true, "a" + strings.Repeat("b", 62): true,
		"": false, "1abc": false, "Abc": false, "a.b": false, "a b": false, "é": false, "a" + strings.Repeat("b", 63): false,
		"-a": false, "aB": false,
	} {
		if got := validPluginName(name); got != want {
			t.Errorf("validPluginName(%q) = %v, want %v", name, got, want)
		}
	}
}
