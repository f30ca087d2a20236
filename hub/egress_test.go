package hub_test

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookhub/hookhub/hub/hubtest"
	"github.com/hookhub/hookhub/hub/internal/bus"
)

// connectProxy is a real HTTP CONNECT proxy on loopback that counts tunnels.
func connectProxy(t *testing.T) (string, *atomic.Int64) {
	t.Helper()
	var tunnels atomic.Int64
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodConnect {
			http.Error(w, "CONNECT only", http.StatusMethodNotAllowed)
			return
		}
		up, err := net.DialTimeout("tcp", r.Host, 5*time.Second)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		tunnels.Add(1)
		w.WriteHeader(http.StatusOK)
		conn, _, err := w.(http.Hijacker).Hijack()
		if err != nil {
			up.Close()
			return
		}
		go func() { _, _ = io.Copy(up, conn); up.Close() }()
		go func() { _, _ = io.Copy(conn, up); conn.Close() }()
	})}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return "http://" + ln.Addr().String(), &tunnels
}

// TestEgressThroughProxy: deliveries leave through the CONNECT proxy, TLS
// end to end to the receiver.
func TestEgressThroughProxy(t *testing.T) {
	rc := hubtest.NewTLSReceiver(t)
	proxy, tunnels := connectProxy(t)
	doc := fmt.Sprintf(`{"delivery":{"proxy_url":%q,"ca_file":%q},"webhooks":[%s]}`, proxy, rc.CAFile(t),
		webhookJSON("via", "acme", rc.URL, `"events":["*"]`))
	r := startHub(t, doc, nil)
	for i := range 3 {
		r.publish(t, contact(fmt.Sprintf("evt_px%d", i)))
	}
	rc.WaitFor(t, 3, 20*time.Second)
	if tunnels.Load() == 0 {
		t.Error("the deliveries did not go through the proxy")
	}
}

// TestProxyStillChecksTargets: through a proxy, a target that resolves to
// loopback is refused before the CONNECT; allow_networks opens an exception.
func TestProxyStillChecksTargets(t *testing.T) {
	rc := hubtest.NewTLSReceiver(t)
	u, _ := url.Parse(rc.URL)
	proxy, tunnels := connectProxy(t)
	target := "https://localhost:" + u.Port() + "/"
	doc := fmt.Sprintf(`{"delivery":{"allow_insecure_targets":false,"allowed_ports":[%s],"proxy_url":%q,"ca_file":%q},"webhooks":[%s]}`,
		u.Port(), proxy, rc.CAFile(t), webhookJSON("local", "acme", target, `"events":["*"]`))
	r := startHub(t, doc, nil)
	r.publish(t, contact("evt_px_refused"))
	dl := r.waitStream(t, streamName("hookhub", "DLQ"), 1, 20*time.Second)
	if reason := dl[0].Headers().Get(bus.HeaderReason); !strings.Contains(reason, "loopback") || tunnels.Load() != 0 {
		t.Errorf("reason %q, %d tunnels: want a refusal before any CONNECT", reason, tunnels.Load())
	}

	// A loopback target allowed by allow_networks (the certificate names
	// 127.0.0.1, not localhost).
	doc = fmt.Sprintf(`{"delivery":{"allow_insecure_targets":false,"allowed_ports":[%s],"allow_networks":["127.0.0.0/8","::1/128"],"ca_file":%q},"webhooks":[%s]}`,
		u.Port(), rc.CAFile(t), webhookJSON("local", "acme", rc.URL+"/", `"events":["*"]`))
	r2 := startHub(t, doc, nil)
	r2.publish(t, contact("evt_allowed"))
	rc.WaitFor(t, 1, 20*time.Second)
}

// TestHTTPVersion: deliveries use HTTP/1.1 by default, even to a receiver
// that offers HTTP/2; delivery.http2 lets them use HTTP/2.
func TestHTTPVersion(t *testing.T) {
	for _, c := range []struct {
		http2 bool
		want  string
	}{{false, "HTTP/1.1"}, {true, "HTTP/2.0"}} {
		rc := hubtest.NewTLSReceiver(t)
		doc := fmt.Sprintf(`{"delivery":{"http2":%t,"ca_file":%q},"webhooks":[%s]}`, c.http2, rc.CAFile(t),
			webhookJSON("wh", "acme", rc.URL, `"events":["*"]`))
		r := startHub(t, doc, nil)
		r.publish(t, contact(fmt.Sprintf("evt_proto_%t", c.http2)))
		if got := rc.WaitFor(t, 1, 20*time.Second)[0].Proto; got != c.want {
			t.Errorf("http2 %t: the receiver saw %s, want %s", c.http2, got, c.want)
		}
	}
}

// failingProxy is a real HTTP CONNECT proxy on loopback that cannot reach
// any target: it answers every CONNECT with 502, as a proxy does when the
// name does not resolve on its side. It counts the CONNECTs.
func failingProxy(t *testing.T) (string, *atomic.Int64) {
	t.Helper()
	var connects atomic.Int64
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodConnect {
			connects.Add(1)
		}
		http.Error(w, "cannot resolve "+r.Host, http.StatusBadGateway)
	})}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return "http://" + ln.Addr().String(), &connects
}

// TestProxyDNSFailuresRetry: through a proxy, a target name that does not
// resolve is retried like a receiver's 5xx, whether the hub's own check
// cannot resolve it (it never reaches the proxy) or the proxy answers that it
// cannot reach it; the job is dead-lettered only after its last try, with a
// reason that says which.
func TestProxyDNSFailuresRetry(t *testing.T) {
	// A label of 64 characters is no DNS name: every resolver fails on it
	// without sending a query.
	unresolvable := "https://" + strings.Repeat("a", 64) + ".hooks.test/"
	for _, c := range []struct {
		name, url, reason string
		failing           bool
	}{
		{"local", unresolvable, "cannot resolve", false},
		{"proxy", "https://93.184.215.14/", "the proxy answered 502 Bad Gateway to CONNECT 93.184.215.14:443", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			proxy, tunnels := connectProxy(t)
			if c.failing {
				proxy, tunnels = failingProxy(t)
			}
			doc := fmt.Sprintf(`{"delivery":{"allow_insecure_targets":false,"proxy_url":%q},"webhooks":[%s]}`, proxy,
				webhookJSON("px", "acme", c.url, `"events":["*"],"retry":{"schedule":["1s"],"jitter":0}`))
			r := startHub(t, doc, nil)
			r.publish(t, contact("evt_px_dns"))
			dl := r.waitStream(t, streamName("hookhub", "DLQ"), 1, 30*time.Second)
			h := dl[0].Headers()
			if h.Get(bus.HeaderAttempts) != "2" || !strings.Contains(h.Get(bus.HeaderReason), c.reason) ||
				strings.Contains(h.Get(bus.HeaderReason), "refused") {
				t.Errorf("dead letter after %s attempts, reason %q: want 2 attempts (retried), saying %q",
					h.Get(bus.HeaderAttempts), h.Get(bus.HeaderReason), c.reason)
			}
			recs := attempts(t, r, 2)
			if recs[0].Outcome != "retrying" {
				t.Errorf("first attempt %+v, want retrying", recs[0])
			}
			if want := map[bool]int64{false: 0, true: 2}[c.failing]; tunnels.Load() != want {
				t.Errorf("the proxy saw %d CONNECTs, want %d", tunnels.Load(), want)
			}
		})
	}
}
