package config_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hookhub/hookhub/hub/config"
)

// TestTypeErrorsDoNotHideOthers: values of the wrong type (which the strict
// decode cannot read) are reported with every other mistake in the file,
// each with the file, its path and the reason.
func TestTypeErrorsDoNotHideOthers(t *testing.T) {
	doc := `{"delivery":{"timeout":5,"concurrency":"many","retry":{"schedule":["1s",7]}},"webhooks":[
	 {"id":"a","account":"acme","url":"http://example.com/","events":["*"],"secret":"` + secret + `","batch":5},
	 {"id":"a","account":"acme","url":"https://10.0.0.1/","events":["*"],"secret":"nope","rate_limit":"fast"},
	 {"id":"c","account":"acme","url":"https://example.com/","events":["*"],"secret":"` + secret + `","retry":{"schedule":"5s"},"headers":{"Host":"x"}},
	 "not a webhook",
	 {"id":"e","account":"acme","url":"https://example.com:8443/","events":["*"],"secret":"` + secret + `","ordering":{"key":"account"},"batch":{"max_events":1}}]}`
	_, err := config.Parse("hub.json", []byte(doc), nil)
	wants := []fieldWant{
		{"delivery.timeout", "want string"},
		{"delivery.concurrency", "want integer"},
		{"delivery.retry.schedule[1]", "want string"},
		{"webhooks[0].batch", "want object"},
		{"webhooks[0].url", "must use https"},
		{"webhooks[1].id", "duplicate webhook id"},
		{"webhooks[1].url", "10.0.0.1 is a private address"},
		{"webhooks[1].secret", "whsec_"},
		{"webhooks[1].rate_limit", "want object"},
		{"webhooks[2].retry.schedule", "want array"},
		{"webhooks[2].headers.Host", "set by the hub"},
		{"webhooks[3]", "want object"},
		{"webhooks[4].url", "port 8443 is not allowed"},
		{"webhooks[4].ordering", "cannot be combined with batch"},
	}
	wantFieldErrors(t, err, wants)
	for _, fe := range fieldErrors(t, err) {
		if fe.Path == "webhooks[3].url" || fe.Path == "webhooks[3].secret" {
			t.Errorf("an error about the fields of webhooks[3], which is not an object: %v", fe)
		}
	}
	if strings.Contains(err.Error(), "nope") {
		t.Errorf("an error shows the secret's value: %v", err)
	}
}

// TestLoadRefusesLargeFiles: a config file larger than config.MaxFileSize is
// refused with an error that says so (this one, valid JSON padded with
// spaces, would otherwise load); one of exactly that size is read.
func TestLoadRefusesLargeFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, size int) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, append([]byte("{}"), bytes.Repeat([]byte(" "), size-2)...), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	big := write("big.json", config.MaxFileSize+1)
	_, err := config.Load(big, nil)
	fes := fieldErrors(t, err)
	if len(fes) != 1 || fes[0].File != big || !strings.Contains(fes[0].Msg, "larger than 16 MiB") {
		t.Errorf("a file of 16 MiB + 1 byte: got %v, want a refusal saying it is larger than 16 MiB", err)
	}
	if _, err := config.Load(write("limit.json", config.MaxFileSize), nil); err != nil {
		t.Errorf("a file of exactly 16 MiB: %v", err)
	}
}

// TestTypeErrorsAndUnsetVariables: an unset ${env:NAME} is reported with a
// type error elsewhere, not hidden by it.
func TestTypeErrorsAndUnsetVariables(t *testing.T) {
	doc := `{"delivery":{"timeout":5},"webhooks":[{"id":"a","account":"acme","url":"https://example.com/","events":["*"],"secret":"${env:HOOK_SECRET}"}]}`
	fes := fieldErrors(t, func() error { _, err := config.Parse("hub.json", []byte(doc), nil); return err }())
	var paths []string
	for _, fe := range fes {
		paths = append(paths, fe.Path+": "+fe.Msg)
	}
	got := strings.Join(paths, "\n")
	if !strings.Contains(got, "delivery.timeout: got number, want string") || !strings.Contains(got, "webhooks[0].secret: environment variable HOOK_SECRET is not set") {
		t.Errorf("got:\n%s\nwant the type error and the unset variable", got)
	}
}

// TestUnreadableValuesDoNotHideOthers: a value that passes the schema but
// cannot be read (a duration too long for Go) is reported at its path, with
// the file's other mistakes.
func TestUnreadableValuesDoNotHideOthers(t *testing.T) {
	doc := `{"delivery":{"timeout":"99999999999h","retry":{"schedule":["1s","99999999999h"]}},
	 "webhooks":[{"id":"a","account":"acme","url":"http://example.com/","events":["*"],"secret":"` + secret + `"}]}`
	_, err := config.Parse("hub.json", []byte(doc), nil)
	wants := []fieldWant{
		{"delivery.timeout", `duration "99999999999h"`},
		{"delivery.retry.schedule[1]", "at most 2562047h"},
		{"webhooks[0].url", "must use https"},
	}
	wantFieldErrors(t, err, wants)
}
