package hub_test

import (
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/hookhub/hookhub/hub/hubtest"
	"github.com/hookhub/hookhub/hub/internal/wasmtest"
)

// TestAPIFormPluginRefusesBatch: the API refuses a webhook that would batch
// for the form plugin (every job would dead-letter), on create and on a
// patch that adds a batch, with a field error on batch.
func TestAPIFormPluginRefusesBatch(t *testing.T) {
	_, a := startAPIHub(t, `{}`)
	fieldIs := func(what string, code int, m map[string]any) {
		t.Helper()
		e, _ := m["error"].(map[string]any)
		details, _ := e["details"].([]any)
		d0, _ := firstOf(details).(map[string]any)
		if code != 400 || errCode(m) != "validation_failed" || e["field"] != "batch" || d0["field"] != "batch" {
			t.Errorf("%s: %d %v, want 400 validation_failed on field batch", what, code, m)
		}
	}
	code, m := a.call("POST", "/v1/webhooks", `{"id":"wh_form","account":"acme","url":"https://example.com/hook","events":["*"],
		"plugin":{"name":"form"},"batch":{"max_events":10}}`)
	fieldIs("create", code, m)
	if code, m := a.call("POST", "/v1/webhooks", `{"id":"wh_form","account":"acme","url":"https://example.com/hook","events":["*"],"plugin":{"name":"form"}}`); code != 201 {
		t.Fatalf("create without batch: %d %v", code, m)
	}
	code, m = a.call("PATCH", "/v1/webhooks/wh_form", `{"batch":{"max_events":10}}`)
	fieldIs("patch", code, m)
	if code, m := a.call("GET", "/v1/webhooks/wh_form", ""); code != 200 || m["batch"] != nil {
		t.Errorf("after the refused patch: %d %v, want no batch", code, fmt.Sprint(m["batch"]))
	}
}

func firstOf(s []any) any {
	if len(s) == 0 {
		return nil
	}
	return s[0]
}

// TestSlackWasmPluginEndToEnd: the slack plugin built to WebAssembly and
// loaded as a module shapes a delivered event into the message a Slack
// incoming webhook takes, signed over that body.
func TestSlackWasmPluginEndToEnd(t *testing.T) {
	if raceDetector {
		t.Skip("starts a Go WebAssembly plugin: longer than its time limit under the race detector")
	}
	path := filepath.Join(t.TempDir(), "slack.wasm")
	if err := os.WriteFile(path, wasmtest.Build(t, "plugins/slack/wasm"), 0o600); err != nil {
		t.Fatal(err)
	}
	rc := hubtest.NewReceiver(t)
	doc := fmt.Sprintf(`{"plugins":[{"name":"slackwasm","path":%q,"timeout_ms":2000}],"webhooks":[%s]}`, path,
		webhookJSON("slack", "acme", rc.URL+"/slack", `"events":["*"],"plugin":{"name":"slackwasm","config":{"username":"hookhub"}}`))
	r := startHub(t, doc, nil)
	r.publish(t, contact("evt_slack"))
	q := rc.WaitFor(t, 1, 30*time.Second)[0]
	verified(t, q)
	want := `{"text":"*contact.updated* in acme (by api) · email: ada@example.com","username":"hookhub"}`
	if string(q.Body) != want || q.Header.Get("Content-Type") != "application/json" {
		t.Errorf("slack request: %s %s\nwant application/json %s", q.Header.Get("Content-Type"), q.Body, want)
	}
}

// TestRateLimitSpacesRequests: a webhook limited to 5 requests/s with a
// burst of 1 gets 10 events no faster than that: 9 gaps of 200 ms, so at
// least 1.8 s from the first request to the last (checked against 1.6 s, a
// lower bound a slow machine only widens), and every event is delivered.
func TestRateLimitSpacesRequests(t *testing.T) {
	rc := hubtest.NewReceiver(t)
	doc := `{"webhooks":[` + webhookJSON("limited", "acme", rc.URL, `"events":["*"],"rate_limit":{"per_second":5,"burst":1}`) + `]}`
	r := startHub(t, doc, nil)
	const n = 10
	for i := range n {
		r.publish(t, contact(fmt.Sprintf("evt_rate%d", i)))
	}
	reqs := rc.WaitFor(t, n, 60*time.Second)
	first, last := reqs[0].At, reqs[0].At
	for _, q := range reqs {
		first, last = minTime(first, q.At), maxTime(last, q.At)
	}
	if span := last.Sub(first); span < 1600*time.Millisecond {
		t.Errorf("%d requests at 5/s with burst 1 arrived within %s, want at least 1.6s", n, span)
	}
	hubtest.Eventually(t, 10*time.Second, "ten deliveries", func() bool { return r.Stats().Delivered == n })
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// TestPerHostConcurrencyBound: two webhooks on one host, each allowed many
// requests at once, never have more than per_host_concurrency requests in
// flight to that host together, and all their events arrive.
func TestPerHostConcurrencyBound(t *testing.T) {
	const bound, n = 2, 8
	rc := hubtest.NewReceiver(t)
	var mu sync.Mutex
	inFlight, most := 0, 0
	rc.SetRespond(func(_ int, w http.ResponseWriter, _ *http.Request) {
		mu.Lock()
		inFlight++
		most = max(most, inFlight)
		mu.Unlock()
		time.Sleep(100 * time.Millisecond) // a slow receiver, so that requests would overlap
		mu.Lock()
		inFlight--
		mu.Unlock()
		w.WriteHeader(http.StatusOK)
	})
	doc := fmt.Sprintf(`{"delivery":{"per_host_concurrency":%d,"per_webhook_concurrency":16},"webhooks":[%s,%s]}`, bound,
		webhookJSON("one", "acme", rc.URL+"/one", `"events":["*"]`), webhookJSON("two", "acme", rc.URL+"/two", `"events":["*"]`))
	r := startHub(t, doc, nil)
	for i := range n {
		r.publish(t, contact(fmt.Sprintf("evt_host%d", i)))
	}
	hubtest.Eventually(t, 60*time.Second, "both webhooks' deliveries", func() bool { return r.Stats().Delivered == 2*n })
	mu.Lock()
	defer mu.Unlock()
	if most > bound {
		t.Errorf("the host had %d requests in flight at once across its two webhooks, want at most %d", most, bound)
	}
	if got := rc.Count(); got != 2*n {
		t.Errorf("the host got %d requests, want %d", got, 2*n)
	}
}

// TestSourceAddress: with delivery.source_address set, requests leave from
// that address (127.0.0.2 on linux's loopback 127/8), as an allowlist at the
// receiver sees them.
func TestSourceAddress(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("127.0.0.2 is a loopback address on linux only")
	}
	from := make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, _, _ := net.SplitHostPort(r.RemoteAddr)
		select {
		case from <- host:
		default:
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(srv.Close)
	doc := `{"delivery":{"source_address":"127.0.0.2"},"webhooks":[` + webhookJSON("src", "acme", srv.URL, `"events":["*"]`) + `]}`
	r := startHub(t, doc, nil)
	r.publish(t, contact("evt_src"))
	select {
	case host := <-from:
		if host != "127.0.0.2" {
			t.Errorf("the request came from %s, want the source address 127.0.0.2", host)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no request within 30s")
	}
}

// TestRotationGraceExpires: a previous secret signs beside the current one
// only until its grace ends: an already expired one never signs, and one
// expiring a few seconds ahead signs the requests made before then and not
// those after.
func TestRotationGraceExpires(t *testing.T) {
	mk := func(s string) string { return "whsec_" + base64.StdEncoding.EncodeToString([]byte(s)) }
	expired, soon := mk("an expired secret, 32 bytes long"), mk("a secret expiring soon, 32 bytes")
	ends := time.Now().Truncate(time.Second).Add(3 * time.Second) // whole seconds, as webhook-timestamp counts
	rc := hubtest.NewReceiver(t)
	prev := fmt.Sprintf(`"previous_secrets":[{"secret":%q,"expires":%q},{"secret":%q,"expires":%q}]`,
		expired, time.Now().Add(-time.Hour).Format(time.RFC3339), soon, ends.Format(time.RFC3339))
	r := startHub(t, `{"webhooks":[`+webhookJSON("rot", "acme", rc.URL, `"events":["*"],`+prev)+`]}`, nil)
	verifies := func(secret string, q hubtest.Request) bool {
		wh, err := standardwebhooks.NewWebhook(secret)
		return err == nil && wh.Verify(q.Body, q.Header) == nil
	}
	check := func(q hubtest.Request) {
		t.Helper()
		ts, err := strconv.ParseInt(q.Header.Get("webhook-timestamp"), 10, 64)
		if err != nil {
			t.Fatalf("webhook-timestamp %q", q.Header.Get("webhook-timestamp"))
		}
		inGrace := time.Unix(ts, 0).Before(ends)
		sigs := strings.Fields(q.Header.Get("webhook-signature"))
		want := 1
		if inGrace {
			want = 2
		}
		if len(sigs) != want || !verifies(testSecret, q) || verifies(expired, q) || verifies(soon, q) != inGrace {
			t.Errorf("signed at %d (grace ends %d): %d signatures %v; current verifies %v, expired %v, soon %v; want %d and only the secrets in force",
				ts, ends.Unix(), len(sigs), sigs, verifies(testSecret, q), verifies(expired, q), verifies(soon, q), want)
		}
	}
	r.publish(t, contact("evt_rot1"))
	check(rc.WaitFor(t, 1, 30*time.Second)[0])
	time.Sleep(time.Until(ends) + 100*time.Millisecond) // at most ~3s: past the grace
	r.publish(t, contact("evt_rot2"))
	q := rc.WaitFor(t, 2, 30*time.Second)[1]
	if ts, _ := strconv.ParseInt(q.Header.Get("webhook-timestamp"), 10, 64); ts < ends.Unix() {
		t.Fatalf("the second request was signed at %d, before the grace ended at %d", ts, ends.Unix())
	}
	check(q)
}

// TestRedriveSinceSkipsOlderLetters: redriving a webhook's dead letters
// since a time redrives those that failed at or after it, and leaves an
// older one (failed a moment before) in the dead letters.
func TestRedriveSinceSkipsOlderLetters(t *testing.T) {
	rc := hubtest.NewReceiver(t)
	var failing atomic.Bool
	failing.Store(true)
	rc.SetRespond(func(_ int, w http.ResponseWriter, _ *http.Request) {
		if failing.Load() {
			http.Error(w, "down", http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	r, a := startAPIHub(t, `{"delivery":{"allow_insecure_targets":true},"webhooks":[`+
		webhookJSON("wh_dl", "acme", rc.URL, `"events":["*"],"retry":{"schedule":[]}`)+`]}`)
	deadLetters := func(n int) []map[string]any {
		t.Helper()
		var out []map[string]any
		hubtest.Eventually(t, 20*time.Second, fmt.Sprintf("%d dead letters", n), func() bool {
			code, m := a.call("GET", "/v1/webhooks/wh_dl/dead-letters", "")
			data, _ := m["data"].([]any)
			out = out[:0]
			for _, d := range data {
				dm, _ := d.(map[string]any)
				out = append(out, dm)
			}
			return code == 200 && len(out) == n
		})
		return out
	}
	r.publish(t, contact("evt_old"))
	old := deadLetters(1)[0]
	failedAt, err := time.Parse(time.RFC3339Nano, fmt.Sprint(old["failed_at"]))
	if err != nil {
		t.Fatalf("dead letter failed_at %v: %v", old["failed_at"], err)
	}
	since := failedAt.Add(time.Microsecond) // just after the old letter failed
	for time.Now().Before(since) {          // the hub shares this clock; bounded by a microsecond
		time.Sleep(time.Millisecond)
	}
	r.publish(t, contact("evt_new"))
	deadLetters(2)
	failing.Store(false)
	code, m := a.call("POST", "/v1/webhooks/wh_dl/dead-letters/redrive?since="+url.QueryEscape(since.Format(time.RFC3339Nano)), "")
	if code != 202 || m["redriven"] != float64(1) {
		t.Fatalf("redrive since %s: %d %v, want 1 redriven", since.Format(time.RFC3339Nano), code, m)
	}
	hubtest.Eventually(t, 20*time.Second, "the newer letter delivered", func() bool { return r.Stats().Delivered == 1 })
	left := deadLetters(1)
	if ev := fmt.Sprint(left[0]["event"]); !strings.Contains(ev, "evt_old") {
		t.Errorf("the dead letter left is %v, want the older one (evt_old)", left[0])
	}
	sent := map[string]int{}
	for _, q := range rc.Requests() {
		sent[q.Header.Get("webhook-id")]++
	}
	if sent["evt_old:wh_dl"] != 1 || sent["evt_new:wh_dl"] != 2 {
		t.Errorf("requests by webhook-id: %v, want the older letter once (its failure) and the newer twice", sent)
	}
}

// TestAPIWebhookWithoutRetries: a webhook created through the API with an
// empty retry schedule keeps it (stored, read back, and acted on: one
// attempt, then the dead letters), apart from one that names no schedule
// (the default retries).
func TestAPIWebhookWithoutRetries(t *testing.T) {
	rc := hubtest.NewReceiver(t)
	rc.SetRespond(func(_ int, w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "down", http.StatusInternalServerError)
	})
	r, a := startAPIHub(t, `{"delivery":{"allow_insecure_targets":true}}`)
	if code, m := a.call("POST", "/v1/webhooks", fmt.Sprintf(`{"id":"once","account":"acme","url":%q,"events":["contact.*"],"secret":%q,"retry":{"schedule":[]}}`, rc.URL, testSecret)); code != 201 {
		t.Fatalf("create: %d %v", code, m)
	}
	if code, m := a.call("POST", "/v1/webhooks", fmt.Sprintf(`{"id":"default","account":"globex","url":%q,"events":["contact.*"],"secret":%q}`, rc.URL, testSecret)); code != 201 {
		t.Fatalf("create: %d %v", code, m)
	}
	_, m := a.call("GET", "/v1/webhooks/once", "")
	if retry, _ := m["retry"].(map[string]any); fmt.Sprint(retry["schedule"]) != "[]" {
		t.Errorf("the empty schedule reads back as %v", m["retry"])
	}
	_, m = a.call("GET", "/v1/webhooks/default", "")
	if retry, _ := m["retry"].(map[string]any); retry["schedule"] != nil {
		t.Errorf("no schedule reads back as %v", m["retry"])
	}
	hubtest.Eventually(t, 10*time.Second, "the webhook in the hub's snapshot", func() bool { return r.Snapshot().Get("once") != nil })
	r.publish(t, contact("evt_once"))
	hubtest.Eventually(t, 20*time.Second, "the dead letter after one attempt", func() bool {
		_, m := a.call("GET", "/v1/webhooks/once/dead-letters", "")
		d, _ := m["data"].([]any)
		return len(d) == 1 && d[0].(map[string]any)["attempts"] == float64(1)
	})
}
