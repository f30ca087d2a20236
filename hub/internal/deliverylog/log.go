// Package deliverylog is the reading side of the delivery log: the attempt
// records and the dead letters, listed newest first with filters and a
// cursor, per event, and counted over windows.
//
// Reader is the one interface the management API reads through. The hub's
// implementation, JetStream, keeps the records where they are written (the
// ATTEMPTS and DLQ streams, JetStream being the only state) and answers
// from an index of them that it builds in memory by reading the streams in
// order: each read finds its sequences in the index and fetches just those
// records from the stream. A store a platform runs itself (ClickHouse,
// PostgreSQL) would be another Reader; see docs/operations.md.
package deliverylog

import (
	"context"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/hookhub/hookhub/hub/internal/delivery"
)

// Query selects records of the log, newest first.
type Query struct {
	// Account and Webhook name one webhook's records. With EventID set,
	// Webhook may be empty (every webhook of the account), and so may
	// Account (every account Allowed lets through).
	Account, Webhook string
	EventID          string
	// Outcome (delivered, retrying, dead, skipped) and EventType narrow
	// attempt listings; Tests leaves test sends in (default: included).
	Outcome, EventType string
	// Since and Until bound the time the record was written: [Since, Until).
	Since, Until time.Time
	// Before is the cursor: the Next of the previous page ("": newest).
	Before string
	// Limit is the most records a page holds (0: no limit, for redrives).
	Limit int
	// Allowed says which accounts the caller may see (nil: every one).
	Allowed func(account string) bool
}

// Attempt is one attempt record with its place in the log.
type Attempt struct {
	Seq uint64 `json:"seq"`
	delivery.Attempt
}

// Stored is a message as its stream holds it: a dead letter or a rejected
// event, with the headers saying why.
type Stored struct {
	Seq     uint64
	Subject string
	Header  nats.Header
	Data    []byte
	Time    time.Time
}

// Counts are a webhook's attempts by outcome over a window. Test sends are
// not counted.
type Counts struct {
	Delivered    int `json:"delivered"`
	Retrying     int `json:"retrying"`
	DeadLettered int `json:"dead_lettered"`
	Skipped      int `json:"skipped"`
}

// Failed is every attempt that did not deliver: retried or dead-lettered.
func (c Counts) Failed() int { return c.Retrying + c.DeadLettered }

// Windows are a webhook's counts over the last hour, the last day and the
// whole log (which starts at Since).
type Windows struct {
	Hour, Day, All Counts
	Since          time.Time
	LastSuccess    time.Time // zero: none in the log
	LastFailure    time.Time
}

// Reader reads the delivery log. Every method sees every record written
// before it was called.
type Reader interface {
	// Attempts lists attempt records, newest first, and the cursor of the
	// next page ("" when this one is the last).
	Attempts(ctx context.Context, q Query) (page []Attempt, next string, err error)
	// DeadLetters lists dead letters of one webhook, newest first.
	DeadLetters(ctx context.Context, q Query) (page []Stored, next string, err error)
	// Rejected lists rejected events, newest first: of q.Account ("": of
	// every account, and those that name none).
	Rejected(ctx context.Context, q Query) (page []Stored, next string, err error)
	// Counts counts one webhook's attempts.
	Counts(ctx context.Context, account, webhook string) (Windows, error)
	// Buckets counts one webhook's attempts in n buckets of width step,
	// oldest first, the last ending at until.
	Buckets(ctx context.Context, account, webhook string, until time.Time, step time.Duration, n int) ([]Counts, error)
	// Forget tells the reader a webhook's dead letter was removed
	// (redriven), so that pages pass over it.
	Forget(account, webhook string, seq uint64)
}
