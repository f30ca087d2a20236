package bus

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Headers the hub sets on its own messages.
const (
	HeaderWebhook  = "Hookhub-Webhook"
	HeaderJob      = "Hookhub-Job"
	HeaderAttempt  = "Hookhub-Attempt"
	HeaderEventID  = "Hookhub-Event-Id"
	HeaderReason   = "Hookhub-Reason"
	HeaderAttempts = "Hookhub-Attempts"
	HeaderStatus   = "Hookhub-Status"
	HeaderFailedAt = "Hookhub-Failed-At"
)

// Retention of the hub's streams.
const (
	DLQMaxAge      = 30 * 24 * time.Hour
	AttemptsMaxAge = 7 * 24 * time.Hour
	RejectedMaxAge = 7 * 24 * time.Hour
	DedupeWindow   = 2 * time.Minute
	// DefaultEventRetention is how long events are kept for resends.
	DefaultEventRetention = 72 * time.Hour
	DelivererAck          = 60 * time.Second
	RouterAck             = 30 * time.Second
)

// Setup creates or updates the streams, consumers and buckets. It is
// idempotent: every hub process calls it at start.
func (b *Bus) Setup(ctx context.Context) error {
	n := b.Names
	streams := []jetstream.StreamConfig{
		{
			// Interest retention: an event stays until the router has
			// acked it, so nothing is lost however long the hub is down.
			Name: n.EventsStream, Subjects: []string{n.EventsAll()},
			Description: "CloudEvents published for delivery",
			Retention:   jetstream.InterestPolicy, Storage: jetstream.FileStorage, Duplicates: DedupeWindow,
		},
		{
			// Jobs wait for their retry as scheduled messages on
			// <prefix>.retries.>, which the server moves back to
			// <prefix>.deliveries.> when they are due: no consumer holds them.
			Name: n.DeliveriesStream, Subjects: []string{n.DeliveriesAll(), n.RetriesAll()},
			Description: "one job per (event, webhook), removed once delivered or dead-lettered",
			Retention:   jetstream.WorkQueuePolicy, Storage: jetstream.FileStorage, Duplicates: DedupeWindow,
			AllowMsgSchedules: true, AllowRollup: true,
		},
		{
			Name: n.DLQStream, Subjects: []string{n.DeadLettersAll()},
			Description: "jobs that failed their last attempt, with the reason",
			Retention:   jetstream.LimitsPolicy, Storage: jetstream.FileStorage, MaxAge: DLQMaxAge, Duplicates: DedupeWindow,
		},
		{
			Name: n.AttemptsStream, Subjects: []string{n.AttemptsAll()},
			Description: "a record of every delivery attempt",
			Retention:   jetstream.LimitsPolicy, Storage: jetstream.FileStorage, MaxAge: AttemptsMaxAge,
		},
		{
			// Events kept for resends, one per id, for EventRetention.
			Name: n.ArchiveStream, Subjects: []string{n.ArchiveAll()},
			Description: "events kept for resends, by a hash of their id",
			Retention:   jetstream.LimitsPolicy, Storage: jetstream.FileStorage, MaxAge: b.EventRetention,
			MaxMsgsPerSubject: 1, Duplicates: DedupeWindow,
		},
		{
			Name: n.RejectedStream, Subjects: []string{n.Rejected()},
			Description: "events that could not be accepted, with the reason",
			Retention:   jetstream.LimitsPolicy, Storage: jetstream.FileStorage, MaxAge: RejectedMaxAge,
		},
	}
	for _, sc := range streams {
		sc.Replicas = b.Replicas
		if _, err := b.JS.CreateOrUpdateStream(ctx, sc); err != nil {
			return fmt.Errorf("bus: stream %s: %w", sc.Name, err)
		}
	}
	consumers := []struct {
		stream string
		cfg    jetstream.ConsumerConfig
	}{
		{n.EventsStream, jetstream.ConsumerConfig{
			Durable: n.RouterConsumer, Description: "matches events to webhooks",
			AckPolicy: jetstream.AckExplicitPolicy, AckWait: RouterAck, MaxDeliver: -1, MaxAckPending: 10000,
			FilterSubject: n.EventsAll(),
		}},
		{n.DeliveriesStream, jetstream.ConsumerConfig{
			Durable: n.DelivererConsumer, Description: "delivers jobs to webhooks",
			AckPolicy: jetstream.AckExplicitPolicy, AckWait: DelivererAck, MaxDeliver: -1, MaxAckPending: 65536,
			FilterSubject: n.DeliveriesAll(),
		}},
	}
	for _, c := range consumers {
		c.cfg.Replicas = b.Replicas
		if _, err := b.JS.CreateOrUpdateConsumer(ctx, c.stream, c.cfg); err != nil {
			return fmt.Errorf("bus: consumer %s on %s: %w", c.cfg.Durable, c.stream, err)
		}
	}
	return nil
}
