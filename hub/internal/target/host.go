package target

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"
)

// hostAddrsRefresh is how long the host's interface addresses are cached.
const hostAddrsRefresh = 10 * time.Second

// hostAddrs are this host's own interface addresses: a delivery to one of
// them reaches the hub's host (its API, its NATS port) whatever the address
// looks like.
var hostAddrs localAddrs

type localAddrs struct {
	mu   sync.Mutex
	at   time.Time
	addr map[netip.Addr]bool
}

// contains reports whether ip is one of this host's interface addresses, as
// listed at most hostAddrsRefresh ago. When the list cannot be read, the
// last one read is kept.
func (l *localAddrs) contains(ip netip.Addr) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.addr == nil || time.Since(l.at) > hostAddrsRefresh {
		if as, err := net.InterfaceAddrs(); err == nil || l.addr == nil {
			m := make(map[netip.Addr]bool, len(as))
			for _, a := range as {
				if n, ok := a.(*net.IPNet); ok {
					if x, ok := netip.AddrFromSlice(n.IP); ok {
						m[x.Unmap()] = true
					}
				}
			}
			l.addr = m
		}
		l.at = time.Now()
	}
	return l.addr[ip.WithZone("")]
}

// checkName refuses a host name that ends in a number but is not a plain
// IP address, such as 0x7f000001, 2130706433, 0177.0.0.1 or 127.1: Go's
// resolver looks such a name up in DNS, while getaddrinfo (inet_aton) and
// many proxies read it as an IPv4 address, so where it leads would depend on
// the resolver. No registered top-level domain is a number (the WHATWG URL
// standard reads such hosts as IPv4 too), so nothing legitimate is refused.
func (p Policy) checkName(host string) error {
	if _, err := netip.ParseAddr(host); err == nil {
		return nil
	}
	name := strings.TrimSuffix(host, ".")
	last := name[strings.LastIndexByte(name, '.')+1:]
	if !numericLabel(last) {
		return nil
	}
	ip, ok := inetAton(name)
	if !ok {
		return fmt.Errorf("%w: host %q ends in a number but is not an IPv4 address", ErrRefused, host)
	}
	if err := p.CheckAddr(ip); err != nil {
		return fmt.Errorf("%w (host %q is read as %s)", err, host, ip)
	}
	return fmt.Errorf("%w: host %q is read as %s by some resolvers and not by others; write the address as %s", ErrRefused, host, ip, ip)
}

// numericLabel reports whether s is a decimal number or 0x followed by hex
// digits, as the WHATWG URL standard's "ends in a number" test reads it.
func numericLabel(s string) bool {
	if s == "" {
		return false
	}
	if len(s) >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') {
		for _, c := range s[2:] {
			if !isHex(c) {
				return false
			}
		}
		return true
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func isHex(c rune) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// inetAton reads s as glibc's inet_aton does: one to four parts, each
// decimal, octal (leading 0) or hex (0x); the last part fills the bytes left.
func inetAton(s string) (netip.Addr, bool) {
	parts := strings.Split(s, ".")
	if len(parts) > 4 {
		return netip.Addr{}, false
	}
	var x uint64
	for i, part := range parts {
		v, ok := atonPart(part)
		if !ok {
			return netip.Addr{}, false
		}
		if i < len(parts)-1 {
			if v > 0xff {
				return netip.Addr{}, false
			}
			x |= v << (24 - 8*i)
			continue
		}
		if v >= 1<<(8*(5-len(parts))) {
			return netip.Addr{}, false
		}
		x |= v
	}
	return netip.AddrFrom4([4]byte{byte(x >> 24), byte(x >> 16), byte(x >> 8), byte(x)}), true
}

func atonPart(s string) (uint64, bool) {
	base := 10
	switch {
	case s == "":
		return 0, false
	case len(s) >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'):
		base, s = 16, s[2:]
		if s == "" {
			return 0, true
		}
	case len(s) >= 2 && s[0] == '0':
		base, s = 8, s[1:]
	}
	v, err := strconv.ParseUint(s, base, 32)
	return v, err == nil
}
