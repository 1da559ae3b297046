import { isAbsolute } from "node:path";
import { ensureDefaultAccount } from "../cloud/account.js";
import { AwsError } from "../cloud/errors.js";
import type { Runtime } from "../cloud/runtime.js";
import type { State } from "../cloud/state.js";
import { SqliteStore } from "../store/sqlite.js";
import { parseJson } from "./admin.js";
import type { AdminRoute } from "./server.js";

/**
 * State snapshots of a running server: `POST /_privlink/state/save {"file"}` writes a consistent
 * copy (SQLite online backup) while requests go on; `POST /_privlink/state/load {"file"}`
 * replaces the whole state with a file's, migrated to this schema, in one commit — the data
 * plane and DNS converge to it as they do to any change. Paths are the server's own files.
 */
export function stateAdminRoutes(
  state: State,
  store: { saveTo(file: string): Promise<void>; readonly schemaVersion: number },
  rt: Runtime,
): Record<string, AdminRoute> {
  const fileOf = (body: Buffer): string => {
    const file = parseJson(body).file;
    if (typeof file !== "string" || !isAbsolute(file))
      throw new AwsError("InvalidRequest", "file must be an absolute path");
    return file;
  };
  return {
    "POST /_privlink/state/save": async ({ body }) => {
      const file = fileOf(body);
      await store.saveTo(file);
      return { status: 200, body: { saved: file, stateVersion: state.version, schema: store.schemaVersion } };
    },
    "POST /_privlink/state/load": async ({ body }) => {
      const file = fileOf(body);
      const snap = await SqliteStore.readFile(file).catch((err: Error) => {
        throw new AwsError("InvalidRequest", err.message);
      });
      loadSnapshot(state, snap.objects, rt);
      return {
        status: 200,
        body: {
          loaded: file,
          objects: snap.objects.length,
          fromSchema: snap.schema,
          stateVersion: state.version,
        },
      };
    },
  };
}

/** Replaces the state with a snapshot's objects; the default account is always there after. */
export function loadSnapshot(
  state: State,
  objects: readonly { kind: string; id: string; value: unknown }[],
  rt: Runtime,
): void {
  state.replaceAll(objects);
  state.transact((tx) => ensureDefaultAccount(tx, rt));
}
