package config_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hookhub/hookhub/hub/config"
)

// selfSigned is a client certificate and its key, PEM.
func selfSigned(t *testing.T) (certPEM, keyPEM string) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "client"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kd, _ := x509.MarshalECPrivateKey(key)
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kd}))
}

// TestClientCertificate: the config file gives a client certificate as
// files (relative to the file, read at load into cert_pem and key_pem) or as
// PEM text, the key from the environment; errors name the webhook and the
// field and say why, and never show the key.
func TestClientCertificate(t *testing.T) {
	cert, key := selfSigned(t)
	dir := t.TempDir()
	_ = os.WriteFile(filepath.Join(dir, "client.pem"), []byte(cert), 0o600)
	_ = os.WriteFile(filepath.Join(dir, "client.key"), []byte(key), 0o600)
	file := filepath.Join(dir, "hub.json")
	wh := func(tc string) string {
		return `{"webhooks":[{"id":"wh_m","account":"acme","url":"https://example.com/","events":["*"],"secret":"` + secret + `","tls_client":` + tc + `}]}`
	}
	load := func(doc string, environ map[string]string) (*config.Config, error) {
		t.Helper()
		if err := os.WriteFile(file, []byte(doc), 0o600); err != nil {
			t.Fatal(err)
		}
		return config.Load(file, environ)
	}

	c, err := load(wh(`{"cert_file":"client.pem","key_file":"client.key"}`), nil)
	if err != nil {
		t.Fatalf("files relative to the config: %v", err)
	}
	if tc := c.Webhooks[0].TLSClient; tc.CertPEM != cert || tc.KeyPEM.Reveal() != key {
		t.Errorf("the files were not read into cert_pem and key_pem")
	}
	c, err = load(wh(`{"cert_pem":`+fmt.Sprintf("%q", cert)+`,"key_pem":"${env:CLIENT_KEY}"}`), map[string]string{"CLIENT_KEY": key})
	if err != nil {
		t.Fatalf("PEM text, the key from the environment: %v", err)
	}
	if tc := c.Webhooks[0].TLSClient; tc.CertPEM != cert || tc.KeyPEM.Reveal() != key {
		t.Errorf("cert_pem and key_pem were not kept")
	}
	if s := fmt.Sprintf("%v %+v", c.Webhooks[0], c.Webhooks[0].TLSClient); strings.Contains(s, strings.Split(key, "\n")[1]) {
		t.Errorf("the key prints")
	}

	_, otherKey := selfSigned(t)
	for _, tc := range []struct{ name, doc, path, msg string }{
		{"missing files", `{"cert_file":"nope.pem","key_file":"client.key"}`,
			"webhooks[0].tls_client.cert_file", `webhook "wh_m": cannot read the file: no such file or directory`},
		{"a directory", `{"cert_file":"client.pem","key_file":"."}`,
			"webhooks[0].tls_client.key_file", `webhook "wh_m": cannot read the file: not a regular file`},
		{"a key of another certificate", `{"cert_file":"client.pem","key_file":"other.key"}`,
			"webhooks[0].tls_client.key_file", "is not the key of the certificate (neither value is shown)"},
		{"not PEM", fmt.Sprintf(`{"cert_pem":"hello","key_pem":%q}`, key),
			"webhooks[0].tls_client.cert_pem", "must be a PEM certificate"},
	} {
		_ = os.WriteFile(filepath.Join(dir, "other.key"), []byte(otherKey), 0o600)
		_, err := load(wh(tc.doc), nil)
		fes := fieldErrors(t, err)
		if len(fes) != 1 || fes[0].File != file || fes[0].Path != tc.path || !strings.HasPrefix(fes[0].Msg, tc.msg) {
			t.Errorf("%s: %v\nwant %s: %s: %s", tc.name, err, file, tc.path, tc.msg)
		}
		if err != nil && (strings.Contains(err.Error(), strings.Split(key, "\n")[1]) || strings.Contains(err.Error(), strings.Split(otherKey, "\n")[1])) {
			t.Errorf("%s: the error shows a key: %v", tc.name, err)
		}
	}
	for _, doc := range []string{
		`{"cert_file":"client.pem","key_file":"client.key","cert_pem":"x","key_pem":"y"}`, // both ways
		`{"cert_pem":"x"}`, // no key
		`{}`,
	} {
		if _, err := load(wh(doc), nil); err == nil || !strings.Contains(err.Error(), "webhooks[0].tls_client") {
			t.Errorf("tls_client %s: %v, want an error at webhooks[0].tls_client", doc, err)
		}
	}
}
