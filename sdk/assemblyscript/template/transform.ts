// A hookhub plugin in AssemblyScript, to copy and make your own: the same
// transform as examples/plugin (Go). It sends a compact JSON body for CRM
// systems (who, what, when) and adds a header naming the event type; an
// event without an email is skipped. Build it with ./build.sh, then try it:
//
//	go run ./hub/cmd/hookhub plugin run --wasm transform.wasm --event examples/plugin/testdata/event.json
import { Buf, Input, Request, Status, bytes, fail, handle, text, valid } from "../assembly/index";
export { hookhub_abi_version, hookhub_alloc, hookhub_transform } from "../assembly/index";

const body = new Buf(256);

function transform(input: Input, req: Request): Status {
	if (input.events.length != 1) return fail("this plugin sends one event per request");
	const ev = input.events[0];
	if (!valid(ev)) return fail("the event is not JSON");
	const email = bytes(ev, "data.email");
	if (email === null || email.length == 0) return Status.Skip;
	const empty = new Uint8Array(0);
	const type = bytes(ev, "type");
	const at = bytes(ev, "time");
	const source = bytes(ev, "source");

	body.reset();
	body.str('{"event":').jsonBytes(type === null ? empty : type);
	body.str(',"email":').jsonBytes(email);
	if (at !== null && at.length > 0) body.str(',"at":').jsonBytes(at);
	body.str(',"source":').jsonBytes(source === null ? empty : source);
	body.byte(0x7d);

	req.setBody("application/json", body.view());
	req.headers.set("X-Event-Type", type === null ? "" : text(type));
	return Status.Send;
}

handle(transform);
