package delivery

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hookhub/hookhub/hub/config"
	"github.com/hookhub/hookhub/hub/internal/webhooks"
	"github.com/hookhub/hookhub/sdk/abi"
	"github.com/hookhub/hookhub/sdk/signature"
)

// Item is one event to build a request from.
type Item struct {
	Raw    []byte    // the CloudEvent as published
	Stored time.Time // when it was stored: the body's timestamp when the event has none
}

// Built is a request ready to send, or the plugin's decision to skip.
type Built struct {
	Request *http.Request // nil when skipped
	Body    []byte
	Types   []string // each item's event type
	Skipped bool
}

// Build makes the request the hub sends to w for the items at now: the
// Standard Webhooks body (an array for a batch), the webhook's plugin, its
// headers and auth, and the signature over the body actually sent (v1 with
// its secrets, v1a with its account's key in keys), with id
// as the webhook-id. Failures are permanent (the same input fails the same
// way), but for a plugin that ran out of time. hookhub plugin run shows what it builds, without sending.
func Build(ctx context.Context, t Transformer, userAgent string, keys Keys, w *webhooks.Webhook, id string, items []Item, batch bool, now time.Time) (*Built, error) {
	b := &Built{}
	raws := make([][]byte, len(items))
	bodies := make([][]byte, len(items))
	for i, it := range items {
		body, typ, err := rawBody(it.Raw, it.Stored)
		if err != nil {
			return b, err
		}
		b.Types = append(b.Types, typ)
		raws[i], bodies[i] = it.Raw, body
	}
	body := bodies[0]
	if batch {
		body = append(append([]byte("["), bytes.Join(bodies, []byte(","))...), ']')
	}
	req := abi.Request{ContentType: "application/json", Headers: w.Headers, Body: body}
	endpoint := w.Endpoint
	if w.Plugin != nil {
		out, err := transform(ctx, t, w, raws, req)
		if err != nil {
			return b, err
		}
		if out.Skip {
			b.Skipped = true
			return b, nil
		}
		req = out.Request
		if endpoint, err = pluginURL(w, out.URL); err != nil {
			return b, err
		}
	}
	if len(req.Query) > 0 {
		c := *endpoint
		q := c.Query()
		for k, v := range req.Query {
			q.Set(k, v)
		}
		c.RawQuery = q.Encode()
		endpoint = &c
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint.String(), bytes.NewReader(req.Body))
	if err != nil {
		return b, fmt.Errorf("%w: building the request: %v", ErrPermanent, err)
	}
	for k, v := range req.Headers {
		hr.Header.Set(k, v)
	}
	ct := req.ContentType
	if ct == "" {
		ct = "application/json"
	}
	hr.Header.Set("Content-Type", ct)
	hr.Header.Set("User-Agent", userAgent)
	if a := w.Auth; a != nil {
		switch a.Type {
		case "basic":
			hr.SetBasicAuth(a.Username, a.Password.Reveal())
		case "token":
			hr.Header.Set("Authorization", "Bearer "+a.Token.Reveal())
		}
	}
	hr.Header.Set(signature.HeaderID, id)
	hr.Header.Set(signature.HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
	var secrets []signature.Secret
	var signers []signature.SigningKey
	if w.Signs("v1") {
		secrets = w.SigningSecrets(now)
	}
	if w.Signs("v1a") {
		if ks := keys.For(w.Account); len(ks) > 0 {
			signers = ks[:1]
		}
	}
	sig := signature.SignHeader(secrets, signers, id, now, req.Body)
	if sig == "" {
		return b, fmt.Errorf("%w: no key to sign with: v1a needs signing_keys for account %q", ErrPermanent, w.Account)
	}
	hr.Header.Set(signature.HeaderSignature, sig)
	b.Request, b.Body = hr, req.Body
	return b, nil
}

// transform runs the webhook's plugin. Its failures are permanent (the same
// input gives the same answer, so the job goes to the dead letters, from
// where it can be redriven once the plugin or its config is mended), but for
// running out of time (an error whose Timeout() says so, as the plugin
// host's time limit does): that depends on the load of the moment, so it is
// retried like a 5xx.
func transform(ctx context.Context, t Transformer, w *webhooks.Webhook, raws [][]byte, req abi.Request) (*abi.Output, error) {
	if t == nil {
		return nil, fmt.Errorf("%w: plugin %q: plugins are not available in this hub", ErrPermanent, w.Plugin.Name)
	}
	target := *w.Endpoint
	target.User = nil // the webhook's basic auth is the hub's, never the plugin's
	out, err := t.Transform(ctx, w.Plugin.Name, &abi.Input{Webhook: w.ID, Config: w.Plugin.Config, Events: raws, Request: req, URL: target.String()})
	var te interface{ Timeout() bool }
	switch {
	case err != nil && errors.As(err, &te) && te.Timeout():
		return nil, &AttemptError{Timeout: true, Err: err}
	case err != nil:
		return nil, fmt.Errorf("%w: %v", ErrPermanent, err)
	}
	for k := range out.Request.Headers {
		if config.ReservedHeader(k) {
			return nil, fmt.Errorf("%w: plugin %q set header %q, which only the hub may set", ErrPermanent, w.Plugin.Name, k)
		}
	}
	return out, nil
}

// pluginURL is the URL a plugin's answer sends to: the webhook's, or the
// plugin's override (abi.Output.URL) when it changes only the path and
// query. An override must be a path ("/v2/hooks?x=1") or an absolute URL
// with the webhook's own scheme and host (port included); one that names
// another host, scheme or port, carries user info or a fragment, or does
// not parse fails the delivery for good: a plugin never redirects a
// delivery elsewhere. The error names the plugin and the host it tried,
// never the rest of the URL (its query may hold a token).
func pluginURL(w *webhooks.Webhook, override string) (*url.URL, error) {
	if override == "" {
		return w.Endpoint, nil
	}
	refuse := func(why string) error {
		return fmt.Errorf("%w: plugin %q set the URL %s: a plugin may change only the path and query of the webhook's URL", ErrPermanent, w.Plugin.Name, why)
	}
	u, err := url.Parse(override)
	switch {
	case err != nil:
		return nil, refuse("to something that is not a URL")
	case u.Opaque != "" || (u.Scheme == "" && u.Host == "" && !strings.HasPrefix(u.Path, "/")):
		return nil, refuse("to a relative reference (give a path that starts with /, or the whole URL)")
	case u.Scheme == "" && u.Host != "":
		return nil, refuse("to the host " + strconv.Quote(u.Host) + " (a scheme-relative URL)")
	case u.Host != "" && !strings.EqualFold(u.Host, w.Endpoint.Host):
		return nil, refuse("to the host " + strconv.Quote(u.Host) + ", not the webhook's " + strconv.Quote(w.Endpoint.Host))
	case u.Scheme != "" && !strings.EqualFold(u.Scheme, w.Endpoint.Scheme):
		return nil, refuse("to the scheme " + strconv.Quote(u.Scheme) + ", not the webhook's " + strconv.Quote(w.Endpoint.Scheme))
	case u.Scheme != "" && u.Host == "":
		return nil, refuse("with a scheme and no host")
	case u.User != nil:
		return nil, refuse("with user info")
	case u.Fragment != "" || strings.Contains(override, "#"):
		return nil, refuse("with a fragment")
	}
	c := *w.Endpoint
	c.Path, c.RawPath, c.RawQuery, c.ForceQuery = u.Path, u.RawPath, u.RawQuery, u.ForceQuery
	return &c, nil
}
