package abi

import "github.com/hookhub/hookhub/sdk/field"

// Get reads the value at path ("data.email", "data.items.0.sku") in the
// first event, scanning its bytes without decoding them and without
// allocating: the fast way for a plugin to read a field. See package field.
// The first Get indexes the event's top-level members (a field.Doc), so
// that later ones do not read the whole event again. It returns a missing
// Value when the input holds no event. Not safe for concurrent use.
func (in *Input) Get(path string) field.Value { return in.EventGet(0, path) }

// EventGet is Get on event i of a batch (a missing Value past the last).
// Only the first event is indexed; the others are read whole by each call.
func (in *Input) EventGet(i int, path string) field.Value {
	if i < 0 || i >= len(in.Events) {
		return field.Value{}
	}
	ev := in.Events[i]
	if i > 0 {
		return field.Get(ev, path)
	}
	if b := in.first.Bytes(); len(b) != len(ev) || len(ev) == 0 || &b[0] != &ev[0] {
		in.first.Reset(ev) // the first call, or Events[0] was replaced
	}
	return in.first.Get(path)
}
