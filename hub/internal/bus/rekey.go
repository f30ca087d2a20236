package bus

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
)

// rekeyConsumers makes a secrets_key rotation work for consumers.
//
// Given JetStreamOldKey, nats-server reads a stream's files with the old key
// and writes them anew with the new one, but it opens a consumer's key file
// (obs/<consumer>/meta.key) with the new key only: after a rotation every
// consumer that was written with the old key fails to load ("error creating
// store for consumer"), and the hub cannot start once any event was routed.
// So before the server starts, each consumer key file that opens with the old
// key and not the new one is sealed anew with the new key. The key file holds
// the consumer's own data key (a seed), and the consumer's files are
// encrypted with that seed, which stays the same: only its wrapping changes.
//
// The wrapping is nats-server's (filestore.go genEncryptionKeys, AES cipher):
// the key-encryption key is HMAC-SHA256(store key, account || stream "." consumer),
// used as AES-GCM with a 16-byte nonce, and the file is nonce || seal(seed).
// TestSecretsRotationAfterEvents holds it to what the server reads.
func rekeyConsumers(storeDir, newKey, oldKey string) error {
	if newKey == "" || oldKey == "" {
		return nil
	}
	files, err := filepath.Glob(filepath.Join(storeDir, "jetstream", "*", "streams", "*", "obs", "*", "meta.key"))
	if err != nil {
		return err
	}
	for _, f := range files {
		consumerDir := filepath.Dir(f)
		streamDir := filepath.Dir(filepath.Dir(consumerDir))
		account := filepath.Base(filepath.Dir(filepath.Dir(streamDir)))
		context := filepath.Base(streamDir) + "." + filepath.Base(consumerDir)
		if err := rekeyFile(f, account, context, newKey, oldKey); err != nil {
			return fmt.Errorf("bus: consumer %s of stream %s: re-keying its key file for the new secrets_key: %w",
				filepath.Base(consumerDir), filepath.Base(streamDir), err)
		}
	}
	return nil
}

func rekeyFile(path, account, context, newKey, oldKey string) error {
	ekey, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	newKEK, err := consumerKEK(newKey, account, context)
	if err != nil {
		return err
	}
	ns := newKEK.NonceSize()
	if len(ekey) < ns {
		return fmt.Errorf("the key file is %d bytes, too short", len(ekey))
	}
	if _, err := newKEK.Open(nil, ekey[:ns], ekey[ns:], nil); err == nil {
		return nil // already the new key's
	}
	oldKEK, err := consumerKEK(oldKey, account, context)
	if err != nil {
		return err
	}
	seed, err := oldKEK.Open(nil, ekey[:ns], ekey[ns:], nil)
	if err != nil {
		// Neither key opens it: leave it, and the server says so.
		return nil
	}
	nonce := make([]byte, ns, ns+len(seed)+newKEK.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return err
	}
	sealed := newKEK.Seal(nonce, nonce, seed, nil)
	tmp := path + ".rekey"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o640)
	if err != nil {
		return err
	}
	_, err = f.Write(sealed)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func consumerKEK(storeKey, account, context string) (cipher.AEAD, error) {
	h := hmac.New(sha256.New, []byte(storeKey))
	h.Write([]byte(account))
	h.Write([]byte(context))
	block, err := aes.NewCipher(h.Sum(nil))
	if err != nil {
		return nil, err
	}
	return cipher.NewGCMWithNonceSize(block, block.BlockSize())
}
