package signature_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/hookhub/hookhub/sdk/signature"
)

func benchInputs(b *testing.B) (signature.Secret, time.Time, []byte) {
	s, err := signature.NewSecret()
	if err != nil {
		b.Fatal(err)
	}
	body := make([]byte, 1024)
	for i := range body {
		body[i] = 'a' + byte(i%26)
	}
	return s, time.Unix(1795341600, 0), body
}

// BenchmarkSign signs a 1 KiB body, as the hub does per request.
func BenchmarkSign(b *testing.B) {
	s, ts, body := benchInputs(b)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		_ = signature.Sign(s, "evt_2f9c:wh_1", ts, body)
	}
}

func BenchmarkAppendSign(b *testing.B) {
	s, ts, body := benchInputs(b)
	buf := make([]byte, 0, 128)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		buf = signature.AppendSign(buf[:0], s, "evt_2f9c:wh_1", ts, body)
	}
}

func BenchmarkSignParallel(b *testing.B) {
	s, ts, body := benchInputs(b)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			_ = signature.Sign(s, "evt_2f9c:wh_1", ts, body)
		}
	})
}

func BenchmarkVerify(b *testing.B) {
	s, _, body := benchInputs(b)
	ts := time.Now()
	h := http.Header{}
	h.Set(signature.HeaderID, "evt_2f9c:wh_1")
	h.Set(signature.HeaderTimestamp, itoa(ts.Unix()))
	h.Set(signature.HeaderSignature, signature.Sign(s, "evt_2f9c:wh_1", ts, body))
	v := signature.Verifier{Secrets: []signature.Secret{s}}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if err := v.Verify(h, body); err != nil {
			b.Fatal(err)
		}
	}
}

func benchSigningKey(b *testing.B) signature.SigningKey {
	k, err := signature.NewSigningKey()
	if err != nil {
		b.Fatal(err)
	}
	return k
}

// BenchmarkSignV1a signs a 1 KiB body with ed25519, as the hub does per request
// for an endpoint on v1a.
func BenchmarkSignV1a(b *testing.B) {
	_, ts, body := benchInputs(b)
	k := benchSigningKey(b)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		_ = signature.SignV1a(k, "evt_2f9c:wh_1", ts, body)
	}
}

func BenchmarkAppendSignV1a(b *testing.B) {
	_, ts, body := benchInputs(b)
	k := benchSigningKey(b)
	buf := make([]byte, 0, 128)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		buf = signature.AppendSignV1a(buf[:0], k, "evt_2f9c:wh_1", ts, body)
	}
}

// BenchmarkSignHeader signs with a secret and a signing key, one header.
func BenchmarkSignHeader(b *testing.B) {
	s, ts, body := benchInputs(b)
	k := benchSigningKey(b)
	secrets, keys := []signature.Secret{s}, []signature.SigningKey{k}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		_ = signature.SignHeader(secrets, keys, "evt_2f9c:wh_1", ts, body)
	}
}

func BenchmarkVerifyV1a(b *testing.B) {
	_, _, body := benchInputs(b)
	k := benchSigningKey(b)
	ts := time.Now()
	h := http.Header{}
	h.Set(signature.HeaderID, "evt_2f9c:wh_1")
	h.Set(signature.HeaderTimestamp, itoa(ts.Unix()))
	h.Set(signature.HeaderSignature, signature.SignV1a(k, "evt_2f9c:wh_1", ts, body))
	v := signature.Verifier{PublicKeys: []signature.PublicKey{k.Public()}}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if err := v.Verify(h, body); err != nil {
			b.Fatal(err)
		}
	}
}
