package deliverylog

import (
	"math"
	"slices"
	"sync"
	"time"
)

// Outcome classes the index keeps apart (the attempt record's outcome).
const (
	outDelivered = iota
	outRetrying
	outDead
	outSkipped
	outFailed // a test send that failed
	outOther
	nOut
)

var outcomeNames = [nOut]string{"delivered", "retrying", "dead", "skipped", "failed", ""}

func outcomeClass(s string) int {
	for i, n := range outcomeNames[:outOther] {
		if s == n {
			return i
		}
	}
	return outOther
}

// meta packs an entry's outcome (bits 0-2), test flag (bit 3) and event
// type (bits 8-31, an id in index.types; 0: none).
const (
	metaOutcome = 0x7
	metaTest    = 0x8
	metaGone    = 0x10 // removed from the stream (a redriven dead letter)
	metaTypeSh  = 8
)

// entry is what the index learns of one record.
type entry struct {
	seq     uint64
	at      int64 // the record's own time (attempt made, letter failed), Unix nanoseconds
	account string
	webhook string
	eventID string
	typ     string
	outcome string
	test    bool
}

// series are the records of one webhook, in stream order. Every slice is
// one column.
type series struct {
	id      uint32
	account string
	webhook string
	seq     []uint64
	// at is the running maximum of the records' own times, so that it can
	// be searched: records are written a few milliseconds out of their
	// time's order at most, and at[i] is never below record i's own time.
	at   []int64
	meta []uint32
	// cum[k] counts the non-test records of each outcome among the first
	// k*block, and tot among all: a window is counted from them and at
	// most one block of meta.
	cum [][nOut]uint32
	tot [nOut]uint32
	// newest are the sequence and own time of the newest non-test record
	// of each outcome.
	newest [nOut]struct {
		seq uint64
		at  int64
	}
}

// block is how many records one cum entry stands for.
const block = 256

// untilSlack is how far past until a listing looks for records written
// out of their time's order; what it finds is checked on the record.
const untilSlack = int64(time.Minute)

type seriesKey struct{ account, webhook string }

// index is an in-memory index of one stream of the log, built by reading
// the stream in order. It holds about 50 bytes a record and never the
// records themselves: reads find sequences here and fetch the records from
// the stream.
type index struct {
	mu     sync.RWMutex
	series map[seriesKey]*series
	byID   []*series
	types  map[string]uint32
	events eventIndex
	// last is the sequence of the last record applied.
	last uint64
	// first and firstAt are the stream's first sequence and its time, as
	// last seen: records below are gone (retention), whatever the index
	// still holds.
	first   uint64
	firstAt int64
	changed chan struct{} // closed and replaced when last moves
}

func newIndex() *index {
	return &index{series: map[seriesKey]*series{}, types: map[string]uint32{}, events: newEventIndex(), changed: make(chan struct{})}
}

// add appends one record to its webhook's series, and to the series of
// also when given. Records come in stream order; one at or below last is
// ignored (a consumer that started over).
func (x *index) add(e entry, also ...seriesKey) {
	if e.seq <= x.last {
		return
	}
	for _, k := range append(also, seriesKey{e.account, e.webhook}) {
		x.addTo(k, e)
	}
	if e.eventID != "" {
		x.events.add(eventHash(e.eventID), e.seq, x.series[seriesKey{e.account, e.webhook}].id)
	}
	x.last = e.seq
}

func (x *index) addTo(k seriesKey, e entry) {
	s := x.series[k]
	if s == nil {
		s = &series{id: uint32(len(x.byID)), account: k.account, webhook: k.webhook}
		x.series[k] = s
		x.byID = append(x.byID, s)
	}
	at := e.at
	if n := len(s.at); n > 0 && at < s.at[n-1] {
		at = s.at[n-1]
	}
	var t uint32
	if e.typ != "" {
		t = x.types[e.typ]
		if t == 0 && len(x.types) < 1<<24-1 {
			t = uint32(len(x.types) + 1)
			x.types[e.typ] = t
		}
	}
	o := outcomeClass(e.outcome)
	m := uint32(o) | t<<metaTypeSh
	if len(s.seq)%block == 0 {
		s.cum = append(s.cum, s.tot)
	}
	if e.test {
		m |= metaTest
	} else {
		s.tot[o]++
		s.newest[o].seq, s.newest[o].at = e.seq, e.at
	}
	s.seq = append(s.seq, e.seq)
	s.at = append(s.at, at)
	s.meta = append(s.meta, m)
}

// notify wakes the readers waiting for the index to move.
func (x *index) notify() {
	close(x.changed)
	x.changed = make(chan struct{})
}

// setFirst records the stream's first sequence and time and, when enough
// is gone, frees what the index held of it.
func (x *index) setFirst(first uint64, at int64) {
	if first <= x.first {
		return
	}
	x.first, x.firstAt = first, at
	for _, s := range x.byID {
		k := lowerBound(s.seq, first)
		if k == 0 || k < len(s.seq)/4 && k < 4096 {
			continue
		}
		s.seq = slices.Clone(s.seq[k:])
		s.at = slices.Clone(s.at[k:])
		s.meta = slices.Clone(s.meta[k:])
		s.recount()
	}
	x.events.trim(first)
}

// Filter narrows a listing.
type filter struct {
	outcome int // -1: any
	typ     uint32
	anyType bool
	noTest  bool
	since   int64 // 0: none
	until   int64 // 0: none
	before  uint64
}

func (f *filter) matches(m uint32) bool {
	if m&metaGone != 0 {
		return false
	}
	if f.outcome >= 0 && int(m&metaOutcome) != f.outcome {
		return false
	}
	if !f.anyType && m>>metaTypeSh != f.typ {
		return false
	}
	return !f.noTest || m&metaTest == 0
}

// newest walks a series from its newest record down, returning up to
// limit sequences that pass f, whether more do, and how many of the
// series' records the ones returned span (for fetching them in one go).
func (x *index) newest(s *series, f *filter, limit int) ([]uint64, bool, int) {
	hi := len(s.seq)
	if f.before != 0 {
		hi = lowerBound(s.seq, f.before)
	}
	if f.until != 0 {
		hi = min(hi, lowerBound(s.at, satAdd(f.until, untilSlack)))
	}
	lo := lowerBound(s.seq, x.first)
	if f.since != 0 {
		lo = max(lo, lowerBound(s.at, f.since))
	}
	var out []uint64
	top, bottom := -1, -1
	for i := hi - 1; i >= lo; i-- {
		if !f.matches(s.meta[i]) {
			continue
		}
		if len(out) == limit {
			return out, true, top - bottom + 1
		}
		if top < 0 {
			top = i
		}
		bottom = i
		out = append(out, s.seq[i])
	}
	return out, false, top - bottom + 1
}

// ofEvent lists the records of one event (by its hash) newest first, in
// the series keep says to, that pass f. The hash may match another event
// too: the caller checks the records it fetches.
func (x *index) ofEvent(h uint64, keep func(*series) bool, f *filter, limit int) ([]uint64, bool) {
	var out []uint64
	more := false
	x.events.each(h, func(seq uint64, sid uint32) bool {
		if seq < x.first || f.before != 0 && seq >= f.before {
			return true
		}
		s := x.byID[sid]
		if !keep(s) {
			return true
		}
		i := lowerBound(s.seq, seq)
		if i == len(s.seq) || s.seq[i] != seq || !f.matches(s.meta[i]) || f.since != 0 && s.at[i] < f.since {
			return true
		}
		if len(out) == limit {
			more = true
			return false
		}
		out = append(out, seq)
		return true
	})
	return out, more
}

// forget marks the record seq of a webhook's series as gone.
func (x *index) forget(account, webhook string, seq uint64) {
	s := x.series[seriesKey{account, webhook}]
	if s == nil {
		return
	}
	if i := lowerBound(s.seq, seq); i < len(s.seq) && s.seq[i] == seq {
		s.meta[i] |= metaGone
	}
}

// recount makes cum and tot anew after records were dropped.
func (s *series) recount() {
	s.cum, s.tot = s.cum[:0], [nOut]uint32{}
	for i, m := range s.meta {
		if i%block == 0 {
			s.cum = append(s.cum, s.tot)
		}
		if m&metaTest == 0 {
			s.tot[m&metaOutcome]++
		}
	}
}

// before counts the non-test records of each outcome among the first i.
func (s *series) before(i int) [nOut]uint32 {
	if i >= len(s.meta) {
		return s.tot
	}
	c := s.cum[i/block]
	for _, m := range s.meta[i/block*block : i] {
		if m&metaTest == 0 {
			c[m&metaOutcome]++
		}
	}
	return c
}

// counts are a series' non-test records of each outcome written at or
// after t (to the millisecond or so that records are out of order).
func (x *index) counts(s *series, t int64) [nOut]int {
	lo := max(lowerBound(s.seq, x.first), lowerBound(s.at, t))
	b := s.before(lo)
	var c [nOut]int
	for o := range c {
		c[o] = int(s.tot[o] - b[o])
	}
	return c
}

// lastOf is the own time of the newest non-test record of outcome o
// still in the log (0: none).
func (x *index) lastOf(s *series, o int) int64 {
	if n := s.newest[o]; n.seq >= x.first && n.seq != 0 {
		return n.at
	}
	return 0
}

// footprint is how many records the index holds and about how many bytes
// of memory they take.
func (x *index) footprint() (records, bytes int) {
	for _, s := range x.byID {
		records += len(s.seq)
		bytes += cap(s.seq)*8 + cap(s.at)*8 + cap(s.meta)*4 + cap(s.cum)*4*nOut
	}
	ev := &x.events
	bytes += cap(ev.heads)*8 + cap(ev.seq)*8 + cap(ev.hash)*8 + cap(ev.sid)*4 + cap(ev.prev)*4
	return records, bytes
}

// satAdd is a+b, saturated.
func satAdd(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

// nanos is t in Unix nanoseconds, saturated at the ends of int64 (a year
// 2999 asks for everything after now).
func nanos(t time.Time) int64 {
	switch {
	case t.IsZero():
		return 0
	case t.After(time.Unix(0, math.MaxInt64)):
		return math.MaxInt64
	case t.Before(time.Unix(0, 1)):
		return 1
	}
	return t.UnixNano()
}

func lowerBound[T uint64 | int64](s []T, v T) int {
	i, _ := slices.BinarySearch(s, v)
	return i
}

// eventIndex finds the records of an event: a hash table of chains, one
// link a record, newest first.
type eventIndex struct {
	heads []uint64 // bucket -> 1 + number of the bucket's newest record (0: none)
	base  uint64   // number of the first record held
	seq   []uint64
	hash  []uint64
	sid   []uint32
	prev  []uint32 // how many records back the bucket's previous one is (0: none)
}

func newEventIndex() eventIndex { return eventIndex{heads: make([]uint64, 1<<12)} }

func (ev *eventIndex) add(h, seq uint64, sid uint32) {
	if len(ev.seq) > 2*len(ev.heads) {
		ev.grow()
	}
	n := ev.base + uint64(len(ev.seq))
	b := h & uint64(len(ev.heads)-1)
	var d uint32
	if p := ev.heads[b]; p != 0 && n-(p-1) <= math.MaxUint32 && p-1 >= ev.base {
		d = uint32(n - (p - 1))
	}
	ev.heads[b] = n + 1
	ev.seq = append(ev.seq, seq)
	ev.hash = append(ev.hash, h)
	ev.sid = append(ev.sid, sid)
	ev.prev = append(ev.prev, d)
}

func (ev *eventIndex) grow() {
	heads := make([]uint64, 2*len(ev.heads))
	mask := uint64(len(heads) - 1)
	for i := range ev.seq {
		n := ev.base + uint64(i)
		b := ev.hash[i] & mask
		ev.prev[i] = 0
		if p := heads[b]; p != 0 && n-(p-1) <= math.MaxUint32 {
			ev.prev[i] = uint32(n - (p - 1))
		}
		heads[b] = n + 1
	}
	ev.heads = heads
}

// each calls f with the records of hash h, newest first, until f says stop.
func (ev *eventIndex) each(h uint64, f func(seq uint64, sid uint32) bool) {
	p := ev.heads[h&uint64(len(ev.heads)-1)]
	for p != 0 && p-1 >= ev.base {
		i := p - 1 - ev.base
		if ev.hash[i] == h && !f(ev.seq[i], ev.sid[i]) {
			return
		}
		if ev.prev[i] == 0 {
			return
		}
		p -= uint64(ev.prev[i])
	}
}

// trim frees the records below seq once they are a good part of the whole.
func (ev *eventIndex) trim(first uint64) {
	k := lowerBound(ev.seq, first)
	if k == 0 || k < len(ev.seq)/4 && k < 4096 {
		return
	}
	ev.base += uint64(k)
	ev.seq = slices.Clone(ev.seq[k:])
	ev.hash = slices.Clone(ev.hash[k:])
	ev.sid = slices.Clone(ev.sid[k:])
	ev.prev = slices.Clone(ev.prev[k:])
}

// eventHash is FNV-1a of an event id. Ids are unique within an account
// only: the chain of a hash holds every account's records of that id, and
// the reader keeps the accounts it may show.
func eventHash(id string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(id); i++ {
		h = (h ^ uint64(id[i])) * 1099511628211
	}
	return h
}
