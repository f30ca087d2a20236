package hub_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookhub/hookhub/hub/hubtest"
	"github.com/hookhub/hookhub/hub/internal/bus"
)

// TestMTLS: a receiver that requires a client certificate gets the webhook
// that has one, and refuses the one that has none.
func TestMTLS(t *testing.T) {
	dir := t.TempDir()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "receiver's client CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	caDER, _ := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	ca, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leaf := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "hookhub"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, _ := x509.CreateCertificate(rand.Reader, leaf, ca, &key.PublicKey, caKey)
	keyDER, _ := x509.MarshalECPrivateKey(key)
	certFile, keyFile := filepath.Join(dir, "client.pem"), filepath.Join(dir, "client.key")
	_ = os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	_ = os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600)

	var mu sync.Mutex
	var got []string
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.TLS.PeerCertificates[0].Subject.CommonName)
		mu.Unlock()
		w.WriteHeader(200)
	}))
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	srv.TLS = &tls.Config{ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pool}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	caFile := (&hubtest.Receiver{Server: srv}).CAFile(t)

	doc := fmt.Sprintf(`{"delivery":{"ca_file":%q},"webhooks":[%s,%s]}`, caFile,
		webhookJSON("with_cert", "acme", srv.URL+"/a", fmt.Sprintf(`"events":["*"],"tls_client":{"cert_file":%q,"key_file":%q}`, certFile, keyFile)),
		webhookJSON("without", "acme", srv.URL+"/b", `"events":["*"],"retry":{"schedule":[]}`))
	r := startHub(t, doc, nil)
	r.publish(t, contact("evt_mtls"))
	dl := r.waitStream(t, streamName("hookhub", "DLQ"), 1, 20*time.Second)
	hubtest.Eventually(t, 10*time.Second, "the delivery with the certificate", func() bool { return r.Stats().Delivered == 1 })
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 1 || got[0] != "hookhub" {
		t.Errorf("the receiver saw client certificates %v", got)
	}
	if w := dl[0].Headers().Get(bus.HeaderWebhook); w != "without" || !strings.Contains(dl[0].Headers().Get(bus.HeaderReason), "certificate") {
		t.Errorf("dead letter of %s: %s", w, dl[0].Headers().Get(bus.HeaderReason))
	}
	_, err := startHubErr(t, `{"webhooks":[`+webhookJSON("bad", "acme", srv.URL, `"events":["*"],"tls_client":{"cert_file":"nope.pem","key_file":"nope.key"}`)+`]}`)
	if err == nil || !strings.Contains(err.Error(), `webhooks[0].tls_client.cert_file: webhook "bad": cannot read the file: no such file or directory`) {
		t.Errorf("a missing certificate: %v", err)
	}
}
