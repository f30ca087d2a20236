package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookhub/hookhub/hub/hubtest"
	"github.com/hookhub/hookhub/sdk/event"
	"github.com/hookhub/hookhub/sdk/publish"
	"github.com/hookhub/hookhub/sdk/signature"
)

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// Test_main runs the example receiver behind a real hub: a published event
// arrives, is verified and printed once.
func Test_main(t *testing.T) {
	secret, _ := signature.ParseSecret(hubtest.Secret)
	var out syncBuf
	srv := httptest.NewServer(newHandler(secret, &out))
	defer srv.Close()
	h := hubtest.StartHub(t, `{"webhooks":[{"id":"wh_example","account":"acme","url":"`+srv.URL+`","events":["contact.*"],"secret":"`+hubtest.Secret+`"}]}`, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := publish.New(h.JetStream(), "hookhub").Publish(ctx, &event.Event{ID: "evt_rx", Source: "test", Type: "contact.created",
		Account: "acme", Data: json.RawMessage(`{"email":"ada@example.com"}`)})
	if err != nil {
		t.Fatal(err)
	}
	hubtest.Eventually(t, 15*time.Second, "the receiver to print the event", func() bool { return out.String() != "" })
	if got, want := out.String(), "evt_rx:wh_example contact.created acme {\"email\":\"ada@example.com\"}\n"; got != want {
		t.Errorf("printed %q, want %q", got, want)
	}

	// A forged request is refused.
	req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(`{"type":"contact.created"}`))
	req.Header.Set("webhook-id", "forged")
	req.Header.Set("webhook-timestamp", "1")
	req.Header.Set("webhook-signature", "v1,AAAA")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("forged request: status %d, want 401", resp.StatusCode)
	}
}
