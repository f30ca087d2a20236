package delivery

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/hookhub/hookhub/hub/internal/envelope"
	"github.com/hookhub/hookhub/sdk/event"
)

// FuzzRoutedEqualsDelivered: for any input the router accepts (its reading,
// envelope.Parse, the one the router matches webhooks and checks schemas
// by), the default body delivery builds from the stored event says the same
// type, account, initiator and data, and event.Parse reads the same event;
// for any JSON the router refuses, delivery refuses it too.
func FuzzRoutedEqualsDelivered(f *testing.F) {
	for _, s := range []string{
		`{"specversion":"1.0","id":"e1","source":"s","type":"contact.updated","account":"acme","initiator":"api","lists":"1,2","time":"2026-11-22T10:00:00.5+01:00","data":{"email":"a@b.c"}}`,
		`{"data":{"note":"<b>\u00e9\"q\""},"account":"acme","type":"email.clicked","id":"e2","source":"s","specversion":"1.0"}`,
		`{"specversion":"1.0","id":"e1","source":"s","type":"a.b","account":"b","Account":"a","data":{}}`,
		`{"specversion":"1.0","id":"e1","source":"s","type":"a.b","account":"a","data":{"x":1},"Data":{"x":2}}`,
		`{"specversion":"1.0","id":"e1","source":"s","type":"a.b","account":"a","initiator":"system","Initiator":"api"}`,
		`{"specversion":"1.0","id":"e1","source":"s","type":"a.b","Type":"c.d","account":"a"}`,
		`{"specversion":"1.0","id":"e1","source":"s","type":"a.b","typ\u0065":"c.d","account":"a"}`,
		`{"specversion":"1.0","id":"e1","source":"s","type":"a.b","account":"a","account":"b"}`,
		`{"specversion":"1.0","id":"e1","source":"s","type":"a.b","account":"a","data":null}`,
		`{"specversion":"1.0","id":"e1","source":"s","type":"a.b","account":"a","initiator":null,"data":{"k":[1,{"z":null}]}}`,
	} {
		f.Add([]byte(s))
	}
	published := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, raw []byte) {
		routed, _, routeErr := envelope.Parse(raw)
		body, typ, err := rawBody(raw, published)
		if routeErr != nil {
			// Delivery does not check again that stored bytes are JSON (the
			// router stored only what it accepted); any JSON it refuses,
			// such as a twin attribute in a job stored before, it refuses.
			if err == nil && utf8.Valid(raw) && json.Valid(raw) {
				t.Fatalf("%q: the router refuses it (%v), delivery builds %s", raw, routeErr, body)
			}
			return
		}
		if err != nil {
			t.Fatalf("%q: routed, but delivery refuses it: %v", raw, err)
		}
		if ev, err := event.Parse(raw); err != nil || ev.Type != routed.Type || ev.Account != routed.Account ||
			ev.Initiator != routed.Initiator || !bytes.Equal(ev.Data, routed.Data) {
			t.Fatalf("%q: event.Parse reads %+v (%v), the router %+v", raw, ev, err, routed)
		}
		var sent struct {
			Type      *string         `json:"type"`
			Account   *string         `json:"account"`
			Initiator *string         `json:"initiator"`
			Timestamp string          `json:"timestamp"`
			Data      json.RawMessage `json:"data"`
		}
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&sent); err != nil || sent.Type == nil || sent.Account == nil {
			t.Fatalf("%q: body %s does not decode: %v", raw, body, err)
		}
		wantData := routed.Data
		if len(wantData) == 0 {
			wantData = json.RawMessage("{}")
		}
		initiator := ""
		if sent.Initiator != nil {
			initiator = *sent.Initiator
		}
		if *sent.Type != routed.Type || typ != routed.Type || *sent.Account != routed.Account ||
			initiator != routed.Initiator || !bytes.Equal(sent.Data, wantData) {
			t.Fatalf("%q:\nrouted    type %q account %q initiator %q data %s\ndelivered %s", raw,
				routed.Type, routed.Account, routed.Initiator, wantData, body)
		}
		if sent.Initiator != nil && *sent.Initiator == "" {
			t.Fatalf("%q: empty initiator sent: %s", raw, body)
		}
	})
}

// TestDeliveryRefusesTwoReadings: a stored job whose envelope reads two ways
// (as a job written before the router refused them could be) fails for good
// instead of being signed with values the router did not route by.
func TestDeliveryRefusesTwoReadings(t *testing.T) {
	for _, raw := range []string{
		`{"specversion":"1.0","id":"e1","source":"s","type":"contact.updated","account":"b","Account":"a","data":{}}`,
		`{"specversion":"1.0","id":"e1","source":"s","type":"contact.updated","account":"a","data":{"email":42},"Data":{"email":"a@b.c"}}`,
	} {
		body, _, err := rawBody([]byte(raw), time.Time{})
		if !errors.Is(err, ErrPermanent) || !strings.Contains(err.Error(), "member") {
			t.Errorf("%s: built %s, %v; want a permanent refusal naming the member", raw, body, err)
		}
	}
}
