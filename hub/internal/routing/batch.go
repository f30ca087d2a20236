package routing

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"golang.org/x/sync/semaphore"

	"github.com/hookhub/hookhub/hub/internal/accept"
	"github.com/hookhub/hookhub/hub/internal/bus"
	"github.com/hookhub/hookhub/hub/internal/webhooks"
	"github.com/hookhub/hookhub/sdk/event"
)

// HeaderBatchIndex is set on a rejected event that came in a batch: its
// index in the batch, from 0.
const HeaderBatchIndex = "Hookhub-Batch-Index"

// batchRejectReason is the reason stored with event i of a batch.
func batchRejectReason(i int, reason string) string {
	return "batch[" + strconv.Itoa(i) + "]: " + reason
}

// routed is an accepted event of a batch with the webhooks it goes to.
type routed struct {
	ev      *event.Event
	raw     []byte
	index   int
	matches []*webhooks.Webhook
	dups    int
}

// handleBatch routes the events of a batch message, each on its own, and
// acks the message once every event is settled: its jobs written (archive
// first, as for one event) or its rejection stored. Any write failing naks
// the whole message; when it comes again, what was written is written again
// under the same message ids (the archive's, JobID, the rejection's), which
// JetStream drops as duplicates: a hub dying mid-batch loses nothing and
// duplicates no delivery (TestBatchRedelivered).
func (r *Router) handleBatch(ctx context.Context, m jetstream.Msg, account string) {
	start := time.Now()
	items, reason := accept.SplitBatch(m.Data())
	if reason != "" {
		r.metrics.Event("invalid", "rejected")
		r.reject(ctx, m, reason)
		return
	}
	n := r.bus.Names
	snap := r.webhooks.Snapshot()
	var accepted []*routed
	var rejects []*nats.Msg
	unmatched := 0
	seen := make(map[string]bool, len(items))
	for i, raw := range items {
		ev, reason := accept.CheckBatched(r.types, account, raw)
		if reason != "" {
			r.metrics.Event("invalid", "rejected")
			rejects = append(rejects, r.batchReject(m, i, raw, reason))
			continue
		}
		// An id twice in one batch goes once: a batch job holds each event
		// it carries, so its job id cannot drop a second copy as a single
		// job's does.
		if seen[ev.ID] {
			r.metrics.Event(ev.Type, "rejected")
			rejects = append(rejects, r.batchReject(m, i, raw, fmt.Sprintf(
				"duplicate: event %q of account %q comes earlier in this batch; not delivered again", ev.ID, ev.Account)))
			continue
		}
		seen[ev.ID] = true
		matches := snap.Match(ev, nil)
		if slices.ContainsFunc(matches, (*webhooks.Webhook).Ordered) {
			// The sequencer splits the batch the same way and delivers
			// this event to its ordered webhooks.
			if _, err := r.bus.Sequencer(ctx, account); err != nil {
				r.log.Warn().Err(err).Str("event", ev.ID).Msg("ordered delivery unavailable; batch will be routed again")
				_ = m.NakWithDelay(time.Second)
				return
			}
			matches = slices.DeleteFunc(matches, (*webhooks.Webhook).Ordered)
		}
		if len(matches) == 0 {
			unmatched++
			r.metrics.Event(ev.Type, "unmatched")
			continue
		}
		accepted = append(accepted, &routed{ev: ev, raw: raw, index: i, matches: matches})
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	// Each event is archived before any of its jobs exists, as one event is.
	var seq uint64       // the batch's place in the events stream
	var stored time.Time // and its time there
	if md, err := m.Metadata(); err == nil {
		seq, stored = md.Sequence.Stream, md.Timestamp
	}
	msgID := m.Headers().Get(jetstream.MsgIDHeader)
	archives := make([]*nats.Msg, len(accepted))
	for i, a := range accepted {
		archives[i] = n.ArchiveMsg(a.ev.Account, a.ev.ID, a.raw, seq, msgID)
	}
	archived, err := r.writeAll(ctx, archives)
	if err != nil {
		r.retryBatch(m, err)
		return
	}
	kept, resent, early := accepted[:0], false, len(rejects)
	for i, a := range accepted {
		if archived[i] != 0 {
			copied, err := r.bus.CopyOf(ctx, archived[i], seq, msgID)
			if err != nil {
				r.retryBatch(m, err)
				return
			}
			if copied == bus.Resent { // the publisher sent this batch again
				resent = true
				r.metrics.Event(a.ev.Type, "duplicate")
				continue
			}
			if copied == bus.Republished {
				r.metrics.Event(a.ev.Type, "rejected")
				rejects = append(rejects, r.batchReject(m, a.index, a.raw, republishedReason(a.ev)))
				continue
			}
		}
		kept = append(kept, a)
	}
	accepted = kept
	if resent {
		// The same batch (the same Nats-Msg-Id) was taken before: its bad
		// events were rejected then, by the message that is still routing it
		// or has routed it.
		rejects = rejects[early:]
	}
	jobs, owners, err := batchJobs(n, account, accepted, stored, r.bus.BatchMaxBytes())
	if err != nil {
		r.retryBatch(m, err)
		return
	}
	dup, err := r.writeAll(ctx, jobs)
	if err != nil {
		r.retryBatch(m, err)
		return
	}
	for i, d := range dup {
		if d != 0 {
			for _, a := range owners[i] {
				a.dups++
			}
		}
	}
	first := firstDelivery(m)
	routedN, jobsN := 0, 0
	for _, a := range accepted {
		if a.dups == len(a.matches) && first {
			r.metrics.Event(a.ev.Type, "rejected")
			rejects = append(rejects, r.batchReject(m, a.index, a.raw, fmt.Sprintf(
				"duplicate: event %q of account %q was already routed to its %d webhooks within the de-duplication window (%s); not delivered again to them",
				a.ev.ID, a.ev.Account, len(a.matches), bus.DedupeWindow)))
			continue
		}
		routedN++
		jobsN += len(a.matches) - a.dups
		r.metrics.Event(a.ev.Type, "routed")
	}
	if _, err := r.writeAll(ctx, rejects); err != nil {
		r.retryBatch(m, err)
		return
	}
	for _, rj := range rejects {
		r.log.Warn().Str("event", printable(accept.Clip(RejectedEventID("", rj.Data)))).Str("account", account).
			Str("subject", printable(accept.Clip(m.Subject()))).Str("reason", rj.Header.Get(bus.HeaderReason)).Msg("event rejected")
	}
	r.Stats.Events.Add(int64(routedN + unmatched))
	r.Stats.Jobs.Add(int64(jobsN))
	r.Stats.Rejected.Add(int64(len(rejects)))
	d := time.Since(start)
	for range routedN {
		r.metrics.Routed(d)
	}
	_ = m.Ack()
}

// batchJobs are the jobs of a batch's accepted events, each with the
// events it carries. A batching webhook's events go in batch jobs of its
// max_events each (bus.BatchJobMsg: one message, one request, retried as
// one), in the batch's order; the rest, fewer than a batch, go in single
// jobs, which the delivery engine gathers with others into the webhook's
// next batch, as it does events that came one by one. Every other webhook
// gets a job per event. stored, the batch's time in the events stream, is
// the body's timestamp of an event without one, as a job's own time is.
//
// A batch job whose data would pass maxBytes (bus.BatchMaxBytes) goes as
// single jobs instead. A batch routed again
// makes the same jobs, under the same message ids, unless a batching
// webhook's max_events or filters changed in between: then its batches
// differ, and events of the first try's batch jobs may go again (the
// README says so).
func batchJobs(n bus.Names, account string, accepted []*routed, stored time.Time, maxBytes int) (jobs []*nats.Msg, owners [][]*routed, err error) {
	var batching []*webhooks.Webhook
	var evs map[string][]*routed
	for _, a := range accepted {
		for _, w := range a.matches {
			if w.Batch == nil {
				jobs = append(jobs, jobMsg(n, a.ev, w.ID, a.raw))
				owners = append(owners, []*routed{a})
				continue
			}
			if evs == nil {
				evs = map[string][]*routed{}
			}
			if _, ok := evs[w.ID]; !ok {
				batching = append(batching, w)
			}
			evs[w.ID] = append(evs[w.ID], a)
		}
	}
	for _, w := range batching {
		of, size := evs[w.ID], max(1, w.Batch.MaxEvents)
		full := len(of) - len(of)%size
		for lo := 0; lo < full; lo += size {
			chunk := of[lo : lo+size]
			items := make([]bus.BatchItem, len(chunk))
			for i, a := range chunk {
				items[i] = bus.BatchItem{Job: accept.JobID(a.ev.ID, w.ID), EventID: a.ev.ID, Raw: a.raw, Stored: stored}
			}
			job, err := n.BatchJobMsg(account, w.ID, items)
			if err != nil {
				return nil, nil, err
			}
			if len(job.Data) > maxBytes {
				for _, a := range chunk {
					jobs = append(jobs, jobMsg(n, a.ev, w.ID, a.raw))
					owners = append(owners, []*routed{a})
				}
				continue
			}
			jobs = append(jobs, job)
			owners = append(owners, chunk)
		}
		for _, a := range of[full:] {
			jobs = append(jobs, jobMsg(n, a.ev, w.ID, a.raw))
			owners = append(owners, []*routed{a})
		}
	}
	return jobs, owners, nil
}

func (r *Router) retryBatch(m jetstream.Msg, err error) {
	r.log.Warn().Err(err).Str("subject", printable(accept.Clip(m.Subject()))).Msg("writing a batch's jobs failed; batch will be routed again")
	_ = m.NakWithDelay(time.Second)
}

// batchReject is the rejected-events record of event i of batch m. Its
// message id names the batch's place in the events stream and the index,
// so a batch routed again stores its rejections once.
func (r *Router) batchReject(m jetstream.Msg, i int, raw []byte, reason string) *nats.Msg {
	account := r.bus.Names.EventAccount(m.Subject(), event.ValidAccount)
	out := r.bus.Names.RejectedMsg(m.Subject(), account, batchRejectReason(i, reason), raw)
	out.Header.Set(HeaderBatchIndex, strconv.Itoa(i))
	if md, err := m.Metadata(); err == nil {
		out.Header.Set(jetstream.MsgIDHeader, fmt.Sprintf("rejected:%s:%d:%d", md.Stream, md.Sequence.Stream, i))
	}
	return out
}

// writeWindow bounds one batch's asynchronous publishes awaiting their ack,
// and batchWrites all batches' together: below nats.go's limit per
// connection (4,000, shared with the hub's other writers), past which a
// publish fails at once ("stalled") instead of waiting.
const (
	writeWindow = 256
	batchWrites = 2048
)

// batchSlots is shared by the batches routed at once by every Router of the
// process (they share the bus's connection).
var batchSlots = semaphore.NewWeighted(batchWrites)

// writeAll stores msgs, writeWindow at a time, and says which were
// duplicates (a message id JetStream had stored within its window): for
// each, the sequence of the message stored before, or 0 for a new one.
func (r *Router) writeAll(ctx context.Context, msgs []*nats.Msg) ([]uint64, error) {
	dup := make([]uint64, len(msgs))
	for lo := 0; lo < len(msgs); lo += writeWindow {
		hi := min(lo+writeWindow, len(msgs))
		if err := r.writeWindow(ctx, msgs[lo:hi], dup[lo:hi]); err != nil {
			return nil, err
		}
	}
	return dup, nil
}

// writeWindow stores msgs at once, holding a slot of batchSlots for each
// until its ack.
func (r *Router) writeWindow(ctx context.Context, msgs []*nats.Msg, dup []uint64) error {
	if err := batchSlots.Acquire(ctx, int64(len(msgs))); err != nil {
		return err
	}
	defer batchSlots.Release(int64(len(msgs)))
	futures := make([]jetstream.PubAckFuture, 0, len(msgs))
	for _, msg := range msgs {
		f, err := r.bus.JS.PublishMsgAsync(msg)
		if err != nil {
			return err
		}
		futures = append(futures, f)
	}
	for i, f := range futures {
		select {
		case ack := <-f.Ok():
			if ack.Duplicate {
				dup[i] = ack.Sequence
			}
		case err := <-f.Err():
			return err
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return errors.New("timed out waiting for JetStream")
			}
			return ctx.Err()
		}
	}
	return nil
}
