package bus

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/nats-io/nats.go/jetstream"
)

// ArchivedFrom reads the archived event at seq of the archive stream (the
// sequence a duplicate write's ack names) and returns the events-stream
// message it was archived from; ok is false for a copy that does not say
// (archived by an older hub).
//
// A router whose archive write is a duplicate uses it to tell its own
// message, archived before (by the sequencer, or by an earlier try of its
// own), from another copy of the event: one published again without a
// Nats-Msg-Id, whose first copy the events stream kept under another
// sequence.
//
// A copy no longer there (removed by hand) does not say either.
func (b *Bus) ArchivedFrom(ctx context.Context, seq uint64) (eventsSeq uint64, ok bool, err error) {
	b.archiveMu.Lock()
	st := b.archive
	b.archiveMu.Unlock()
	if st == nil {
		if st, err = b.JS.Stream(ctx, b.Names.ArchiveStream); err != nil {
			return 0, false, fmt.Errorf("bus: stream %s: %w", b.Names.ArchiveStream, err)
		}
		b.archiveMu.Lock()
		b.archive = st
		b.archiveMu.Unlock()
	}
	m, err := st.GetMsg(ctx, seq)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("bus: archived event %d: %w", seq, err)
	}
	v := m.Header.Get(HeaderEventsSeq)
	if v == "" {
		return 0, false, nil
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return 0, false, nil
	}
	return n, true, nil
}
