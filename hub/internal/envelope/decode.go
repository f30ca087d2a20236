package envelope

import "github.com/hookhub/hookhub/sdk/event"

// Decode is event.Decode, faster, as Parse is event.Parse: the envelope
// read in one pass with gjson, without the checks of Check, for the API,
// which fills in what a publisher may leave out (an id, the time) before it
// checks the event. Whatever the fast path could read differently from
// encoding/json goes to event.Decode, which also words every error.
func Decode(b []byte) (*event.Event, error) {
	if ev, ok := parseFast(b, true); ok {
		return ev, nil
	}
	return event.Decode(b)
}
