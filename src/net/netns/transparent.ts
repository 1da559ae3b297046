import type { Server, Socket } from "node:net";
import { HelperChannel } from "./sockets.js";

/**
 * The helper that makes transparent sockets (IP_TRANSPARENT) inside one VPC's namespace: the
 * listener nftables `tproxy` hands every instance-to-instance connection to (its accepted sockets
 * carry the destination the client dialled as their local address), and the connections privlink
 * dials to an instance on behalf of another, from that other's private IP (a source address the
 * namespace does not hold: only a transparent socket may send from it).
 *
 * Node cannot set IP_TRANSPARENT, so this helper is Python (in every Debian/Ubuntu base image).
 * It speaks Node's IPC protocol on the channel Node opened for it (NODE_CHANNEL_FD): JSON lines,
 * and a handle as a `NODE_HANDLE` line with the descriptor attached (SCM_RIGHTS), which Node turns
 * into a net.Server or net.Socket in privlink's process. The helper keeps nothing it sends.
 * Each dial runs in a thread of its own, so a slow destination delays no other connection.
 */
const HELPER = `
import errno, json, os, socket, sys, threading
ch = socket.socket(fileno=int(os.environ["NODE_CHANNEL_FD"]))
lock = threading.Lock()
def send(msg, sock=None, kind=None):
    if sock is None:
        data = json.dumps(msg).encode() + b"\\n"
        with lock:
            ch.sendall(data)
        return
    data = json.dumps({"cmd": "NODE_HANDLE", "type": kind, "msg": msg}).encode() + b"\\n"
    with lock:
        socket.send_fds(ch, [data], [sock.fileno()])
def transparent():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_IP, 19, 1)  # IP_TRANSPARENT
    return s
def serve(m):
    s = None
    try:
        s = transparent()
        if m["op"] == "listen":
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((m["host"], m["port"]))
            s.listen(511)
            kind = "net.Server"
        else:
            if m.get("from"):
                s.bind((m["from"], 0))
            s.settimeout(m["timeoutMs"] / 1000)
            s.connect((m["host"], m["port"]))
            kind = "net.Socket"
        send({"id": m["id"]}, s, kind)
    except OSError as e:
        code = errno.errorcode.get(e.errno or 0, "ETIMEDOUT" if isinstance(e, TimeoutError) else "EIO")
        send({"id": m["id"], "error": e.strerror or str(e), "code": code})
    finally:
        if s is not None:
            s.close()
buf = b""
while True:
    data = ch.recv(65536)
    if not data:
        break
    buf += data
    while b"\\n" in buf:
        line, buf = buf.split(b"\\n", 1)
        m = json.loads(line)
        if "cmd" in m:
            continue  # NODE_HANDLE_ACK and the like: Node's own bookkeeping
        threading.Thread(target=serve, args=(m,), daemon=True).start()
os._exit(0)
`;

export const DIAL_TIMEOUT_MS = 10_000;

export class TransparentSockets {
  private readonly channel: HelperChannel;

  constructor(
    readonly namespace: string,
    python = "python3",
  ) {
    this.channel = new HelperChannel(namespace, "transparent-socket helper", [python, "-c", HELPER]);
  }

  /** A transparent TCP listener at host:port inside the namespace (what `tproxy` points at). */
  listen(host: string, port: number): Promise<Server> {
    return this.channel.ask({ op: "listen", host, port }) as Promise<Server>;
  }

  /**
   * A TCP connection to host:port made inside the namespace from `from` (any address when
   * empty: the kernel picks one the namespace holds), once established;
   * rejects with a HelperError naming the errno (ECONNREFUSED, ETIMEDOUT…).
   */
  dial(host: string, port: number, from: string, timeoutMs = DIAL_TIMEOUT_MS): Promise<Socket> {
    return this.channel.ask({ op: "dial", host, port, from, timeoutMs }) as Promise<Socket>;
  }

  close(): void {
    this.channel.close();
  }
}
