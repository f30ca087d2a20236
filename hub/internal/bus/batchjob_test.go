package bus

import (
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestBatchItemSizeBounds: a batch's JSON never passes the sum of its
// items' BatchItemSize, whatever the ids and events hold (characters JSON
// escapes, HTML-looking text), and it reads back as written.
func TestBatchItemSizeBounds(t *testing.T) {
	events := []string{
		`{"id":"e1","data":{"html":"<b>&</b>","s":"\u2028"}}`,
		`{"id":"e2","data":` + `"` + strings.Repeat("<>&", 500) + `"}`,
		`{ "id" : "e3" , "spaced" : [ 1 , 2 ] }`,
	}
	ids := []string{"plain", "quote\"back\\slash", "ctl\x01\x02\x1f", "<tag>&amp;", "é\u2028"}
	var items []BatchItem
	bound := 2 // the brackets
	for _, raw := range events {
		for _, id := range ids {
			it := BatchItem{Job: id + ":wh_" + id, EventID: id, Raw: json.RawMessage(raw), Stored: time.Now()}
			items = append(items, it)
			bound += BatchItemSize(it.Raw, it.Job, it.EventID) + 1
		}
	}
	data, err := MarshalBatch(items)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) > bound {
		t.Errorf("batch of %d bytes, over its bound %d", len(data), bound)
	}
	var back []BatchItem
	if err := json.Unmarshal(data, &back); err != nil || len(back) != len(items) {
		t.Fatalf("read back: %v, %d items", err, len(back))
	}
	for i := range back {
		if back[i].Job != items[i].Job || back[i].EventID != items[i].EventID {
			t.Errorf("item %d: %q %q, want %q %q", i, back[i].Job, back[i].EventID, items[i].Job, items[i].EventID)
		}
	}
}

// TestUnmarshalBatchAsJSON: a batch job's data reads back as json.Unmarshal
// reads it (every id, event and time), and data that is not a batch of
// items is refused, never read as an empty or partial batch.
func TestUnmarshalBatchAsJSON(t *testing.T) {
	ids := []string{"plain", "quote\"back\\slash", "ctl\x01\x02\x1f", "<tag>&amp;", "é\u2028", ""}
	var items []BatchItem
	for i, id := range ids {
		q, _ := json.Marshal(id)
		items = append(items, BatchItem{Job: id + ":wh", EventID: id,
			Raw:    json.RawMessage(`{"id":` + string(q) + `,"data":{"n":` + strconv.Itoa(i) + `,"html":"<b>&</b>"}}`),
			Stored: time.Date(2026, 12, 2, 7, 0, i, i*1000, time.FixedZone("x", 3600*i))})
	}
	data, err := MarshalBatch(items)
	if err != nil {
		t.Fatal(err)
	}
	var want []BatchItem
	if err := json.Unmarshal(data, &want); err != nil {
		t.Fatal(err)
	}
	got, err := UnmarshalBatch(data)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("UnmarshalBatch:\n%+v\njson.Unmarshal:\n%+v", got, want)
	}
	for _, bad := range []string{``, `{}`, `[1]`, `[{"job":1}]`, `[{"job":"a","stored":"yesterday"}]`, `[{"job":"a"`, `[{"job":"a"}] x`} {
		if items, err := UnmarshalBatch([]byte(bad)); err == nil {
			t.Errorf("%q read as %+v, want an error", bad, items)
		}
	}
}
