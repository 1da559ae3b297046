import { connect, type Socket } from "node:net";
import type { Command } from "commander";
import { workloadProxy } from "./exec.js";

/**
 * Opens a tunnel through the workload's proxy and resolves with the socket once the proxy
 * answered 200; rejects with the proxy's reason (the status line) when it refused.
 */
export function tunnel(proxy: { host: string; port: number }, authority: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: proxy.host, port: proxy.port, allowHalfOpen: true });
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf("\r\n\r\n");
      if (end < 0) {
        if (head.length > 16384) reject(new Error("the proxy sent an oversized header"));
        return;
      }
      socket.off("data", onData);
      const status = /^HTTP\/1\.[01] (\d{3}) ?(.*)$/.exec(
        head.subarray(0, head.indexOf("\r\n")).toString("latin1"),
      );
      if (status?.[1] !== "200") {
        socket.destroy();
        return reject(new Error(status?.[2] || `the proxy answered ${status?.[1] ?? "garbage"}`));
      }
      const rest = head.subarray(end + 4);
      if (rest.length) socket.unshift(rest);
      resolve(socket);
    };
    socket.on("data", onData);
    socket.once("error", reject);
    socket.once("connect", () => socket.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n\r\n`));
  });
}

export function registerConnectCommand(program: Command): void {
  program
    .command("connect")
    .description(
      "netcat as a workload: stdin to HOST:PORT (EOF half-closes), the connection to stdout; exit 0 when the peer closes, 1 with the reason when refused",
    )
    .requiredOption(
      "--from <workload>",
      "the instance (i-…), network interface (eni-…) or site (site:NAME) to act as",
    )
    .argument("<host:port>", "where to connect (a name resolved in the workload's VPC, or an address)")
    .action(async (authority: string, o: { from: string }) => {
      if (!/^.+:\d{1,5}$/.test(authority)) throw new Error(`expected HOST:PORT, not '${authority}'`);
      const reply = await workloadProxy(o.from);
      let socket: Socket;
      try {
        socket = await tunnel(reply, authority);
      } catch (err) {
        process.stderr.write(`privlink: refused: ${(err as Error).message}\n`);
        process.exitCode = 1;
        return;
      }
      await pump(socket);
    });
}

/** stdin → socket (EOF becomes FIN), socket → stdout; resolves when the peer closes. */
function pump(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    process.stdin.pipe(socket);
    socket.pipe(process.stdout, { end: false });
    socket.on("error", (err) => {
      process.stderr.write(
        `privlink: connection ${(err as NodeJS.ErrnoException).code === "ECONNRESET" ? "reset" : "failed"}: ${err.message}\n`,
      );
      process.exitCode = 1;
    });
    socket.once("close", () => {
      process.stdin.unpipe(socket);
      process.stdin.destroy();
      resolve();
    });
  });
}
