/*
 * A hookhub plugin in C, to copy and make your own: the same transform as
 * examples/plugin (Go). It sends a compact JSON body for CRM systems (who,
 * what, when) and adds a header naming the event type; an event without an
 * email is skipped. Build it with ./build.sh (clang + wasi-libc), then try it:
 *
 *     go run ./hub/cmd/hookhub plugin run --wasm transform.wasm --event examples/plugin/testdata/event.json
 */
#define HOOKHUB_IMPLEMENTATION
#include "hookhub.h"

hh_status hh_transform(const hh_input *in, hh_request *req) {
	if (in->n_events != 1) return hh_fail("this plugin sends one event per request");
	hh_str ev = in->events[0];
	if (!hh_json_valid(ev)) return hh_fail("the event is not JSON");

	hh_str type = {0}, email = {0}, at = {0}, source = {0};
	hh_get_string(ev, "type", &type);
	hh_get_string(ev, "time", &at);
	hh_get_string(ev, "source", &source);
	if (!hh_get_string(ev, "data.email", &email) || email.len == 0) return HH_SKIP;

	hh_buf b = {0};
	hh_buf_puts(&b, "{\"event\":");
	hh_buf_json_string(&b, type);
	hh_buf_puts(&b, ",\"email\":");
	hh_buf_json_string(&b, email);
	if (at.len) {
		hh_buf_puts(&b, ",\"at\":");
		hh_buf_json_string(&b, at);
	}
	hh_buf_puts(&b, ",\"source\":");
	hh_buf_json_string(&b, source);
	hh_buf_putc(&b, '}');

	hh_set_body(req, "application/json", hh_buf_str(&b));
	hh_set_header(req, "X-Event-Type", type);
	return HH_SEND;
}
