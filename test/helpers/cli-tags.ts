import { runAws, runCli } from "./spawn.js";

export type Run = { code: number | null; stdout: string; stderr: string };

/** A command line as a template: the literal text splits on spaces, each ${value} stays one argument (an array, several). */
export function cliWords(text: TemplateStringsArray, values: unknown[]): string[] {
  const args: string[] = [];
  text.forEach((part, i) => {
    args.push(...part.split(/\s+/).filter(Boolean));
    if (i < values.length) args.push(...[values[i]].flat().map(String));
  });
  return args;
}

/** An administrator's `aws … --endpoint-url <edge>`, JSON out; fails on error. */
export function edgeAws(url: () => string, env: () => NodeJS.ProcessEnv) {
  return async (text: TemplateStringsArray, ...values: unknown[]): Promise<Record<string, any>> => {
    const args = cliWords(text, values);
    const r = await runAws([...args, "--endpoint-url", url(), "--output", "json"], env());
    if (r.code !== 0) throw new Error(`aws ${args.join(" ")}: ${r.stderr}`);
    return r.stdout.trim() ? JSON.parse(r.stdout) : {};
  };
}

/** The AWS CLI as a workload (`privlink exec --from <from>`): private DNS decides where it goes. */
export function workloadAws(from: string, env: () => NodeJS.ProcessEnv) {
  return (text: TemplateStringsArray, ...values: unknown[]): Promise<Run> =>
    runCli(["exec", "--from", from, "--", "aws", ...cliWords(text, values), "--output", "json"], env());
}

/** The JSON a workload call printed; throws with its stderr when it failed. */
export function jsonOf(r: Run): Record<string, any> {
  if (r.code !== 0) throw new Error(`workload call failed (${r.code}): ${r.stderr}`);
  return JSON.parse(r.stdout);
}
