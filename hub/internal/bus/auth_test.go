package bus_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/hookhub/hookhub/hub/internal/bus"
)

const (
	acmePassword  = "acme-publisher-password"
	betaPassword  = "beta-publisher-password"
	adminPassword = "operator-admin-password"
	kvSecret      = "whsec_c2VjcmV0LWluLXRoZS1idWNrZXQtMTIzNA=="
	bucket        = "hookhub_webhooks"
)

// openSecured runs a hub's bus on an embedded server with a publisher for
// acme, one for beta and an admin, with a webhooks bucket holding a secret.
func openSecured(t *testing.T) *bus.Bus {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b, err := bus.Open(ctx, bus.Options{Listen: "127.0.0.1:-1", DataDir: t.TempDir(), Prefix: "hookhub", Log: zerolog.Nop(),
		Users: []bus.User{
			{Name: "acme-pub", Password: acmePassword, Account: "acme"},
			{Name: "beta-pub", Password: betaPassword, Account: "beta"},
			{Name: "ops", Password: adminPassword, Admin: true},
		}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	if err := b.Setup(ctx); err != nil {
		t.Fatal(err)
	}
	kv, err := b.JS.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: bucket})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Put(ctx, "wh_1", []byte(`{"id":"wh_1","secret_value":"`+kvSecret+`"}`)); err != nil {
		t.Fatal(err)
	}
	return b
}

// client logs in to the hub's embedded server over TCP; its asynchronous
// errors (permission violations) arrive on the channel.
func client(t *testing.T, b *bus.Bus, opts ...nats.Option) (*nats.Conn, <-chan error, error) {
	t.Helper()
	errs := make(chan error, 16)
	opts = append(opts, nats.Timeout(5*time.Second), nats.NoReconnect(),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			select {
			case errs <- err:
			default:
			}
		}))
	nc, err := nats.Connect(b.ClientURL(), opts...)
	if err == nil {
		t.Cleanup(nc.Close)
	}
	return nc, errs, err
}

// violation waits (at most 10 s) for the server to refuse something.
func violation(t *testing.T, errs <-chan error, what string) {
	t.Helper()
	select {
	case err := <-errs:
		if !strings.Contains(strings.ToLower(err.Error()), "permissions violation") {
			t.Errorf("%s: got error %v, want a permissions violation", what, err)
		}
	case <-time.After(10 * time.Second):
		t.Errorf("%s: the server did not refuse it", what)
	}
}

func eventMsg(subject, id string) *nats.Msg {
	m := nats.NewMsg(subject)
	m.Header.Set(jetstream.MsgIDHeader, id)
	m.Data = []byte(`{"specversion":"1.0","id":"` + id + `"}`)
	return m
}

// storedOn counts the events stream's messages on subject, as the hub sees.
func storedOn(t *testing.T, b *bus.Bus, subject string) uint64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st, err := b.JS.Stream(ctx, b.Names.EventsStream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(ctx, jetstream.WithSubjectFilter(subject))
	if err != nil {
		t.Fatal(err)
	}
	return info.State.Subjects[subject]
}

// TestNATSLoginRequired: with users configured, a client that does not log
// in, or logs in wrongly, or as the hub itself, is refused.
func TestNATSLoginRequired(t *testing.T) {
	b := openSecured(t)
	if _, _, err := client(t, b); !errors.Is(err, nats.ErrAuthorization) {
		t.Errorf("anonymous client: %v, want an authorization violation", err)
	}
	if _, _, err := client(t, b, nats.UserInfo("acme-pub", "wrong-password")); !errors.Is(err, nats.ErrAuthorization) {
		t.Errorf("wrong password: %v, want an authorization violation", err)
	}
	if _, _, err := client(t, b, nats.UserInfo(bus.HubUser, "")); !errors.Is(err, nats.ErrAuthorization) {
		t.Errorf("the hub's own login over TCP: %v, want an authorization violation", err)
	}
}

// TestNATSPublisherSpeaksForItsAccountOnly: acme's publisher stores acme's
// events with a JetStream ack, and cannot publish beta's.
func TestNATSPublisherSpeaksForItsAccountOnly(t *testing.T) {
	b := openSecured(t)
	nc, errs, err := client(t, b, nats.UserInfo("acme-pub", acmePassword))
	if err != nil {
		t.Fatal(err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ack, err := js.PublishMsg(ctx, eventMsg("hookhub.events.acme.contact.updated", "evt_acme"))
	if err != nil || ack.Stream != b.Names.EventsStream {
		t.Fatalf("acme publishing its own event: %v %+v", err, ack)
	}
	if n := storedOn(t, b, "hookhub.events.acme.contact.updated"); n != 1 {
		t.Errorf("acme's event stored %d times, want 1", n)
	}

	if err := nc.PublishMsg(eventMsg("hookhub.events.beta.contact.updated", "evt_forged")); err != nil {
		t.Fatal(err)
	}
	violation(t, errs, "acme publishing for beta")
	pctx, pcancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer pcancel()
	if _, err := js.PublishMsg(pctx, eventMsg("hookhub.events.beta.contact.updated", "evt_forged2")); err == nil {
		t.Error("acme's JetStream publish for beta was acked")
	}
	violation(t, errs, "acme's JetStream publish for beta")
	// Nor anything else the hub consumes: jobs, retries, wake-ups, and the
	// subject of the hub's own operational events (hookhub.* types).
	for _, s := range []string{"hookhub.deliveries.beta.wh_1", "hookhub.wakeups", "hookhub.events.acmex.contact.updated",
		b.Names.Operational("acme", "hookhub.webhook.disabled")} {
		if err := nc.PublishMsg(eventMsg(s, "evt_x")); err != nil {
			t.Fatal(err)
		}
		violation(t, errs, "acme publishing on "+s)
	}
	if n := storedOn(t, b, "hookhub.events.beta.contact.updated"); n != 0 {
		t.Errorf("beta holds %d events acme published", n)
	}
}

// TestNATSPublisherReadsNothing: a publisher cannot read the webhooks
// bucket (by its subjects, the JetStream API, or the hub's replies) nor the
// streams.
func TestNATSPublisherReadsNothing(t *testing.T) {
	b := openSecured(t)
	nc, errs, err := client(t, b, nats.UserInfo("acme-pub", acmePassword))
	if err != nil {
		t.Fatal(err)
	}
	// Everything the hub is answered comes on its inbox: a publisher's
	// _INBOX.> sees none of it.
	spy, err := nc.SubscribeSync("_INBOX.>")
	if err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	kv, err := b.JS.KeyValue(ctx, bucket)
	if err != nil {
		t.Fatal(err)
	}
	if e, err := kv.Get(ctx, "wh_1"); err != nil || !strings.Contains(string(e.Value()), kvSecret) {
		t.Fatalf("the hub reading its bucket: %v", err)
	}
	w, err := kv.WatchAll(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if e := <-w.Updates(); e == nil || e.Key() != "wh_1" {
		t.Fatalf("the hub watching its bucket: %v", e)
	}
	_ = w.Stop()
	// A round trip after the hub's: whatever the server sent the spy
	// before it has arrived.
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	if n, _, _ := spy.Pending(); n != 0 {
		m, _ := spy.NextMsg(time.Second)
		t.Errorf("a publisher's _INBOX.> got %d of the hub's replies, such as %s: %.200s", n, m.Subject, m.Data)
	}

	for _, s := range []string{"$KV." + bucket + ".>", "hookhub.events.>", "hookhub.deliveries.>", "$JS.API.>", "_HOOKHUB_INBOX.>"} {
		if _, err := nc.SubscribeSync(s); err != nil {
			t.Fatal(err)
		}
		violation(t, errs, "acme subscribing to "+s)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	short := func() context.Context {
		c, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		t.Cleanup(cancel)
		return c
	}
	if _, err := js.KeyValue(short(), bucket); err == nil {
		t.Error("acme opened the webhooks bucket")
	}
	violation(t, errs, "acme calling the JetStream API for the bucket")
	if msg, err := nc.Request("$JS.API.DIRECT.GET.KV_"+bucket+".$KV."+bucket+".wh_1", nil, time.Second); err == nil {
		t.Errorf("acme read the bucket directly: %.200s", msg.Data)
	}
	violation(t, errs, "acme's direct get from the bucket")
	if _, err := js.CreateOrUpdateConsumer(short(), b.Names.EventsStream, jetstream.ConsumerConfig{Name: "spy"}); err == nil {
		t.Error("acme made a consumer on the events stream")
	}
	violation(t, errs, "acme making a consumer on the events stream")
}

// TestNATSAdminUser: an admin login reaches everything, for operators' tools.
func TestNATSAdminUser(t *testing.T) {
	b := openSecured(t)
	nc, _, err := client(t, b, nats.UserInfo("ops", adminPassword))
	if err != nil {
		t.Fatal(err)
	}
	js, _ := jetstream.New(nc)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	kv, err := js.KeyValue(ctx, bucket)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Get(ctx, "wh_1"); err != nil {
		t.Errorf("admin reading the bucket: %v", err)
	}
}

// TestNATSOpenListenNeedsUsers: an embedded server that would take clients
// from other hosts does not start without users, and says why.
func TestNATSOpenListenNeedsUsers(t *testing.T) {
	for _, listen := range []string{"0.0.0.0:-1", ":-1", "[::]:-1", "192.0.2.10:-1", "nats.example.com:-1"} {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		b, err := bus.Open(ctx, bus.Options{Listen: listen, DataDir: t.TempDir(), Log: zerolog.Nop()})
		cancel()
		if err == nil {
			b.Close()
			t.Errorf("listen %s without users: started", listen)
			continue
		}
		if !strings.Contains(err.Error(), "nats_users") || !strings.Contains(err.Error(), listen) {
			t.Errorf("listen %s without users: %v, want it to name the address and nats_users", listen, err)
		}
	}
}

// TestPublisherCannotRollUpTheEvents: a publisher's Nats-Rollup header on
// its own subject is refused, so it cannot purge the events stream (every
// account's events waiting to be routed) nor its own subject; the hub's
// keepers still keep one message each.
func TestPublisherCannotRollUpTheEvents(t *testing.T) {
	b := openSecured(t)
	acme, beta := publishers(t, b)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := beta.PublishMsg(ctx, eventMsg("hookhub.events.beta.contact.updated", "beta:evt_waiting")); err != nil {
		t.Fatal(err)
	}
	if _, err := acme.PublishMsg(ctx, eventMsg("hookhub.events.acme.contact.updated", "acme:evt_1")); err != nil {
		t.Fatal(err)
	}
	for _, how := range []string{jetstream.MsgRollupAll, jetstream.MsgRollupSubject} {
		m := eventMsg("hookhub.events.acme.contact.updated", "acme:evt_rollup_"+how)
		m.Header.Set(jetstream.MsgRollup, how)
		if _, err := acme.PublishMsg(ctx, m); err == nil {
			t.Errorf("acme's rollup (%s) was stored", how)
		}
	}
	if n := storedOn(t, b, "hookhub.events.beta.contact.updated"); n != 1 {
		t.Errorf("beta's waiting events: %d after acme's rollups, want 1", n)
	}
	if n := storedOn(t, b, "hookhub.events.acme.contact.updated"); n != 1 {
		t.Errorf("acme's events: %d after its rollups, want 1", n)
	}
	// The keepers are written and the older ones purged: one stays (two
	// for a moment between a write and its purge).
	kctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- b.RunKeepers(kctx) }()
	defer func() { stop(); <-done }()
	time.Sleep(4 * bus.KeepEvery)
	n := uint64(0)
	for range 20 {
		if n = storedOn(t, b, b.Names.EventsKeeper()); n == 1 {
			break
		}
		time.Sleep(bus.KeepEvery / 5)
	}
	if n != 1 {
		t.Errorf("events keepers stored: %d, want 1", n)
	}
}

// publishers logs in as acme's publisher and as beta's.
func publishers(t *testing.T, b *bus.Bus) (acme, beta jetstream.JetStream) {
	t.Helper()
	js := func(user, password string) jetstream.JetStream {
		nc, _, err := client(t, b, nats.UserInfo(user, password))
		if err != nil {
			t.Fatal(err)
		}
		js, err := jetstream.New(nc)
		if err != nil {
			t.Fatal(err)
		}
		return js
	}
	return js("acme-pub", acmePassword), js("beta-pub", betaPassword)
}

// TestPublisherCannotSuppressAnotherAccount: the events stream keeps every
// message, whatever its Nats-Msg-Id. A JetStream de-duplication window
// there is one for the whole stream, keyed by the id alone: acme could
// publish beta's <account>:<id> on its own subject and have beta's event
// dropped, or read from its own acknowledgement whether beta used an id.
// (The hub de-duplicates by account and id where it archives an event.)
func TestPublisherCannotSuppressAnotherAccount(t *testing.T) {
	b := openSecured(t)
	acme, beta := publishers(t, b)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	st, err := b.JS.Stream(ctx, b.Names.EventsStream)
	if err != nil {
		t.Fatal(err)
	}
	if w := st.CachedInfo().Config.Duplicates; w != 0 {
		t.Errorf("events stream de-duplication window %v, want none", w)
	}
	const acmeSubject, betaSubject = "hookhub.events.acme.contact.updated", "hookhub.events.beta.contact.updated"
	// Suppress: acme first, beta's real one after.
	if _, err := acme.PublishMsg(ctx, eventMsg(acmeSubject, "beta:evt_next")); err != nil {
		t.Fatal(err)
	}
	if ack, err := beta.PublishMsg(ctx, eventMsg(betaSubject, "beta:evt_next")); err != nil || ack.Duplicate {
		t.Errorf("beta's event after acme's forged id: %v, duplicate %v; want it stored", err, ack != nil && ack.Duplicate)
	}
	// Reveal: beta first, acme asks after.
	if _, err := beta.PublishMsg(ctx, eventMsg(betaSubject, "beta:evt_used")); err != nil {
		t.Fatal(err)
	}
	if ack, err := acme.PublishMsg(ctx, eventMsg(acmeSubject, "beta:evt_used")); err != nil || ack.Duplicate {
		t.Errorf("acme publishing beta's used id: %v, duplicate %v; want a plain store that says nothing", err, ack != nil && ack.Duplicate)
	}
	if n := storedOn(t, b, betaSubject); n != 2 {
		t.Errorf("beta's events stored: %d, want 2", n)
	}
}
