package hub

import (
	"context"
	"net/http"

	"github.com/rs/zerolog"

	"github.com/hookhub/hookhub/hub/config"
	"github.com/hookhub/hookhub/hub/internal/delivery"
	"github.com/hookhub/hookhub/hub/internal/pluginhost"
	"github.com/hookhub/hookhub/hub/internal/webhooks"
)

// Previewer builds the requests the hub would send to one webhook, with its
// plugin loaded once, and sends nothing (hookhub plugin run and plugin test).
type Previewer struct {
	host *pluginhost.Host
	wh   *webhooks.Webhook
	keys delivery.Keys
}

// NewPreviewer loads webhook w's plugin as Preview does. cacheDir keeps
// compiled modules across runs ("" for none), so that a second run of the
// same module does not compile it again.
func NewPreviewer(ctx context.Context, cfg *config.Config, w config.Webhook, cacheDir string) (*Previewer, error) {
	h, err := newPlugins(ctx, &config.Config{File: cfg.File, DataDir: cfg.DataDir, Plugins: cfg.Plugins,
		Webhooks: []config.Webhook{w}}, cacheDir, nil, zerolog.Nop())
	if err != nil {
		return nil, err
	}
	wh, err := webhooks.New(w, cfg.Delivery.Retry, true)
	if err != nil {
		_ = h.Close(ctx)
		return nil, err
	}
	keys, err := delivery.ParseKeys(cfg)
	if err != nil {
		_ = h.Close(ctx)
		return nil, err
	}
	return &Previewer{host: h, wh: wh, keys: keys}, nil
}

// Preview builds the request for events (more than one for a batch).
// Skipped says the plugin drops them.
func (p *Previewer) Preview(ctx context.Context, events [][]byte) (req *http.Request, body []byte, skipped bool, err error) {
	b, err := build(ctx, p.host, p.keys, p.wh, events, len(events) > 1)
	if err != nil {
		return nil, nil, false, err
	}
	return b.Request, b.Body, b.Skipped, nil
}

// Close ends the plugin host.
func (p *Previewer) Close(ctx context.Context) error { return p.host.Close(ctx) }
