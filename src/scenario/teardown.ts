import { setTimeout as sleep } from "node:timers/promises";
import { admin } from "../cli/client.js";
import { AwsCaller, CallError, type Creds } from "./services.js";
import { isGone, type UndoCall } from "./undo.js";

/**
 * Undoes what a run made, newest first. A removal that a dependency still blocks (a subnet
 * whose endpoint is still deleting) is tried again in the next pass; what is already gone
 * counts as removed.
 */

/** What `--keep` leaves behind, saved for `privlink scenario down`. */
export interface Kept {
  readonly scenario: string;
  readonly region: string;
  readonly accounts: Record<string, { id: string } & Creds>;
  readonly undo: UndoCall[];
  readonly pids: number[];
}

export interface TeardownResult {
  readonly removed: number;
  readonly left: { what: string; error: string }[];
}

const PASSES = 6;

async function undoOne(u: UndoCall, creds: Creds, aws: AwsCaller): Promise<void> {
  if (u.service === "privlink") {
    await admin("POST", "/_privlink/sites/delete", u.input);
    return;
  }
  if (u.service === "s3" && u.action === "DeleteBucket") await emptyBucket(u, creds, aws);
  await aws.call(u.service, u.action, u.input, creds);
}

/** S3 refuses to delete a bucket with objects: delete them first, a page at a time. */
async function emptyBucket(u: UndoCall, creds: Creds, aws: AwsCaller): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const page = await aws.call("s3", "ListObjectsV2", { Bucket: u.input.Bucket }, creds);
    const keys = ((page.Contents as { Key: string }[] | undefined) ?? []).map((c) => ({ Key: c.Key }));
    if (!keys.length) return;
    await aws.call("s3", "DeleteObjects", { Bucket: u.input.Bucket, Delete: { Objects: keys } }, creds);
  }
}

export async function teardown(
  undo: readonly UndoCall[],
  credsOf: (account: string) => Creds,
  aws: AwsCaller,
): Promise<TeardownResult> {
  let pending = [...undo].reverse();
  let removed = 0;
  const errors = new Map<UndoCall, string>();
  for (let pass = 0; pass < PASSES && pending.length; pass++) {
    const next: UndoCall[] = [];
    for (const u of pending) {
      try {
        await undoOne(u, credsOf(u.as), aws);
        removed++;
      } catch (err) {
        const code = err instanceof CallError ? err.code : "";
        if (isGone(code)) removed++;
        else {
          errors.set(u, `${code ? `${code}: ` : ""}${(err as Error).message}`);
          next.push(u);
        }
      }
    }
    pending = next;
    if (pending.length) await sleep(150 * (pass + 1));
  }
  return {
    removed,
    left: pending.map((u) => ({ what: `${u.service}:${u.action} ${u.what}`, error: errors.get(u)! })),
  };
}

/** `privlink scenario down`: undo what a --keep run left, and stop its processes. */
export async function tearDownKept(kept: Kept, url: string): Promise<TeardownResult> {
  for (const pid of kept.pids) {
    try {
      process.kill(-pid, "SIGTERM");
    } catch {}
  }
  const aws = new AwsCaller(url, kept.region);
  try {
    return await teardown(kept.undo, (name) => kept.accounts[name]!, aws);
  } finally {
    aws.close();
  }
}
