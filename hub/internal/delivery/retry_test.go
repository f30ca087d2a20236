package delivery

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hookhub/hookhub/sdk/event"
)

func TestBackoff(t *testing.T) {
	s := []time.Duration{5 * time.Second, 5 * time.Minute, 30 * time.Minute}
	for n, want := range map[int]time.Duration{1: 5 * time.Second, 2: 5 * time.Minute, 3: 30 * time.Minute, 9: 30 * time.Minute} {
		if got := backoff(s, 0, n, 0); got != want {
			t.Errorf("backoff(retry %d) = %s, want %s", n, got, want)
		}
	}
	for range 200 {
		if got := backoff(s, 0.2, 2, 0); got < 4*time.Minute || got > 6*time.Minute {
			t.Fatalf("backoff with 20%% jitter = %s, want within 4m..6m", got)
		}
	}
	if got := backoff(s, 0, 1, time.Minute); got != time.Minute {
		t.Errorf("Retry-After 1m over a 5s step: got %s", got)
	}
	if got := backoff(s, 0, 1, 48*time.Hour); got != MaxRetryAfter {
		t.Errorf("Retry-After 48h: got %s, want the cap %s", got, MaxRetryAfter)
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	cases := map[string]time.Duration{
		"120": 2 * time.Minute, "0": 0, "-5": 0, "soon": 0, "": 0,
		now.Add(90 * time.Second).Format(http.TimeFormat): 90 * time.Second,
		now.Add(-time.Hour).Format(http.TimeFormat):       0,
		"999999999": MaxRetryAfter,
	}
	for in, want := range cases {
		if got := parseRetryAfter(in, now); got != want {
			t.Errorf("parseRetryAfter(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestBody(t *testing.T) {
	when := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	e := &event.Event{Type: "contact.updated", Account: "acme", Initiator: "api", Time: &when, Data: json.RawMessage(`{"note":"<b>"}`)}
	got := string(Body(e, time.Time{}))
	want := `{"type":"contact.updated","timestamp":"2026-11-22T10:00:00Z","account":"acme","initiator":"api","data":{"note":"<b>"}}`
	if got != want {
		t.Errorf("Body = %s\nwant   %s", got, want)
	}
	e.Via = "import"
	if got := string(Body(e, time.Time{})); !strings.Contains(got, `"initiator":"api","via":"import","data":`) {
		t.Errorf("an import's body: %s", got)
	}
	e.Time = nil
	if got := string(Body(e, when.Add(time.Minute))); !strings.Contains(got, `"timestamp":"2026-11-22T10:01:00Z"`) {
		t.Errorf("without an event time the published time is used: %s", got)
	}
}

func BenchmarkBody(b *testing.B) {
	when := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	e := &event.Event{Type: "contact.updated", Account: "acme", Initiator: "api", Time: &when,
		Data: json.RawMessage(`{"email":"ada@example.com","note":"` + strings.Repeat("x", 900) + `"}`)}
	b.ReportAllocs()
	for b.Loop() {
		_ = Body(e, when)
	}
}

// TestRawBody: the body built from a stored event without decoding it is the
// body Body builds from the parsed event, byte for byte, whatever the
// attributes' order, spacing, escapes and optional fields.
func TestRawBody(t *testing.T) {
	published := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	raws := []string{
		`{"specversion":"1.0","id":"e1","source":"s","type":"contact.updated","account":"acme","initiator":"api","time":"2026-11-22T11:00:00.5+01:00","data":{"email":"ada@example.com", "n": [1, 2]}}`,
		`{"data":{"note":"<b>\u00e9\"q\""},"account":"acme","type":"email.clicked","id":"e2","source":"s","specversion":"1.0"}`,
		`{"specversion":"1.0","id":"e3","source":"s","type":"import.finished","account":"a_b-c"}`,
		`{"specversion":"1.0","id":"e5","source":"s","type":"contact.subscribed","account":"acme","initiator":"system","via":"import","data":{"email":"a@b.c"}}`,
		` { "type" : "deal.won" , "account" : "acme" , "id":"e4","source":"s","specversion":"1.0","data" : { } } `,
	}
	for _, raw := range raws {
		ev, err := event.Parse([]byte(raw))
		if err != nil {
			t.Fatalf("%s: %v", raw, err)
		}
		want := string(Body(ev, published))
		got, typ, err := rawBody([]byte(raw), published)
		if err != nil || string(got) != want || typ != ev.Type {
			t.Errorf("rawBody(%s)\n = %s, %q, %v\nwant %s", raw, got, typ, err, want)
		}
		if !json.Valid(got) {
			t.Errorf("not JSON: %s", got)
		}
	}
	if _, _, err := rawBody([]byte(`{"id":"x"}`), published); !errors.Is(err, ErrPermanent) {
		t.Errorf("a job without a type: %v", err)
	}
}

func BenchmarkRawBody(b *testing.B) {
	raw := []byte(`{"specversion":"1.0","id":"evt_1","source":"bench","type":"contact.updated","account":"acme","initiator":"api","time":"2026-11-22T10:00:00Z","data":{"email":"ada@example.com","note":"` + strings.Repeat("x", 900) + `"}}`)
	b.ReportAllocs()
	for b.Loop() {
		_, _, _ = rawBody(raw, time.Time{})
	}
}

func BenchmarkParseAndBody(b *testing.B) {
	raw := []byte(`{"specversion":"1.0","id":"evt_1","source":"bench","type":"contact.updated","account":"acme","initiator":"api","time":"2026-11-22T10:00:00Z","data":{"email":"ada@example.com","note":"` + strings.Repeat("x", 900) + `"}}`)
	b.ReportAllocs()
	for b.Loop() {
		ev, _ := event.Parse(raw)
		_ = Body(ev, time.Time{})
	}
}
