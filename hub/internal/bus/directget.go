package bus

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// DirectRange reads the messages of stream on subject from sequence from
// up to upTo (0: to the end), oldest first, in batched direct gets of up to
// batch messages each (nats-server 2.11's form; the stream must allow direct
// gets): as many as the range needs, since a batch also ends at
// directMaxBytes. each sees them in order; when it answers false, the rest
// is not read. A direct get may come from a replica that has not caught up:
// for reads that must see a write just made, ask the leader (leaderGet).
func (b *Bus) DirectRange(ctx context.Context, stream, subject string, from, upTo uint64, batch int,
	each func(*jetstream.RawStreamMsg) bool) error {
	more := true
	for seq := from; more && (upTo == 0 || seq <= upTo); {
		read, last, err := b.directBatch(ctx, stream, subject, seq, upTo, batch, func(m *jetstream.RawStreamMsg) bool {
			more = each(m)
			return more
		})
		if err != nil {
			return err
		}
		if read == 0 || (upTo > 0 && last >= upTo) {
			break
		}
		seq = last + 1
	}
	return nil
}

// directMaxBytes bounds one batch of a direct get (the server's own bound,
// max_pending, is 64 MiB): the hub's connection is shared, and a page of
// large records is read in several batches instead.
const directMaxBytes = 8 << 20

// directBatch reads up to n messages of stream on subject, from sequence
// seq up to upTo (0: to the end), in one batched direct get, and returns how
// many it read and the sequence of the last one. each is as DirectRange's.
func (b *Bus) directBatch(ctx context.Context, stream, subject string, seq, upTo uint64, n int,
	each func(*jetstream.RawStreamMsg) bool) (read int, last uint64, err error) {
	inbox := b.NC.NewInbox()
	ch := make(chan *nats.Msg, n+2) // room for the whole batch: a full channel drops
	sub, err := b.NC.ChanSubscribe(inbox, ch)
	if err != nil {
		return 0, 0, err
	}
	defer func() { _ = sub.Unsubscribe() }()
	q := map[string]any{"seq": seq, "batch": n, "next_by_subj": subject, "max_bytes": directMaxBytes}
	if upTo > 0 {
		q["up_to_seq"] = upTo
	}
	req, _ := json.Marshal(q)
	if err := b.NC.PublishRequest("$JS.API.DIRECT.GET."+stream, inbox, req); err != nil {
		return 0, 0, err
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for read < n {
		var m *nats.Msg
		select {
		case m = <-ch:
		case <-ctx.Done():
			return read, last, fmt.Errorf("reading %s of %s: %w", subject, stream, ctx.Err())
		}
		if len(m.Data) == 0 && m.Header.Get("Status") != "" {
			switch m.Header.Get("Status") {
			case "204", "404": // end of the batch; nothing (more) there
				return read, last, nil
			}
			return read, last, fmt.Errorf("reading %s of %s: %s %s", subject, stream, m.Header.Get("Status"), m.Header.Get("Description"))
		}
		s, err := strconv.ParseUint(m.Header.Get(jetstream.SequenceHeader), 10, 64)
		if err != nil {
			return read, last, fmt.Errorf("reading %s of %s: a message without its sequence", subject, stream)
		}
		if upTo > 0 && s > upTo { // the server reads next_by_subj past up_to_seq
			return read, last, nil
		}
		read, last = read+1, s
		ts, _ := time.Parse(time.RFC3339Nano, m.Header.Get(jetstream.TimeStampHeaer))
		if !each(&jetstream.RawStreamMsg{Subject: m.Header.Get(jetstream.SubjectHeader), Sequence: s, Header: m.Header, Data: m.Data, Time: ts}) {
			// The rest of the batch goes to the closed subscription.
			return read, last, nil
		}
	}
	return read, last, nil
}

// leaderGet reads the headers of message seq of stream from the stream's
// leader ($JS.API.STREAM.MSG.GET), nil when there is none.
func (b *Bus) leaderGet(ctx context.Context, stream string, seq uint64) (nats.Header, error) {
	req, _ := json.Marshal(map[string]uint64{"seq": seq})
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	resp, err := b.NC.RequestWithContext(ctx, "$JS.API.STREAM.MSG.GET."+stream, req)
	if err != nil {
		return nil, err
	}
	var out struct {
		Error *struct {
			Code        int    `json:"code"`
			Description string `json:"description"`
		} `json:"error"`
		Message *struct {
			Header []byte `json:"hdrs"`
		} `json:"message"`
	}
	if err := json.Unmarshal(resp.Data, &out); err != nil {
		return nil, err
	}
	switch {
	case out.Error != nil && out.Error.Code == 404:
		return nil, nil
	case out.Error != nil:
		return nil, fmt.Errorf("%d %s", out.Error.Code, out.Error.Description)
	case out.Message == nil || len(out.Message.Header) == 0:
		return nil, nil
	}
	return nats.DecodeHeadersMsg(out.Message.Header)
}
