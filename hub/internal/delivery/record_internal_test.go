package delivery

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"testing"
	"time"
)

// TestAttemptRecordsAsJSONMarshal: the records the engine writes are the
// bytes json.Marshal makes of each Attempt, whatever its strings hold
// (quotes, HTML, control characters, invalid UTF-8, U+2028), so readers of
// the attempt log see one format.
func TestAttemptRecordsAsJSONMarshal(t *testing.T) {
	odd := []string{"", "evt_1", `a"b\c`, "<script>&</script>", "tab\there\nnew\rline\b\f\x01\x1f\x7f",
		"caf\u00e9 \u2028 \u2029 \U0001F600", "bad \xff\xfe utf8 \xe2\x82", "contact.updated"}
	rng := rand.New(rand.NewPCG(1, 2))
	pick := func() string {
		if rng.IntN(3) == 0 {
			b := make([]byte, rng.IntN(24))
			for i := range b {
				b[i] = byte(rng.IntN(256))
			}
			return string(b)
		}
		return odd[rng.IntN(len(odd))]
	}
	at := time.Date(2026, 12, 2, 7, 30, 1, 123456789, time.UTC)
	next := at.Add(90 * time.Second)
	for i := range 2000 {
		a := &Attempt{Job: pick(), Webhook: pick(), Account: pick(), EventID: pick(), EventType: pick(),
			Attempt: 1 + rng.IntN(20), Outcome: pick(), Status: rng.IntN(600), LatencyMS: float64(rng.IntN(1e7)) / 1000,
			Error: pick(), Response: pick(), At: at}
		if i%2 == 0 {
			a.Batch = pick()
			a.NextRetryAt = &next
		}
		if i%3 == 0 {
			a.Headers = map[string][]string{pick(): {pick(), pick()}, "Content-Type": {"application/json"}, pick(): nil}
		}
		if i%7 == 0 {
			a.Test = true
			a.LatencyMS = 1e-7 * float64(i) // encoding/json's exponent form
		}
		want, err := json.Marshal(a)
		if err != nil {
			t.Fatal(err)
		}
		shared := *a
		shared.Job, shared.EventID, shared.EventType = "", "", ""
		enc, err := newAttemptEncoder(&shared)
		if err != nil {
			t.Fatal(err)
		}
		if got := enc.record(a.Job, a.EventID, a.EventType); !bytes.Equal(got, want) {
			t.Fatalf("record %d:\n got %s\nwant %s", i, got, want)
		}
	}
}
