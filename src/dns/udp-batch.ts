/**
 * A UDP socket served in batches by the dns_udp addon (native/dns_udp.c): up to `slots`
 * datagrams read with one recvmmsg into an area shared with JS, one call into JS per batch, the
 * answers written into the same area and sent with one sendmmsg. No Buffer, rinfo or send request
 * per datagram. The addon is optional: without it (not built, failed to load, or
 * PRIVLINK_DNS_BATCH=0) `batchAddon()` is undefined and the DNS server answers through dgram.
 */
import type dgram from "node:dgram";
import { loadAddon } from "../package.js";

type Layout = { slots: number; slot: number; inAt: number; outAt: number; outSize: number; size: number };
type Handle = object;

export type BatchAddon = {
  layout: Layout;
  serve(fd: number, area: ArrayBuffer, onBatch: (n: number) => void): Handle;
  close(h: Handle): void;
  address(h: Handle, slot: number): string;
  sendTo(h: Handle, bytes: Uint8Array, address: string, port: number): boolean;
  /** [batches, received, sent, sendDropped, sendErrors] */
  stats(h: Handle): number[];
};

/** An answer in bytes, none (undefined), or one that comes later. */
export type Answerer = (msg: Buffer, len: number) => Buffer | undefined | Promise<Buffer | undefined>;

let loaded: BatchAddon | null | undefined;

/** The addon, loaded once; undefined (with one warning saying why) when it cannot be used. */
export function batchAddon(): BatchAddon | undefined {
  if (loaded === undefined) loaded = process.env.PRIVLINK_DNS_BATCH === "0" ? null : load();
  return loaded ?? undefined;
}

function load(): BatchAddon | null {
  const addon = loadAddon<BatchAddon>("dns_udp");
  if (!(addon instanceof Error)) return addon;
  warnOnce(`cannot load the dns_udp addon: ${addon.message}`);
  return null;
}

let warned = false;

export function warnOnce(why: string): void {
  if (warned) return;
  warned = true;
  process.emitWarning(`privlink DNS: UDP answered through dgram, one datagram at a time: ${why}`);
}

/**
 * The descriptor of a bound dgram socket. Node keeps the handle under a symbol (its public
 * `_handle` getter is deprecated and warns); undefined when this Node hides it differently.
 */
export function socketFd(sock: dgram.Socket): number | undefined {
  const state = Object.getOwnPropertySymbols(sock).find((s) => s.description === "state symbol");
  const handle = state && (sock as unknown as Record<symbol, { handle?: { fd?: unknown } }>)[state]?.handle;
  const fd = handle?.fd;
  return typeof fd === "number" && fd >= 0 ? fd : undefined;
}

/** The area a batch is read into, answered in and sent from, with its views. */
interface Area {
  buffer: ArrayBuffer;
  meta: Int32Array;
  area: Uint8Array;
  queries: Buffer[];
}

let sharedArea: Area | undefined;

/**
 * One area for every server on this thread: a batch is read, answered and sent within one
 * synchronous call (answers that come later are copied out and sent on their own), so no two
 * batches ever use it at once. One area each (~390 KiB, zeroed) cost a start with 200 VPCs'
 * resolvers ~75 MB and ~0.4 s of CPU (docs/performance.md).
 */
function areaFor(addon: BatchAddon): Area {
  if (sharedArea) return sharedArea;
  const { layout } = addon;
  const buffer = new ArrayBuffer(layout.size);
  const queries: Buffer[] = [];
  for (let i = 0; i < layout.slots; i++)
    queries.push(Buffer.from(buffer, layout.inAt + i * layout.slot, layout.slot));
  sharedArea = {
    buffer,
    meta: new Int32Array(buffer, 0, layout.slots * 4),
    area: new Uint8Array(buffer),
    queries,
  };
  return sharedArea;
}

export type BatchStats = { udpBatches: number; udpBatched: number; udpSendDropped: number };

/**
 * Serves a duplicate of `fd`: the caller closes its own socket afterwards. Queries larger than a
 * slot (4 KiB, far above any real DNS query) are dropped; a refused client gets nothing.
 */
export class UdpBatch {
  private readonly meta: Int32Array;
  private readonly area: Uint8Array;
  private readonly queries: Buffer[];
  private readonly outAt: number;
  private readonly outSize: number;
  private handle?: Handle;
  private counters = { batches: 0, batched: 0 };

  constructor(
    private readonly addon: BatchAddon,
    fd: number,
    private readonly answer: Answerer,
    private readonly admit?: (address: string) => boolean,
  ) {
    const { layout } = addon;
    const shared = areaFor(addon);
    this.meta = shared.meta;
    this.area = shared.area;
    this.queries = shared.queries;
    this.outAt = layout.outAt;
    this.outSize = layout.outSize;
    this.handle = addon.serve(fd, shared.buffer, (n) => this.onBatch(n));
  }

  stats(): BatchStats {
    const h = this.handle;
    return {
      udpBatches: this.counters.batches,
      udpBatched: this.counters.batched,
      udpSendDropped: h ? this.addon.stats(h)[3]! : 0,
    };
  }

  close(): void {
    const h = this.handle;
    this.handle = undefined;
    if (h) this.addon.close(h);
  }

  /** Answers slots [0, n): meta[4i] is the query's length, 4i+1/4i+2 the answer's offset and length. */
  private onBatch(n: number): void {
    const h = this.handle;
    if (!h) return;
    this.counters.batches++;
    this.counters.batched += n;
    const meta = this.meta;
    let cursor = 0;
    for (let i = 0; i < n; i++) {
      const len = meta[i * 4]!;
      if (len < 0) continue; // larger than a slot: dropped, as the class says
      try {
        if (this.admit && !this.admit(this.addon.address(h, i))) continue;
        const r = this.answer(this.queries[i]!, len);
        if (r === undefined) continue;
        if (r instanceof Promise) {
          this.later(h, r, i);
          continue;
        }
        if (cursor + r.length > this.outSize) {
          this.addon.sendTo(h, r, this.addon.address(h, i), meta[i * 4 + 3]!);
          continue;
        }
        this.area.set(r, this.outAt + cursor);
        meta[i * 4 + 1] = cursor;
        meta[i * 4 + 2] = r.length;
        cursor += r.length;
      } catch {
        // The responder never throws; a failed send to one client must not cost the batch.
      }
    }
  }

  /** An answer that comes later leaves on its own: the slot and its address belong to the next batch. */
  private later(h: Handle, answer: Promise<Buffer | undefined>, slot: number): void {
    const address = this.addon.address(h, slot);
    const port = this.meta[slot * 4 + 3]!;
    answer.then(
      (buf) => {
        if (buf && this.handle === h) this.addon.sendTo(h, buf, address, port);
      },
      () => {},
    );
  }
}
