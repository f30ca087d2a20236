package delivery

import (
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// JetStream hands a job out again when no ack or in-progress reached it
// within the consumer's ack wait. keepWaiting renews every job this hub
// holds, but on a machine short of CPU a renewal (or the final ack) can reach
// the server seconds late, and the server then gives the job to this hub a
// second time while the first copy is still queued, running, or just acked:
// delivered twice although nothing failed. A second copy of a job this hub
// holds is therefore dropped (the first copy's ack and renewals name the same
// stream sequence, which is all the server matches them by), and a second
// copy of a job this hub settled moments ago is acked again and dropped.
//
// A copy dropped because the job is held gets no answer of its own: if the
// engine somehow no longer held the job, the server would hand it out again
// after the ack wait, so a wrong drop delays a job and never loses it.

// settledFor is how long this hub remembers the jobs it acked: far longer
// than an ack can be late, short enough to stay small (two generations of
// at most this long's acks).
const settledFor = 15 * time.Second

// settled remembers the stream sequences of jobs acked lately.
type settled struct {
	mu       sync.Mutex
	cur, old map[uint64]struct{}
	since    time.Time // when cur began
}

// add records that the messages are being acked.
func (s *settled) add(msgs []jetstream.Msg) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if now := time.Now(); s.cur == nil || now.Sub(s.since) >= settledFor {
		s.old, s.cur, s.since = s.cur, make(map[uint64]struct{}, len(s.cur)), now
	}
	for _, m := range msgs {
		if seq, ok := streamSeq(m); ok {
			s.cur[seq] = struct{}{}
		}
	}
}

func (s *settled) has(seq uint64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, a := s.cur[seq]
	_, b := s.old[seq]
	return a || b
}

func streamSeq(m jetstream.Msg) (uint64, bool) {
	md, err := m.Metadata()
	if err != nil {
		return 0, false
	}
	return md.Sequence.Stream, true
}

// again reports whether m is a second copy of a job this hub holds or has
// just settled; such a copy is dropped (a settled job's copy acked) and
// counted in Stats.Redelivered.
func (e *Engine) again(m jetstream.Msg) bool {
	md, err := m.Metadata()
	if err != nil || md.NumDelivered <= 1 {
		return false
	}
	seq := md.Sequence.Stream
	e.mu.Lock()
	_, held := e.holding[seq]
	e.mu.Unlock()
	switch {
	case held:
	case e.acked.has(seq):
		_ = m.Ack()
	default:
		return false
	}
	e.Stats.Redelivered.Add(1)
	e.log.Debug().Uint64("seq", seq).Uint64("delivered", md.NumDelivered).Bool("held", held).
		Msg("JetStream handed out a job again that this hub holds or has settled: dropped the second copy")
	return true
}

// hold marks the messages as held by this hub (queued, gathering into a
// batch, or running). It holds e.mu.
func (e *Engine) hold(msgs []jetstream.Msg) {
	for _, m := range msgs {
		if seq, ok := streamSeq(m); ok {
			e.holding[seq] = struct{}{}
		}
	}
}

// release marks the messages as no longer held, before they are handed back
// to JetStream or once they are settled. It holds e.mu.
func (e *Engine) release(msgs []jetstream.Msg) {
	for _, m := range msgs {
		if seq, ok := streamSeq(m); ok {
			delete(e.holding, seq)
		}
	}
}
