package target_test

import (
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/hookhub/hookhub/hub/internal/target"
)

func TestCheckURL(t *testing.T) {
	cases := []struct {
		url    string
		policy target.Policy
		refuse string // "" accepts
	}{
		{"https://hooks.example.com/x", target.Policy{}, ""},
		{"http://hooks.example.com/x", target.Policy{}, "must use https"},
		{"http://hooks.example.com/x", target.Policy{AllowInsecure: true}, ""},
		{"https://hooks.example.com:8443/x", target.Policy{}, "port 8443"},
		{"https://hooks.example.com:8443/x", target.Policy{Ports: []int{443, 8443}}, ""},
		{"ftp://hooks.example.com/", target.Policy{}, "scheme"},
		{"https://u:p@hooks.example.com/", target.Policy{}, "credentials"},
		{"https://hooks.example.com/#frag", target.Policy{}, "fragment"},
		{"https://127.0.0.1/", target.Policy{}, "loopback"},
		{"https://10.0.0.1/", target.Policy{}, "private"},
		{"https://169.254.169.254/", target.Policy{}, "link-local"},
		{"https://[::1]/", target.Policy{}, "loopback"},
		{"https://[fc00::1]/", target.Policy{}, "private"},
		{"https://[::ffff:127.0.0.1]/", target.Policy{}, "loopback"},
		{"https://100.64.0.1/", target.Policy{}, "CGNAT"},
		{"https://0.0.0.0/", target.Policy{}, "unspecified"},
		{"https://93.184.215.14/", target.Policy{}, ""},
		{"https://[fd00:ec2::254]/", target.Policy{}, "private"}, // AWS metadata over IPv6 (ULA)
		{"https://[fe80::1]/", target.Policy{}, "link-local"},
		{"https://239.1.2.3/", target.Policy{}, "multicast"},
		{"https://[ff02::1]/", target.Policy{}, "link-local"},
		{"https://0.1.2.3/", target.Policy{}, "reserved"},
		{"https://255.255.255.255/", target.Policy{}, "reserved"},
		{"https://[64:ff9b::7f00:1]/", target.Policy{}, "127.0.0.1 is a loopback address (through NAT64"},
		{"https://[64:ff9b::a9fe:a9fe]/", target.Policy{}, "link-local"},
		{"https://[64:ff9b::5db8:d70e]/", target.Policy{}, ""}, // NAT64 to a public address
		{"https://[2002:a00:1::]/", target.Policy{}, "10.0.0.1 is a private address (through 6to4"},
		{"https://[::ffff:169.254.169.254]/", target.Policy{}, "link-local"},
		{"https://10.1.2.3/", target.Policy{Allow: []netip.Prefix{netip.MustParsePrefix("10.1.2.0/24")}}, ""},
		{"https://10.1.3.3/", target.Policy{Allow: []netip.Prefix{netip.MustParsePrefix("10.1.2.0/24")}}, "private"},
	}
	for _, c := range cases {
		err := c.policy.CheckURL(c.url)
		switch {
		case c.refuse == "" && err != nil:
			t.Errorf("%s: refused (%v), want accepted", c.url, err)
		case c.refuse != "" && (err == nil || !errors.Is(err, target.ErrRefused) || !strings.Contains(err.Error(), c.refuse)):
			t.Errorf("%s: got %v, want a refusal saying %q", c.url, err, c.refuse)
		}
	}
}

// TestDialRefusesLoopback: the check holds at dial time, on the address
// actually connected to.
func TestDialRefusesLoopback(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	defer srv.Close()
	for _, p := range []target.Policy{{}, {AllowInsecure: true}} {
		client := &http.Client{Transport: &http.Transport{DialContext: p.Dialer(&net.Dialer{Timeout: time.Second})}}
		resp, err := client.Get(strings.Replace(srv.URL, "127.0.0.1", "localhost", 1))
		if resp != nil {
			resp.Body.Close()
		}
		if p.AllowInsecure && err != nil {
			t.Errorf("insecure policy: %v", err)
		}
		if !p.AllowInsecure && !errors.Is(err, target.ErrRefused) {
			t.Errorf("default policy: got %v, want ErrRefused", err)
		}
	}
}
