package publish

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hookhub/hookhub/sdk/event"
)

// BatchOptions bound a Batcher's batches. A batch is sent when it holds
// MaxEvents events, when the next event would take it past MaxBytes, when
// its first event has waited Linger, and on Flush and Close.
type BatchOptions struct {
	// MaxEvents per batch: default 100, at most event.MaxBatchEvents.
	MaxEvents int
	// MaxBytes per batch message: default and at most event.MaxBatchBytes.
	MaxBytes int
	// Linger is how long an event may wait for others: default 5ms.
	Linger time.Duration
	// Timeout bounds each batch's publish: default 10s.
	Timeout time.Duration
	// OnBatch, when set, is told the outcome of every batch sent, the
	// lingering ones included (it runs on the Batcher's own goroutine: keep
	// it short).
	OnBatch func(BatchResult)
}

// BatchResult is the outcome of one batch: the account, its event ids in
// order, and JetStream's ack or the error. (The hub's events stream keeps
// every message, so Ack.Duplicate is false: the hub drops what was sent
// again where it routes it.)
type BatchResult struct {
	Account string
	IDs     []string
	Ack     *jetstream.PubAck
	Err     error
}

// BatchError is a batch that was not stored: none of its events were
// (JetStream stores a message whole or not at all). Resending them is safe:
// the hub delivers an event id once.
type BatchError struct {
	Account string
	IDs     []string
	Err     error
}

func (e *BatchError) Error() string {
	return fmt.Sprintf("publish: batch of %d events of account %s (%s ... %s): %v", len(e.IDs), e.Account, e.IDs[0], e.IDs[len(e.IDs)-1], e.Err)
}

func (e *BatchError) Unwrap() error { return e.Err }

// ErrClosed is returned by Add after Close.
var ErrClosed = errors.New("publish: batcher closed")

// Batcher sends events in batches (event.BatchSubject, a JSON array in
// the CloudEvents batched format), one batch per account at a time. Add
// checks each event and says at once what is wrong with it; an error
// storing a batch is the error of all its events, returned by the Add or
// Flush that sent it, or, for a batch sent because it lingered, told to
// OnBatch and returned by the next Flush or Close. The hub checks each
// event again on its own: one it refuses (its data against its type's
// schema, say) is in the hub's rejected events with its index in the batch,
// and the others are delivered.
//
//	b := publish.New(js, "hookhub").NewBatcher(publish.BatchOptions{})
//	defer b.Close(ctx)
//	for _, e := range events { if err := b.Add(ctx, e); err != nil { ... } }
type Batcher struct {
	p    *Publisher
	o    BatchOptions
	send sync.Mutex // held while a batch is cut and sent: batches go in order

	mu      sync.Mutex
	pending map[string]*pendingBatch
	failed  []error // lingering batches' errors, for the next Flush or Close
	closed  bool
}

type pendingBatch struct {
	account string
	ids     []string
	body    []byte // "[" + events separated by ","
	timer   *time.Timer
}

// NewBatcher returns a Batcher on p with options o (zero values take
// their defaults; values past the limits are cut to them).
func (p *Publisher) NewBatcher(o BatchOptions) *Batcher {
	if o.MaxEvents <= 0 {
		o.MaxEvents = 100
	}
	o.MaxEvents = min(o.MaxEvents, event.MaxBatchEvents)
	if o.MaxBytes <= 0 {
		o.MaxBytes = event.MaxBatchBytes
	}
	o.MaxBytes = min(o.MaxBytes, event.MaxBatchBytes)
	if o.Linger <= 0 {
		o.Linger = 5 * time.Millisecond
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	return &Batcher{p: p, o: o, pending: map[string]*pendingBatch{}}
}

// Add fills and checks e (as Publish does) and queues it in its account's
// batch. It sends the batch when e fills it, and returns that batch's error,
// if any (a *BatchError).
func (b *Batcher) Add(ctx context.Context, e *event.Event) error {
	Fill(e)
	if err := e.Check(); err != nil {
		return err
	}
	raw, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("publish: encode event %s: %w", e.ID, err)
	}
	if len(raw)+2 > b.o.MaxBytes {
		return fmt.Errorf("publish: event %s is %d bytes, too big for a batch of at most %d bytes", e.ID, len(raw), b.o.MaxBytes)
	}
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return ErrClosed
	}
	pb := b.pending[e.Account]
	if pb != nil && len(pb.body)+1+len(raw)+1 > b.o.MaxBytes {
		// e would take the batch past its size: send it first.
		b.mu.Unlock()
		if err := b.flushAccount(ctx, e.Account); err != nil {
			return err
		}
		return b.Add(ctx, e)
	}
	if pb == nil {
		pb = &pendingBatch{account: e.Account, body: append(make([]byte, 0, 4096), '[')}
		account := e.Account
		pb.timer = time.AfterFunc(b.o.Linger, func() { b.linger(account) })
		b.pending[e.Account] = pb
	} else {
		pb.body = append(pb.body, ',')
	}
	pb.body = append(pb.body, raw...)
	pb.ids = append(pb.ids, e.ID)
	full := len(pb.ids) >= b.o.MaxEvents
	b.mu.Unlock()
	if full {
		return b.flushAccount(ctx, e.Account)
	}
	return nil
}

// linger sends an account's batch whose first event has waited Linger. Its
// error is kept before the send lock is let go: a Flush that waits for the
// lock then sees it.
func (b *Batcher) linger(account string) {
	ctx, cancel := context.WithTimeout(context.Background(), b.o.Timeout)
	defer cancel()
	b.send.Lock()
	defer b.send.Unlock()
	if err := b.flushLocked(ctx, account); err != nil {
		b.mu.Lock()
		b.failed = append(b.failed, err)
		b.mu.Unlock()
	}
}

// flushAccount sends account's batch, if any.
func (b *Batcher) flushAccount(ctx context.Context, account string) error {
	b.send.Lock()
	defer b.send.Unlock()
	return b.flushLocked(ctx, account)
}

// flushLocked is flushAccount with b.send held.
func (b *Batcher) flushLocked(ctx context.Context, account string) error {
	b.mu.Lock()
	pb := b.pending[account]
	if pb != nil {
		pb.timer.Stop()
		delete(b.pending, account)
	}
	b.mu.Unlock()
	if pb == nil {
		return nil
	}
	return b.sendBatch(ctx, pb)
}

func (b *Batcher) sendBatch(ctx context.Context, pb *pendingBatch) error {
	m := nats.NewMsg(event.BatchSubject(b.p.prefix, pb.account))
	m.Header.Set("Content-Type", event.BatchContentType)
	m.Header.Set(jetstream.MsgIDHeader, BatchMsgID(pb.account, pb.ids))
	m.Data = append(pb.body, ']')
	ctx, cancel := context.WithTimeout(ctx, b.o.Timeout)
	defer cancel()
	ack, err := b.p.js.PublishMsg(ctx, m)
	res := BatchResult{Account: pb.account, IDs: pb.ids, Ack: ack}
	if err != nil {
		res.Err = &BatchError{Account: pb.account, IDs: pb.ids, Err: err}
	}
	if b.o.OnBatch != nil {
		b.o.OnBatch(res)
	}
	return res.Err
}

// BatchMsgID is the Nats-Msg-Id of a batch of account's events with ids:
// the hub takes the same batch sent again, routed less than 2 minutes after
// the first, for a resend, and drops it without a word. (It delivers each
// event id once in any case; an event in another batch is rejected as a
// duplicate, with its index.)
func BatchMsgID(account string, ids []string) string {
	h := sha256.New()
	for _, id := range ids {
		h.Write([]byte(id))
		h.Write([]byte{'\n'})
	}
	return account + ":" + event.BatchToken + ":" + hex.EncodeToString(h.Sum(nil)[:16])
}

// Flush sends every batch waiting, and returns the errors of those and of
// the lingering batches that failed since the last Flush.
func (b *Batcher) Flush(ctx context.Context) error {
	b.mu.Lock()
	accounts := make([]string, 0, len(b.pending))
	for a := range b.pending {
		accounts = append(accounts, a)
	}
	b.mu.Unlock()
	var errs []error
	for _, a := range accounts {
		if err := b.flushAccount(ctx, a); err != nil {
			errs = append(errs, err)
		}
	}
	b.send.Lock() // a lingering batch being sent: wait for its outcome
	b.send.Unlock()
	b.mu.Lock()
	errs = append(b.failed, errs...)
	b.failed = nil
	b.mu.Unlock()
	return errors.Join(errs...)
}

// Close flushes and stops the Batcher: Add fails after it. It returns what
// Flush does; calling it again returns nil.
func (b *Batcher) Close(ctx context.Context) error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	b.mu.Unlock()
	return b.Flush(ctx)
}
