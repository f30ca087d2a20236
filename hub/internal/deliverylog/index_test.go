package deliverylog

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestIndexAgreesWithAScan fills an index with records of a few webhooks,
// written a little out of their time's order as the engine writes them,
// with test sends among them, and drops the oldest as retention does;
// every listing, event lookup and count must then equal what a plain scan
// of the same records gives.
func TestIndexAgreesWithAScan(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	x := newIndex()
	outcomes := []string{"delivered", "delivered", "delivered", "retrying", "dead", "skipped", "failed"}
	types := []string{"contact.updated", "email.clicked", "email.opened", ""}
	var all []entry
	const n = 30_000 // past the event table's growth and several trims
	at := int64(1_000_000_000_000)
	for i := range n {
		at += int64(rng.IntN(3_000_000)) // up to 3 ms apart
		e := entry{seq: uint64(i + 1), at: at - int64(rng.IntN(2_000_000)), account: fmt.Sprintf("a%d", rng.IntN(2)),
			webhook: fmt.Sprintf("w%d", rng.IntN(3)), eventID: fmt.Sprintf("e%d", rng.IntN(n/3)),
			typ: types[rng.IntN(len(types))], outcome: outcomes[rng.IntN(len(outcomes))], test: rng.IntN(20) == 0}
		x.add(e)
		all = append(all, e)
		if i == n/2 || i == 3*n/4 {
			first := uint64(i / 3)
			x.setFirst(first, all[first-1].at)
		}
	}
	first := x.first
	live := func(e entry) bool { return e.seq >= first }

	for q := range 300 {
		acct, wh := fmt.Sprintf("a%d", rng.IntN(2)), fmt.Sprintf("w%d", rng.IntN(3))
		f := &filter{outcome: -1, anyType: true}
		outcome, typ := "", ""
		if rng.IntN(2) == 0 {
			outcome = outcomes[rng.IntN(len(outcomes))]
			f.outcome = outcomeClass(outcome)
		}
		if rng.IntN(3) == 0 {
			typ = types[rng.IntN(len(types)-1)]
			f.anyType, f.typ = false, x.types[typ]
		}
		if rng.IntN(2) == 0 {
			f.since = all[rng.IntN(n)].at
		}
		if rng.IntN(2) == 0 {
			f.until = all[rng.IntN(n)].at
		}
		if rng.IntN(2) == 0 {
			f.before = uint64(rng.IntN(n) + 1)
		}
		limit := 1 + rng.IntN(200)
		// What a scan finds: newest first. Since is exact in the index;
		// until looks a minute further and the reader checks each record,
		// so the scan applies since here and until below.
		var want []uint64
		for i := len(all) - 1; i >= 0; i-- {
			e := all[i]
			if !live(e) || e.account != acct || e.webhook != wh || outcome != "" && e.outcome != outcome ||
				typ != "" && e.typ != typ || f.before != 0 && e.seq >= f.before {
				continue
			}
			want = append(want, e.seq)
		}
		s := x.series[seriesKey{acct, wh}]
		got, more, _ := x.newest(s, f, n)
		if more {
			t.Fatalf("query %d: more than %d records", q, n)
		}
		// Every record the index returns passes since (by its running
		// time, never below its own) and is among the scan's.
		for _, seq := range got {
			e := all[seq-1]
			if !slices.Contains(want, seq) {
				t.Fatalf("query %d: the index returned %d, which the scan does not have", q, seq)
			}
			if f.until != 0 && e.at < f.until && s.at[lowerBound(s.seq, seq)] >= satAdd(f.until, untilSlack) {
				t.Fatalf("query %d: record %d is before until but its searchable time is past the slack", q, seq)
			}
		}
		// Every record of the scan within [since, until) by its own time
		// is returned (until's check on the record is the reader's).
		for _, seq := range want {
			e := all[seq-1]
			in := (f.since == 0 || e.at >= f.since) && (f.until == 0 || e.at < f.until)
			if in && !slices.Contains(got, seq) {
				t.Fatalf("query %d: record %+v is missing from the index's answer", q, e)
			}
		}
		if !slices.IsSortedFunc(got, func(a, b uint64) int { return int(b) - int(a) }) {
			t.Fatalf("query %d: not newest first: %v", q, got[:min(10, len(got))])
		}
		// A page of limit, then the rest from its cursor, is the whole.
		page, more, _ := x.newest(s, f, limit)
		if len(got) > limit != more || !slices.Equal(page, got[:min(limit, len(got))]) {
			t.Fatalf("query %d: page of %d: %v more=%v, want the first of %v", q, limit, page, more, got)
		}
	}

	// One event's records, across webhooks and accounts.
	for q := range 300 {
		id := fmt.Sprintf("e%d", rng.IntN(n/3))
		var want []uint64
		for i := len(all) - 1; i >= 0; i-- {
			if e := all[i]; live(e) && e.eventID == id && e.account == "a1" {
				want = append(want, e.seq)
			}
		}
		got, _ := x.ofEvent(eventHash(id), func(s *series) bool { return s.account == "a1" }, &filter{outcome: -1, anyType: true}, n)
		var mine []uint64
		for _, seq := range got {
			if all[seq-1].eventID == id { // the reader drops another id of the same hash
				mine = append(mine, seq)
			}
		}
		if !slices.Equal(mine, want) {
			t.Fatalf("event %d (%s): %v, want %v", q, id, mine, want)
		}
	}

	// Counts since a time, by outcome, test sends apart.
	for q := range 100 {
		acct, wh := fmt.Sprintf("a%d", rng.IntN(2)), fmt.Sprintf("w%d", rng.IntN(3))
		since := all[rng.IntN(n)].at
		s := x.series[seriesKey{acct, wh}]
		var want [nOut]int
		for i, e := range all {
			// The index counts by the searchable (running) time; records
			// at most the reordering apart sit on either side of since.
			if live(e) && e.account == acct && e.webhook == wh && !e.test && s.at[lowerBound(s.seq, uint64(i+1))] >= since {
				want[outcomeClass(e.outcome)]++
			}
		}
		if got := x.counts(s, since); got != want {
			t.Fatalf("counts %d since %d: %v, want %v", q, since, got, want)
		}
	}
}
