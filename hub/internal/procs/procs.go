// Package procs runs the Go scheduler on one P while the process is nearly
// idle, and on all of them under load.
//
// Why: at low load each message crosses a dozen goroutines (NATS's read
// loops, the stream's store, the consumers, the delivery workers, the HTTP
// client). With several Ps, every hand-off finds an idle P, wakes a thread
// to run it, and that thread spins and sleeps again: two futex calls and a
// context switch per hop. Measured with hookhub bench at 500 events/s on two
// cores, that was about 40 % of the hub's CPU (676-726 µs a delivery on two
// Ps against 423-438 on one), with no gain in latency (p50 0.28 ms on one P
// against 0.45-0.49). Under load, one P would cap the hub at one core, so
// the controller gives them all back as soon as the process uses more than
// most of that one.
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

// Stats count what the controller did.
type Stats struct {
	Switches int           // times GOMAXPROCS changed
	AtOne    time.Duration // time spent on one P
}

// Run adapts GOMAXPROCS until ctx ends, then gives every P back. It
// returns what it did.
func Run(ctx context.Context, o Options, log zerolog.Logger) (st Stats) {
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
	// The last readings, one an interval, over Hold: the load is the CPU
	// used between two of them over the time between.
	type reading struct {
		at  time.Time
		cpu time.Duration
	}
	n := max(2, int(o.Hold/o.Interval)+1)
	up := min(n-1, max(1, int(o.UpOver/o.Interval)))
	ring := make([]reading, 0, n)
	over := func(k int) float64 { // cores over the last k intervals
		a, b := ring[len(ring)-1-k], ring[len(ring)-1]
		return float64(b.cpu-a.cpu) / float64(b.at.Sub(a.at))
	}
	// hold is how long the Ps stay after they came back: Hold, doubled
	// (up to MaxHold) each time a stint on one P ended within 10 s,
	// so that a load near the thresholds does not flap.
	one, hold, allSince := false, o.Hold, time.Now()
	var oneSince time.Time
	defer func() {
		if one {
			st.AtOne += time.Since(oneSince)
			restore()
		}
	}()
	ring = append(ring, reading{time.Now(), processCPU()})
	for {
		select {
		case <-ctx.Done():
			return st
		case now := <-tick.C:
			if len(ring) == n {
				copy(ring, ring[1:])
				ring = ring[:n-1]
			}
			ring = append(ring, reading{now, processCPU()})
			switch {
			case one && len(ring) > up && over(up) > o.Up:
				if now.Sub(oneSince) < 10*time.Second {
					hold = min(2*hold, MaxHold)
				} else {
					hold = o.Hold
				}
				log.Debug().Float64("cores", over(up)).Dur("hold", hold).Msg("load: all Ps")
				restore()
				one, allSince, ring = false, now, ring[len(ring)-1:]
				st.Switches++
				st.AtOne += now.Sub(oneSince)
			case !one && len(ring) == n && now.Sub(allSince) >= hold && over(n-1) < o.Down:
				log.Debug().Float64("cores", over(n-1)).Msg("quiet: one P")
				runtime.GOMAXPROCS(1)
				one, oneSince, ring = true, now, ring[len(ring)-1:]
				st.Switches++
			}
		}
	}
}
