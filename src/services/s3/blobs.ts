/**
 * Where S3 object bytes live: one file per object (and per uploaded part) under
 * `PRIVLINK_HOME/s3/`. A body is written to `tmp/`, fsynced, then renamed to a fresh name in
 * `blobs/`; only then does the metadata that names it commit. A crash at any point leaves the
 * old object (its file is removed only after the new metadata committed) or none, never a torn
 * one; files nobody names are swept at start.
 */
import { randomUUID } from "node:crypto";
import {
  createReadStream,
  createWriteStream,
  mkdirSync,
  readdirSync,
  rmSync,
  type WriteStream,
} from "node:fs";
import { open, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import type { Readable } from "node:stream";

export class BlobStore {
  private readonly tmp: string;
  private readonly blobs: string;

  constructor(root: string) {
    this.tmp = join(root, "tmp");
    this.blobs = join(root, "blobs");
    mkdirSync(this.tmp, { recursive: true });
    mkdirSync(this.blobs, { recursive: true });
  }

  /** A new temporary file and a stream writing it. */
  createTemp(): { path: string; stream: WriteStream } {
    const path = join(this.tmp, randomUUID());
    return { path, stream: createWriteStream(path, { highWaterMark: 1 << 20 }) };
  }

  /** Makes a finished temp file durable and gives it its blob name. */
  async commit(tempPath: string): Promise<string> {
    const handle = await open(tempPath, "r+");
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    const name = randomUUID();
    await rename(tempPath, join(this.blobs, name));
    return name;
  }

  async discard(tempPath: string): Promise<void> {
    await rm(tempPath, { force: true });
  }

  read(name: string, range?: { start: number; end: number }): Readable {
    return createReadStream(join(this.blobs, name), { ...range, highWaterMark: 1 << 20 });
  }

  path(name: string): string {
    return join(this.blobs, name);
  }

  /** Removes blobs once nothing names them; a missing file is not an error. */
  async remove(names: Iterable<string>): Promise<void> {
    for (const name of names) await rm(join(this.blobs, name), { force: true });
  }

  /** At start: temp files are leftovers of interrupted uploads; unnamed blobs of interrupted commits. */
  sweep(referenced: ReadonlySet<string>): void {
    for (const f of readdirSync(this.tmp)) rmSync(join(this.tmp, f), { force: true });
    for (const f of readdirSync(this.blobs))
      if (!referenced.has(f)) rmSync(join(this.blobs, f), { force: true });
  }

  /** Temp files present now (for tests of aborted uploads). */
  tempCount(): number {
    return readdirSync(this.tmp).length;
  }
}
