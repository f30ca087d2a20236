package pluginhost

import (
	"context"
	"fmt"
	"sync"
)

// bounded holds up to n instances of a module (wasm instances or worker
// processes): idle ones ready for a call, made lazily up to the bound, and
// shared fairly between the webhooks that call the module.
//
// Fair share: a webhook (the key of a call) holds at most ceil(n/k) instances
// at once, where k is the number of webhooks holding or waiting for one, and
// at least 2. So a webhook alone leaves room for another to come (a plugin
// spinning to its time limit for one webhook's events does not make every
// other webhook wait for it), and when instances free up, they go to the
// waiting webhooks under their share, in the order they came. Instances are
// made one per CPU-bound call at most twice the CPUs by default, so half of
// them keeps the CPUs busy for a webhook alone.
type bounded[T any] struct {
	name string
	n    int

	mu      sync.Mutex
	idle    []T
	made    int            // instances that exist or are being made
	held    map[string]int // instances in use, by key
	waiting map[string]int // calls waiting, by key
	queue   []*waiter[T]   // calls waiting, in order
}

type waiter[T any] struct {
	key string
	ch  chan grant[T] // one grant, buffered
}

// grant hands a waiter an idle instance, or a slot to make one in.
type grant[T any] struct {
	x    T
	make bool
}

func newBounded[T any](name string, n int) bounded[T] {
	return bounded[T]{name: name, n: n, held: map[string]int{}, waiting: map[string]int{}}
}

// share is what key may hold at once (b.mu held).
func (b *bounded[T]) share(key string) int {
	k := len(b.held)
	for w := range b.waiting {
		if b.held[w] == 0 {
			k++
		}
	}
	if b.held[key] == 0 && b.waiting[key] == 0 {
		k++ // key itself
	}
	k = max(k, 2)
	return max(1, (b.n+k-1)/k)
}

// take gives key an idle instance or a slot to make one in, when its share
// and the bound allow (b.mu held).
func (b *bounded[T]) take(key string) (g grant[T], ok bool) {
	if b.held[key] >= b.share(key) {
		return g, false
	}
	switch {
	case len(b.idle) > 0:
		g.x = b.idle[len(b.idle)-1]
		var zero T
		b.idle[len(b.idle)-1] = zero
		b.idle = b.idle[:len(b.idle)-1]
	case b.made < b.n:
		b.made++
		g.make = true
	default:
		return g, false
	}
	b.held[key]++
	return g, true
}

// dispatch hands what is free to the waiters that may take it, in order
// (b.mu held).
func (b *bounded[T]) dispatch() {
	for i := 0; i < len(b.queue) && (len(b.idle) > 0 || b.made < b.n); {
		w := b.queue[i]
		g, ok := b.take(w.key)
		if !ok {
			i++
			continue
		}
		b.queue = append(b.queue[:i], b.queue[i+1:]...)
		b.unwait(w.key)
		w.ch <- g
	}
}

func (b *bounded[T]) unwait(key string) {
	if b.waiting[key]--; b.waiting[key] <= 0 {
		delete(b.waiting, key)
	}
}

func (b *bounded[T]) unhold(key string) {
	if b.held[key]--; b.held[key] <= 0 {
		delete(b.held, key)
	}
}

// get takes an idle instance for key, or makes one with make if the bound
// and key's share allow, or waits until ctx ends.
func (b *bounded[T]) get(ctx context.Context, key string, mk func() (T, error)) (T, error) {
	b.mu.Lock()
	g, ok := b.take(key)
	var w *waiter[T]
	if !ok {
		w = &waiter[T]{key: key, ch: make(chan grant[T], 1)}
		b.queue = append(b.queue, w)
		b.waiting[key]++
	}
	b.mu.Unlock()
	var zero T
	if w != nil {
		select {
		case g = <-w.ch:
		case <-ctx.Done():
			b.mu.Lock()
			for i, q := range b.queue {
				if q == w {
					b.queue = append(b.queue[:i], b.queue[i+1:]...)
					b.unwait(key)
					b.dispatch() // one webhook fewer: the others' shares grow
					b.mu.Unlock()
					return zero, fmt.Errorf("plugin %s: no instance free: %w", b.name, ctx.Err())
				}
			}
			b.mu.Unlock()
			// Granted meanwhile: hand it back.
			g = <-w.ch
			if g.make {
				b.unmade(key)
			} else {
				b.put(key, g.x, false, nil)
			}
			return zero, fmt.Errorf("plugin %s: no instance free: %w", b.name, ctx.Err())
		}
	}
	if !g.make {
		return g.x, nil
	}
	x, err := mk()
	if err != nil {
		b.unmade(key)
		return zero, err
	}
	return x, nil
}

// unmade frees the slot of an instance key was to make.
func (b *bounded[T]) unmade(key string) {
	b.mu.Lock()
	b.made--
	b.unhold(key)
	b.dispatch()
	b.mu.Unlock()
}

// put returns key's healthy instance, or ends a spoiled one with end and
// frees its slot for a fresh one.
func (b *bounded[T]) put(key string, x T, spoiled bool, end func(T)) {
	if spoiled {
		end(x)
		b.unmade(key)
		return
	}
	b.mu.Lock()
	b.unhold(key)
	b.idle = append(b.idle, x)
	b.dispatch()
	b.mu.Unlock()
}

// add puts an instance made outside get (the first one, at load) among the
// idle ones.
func (b *bounded[T]) add(x T) {
	b.mu.Lock()
	b.made++
	b.idle = append(b.idle, x)
	b.dispatch()
	b.mu.Unlock()
}

// idleCount is how many instances wait for a call.
func (b *bounded[T]) idleCount() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.idle)
}

// heldBy is how many instances key holds.
func (b *bounded[T]) heldBy(key string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.held[key]
}
