package routing

import (
	"testing"

	"github.com/hookhub/hookhub/hub/internal/schemacheck"
	"github.com/hookhub/hookhub/sdk/event"
)

// FuzzCheck: no event, however hostile, panics the router's checks (the
// envelope, then the data against its type's schema).
func FuzzCheck(f *testing.F) {
	set, err := schemacheck.Default()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		ev, err := event.Parse(b)
		if err != nil {
			return
		}
		_ = CheckData(set, ev)
	})
}
