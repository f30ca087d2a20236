package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/hookhub/hookhub/hub/hubtest"
)

// TestAPICommands drives a real hub's API with the CLI: create, list, get,
// deactivate, attempts, dead letters and redrive, delete.
func TestAPICommands(t *testing.T) {
	rc := hubtest.NewReceiver(t)
	h := hubtest.StartHub(t, `{"api_addr":"127.0.0.1:0","api_token":"tok-for-the-cli-tests"}`, nil)
	api := []string{"--api", h.APIURL(), "--token", "tok-for-the-cli-tests"}
	cli := func(args ...string) (string, string, int) { return runCLI(t, append(args, api...)...) }

	out, errs, code := cli("webhooks", "create", "--id", "wh_cli", "--account", "acme", "--url", rc.URL, "--events", "contact.*")
	if code != 0 || !strings.Contains(out, "its signing secret, shown this once: whsec_") || !strings.Contains(out, "wh_cli") {
		t.Fatalf("create (exit %d): %s%s", code, out, errs)
	}
	out, _, code = cli("webhooks", "list", "--account", "acme")
	if code != 0 || !strings.Contains(out, "wh_cli") || !strings.Contains(out, "contact.*") {
		t.Errorf("list (exit %d): %s", code, out)
	}
	out, _, code = cli("webhooks", "get", "wh_cli", "--json")
	var got map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &got) != nil || got["id"] != "wh_cli" {
		t.Errorf("get --json (exit %d): %s", code, out)
	}
	_, errs, code = cli("webhooks", "create", "--account", "acme", "--url", "ftp://x", "--events", "*")
	if code != 1 || !strings.Contains(errs, "validation_failed") {
		t.Errorf("bad create (exit %d): %s", code, errs)
	}
	rc.SetRespond(nil)
	if _, err := h.JetStream().Publish(t.Context(), "hookhub.events.acme.contact.updated",
		[]byte(`{"specversion":"1.0","id":"evt_cli","source":"t","type":"contact.updated","account":"acme","data":{"email":"a@example.com"}}`)); err != nil {
		t.Fatal(err)
	}
	rc.WaitFor(t, 1, 10*time.Second)
	hubtest.Eventually(t, 5*time.Second, "an attempt in the log", func() bool {
		out, _, _ := cli("attempts", "list", "wh_cli")
		return strings.Contains(out, "evt_cli:wh_cli") && strings.Contains(out, "delivered")
	})
	if out, _, code = cli("dlq", "list", "wh_cli"); code != 0 || !strings.Contains(out, "SEQ") {
		t.Errorf("dlq list (exit %d): %s", code, out)
	}
	if out, _, code = cli("event-types", "--category", "sms"); code != 0 || !strings.Contains(out, "sms.delivered") {
		t.Errorf("event-types (exit %d): %s", code, out)
	}
	if out, _, code = cli("event-types", "email.clicked"); code != 0 || !strings.Contains(out, `"sample"`) {
		t.Errorf("event-types TYPE (exit %d): %s", code, out)
	}
	// The search finds the providers' own names: ActiveCampaign's "tag
	// added", Brevo's "complaint" (email.spam and transactional.spam).
	if out, _, code = cli("event-types", "--search", "tag added"); code != 0 || !strings.Contains(out, "contact.tag_added") || strings.Contains(out, "email.spam") {
		t.Errorf("event-types --search 'tag added' (exit %d): %s", code, out)
	}
	if out, _, code = cli("event-types", "--search", "complaint"); code != 0 || !strings.Contains(out, "email.spam") || !strings.Contains(out, "transactional.spam") {
		t.Errorf("event-types --search complaint (exit %d): %s", code, out)
	}
	// Every type the issue found missing is listed.
	out, _, _ = cli("event-types")
	for _, typ := range strings.Fields(`transactional.first_opened transactional.proxy_opened form.submitted sms.clicked
	  contact.account_added contact.note_added contact.tag_added contact.tag_removed contact.task_added contact.task_completed contact.cleaned
	  deal.note_added deal.task_added deal.task_completed deal.task_type_added deal.pipeline_added deal.stage_added list.created
	  order.created order.updated order.deleted product.created product.updated product.deleted site.page_visited site.event_tracked campaign.started`) {
		if !strings.Contains(out, typ+"\t") && !strings.Contains(out, typ+" ") {
			t.Errorf("event-types does not list %s", typ)
		}
	}
	t.Setenv("HOOKHUB_API_ADDR", h.APIURL())
	t.Setenv("HOOKHUB_API_TOKEN", "tok-for-the-cli-tests")
	if out, errs, code = runCLI(t, "publish", "--via-api", "--account", "acme", "--type", "contact.created", "--id", "evt_via_api"); code != 0 || !strings.Contains(out, "posted evt_via_api") {
		t.Errorf("publish --via-api (exit %d): %s%s", code, out, errs)
	}
	// Delivered and recorded before the test send below, which is to be
	// the newest attempt.
	hubtest.Eventually(t, 10*time.Second, "the API's event in the log", func() bool {
		out, _, _ := cli("attempts", "list", "wh_cli")
		return strings.Contains(out, "evt_via_api:wh_cli")
	})
	if _, errs, code = cli("dlq", "get", "999999"); code != 1 || !strings.Contains(errs, "not_found") {
		t.Errorf("dlq get unknown (exit %d): %s", code, errs)
	}
	if out, _, code = cli("dlq", "redrive", "wh_cli"); code != 0 || !strings.Contains(out, "redrove 0 dead letters") {
		t.Errorf("dlq redrive (exit %d): %s", code, out)
	}
	if out, _, code = cli("test-send", "wh_cli", "--type", "email.clicked"); code != 0 || !strings.HasPrefix(out, "delivered: 200") {
		t.Errorf("test-send (exit %d): %s", code, out)
	}
	// The test send is in the attempt log at once, marked TEST.
	if out, _, code = cli("attempts", "list", "wh_cli", "--limit", "1"); code != 0 || !strings.Contains(out, "TEST delivered") || !strings.Contains(out, ":wh_cli") {
		t.Errorf("attempts list after a test send (exit %d): %s", code, out)
	}
	if out, _, code = cli("deliveries", "list", "wh_cli", "--outcome", "delivered"); code != 0 || !strings.Contains(out, "evt_cli:wh_cli") {
		t.Errorf("deliveries list (exit %d): %s", code, out)
	}
	if out, _, code = cli("webhooks", "resend", "wh_cli", "--event", "evt_cli"); code != 0 || !strings.Contains(out, `"job": "evt_cli:wh_cli"`) {
		t.Errorf("resend (exit %d): %s", code, out)
	}
	if out, _, code = cli("webhooks", "rotate-secret", "wh_cli"); code != 0 || !strings.Contains(out, "shown this once: whsec_") {
		t.Errorf("rotate-secret (exit %d): %s", code, out)
	}
	hubtest.Eventually(t, 5*time.Second, "stats with the deliveries", func() bool {
		out, _, code := cli("webhooks", "stats", "wh_cli", "--json")
		var st map[string]any
		return code == 0 && json.Unmarshal([]byte(out), &st) == nil && st["delivered"] == float64(3) // evt_cli, its resend, evt_via_api; not the test send
	})
	// Without --json, tables as the README shows: attempts by window, then
	// what waits.
	out, _, code = cli("webhooks", "stats", "wh_cli")
	if lines := strings.Split(strings.TrimSpace(out), "\n"); code != 0 || len(lines) != 7 || !strings.HasPrefix(lines[0], "ATTEMPTS") ||
		!strings.HasPrefix(lines[1], "last hour") || strings.Fields(lines[1])[2] != "3" || !strings.HasPrefix(lines[3], "since") ||
		!strings.Contains(lines[5], "LAST SUCCESS") || strings.Contains(out, "{") {
		t.Errorf("stats as a table (exit %d): %s", code, out)
	}
	// update with flags changes only what they name: url, events and secret stay.
	if out, errs, code = cli("webhooks", "update", "wh_cli", "--name", "renamed", "--json"); code != 0 || !strings.Contains(out, `"renamed"`) || !strings.Contains(out, "contact.*") {
		t.Errorf("update --name (exit %d): %s%s", code, out, errs)
	}
	if wh := h.Snapshot().Get("wh_cli"); wh == nil || wh.Name != "renamed" || wh.URL != rc.URL || len(wh.SigningSecrets(time.Now())) != 2 {
		t.Errorf("after update --name: %+v", wh)
	}
	if out, _, code = cli("webhooks", "deactivate", "wh_cli"); code != 0 || !strings.Contains(out, "false") {
		t.Errorf("deactivate (exit %d): %s", code, out)
	}
	if out, _, code = cli("webhooks", "activate", "wh_cli", "--json"); code != 0 || !strings.Contains(out, `"active":true`) {
		t.Errorf("activate (exit %d): %s", code, out)
	}
	if out, _, code = cli("webhooks", "delete", "wh_cli"); code != 0 || !strings.Contains(out, "deleted wh_cli") {
		t.Errorf("delete (exit %d): %s", code, out)
	}
	if _, errs, code = runCLI(t, "webhooks", "list", "--api", h.APIURL(), "--token", "wrong"); code != 1 || !strings.Contains(errs, "unauthorized") {
		t.Errorf("wrong token (exit %d): %s", code, errs)
	}
}
