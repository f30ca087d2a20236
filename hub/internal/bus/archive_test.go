package bus

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"
)

// TestArchivedReadsTheWholeSubject: Archived finds the newest copy of an
// event among the other events of its subject and of other subjects, across
// batches of the direct get, and passes over what isCopy refuses (another
// account's event under the same id).
func TestArchivedReadsTheWholeSubject(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b, err := Open(ctx, Options{Listen: "127.0.0.1:-1", DataDir: t.TempDir(), Prefix: "hookhub", Log: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	if err := b.Setup(ctx); err != nil {
		t.Fatal(err)
	}
	defer func(n int) { archiveBatch = n }(archiveBatch)
	archiveBatch = 2
	subject := b.Names.Archive("acme", "e1")
	other := b.Names.Archive("acme", "e0")
	if other == subject {
		t.Fatal("e0 and e1 share a subject; pick another id")
	}
	put := func(subj, id, data string) {
		m := nats.NewMsg(subj)
		m.Header.Set(HeaderEventID, id)
		m.Data = []byte(data)
		if _, err := b.JS.PublishMsg(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	put(subject, "e1", "acme old")
	put(other, "e1", "acme elsewhere")
	put(subject, "e2", "acme")
	put(subject, "e1", "beta")
	put(subject, "e1", "acme new")
	put(other, "e1", "acme elsewhere")
	put(subject, "e3", "acme")
	put(subject, "e4", "acme")
	put(subject, "e1", "beta")
	put(subject, "e5", "acme")
	acme := func(m *jetstream.RawStreamMsg) bool { return string(m.Data[:4]) == "acme" }
	m, err := b.Archived(ctx, "acme", "e1", acme)
	if err != nil || m == nil || string(m.Data) != "acme new" || m.Subject != subject {
		t.Fatalf("Archived(e1) = %+v, %v; want the message \"acme new\" of %s", m, err, subject)
	}
	if m, err := b.Archived(ctx, "acme", "e1", func(*jetstream.RawStreamMsg) bool { return false }); err != nil || m != nil {
		t.Errorf("Archived(e1) with no copy accepted = %+v, %v; want none", m, err)
	}
	if m, err := b.Archived(ctx, "acme", "e9", acme); err != nil || m != nil {
		t.Errorf("Archived(e9), not there = %+v, %v; want none", m, err)
	}
}
