import { startTestServer, type TestServer } from "../helpers/server.js";
import { runCli } from "../helpers/spawn.js";

/** `privlink scenario run NAME --json` against a test server: the exit code and the report. */
export async function runScenario(
  srv: TestServer,
  what: string,
  extra: string[] = [],
): Promise<{ code: number | null; report: any; stdout: string; stderr: string }> {
  const r = await runCli(["scenario", "run", what, "--json", ...extra], srv.cliEnv());
  let report: any;
  try {
    report = JSON.parse(r.stdout);
  } catch {}
  return { ...r, report };
}

/** What a report says failed, for assertion messages. */
export function why(r: { report: any; stderr: string; stdout: string }): string {
  return r.report?.failed ? `${r.report.failed.title}: ${r.report.failed.reason}` : `${r.stdout}${r.stderr}`;
}

export { startTestServer, type TestServer };
