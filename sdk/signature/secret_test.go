package signature_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hookhub/hookhub/sdk/signature"
)

func TestParseSecret(t *testing.T) {
	key := []byte("twenty-five-byte-secret!!") // base64 needs one '=' of padding
	padded := base64.StdEncoding.EncodeToString(key)
	if !strings.HasSuffix(padded, "=") {
		t.Fatalf("test key %q needs padding", padded)
	}
	want := "whsec_" + padded
	for _, in := range []string{
		want,
		strings.TrimRight(want, "="), // padding optional
		"  " + want + "\n",           // white space from files and env
	} {
		s, err := signature.ParseSecret(in)
		if err != nil {
			t.Errorf("ParseSecret(%q) = %v", in, err)
			continue
		}
		if s.IsZero() {
			t.Errorf("ParseSecret(%q).IsZero() = true", in)
		}
		if got := s.Reveal(); got != want {
			t.Errorf("ParseSecret(%q).Reveal() = %q, want %q", in, got, want)
		}
	}

	for _, in := range []string{
		"",
		"   ",
		"whsec_",
		"whsec_===",
		padded,                          // no prefix
		"WHSEC_" + padded,               // wrong prefix
		"whsk_" + padded,                // asymmetric keys are not supported
		"whsec_" + "not base64!",        // bad alphabet
		"whsec_" + "a",                  // impossible length
		"whsec_" + "-_-_" + padded[4:],  // URL alphabet
		"whsec_" + padded + "=" + "AAA", // padding in the middle
	} {
		s, err := signature.ParseSecret(in)
		if err == nil {
			t.Errorf("ParseSecret(%q) = nil error", in)
			continue
		}
		if !s.IsZero() {
			t.Errorf("ParseSecret(%q) failed but returned a secret", in)
		}
		body := strings.TrimPrefix(strings.TrimSpace(in), "whsec_")
		if len(body) >= 4 && strings.Contains(err.Error(), body) {
			t.Errorf("ParseSecret error %q contains the secret text", err)
		}
	}
}

func TestNewSecret(t *testing.T) {
	a, b := newSecret(t), newSecret(t)
	if a.IsZero() || b.IsZero() {
		t.Fatal("NewSecret returned a zero secret")
	}
	if a.Reveal() == b.Reveal() {
		t.Fatal("two NewSecret calls gave the same secret")
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(a.Reveal(), "whsec_"))
	if err != nil || len(raw) != 32 {
		t.Fatalf("NewSecret().Reveal() = %d bytes, %v; want 32 bytes", len(raw), err)
	}
	again := mustParse(t, a.Reveal())
	ts := time.Unix(1700000000, 0)
	if signature.Sign(a, "id", ts, []byte("b")) != signature.Sign(again, "id", ts, []byte("b")) {
		t.Error("a secret and its parsed Reveal sign differently")
	}
}

func TestZeroSecret(t *testing.T) {
	var z signature.Secret
	if !z.IsZero() {
		t.Error("zero Secret: IsZero() = false")
	}
	if z.Reveal() != "" {
		t.Errorf("zero Secret: Reveal() = %q", z.Reveal())
	}
}

// TestSecretNeverLeaks formats, marshals and logs a secret every way we can think
// of, and fails on any output or error text holding the key.
func TestSecretNeverLeaks(t *testing.T) {
	s := newSecret(t)
	text := s.Reveal()
	b64 := strings.TrimPrefix(text, "whsec_")
	type config struct {
		URL    string            `json:"url"`
		Secret signature.Secret  `json:"secret"`
		Ptr    *signature.Secret `json:"ptr"`
		All    []signature.Secret
	}
	cfg := config{URL: "https://example.com", Secret: s, Ptr: &s, All: []signature.Secret{s, s}}

	var outputs []string
	add := func(format string, args ...any) { outputs = append(outputs, fmt.Sprintf(format, args...)) }
	add("%v %+v %s", s, s, s)
	add("%#v %q %x %X %d %10.3s %T", s, s, s, s, s, s, s)
	add("%v %+v %#v %s", &s, &s, cfg, cfg)
	add("%v", []any{s, &s, cfg, &cfg})
	outputs = append(outputs, s.String(), fmt.Sprint(s), fmt.Sprintln(s, cfg), s.GoString())
	for _, v := range []any{s, &s, cfg, &cfg, map[string]signature.Secret{"k": s}} {
		j, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("json.Marshal(%T): %v", v, err)
		}
		outputs = append(outputs, string(j))
	}
	mt, _ := s.MarshalText()
	outputs = append(outputs, string(mt))
	var logged strings.Builder
	for _, h := range []slog.Handler{slog.NewTextHandler(&logged, nil), slog.NewJSONHandler(&logged, nil)} {
		slog.New(h).Info("webhook", "secret", s, "cfg", cfg)
	}
	outputs = append(outputs, logged.String())

	// Errors from verification with that secret.
	for _, h := range []http.Header{
		signedHeader([]signature.Secret{newSecret(t)}, "msg", time.Now(), nil),
		signedHeader([]signature.Secret{s}, "msg", time.Now().Add(-time.Hour), nil),
		signedHeader([]signature.Secret{s}, "msg", time.Now().Add(time.Hour), nil),
		{},
	} {
		if err := signature.Verify(s, h, []byte("b")); err != nil {
			outputs = append(outputs, err.Error())
		}
	}
	// Errors from parsing a near-miss of it.
	for _, bad := range []string{b64, "whsec_" + b64 + "!", "whsec_" + b64[:len(b64)-2] + "*="} {
		if _, err := signature.ParseSecret(bad); err != nil {
			outputs = append(outputs, err.Error())
		} else {
			t.Errorf("ParseSecret(near miss) succeeded")
		}
	}

	for _, out := range outputs {
		if strings.Contains(out, b64[:12]) {
			t.Errorf("secret leaked: %q", out)
		}
	}
	if !strings.Contains(outputs[0], "[redacted]") {
		t.Errorf("fmt output %q, want [redacted]", outputs[0])
	}
	if j, _ := json.Marshal(s); string(j) != `"[redacted]"` {
		t.Errorf("json.Marshal(secret) = %s, want \"[redacted]\"", j)
	}
}

func TestSecretUnmarshal(t *testing.T) {
	s := newSecret(t)
	var cfg struct {
		Secret  signature.Secret `json:"secret"`
		Rotated []signature.Secret
		Empty   signature.Secret
	}
	in := fmt.Sprintf(`{"secret":%q,"Rotated":[%q,%q],"Empty":""}`, s.Reveal(), s.Reveal(), s.Reveal())
	if err := json.Unmarshal([]byte(in), &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.Secret.Reveal() != s.Reveal() || len(cfg.Rotated) != 2 || cfg.Rotated[1].Reveal() != s.Reveal() {
		t.Errorf("json.Unmarshal gave %q, %d rotated", cfg.Secret.Reveal(), len(cfg.Rotated))
	}
	if !cfg.Empty.IsZero() {
		t.Error(`"" did not unmarshal to the zero Secret`)
	}
	bad := `{"secret":"whsec_c2VjcmV0LXRleHQ!"}`
	err := json.Unmarshal([]byte(bad), &cfg)
	if err == nil {
		t.Fatal("json.Unmarshal(bad secret) = nil")
	}
	if strings.Contains(err.Error(), "c2VjcmV0LXRleHQ") {
		t.Errorf("unmarshal error %q contains the secret text", err)
	}
	if !strings.Contains(err.Error(), "signature:") {
		t.Errorf("unmarshal error %q does not name its origin", err)
	}
}
