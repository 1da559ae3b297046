/**
 * Where S3 object bytes live. One interface, two homes: {@link FileBlobs} (files under
 * `PRIVLINK_HOME/s3/`, a single node's store) and PgBlobs (src/services/s3/pg-blobs.ts, chunks
 * in the shared PostgreSQL store, so every node reads what any node wrote).
 *
 * The contract both keep: a body is written through a {@link BlobWriter}, and only
 * `commit()` gives it a name; callers commit the metadata naming it after that, and remove a
 * replaced or deleted body only after the metadata that dropped it committed. A crash at any
 * point therefore leaves the old object or none, never a torn one; bodies nobody names are
 * swept.
 */
import { randomUUID } from "node:crypto";
import { createReadStream, createWriteStream, mkdirSync, readdirSync, rmSync } from "node:fs";
import { open, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import type { Readable, Writable } from "node:stream";

/** A body being written: end `stream`, then `commit()` names it; `discard()` drops it. */
export interface BlobWriter {
  readonly stream: Writable;
  /** Makes the finished body durable and gives it its blob name. */
  commit(): Promise<string>;
  /** Drops an unfinished or uncommitted body (the stream is destroyed first by the caller). */
  discard(): Promise<void>;
}

export interface Blobs {
  create(): BlobWriter;
  /** The body's bytes, `start`..`end` inclusive when a range is given. */
  read(name: string, range?: { start: number; end: number }): Readable;
  /** Removes bodies once nothing names them; a missing one is not an error. */
  remove(names: Iterable<string>): Promise<void>;
  /** Removes leftovers: uncommitted bodies and committed ones `referenced()` does not name. */
  sweep(referenced: () => ReadonlySet<string>): Promise<void>;
  close(): Promise<void>;
}

/** Every body the state names: objects' and uploaded parts'. */
export function referencedBlobs(state: {
  all(kind: "s3Object"): Iterable<{ blob: string }>;
  all(kind: "s3Upload"): Iterable<{ parts: Record<string, { blob: string }> }>;
}): Set<string> {
  const referenced = new Set<string>();
  for (const obj of state.all("s3Object")) referenced.add(obj.blob);
  for (const u of state.all("s3Upload")) for (const p of Object.values(u.parts)) referenced.add(p.blob);
  return referenced;
}

/**
 * One file per body under `root`: written to `tmp/`, fsynced, then renamed to a fresh name in
 * `blobs/`. Only this node uses the directory, so every temp file at start is a leftover.
 */
export class FileBlobs implements Blobs {
  private readonly tmp: string;
  private readonly blobs: string;

  constructor(root: string) {
    this.tmp = join(root, "tmp");
    this.blobs = join(root, "blobs");
    mkdirSync(this.tmp, { recursive: true });
    mkdirSync(this.blobs, { recursive: true });
  }

  create(): BlobWriter {
    const path = join(this.tmp, randomUUID());
    const stream = createWriteStream(path, { highWaterMark: 1 << 20 });
    return {
      stream,
      commit: async () => {
        const handle = await open(path, "r+");
        try {
          await handle.sync();
        } finally {
          await handle.close();
        }
        const name = randomUUID();
        await rename(path, join(this.blobs, name));
        return name;
      },
      discard: () => rm(path, { force: true }),
    };
  }

  read(name: string, range?: { start: number; end: number }): Readable {
    return createReadStream(join(this.blobs, name), { ...range, highWaterMark: 1 << 20 });
  }

  async remove(names: Iterable<string>): Promise<void> {
    for (const name of names) await rm(join(this.blobs, name), { force: true });
  }

  /** At start: temp files are leftovers of interrupted uploads; unnamed blobs of interrupted commits. */
  async sweep(referenced: () => ReadonlySet<string>): Promise<void> {
    const named = referenced();
    for (const f of readdirSync(this.tmp)) rmSync(join(this.tmp, f), { force: true });
    for (const f of readdirSync(this.blobs)) if (!named.has(f)) rmSync(join(this.blobs, f), { force: true });
  }

  async close(): Promise<void> {}
}
