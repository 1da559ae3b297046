import pg from "pg";

/** The meta-table key of the shared store's CA. */
export const SHARED_CA_KEY = "ca";

export interface CaPem {
  readonly certPem: string;
  readonly keyPem: string;
}

/**
 * The one CA of a shared PostgreSQL store (its certificate and key in the meta table, under
 * {@link SHARED_CA_KEY}), so that every API node and agent signs its fronts' leaves with the same
 * CA and a workload trusting it reaches an AWS-service endpoint on any host.
 *
 * Trust model (docs/agents.md): whoever holds the store's credentials can read the CA's key, as
 * they can already read every secret value and the agents' tunnel keys; the store's credentials
 * are the deployment's root of trust.
 */
export function sharedCa(url: string, propose: () => Promise<CaPem>): Promise<CaPem> {
  return sharedKeyPair(url, SHARED_CA_KEY, propose);
}

/**
 * A certificate and key that every node of a shared store uses alike (the CA; SNS's signing key),
 * kept in the meta table under `key`. The first node to start stores the pair it proposes
 * (`INSERT … ON CONFLICT DO NOTHING`: of two racing nodes one wins and both read the winner's);
 * every later node takes the stored one.
 */
export function sharedKeyPair(url: string, key: string, propose: () => Promise<CaPem>): Promise<CaPem> {
  return withClient(url, async (db) => {
    const read = async (): Promise<CaPem | undefined> => {
      const { rows } = await db.query("SELECT value FROM meta WHERE key = $1", [key]);
      return rows[0] ? parsePair(key, rows[0].value as string) : undefined;
    };
    const stored = await read();
    if (stored) return stored;
    const mine = await propose();
    await db.query("INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING", [
      key,
      JSON.stringify({ certPem: mine.certPem, keyPem: mine.keyPem }),
    ]);
    const won = await read();
    if (!won) throw new Error(`the shared store lost its '${key}' row right after it was written`);
    return won;
  });
}

/** The meta row under `key` of the shared store, if any. */
export async function readMetaRow(url: string, key: string): Promise<string | undefined> {
  return withClient(url, async (db) => {
    const { rows } = await db.query("SELECT value FROM meta WHERE key = $1", [key]);
    return rows[0]?.value as string | undefined;
  });
}

/** Sets the meta row under `key` of the shared store. */
export async function writeMetaRow(url: string, key: string, value: string): Promise<void> {
  await withClient(url, (db) =>
    db.query(
      "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
      [key, value],
    ),
  );
}

async function withClient<T>(url: string, fn: (db: pg.Client) => Promise<T>): Promise<T> {
  const db = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  db.on("error", () => undefined);
  await db.connect();
  try {
    return await fn(db);
  } finally {
    await db.end().catch(() => undefined);
  }
}

function parsePair(key: string, value: string): CaPem {
  const v = JSON.parse(value) as Partial<CaPem>;
  if (typeof v.certPem !== "string" || typeof v.keyPem !== "string")
    throw new Error(`the shared store's '${key}' row is not a certificate and key (certPem, keyPem)`);
  return { certPem: v.certPem, keyPem: v.keyPem };
}
