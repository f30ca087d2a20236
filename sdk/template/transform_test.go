package main

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/hookhub/hookhub/sdk/abi"
)

func TestTransform(t *testing.T) {
	ev, err := os.ReadFile("events/contact.updated.json")
	if err != nil {
		t.Fatal(err)
	}
	out, err := Transform(&abi.Input{Events: [][]byte{ev}})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"event":"contact.updated","email":"ada@example.com","at":"2026-11-22T10:00:00Z","source":"crm/contacts"}`
	if string(out.Request.Body) != want || out.Request.Headers["X-Event-Type"] != "contact.updated" {
		t.Errorf("got %s %v\nwant %s", out.Request.Body, out.Request.Headers, want)
	}
	ev, err = os.ReadFile("events/contact.deleted.json")
	if err != nil {
		t.Fatal(err)
	}
	out, err = Transform(&abi.Input{Events: [][]byte{ev}})
	if err != nil || !out.Skip {
		t.Errorf("an event without email: got %+v, %v; want a skip", out, err)
	}
	// Escapes in the event stay valid JSON in the body.
	out, err = Transform(&abi.Input{Events: [][]byte{[]byte(`{"type":"contact.updated","source":7,"data":{"email":"a\"b\u00e9@example.com"}}`)}})
	if err != nil {
		t.Fatal(err)
	}
	var body struct{ Email, Source string }
	if err := json.Unmarshal(out.Request.Body, &body); err != nil || body.Email != `a"bé@example.com` || body.Source != "7" {
		t.Errorf("body %s: %+v, %v; want the email unescaped and source \"7\"", out.Request.Body, body, err)
	}
}
