package signature_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/hookhub/hookhub/sdk/signature"
)

type signVector struct {
	Name      string `json:"name"`
	Secret    string `json:"secret"`
	ID        string `json:"id"`
	Timestamp int64  `json:"timestamp"`
	Body      string `json:"body"`
	Want      string `json:"want"`
}

type verifyVector struct {
	Name             string            `json:"name"`
	Secrets          []string          `json:"secrets"`
	Headers          map[string]string `json:"headers"`
	Body             string            `json:"body"`
	Now              int64             `json:"now"`
	ToleranceSeconds int64             `json:"tolerance_seconds"`
	Err              string            `json:"err"`
}

type vectors struct {
	Sign   []signVector   `json:"sign"`
	Verify []verifyVector `json:"verify"`
}

func loadVectors(t *testing.T) vectors {
	t.Helper()
	raw, err := os.ReadFile("testdata/vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var v vectors
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("testdata/vectors.json: %v", err)
	}
	if len(v.Sign) == 0 || len(v.Verify) == 0 {
		t.Fatal("testdata/vectors.json: no vectors")
	}
	return v
}

func mustParse(t testing.TB, s string) signature.Secret {
	t.Helper()
	sec, err := signature.ParseSecret(s)
	if err != nil {
		t.Fatalf("ParseSecret: %v", err)
	}
	return sec
}

var errNames = map[string]error{
	"missing": signature.ErrMissingHeaders,
	"invalid": signature.ErrInvalidSignature,
	"too_old": signature.ErrTimestampTooOld,
	"too_new": signature.ErrTimestampTooNew,
}

func TestSignVectors(t *testing.T) {
	for _, v := range loadVectors(t).Sign {
		t.Run(v.Name, func(t *testing.T) {
			s := mustParse(t, v.Secret)
			ts := time.Unix(v.Timestamp, 0)
			if got := signature.Sign(s, v.ID, ts, []byte(v.Body)); got != v.Want {
				t.Errorf("Sign() = %q, want %q", got, v.Want)
			}
			if got := string(signature.AppendSign([]byte("x "), s, v.ID, ts, []byte(v.Body))); got != "x "+v.Want {
				t.Errorf("AppendSign() = %q, want %q", got, "x "+v.Want)
			}
			// The vector also verifies, at its own time.
			h := http.Header{}
			h.Set(signature.HeaderID, v.ID)
			h.Set(signature.HeaderTimestamp, itoa(v.Timestamp))
			h.Set(signature.HeaderSignature, v.Want)
			vr := signature.Verifier{Secrets: []signature.Secret{s}, Now: func() time.Time { return ts }}
			if err := vr.Verify(h, []byte(v.Body)); err != nil {
				t.Errorf("Verify() = %v, want nil", err)
			}
		})
	}
}

func TestVerifyVectors(t *testing.T) {
	for _, v := range loadVectors(t).Verify {
		t.Run(v.Name, func(t *testing.T) {
			vr := signature.Verifier{
				Tolerance: time.Duration(v.ToleranceSeconds) * time.Second,
				Now:       func() time.Time { return time.Unix(v.Now, 0) },
			}
			for _, s := range v.Secrets {
				vr.Secrets = append(vr.Secrets, mustParse(t, s))
			}
			h := http.Header{}
			for k, val := range v.Headers {
				h.Set(k, val)
			}
			err := vr.Verify(h, []byte(v.Body))
			if v.Err == "" {
				if err != nil {
					t.Fatalf("Verify() = %v, want nil", err)
				}
				return
			}
			want, ok := errNames[v.Err]
			if !ok {
				t.Fatalf("vector names unknown error %q", v.Err)
			}
			if !errors.Is(err, want) {
				t.Fatalf("Verify() = %v, want %v", err, want)
			}
		})
	}
}
