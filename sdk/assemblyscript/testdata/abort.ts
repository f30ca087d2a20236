// A plugin that aborts (an index out of range) on every event: the kit's
// abort shim must turn that into a trap whose reason names the abort, not an
// import of env.abort the host does not offer. It also declares a config
// schema. Built by TestKitAbortShim.
import { Input, Request, Status, configSchema, handle } from "../assembly/index";
export { hookhub_abi_version, hookhub_alloc, hookhub_config_schema, hookhub_transform } from "../assembly/index";

configSchema('{"type":"object","properties":{"level":{"type":"integer"}}}');

const none: i32[] = [];

handle((input: Input, req: Request): Status => {
	return none[input.events.length] == 1 ? Status.Send : Status.Skip;
});
