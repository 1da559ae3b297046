import type { Socket } from "node:net";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { BULK_READ_BYTES, UpstreamReader } from "../../src/net/relay.js";

/**
 * A model of what Node does around an onread socket, to check the one property that makes the
 * fast read path safe: no read ever lands in a buffer that a pending write still points into.
 * Real sockets rarely reach the racy states (a flow leaving bulk mode while its client is
 * stalled, another flow taking the buffer); the model reaches them on purpose.
 */
interface Pending {
  chunk: Buffer;
  snapshot: Buffer;
  cb: () => void;
}

class FakeClient {
  full = false;
  pending: Pending[] = [];
  constructor(private readonly completed: (() => void)[]) {}
  get writableLength(): number {
    return this.pending.reduce((n, p) => n + p.chunk.length, 0);
  }
  write(chunk: Buffer, cb?: () => void): boolean {
    const done = cb ?? (() => undefined);
    // As in Node: a write the kernel takes at once completes now, its callback comes later.
    if (this.full || this.pending.length)
      this.pending.push({ chunk, snapshot: Buffer.from(chunk), cb: done });
    else this.completed.push(done);
    return true;
  }
}

interface Flow {
  reader: UpstreamReader;
  client: FakeClient;
  socket: { destroyed: boolean; paused: boolean; resume(): void };
  next: Buffer;
}

const sameMemory = (a: Buffer, b: Buffer) =>
  a.buffer === b.buffer && a.byteOffset < b.byteOffset + b.length && b.byteOffset < a.byteOffset + a.length;

type Op =
  | { op: "read"; flow: number; n: number }
  | { op: "stall" | "drain" | "close"; flow: number }
  | { op: "tick" };

function run(ops: Op[], flows = 3): void {
  const completed: (() => void)[] = [];
  const all: Flow[] = Array.from({ length: flows }, () => {
    const reader = new UpstreamReader();
    const socket = {
      destroyed: false,
      paused: false,
      resume() {
        this.paused = false;
      },
    };
    reader.socket = socket as unknown as Socket;
    const client = new FakeClient(completed);
    reader.attach(client as unknown as Socket);
    return { reader, client, socket, next: reader.nextBuffer() };
  });
  let fill = 0;
  for (const step of ops) {
    if (step.op === "tick") {
      for (const cb of completed.splice(0)) cb();
      continue;
    }
    const f = all[step.flow % flows]!;
    if (step.op === "stall") f.client.full = true;
    if (step.op === "drain") {
      f.client.full = false;
      for (const p of f.client.pending.splice(0)) {
        expect(p.chunk.equals(p.snapshot), "a pending write's bytes were overwritten").toBe(true);
        p.cb();
      }
    }
    if (step.op === "close" && !f.socket.destroyed) {
      f.socket.destroyed = true;
      f.reader.onClose();
    }
    if (step.op === "read" && !f.socket.paused && !f.socket.destroyed) {
      const buf = f.next;
      for (const other of all) {
        for (const p of other.client.pending) {
          expect(sameMemory(p.chunk, buf), "read into a buffer a pending write points into").toBe(false);
        }
      }
      const n = Math.min(step.n, buf.length);
      buf.fill(++fill & 0xff, 0, n);
      if (!f.reader.onRead(n, buf)) f.socket.paused = true;
      f.next = f.reader.nextBuffer();
    }
  }
}

const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      op: fc.constant("read" as const),
      flow: fc.nat(2),
      // Mostly the sizes that switch modes: a full shared buffer, a full bulk one, a small read.
      n: fc.oneof(fc.constantFrom(65_536, BULK_READ_BYTES, 100), fc.integer({ min: 1, max: 70_000 })),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ op: fc.constantFrom("stall" as const, "drain" as const), flow: fc.nat(2) }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("close" as const), flow: fc.nat(2) }) },
  { weight: 2, arbitrary: fc.constant({ op: "tick" as const }) },
);

describe("UpstreamReader buffer lending", () => {
  it("never reads into memory that a pending write still references", () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 60 }), (ops) => run(ops, 2)),
      { numRuns: 2000 },
    );
  });

  it("a flow that leaves bulk mode while stalled keeps its buffer until the write completes", () => {
    // The schedule a premature release would corrupt: flow 0 goes bulk, stalls on a small read, and
    // flow 1 goes bulk before flow 0's write drains.
    run([
      { op: "read", flow: 0, n: 65_536 },
      { op: "tick" },
      { op: "read", flow: 0, n: BULK_READ_BYTES },
      { op: "tick" },
      { op: "stall", flow: 0 },
      { op: "read", flow: 0, n: 100 },
      { op: "read", flow: 1, n: 65_536 },
      { op: "tick" },
      { op: "read", flow: 1, n: BULK_READ_BYTES },
      { op: "drain", flow: 0 },
    ]);
  });

  it("a flow closed while its client is stalled keeps its buffer until the write completes", () => {
    run([
      { op: "read", flow: 0, n: 65_536 },
      { op: "tick" },
      { op: "stall", flow: 0 },
      { op: "read", flow: 0, n: BULK_READ_BYTES },
      { op: "close", flow: 0 },
      { op: "read", flow: 1, n: 65_536 },
      { op: "tick" },
      { op: "read", flow: 1, n: BULK_READ_BYTES },
      { op: "drain", flow: 0 },
    ]);
  });
});
