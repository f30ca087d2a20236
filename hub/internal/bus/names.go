package bus

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
)

// Names are the subjects, streams, consumers and buckets of one hub prefix.
type Names struct {
	Prefix string

	EventsStream, DeliveriesStream, DLQStream, AttemptsStream, RejectedStream, ArchiveStream string
	RouterConsumer, DelivererConsumer                                                        string
	// SequencerConsumer reads the events stream in order for ordered webhooks.
	SequencerConsumer string
}

// NewNames derives every name from the subject prefix.
func NewNames(prefix string) Names {
	if prefix == "" {
		prefix = "hookhub"
	}
	up := strings.ToUpper(prefix)
	return Names{
		Prefix:            prefix,
		EventsStream:      up + "_EVENTS",
		DeliveriesStream:  up + "_DELIVERIES",
		DLQStream:         up + "_DLQ",
		AttemptsStream:    up + "_ATTEMPTS",
		RejectedStream:    up + "_REJECTED",
		ArchiveStream:     up + "_ARCHIVE",
		RouterConsumer:    "router",
		DelivererConsumer: "deliverer",
		SequencerConsumer: "sequencer",
	}
}

// EventsAll matches every event: <prefix>.events.>.
func (n Names) EventsAll() string { return n.Prefix + ".events.>" }

// Delivery is the subject of a delivery job: <prefix>.deliveries.<account>.<webhook>.
func (n Names) Delivery(account, webhook string) string {
	return n.Prefix + ".deliveries." + account + "." + webhook
}

// DeliveriesAll matches every delivery job.
func (n Names) DeliveriesAll() string { return n.Prefix + ".deliveries.>" }

// Retry is the subject a job waits on for its next attempt:
// <prefix>.retries.<account>.<webhook>.<seq>; seq, the stream sequence of the
// failed attempt's job, keeps it unique.
func (n Names) Retry(account, webhook string, seq uint64) string {
	return n.Prefix + ".retries." + account + "." + webhook + "." + strconv.FormatUint(seq, 10)
}

// RetriesOf matches the retries waiting for one webhook.
func (n Names) RetriesOf(account, webhook string) string {
	return n.Prefix + ".retries." + account + "." + webhook + ".*"
}

// RetriesAll matches every job waiting for a retry.
func (n Names) RetriesAll() string { return n.Prefix + ".retries.>" }

// DeadLetter is the subject of a dead letter: <prefix>.dlq.<account>.<webhook>.
func (n Names) DeadLetter(account, webhook string) string {
	return n.Prefix + ".dlq." + account + "." + webhook
}

// DeadLettersAll matches every dead letter.
func (n Names) DeadLettersAll() string { return n.Prefix + ".dlq.>" }

// Attempt is the subject of an attempt record: <prefix>.attempts.<account>.<webhook>.
func (n Names) Attempt(account, webhook string) string {
	return n.Prefix + ".attempts." + account + "." + webhook
}

// AttemptsAll matches every attempt record.
func (n Names) AttemptsAll() string { return n.Prefix + ".attempts.>" }

// Rejected is the subject of rejected events.
func (n Names) Rejected() string { return n.Prefix + ".rejected" }

// Archive is the subject an event is kept on for resends, by a hash of its
// id (any id fits a subject token that way).
func (n Names) Archive(eventID string) string {
	sum := sha256.Sum256([]byte(eventID))
	return n.Prefix + ".archive." + hex.EncodeToString(sum[:16])
}

// ArchiveAll matches every archived event.
func (n Names) ArchiveAll() string { return n.Prefix + ".archive.>" }
