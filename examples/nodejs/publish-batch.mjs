// Publishes a batch of CloudEvents to hookhub with nats.js, in one NATS
// message, using only what the README says: the CloudEvents batched JSON
// format (a JSON array of events, Content-Type application/cloudevents-batch+json)
// on the account's batch subject <prefix>.events.<account>.$batch, at most
// 1000 events and 1 MiB. The hub checks each event on its own: a bad one is
// rejected alone, with its index, and the others are delivered.
//   npm install nats && node publish-batch.mjs nats://127.0.0.1:4222 evt_jsb_ 100
import { connect, headers } from "nats";

const [server = "nats://127.0.0.1:4222", prefix = "evt_jsb_" + Date.now() + "_", count = "10"] = process.argv.slice(2);
const events = [];
for (let i = 0; i < Number(count); i++) {
  events.push({
    specversion: "1.0", id: prefix + i, source: "crm/contacts", type: "contact.updated",
    time: new Date().toISOString(), datacontenttype: "application/json",
    account: "acme", initiator: "api",
    data: { email: `user${i}@example.com` },
  });
}
const nc = await connect({ servers: server });
const js = nc.jetstream();
const h = headers();
h.set("Content-Type", "application/cloudevents-batch+json");
const ack = await js.publish("hookhub.events.acme.$batch", JSON.stringify(events), { headers: h });
console.log(`published a batch of ${events.length} events seq ${ack.seq}`);
await nc.close();
