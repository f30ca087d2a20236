// Package procs runs the Go scheduler on one P while the process is nearly
// idle, and on all of them under load.
//
// Why: at low load each message crosses a dozen goroutines (NATS's read
// loops, the stream's store, the consumers, the delivery workers, the HTTP
// client). With several Ps, every hand-off finds an idle P, wakes a thread
// to run it, and that thread spins and sleeps again: two futex calls and a
// context switch per hop. Measured with hookhub bench at 500 events/s on two
// cores, that was about a third of the hub's CPU (572-691 µs a delivery on
// two Ps against 409-438 on one, in interleaved runs), and one P answered
// sooner (p50 0.26-0.28 ms against 0.38-0.46; p99 about 1 ms later). Under
// load, one P would cap the hub at one core, so the controller gives them
// all back as soon as the process uses more than about half of it.
//
// Go's runtime has no such mode; this is the same lever as its own
// cgroup-driven updates (runtime.SetDefaultGOMAXPROCS), moved by load.
package procs

import (
	"context"
	"os"
	"runtime"
	"time"

	"github.com/rs/zerolog"
)

// MaxHold bounds how long a flapping load keeps every P before the
// controller tries one again.
const MaxHold = time.Minute

// Options tune the controller. The zero value is the shipped one.
type Options struct {
	// Interval is how often the process's CPU time is read (default
	// 100 ms).
	Interval time.Duration
	// Up: on one P, a process that used more than this many cores on
	// average over UpOver gets all its Ps back (default 0.55: past about
	// half a core, goroutines queue for the one P and the tail latency
	// grows).
	Up     float64
	UpOver time.Duration // default 500 ms: one garbage collection does not count as load
	// Down: on all Ps, a process that used less than this many cores on
	// average over Hold goes down to one (default 0.62). The same load
	// costs more CPU on several Ps than on one (1.5 to 1.7 times at 500
	// events/s, over NATS or the API), so a process that goes down lands
	// under Up, and one that goes up stays over Down.
	Down float64
	Hold time.Duration // default 2 s
	// Max is the number of Ps under load (default: Go's own, which
	// follows the CPUs and the cgroup's CPU limit).
	Max int
}

func (o *Options) defaults() {
	if o.Interval <= 0 {
		o.Interval = 100 * time.Millisecond
	}
	if o.Up <= 0 {
		o.Up = 0.55
	}
	if o.UpOver < o.Interval {
		o.UpOver = 5 * o.Interval
	}
	if o.Down <= 0 {
		o.Down = 0.62
	}
	if o.Hold <= 0 {
		o.Hold = 2 * time.Second
	}
}

// Fixed reports why the controller should leave GOMAXPROCS alone, or ""
// when it may adapt: the operator set GOMAXPROCS, there is one P anyway, or
// this system cannot read the process's CPU time.
func Fixed() string {
	switch {
	case os.Getenv("GOMAXPROCS") != "":
		return "GOMAXPROCS is set"
	case runtime.GOMAXPROCS(0) < 2:
		return "one CPU"
	case processCPU() < 0:
		return "no CPU-time reading on " + runtime.GOOS
	}
	return ""
}

// Start runs the controller in a goroutine, unless Fixed says why not (then
// why is that reason, and stop does nothing). stop ends it, gives every P
// back and returns what it did.
func Start(ctx context.Context, o Options, log zerolog.Logger) (stop func() Stats, why string) {
	if why := Fixed(); why != "" {
		return func() Stats { return Stats{} }, why
	}
	ctx, cancel := context.WithCancel(ctx)
	st := make(chan Stats, 1)
	go func() { st <- Run(ctx, o, log) }()
	return func() Stats { cancel(); return <-st }, ""
}

// Stats count what the controller did.
type Stats struct {
	Switches int           // times GOMAXPROCS changed
	AtOne    time.Duration // time spent on one P
}

// Run adapts GOMAXPROCS until ctx ends, then gives every P back. It
// returns what it did.
func Run(ctx context.Context, o Options, log zerolog.Logger) Stats {
	o.defaults()
	restore := func() {
		if o.Max > 0 {
			runtime.GOMAXPROCS(o.Max)
		} else {
			runtime.SetDefaultGOMAXPROCS()
		}
	}
	tick := time.NewTicker(o.Interval)
	defer tick.Stop()
	c := newController(o, time.Now(), processCPU())
	for {
		select {
		case <-ctx.Done():
			if c.one {
				c.st.AtOne += time.Since(c.oneSince)
				restore()
			}
			return c.st
		case now := <-tick.C:
			switch c.step(now, processCPU()) {
			case toOne:
				log.Debug().Float64("cores", c.cores).Msg("quiet: one P")
				runtime.GOMAXPROCS(1)
			case toAll:
				log.Debug().Float64("cores", c.cores).Dur("hold", c.hold).Msg("load: all Ps")
				restore()
			}
		}
	}
}

type change int

const (
	stay change = iota
	toOne
	toAll
)

// controller decides from the process's CPU time, read once an interval.
type controller struct {
	o     Options
	ring  []reading // the last readings, one an interval, over Hold
	n, up int       // readings over Hold, and intervals over UpOver
	// hold is how long the Ps stay after they came back: Hold, doubled
	// (up to MaxHold) each time a stint on one P ended within 10 s, so
	// that a load near the thresholds does not flap.
	hold     time.Duration
	one      bool
	allSince time.Time
	oneSince time.Time
	cores    float64 // the load that made the last change
	st       Stats
}

type reading struct {
	at  time.Time
	cpu time.Duration
}

func newController(o Options, now time.Time, cpu time.Duration) *controller {
	n := max(2, int(o.Hold/o.Interval)+1)
	c := &controller{o: o, n: n, up: min(n-1, max(1, int(o.UpOver/o.Interval))), hold: o.Hold, allSince: now}
	c.ring = append(make([]reading, 0, n), reading{now, cpu})
	return c
}

// over is the load, in cores, over the last k intervals.
func (c *controller) over(k int) float64 {
	a, b := c.ring[len(c.ring)-1-k], c.ring[len(c.ring)-1]
	return float64(b.cpu-a.cpu) / float64(b.at.Sub(a.at))
}

func (c *controller) step(now time.Time, cpu time.Duration) change {
	if len(c.ring) == c.n {
		copy(c.ring, c.ring[1:])
		c.ring = c.ring[:c.n-1]
	}
	c.ring = append(c.ring, reading{now, cpu})
	switch {
	case c.one && len(c.ring) > c.up && c.over(c.up) > c.o.Up:
		if now.Sub(c.oneSince) < 10*time.Second {
			c.hold = min(2*c.hold, MaxHold)
		} else {
			c.hold = c.o.Hold
		}
		c.cores = c.over(c.up)
		c.st.Switches++
		c.st.AtOne += now.Sub(c.oneSince)
		c.one, c.allSince, c.ring = false, now, append(c.ring[:0], c.ring[len(c.ring)-1])
		return toAll
	case !c.one && len(c.ring) == c.n && now.Sub(c.allSince) >= c.hold && c.over(c.n-1) < c.o.Down:
		c.cores = c.over(c.n - 1)
		c.st.Switches++
		c.one, c.oneSince, c.ring = true, now, append(c.ring[:0], c.ring[len(c.ring)-1])
		return toOne
	}
	return stay
}
