import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Command } from "commander";
import { defaultHome, serverFilePath } from "../home.js";
import { admin } from "./client.js";

/**
 * `privlink state save|load FILE`: through the running server when there is one (a consistent
 * copy while it serves; a load it converges to), else straight on PRIVLINK_HOME's database.
 */
export function registerStateCommands(program: Command): void {
  program
    .command("reset")
    .description(
      "wipe all state of the running server (POST /_privlink/reset); the default account comes back",
    )
    .action(async () => {
      const r = await admin<{ stateVersion: number }>("POST", "/_privlink/reset");
      process.stdout.write(`reset (state version ${r.stateVersion})\n`);
    });
  const state = program.command("state").description("save or load the whole state as one file");
  state
    .command("save <file>")
    .description("write a consistent copy of the whole state to FILE (mode 0600)")
    .action(async (file: string) => {
      const abs = resolve(file);
      if (existsSync(serverFilePath(defaultHome()))) {
        const r = await admin<{ stateVersion: number }>("POST", "/_privlink/state/save", { file: abs });
        process.stdout.write(`saved state version ${r.stateVersion} to ${abs}\n`);
        return;
      }
      const { SqliteStore } = await import("../store/sqlite.js");
      const store = new SqliteStore(join(defaultHome(), "state.db"));
      try {
        await store.saveTo(abs);
      } finally {
        store.close();
      }
      process.stdout.write(`saved ${defaultHome()} to ${abs} (no server running)\n`);
    });
  state
    .command("load <file>")
    .description("replace the whole state with FILE's (listeners and DNS follow)")
    .action(async (file: string) => {
      const abs = resolve(file);
      if (existsSync(serverFilePath(defaultHome()))) {
        const r = await admin<{ objects: number; fromSchema: number }>("POST", "/_privlink/state/load", {
          file: abs,
        });
        process.stdout.write(`loaded ${r.objects} objects from ${abs} (schema ${r.fromSchema})\n`);
        return;
      }
      // No server: the store and the state rules load here, not for every privlink command.
      const [{ SqliteStore }, { loadSnapshot }, { systemRuntime }, { State }] = await Promise.all([
        import("../store/sqlite.js"),
        import("../api/admin-state.js"),
        import("../cloud/runtime.js"),
        import("../cloud/state.js"),
      ]);
      const snap = await SqliteStore.readFile(abs);
      const store = new SqliteStore(join(defaultHome(), "state.db"));
      try {
        const st = new State(store);
        store.loadInto(st);
        loadSnapshot(st, snap.objects, systemRuntime);
      } finally {
        store.close();
      }
      process.stdout.write(
        `loaded ${snap.objects.length} objects from ${abs} into ${defaultHome()} (schema ${snap.schema}; start with privlink up)\n`,
      );
    });
}
