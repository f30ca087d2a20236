package target_test

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookhub/hookhub/hub/internal/target"
)

// hostURL is the https URL of host (an IPv6 address in brackets).
func hostURL(host string) string {
	if strings.Contains(host, ":") {
		return "https://[" + host + "]/"
	}
	return "https://" + host + "/"
}

// policyCase is a target host and how the default policy judges it.
type policyCase struct {
	host   string
	refuse string // "" accepts
	allow  string // with this network allowed, the host is accepted ("": no escape to try)
}

// policyCases are the addresses and spellings a target could use to reach
// the hub's host or its private networks.
var policyCases = []policyCase{
	// IPv4-compatible IPv6 (deprecated): ::127.0.0.1 and the like.
	{"::127.0.0.1", "IPv4-compatible", ""},
	{"::10.0.0.1", "IPv4-compatible", "::/96"},
	{"::93.184.215.14", "IPv4-compatible", ""},
	// Site-local IPv6 (deprecated).
	{"fec0::1", "site-local", "fec0::/10"},
	{"feff::1", "site-local", ""},
	// Benchmarking 198.18.0.0/15 and IETF protocol assignments 192.0.0.0/24.
	{"198.18.0.1", "benchmarking", "198.18.0.0/15"},
	{"198.19.255.254", "benchmarking", ""},
	{"192.0.0.170", "reserved", "192.0.0.0/24"},
	{"192.0.1.1", "", ""},
	// Teredo: the client address is the last 32 bits, inverted.
	{"2001:0:4136:e378:8000:63bf:80ff:fffe", "127.0.0.1 is a loopback address (through Teredo", ""},
	{"2001:0:4136:e378:8000:63bf:f5ff:fffe", "10.0.0.1 is a private address (through Teredo", "10.0.0.0/8"},
	{"2001:0:4136:e378:8000:63bf:5601:5601", "169.254.169.254 is a link-local address (through Teredo", ""},
	{"2001:0:4136:e378:8000:63bf:a247:28f1", "", ""}, // Teredo to 93.184.215.14
	{"2001:db8::1", "", ""}, // not Teredo
	// 6to4: the IPv4 address is in bits 16 to 48.
	{"2002:7f00:1::", "127.0.0.1 is a loopback address (through 6to4", ""},
	{"2002:c0a8:101::1", "192.168.1.1 is a private address (through 6to4", ""},
	{"2002:c612:1::", "198.18.0.1 is a benchmarking address", ""},
	{"2002:5db8:d70e::1", "", ""},
	// NAT64 and IPv4-mapped.
	{"64:ff9b::7f00:1", "127.0.0.1 is a loopback address (through NAT64", ""},
	{"64:ff9b::c612:1", "198.18.0.1 is a benchmarking address (198.18.0.0/15), not routed on the internet (through NAT64", ""},
	{"64:ff9b::5db8:d70e", "", ""},
	{"::ffff:127.0.0.1", "loopback", ""},
	{"::ffff:10.0.0.1", "private", ""},
	{"::ffff:198.18.0.1", "benchmarking", ""},
	{"::ffff:192.0.0.8", "reserved", ""},
	// Names that getaddrinfo (inet_aton) reads as IPv4 addresses and Go's
	// resolver looks up in DNS: refused whatever the resolver.
	{"0x7f000001", `127.0.0.1 is a loopback address (host "0x7f000001" is read as 127.0.0.1)`, ""},
	{"2130706433", "127.0.0.1 is a loopback address", ""},
	{"0177.0.0.1", "127.0.0.1 is a loopback address", ""},
	{"127.1", "127.0.0.1 is a loopback address", ""},
	{"0x7f.1", "127.0.0.1 is a loopback address", ""},
	{"017700000001", "127.0.0.1 is a loopback address", ""},
	{"127.0.0.1.", "127.0.0.1 is a loopback address", ""},
	{"10.1", "10.0.0.1 is a private address", ""},
	{"012.0.0.1", "10.0.0.1 is a private address", ""},
	{"0xa9.0xfe.0xa9.0xfe", "169.254.169.254 is a link-local address", ""},
	{"0x5db8d70e", "is read as 93.184.215.14 by some resolvers", "0.0.0.0/0"},
	{"1.2.3.4.5", "ends in a number but is not an IPv4 address", ""},
	{"1.2.3.256", "ends in a number but is not an IPv4 address", ""},
	{"hooks.0x1", "ends in a number but is not an IPv4 address", ""},
	// Ordinary names and addresses stay accepted.
	{"93.184.215.14", "", ""},
	{"hooks.example.com", "", ""},
	{"1a.example.com", "", ""},
	{"0x7f000001.example.com", "", ""},
	{"123.example", "", ""},
}

func check(t *testing.T, what string, err error, refuse string) {
	t.Helper()
	switch {
	case refuse == "" && err != nil:
		t.Errorf("%s: refused (%v), want accepted", what, err)
	case refuse != "" && (err == nil || !errors.Is(err, target.ErrRefused) || !strings.Contains(err.Error(), refuse)):
		t.Errorf("%s: got %v, want a refusal saying %q", what, err, refuse)
	}
}

// TestPolicyTable: each case is judged the same at config time (CheckURL),
// at dial time (Control, on the address actually dialled) and before a
// request goes through the proxy (CheckHost, with a resolver that answers a
// public address for any name); allow_networks still opens an exception.
func TestPolicyTable(t *testing.T) {
	dns := startDNS(t, func(string, int) netip.Addr { return netip.MustParseAddr("93.184.215.14") })
	p := target.Policy{Resolver: dns.resolver()}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, c := range policyCases {
		check(t, "CheckURL "+c.host, p.CheckURL(hostURL(c.host)), c.refuse)
		check(t, "CheckHost "+c.host, p.CheckHost(ctx, c.host), c.refuse)
		if _, err := netip.ParseAddr(c.host); err == nil {
			check(t, "Control "+c.host, p.Control("tcp", net.JoinHostPort(c.host, "443"), nil), c.refuse)
		}
		if c.allow != "" {
			allowed := p
			allowed.Allow = []netip.Prefix{netip.MustParsePrefix(c.allow)}
			if _, err := netip.ParseAddr(c.host); err == nil {
				check(t, "allowed "+c.host, allowed.CheckURL(hostURL(c.host)), "")
			} else {
				// A name that ends in a number is never accepted: an
				// allowed address changes only the reason.
				check(t, "allowed "+c.host, allowed.CheckURL(hostURL(c.host)), "write the address as")
			}
		}
	}
	insecure := target.Policy{AllowInsecure: true}
	for _, c := range policyCases {
		check(t, "insecure "+c.host, insecure.CheckURL(strings.Replace(hostURL(c.host), "https", "http", 1)), "")
	}
}

// TestPolicyRefusesHostAddresses: the host's own interface addresses (here a
// documentation address on eth0, which no other rule refuses) are refused at
// config time and at dial time, unless allow_networks lists them.
func TestPolicyRefusesHostAddresses(t *testing.T) {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	var p target.Policy
	checked := 0
	for _, a := range addrs {
		n, ok := a.(*net.IPNet)
		if !ok {
			continue
		}
		ip, _ := netip.AddrFromSlice(n.IP)
		ip = ip.Unmap()
		if ip.IsLoopback() {
			continue // refused as loopback
		}
		checked++
		check(t, "CheckURL "+ip.String(), p.CheckURL(hostURL(ip.String())), ip.String()+" is an address of this host")
		check(t, "Control "+ip.String(), p.Control("tcp", netip.AddrPortFrom(ip, 443).String(), nil), "address of this host")
		allowed := target.Policy{Allow: []netip.Prefix{netip.PrefixFrom(ip, ip.BitLen())}}
		check(t, "allowed "+ip.String(), allowed.CheckURL(hostURL(ip.String())), "")
	}
	if checked == 0 {
		t.Skip("this host has no address but loopback")
	}
}

// TestDialRefusesNumericNames: a name such as 0x7f000001 never reaches a
// resolver, even one that would lead it to an allowed address: the receiver
// sees no connection.
func TestDialRefusesNumericNames(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var accepted atomic.Int32
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			c.Close()
		}
	}()
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	dns := startDNS(t, func(string, int) netip.Addr { return netip.MustParseAddr("127.0.0.1") })
	p := target.Policy{Resolver: dns.resolver(), Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}
	dial := p.Dialer(&net.Dialer{Timeout: 2 * time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, host := range []string{"0x7f000001", "2130706433", "0177.0.0.1", "127.1", "127.0.0.1."} {
		c, err := dial(ctx, "tcp", net.JoinHostPort(host, port))
		if c != nil {
			c.Close()
		}
		check(t, "dial "+host, err, "write the address as 127.0.0.1")
	}
	// The same dialer reaches the receiver by a name (the test can pass).
	c, err := dial(ctx, "tcp", net.JoinHostPort("receiver.hooks.test", port))
	if err != nil {
		t.Fatalf("dial by name: %v", err)
	}
	c.Close()
	if n := dns.queries.Load(); n != 1 {
		t.Errorf("the DNS server saw %d A queries, want 1 (the name's)", n)
	}
}
