package delivery

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// FailLogEvery is how often a failing webhook's failed attempts are logged:
// its first failure at once, then at most one summary line per interval.
const FailLogEvery = 10 * time.Second

// failLog decides which failed attempts are logged, per webhook.
type failLog struct {
	mu    sync.Mutex
	hooks map[string]*failCount
}

type failCount struct {
	lim    *rate.Limiter
	unsaid int       // failures not logged since the last line
	last   time.Time // when the last line was
}

// failed reports whether this failure of webhook is logged now and, if so,
// how many failures the line stands for (1 for the first failure; more for
// a summary of those not logged since the last line) and over what span.
func (f *failLog) failed(webhook string, now time.Time) (log bool, n int, span time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.hooks == nil {
		f.hooks = map[string]*failCount{}
	}
	c := f.hooks[webhook]
	if c == nil {
		c = &failCount{lim: rate.NewLimiter(rate.Every(FailLogEvery), 1)}
		f.hooks[webhook] = c
	}
	if !c.lim.AllowN(now, 1) {
		c.unsaid++
		return false, 0, 0
	}
	n, span = c.unsaid+1, now.Sub(c.last)
	c.unsaid, c.last = 0, now
	return true, n, span
}

// succeeded forgets a webhook's failures: its next failure is a first one.
func (f *failLog) succeeded(webhook string) {
	f.mu.Lock()
	delete(f.hooks, webhook)
	f.mu.Unlock()
}
