package deliverylog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"
	"github.com/tidwall/gjson"

	"github.com/hookhub/hookhub/hub/internal/bus"
	"github.com/hookhub/hookhub/hub/internal/delivery"
)

// ErrBehind is returned when the index has not read the records written
// before the call within CatchUpWait: just after a start over a large log.
var ErrBehind = errors.New("the delivery log's index is still reading the log")

// BadQuery is a query the log cannot answer as asked: Field says which
// parameter.
type BadQuery struct{ Field, Msg string }

func (e *BadQuery) Error() string { return e.Field + ": " + e.Msg }

// JetStream is the Reader over the hub's ATTEMPTS and DLQ streams.
type JetStream struct {
	b        *bus.Bus
	attempts *tail
	dead     *tail
	rejected *tail
	log      zerolog.Logger
	// CatchUpWait bounds how long a read waits for the index to reach the
	// records written before it (default 5 s).
	CatchUpWait time.Duration
}

// NewJetStream makes the reader; Run builds and keeps its index.
func NewJetStream(b *bus.Bus, log zerolog.Logger) *JetStream {
	n := b.Names
	j := &JetStream{b: b, log: log.With().Str("component", "deliverylog").Logger(), CatchUpWait: 5 * time.Second}
	j.attempts = &tail{j: j, stream: n.AttemptsStream, prefix: n.Prefix + ".attempts.", idx: newIndex(), decode: decodeAttempt}
	j.dead = &tail{j: j, stream: n.DLQStream, prefix: n.Prefix + ".dlq.", idx: newIndex(), decode: decodeDeadLetter}
	// Rejected events are one subject; the index keeps a series per
	// account (the account a rejected event was published for, "" when
	// its subject named none) and one of them all.
	j.rejected = &tail{j: j, stream: n.RejectedStream, prefix: n.Rejected(), idx: newIndex(), decode: decodeRejected, all: &allRejected, oneSubject: true}
	return j
}

// Run reads both streams into the index until ctx is done.
func (j *JetStream) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for _, t := range []*tail{j.attempts, j.dead, j.rejected} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t.run(ctx)
		}()
	}
	wg.Wait()
	return nil
}

// tail is the index of one stream and the reading that keeps it.
type tail struct {
	j      *JetStream
	stream string
	prefix string
	idx    *index
	decode func(sub []string, m jetstream.Msg) (entry, bool)
	all    *seriesKey // a series every record goes to as well
	// oneSubject: every record is on one subject (rejected events), so a
	// webhook's page cannot come in one batched get by subject.
	oneSubject bool

	stMu sync.Mutex
	st   jetstream.Stream
}

func (t *tail) handle(ctx context.Context) (jetstream.Stream, error) {
	t.stMu.Lock()
	defer t.stMu.Unlock()
	if t.st != nil {
		return t.st, nil
	}
	st, err := t.j.b.JS.Stream(ctx, t.stream)
	if err != nil {
		return nil, err
	}
	t.st = st
	return st, nil
}

func (t *tail) run(ctx context.Context) {
	go t.watchFirst(ctx)
	for ctx.Err() == nil {
		err := t.follow(ctx)
		if ctx.Err() != nil {
			return
		}
		t.j.log.Warn().Err(err).Str("stream", t.stream).Msg("reading the log into its index: starting over in 1s")
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

// follow reads the stream from the first record the index lacks.
func (t *tail) follow(ctx context.Context) error {
	st, err := t.handle(ctx)
	if err != nil {
		return err
	}
	t.idx.mu.RLock()
	start := t.idx.last + 1
	t.idx.mu.RUnlock()
	c, err := st.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{
		DeliverPolicy: jetstream.DeliverByStartSequencePolicy, OptStartSeq: start,
	})
	if err != nil {
		return err
	}
	it, err := c.Messages(jetstream.PullMaxMessages(2048))
	if err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, it.Stop)
	defer stop()
	defer it.Stop()
	const every = 512 // wake the readers at least this often while catching up
	n := 0
	for {
		m, err := it.Next()
		if err != nil {
			return err
		}
		md, err := m.Metadata()
		if err != nil {
			continue
		}
		e, ok := t.decode(strings.Split(strings.TrimPrefix(m.Subject(), t.prefix), "."), m)
		e.seq = md.Sequence.Stream
		if e.at == 0 {
			e.at = md.Timestamp.UnixNano()
		}
		t.idx.mu.Lock()
		if ok && t.all != nil {
			t.idx.add(e, *t.all)
		} else if ok {
			t.idx.add(e)
		} else if e.seq > t.idx.last {
			t.idx.last = e.seq // not a record of ours: read, nothing to index
		}
		n++
		if md.NumPending == 0 || n%every == 0 {
			t.idx.notify()
		}
		t.idx.mu.Unlock()
	}
}

// watchFirst follows the stream's first record as retention drops the
// oldest, so that the index frees what is gone.
func (t *tail) watchFirst(ctx context.Context) {
	tick := time.NewTicker(5 * time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			_, _ = t.state(ctx)
		}
	}
}

// state reads the stream's bounds and tells the index where it starts.
func (t *tail) state(ctx context.Context) (jetstream.StreamState, error) {
	st, err := t.handle(ctx)
	if err != nil {
		return jetstream.StreamState{}, err
	}
	info, err := st.Info(ctx)
	if err != nil {
		return jetstream.StreamState{}, err
	}
	s := info.State
	t.idx.mu.Lock()
	t.idx.setFirst(s.FirstSeq, s.FirstTime.UnixNano())
	t.idx.mu.Unlock()
	return s, nil
}

// sync waits until the index holds every record written before the call.
func (t *tail) sync(ctx context.Context) error {
	s, err := t.state(ctx)
	if err != nil {
		return err
	}
	wait := t.j.CatchUpWait
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	for {
		t.idx.mu.RLock()
		got, ch := t.idx.last, t.idx.changed
		t.idx.mu.RUnlock()
		if got >= s.LastSeq {
			return nil
		}
		select {
		case <-ch:
		case <-time.After(50 * time.Millisecond):
			// The newest records may have been deleted (a redriven dead
			// letter): then there is nothing left to read.
			st, err := t.handle(ctx)
			if err != nil {
				return err
			}
			m, err := st.GetMsg(ctx, got+1, jetstream.WithGetMsgSubject(">"))
			if errors.Is(err, jetstream.ErrMsgNotFound) || err == nil && m.Sequence > s.LastSeq {
				return nil
			}
		case <-deadline.C:
			return fmt.Errorf("%w: %d of %d records read, try again shortly", ErrBehind, got, s.LastSeq)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// filter turns a query into the index's terms.
func (t *tail) filter(q Query) (*filter, bool, error) {
	f := &filter{outcome: -1, anyType: true}
	if q.Before != "" {
		b, err := strconv.ParseUint(q.Before, 10, 64)
		if err != nil || b == 0 {
			return nil, false, &BadQuery{"before", "before must be the cursor of a previous page (a sequence number)"}
		}
		f.before = b
	}
	if q.Outcome != "" {
		f.outcome = outcomeClass(q.Outcome)
		if f.outcome == outOther {
			return nil, false, &BadQuery{"outcome", "outcome must be one of delivered, retrying, dead, skipped, failed (a test send)"}
		}
	}
	f.since, f.until = nanos(q.Since), nanos(q.Until)
	if q.EventType != "" {
		f.anyType = false
		id, ok := t.idx.types[q.EventType]
		if !ok {
			return f, false, nil // no record of that type
		}
		f.typ = id
	}
	return f, true, nil
}

// cands are the sequences a page may hold, newest first. When they are of
// one webhook, subject is its subject and span how many of its records
// they span.
type cands struct {
	seqs    []uint64
	more    bool
	subject string
	span    int
}

// candidates lists up to n sequences of the query below before, newest
// first, and whether more follow. The caller holds the read lock.
func (t *tail) candidates(q Query, f *filter, n int) cands {
	x := t.idx
	if q.EventID != "" {
		keep := func(s *series) bool {
			return (q.Account == "" || s.account == q.Account) && (q.Webhook == "" || s.webhook == q.Webhook) &&
				(q.Allowed == nil || q.Allowed(s.account))
		}
		seqs, more := x.ofEvent(eventHash(q.EventID), keep, f, n)
		return cands{seqs: seqs, more: more}
	}
	s := x.series[seriesKey{q.Account, q.Webhook}]
	if s == nil {
		return cands{}
	}
	seqs, more, span := x.newest(s, f, n)
	c := cands{seqs: seqs, more: more, span: span}
	if !t.oneSubject {
		c.subject = t.prefix + q.Account + "." + q.Webhook
	}
	return c
}

// page runs a query: candidates from the index, their records fetched from
// the stream; records fetch cannot use (gone, or another event of the same
// hash) are passed over and the page filled from further candidates.
func page[T any](ctx context.Context, t *tail, q Query, fetch func(context.Context, cands) ([]T, error)) ([]T, string, error) {
	if err := t.sync(ctx); err != nil {
		return nil, "", err
	}
	limit := q.Limit
	if limit <= 0 {
		limit = math.MaxInt
	}
	t.idx.mu.RLock()
	f, ok, err := t.filter(q)
	t.idx.mu.RUnlock()
	if err != nil || !ok {
		return nil, "", err
	}
	var out []T
	for {
		t.idx.mu.RLock()
		c := t.candidates(q, f, min(limit-len(out), 1<<16))
		t.idx.mu.RUnlock()
		got, err := fetch(ctx, c)
		if err != nil {
			return nil, "", err
		}
		out = append(out, got...)
		if !c.more || len(c.seqs) == 0 {
			return out, "", nil
		}
		f.before = c.seqs[len(c.seqs)-1]
		if len(out) >= limit {
			return out, strconv.FormatUint(f.before, 10), nil
		}
	}
}

// fetchAll gets the candidates' messages from the stream, newest first;
// missing ones (deleted since) are left out. Candidates that are most of
// the records they span come in one batched direct get; others one by
// one, a few at a time.
func (t *tail) fetchAll(ctx context.Context, c cands) ([]*jetstream.RawStreamMsg, error) {
	seqs := c.seqs
	if len(seqs) == 0 {
		return nil, nil
	}
	if c.subject != "" && len(seqs) > 1 && c.span <= 2*len(seqs)+16 {
		return t.batch(ctx, c)
	}
	st, err := t.handle(ctx)
	if err != nil {
		return nil, err
	}
	msgs := make([]*jetstream.RawStreamMsg, len(seqs))
	errs := make([]error, len(seqs))
	const parallel = 16
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	for i, seq := range seqs {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			m, err := st.GetMsg(ctx, seq)
			if errors.Is(err, jetstream.ErrMsgNotFound) {
				return
			}
			msgs[i], errs[i] = m, err
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	out := msgs[:0]
	for _, m := range msgs {
		if m != nil {
			out = append(out, m)
		}
	}
	return out, nil
}

// batch gets the span of a webhook's records that holds the candidates in
// batched direct gets of the stream (nats-server 2.11's form: one, unless
// the records pass the server's byte bound), and keeps the candidates.
func (t *tail) batch(ctx context.Context, c cands) ([]*jetstream.RawStreamMsg, error) {
	want := make(map[uint64]bool, len(c.seqs))
	for _, s := range c.seqs {
		want[s] = true
	}
	var got []*jetstream.RawStreamMsg
	newest := c.seqs[0]
	err := t.j.b.DirectRange(ctx, t.stream, c.subject, c.seqs[len(c.seqs)-1], newest, c.span, func(m *jetstream.RawStreamMsg) bool {
		if want[m.Sequence] {
			got = append(got, m)
		}
		return m.Sequence < newest
	})
	if err != nil {
		return nil, err
	}
	slices.Reverse(got)
	return got, nil
}

// Attempts implements Reader.
func (j *JetStream) Attempts(ctx context.Context, q Query) ([]Attempt, string, error) {
	if q.EventID == "" && (q.Account == "" || q.Webhook == "") {
		return nil, "", &BadQuery{"webhook", "name a webhook or an event"}
	}
	t := j.attempts
	return page(ctx, t, q, func(ctx context.Context, c cands) ([]Attempt, error) {
		msgs, err := t.fetchAll(ctx, c)
		if err != nil {
			return nil, err
		}
		out := make([]Attempt, 0, len(msgs))
		for _, m := range msgs {
			v := Attempt{Seq: m.Sequence}
			if json.Unmarshal(m.Data, &v.Attempt) != nil {
				continue
			}
			if q.EventID != "" && v.EventID != q.EventID || !within(v.At, q) {
				continue // another event with the same hash, or out of the time range
			}
			out = append(out, v)
		}
		return out, nil
	})
}

// DeadLetters implements Reader.
func (j *JetStream) DeadLetters(ctx context.Context, q Query) ([]Stored, string, error) {
	if q.Account == "" || q.Webhook == "" {
		return nil, "", &BadQuery{"webhook", "name a webhook"}
	}
	q.EventID, q.Outcome, q.EventType = "", "", ""
	return j.dead.stored(ctx, q, func(m *jetstream.RawStreamMsg) time.Time { return failedAt(m.Header, m.Time) })
}

// stored runs a query for whole stored messages (dead letters, rejected
// events), each with the time timeOf says it was written.
func (t *tail) stored(ctx context.Context, q Query, timeOf func(*jetstream.RawStreamMsg) time.Time) ([]Stored, string, error) {
	return page(ctx, t, q, func(ctx context.Context, c cands) ([]Stored, error) {
		msgs, err := t.fetchAll(ctx, c)
		if err != nil {
			return nil, err
		}
		out := make([]Stored, 0, len(msgs))
		for _, m := range msgs {
			if d := (Stored{Seq: m.Sequence, Subject: m.Subject, Header: m.Header, Data: m.Data, Time: timeOf(m)}); within(d.Time, q) {
				out = append(out, d)
			}
		}
		return out, nil
	})
}

// allRejected is the series of every rejected event.
var allRejected = seriesKey{"\x00all", ""}

// Rejected implements Reader.
func (j *JetStream) Rejected(ctx context.Context, q Query) ([]Stored, string, error) {
	if q.Account == "" {
		q.Account = allRejected.account
	}
	q.Webhook, q.EventID, q.Outcome, q.EventType = "", "", "", ""
	return j.rejected.stored(ctx, q, func(m *jetstream.RawStreamMsg) time.Time { return m.Time })
}

// Counts implements Reader.
func (j *JetStream) Counts(ctx context.Context, account, webhook string) (Windows, error) {
	t := j.attempts
	if err := t.sync(ctx); err != nil {
		return Windows{}, err
	}
	now := time.Now()
	x := t.idx
	x.mu.RLock()
	defer x.mu.RUnlock()
	w := Windows{Since: now.Add(-j.b.Limits.AttemptsMaxAge)}
	if x.firstAt > 0 {
		w.Since = time.Unix(0, x.firstAt)
	}
	s := x.series[seriesKey{account, webhook}]
	if s == nil {
		return w, nil
	}
	conv := func(c [nOut]int) Counts {
		return Counts{Delivered: c[outDelivered], Retrying: c[outRetrying], DeadLettered: c[outDead], Skipped: c[outSkipped]}
	}
	w.Hour = conv(x.counts(s, now.Add(-time.Hour).UnixNano()))
	w.Day = conv(x.counts(s, now.Add(-24*time.Hour).UnixNano()))
	w.All = conv(x.counts(s, 0))
	if at := x.lastOf(s, outDelivered); at != 0 {
		w.LastSuccess = time.Unix(0, at)
	}
	if at := max(x.lastOf(s, outRetrying), x.lastOf(s, outDead)); at != 0 {
		w.LastFailure = time.Unix(0, at)
	}
	return w, nil
}

// Footprint is how many records the index holds, attempts and dead
// letters, and about how many bytes of memory it takes.
func (j *JetStream) Footprint() (records, bytes int) {
	for _, t := range []*tail{j.attempts, j.dead, j.rejected} {
		t.idx.mu.RLock()
		r, b := t.idx.footprint()
		t.idx.mu.RUnlock()
		records, bytes = records+r, bytes+b
	}
	return records, bytes
}

// Forget implements Reader: the dead letter at seq is passed over from now.
func (j *JetStream) Forget(account, webhook string, seq uint64) {
	x := j.dead.idx
	x.mu.Lock()
	defer x.mu.Unlock()
	x.forget(account, webhook, seq)
}

// within says whether t is in the query's [Since, Until).
func within(t time.Time, q Query) bool {
	return (q.Since.IsZero() || !t.Before(q.Since)) && (q.Until.IsZero() || t.Before(q.Until))
}

// failedAt is a dead letter's failure time, or else the time it was stored.
func failedAt(h nats.Header, stored time.Time) time.Time {
	if t, err := time.Parse(time.RFC3339Nano, h.Get(bus.HeaderFailedAt)); err == nil {
		return t
	}
	return stored
}

// decodeAttempt reads what the index keeps of an attempt record.
func decodeAttempt(sub []string, m jetstream.Msg) (entry, bool) {
	if len(sub) != 2 {
		return entry{}, false
	}
	// gjson reads the five members without decoding the rest (response
	// excerpt, request headers): encoding/json took most of what building
	// the index costs. The records are the hub's own, written by
	// encoding/json.
	r := gjson.GetManyBytes(m.Data(), "event_id", "event_type", "outcome", "test", "at")
	if r[2].Type != gjson.String {
		return entry{}, false
	}
	e := entry{account: sub[0], webhook: sub[1], eventID: r[0].Str, typ: r[1].Str, outcome: r[2].Str, test: r[3].Bool()}
	if t, err := time.Parse(time.RFC3339Nano, r[4].Str); err == nil {
		e.at = nanos(t)
	}
	return e, true
}

// decodeRejected reads what the index keeps of a rejected event: its
// account, at the time it was stored.
func decodeRejected(sub []string, m jetstream.Msg) (entry, bool) {
	return entry{account: m.Headers().Get(bus.HeaderAccount), outcome: "rejected"}, true
}

// decodeDeadLetter reads what the index keeps of a dead letter.
func decodeDeadLetter(sub []string, m jetstream.Msg) (entry, bool) {
	if len(sub) != 2 {
		return entry{}, false
	}
	h := m.Headers()
	// at 0 (no failed-at header): the stream's time stands in.
	at := nanos(failedAt(h, time.Time{}))
	return entry{account: sub[0], webhook: sub[1], eventID: h.Get(bus.HeaderEventID), outcome: delivery.OutcomeDead, at: at}, true
}
