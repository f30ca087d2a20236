package console

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
)

// The webhook detail screen (/console/webhooks/{id}): what the webhook
// receives and what its receiver needs to trust it. Everything comes from the
// API as the session (GET /v1/webhooks/{id}, GET /ip-ranges), so another
// account's webhook answers as the API does: not found.

// detail is the webhook as GET /v1/webhooks/{id} shows it, with the fields
// the list does not use.
type detail struct {
	hook
	Signatures []string `json:"signatures"`
}

// SignsV1a reports whether the webhook signs with v1a (ed25519), whose
// receivers verify against the account's JWKS.
func (d detail) SignsV1a() bool { return slices.Contains(d.Signatures, "v1a") }

// SignsV1 reports whether it signs with v1 (HMAC with the secret), the
// default when none is named.
func (d detail) SignsV1() bool { return len(d.Signatures) == 0 || slices.Contains(d.Signatures, "v1") }

func (c *Console) detailRoutes() {
	c.mux.HandleFunc("GET "+Path+"webhooks/{id}", c.authed(c.detail))
}

func (c *Console) detail(w http.ResponseWriter, r *http.Request, s *session) {
	res := c.call(r.Context(), r, s, http.MethodGet, hookPath(r.PathValue("id"), ""), nil)
	if res.status != http.StatusOK {
		c.failed(w, r, s, res)
		return
	}
	var d detail
	if err := json.Unmarshal(res.body, &d); err != nil {
		c.failed(w, r, s, apiResult{status: http.StatusBadGateway})
		return
	}
	data := map[string]any{"Title": d.Title(), "Hook": d, "Name": d.Title(), "Active": d.IsActive(),
		"JWKS":      "/v1/accounts/" + url.PathEscape(d.Account) + "/jwks.json",
		"GoSnippet": goSnippet(d), "NodeSnippet": nodeSnippet(d)}
	ranges := c.call(r.Context(), r, s, http.MethodGet, "/ip-ranges", nil)
	var ip struct {
		Ranges []string `json:"egress_ranges"`
	}
	if ranges.status == http.StatusOK && json.Unmarshal(ranges.body, &ip) == nil {
		data["IPRanges"] = ip.Ranges
	} else {
		data["IPProblem"] = "The hub did not give its IP ranges."
	}
	c.render(w, r, s, http.StatusOK, "detail", data)
}

// goSnippet verifies a request to d with the repo's sdk/signature. It names
// the webhook, never its secret: the secret comes from the receiver's own
// environment.
func goSnippet(d detail) string {
	s := fmt.Sprintf(`import (
	"io"
	"net/http"
	"os"

	"github.com/hookhub/hookhub/sdk/signature"
)

// Webhook %s: WEBHOOK_SECRET is its signing secret (whsec_...),
// shown once when it was created or rotated.
var secret, _ = signature.ParseSecret(os.Getenv("WEBHOOK_SECRET"))

func receive(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, "bad body", http.StatusBadRequest)
		return
	}
	// Checks webhook-id, webhook-timestamp (5 min tolerance) and webhook-signature.
	if err := signature.Verify(secret, r.Header, body); err != nil {
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	// body is the event, signed by hookhub.
	w.WriteHeader(http.StatusNoContent)
}`, d.ID)
	if d.SignsV1a() {
		s += fmt.Sprintf(`

// v1a (ed25519): verify with the account's public keys instead of a secret.
// keys, err := signature.PublicKeysFromJWKS(jwks) // jwks: GET /v1/accounts/%s/jwks.json
// v := signature.Verifier{PublicKeys: keys}
// err = v.Verify(r.Header, body)`, d.Account)
	}
	return s
}

// nodeSnippet verifies a request to d with the standardwebhooks npm package.
func nodeSnippet(d detail) string {
	return fmt.Sprintf(`// npm install standardwebhooks
import express from "express";
import { Webhook } from "standardwebhooks";

// Webhook %s: WEBHOOK_SECRET is its signing secret (whsec_...),
// shown once when it was created or rotated.
const wh = new Webhook(process.env.WEBHOOK_SECRET);

const app = express();
app.post("/webhooks", express.raw({ type: "*/*" }), (req, res) => {
  try {
    // Checks webhook-id, webhook-timestamp and webhook-signature; throws if any is wrong.
    const event = wh.verify(req.body.toString("utf8"), req.headers);
    res.sendStatus(204);
  } catch (err) {
    res.sendStatus(401);
  }
});`, d.ID)
}
