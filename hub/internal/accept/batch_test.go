package accept

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/hookhub/hookhub/sdk/event"
)

// TestSplitBatch: the whole-batch refusals, each with its reason, and a
// good batch split into its members' own bytes.
func TestSplitBatch(t *testing.T) {
	many := "[" + strings.Repeat(`{},`, event.MaxBatchEvents) + "{}]"
	for _, c := range []struct{ in, want string }{
		{`{"id":"x"}`, "not a JSON array"},
		{`[1,2`, "not valid JSON"},
		{`[]`, "no events"},
		{many, "more than 1000 events"},
		{"[" + strings.Repeat(" ", event.MaxBatchBytes) + "]", "over the limit of 1048576"},
	} {
		if _, reason := SplitBatch([]byte(c.in)); !strings.Contains(reason, c.want) {
			t.Errorf("SplitBatch(%.20q): %q, want it to say %q", c.in, reason, c.want)
		}
	}
	parts, reason := SplitBatch([]byte(` [ {"a":1} , "x",[2]]`))
	if reason != "" {
		t.Fatal(reason)
	}
	var got []string
	for _, p := range parts {
		got = append(got, string(p))
	}
	if want := []string{`{"a":1}`, `"x"`, `[2]`}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("SplitBatch: %q, want %q", got, want)
	}
}

// FuzzSplitBatch: any input is split within the limits or refused with a
// reason, and each member is valid JSON of the input's own bytes.
func FuzzSplitBatch(f *testing.F) {
	f.Add([]byte(`[{"id":"a"},"x",[1,{}]]`))
	f.Add([]byte(`{"id":"a"}`))
	f.Add([]byte(`[`))
	f.Fuzz(func(t *testing.T, b []byte) {
		parts, reason := SplitBatch(b)
		if reason != "" {
			if parts != nil {
				t.Fatalf("refused (%s) with %d members", reason, len(parts))
			}
			return
		}
		if len(parts) == 0 || len(parts) > event.MaxBatchEvents {
			t.Fatalf("%d members", len(parts))
		}
		for i, p := range parts {
			if !json.Valid(p) || !bytes.Contains(b, p) {
				t.Fatalf("member %d %q is not valid JSON from the input", i, p)
			}
		}
	})
}
