package config

import (
	"encoding/base64"
	"encoding/json"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// Mask is what the hub shows in place of a secret value. Sent back through
// the API where it was shown, it keeps the value it hides.
const Mask = redacted

// plainHeaders are the header names whose values the hub shows: they
// describe the request and carry no credential. Every other header's value
// (a webhook's own headers, a plugin's) is masked wherever it is shown.
var plainHeaders = map[string]bool{
	"accept": true, "accept-charset": true, "accept-encoding": true, "accept-language": true,
	"content-type": true, "content-language": true, "content-encoding": true, "user-agent": true,
	"webhook-id": true, "webhook-timestamp": true, "webhook-signature": true, "hookhub-test": true,
}

// PlainHeader reports whether a header's value is shown in the clear: only
// Accept, Accept-Charset, Accept-Encoding, Accept-Language, Content-Type,
// Content-Language, Content-Encoding, User-Agent and the hub's own
// webhook-id, webhook-timestamp, webhook-signature and Hookhub-Test. Any
// other header may carry a credential, so its value is masked.
func PlainHeader(name string) bool { return plainHeaders[strings.ToLower(name)] }

// MaskURL masks the value of each query parameter of a URL (a token often
// rides there), and a password in it: https://h/p?token=[redacted].
func MaskURL(raw string) string {
	base, query, hasQuery := strings.Cut(raw, "?")
	if u, err := url.Parse(base); err == nil && u.User != nil {
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), Mask)
			base = u.String()
		}
	}
	if !hasQuery {
		return base
	}
	query, frag, hasFrag := strings.Cut(query, "#")
	parts := strings.Split(query, "&")
	for i, p := range parts {
		if k, v, ok := strings.Cut(p, "="); ok && v != "" {
			parts[i] = k + "=" + Mask
		}
	}
	out := base + "?" + strings.Join(parts, "&")
	if hasFrag {
		out += "#" + frag
	}
	return out
}

// RestoreURL is sent, a URL given back through the API, with each query
// value that is the mask (as MaskURL shows it, or escaped) replaced by the
// value of the same parameter (its same occurrence) in cur, and a masked
// password by cur's: what was shown masked keeps its value.
func RestoreURL(sent, cur string) string {
	if !strings.Contains(sent, Mask) && !strings.Contains(sent, url.QueryEscape(Mask)) {
		return sent
	}
	curBase, curQuery, _ := strings.Cut(cur, "?")
	curQuery, _, _ = strings.Cut(curQuery, "#")
	old := map[string][]string{}
	for _, p := range strings.Split(curQuery, "&") {
		if k, v, ok := strings.Cut(p, "="); ok {
			old[k] = append(old[k], v)
		}
	}
	base, query, hasQuery := strings.Cut(sent, "?")
	if u, err := url.Parse(base); err == nil && u.User != nil {
		if pw, ok := u.User.Password(); ok && pw == Mask {
			if cu, err := url.Parse(curBase); err == nil && cu.User != nil {
				if cpw, ok := cu.User.Password(); ok {
					u.User = url.UserPassword(u.User.Username(), cpw)
					base = u.String()
				}
			}
		}
	}
	if !hasQuery {
		return base
	}
	query, frag, hasFrag := strings.Cut(query, "#")
	parts := strings.Split(query, "&")
	seen := map[string]int{}
	for i, p := range parts {
		k, v, ok := strings.Cut(p, "=")
		if !ok {
			continue
		}
		n := seen[k]
		seen[k]++
		if (v == Mask || v == url.QueryEscape(Mask)) && n < len(old[k]) {
			parts[i] = k + "=" + old[k][n]
		}
	}
	out := base + "?" + strings.Join(parts, "&")
	if hasFrag {
		out += "#" + frag
	}
	return out
}

// A FieldPath is where a value sits in a JSON document: object keys, with
// "*" for any key of an object or any element of an array.
type FieldPath []string

// MaskFields replaces the values at paths in a JSON document with the mask;
// a document that is not JSON comes back as it is.
func MaskFields(doc json.RawMessage, paths []FieldPath) json.RawMessage {
	if len(paths) == 0 || len(doc) == 0 {
		return doc
	}
	var v any
	if json.Unmarshal(doc, &v) != nil {
		return doc
	}
	for _, p := range paths {
		v = walkFields(v, p, func(any) any { return Mask })
	}
	b, err := json.Marshal(v)
	if err != nil {
		return doc
	}
	return b
}

// RestoreFields puts back, at paths of sent, the values cur holds there
// where sent holds the mask: a config read through the API and sent back
// keeps its secrets.
func RestoreFields(sent any, cur json.RawMessage, paths []FieldPath) any {
	var old any
	if len(paths) == 0 || json.Unmarshal(cur, &old) != nil {
		return sent
	}
	for _, p := range paths {
		sent = restoreAt(sent, old, p)
	}
	return sent
}

func restoreAt(sent, old any, p FieldPath) any {
	if len(p) == 0 {
		if sent == Mask && old != nil {
			return old
		}
		return sent
	}
	switch s := sent.(type) {
	case map[string]any:
		o, _ := old.(map[string]any)
		for k, v := range s {
			if p[0] == "*" || p[0] == k {
				s[k] = restoreAt(v, o[k], p[1:])
			}
		}
	case []any:
		o, _ := old.([]any)
		if p[0] == "*" {
			for i, v := range s {
				var ov any
				if i < len(o) {
					ov = o[i]
				}
				s[i] = restoreAt(v, ov, p[1:])
			}
		}
	}
	return sent
}

// walkFields calls f on the values at p in v (in place) and returns v.
func walkFields(v any, p FieldPath, f func(any) any) any {
	if len(p) == 0 {
		if v == nil {
			return nil
		}
		return f(v)
	}
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			if p[0] == "*" || p[0] == k {
				t[k] = walkFields(x, p[1:], f)
			}
		}
	case []any:
		if p[0] == "*" {
			for i, x := range t {
				t[i] = walkFields(x, p[1:], f)
			}
		}
	}
	return v
}

// fieldValues lists the values at paths of doc, as text.
func fieldValues(doc json.RawMessage, paths []FieldPath) []string {
	var v any
	if len(paths) == 0 || json.Unmarshal(doc, &v) != nil {
		return nil
	}
	var out []string
	for _, p := range paths {
		walkFields(v, p, func(x any) any {
			switch s := x.(type) {
			case string:
				out = append(out, s)
			default:
				if b, err := json.Marshal(s); err == nil {
					out = append(out, string(b))
				}
			}
			return x
		})
	}
	return out
}

// SecretValues lists the webhook's secret values: its signing secrets, auth
// password, token and client secret (and the basic credentials as sent), the
// client certificate's key, every header value that is not a PlainHeader,
// URL query values and password, and its plugin config's values at
// pluginSecrets (the fields the plugin's schema marks writeOnly or
// x-secret). Scrub hides them.
func (w *Webhook) SecretValues(pluginSecrets []FieldPath) []string {
	out := []string{w.Secret.Reveal()}
	for _, p := range w.PreviousSecrets {
		out = append(out, p.Secret.Reveal())
	}
	if a := w.Auth; a != nil {
		out = append(out, a.Password.Reveal(), a.Token.Reveal(), a.ClientSecret.Reveal())
		if a.Type == "basic" {
			out = append(out, base64.StdEncoding.EncodeToString([]byte(a.Username+":"+a.Password.Reveal())))
		}
	}
	if w.TLSClient != nil {
		out = append(out, w.TLSClient.KeyPEM.Reveal())
	}
	for k, v := range w.Headers {
		if !PlainHeader(k) {
			out = append(out, v)
		}
	}
	if u, err := url.Parse(w.URL); err == nil {
		if pw, ok := u.User.Password(); ok {
			out = append(out, pw)
		}
		for _, vs := range u.Query() {
			out = append(out, vs...)
		}
	}
	if w.Plugin != nil {
		out = append(out, fieldValues(w.Plugin.Config, pluginSecrets)...)
	}
	return out
}

// MinScrubbed is the shortest value Scrub hides: shorter ones (a query's
// v=1) would blank ordinary text and are no credential.
const MinScrubbed = 6

// Scrub replaces each of secrets in s, as written and as it appears
// URL-escaped or in a JSON string, with the mask. It is the one function
// that cleans what the hub stores or logs of a receiver's answer or a
// plugin's error.
func Scrub(s string, secrets []string) string {
	if s == "" || len(secrets) == 0 {
		return s
	}
	forms := make([]string, 0, 3*len(secrets))
	for _, v := range secrets {
		if len(v) < MinScrubbed {
			continue
		}
		forms = append(forms, v)
		if q := url.QueryEscape(v); q != v {
			forms = append(forms, q)
		}
		if j := strconv.Quote(v); j[1:len(j)-1] != v {
			forms = append(forms, j[1:len(j)-1])
		}
		if b, err := json.Marshal(v); err == nil && string(b[1:len(b)-1]) != v {
			forms = append(forms, string(b[1:len(b)-1]))
		}
	}
	sort.Slice(forms, func(i, j int) bool { return len(forms[i]) > len(forms[j]) }) // a secret holding another goes whole
	for _, f := range forms {
		if strings.Contains(s, f) {
			s = strings.ReplaceAll(s, f, Mask)
		}
	}
	return s
}
