/*
 * The js plugin's engine: QuickJS (quickjs-ng) with the hookhub C kit,
 * built as a WASI reactor by build.sh. A webhook's config holds a script
 * defining handler(webhook); each call hands it {eventType, payload, url,
 * headers} and reads back what it returns: the changed request, or null to
 * skip. plugins/js/README.md is the contract.
 *
 * One JSRuntime per instance; one JSContext (its own globals) per webhook
 * and config, made when the webhook is first called and kept (the
 * MAX_CONTEXTS used last), so a script runs once and each call only calls
 * handler.
 */
#define HOOKHUB_READS_URL
#define HOOKHUB_IMPLEMENTATION
#include "schema.h" /* HOOKHUB_CONFIG_SCHEMA: config.schema.json, written by the build */
#include "hookhub.h"
#include "quickjs.h"
#include "cutils.h"

#include <stdio.h>

#define MAX_CONTEXTS 64

/* Running out of memory. QuickJS reports it as an exception, which it must
 * make with memory it may no longer get (the exception is then null). So
 * the engine keeps a reserve, given back to malloc when an allocation fails
 * (out_of_memory set) and taken again at the next call: QuickJS makes its
 * "out of memory" error, and the call fails with it. */
#define RESERVE (256 << 10)
static void *reserve;
static int out_of_memory;

static int use_reserve(void) {
	if (!reserve) return 0;
	free(reserve);
	reserve = NULL;
	out_of_memory = 1;
	return 1;
}

static void *mem_calloc(void *opaque, size_t n, size_t size) {
	(void)opaque;
	void *p = calloc(n, size);
	return p || !use_reserve() ? p : calloc(n, size);
}

static void *mem_malloc(void *opaque, size_t size) {
	(void)opaque;
	void *p = malloc(size);
	return p || !use_reserve() ? p : malloc(size);
}

static void mem_free(void *opaque, void *ptr) {
	(void)opaque;
	free(ptr);
}

static void *mem_realloc(void *opaque, void *ptr, size_t size) {
	(void)opaque;
	void *p = realloc(ptr, size);
	return p || size == 0 || !use_reserve() ? p : realloc(ptr, size);
}

static const JSMallocFunctions mem = {mem_calloc, mem_malloc, mem_free, mem_realloc, js__malloc_usable_size};

typedef struct entry {
	char *webhook, *config;
	uint32_t webhook_len, config_len;
	JSContext *ctx;
	JSValue handler;
} entry;

static JSRuntime *rt;
static JSContext *check_ctx; /* compiles scripts for config checks */
static entry entries[MAX_CONTEXTS];
static int n_entries;

static char *dup_n(const char *p, uint32_t n) {
	char *s = (char *)malloc(n + 1);
	if (!s) __builtin_trap();
	memcpy(s, p, n);
	s[n] = 0;
	return s;
}

/* arena_str copies a JS string's bytes into the call's arena. */
static hh_str arena_str(const char *p, size_t n) {
	char *s = (char *)hh_alloc((uint32_t)n + 1);
	memcpy(s, p, n);
	s[n] = 0;
	return (hh_str){s, (uint32_t)n};
}

static hh_str to_str(JSContext *ctx, JSValueConst v) {
	size_t n;
	const char *p = JS_ToCStringLen(ctx, &n, v);
	if (!p) {
		JS_FreeValue(ctx, JS_GetException(ctx));
		return hh_s("(a value that cannot be a string)");
	}
	hh_str s = arena_str(p, n);
	JS_FreeCString(ctx, p);
	return s;
}

/* fail_fmt fails the call with a reason built in the arena. */
static hh_status fail_fmt(const char *prefix, hh_str msg, const char *suffix) {
	hh_buf b = {0};
	hh_buf_puts(&b, prefix);
	hh_buf_put_str(&b, msg);
	hh_buf_puts(&b, suffix);
	hh_buf_putc(&b, 0);
	return hh_fail(b.ptr);
}

/* script_error fails the call with the pending exception, at the script's
 * line and column when its stack names them: "script:3:39: TypeError: ...". */
static hh_status script_error(JSContext *ctx) {
	JSValue ex = JS_GetException(ctx);
	if (out_of_memory && !JS_IsObject(ex)) {
		JS_FreeValue(ctx, ex);
		return hh_fail("script: out of memory (the js plugin's memory_mib caps it)");
	}
	hh_str msg = to_str(ctx, ex);
	hh_buf b = {0};
	hh_buf_puts(&b, "script");
	if (JS_IsObject(ex)) {
		JSValue stack = JS_GetPropertyStr(ctx, ex, "stack");
		if (JS_IsString(stack)) {
			hh_str st = to_str(ctx, stack); /* "    at handler (script:3:9)\n..." */
			for (const char *p = st.ptr; (p = strstr(p, "script:")) != NULL; p++) {
				unsigned line, col;
				if (sscanf(p, "script:%u:%u", &line, &col) == 2) {
					char pos[32];
					snprintf(pos, sizeof pos, ":%u:%u", line, col);
					hh_buf_puts(&b, pos);
					break;
				}
			}
		}
		JS_FreeValue(ctx, stack);
	}
	JS_FreeValue(ctx, ex);
	hh_buf_puts(&b, ": ");
	hh_buf_put_str(&b, msg);
	hh_buf_putc(&b, 0);
	return hh_fail(b.ptr);
}

static void start(void) {
	out_of_memory = 0;
	if (!reserve) reserve = malloc(RESERVE);
	if (rt) return;
	rt = JS_NewRuntime2(&mem, NULL);
	if (!rt) __builtin_trap();
	/* Below the 1 MiB stack the build links in: a script recursing too
	 * deep gets a RangeError, not a trap. */
	JS_SetMaxStackSize(rt, 768 << 10);
	check_ctx = JS_NewContext(rt);
	if (!check_ctx) __builtin_trap();
}

/* drop_last frees the context used longest ago (entries are kept with the
 * last used first). */
static void drop_last(void) {
	entry *e = &entries[--n_entries];
	JS_FreeValue(e->ctx, e->handler);
	JS_FreeContext(e->ctx);
	free(e->webhook);
	free(e->config);
	JS_RunGC(rt);
}

/* to_front moves entries[i] first, the others down one. */
static entry *to_front(int i) {
	entry e = entries[i];
	memmove(&entries[1], &entries[0], (size_t)i * sizeof(entry));
	entries[0] = e;
	return &entries[0];
}

/* script_of reads the config's script, NUL-terminated, into the arena. */
static int script_of(hh_str config, hh_str *script) {
	if (config.len == 0) return hh_fail("config: script is required"), 0;
	uint32_t i = 0;
	while (i < config.len && (config.ptr[i] == ' ' || config.ptr[i] == '\t' || config.ptr[i] == '\n' || config.ptr[i] == '\r')) i++;
	if (!hh_json_valid(config) || i == config.len || config.ptr[i] != '{') return hh_fail("config: not a JSON object"), 0;
	hh_str raw = {0};
	if (!hh_get(config, "script", &raw) || raw.ptr[0] != '"') return hh_fail("config: script is required"), 0;
	hh_str s = hh_unescape(raw);
	int blank = 1;
	for (uint32_t k = 0; k < s.len && blank; k++) blank = s.ptr[k] == ' ' || s.ptr[k] == '\t' || s.ptr[k] == '\n' || s.ptr[k] == '\r';
	if (blank) return hh_fail("config: script is required"), 0;
	*script = arena_str(s.ptr, s.len);
	return 1;
}

/* context returns the webhook's entry for its config, making it (and
 * running the script) on first use; NULL after failing the call. */
static entry *context(const hh_input *in, hh_status *st) {
	for (int i = 0; i < n_entries; i++) {
		entry *e = &entries[i];
		if (e->webhook_len == in->webhook.len && e->config_len == in->config.len &&
		    memcmp(e->webhook, in->webhook.ptr, in->webhook.len) == 0 &&
		    memcmp(e->config, in->config.ptr, in->config.len) == 0) {
			return i == 0 ? e : to_front(i);
		}
	}
	hh_str script;
	if (!script_of(in->config, &script)) {
		*st = HH_ERROR;
		return NULL;
	}
	if (n_entries == MAX_CONTEXTS) drop_last();
	JSContext *ctx = JS_NewContext(rt);
	if (!ctx) {
		*st = hh_fail("out of memory making the script's context");
		return NULL;
	}
	JSValue r = JS_Eval(ctx, script.ptr, script.len, "script", JS_EVAL_TYPE_GLOBAL);
	if (JS_IsException(r)) {
		*st = script_error(ctx);
		JS_FreeContext(ctx);
		return NULL;
	}
	JS_FreeValue(ctx, r);
	JSValue global = JS_GetGlobalObject(ctx);
	JSValue h = JS_GetPropertyStr(ctx, global, "handler");
	JS_FreeValue(ctx, global);
	if (!JS_IsFunction(ctx, h)) {
		JS_FreeValue(ctx, h);
		JS_FreeContext(ctx);
		*st = hh_fail("script: defines no function handler(webhook)");
		return NULL;
	}
	entry *e = &entries[n_entries];
	e->webhook = dup_n(in->webhook.ptr, in->webhook.len);
	e->webhook_len = in->webhook.len;
	e->config = dup_n(in->config.ptr, in->config.len);
	e->config_len = in->config.len;
	e->ctx = ctx;
	e->handler = h;
	return to_front(n_entries++);
}

/* check compiles the config's script: how the hub checks a config (a call
 * with no events). */
static hh_status check(const hh_input *in) {
	hh_str script;
	if (!script_of(in->config, &script)) return HH_ERROR;
	JSValue r = JS_Eval(check_ctx, script.ptr, script.len, "script", JS_EVAL_TYPE_GLOBAL | JS_EVAL_FLAG_COMPILE_ONLY);
	if (JS_IsException(r)) return script_error(check_ctx);
	JS_FreeValue(check_ctx, r);
	return HH_SKIP;
}

static JSValue webhook_arg(JSContext *ctx, const hh_input *in) {
	JSValue o = JS_NewObject(ctx);
	hh_str raw = {0}, type = {0};
	if (hh_get(in->events[0], "type", &raw) && raw.ptr[0] == '"') type = hh_unescape(raw);
	JS_SetPropertyStr(ctx, o, "eventType", JS_NewStringLen(ctx, type.ptr ? type.ptr : "", type.len));

	hh_str body = in->request.body;
	JSValue payload = JS_UNDEFINED;
	if (body.len > 0 && hh_json_valid(body)) {
		hh_str nul = arena_str(body.ptr, body.len); /* JS_ParseJSON wants a NUL */
		payload = JS_ParseJSON(ctx, nul.ptr, nul.len, "payload");
		if (JS_IsException(payload)) { /* too deep for the parser's stack */
			JS_FreeValue(ctx, o);
			return payload;
		}
	} else {
		payload = JS_NewStringLen(ctx, body.ptr ? body.ptr : "", body.len);
	}
	JS_SetPropertyStr(ctx, o, "payload", payload);
	JS_SetPropertyStr(ctx, o, "url", JS_NewStringLen(ctx, in->url.ptr ? in->url.ptr : "", in->url.len));

	JSValue headers = JS_NewObject(ctx);
	for (uint32_t i = 0; i < in->request.headers.n; i++) {
		hh_pair p = in->request.headers.items[i];
		JSAtom k = JS_NewAtomLen(ctx, p.key.ptr, p.key.len);
		JS_SetProperty(ctx, headers, k, JS_NewStringLen(ctx, p.value.ptr, p.value.len));
		JS_FreeAtom(ctx, k);
	}
	JS_SetPropertyStr(ctx, o, "headers", headers);
	return o;
}

static int absent(JSValueConst v) { return JS_IsUndefined(v) || JS_IsNull(v); }

/* read_headers replaces req's headers with the object's own enumerable
 * properties, leaving out null and undefined values. */
static hh_status read_headers(JSContext *ctx, JSValueConst h, hh_request *req) {
	req->headers.n = 0;
	if (!JS_IsObject(h)) return HH_SEND;
	JSPropertyEnum *tab;
	uint32_t n;
	if (JS_GetOwnPropertyNames(ctx, &tab, &n, h, JS_GPN_STRING_MASK | JS_GPN_ENUM_ONLY) < 0) return script_error(ctx);
	hh_pair *items = (hh_pair *)hh_alloc((n ? n : 1) * sizeof(hh_pair));
	uint32_t k = 0;
	hh_status st = HH_SEND;
	for (uint32_t i = 0; i < n; i++) {
		JSValue v = JS_GetProperty(ctx, h, tab[i].atom);
		if (JS_IsException(v)) {
			st = script_error(ctx);
			break;
		}
		if (!absent(v)) {
			const char *name = JS_AtomToCString(ctx, tab[i].atom);
			if (name) {
				items[k].key = arena_str(name, strlen(name));
				JS_FreeCString(ctx, name);
				items[k].value = to_str(ctx, v);
				k++;
			}
		}
		JS_FreeValue(ctx, v);
	}
	JS_FreePropertyEnum(ctx, tab, n);
	req->headers.items = items;
	req->headers.n = req->headers.cap = k;
	return st;
}

static hh_status read_answer(JSContext *ctx, const hh_input *in, JSValueConst res, hh_request *req) {
	if (absent(res)) return HH_SKIP;
	if (!JS_IsObject(res) || JS_GetClassID(res) != 1 /* JS_CLASS_OBJECT: a plain object */) {
		return fail_fmt("script: handler returned ", to_str(ctx, res), ", want the webhook object or null");
	}
	hh_status st = HH_SEND;
	JSValue payload = JS_GetPropertyStr(ctx, res, "payload");
	if (JS_IsException(payload)) return script_error(ctx);
	if (JS_IsObject(payload)) {
		JSValue json = JS_JSONStringify(ctx, payload, JS_UNDEFINED, JS_UNDEFINED);
		if (JS_IsException(json)) {
			JSValue ex = JS_GetException(ctx);
			st = fail_fmt("script: payload cannot be turned into JSON: ", to_str(ctx, ex), "");
			JS_FreeValue(ctx, ex);
		} else if (!JS_IsString(json)) {
			st = hh_fail("script: payload cannot be turned into JSON");
		} else {
			req->body = to_str(ctx, json);
		}
		JS_FreeValue(ctx, json);
	} else if (!JS_IsUndefined(payload)) {
		req->body = to_str(ctx, payload); /* a string (or number) as is */
	}
	JS_FreeValue(ctx, payload);
	if (st != HH_SEND) return st;

	JSValue h = JS_GetPropertyStr(ctx, res, "headers");
	if (JS_IsException(h)) return script_error(ctx);
	if (!absent(h)) st = read_headers(ctx, h, req);
	JS_FreeValue(ctx, h);
	if (st != HH_SEND) return st;

	JSValue u = JS_GetPropertyStr(ctx, res, "url");
	if (JS_IsException(u)) return script_error(ctx);
	if (!absent(u)) {
		hh_str s = to_str(ctx, u);
		if (!JS_IsString(u)) {
			st = fail_fmt("script: handler returned url ", s, ", want a string");
		} else if (s.len != in->url.len || memcmp(s.ptr, in->url.ptr, s.len) != 0) {
			req->url = s;
		}
	}
	JS_FreeValue(ctx, u);
	return st;
}

hh_status hh_transform(const hh_input *in, hh_request *req) {
	start();
	JS_UpdateStackTop(rt); /* the stack limit counts from this call's depth */
	if (in->n_events == 0) return check(in);
	hh_status st = HH_ERROR;
	entry *e = context(in, &st);
	if (!e) return st;
	JSContext *ctx = e->ctx;
	JSValue arg = webhook_arg(ctx, in);
	if (JS_IsException(arg)) return script_error(ctx);
	JSValue res = JS_Call(ctx, e->handler, JS_UNDEFINED, 1, &arg);
	JS_FreeValue(ctx, arg);
	if (JS_IsException(res)) return script_error(ctx);
	st = read_answer(ctx, in, res, req);
	JS_FreeValue(ctx, res);
	return st;
}
