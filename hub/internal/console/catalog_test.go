package console_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// catalogTypes are the types a catalog page shows, in order.
func catalogTypes(page string) []string {
	var out []string
	for _, m := range regexp.MustCompile(`<article class="etype" id="type-[^"]+" data-type="([^"]+)"`).FindAllStringSubmatch(page, -1) {
		out = append(out, m[1])
	}
	return out
}

// catalogEntry is one type's article in a catalog page ("" when absent).
func catalogEntry(page, typ string) string {
	m := regexp.MustCompile(`(?s)<article class="etype" id="type-` + regexp.QuoteMeta(typ) + `".*?</article>`).FindString(page)
	return m
}

func getCatalog(t *testing.T, b *browser, path string) string {
	t.Helper()
	resp, page := b.do("GET", path, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d\n%s", path, resp.StatusCode, page)
	}
	return page
}

// TestConsoleCatalogListsTypesWithFieldsAndSample: the catalog, linked
// from the top navigation, shows a built-in type under its category with
// its description, also-known-as names, that it carries lists, its
// schema's fields (type, required, description) and its sample.
func TestConsoleCatalogListsTypesWithFieldsAndSample(t *testing.T) {
	h := startHub(t)
	b := newBrowser(t, h.APIURL())
	list := b.signIn(opToken)
	if !strings.Contains(list, `<a href="/console/event-types">Catalog</a>`) {
		t.Fatalf("no Catalog link in the navigation:\n%s", list)
	}
	page := getCatalog(t, b, "/console/event-types")
	if n := len(catalogTypes(page)); n < 50 {
		t.Fatalf("the catalog shows %d types, want the built-in catalog (86)", n)
	}
	marketing := regexp.MustCompile(`(?s)<section class="catalog-group" aria-labelledby="cat-marketing".*?</section>`).FindString(page)
	if !strings.Contains(marketing, `<h2 id="cat-marketing">Marketing email</h2>`) || !strings.Contains(marketing, `data-type="email.clicked"`) {
		t.Fatalf("email.clicked is not under Marketing email:\n%s", marketing)
	}
	e := catalogEntry(page, "email.clicked")
	for _, want := range []string{
		"The contact clicked a link in a marketing email.",
		"Also known as: click, clicked, link clicked",
		"<li>carries lists</li>",
		`<th scope="row"><code>email</code></th><td>string (email)</td><td>required</td><td>The contact's email address.</td>`,
		`<th scope="row"><code>link</code></th><td>string (uri)</td><td>optional</td>`,
		`<th scope="row"><code>contact_id</code></th><td>string or integer</td><td>optional</td><td>Identifier in the sending platform.</td>`,
		`<th scope="row"><code>tags</code></th><td>array of string</td>`,
		"<summary>Sample</summary><pre>{\n  \"",
		`"email": "ada@`,
	} {
		if !strings.Contains(e, want) {
			t.Errorf("email.clicked lacks %q:\n%s", want, e)
		}
	}
	// Required fields come first.
	if strings.Index(e, "<code>email</code></th>") > strings.Index(e, "<code>campaign_id</code></th>") {
		t.Errorf("a required field is not listed first:\n%s", e)
	}
}

// TestConsoleCatalogSearch: the search box (a GET form) narrows the
// catalog by the API's search, which knows also-known-as names.
func TestConsoleCatalogSearch(t *testing.T) {
	h := startHub(t)
	b := newBrowser(t, h.APIURL())
	b.signIn(opToken)
	page := getCatalog(t, b, "/console/event-types")
	if !regexp.MustCompile(`<form method="get" action="/console/event-types"[^>]*>\s*<div class="field"><label for="c-q">Search</label><input id="c-q" name="q"`).MatchString(page) {
		t.Fatalf("no search form:\n%s", page)
	}
	page = getCatalog(t, b, "/console/event-types?q=link+clicked")
	got := catalogTypes(page)
	if !contains(got, "email.clicked") || contains(got, "contact.created") || len(got) > 5 {
		t.Fatalf("searching %q shows %v, want email.clicked among a few", "link clicked", got)
	}
	if !strings.Contains(page, `value="link clicked"`) || !strings.Contains(page, `match “link clicked”`) {
		t.Errorf("the search is not kept in the box and said:\n%s", page)
	}
	page = getCatalog(t, b, "/console/event-types?q=no-such-thing-at-all")
	if len(catalogTypes(page)) != 0 || !strings.Contains(page, "No event type matches this search.") {
		t.Fatalf("a search matching nothing:\n%s", page)
	}
}

// TestConsoleCatalogAccountTypes: a type declared for one account shows in
// that account's session (console token or portal) and not in another's,
// whatever ?account= it sends; the operator sees it by choosing the account.
func TestConsoleCatalogAccountTypes(t *testing.T) {
	h := startTypedHub(t) // invoice.paid declared for acme, billing.reminder for the hub
	if code, m := apiJSON(t, h, "PUT", "/v1/event-types/order.shipped?account=globex",
		`{"category":"orders","description":"An order left the warehouse.","schema":{"type":"object","required":["order_id"],"properties":{"order_id":{"type":"string","description":"The order."}}},"sample":{"order_id":"o_1"}}`); code != http.StatusOK {
		t.Fatalf("declare order.shipped for globex: %d %v", code, m)
	}
	acme := newBrowser(t, h.APIURL())
	acme.signIn(acmeToken)
	for _, path := range []string{"/console/event-types", "/console/event-types?account=globex", "/console/event-types?account=*", "/console/event-types?q=order"} {
		got := catalogTypes(getCatalog(t, acme, path))
		if contains(got, "order.shipped") {
			t.Errorf("acme's session at %s shows globex's order.shipped", path)
		}
		if !strings.Contains(path, "q=") && (!contains(got, "invoice.paid") || !contains(got, "billing.reminder") || !contains(got, "email.clicked")) {
			t.Errorf("acme's session at %s lacks its own, the hub's or the built-in types: %v", path, got)
		}
	}
	page := getCatalog(t, acme, "/console/event-types")
	if e := catalogEntry(page, "invoice.paid"); !strings.Contains(e, "<li>declared for acme</li>") || !strings.Contains(e, `"id": "in_1"`) {
		t.Errorf("acme's invoice.paid:\n%s", e)
	}
	if strings.Contains(page, `id="c-account"`) {
		t.Errorf("an account's session is offered other accounts")
	}

	// The portal of globex: its own type with its fields, not acme's.
	g, _ := enterPortal(t, h, "globex", "")
	resp, page := g.do("GET", "/portal/event-types?account=acme", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("the portal's catalog: %d\n%s", resp.StatusCode, page)
	}
	got := catalogTypes(page)
	if !contains(got, "order.shipped") || contains(got, "invoice.paid") {
		t.Fatalf("globex's portal catalog shows %v", got)
	}
	e := catalogEntry(page, "order.shipped")
	if !strings.Contains(e, `<th scope="row"><code>order_id</code></th><td>string</td><td>required</td><td>The order.</td>`) {
		t.Errorf("globex's order.shipped in the portal:\n%s", e)
	}
	if strings.Contains(page, `="/console/`) || !strings.Contains(page, `action="/portal/event-types"`) {
		t.Errorf("the portal's catalog links to the console:\n%s", page)
	}

	// The operator: hub-wide types only, or an account's by choice.
	op := newBrowser(t, h.APIURL())
	op.signIn(opToken)
	if got := catalogTypes(getCatalog(t, op, "/console/event-types")); contains(got, "invoice.paid") || contains(got, "order.shipped") || !contains(got, "billing.reminder") {
		t.Errorf("the operator's hub-wide catalog shows %v", got)
	}
	if got := catalogTypes(getCatalog(t, op, "/console/event-types?account=acme")); !contains(got, "invoice.paid") || contains(got, "order.shipped") {
		t.Errorf("the operator's catalog of acme shows %v", got)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
