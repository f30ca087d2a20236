package hub_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hookhub/hookhub/hub/hubtest"
	"github.com/hookhub/hookhub/hub/internal/bus"
	"github.com/hookhub/hookhub/sdk/event"
	"github.com/hookhub/hookhub/sdk/publish"
)

// TestOrderedDelivery: an ordered webhook (key data.email) gets each key's
// events strictly in publish order, even when one of them fails twice and is
// retried; that failure holds back its own key and no other; an event that
// fails for good is dead-lettered and its key goes on.
func TestOrderedDelivery(t *testing.T) {
	var mu sync.Mutex
	var log []string // "<email> <n> <status>" in arrival order
	fails := map[string]int{"a@x.io 2": 2, "c@x.io 1": 99}
	rc := hubtest.NewReceiver(t)
	rc.SetRespond(func(n int, w http.ResponseWriter, _ *http.Request) {
		email, num := keyed(rc, n)
		k := fmt.Sprintf("%s %d", email, num)
		mu.Lock()
		status := http.StatusOK
		if fails[k] > 0 {
			fails[k]--
			status = http.StatusServiceUnavailable
		}
		log = append(log, fmt.Sprintf("%s %d", k, status))
		mu.Unlock()
		w.WriteHeader(status)
	})
	doc := `{"webhooks":[` + webhookJSON("ordered", "acme", rc.URL, `"events":["*"],"ordering":{"key":"data.email"},"retry":{"schedule":["300ms","300ms"],"jitter":0}`) + `]}`
	r := startHub(t, doc, nil)
	const per = 5
	for n := 1; n <= per; n++ {
		for _, email := range []string{"a@x.io", "b@x.io", "c@x.io"} {
			r.publish(t, &event.Event{ID: fmt.Sprintf("evt_%s_%d", email[:1], n), Type: "contact.updated", Account: "acme",
				Data: json.RawMessage(fmt.Sprintf(`{"email":%q,"n":%d}`, email, n))})
		}
	}
	// a: 5 delivered (one after two failures); b: 5; c: 4 delivered, 1 dead.
	deadline := time.Now().Add(30 * time.Second)
	for s := r.Stats(); s.Delivered != 14 || s.DeadLettered != 1; s = r.Stats() {
		if time.Now().After(deadline) {
			mu.Lock()
			t.Fatalf("after 30s: %+v; arrivals:\n%s", s, strings.Join(log, "\n"))
		}
		time.Sleep(20 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	next := map[string]int{"a@x.io": 1, "b@x.io": 1, "c@x.io": 1}
	bDoneAt, aRetriedAt := -1, -1
	for i, line := range log {
		var email string
		var n, status int
		fmt.Sscanf(line, "%s %d %d", &email, &n, &status)
		if n != next[email] {
			t.Fatalf("arrival %d: %q out of order, expected %s %d next; all:\n%s", i, line, email, next[email], strings.Join(log, "\n"))
		}
		if status == http.StatusOK || (email == "c@x.io" && n == 1 && i == lastIndex(log, "c@x.io 1 ")) {
			next[email]++
		}
		if email == "b@x.io" && n == per {
			bDoneAt = i
		}
		if line == "a@x.io 2 200" {
			aRetriedAt = i
		}
	}
	if bDoneAt < 0 || aRetriedAt < 0 || bDoneAt > aRetriedAt {
		t.Errorf("key b was held back by key a's retries (b done at %d, a's retry delivered at %d):\n%s", bDoneAt, aRetriedAt, strings.Join(log, "\n"))
	}
	dl := r.waitStream(t, streamName("hookhub", "DLQ"), 1, 10*time.Second)
	if id := dl[0].Headers().Get(bus.HeaderEventID); id != "evt_c_1" {
		t.Errorf("dead letter is %s, want evt_c_1", id)
	}
	if got := countPrefix(log, "c@x.io 1 "); got != 3 {
		t.Errorf("c's first event was tried %d times, want 3 (the schedule's two retries)", got)
	}
}

func lastIndex(lines []string, prefix string) int {
	last := -1
	for i, l := range lines {
		if strings.HasPrefix(l, prefix) {
			last = i
		}
	}
	return last
}

func countPrefix(lines []string, prefix string) (n int) {
	for _, l := range lines {
		if strings.HasPrefix(l, prefix) {
			n++
		}
	}
	return n
}

// TestOrderedAcrossHubs: three hubs share one NATS server; the ordered
// webhook's events still arrive in publish order per key (one hub holds the
// pinned sequencer), with failures and retries along the way, and none is
// lost.
func TestOrderedAcrossHubs(t *testing.T) {
	if testing.Short() {
		t.Skip("runs three hubs")
	}
	ns := hubtest.StartNATS(t)
	var mu sync.Mutex
	next := map[string]int{}
	var outOfOrder []string
	delivered := 0
	rc := hubtest.NewReceiver(t)
	rc.SetRespond(func(n int, w http.ResponseWriter, _ *http.Request) {
		email, num := keyed(rc, n)
		if n%7 == 0 { // a failure now and then: retried in place
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if num != next[email]+1 {
			outOfOrder = append(outOfOrder, fmt.Sprintf("%s %d after %d", email, num, next[email]))
		}
		next[email] = num
		delivered++
		w.WriteHeader(http.StatusOK)
	})
	doc := fmt.Sprintf(`{"nats_url":%q,"webhooks":[%s]}`, ns.ClientURL(),
		webhookJSON("ordered", "acme", rc.URL, `"events":["*"],"ordering":{"key":"data.email"},"retry":{"schedule":["100ms","100ms","100ms"],"jitter":0}`))
	for range 3 {
		hubtest.StartHub(t, doc, nil)
	}
	nc, err := nats.Connect(ns.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	const per, keys = 40, 4
	for n := 1; n <= per; n++ {
		for k := range keys {
			e := &event.Event{ID: fmt.Sprintf("evt_k%d_%d", k, n), Type: "contact.updated", Account: "acme", Source: "test",
				Data: json.RawMessage(fmt.Sprintf(`{"email":"k%d@x.io","n":%d}`, k, n))}
			if err := hubtest.PublishUntilStored(publish.New(js, "hookhub"), e, 10*time.Second); err != nil {
				t.Fatal(err)
			}
		}
	}
	hubtest.Eventually(t, 60*time.Second, "every event delivered", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return delivered >= per*keys
	})
	mu.Lock()
	defer mu.Unlock()
	if len(outOfOrder) > 0 || delivered != per*keys {
		t.Errorf("%d delivered, out of order: %v", delivered, outOfOrder)
	}
}

// keyed reads the key (data.email) and number (data.n) of the nth request a
// receiver got; its handler has read the body already.
func keyed(rc *hubtest.Receiver, n int) (email string, num int) {
	var body struct {
		Data struct {
			Email string `json:"email"`
			N     int    `json:"n"`
		} `json:"data"`
	}
	_ = json.Unmarshal(rc.Requests()[n-1].Body, &body)
	return body.Data.Email, body.Data.N
}

// TestOrderedEventCanBeResent: an event that only ordered webhooks receive
// is kept for resends before it is delivered, as any other.
func TestOrderedEventCanBeResent(t *testing.T) {
	rc := hubtest.NewReceiver(t)
	r, a := startAPIHub(t, `{"webhooks":[`+webhookJSON("ordered", "acme", rc.URL, `"events":["*"],"ordering":{"key":"data.email"}`)+`]}`)
	r.publish(t, contact("evt_ordered_again"))
	rc.WaitFor(t, 1, 10*time.Second)
	if code, m := a.call("POST", "/v1/webhooks/ordered/resend", `{"event_id":"evt_ordered_again"}`); code != 202 {
		t.Fatalf("resend: %d %v", code, m)
	}
	reqs := rc.WaitFor(t, 2, 10*time.Second)
	if reqs[1].Header.Get("webhook-id") != "evt_ordered_again:ordered" || string(reqs[1].Body) != string(reqs[0].Body) {
		t.Errorf("resent request differs: %s %s", reqs[1].Header.Get("webhook-id"), reqs[1].Body)
	}
}

// TestOrderedBacklogHoldsUpNoOtherAccount: acme's ordered webhook fails
// and waits an hour for its retry, with more of its events behind it than
// one sequencer consumer hands out (10,000 before each account had its
// own); beta's ordered webhook still gets beta's event at once.
func TestOrderedBacklogHoldsUpNoOtherAccount(t *testing.T) {
	if testing.Short() {
		t.Skip("publishes 10,100 events")
	}
	stuck, other := hubtest.NewReceiver(t), hubtest.NewReceiver(t)
	stuck.SetRespond(func(_ int, w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) })
	doc := `{"webhooks":[` +
		webhookJSON("stuck", "acme", stuck.URL, `"events":["*"],"ordering":{"key":"account"},"retry":{"schedule":["1h"],"jitter":0}`) + "," +
		webhookJSON("other", "beta", other.URL, `"events":["*"],"ordering":{"key":"data.email"}`) + `]}`
	r := startHub(t, doc, nil)
	// One message each: a consumer's bound counts messages (a batch is one).
	js := r.JetStream()
	for i, raw := range batchOf("acme", "evt_stuck", 0, 10100) {
		m := nats.NewMsg("hookhub.events.acme.contact.updated")
		m.Header.Set(jetstream.MsgIDHeader, fmt.Sprintf("acme:evt_stuck%d", i))
		m.Data = []byte(raw)
		publishAsync(t, js, "an event", func() error { _, err := js.PublishMsgAsync(m); return err })
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-time.After(30 * time.Second):
		t.Fatal("acme's events not stored within 30 s")
	}
	stuck.WaitFor(t, 1, 30*time.Second)
	// The sequencer has taken what it may of acme's (at least a second at
	// this rate), so beta's comes after it in the stream.
	hubtest.Eventually(t, 60*time.Second, "acme's backlog held", func() bool {
		info, err := js.Consumer(t.Context(), streamName("hookhub", "EVENTS"), bus.NewNames("hookhub").Sequencer("acme"))
		if err != nil {
			info, err = js.Consumer(t.Context(), streamName("hookhub", "EVENTS"), "sequencer")
		}
		return err == nil && info.CachedInfo().NumAckPending >= 1000
	})
	r.publish(t, &event.Event{ID: "evt_beta_1", Type: "contact.updated", Account: "beta",
		Data: json.RawMessage(`{"email":"b@x.io"}`)})
	if got := other.WaitFor(t, 1, 20*time.Second); len(got) != 1 {
		t.Errorf("beta's ordered webhook got %d requests, want 1", len(got))
	}
	if n := stuck.Count(); n != 1 {
		t.Errorf("acme's stuck webhook got %d requests, want its first attempt only", n)
	}
}

// TestEveryAccountsSequencerIsRead: a sequencer consumer made after the
// hub started, for an account with no ordered webhook here (another hub
// made it, or the webhook is gone), is found at the hub's next look (every
// 30 s) and read, so it does not keep the account's events in the stream.
func TestEveryAccountsSequencerIsRead(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the hub's 30 s look")
	}
	r := startHub(t, `{"webhooks":[]}`, nil)
	time.Sleep(2 * time.Second) // the hub's first look done: the consumer comes after it
	js := r.JetStream()
	n := bus.NewNames("hookhub")
	if _, err := js.CreateConsumer(t.Context(), streamName("hookhub", "EVENTS"), jetstream.ConsumerConfig{
		Durable: n.Sequencer("gone"), AckPolicy: jetstream.AckExplicitPolicy, FilterSubjects: n.EventsOf("gone"),
		PriorityPolicy: jetstream.PriorityPolicyPinned, PriorityGroups: []string{bus.SequencerGroup}, PinnedTTL: 30 * time.Second,
	}); err != nil {
		t.Fatal(err)
	}
	const subject = "hookhub.events.gone.contact.updated"
	for i := range 3 {
		publishRaw(t, r, subject, "", fmt.Sprintf(`{"specversion":"1.0","id":"g%d","source":"s","type":"contact.updated","account":"gone","data":{"email":"a@example.com"}}`, i))
	}
	hubtest.Eventually(t, 45*time.Second, "the account's events read and gone from the stream", func() bool {
		st, err := js.Stream(t.Context(), streamName("hookhub", "EVENTS"))
		if err != nil {
			return false
		}
		info, err := st.Info(t.Context(), jetstream.WithSubjectFilter(subject))
		return err == nil && info.State.Subjects[subject] == 0
	})
}
