package delivery

import (
	"net/http"
	"sort"
	"unicode/utf8"

	"github.com/hookhub/hookhub/hub/config"
)

// Bounds of the response headers a test send reports: a receiver chooses
// what it answers, so neither their number nor their size is its to set.
const (
	maxResponseHeaders     = 32   // names, the first in sorted order
	maxResponseHeaderVals  = 4    // values per name
	maxResponseHeaderValue = 256  // bytes per value, cut at a rune
	maxResponseHeaderBytes = 4096 // names and values in all
)

// credentialHeaders are response headers whose values are credentials of
// the receiver's (a session cookie, a challenge): shown masked.
var credentialHeaders = map[string]bool{"Set-Cookie": true, "Set-Cookie2": true, "Www-Authenticate": true,
	"Proxy-Authenticate": true, "Authorization": true, "Proxy-Authorization": true}

// responseHeaders copies a receiver's answer's headers for a test send's
// report: at most maxResponseHeaders names (sorted), maxResponseHeaderVals
// values each, each value cut to maxResponseHeaderValue bytes, and
// maxResponseHeaderBytes in all; credential headers masked and the
// webhook's secret values scrubbed.
func responseHeaders(h http.Header, secrets []string) map[string][]string {
	if len(h) == 0 {
		return nil
	}
	names := make([]string, 0, len(h))
	for k := range h {
		names = append(names, k)
	}
	sort.Strings(names)
	out := make(map[string][]string, min(len(names), maxResponseHeaders))
	total := 0
	for _, k := range names {
		if len(out) == maxResponseHeaders || total+len(k) > maxResponseHeaderBytes {
			break
		}
		var vals []string
		for _, v := range h[k] {
			if len(vals) == maxResponseHeaderVals {
				break
			}
			if credentialHeaders[http.CanonicalHeaderKey(k)] {
				v = config.Mask
			} else {
				v = cut(config.Scrub(v, secrets), maxResponseHeaderValue)
			}
			if total+len(k)+len(v) > maxResponseHeaderBytes {
				break
			}
			total += len(v)
			vals = append(vals, v)
		}
		total += len(k)
		out[k] = vals
	}
	return out
}

// cut shortens s to at most n bytes without splitting a rune, marking the
// cut with "…".
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n-len("…")]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s + "…"
}
