package delivery

import (
	"testing"
	"time"
)

// TestDeferPacesAFullLane: a full lane hands its units back for about when
// it can take them, after its queue and the units handed back before, so a
// burst goes around about once a job; never less than minDefer (a lane
// seen for the first time, with no service time yet, gets the short delay)
// and never more than maxDefer (a hanging webhook's jobs come back within it).
func TestDeferPacesAFullLane(t *testing.T) {
	now := time.Now()
	fresh := &lane{flow: flow{limit: 16}}
	if d := fresh.deferFor(now, false); d < minDefer || d > minDefer+400*time.Millisecond {
		t.Errorf("a lane with no service time yet: %s, want %s to %s", d, minDefer, minDefer+400*time.Millisecond)
	}

	// 16 at a time, 16 ms each: one unit a millisecond; 1,024 queued.
	l := &lane{flow: flow{limit: 16}, svc: 16 * time.Millisecond, queue: make([]*unit, 1024)}
	var last time.Duration
	for i := range 3000 {
		d := l.deferFor(now, false)
		turn := time.Duration(1024+i+1) * time.Millisecond // when the lane gets to it
		if d < turn*4/5 || d > turn || d > maxDefer {
			t.Fatalf("unit %d handed back for %s, want %s to %s (its turn)", i, d, turn*4/5, turn)
		}
		last = d
	}
	if last < 3*time.Second {
		t.Errorf("the 3,000th unit handed back comes back after %s: the delays do not grow with what went before", last)
	}

	hanging := &lane{flow: flow{limit: 1}, svc: 15 * time.Second}
	for range 3 {
		if d := hanging.deferFor(now, false); d != maxDefer {
			t.Errorf("a hanging webhook's unit: %s, want %s", d, maxDefer)
		}
	}

	// A unit back early waits for the queue only (1,024 units: about 1 s)
	// and takes no new turn.
	before := l.backAt
	if d := l.deferFor(now, true); d < 800*time.Millisecond || d > 1300*time.Millisecond || l.backAt != before {
		t.Errorf("a unit back early: %s (turns end moved %s), want about 1 s and no move", d, l.backAt.Sub(before))
	}

	// Once the units handed back are due, pacing starts again from now.
	if d := l.deferFor(now.Add(time.Hour), false); d > 2*time.Second {
		t.Errorf("an hour later: %s, want about the queue's 1 s", d)
	}
}
