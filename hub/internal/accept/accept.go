// Package accept is the hub's acceptance of events: the one reading of an
// event (envelope.Parse), the checks of its subject, message id, type and
// data, the split of a batch, and the delivery jobs' id. The router and the
// delivery engine's sequencer (ordered webhooks) both take events through
// it, and the API checks posted events with it, so none of them imports
// another for it.
package accept

import (
	"fmt"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/hookhub/hookhub/hub/internal/bus"
	"github.com/hookhub/hookhub/hub/internal/envelope"
	"github.com/hookhub/hookhub/hub/internal/eventtypes"
	"github.com/hookhub/hookhub/hub/internal/view"
	"github.com/hookhub/hookhub/hub/internal/webhooks"
	"github.com/hookhub/hookhub/sdk/event"
	"github.com/hookhub/hookhub/sdk/publish"
)

// JobID is the id of the job delivering event eventID to webhook: the
// webhook-id header of every attempt, and the job's Nats-Msg-Id.
func JobID(eventID, webhook string) string { return eventID + ":" + webhook }

// Check is the hub's acceptance of an event stored on subject with the
// Nats-Msg-Id msgID: its one reading (envelope.Parse), the subject that must
// match its account and type, the reserved operational types, the message id
// that must be scoped by account, its type (built in or declared for its
// account, unless undeclared types are accepted), and its data against its
// type's schema. It
// returns the event or why it is refused. The router and the ordered
// sequencer both take events through it.
func Check(names bus.Names, types *eventtypes.Registry, subject, msgID string, raw []byte) (*event.Event, string) {
	ev, checked, err := envelope.Parse(raw)
	if err != nil {
		return nil, err.Error()
	}
	if reason := checkSubject(names, subject, ev); reason != "" {
		return nil, reason
	}
	if want := publish.MsgID(ev.Account, ev.ID); msgID != "" && msgID != want {
		// The events stream de-duplicates by this header over all
		// accounts: an id not scoped by the account would make another
		// account's event of the same id a duplicate.
		return nil, fmt.Sprintf("Nats-Msg-Id %q must be <account>:<id>, here %q", Clip(msgID), want)
	}
	if reason := checkData(types, ev, checked); reason != "" {
		return nil, reason
	}
	return ev, ""
}

// checkSubject: an event is stored on <prefix>.events.<account>.<type>, and
// a type under hookhub. is the hub's own, accepted only on the subject the
// hub publishes its operational events on (bus.Names.Operational), which no
// account's publish permission on <prefix>.events.<account>.> covers.
func checkSubject(names bus.Names, subject string, ev *event.Event) string {
	if strings.HasPrefix(ev.Type, webhooks.OperationalPrefix) {
		if subject != names.Operational(ev.Account, ev.Type) {
			return fmt.Sprintf("invalid event: type: %q: types under %q are reserved for the hub's own operational events", Clip(ev.Type), webhooks.OperationalPrefix)
		}
		return ""
	}
	if want := ev.NATSSubject(names.Prefix); subject != want {
		return fmt.Sprintf("subject %q does not match the event's account and type (want %q)", Clip(subject), want)
	}
	return ""
}

// Clip shortens a publisher's value for a reason or a log line.
func Clip(s string) string {
	if len(s) > 200 {
		return s[:200] + "..."
	}
	return s
}

// CheckData checks the event's type and validates its data against the
// type's schema, and says why the event is refused ("" when it is not). A
// type neither built in nor declared for the event's account is refused,
// unless the hub accepts undeclared types: then it is delivered unchecked.
// The API checks events posted to it with the same function.
func CheckData(types *eventtypes.Registry, ev *event.Event) string {
	return checkData(types, ev, false)
}

// checkData is CheckData; checked says the event's data was validated
// as JSON when it was parsed (see parse).
func checkData(types *eventtypes.Registry, ev *event.Event, checked bool) string {
	if types == nil {
		return ""
	}
	if _, known := types.Lookup(ev.Account, ev.Type); !known {
		if types.AcceptUndeclared {
			return ""
		}
		return types.Undeclared(ev.Account, ev.Type)
	}
	data := ev.Data
	if len(data) == 0 {
		data = []byte("null")
	}
	doc, err := decodeData(data, checked && len(ev.Data) > 0)
	if err != nil {
		return "invalid event: data: " + err.Error()
	}
	issues, _, err := types.Validate(ev.Account, ev.Type, doc)
	if err != nil {
		return "invalid event: data: " + err.Error()
	}
	if len(issues) == 0 {
		return ""
	}
	msgs := make([]string, 0, len(issues))
	for _, is := range issues {
		p := "data"
		if is.Path != "" {
			p += "." + is.Path
		}
		msgs = append(msgs, p+": "+is.Msg)
	}
	return fmt.Sprintf("invalid event: does not match the schema of %s: %s", ev.Type, strings.Join(msgs, "; "))
}

// BatchAccount reports whether subject is a batch subject,
// <prefix>.events.<account>.$batch (event.BatchSubject), and whose.
func BatchAccount(names bus.Names, subject string) (string, bool) {
	rest, ok := strings.CutPrefix(subject, names.Prefix+".events.")
	if !ok {
		return "", false
	}
	account, ok := strings.CutSuffix(rest, "."+event.BatchToken)
	if !ok || !event.ValidAccount(account) {
		return "", false
	}
	return account, true
}

// SplitBatch reads a batch: a JSON array of at most event.MaxBatchEvents
// members in at most event.MaxBatchBytes. It returns each member's bytes
// (sharing raw), or why the batch as a whole is refused. Each member is
// checked later on its own (CheckBatched), so a member that is not an event
// is that member's rejection alone.
func SplitBatch(raw []byte) ([][]byte, string) {
	switch {
	case len(raw) > event.MaxBatchBytes:
		return nil, fmt.Sprintf("invalid batch: is %d bytes, over the limit of %d", len(raw), event.MaxBatchBytes)
	case !gjson.ValidBytes(raw) || envelope.TooDeep(raw):
		return nil, "invalid batch: not valid JSON: a batch is a JSON array of CloudEvents (" + event.BatchContentType + ")"
	}
	root := gjson.Parse(view.String(raw))
	if !root.IsArray() {
		return nil, "invalid batch: not a JSON array: a batch is a JSON array of CloudEvents (" + event.BatchContentType + ")"
	}
	var out [][]byte
	tooMany := false
	root.ForEach(func(_, v gjson.Result) bool {
		if len(out) == event.MaxBatchEvents {
			tooMany = true
			return false
		}
		if v.Index > 0 {
			out = append(out, raw[v.Index:v.Index+len(v.Raw):v.Index+len(v.Raw)])
		} else {
			out = append(out, []byte(v.Raw))
		}
		return true
	})
	switch {
	case tooMany:
		return nil, fmt.Sprintf("invalid batch: more than %d events", event.MaxBatchEvents)
	case len(out) == 0:
		return nil, "invalid batch: no events"
	}
	return out, ""
}

// CheckBatched is Check for one event of a batch published on account's
// batch subject: the same reading and checks, except that the event's
// account must be the subject's (a publisher cannot put another account's
// events in its batch), and that there is no Nats-Msg-Id of its own (the
// de-duplication by id is that of its delivery jobs, JobID).
func CheckBatched(types *eventtypes.Registry, account string, raw []byte) (*event.Event, string) {
	ev, checked, err := envelope.Parse(raw)
	if err != nil {
		return nil, err.Error()
	}
	if strings.HasPrefix(ev.Type, webhooks.OperationalPrefix) {
		return nil, fmt.Sprintf("invalid event: type: %q: types under %q are reserved for the hub's own operational events", Clip(ev.Type), webhooks.OperationalPrefix)
	}
	if ev.Account != account {
		return nil, fmt.Sprintf("account %q does not match the batch subject's account %q: a batch holds its own account's events only", Clip(ev.Account), account)
	}
	if reason := checkData(types, ev, checked); reason != "" {
		return nil, reason
	}
	return ev, ""
}
