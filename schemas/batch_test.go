package schemas_test

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/hookhub/hookhub/schemas"
	"github.com/hookhub/hookhub/sdk/event"
)

// TestBatchSchema: the batch schema says the limits the hub enforces
// (sdk/event's), and takes an array of valid events only.
func TestBatchSchema(t *testing.T) {
	raw, err := fs.ReadFile(schemas.FS, "batch.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Description string
		MaxItems    int
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.MaxItems != event.MaxBatchEvents {
		t.Errorf("maxItems %d, the hub's limit is %d", doc.MaxItems, event.MaxBatchEvents)
	}
	for _, want := range []string{event.BatchContentType, "<prefix>.events.<account>." + event.BatchToken, fmt.Sprint(event.MaxBatchBytes), "batch[<index>]"} {
		if !strings.Contains(doc.Description, want) {
			t.Errorf("the description does not say %q", want)
		}
	}
	sch, err := compiler(t).Compile(schemas.BaseURL + "batch.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	good := `{"specversion":"1.0","id":"evt_1","source":"s","type":"contact.updated","account":"acme","data":{}}`
	for _, c := range []struct {
		doc    string
		wantOK bool
	}{
		{"[" + good + "," + good + "]", true},
		{"[]", false},
		{good, false},
		{`[` + good + `,{"id":"x"}]`, false},
	} {
		inst, _ := jsonschema.UnmarshalJSON(strings.NewReader(c.doc))
		if err := sch.Validate(inst); (err == nil) != c.wantOK {
			t.Errorf("%.60s: valid = %v, want %v", c.doc, err == nil, c.wantOK)
		}
	}
}
