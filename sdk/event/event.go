// Package event is hookhub's event envelope: CloudEvents 1.0 in JSON structured
// mode with the extension attributes account, initiator, via and lists.
//
// Publishers build an Event and marshal it; the hub parses what arrives with
// Parse, which checks the envelope (not the data: that is the hub's catalog's
// job). It uses only the standard library.
package event

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// SpecVersion is the CloudEvents version hookhub speaks.
const SpecVersion = "1.0"

// Initiators: who caused an event, as in ActiveCampaign's "initialized by".
const (
	InitiatorContact = "contact"
	InitiatorUser    = "user"
	InitiatorSystem  = "system"
	InitiatorAPI     = "api"
)

// ViaImport is the via of an event caused by an import (a contact
// subscribed because a file of contacts was imported, say), with initiator
// system or user: webhooks with exclude_imports leave such events out, as
// GetResponse does for some of its events.
const ViaImport = "import"

// MaxViaLen bounds the via attribute.
const MaxViaLen = 32

// Limits of the envelope's attributes.
const (
	MaxIDLen      = 256
	MaxTypeLen    = 128
	MaxAccountLen = 64
	// MaxSize is the largest event hookhub accepts, envelope included.
	MaxSize = 1 << 20
)

// Event is one CloudEvent as hookhub carries it.
type Event struct {
	SpecVersion     string     `json:"specversion"`
	ID              string     `json:"id"`
	Source          string     `json:"source"`
	Type            string     `json:"type"`
	Subject         string     `json:"subject,omitempty"`
	Time            *time.Time `json:"time,omitempty"`
	DataContentType string     `json:"datacontenttype,omitempty"`
	Account         string     `json:"account"`
	Initiator       string     `json:"initiator,omitempty"`
	// Via is how the initiator caused the event, when it matters to a
	// receiver: "import" (ViaImport), or the platform's own word
	// (automation, form, ...): lowercase letters, digits, '_' or '-'.
	Via   string          `json:"via,omitempty"`
	Lists string          `json:"lists,omitempty"`
	Data  json.RawMessage `json:"data,omitempty"`
}

// ErrInvalid is wrapped by every error Parse and Check return.
var ErrInvalid = errors.New("invalid event")

// FieldError says which attribute of an event is wrong and why.
type FieldError struct {
	Field  string
	Reason string
}

func (e *FieldError) Error() string { return "invalid event: " + e.Field + ": " + e.Reason }

// Unwrap lets errors.Is(err, ErrInvalid) match.
func (e *FieldError) Unwrap() error { return ErrInvalid }

// Parse decodes a CloudEvent from JSON and checks its envelope.
//
// It reads the envelope one way only, the way every part of the hub must
// agree on: attribute names are exact (CloudEvents names are lowercase), a
// top-level member that differs from an attribute only in case (such as
// "Account") is refused, and so is any top-level member named twice. Other
// members (extensions hookhub does not use) are ignored.
func Parse(b []byte) (*Event, error) {
	e, err := Decode(b)
	if err != nil {
		return nil, err
	}
	if err := e.Check(); err != nil {
		return nil, err
	}
	return e, nil
}

// Decode is Parse without the checks of Check: for a publisher that fills
// in what may be left out (an id, the time) before it checks the event.
func Decode(b []byte) (*Event, error) {
	if len(b) > MaxSize {
		return nil, &FieldError{"event", fmt.Sprintf("is %d bytes, over the limit of %d", len(b), MaxSize)}
	}
	if !utf8.Valid(b) {
		return nil, &FieldError{"event", "is not valid UTF-8"}
	}
	var e Event
	if err := json.Unmarshal(b, &e); err != nil {
		return nil, fmt.Errorf("%w: not a JSON CloudEvent: %s", ErrInvalid, jsonReason(err))
	}
	// The document is a valid JSON object: encoding/json matched its
	// members to attributes ignoring case, and the last of a repeated one
	// won. CheckMembers refuses every document on which that reading could
	// differ from an exact, first-or-last-agnostic one.
	if err := CheckMembers(b); err != nil {
		return nil, err
	}
	return &e, nil
}

// Attributes are the envelope's attribute names, as Event spells them.
var Attributes = []string{"specversion", "id", "source", "type", "subject", "time",
	"datacontenttype", "account", "initiator", "via", "lists", "data"}

// CheckMembers reports the first top-level member of the JSON object b that
// is named twice or that differs from an attribute name only in case
// (Unicode case folding, as encoding/json matches names). b must be valid
// JSON (as json.Valid says); anything else is not its concern and passes.
func CheckMembers(b []byte) error {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return nil
	}
	var seen names
	for i++; ; {
		i = skipSpace(b, i)
		if i >= len(b) || b[i] != '"' {
			return nil // '}': the end
		}
		end := skipString(b, i)
		name := string(b[i+1 : end-1])
		if strings.IndexByte(name, '\\') >= 0 {
			if json.Unmarshal(b[i:end], &name) != nil {
				return nil
			}
		}
		if twice := seen.add(name); twice {
			return &FieldError{"event", fmt.Sprintf("member %q appears more than once; an event names each member once", clip(name))}
		}
		if a := foldedAttribute(name); a != "" && a != name {
			return &FieldError{"event", fmt.Sprintf("member %q is not an attribute name: CloudEvents attribute names are exact and lowercase (%q)", clip(name), a)}
		}
		i = skipSpace(b, end)
		if i >= len(b) || b[i] != ':' {
			return nil
		}
		i = skipValue(b, skipSpace(b, i+1))
		i = skipSpace(b, i)
		if i >= len(b) || b[i] != ',' {
			return nil
		}
		i++
	}
}

// names is a set of member names: a slice while it is small, then a map.
type names struct {
	few  []string
	many map[string]struct{}
}

// add adds name and reports whether it was there already.
func (n *names) add(name string) bool {
	if n.many != nil {
		_, ok := n.many[name]
		n.many[name] = struct{}{}
		return ok
	}
	if slices.Contains(n.few, name) {
		return true
	}
	if n.few = append(n.few, name); len(n.few) > 16 {
		n.many = make(map[string]struct{}, 64)
		for _, f := range n.few {
			n.many[f] = struct{}{}
		}
	}
	return false
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index after the JSON string that starts at b[i].
func skipString(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return len(b)
}

// skipValue returns the index after the valid JSON value that starts at b[i].
func skipValue(b []byte, i int) int {
	depth := 0
	for i < len(b) {
		switch c := b[i]; c {
		case '"':
			i = skipString(b, i)
			if depth == 0 {
				return i
			}
			continue
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 {
				return i // the end of the object holding a scalar
			}
			depth--
			if depth == 0 {
				return i + 1
			}
		case ',':
			if depth == 0 {
				return i
			}
		case ' ', '\t', '\n', '\r':
			if depth == 0 {
				return i
			}
		}
		i++
	}
	return i
}

// foldedAttribute is the attribute name equal to name under case folding,
// or "".
func foldedAttribute(name string) string {
	for _, a := range Attributes {
		if strings.EqualFold(name, a) {
			return a
		}
	}
	return ""
}

func jsonReason(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("%s (at byte %d)", se.Error(), se.Offset)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("%s must be a %s, not %s", te.Field, te.Type, te.Value)
	}
	return err.Error()
}

// Check reports the first attribute of e that hookhub cannot accept.
func (e *Event) Check() error {
	switch {
	case e.SpecVersion != SpecVersion:
		return &FieldError{"specversion", fmt.Sprintf("must be %q, got %q", SpecVersion, clip(e.SpecVersion))}
	case e.ID == "":
		return &FieldError{"id", "is required"}
	case len(e.ID) > MaxIDLen || !visibleASCII(e.ID):
		return &FieldError{"id", fmt.Sprintf("must be 1 to %d visible ASCII characters", MaxIDLen)}
	case e.Source == "":
		return &FieldError{"source", "is required"}
	case e.Type == "":
		return &FieldError{"type", "is required"}
	case !ValidType(e.Type):
		return &FieldError{"type", fmt.Sprintf("%q is not a dotted lowercase type such as contact.updated", clip(e.Type))}
	case e.Account == "":
		return &FieldError{"account", "is required"}
	case !ValidAccount(e.Account):
		return &FieldError{"account", fmt.Sprintf("%q must be 1 to %d letters, digits, '_' or '-'", clip(e.Account), MaxAccountLen)}
	case e.Initiator != "" && !ValidInitiator(e.Initiator):
		return &FieldError{"initiator", fmt.Sprintf("%q must be one of contact, user, system, api", clip(e.Initiator))}
	case e.Via != "" && !validVia(e.Via):
		return &FieldError{"via", fmt.Sprintf("%q must be 1 to %d lowercase letters, digits, '_' or '-', such as import", clip(e.Via), MaxViaLen)}
	case e.Lists != "" && !validLists(e.Lists):
		return &FieldError{"lists", "must be comma-separated list ids (letters, digits, '_' or '-')"}
	case e.DataContentType != "" && !strings.HasPrefix(e.DataContentType, "application/json"):
		return &FieldError{"datacontenttype", "must be application/json"}
	case len(e.Data) > 0 && e.Data[0] != '{':
		return &FieldError{"data", "must be a JSON object"}
	}
	return nil
}

// ListIDs returns the ids in the lists attribute.
func (e *Event) ListIDs() []string {
	if e.Lists == "" {
		return nil
	}
	return strings.Split(e.Lists, ",")
}

// HasList reports whether the event concerns list id.
func (e *Event) HasList(id string) bool {
	for rest := e.Lists; rest != ""; {
		var l string
		l, rest, _ = strings.Cut(rest, ",")
		if l == id {
			return true
		}
	}
	return false
}

// Subject is the NATS subject an event is published on:
// <prefix>.events.<account>.<type>.
func Subject(prefix, account, eventType string) string {
	return prefix + ".events." + account + "." + eventType
}

// NATSSubject is the NATS subject e is published on under prefix.
func (e *Event) NATSSubject(prefix string) string { return Subject(prefix, e.Account, e.Type) }

func validVia(s string) bool {
	if len(s) > MaxViaLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// ValidInitiator reports whether s is one of the four initiators.
func ValidInitiator(s string) bool {
	switch s {
	case InitiatorContact, InitiatorUser, InitiatorSystem, InitiatorAPI:
		return true
	}
	return false
}

// ValidAccount reports whether s can be an account id (it is a subject token).
func ValidAccount(s string) bool {
	if len(s) == 0 || len(s) > MaxAccountLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !idChar(s[i]) {
			return false
		}
	}
	return true
}

// ValidType reports whether s is a dotted, lowercase event type such as
// "email.clicked": two or more tokens of [a-z0-9_].
func ValidType(s string) bool {
	if len(s) == 0 || len(s) > MaxTypeLen {
		return false
	}
	tokens, n := 1, 0 // tokens so far, characters in the current one
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '.':
			if n == 0 {
				return false
			}
			tokens, n = tokens+1, 0
		case c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_':
			n++
		default:
			return false
		}
	}
	return n > 0 && tokens >= 2
}

func validLists(s string) bool {
	for _, l := range strings.Split(s, ",") {
		if !ValidAccount(l) { // same alphabet as account ids
			return false
		}
	}
	return true
}

func idChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

func visibleASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// clip shortens a bad value quoted in an error.
func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}
