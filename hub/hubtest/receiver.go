// Package hubtest helps test code that works with hookhub: loopback receivers that
// record what arrives, and waiting helpers. Everything is real: httptest
// servers, real TLS.
package hubtest

import (
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// Request is one request a Receiver got.
type Request struct {
	N      int // 1-based arrival number at this receiver
	At     time.Time
	Proto  string // "HTTP/1.1" or "HTTP/2.0"
	Path   string
	Query  string
	Header http.Header
	Body   []byte
}

// Receiver is a loopback HTTP(S) server that records requests and answers
// with Respond (200 when nil).
type Receiver struct {
	*httptest.Server
	mu      sync.Mutex
	reqs    []Request
	arrived chan struct{}
	// Respond writes the answer to the nth request (1-based).
	Respond func(n int, w http.ResponseWriter, r *http.Request)
}

// NewReceiver starts a plain HTTP receiver; NewTLSReceiver an HTTPS one.
func NewReceiver(t testing.TB) *Receiver { return newReceiver(t, false) }

// NewTLSReceiver starts an HTTPS receiver with a self-signed certificate
// (see CAFile) that offers HTTP/2 and HTTP/1.1, as most servers do.
func NewTLSReceiver(t testing.TB) *Receiver { return newReceiver(t, true) }

func newReceiver(t testing.TB, tls bool) *Receiver {
	rc := &Receiver{arrived: make(chan struct{}, 1)}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		n := len(rc.reqs) + 1
		rc.reqs = append(rc.reqs, Request{N: n, At: time.Now(), Proto: r.Proto, Path: r.URL.Path, Query: r.URL.RawQuery, Header: r.Header.Clone(), Body: body})
		respond := rc.Respond
		rc.mu.Unlock()
		select {
		case rc.arrived <- struct{}{}:
		default:
		}
		if respond != nil {
			respond(n, w, r)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	if tls {
		rc.Server = httptest.NewUnstartedServer(h)
		rc.EnableHTTP2 = true
		rc.StartTLS()
	} else {
		rc.Server = httptest.NewServer(h)
	}
	t.Cleanup(rc.Close)
	return rc
}

// SetRespond replaces the answer function.
func (rc *Receiver) SetRespond(f func(n int, w http.ResponseWriter, r *http.Request)) {
	rc.mu.Lock()
	rc.Respond = f
	rc.mu.Unlock()
}

// Requests returns a copy of what arrived so far.
func (rc *Receiver) Requests() []Request {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]Request(nil), rc.reqs...)
}

// Count is how many requests arrived.
func (rc *Receiver) Count() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return len(rc.reqs)
}

// WaitFor waits until at least n requests arrived, failing the test after
// timeout.
func (rc *Receiver) WaitFor(t testing.TB, n int, timeout time.Duration) []Request {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		if rc.Count() >= n {
			return rc.Requests()
		}
		select {
		case <-rc.arrived:
		case <-time.After(50 * time.Millisecond):
		case <-deadline.C:
			t.Fatalf("receiver %s: got %d requests within %s, want %d", rc.URL, rc.Count(), timeout, n)
		}
	}
}

// CAFile writes the TLS receiver's certificate as PEM into dir and returns
// the path, for the hub's delivery.ca_file.
func (rc *Receiver) CAFile(t testing.TB) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ca.pem")
	b := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: rc.Certificate().Raw})
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// Eventually polls cond every 20ms until it holds or timeout passes.
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
