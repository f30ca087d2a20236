package webhooks

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hookhub/hookhub/hub/config"
)

// Secret values in the bucket are sealed with AES-256-GCM under the first
// key of secrets_key:
//
//	enc:v1:<key id>:<base64url of nonce and ciphertext>
//
// with the webhook's id and the field's name as associated data, so a value
// copied to another webhook or field does not open. Without a key they are
// stored as given (a value that would read as sealed gets "enc:plain:" in
// front). Any key of secrets_key opens what it sealed; a value under another
// key than the first is stale, and rewritten.
const (
	sealedPrefix = "enc:v1:"
	plainPrefix  = "enc:plain:"
)

// errNoKey says a value was sealed with a key secrets_key does not hold.
var errNoKey = errors.New("sealed with a key that secrets_key does not hold")

type sealer struct {
	keys  []config.SecretsKey // the first seals
	aeads map[string]cipher.AEAD
}

func newSealer(keys []config.SecretsKey) (*sealer, error) {
	s := &sealer{keys: keys, aeads: map[string]cipher.AEAD{}}
	for _, k := range keys {
		block, err := aes.NewCipher(k.Key[:])
		if err != nil {
			return nil, fmt.Errorf("webhooks: secrets key %s: %w", k.ID, err)
		}
		if s.aeads[k.ID], err = cipher.NewGCM(block); err != nil {
			return nil, fmt.Errorf("webhooks: secrets key %s: %w", k.ID, err)
		}
	}
	return s, nil
}

// current is the id of the key that seals ("" when there is none).
func (s *sealer) current() string {
	if len(s.keys) == 0 {
		return ""
	}
	return s.keys[0].ID
}

func aad(id, field string) []byte { return []byte("hookhub webhook\x00" + id + "\x00" + field) }

// encryptValue seals one secret value of webhook id's field. Every secret
// field of stored goes through it.
func (s *sealer) encryptValue(id, field, v string) (string, error) {
	if v == "" {
		return "", nil
	}
	if len(s.keys) == 0 {
		if strings.HasPrefix(v, "enc:") {
			return plainPrefix + v, nil
		}
		return v, nil
	}
	k := s.current()
	a := s.aeads[k]
	nonce := make([]byte, a.NonceSize(), a.NonceSize()+len(v)+a.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("webhooks: nonce: %w", err)
	}
	sealed := a.Seal(nonce, nonce, []byte(v), aad(id, field))
	return sealedPrefix + k + ":" + base64.RawURLEncoding.EncodeToString(sealed), nil
}

// decryptValue opens what encryptValue made. stale reports a value that is
// not sealed with the current key (or not at all, while there is one).
func (s *sealer) decryptValue(id, field, v string) (plain string, stale bool, err error) {
	switch {
	case v == "":
		return "", false, nil
	case strings.HasPrefix(v, plainPrefix):
		return strings.TrimPrefix(v, plainPrefix), len(s.keys) > 0, nil
	case !strings.HasPrefix(v, sealedPrefix):
		return v, len(s.keys) > 0, nil
	}
	k, body, ok := strings.Cut(strings.TrimPrefix(v, sealedPrefix), ":")
	if !ok {
		return "", false, fmt.Errorf("%s: malformed sealed value", field)
	}
	a := s.aeads[k]
	if a == nil {
		return "", false, fmt.Errorf("%s: %w (key id %s)", field, errNoKey, k)
	}
	raw, err := base64.RawURLEncoding.DecodeString(body)
	if err != nil || len(raw) < a.NonceSize() {
		return "", false, fmt.Errorf("%s: malformed sealed value", field)
	}
	out, err := a.Open(nil, raw[:a.NonceSize()], raw[a.NonceSize():], aad(id, field))
	if err != nil {
		return "", false, fmt.Errorf("%s: sealed value does not open with key %s (altered, or not this webhook's)", field, k)
	}
	return string(out), k != s.current(), nil
}

// stored is a webhook as the bucket holds it: config.Webhook (whose secrets
// marshal as [redacted]) with each secret sealed by encryptValue.
type stored struct {
	config.Webhook
	SecretValue    string           `json:"secret_value"`
	PasswordValue  string           `json:"password_value,omitempty"`
	TokenValue     string           `json:"token_value,omitempty"`
	ClientSecret   string           `json:"client_secret_value,omitempty"`
	KeyPEMValue    string           `json:"key_pem_value,omitempty"`
	PreviousValues []previousStored `json:"previous_values,omitempty"`
}

type previousStored struct {
	Secret  string    `json:"secret"`
	Expires time.Time `json:"expires"`
}

// encode seals w's secrets and marshals it for the bucket.
func (s *sealer) encode(w config.Webhook) ([]byte, error) {
	var errs []error
	seal := func(field string, v config.Secret) string {
		out, err := s.encryptValue(w.ID, field, v.Reveal())
		errs = append(errs, err)
		return out
	}
	st := stored{Webhook: w, SecretValue: seal("secret", w.Secret)}
	if w.Auth != nil {
		st.PasswordValue, st.TokenValue = seal("auth.password", w.Auth.Password), seal("auth.token", w.Auth.Token)
		st.ClientSecret = seal("auth.client_secret", w.Auth.ClientSecret)
	}
	if w.TLSClient != nil {
		st.KeyPEMValue = seal("tls_client.key_pem", w.TLSClient.KeyPEM)
	}
	for i, p := range w.PreviousSecrets {
		st.PreviousValues = append(st.PreviousValues, previousStored{seal(fmt.Sprintf("previous_secrets[%d]", i), p.Secret), p.Expires})
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return json.Marshal(st)
}

// decode reads the bucket's value at key id and opens its secrets. stale
// reports a value not sealed with the current key, to be written again.
func (s *sealer) decode(id string, b []byte) (w config.Webhook, stale bool, err error) {
	var st stored
	if err := json.Unmarshal(b, &st); err != nil {
		return config.Webhook{}, false, err
	}
	if st.ID != id {
		return config.Webhook{}, false, fmt.Errorf("holds webhook id %q", st.ID)
	}
	var errs []error
	open := func(field, v string) config.Secret {
		out, old, err := s.decryptValue(id, field, v)
		errs = append(errs, err)
		stale = stale || old
		return config.Secret(out)
	}
	w = st.Webhook
	w.Secret = open("secret", st.SecretValue)
	if w.Auth != nil {
		a := *w.Auth
		a.Password, a.Token = open("auth.password", st.PasswordValue), open("auth.token", st.TokenValue)
		a.ClientSecret = open("auth.client_secret", st.ClientSecret)
		w.Auth = &a
	}
	if w.TLSClient != nil {
		tc := *w.TLSClient
		tc.KeyPEM = open("tls_client.key_pem", st.KeyPEMValue)
		w.TLSClient = &tc
	}
	w.PreviousSecrets = nil
	for i, p := range st.PreviousValues {
		w.PreviousSecrets = append(w.PreviousSecrets, config.PreviousSecret{Secret: open(fmt.Sprintf("previous_secrets[%d]", i), p.Secret), Expires: p.Expires})
	}
	if err := errors.Join(errs...); err != nil {
		return config.Webhook{}, false, err
	}
	return w, stale, nil
}
