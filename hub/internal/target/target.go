// Package target decides where the hub may deliver: the scheme and port of a
// webhook's URL when it is configured, and the address a delivery actually
// connects to (checked after DNS, at dial time, so a name that resolves to a
// private address is refused however it was spelled).
package target

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"syscall"
)

// DefaultPorts are the ports a webhook URL may use unless configured otherwise.
var DefaultPorts = []int{443}

// ErrRefused is wrapped by every refusal of a target.
var ErrRefused = errors.New("target refused")

// Policy is where deliveries may go.
type Policy struct {
	// AllowInsecure permits http://, loopback and private addresses, and any
	// port: for local development and tests only.
	AllowInsecure bool
	// Ports a URL may use; empty means DefaultPorts.
	Ports []int
	// Allow lists networks that are reachable although the policy would
	// refuse them (an internal receiver at 10.1.2.3, say).
	Allow []netip.Prefix
	// Proxy is the egress proxy's address (host:port), which the hub may
	// always dial; the targets behind it are checked before the CONNECT.
	Proxy string
	// Resolver looks names up (nil: net.DefaultResolver).
	Resolver *net.Resolver
}

func (p Policy) resolver() *net.Resolver {
	if p.Resolver != nil {
		return p.Resolver
	}
	return net.DefaultResolver
}

// CheckURL reports whether raw is a webhook URL the policy accepts. Its error
// says why, and is fit to show the user.
func (p Policy) CheckURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("%w: not a URL", ErrRefused)
	}
	if u.User != nil {
		return fmt.Errorf("%w: credentials in the URL are not allowed; use auth", ErrRefused)
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !p.AllowInsecure {
			return fmt.Errorf("%w: must use https (http:// is allowed only with HOOKHUB_ALLOW_INSECURE_TARGETS=true)", ErrRefused)
		}
	default:
		return fmt.Errorf("%w: scheme must be https, not %q", ErrRefused, u.Scheme)
	}
	if u.Hostname() == "" {
		return fmt.Errorf("%w: has no host", ErrRefused)
	}
	if u.Fragment != "" {
		return fmt.Errorf("%w: must not have a #fragment", ErrRefused)
	}
	if p.AllowInsecure {
		return nil
	}
	port := 443
	if s := u.Port(); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			return fmt.Errorf("%w: bad port %q", ErrRefused, s)
		}
		port = n
	}
	ports := p.Ports
	if len(ports) == 0 {
		ports = DefaultPorts
	}
	if !slices.Contains(ports, port) {
		return fmt.Errorf("%w: port %d is not allowed (allowed: %v)", ErrRefused, port, ports)
	}
	if ip, err := netip.ParseAddr(u.Hostname()); err == nil {
		return p.CheckAddr(ip)
	}
	return p.checkName(u.Hostname())
}

// CheckAddr reports whether the hub may connect to ip.
func (p Policy) CheckAddr(ip netip.Addr) error {
	if p.AllowInsecure {
		return nil
	}
	ip = ip.Unmap()
	for _, n := range p.Allow {
		if n.Contains(ip) {
			return nil
		}
	}
	switch {
	case ip.IsLoopback():
		return fmt.Errorf("%w: %s is a loopback address", ErrRefused, ip)
	case hostAddrs.contains(ip):
		return fmt.Errorf("%w: %s is an address of this host", ErrRefused, ip)
	case ip.IsPrivate():
		return fmt.Errorf("%w: %s is a private address", ErrRefused, ip)
	case ip.IsLinkLocalUnicast(), ip.IsLinkLocalMulticast():
		return fmt.Errorf("%w: %s is a link-local address", ErrRefused, ip)
	case ip.IsUnspecified():
		return fmt.Errorf("%w: %s is unspecified", ErrRefused, ip)
	case ip.IsMulticast(), ip.IsInterfaceLocalMulticast():
		return fmt.Errorf("%w: %s is a multicast address", ErrRefused, ip)
	case cgnat.Contains(ip):
		return fmt.Errorf("%w: %s is a shared (CGNAT) address", ErrRefused, ip)
	case thisNet.Contains(ip), reserved.Contains(ip), ietf.Contains(ip):
		return fmt.Errorf("%w: %s is a reserved address", ErrRefused, ip)
	case benchmarking.Contains(ip):
		return fmt.Errorf("%w: %s is a benchmarking address (198.18.0.0/15), not routed on the internet", ErrRefused, ip)
	case siteLocal.Contains(ip):
		return fmt.Errorf("%w: %s is a site-local address", ErrRefused, ip)
	case v4Compatible.Contains(ip):
		// Deprecated (RFC 4291) and never routed; some stacks reach the
		// embedded IPv4 address.
		b := ip.As16()
		return fmt.Errorf("%w: %s is an IPv4-compatible address (deprecated) of %s", ErrRefused, ip, netip.AddrFrom4([4]byte(b[12:])))
	case nat64.Contains(ip) || nat64Local.Contains(ip):
		// NAT64 reaches the IPv4 address in the last 32 bits: judge that one.
		b := ip.As16()
		if err := p.CheckAddr(netip.AddrFrom4([4]byte(b[12:]))); err != nil {
			return fmt.Errorf("%w (through NAT64 %s)", err, ip)
		}
	case sixToFour.Contains(ip):
		// 6to4 reaches the IPv4 address in bits 16 to 48.
		b := ip.As16()
		if err := p.CheckAddr(netip.AddrFrom4([4]byte(b[2:6]))); err != nil {
			return fmt.Errorf("%w (through 6to4 %s)", err, ip)
		}
	case teredo.Contains(ip):
		// Teredo reaches the client's IPv4 address: the last 32 bits, inverted.
		b := ip.As16()
		if err := p.CheckAddr(netip.AddrFrom4([4]byte{^b[12], ^b[13], ^b[14], ^b[15]})); err != nil {
			return fmt.Errorf("%w (through Teredo %s)", err, ip)
		}
	}
	return nil
}

var (
	cgnat        = netip.MustParsePrefix("100.64.0.0/10")
	thisNet      = netip.MustParsePrefix("0.0.0.0/8")      // "this network": 0.x.y.z reaches the host itself on Linux
	reserved     = netip.MustParsePrefix("240.0.0.0/4")    // reserved, and 255.255.255.255 broadcast
	ietf         = netip.MustParsePrefix("192.0.0.0/24")   // IETF protocol assignments (RFC 6890)
	benchmarking = netip.MustParsePrefix("198.18.0.0/15")  // RFC 2544
	siteLocal    = netip.MustParsePrefix("fec0::/10")      // deprecated site-local (RFC 3879)
	v4Compatible = netip.MustParsePrefix("::/96")          // deprecated IPv4-compatible; :: and ::1 are judged before
	nat64        = netip.MustParsePrefix("64:ff9b::/96")   // well-known NAT64 prefix
	nat64Local   = netip.MustParsePrefix("64:ff9b:1::/48") // local-use NAT64 prefix
	sixToFour    = netip.MustParsePrefix("2002::/16")      // 6to4
	teredo       = netip.MustParsePrefix("2001::/32")      // Teredo
)

// Control is a net.Dialer Control function that refuses addresses the policy
// does not allow. It sees the address actually dialled, after DNS.
func (p Policy) Control(_, address string, _ syscall.RawConn) error {
	if p.Proxy != "" && p.proxyAddr(address) {
		return nil
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: cannot parse %q", ErrRefused, address)
	}
	return p.CheckAddr(ap.Addr())
}

// Dialer returns a dialer that enforces the policy: it refuses a name that
// ends in a number but is not an IP address before any resolver reads it, and
// every address it would connect to.
func (p Policy) Dialer(d *net.Dialer) func(ctx context.Context, network, addr string) (net.Conn, error) {
	dd := *d
	dd.Control = p.Control
	if p.Resolver != nil {
		dd.Resolver = p.Resolver
	}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		if !p.AllowInsecure && addr != p.Proxy {
			if host, _, err := net.SplitHostPort(addr); err == nil {
				if err := p.checkName(host); err != nil {
					return nil, err
				}
			}
		}
		return dd.DialContext(ctx, network, addr)
	}
}

// proxyAddr reports whether address (ip:port, as dialled) is the proxy's.
func (p Policy) proxyAddr(address string) bool {
	host, port, err := net.SplitHostPort(p.Proxy)
	if err != nil {
		return false
	}
	ahost, aport, err := net.SplitHostPort(address)
	if err != nil || aport != port {
		return false
	}
	if host == ahost {
		return true
	}
	ips, err := p.resolver().LookupNetIP(context.Background(), "ip", host)
	if err != nil {
		return false
	}
	a, err := netip.ParseAddr(ahost)
	return err == nil && slices.Contains(ips, a)
}

// CheckHost resolves host and checks every address it has: the check before
// a request goes through the proxy, which dials the target itself. A refusal
// wraps ErrRefused; a name that cannot be resolved (now) is not a refusal, and
// its error wraps the resolver's *net.DNSError, so that it is retried as a
// direct delivery's would be.
func (p Policy) CheckHost(ctx context.Context, host string) error {
	if p.AllowInsecure {
		return nil
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		return p.CheckAddr(ip)
	}
	if err := p.checkName(host); err != nil {
		return err
	}
	ips, err := p.resolver().LookupNetIP(ctx, "ip", host)
	if err != nil {
		return fmt.Errorf("cannot resolve %s: %w", host, err)
	}
	for _, ip := range ips {
		if err := p.CheckAddr(ip); err != nil {
			return err
		}
	}
	return nil
}
