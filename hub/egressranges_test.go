package hub_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/hookhub/hookhub/hub"
	"github.com/hookhub/hookhub/hub/config"
	"github.com/hookhub/hookhub/hub/hubtest"
)

// TestIPRangesUpdatedIsWhenTheyChanged: /ip-ranges publishes as updated
// when the ranges last changed (delivery.egress_ranges_updated, else the
// config file's modification time), not when the process started, so a
// receiver's tooling can tell whether its allowlist is current.
func TestIPRangesUpdatedIsWhenTheyChanged(t *testing.T) {
	// The config file, last written a month ago.
	dir := t.TempDir()
	path := filepath.Join(dir, "hookhub.json")
	doc := `{"api_addr":"127.0.0.1:0","nats_listen":"none","data_dir":` + strconv.Quote(filepath.Join(dir, "data")) + `,` +
		`"delivery":{"allow_insecure_targets":true,"egress_ranges":["203.0.113.0/28"]}}`
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	written := time.Date(2026, 10, 30, 8, 15, 0, 0, time.UTC)
	if err := os.Chtimes(path, written, written); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	h := runHub(t, cfg)
	a := &api{t: t, base: h.APIURL(), doc: loadOpenAPI(t)}
	if code, m, _ := a.do("GET", "/ip-ranges", "", ""); code != 200 || m["updated"] != "2026-10-30T08:15:00Z" {
		t.Errorf("ip-ranges from a file written at %s: %d %v", written.Format(time.RFC3339), code, m)
	}

	// Declared in the config: that time, whatever the file's.
	b := startOpenHub(t, `{"delivery":{"egress_ranges":["203.0.113.0/28"],"egress_ranges_updated":"2026-11-22T10:00:00Z"}}`, nil)
	if code, m, _ := b.do("GET", "/ip-ranges", "", ""); code != 200 || m["updated"] != "2026-11-22T10:00:00Z" {
		t.Errorf("ip-ranges with egress_ranges_updated: %d %v", code, m)
	}
}

// TestEgressRangesThatCannotMatchWarn: a hub whose published egress ranges
// cannot hold the address its deliveries leave from says so at start, in
// one warning line, and a hub whose source address is inside them says
// nothing.
func TestEgressRangesThatCannotMatchWarn(t *testing.T) {
	for _, tc := range []struct {
		delivery, want string
	}{
		{`{"egress_ranges":["203.0.113.0/28"],"source_address":"127.0.0.1"}`, "127.0.0.1 is inside none of delivery.egress_ranges"},
		{`{"egress_ranges":["203.0.113.0/28"]}`, "egress_ranges cannot be checked"},
		{`{"egress_ranges":["127.0.0.0/8"],"source_address":"127.0.0.1"}`, ""},
	} {
		var logs syncBuffer
		log := zerolog.New(&logs).Level(zerolog.WarnLevel)
		hubtest.StartHub(t, `{"delivery":`+tc.delivery+`}`, nil, hub.WithLogger(log))
		var lines []string
		for _, l := range strings.Split(logs.String(), "\n") {
			if strings.Contains(l, "egress_ranges") {
				lines = append(lines, l)
			}
		}
		switch {
		case tc.want == "" && len(lines) > 0:
			t.Errorf("%s: warned %q", tc.delivery, lines)
		case tc.want != "" && (len(lines) != 1 || !strings.Contains(lines[0], tc.want) || !strings.Contains(lines[0], `"level":"warn"`)):
			t.Errorf("%s: want one warning with %q, got %q", tc.delivery, tc.want, lines)
		}
	}
}

// runHub runs a hub on cfg until the test ends.
func runHub(t *testing.T, cfg *config.Config) *hub.Hub {
	t.Helper()
	h, err := hub.New(cfg, hub.WithLogger(zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel)))
	if err != nil {
		t.Fatalf("hub.New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Errorf("hub.Run did not return within 30s of cancel")
		}
		_ = h.Close()
	})
	return h
}
