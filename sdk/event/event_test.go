package event_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/hookhub/hookhub/sdk/event"
)

const example = `{"specversion":"1.0","id":"evt_2f9c","source":"crm/contacts","type":"contact.updated",
 "time":"2026-11-22T10:00:00Z","datacontenttype":"application/json",
 "account":"acme","initiator":"api","lists":"12,15",
 "data":{"email":"ada@example.com","attributes":{"FIRSTNAME":"Ada"}}}`

func TestParseExample(t *testing.T) {
	e, err := event.Parse([]byte(example))
	if err != nil {
		t.Fatal(err)
	}
	if e.NATSSubject("hookhub") != "hookhub.events.acme.contact.updated" || !e.HasList("15") || e.HasList("1") ||
		!reflect.DeepEqual(e.ListIDs(), []string{"12", "15"}) {
		t.Errorf("parsed %+v", e)
	}
}

func TestParseRejects(t *testing.T) {
	cases := []struct{ name, from, to, field string }{
		{"specversion", `"specversion":"1.0"`, `"specversion":"0.3"`, "specversion"},
		{"empty id", `"id":"evt_2f9c"`, `"id":""`, "id"},
		{"id with space", `"id":"evt_2f9c"`, `"id":"evt 2f9c"`, "id"},
		{"long id", `"id":"evt_2f9c"`, `"id":"` + strings.Repeat("x", 257) + `"`, "id"},
		{"no source", `"source":"crm/contacts",`, ``, "source"},
		{"one-token type", `"type":"contact.updated"`, `"type":"x"`, "type"},
		{"upper-case type", `"type":"contact.updated"`, `"type":"Contact.Updated"`, "type"},
		{"empty token", `"type":"contact.updated"`, `"type":"a..b"`, "type"},
		{"no account", `"account":"acme",`, ``, "account"},
		{"dotted account", `"account":"acme"`, `"account":"a.b"`, "account"},
		{"wildcard account", `"account":"acme"`, `"account":"a*"`, "account"},
		{"long account", `"account":"acme"`, `"account":"` + strings.Repeat("a", 65) + `"`, "account"},
		{"initiator", `"initiator":"api"`, `"initiator":"robot"`, "initiator"},
		{"lists", `"lists":"12,15"`, `"lists":"12,,3"`, "lists"},
		{"via", `"initiator":"api"`, `"initiator":"api","via":"Import!"`, "via"},
		{"array data", `"data":{"email":"ada@example.com","attributes":{"FIRSTNAME":"Ada"}}`, `"data":[1]`, "data"},
	}
	for _, c := range cases {
		doc := strings.Replace(example, c.from, c.to, 1)
		if doc == example {
			t.Fatalf("%s: replacement did not apply", c.name)
		}
		_, err := event.Parse([]byte(doc))
		var fe *event.FieldError
		if !errors.As(err, &fe) || fe.Field != c.field || !errors.Is(err, event.ErrInvalid) {
			t.Errorf("%s: got %v, want a FieldError on %s", c.name, err, c.field)
		}
	}
	if _, err := event.Parse([]byte(`{nope`)); !errors.Is(err, event.ErrInvalid) || !strings.Contains(err.Error(), "not a JSON CloudEvent") {
		t.Errorf("non-JSON: got %v", err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(example))
	f.Add([]byte(`{"specversion":"1.0","id":"a","source":"s","type":"a.b","account":"x"}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := event.Parse(b)
		if err != nil {
			return
		}
		again, err := json.Marshal(e)
		if err != nil {
			t.Fatalf("accepted event does not marshal: %v", err)
		}
		e2, err := event.Parse(again)
		if err != nil {
			t.Fatalf("accepted event does not parse after a round trip: %v\n%s", err, again)
		}
		if e.ID != e2.ID || e.Type != e2.Type || e.Account != e2.Account || e.Lists != e2.Lists {
			t.Fatalf("round trip changed the event: %+v vs %+v", e, e2)
		}
	})
}

func BenchmarkParse(b *testing.B) {
	raw := []byte(strings.Replace(example, `"FIRSTNAME":"Ada"`, `"FIRSTNAME":"Ada","NOTE":"`+strings.Repeat("x", 800)+`"`, 1))
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := event.Parse(raw); err != nil {
			b.Fatal(err)
		}
	}
}

// TestParseOneReading: an envelope has one reading. Attribute names are
// exact; a member that is an attribute in another case, or any member named
// twice, is refused with the member's name, so no reader (the router, the
// body builder, a plugin decoding with encoding/json) can take another value
// than the one checked.
func TestParseOneReading(t *testing.T) {
	base := `{"specversion":"1.0","id":"e1","source":"s","type":"contact.updated","account":"a","data":{"email":"a@b.c"}`
	cases := []struct{ name, doc, member string }{
		{"account in another case", base + `,"Account":"b"}`, `"Account"`},
		{"account before its twin", `{"Account":"b",` + base[1:] + `}`, `"Account"`},
		{"data in another case", base + `,"Data":{"email":7}}`, `"Data"`},
		{"type in another case", base + `,"TYPE":"deal.won"}`, `"TYPE"`},
		{"initiator in another case", base + `,"Initiator":"system"}`, `"Initiator"`},
		{"long s folds to s", base + `,"ſource":"t"}`, `"ſource"`},
		{"account twice", base + `,"account":"b"}`, `"account"`},
		{"escaped twin", base + `,"typ\u0065":"deal.won"}`, `"type"`},
		{"extension twice", base + `,"x":1,"x":2}`, `"x"`},
	}
	for _, c := range cases {
		_, err := event.Parse([]byte(c.doc))
		var fe *event.FieldError
		if !errors.As(err, &fe) || !errors.Is(err, event.ErrInvalid) || !strings.Contains(err.Error(), "member "+c.member) {
			t.Errorf("%s: got %v, want a refusal naming member %s", c.name, err, c.member)
		}
	}
	// An extension hookhub does not use is ignored, as before.
	if _, err := event.Parse([]byte(base + `,"partnerid":"p1","x_y":{"z":1}}`)); err != nil {
		t.Errorf("extensions: %v", err)
	}
}

// membersByDecoder is CheckMembers written with encoding/json's tokenizer:
// the reference the hand-written scanner is held to.
func membersByDecoder(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil
	}
	seen := map[string]bool{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil
		}
		name, _ := t.(string)
		if seen[name] {
			return errors.New("twice " + name)
		}
		seen[name] = true
		for _, a := range event.Attributes {
			if strings.EqualFold(name, a) && name != a {
				return errors.New("case " + name)
			}
		}
		var skip json.RawMessage
		if dec.Decode(&skip) != nil {
			return nil
		}
	}
	return nil
}

// FuzzCheckMembers: for any valid JSON, CheckMembers refuses exactly what a
// reading with encoding/json's tokenizer finds named twice or in another case.
func FuzzCheckMembers(f *testing.F) {
	for _, s := range []string{example, `{"a":1,"a":2}`, `{"a":{"a":1},"b":[1,"a"]}`, `{"Type":1}`, `{"t\u0079pe":1,"type":2}`,
		`{"x":"a\"b","x":1}`, ` { "a" : true , "b" : null } `, `[{"a":1,"a":1}]`, `{"ſource":1}`, `{"k":1,"K":2}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if !json.Valid(b) {
			return
		}
		got, want := event.CheckMembers(b), membersByDecoder(b)
		if (got == nil) != (want == nil) {
			t.Fatalf("%q: CheckMembers %v, the tokenizer %v", b, got, want)
		}
	})
}
