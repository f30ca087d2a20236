package bus_test

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hookhub/hookhub/sdk/event"
)

// TestBatchSubjectIsTheAccounts: a publisher may send batches on its own
// account's batch subject, which the events stream stores, and the server
// refuses its batch on another account's.
func TestBatchSubjectIsTheAccounts(t *testing.T) {
	b := openSecured(t)
	nc, errs, err := client(t, b, nats.UserInfo("beta-pub", betaPassword))
	if err != nil {
		t.Fatal(err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	own, theirs := event.BatchSubject("hookhub", "beta"), event.BatchSubject("hookhub", "acme")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := js.PublishMsg(ctx, &nats.Msg{Subject: own, Data: []byte(`[]`)}); err != nil {
		t.Fatalf("beta's batch on its own subject: %v", err)
	}
	if n := storedOn(t, b, own); n != 1 {
		t.Errorf("beta's batch stored %d times, want once", n)
	}
	if err := nc.PublishMsg(&nats.Msg{Subject: theirs, Data: []byte(`[]`)}); err != nil {
		t.Fatal(err)
	}
	violation(t, errs, "beta's batch on acme's batch subject")
	if n := storedOn(t, b, theirs); n != 0 {
		t.Errorf("beta's batch on acme's subject: stored %d, want 0", n)
	}
}
