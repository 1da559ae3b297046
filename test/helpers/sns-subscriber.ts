import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createTlsServer } from "node:https";
import type { AddressInfo } from "node:net";

/** A subscriber's HTTP handler: records every POST; confirms subscriptions by GETting SubscribeURL. */
export interface Subscriber {
  url: string;
  received: { headers: Record<string, string | string[] | undefined>; body: Record<string, string> }[];
  waitFor(pred: (m: Record<string, string>) => boolean): Promise<Record<string, string>>;
  close(): Promise<void>;
}

/** `tls`: an HTTPS subscriber with this certificate (the endpoint URL is then https://). */
export async function startSubscriber(opts: {
  confirm: boolean;
  tls?: { cert: string; key: string };
}): Promise<Subscriber> {
  const received: Subscriber["received"] = [];
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    let text = "";
    req.setEncoding("utf8");
    req.on("data", (c: string) => (text += c));
    req.on("end", async () => {
      const body = JSON.parse(text) as Record<string, string>;
      // Recorded once handled: a confirmation is seen only after the subscription is confirmed.
      if (opts.confirm && body.Type === "SubscriptionConfirmation") await fetch(body.SubscribeURL!);
      received.push({ headers: req.headers, body });
      res.end("ok");
    });
  };
  const server: Server = opts.tls ? createTlsServer(opts.tls, handle) : createServer(handle);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const scheme = opts.tls ? "https" : "http";
  const url = `${scheme}://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return {
    url,
    received,
    async waitFor(pred) {
      for (let i = 0; i < 200; i++) {
        const hit = received.find((m) => pred(m.body));
        if (hit) return hit.body;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`no matching message; got ${JSON.stringify(received.map((m) => m.body.Type))}`);
    },
    close: () => new Promise((r) => server.close(() => r())),
  };
}
