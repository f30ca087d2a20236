// Package workpool runs short functions on reused goroutines.
//
// A goroutine starts with a small stack and grows it, by copying, as deep
// as its work goes: the hub's per-event work (JSON and schema checks that
// recurse, an HTTP request) grows a fresh goroutine's stack several times.
// At low load, a goroutine per event pays that every time. A pool hands
// each function to the worker that finished last (its stack is grown and
// its memory warm), and a worker left idle for a while exits, so a burst's
// workers do not stay.
package workpool

import (
	"sync"
	"time"
)

// Pool runs functions on reused goroutines. The zero value is not usable;
// call New.
type Pool struct {
	mu    sync.Mutex
	idle  []*worker // the one that finished last at the end
	slots chan struct{}
	keep  time.Duration
	wg    sync.WaitGroup
}

type worker struct{ work chan func() }

// New returns a pool that runs at most limit functions at once (0: no
// bound; Go never waits) and lets a worker idle for keep before it exits
// (0: a second).
func New(limit int, keep time.Duration) *Pool {
	if keep <= 0 {
		keep = time.Second
	}
	p := &Pool{keep: keep}
	if limit > 0 {
		p.slots = make(chan struct{}, limit)
	}
	return p
}

// Go runs f on an idle worker, or on a new one when none is idle. With a
// limit, it first waits until fewer than limit functions run.
func (p *Pool) Go(f func()) {
	if p.slots != nil {
		p.slots <- struct{}{}
	}
	p.wg.Add(1)
	p.mu.Lock()
	if n := len(p.idle); n > 0 {
		w := p.idle[n-1]
		p.idle[n-1] = nil
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		w.work <- f // the worker waits for it: it left the idle list under mu
		return
	}
	p.mu.Unlock()
	w := &worker{work: make(chan func(), 1)}
	go p.run(w, f)
}

// Wait waits until no function runs. Idle workers exit on their own.
func (p *Pool) Wait() { p.wg.Wait() }

func (p *Pool) run(w *worker, f func()) {
	t := time.NewTimer(p.keep)
	defer t.Stop()
	for {
		f()
		f = nil
		if p.slots != nil {
			<-p.slots
		}
		p.wg.Done()
		p.mu.Lock()
		p.idle = append(p.idle, w)
		p.mu.Unlock()
		t.Reset(p.keep)
		select {
		case f = <-w.work:
			continue
		case <-t.C:
		}
		p.mu.Lock()
		i := indexOf(p.idle, w)
		if i >= 0 { // still idle: leave
			p.idle = append(p.idle[:i], p.idle[i+1:]...)
			p.mu.Unlock()
			return
		}
		p.mu.Unlock()
		f = <-w.work // taken from the idle list just now: its function comes
	}
}

func indexOf(ws []*worker, w *worker) int {
	for i, x := range ws {
		if x == w {
			return i
		}
	}
	return -1
}
