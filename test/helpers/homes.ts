import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Fresh PRIVLINK_HOME directories for one test file, all removed together at its end. */
export function tempHomes(prefix: string): { make(): string; removeAll(): void } {
  const homes: string[] = [];
  return {
    make() {
      const h = mkdtempSync(join(tmpdir(), prefix));
      homes.push(h);
      return h;
    },
    removeAll() {
      for (const h of homes.splice(0)) rmSync(h, { recursive: true, force: true });
    },
  };
}
