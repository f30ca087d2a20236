package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/pmezard/go-difflib/difflib"

	"github.com/hookhub/hookhub/hub"
	"github.com/hookhub/hookhub/hub/config"
)

// goldenLeaveOut are the headers a golden file leaves out: they change on
// every run (the signature, its timestamp, the delivery's id) or with the
// hub's version (User-Agent), not with the plugin.
var goldenLeaveOut = map[string]bool{"Webhook-Id": true, "Webhook-Timestamp": true, "Webhook-Signature": true, "User-Agent": true}

// runPluginTest runs a plugin over DIR/events/*.json and compares each
// outcome with DIR/expected/<name>.http.
func runPluginTest(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("plugin test", "plugin test DIR [--wasm FILE | --plugin NAME] [--update]", stderr)
	wasm := fs.String("wasm", "", "the plugin module (default DIR/plugin.wasm)")
	name := fs.String("plugin", "", "a first-party plugin (such as js or mapper) instead of a module")
	update := fs.Bool("update", false, "write DIR/expected/<event>.http from what the plugin does now, instead of comparing")
	url := fs.String("url", "https://receiver.example.com/webhooks", "the webhook's URL")
	cacheDir := fs.String("cache-dir", defaultPluginCache(), "where compiled modules are kept between runs (\"\" for none)")
	dir, err := parseWithArg(fs, args)
	if err != nil {
		return err
	}
	events, err := filepath.Glob(filepath.Join(dir, "events", "*.json"))
	if err != nil {
		return err
	}
	if len(events) == 0 {
		return fmt.Errorf("%s: no events/*.json to run the plugin over", dir)
	}
	w := config.Webhook{ID: "test", Account: "test", URL: *url, Events: []string{"*"}, Secret: config.Secret(previewSecret),
		Plugin: &config.PluginRef{Name: *name}}
	cfg := &config.Config{}
	if w.Plugin.Config, err = readPluginConfig(filepath.Join(dir, "config.json")); err != nil {
		return err
	}
	script, err := os.ReadFile(filepath.Join(dir, "handler.js"))
	switch {
	case *name != "":
	case *wasm == "" && err == nil:
		// A js project: the first-party js plugin runs DIR/handler.js.
		w.Plugin.Name = "js"
		if w.Plugin.Config, err = withScript(w.Plugin.Config, script); err != nil {
			return fmt.Errorf("%s: %w", filepath.Join(dir, "config.json"), err)
		}
	default:
		if *wasm == "" {
			*wasm = filepath.Join(dir, "plugin.wasm")
			if _, err := os.Stat(*wasm); err != nil {
				if _, err := os.Stat(filepath.Join(dir, "transform.wasm")); err == nil {
					*wasm = filepath.Join(dir, "transform.wasm")
				}
			}
		}
		if _, err := readWasm(*wasm); err != nil {
			return err
		}
		cfg.Plugins = []config.Plugin{{Name: "plugin", Path: *wasm}}
		w.Plugin.Name = "plugin"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	p, err := hub.NewPreviewer(ctx, cfg, w, *cacheDir)
	if err != nil {
		return err
	}
	defer p.Close(ctx)
	failed := 0
	for _, file := range events {
		base := strings.TrimSuffix(filepath.Base(file), ".json")
		got := outcome(ctx, p, file)
		golden := filepath.Join(dir, "expected", base+".http")
		if *update {
			if err := os.MkdirAll(filepath.Dir(golden), 0o750); err != nil {
				return err
			}
			if err := os.WriteFile(golden, []byte(got), 0o600); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "wrote %s\n", golden)
			continue
		}
		want, err := os.ReadFile(golden)
		switch {
		case errors.Is(err, os.ErrNotExist):
			failed++
			fmt.Fprintf(stdout, "FAIL %s: no %s (run with --update to write it); the plugin made:\n%s", base, golden, got)
		case err != nil:
			return err
		case string(want) != got:
			failed++
			diff, _ := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{A: difflib.SplitLines(string(want)), B: difflib.SplitLines(got),
				FromFile: golden, ToFile: "got", Context: 3})
			fmt.Fprintf(stdout, "FAIL %s\n%s", base, diff)
		default:
			fmt.Fprintf(stdout, "ok   %s\n", base)
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d events differ from %s", failed, len(events), filepath.Join(dir, "expected"))
	}
	if !*update {
		fmt.Fprintf(stdout, "PASS: %d events\n", len(events))
	}
	return nil
}

// outcome is what a golden file holds for one event file: the request
// (formatRequest, leaving out goldenLeaveOut), "skipped", or "error: " and
// why.
func outcome(ctx context.Context, p *hub.Previewer, file string) string {
	events, err := readEvents(file)
	if err != nil {
		return "error: " + err.Error() + "\n"
	}
	req, body, skipped, err := p.Preview(ctx, events)
	switch {
	case err != nil:
		return "error: " + err.Error() + "\n"
	case skipped:
		return "skipped\n"
	}
	return formatRequest(req, body, goldenLeaveOut)
}

// readPluginConfig reads a plugin config file, or nil when there is none.
func readPluginConfig(file string) (json.RawMessage, error) {
	b, err := os.ReadFile(file)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if !json.Valid(b) {
		return nil, fmt.Errorf("%s: not valid JSON", file)
	}
	return b, nil
}

// withScript sets a js plugin config's script.
func withScript(cfg json.RawMessage, script []byte) (json.RawMessage, error) {
	m := map[string]json.RawMessage{}
	if len(cfg) > 0 {
		if err := json.Unmarshal(cfg, &m); err != nil {
			return nil, err
		}
	}
	s, _ := json.Marshal(string(script))
	m["script"] = s
	return json.Marshal(m)
}

// parseWithArg parses flags given before or after one positional argument.
func parseWithArg(fs *flag.FlagSet, args []string) (string, error) {
	if err := fs.Parse(args); err != nil {
		return "", err
	}
	rest := fs.Args()
	if len(rest) == 0 {
		fs.Usage()
		return "", errUsage
	}
	arg := rest[0]
	if err := fs.Parse(rest[1:]); err != nil {
		return "", err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return "", errUsage
	}
	return arg, nil
}
