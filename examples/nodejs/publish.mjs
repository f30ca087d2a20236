// Publishes one CloudEvent to hookhub with nats.js, using only what the README
// says: the subject, the envelope and the Nats-Msg-Id header (<account>:<id>).
//   npm install nats && node publish.mjs nats://127.0.0.1:4222 evt_js_1
import { connect, headers } from "nats";

const [server = "nats://127.0.0.1:4222", id = "evt_js_" + Date.now()] = process.argv.slice(2);
const nc = await connect({ servers: server });
const js = nc.jetstream();
const h = headers();
h.set("Nats-Msg-Id", "acme:" + id); // <account>:<event id>: ids are unique within an account
const ack = await js.publish("hookhub.events.acme.contact.updated", JSON.stringify({
  specversion: "1.0", id, source: "crm/contacts", type: "contact.updated",
  time: new Date().toISOString(), datacontenttype: "application/json",
  account: "acme", initiator: "api", lists: "12,15",
  data: { email: "ada@example.com", attributes: { FIRSTNAME: "Ada" } },
}), { headers: h });
console.log(`published ${id} seq ${ack.seq}`);
await nc.close();
