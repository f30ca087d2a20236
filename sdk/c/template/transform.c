/*
 * A hookhub plugin in C, to copy and make your own: the same transform as
 * examples/plugin (Go). It sends a compact JSON body for CRM systems (who,
 * what, when) and adds a header naming the event type; an event without an
 * email is skipped. String fields are copied as the event holds them (their
 * JSON text, escapes and all). Build it with ./build.sh (clang + wasi-libc),
 * then try it:
 *
 *     go run ./hub/cmd/hookhub plugin run --wasm transform.wasm --event examples/plugin/testdata/event.json
 */
#define HOOKHUB_IMPLEMENTATION
#include "hookhub.h"

/* put_field appends the field at path as a JSON string: a string's JSON text
 * as it stands, anything else as its text, quoted ("" when missing). */
static void put_field(hh_buf *b, hh_str ev, const char *path) {
	hh_str v = {0};
	if (hh_get(ev, path, &v) && v.ptr[0] == '"') {
		hh_buf_put_str(b, v);
		return;
	}
	v.len = 0;
	hh_get_string(ev, path, &v);
	hh_buf_json_string(b, v);
}

hh_status hh_transform(const hh_input *in, hh_request *req) {
	if (in->n_events != 1) return hh_fail("this plugin sends one event per request");
	hh_str ev = in->events[0], email = {0}, at = {0}, type = {0};
	if (!hh_get(ev, "data.email", &email) || email.ptr[0] != '"' || email.len == 2) return HH_SKIP;

	hh_buf b = {0};
	hh_buf_puts(&b, "{\"event\":");
	put_field(&b, ev, "type");
	hh_buf_puts(&b, ",\"email\":");
	hh_buf_put_str(&b, email);
	if (hh_get(ev, "time", &at) && at.ptr[0] == '"') {
		hh_buf_puts(&b, ",\"at\":");
		hh_buf_put_str(&b, at);
	}
	hh_buf_puts(&b, ",\"source\":");
	put_field(&b, ev, "source");
	hh_buf_putc(&b, '}');

	hh_set_body(req, "application/json", hh_buf_str(&b));
	hh_get_string(ev, "type", &type);
	hh_set_header(req, "X-Event-Type", type);
	return HH_SEND;
}
