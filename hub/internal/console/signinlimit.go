package console

// Failed token sign-ins are limited per client address, so that the
// sign-in form is no faster a way to guess a token than the API. Only
// failures spend from the budget: a right token always opens, unless the
// address has already spent its failures.

import (
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Sign-in limit: SigninFailures failed sign-ins per SigninWindow from one
// client address (a burst of as many), then 429 until one is earned back.
const (
	SigninFailures = 5
	SigninWindow   = time.Minute
	// maxSigninClients bounds the addresses remembered; past it the
	// longest-idle goes.
	maxSigninClients = 10000
)

type signinLimiter struct {
	mu      sync.Mutex
	clients map[string]*signinClient
}

type signinClient struct {
	lim  *rate.Limiter
	seen time.Time
}

func newSigninLimiter() *signinLimiter {
	return &signinLimiter{clients: map[string]*signinClient{}}
}

// clientAddr is the request's client IP address (its port dropped): the
// connection's peer, since the console trusts no forwarding header.
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func (l *signinLimiter) client(addr string, now time.Time) *signinClient {
	c := l.clients[addr]
	if c != nil {
		c.seen = now
		return c
	}
	if len(l.clients) >= maxSigninClients {
		l.evict(now)
	}
	c = &signinClient{lim: rate.NewLimiter(rate.Every(SigninWindow/SigninFailures), SigninFailures), seen: now}
	l.clients[addr] = c
	return c
}

// evict drops the clients whose budget is full again (they are as new), or
// else the longest idle one.
func (l *signinLimiter) evict(now time.Time) {
	var oldest string
	for k, c := range l.clients {
		if c.lim.TokensAt(now) >= SigninFailures {
			delete(l.clients, k)
			continue
		}
		if oldest == "" || c.seen.Before(l.clients[oldest].seen) {
			oldest = k
		}
	}
	if len(l.clients) >= maxSigninClients && oldest != "" {
		delete(l.clients, oldest)
	}
}

// wait is how long addr must wait before it may try again (0: it may now).
func (l *signinLimiter) wait(addr string) time.Duration {
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	c := l.client(addr, now)
	if c.lim.TokensAt(now) >= 1 {
		return 0
	}
	r := c.lim.ReserveN(now, 1)
	d := r.DelayFrom(now)
	r.CancelAt(now)
	return d
}

// failed spends one try of addr.
func (l *signinLimiter) failed(addr string) {
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.client(addr, now).lim.AllowN(now, 1)
}

// tooMany answers a sign-in from an address that has spent its tries.
func (c *Console) tooMany(w http.ResponseWriter, r *http.Request, wait time.Duration) {
	secs := int(wait.Round(time.Second) / time.Second)
	if secs < 1 {
		secs = 1
	}
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	c.log.Warn().Str("client", clientAddr(r)).Msg("console sign-in: too many failed tries")
	c.showSignin(w, r, http.StatusTooManyRequests, "Too many failed sign-ins from your address: try again in "+
		strconv.Itoa(secs)+" seconds.")
}
