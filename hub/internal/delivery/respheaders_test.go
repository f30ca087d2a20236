package delivery

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/hookhub/hookhub/hub/config"
)

func TestResponseHeadersAreBoundedAndMasked(t *testing.T) {
	h := http.Header{}
	h.Set("X-Receiver", "rcv-1")
	h.Set("Set-Cookie", "session=abc123")
	h.Set("X-Echo", "token whsec_leaked here")
	h.Set("X-Long", strings.Repeat("é", 400))
	for i := range 10 {
		h.Add("X-Many", fmt.Sprint(i))
	}
	for i := range 100 {
		h.Set(fmt.Sprintf("X-Z%03d", i), "v")
	}
	got := responseHeaders(h, []string{"whsec_leaked"})
	if len(got) != maxResponseHeaders {
		t.Errorf("%d names, want %d", len(got), maxResponseHeaders)
	}
	if v := got["X-Receiver"]; len(v) != 1 || v[0] != "rcv-1" {
		t.Errorf("X-Receiver %v", v)
	}
	if v := got["Set-Cookie"]; len(v) != 1 || v[0] != config.Mask {
		t.Errorf("Set-Cookie %v, want masked", v)
	}
	if v := got["X-Echo"]; len(v) != 1 || strings.Contains(v[0], "whsec_leaked") {
		t.Errorf("X-Echo %v: the webhook's secret is not scrubbed", v)
	}
	if v := got["X-Long"]; len(v) != 1 || len(v[0]) > maxResponseHeaderValue || !utf8.ValidString(v[0]) || !strings.HasSuffix(v[0], "…") {
		t.Errorf("X-Long: %d bytes, valid %v", len(v[0]), utf8.ValidString(v[0]))
	}
	if v := got["X-Many"]; len(v) != maxResponseHeaderVals {
		t.Errorf("X-Many has %d values, want %d", len(v), maxResponseHeaderVals)
	}
	total := 0
	for k, vs := range got {
		total += len(k)
		for _, v := range vs {
			total += len(v)
		}
	}
	if total > maxResponseHeaderBytes {
		t.Errorf("%d bytes in all, want at most %d", total, maxResponseHeaderBytes)
	}
	big := http.Header{}
	for i := range 30 {
		big.Set(fmt.Sprintf("X-B%02d", i), strings.Repeat("a", 250))
	}
	total = 0
	for k, vs := range responseHeaders(big, nil) {
		total += len(k)
		for _, v := range vs {
			total += len(v)
		}
	}
	if total > maxResponseHeaderBytes || total < maxResponseHeaderBytes-300 {
		t.Errorf("30 headers of 250 bytes: %d bytes kept, want just under %d", total, maxResponseHeaderBytes)
	}
	if responseHeaders(nil, nil) != nil {
		t.Error("no headers gave a map")
	}
}
