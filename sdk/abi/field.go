package abi

import "github.com/hookhub/hookhub/sdk/field"

// Get reads the value at path ("data.email", "data.items.0.sku") in the
// first event, scanning its bytes without decoding them and without
// allocating: the fast way for a plugin to read a field. See package field.
// It returns a missing Value when the input holds no event.
func (in *Input) Get(path string) field.Value { return in.EventGet(0, path) }

// EventGet is Get on event i of a batch (a missing Value past the last).
func (in *Input) EventGet(i int, path string) field.Value {
	if i < 0 || i >= len(in.Events) {
		return field.Value{}
	}
	return field.Get(in.Events[i], path)
}
