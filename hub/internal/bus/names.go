package bus

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hookhub/hookhub/sdk/event"
)

// Names are the subjects, streams, consumers and buckets of one hub prefix.
type Names struct {
	Prefix string

	EventsStream, DeliveriesStream, DLQStream, AttemptsStream, RejectedStream, ArchiveStream string
	// EventsSource is an empty stream the events stream sources, so that
	// the events stream has no de-duplication window (Setup).
	EventsSource                      string
	RouterConsumer, DelivererConsumer string
	// SequencerConsumer read the whole events stream in order for ordered
	// webhooks, before each account had its own (Sequencer): a hub deletes
	// it once those exist (DropSharedSequencer).
	SequencerConsumer string
	// WakerConsumer takes the wake-ups of due retries.
	WakerConsumer string
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
		EventsSource:      up + "_EVENTS_SOURCE",
		RouterConsumer:    "router",
		DelivererConsumer: "deliverer",
		SequencerConsumer: "sequencer",
		WakerConsumer:     "waker",
	}
}

// EventsAll matches every event: <prefix>.events.>.
func (n Names) EventsAll() string { return n.Prefix + ".events.>" }

// OperationalAccount is the token that stands where an account does on
// the subject of the hub's own operational events. It is not an account id
// (those are letters, digits, '_' and '-'), so a publish permission on
// <prefix>.events.<account>.> never covers it.
const OperationalAccount = "$hub"

// Operational is the subject the hub publishes its own operational events
// (types under hookhub.) on: <prefix>.events.$hub.<account>.<type>. The
// router accepts those types on this subject only.
func (n Names) Operational(account, eventType string) string {
	return n.Prefix + ".events." + OperationalAccount + "." + account + "." + eventType
}

// Sequencer is the consumer that reads account's events in order for its
// ordered webhooks: sequencer_<account>_<8 hex digits of its SHA-256>. The
// digits keep two accounts whose ids differ only in case apart on a disk
// that does not (the embedded server's file store on macOS or Windows).
func (n Names) Sequencer(account string) string {
	sum := sha256.Sum256([]byte(account))
	return SequencerPrefix + account + "_" + hex.EncodeToString(sum[:4])
}

// SequencerAccount is the account whose sequencer consumer is named name.
func (n Names) SequencerAccount(name string) (string, bool) {
	rest, ok := strings.CutPrefix(name, SequencerPrefix)
	i := strings.LastIndexByte(rest, '_')
	if !ok || i < 0 || !event.ValidAccount(rest[:i]) || n.Sequencer(rest[:i]) != name {
		return "", false
	}
	return rest[:i], true
}

// SequencerPrefix begins the name of every account's sequencer consumer.
const SequencerPrefix = "sequencer_"

// EventsOf matches account's events: those it publishes and the hub's
// operational events about it.
func (n Names) EventsOf(account string) []string {
	return []string{n.Prefix + ".events." + account + ".>", n.Prefix + ".events." + OperationalAccount + "." + account + ".>"}
}

// Delivery is the subject of a delivery job: <prefix>.deliveries.<account>.<webhook>.
func (n Names) Delivery(account, webhook string) string {
	return n.Prefix + ".deliveries." + account + "." + webhook
}

// DeliveriesAll matches every delivery job.
func (n Names) DeliveriesAll() string { return n.Prefix + ".deliveries.>" }

// Retry is the subject a job waits on for its next attempt:
// <prefix>.retries.<due>.<account>.<webhook>, due being the Unix second the
// attempt is due. Jobs due in the same second share the subject, so the
// server keeps one subject entry per (second, webhook), not one per job.
func (n Names) Retry(due int64, account, webhook string) string {
	return n.Prefix + ".retries." + strconv.FormatInt(due, 10) + "." + account + "." + webhook
}

// RetriesDue matches the retries due in one second.
func (n Names) RetriesDue(due int64) string {
	return n.Prefix + ".retries." + strconv.FormatInt(due, 10) + ".>"
}

// RetriesOf matches the retries waiting for one webhook.
func (n Names) RetriesOf(account, webhook string) string {
	return n.Prefix + ".retries.*." + account + "." + webhook
}

// DueOf reads the due second of a Retry subject (false for another subject).
func (n Names) DueOf(subject string) (int64, bool) {
	rest, ok := strings.CutPrefix(subject, n.Prefix+".retries.")
	if !ok {
		return 0, false
	}
	tok, _, _ := strings.Cut(rest, ".")
	due, err := strconv.ParseInt(tok, 10, 64)
	// A Unix second of this era, not the numeric account of a retry stored
	// as <prefix>.retries.<account>.<webhook>.<seq> by an older hub (those
	// carry a schedule of their own).
	return due, err == nil && due > 1_500_000_000
}

// Wake is the subject of the scheduled message that wakes the retries due in
// one second: one schedule per second, however many jobs wait in it.
func (n Names) Wake(due int64) string { return n.Prefix + ".wake." + strconv.FormatInt(due, 10) }

// WakeAll matches every wake schedule.
func (n Names) WakeAll() string { return n.Prefix + ".wake.>" }

// Wakeups is where a wake schedule fires: a message naming the second due.
func (n Names) Wakeups() string { return n.Prefix + ".wakeups" }

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

// RejectedMsg is the record, kept with the rejected events, of data that
// came on subject for account ("" when the subject names none) and was
// refused for reason.
func (n Names) RejectedMsg(subject, account, reason string, data []byte) *nats.Msg {
	m := nats.NewMsg(n.Rejected())
	m.Header.Set(HeaderReason, reason)
	m.Header.Set(HeaderSubject, subject)
	if account != "" {
		m.Header.Set(HeaderAccount, account)
	}
	m.Data = data
	return m
}

// EventAccount reads the account an event was published for from its
// subject: <prefix>.events.<account>.<type>, or the hub's own
// <prefix>.events.$hub.<account>.<type>. It returns "" when the subject
// names no account that valid reports as one.
func (n Names) EventAccount(subject string, valid func(string) bool) string {
	rest, ok := strings.CutPrefix(subject, n.Prefix+".events.")
	if !ok {
		return ""
	}
	tok, rest, _ := strings.Cut(rest, ".")
	if tok == OperationalAccount {
		tok, rest, _ = strings.Cut(rest, ".")
	}
	if rest == "" || !valid(tok) {
		return ""
	}
	return tok
}

// Archive is the subject the event id of account is kept on for resends:
// one of 65,536, by the first two bytes of a hash of the account and the id.
// The server keeps a few hundred bytes of memory per subject, so a subject
// per event would cost that much per event kept; a resend finds its event
// among the few of its subject by the Hookhub-Event-Id header and the
// event's account.
func (n Names) Archive(account, eventID string) string {
	sum := sha256.Sum256([]byte(account + ":" + eventID))
	return n.Prefix + ".archive." + hex.EncodeToString(sum[:2])
}

// ArchiveAll matches every archived event.
func (n Names) ArchiveAll() string { return n.Prefix + ".archive.>" }

// ArchiveMsg is the copy of an event kept for resends, de-duplicated by the
// event's account and id (ids are unique within an account only): the
// router and the ordered-delivery sequencer may both write it. eventsSeq is
// the event's message in the events stream (0: unknown) and msgID that
// message's Nats-Msg-Id, so that a writer told "duplicate" can tell its own
// message from a publisher's resend and from the event published again
// (CopyOf).
func (n Names) ArchiveMsg(account, eventID string, raw []byte, eventsSeq uint64, msgID string) *nats.Msg {
	m := nats.NewMsg(n.Archive(account, eventID))
	m.Header.Set(jetstream.MsgIDHeader, "archive:"+account+":"+eventID)
	m.Header.Set(HeaderEventID, eventID)
	if eventsSeq > 0 {
		m.Header.Set(HeaderEventsSeq, strconv.FormatUint(eventsSeq, 10))
	}
	if msgID != "" {
		m.Header.Set(HeaderMsgID, msgID)
	}
	m.Data = raw
	return m
}
