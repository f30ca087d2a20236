package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/hookhub/hookhub/hub"
	"github.com/hookhub/hookhub/hub/config"
	"github.com/hookhub/hookhub/hub/internal/pluginhost"
	"github.com/hookhub/hookhub/schemas"
	"github.com/hookhub/hookhub/sdk/event"
)

// pluginVerbs are hookhub plugin's subcommands, one function each.
var pluginVerbs = []struct {
	name, summary string
	run           func(args []string, stdout, stderr io.Writer) error
}{
	{"run", "dry run: print the request a webhook would get for an event; sends nothing", runPluginRun},
	{"test", "run a plugin over DIR/events/*.json and compare with DIR/expected/*.http (--update writes them)", runPluginTest},
	{"bench", "time a .wasm plugin per call in a worker process and in-process, and its memory", runPluginBench},
	{"new", "write a new plugin project (--lang go|c|assemblyscript|js) that builds and passes plugin test", runPluginNew},
}

func runPlugin(args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "worker" {
		// Hidden: the hub starts it (see pluginWorker); it speaks a framed
		// protocol on stdin and stdout, not to people.
		return pluginhost.ServeWorker(os.Stdin, os.Stdout)
	}
	if len(args) > 0 {
		for _, v := range pluginVerbs {
			if v.name == args[0] {
				return v.run(args[1:], stdout, stderr)
			}
		}
	}
	fmt.Fprintln(stderr, "Usage: hookhub plugin run|test|bench|new [flags]")
	for _, v := range pluginVerbs {
		fmt.Fprintf(stderr, "  %-6s %s\n", v.name, v.summary)
	}
	return errUsage
}

// runPluginRun prints the request a plugin makes for one event (or batch).
func runPluginRun(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("plugin run", "plugin run (--event FILE|- | --sample TYPE) (--config FILE --webhook ID | --plugin NAME | --wasm FILE) [--plugin-config JSON]", stderr)
	eventFile := fs.String("event", "", "a CloudEvent as JSON (a JSON array of them for a batch), from this file or - for stdin")
	sample := fs.String("sample", "", "use the event-type catalog's sample event of this type (such as contact.updated) instead of --event")
	cacheDir := fs.String("cache-dir", defaultPluginCache(), "where compiled modules are kept between runs (\"\" for none)")
	cfgFile := fs.String("config", os.Getenv("HOOKHUB_CONFIG"), "config file whose webhook to use (with --webhook)")
	webhook := fs.String("webhook", "", "id of the webhook in the config")
	name := fs.String("plugin", "", "a first-party plugin (form, brevo, getresponse, slack, mapper, passthrough) or one of the config's plugins")
	wasm := fs.String("wasm", "", "a WebAssembly plugin module to run sandboxed")
	pluginCfg := fs.String("plugin-config", "", "the plugin's config as JSON")
	url := fs.String("url", "https://receiver.example.com/webhooks", "target URL when no webhook is named")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if (*eventFile == "") == (*sample == "") || (*webhook == "" && *name == "" && *wasm == "") {
		fs.Usage()
		return errUsage
	}
	var events [][]byte
	var err error
	if *sample != "" {
		events, err = sampleEvent(*sample)
	} else {
		events, err = readEvents(*eventFile)
	}
	if err != nil {
		return err
	}
	cfg := &config.Config{}
	if *cfgFile != "" {
		if cfg, err = config.Load(*cfgFile, environ()); err != nil {
			return err
		}
	}
	var w config.Webhook
	if *webhook != "" {
		found := false
		for _, cw := range cfg.Webhooks {
			if cw.ID == *webhook {
				w, found = cw, true
			}
		}
		if !found {
			return fmt.Errorf("no webhook %q in %s", *webhook, *cfgFile)
		}
	} else {
		w = config.Webhook{ID: "preview", Account: "preview", URL: *url, Events: []string{"*"}, Secret: config.Secret(previewSecret)}
	}
	if *wasm != "" {
		if _, err := readWasm(*wasm); err != nil {
			return err
		}
		cfg.Plugins = append(cfg.Plugins, config.Plugin{Name: "wasm", Path: *wasm})
		*name = "wasm"
	}
	if *name != "" {
		w.Plugin = &config.PluginRef{Name: *name}
	}
	if *pluginCfg != "" {
		if w.Plugin == nil {
			return errors.New("--plugin-config needs a plugin")
		}
		if !json.Valid([]byte(*pluginCfg)) {
			return errors.New("--plugin-config is not valid JSON")
		}
		w.Plugin.Config = json.RawMessage(*pluginCfg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p, err := hub.NewPreviewer(ctx, cfg, w, *cacheDir)
	if err != nil {
		return err
	}
	defer p.Close(ctx)
	req, body, skipped, err := p.Preview(ctx, events)
	if err != nil {
		return err
	}
	if skipped {
		fmt.Fprintf(stdout, "skipped: the plugin drops this for webhook %s; nothing would be sent\n", w.ID)
		return nil
	}
	_, err = io.WriteString(stdout, formatRequest(req, body, nil))
	return err
}

// formatRequest writes a request as text: the method and URL, the headers
// sorted (but those in leave out), a blank line, the body. An
// Authorization header's credentials are redacted.
func formatRequest(req *http.Request, body []byte, leaveOut map[string]bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s\n", req.Method, req.URL)
	keys := make([]string, 0, len(req.Header))
	for k := range req.Header {
		if !leaveOut[http.CanonicalHeaderKey(k)] {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := strings.Join(req.Header[k], ", ")
		if strings.EqualFold(k, "Authorization") {
			scheme, _, _ := strings.Cut(v, " ")
			v = scheme + " [redacted]"
		}
		fmt.Fprintf(&b, "%s: %s\n", k, v)
	}
	fmt.Fprintf(&b, "\n%s\n", body)
	return b.String()
}

// defaultPluginCache is where plugin run, test and bench keep compiled
// modules: the user's cache folder (as the js engine), or none.
func defaultPluginCache() string {
	d, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(d, "hookhub")
}

// sampleEvent is the event-type catalog's sample of typ as a whole event,
// the same on every run (so its request is too, but for the signature).
func sampleEvent(typ string) ([][]byte, error) {
	t, ok := schemas.Lookup(typ)
	if !ok {
		hint := ""
		var known []string
		for _, t := range schemas.Catalog() {
			known = append(known, t.Type)
		}
		if s := schemas.Suggest(typ, known); len(s) > 0 {
			hint = fmt.Sprintf(" (did you mean %q?)", s[0])
		}
		return nil, fmt.Errorf("--sample: %q is not in the event-type catalog%s: hookhub event-types lists them", typ, hint)
	}
	if len(t.Sample) == 0 {
		return nil, fmt.Errorf("--sample: the catalog has no sample of %s", typ)
	}
	at := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	e := event.Event{SpecVersion: event.SpecVersion, ID: "evt_sample", Source: "hookhub/sample", Type: typ, Time: &at,
		DataContentType: "application/json", Account: "preview", Initiator: event.InitiatorAPI, Data: t.Sample}
	b, err := json.Marshal(e)
	if err != nil {
		return nil, err
	}
	return [][]byte{b}, nil
}

// pluginWorker is the command that starts a plugin worker process: this
// executable's hidden "plugin worker" subcommand. Nil (plugins then run in
// the hub's process) when the executable cannot be found.
func pluginWorker() []string {
	exe, err := os.Executable()
	if err != nil {
		return nil
	}
	return []string{exe, "plugin", "worker"}
}

// previewSecret signs previews of webhooks that are not in a config.
const previewSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

func readEvents(file string) ([][]byte, error) {
	var raw []byte
	var err error
	if file == "-" {
		raw, err = io.ReadAll(io.LimitReader(os.Stdin, 8<<20))
	} else {
		raw, err = os.ReadFile(file)
	}
	if err != nil {
		return nil, err
	}
	raw = []byte(strings.TrimSpace(string(raw)))
	if len(raw) > 0 && raw[0] == '[' {
		var arr []json.RawMessage
		if err := json.Unmarshal(raw, &arr); err != nil {
			return nil, fmt.Errorf("%s: %v", file, err)
		}
		out := make([][]byte, len(arr))
		for i, e := range arr {
			out[i] = e
		}
		return out, nil
	}
	return [][]byte{raw}, nil
}
