// One S3 transfer run by bench/s3.ts in a process of its own (the client must not share the
// server's event loop): PUTs or GETs `count` objects of `bytes` bytes with the SDK v3 and prints
// {seconds, bytes, cpuMs} (its own CPU over the transfers: a figure that load on the machine
// skews less than the seconds). Every host name resolves to 127.0.0.1 (the endpoint's listener
// or the edge).
import { Agent as HttpAgent } from "node:http";
import { Agent as HttpsAgent } from "node:https";
import { Readable } from "node:stream";
import { GetObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";

const spec = JSON.parse(process.argv[2]);
const lookup = (_h, o, cb) =>
  o?.all ? cb(null, [{ address: "127.0.0.1", family: 4 }]) : cb(null, "127.0.0.1", 4);
const agentOpts = { keepAlive: true, lookup, ...(spec.ca ? { ca: spec.ca } : {}) };
const s3 = new S3Client({
  endpoint: spec.endpoint,
  region: "us-east-1",
  credentials: { accessKeyId: "test", secretAccessKey: "test" },
  forcePathStyle: spec.pathStyle,
  maxAttempts: 1,
  requestHandler: { httpAgent: new HttpAgent(agentOpts), httpsAgent: new HttpsAgent(agentOpts) },
});

/** `bytes` bytes from one reused 1 MiB buffer: the client never holds the object. */
function stream(bytes) {
  const block = Buffer.alloc(1 << 20, 7);
  let left = bytes;
  return new Readable({
    read() {
      if (left <= 0) return this.push(null);
      const n = Math.min(left, block.length);
      left -= n;
      this.push(n === block.length ? block : block.subarray(0, n));
    },
  });
}

const body = spec.op === "put" ? Buffer.alloc(spec.bytes, 1) : undefined;
const start = performance.now();
const cpu = process.cpuUsage();
let total = 0;
for (let i = 0; i < spec.count; i++) {
  const Key = `${spec.key}-${i % (spec.keys ?? spec.count)}`;
  if (spec.op === "get") {
    const out = await s3.send(new GetObjectCommand({ Bucket: spec.bucket, Key }));
    for await (const chunk of out.Body) total += chunk.length;
  } else {
    const Body = spec.op === "put" ? body : stream(spec.bytes);
    await s3.send(new PutObjectCommand({ Bucket: spec.bucket, Key, Body, ContentLength: spec.bytes }));
    total += spec.bytes;
  }
}
const seconds = (performance.now() - start) / 1000;
const used = process.cpuUsage(cpu);
process.stdout.write(JSON.stringify({ seconds, bytes: total, cpuMs: (used.user + used.system) / 1000 }));
s3.destroy();
