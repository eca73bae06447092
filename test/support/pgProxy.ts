/**
 * A TCP proxy in front of a PostgreSQL server that the test controls, to inject faults from
 * outside the product: it reads each new connection's startup message (who logs in, to which
 * database) and either forwards the connection or holds it, byte for byte untouched, until the
 * test releases or drops it. While a login is held, the test knows exactly where the client is
 * (e.g. a rotation that has committed its `ALTER ROLE` and now tries the new password) and can
 * find the process that opened it, to kill it, or crash the server meanwhile.
 *
 * Only plain (non-TLS) connections can be read: an `SSLRequest` is forwarded unread.
 */
import * as fs from "node:fs";
import * as net from "node:net";
import type { AddressInfo } from "node:net";

const PROTOCOL_3 = 196608;

/** A client connection the proxy has seen the startup message of. */
export interface ProxiedLogin {
  /** `user` and `database` of the startup message. */
  readonly user: string;
  readonly database: string;
  /** The client's port on 127.0.0.1. */
  readonly clientPort: number;
  /** The id of the process that holds the client end of this connection, if it still exists. */
  ownerPid(): number | undefined;
  /** Forwards the held connection to the server (the startup message first). */
  release(): void;
  /** Closes the client connection without ever reaching the server. */
  drop(): void;
}

export type LoginFilter = (login: { user: string; database: string }) => boolean;

export interface PgProxy {
  readonly host: string;
  readonly port: number;
  /** Every login seen so far, in order. */
  readonly logins: readonly { user: string; database: string }[];
  /**
   * Holds the next login `filter` accepts (every other is forwarded); resolves once it arrives.
   * One hold at a time.
   */
  holdNext(filter: LoginFilter): Promise<ProxiedLogin>;
  close(): Promise<void>;
}

export interface PgProxyOptions {
  /**
   * Rewrites (returns the new value) or drops (returns null) each `ParameterStatus` the server
   * reports to a plain connection, as a proxy in between might.
   */
  readonly parameterStatus?: (name: string, value: string) => string | null;
  /**
   * Holds a plain connection's goodbye (the `Terminate` message, then the end of the stream)
   * this long before passing it on: the server keeps the session that much longer after the
   * client has asked it to go, as a busy server might.
   */
  readonly holdGoodbyeMs?: number;
}

export async function startPgProxy(
  target: { host: string; port: number },
  options: PgProxyOptions = {},
): Promise<PgProxy> {
  const sockets = new Set<net.Socket>();
  const logins: { user: string; database: string }[] = [];
  let hold: { filter: LoginFilter; resolve: (login: ProxiedLogin) => void } | undefined;

  const forward = (client: net.Socket, first: Buffer, plain = false) => {
    const server = net.connect(target.port, target.host);
    sockets.add(server);
    server.on("close", () => sockets.delete(server));
    server.on("error", () => client.destroy());
    client.on("error", () => server.destroy());
    server.write(first);
    if (plain && options.holdGoodbyeMs !== undefined) {
      holdGoodbye(client, server, options.holdGoodbyeMs);
    } else {
      client.pipe(server);
    }
    if (plain && options.parameterStatus) {
      relayMessages(server, client, options.parameterStatus);
    } else {
      server.pipe(client);
    }
    client.resume();
  };

  // Holding a goodbye needs the client's end not to close the way back at once, as Node does by
  // default: the server closes it, once it has let the session go.
  const proxy = net.createServer(
    { allowHalfOpen: options.holdGoodbyeMs !== undefined },
    (client) => {
      sockets.add(client);
      client.on("close", () => sockets.delete(client));
      client.on("error", () => undefined);
      let buffered = Buffer.alloc(0);
      const onData = (chunk: Buffer) => {
        buffered = Buffer.concat([buffered, chunk]);
        if (buffered.length < 8) return;
        const length = buffered.readInt32BE(0);
        if (buffered.length < length) return;
        client.off("data", onData);
        client.pause();
        const startup = parseStartup(buffered.subarray(0, length));
        if (!startup) return forward(client, buffered);
        logins.push(startup);
        if (!hold?.filter(startup)) return forward(client, buffered, true);
        const { resolve } = hold;
        hold = undefined;
        const first = buffered;
        let settled = false;
        resolve({
          ...startup,
          clientPort: client.remotePort!,
          ownerPid: () => socketOwner(client.remotePort!, address.port),
          release: () => {
            if (settled) return;
            settled = true;
            forward(client, first, true);
          },
          drop: () => {
            settled = true;
            client.destroy();
          },
        });
      };
      client.on("data", onData);
    },
  );
  await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  const address = proxy.address() as AddressInfo;

  return {
    host: "127.0.0.1",
    port: address.port,
    logins,
    holdNext(filter) {
      if (hold) throw new Error("a hold is already waiting");
      return new Promise((resolve) => (hold = { filter, resolve }));
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        proxy.close(() => resolve());
      }),
  };
}

/** Passes the client's data on at once, except its `Terminate` message and end: `ms` later. */
function holdGoodbye(client: net.Socket, server: net.Socket, ms: number): void {
  client.on("data", (chunk: Buffer) => {
    if (chunk[0] === 0x58 && chunk.length === 5) {
      setTimeout(() => server.write(chunk), ms);
    } else {
      server.write(chunk);
    }
  });
  client.on("end", () => setTimeout(() => server.end(), ms));
}

/**
 * Relays the server's messages to the client one whole message at a time (type byte, length),
 * passing each `ParameterStatus` ('S': name NUL value NUL) through `rewrite`.
 */
function relayMessages(
  server: net.Socket,
  client: net.Socket,
  rewrite: (name: string, value: string) => string | null,
): void {
  let pending = Buffer.alloc(0);
  server.on("data", (chunk: Buffer) => {
    pending = Buffer.concat([pending, chunk]);
    const out: Buffer[] = [];
    while (pending.length >= 5 && pending.length >= 1 + pending.readInt32BE(1)) {
      const size = 1 + pending.readInt32BE(1);
      const message = pending.subarray(0, size);
      pending = pending.subarray(size);
      if (message[0] !== 0x53) {
        out.push(message);
        continue;
      }
      const [name, value] = message.subarray(5).toString("utf8").split("\0");
      const replaced = rewrite(name, value);
      if (replaced === null) continue;
      const body = Buffer.from(`${name}\0${replaced}\0`, "utf8");
      const header = Buffer.alloc(5);
      header[0] = 0x53;
      header.writeInt32BE(4 + body.length, 1);
      out.push(header, body);
    }
    if (out.length > 0) client.write(Buffer.concat(out));
  });
  server.on("end", () => client.end());
}

/** `user` and `database` of a protocol 3.0 startup message; undefined for anything else. */
function parseStartup(message: Buffer): { user: string; database: string } | undefined {
  if (message.readInt32BE(4) !== PROTOCOL_3) return undefined;
  const fields = message.subarray(8).toString("utf8").split("\0");
  const params = new Map<string, string>();
  for (let i = 0; i + 1 < fields.length && fields[i] !== ""; i += 2) {
    params.set(fields[i], fields[i + 1]);
  }
  const user = params.get("user") ?? "";
  return { user, database: params.get("database") ?? user };
}

/**
 * The process holding the client end of the loopback connection `clientPort` → `proxyPort`:
 * the socket's inode from /proc/net/tcp, then the process with a descriptor on it (Linux).
 */
export function socketOwner(clientPort: number, proxyPort: number): number | undefined {
  const hex = (port: number) => port.toString(16).toUpperCase().padStart(4, "0");
  const local = `0100007F:${hex(clientPort)}`;
  const remote = `0100007F:${hex(proxyPort)}`;
  const row = fs
    .readFileSync("/proc/net/tcp", "utf8")
    .split("\n")
    .map((line) => line.trim().split(/\s+/))
    .find((cols) => cols[1] === local && cols[2] === remote);
  const inode = row?.[9];
  if (!inode || inode === "0") return undefined;
  const link = `socket:[${inode}]`;
  for (const pid of fs.readdirSync("/proc").filter((name) => /^\d+$/.test(name))) {
    let fds: string[];
    try {
      fds = fs.readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        if (fs.readlinkSync(`/proc/${pid}/fd/${fd}`) === link) return Number(pid);
      } catch {
        // gone meanwhile
      }
    }
  }
  return undefined;
}
