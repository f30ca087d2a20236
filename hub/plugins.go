package hub

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/rs/zerolog"

	"github.com/hookhub/hookhub/hub/config"
	"github.com/hookhub/hookhub/hub/internal/delivery"
	"github.com/hookhub/hookhub/hub/internal/metrics"
	"github.com/hookhub/hookhub/hub/internal/pluginhost"
	"github.com/hookhub/hookhub/hub/internal/webhooks"
	"github.com/hookhub/hookhub/plugins"
	"github.com/hookhub/hookhub/sdk/abi"
	"github.com/hookhub/hookhub/sdk/event"
)

var _ delivery.Transformer = (*pluginhost.Host)(nil)

// timedPlugins records each plugin call's time.
type timedPlugins struct {
	host    *pluginhost.Host
	metrics *metrics.Metrics
}

func (t timedPlugins) Transform(ctx context.Context, name string, in *abi.Input) (*abi.Output, error) {
	start := time.Now()
	out, err := t.host.Transform(ctx, name, in)
	t.metrics.Plugin(name, time.Since(start))
	return out, err
}

// newPlugins starts the plugin host: the first-party plugins natively, the
// config's modules compiled (cached under cacheDir when set), and every
// webhook's plugin and config checked. Errors name the config path. The
// modules whose isolation is "process" run in worker processes started by
// the worker command (see WithPluginWorker).
func newPlugins(ctx context.Context, cfg *config.Config, cacheDir string, worker []string, log zerolog.Logger) (*pluginhost.Host, error) {
	h, err := pluginhost.New(pluginhost.Options{CacheDir: cacheDir, Log: log, WorkerCommand: worker})
	if err != nil {
		return nil, err
	}
	for name, p := range plugins.FirstParty {
		if err := h.Register(name, pluginhost.Native{Transform: p.Transform, ConfigSchema: p.ConfigSchema}); err != nil {
			_ = h.Close(ctx)
			return nil, err
		}
	}
	registerJS(h)
	file := cfg.File
	if file == "" {
		file = "config"
	}
	var errs []error
	bad := func(path, format string, args ...any) {
		errs = append(errs, &config.FieldError{File: file, Path: path, Msg: fmt.Sprintf(format, args...)})
	}
	failed := map[string]bool{} // plugins that did not load, said once
	for i, p := range cfg.Plugins {
		wasm, err := os.ReadFile(cfg.Resolve(p.Path))
		if err != nil {
			var pe *os.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			bad(fmt.Sprintf("plugins[%d].path", i), "cannot read %s: %v", p.Path, err)
			failed[p.Name] = true
			continue
		}
		err = h.Load(ctx, pluginhost.Module{Name: p.Name, Path: p.Path, Wasm: wasm, SHA256: p.SHA256, MemoryMiB: p.MemoryMiB, Timeout: p.Timeout(), Isolation: p.Isolation})
		if err != nil {
			bad(fmt.Sprintf("plugins[%d]", i), "%v", err)
			failed[p.Name] = true
		}
	}
	for i, w := range cfg.Webhooks {
		if w.Plugin == nil || (failed[w.Plugin.Name] && !h.Has(w.Plugin.Name)) {
			continue // its plugin's own error says why
		}
		if !h.Has(w.Plugin.Name) {
			bad(fmt.Sprintf("webhooks[%d].plugin.name", i), "unknown plugin %q (first-party: form, brevo, getresponse, slack, mapper, passthrough, js; or one of plugins[])", w.Plugin.Name)
			continue
		}
		if err := h.ValidateConfig(w.Plugin.Name, w.Plugin.Config); err != nil {
			bad(fmt.Sprintf("webhooks[%d].plugin.config", i), "%v", err)
		}
	}
	if len(errs) > 0 {
		_ = h.Close(ctx)
		return nil, errors.Join(errs...)
	}
	return h, nil
}

// Validate checks what the config loader cannot without running: that every
// plugin module loads and every webhook's plugin exists and accepts its
// config. hookhub validate calls it after config.Load.
func Validate(cfg *config.Config) error {
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	// Without a worker command: a module loads the same in the hub's process
	// as in a worker, so one isolated by "process" is checked in process.
	c := *cfg
	c.Plugins = slices.Clone(cfg.Plugins)
	for i := range c.Plugins {
		c.Plugins[i].Isolation = ""
	}
	h, err := newPlugins(ctx, &c, "", nil, zerolog.Nop())
	if err != nil {
		return err
	}
	return h.Close(ctx)
}

func pluginCacheDir(cfg *config.Config) string { return filepath.Join(cfg.DataDir, "plugin-cache") }

// Preview builds the request the hub would send to webhook w for events
// (CloudEvents JSON; more than one for a batch), with its plugin, headers,
// auth and signature, and sends nothing. Skipped says the plugin drops the
// events for this webhook. (NewPreviewer does the same for many events with
// one load of the plugin.)
func Preview(ctx context.Context, cfg *config.Config, w config.Webhook, events [][]byte) (req *http.Request, body []byte, skipped bool, err error) {
	p, err := NewPreviewer(ctx, cfg, w, "")
	if err != nil {
		return nil, nil, false, err
	}
	defer p.Close(ctx)
	return p.Preview(ctx, events)
}

// build is what hookhub plugin run and the API's preview share: the request
// delivery.Build makes for events now, with the id a delivery of one event
// has (<event id>:<webhook id>), sending nothing.
func build(ctx context.Context, t delivery.Transformer, keys delivery.Keys, wh *webhooks.Webhook, events [][]byte, batch bool) (*delivery.Built, error) {
	now := time.Now()
	items := make([]delivery.Item, len(events))
	for i, e := range events {
		items[i] = delivery.Item{Raw: e, Stored: now}
	}
	id := "preview"
	if len(events) == 1 {
		if ev, err := event.Parse(events[0]); err == nil {
			id = ev.ID + ":" + wh.ID
		}
	}
	return delivery.Build(ctx, t, "hookhub/"+Version, keys, wh, id, items, batch, now)
}

// previewer is the API's preview: the request the running hub's plugins
// and keys make for one event to wh (as a batch of one when batch is set),
// built by the delivery engine's own code and never sent.
func previewer(t delivery.Transformer, keys delivery.Keys) func(ctx context.Context, wh *webhooks.Webhook, raw []byte, batch bool) (*delivery.Built, error) {
	return func(ctx context.Context, wh *webhooks.Webhook, raw []byte, batch bool) (*delivery.Built, error) {
		return build(ctx, t, keys, wh, [][]byte{raw}, batch)
	}
}
