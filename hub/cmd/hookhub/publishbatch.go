package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/tidwall/gjson"

	"github.com/hookhub/hookhub/sdk/event"
	"github.com/hookhub/hookhub/sdk/publish"
)

// isBatch reports whether a --file holds a batch: a JSON array.
func isBatch(raw []byte) bool {
	b := bytes.TrimLeft(raw, " \t\r\n")
	return len(b) > 0 && b[0] == '['
}

// readBatch checks every event of a batch file before anything is sent,
// and says which one is wrong and why: the envelope of each, and one
// account for them all (a batch subject is one account's).
func readBatch(raw []byte) ([]*event.Event, error) {
	if !gjson.ValidBytes(raw) {
		return nil, errors.New("--file: a batch must be a JSON array of CloudEvents: not valid JSON")
	}
	var evs []*event.Event
	var errs []error
	gjson.ParseBytes(raw).ForEach(func(_, v gjson.Result) bool {
		i := len(evs)
		e, err := event.Parse([]byte(v.Raw))
		if err == nil && len(evs) > 0 && e.Account != evs[0].Account {
			err = fmt.Errorf("account %q, but the batch is account %q's (its first event's): a batch holds one account's events", e.Account, evs[0].Account)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("batch[%d]: %w", i, err))
		}
		evs = append(evs, e)
		return len(errs) < 10
	})
	if len(errs) > 0 {
		return nil, fmt.Errorf("--file: nothing sent: %w", errors.Join(errs...))
	}
	if len(evs) == 0 {
		return nil, errors.New("--file: the batch holds no events")
	}
	return evs, nil
}

// publishBatchNATS sends evs in batches of at most event.MaxBatchEvents
// events and event.MaxBatchBytes bytes, saying where each was stored.
func publishBatchNATS(url, prefix string, evs []*event.Event, stdout io.Writer, opts ...nats.Option) error {
	ctx, refuse := context.WithCancelCause(context.Background())
	defer refuse(nil)
	opts = append(opts, nats.Name("hookhub publish"), nats.Timeout(5*time.Second),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			if errors.Is(err, nats.ErrPermissionViolation) {
				refuse(fmt.Errorf("NATS refused the batch (%w): a NATS user may publish only its own account's events", err))
			}
		}))
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		return fmt.Errorf("connect to %s: %w", redactURLs(url), err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	b := publish.New(js, prefix).NewBatcher(publish.BatchOptions{MaxEvents: event.MaxBatchEvents, Linger: time.Hour,
		OnBatch: func(r publish.BatchResult) {
			if r.Err != nil {
				return
			}
			fmt.Fprintf(stdout, "published a batch of %d events of account %s to %s, stream %s seq %d\n",
				len(r.IDs), r.Account, event.BatchSubject(prefix, r.Account), r.Ack.Stream, r.Ack.Sequence)
		}})
	tctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for _, e := range evs {
		if err = b.Add(tctx, e); err != nil {
			break
		}
	}
	if cerr := b.Close(tctx); err == nil {
		err = cerr
	}
	if cause := context.Cause(ctx); err != nil && cause != nil && !errors.Is(cause, context.Canceled) {
		return cause
	}
	return err
}
