// Package publish sends hookhub events to NATS JetStream: it checks the
// envelope, picks the subject and sets Nats-Msg-Id to MsgID(account, id) so
// that a republished event is stored once, and events of two accounts that
// share an id are both stored.
//
//	js, _ := jetstream.New(nc)
//	p := publish.New(js, "hookhub")
//	ack, err := p.Publish(ctx, &event.Event{Type: "contact.updated", Account: "acme", ...})
package publish

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hookhub/hookhub/sdk/event"
)

// DefaultPrefix is the subject prefix of a hub with default settings.
const DefaultPrefix = "hookhub"

// Publisher publishes events on one hub's subjects.
type Publisher struct {
	js     jetstream.JetStream
	prefix string
}

// New returns a Publisher for the hub whose subject prefix is prefix
// ("" means DefaultPrefix).
func New(js jetstream.JetStream, prefix string) *Publisher {
	if prefix == "" {
		prefix = DefaultPrefix
	}
	return &Publisher{js: js, prefix: prefix}
}

// MsgID is the Nats-Msg-Id of the event id of account: <account>:<id>; the
// hub rejects an event whose Nats-Msg-Id is anything else. The hub takes a
// message with the Nats-Msg-Id of an event it routed less than 2 minutes
// before for the publisher's resend and drops it without a word (later, it
// is delivered again under the same webhook-id); the same event under none
// is rejected as a duplicate.
func MsgID(account, id string) string { return account + ":" + id }

// Fill sets what a publisher may leave out: specversion, a random id, the
// time and the content type.
func Fill(e *event.Event) {
	if e.SpecVersion == "" {
		e.SpecVersion = event.SpecVersion
	}
	if e.ID == "" {
		var b [12]byte
		_, _ = rand.Read(b[:])
		e.ID = "evt_" + hex.EncodeToString(b[:])
	}
	if e.Time == nil {
		t := time.Now().UTC().Truncate(time.Millisecond)
		e.Time = &t
	}
	if e.DataContentType == "" && len(e.Data) > 0 {
		e.DataContentType = "application/json"
	}
}

// Msg builds the NATS message for e (after Fill and Check).
func (p *Publisher) Msg(e *event.Event) (*nats.Msg, error) {
	Fill(e)
	if err := e.Check(); err != nil {
		return nil, err
	}
	b, err := json.Marshal(e)
	if err != nil {
		return nil, fmt.Errorf("publish: encode event %s: %w", e.ID, err)
	}
	m := nats.NewMsg(e.NATSSubject(p.prefix))
	m.Header.Set(jetstream.MsgIDHeader, MsgID(e.Account, e.ID))
	m.Data = b
	return m, nil
}

// Publish sends e and waits for JetStream to store it. The hub's events
// stream keeps every message, so ack.Duplicate is false: an event sent
// again is dropped where the hub routes it (see MsgID). A de-duplication
// window there would be one for every account, which one account could use
// to drop another's events.
func (p *Publisher) Publish(ctx context.Context, e *event.Event) (*jetstream.PubAck, error) {
	m, err := p.Msg(e)
	if err != nil {
		return nil, err
	}
	ack, err := p.js.PublishMsg(ctx, m)
	if err != nil {
		return nil, fmt.Errorf("publish: event %s on %s: %w", e.ID, m.Subject, err)
	}
	return ack, nil
}

// PublishRaw sends an already encoded CloudEvent after checking its envelope.
func (p *Publisher) PublishRaw(ctx context.Context, raw []byte) (*jetstream.PubAck, error) {
	e, err := event.Parse(raw)
	if err != nil {
		return nil, err
	}
	m := nats.NewMsg(e.NATSSubject(p.prefix))
	m.Header.Set(jetstream.MsgIDHeader, MsgID(e.Account, e.ID))
	m.Data = raw
	ack, err := p.js.PublishMsg(ctx, m)
	if err != nil {
		return nil, fmt.Errorf("publish: event %s on %s: %w", e.ID, m.Subject, err)
	}
	return ack, nil
}
