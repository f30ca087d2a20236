package schemas_test

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"slices"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/hookhub/hookhub/schemas"
)

// wantTypes is the catalog the seed providers call for; removing one fails.
var wantTypes = strings.Fields(`
email.delivered email.opened email.clicked email.soft_bounced email.hard_bounced email.spam email.unsubscribed
email.blocked email.deferred email.invalid email.error email.proxy_opened email.first_opened
transactional.sent transactional.delivered transactional.opened transactional.clicked transactional.soft_bounced
transactional.hard_bounced transactional.spam transactional.blocked transactional.deferred transactional.invalid
transactional.error transactional.unsubscribed
contact.created contact.updated contact.deleted contact.subscribed contact.unsubscribed contact.list_moved
contact.email_changed contact.field_changed list.contact_added list.contact_removed
deal.created deal.updated deal.deleted deal.stage_changed account.created account.updated account.deleted
campaign.sent campaign.forwarded campaign.replied campaign.shared
sms.sent sms.delivered sms.soft_bounced sms.hard_bounced sms.replied sms.unsubscribed import.finished
transactional.first_opened transactional.proxy_opened form.submitted form.confirmed sms.clicked
contact.account_added contact.account_updated contact.account_removed contact.note_added contact.tag_added
contact.tag_removed contact.task_added contact.task_completed contact.cleaned
deal.note_added deal.task_added deal.task_completed deal.task_type_added deal.pipeline_added deal.stage_added
list.created order.created order.updated order.deleted product.created product.updated product.deleted
site.page_visited site.event_tracked campaign.started`)

var categories = []string{"account", "campaign", "contact", "deal", "ecommerce", "form", "hub", "import", "list", "marketing", "site", "sms", "transactional"}

func compiler(t *testing.T) *jsonschema.Compiler {
	t.Helper()
	c := jsonschema.NewCompiler()
	err := fs.WalkDir(schemas.FS, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := fs.ReadFile(schemas.FS, path)
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			t.Errorf("%s: %v", path, err)
			return nil
		}
		return c.AddResource(schemas.BaseURL+path, doc)
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCatalogSamplesValidate(t *testing.T) {
	c := compiler(t)
	cat := schemas.Catalog()
	for _, et := range cat {
		sch, err := c.Compile(schemas.BaseURL + "events/" + et.Type + ".schema.json")
		if err != nil {
			t.Errorf("%s: schema does not compile: %v", et.Type, err)
			continue
		}
		if len(et.Sample) == 0 {
			t.Errorf("%s: no sample (examples[0])", et.Type)
			continue
		}
		doc, _ := jsonschema.UnmarshalJSON(bytes.NewReader(et.Sample))
		if err := sch.Validate(doc); err != nil {
			t.Errorf("%s: its own sample does not validate: %v", et.Type, err)
		}
		if !slices.Contains(categories, et.Category) || et.Title == "" || et.Description == "" {
			t.Errorf("%s: category %q, title %q: want a known category, a title and a description", et.Type, et.Category, et.Title)
		}
	}
	for _, want := range wantTypes {
		if _, ok := schemas.Lookup(want); !ok {
			t.Errorf("catalog lacks %s", want)
		}
	}
	if !slices.IsSorted(schemas.Categories()) {
		t.Errorf("Categories() not sorted: %v", schemas.Categories())
	}
	if _, ok := schemas.Lookup("nope.nothing"); ok {
		t.Error("Lookup found a type that is not in the catalog")
	}
}

func TestEventEnvelopeSchema(t *testing.T) {
	sch, err := compiler(t).Compile(schemas.BaseURL + "event.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	valid := `{"specversion":"1.0","id":"evt_2f9c","source":"crm/contacts","type":"contact.updated",
 "time":"2026-11-22T10:00:00Z","datacontenttype":"application/json",
 "account":"acme","initiator":"api","lists":"12,15",
 "data":{"email":"ada@example.com","attributes":{"FIRSTNAME":"Ada"}}}`
	check := func(name, doc string, wantOK bool) {
		var m any
		if err := json.Unmarshal([]byte(doc), &m); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		inst, _ := jsonschema.UnmarshalJSON(strings.NewReader(doc))
		err := sch.Validate(inst)
		if (err == nil) != wantOK {
			t.Errorf("%s: valid = %v, want %v (%v)", name, err == nil, wantOK, err)
		}
	}
	check("DESIGN.md example", valid, true)
	check("no account", strings.Replace(valid, `"account":"acme",`, "", 1), false)
	check("bad initiator", strings.Replace(valid, `"initiator":"api"`, `"initiator":"robot"`, 1), false)
	check("one-token type", strings.Replace(valid, `"type":"contact.updated"`, `"type":"x"`, 1), false)
	check("id with a space", strings.Replace(valid, `"id":"evt_2f9c"`, `"id":"evt 2f9c"`, 1), false)
}

// TestWebhookInputMatchesWebhook: the API's webhook_input has exactly the
// properties of the config's webhook; only what is required differs.
func TestWebhookInputMatchesWebhook(t *testing.T) {
	b, _ := schemas.FS.ReadFile("config.schema.json")
	var d struct {
		Defs map[string]struct {
			Properties json.RawMessage `json:"properties"`
		} `json:"$defs"`
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	if string(d.Defs["webhook"].Properties) != string(d.Defs["webhook_input"].Properties) {
		t.Error("config.schema.json: $defs.webhook_input.properties differ from $defs.webhook.properties; keep them the same")
	}
}
