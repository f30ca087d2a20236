package config

import (
	"fmt"
	"net/netip"
	"os"
	"strings"
	"time"
)

// DefaultNATSSyncInterval is how often the embedded server fsyncs its
// JetStream files by default: nats-server's own default.
const DefaultNATSSyncInterval = 2 * time.Minute

// SyncPolicy is nats_sync read: always true when every JetStream write is
// fsynced before it is acknowledged, else the interval of the background
// fsync.
func (c *Config) SyncPolicy() (always bool, interval time.Duration, err error) {
	switch v := strings.TrimSpace(c.NATSSync); strings.ToLower(v) {
	case "", "interval":
		return false, DefaultNATSSyncInterval, nil
	case "always":
		return true, DefaultNATSSyncInterval, nil
	default:
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return false, 0, fmt.Errorf("%q is none of always, interval or a positive duration such as 1s", v)
		}
		return false, d, nil
	}
}

// checkSync checks nats_sync: a value the embedded server takes, and only
// with the embedded server (an outside NATS has its own setting).
func (c *Config) checkSync(bad func(path, format string, args ...any)) {
	if _, _, err := c.SyncPolicy(); err != nil {
		bad("nats_sync", "%s", err.Error())
	} else if c.NATSSync != "" && c.NATSURL != "" {
		bad("nats_sync", "applies to the embedded server only, and nats_url names an outside NATS: set sync_interval in its jetstream block instead (see docs/reliability.md)")
	}
}

// EgressUpdated is when the egress ranges last changed, for /ip-ranges:
// delivery.egress_ranges_updated, else the config file's modification time
// (the ranges can change no later than the file), else false.
func (c *Config) EgressUpdated() (time.Time, bool) {
	if t, err := time.Parse(time.RFC3339, c.Delivery.EgressRangesUpdated); err == nil {
		return t.UTC(), true
	}
	if c.File == "" {
		return time.Time{}, false
	}
	fi, err := os.Stat(c.File)
	if err != nil {
		return time.Time{}, false
	}
	return fi.ModTime().UTC().Truncate(time.Second), true
}

// EgressWarning says why the published egress ranges cannot be trusted to
// hold the address deliveries leave from, or "" when nothing is known
// against them: source_address outside every range, or ranges with neither
// a proxy nor a source address (deliveries then leave from whatever address
// the host picks, which the hub cannot check). Behind a proxy the proxy's
// address is what receivers see, and the hub cannot know it.
func (c *Config) EgressWarning() string {
	d := c.Delivery
	if len(d.EgressRanges) == 0 || d.ProxyURL != "" {
		return ""
	}
	if d.SourceAddress == "" {
		return "delivery.egress_ranges cannot be checked: with neither delivery.source_address nor delivery.proxy_url set, deliveries leave from whatever address this host picks; make sure it is inside the published ranges"
	}
	src, err := netip.ParseAddr(d.SourceAddress)
	if err != nil {
		return "" // refused by Validate
	}
	for _, r := range d.EgressRanges {
		if p, err := netip.ParsePrefix(r); err == nil && p.Contains(src.Unmap()) {
			return ""
		}
	}
	return fmt.Sprintf("delivery.source_address %s is inside none of delivery.egress_ranges: receivers that allowlist the published ranges will refuse these deliveries", src)
}
