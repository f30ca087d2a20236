/*
 * A plugin that exercises the rest of hookhub.h, driven by the webhook's
 * plugin config: a config schema, hh_fail, queries, header replacement and
 * removal in any case, array paths, and reading the config itself. Built by
 * TestCKit.
 */
#define HOOKHUB_CONFIG_SCHEMA \
	"{\"type\":\"object\",\"properties\":{\"mode\":{\"enum\":[\"fail\",\"shape\"]}},\"required\":[\"mode\"]}"
#define HOOKHUB_IMPLEMENTATION
#include "hookhub.h"

hh_status hh_transform(const hh_input *in, hh_request *req) {
	hh_str mode = {0}, sku = {0}, tenant = {0};
	hh_get_string(in->config, "mode", &mode);
	if (hh_eq(mode, "fail")) return hh_fail("failing as configured");
	if (!hh_get_string(in->events[0], "data.items.1.sku", &sku)) return HH_SKIP;
	hh_set_query(req, "sku", sku);
	hh_set_query(req, "webhook", in->webhook);
	if (hh_get_header(req, "x-tenant", &tenant)) hh_set_header(req, "X-Was-Tenant", tenant);
	hh_del_header(req, "X-TENANT");
	hh_set_header(req, "x-kind", hh_s("one"));
	hh_set_header(req, "X-Kind", hh_s("two")); /* replaces x-kind: one header */
	hh_str raw;
	if (hh_get(in->events[0], "data.items", &raw)) hh_set_body(req, "application/json", raw);
	return HH_SEND;
}
