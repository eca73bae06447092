/**
 * The connections of one process to each server, shared by every rotation it runs (one
 * `pulumi up` runs all of a stack's rotations in one provider host):
 *
 * - at most `maxConnections()` open at once to a server, the managing user's sessions and the
 *   login tests together; the others wait their turn;
 * - a managing user's session that ended its work cleanly is kept for a moment and reused by the
 *   next rotation with the same server and credentials, instead of logging in again.
 *
 * A place is given back when the session's connection has closed, not when it is asked to go, so
 * the server never sees more than the bound. Nothing here outlives the process, and an idle
 * session is closed after `IDLE_MS`, or dropped at once when its connection errors or ends while
 * it waits (a restart, a failover, an idle cut), as pg-pool's idle listener does.
 */
import { createHash } from "node:crypto";
import type { Client } from "pg";

/** How long an idle managing-user session is kept for the next rotation. */
export const IDLE_MS = 2000;
export const DEFAULT_MAX_CONNECTIONS = 8;
/** How long a closing session may keep its place when the server does not answer its goodbye. */
export const GOODBYE_MS = 2000;
/** The environment variable that sets the bound. */
export const MAX_CONNECTIONS_VARIABLE = "PULUMI_POSTGRES_ROTATOR_MAX_CONNECTIONS";

/** At most this many connections to one server at once, from this process. */
export function maxConnections(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[MAX_CONNECTIONS_VARIABLE];
  if (raw === undefined || raw === "") return DEFAULT_MAX_CONNECTIONS;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 2 || value > 1000) {
    throw new RangeError(`${MAX_CONNECTIONS_VARIABLE} must be a whole number from 2 to 1000`);
  }
  return value;
}

interface IdleSession {
  readonly client: Client;
  readonly key: string;
  readonly timer: NodeJS.Timeout;
  /** Drops the session when its connection errors or ends while it waits (pg-pool's). */
  readonly idleListener: () => void;
}

/** One server's connections: how many are open, who waits, which sessions are idle. */
class ServerSlots {
  open = 0;
  /** Who waits for room, in order; `key`: a managing session with that key would do too. */
  readonly waiting: { readonly key?: string; readonly wake: (handed?: Client) => void }[] = [];
  readonly idle: IdleSession[] = [];

  constructor(readonly max: number) {}

  /**
   * Waits until one more connection may be opened, or (with `key`) until an idle session with
   * that key can be reused, which it returns. While the server is full it closes at most one
   * idle session per wait: the place comes back once that session has gone.
   */
  async reserve(key?: string): Promise<Client | undefined> {
    for (;;) {
      const reusable = key === undefined ? undefined : this.take(key);
      if (reusable) return reusable;
      if (this.open < this.max) {
        this.open += 1;
        return undefined;
      }
      const victim = this.idle[0];
      if (victim) this.remove(victim);
      const handed = await new Promise<Client | undefined>((wake) =>
        this.waiting.push({ key, wake }),
      );
      if (handed) return handed;
    }
  }

  /** A connection was closed (or never opened): let the next waiter in. */
  free(): void {
    this.open -= 1;
    this.waiting.shift()?.wake();
  }

  take(key: string): Client | undefined {
    const session = this.idle.find((idle) => idle.key === key);
    if (!session) return undefined;
    this.unpark(session);
    return session.client;
  }

  /**
   * Keeps a managing session that ended its work cleanly: handed straight to the first waiter
   * that can reuse it, else kept idle (and the first waiter woken, to close it if it needs room).
   * An idle session whose connection errors or ends (a restart, a failover, an idle cut by the
   * server or a proxy) is dropped at once, never handed out.
   */
  park(key: string, client: Client): void {
    const at = this.waiting.findIndex((waiter) => waiter.key === key);
    if (at >= 0) {
      this.waiting.splice(at, 1)[0].wake(client);
      return;
    }
    const session: IdleSession = {
      client,
      key,
      timer: setTimeout(() => this.remove(session), IDLE_MS).unref(),
      idleListener: () => this.remove(session),
    };
    client.once("error", session.idleListener);
    client.once("end", session.idleListener);
    this.idle.push(session);
    this.waiting.shift()?.wake();
  }

  /** Takes `session` off the idle list, its timer and listener stopped; false if it was not on it. */
  private unpark(session: IdleSession): boolean {
    const at = this.idle.indexOf(session);
    if (at < 0) return false;
    this.idle.splice(at, 1);
    clearTimeout(session.timer);
    session.client.removeListener("error", session.idleListener);
    session.client.removeListener("end", session.idleListener);
    return true;
  }

  /** An idle session leaves the pool; its place comes back once its connection has closed. */
  private remove(session: IdleSession): void {
    if (this.unpark(session)) this.close(session.client);
  }

  /** Ends `client`'s session; its place comes back once the connection has closed. */
  close(client: Client): void {
    void goodbye(client).then(() => this.free());
  }
}

const servers = new Map<string, ServerSlots>();

function slotsFor(server: string): ServerSlots {
  let slots = servers.get(server);
  if (!slots) {
    slots = new ServerSlots(maxConnections());
    servers.set(server, slots);
  }
  return slots;
}

/** A connection taken from the pool; give it back exactly once. */
export interface Lease {
  readonly client: Client;
  /** The session was kept from an earlier rotation, not opened for this lease. */
  readonly reused: boolean;
  /** `reusable`: the session ended its work cleanly (no open transaction, no error). */
  release(reusable: boolean): void;
}

/**
 * A managing-user session to `server`: an idle one with the same `identity` (the server,
 * database, credentials and settings it was opened with), else a new one from `open` once the
 * server has room. `fresh`: always a new one (to replace a kept session found dead).
 */
export async function leaseSession(
  server: string,
  identity: readonly unknown[],
  open: () => Promise<Client>,
  { fresh = false }: { readonly fresh?: boolean } = {},
): Promise<Lease> {
  const slots = slotsFor(server);
  const key = createHash("sha256").update(JSON.stringify(identity)).digest("hex");
  let client = await slots.reserve(fresh ? undefined : key);
  const reused = client !== undefined;
  if (!client) {
    try {
      client = await open();
    } catch (error) {
      slots.free();
      throw error;
    }
  }
  let broken = false;
  const onEnd = () => (broken = true);
  client.once("end", onEnd);
  client.once("error", onEnd);
  let released = false;
  const leased = client;
  return {
    client: leased,
    reused,
    release(reusable) {
      if (released) return;
      released = true;
      leased.removeListener("end", onEnd);
      leased.removeListener("error", onEnd);
      if (reusable && !broken) {
        slots.park(key, leased);
      } else {
        slots.close(leased);
      }
    },
  };
}

/**
 * Runs `work`, which opens a connection of its own to `server` (a login test) and hands it to
 * `own`, once the server has room. When `work` settles the connection is ended, and its place
 * is given back once the connection has closed; the caller does not wait for that.
 */
export async function withSlot<T>(
  server: string,
  work: (own: (client: Client) => void) => Promise<T>,
): Promise<T> {
  const slots = slotsFor(server);
  await slots.reserve();
  const owned: Client[] = [];
  try {
    return await work((client) => owned.push(client));
  } finally {
    void Promise.all(owned.map(goodbye)).then(() => slots.free());
  }
}

/**
 * Ends `client`'s session and resolves once its connection has closed, so that a place in the
 * bound is given back only when the server has let the session go (at the latest after
 * `GOODBYE_MS`, should the server never answer).
 */
function goodbye(client: Client): Promise<void> {
  // Whatever a closing session still reports (its connection lost, say) is nobody's concern.
  client.on("error", () => undefined);
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, GOODBYE_MS);
    timer.unref();
    void client
      .end()
      .catch(() => undefined)
      .then(() => {
        clearTimeout(timer);
        resolve();
      });
  });
}
