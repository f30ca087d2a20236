package procs

import (
	"context"
	"runtime"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// waitProcs waits (up to 20 s) for GOMAXPROCS to be want.
func waitProcs(t *testing.T, want int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for runtime.GOMAXPROCS(0) != want {
		if time.Now().After(deadline) {
			t.Fatalf("GOMAXPROCS is %d after 20 s, want %d", runtime.GOMAXPROCS(0), want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// An idle process goes down to one P; a busy one gets its Ps back at once;
// when Run ends, every P is back.
func TestQuietOneBusyAll(t *testing.T) {
	if Fixed() != "" {
		t.Skip("the controller stays off here:", Fixed())
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	runtime.GOMAXPROCS(2)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan Stats, 1)
	go func() {
		done <- Run(ctx, Options{Interval: 20 * time.Millisecond, Hold: 200 * time.Millisecond, Max: 2}, zerolog.Nop())
	}()
	waitProcs(t, 1)

	// Two goroutines spin until the Ps are back (at most 20 s): on one P
	// they use a whole core, more than Up.
	var stop atomic.Bool
	for range 2 {
		go func() {
			for !stop.Load() {
			}
		}()
	}
	waitProcs(t, 2)
	stop.Store(true)

	// Quiet again: down to one, and Run's end gives the Ps back.
	waitProcs(t, 1)
	cancel()
	st := <-done
	if got := runtime.GOMAXPROCS(0); got != 2 {
		t.Errorf("GOMAXPROCS is %d after Run, want 2", got)
	}
	if st.Switches != 3 || st.AtOne <= 0 {
		t.Errorf("stats %+v, want 3 switches (down, up, down) and time on one P", st)
	}
}

func TestFixedWhenTheOperatorSetGOMAXPROCS(t *testing.T) {
	t.Setenv("GOMAXPROCS", "2")
	if got := Fixed(); got != "GOMAXPROCS is set" {
		t.Errorf("Fixed() = %q, want the operator's GOMAXPROCS to win", got)
	}
}

// processCPU counts what this process's threads spend: the controller's
// only input.
func TestProcessCPUReadsThisProcess(t *testing.T) {
	before := processCPU()
	if before < 0 {
		t.Skip("no CPU-time reading on", runtime.GOOS)
	}
	end := time.Now().Add(50 * time.Millisecond)
	for time.Now().Before(end) {
	}
	if got := processCPU() - before; got < 25*time.Millisecond {
		t.Errorf("50 ms of spinning read as %v of CPU", got)
	}
}

// load feeds the controller a constant load of cores for d, one reading an
// interval, and returns the changes it made.
func load(c *controller, at *time.Time, cpu *time.Duration, cores float64, d time.Duration) []change {
	var out []change
	for end := at.Add(d); at.Before(end); {
		*at = at.Add(c.o.Interval)
		*cpu += time.Duration(cores * float64(c.o.Interval))
		if ch := c.step(*at, *cpu); ch != stay {
			out = append(out, ch)
		}
	}
	return out
}

// The decisions with the shipped thresholds, on loads a hub sees.
func TestControllerDecisions(t *testing.T) {
	o := Options{}
	o.defaults()
	at, cpu := time.Unix(0, 0), time.Duration(0)
	c := newController(o, at, cpu)
	want := func(what string, got []change, want ...change) {
		t.Helper()
		if !slices.Equal(got, want) {
			t.Fatalf("%s: changes %v, want %v", what, got, want)
		}
	}
	want("under Down for less than Hold", load(c, &at, &cpu, 0.3, 1900*time.Millisecond))
	want("under Down for Hold", load(c, &at, &cpu, 0.3, 200*time.Millisecond), toOne)
	// A garbage collection: a whole core for 200 ms, then quiet.
	want("a 200 ms spike", append(load(c, &at, &cpu, 1, 200*time.Millisecond), load(c, &at, &cpu, 0.2, 10*time.Second)...))
	want("load over Up for UpOver", load(c, &at, &cpu, 0.9, 500*time.Millisecond), toAll)
	// Under load (over Down on all Ps) it stays.
	want("busy", load(c, &at, &cpu, 1.5, 30*time.Second))
	// A load near the thresholds: down, then back up within 10 s. Each
	// such stint doubles how long the Ps stay before the next try.
	want("quiet again", load(c, &at, &cpu, 0.5, 2100*time.Millisecond), toOne)
	want("back up within 10 s", load(c, &at, &cpu, 0.6, time.Second), toAll)
	if c.hold != 2*o.Hold {
		t.Fatalf("hold %v after a short stint, want %v", c.hold, 2*o.Hold)
	}
	want("under Down, but within the doubled hold", load(c, &at, &cpu, 0.5, 3*time.Second))
	want("past the doubled hold", load(c, &at, &cpu, 0.5, time.Second), toOne)
	for range 10 {
		load(c, &at, &cpu, 0.6, time.Second)
		load(c, &at, &cpu, 0.5, c.hold+time.Second)
	}
	if c.hold != MaxHold {
		t.Fatalf("hold %v after many short stints, want the bound %v", c.hold, MaxHold)
	}
	// A long quiet stint resets it.
	load(c, &at, &cpu, 0.2, 20*time.Second)
	want("up after a long stint", load(c, &at, &cpu, 0.9, time.Second), toAll)
	if c.hold != o.Hold {
		t.Fatalf("hold %v after a long stint on one P, want %v", c.hold, o.Hold)
	}
	if c.st.Switches < 6 || c.st.AtOne <= 0 {
		t.Fatalf("stats %+v", c.st)
	}
}
