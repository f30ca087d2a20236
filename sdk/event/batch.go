package event

// Batched ingest: many events in one NATS message, in the CloudEvents
// batched JSON format (a JSON array of structured-mode events), published on
// BatchSubject. The hub splits a batch and takes each event on its own, as if
// it had come alone: a bad event is rejected with its index in the batch and
// its reason, and the others go on.

const (
	// BatchContentType is the media type of a batch, set by publishers in
	// the NATS header Content-Type (informative: the subject decides).
	BatchContentType = "application/cloudevents-batch+json"
	// BatchToken is the last token of a batch subject. It is not an event
	// type (types are two or more dotted tokens of [a-z0-9_]), so no
	// single event's subject is a batch subject.
	BatchToken = "$batch"
	// MaxBatchEvents bounds the events in one batch.
	MaxBatchEvents = 1000
	// MaxBatchBytes bounds a batch message's size (NATS's default
	// max_payload). Each event in it is also bounded by MaxSize.
	MaxBatchBytes = 1 << 20
)

// BatchSubject is the NATS subject an account's batches are published on:
// <prefix>.events.<account>.$batch. It lies under the account's events
// subjects, so the events stream stores it and a publisher's permission on
// <prefix>.events.<account>.> covers it, and no other account's.
func BatchSubject(prefix, account string) string {
	return prefix + ".events." + account + "." + BatchToken
}
