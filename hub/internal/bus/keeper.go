package bus

import (
	"context"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Keepers. JetStream's file store removes a message block once its last
// message is gone, and when that block is the one being written it opens a
// new block file and writes a tombstone there first. The events and the
// deliveries streams remove each message once it is acked: at low load the
// block being written empties with nearly every ack, and each ack then costs
// a file create, a write and later a delete (issue 15: on a quiet machine,
// 898-924 against 594 µs of hub CPU per delivery at 500 events/s). A keeper
// is one message on a subject of its own that no worker reads, written again
// every KeepEvery, after which the hub purges the keeper's subject but for
// its newest message: the block being written always holds it, so it never
// empties. The events stream keeps a message only for a consumer that wants
// it, so the keeper consumer wants the events keeper, and never reads.
//
// Not a rollup (a Nats-Rollup header): a stream that allows rollups lets any
// publisher on it purge it, and publishers of every account publish on the
// events stream, which therefore allows none (TestPublisherCannotRollUpTheEvents).
// The purge is a JetStream API call, which publishers may not make.
const (
	// KeepEvery is how often the keepers are written. After the block being
	// written fills, the next one churns until the next keeper: a fraction
	// KeepEvery/(time to fill a block) of the messages.
	KeepEvery = 250 * time.Millisecond
	// KeeperConsumer holds the events keeper in the events stream.
	KeeperConsumer = "keeper"
)

// EventsKeeper is the events stream's keeper subject (no publisher may
// publish there: their permission is <prefix>.events.<account>.>).
func (n Names) EventsKeeper() string { return n.Prefix + ".keep.events" }

// DeliveriesKeeper is the deliveries stream's keeper subject.
func (n Names) DeliveriesKeeper() string { return n.Prefix + ".keep.deliveries" }

// RunKeepers writes the keepers every KeepEvery until ctx is done. A write
// that fails is tried at the next tick: a keeper only saves work.
func (b *Bus) RunKeepers(ctx context.Context) error {
	t := time.NewTicker(KeepEvery)
	defer t.Stop()
	keepers := []struct{ stream, subject string }{
		{b.Names.EventsStream, b.Names.EventsKeeper()},
		{b.Names.DeliveriesStream, b.Names.DeliveriesKeeper()},
	}
	streams := make([]jetstream.Stream, len(keepers))
	for {
		for i, k := range keepers {
			pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			err := b.keep(pctx, &streams[i], k.stream, k.subject)
			cancel()
			if err != nil && ctx.Err() == nil {
				b.log.Debug().Err(err).Str("subject", k.subject).Msg("keeper")
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// keep writes the keeper on subject of stream (its handle in *st, looked up
// once) and purges the ones before it.
func (b *Bus) keep(ctx context.Context, st *jetstream.Stream, stream, subject string) error {
	if _, err := b.JS.PublishMsg(ctx, nats.NewMsg(subject)); err != nil {
		return err
	}
	if *st == nil {
		s, err := b.JS.Stream(ctx, stream)
		if err != nil {
			return err
		}
		*st = s
	}
	return (*st).Purge(ctx, jetstream.WithPurgeSubject(subject), jetstream.WithPurgeKeep(1))
}
