package procs

import (
	"context"
	"runtime"
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
