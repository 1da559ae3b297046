import { signedFetch } from "./sign.js";

/**
 * A minimal SDK look-alike for the JSON services privlink speaks that have no SDK v3 client
 * installed (Route 53 Resolver, Direct Connect): `sdk.XCommand` is a command class for any
 * action, and `client.send` signs and POSTs it with the service's X-Amz-Target prefix and throws
 * what the SDK would (an error whose `name` is AWS's code, with `$metadata.httpStatusCode`).
 */
export function jsonWire(service: string, targetPrefix: string) {
  const commands = new Map<string, unknown>();
  const sdk = new Proxy({} as Record<string, any>, {
    get(_t, key) {
      if (typeof key !== "string" || !key.endsWith("Command")) return undefined;
      const action = key.slice(0, -"Command".length);
      if (!commands.has(action))
        commands.set(
          action,
          class {
            readonly action = action;
            constructor(readonly input: unknown) {}
          },
        );
      return commands.get(action);
    },
  });
  const client = (url: string, creds: { accessKeyId: string; secretAccessKey: string }) => ({
    async send(cmd: { action: string; input: unknown }): Promise<any> {
      const r = await signedFetch(url, {
        service,
        creds,
        body: JSON.stringify(cmd.input ?? {}),
        headers: {
          "content-type": "application/x-amz-json-1.1",
          "x-amz-target": `${targetPrefix}.${cmd.action}`,
        },
      });
      const body = JSON.parse(r.body || "{}");
      if (r.status < 300) return body;
      const code = String(body.__type ?? "UnknownError")
        .split("#")
        .pop()!;
      throw Object.assign(new Error(body.message ?? body.Message ?? ""), {
        name: code,
        $metadata: { httpStatusCode: r.status },
      });
    },
  });
  return { sdk, client };
}
