// Command publisher sends one event to a hookhub over NATS JetStream with the
// Go SDK: subject, envelope and Nats-Msg-Id are set for you.
//
//	go run ./examples/publisher -nats nats://127.0.0.1:4222
//
// When the hub's NATS takes logins, give a publisher of account acme in
// HOOKHUB_NATS_USER and HOOKHUB_NATS_PASSWORD.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hookhub/hookhub/sdk/event"
	"github.com/hookhub/hookhub/sdk/publish"
)

func main() {
	url := flag.String("nats", "nats://127.0.0.1:4222", "the hub's NATS")
	flag.Parse()
	var opts []nats.Option
	if user := os.Getenv("HOOKHUB_NATS_USER"); user != "" {
		opts = append(opts, nats.UserInfo(user, os.Getenv("HOOKHUB_NATS_PASSWORD")))
	}
	if err := run(*url, os.Stdout, opts...); err != nil {
		log.Fatal(err)
	}
}

func run(url string, out io.Writer, opts ...nats.Option) error {
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		return err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	e := &event.Event{
		Source:    "crm/contacts",
		Type:      "contact.updated",
		Account:   "acme",
		Initiator: event.InitiatorAPI,
		Lists:     "12,15",
		Data:      json.RawMessage(`{"email":"ada@example.com","attributes":{"FIRSTNAME":"Ada"}}`),
	}
	ack, err := publish.New(js, "hookhub").Publish(ctx, e)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "published %s as %s (stream %s, seq %d)\n", e.Type, e.ID, ack.Stream, ack.Sequence)
	return nil
}
