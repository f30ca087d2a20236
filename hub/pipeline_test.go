package hub_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/hookhub/hookhub/hub/hubtest"
	"github.com/hookhub/hookhub/sdk/event"
)

// TestFilters publishes one event of each kind and checks which webhooks got
// what: type, wildcard, initiator, list, account and active all decide.
func TestFilters(t *testing.T) {
	rc := hubtest.NewReceiver(t)
	url := func(name string) string { return rc.URL + "/" + name }
	doc := `{"webhooks":[` + strings.Join([]string{
		webhookJSON("exact", "acme", url("exact"), `"events":["contact.updated"]`),
		webhookJSON("wild", "acme", url("wild"), `"events":["email.*"]`),
		webhookJSON("all", "acme", url("all"), `"events":["*"]`),
		webhookJSON("byapi", "acme", url("byapi"), `"events":["*"],"initiators":["api"]`),
		webhookJSON("list12", "acme", url("list12"), `"events":["*"],"lists":["12"]`),
		webhookJSON("other", "globex", url("other"), `"events":["*"]`),
		webhookJSON("off", "acme", url("off"), `"events":["*"],"active":false`),
	}, ",") + `]}`
	r := startHub(t, doc, nil)

	events := []*event.Event{
		{ID: "e1", Type: "contact.updated", Account: "acme", Initiator: "api", Lists: "12,15", Data: json.RawMessage(`{"email":"ada@example.com"}`)},
		{ID: "e2", Type: "email.clicked", Account: "acme", Initiator: "contact", Data: json.RawMessage(`{"email":"bob@example.com","link":"https://example.com/x"}`)},
		{ID: "e3", Type: "deal.created", Account: "acme", Initiator: "user", Lists: "15", Data: json.RawMessage(`{"id":"d1"}`)},
		{ID: "e4", Type: "contact.updated", Account: "globex", Initiator: "api", Data: json.RawMessage(`{"email":"eve@example.org"}`)},
	}
	for _, e := range events {
		r.publish(t, e)
	}
	want := map[string][]string{
		"exact":  {"e1"},
		"wild":   {"e2"},
		"all":    {"e1", "e2", "e3"},
		"byapi":  {"e1"},
		"list12": {"e1"},
		"other":  {"e4"},
		"off":    nil,
	}
	total := 0
	for _, ids := range want {
		total += len(ids)
	}
	rc.WaitFor(t, total, 20*time.Second)
	time.Sleep(300 * time.Millisecond) // let any extra, wrong delivery arrive too
	got := map[string][]string{}
	for _, req := range rc.Requests() {
		id, _, _ := strings.Cut(req.Header.Get("webhook-id"), ":")
		got[strings.TrimPrefix(req.Path, "/")] = append(got[strings.TrimPrefix(req.Path, "/")], id)
	}
	for name, ids := range want {
		if fmt.Sprint(sorted(got[name])) != fmt.Sprint(sorted(ids)) {
			t.Errorf("webhook %s got events %v, want %v", name, sorted(got[name]), ids)
		}
	}
	if s := r.Stats(); s.Delivered != int64(total) {
		t.Errorf("stats: delivered %d, want %d", s.Delivered, total)
	}
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

// TestSignedOverTLS delivers over HTTPS and checks the request with the
// official Standard Webhooks library: body shape, headers, signature.
func TestSignedOverTLS(t *testing.T) {
	rc := hubtest.NewTLSReceiver(t)
	doc := fmt.Sprintf(`{"delivery":{"ca_file":%q},"webhooks":[%s]}`, rc.CAFile(t),
		webhookJSON("crm", "acme", rc.URL+"/hook", `"events":["contact.*"]`))
	r := startHub(t, doc, nil)
	when := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	r.publish(t, &event.Event{ID: "evt_2f9c", Type: "contact.updated", Account: "acme", Initiator: "api", Lists: "12,15",
		Time: &when, Data: json.RawMessage(`{"email":"ada@example.com","attributes":{"FIRSTNAME":"Ada"}}`)})
	req := rc.WaitFor(t, 1, 20*time.Second)[0]

	wh, err := standardwebhooks.NewWebhook(testSecret)
	if err != nil {
		t.Fatal(err)
	}
	if err := wh.Verify(req.Body, req.Header); err != nil {
		t.Fatalf("official library: signature does not verify: %v", err)
	}
	if got, want := req.Header.Get("webhook-id"), "evt_2f9c:crm"; got != want {
		t.Errorf("webhook-id = %q, want %q", got, want)
	}
	if ct := req.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	var body map[string]any
	if err := json.Unmarshal(req.Body, &body); err != nil {
		t.Fatalf("body is not JSON: %v: %s", err, req.Body)
	}
	if body["type"] != "contact.updated" || body["account"] != "acme" || body["initiator"] != "api" ||
		body["timestamp"] != "2026-11-22T10:00:00Z" {
		t.Errorf("body = %s", req.Body)
	}
	if data, _ := body["data"].(map[string]any); data["email"] != "ada@example.com" {
		t.Errorf("body data = %v", body["data"])
	}
	if ua := req.Header.Get("User-Agent"); !strings.HasPrefix(ua, "hookhub/") {
		t.Errorf("User-Agent = %q", ua)
	}
}

// TestAuthAndHeaders checks basic and token auth and custom headers, with the
// secrets read from the environment.
func TestAuthAndHeaders(t *testing.T) {
	rc := hubtest.NewReceiver(t)
	doc := `{"webhooks":[` +
		webhookJSON("basic", "acme", rc.URL+"/basic", `"events":["*"],"auth":{"type":"basic","username":"hub","password":"${env:RECV_PASSWORD}"},"headers":{"X-Tenant":"acme"}`) + "," +
		webhookJSON("token", "acme", rc.URL+"/token", `"events":["*"],"auth":{"type":"token","token":"${env:RECV_TOKEN}"}`) + `]}`
	r := startHub(t, doc, map[string]string{"RECV_PASSWORD": "pa55word", "RECV_TOKEN": "tok-123"})
	r.publish(t, &event.Event{Type: "contact.created", Account: "acme", Data: json.RawMessage(`{"email":"a@example.com"}`)})
	for _, req := range rc.WaitFor(t, 2, 20*time.Second) {
		switch req.Path {
		case "/basic":
			hr := &http.Request{Header: req.Header}
			u, p, ok := hr.BasicAuth()
			if !ok || u != "hub" || p != "pa55word" {
				t.Errorf("basic auth = %q %q %v", u, p, ok)
			}
			if req.Header.Get("X-Tenant") != "acme" {
				t.Errorf("custom header X-Tenant = %q", req.Header.Get("X-Tenant"))
			}
		case "/token":
			if got := req.Header.Get("Authorization"); got != "Bearer tok-123" {
				t.Errorf("Authorization = %q", got)
			}
		default:
			t.Errorf("unexpected path %s", req.Path)
		}
	}
}
