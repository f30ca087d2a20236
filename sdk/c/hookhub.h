/*
 * hookhub.h: the hookhub plugin kit for C, in one header.
 *
 * A plugin is one C function:
 *
 *     #define HOOKHUB_IMPLEMENTATION
 *     #include "hookhub.h"
 *
 *     hh_status hh_transform(const hh_input *in, hh_request *req) {
 *         hh_str email;
 *         if (!hh_get_string(in->events[0], "data.email", &email)) return HH_SKIP;
 *         hh_set_header(req, "X-Email", email);
 *         return HH_SEND;
 *     }
 *
 * built as a WASI reactor with Debian's clang and wasi-libc:
 *
 *     clang --target=wasm32-wasi -O2 -mexec-model=reactor -o plugin.wasm transform.c
 *
 * HOOKHUB_IMPLEMENTATION (in exactly one file) adds the exports the host
 * expects (sdk/README.md, "The ABI"): hookhub_abi_version, hookhub_alloc,
 * hookhub_transform and hookhub_config_schema, and the wire codec behind
 * them. Define HOOKHUB_CONFIG_SCHEMA as a string literal (a JSON Schema of
 * the plugin's config) before the include to declare one. Define
 * HOOKHUB_READS_URL to get the webhook's URL in in->url and to set
 * req->url (ABI 1.1: the kit then exports hookhub_abi_url).
 *
 * On each call the kit decodes the input, hands hh_transform the input and
 * the request the hub would send without the plugin (req, which it may
 * change), and encodes what it returns: HH_SEND sends req, HH_SKIP drops the
 * event for this webhook, hh_fail(...) fails the delivery with a reason.
 * Everything hh_ functions allocate lives until the next call: no free.
 *
 * Strings (hh_str) are a pointer and a length, not NUL-terminated; those in
 * hh_input point into the input and are valid during the call.
 */
#ifndef HOOKHUB_H
#define HOOKHUB_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define HOOKHUB_ABI_VERSION 1

/* A string: bytes and their length, not NUL-terminated. */
typedef struct hh_str {
	const char *ptr;
	uint32_t len;
} hh_str;

/* One header or query parameter. */
typedef struct hh_pair {
	hh_str key, value;
} hh_pair;

/* Headers or query parameters: n pairs. */
typedef struct hh_map {
	hh_pair *items;
	uint32_t n, cap;
} hh_map;

/* The request to send, short of its URL host and signature headers. */
typedef struct hh_request {
	hh_str content_type;
	hh_map headers; /* names are case-insensitive */
	hh_map query;   /* added to the webhook's URL */
	hh_str body;
	hh_str url; /* HOOKHUB_READS_URL: when set, replaces the webhook's URL
	             * (a path and query, or the same scheme and host) */
} hh_request;

/* What the host hands the plugin for one call. */
typedef struct hh_input {
	hh_str webhook;    /* the webhook's id */
	hh_str config;     /* the webhook's plugin config, JSON; len 0 when none */
	uint32_t n_events; /* 1, or more for a batching webhook */
	hh_str *events;    /* CloudEvents JSON documents */
	hh_request request; /* what the hub would send without the plugin */
	hh_str url;         /* HOOKHUB_READS_URL: the webhook's URL, without user info */
} hh_input;

typedef enum hh_status { HH_SEND = 0, HH_SKIP = 1, HH_ERROR = 2 } hh_status;

/* A growable byte buffer for building a body; hh_buf_str views it. */
typedef struct hh_buf {
	char *ptr;
	uint32_t len, cap;
} hh_buf;

/* The plugin's function: the one thing a plugin defines. */
hh_status hh_transform(const hh_input *in, hh_request *req);

/* ---- strings ---------------------------------------------------------- */

/* hh_s makes an hh_str from a NUL-terminated string (a literal, say). */
static inline hh_str hh_s(const char *s) {
	hh_str r = {s, s ? (uint32_t)strlen(s) : 0};
	return r;
}

/* hh_eq reports whether a holds exactly the NUL-terminated s. */
static inline int hh_eq(hh_str a, const char *s) {
	size_t n = strlen(s);
	return a.len == n && memcmp(a.ptr, s, n) == 0;
}

/* hh_eq_fold reports whether a and b are equal, ASCII case folded. */
static inline int hh_eq_fold(hh_str a, hh_str b) {
	if (a.len != b.len) return 0;
	for (uint32_t i = 0; i < a.len; i++) {
		unsigned char x = (unsigned char)a.ptr[i], y = (unsigned char)b.ptr[i];
		if (x >= 'A' && x <= 'Z') x += 32;
		if (y >= 'A' && y <= 'Z') y += 32;
		if (x != y) return 0;
	}
	return 1;
}

/* ---- memory: a per-call arena, reset before each call ------------------ */

void *hh_alloc(uint32_t size);

/* ---- building a body --------------------------------------------------- */

void hh_buf_put(hh_buf *b, const void *p, uint32_t n);
static inline void hh_buf_puts(hh_buf *b, const char *s) { hh_buf_put(b, s, (uint32_t)strlen(s)); }
static inline void hh_buf_put_str(hh_buf *b, hh_str s) { hh_buf_put(b, s.ptr, s.len); }
static inline void hh_buf_putc(hh_buf *b, char c) { hh_buf_put(b, &c, 1); }
/* hh_buf_json_string appends s as a JSON string: quoted, with ", \ and
 * control characters escaped (other bytes as they are). */
void hh_buf_json_string(hh_buf *b, hh_str s);
static inline hh_str hh_buf_str(const hh_buf *b) {
	hh_str r = {b->ptr, b->len};
	return r;
}

/* ---- the request ------------------------------------------------------- */

/* hh_get_header returns the value of header name (case-insensitive) in
 * *value and 1, or 0 when the request has none. */
int hh_get_header(const hh_request *r, const char *name, hh_str *value);
/* hh_set_header sets header name, replacing any of that name in any case. */
void hh_set_header(hh_request *r, const char *name, hh_str value);
/* hh_del_header removes header name (case-insensitive). */
void hh_del_header(hh_request *r, const char *name);
/* hh_set_query sets query parameter name (exact name). */
void hh_set_query(hh_request *r, const char *name, hh_str value);
/* hh_set_body sets the body and its content type. */
static inline void hh_set_body(hh_request *r, const char *content_type, hh_str body) {
	r->content_type = hh_s(content_type);
	r->body = body;
}

/* hh_fail records reason and returns HH_ERROR: return hh_fail("why");
 * the delivery fails with that reason (to the dead letters in the end). */
hh_status hh_fail(const char *reason);

/* ---- reading JSON without decoding it ---------------------------------- */

/* hh_json_valid reports whether json is one valid JSON value (RFC 8259). */
int hh_json_valid(hh_str json);

/* hh_get returns in *raw the JSON text of the value at path in json, and 1;
 * or 0 when there is none. A path is keys separated by dots, a number
 * indexing an array: "data.email", "data.items.0.sku". The last of
 * duplicate keys counts, as in encoding/json. The document is not validated beyond what is read:
 * check it once with hh_json_valid. A document of the input (an event, the
 * config) has its top level indexed by the first hh_get of a call, so the
 * input is read-only. */
int hh_get(hh_str json, const char *path, hh_str *raw);

/* hh_get_string returns the value at path as text, and 1: a string
 * unescaped (in the arena when it had escapes; a lone surrogate becomes
 * U+FFFD), a number, true or false as written, an object or array as its
 * JSON. It returns 0 when the value is missing or null. */
int hh_get_string(hh_str json, const char *path, hh_str *out);

/* hh_unescape returns the JSON string literal raw (with its quotes)
 * unescaped. */
hh_str hh_unescape(hh_str raw);

#ifdef HOOKHUB_IMPLEMENTATION

/* ---- arena ------------------------------------------------------------- */

typedef struct hh__chunk {
	struct hh__chunk *next;
	uint32_t used, size;
	/* data follows, 8-byte aligned */
} hh__chunk;

static hh__chunk *hh__chunks;
static const char *hh__fail_reason;

/* hh__reset frees the last call's allocations, keeping the newest chunk. */
static void hh__reset(void) {
	hh__chunk *c = hh__chunks ? hh__chunks->next : NULL;
	while (c) {
		hh__chunk *next = c->next;
		free(c);
		c = next;
	}
	if (hh__chunks) {
		hh__chunks->next = NULL;
		hh__chunks->used = 0;
	}
	hh__fail_reason = NULL;
}

void *hh_alloc(uint32_t size) {
	size = (size + 7u) & ~7u;
	hh__chunk *c = hh__chunks;
	if (!c || c->size - c->used < size) {
		uint32_t n = size > 4096 ? size : 4096;
		c = (hh__chunk *)malloc(sizeof(hh__chunk) + 8 + n);
		if (!c) __builtin_trap(); /* out of memory: the host reports it */
		c->used = 0;
		c->size = n;
		c->next = hh__chunks;
		hh__chunks = c;
	}
	char *data = (char *)(((uintptr_t)(c + 1) + 7u) & ~(uintptr_t)7u);
	void *p = data + c->used;
	c->used += size;
	return p;
}

void hh_buf_put(hh_buf *b, const void *p, uint32_t n) {
	if (b->cap - b->len < n) {
		uint32_t cap = b->cap ? b->cap * 2 : 256;
		while (cap - b->len < n) cap *= 2;
		char *np = (char *)hh_alloc(cap);
		if (b->len) memcpy(np, b->ptr, b->len);
		b->ptr = np;
		b->cap = cap;
	}
	memcpy(b->ptr + b->len, p, n);
	b->len += n;
}

void hh_buf_json_string(hh_buf *b, hh_str s) {
	static const char hex[] = "0123456789abcdef";
	hh_buf_putc(b, '"');
	uint32_t start = 0;
	for (uint32_t i = 0; i < s.len; i++) {
		unsigned char c = (unsigned char)s.ptr[i];
		if (c != '"' && c != '\\' && c >= 0x20) continue;
		hh_buf_put(b, s.ptr + start, i - start);
		start = i + 1;
		if (c == '"' || c == '\\') {
			char e[2] = {'\\', (char)c};
			hh_buf_put(b, e, 2);
		} else {
			char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
			hh_buf_put(b, e, 6);
		}
	}
	hh_buf_put(b, s.ptr + start, s.len - start);
	hh_buf_putc(b, '"');
}

/* ---- the request ------------------------------------------------------- */

static void hh__map_set(hh_map *m, hh_str key, hh_str value, int fold) {
	uint32_t j = 0;
	int set = 0;
	for (uint32_t i = 0; i < m->n; i++) {
		int same = fold ? hh_eq_fold(m->items[i].key, key)
		                : (m->items[i].key.len == key.len && memcmp(m->items[i].key.ptr, key.ptr, key.len) == 0);
		if (same) {
			if (set) continue; /* drop other spellings of the name */
			m->items[i].key = key;
			m->items[i].value = value;
			set = 1;
		}
		m->items[j++] = m->items[i];
	}
	m->n = j;
	if (set) return;
	if (m->n == m->cap) {
		uint32_t cap = m->cap ? m->cap * 2 : 8;
		hh_pair *items = (hh_pair *)hh_alloc(cap * sizeof(hh_pair));
		if (m->n) memcpy(items, m->items, m->n * sizeof(hh_pair));
		m->items = items;
		m->cap = cap;
	}
	m->items[m->n].key = key;
	m->items[m->n].value = value;
	m->n++;
}

int hh_get_header(const hh_request *r, const char *name, hh_str *value) {
	hh_str k = hh_s(name);
	for (uint32_t i = 0; i < r->headers.n; i++) {
		if (hh_eq_fold(r->headers.items[i].key, k)) {
			*value = r->headers.items[i].value;
			return 1;
		}
	}
	return 0;
}

void hh_set_header(hh_request *r, const char *name, hh_str value) { hh__map_set(&r->headers, hh_s(name), value, 1); }

void hh_set_query(hh_request *r, const char *name, hh_str value) { hh__map_set(&r->query, hh_s(name), value, 0); }

void hh_del_header(hh_request *r, const char *name) {
	hh_str k = hh_s(name);
	uint32_t j = 0;
	for (uint32_t i = 0; i < r->headers.n; i++) {
		if (!hh_eq_fold(r->headers.items[i].key, k)) r->headers.items[j++] = r->headers.items[i];
	}
	r->headers.n = j;
}

hh_status hh_fail(const char *reason) {
	hh__fail_reason = reason ? reason : "";
	return HH_ERROR;
}

/* ---- JSON -------------------------------------------------------------- */

typedef struct hh__json {
	const char *p, *end;
	int depth;
} hh__json;

#define HH__MAX_DEPTH 1000

static void hh__ws(hh__json *j) {
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r')) j->p++;
}

static int hh__hexval(char c) {
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	if (c >= 'A' && c <= 'F') return c - 'A' + 10;
	return -1;
}

/* hh__string skips a string at j->p (on its quote); *escaped tells whether
 * it has escapes. */
static int hh__string(hh__json *j, int *escaped) {
	j->p++;
	for (;;) {
		/* Eight bytes at a time while none is a quote, a backslash or a
		 * control character (a string's plain run, most of its bytes). */
		while (j->end - j->p >= 8) {
			uint64_t w;
			memcpy(&w, j->p, 8);
			uint64_t q = w ^ 0x2222222222222222ULL, b = w ^ 0x5c5c5c5c5c5c5c5cULL;
#define HH__ZERO(v) (((v) - 0x0101010101010101ULL) & ~(v) & 0x8080808080808080ULL)
			if (HH__ZERO(q) | HH__ZERO(b) | ((w - 0x2020202020202020ULL) & ~w & 0x8080808080808080ULL)) break;
#undef HH__ZERO
			j->p += 8;
		}
		if (j->p >= j->end) return 0;
		unsigned char c = (unsigned char)*j->p++;
		if (c == '"') return 1;
		if (c < 0x20) return 0;
		if (c == '\\') {
			if (escaped) *escaped = 1;
			if (j->p >= j->end) return 0;
			c = (unsigned char)*j->p++;
			if (c == 'u') {
				if (j->end - j->p < 4) return 0;
				for (int k = 0; k < 4; k++)
					if (hh__hexval(j->p[k]) < 0) return 0;
				j->p += 4;
			} else if (!strchr("\"\\/bfnrt", c) || c == 0) {
				return 0;
			}
		}
	}
}

static int hh__digits(hh__json *j) {
	const char *s = j->p;
	while (j->p < j->end && *j->p >= '0' && *j->p <= '9') j->p++;
	return j->p > s;
}

static int hh__number(hh__json *j) {
	if (*j->p == '-') j->p++;
	if (j->p >= j->end) return 0;
	if (*j->p == '0') j->p++;
	else if (!hh__digits(j)) return 0;
	if (j->p < j->end && *j->p == '.') {
		j->p++;
		if (!hh__digits(j)) return 0;
	}
	if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
		j->p++;
		if (j->p < j->end && (*j->p == '+' || *j->p == '-')) j->p++;
		if (!hh__digits(j)) return 0;
	}
	return 1;
}

static int hh__literal(hh__json *j, const char *lit) {
	size_t n = strlen(lit);
	if ((size_t)(j->end - j->p) < n || memcmp(j->p, lit, n) != 0) return 0;
	j->p += n;
	return 1;
}

/* hh__value skips one value (after whitespace), validating it. */
static int hh__value(hh__json *j) {
	hh__ws(j);
	if (j->p >= j->end) return 0;
	switch (*j->p) {
	case '"': return hh__string(j, NULL);
	case 't': return hh__literal(j, "true");
	case 'f': return hh__literal(j, "false");
	case 'n': return hh__literal(j, "null");
	case '{':
	case '[': {
		char close = *j->p == '{' ? '}' : ']';
		int obj = close == '}';
		if (++j->depth > HH__MAX_DEPTH) return 0;
		j->p++;
		hh__ws(j);
		if (j->p < j->end && *j->p == close) {
			j->p++;
			j->depth--;
			return 1;
		}
		for (;;) {
			if (obj) {
				hh__ws(j);
				if (j->p >= j->end || *j->p != '"' || !hh__string(j, NULL)) return 0;
				hh__ws(j);
				if (j->p >= j->end || *j->p != ':') return 0;
				j->p++;
			}
			if (!hh__value(j)) return 0;
			hh__ws(j);
			if (j->p >= j->end) return 0;
			if (*j->p == ',') {
				j->p++;
				continue;
			}
			if (*j->p != close) return 0;
			j->p++;
			j->depth--;
			return 1;
		}
	}
	default:
		if (*j->p == '-' || (*j->p >= '0' && *j->p <= '9')) return hh__number(j);
		return 0;
	}
}

int hh_json_valid(hh_str json) {
	hh__json j = {json.ptr, json.ptr + json.len, 0};
	if (!hh__value(&j)) return 0;
	hh__ws(&j);
	return j.p == j.end;
}

/* hh__key_is reports whether the string literal at [s, e) (with quotes)
 * is key, unescaping when it must. */
static int hh__key_is(const char *s, const char *e, int escaped, const char *key, size_t klen) {
	if (!escaped) return (size_t)(e - s - 2) == klen && memcmp(s + 1, key, klen) == 0;
	hh_str raw = {s, (uint32_t)(e - s)};
	hh_str k = hh_unescape(raw);
	return k.len == klen && memcmp(k.ptr, key, klen) == 0;
}

/* The input of the call in progress, [hh__in_start, hh__in_end): hh_get
 * indexes the top level of documents within it (an event, the config) once
 * per call, and each lookup after the first finds its first key in the
 * index instead of reading the whole document again (the last of duplicate
 * keys still wins). A plugin does not write into its input. */
#define HH__MAX_INDEXED 24
static const char *hh__in_start, *hh__in_end;
static const char *hh__ix_start, *hh__ix_end;
static int hh__ix_n; /* members indexed; -1: read the document whole */
static const char *hh__ix_key[HH__MAX_INDEXED], *hh__ix_key_end[HH__MAX_INDEXED], *hh__ix_at[HH__MAX_INDEXED];
static char hh__ix_esc[HH__MAX_INDEXED];

/* hh__index reads json's top-level object into the index as hh_get's loop
 * reads an object; anything else leaves the document to be read whole. */
static void hh__index(hh_str json) {
	hh__json j = {json.ptr, json.ptr + json.len, 0};
	hh__ix_start = j.p;
	hh__ix_end = j.end;
	hh__ix_n = -1;
	hh__ws(&j);
	if (j.p >= j.end || *j.p != '{') return;
	j.p++;
	hh__ws(&j);
	if (j.p < j.end && *j.p == '}') {
		hh__ix_n = 0;
		return;
	}
	for (int n = 0;; n++) {
		hh__ws(&j);
		if (n == HH__MAX_INDEXED || j.p >= j.end || *j.p != '"') return;
		int esc = 0;
		hh__ix_key[n] = j.p;
		if (!hh__string(&j, &esc)) return;
		hh__ix_key_end[n] = j.p;
		hh__ix_esc[n] = (char)esc;
		hh__ws(&j);
		if (j.p >= j.end || *j.p != ':') return;
		j.p++;
		hh__ws(&j);
		hh__ix_at[n] = j.p;
		if (!hh__value(&j)) return;
		hh__ws(&j);
		if (j.p >= j.end) return;
		if (*j.p == '}') {
			hh__ix_n = n + 1;
			return;
		}
		if (*j.p != ',') return;
		j.p++;
	}
}

/* hh__value_at gives in *raw the value at j->p (after whitespace), and 1;
 * or 0 when it is not a valid value. */
static int hh__value_at(hh__json *j, hh_str *raw) {
	hh__ws(j);
	const char *s = j->p;
	if (!hh__value(j)) return 0;
	raw->ptr = s;
	raw->len = (uint32_t)(j->p - s);
	return 1;
}

int hh_get(hh_str json, const char *path, hh_str *raw) {
	hh__json j = {json.ptr, json.ptr + json.len, 0};
	const char *seg = path;
	if (json.len > 0 && j.p >= hh__in_start && j.end <= hh__in_end) {
		if (j.p != hh__ix_start || j.end != hh__ix_end) hh__index(json);
		if (hh__ix_n >= 0) {
			const char *dot = strchr(seg, '.');
			size_t slen = dot ? (size_t)(dot - seg) : strlen(seg);
			int k = hh__ix_n - 1;
			while (k >= 0 && !hh__key_is(hh__ix_key[k], hh__ix_key_end[k], hh__ix_esc[k], seg, slen)) k--;
			if (k < 0) return 0;
			j.p = hh__ix_at[k];
			if (!dot) return hh__value_at(&j, raw);
			seg = dot + 1;
		}
	}
	for (;;) {
		const char *dot = strchr(seg, '.');
		size_t slen = dot ? (size_t)(dot - seg) : strlen(seg);
		hh__ws(&j);
		if (j.p >= j.end) return 0;
		int found = 0;
		if (*j.p == '{') {
			/* The whole object is read: the last of duplicate keys wins. */
			const char *at = NULL;
			j.p++;
			hh__ws(&j);
			if (j.p < j.end && *j.p == '}') return 0;
			for (;;) {
				hh__ws(&j);
				if (j.p >= j.end || *j.p != '"') return 0;
				const char *ks = j.p;
				int esc = 0;
				if (!hh__string(&j, &esc)) return 0;
				int match = hh__key_is(ks, j.p, esc, seg, slen);
				hh__ws(&j);
				if (j.p >= j.end || *j.p != ':') return 0;
				j.p++;
				hh__ws(&j);
				if (match) at = j.p;
				if (!hh__value(&j)) return 0;
				hh__ws(&j);
				if (j.p >= j.end) return 0;
				if (*j.p == '}') break;
				if (*j.p != ',') return 0;
				j.p++;
			}
			if (!at) return 0;
			j.p = at;
			found = 1;
		} else if (*j.p == '[') {
			if (slen == 0 || slen > 9) return 0;
			uint32_t idx = 0;
			for (size_t k = 0; k < slen; k++) {
				if (seg[k] < '0' || seg[k] > '9') return 0;
				idx = idx * 10 + (uint32_t)(seg[k] - '0');
			}
			j.p++;
			hh__ws(&j);
			if (j.p < j.end && *j.p == ']') return 0;
			for (uint32_t i = 0;; i++) {
				if (i == idx) {
					found = 1;
					break;
				}
				if (!hh__value(&j)) return 0;
				hh__ws(&j);
				if (j.p >= j.end || *j.p != ',') return 0;
				j.p++;
			}
		}
		if (!found) return 0;
		if (!dot) return hh__value_at(&j, raw);
		seg = dot + 1;
	}
}

static char *hh__utf8(char *o, uint32_t r) {
	if (r < 0x80) {
		*o++ = (char)r;
	} else if (r < 0x800) {
		*o++ = (char)(0xC0 | (r >> 6));
		*o++ = (char)(0x80 | (r & 0x3F));
	} else if (r < 0x10000) {
		*o++ = (char)(0xE0 | (r >> 12));
		*o++ = (char)(0x80 | ((r >> 6) & 0x3F));
		*o++ = (char)(0x80 | (r & 0x3F));
	} else {
		*o++ = (char)(0xF0 | (r >> 18));
		*o++ = (char)(0x80 | ((r >> 12) & 0x3F));
		*o++ = (char)(0x80 | ((r >> 6) & 0x3F));
		*o++ = (char)(0x80 | (r & 0x3F));
	}
	return o;
}

static uint32_t hh__hex4(const char *p) {
	return (uint32_t)(hh__hexval(p[0]) << 12 | hh__hexval(p[1]) << 8 | hh__hexval(p[2]) << 4 | hh__hexval(p[3]));
}

hh_str hh_unescape(hh_str raw) {
	hh_str r = {raw.ptr, 0};
	if (raw.len < 2) return r;
	const char *p = raw.ptr + 1, *end = raw.ptr + raw.len - 1;
	if (!memchr(p, '\\', (size_t)(end - p))) {
		r.ptr = p;
		r.len = (uint32_t)(end - p);
		return r;
	}
	char *out = (char *)hh_alloc(raw.len), *o = out; /* unescaping never grows */
	while (p < end) {
		if (*p != '\\') {
			*o++ = *p++;
			continue;
		}
		p++;
		if (p >= end) break;
		char c = *p++;
		switch (c) {
		case 'b': *o++ = '\b'; break;
		case 'f': *o++ = '\f'; break;
		case 'n': *o++ = '\n'; break;
		case 'r': *o++ = '\r'; break;
		case 't': *o++ = '\t'; break;
		case 'u': {
			if (end - p < 4) goto done;
			uint32_t u = hh__hex4(p);
			p += 4;
			if (u >= 0xD800 && u < 0xDC00 && end - p >= 6 && p[0] == '\\' && p[1] == 'u') {
				uint32_t lo = hh__hex4(p + 2);
				if (lo >= 0xDC00 && lo < 0xE000) {
					u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
					p += 6;
				}
			}
			if (u >= 0xD800 && u < 0xE000) u = 0xFFFD;
			o = hh__utf8(o, u);
			break;
		}
		default: *o++ = c; break;
		}
	}
done:
	r.ptr = out;
	r.len = (uint32_t)(o - out);
	return r;
}

int hh_get_string(hh_str json, const char *path, hh_str *out) {
	hh_str raw;
	if (!hh_get(json, path, &raw)) return 0;
	if (raw.len == 4 && memcmp(raw.ptr, "null", 4) == 0) return 0;
	*out = raw.ptr[0] == '"' ? hh_unescape(raw) : raw;
	return 1;
}

/* ---- the wire codec and the exports ------------------------------------ */

typedef struct hh__dec {
	const unsigned char *p, *end;
	int ok;
} hh__dec;

static uint32_t hh__u32(hh__dec *d) {
	if (!d->ok || d->end - d->p < 4) {
		d->ok = 0;
		return 0;
	}
	uint32_t v = (uint32_t)d->p[0] | (uint32_t)d->p[1] << 8 | (uint32_t)d->p[2] << 16 | (uint32_t)d->p[3] << 24;
	d->p += 4;
	return v;
}

static hh_str hh__bytes(hh__dec *d) {
	hh_str s = {NULL, 0};
	uint32_t n = hh__u32(d);
	if (!d->ok || (uint32_t)(d->end - d->p) < n) {
		d->ok = 0;
		return s;
	}
	s.ptr = (const char *)d->p;
	s.len = n;
	d->p += n;
	return s;
}

static void hh__map(hh__dec *d, hh_map *m) {
	uint32_t n = hh__u32(d);
	m->n = m->cap = 0;
	m->items = NULL;
	if (!d->ok || n == 0) return;
	if (n > (uint32_t)(d->end - d->p) / 8) { /* each pair takes 8 bytes at least */
		d->ok = 0;
		return;
	}
	m->items = (hh_pair *)hh_alloc(n * sizeof(hh_pair));
	m->cap = n;
	for (uint32_t i = 0; i < n && d->ok; i++) {
		m->items[i].key = hh__bytes(d);
		m->items[i].value = hh__bytes(d);
		m->n++;
	}
}

static void hh__request(hh__dec *d, hh_request *r) {
	r->content_type = hh__bytes(d);
	hh__map(d, &r->headers);
	hh__map(d, &r->query);
	r->body = hh__bytes(d);
}

static int hh__decode(const unsigned char *b, uint32_t len, hh_input *in) {
	hh__dec d = {b, b + len, 1};
	if (len < 4 || memcmp(b, "HHI1", 4) != 0) return 0;
	d.p += 4;
	in->webhook = hh__bytes(&d);
	in->config = hh__bytes(&d);
	uint32_t n = hh__u32(&d);
	if (!d.ok || n > (uint32_t)(d.end - d.p) / 4) return 0;
	in->n_events = 0;
	in->events = (hh_str *)hh_alloc(n * sizeof(hh_str) + 1);
	for (uint32_t i = 0; i < n && d.ok; i++) in->events[in->n_events++] = hh__bytes(&d);
	hh__request(&d, &in->request);
	if (d.ok && d.p < d.end) in->url = hh__bytes(&d); /* ABI 1.1 */
	return d.ok && d.p == d.end;
}

static void hh__put_u32(hh_buf *b, uint32_t v) {
	unsigned char x[4] = {(unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16), (unsigned char)(v >> 24)};
	hh_buf_put(b, x, 4);
}

static void hh__put_bytes(hh_buf *b, hh_str s) {
	hh__put_u32(b, s.len);
	hh_buf_put(b, s.ptr, s.len);
}

static void hh__put_map(hh_buf *b, const hh_map *m) {
	hh__put_u32(b, m->n);
	for (uint32_t i = 0; i < m->n; i++) {
		hh__put_bytes(b, m->items[i].key);
		hh__put_bytes(b, m->items[i].value);
	}
}

static void hh__map_copy(hh_map *dst, const hh_map *src) {
	dst->items = NULL;
	dst->n = dst->cap = src->n;
	if (!src->n) return;
	dst->items = (hh_pair *)hh_alloc(src->n * sizeof(hh_pair));
	memcpy(dst->items, src->items, src->n * sizeof(hh_pair));
}

static unsigned char *hh__in;
static uint32_t hh__in_cap;

static int64_t hh__packed(const void *p, uint32_t len) {
	if (len == 0) return 0;
	return (int64_t)((uint64_t)(uintptr_t)p << 32 | len);
}

__attribute__((export_name("hookhub_abi_version"))) int32_t hookhub_abi_version(void) { return HOOKHUB_ABI_VERSION; }

/* The host calls hookhub_alloc before each call with the input's size; the
 * buffer is reused while it is big enough. */
__attribute__((export_name("hookhub_alloc"))) int32_t hookhub_alloc(int32_t size) {
	if (size <= 0) return 0;
	if ((uint32_t)size > hh__in_cap) {
		free(hh__in);
		hh__in = (unsigned char *)malloc((size_t)size);
		if (!hh__in) __builtin_trap();
		hh__in_cap = (uint32_t)size;
	}
	return (int32_t)(uintptr_t)hh__in;
}

__attribute__((export_name("hookhub_transform"))) int64_t hookhub_transform(int32_t ptr, int32_t len) {
	hh__reset();
	hh__in_start = hh__in_end = (const char *)hh__in;
	if (len >= 0 && (uint32_t)len <= hh__in_cap) hh__in_end += len;
	hh__ix_start = hh__ix_end = NULL;
	hh_buf out = {0, 0, 0};
	hh_input in;
	memset(&in, 0, sizeof in);
	hh_buf_put(&out, "HHO1", 4);
	if (len < 0 || ptr != (int32_t)(uintptr_t)hh__in || (uint32_t)len > hh__in_cap ||
	    !hh__decode(hh__in, (uint32_t)len, &in)) {
		hh_buf_putc(&out, HH_ERROR);
		hh__put_bytes(&out, hh_s("hookhub.h: malformed input"));
		return hh__packed(out.ptr, out.len);
	}
	/* The plugin's request gets its own maps, so changing them leaves
	 * in->request as the host sent it. */
	hh_request req = in.request;
	hh__map_copy(&req.headers, &in.request.headers);
	hh__map_copy(&req.query, &in.request.query);
	hh_status st = hh_transform(&in, &req);
	switch (st) {
	case HH_SEND:
		hh_buf_putc(&out, HH_SEND);
		hh__put_bytes(&out, req.content_type);
		hh__put_map(&out, &req.headers);
		hh__put_map(&out, &req.query);
		hh__put_bytes(&out, req.body);
		if (req.url.len) hh__put_bytes(&out, req.url);
		break;
	case HH_SKIP: hh_buf_putc(&out, HH_SKIP); break;
	default:
		hh_buf_putc(&out, HH_ERROR);
		hh__put_bytes(&out, hh_s(hh__fail_reason ? hh__fail_reason : "the plugin failed"));
	}
	return hh__packed(out.ptr, out.len);
}

#ifdef HOOKHUB_READS_URL
/* Never called: it tells the host to write the URL into the input. */
__attribute__((export_name("hookhub_abi_url"))) void hookhub_abi_url(void) {}
#endif

#ifdef HOOKHUB_CONFIG_SCHEMA
__attribute__((export_name("hookhub_config_schema"))) int64_t hookhub_config_schema(void) {
	static const char schema[] = HOOKHUB_CONFIG_SCHEMA;
	return hh__packed(schema, sizeof schema - 1);
}
#endif

#endif /* HOOKHUB_IMPLEMENTATION */
#endif /* HOOKHUB_H */
