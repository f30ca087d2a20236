package workpool

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestLimit: with a limit, no more functions run at once than it allows,
// and every function runs.
func TestLimit(t *testing.T) {
	p := New(3, time.Second)
	var running, peak, done atomic.Int32
	for range 50 {
		p.Go(func() {
			n := running.Add(1)
			for {
				old := peak.Load()
				if n <= old || peak.CompareAndSwap(old, n) {
					break
				}
			}
			time.Sleep(time.Millisecond)
			running.Add(-1)
			done.Add(1)
		})
	}
	p.Wait()
	if done.Load() != 50 {
		t.Errorf("ran %d functions, want 50", done.Load())
	}
	if peak.Load() > 3 {
		t.Errorf("%d ran at once, want at most 3", peak.Load())
	}
}

// TestReuse: functions run one after another reuse one goroutine, and an
// idle worker exits after its keep time.
func TestReuse(t *testing.T) {
	before := runtime.NumGoroutine()
	p := New(0, 100*time.Millisecond)
	ids := map[uint64]bool{}
	var mu sync.Mutex
	for range 20 {
		p.Go(func() {
			mu.Lock()
			ids[goid()] = true
			mu.Unlock()
		})
		p.Wait()
		time.Sleep(time.Millisecond) // the worker is idle again
	}
	if len(ids) != 1 {
		t.Errorf("20 functions one after another ran on %d goroutines, want 1", len(ids))
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("%d goroutines after the keep time, want %d: the idle worker did not exit", n, before)
	}
}

// goid reads the running goroutine's id from its stack trace header.
func goid() uint64 {
	var buf [64]byte
	b := buf[:runtime.Stack(buf[:], false)]
	var id uint64
	for _, c := range b[len("goroutine "):] {
		if c < '0' || c > '9' {
			break
		}
		id = id*10 + uint64(c-'0')
	}
	return id
}
