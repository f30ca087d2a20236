// The hookhub plugin kit for AssemblyScript: the ABI's wire codec and
// exports (sdk/README.md, "The ABI"), a JSON field reader that needs no full
// decode, a request builder, skip and fail, and an abort shim that writes the
// reason to stderr (the host shows it) instead of importing env.abort.
//
// A plugin's entry file registers one function and re-exports the ABI:
//
//	import { Input, Request, Status, handle } from "@hookhub/assemblyscript/assembly/index";
//	export { hookhub_abi_version, hookhub_alloc, hookhub_transform } from "@hookhub/assemblyscript/assembly/index";
//	handle((input: Input, req: Request): Status => Status.Send);
//
// and is built with this package's asconfig.json (which sets the abort shim).

// ---- strings and bytes ------------------------------------------------------

// utf8 encodes s as UTF-8 bytes.
export function utf8(s: string): Uint8Array {
	return Uint8Array.wrap(String.UTF8.encode(s));
}

// text decodes UTF-8 bytes as a string.
export function text(b: Uint8Array): string {
	return String.UTF8.decodeUnsafe(b.dataStart, <usize>b.length);
}

// A growable byte buffer, for building a body.
export class Buf {
	buf: ArrayBuffer;
	len: i32 = 0;

	constructor(cap: i32 = 256) {
		this.buf = new ArrayBuffer(cap);
	}

	reset(): void {
		this.len = 0;
	}

	// need makes room for n more bytes and returns where they go.
	// (Inlined: a call costs more than the check, and the kit writes its
	// answer a few bytes at a time.)
	@inline need(n: i32): usize {
		const want = this.len + n;
		if (want > this.buf.byteLength) this.grow(want);
		return changetype<usize>(this.buf) + <usize>this.len;
	}

	private grow(want: i32): void {
		let c = this.buf.byteLength * 2;
		while (c < want) c *= 2;
		const nb = new ArrayBuffer(c);
		memory.copy(changetype<usize>(nb), changetype<usize>(this.buf), <usize>this.len);
		this.buf = nb;
	}

	byte(b: u8): Buf {
		store<u8>(this.need(1), b);
		this.len += 1;
		return this;
	}

	u32(v: u32): Buf {
		store<u32>(this.need(4), v);
		this.len += 4;
		return this;
	}

	bytes(b: Uint8Array): Buf {
		memory.copy(this.need(b.length), b.dataStart, <usize>b.length);
		this.len += b.length;
		return this;
	}

	// str appends s as UTF-8.
	str(s: string): Buf {
		// One pass while s is ASCII (the common case: JSON punctuation,
		// header names), else the encoder's two.
		const n = s.length;
		const src = changetype<usize>(s);
		const dst = this.need(n);
		let i = 0;
		for (; i < n; i++) {
			const c = load<u16>(src + (<usize>i << 1));
			if (c >= 0x80) break;
			store<u8>(dst + <usize>i, <u8>c);
		}
		if (i == n) {
			this.len += n;
			return this;
		}
		const m = String.UTF8.byteLength(s);
		String.UTF8.encodeUnsafe(src, n, this.need(m));
		this.len += m;
		return this;
	}

	// jsonBytes appends UTF-8 bytes b as a JSON string: quoted, with ", \ and
	// control characters escaped, other bytes as they are.
	jsonBytes(b: Uint8Array): Buf {
		this.byte(0x22);
		const p = b.dataStart;
		const n = b.length;
		let start = 0;
		for (let i = 0; i < n; i++) {
			const c = load<u8>(p + <usize>i);
			if (c != 0x22 && c != 0x5c && c >= 0x20) continue;
			memory.copy(this.need(i - start), p + <usize>start, <usize>(i - start));
			this.len += i - start;
			start = i + 1;
			this.byte(0x5c);
			if (c == 0x22 || c == 0x5c) {
				this.byte(c);
			} else {
				this.byte(0x75).byte(0x30).byte(0x30).byte(hexDigit(c >> 4)).byte(hexDigit(c & 15));
			}
		}
		memory.copy(this.need(n - start), p + <usize>start, <usize>(n - start));
		this.len += n - start;
		return this.byte(0x22);
	}

	// jsonString appends s as a JSON string.
	jsonString(s: string): Buf {
		return this.jsonBytes(utf8(s));
	}

	// view returns the bytes written so far (valid until the next write).
	view(): Uint8Array {
		return Uint8Array.wrap(this.buf, 0, this.len);
	}

	// toBytes returns a copy of the bytes written so far.
	toBytes(): Uint8Array {
		return Uint8Array.wrap(this.buf.slice(0, this.len));
	}
}

function hexDigit(v: u8): u8 {
	return v < 10 ? 0x30 + v : 0x57 + v;
}

// ---- the request ------------------------------------------------------------

// empty is the empty byte array every empty field shares (made once: it
// cannot be written).
const empty = new Uint8Array(0);

function eqFold(a: string, b: string): bool {
	if (a.length != b.length) return false;
	for (let i = 0; i < a.length; i++) {
		let x = a.charCodeAt(i);
		let y = b.charCodeAt(i);
		if (x >= 65 && x <= 90) x += 32;
		if (y >= 65 && y <= 90) y += 32;
		if (x != y) return false;
	}
	return true;
}

// Fields are headers (names case-insensitive) or query parameters (exact).
export class Fields {
	keys: string[];
	values: string[];

	constructor(public fold: bool, keys: string[] | null = null, values: string[] | null = null) {
		this.keys = keys !== null ? keys : [];
		this.values = values !== null ? values : [];
	}

	private index(name: string): i32 {
		for (let i = 0; i < this.keys.length; i++) {
			if (this.fold ? eqFold(this.keys[i], name) : this.keys[i] == name) return i;
		}
		return -1;
	}

	has(name: string): bool {
		return this.index(name) >= 0;
	}

	// get returns the value of name, or null.
	get(name: string): string | null {
		const i = this.index(name);
		return i < 0 ? null : this.values[i];
	}

	// set sets name, replacing any field of that name (in any case, for headers).
	set(name: string, value: string): void {
		this.delete(name);
		this.keys.push(name);
		this.values.push(value);
	}

	delete(name: string): void {
		// In place (splice would allocate an array of what it removes).
		const keys = this.keys, values = this.values;
		const n = keys.length;
		let j = 0;
		for (let i = 0; i < n; i++) {
			const k = unchecked(keys[i]);
			if (this.fold ? eqFold(k, name) : k == name) continue;
			if (j != i) {
				unchecked((keys[j] = k));
				unchecked((values[j] = unchecked(values[i])));
			}
			j++;
		}
		if (j != n) {
			keys.length = j;
			values.length = j;
		}
	}

	// copyFrom makes these fields the same as f's, reusing this object's arrays.
	copyFrom(f: Fields): void {
		const n = f.keys.length;
		this.keys.length = n;
		this.values.length = n;
		for (let i = 0; i < n; i++) {
			unchecked((this.keys[i] = unchecked(f.keys[i])));
			unchecked((this.values[i] = unchecked(f.values[i])));
		}
	}

	get size(): i32 {
		return this.keys.length;
	}

	clone(): Fields {
		return new Fields(this.fold, this.keys.slice(0), this.values.slice(0));
	}
}

// The request to send, short of its URL host and signature headers.
export class Request {
	contentType: string = "";
	headers: Fields;
	query: Fields;
	body: Uint8Array = empty;

	constructor(headers: Fields | null = null, query: Fields | null = null) {
		this.headers = headers !== null ? headers : new Fields(true);
		this.query = query !== null ? query : new Fields(false);
	}

	// setBody sets the body and its content type.
	setBody(contentType: string, body: Uint8Array): void {
		this.contentType = contentType;
		this.body = body;
	}

	clone(): Request {
		const r = new Request(this.headers.clone(), this.query.clone());
		r.contentType = this.contentType;
		r.body = this.body;
		return r;
	}
}

// What the host hands the plugin for one call. Byte fields are views of the
// input, valid during the call and read-only (raw indexes them).
export class Input {
	webhook: string = "";
	// config is the webhook's plugin config, JSON; empty when none is set.
	config: Uint8Array = empty;
	// events are CloudEvents JSON documents: one, or more for a batching webhook.
	events: Uint8Array[] = [];
	// request is what the hub would send without the plugin.
	request: Request = new Request();
}

export enum Status {
	Send = 0,
	Skip = 1,
	Error = 2,
}

let failReason: string = "";

// fail records reason and returns Status.Error: `return fail("why")` fails
// the delivery with that reason (to the dead letters in the end).
export function fail(reason: string): Status {
	failReason = reason;
	return Status.Error;
}

// ---- reading JSON without decoding it --------------------------------------

const MAX_DEPTH = 1000;

// A cursor over JSON bytes; pos is past the end or -1 on an error.
class Cur {
	constructor(public p: usize, public end: usize, public depth: i32 = 0) {}

	// The scanning functions read and write the cursor's position through
	// locals: AssemblyScript keeps a field in memory, so each c.p++ in a
	// loop would be a load and a store (skipString was a sixth of a
	// template call).
	ws(): void {
		let p = this.p;
		const end = this.end;
		while (p < end) {
			const c = load<u8>(p);
			if (c != 0x20 && c != 0x09 && c != 0x0a && c != 0x0d) break;
			p++;
		}
		this.p = p;
	}

	peek(): i32 {
		return this.p < this.end ? <i32>load<u8>(this.p) : -1;
	}
}

function isHex(c: u8): bool {
	return (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);
}

function hexVal(c: u8): u32 {
	if (c <= 0x39) return c - 0x30;
	if (c >= 0x61) return c - 0x57;
	return c - 0x37;
}

// skipString skips the string at c.p (on its quote); returns 0 when invalid,
// 1 when valid without escapes, 2 when valid with escapes.
function skipString(c: Cur): i32 {
	let p = c.p + 1;
	const end = c.end;
	let escaped = 1;
	while (p < end) {
		// To the first quote, backslash or control character (a string's
		// plain run, most of its bytes): sixteen bytes at a time with SIMD
		// (asconfig.json enables it), else eight.
		if (ASC_FEATURE_SIMD) {
			while (end - p >= 16) {
				const w = v128.load(p);
				const hit = v128.or(v128.or(i8x16.eq(w, i8x16.splat(0x22)), i8x16.eq(w, i8x16.splat(0x5c))), i8x16.lt_u(w, i8x16.splat(0x20)));
				const m = i8x16.bitmask(hit);
				if (m != 0) {
					p += <usize>ctz(m);
					break;
				}
				p += 16;
			}
		} else {
			while (end - p >= 8) {
				const w = load<u64>(p);
				const q = w ^ 0x2222222222222222,
					s = w ^ 0x5c5c5c5c5c5c5c5c;
				const hit = ((q - 0x0101010101010101) & ~q) | ((s - 0x0101010101010101) & ~s) | ((w - 0x2020202020202020) & ~w);
				if (hit & 0x8080808080808080) break;
				p += 8;
			}
		}
		if (p >= end) break;
		const b = load<u8>(p++);
		if (b == 0x22) {
			c.p = p;
			return escaped;
		}
		if (b < 0x20) break;
		if (b == 0x5c) {
			escaped = 2;
			if (p >= end) break;
			const e = load<u8>(p++);
			if (e == 0x75) {
				if (end - p < 4 || !isHex(load<u8>(p)) || !isHex(load<u8>(p + 1)) || !isHex(load<u8>(p + 2)) || !isHex(load<u8>(p + 3))) break;
				p += 4;
			} else if (e != 0x22 && e != 0x5c && e != 0x2f && e != 0x62 && e != 0x66 && e != 0x6e && e != 0x72 && e != 0x74) {
				break;
			}
		}
	}
	c.p = p;
	return 0;
}

function digits(c: Cur): bool {
	const s = c.p;
	const end = c.end;
	let p = s;
	while (p < end) {
		const b = load<u8>(p);
		if (b < 0x30 || b > 0x39) break;
		p++;
	}
	c.p = p;
	return p > s;
}

function skipNumber(c: Cur): bool {
	if (c.peek() == 0x2d) c.p++;
	if (c.peek() == 0x30) c.p++;
	else if (!digits(c)) return false;
	if (c.peek() == 0x2e) {
		c.p++;
		if (!digits(c)) return false;
	}
	if (c.peek() == 0x65 || c.peek() == 0x45) {
		c.p++;
		if (c.peek() == 0x2b || c.peek() == 0x2d) c.p++;
		if (!digits(c)) return false;
	}
	return true;
}

function literal(c: Cur, lit: string): bool {
	const n = <usize>lit.length;
	if (c.end - c.p < n) return false;
	for (let i: usize = 0; i < n; i++) {
		if (<i32>load<u8>(c.p + i) != lit.charCodeAt(<i32>i)) return false;
	}
	c.p += n;
	return true;
}

// skipValue skips one value (after whitespace), validating it.
function skipValue(c: Cur): bool {
	c.ws();
	const b = c.peek();
	if (b == 0x22) return skipString(c) != 0;
	if (b == 0x74) return literal(c, "true");
	if (b == 0x66) return literal(c, "false");
	if (b == 0x6e) return literal(c, "null");
	if (b == 0x2d || (b >= 0x30 && b <= 0x39)) return skipNumber(c);
	if (b != 0x7b && b != 0x5b) return false;
	const close = b == 0x7b ? 0x7d : 0x5d;
	const obj = b == 0x7b;
	if (++c.depth > MAX_DEPTH) return false;
	c.p++;
	c.ws();
	if (c.peek() == close) {
		c.p++;
		c.depth--;
		return true;
	}
	while (true) {
		if (obj) {
			c.ws();
			if (c.peek() != 0x22 || skipString(c) == 0) return false;
			c.ws();
			if (c.peek() != 0x3a) return false;
			c.p++;
		}
		if (!skipValue(c)) return false;
		c.ws();
		const n = c.peek();
		if (n == 0x2c) {
			c.p++;
			continue;
		}
		if (n != close) return false;
		c.p++;
		c.depth--;
		return true;
	}
	return false;
}

// valid reports whether json is one valid JSON value (RFC 8259).
export function valid(json: Uint8Array): bool {
	const c = new Cur(json.dataStart, json.dataStart + <usize>json.length);
	if (!skipValue(c)) return false;
	c.ws();
	return c.p == c.end;
}

function viewOf(json: Uint8Array, from: usize, to: usize): Uint8Array {
	return json.subarray(<i32>(from - json.dataStart), <i32>(to - json.dataStart));
}

function keyIs(json: Uint8Array, s: usize, e: usize, escaped: bool, key: Uint8Array): bool {
	if (!escaped) {
		const n = e - s - 2;
		return n == <usize>key.length && memory.compare(s + 1, key.dataStart, n) == 0;
	}
	const k = unescape(viewOf(json, s, e));
	return k.length == key.length && memory.compare(k.dataStart, key.dataStart, <usize>k.length) == 0;
}

// raw returns the JSON text of the value at path in json, or null when there
// is none. A path is keys separated by dots, a number indexing an array:
// "data.email", "data.items.0.sku". The last of duplicate keys counts (as in
// encoding/json). The
// document is not validated beyond what is read: check it once with valid.
export function raw(json: Uint8Array, path: string): Uint8Array | null {
	// The path is read in place (no split, no UTF-8 copy of an ASCII key):
	// a transform looks up several fields per event.
	const c = cur;
	c.p = json.dataStart;
	c.end = json.dataStart + <usize>json.length;
	c.depth = 0;
	let from = 0;
	if (c.p >= inStart && c.end <= inEnd && c.p < c.end) {
		// A document of this call's input (an event, the config): its top
		// level is read once per call, and each lookup after the first finds
		// its first key in the index (the last of duplicate keys still wins).
		if (c.p != ixStart || c.end != ixEnd) index(json);
		if (ixN >= 0) {
			let to = path.indexOf(".");
			if (to < 0) to = path.length;
			const ascii = isASCII(path, 0, to);
			let j = ixN - 1;
			for (; j >= 0; j--) {
				const k = j * 3;
				if (keyIsSeg(json, unchecked(ixAt[k]), unchecked(ixAt[k + 1]), unchecked(ixEsc[j]), path, 0, to, ascii)) break;
			}
			if (j < 0) return null;
			c.p = ixAt[j * 3 + 2];
			if (to == path.length) return valueAt(json, c);
			from = to + 1;
		}
	}
	for (; ; ) {
		let to = path.indexOf(".", from);
		if (to < 0) to = path.length;
		const ascii = isASCII(path, from, to);
		c.ws();
		const b = c.peek();
		if (b == 0x7b) {
			// The whole object is read: the last of duplicate keys wins.
			let at: usize = 0;
			c.p++;
			c.ws();
			if (c.peek() == 0x7d) return null;
			while (true) {
				c.ws();
				if (c.peek() != 0x22) return null;
				const ks = c.p;
				const st = skipString(c);
				if (st == 0) return null;
				const match = keyIsSeg(json, ks, c.p, st == 2, path, from, to, ascii);
				c.ws();
				if (c.peek() != 0x3a) return null;
				c.p++;
				c.ws();
				if (match) at = c.p;
				if (!skipValue(c)) return null;
				c.ws();
				const n = c.peek();
				if (n == 0x7d) break;
				if (n != 0x2c) return null;
				c.p++;
			}
			if (at == 0) return null;
			c.p = at;
		} else if (b == 0x5b) {
			if (to == from || to - from > 9) return null;
			let idx = 0;
			for (let k = from; k < to; k++) {
				const d = path.charCodeAt(k);
				if (d < 0x30 || d > 0x39) return null;
				idx = idx * 10 + (d - 0x30);
			}
			c.p++;
			c.ws();
			if (c.peek() == 0x5d) return null;
			for (let i = 0; i < idx; i++) {
				if (!skipValue(c)) return null;
				c.ws();
				if (c.peek() != 0x2c) return null;
				c.p++;
			}
		} else {
			return null;
		}
		if (to == path.length) break;
		from = to + 1;
	}
	return valueAt(json, c);
}

// valueAt is the value at c (after whitespace) as a view of json, or null
// when it is not a valid value.
function valueAt(json: Uint8Array, c: Cur): Uint8Array | null {
	c.ws();
	const start = c.p;
	if (!skipValue(c)) return null;
	return viewOf(json, start, c.p);
}

// cur is raw's cursor, made once.
const cur = new Cur(0, 0);

// The input of the call in progress, [inStart, inEnd): raw indexes the top
// level of documents within it. A plugin does not write into its input.
let inStart: usize = 0;
let inEnd: usize = 0;

// MAX_INDEXED bounds the top-level members indexed; a document with more,
// or that is not an object, is read whole by each lookup.
const MAX_INDEXED = 24;

// The index of the document [ixStart, ixEnd): per member, where its key
// starts and ends (quotes included) and where its value starts; whether the
// key has escapes. ixN is the members indexed, -1 when the document is read
// whole.
let ixStart: usize = 0;
let ixEnd: usize = 0;
let ixN: i32 = -1;
const ixAt = new StaticArray<usize>(MAX_INDEXED * 3);
const ixEsc = new StaticArray<bool>(MAX_INDEXED);
const ixCur = new Cur(0, 0);

// index reads json's top-level object into the index, as raw's loop reads an
// object; anything else leaves the document to be read whole.
function index(json: Uint8Array): void {
	const c = ixCur;
	c.p = json.dataStart;
	c.end = json.dataStart + <usize>json.length;
	c.depth = 0;
	ixStart = c.p;
	ixEnd = c.end;
	ixN = -1;
	c.ws();
	if (c.peek() != 0x7b) return;
	c.p++;
	c.ws();
	if (c.peek() == 0x7d) {
		ixN = 0;
		return;
	}
	for (let n = 0; ; n++) {
		c.ws();
		if (n == MAX_INDEXED || c.peek() != 0x22) return;
		const ks = c.p;
		const st = skipString(c);
		if (st == 0) return;
		unchecked((ixAt[n * 3] = ks));
		unchecked((ixAt[n * 3 + 1] = c.p));
		unchecked((ixEsc[n] = st == 2));
		c.ws();
		if (c.peek() != 0x3a) return;
		c.p++;
		c.ws();
		unchecked((ixAt[n * 3 + 2] = c.p));
		if (!skipValue(c)) return;
		c.ws();
		const b = c.peek();
		if (b == 0x7d) {
			ixN = n + 1;
			return;
		}
		if (b != 0x2c) return;
		c.p++;
	}
}

// isASCII reports whether path[from:to] is ASCII.
function isASCII(path: string, from: i32, to: i32): bool {
	const p = changetype<usize>(path);
	for (let k = from; k < to; k++) {
		if (load<u16>(p + (<usize>k << 1)) >= 0x80) return false;
	}
	return true;
}

// keyIsSeg is keyIs with the key path[from:to] (ascii: whether it is
// ASCII): compared in place when it is ASCII and the key in the JSON has no
// escapes, else through its UTF-8.
function keyIsSeg(json: Uint8Array, s: usize, e: usize, escaped: bool, path: string, from: i32, to: i32, ascii: bool): bool {
	if (!escaped && ascii) {
		const n = <i32>(e - s - 2);
		if (n != to - from) return false;
		const p = changetype<usize>(path) + (<usize>from << 1);
		for (let k = 0; k < n; k++) {
			if (<u32>load<u8>(s + 1 + <usize>k) != <u32>load<u16>(p + (<usize>k << 1))) return false;
		}
		return true;
	}
	return keyIs(json, s, e, escaped, utf8(path.substring(from, to)));
}

// bytes returns the value at path as UTF-8 text: a string unescaped (a lone
// surrogate becomes U+FFFD), a number, true or false as written, an object or
// array as its JSON; or null when the value is missing or null.
export function bytes(json: Uint8Array, path: string): Uint8Array | null {
	const r = raw(json, path);
	if (r === null) return null;
	const v = r;
	if (v.length == 4 && load<u8>(v.dataStart) == 0x6e) return null;
	return load<u8>(v.dataStart) == 0x22 ? unescape(v) : v;
}

// getString returns the value at path as a string (as bytes does), or null.
export function getString(json: Uint8Array, path: string): string | null {
	const b = bytes(json, path);
	return b === null ? null : text(b!);
}

function putUTF8(out: usize, r: u32): usize {
	if (r < 0x80) {
		store<u8>(out++, <u8>r);
	} else if (r < 0x800) {
		store<u8>(out++, <u8>(0xc0 | (r >> 6)));
		store<u8>(out++, <u8>(0x80 | (r & 0x3f)));
	} else if (r < 0x10000) {
		store<u8>(out++, <u8>(0xe0 | (r >> 12)));
		store<u8>(out++, <u8>(0x80 | ((r >> 6) & 0x3f)));
		store<u8>(out++, <u8>(0x80 | (r & 0x3f)));
	} else {
		store<u8>(out++, <u8>(0xf0 | (r >> 18)));
		store<u8>(out++, <u8>(0x80 | ((r >> 12) & 0x3f)));
		store<u8>(out++, <u8>(0x80 | ((r >> 6) & 0x3f)));
		store<u8>(out++, <u8>(0x80 | (r & 0x3f)));
	}
	return out;
}

function hex4(p: usize): u32 {
	return (hexVal(load<u8>(p)) << 12) | (hexVal(load<u8>(p + 1)) << 8) | (hexVal(load<u8>(p + 2)) << 4) | hexVal(load<u8>(p + 3));
}

// unescape returns the JSON string literal lit (with its quotes) unescaped,
// as UTF-8: a view of lit when it has no escapes.
export function unescape(lit: Uint8Array): Uint8Array {
	if (lit.length < 2) return empty;
	let p = lit.dataStart + 1;
	const end = lit.dataStart + <usize>lit.length - 1;
	let esc = false;
	for (let q = p; q < end; q++) {
		if (load<u8>(q) == 0x5c) {
			esc = true;
			break;
		}
	}
	if (!esc) return lit.subarray(1, lit.length - 1);
	const out = new Uint8Array(lit.length);
	const o0 = out.dataStart;
	let o = o0;
	while (p < end) {
		const b = load<u8>(p);
		if (b != 0x5c) {
			store<u8>(o++, b);
			p++;
			continue;
		}
		p++;
		if (p >= end) break;
		const e = load<u8>(p++);
		if (e == 0x62) store<u8>(o++, 0x08);
		else if (e == 0x66) store<u8>(o++, 0x0c);
		else if (e == 0x6e) store<u8>(o++, 0x0a);
		else if (e == 0x72) store<u8>(o++, 0x0d);
		else if (e == 0x74) store<u8>(o++, 0x09);
		else if (e == 0x75) {
			if (end - p < 4) break;
			let u = hex4(p);
			p += 4;
			if (u >= 0xd800 && u < 0xdc00 && end - p >= 6 && load<u8>(p) == 0x5c && load<u8>(p + 1) == 0x75) {
				const lo = hex4(p + 2);
				if (lo >= 0xdc00 && lo < 0xe000) {
					u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
					p += 6;
				}
			}
			if (u >= 0xd800 && u < 0xe000) u = 0xfffd;
			o = putUTF8(o, u);
		} else store<u8>(o++, e);
	}
	return out.subarray(0, <i32>(o - o0));
}

// ---- the wire codec and the exports ---------------------------------------

// The strings of recent inputs (the webhook's name, header names and
// values, the content type), which repeat from call to call: decoded once,
// then found by their UTF-8 bytes. Strings are immutable, so a plugin that
// keeps one keeps a value that never changes.
const INTERNED = 32;
const INTERN_MAX = 256;
const internBytes = new StaticArray<ArrayBuffer | null>(INTERNED);
const internStr = new StaticArray<string>(INTERNED);
let internNext = 0;

function interned(p: usize, n: usize): string {
	if (n == 0) return "";
	if (n > <usize>INTERN_MAX) return String.UTF8.decodeUnsafe(p, n);
	for (let i = 0; i < INTERNED; i++) {
		const b = unchecked(internBytes[i]);
		if (b !== null && <usize>b.byteLength == n && memory.compare(changetype<usize>(b), p, n) == 0) return unchecked(internStr[i]);
	}
	const s = String.UTF8.decodeUnsafe(p, n);
	const b = new ArrayBuffer(<i32>n);
	memory.copy(changetype<usize>(b), p, n);
	unchecked((internBytes[internNext] = b));
	unchecked((internStr[internNext] = s));
	internNext = (internNext + 1) % INTERNED;
	return s;
}

// view returns n bytes of buf at p as a view: v itself, pointed there, when
// v is a view of buf (the input's views are made once and moved from call to
// call, which is why they are valid during their call only), else a new one.
function view(v: Uint8Array, buf: ArrayBuffer, p: usize, n: usize): Uint8Array {
	if (n == 0) return empty;
	if (v === empty || v.buffer !== buf) return Uint8Array.wrap(buf, <i32>(p - changetype<usize>(buf)), <i32>n);
	store<usize>(changetype<usize>(v), p, offsetof<Uint8Array>("dataStart"));
	store<i32>(changetype<usize>(v), <i32>n, offsetof<Uint8Array>("byteLength"));
	return v;
}

class Dec {
	ok: bool = true;
	buf: ArrayBuffer = new ArrayBuffer(0);
	p: usize = 0;
	end: usize = 0;

	u32(): u32 {
		if (!this.ok || this.end - this.p < 4) {
			this.ok = false;
			return 0;
		}
		const v = load<u32>(this.p);
		this.p += 4;
		return v;
	}

	// bytes reads a length-prefixed field as a view, reusing v (see view).
	bytes(v: Uint8Array): Uint8Array {
		const n = <usize>this.u32();
		if (!this.ok || this.end - this.p < n) {
			this.ok = false;
			return empty;
		}
		const r = view(v, this.buf, this.p, n);
		this.p += n;
		return r;
	}

	str(): string {
		const n = <usize>this.u32();
		if (!this.ok || this.end - this.p < n) {
			this.ok = false;
			return "";
		}
		const s = interned(this.p, n);
		this.p += n;
		return s;
	}

	fields(f: Fields): void {
		f.keys.length = 0;
		f.values.length = 0;
		const n = this.u32();
		if (!this.ok || <usize>n > (this.end - this.p) / 8) {
			if (n != 0) this.ok = false;
			return;
		}
		for (let i: u32 = 0; i < n && this.ok; i++) {
			f.keys.push(this.str());
			f.values.push(this.str());
		}
	}
}

// What a call decodes into and hands the handler, made once: each call
// refills them (the input, the request as the host sent it, and req, the
// copy the handler may change), so a call allocates only what the plugin
// does.
const dec = new Dec();
const theInput = new Input();
const inReq = new Request();
const inHeaders = inReq.headers;
const inQuery = inReq.query;
const outReq = new Request();
const outHeaders = outReq.headers;
const outQuery = outReq.query;
const eventViews = new Array<Uint8Array>();
const theEvents = new Array<Uint8Array>();
let configView = empty;
let bodyView = empty;

function decode(buf: ArrayBuffer, len: i32): Input | null {
	const p = changetype<usize>(buf);
	if (len < 4 || load<u32>(p) != 0x31494848) return null; // "HHI1"
	const d = dec;
	d.ok = true;
	d.buf = buf;
	d.p = p + 4;
	d.end = p + <usize>len;
	const input = theInput;
	input.webhook = d.str();
	input.config = configView = d.bytes(configView);
	const n = d.u32();
	if (!d.ok || <usize>n > (d.end - d.p) / 4) return null;
	const evs = theEvents;
	evs.length = 0;
	input.events = evs;
	for (let i: i32 = 0; i < <i32>n && d.ok; i++) {
		if (i < eventViews.length) {
			const v = d.bytes(unchecked(eventViews[i]));
			unchecked((eventViews[i] = v));
			evs.push(v);
		} else {
			const v = d.bytes(empty);
			eventViews.push(v);
			evs.push(v);
		}
	}
	const r = inReq;
	r.headers = inHeaders;
	r.query = inQuery;
	input.request = r;
	r.contentType = d.str();
	d.fields(inHeaders);
	d.fields(inQuery);
	r.body = bodyView = d.bytes(bodyView);
	return d.ok && d.p == d.end ? input : null;
}

// request returns req, the handler's copy of what the host sent.
function request(): Request {
	const r = outReq;
	r.headers = outHeaders;
	r.query = outQuery;
	outHeaders.copyFrom(inHeaders);
	outQuery.copyFrom(inQuery);
	r.contentType = inReq.contentType;
	r.body = inReq.body;
	return r;
}

function putStr(b: Buf, s: string): void {
	// A string of the input (a header, the content type) is written as the
	// bytes it was decoded from.
	if (s.length != 0) {
		const sp = changetype<usize>(s);
		for (let i = 0; i < INTERNED; i++) {
			if (changetype<usize>(unchecked(internStr[i])) != sp) continue;
			const raw = unchecked(internBytes[i]);
			if (raw === null) break;
			b.u32(<u32>raw.byteLength);
			memory.copy(b.need(raw.byteLength), changetype<usize>(raw), <usize>raw.byteLength);
			b.len += raw.byteLength;
			return;
		}
	}
	const at = b.len;
	b.u32(0).str(s);
	store<u32>(changetype<usize>(b.buf) + <usize>at, <u32>(b.len - at - 4));
}

function putFields(b: Buf, f: Fields): void {
	b.u32(<u32>f.keys.length);
	for (let i = 0; i < f.keys.length; i++) {
		putStr(b, f.keys[i]);
		putStr(b, f.values[i]);
	}
}

let handler: ((input: Input, req: Request) => Status) | null = null;

// handle registers the plugin's function: it gets the input and the request
// the hub would send without the plugin (a copy it may change), and returns
// Status.Send (send req), Status.Skip (drop the event for this webhook) or
// fail("why").
export function handle(fn: (input: Input, req: Request) => Status): void {
	handler = fn;
}

let inBuf = new ArrayBuffer(0);

// The kit builds with the minimal runtime, which collects only when told:
// here, before a call, after the host has read the last answer. What the
// calls before allocated is garbage by then, so a collection marks only what
// globals hold: cheaper than the incremental collector's steps throughout
// the call (an AssemblyScript template call on a 1 KiB event, 24.5 -> 17.5
// µs). Since the kit reuses its own objects, most calls leave little
// garbage, and a collection before every call cost the template a tenth of
// its call: an instance whose memory stayed the same over LAZY_AFTER calls
// and is at most LAZY_PAGES collects every COLLECT_EVERY calls only. Any
// growth of the memory ends that (the next call collects, and every call
// after it until the memory is steady again), so an instance's memory
// grows at most once beyond what collecting every call would hold, and
// never past twice LAZY_PAGES that way: a plugin that allocates much per
// call, or one near its memory_mib, keeps a collection per call.
const COLLECT_EVERY = 16;
const LAZY_AFTER = 64;
const LAZY_PAGES = 16; // 1 MiB
let collectedAt: i32 = -1;
let steady = 0;
let lazyCalls = 0;

function collect(): void {
	if (memory.size() != collectedAt) {
		steady = 0;
	} else if (steady >= LAZY_AFTER) {
		if (++lazyCalls < COLLECT_EVERY) return;
	} else if (++steady == LAZY_AFTER && memory.size() > LAZY_PAGES) {
		steady = 0;
	}
	lazyCalls = 0;
	__collect();
	collectedAt = memory.size();
}
const out = new Buf(4096);

function packed(b: Buf): i64 {
	return (<i64>changetype<usize>(b.buf) << 32) | <i64>b.len;
}

let schema: ArrayBuffer | null = null;

// configSchema declares a JSON Schema for the plugin's config (call it at top
// level, and re-export hookhub_config_schema); the hub then refuses a webhook
// whose config does not fit it.
export function configSchema(json: string): void {
	schema = String.UTF8.encode(json);
}

export function hookhub_config_schema(): i64 {
	const s = schema;
	if (s === null || s.byteLength == 0) return 0;
	return (<i64>changetype<usize>(s) << 32) | <i64>s.byteLength;
}

export function hookhub_abi_version(): i32 {
	return 1;
}

// The host calls hookhub_alloc before each call with the input's size; the
// buffer is reused while it is big enough.
export function hookhub_alloc(size: i32): i32 {
	if (size <= 0) return 0;
	if (size > inBuf.byteLength) inBuf = new ArrayBuffer(size);
	return <i32>changetype<usize>(inBuf);
}

export function hookhub_transform(ptr: i32, len: i32): i64 {
	collect();
	inStart = changetype<usize>(inBuf);
	inEnd = inStart;
	if (len >= 0 && len <= inBuf.byteLength) inEnd += <usize>len;
	ixEnd = 0;
	out.reset();
	out.u32(0x314f4848); // "HHO1"
	failReason = "";
	const input = len >= 0 && len <= inBuf.byteLength && ptr == <i32>changetype<usize>(inBuf) ? decode(inBuf, len) : null;
	if (input === null || handler === null) {
		out.byte(<u8>Status.Error);
		putStr(out, input === null ? "hookhub assemblyscript kit: malformed input" : "no handler: call handle(fn) in the plugin's entry file");
		return packed(out);
	}
	const req = request();
	const st = handler!(input, req);
	if (st == Status.Send) {
		out.byte(<u8>Status.Send);
		putStr(out, req.contentType);
		putFields(out, req.headers);
		putFields(out, req.query);
		out.u32(<u32>req.body.length);
		out.bytes(req.body);
	} else if (st == Status.Skip) {
		out.byte(<u8>Status.Skip);
	} else {
		out.byte(<u8>Status.Error);
		putStr(out, failReason.length ? failReason : "the plugin failed");
	}
	return packed(out);
}

// ---- the abort shim -------------------------------------------------------

// @ts-ignore: decorator
@external("wasi_snapshot_preview1", "fd_write")
declare function fd_write(fd: u32, iovs: usize, iovsLen: u32, written: usize): u16;

// hookhubAbort replaces AssemblyScript's env.abort (asconfig.json's "use"):
// it writes "abort: MESSAGE at FILE:LINE:COLUMN" to stderr, which the host
// reports with the trap, and traps.
// @ts-ignore: decorator
@global
export function hookhubAbort(message: string | null, fileName: string | null, line: u32, column: u32): void {
	let s = "abort: " + (message === null ? "" : message);
	if (fileName !== null) s += " at " + fileName + ":" + line.toString() + ":" + column.toString();
	s += "\n";
	const b = String.UTF8.encode(s);
	const iov = memory.data(8);
	store<u32>(iov, <u32>changetype<usize>(b));
	store<u32>(iov + 4, <u32>b.byteLength);
	fd_write(2, iov, 1, memory.data(4));
	unreachable();
}
