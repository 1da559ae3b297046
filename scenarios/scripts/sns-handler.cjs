// The vendor's HTTP handler for its SNS topic, written as one is for AWS: it checks each
// message's signature against the certificate at SigningCertURL (SignatureVersion 2:
// SHA256withRSA over AWS's string to sign), confirms the subscription by GETting SubscribeURL,
// and prints every endpoint connection event with the sequence so far ("events: Connect Accept").
const { verify } = require("node:crypto");
const http = require("node:http");

const SIGNED = {
  Notification: ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"],
  SubscriptionConfirmation: ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"],
};
const certs = new Map();

async function signatureOk(m) {
  const fields = SIGNED[m.Type];
  if (!fields || m.SignatureVersion !== "2") return false;
  const text = fields
    .filter((f) => m[f] !== undefined)
    .map((f) => `${f}\n${m[f]}\n`)
    .join("");
  if (!certs.has(m.SigningCertURL)) certs.set(m.SigningCertURL, await (await fetch(m.SigningCertURL)).text());
  return verify("sha256", Buffer.from(text), certs.get(m.SigningCertURL), Buffer.from(m.Signature, "base64"));
}

const events = [];

async function handle(m) {
  if (!(await signatureOk(m))) {
    console.log(`${m.Type}: bad signature, ignored`);
    return;
  }
  if (m.Type === "SubscriptionConfirmation") {
    const r = await fetch(m.SubscribeURL);
    console.log(`subscription to ${m.TopicArn} confirmed (${r.status})`);
    return;
  }
  const n = JSON.parse(m.Message);
  events.push(n.ConnectionEvent);
  console.log(`${n.ConnectionEvent} ${n.VpcEndpointId} ${n.VpcEndpointState} owner=${n.VpcEndpointOwner}`);
  console.log(`events: ${events.join(" ")}`);
}

const server = http.createServer((req, res) => {
  let body = "";
  req.setEncoding("utf8");
  req.on("data", (c) => (body += c));
  req.on("end", () => {
    let m;
    try {
      m = JSON.parse(body);
    } catch {
      res.statusCode = 400;
      res.end();
      return;
    }
    handle(m).then(
      () => res.end("ok"),
      (err) => {
        console.log(`${m.Type}: ${err.message}`);
        res.statusCode = 500;
        res.end();
      },
    );
  });
});
server.listen(0, "127.0.0.1", () => console.log(`listening on ${server.address().port}`));
process.on("SIGTERM", () => process.exit(0));
