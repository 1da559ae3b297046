import { createHash, randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PG_CHUNK, PgBlobs } from "../../src/services/s3/pg-blobs.js";
import { postgresMissing, startPostgres, type TestPostgres } from "../helpers/postgres.js";

const missing = postgresMissing();
if (missing) console.log(`skipping the PostgreSQL blob tests: ${missing}`);

let pgs: TestPostgres;
let blobs: PgBlobs;
beforeAll(async () => {
  if (missing) return;
  pgs = await startPostgres();
  // No grace: every sweep may take whatever is uncommitted or unnamed now.
  blobs = await PgBlobs.open(await pgs.createDatabase(), { graceMs: 0 });
}, 60_000);
afterAll(async () => {
  await blobs?.close();
  await pgs?.stop();
});

/** Writes `body` in uneven pieces (as a socket delivers it); the writer, not yet committed. */
async function written(body: Buffer) {
  const w = blobs.create();
  const pieces: Buffer[] = [];
  for (let at = 0; at < body.length; at += 65_537) pieces.push(body.subarray(at, at + 65_537));
  await pipeline(Readable.from(pieces), w.stream);
  return w;
}

/** Length and SHA-256: toEqual on megabytes of Buffer walks them byte by byte, slowly. */
const digest = (b: Buffer) => `${b.length}:${createHash("sha256").update(b).digest("hex")}`;

async function read(name: string, range?: { start: number; end: number }): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of blobs.read(name, range)) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

describe.skipIf(missing)("S3 bodies in PostgreSQL (PgBlobs)", () => {
  it("reads back what was written, whole and by ranges across chunk boundaries", async () => {
    const body = randomBytes(2 * PG_CHUNK + 12_345);
    const name = await (await written(body)).commit();
    expect(digest(await read(name))).toBe(digest(body));
    for (const [start, end] of [
      [0, 0],
      [PG_CHUNK - 1, PG_CHUNK],
      [PG_CHUNK, 2 * PG_CHUNK - 1],
      [10, body.length - 1],
      [body.length - 1, body.length - 1],
    ] as const)
      expect(digest(await read(name, { start, end })), `${start}-${end}`).toBe(
        digest(body.subarray(start, end + 1)),
      );
    // Exactly one chunk: no empty last chunk is written or expected.
    const exact = randomBytes(PG_CHUNK);
    const exactName = await (await written(exact)).commit();
    expect(digest(await read(exactName))).toBe(digest(exact));
    await blobs.remove([name, exactName]);
    await expect(read(name)).rejects.toThrow(/not in the store/);
  });

  it("sweeps bodies never committed and bodies nobody names, and keeps the named ones", async () => {
    const uncommitted = await written(randomBytes(1000));
    const named = await (await written(randomBytes(PG_CHUNK + 1))).commit();
    const orphan = await (await written(randomBytes(10))).commit();
    expect(await blobs.sweepOnce(() => new Set([named]))).toBe(2);
    expect((await read(named)).length).toBe(PG_CHUNK + 1);
    await expect(read(orphan)).rejects.toThrow(/not in the store/);
    // The swept writer's commit names nothing: the row is gone, so nothing can be read under it.
    await expect(read(await uncommitted.commit())).rejects.toThrow(/not in the store/);
    expect(await blobs.sweepOnce(() => new Set())).toBe(1);
  });

  it("discards an interrupted body", async () => {
    const w = blobs.create();
    w.stream.write(randomBytes(PG_CHUNK + 5));
    w.stream.destroy();
    await w.discard();
    expect(await blobs.sweepOnce(() => new Set())).toBe(0);
  });
});
