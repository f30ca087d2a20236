package slack_test

import (
	"strings"
	"testing"

	"github.com/hookhub/hookhub/plugins/slack"
	"github.com/hookhub/hookhub/sdk/abi"
)

func ce(typ, initiator, data string) []byte {
	in := ""
	if initiator != "" {
		in = `,"initiator":"` + initiator + `"`
	}
	return []byte(`{"specversion":"1.0","id":"evt_1","source":"crm","type":"` + typ + `","account":"acme"` + in + `,"data":` + data + `}`)
}

// TestTransformBody: the body a Slack incoming webhook receives, byte for
// byte, for a contact and an email event, with and without config, one
// event and a batch.
func TestTransformBody(t *testing.T) {
	cases := []struct {
		name   string
		config string
		events [][]byte
		want   string
	}{{
		name:   "contact event: email first, then the other fields sorted",
		events: [][]byte{ce("contact.updated", "api", `{"id":7,"email":"ada@example.com","attributes":{"FIRSTNAME":"Ada"}}`)},
		want:   `{"text":"*contact.updated* in acme (by api) · email: ada@example.com · attributes: {\"FIRSTNAME\":\"Ada\"} · id: 7"}`,
	}, {
		name:   "email event with chosen fields, username and icon; mrkdwn control characters escaped",
		config: `{"fields":["link","email","missing"],"username":"hookhub","icon_emoji":":mailbox:"}`,
		events: [][]byte{ce("email.clicked", "contact", `{"email":"ada@example.com","link":"https://example.com/?a=1&b=<2>","message_id":"x"}`)},
		want:   `{"icon_emoji":":mailbox:","text":"*email.clicked* in acme (by contact) · link: https://example.com/?a=1&amp;b=&lt;2&gt; · email: ada@example.com","username":"hookhub"}`,
	}, {
		name:   "a nested field by its dotted path",
		config: `{"fields":["attributes.FIRSTNAME"]}`,
		events: [][]byte{ce("contact.created", "", `{"email":"ada@example.com","attributes":{"FIRSTNAME":"Ada"}}`)},
		want:   `{"text":"*contact.created* in acme · attributes.FIRSTNAME: Ada"}`,
	}, {
		name:   "at most six fields by default",
		events: [][]byte{ce("contact.updated", "", `{"g":7,"f":6,"e":5,"d":4,"c":3,"b":2,"a":1,"email":"e@x"}`)},
		want:   `{"text":"*contact.updated* in acme · email: e@x · a: 1 · b: 2 · c: 3 · d: 4 · e: 5"}`,
	}, {
		name: "a batch: one line per event",
		events: [][]byte{ce("email.opened", "contact", `{"email":"a@x"}`),
			ce("email.bounced", "system", `{"email":"b@x"}`)},
		want: `{"text":"*email.opened* in acme (by contact) · email: a@x\n*email.bounced* in acme (by system) · email: b@x"}`,
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := &abi.Input{Webhook: "wh", Config: []byte(c.config), Events: c.events,
				Request: abi.Request{Headers: map[string]string{"X-Team": "ops"}, Query: map[string]string{"q": "1"}}}
			out, err := slack.Transform(in)
			if err != nil {
				t.Fatal(err)
			}
			if got := string(out.Request.Body); got != c.want {
				t.Errorf("body\n got %s\nwant %s", got, c.want)
			}
			if out.Skip || out.Request.ContentType != "application/json" || out.Request.Headers["X-Team"] != "ops" || out.Request.Query["q"] != "1" {
				t.Errorf("request = %+v, want application/json with the headers and query kept", out.Request)
			}
		})
	}
}

// TestTransformErrors: a config or event the plugin cannot use is an error
// that says what is wrong.
func TestTransformErrors(t *testing.T) {
	for _, c := range []struct{ name, config, data, want string }{
		{"unknown config field", `{"colour":"red"}`, `{"email":"a@x"}`, "colour"},
		{"data not an object", ``, `[1,2]`, "evt_1"},
	} {
		_, err := slack.Transform(&abi.Input{Config: []byte(c.config), Events: [][]byte{ce("contact.updated", "", c.data)}})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want one mentioning %q", c.name, err, c.want)
		}
	}
}
