package pluginhost

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestBoundedShares: a webhook alone holds at most half of the instances, so
// another gets its share at once; a waiter gets what frees up, in order, and
// one that gives up leaves nothing held.
func TestBoundedShares(t *testing.T) {
	b := newBounded[int]("p", 4)
	made := 0
	mk := func() (int, error) { made++; return made, nil }
	ctx := context.Background()
	a1, _ := b.get(ctx, "a", mk)
	if _, err := b.get(ctx, "a", mk); err != nil {
		t.Fatal(err)
	}
	waited := make(chan int, 1)
	go func() {
		x, err := b.get(ctx, "a", mk)
		if err != nil {
			t.Error(err)
		}
		waited <- x
	}()
	queued := func(key string, n int) {
		t.Helper()
		for i := 0; i < 500; i++ {
			b.mu.Lock()
			w := b.waiting[key]
			b.mu.Unlock()
			if w == n {
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
		t.Fatalf("%s: no %d calls waiting", key, n)
	}
	queued("a", 1)
	for i := range 2 {
		if _, err := b.get(ctx, "b", mk); err != nil {
			t.Fatalf("b's call %d: %v", i, err)
		}
	}
	if made != 4 || b.heldBy("a") != 2 || b.heldBy("b") != 2 {
		t.Fatalf("made %d, held a %d b %d: want 4, 2 and 2", made, b.heldBy("a"), b.heldBy("b"))
	}
	// b gives one back: a's waiter is within its share (2 of 4 with two
	// webhooks)? No: a holds 2 already, so the instance stays idle for b.
	b.put("b", 3, false, nil)
	if b.idleCount() != 1 || b.heldBy("a") != 2 {
		t.Fatalf("idle %d, a holds %d: want the instance idle", b.idleCount(), b.heldBy("a"))
	}
	// a gives one back: its waiter takes it.
	b.put("a", a1, false, nil)
	if x := <-waited; x != a1 {
		t.Errorf("the waiter got %d, want %d", x, a1)
	}
	// A waiter that gives up holds nothing.
	cctx, cancel := context.WithCancel(ctx)
	errc := make(chan error, 1)
	go func() { _, err := b.get(cctx, "a", mk); errc <- err }()
	queued("a", 1)
	cancel()
	if err := <-errc; err == nil || !strings.Contains(err.Error(), "plugin p: no instance free") {
		t.Errorf("a cancelled wait: %v", err)
	}
	if b.heldBy("a") != 2 || len(b.queue) != 0 {
		t.Errorf("a holds %d with %d waiting after the cancelled wait, want 2 and none", b.heldBy("a"), len(b.queue))
	}
	// A spoiled instance frees its slot.
	ended := 0
	b.put("a", 1, true, func(int) { ended++ })
	if ended != 1 || b.made != 3 {
		t.Errorf("ended %d, made %d: want 1 and 3", ended, b.made)
	}
}
