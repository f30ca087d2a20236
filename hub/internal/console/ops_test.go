package console_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/hookhub/hookhub/hub"
	"github.com/hookhub/hookhub/hub/hubtest"
	"github.com/hookhub/hookhub/hub/internal/bus"
	"github.com/hookhub/hookhub/hub/internal/delivery"
)

var opsPages = []string{"/accounts", "/rates", "/rejected", "/egress"}

// opsHub runs a hub for the operator's screens: acme (limit 3, a token of
// its own) with wh_good and wh_bad on one receiver, globex with wh_globex,
// and two egress ranges. The receiver answers 500 to wh_bad for events e1
// and e2; no retries, so such a failure is a dead letter at once. It
// publishes e1 to e3 to acme and a refused event (data not of its type's
// schema) to globex, and waits until the log holds them all.
//
// With history, the hour before holds attempts of wh_good and wh_bad too,
// written as the delivery engine writes them (before the real ones, so
// the log stays in time order), so that the charts have a shape.
func opsHub(t *testing.T, history bool) *hub.Hub {
	t.Helper()
	rc := hubtest.NewReceiver(t)
	rc.SetRespond(func(_ int, w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("webhook-id")
		if strings.HasSuffix(r.URL.Path, "/wh_bad") && (strings.HasPrefix(id, "e1:") || strings.HasPrefix(id, "e2:")) {
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = w.Write([]byte("receiver down"))
		}
	})
	hook := func(id, account string) string {
		return fmt.Sprintf(`{"id":%q,"account":%q,"name":"Hook %s","url":%q,"secret":%q,"events":["contact.created"],"retry":{"schedule":[]}}`,
			id, account, id, rc.URL+"/"+id, hubtest.Secret)
	}
	h := hubtest.StartHub(t, fmt.Sprintf(`{"api_addr":"127.0.0.1:0","api_token":%q,
		"delivery":{"egress_ranges":["203.0.113.0/24","2001:db8:42::/48"]},
		"accounts":[{"id":"acme","webhook_limit":3,"api_token":%q},{"id":"globex"}],"webhooks":[%s,%s,%s]}`,
		opToken, acmeToken, hook("wh_good", "acme"), hook("wh_bad", "acme"), hook("wh_globex", "globex")), nil)
	if history {
		writeHistory(t, h)
	}
	for i := 1; i <= 3; i++ {
		if code, m := apiJSON(t, h, "POST", "/v1/events", fmt.Sprintf(`{"specversion":"1.0","id":"e%d","source":"t","type":"contact.created","account":"acme","data":{"email":"a@example.com"}}`, i)); code != http.StatusAccepted {
			t.Fatalf("publish e%d: %d %v", i, code, m)
		}
	}
	waitAttempts(t, h, "wh_good", 3)
	waitAttempts(t, h, "wh_bad", 3)
	// Published on the bus as a publisher would: the router refuses it.
	msg := nats.NewMsg("hookhub.events.globex.contact.created")
	msg.Header.Set("Nats-Msg-Id", "globex:evt_refused")
	msg.Data = []byte(`{"specversion":"1.0","id":"evt_refused","source":"t","type":"contact.created","account":"globex","data":{"email":7}}`)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := h.JetStream().PublishMsg(ctx, msg); err != nil {
		t.Fatal(err)
	}
	hubtest.Eventually(t, 20*time.Second, "the refused event listed", func() bool {
		_, m := apiJSON(t, h, "GET", "/v1/rejected-events", "")
		d, _ := m["data"].([]any)
		return len(d) == 1
	})
	return h
}

// TestConsoleOperatorScreensAreTheOperators: the four screens and their
// links in the navigation are the operator's; acme's token in the console
// and a portal session of acme find no such page (404), and their
// navigation does not offer them.
func TestConsoleOperatorScreensAreTheOperators(t *testing.T) {
	h := startHub(t)
	op := newBrowser(t, h.APIURL())
	list := op.signIn(opToken)
	for _, p := range opsPages {
		if !strings.Contains(list, `href="/console`+p+`"`) {
			t.Errorf("the operator's navigation has no link to %s", p)
		}
		if resp, page := op.do("GET", "/console"+p, nil); resp.StatusCode != http.StatusOK {
			t.Errorf("operator GET /console%s: %d\n%s", p, resp.StatusCode, page)
		}
	}
	acme := newBrowser(t, h.APIURL())
	page := acme.signIn(acmeToken)
	portal, portalPage := enterPortal(t, h, "acme", `{}`)
	for _, p := range opsPages {
		if strings.Contains(page, `href="/console`+p+`"`) || strings.Contains(portalPage, `href="/portal`+p+`"`) {
			t.Errorf("an account's navigation links to %s", p)
		}
		if resp, body := acme.do("GET", "/console"+p, nil); resp.StatusCode != http.StatusNotFound || strings.Contains(body, "globex") {
			t.Errorf("acme's console session GET /console%s: %d, want 404 without other accounts\n%s", p, resp.StatusCode, body)
		}
		if resp, body := portal.do("GET", "/portal"+p, nil); resp.StatusCode != http.StatusNotFound || strings.Contains(body, "globex") {
			t.Errorf("acme's portal session GET /portal%s: %d, want 404\n%s", p, resp.StatusCode, body)
		}
		if resp, _ := portal.do("GET", "/console"+p, nil); resp.StatusCode != http.StatusSeeOther {
			t.Errorf("the portal's cookie opens /console%s: %d, want 303 to the sign-in", p, resp.StatusCode)
		}
	}
	anon := newBrowser(t, h.APIURL())
	for _, p := range opsPages {
		if resp, _ := anon.do("GET", "/console"+p, nil); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/console/signin" {
			t.Errorf("signed out GET /console%s: %d to %q, want 303 to the sign-in", p, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
}

var rateRowRe = regexp.MustCompile(`<tr id="rate-([^"]+)" data-webhook="[^"]+">\s*<td[^>]*>.*?</td>\s*<td data-label="Failure rate"[^>]*>([^<]+)</td>\s*<td[^>]*>(\d+)</td>\s*<td[^>]*>(\d+)</td>`)

// TestConsoleRates: every webhook's last hour from real deliveries, worst
// failure rate first, with its chart (an SVG with a text alternative and a
// table of the buckets) and a link to its logs; ?account= keeps to one.
func TestConsoleRates(t *testing.T) {
	h := opsHub(t, false)
	op := newBrowser(t, h.APIURL())
	op.signIn(opToken)
	resp, page := op.do("GET", "/console/rates", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("rates: %d\n%s", resp.StatusCode, page)
	}
	var got []string
	for _, m := range rateRowRe.FindAllStringSubmatch(page, -1) {
		got = append(got, strings.Join(m[1:], " "))
	}
	want := []string{"wh_bad 66.7% 1 2", "wh_good 0.0% 3 0", "wh_globex no attempts 0 0"}
	if strings.Join(got, " | ") != strings.Join(want, " | ") {
		t.Errorf("the rates:\n got %q\nwant %q", got, want)
	}
	if !regexp.MustCompile(`(?s)<svg class="spark"[^>]*role="img" aria-labelledby="spark-wh_bad">\s*<title id="spark-wh_bad">Last hour in 12 five-minute buckets: 1 delivered, 2 failed; most failures \(2\) in the bucket from \d\d:\d\d UTC.</title>.*?fill="#b42318"`).MatchString(page) {
		t.Errorf("wh_bad has no chart with its failures and a text alternative:\n%s", page)
	}
	if n := strings.Count(page, `<details class="buckets">`); n != 3 {
		t.Errorf("%d tables of buckets, want one a webhook", n)
	}
	if strings.Contains(page, " style=") || strings.Contains(page, "<style") {
		t.Error("the page has inline style, which the CSP refuses")
	}
	if !strings.Contains(page, `href="/console/webhooks/wh_bad/logs"`) {
		t.Error("no link to wh_bad's logs")
	}
	_, page = op.do("GET", "/console/rates?account=globex", nil)
	if strings.Contains(page, `id="rate-wh_bad"`) || !strings.Contains(page, `id="rate-wh_globex"`) {
		t.Error("?account=globex shows another account's webhooks or not its own")
	}
}

// TestConsoleAccounts: every account with "N of M" webhooks, its states,
// its deliveries of the last hour and its links.
func TestConsoleAccounts(t *testing.T) {
	h := opsHub(t, false)
	op := newBrowser(t, h.APIURL())
	op.signIn(opToken)
	resp, page := op.do("GET", "/console/accounts", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("accounts: %d\n%s", resp.StatusCode, page)
	}
	row := func(id string) string {
		m := regexp.MustCompile(`(?s)<tr id="account-` + id + `".*?</tr>`).FindString(page)
		return strings.Join(strings.Fields(regexp.MustCompile(`<[^>]+>`).ReplaceAllString(m, " ")), " ")
	}
	if got := row("acme"); !strings.Contains(got, "2 of 3") || !strings.Contains(got, "2 active, 0 inactive") ||
		!strings.Contains(got, "4 delivered , 2 failed") || !strings.Contains(got, "2 from the config file") {
		t.Errorf("acme's row: %q", got)
	}
	if got := row("globex"); !strings.Contains(got, "1 of 40") || !strings.Contains(got, "0 delivered , 0 failed") {
		t.Errorf("globex's row: %q", got)
	}
	for _, l := range []string{`/console/webhooks#acct-acme`, `/console/rates?account=acme`, `/console/rejected?account=acme`} {
		if !strings.Contains(page, `href="`+l+`"`) {
			t.Errorf("no link %s", l)
		}
	}
}

// TestConsoleRejected: the refused event with its reason, filtered by
// account and time; a time the API refuses is said above the list.
func TestConsoleRejected(t *testing.T) {
	h := opsHub(t, false)
	op := newBrowser(t, h.APIURL())
	op.signIn(opToken)
	resp, page := op.do("GET", "/console/rejected", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("rejected: %d\n%s", resp.StatusCode, page)
	}
	if !strings.Contains(page, "<code>evt_refused</code>") || !regexp.MustCompile(`<td data-label="Reason" class="reason">[^<]*email[^<]*</td>`).MatchString(page) {
		t.Errorf("the refused event and its reason (about its email field) are not listed:\n%s", page)
	}
	if _, page = op.do("GET", "/console/rejected?account=acme", nil); strings.Contains(page, "evt_refused") || !strings.Contains(page, "No rejected event matches") {
		t.Error("the filter by account acme shows globex's refused event")
	}
	future := time.Now().UTC().Add(time.Hour).Format("2006-01-02T15:04")
	if _, page = op.do("GET", "/console/rejected?account=globex&since="+future, nil); strings.Contains(page, "evt_refused") {
		t.Error("the filter since an hour from now shows the refused event")
	}
	if _, page = op.do("GET", "/console/rejected?account=globex&until="+future, nil); !strings.Contains(page, "evt_refused") {
		t.Error("the filter until an hour from now hides the refused event")
	}
	if resp, page = op.do("GET", "/console/rejected?since=yesterday", nil); resp.StatusCode != http.StatusBadRequest || !strings.Contains(page, `<p class="error" role="alert">since`) {
		t.Errorf("a bad time: %d, want 400 with the API's reason above the list\n%s", resp.StatusCode, page)
	}
}

// TestConsoleEgress: the configured ranges, one a line, in a labelled
// read-only field with a copy button.
func TestConsoleEgress(t *testing.T) {
	h := opsHub(t, false)
	op := newBrowser(t, h.APIURL())
	op.signIn(opToken)
	_, page := op.do("GET", "/console/egress", nil)
	if !regexp.MustCompile(`<label for="e-ranges">[^<]+</label>\s*<textarea id="e-ranges"[^>]*readonly[^>]*>203.0.113.0/24\n2001:db8:42::/48</textarea>`).MatchString(page) {
		t.Errorf("the ranges are not in a labelled read-only field:\n%s", page)
	}
	if !strings.Contains(page, `data-copy="e-ranges"`) {
		t.Error("no copy button")
	}
}

// History is what writeHistory writes: per five-minute bucket, from 55
// minutes ago, wh_good's deliveries and wh_bad's deliveries and failures.
var history = struct{ good, badOK, badFailed [11]int }{
	good:      [11]int{4, 6, 5, 7, 9, 6, 4, 5, 8, 6, 7},
	badOK:     [11]int{3, 3, 2, 3, 1, 0, 0, 1, 2, 3, 3},
	badFailed: [11]int{0, 0, 1, 0, 2, 4, 5, 3, 1, 0, 0},
}

func writeHistory(t *testing.T, h *hub.Hub) {
	t.Helper()
	n := bus.NewNames("hookhub")
	js := h.JetStream()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	start := time.Now().Add(-57 * time.Minute)
	seq := 0
	put := func(wh, outcome string, at time.Time) {
		seq++
		rec := delivery.Attempt{Job: fmt.Sprintf("old%d:%s", seq, wh), Webhook: wh, Account: "acme", EventID: fmt.Sprintf("old%d", seq),
			EventType: "contact.created", Attempt: 1, Outcome: outcome, Status: 200, At: at}
		if outcome != delivery.OutcomeDelivered {
			rec.Status = 500
		}
		b, _ := json.Marshal(rec)
		if _, err := js.Publish(ctx, n.Attempt("acme", wh), b); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 11 {
		at := start.Add(time.Duration(i) * 5 * time.Minute)
		for range history.good[i] {
			put("wh_good", delivery.OutcomeDelivered, at)
		}
		for range history.badOK[i] {
			put("wh_bad", delivery.OutcomeDelivered, at)
		}
		for range history.badFailed[i] {
			put("wh_bad", delivery.OutcomeDead, at)
		}
	}
}

// BenchmarkConsoleRates40 draws the rates page over 40 webhooks (one
// account at its default limit), each with a bucket count call to the
// real API of a hub, over loopback; and the accounts page, which sums the
// same counts.
func BenchmarkConsoleRates40(b *testing.B) {
	h := hubtest.StartHub(b, fmt.Sprintf(`{"api_addr":"127.0.0.1:0","api_token":%q,"accounts":[{"id":"acme"}]}`, opToken), nil)
	for i := range 40 {
		req, _ := http.NewRequest("POST", h.APIURL()+"/v1/webhooks", strings.NewReader(fmt.Sprintf(
			`{"account":"acme","name":"hook %d","url":"https://hooks%d.example.com/in","events":["contact.*"]}`, i, i)))
		req.Header.Set("Authorization", "Bearer "+opToken)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != http.StatusCreated {
			b.Fatalf("create %d: %v %v", i, err, resp)
		}
		resp.Body.Close()
	}
	br := newBrowser(b, h.APIURL())
	br.signIn(opToken)
	for _, p := range []string{"rates", "accounts"} {
		b.Run(p, func(b *testing.B) {
			for range b.N {
				if resp, body := br.do("GET", "/console/"+p, nil); resp.StatusCode != http.StatusOK || (p == "rates" && strings.Count(body, `<tr id="rate-`) != 40) {
					b.Fatalf("%s: %d, %d rows", p, resp.StatusCode, strings.Count(body, `<tr id="rate-`))
				}
			}
		})
	}
}
