package benchmark

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tidwall/gjson"
)

// receivers are the loopback endpoints of a run: one server (its own
// host:port, so the hub keeps a connection pool per receiver) per webhook.
type receivers struct {
	srvs     []*httptest.Server
	caFile   string
	failEach int           // answer 503 to every failEach-th request (0: never)
	latency  time.Duration // every answer waits this long
	hangFrom int           // webhooks w<hangFrom> and after never answer (until the hub gives up)
	quit     chan struct{} // closed at the end: hanging requests are let go
	quitOnce sync.Once
	n        atomic.Int64 // requests to the healthy receivers
	hangs    atomic.Int64 // requests to the hanging ones
	hangGone atomic.Int64 // of those, the ones the hub gave up on (its request timeout)
	// handshakes are the TLS handshakes the receivers made; resumed those
	// that resumed a session (TLS session tickets).
	handshakes, resumed atomic.Int64
	mu                  sync.Mutex
	seen                map[string]int // event id + webhook -> deliveries
	lat                 []time.Duration
	// sent holds when each event was published (Unix ns, by index), for
	// requests whose body a plugin reshaped: they are known by their
	// webhook-id header, <event id>:<webhook id>, and the event id is b<index>.
	sent []atomic.Int64
}

// newReceivers starts n receivers (one per webhook), the last hang of them
// hanging. Their goroutines carry the pprof label bench=receiver, so that a
// run's CPU profile tells their share from the hub's.
func newReceivers(dir string, o Options) (*receivers, error) {
	r := &receivers{seen: map[string]int{}, sent: make([]atomic.Int64, o.Events), latency: o.ReceiverLatency,
		hangFrom: o.Webhooks - hanging(o), quit: make(chan struct{})}
	if o.FailRatio > 0 {
		r.failEach = int(1 / o.FailRatio)
	}
	// One set of session ticket keys for all: a ticket one receiver issued
	// resumes at another, as it would at one host with its own name (the
	// hub's session cache is keyed by host name, and all of these are
	// 127.0.0.1).
	var ticketKey [32]byte
	_, _ = rand.Read(ticketKey[:])
	h := http.HandlerFunc(r.serve)
	label := pprof.WithLabels(context.Background(), pprof.Labels("bench", "receiver"))
	pprof.SetGoroutineLabels(label)
	defer pprof.SetGoroutineLabels(context.Background())
	for range o.Webhooks {
		s := httptest.NewUnstartedServer(h)
		if o.Plain {
			s.Start()
		} else {
			s.TLS = &tls.Config{SessionTicketKey: ticketKey, VerifyConnection: func(cs tls.ConnectionState) error {
				r.handshakes.Add(1)
				if cs.DidResume {
					r.resumed.Add(1)
				}
				return nil
			}}
			s.EnableHTTP2 = true
			s.StartTLS()
		}
		r.srvs = append(r.srvs, s)
	}
	if o.Plain {
		return r, nil
	}
	r.caFile = filepath.Join(dir, "ca.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: r.srvs[0].Certificate().Raw})
	return r, os.WriteFile(r.caFile, pemBytes, 0o600)
}

// hanging is how many of the webhooks hang: the share rounded, at least one
// for any share above 0.
func hanging(o Options) int {
	if o.Hang <= 0 {
		return 0
	}
	return min(o.Webhooks, max(1, int(o.Hang*float64(o.Webhooks)+0.5)))
}

// ParseShare reads a share as a percentage (1%) or a fraction (0.01).
func ParseShare(v string) (float64, error) {
	s, pct := strings.CutSuffix(strings.TrimSpace(v), "%")
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, fmt.Errorf("%q: a share such as 1%% or 0.01", v)
	}
	if pct {
		f /= 100
	}
	return f, nil
}

// url of webhook i's receiver.
func (r *receivers) url(i int) string { return r.srvs[i].URL + "/w" + strconv.Itoa(i) }

// release lets the hanging requests go (answered 503).
func (r *receivers) release() { r.quitOnce.Do(func() { close(r.quit) }) }

func (r *receivers) close() {
	r.release()
	for _, s := range r.srvs {
		s.Close()
	}
}

// serve records each event of a request with its publish-to-receive latency.
// The HTTP limit's requests (path /limit) are read the same way, so both
// measures pay the same receiver, but not counted.
func (r *receivers) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	type seen struct {
		id   string
		sent int64
	}
	var got [1]seen
	events := got[:0]
	read := func(ev gjson.Result) {
		if id := ev.Get("data.bench_id"); id.Type == gjson.String && id.Str != "" {
			events = append(events, seen{id.Str, ev.Get("data.sent_ns").Int()})
		}
	}
	if doc := gjson.ParseBytes(body); doc.IsArray() {
		doc.ForEach(func(_, ev gjson.Result) bool { read(ev); return true })
	} else {
		read(doc)
	}
	if len(events) == 0 { // a body a plugin made: the event by its webhook-id
		if id, _, ok := strings.Cut(req.Header.Get("webhook-id"), ":"); ok {
			if i, err := strconv.Atoi(strings.TrimPrefix(id, "b")); err == nil && i >= 0 && i < len(r.sent) {
				events = append(events, seen{id, r.sent[i].Load()})
			}
		}
	}
	if req.URL.Path == "/limit" {
		w.WriteHeader(http.StatusOK)
		return
	}
	hook := strings.TrimPrefix(req.URL.Path, "/")
	if i, err := strconv.Atoi(strings.TrimPrefix(hook, "w")); err == nil && i >= r.hangFrom {
		r.hangs.Add(1)
		select {
		case <-req.Context().Done(): // the hub's request timeout
			r.hangGone.Add(1)
		case <-r.quit:
		}
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	if r.latency > 0 {
		t := time.NewTimer(r.latency)
		select {
		case <-t.C:
		case <-req.Context().Done():
			t.Stop()
			return
		case <-r.quit:
			t.Stop()
		}
	}
	n := r.n.Add(1)
	if r.failEach > 0 && n%int64(r.failEach) == 0 {
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	now := time.Now()
	r.mu.Lock()
	for _, ev := range events {
		r.seen[ev.id+"/"+hook]++
		r.lat = append(r.lat, now.Sub(time.Unix(0, ev.sent)))
	}
	r.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

func (r *receivers) delivered() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.seen)
}
