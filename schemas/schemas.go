// Package schemas holds hookhub's JSON Schemas, embedded: the config file,
// the CloudEvents envelope, and the event-type catalog (one schema per type,
// for its data, with a sample payload as the schema's "examples").
package schemas

import (
	"embed"
	"encoding/json"
	"io/fs"
	"sort"
	"strings"
	"sync"
)

// FS holds every schema. A file's $id is BaseURL + its path in FS.
//
//go:embed *.schema.json events/*.schema.json
var FS embed.FS

//go:embed openapi.json
var openapi []byte

// OpenAPI is the management API's OpenAPI 3.1 document.
func OpenAPI() []byte { return openapi }

// BaseURL is the prefix of every schema's $id.
const BaseURL = "https://hookhub.dev/schemas/"

// EventType is one entry of the event-type catalog.
type EventType struct {
	Type        string `json:"type"`
	Category    string `json:"category"`
	Title       string `json:"title"`
	Description string `json:"description"`
	// Aliases are other names for the type, the providers' own among them
	// ("complaint", "link clicked", "added to list"): Search finds them.
	Aliases []string `json:"aliases,omitempty"`
	// Lists says the type's events concern lists: a webhook's lists filter
	// can match them (the event's lists attribute).
	Lists bool `json:"lists"`
	// Account is the account that declared a custom type; "" for the
	// catalog's own types and for types declared for the whole hub.
	Account string `json:"account,omitempty"`
	// Custom marks a type declared in the config, not built in.
	Custom bool            `json:"custom,omitempty"`
	Schema json.RawMessage `json:"schema,omitempty"` // the JSON Schema of the event's data (left out of listings)
	Sample json.RawMessage `json:"sample,omitempty"` // a sample data payload (left out of listings)
}

var catalog = sync.OnceValue(func() []EventType {
	files, err := fs.Glob(FS, "events/*.schema.json")
	if err != nil {
		panic(err)
	}
	out := make([]EventType, 0, len(files))
	for _, f := range files {
		b, err := fs.ReadFile(FS, f)
		if err != nil {
			panic(err)
		}
		var doc struct {
			Title       string            `json:"title"`
			Description string            `json:"description"`
			Category    string            `json:"x-category"`
			Aliases     []string          `json:"x-aliases"`
			Lists       bool              `json:"x-lists"`
			Examples    []json.RawMessage `json:"examples"`
		}
		if err := json.Unmarshal(b, &doc); err != nil {
			panic("schemas: " + f + ": " + err.Error())
		}
		et := EventType{
			Type:     strings.TrimSuffix(strings.TrimPrefix(f, "events/"), ".schema.json"),
			Category: doc.Category, Title: doc.Title, Description: doc.Description, Schema: b,
			Aliases: doc.Aliases, Lists: doc.Lists,
		}
		if len(doc.Examples) > 0 {
			et.Sample = doc.Examples[0]
		}
		out = append(out, et)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Type < out[j].Type })
	return out
})

// Catalog returns every event type, sorted by type.
func Catalog() []EventType { return catalog() }

// Lookup returns the catalog entry of eventType.
func Lookup(eventType string) (EventType, bool) {
	c := catalog()
	i := sort.Search(len(c), func(i int) bool { return c[i].Type >= eventType })
	if i < len(c) && c[i].Type == eventType {
		return c[i], true
	}
	return EventType{}, false
}

// Categories returns the distinct categories, sorted.
func Categories() []string {
	seen := map[string]bool{}
	var out []string
	for _, t := range catalog() {
		if !seen[t.Category] {
			seen[t.Category] = true
			out = append(out, t.Category)
		}
	}
	sort.Strings(out)
	return out
}
