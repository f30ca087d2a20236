package pluginhost

import (
	"context"
	"fmt"
)

// bounded holds up to n instances of a module (wasm instances or worker
// processes): idle ones ready for a call, made lazily up to the bound.
type bounded[T any] struct {
	name  string
	slots chan struct{} // one per instance that may exist
	idle  chan T        // instances ready for a call
}

func newBounded[T any](name string, n int) bounded[T] {
	return bounded[T]{name: name, slots: make(chan struct{}, n), idle: make(chan T, n)}
}

// get takes an idle instance, or makes one with make if the bound allows, or
// waits until ctx ends.
func (b *bounded[T]) get(ctx context.Context, make func() (T, error)) (T, error) {
	select {
	case x := <-b.idle:
		return x, nil
	default:
	}
	var zero T
	select {
	case x := <-b.idle:
		return x, nil
	case b.slots <- struct{}{}:
		x, err := make()
		if err != nil {
			<-b.slots
			return zero, err
		}
		return x, nil
	case <-ctx.Done():
		return zero, fmt.Errorf("plugin %s: no instance free: %w", b.name, ctx.Err())
	}
}

// put returns a healthy instance, or ends a spoiled one with end and frees
// its slot for a fresh one.
func (b *bounded[T]) put(x T, spoiled bool, end func(T)) {
	if spoiled {
		end(x)
		<-b.slots
		return
	}
	b.idle <- x
}
