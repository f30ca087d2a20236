package delivery

import (
	"context"
	"errors"
	"net/http"
	"time"

	"golang.org/x/time/rate"

	"github.com/hookhub/hookhub/hub/config"
	"github.com/hookhub/hookhub/hub/internal/webhooks"
)

// flow is a lane's flow control, guarded by the engine's mutex: how many
// units may run (cut in half when the endpoint signals overload, grown by one
// per success), until when the endpoint asked for a pause, and the webhook's
// rate limit.
type flow struct {
	limit   int
	paused  time.Time
	limiter *rate.Limiter
	rateCfg config.RateLimit
}

// overloaded reports whether a result says the endpoint is struggling.
func overloaded(res result) bool {
	switch res.status {
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	var ae *AttemptError
	return errors.As(res.err, &ae) && ae.Timeout
}

// observe adapts the lane to an attempt's result.
func (f *flow) observe(res result, ceiling int, now time.Time) {
	switch {
	case res.err == nil:
		f.limit = min(ceiling, f.limit+1)
	case overloaded(res):
		f.limit = max(1, f.limit/2)
		if res.retryAfter > 0 {
			f.paused = maxTime(f.paused, now.Add(min(res.retryAfter, MaxRetryAfter)))
		}
	}
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// admit waits until the lane may send: past any pause the endpoint asked
// for, within the webhook's rate limit, and with a slot at the host. The
// returned func gives the host slot back.
func (e *Engine) admit(ctx context.Context, l *lane, w *webhooks.Webhook) (func(), error) {
	e.mu.Lock()
	until := l.flow.paused
	lim := l.flow.limiter
	if w != nil && (w.RateLimit != nil) != (lim != nil) || w != nil && w.RateLimit != nil && *w.RateLimit != l.flow.rateCfg {
		lim = nil
		if w.RateLimit != nil {
			burst := max(1, w.RateLimit.Burst)
			lim = rate.NewLimiter(rate.Limit(w.RateLimit.PerSecond), burst)
			l.flow.rateCfg = *w.RateLimit
		}
		l.flow.limiter = lim
	}
	e.mu.Unlock()
	if d := time.Until(until); d > 0 {
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		}
	}
	if lim != nil {
		if err := lim.Wait(ctx); err != nil {
			return nil, err
		}
	}
	if w == nil || e.o.PerHost <= 0 {
		return func() {}, nil
	}
	hs := e.hostSlots(w.Endpoint.Hostname())
	select {
	case hs <- struct{}{}:
		return func() { <-hs }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// hostSlots bounds the requests in flight to one host across its webhooks.
func (e *Engine) hostSlots(host string) chan struct{} {
	e.hostMu.Lock()
	defer e.hostMu.Unlock()
	if e.hosts == nil {
		e.hosts = map[string]chan struct{}{}
	}
	c := e.hosts[host]
	if c == nil {
		c = make(chan struct{}, e.o.PerHost)
		e.hosts[host] = c
	}
	return c
}
