package bus

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Headers the hub sets on its own messages.
const (
	HeaderWebhook  = "Hookhub-Webhook"
	HeaderJob      = "Hookhub-Job"
	HeaderAttempt  = "Hookhub-Attempt"
	HeaderEventID  = "Hookhub-Event-Id"
	HeaderReason   = "Hookhub-Reason"
	HeaderAttempts = "Hookhub-Attempts"
	HeaderStatus   = "Hookhub-Status"
	HeaderFailedAt = "Hookhub-Failed-At"
	// HeaderAccount is the account a rejected event was published for, read
	// from its subject (absent when the subject names none).
	HeaderAccount = "Hookhub-Account"
	// HeaderSubject is the subject a rejected event (or an unreadable job)
	// came on.
	HeaderSubject = "Hookhub-Subject"
	// HeaderEventsSeq is set on an archived event: the sequence of the
	// message in the events stream that it was archived from.
	HeaderEventsSeq = "Hookhub-Events-Seq"
	// HeaderMsgID is set on an archived event: the Nats-Msg-Id of the
	// message it was archived from, when it had one.
	HeaderMsgID = "Hookhub-Msg-Id"
)

// LogLimits bound the attempt log and the dead letters: past either bound
// of a stream, JetStream drops its oldest records first.
type LogLimits struct {
	AttemptsMaxAge   time.Duration
	AttemptsMaxBytes int64
	DLQMaxAge        time.Duration
	DLQMaxBytes      int64 // 0: no bound but the age
}

func (l LogLimits) withDefaults() LogLimits {
	if l.AttemptsMaxAge <= 0 {
		l.AttemptsMaxAge = AttemptsMaxAge
	}
	if l.AttemptsMaxBytes <= 0 {
		l.AttemptsMaxBytes = AttemptsMaxBytes
	}
	if l.DLQMaxAge <= 0 {
		l.DLQMaxAge = DLQMaxAge
	}
	return l
}

// Retention of the hub's streams (the defaults of LogLimits).
const (
	DLQMaxAge      = 30 * 24 * time.Hour
	AttemptsMaxAge = 7 * 24 * time.Hour
	// AttemptsMaxBytes is about 14 million records of 600 bytes. JetStream
	// reserves a stream's MaxBytes: where it offers less storage, the
	// default is halved until it fits (see Setup).
	AttemptsMaxBytes = 8 << 30
	RejectedMaxAge   = 7 * 24 * time.Hour
	DedupeWindow     = 2 * time.Minute
	// DefaultEventRetention is how long events are kept for resends.
	DefaultEventRetention = 72 * time.Hour
	// DelivererAck and RouterAck are how long a job or an event stays with a
	// hub that took it without a word from it: after a crash, another hub
	// (or the restarted one) takes it after this long. A hub keeps what it
	// holds longer alive with in-progress acks every KeepAliveEvery, so a
	// long delivery is not handed to a second hub meanwhile.
	DelivererAck   = 4 * time.Second
	RouterAck      = 4 * time.Second
	KeepAliveEvery = time.Second
	// WakerAck and SequencerAck are longer: a wake-up is moved in one go,
	// and the sequencer's events are many, each held until its ordered jobs
	// are done (kept alive the same way).
	WakerAck     = 60 * time.Second
	SequencerAck = 60 * time.Second
)

// Setup creates or updates the streams, consumers and buckets. It is
// idempotent: every hub process calls it at start.
func (b *Bus) Setup(ctx context.Context) error {
	n := b.Names
	streams := []jetstream.StreamConfig{
		{
			// Never written: the events stream sources it, which is how a
			// stream goes without a de-duplication window (JetStream gives
			// one of at least 100 ms to any stream without a source).
			Name: n.EventsSource, Subjects: []string{n.Prefix + ".source.events"},
			Description: "empty; sourced by the events stream so that it has no de-duplication window",
			Retention:   jetstream.LimitsPolicy, Storage: jetstream.FileStorage, MaxMsgs: 1,
		},
		{
			// Interest retention: an event stays until the router has
			// acked it, so nothing is lost however long the hub is down.
			// The keeper keeps the block being written from emptying (keeper.go).
			//
			// No de-duplication window: JetStream's is one for the whole
			// stream, keyed by Nats-Msg-Id alone, so one account could
			// publish another's <account>:<id> on its own subject and have
			// the other's event dropped, or learn from its acknowledgement
			// that the id was used. The hub de-duplicates by account and id
			// where it archives each event (the archive's window), and tells
			// a publisher's resend (the same Nats-Msg-Id) from an event
			// published again (CopyOf).
			Name: n.EventsStream, Subjects: []string{n.EventsAll(), n.EventsKeeper()},
			Description: "CloudEvents published for delivery",
			Retention:   jetstream.InterestPolicy, Storage: jetstream.FileStorage,
			Sources: []*jetstream.StreamSource{{Name: n.EventsSource}},
		},
		{
			// Jobs wait for their retry on <prefix>.retries.<due>.>, one
			// subject per second due; one scheduled message per second
			// (<prefix>.wake.<due>) fires into <prefix>.wakeups when it is
			// due, and the hub that takes it moves that second's jobs back
			// to <prefix>.deliveries.>. No consumer holds a waiting job.
			Name: n.DeliveriesStream, Subjects: []string{n.DeliveriesAll(), n.RetriesAll(), n.WakeAll(), n.Wakeups(), n.DeliveriesKeeper()},
			Description: "one job per (event, webhook), removed once delivered or dead-lettered",
			Retention:   jetstream.WorkQueuePolicy, Storage: jetstream.FileStorage, Duplicates: DedupeWindow,
			// Message schedules need rollups allowed; publishers cannot
			// publish on this stream's subjects.
			AllowMsgSchedules: true, AllowRollup: true,
		},
		{
			// Read by sequence for the delivery log's pages (direct gets).
			Name: n.DLQStream, Subjects: []string{n.DeadLettersAll()},
			Description: "jobs that failed their last attempt, with the reason",
			Retention:   jetstream.LimitsPolicy, Storage: jetstream.FileStorage, Duplicates: min(DedupeWindow, b.Limits.DLQMaxAge),
			MaxAge: b.Limits.DLQMaxAge, MaxBytes: maxBytes(b.Limits.DLQMaxBytes), Discard: jetstream.DiscardOld, AllowDirect: true,
		},
		{
			Name: n.AttemptsStream, Subjects: []string{n.AttemptsAll()},
			Description: "a record of every delivery attempt",
			Retention:   jetstream.LimitsPolicy, Storage: jetstream.FileStorage,
			MaxAge: b.Limits.AttemptsMaxAge, MaxBytes: maxBytes(b.Limits.AttemptsMaxBytes), Discard: jetstream.DiscardOld, AllowDirect: true,
		},
		{
			// Events kept for resends, for EventRetention; a lookup reads
			// its subject's messages by direct gets.
			Name: n.ArchiveStream, Subjects: []string{n.ArchiveAll()},
			Description: "events kept for resends, by a hash of their id",
			Retention:   jetstream.LimitsPolicy, Storage: jetstream.FileStorage, MaxAge: b.EventRetention,
			Duplicates: DedupeWindow, AllowDirect: true,
		},
		{
			Name: n.RejectedStream, Subjects: []string{n.Rejected()},
			Description: "events that could not be accepted, with the reason",
			Retention:   jetstream.LimitsPolicy, Storage: jetstream.FileStorage, MaxAge: RejectedMaxAge,
		},
	}
	for _, sc := range streams {
		sc.Replicas = b.Replicas
		st, err := b.ensureStream(ctx, sc)
		if err == nil && sc.Name == n.EventsStream {
			if w := st.CachedInfo().Config.Duplicates; w != 0 {
				b.log.Warn().Dur("duplicate_window", w).Msg("the NATS server gave the events stream a de-duplication window, one for every account " +
					"(a server older than the hub's?): a publisher can have another account's event dropped by publishing its Nats-Msg-Id first")
			}
		}
		// The default size bound of the attempt log is more than this
		// JetStream may offer (a small disk, an account limit): halve it
		// while it is 64 MiB or more, then leave the age bound alone, and
		// say so. A bound the operator set stays as set.
		for sc.Name == n.AttemptsStream && b.Limits.AttemptsMaxBytes == AttemptsMaxBytes && isStorageShort(err) && sc.MaxBytes > 0 {
			if sc.MaxBytes /= 2; sc.MaxBytes < 64<<20 {
				sc.MaxBytes = -1
			}
			if _, err = b.ensureStream(ctx, sc); err == nil {
				b.log.Warn().Int64("attempt_log_max_bytes", sc.MaxBytes).
					Msg("JetStream offers less storage than the attempt log's default bound (8 GiB): the log keeps this many bytes (-1: no bound but attempt_retention); set attempt_log_max_bytes to choose")
			}
		}
		if err != nil {
			var apiErr *jetstream.APIError
			if b.Server != nil && errors.As(err, &apiErr) && apiErr.ErrorCode == jetstream.ErrorCode(10049) {
				return fmt.Errorf("bus: stream %s: the embedded server cannot read its files in the data dir: "+
					"were they encrypted with a secrets_key that is neither the first nor the second key given? (%w)", sc.Name, err)
			}
			return fmt.Errorf("bus: stream %s: %w", sc.Name, err)
		}
	}
	consumers := []struct {
		stream string
		cfg    jetstream.ConsumerConfig
	}{
		{n.EventsStream, jetstream.ConsumerConfig{
			Durable: n.RouterConsumer, Description: "matches events to webhooks",
			AckPolicy: jetstream.AckExplicitPolicy, AckWait: RouterAck, MaxDeliver: -1, MaxAckPending: 10000,
			FilterSubject: n.EventsAll(),
		}},
		{n.EventsStream, jetstream.ConsumerConfig{
			// Never reads: it only keeps the events keeper (keeper.go).
			Durable: KeeperConsumer, Description: "keeps the events keeper stored; never reads",
			AckPolicy: jetstream.AckExplicitPolicy, FilterSubject: n.EventsKeeper(),
		}},
		{n.DeliveriesStream, jetstream.ConsumerConfig{
			Durable: n.DelivererConsumer, Description: "delivers jobs to webhooks",
			AckPolicy: jetstream.AckExplicitPolicy, AckWait: DelivererAck, MaxDeliver: -1, MaxAckPending: 65536,
			FilterSubject: n.DeliveriesAll(),
		}},
		{n.DeliveriesStream, jetstream.ConsumerConfig{
			Durable: n.WakerConsumer, Description: "moves retries back to the jobs when they are due",
			AckPolicy: jetstream.AckExplicitPolicy, AckWait: WakerAck, MaxDeliver: -1, MaxAckPending: 64,
			FilterSubject: n.Wakeups(),
		}},
	}
	for _, c := range consumers {
		c.cfg.Replicas = b.Replicas
		if _, err := b.JS.CreateOrUpdateConsumer(ctx, c.stream, c.cfg); err != nil {
			return fmt.Errorf("bus: consumer %s on %s: %w", c.cfg.Durable, c.stream, err)
		}
	}
	return nil
}

// ensureStream creates the stream, or updates it only when its config
// differs: JetStream answers a create whose config equals the stream's with
// the stream, and changes nothing (in a cluster the create is still
// proposed, and each replica finds nothing to change). A hub that starts
// against set-up streams so rewrites none of them, and races no other
// hub's consumer creation (nats-server 2.15's stream update writes a field
// its consumer creation reads unlocked).
func (b *Bus) ensureStream(ctx context.Context, sc jetstream.StreamConfig) (jetstream.Stream, error) {
	st, err := b.JS.CreateStream(ctx, sc)
	if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
		return b.JS.UpdateStream(ctx, sc)
	}
	return st, err
}

// isStorageShort says whether err is JetStream's "insufficient storage
// resources available" (10047).
func isStorageShort(err error) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode == jetstream.ErrorCode(10047)
}

// maxBytes is a stream's MaxBytes for a bound (0: none, which JetStream
// writes -1).
func maxBytes(n int64) int64 {
	if n <= 0 {
		return -1
	}
	return n
}

// SequencerGroup is the priority group of the sequencer consumers.
const SequencerGroup = "ordered"

// SequencerMaxAckPending bounds the events an account's sequencer consumer
// hands out before they are settled: held in memory, each until every
// ordered job made from it is delivered or dead-lettered. An account whose
// ordered webhook fails holds up to this many and then waits; no other
// account's ordered webhooks wait with it.
const SequencerMaxAckPending = 1000

// Sequencer returns the consumer that reads account's events in order for
// its ordered webhooks, creating it on first use. Each account has its own,
// so one account's ordered webhook stuck in retries holds up only that
// account's. It is pinned: one hub at a time gets its messages (another
// takes over within PinnedTTL when that one is gone), so each key's events
// are delivered by one process, in order.
//
// The router calls it before it leaves an ordered webhook to the sequencer,
// so no event routed without an ordered webhook's job is missing from it: it
// starts at the router's ack floor, which is below every event the router
// still has in hand, less a margin (events seen by both are delivered twice,
// with one webhook-id), or where the one consumer of an older hub, for every
// account, had got to, if that is earlier.
func (b *Bus) Sequencer(ctx context.Context, account string) (jetstream.Consumer, error) {
	b.seqMu.Lock()
	c, gen := b.seqs[account], b.seqGen
	b.seqMu.Unlock()
	if c != nil {
		return c, nil
	}
	// Looked up or made without the lock: one account's first ordered event
	// does not wait on another's JetStream calls.
	n := b.Names
	c, err := b.JS.Consumer(ctx, n.EventsStream, n.Sequencer(account))
	if err != nil {
		c, err = b.createSequencer(ctx, account)
	}
	if err != nil {
		return nil, err
	}
	b.seqMu.Lock()
	defer b.seqMu.Unlock()
	if b.seqGen != gen {
		return c, nil // a consumer was forgotten meanwhile: maybe this one, so not kept
	}
	if b.seqs == nil {
		b.seqs = map[string]jetstream.Consumer{}
	}
	b.seqs[account] = c
	return c, nil
}

func (b *Bus) createSequencer(ctx context.Context, account string) (jetstream.Consumer, error) {
	n := b.Names
	start := uint64(1)
	r, err := b.JS.Consumer(ctx, n.EventsStream, n.RouterConsumer)
	if err != nil {
		return nil, fmt.Errorf("bus: consumer %s: %w", n.RouterConsumer, err)
	}
	if floor := r.CachedInfo().AckFloor.Stream; floor > 1000 {
		start = floor - 1000
	}
	if shared, err := b.JS.Consumer(ctx, n.EventsStream, n.SequencerConsumer); err == nil {
		start = min(start, shared.CachedInfo().AckFloor.Stream+1)
	}
	cfg := jetstream.ConsumerConfig{
		Durable: n.Sequencer(account), Description: "reads account " + account + "'s events in order for its ordered webhooks",
		AckPolicy: jetstream.AckExplicitPolicy, AckWait: SequencerAck, MaxDeliver: -1, MaxAckPending: SequencerMaxAckPending,
		FilterSubjects: n.EventsOf(account), DeliverPolicy: jetstream.DeliverByStartSequencePolicy, OptStartSeq: start,
		PriorityPolicy: jetstream.PriorityPolicyPinned, PriorityGroups: []string{SequencerGroup}, PinnedTTL: 30 * time.Second,
		Replicas: b.Replicas,
	}
	c, err := b.JS.CreateConsumer(ctx, n.EventsStream, cfg)
	if errors.Is(err, jetstream.ErrConsumerExists) {
		return b.JS.Consumer(ctx, n.EventsStream, n.Sequencer(account))
	}
	if err != nil {
		return nil, fmt.Errorf("bus: consumer %s on %s: %w", cfg.Durable, n.EventsStream, err)
	}
	return c, nil
}

// SequencerAccounts are the accounts that have a sequencer consumer, which
// a hub must keep reading (each holds its events in the stream until it
// acks them) whether or not they still have an ordered webhook.
func (b *Bus) SequencerAccounts(ctx context.Context) ([]string, error) {
	st, err := b.JS.Stream(ctx, b.Names.EventsStream)
	if err != nil {
		return nil, fmt.Errorf("bus: stream %s: %w", b.Names.EventsStream, err)
	}
	names := st.ConsumerNames(ctx)
	var out []string
	for name := range names.Name() {
		if account, ok := b.Names.SequencerAccount(name); ok {
			out = append(out, account)
		}
	}
	if err := names.Err(); err != nil {
		return nil, fmt.Errorf("bus: consumers of %s: %w", b.Names.EventsStream, err)
	}
	return out, nil
}

// ForgetSequencer drops what Sequencer knows of account's consumer, which
// ended or is gone: the next call looks it up again (and a call under way
// does not keep what it found).
func (b *Bus) ForgetSequencer(account string) {
	b.seqMu.Lock()
	defer b.seqMu.Unlock()
	delete(b.seqs, account)
	b.seqGen++
}

// DropSharedSequencer deletes the one sequencer consumer of hubs older than
// per-account sequencers, once each account in accounts (those with an
// ordered webhook) has its own, which started no later than it had got to.
// Left alone, it would keep every event in the stream (interest retention).
// It is left while an older hub still reads it (a pull waiting on it): that
// hub would deliver its events in hand beside the newer hubs.
func (b *Bus) DropSharedSequencer(ctx context.Context, accounts []string) error {
	n := b.Names
	shared, err := b.JS.Consumer(ctx, n.EventsStream, n.SequencerConsumer)
	if errors.Is(err, jetstream.ErrConsumerNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	if shared.CachedInfo().NumWaiting > 0 {
		return nil
	}
	for _, a := range accounts {
		if _, err := b.Sequencer(ctx, a); err != nil {
			return err
		}
	}
	err = b.JS.DeleteConsumer(ctx, n.EventsStream, n.SequencerConsumer)
	if errors.Is(err, jetstream.ErrConsumerNotFound) {
		return nil
	}
	return err
}
