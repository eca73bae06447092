/**
 * Connections to PostgreSQL: structured parameters (never a URL built from strings), TLS as
 * libpq's sslmode means it, timeouts on every step, and driver errors turned into this
 * package's error classes with every secret removed.
 */
import type { EventEmitter } from "node:events";
import * as tls from "node:tls";
import { Client, type ClientConfig } from "pg";
import {
  AuthenticationError,
  ConcurrentRotationError,
  ConnectionError,
  PermissionDeniedError,
  RotationError,
  StatementTimeoutError,
  redact,
  sanitizeCause,
} from "../errors";
import type { ConnectionTarget, Credential, SslConfig, Timeouts } from "../core/types";
import { MAX_SCRAM_ITERATIONS } from "../core/scram";

/** `seconds` as whole milliseconds, never 0 (which PostgreSQL and pg read as "no limit"). */
export function millis(seconds: number): number {
  return Math.max(1, Math.ceil(seconds * 1000));
}

export const APPLICATION_NAME = "pulumi-postgres-rotator";

/** What the user calls the TLS settings, for the hints in TLS errors. */
export interface TlsSettingNames {
  readonly ca: string;
  readonly mode: string;
}

/** The TLS inputs of a direct connection. */
export const DIRECT_TLS_SETTINGS: TlsSettingNames = {
  ca: "database.ssl.ca",
  mode: "database.ssl.mode",
};

/** What `tls.connect` gets for each sslmode; `false` means a plain connection. */
export function tlsOptions(host: string, ssl: SslConfig): false | tls.ConnectionOptions {
  const ca = ssl.ca ? { ca: ssl.ca } : {};
  switch (ssl.mode) {
    case "disable":
      return false;
    case "require":
      // As libpq: with a CA given, "require" verifies the chain (like verify-ca).
      return ssl.ca
        ? { ...ca, rejectUnauthorized: true, checkServerIdentity: () => undefined }
        : { rejectUnauthorized: false };
    case "verify-ca":
      return { ...ca, rejectUnauthorized: true, checkServerIdentity: () => undefined };
    case "verify-full":
      return {
        ...ca,
        rejectUnauthorized: true,
        // Checked against the host we were given, IP address or name, whatever the driver does.
        checkServerIdentity: (_servername, cert) => tls.checkServerIdentity(host, cert),
      };
  }
}

/** The `pg` client configuration for logging in as `login`. */
export function clientConfig(
  database: ConnectionTarget,
  login: Credential,
  timeouts: Required<Timeouts>,
): ClientConfig {
  return {
    host: database.host,
    port: database.port,
    database: database.database,
    user: login.username,
    password: login.password,
    ssl: tlsOptions(database.host, database.ssl),
    application_name: APPLICATION_NAME,
    // Never 0, which pg and PostgreSQL read as "no limit": a tiny timeout stays a timeout.
    connectionTimeoutMillis: millis(timeouts.connectSeconds),
    statement_timeout: millis(timeouts.statementSeconds),
    lock_timeout: millis(timeouts.lockSeconds),
    // A client-side bound too, in case the server never answers; it covers the lock wait, whose
    // statement may run for lockSeconds plus statementSeconds.
    query_timeout: millis(timeouts.statementSeconds * 2 + timeouts.lockSeconds + 5),
    // No scramMaxIterations: pg's default (MAX_SCRAM_ITERATIONS, 100,000) is what apps on pg
    // have, so a login test fails on a verifier those apps could not use either.
  } as ClientConfig;
}

/** What a failed step was doing, for messages: who, where, and the secrets to keep out. */
export interface ErrorContext {
  readonly action: string;
  readonly username: string;
  /** Who `username` is, e.g. "the managing user"; part of every message. */
  readonly role?: string;
  readonly database: ConnectionTarget;
  readonly secrets: readonly (string | undefined)[];
  /** What the user calls the TLS settings. @default DIRECT_TLS_SETTINGS */
  readonly tlsSettings?: TlsSettingNames;
}

const TLS_VERIFY_CODES: readonly string[] = [
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "UNABLE_TO_GET_ISSUER_CERT",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "ERR_TLS_CERT_ALTNAME_INVALID",
  "CERT_SIGNATURE_FAILURE",
];

function where(database: ConnectionTarget): string {
  return `${database.host}:${database.port}/${database.database}`;
}

/** What pg says when a connection it had is gone. */
const LOST_CONNECTION =
  /Connection terminated|server closed the connection|not queryable|ECONNRESET|EPIPE/i;

/**
 * True when `error` (the driver's, or one of ours with the driver's as `cause`) says the
 * session is over: its connection was lost, or the server ended it (a restart, a failover,
 * `pg_terminate_backend`). Such a session can have committed nothing after its last answer.
 */
export function sessionLost(error: unknown): boolean {
  const driver = error instanceof RotationError ? error.cause : error;
  const code = (driver as { code?: unknown })?.code;
  if (typeof code === "string" && /^(08|57P0[123]$|ECONNRESET$|EPIPE$)/.test(code)) return true;
  return LOST_CONNECTION.test(driver instanceof Error ? driver.message : String(driver));
}

/** The driver's error as one of ours, secrets removed, the original kept as sanitized cause. */
export function translateError(error: unknown, context: ErrorContext): RotationError {
  const { action, username, role, database, secrets } = context;
  const tlsSettings = context.tlsSettings ?? DIRECT_TLS_SETTINGS;
  const code = (error as { code?: unknown })?.code;
  const raw = error instanceof Error ? error.message : String(error);
  const detail = redact(raw, secrets);
  const cause = sanitizeCause(error, secrets);
  // Redacted too: a secret pasted into a name (the database, say) must not come back from here.
  const prefix = redact(
    `${action} as ${role ? `${role} ` : ""}"${username}" on ${where(database)}`,
    secrets,
  );
  if (code === "28P01" || code === "28000") {
    return new AuthenticationError(username, `${prefix} failed: ${detail}`, { cause });
  }
  const iterations = /iteration count (\d+) exceeds scramMaxIterations/.exec(raw);
  if (iterations) {
    return new AuthenticationError(
      username,
      `${prefix} failed: the server's verifier for this role has ${iterations[1]} PBKDF2 ` +
        `iterations, more than node-postgres accepts with its default scramMaxIterations ` +
        `(${MAX_SCRAM_ITERATIONS}), so apps on it cannot log in with this password either. It ` +
        `was set with more iterations (an earlier version of this package allowed up to ` +
        `1,000,000): set scramIterations to ${MAX_SCRAM_ITERATIONS} or less and rotate; each ` +
        `rotation gives the user it changes a new verifier, so two renew both users`,
      { cause },
    );
  }
  if (code === "42501") {
    return new PermissionDeniedError(`${prefix} failed: ${detail}`, { cause });
  }
  if (code === "55P03") {
    return new ConcurrentRotationError(
      `${prefix} failed: another rotation of this role held the lock for longer than ` +
        `timeouts.lockSeconds; nothing was changed, try again`,
      { cause },
    );
  }
  if (code === "57014" || /query read timeout/i.test(raw)) {
    return new StatementTimeoutError(
      `${prefix} failed: the statement ran longer than timeouts.statementSeconds (${detail})`,
      { cause },
    );
  }
  if (typeof code === "string" && TLS_VERIFY_CODES.includes(code)) {
    return new ConnectionError(
      `${prefix} failed: the server's TLS certificate could not be verified (${code}: ${detail}); ` +
        `give the CA that signed it in ${tlsSettings.ca}, or choose another ${tlsSettings.mode}`,
      { cause },
    );
  }
  if (/does not support SSL/i.test(raw)) {
    return new ConnectionError(
      `${prefix} failed: the server does not accept TLS connections; enable TLS on the server, ` +
        `or set ${tlsSettings.mode} to "disable" if a plaintext connection is acceptable`,
      { cause },
    );
  }
  if (/timeout|timed out/i.test(raw) && typeof code !== "string") {
    return new ConnectionError(
      `${prefix} failed: no answer within timeouts.connectSeconds (${detail})`,
      { cause },
    );
  }
  if (typeof code === "string" && /^(E[A-Z]+|ERR_)/.test(code)) {
    return new ConnectionError(`${prefix} failed: ${detail}`, { cause });
  }
  if (typeof code === "string" && /^(08|3D|53|57P)/.test(code)) {
    return new ConnectionError(`${prefix} failed: ${detail}`, { cause });
  }
  // The server went away mid-statement (a restart, a failover): the socket closed, no SQLSTATE;
  // or before it ("not queryable": pg saw the connection fail while the session sat idle).
  if (LOST_CONNECTION.test(raw)) {
    return new ConnectionError(
      `${prefix} failed: the connection was lost (${detail}); the server restarted or failed ` +
        `over. Nothing this step did was committed; run again`,
      { cause },
    );
  }
  return new RotationError(`${prefix} failed: ${detail}`, { cause });
}

/** The session user each server reported at login (its `session_authorization` parameter). */
const sessionUsers = new WeakMap<Client, string>();

/**
 * Who the server says `client`'s session is, as it reported at login without being asked
 * (PostgreSQL reports `session_authorization` to every client); undefined when it did not (a
 * proxy in between may drop the report): ask with a query then.
 */
export function reportedSessionUser(client: Client): string | undefined {
  return sessionUsers.get(client);
}

/** A connected client logged in as `login`; errors are translated. */
export async function connect(
  database: ConnectionTarget,
  login: Credential,
  timeouts: Required<Timeouts>,
  context: Omit<ErrorContext, "username" | "database" | "action"> & { action?: string },
): Promise<Client> {
  const client = new Client(clientConfig(database, login, timeouts));
  // A connection that fails after the login still emits 'error'; never let it crash the host.
  client.on("error", () => undefined);
  (client as unknown as { connection?: EventEmitter }).connection?.on(
    "parameterStatus",
    (message: { parameterName?: string; parameterValue?: string }) => {
      if (message.parameterName === "session_authorization" && message.parameterValue) {
        sessionUsers.set(client, message.parameterValue);
      }
    },
  );
  try {
    await client.connect();
    return client;
  } catch (error) {
    await client.end().catch(() => undefined);
    throw translateError(error, {
      action: context.action ?? "logging in",
      username: login.username,
      ...(context.role ? { role: context.role } : {}),
      ...(context.tlsSettings ? { tlsSettings: context.tlsSettings } : {}),
      database,
      secrets: [...context.secrets, login.password],
    });
  }
}
