package bus

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/nats-io/nats.go/jetstream"
)

// A Copy is what an event's archive write that JetStream found a duplicate
// met: the archived copy of the same account's event id, within the
// archive's de-duplication window.
type Copy int

const (
	// Own: the copy came from the same message of the events stream (an
	// earlier try of this message, or the other of the router and the
	// ordered-delivery sequencer), or the archived copy does not say where
	// it came from (an older hub's), or is no longer there. Routed as
	// before: its jobs de-duplicate against jobs.
	Own Copy = iota
	// Resent: another message with the same Nats-Msg-Id, the publisher's
	// resend of what it had sent (the events stream keeps every message:
	// see Setup). Not delivered again, and nothing to say.
	Resent
	// Republished: another message under another Nats-Msg-Id or none: the
	// event published again (alone, or in another batch). Not delivered
	// again, and said (the router rejects it with the reason).
	Republished
)

// CopyOf tells what the archive write of the event in message eventsSeq
// of the events stream, published with Nats-Msg-Id msgID, met when
// JetStream found it a duplicate of the archived copy at archiveSeq. The
// router and the ordered-delivery sequencer ask it.
//
// It asks the stream's leader (the JetStream API's message get), not a
// direct get, which a replica that has not caught up may answer "not found"
// just after the write whose duplicate this is.
func (b *Bus) CopyOf(ctx context.Context, archiveSeq, eventsSeq uint64, msgID string) (Copy, error) {
	if eventsSeq == 0 || archiveSeq == 0 { // nothing to compare (a server that does not say)
		return Own, nil
	}
	h, err := b.leaderGet(ctx, b.Names.ArchiveStream, archiveSeq)
	if err != nil {
		return Own, fmt.Errorf("bus: archived event %d: %w", archiveSeq, err)
	}
	from, err := strconv.ParseUint(h.Get(HeaderEventsSeq), 10, 64)
	switch {
	case err != nil || from == eventsSeq:
		return Own, nil
	case msgID != "" && h.Get(HeaderMsgID) == msgID:
		return Resent, nil
	}
	return Republished, nil
}

// archiveBatch is how many of a subject's messages Archived reads at a time.
var archiveBatch = 1024 // a variable for the tests

// Archived finds the newest copy of event id of account in the archive
// stream, or nil when there is none. The event's subject (Names.Archive) is
// shared with the events whose hash begins alike: past some 65,000 events
// kept, most subjects hold several. Its last message is the usual answer;
// otherwise its messages are read in order, in batched direct gets. (A
// lookup costs the server a block read per message of the subject: some
// 8 ms with 600,000 events kept, on a 2-core machine.) isCopy tells a
// message whose Hookhub-Event-Id is id for a copy of account's event (the
// caller reads the event).
func (b *Bus) Archived(ctx context.Context, account, id string, isCopy func(*jetstream.RawStreamMsg) bool) (*jetstream.RawStreamMsg, error) {
	st, err := b.archiveStream(ctx)
	if err != nil {
		return nil, err
	}
	subject := b.Names.Archive(account, id)
	m, err := st.GetLastMsgForSubject(ctx, subject)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("bus: archive subject %s: %w", subject, err)
	}
	copyOf := func(m *jetstream.RawStreamMsg) bool { return m.Header.Get(HeaderEventID) == id && isCopy(m) }
	if copyOf(m) {
		return m, nil
	}
	var found *jetstream.RawStreamMsg
	if m.Sequence > 1 {
		err = b.DirectRange(ctx, b.Names.ArchiveStream, subject, 1, m.Sequence-1, archiveBatch, func(m *jetstream.RawStreamMsg) bool {
			if copyOf(m) {
				found = m
			}
			return true
		})
		if err != nil {
			return nil, err
		}
	}
	return found, nil
}

// archiveStream is the archive stream's handle, looked up once.
func (b *Bus) archiveStream(ctx context.Context) (jetstream.Stream, error) {
	b.archiveMu.Lock()
	defer b.archiveMu.Unlock()
	if b.archive == nil {
		st, err := b.JS.Stream(ctx, b.Names.ArchiveStream)
		if err != nil {
			return nil, fmt.Errorf("bus: stream %s: %w", b.Names.ArchiveStream, err)
		}
		b.archive = st
	}
	return b.archive, nil
}
