// A plugin that leaves as much garbage per call as its event asks for
// ({"kib": N}: N KiB in 1 KiB buffers, each written so that it is really
// allocated) and keeps the buffer of the first call it made, then answers
// with that buffer's first byte (which must still be 0x2a) in a header.
// Built by TestKitCollectsGarbage: whatever a call allocates, the kit's
// collection policy must not let an instance run out of memory where
// collecting before every call would not.
import { Input, Request, Status, handle, raw } from "../assembly/index";
export { hookhub_abi_version, hookhub_alloc, hookhub_transform } from "../assembly/index";

let kept: Uint8Array | null = null;

handle((input: Input, req: Request): Status => {
	const v = raw(input.events[0], "kib");
	let n = 0;
	if (v !== null) {
		for (let i = 0; i < v.length; i++) n = n * 10 + (v[i] - 0x30);
	}
	for (let i = 0; i < n; i++) {
		const b = new Uint8Array(1024);
		b.fill(<u8>i);
		if (kept === null) {
			kept = b;
			b[0] = 0x2a;
		}
	}
	req.headers.set("X-Kept", kept === null ? "none" : kept![0].toString());
	return Status.Send;
});
