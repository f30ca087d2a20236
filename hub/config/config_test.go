package config_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/hookhub/hookhub/hub/config"
)

const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

// fieldWant is an error expected at a JSON path of hub.json, saying msg.
type fieldWant struct{ path, msg string }

// wantFieldErrors fails t for each of wants that err does not hold.
func wantFieldErrors(t *testing.T, err error, wants []fieldWant) {
	t.Helper()
	fes := fieldErrors(t, err)
	for _, w := range wants {
		found := false
		for _, fe := range fes {
			if fe.File == "hub.json" && fe.Path == w.path && strings.Contains(fe.Msg, w.msg) {
				found = true
			}
		}
		if !found {
			t.Errorf("no error at %q saying %q; got:\n%v", w.path, w.msg, err)
		}
	}
}

func fieldErrors(t *testing.T, err error) []*config.FieldError {
	t.Helper()
	if err == nil {
		t.Fatal("want errors, got none")
	}
	var errs []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	} else {
		errs = []error{err}
	}
	var out []*config.FieldError
	for _, e := range errs {
		var fe *config.FieldError
		if !errors.As(e, &fe) {
			t.Fatalf("error %q is not a *config.FieldError", e)
		}
		out = append(out, fe)
	}
	return out
}

func TestDefaults(t *testing.T) {
	c, err := config.Parse("x.json", []byte(`{}`), nil)
	if err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprintln(c.NATSListen, c.DataDir, c.APIAddr, c.SubjectPrefix, c.Delivery.ConnectTimeout.D(), c.Delivery.Timeout.D(),
		c.Delivery.Concurrency, c.Delivery.PerWebhookConcurrency, len(c.Delivery.Retry.Schedule), *c.Delivery.Retry.Jitter, c.WebhookLimit("acme"), c.Delivery.AllowedPorts)
	want := "127.0.0.1:4222 ./data 127.0.0.1:8080 hookhub 5s 15s 4096 16 7 0.2 40 [443]\n"
	if got != want {
		t.Errorf("defaults = %s\nwant       %s", got, want)
	}
}

// TestAllErrorsAtOnce: every mistake is reported, each with the file, the
// path and the reason.
func TestAllErrorsAtOnce(t *testing.T) {
	doc := `{"colour":"red","webhooks":[
	 {"id":"a","account":"acme","events":["*"],"secret":"` + secret + `"},
	 {"id":"b","account":"acme","url":"http://example.com/","events":["*"],"secret":"` + secret + `"},
	 {"id":"c","account":"acme","url":"https://example.com:8443/","events":["*"],"secret":"nope"},
	 {"id":"c","account":"acme","url":"https://example.com/","events":["*"],"secret":"` + secret + `","headers":{"webhook-signature":"x"}},
	 {"id":"e","account":"acme","url":"https://example.com/","events":["Bad Type"],"secret":"` + secret + `","auth":{"type":"basic","username":"u"}}]}`
	_, err := config.Parse("hub.json", []byte(doc), nil)
	wants := []fieldWant{
		{"", "colour"},
		{"webhooks[0]", "url"},
		{"webhooks[1].url", "must use https"},
		{"webhooks[2].url", "port 8443 is not allowed"},
		{"webhooks[2].secret", "whsec_"},
		{"webhooks[3].id", "duplicate webhook id"},
		{"webhooks[3].headers.webhook-signature", "set by the hub"},
		{"webhooks[4].events[0]", "does not match pattern"},
		{"webhooks[4].auth", "password"},
	}
	wantFieldErrors(t, err, wants)
	if strings.Contains(err.Error(), "nope") {
		t.Errorf("an error shows the secret's value: %v", err)
	}
}

func TestWebhookLimit(t *testing.T) {
	hooks := func(n int) string {
		var ws []string
		for i := range n {
			ws = append(ws, fmt.Sprintf(`{"id":"w%d","account":"acme","url":"https://example.com/","events":["*"],"secret":%q}`, i, secret))
		}
		return strings.Join(ws, ",")
	}
	if _, err := config.Parse("x", []byte(`{"webhooks":[`+hooks(40)+`]}`), nil); err != nil {
		t.Errorf("40 webhooks: %v", err)
	}
	_, err := config.Parse("x", []byte(`{"webhooks":[`+hooks(41)+`]}`), nil)
	if err == nil || !strings.Contains(err.Error(), `account "acme" has 41 webhooks, more than its limit of 40`) {
		t.Errorf("41 webhooks: got %v", err)
	}
	_, err = config.Parse("x", []byte(`{"accounts":[{"id":"acme","webhook_limit":2}],"webhooks":[`+hooks(3)+`]}`), nil)
	if err == nil || !strings.Contains(err.Error(), "limit of 2") {
		t.Errorf("custom limit: got %v", err)
	}
}

func TestEnvReferencesAndOverrides(t *testing.T) {
	doc := `{"data_dir":"/from/file","webhooks":[{"id":"a","account":"acme","url":"http://127.0.0.1:9/","events":["*"],
	  "secret":"${env:HOOK_SECRET}","auth":{"type":"token","token":"${env:HOOK_TOKEN}"}}]}`
	env := map[string]string{"HOOK_SECRET": secret, "HOOK_TOKEN": "tok-s3cr3t", "HOOKHUB_DATA_DIR": "/from/env",
		"HOOKHUB_ALLOW_INSECURE_TARGETS": "true", "HOOKHUB_SUBJECT_PREFIX": "hh", "HOOKHUB_API_TOKEN": "api-s3cr3t-long-enough"}
	c, err := config.Parse("x.json", []byte(doc), env)
	if err != nil {
		t.Fatal(err)
	}
	if c.DataDir != "/from/env" || c.SubjectPrefix != "hh" || !c.Delivery.AllowInsecureTargets {
		t.Errorf("environment did not win: data_dir %s prefix %s insecure %v", c.DataDir, c.SubjectPrefix, c.Delivery.AllowInsecureTargets)
	}
	if c.Webhooks[0].Secret.Reveal() != secret || c.Webhooks[0].Auth.Token.Reveal() != "tok-s3cr3t" || c.APIToken.Reveal() != "api-s3cr3t-long-enough" {
		t.Error("${env:...} or HOOKHUB_API_TOKEN not read")
	}
	js, _ := json.Marshal(c)
	for _, shown := range []string{fmt.Sprintf("%v %+v %#v", c, c, c), string(js)} {
		for _, s := range []string{secret, "tok-s3cr3t", "api-s3cr3t-long-enough"} {
			if strings.Contains(shown, s) {
				t.Errorf("secret %q shows in %s", s, shown)
			}
		}
	}
	delete(env, "HOOK_TOKEN")
	fes := fieldErrors(t, func() error { _, err := config.Parse("x.json", []byte(doc), env); return err }())
	if len(fes) != 1 || fes[0].Path != "webhooks[0].auth.token" || !strings.Contains(fes[0].Msg, "HOOK_TOKEN is not set") {
		t.Errorf("unset variable: got %v", fes)
	}
}

func TestFilesAndExample(t *testing.T) {
	if _, err := config.Load("../../examples/hookhub.json", nil); err != nil {
		t.Errorf("examples/hookhub.json: %v", err)
	}
	_, err := config.Load("does-not-exist.json", nil)
	if err == nil || !strings.Contains(err.Error(), "does-not-exist.json: cannot read") {
		t.Errorf("missing file: got %v", err)
	}
	_, err = config.Parse("broken.json", []byte(`{"webhooks":[`), nil)
	if err == nil || !strings.Contains(err.Error(), "broken.json: not valid JSON") {
		t.Errorf("broken JSON: got %v", err)
	}
}

// FuzzParse: no config file, however broken, panics the loader; what it
// accepts validates again.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{`{}`, `{"webhooks":[{"id":"a","account":"acme","url":"https://x.example.com","events":["*"],"secret":"` + secret + `"}]}`,
		`{"delivery":{"retry":{"schedule":["1s","-1s"]}}}`, `{"webhooks":[{"url":"${env:X}"}]}`, `[`, `null`} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := config.Parse("fuzz.json", b, map[string]string{"X": "https://x.example.com"})
		if err == nil {
			if err := c.Validate("again"); err != nil {
				t.Fatalf("accepted, then invalid: %v", err)
			}
		}
	})
}

// TestFormPluginRefusesBatch: the form plugin sends one event per request,
// so a webhook that batches for it would dead-letter every job: the config
// refuses it at load, naming the field, while a batching plugin and a module
// of plugins[] that takes the name "form" stay allowed.
func TestFormPluginRefusesBatch(t *testing.T) {
	hook := func(plugin string) string {
		return `{"id":"ac","account":"acme","url":"https://example.com/","events":["*"],"secret":"` + secret +
			`","plugin":{"name":"` + plugin + `"},"batch":{"max_events":10}}`
	}
	_, err := config.Parse("hub.json", []byte(`{"webhooks":[`+hook("form")+`]}`), nil)
	fes := fieldErrors(t, err)
	if len(fes) != 1 || fes[0].File != "hub.json" || fes[0].Path != "webhooks[0].batch" ||
		!strings.Contains(fes[0].Msg, `plugin "form"`) || !strings.Contains(fes[0].Msg, "one event per request") {
		t.Errorf("errors = %v, want one on webhooks[0].batch naming the form plugin", err)
	}
	if _, err := config.Parse("hub.json", []byte(`{"webhooks":[`+hook("getresponse")+`]}`), nil); err != nil {
		t.Errorf("a batching plugin with batch: %v", err)
	}
	own := `{"plugins":[{"name":"form","path":"form.wasm"}],"webhooks":[` + hook("form") + `]}`
	if _, err := config.Parse("hub.json", []byte(own), nil); err != nil {
		t.Errorf("a module of plugins[] named form, with batch: %v", err)
	}
}

func TestReservedHeader(t *testing.T) {
	for name, want := range map[string]bool{
		"Webhook-Signature": true, "webhook-id": true, "CONTENT-LENGTH": true, "Host": true, "TE": true,
		"Proxy-Authorization": true, "Proxy-Connection": true, "\u212Aeep-Alive": true,
		"X-Event-Type": false, "Authorization": false, "Hosts": false, "": false,
		"Proxy-Authorization-Extra": false, "Webhook-Id-": false,
	} {
		if got := config.ReservedHeader(name); got != want {
			t.Errorf("ReservedHeader(%q) = %v, want %v", name, got, want)
		}
	}
}
