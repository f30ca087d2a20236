package delivery

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hookhub/hookhub/hub/internal/bus"
)

// Retries.
//
// A job waiting for its next attempt is a message on
// <prefix>.retries.<due>.<account>.<webhook>, due being the Unix second it
// is due, beside one scheduled message per second, <prefix>.wake.<due>, which
// the NATS server fires into <prefix>.wakeups at that second. The hub that
// takes the wake-up moves that second's jobs back to their job subjects. So a
// million waiting jobs cost the server a million stored messages on disk but
// only as many subjects and schedules as there are (second, webhook) pairs:
// a schedule per job would cost it a subject and a schedule each, in memory.
// A sweep every sweepEvery moves whatever a lost wake-up left behind.

// HeaderTarget is the job subject a waiting retry goes back to.
const HeaderTarget = "Hookhub-Target"

// sweepEvery is how often each hub looks for retries whose second has passed
// without a wake-up (a hub's clock behind the server's, a crash mid-move).
const sweepEvery = 30 * time.Second

// scheduleRetry stores the unit for its next attempt after delay, and returns
// when it is due; the caller then acks the unit's messages. A crash in
// between delivers them again; the retry's message id keeps it from being
// stored twice. A batch is retried as a unit.
func (e *Engine) scheduleRetry(ctx context.Context, u *unit, delay time.Duration) (time.Time, error) {
	at := time.Now().Add(delay)
	if at.Nanosecond() != 0 { // whole seconds: never early
		at = at.Truncate(time.Second).Add(time.Second)
	}
	next := u.attempt + 1
	n := e.o.Bus.Names
	msg := nats.NewMsg(n.Retry(at.Unix(), u.account(), u.webhook))
	msg.Header.Set(bus.HeaderJob, u.id)
	msg.Header.Set(bus.HeaderWebhook, u.webhook)
	msg.Header.Set(bus.HeaderAttempt, strconv.Itoa(next))
	msg.Header.Set(HeaderTarget, u.subject)
	msg.Header.Set(jetstream.MsgIDHeader, u.id+"#"+strconv.Itoa(next))
	if u.batch {
		b, err := bus.MarshalBatch(u.items)
		if err != nil {
			return at, err
		}
		msg.Header.Set(bus.HeaderBatch, strconv.Itoa(len(u.items)))
		msg.Data = b
	} else {
		msg.Header.Set(bus.HeaderEventID, u.items[0].EventID)
		if st := u.items[0].Stored; !st.IsZero() {
			msg.Header.Set(HeaderStored, st.UTC().Format(time.RFC3339Nano))
		}
		msg.Data = u.items[0].Raw
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := e.o.Bus.JS.PublishMsg(pctx, msg); err != nil {
		return at, fmt.Errorf("scheduling retry %d: %w", next, err)
	}
	if err := e.scheduleWake(pctx, at); err != nil {
		return at, fmt.Errorf("scheduling retry %d: %w", next, err)
	}
	return at, nil
}

// scheduleWake makes sure a wake-up fires at the second at. Its message id
// makes the jobs of one second share a schedule within the dedupe window;
// past it, a new schedule replaces the old one on the same subject.
func (e *Engine) scheduleWake(ctx context.Context, at time.Time) error {
	n := e.o.Bus.Names
	due := at.Unix()
	w := nats.NewMsg(n.Wake(due))
	w.Header.Set("Nats-Schedule", "@at "+at.UTC().Format(time.RFC3339))
	w.Header.Set("Nats-Schedule-Target", n.Wakeups())
	w.Header.Set(jetstream.MsgIDHeader, "wake."+strconv.FormatInt(due, 10))
	w.Data = strconv.AppendInt(nil, due, 10)
	_, err := e.o.Bus.JS.PublishMsg(ctx, w)
	return err
}

// runWaker takes wake-ups and moves each second's retries back to their
// jobs, and sweeps for retries left behind, until ctx is done.
func (e *Engine) runWaker(ctx context.Context) {
	n := e.o.Bus.Names
	cons, err := e.o.Bus.JS.Consumer(ctx, n.DeliveriesStream, n.WakerConsumer)
	if err != nil {
		if ctx.Err() == nil {
			e.log.Error().Err(err).Msg("retries: the waker consumer is missing; retries wait for the sweep")
		}
	} else {
		cc, err := cons.Consume(func(m jetstream.Msg) {
			due, err := strconv.ParseInt(string(m.Data()), 10, 64)
			if err != nil {
				_ = m.Term() // not a wake-up
				return
			}
			if err := e.moveDue(ctx, due); err != nil {
				e.log.Debug().Err(err).Int64("due", due).Msg("retries: moving; the wake-up comes again")
				_ = m.NakWithDelay(time.Second)
				return
			}
			_ = m.Ack()
		}, jetstream.PullMaxMessages(16), jetstream.PullExpiry(5*time.Second))
		if err != nil {
			e.log.Error().Err(err).Msg("retries: cannot take wake-ups; retries wait for the sweep")
		} else {
			defer func() { cc.Stop(); <-cc.Closed() }()
		}
	}
	t := time.NewTicker(sweepEvery)
	defer t.Stop()
	for {
		e.sweep(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// sweep moves the retries of every second that has passed by more than a
// moment: those whose wake-up was lost.
func (e *Engine) sweep(ctx context.Context) {
	n := e.o.Bus.Names
	st, err := e.o.Bus.JS.Stream(ctx, n.DeliveriesStream)
	if err != nil {
		return
	}
	info, err := st.Info(ctx, jetstream.WithSubjectFilter(n.RetriesAll()))
	if err != nil {
		return
	}
	late := time.Now().Add(-5 * time.Second).Unix()
	seen := map[int64]bool{}
	for subj := range info.State.Subjects {
		if due, ok := n.DueOf(subj); ok && due <= late && !seen[due] {
			seen[due] = true
			if err := e.moveDue(ctx, due); err != nil {
				e.log.Debug().Err(err).Int64("due", due).Msg("retries: sweep")
			}
		}
	}
}

// moveDue moves the retries due at one second back to their job subjects.
// It reads them through a consumer of its own on that second's subjects; on
// a work-queue stream two such consumers cannot overlap, so two hubs never
// move the same second at once. The jobs are purged only once their copies
// are stored; a crash in between moves them again, and the copies' message
// ids keep them from being stored twice within the dedupe window.
func (e *Engine) moveDue(ctx context.Context, due int64) error {
	n := e.o.Bus.Names
	st, err := e.o.Bus.JS.Stream(ctx, n.DeliveriesStream)
	if err != nil {
		return err
	}
	cons, err := st.CreateConsumer(ctx, jetstream.ConsumerConfig{
		FilterSubject: n.RetriesDue(due), AckPolicy: jetstream.AckExplicitPolicy, AckWait: 30 * time.Second,
		MaxAckPending: 1000, InactiveThreshold: 30 * time.Second,
	})
	if err != nil {
		return err
	}
	defer func() {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		_ = e.o.Bus.JS.DeleteConsumer(dctx, n.DeliveriesStream, cons.CachedInfo().Name)
		cancel()
	}()
	for {
		batch, err := cons.FetchNoWait(500)
		if err != nil {
			return err
		}
		var msgs []jetstream.Msg
		var futures []jetstream.PubAckFuture
		for m := range batch.Messages() {
			job := nats.NewMsg(m.Headers().Get(HeaderTarget))
			for k, v := range m.Headers() {
				if k != HeaderTarget && k != jetstream.MsgIDHeader {
					job.Header[k] = v
				}
			}
			job.Header.Set(jetstream.MsgIDHeader, m.Headers().Get(jetstream.MsgIDHeader)+"#due")
			job.Data = m.Data()
			if job.Subject == "" {
				_ = m.Term() // not a retry of ours
				continue
			}
			f, err := e.o.Bus.JS.PublishMsgAsync(job)
			if err != nil {
				return err
			}
			msgs, futures = append(msgs, m), append(futures, f)
		}
		if err := batch.Error(); err != nil && !errors.Is(err, jetstream.ErrNoMessages) {
			return err
		}
		if len(msgs) == 0 {
			return nil
		}
		var last uint64
		for i, f := range futures {
			select {
			case <-f.Ok():
				if md, err := msgs[i].Metadata(); err == nil {
					last = max(last, md.Sequence.Stream)
				}
			case err := <-f.Err():
				return err
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		// Remove what was moved: one purge, confirmed, rather than an ack
		// each that the consumer's deletion could overtake.
		if err := st.Purge(ctx, jetstream.WithPurgeSubject(n.RetriesDue(due)), jetstream.WithPurgeSequence(last+1)); err != nil {
			return err
		}
	}
}
