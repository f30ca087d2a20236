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
// every KeepEvery as a rollup (which removes the one before): the block being
// written always holds it, so it never empties. The events stream keeps a message only for a consumer that
// wants it, so the keeper consumer wants the events keeper, and never reads.
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
	subjects := []string{b.Names.EventsKeeper(), b.Names.DeliveriesKeeper()}
	for {
		for _, s := range subjects {
			m := nats.NewMsg(s)
			m.Header.Set(jetstream.MsgRollup, jetstream.MsgRollupSubject)
			pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			_, err := b.JS.PublishMsg(pctx, m)
			cancel()
			if err != nil && ctx.Err() == nil {
				b.log.Debug().Err(err).Str("subject", s).Msg("keeper")
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
