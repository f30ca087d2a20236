package schemas_test

import (
	"strings"
	"testing"

	"github.com/hookhub/hookhub/schemas"
)

// providerEvents is every event the seed providers offer, by the
// provider's own name (../shared/PROVIDERS.md, from their help-center
// articles), and the catalog type that stands for it. A platform moving
// from one of them must find each; the provider's name must find the type
// through the catalog's search too (its title, description or aliases), so
// a customer who searches by the name they know gets there.
var providerEvents = []struct{ provider, event, search, typ string }{
	// Brevo (classic and new), marketing email.
	{"Brevo", "marked as spam", "marked as spam", "email.spam"},
	{"Brevo", "hard bounce", "hard bounce", "email.hard_bounced"},
	{"Brevo", "delivered", "delivered", "email.delivered"},
	{"Brevo", "opened", "opened", "email.opened"},
	{"Brevo", "unsubscribed", "unsubscribed", "email.unsubscribed"},
	{"Brevo", "clicked", "clicked", "email.clicked"},
	{"Brevo", "soft bounce", "soft bounce", "email.soft_bounced"},
	{"Brevo", "contact added to a list", "added to list", "list.contact_added"},
	{"Brevo", "contact updated", "contact updated", "contact.updated"},
	{"Brevo", "contact deleted", "contact deleted", "contact.deleted"},
	// Brevo, transactional email.
	{"Brevo", "transactional sent", "sent", "transactional.sent"},
	{"Brevo", "transactional delivered", "delivered", "transactional.delivered"},
	{"Brevo", "transactional first opened", "first opened", "transactional.first_opened"},
	{"Brevo", "transactional opened", "opened", "transactional.opened"},
	{"Brevo", "transactional loaded by proxy", "loaded by proxy", "transactional.proxy_opened"},
	{"Brevo", "transactional clicked", "clicked", "transactional.clicked"},
	{"Brevo", "transactional soft bounce", "soft bounce", "transactional.soft_bounced"},
	{"Brevo", "transactional hard bounce", "hard bounce", "transactional.hard_bounced"},
	{"Brevo", "transactional invalid", "invalid", "transactional.invalid"},
	{"Brevo", "transactional error", "error", "transactional.error"},
	{"Brevo", "transactional deferred", "deferred", "transactional.deferred"},
	{"Brevo", "transactional complaint", "complaint", "transactional.spam"},
	{"Brevo", "transactional unsubscribed", "unsubscribed", "transactional.unsubscribed"},
	{"Brevo", "transactional blocked", "blocked", "transactional.blocked"},
	// Brevo (new), the other categories.
	{"Brevo", "form submitted", "form submitted", "form.submitted"},
	{"Brevo", "double opt-in confirmed", "double opt-in confirmed", "form.confirmed"},
	{"Brevo", "deal created", "deal", "deal.created"},
	// GetResponse.
	{"GetResponse", "message opened", "message opened", "email.opened"},
	{"GetResponse", "link clicked", "link clicked", "email.clicked"},
	{"GetResponse", "contact subscribed", "contact subscribed", "contact.subscribed"},
	{"GetResponse", "contact unsubscribed", "contact unsubscribed", "contact.unsubscribed"},
	{"GetResponse", "contact moved from one list to another", "moved to another list", "contact.list_moved"},
	{"GetResponse", "SMS link clicked", "sms link clicked", "sms.clicked"},
	{"GetResponse", "contact's email address changed", "email address changed", "contact.email_changed"},
	{"GetResponse", "custom field value changed", "custom field value changed", "contact.field_changed"},
	{"GetResponse", "import finished", "import finished", "import.finished"},
	// ActiveCampaign, standard objects.
	{"ActiveCampaign", "account added", "account added", "account.created"},
	{"ActiveCampaign", "account updated", "account updated", "account.updated"},
	{"ActiveCampaign", "campaign forwarded", "forwarded", "campaign.forwarded"},
	{"ActiveCampaign", "campaign opened", "campaign opened", "email.opened"},
	{"ActiveCampaign", "campaign shared", "shared", "campaign.shared"},
	{"ActiveCampaign", "campaign starts sending", "starts sending", "campaign.started"},
	{"ActiveCampaign", "contact added", "contact added", "contact.created"},
	{"ActiveCampaign", "contact updated", "contact updated", "contact.updated"},
	{"ActiveCampaign", "contact added to an account", "contact added to account", "contact.account_added"},
	{"ActiveCampaign", "contact updated in an account", "contact updated in account", "contact.account_updated"},
	{"ActiveCampaign", "contact removed from an account", "contact removed from account", "contact.account_removed"},
	{"ActiveCampaign", "contact note added", "note added", "contact.note_added"},
	{"ActiveCampaign", "contact tag added", "tag added", "contact.tag_added"},
	{"ActiveCampaign", "contact tag removed", "tag removed", "contact.tag_removed"},
	{"ActiveCampaign", "contact task added", "task added", "contact.task_added"},
	{"ActiveCampaign", "contact task completed", "task completed", "contact.task_completed"},
	{"ActiveCampaign", "contact unsubscribed", "unsubscribe", "contact.unsubscribed"},
	{"ActiveCampaign", "deal added", "deal added", "deal.created"},
	{"ActiveCampaign", "deal updated", "deal updated", "deal.updated"},
	{"ActiveCampaign", "deal note added", "note added", "deal.note_added"},
	{"ActiveCampaign", "deal pipeline added", "pipeline added", "deal.pipeline_added"},
	{"ActiveCampaign", "deal stage added", "stage added", "deal.stage_added"},
	{"ActiveCampaign", "deal task added", "task added", "deal.task_added"},
	{"ActiveCampaign", "deal task completed", "task completed", "deal.task_completed"},
	{"ActiveCampaign", "deal task type added", "task type added", "deal.task_type_added"},
	{"ActiveCampaign", "email bounced (hard)", "bounced", "email.hard_bounced"},
	{"ActiveCampaign", "email bounced (soft)", "bounced", "email.soft_bounced"},
	{"ActiveCampaign", "email replied", "replied", "campaign.replied"},
	{"ActiveCampaign", "link clicked", "link clicked", "email.clicked"},
	{"ActiveCampaign", "list added", "list added", "list.created"},
	{"ActiveCampaign", "SMS replied", "sms replied", "sms.replied"},
	{"ActiveCampaign", "SMS sent", "sms sent", "sms.sent"},
	{"ActiveCampaign", "SMS unsubscribed", "sms unsubscribed", "sms.unsubscribed"},
	{"ActiveCampaign", "websites: page visited", "site tracking", "site.page_visited"},
	{"ActiveCampaign", "websites: event tracked", "site tracking", "site.event_tracked"},
	// ActiveCampaign, custom objects (Shopify and WooCommerce).
	{"ActiveCampaign", "orders created", "orders created", "order.created"},
	{"ActiveCampaign", "orders updated", "orders updated", "order.updated"},
	{"ActiveCampaign", "orders deleted", "orders deleted", "order.deleted"},
	{"ActiveCampaign", "products created", "products created", "product.created"},
	{"ActiveCampaign", "products updated", "products updated", "product.updated"},
	{"ActiveCampaign", "products deleted", "products deleted", "product.deleted"},
	// Benchmark Email.
	{"Benchmark Email", "subscribes", "subscribes", "contact.subscribed"},
	{"Benchmark Email", "unsubscribes", "unsubscribes", "contact.unsubscribed"},
	{"Benchmark Email", "profile updates", "profile updates", "contact.updated"},
	{"Benchmark Email", "cleaned addresses", "cleaned", "contact.cleaned"},
	{"Benchmark Email", "changed email addresses", "changed email addresses", "contact.email_changed"},
}

// TestProvidersEventsInCatalog checks each seed provider's events, name by
// name, against the catalog: the type exists, its description names the
// provider, and a search by the provider's word finds it.
func TestProvidersEventsInCatalog(t *testing.T) {
	for _, pe := range providerEvents {
		et, ok := schemas.Lookup(pe.typ)
		if !ok {
			t.Errorf("%s %q: the catalog has no %s", pe.provider, pe.event, pe.typ)
			continue
		}
		if !strings.Contains(et.Description, pe.provider) {
			t.Errorf("%s %q: %s's description does not name %s: %q", pe.provider, pe.event, pe.typ, pe.provider, et.Description)
		}
		if !et.Matches(pe.search) {
			t.Errorf("%s %q: searching %q does not find %s (title %q, aliases %q)", pe.provider, pe.event, pe.search, pe.typ, et.Title, et.Aliases)
		}
	}
}

// TestDescriptionsNameOnlySeedProviders: a description that cites a
// provider must stand for one of that provider's events in the table above
// (no provider cited for an event it does not send).
func TestDescriptionsNameOnlySeedProviders(t *testing.T) {
	cited := map[string]map[string]bool{}
	for _, pe := range providerEvents {
		if cited[pe.typ] == nil {
			cited[pe.typ] = map[string]bool{}
		}
		cited[pe.typ][pe.provider] = true
	}
	for _, et := range schemas.Catalog() {
		for _, p := range []string{"GetResponse", "ActiveCampaign", "Benchmark Email"} {
			// "Brevo sends it for transactional email (transactional.x)" in a
			// marketing type points elsewhere; only the other three are held
			// to the table.
			if strings.Contains(et.Description, p+":") && !cited[et.Type][p] {
				t.Errorf("%s: the description cites %s, which has no such event in PROVIDERS.md: %q", et.Type, p, et.Description)
			}
		}
	}
}

func TestSearchFindsAliases(t *testing.T) {
	for q, want := range map[string]string{
		"complaint": "email.spam", "link clicked": "email.clicked", "added to list": "list.contact_added",
		"Loaded by proxy": "email.proxy_opened", "email_clicked": "email.clicked",
	} {
		found := false
		for _, et := range schemas.Catalog() {
			if et.Matches(q) && et.Type == want {
				found = true
			}
		}
		if !found {
			t.Errorf("searching %q does not find %s", q, want)
		}
	}
	if et, _ := schemas.Lookup("deal.created"); et.Matches("complaint") {
		t.Error("deal.created answers a search for complaint")
	}
}

func TestSuggest(t *testing.T) {
	known := []string{"email.clicked", "email.opened", "email.*", "contact.*", "contact.created", "*"}
	for name, want := range map[string]string{"email.clickd": "email.clicked", "contact": "contact.*", "emial.opened": "email.opened"} {
		got := schemas.Suggest(name, known)
		if len(got) == 0 || got[0] != want {
			t.Errorf("Suggest(%q) = %q, want %q first", name, got, want)
		}
	}
	if got := schemas.Suggest("invoice.paid", known); len(got) != 0 {
		t.Errorf("Suggest(invoice.paid) = %q, want nothing", got)
	}
}
