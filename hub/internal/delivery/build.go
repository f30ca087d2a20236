package delivery

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
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
	}
	endpoint := w.Endpoint
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
	out, err := t.Transform(ctx, w.Plugin.Name, &abi.Input{Webhook: w.ID, Config: w.Plugin.Config, Events: raws, Request: req})
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
