package hub_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/hookhub/hookhub/hub"
	"github.com/hookhub/hookhub/hub/internal/admin"
)

// startLoggedAPIHub is startAPIHub with the hub's warnings in logs.
func startLoggedAPIHub(t *testing.T, doc string, logs *syncBuffer, level zerolog.Level) (*running, *api) {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(doc), &m); err != nil {
		t.Fatal(err)
	}
	m["api_addr"], m["api_token"] = "127.0.0.1:0", apiToken
	raw, _ := json.Marshal(m)
	r := startHub(t, string(raw), nil, hub.WithLogger(zerolog.New(logs).Level(level)))
	return r, &api{t: t, base: r.APIURL(), doc: loadOpenAPI(t)}
}

// TestAPIRejectedEvents: the events the router refused are listed, newest
// first, with their id, account (from the subject), reason, time and the raw
// event cut to a few KiB; an account token sees only its account's, and an
// event whose subject names no account is the API token's alone. The log
// line of each names its event id and account.
func TestAPIRejectedEvents(t *testing.T) {
	const acmeTok, globexTok = "acme-token-for-tests", "globex-token-for-tests"
	var logs syncBuffer
	r, a := startLoggedAPIHub(t, `{"accounts":[{"id":"acme","api_token":"`+acmeTok+`"},{"id":"globex","api_token":"`+globexTok+`"}]}`, &logs, zerolog.WarnLevel)
	big := strings.Repeat("é", 6000) // 12 KB of two-byte characters
	// One at a time: the router takes events in parallel, and the list is
	// in the order they were rejected.
	publishRaw(t, r, "hookhub.events.acme.contact.updated", "",
		`{"specversion":"1.0","id":"evt_bad_acme","source":"s","type":"contact.updated","account":"acme","data":{"email":7,"note":"`+big+`"}}`)
	rejectedReasons(t, r, 1)
	publishRaw(t, r, "hookhub.events.globex.contact.updated", "globex:evt_bad_globex", `not json at all`)
	rejectedReasons(t, r, 2)
	publishRaw(t, r, "hookhub.events.no!such!account.contact.updated", "", `{"id":"evt_nobody"}`)
	rejectedReasons(t, r, 3)

	list := func(tok, query string) (int, []map[string]any) {
		t.Helper()
		code, m, raw := a.do("GET", "/v1/rejected-events"+query, "", tok)
		var out struct{ Data []map[string]any }
		_ = json.Unmarshal(raw, &out)
		if code == 200 && out.Data == nil {
			t.Errorf("GET /v1/rejected-events%s: no data: %v", query, m)
		}
		return code, out.Data
	}
	code, all := list(apiToken, "")
	if code != 200 || len(all) != 3 {
		t.Fatalf("the API token lists: %d %v", code, all)
	}
	wantOrder := []struct{ id, account string }{{"evt_nobody", ""}, {"evt_bad_globex", "globex"}, {"evt_bad_acme", "acme"}}
	for i, w := range wantOrder {
		if all[i]["event_id"] != w.id || all[i]["account"] != w.account || all[i]["reason"] == "" || all[i]["time"] == "" {
			t.Errorf("rejected[%d]: event %v of account %v (reason %v, time %v), want event %q of account %q, newest first, with a reason and time",
				i, all[i]["event_id"], all[i]["account"], all[i]["reason"], all[i]["time"], w.id, w.account)
		}
	}
	acme := all[2]
	if ev, _ := acme["event"].(string); len(ev) > admin.RejectedEventMax || !strings.HasPrefix(ev, `{"specversion":"1.0","id":"evt_bad_acme"`) ||
		acme["truncated"] != true || !strings.Contains(acme["reason"].(string), "data.email") {
		t.Errorf("acme's rejected event: %d bytes, truncated %v, reason %v", len(ev), acme["truncated"], acme["reason"])
	}
	if all[1]["event"] != "not json at all" || all[1]["truncated"] == true {
		t.Errorf("globex's raw event: %.100v", all[1]["event"])
	}

	if code, got := list(acmeTok, ""); code != 200 || len(got) != 1 || got[0]["event_id"] != "evt_bad_acme" {
		t.Errorf("acme's token lists: %d %v, want only evt_bad_acme", code, got)
	}
	if code, got := list(globexTok, "?account=globex"); code != 200 || len(got) != 1 || got[0]["event_id"] != "evt_bad_globex" {
		t.Errorf("globex's token lists its own: %d %v", code, got)
	}
	if code, _, _ := a.do("GET", "/v1/rejected-events?account=globex", "", acmeTok); code != 403 {
		t.Errorf("acme's token asks for globex's: %d, want 403", code)
	}
	if code, got := list(apiToken, "?account=acme&limit=5"); code != 200 || len(got) != 1 || got[0]["event_id"] != "evt_bad_acme" {
		t.Errorf("the API token, account=acme: %d %v", code, got)
	}
	if code, got := list(apiToken, "?limit=1"); code != 200 || len(got) != 1 || got[0]["event_id"] != "evt_nobody" {
		t.Errorf("limit=1: %d %v, want the newest", code, got)
	}
	if code, _, _ := a.do("GET", "/v1/rejected-events?limit=0", "", apiToken); code != 400 {
		t.Errorf("limit=0: %d, want 400", code)
	}

	for id, account := range map[string]string{"evt_bad_acme": "acme", "evt_bad_globex": "globex", "evt_nobody": ""} {
		found := false
		for _, line := range strings.Split(logs.String(), "\n") {
			var l map[string]any
			if json.Unmarshal([]byte(line), &l) == nil && l["message"] == "event rejected" && l["event"] == id {
				found = true
				if got, _ := l["account"].(string); got != account {
					t.Errorf("the log line of %s names account %q, want %q", id, got, account)
				}
			}
		}
		if !found {
			t.Errorf("no \"event rejected\" log line names event %s:\n%s", id, logs.String())
		}
	}
}
