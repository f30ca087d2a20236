package hub

import (
	"strconv"
	"testing"
	"time"

	"github.com/hookhub/hookhub/hub/config"
)

// TestNATSSyncReachesTheEmbeddedServer: nats_sync is what the embedded
// JetStream server runs with, as the server itself reports it: always
// fsyncs each write before acknowledging it, a duration sets the periodic
// fsync, and the default keeps NATS's 2 minutes.
func TestNATSSyncReachesTheEmbeddedServer(t *testing.T) {
	for _, tc := range []struct {
		sync         string
		wantAlways   bool
		wantInterval time.Duration
	}{
		{"", false, 2 * time.Minute},
		{"always", true, 2 * time.Minute},
		{"1s", false, time.Second},
	} {
		doc := `{"nats_listen":"none","api_addr":"off","data_dir":` + strconv.Quote(t.TempDir()) + `,"nats_sync":` + strconv.Quote(tc.sync) + `}`
		cfg, err := config.Parse("test.json", []byte(doc), nil)
		if err != nil {
			t.Fatal(err)
		}
		h, err := New(cfg)
		if err != nil {
			t.Fatalf("nats_sync %q: New: %v", tc.sync, err)
		}
		js := h.bus.Server.JetStreamConfig()
		_ = h.Close()
		if js == nil || js.SyncAlways != tc.wantAlways || js.SyncInterval != tc.wantInterval {
			t.Errorf("nats_sync %q: the server runs with %+v, want sync_always %v, sync_interval %s", tc.sync, js, tc.wantAlways, tc.wantInterval)
		}
	}
}
