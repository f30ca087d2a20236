package webhooks_test

import (
	"encoding/json"
	"fmt"
	"sort"
	"testing"

	"github.com/hookhub/hookhub/hub/config"
	"github.com/hookhub/hookhub/hub/internal/webhooks"
	"github.com/hookhub/hookhub/sdk/event"
)

const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

func hook(t testing.TB, id, account string, events ...string) *webhooks.Webhook {
	w, err := webhooks.New(config.Webhook{ID: id, Account: account, URL: "https://example.com/" + id, Events: events, Secret: secret}, config.Retry{}, true)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func ids(ws []*webhooks.Webhook) string {
	out := ""
	for _, w := range ws {
		out += w.ID + " "
	}
	return out
}

func TestMatchIndex(t *testing.T) {
	off := hook(t, "off", "acme", "*")
	no := false
	off.Active = &no
	s := webhooks.NewSnapshot([]*webhooks.Webhook{
		hook(t, "both", "acme", "contact.updated", "contact.*"), // exact and wildcard: once
		hook(t, "exact", "acme", "contact.updated"),
		hook(t, "prefix", "acme", "contact.*"),
		hook(t, "other", "acme", "email.*"),
		hook(t, "elsewhere", "globex", "*"),
		off,
	})
	e := &event.Event{Type: "contact.updated", Account: "acme", Data: json.RawMessage(`{}`)}
	got := s.Match(e, nil)
	sort.Slice(got, func(i, j int) bool { return got[i].ID < got[j].ID })
	if ids(got) != "both exact prefix " {
		t.Errorf("Match = %q, want both, exact and prefix, each once", ids(got))
	}
	if got := s.Match(&event.Event{Type: "deal.created", Account: "nobody"}, nil); len(got) != 0 {
		t.Errorf("unknown account matched %v", ids(got))
	}
}

// BenchmarkMatch routes one event in an account of n webhooks, one of which
// matches: the cost must not grow with n.
func BenchmarkMatch(b *testing.B) {
	for _, c := range []struct {
		n      int
		events []string
	}{{10, []string{"contact.updated"}}, {10000, []string{"contact.updated"}},
		// Brevo-style: a category with single events left out.
		{10, []string{"contact.*", "!contact.deleted", "!contact.note_added"}}, {10000, []string{"contact.*", "!contact.deleted", "!contact.note_added"}}} {
		n := c.n
		name := fmt.Sprintf("webhooks=%d", n)
		if len(c.events) > 1 {
			name += "/exclusions"
		}
		b.Run(name, func(b *testing.B) {
			ws := []*webhooks.Webhook{hook(b, "match", "acme", c.events...)}
			for i := range n - 1 {
				ws = append(ws, hook(b, fmt.Sprintf("w%d", i), "acme", fmt.Sprintf("deal.t%d", i)))
			}
			s := webhooks.NewSnapshot(ws)
			e := &event.Event{Type: "contact.updated", Account: "acme"}
			var dst []*webhooks.Webhook
			b.ReportAllocs()
			for b.Loop() {
				dst = s.Match(e, dst[:0])
			}
			if len(dst) != 1 {
				b.Fatalf("matched %d", len(dst))
			}
		})
	}
}

// TestMatchExclusions: Brevo-style selection, a category on and single
// events off. An exclusion wins over any inclusion, exact or wildcard, and
// the index still finds the webhook for the other types.
func TestMatchExclusions(t *testing.T) {
	s := webhooks.NewSnapshot([]*webhooks.Webhook{
		hook(t, "no-opens", "acme", "email.*", "!email.opened", "!email.proxy_opened"),
		hook(t, "all-but-sms", "acme", "*", "!sms.*"),
		hook(t, "exact-excluded", "acme", "email.opened", "contact.updated", "!email.*"),
	})
	for typ, want := range map[string]string{
		"email.opened":       "all-but-sms ",
		"email.proxy_opened": "all-but-sms ",
		"email.clicked":      "all-but-sms no-opens ",
		"sms.sent":           "",
		"contact.updated":    "all-but-sms exact-excluded ",
		"deal.created":       "all-but-sms ",
	} {
		got := s.Match(&event.Event{Type: typ, Account: "acme"}, nil)
		sort.Slice(got, func(i, j int) bool { return got[i].ID < got[j].ID })
		if ids(got) != want {
			t.Errorf("%s matched %q, want %q", typ, ids(got), want)
		}
	}
}

// TestExcludeImports: a webhook with exclude_imports leaves out events
// caused by an import (via import), and only those.
func TestExcludeImports(t *testing.T) {
	w := hook(t, "no-imports", "acme", "contact.*")
	w.ExcludeImports = true
	all := hook(t, "all", "acme", "contact.*")
	for _, c := range []struct {
		via  string
		want bool
	}{{"import", false}, {"", true}, {"automation", true}} {
		e := &event.Event{Type: "contact.subscribed", Account: "acme", Initiator: "system", Via: c.via}
		if got := w.Matches(e); got != c.want {
			t.Errorf("exclude_imports, via %q: Matches = %v, want %v", c.via, got, c.want)
		}
		if !all.Matches(e) {
			t.Errorf("without exclude_imports, via %q: not matched", c.via)
		}
	}
}
