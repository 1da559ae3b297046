/**
 * The message loop of the bench's child processes (sdk-load.mjs, raw-replay.mjs): `{id, spec}`
 * is answered `{id, result}` or `{id, error}`; `{type: "close"}` runs `onClose` and lets the
 * process exit.
 */
export function serveRuns(run, onClose = () => {}) {
  process.on("message", async (msg) => {
    if (msg?.type === "close") {
      onClose();
      process.disconnect();
      return;
    }
    try {
      process.send({ id: msg.id, result: await run(msg.spec) });
    } catch (err) {
      process.send({ id: msg.id, error: String(err?.stack ?? err) });
    }
  });
}
