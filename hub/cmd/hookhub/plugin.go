package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/hookhub/hookhub/hub"
	"github.com/hookhub/hookhub/hub/config"
	"github.com/hookhub/hookhub/hub/internal/pluginhost"
)

func runPlugin(args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "worker" {
		// Hidden: the hub starts it (see pluginWorker); it speaks a framed
		// protocol on stdin and stdout, not to people.
		return pluginhost.ServeWorker(os.Stdin, os.Stdout)
	}
	if len(args) == 0 || args[0] != "run" {
		fmt.Fprintln(stderr, "Usage: hookhub plugin run [flags]   (a dry run: prints the request a webhook would get; sends nothing)")
		return errUsage
	}
	fs := newFlags("plugin run", "plugin run --event FILE|- (--config FILE --webhook ID | --plugin NAME | --wasm FILE) [--plugin-config JSON]", stderr)
	eventFile := fs.String("event", "", "a CloudEvent as JSON (a JSON array of them for a batch), from this file or - for stdin")
	cfgFile := fs.String("config", os.Getenv("HOOKHUB_CONFIG"), "config file whose webhook to use (with --webhook)")
	webhook := fs.String("webhook", "", "id of the webhook in the config")
	name := fs.String("plugin", "", "a first-party plugin (form, brevo, getresponse, slack, mapper, passthrough) or one of the config's plugins")
	wasm := fs.String("wasm", "", "a WebAssembly plugin module to run sandboxed")
	pluginCfg := fs.String("plugin-config", "", "the plugin's config as JSON")
	url := fs.String("url", "https://receiver.example.com/webhooks", "target URL when no webhook is named")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *eventFile == "" || (*webhook == "" && *name == "" && *wasm == "") {
		fs.Usage()
		return errUsage
	}
	events, err := readEvents(*eventFile)
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
	req, body, skipped, err := hub.Preview(ctx, cfg, w, events)
	if err != nil {
		return err
	}
	if skipped {
		fmt.Fprintf(stdout, "skipped: the plugin drops this for webhook %s; nothing would be sent\n", w.ID)
		return nil
	}
	fmt.Fprintf(stdout, "POST %s\n", req.URL)
	keys := make([]string, 0, len(req.Header))
	for k := range req.Header {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := strings.Join(req.Header[k], ", ")
		if strings.EqualFold(k, "Authorization") {
			scheme, _, _ := strings.Cut(v, " ")
			v = scheme + " [redacted]"
		}
		fmt.Fprintf(stdout, "%s: %s\n", k, v)
	}
	fmt.Fprintf(stdout, "\n%s\n", body)
	return nil
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
