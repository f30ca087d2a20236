package config_test

import (
	"strings"
	"testing"
	"time"

	"github.com/hookhub/hookhub/hub/config"
)

// TestNATSSync: nats_sync (or HOOKHUB_NATS_SYNC) chooses between an fsync
// before every acknowledgement and a periodic one; a value that is neither
// is refused with where and why, and so is the setting with an outside NATS,
// whose own config decides.
func TestNATSSync(t *testing.T) {
	for _, tc := range []struct {
		file, env    string
		wantAlways   bool
		wantInterval time.Duration
	}{
		{"", "", false, 2 * time.Minute},
		{"interval", "", false, 2 * time.Minute},
		{"always", "", true, 2 * time.Minute},
		{"1s", "", false, time.Second},
		{"", "always", true, 2 * time.Minute},
		{"5s", "always", true, 2 * time.Minute}, // the environment wins
	} {
		doc := `{}`
		if tc.file != "" {
			doc = `{"nats_sync":"` + tc.file + `"}`
		}
		env := map[string]string{}
		if tc.env != "" {
			env["HOOKHUB_NATS_SYNC"] = tc.env
		}
		c, err := config.Parse("hub.json", []byte(doc), env)
		if err != nil {
			t.Errorf("file %q env %q: %v", tc.file, tc.env, err)
			continue
		}
		always, interval, err := c.SyncPolicy()
		if err != nil || always != tc.wantAlways || interval != tc.wantInterval {
			t.Errorf("file %q env %q: SyncPolicy() = %v, %s, %v; want %v, %s", tc.file, tc.env, always, interval, err, tc.wantAlways, tc.wantInterval)
		}
	}
	for _, v := range []string{"sometimes", "0s", "-1s", "10"} {
		_, err := config.Parse("hub.json", []byte(`{"nats_sync":"`+v+`"}`), nil)
		if fes := fieldErrors(t, err); fes[0].Path != "nats_sync" || !strings.Contains(fes[0].Msg, "always") {
			t.Errorf("nats_sync %q: %v", v, err)
		}
	}
	_, err := config.Parse("hub.json", []byte(`{"nats_url":"nats://127.0.0.1:4222","nats_sync":"always"}`), nil)
	if fes := fieldErrors(t, err); fes[0].Path != "nats_sync" || !strings.Contains(fes[0].Msg, "sync_interval") {
		t.Errorf("nats_sync with nats_url: %v", err)
	}
}

// TestEgressWarning: published egress ranges that cannot hold the address
// deliveries leave from are said to be so.
func TestEgressWarning(t *testing.T) {
	for _, tc := range []struct {
		delivery string
		want     string // "" for no warning
	}{
		{`{}`, ""},
		{`{"egress_ranges":["203.0.113.0/28"]}`, "cannot be checked"},
		{`{"egress_ranges":["203.0.113.0/28"],"source_address":"198.51.100.7"}`, "198.51.100.7 is inside none"},
		{`{"egress_ranges":["203.0.113.0/28","2001:db8::/32"],"source_address":"203.0.113.9"}`, ""},
		{`{"egress_ranges":["2001:db8::/32"],"source_address":"2001:db8::5"}`, ""},
		{`{"egress_ranges":["203.0.113.0/28"],"proxy_url":"http://127.0.0.1:3128"}`, ""}, // the proxy's address is its own
		{`{"source_address":"198.51.100.7"}`, ""},                                        // nothing published, nothing to match
	} {
		c, err := config.Parse("hub.json", []byte(`{"delivery":`+tc.delivery+`}`), nil)
		if err != nil {
			t.Fatalf("%s: %v", tc.delivery, err)
		}
		got := c.EgressWarning()
		if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
			t.Errorf("%s: EgressWarning() = %q, want one with %q", tc.delivery, got, tc.want)
		}
	}
}

// TestEgressRangesUpdated: /ip-ranges' updated comes from
// delivery.egress_ranges_updated, else the config file's modification time,
// never the moment the process started; a malformed time is refused.
func TestEgressRangesUpdated(t *testing.T) {
	c, err := config.Parse("hub.json", []byte(`{"delivery":{"egress_ranges":["203.0.113.0/28"],"egress_ranges_updated":"2026-11-22T10:00:00+01:00"}}`), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := c.EgressUpdated(); !ok || !got.Equal(time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)) || got.Location() != time.UTC {
		t.Errorf("EgressUpdated() = %v, %v; want 2026-11-22T09:00:00Z", got, ok)
	}
	_, err = config.Parse("hub.json", []byte(`{"delivery":{"egress_ranges_updated":"22/11/2026"}}`), nil)
	if fes := fieldErrors(t, err); fes[0].Path != "delivery.egress_ranges_updated" || !strings.Contains(fes[0].Msg, "RFC 3339") {
		t.Errorf("bad time: %v", err)
	}
}

// TestProcs: procs defaults to adaptive; the file or HOOKHUB_PROCS may say
// fixed; anything else is refused, from the file by the schema and from the
// environment by Validate, naming the setting.
func TestProcs(t *testing.T) {
	c, err := config.Parse("hub.json", []byte(`{}`), nil)
	if err != nil || c.Procs != config.ProcsAdaptive {
		t.Fatalf("default procs %q (%v), want adaptive", c.Procs, err)
	}
	c, err = config.Parse("hub.json", []byte(`{"procs":"adaptive"}`), map[string]string{"HOOKHUB_PROCS": "fixed"})
	if err != nil || c.Procs != config.ProcsFixed {
		t.Fatalf("HOOKHUB_PROCS=fixed: %q (%v), want the environment to win", c.Procs, err)
	}
	for _, tc := range []struct{ doc, env string }{{`{"procs":"sometimes"}`, ""}, {`{}`, "sometimes"}} {
		env := map[string]string{}
		if tc.env != "" {
			env["HOOKHUB_PROCS"] = tc.env
		}
		if _, err := config.Parse("hub.json", []byte(tc.doc), env); err == nil || !strings.Contains(err.Error(), "procs") {
			t.Errorf("file %s env %q: %v, want an error naming procs", tc.doc, tc.env, err)
		}
	}
}

// TestDirectFirstAttempt: direct first attempts are on unless the file or
// HOOKHUB_DELIVERY_DIRECT turns them off, and the environment wins.
func TestDirectFirstAttempt(t *testing.T) {
	for _, tc := range []struct {
		doc  string
		env  string
		want bool
	}{
		{`{}`, "", true},
		{`{"delivery":{"direct_first_attempt":false}}`, "", false},
		{`{"delivery":{"direct_first_attempt":true}}`, "", true},
		{`{}`, "false", false},
		{`{"delivery":{"direct_first_attempt":false}}`, "true", true},
	} {
		env := map[string]string{}
		if tc.env != "" {
			env["HOOKHUB_DELIVERY_DIRECT"] = tc.env
		}
		c, err := config.Parse("hub.json", []byte(tc.doc), env)
		if err != nil {
			t.Fatalf("file %s env %q: %v", tc.doc, tc.env, err)
		}
		if got := c.Delivery.Direct(); got != tc.want {
			t.Errorf("file %s env %q: direct %v, want %v", tc.doc, tc.env, got, tc.want)
		}
	}
	if _, err := config.Parse("hub.json", []byte(`{}`), map[string]string{"HOOKHUB_DELIVERY_DIRECT": "sometimes"}); err == nil || !strings.Contains(err.Error(), "DELIVERY_DIRECT") {
		t.Errorf("HOOKHUB_DELIVERY_DIRECT=sometimes: %v, want an error naming it", err)
	}
}

// TestEnvErrorsNamed: every unreadable variable is named in the error, not
// the Go field behind it.
func TestEnvErrorsNamed(t *testing.T) {
	_, err := config.Parse("hub.json", []byte(`{}`), map[string]string{"HOOKHUB_DELIVERY_DIRECT": "sometimes", "HOOKHUB_STREAM_REPLICAS": "three"})
	if err == nil {
		t.Fatal("two unreadable variables accepted")
	}
	for _, want := range []string{"HOOKHUB_DELIVERY_DIRECT: ", "HOOKHUB_STREAM_REPLICAS: "} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, strings.TrimSuffix(want, ": "))
		}
	}
	if strings.Contains(err.Error(), "field") {
		t.Errorf("error %q names a Go field", err)
	}
}
