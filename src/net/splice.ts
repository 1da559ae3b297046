import { loadAddon } from "../package.js";

/**
 * The splice(2) addon (native/splice.c, built by `npm ci` through binding.gyp): moves both
 * directions of a bulk flow socket → pipe → socket on a thread of its own, without the two
 * user-space copies of the JavaScript relay. See relay.ts for when a flow is handed over.
 */
export interface Splicer {
  /**
   * Starts moving bytes between two connected TCP sockets' descriptors (dup()ed, never closed
   * by the addon). `counts` receives the bytes read from the client and from the upstream;
   * `done` is called once: 0 at the first EOF (every byte read delivered), -1 when stopped as
   * asked (likewise), -2 when aborted, else the errno of the splice that failed.
   */
  start(
    clientFd: number,
    upstreamFd: number,
    counts: Float64Array,
    done: (code: number) => void,
    /** Directions that carry bytes: 1 client to upstream, 2 upstream to client, 3 both. */
    live: number,
  ): object;
  /** `abort`: drop what the pipes hold and return once the thread is gone; else drain, then `done`. */
  stop(flow: object, abort: boolean): void;
}

let loaded: Splicer | null | undefined;
let enabled = process.env.PRIVLINK_SPLICE !== "0";

/** The addon, or undefined when it is disabled, not built, or fails to load (said once). */
export function splicer(): Splicer | undefined {
  if (!enabled) return undefined;
  if (loaded === undefined) loaded = load();
  return loaded ?? undefined;
}

/** Turns the splice path on or off for relays that go bulk from now on (tests, benchmarks). */
export function useSplice(on: boolean): void {
  enabled = on;
}

function load(): Splicer | null {
  if (process.platform !== "linux") return null;
  const addon = loadAddon<Splicer>("privlink_splice");
  if (!(addon instanceof Error)) return addon;
  process.emitWarning(`privlink: the relay copies bulk bytes in JavaScript (${addon.message})`);
  return null;
}
