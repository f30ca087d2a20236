package hub_test

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookhub/hookhub/hub/hubtest"
)

// TestKeepersStopBlockChurn: at low load (one event at a time, each
// delivered before the next) the events and deliveries streams empty after
// every ack. Without a keeper, JetStream's file store then opens a new block
// file for nearly every message (issue 15: a third of the hub's CPU at 500
// events/s); with the keepers the block being written never empties. Each
// event is delivered once, and the keepers reach no webhook, even one that
// takes every event type.
func TestKeepersStopBlockChurn(t *testing.T) {
	rc := hubtest.NewReceiver(t)
	dir := t.TempDir()
	doc := fmt.Sprintf(`{"data_dir":%q,"webhooks":[%s]}`, dir, webhookJSON("all", "acme", rc.URL, `"events":["*"]`))
	r := startHub(t, doc, nil)
	time.Sleep(600 * time.Millisecond) // the keepers are written
	const events = 80
	for i := range events {
		r.publish(t, contact(fmt.Sprintf("evt_keep_%d", i)))
		rc.WaitFor(t, i+1, 10*time.Second)
	}
	time.Sleep(500 * time.Millisecond) // a late or stray delivery would show
	if n := rc.Count(); n != events {
		t.Errorf("receiver got %d requests, want %d (one per event, none for a keeper)", n, events)
	}
	for _, stream := range []string{"HOOKHUB_EVENTS", "HOOKHUB_DELIVERIES"} {
		if last := lastBlock(t, dir, stream); last > 10 {
			t.Errorf("stream %s wrote block %d for %d events one at a time: the store churns a block per message, want at most 10", stream, last, events)
		}
	}
}

// lastBlock is the index of the newest block file of stream's file store.
func lastBlock(t *testing.T, dataDir, stream string) int {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dataDir, "jetstream", "jetstream", "*", "streams", stream, "msgs", "*.blk"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no block files of %s under %s (%v)", stream, dataDir, err)
	}
	last := 0
	for _, f := range files {
		n, err := strconv.Atoi(strings.TrimSuffix(filepath.Base(f), ".blk"))
		if err == nil && n > last {
			last = n
		}
	}
	return last
}
