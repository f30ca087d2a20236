// A hookhub JavaScript transform, written by hookhub plugin new from
// sdk/js/template. It runs in the first-party js plugin (inside the
// WebAssembly sandbox): handler(webhook) gets {eventType, payload, headers}
// and returns it changed, or null to skip the event. config.json is the
// webhook's plugin config ({"script": this file}); hookhub plugin test .
// runs this file over events/*.json against expected/*.http.
//
// This one sends a compact body for CRM systems (who, what, when), adds a
// header naming the event type, and skips an event without an email.
function handler(webhook) {
  var data = webhook.payload.data || {};
  if (typeof data.email !== "string" || data.email === "") {
    return null;
  }
  webhook.payload = {
    event: webhook.eventType,
    email: data.email,
    at: webhook.payload.timestamp
  };
  webhook.headers["X-Event-Type"] = webhook.eventType;
  return webhook;
}
