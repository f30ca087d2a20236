// Command receiver is a webhook receiver that verifies hookhub's Standard
// Webhooks signatures and prints each event. Copy it to start your own.
//
//	WEBHOOK_SECRET=whsec_... go run ./examples/receiver -addr 127.0.0.1:9999
package main

import (
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"sync"

	"github.com/hookhub/hookhub/sdk/receiver"
	"github.com/hookhub/hookhub/sdk/signature"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:9999", "listen address")
	flag.Parse()
	secret, err := signature.ParseSecret(os.Getenv("WEBHOOK_SECRET"))
	if err != nil {
		log.Fatalf("WEBHOOK_SECRET: %v", err)
	}
	log.Printf("listening on http://%s", *addr)
	log.Fatal(http.ListenAndServe(*addr, newHandler(secret, os.Stdout)))
}

// newHandler verifies each request and prints one line per event. A seen set
// keyed by webhook-id drops the duplicates an at-least-once sender may send.
func newHandler(secret signature.Secret, out io.Writer) http.Handler {
	var mu sync.Mutex
	seen := map[string]bool{}
	return receiver.Handler(&signature.Verifier{Secrets: []signature.Secret{secret}}, func(d receiver.Delivery) error {
		mu.Lock()
		defer mu.Unlock()
		if seen[d.ID] {
			return nil // already handled: answer 2xx so the hub stops
		}
		seen[d.ID] = true
		fmt.Fprintf(out, "%s %s %s %s\n", d.ID, d.Payload.Type, d.Payload.Account, d.Payload.Data)
		return nil
	})
}
