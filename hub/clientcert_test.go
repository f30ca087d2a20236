package hub_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hookhub/hookhub/hub/hubtest"
)

// clientCA issues client certificates that an mTLS receiver trusts.
type clientCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

func newClientCA(t *testing.T) *clientCA {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "receiver's client CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &clientCA{cert: cert, key: key}
}

// issue makes a client certificate for cn: its PEM and its key's PEM.
func (ca *clientCA) issue(t *testing.T, cn string) (certPEM, keyPEM string) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leaf := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, leaf, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalPKCS8PrivateKey(key)
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}))
}

// mtlsReceiver is an HTTPS receiver that requires a client certificate of
// ca and records the common names it saw.
type mtlsReceiver struct {
	*httptest.Server
	caFile string
	mu     sync.Mutex
	names  []string
}

func newMTLSReceiver(t *testing.T, ca *clientCA) *mtlsReceiver {
	t.Helper()
	m := &mtlsReceiver{}
	m.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.mu.Lock()
		m.names = append(m.names, r.TLS.PeerCertificates[0].Subject.CommonName)
		m.mu.Unlock()
		w.WriteHeader(200)
	}))
	pool := x509.NewCertPool()
	pool.AddCert(ca.cert)
	m.TLS = &tls.Config{ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pool}
	m.StartTLS()
	t.Cleanup(m.Close)
	m.caFile = (&hubtest.Receiver{Server: m.Server}).CAFile(t)
	return m
}

func (m *mtlsReceiver) seen() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.names...)
}

// TestAPIRefusesClientCertificatePaths: an account's token cannot make the
// hub present a key pair from the host's files (another tenant's) by naming
// them in tls_client: paths are refused through the API, with the admin
// token too, before any file is opened, and the answer is the same whether
// the path names a key pair, nothing, a directory or a FIFO (which would
// block a reader: the call returning proves no one opened it).
func TestAPIRefusesClientCertificatePaths(t *testing.T) {
	ca := newClientCA(t)
	rc := newMTLSReceiver(t, ca)
	dir := t.TempDir()
	certB, keyB := ca.issue(t, "tenant-b")
	certFile, keyFile := filepath.Join(dir, "tenant-b.pem"), filepath.Join(dir, "tenant-b.key")
	_ = os.WriteFile(certFile, []byte(certB), 0o600)
	_ = os.WriteFile(keyFile, []byte(keyB), 0o600)
	fifo := filepath.Join(dir, "fifo.pem")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { // were the hub blocked opening the FIFO, let it go
		if f, err := os.OpenFile(fifo, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			f.Close()
		}
	})

	r, a := startAPIHub(t, fmt.Sprintf(`{"delivery":{"ca_file":%q},
	 "accounts":[{"id":"tenant_a","api_token":"tok-a-for-the-tests"},{"id":"tenant_b","api_token":"tok-b-for-the-tests"}],
	 "webhooks":[%s]}`, rc.caFile,
		webhookJSON("b_hook", "tenant_b", rc.URL+"/b", fmt.Sprintf(`"events":["*"],"tls_client":{"cert_file":%q,"key_file":%q}`, certFile, keyFile))))

	client := &http.Client{Timeout: 10 * time.Second}
	post := func(method, path, token, body string) (int, []byte) {
		t.Helper()
		req, _ := http.NewRequest(method, r.APIURL()+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v (did the hub open the file?)", method, path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		a.doc.check(t, method, path, resp.StatusCode, b)
		return resp.StatusCode, b
	}
	attack := func(cert, key string) string {
		return fmt.Sprintf(`{"account":"tenant_a","url":%q,"events":["*"],"tls_client":{"cert_file":%q,"key_file":%q}}`, rc.URL+"/a", cert, key)
	}
	var first []byte
	for _, c := range []struct{ name, cert, key, token string }{
		{"tenant B's key pair, account A's token", certFile, keyFile, "tok-a-for-the-tests"},
		{"tenant B's key pair, the admin token", certFile, keyFile, apiToken},
		{"paths that do not exist", filepath.Join(dir, "nope.pem"), filepath.Join(dir, "nope.key"), "tok-a-for-the-tests"},
		{"a directory", dir, dir, "tok-a-for-the-tests"},
		{"a FIFO", fifo, fifo, "tok-a-for-the-tests"},
		{"a relative path", "tenant-b.pem", "tenant-b.key", "tok-a-for-the-tests"},
	} {
		code, body := post("POST", "/v1/webhooks", c.token, attack(c.cert, c.key))
		var m map[string]any
		_ = json.Unmarshal(body, &m)
		e, _ := m["error"].(map[string]any)
		if code != 400 || e["code"] != "validation_failed" || e["field"] != "tls_client.cert_file" || !strings.Contains(fmt.Sprint(e["message"]), "cert_pem") {
			t.Errorf("%s: %d %s, want 400 validation_failed on tls_client.cert_file pointing to cert_pem", c.name, code, body)
		}
		if strings.Contains(string(body), dir) || strings.Contains(string(body), "tenant-b") {
			t.Errorf("%s: the answer names the path: %s", c.name, body)
		}
		if first == nil {
			first = body
		} else if string(body) != string(first) {
			t.Errorf("%s: the answer differs from the one for a real key pair (it tells what is on disk):\n%s\n%s", c.name, body, first)
		}
	}
	if _, body := post("GET", "/v1/webhooks/b_hook", "tok-b-for-the-tests", ""); strings.Contains(string(body), dir) || !strings.Contains(string(body), `"key_pem":"[redacted]"`) {
		t.Errorf("a config-file webhook's view shows a path or its key: %s", body)
	}
	if n := len(r.Snapshot().Account("tenant_a")); n != 0 {
		t.Errorf("account A has %d webhooks after the refused creates", n)
	}

	// Nor can a webhook be changed to name a path.
	certA, keyA := ca.issue(t, "tenant-a")
	code, body := post("POST", "/v1/webhooks", apiToken, fmt.Sprintf(`{"id":"a_hook","account":"tenant_a","url":%q,"events":["*"],"tls_client":{"cert_pem":%q,"key_pem":%q}}`, rc.URL+"/a", certA, keyA))
	if code != 201 {
		t.Fatalf("create with PEMs: %d %s", code, body)
	}
	for _, method := range []string{"PATCH", "PUT"} {
		doc := fmt.Sprintf(`{"url":%q,"events":["*"],"tls_client":{"cert_file":%q,"key_file":%q}}`, rc.URL+"/a", certFile, keyFile)
		if code, body := post(method, "/v1/webhooks/a_hook", "tok-a-for-the-tests", doc); code != 400 || string(body) != string(first) {
			t.Errorf("%s to file paths: %d %s", method, code, body)
		}
	}
	code, body = post("POST", "/v1/webhooks/a_hook/test", "tok-a-for-the-tests", `{"event_type":"contact.updated"}`)
	if code != 200 || !strings.Contains(string(body), `"delivered":true`) {
		t.Fatalf("test send: %d %s", code, body)
	}
	if got := rc.seen(); len(got) != 1 || got[0] != "tenant-a" {
		t.Errorf("the receiver saw client certificates %v, want only account A's own", got)
	}
}

// TestAPIClientCertificatePEM: a webhook created with a certificate and key
// as PEM text presents that certificate to an mTLS receiver; the key is
// masked in every answer, kept when sent back masked, and a key that is not
// the certificate's, or is not a key, is refused saying which field, without
// echoing either value.
func TestAPIClientCertificatePEM(t *testing.T) {
	ca := newClientCA(t)
	rc := newMTLSReceiver(t, ca)
	r, a := startAPIHub(t, fmt.Sprintf(`{"delivery":{"ca_file":%q},"accounts":[{"id":"acme","api_token":"acme-token-for-tests"}]}`, rc.caFile))
	cert, key := ca.issue(t, "acme-client")
	keyBody := strings.Split(key, "\n")[1] // the key's base64, which must never show

	code, m, raw := a.do("POST", "/v1/webhooks", fmt.Sprintf(`{"id":"wh_m","account":"acme","url":%q,"events":["*"],"tls_client":{"cert_pem":%q,"key_pem":%q}}`, rc.URL, cert, key), apiToken) // an account's token cannot choose the id
	if code != 201 {
		t.Fatalf("create: %d %s", code, raw)
	}
	tc, _ := m["tls_client"].(map[string]any)
	if tc["key_pem"] != "[redacted]" || tc["cert_pem"] != cert || strings.Contains(string(raw), keyBody) {
		t.Errorf("create answer: tls_client %v", tc)
	}
	send := func(what string) {
		t.Helper()
		before := len(rc.seen())
		if code, m := a.call("POST", "/v1/webhooks/wh_m/test", `{"event_type":"contact.updated"}`); code != 200 || m["delivered"] != true {
			t.Fatalf("%s: test send: %d %v", what, code, m)
		}
		if got := rc.seen(); len(got) != before+1 || got[before] != "acme-client" {
			t.Errorf("%s: the receiver saw client certificates %v", what, got)
		}
	}
	send("after create")

	_, shown, raw := a.do("GET", "/v1/webhooks/wh_m", "", "acme-token-for-tests")
	if strings.Contains(string(raw), keyBody) || shown["tls_client"].(map[string]any)["key_pem"] != "[redacted]" {
		t.Errorf("GET shows the key: %s", raw)
	}
	if _, _, raw := a.do("GET", "/v1/webhooks", "", apiToken); strings.Contains(string(raw), keyBody) {
		t.Errorf("the list shows the key")
	}
	for _, k := range []string{"read_only", "disabled", "disabled_reason", "last_success", "failing_since", "previous_secrets"} {
		delete(shown, k)
	}
	shown["name"] = "renamed"
	back, _ := json.Marshal(shown)
	if code, m := a.call("PUT", "/v1/webhooks/wh_m", string(back)); code != 200 || m["name"] != "renamed" {
		t.Fatalf("PUT back what GET showed: %d %v", code, m)
	}
	if got := r.Snapshot().Get("wh_m").TLSClient.KeyPEM.Reveal(); got != key {
		t.Errorf("the key was not kept when sent back masked")
	}
	send("after PUT of the masked key")
	if code, m := a.call("PATCH", "/v1/webhooks/wh_m", `{"description":"patched"}`); code != 200 {
		t.Fatalf("PATCH: %d %v", code, m)
	}
	send("after PATCH")

	otherCert, otherKey := ca.issue(t, "someone-else")
	for _, c := range []struct{ name, cert, key, field string }{
		{"another certificate's key", cert, otherKey, "tls_client.key_pem"},
		{"not a key", cert, "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5IGF0IGFsbA==\n-----END PRIVATE KEY-----\n", "tls_client.key_pem"},
		{"a certificate as the key", cert, otherCert, "tls_client.key_pem"},
		{"not a certificate", "hello", key, "tls_client.cert_pem"},
		{"only the certificate", cert, "", "tls_client"},
	} {
		tcDoc := fmt.Sprintf(`{"cert_pem":%q,"key_pem":%q}`, c.cert, c.key)
		if c.key == "" {
			tcDoc = fmt.Sprintf(`{"cert_pem":%q}`, c.cert)
		}
		code, m, raw := a.do("POST", "/v1/webhooks", fmt.Sprintf(`{"url":%q,"events":["*"],"tls_client":%s}`, rc.URL, tcDoc), "acme-token-for-tests")
		e, _ := m["error"].(map[string]any)
		if code != 400 || !strings.HasPrefix(fmt.Sprint(e["field"]), c.field) {
			t.Errorf("%s: %d %s, want 400 on %s", c.name, code, raw, c.field)
		}
		for _, v := range []string{keyBody, strings.Split(otherKey, "\n")[1], strings.Split(cert, "\n")[1], "bm90IGEga2V5"} {
			if strings.Contains(string(raw), v) {
				t.Errorf("%s: the error echoes a PEM value: %s", c.name, raw)
			}
		}
	}
}
