// A hookhub plugin in AssemblyScript, to copy and make your own: the same
// transform as examples/plugin (Go). It sends a compact JSON body for CRM
// systems (who, what, when) and adds a header naming the event type; an
// event without an email is skipped. String fields are copied as the event
// holds them (their JSON text, escapes and all). Build it with ./build.sh,
// then try it:
//
//	go run ./hub/cmd/hookhub plugin run --wasm transform.wasm --event examples/plugin/testdata/event.json
import { Buf, Input, Request, Status, bytes, fail, handle, raw, text } from "../assembly/index";
export { hookhub_abi_version, hookhub_alloc, hookhub_transform } from "../assembly/index";

const body = new Buf(256);
const empty = new Uint8Array(0);

function isString(v: Uint8Array | null): bool {
	return v !== null && v.length > 0 && v[0] == 0x22;
}

// putField appends the field at path as a JSON string: a string's JSON text
// as it stands, anything else as its text, quoted ("" when missing).
function putField(ev: Uint8Array, path: string): void {
	const v = raw(ev, path);
	if (v !== null && isString(v)) {
		body.bytes(v);
		return;
	}
	const t = bytes(ev, path);
	body.jsonBytes(t === null ? empty : t);
}

function transform(input: Input, req: Request): Status {
	if (input.events.length != 1) return fail("this plugin sends one event per request");
	const ev = input.events[0];
	const email = raw(ev, "data.email");
	if (email === null || !isString(email) || email.length == 2) return Status.Skip;

	body.reset();
	body.str('{"event":');
	putField(ev, "type");
	body.str(',"email":').bytes(email);
	const at = raw(ev, "time");
	if (at !== null && isString(at)) body.str(',"at":').bytes(at);
	body.str(',"source":');
	putField(ev, "source");
	body.byte(0x7d);

	req.setBody("application/json", body.view());
	const type = bytes(ev, "type");
	req.headers.set("X-Event-Type", type === null ? "" : text(type));
	return Status.Send;
}

handle(transform);
