package hub_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookhub/hookhub/hub/hubtest"
	"github.com/hookhub/hookhub/hub/internal/bus"
)

// TestReceiverFaults: receivers that reset connections, answer 200 and then
// trickle their body past the timeout, answer a huge body, or fail the TLS
// handshake. Every event ends delivered (a 200 is a 200, however slow the
// body after it: the hub stops reading at the timeout) or in the dead letters
// with the reason; the healthy webhook beside them gets all of its own.
func TestReceiverFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("waits out request timeouts")
	}
	reset := hubtest.NewReceiver(t)
	reset.SetRespond(func(_ int, w http.ResponseWriter, _ *http.Request) {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			if tc, ok := conn.(*net.TCPConn); ok {
				_ = tc.SetLinger(0) // RST, not FIN
			}
			conn.Close()
		}
	})
	slow := hubtest.NewReceiver(t)
	slow.SetRespond(func(_ int, w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(200)
		for range 20 { // 20 bytes over 4 s: past the 1s timeout
			select {
			case <-r.Context().Done():
				return
			case <-time.After(200 * time.Millisecond):
			}
			_, _ = w.Write([]byte("x"))
			w.(http.Flusher).Flush()
		}
	})
	huge := hubtest.NewReceiver(t)
	huge.SetRespond(func(_ int, w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(200)
		chunk := []byte(strings.Repeat("y", 1<<20))
		for range 100 { // 100 MiB, if the hub kept reading
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	})
	untrusted := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(200) }))
	untrusted.TLS = &tls.Config{Certificates: []tls.Certificate{selfSigned(t)}}
	untrusted.StartTLS() // its own certificate, not in the hub's ca_file: the handshake fails
	t.Cleanup(untrusted.Close)
	healthy := hubtest.NewTLSReceiver(t)

	doc := fmt.Sprintf(`{"delivery":{"timeout":"1s","ca_file":%q},"webhooks":[%s]}`, healthy.CAFile(t), strings.Join([]string{
		webhookJSON("reset", "acme", reset.URL, `"events":["*"],"retry":{"schedule":["1s"],"jitter":0}`),
		webhookJSON("slow", "acme", slow.URL, `"events":["*"],"retry":{"schedule":["1s"],"jitter":0}`),
		webhookJSON("huge", "acme", huge.URL, `"events":["*"],"retry":{"schedule":["1s"],"jitter":0}`),
		webhookJSON("tls", "acme", untrusted.URL, `"events":["*"],"retry":{"schedule":["1s"],"jitter":0}`),
		webhookJSON("healthy", "acme", healthy.URL, `"events":["*"]`),
	}, ","))
	r := startHub(t, doc, nil)
	const n = 3
	for i := range n {
		r.publish(t, contact(fmt.Sprintf("evt_rf%d", i)))
	}
	healthy.WaitFor(t, n, 20*time.Second)
	// reset and tls fail twice each, then dead-letter; slow and huge are delivered.
	dl := r.waitStream(t, streamName("hookhub", "DLQ"), 2*n, 40*time.Second)
	reasons := map[string]string{}
	for _, m := range dl {
		reasons[m.Headers().Get(bus.HeaderWebhook)] = m.Headers().Get(bus.HeaderReason)
	}
	for hook, want := range map[string]string{"reset": "connection reset", "tls": "certificate"} {
		if !strings.Contains(reasons[hook], want) && !(hook == "reset" && strings.Contains(reasons[hook], "EOF")) {
			t.Errorf("%s: dead-letter reason %q, want it to say %q", hook, reasons[hook], want)
		}
	}
	for _, rc := range []*hubtest.Receiver{huge, slow} {
		if rc.Count() != n {
			t.Errorf("%s: %d requests, want %d, each delivered at once", rc.URL, rc.Count(), n)
		}
	}
	if reasons["huge"] != "" || reasons["slow"] != "" {
		t.Errorf("huge or slow dead-lettered: %v", reasons)
	}
	hubtest.Eventually(t, 10*time.Second, "the counts", func() bool { return r.Stats().Delivered == 3*n })
}

// TestReceiverDownThenUp: a receiver that is down for a while gets every
// event once it is back.
func TestReceiverDownThenUp(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // down: connections are refused
	doc := `{"webhooks":[` + webhookJSON("later", "acme", "http://"+addr+"/", `"events":["*"],"retry":{"schedule":["1s","1s","1s","1s","1s","1s"],"jitter":0}`) + `]}`
	r := startHub(t, doc, nil)
	const n = 20
	for i := range n {
		r.publish(t, contact(fmt.Sprintf("evt_du%d", i)))
	}
	time.Sleep(2 * time.Second) // a retry or two fail
	var got atomic.Int64
	var mu sync.Mutex
	seen := map[string]bool{}
	ln, err = net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("taking the port back: %v", err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		mu.Lock()
		if id := req.Header.Get("webhook-id"); !seen[id] {
			seen[id] = true
			got.Add(1)
		}
		mu.Unlock()
		w.WriteHeader(200)
	})}
	srv.SetKeepAlivesEnabled(false)
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	hubtest.Eventually(t, 30*time.Second, "every event after the receiver came back", func() bool { return got.Load() == n })
}

// selfSigned makes a certificate no one trusts.
func selfSigned(t *testing.T) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "untrusted"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}
