package admin

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/hookhub/hookhub/hub/config"
	"github.com/hookhub/hookhub/hub/internal/delivery"
	"github.com/hookhub/hookhub/hub/internal/webhooks"
	"github.com/hookhub/hookhub/sdk/event"
	"github.com/hookhub/hookhub/sdk/publish"
	"github.com/hookhub/hookhub/sdk/signature"
)

// TestSender sends test requests; the delivery engine is one.
type TestSender interface {
	TestSend(ctx context.Context, w *webhooks.Webhook, raw []byte) delivery.TestResult
}

func (s *Server) extraRoutes() {
	s.handle("POST /v1/webhooks/{id}/rotate-secret", s.rotateSecret, false)
	s.handle("POST /v1/webhooks/{id}/test", s.testSend, false)
}

// rotateSecret makes a new signing secret (or takes the one given); the old
// one keeps signing, beside it, for the grace period (24h by default), so
// receivers can switch without missing a request.
func (s *Server) rotateSecret(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	cur, err := s.mutable(r, id)
	if err != nil {
		return err
	}
	var body struct {
		Secret string `json:"secret"`
		Grace  string `json:"grace"`
	}
	if r.ContentLength != 0 {
		raw, err := readJSON(r)
		if err != nil {
			return err
		}
		if err := json.Unmarshal(raw, &body); err != nil {
			return badRequest("invalid_json", "", "the body must be {\"secret\": ..., \"grace\": \"24h\"}")
		}
	}
	grace := config.DefaultRotationGrace
	if body.Grace != "" {
		g, err := time.ParseDuration(body.Grace)
		if err != nil || g < 0 || g > 30*24*time.Hour {
			return badRequest("bad_parameter", "grace", "grace must be a duration up to 720h, such as 24h")
		}
		grace = g
	}
	next := body.Secret
	if next == "" {
		sec, err := signature.NewSecret()
		if err != nil {
			return err
		}
		next = sec.Reveal()
	} else if _, err := signature.ParseSecret(next); err != nil {
		return badRequest("validation_failed", "secret", "secret must be whsec_ followed by base64")
	}
	now := time.Now().UTC()
	wh := cur.Webhook
	var kept []config.PreviousSecret
	for _, p := range wh.PreviousSecrets {
		if now.Before(p.Expires) {
			kept = append(kept, p)
		}
	}
	wh.PreviousSecrets = append(kept, config.PreviousSecret{Secret: wh.Secret, Expires: now.Add(grace)})
	wh.Secret = config.Secret(next)
	if err := s.d.Store.Update(r.Context(), wh); err != nil {
		return storeError(id, err)
	}
	rotated, err := s.written(id)
	if err != nil {
		return err
	}
	v := s.view(rotated)
	v.Secret = next // shown once, now
	writeJSON(w, http.StatusOK, v)
	return nil
}

// testSend sends the catalog's sample of an event type to a webhook now, and
// answers with what happened.
func (s *Server) testSend(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	cur, err := s.webhook(r, id)
	if err != nil {
		return err
	}
	if s.d.Tester == nil {
		return &Error{Status: http.StatusConflict, Code: "unavailable", Message: "test sends are not available in this hub"}
	}
	raw, err := readJSON(r)
	if err != nil {
		return err
	}
	var body struct {
		EventType string `json:"event_type"`
	}
	_ = json.Unmarshal(raw, &body)
	t, ok := s.d.Types.Lookup(cur.Account, body.EventType)
	if !ok {
		return badRequest("unknown_event_type", "event_type", fmt.Sprintf("%q is neither in the catalog nor declared for account %q (GET /v1/event-types)", body.EventType, cur.Account))
	}
	e := &event.Event{Source: "hookhub/test", Type: t.Type, Account: cur.Account, Initiator: event.InitiatorAPI, Data: t.Sample}
	publish.Fill(e)
	e.ID = "test_" + e.ID
	evRaw, _ := json.Marshal(e)
	writeJSON(w, http.StatusOK, s.d.Tester.TestSend(r.Context(), cur, evRaw))
	return nil
}
