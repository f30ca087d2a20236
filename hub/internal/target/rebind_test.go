package target_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"

	"github.com/hookhub/hookhub/hub/internal/target"
)

// dnsServer is a DNS server on a loopback UDP port that answers A queries
// for any name with answer(name, n), n counting the A queries so far, and
// AAAA queries with no address.
type dnsServer struct {
	conn    net.PacketConn
	queries atomic.Int32
}

func startDNS(t *testing.T, answer func(name string, n int) netip.Addr) *dnsServer {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &dnsServer{conn: pc}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			var p dnsmessage.Parser
			h, err := p.Start(buf[:n])
			if err != nil {
				continue
			}
			q, err := p.Question()
			if err != nil {
				continue
			}
			b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true})
			_ = b.StartQuestions()
			_ = b.Question(q)
			_ = b.StartAnswers()
			if q.Type == dnsmessage.TypeA {
				a := answer(q.Name.String(), int(s.queries.Add(1)))
				_ = b.AResource(dnsmessage.ResourceHeader{Name: q.Name, Class: dnsmessage.ClassINET, TTL: 0}, dnsmessage.AResource{A: a.As4()})
			}
			msg, err := b.Finish()
			if err == nil {
				_, _ = pc.WriteTo(msg, from)
			}
		}
	}()
	t.Cleanup(func() { pc.Close(); wg.Wait() })
	return s
}

// resolver asks only this server, with no cache (Go's resolver keeps none).
func (s *dnsServer) resolver() *net.Resolver {
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "udp", s.conn.LocalAddr().String())
	}}
}

// TestDNSRebinding: a name that resolves to a public address when it is
// checked and to 127.0.0.1 when the hub dials (DNS rebinding) is refused at
// dial time, and the receiver on 127.0.0.1 never sees a connection; so is a
// name that always resolves to loopback. The same dial with the name's
// address allowed reaches the receiver, which shows the test can pass.
func TestDNSRebinding(t *testing.T) {
	var connections atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			connections.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())

	public := netip.MustParseAddr("93.184.215.14")
	loopback := netip.MustParseAddr("127.0.0.1")
	dns := startDNS(t, func(name string, n int) netip.Addr {
		if strings.HasPrefix(name, "rebind.") && n == 1 {
			return public // the first answer, seen by the check
		}
		return loopback
	})
	p := target.Policy{Ports: []int{443}, Resolver: dns.resolver()}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	// The check sees a public address...
	if err := p.CheckHost(ctx, "rebind.hooks.test"); err != nil {
		t.Fatalf("the first answer is public, the check refused it: %v", err)
	}
	// ...the dial, a moment later, gets 127.0.0.1 and is refused.
	get := func(p target.Policy, host string) error {
		client := &http.Client{Transport: &http.Transport{DialContext: p.Dialer(&net.Dialer{Timeout: time.Second})}}
		resp, err := client.Get("http://" + net.JoinHostPort(host, port) + "/")
		if resp != nil {
			resp.Body.Close()
		}
		return err
	}
	if err := get(p, "rebind.hooks.test"); !errors.Is(err, target.ErrRefused) || !strings.Contains(err.Error(), "127.0.0.1 is a loopback address") {
		t.Errorf("rebound dial: got %v, want a loopback refusal", err)
	}
	if err := get(p, "always-loopback.hooks.test"); !errors.Is(err, target.ErrRefused) {
		t.Errorf("a name resolving to 127.0.0.1: got %v, want a refusal", err)
	}
	if err := p.CheckHost(ctx, "always-loopback.hooks.test"); !errors.Is(err, target.ErrRefused) {
		t.Errorf("CheckHost of a name resolving to 127.0.0.1: got %v, want a refusal", err)
	}
	if n := connections.Load(); n != 0 {
		t.Errorf("the receiver on 127.0.0.1 saw %d connections", n)
	}
	if dns.queries.Load() < 3 {
		t.Errorf("the DNS server answered %d A queries: the dials did not use it", dns.queries.Load())
	}

	allowed := p
	allowed.Allow = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	if err := get(allowed, "always-loopback.hooks.test"); err != nil || connections.Load() != 1 {
		t.Errorf("with 127.0.0.1 allowed the dial should reach the receiver: %v, %d connections", err, connections.Load())
	}
}
