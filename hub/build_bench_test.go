package hub_test

import (
	"strings"
	"testing"

	"github.com/hookhub/hookhub/hub"
	"github.com/hookhub/hookhub/hub/config"
	"github.com/hookhub/hookhub/hub/hubtest"
)

// BenchmarkBuild measures the request the hub builds for one 1 KiB event,
// signed, without a plugin and with first-party (native) plugins, with
// no JetStream or HTTP in the way: the plugin pipeline's own cost beside
// the whole delivery's (`hookhub bench --plugin`).
//
//	go test ./hub/ -run '^$' -bench Build -benchmem
func BenchmarkBuild(b *testing.B) {
	raw := []byte(`{"specversion":"1.0","id":"evt_1","source":"bench","type":"contact.updated","account":"acme","initiator":"api","time":"2026-11-22T10:00:00Z","data":{"email":"ada@example.com","note":"` + strings.Repeat("x", 900) + `"}}`)
	for _, plugin := range []string{"", "passthrough", "mapper", "form"} {
		name := plugin
		if name == "" {
			name = "none"
		}
		b.Run(name, func(b *testing.B) {
			extra := ""
			if plugin != "" {
				extra = `,"plugin":{"name":"` + plugin + `"}`
			}
			doc := `{"delivery":{"allow_insecure_targets":true},"webhooks":[{"id":"w","account":"acme","url":"https://127.0.0.1/hook","secret":"` + hubtest.Secret + `","events":["contact.*"]` + extra + `}]}`
			cfg, err := config.Parse("bench.json", []byte(doc), nil)
			if err != nil {
				b.Fatal(err)
			}
			p, err := hub.NewPreviewer(b.Context(), cfg, cfg.Webhooks[0], "")
			if err != nil {
				b.Fatal(err)
			}
			defer func() { _ = p.Close(b.Context()) }()
			events := [][]byte{raw}
			b.ReportAllocs()
			for b.Loop() {
				if _, _, _, err := p.Preview(b.Context(), events); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
