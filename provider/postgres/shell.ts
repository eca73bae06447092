/**
 * The thin shell around PostgreSQL: log in to prove credentials, and change one role's
 * password safely. The rotation core decides *what* to do; this file only does it.
 */
import { randomUUID } from "node:crypto";
import type { Client, QueryResult, QueryResultRow } from "pg";
import { identifierProblems } from "../core/validate";
import {
  AuthenticationError,
  ConcurrentRotationError,
  ForbiddenRoleError,
  LiveSessionsError,
  OwnedObjectsError,
  PermissionDeniedError,
  RoleNotFoundError,
  RotationError,
  ValidationError,
  VerificationError,
  sanitizeCause,
} from "../errors";
import { controlsEscaped, quotedForLog } from "../logText";
import { judgeMark, markIn, withMark, type RotationMark } from "../core/mark";
import { scramSha256VerifierAsync } from "../core/scram";
import type {
  ConnectionTarget,
  Credential,
  LiveSessionsPolicy,
  OwnershipPolicy,
  ResolvedInputs,
  Timeouts,
} from "../core/types";
import {
  APPLICATION_NAME,
  DIRECT_TLS_SETTINGS,
  connect,
  millis,
  reportedSessionUser,
  sessionLost,
  translateError,
  type ErrorContext,
  type TlsSettingNames,
} from "./connection";
import { leaseSession, withSlot } from "./pool";
import {
  INSPECT_TARGET_SQL,
  WHOAMI_SQL,
  alterPasswordSql,
  commentOnRoleSql,
  lockRoleSql,
  ownedDetailsOf,
  quoteIdentifier,
  roleUnderLockSql,
  withLiterals,
  type TargetInspection,
} from "./sql";

/** What a rotation knows about the role it changes, to prove its state is still the database's. */
export interface RotationGuard {
  /** The id of the rotation that made the state being replaced, as the role's mark should say. */
  readonly expectedId?: string;
  /** The role's password in that state (its `previous` password), when known. */
  readonly knownPassword?: string;
  /** Who rotates (the `PostgresRotation` resource's id): named in the mark it writes. */
  readonly holder?: string;
  /**
   * What to do when `knownPassword` no longer logs in and the mark cannot say the change was
   * this caller's: "refuse" (`ConcurrentRotationError`, nothing changed), or "rotate" anyway
   * with a warning, as Pulumi's official connector does. "rotate" is for callers that carry no
   * rotation identity (the ESC service's own events), to whom a rival rotation and an outside
   * change (an operator's reset) look alike. @default "refuse"
   */
  readonly staleState?: "refuse" | "rotate";
}

/** What a password change reports. */
export interface ChangeResult {
  /** The id this rotation marked the role with; absent through a connector that marks nothing. */
  readonly rotationId?: string;
}

/** Sessions of a role the rotation is about to change, as the guard for live apps saw them. */
export interface LiveSessions {
  /** Sessions in use: active, in a transaction, idle within the window, or hidden. */
  readonly sessions: number;
  readonly addresses: readonly string[];
  /** When the oldest session in use started (ISO 8601), if visible. */
  readonly oldest: string | null;
  /** Sessions idle longer than `liveSessionsIdleSeconds`: a pooler's parked connections. */
  readonly idleSessions: number;
  readonly idleAddresses: readonly string[];
}

/**
 * What the pair's users own themselves, as the ownership guard saw it (see `roleUnderLockSql`):
 * each owner's count in every database, the count in each other database, and a few objects of
 * this one (or shared: databases, tablespaces) as `[type, identity]`.
 */
export interface OwnedObjects {
  readonly byOwner: Readonly<Record<string, number>>;
  readonly elsewhere: Readonly<Record<string, number>>;
  readonly examples: readonly (readonly [type: string, identity: string])[];
}

/** What the rotation engine needs from a database. */
export interface PostgresShell {
  /** Logs in as `credential` and checks who the session is; `AuthenticationError` when refused. */
  checkLogin(credential: Credential): Promise<void>;
  /**
   * Sets `target`'s password to `newPassword` (sent as a SCRAM verifier), then logs in with it.
   * Under the role's cluster-wide lock it first proves, with `guard`, that the role is still as
   * the caller's state says (else `ConcurrentRotationError`, nothing changed) and applies the
   * live-session policy.
   */
  changePassword(target: string, newPassword: string, guard?: RotationGuard): Promise<ChangeResult>;
}

export interface ShellOptions {
  /** What the user calls the TLS settings, for hints (the Lambda reads PGSSLMODE/PGSSLROOTCERT). */
  readonly tlsSettings?: TlsSettingNames;
  /** Where a `liveSessions: "warn"` (or parked sessions) or `ownership: "warn"` warning goes. @default console.warn */
  readonly warn?: (line: string) => void;
}

/**
 * A `PostgresShell` for the database and settings in `inputs`. `otherSecrets`: passwords known
 * besides those in `inputs` (e.g. from the previous outputs), to be kept out of any message.
 */
export function postgresShell(
  inputs: ResolvedInputs,
  otherSecrets: readonly (string | undefined)[] = [],
  options: ShellOptions = {},
): PostgresShell {
  const { database, timeouts } = inputs;
  const tlsSettings = options.tlsSettings ?? DIRECT_TLS_SETTINGS;
  const warn = options.warn ?? ((line: string) => console.warn(line));
  const knownSecrets = [
    database.managingUser.password,
    inputs.state?.current.password,
    inputs.state?.previous?.password,
    ...otherSecrets,
  ];

  const checkLogin = (credential: Credential) =>
    probeLogin(database, timeouts, credential, knownSecrets, tlsSettings);

  async function changePassword(
    target: string,
    newPassword: string,
    guard: RotationGuard = {},
  ): Promise<ChangeResult> {
    assertFullName(target, "the role to rotate");
    const secrets = [...knownSecrets, newPassword, guard.knownPassword];
    // PBKDF2 runs on the thread pool while the server answers the queries below.
    const verifier = scramSha256VerifierAsync(newPassword, { iterations: inputs.scramIterations });
    verifier.catch(() => undefined);
    // A managing-user session of an earlier rotation in this process, or a new one.
    let lease = await leaseManager(secrets);
    let open = false;
    try {
      open = true;
      // A kept session may have died since (a restart, a failover, an idle cut): then it is
      // replaced by a fresh login, once, before anything took effect.
      const { inspection, comment, sessions, owned } = await lockRole(
        lease.client,
        target,
        secrets,
        lease.reused
          ? async () => {
              lease.release(false);
              lease = await leaseManager(secrets, { fresh: true });
              return lease.client;
            }
          : undefined,
      );
      const manager = lease.client;
      const run = (sql: string, action: string, extra: readonly string[] = []) =>
        query(manager, sql, { ...managerContext(action), secrets: [...secrets, ...extra] });
      // Refusals roll the lock's write back with the rest: nothing changes.
      assertRotatable(target, inspection);
      await checkGuard(target, markIn(comment), guard, secrets);
      checkLiveSessions(target, sessions);
      checkOwnership(target, owned);
      const mark = {
        id: randomUUID(),
        at: new Date().toISOString(),
        ...(guard.holder ? { by: guard.holder } : {}),
      };
      const alter = alterPasswordSql(target, await verifier);
      try {
        await run(
          `${alter}; ${commentOnRoleSql(target, withMark(comment, mark))}; COMMIT`,
          `changing the password of "${target}"`,
          [alter],
        );
        open = false;
      } catch (error) {
        throw withPrivilegeHint(error, target, inspection.server_version_num);
      }
      // The session is done: the next rotation may use it while this one tests the login.
      lease.release(true);
      await verifyNewPassword(target, newPassword, secrets);
      return { rotationId: mark.id };
    } finally {
      // A session left inside a transaction is not reused: ending it rolls the work back.
      lease.release(!open);
    }
  }

  /** A managing-user session: one kept from an earlier rotation, else (or `fresh`) a new one. */
  function leaseManager(secrets: readonly (string | undefined)[], options?: { fresh?: boolean }) {
    return leaseSession(
      serverKey(database),
      sessionIdentity(),
      () =>
        connect(database, database.managingUser, timeouts, {
          secrets,
          action: "logging in",
          role: "the managing user",
          tlsSettings,
        }),
      options,
    );
  }

  /** What a reusable managing-user session must share with the rotation that reuses it. */
  function sessionIdentity(): readonly unknown[] {
    const { host, port, database: name, ssl, managingUser } = database;
    return [
      host,
      port,
      name,
      ssl.mode,
      ssl.ca ?? null,
      managingUser.username,
      managingUser.password,
      timeouts,
    ];
  }

  /**
   * In one round trip: starts the transaction, takes the role's cluster-wide lock (waiting at
   * most `lockSeconds`, which the statement timeout must not cut short), and reads, under the
   * lock, the role itself, its committed mark, its sessions and what the pair's users own
   * themselves. When the lock statement is
   * refused (no such role, a superuser, a missing privilege), a second look says which.
   *
   * `replace`: the session was kept from an earlier rotation; should it turn out to be over when
   * this first round trip fails, a new session from `replace` runs it once more. That is safe
   * there only: the round trip opens a transaction it never commits, so a lost session rolled
   * back whatever of it the server ran.
   */
  async function lockRole(
    manager: Client,
    target: string,
    secrets: readonly (string | undefined)[],
    replace?: () => Promise<Client>,
  ): Promise<{
    inspection: TargetInspection | undefined;
    comment: string | null;
    sessions?: LiveSessions;
    owned?: OwnedObjects;
  }> {
    const wait = millis(timeouts.lockSeconds + timeouts.statementSeconds);
    const withSessions = inputs.liveSessions !== "ignore";
    const withOwnership = inputs.ownership !== "ignore";
    const partner = partnerOf(target, inputs.rotateUsers);
    const lock = async (client: Client) =>
      (await query(
        client,
        `BEGIN; SET LOCAL statement_timeout = ${wait}; ${lockRoleSql(target)}; ` +
          `SET LOCAL statement_timeout = ${millis(timeouts.statementSeconds)}; ` +
          withLiterals(roleUnderLockSql(withSessions, withOwnership), [
            target,
            APPLICATION_NAME,
            String(inputs.liveSessionsIdleSeconds),
            partner,
          ]),
        { ...managerContext(`locking "${target}" to rotate it`), secrets, lockStatement: true },
      )) as unknown as QueryResult<QueryResultRow>[];
    let results: QueryResult<QueryResultRow>[];
    try {
      try {
        results = await lock(manager);
      } catch (error) {
        if (!replace || !sessionLost(error)) throw error;
        manager = await replace();
        results = await lock(manager);
      }
    } catch (error) {
      if (!(error instanceof PermissionDeniedError) && !isUndefinedRole(error)) throw error;
      await manager.query("ROLLBACK").catch(() => undefined);
      const { rows } = await query<TargetInspection>(
        manager,
        INSPECT_TARGET_SQL,
        { ...managerContext(`looking up "${target}"`), secrets },
        [target],
      );
      assertRotatable(target, rows[0]);
      throw withPrivilegeHint(error, target, rows[0].server_version_num);
    }
    const row = results[4].rows[0] as (TargetInspection & SessionColumns) | undefined;
    if (!row) return { inspection: undefined, comment: null };
    const {
      comment,
      sessions,
      addresses,
      oldest,
      idle_sessions,
      idle_addresses,
      owned,
      partner_owned,
      owned_details,
      ...inspection
    } = row;
    return {
      inspection,
      comment,
      ...(withSessions
        ? {
            sessions: {
              sessions: sessions!,
              addresses: addresses!,
              oldest: oldest ?? null,
              idleSessions: idle_sessions!,
              idleAddresses: idle_addresses!,
            },
          }
        : {}),
      ...(withOwnership
        ? {
            owned: {
              byOwner: {
                [target]: owned!,
                ...(partner === target ? {} : { [partner]: partner_owned! }),
              },
              ...ownedDetailsOf(owned_details),
            },
          }
        : {}),
    };
  }

  /** Refuses, changing nothing, when the role was rotated since the caller's state was made. */
  async function checkGuard(
    target: string,
    found: RotationMark | undefined,
    guard: RotationGuard,
    secrets: readonly (string | undefined)[],
  ): Promise<void> {
    const verdict = judgeMark(
      guard.expectedId,
      found,
      guard.knownPassword !== undefined,
      guard.holder,
    );
    if (verdict.kind === "proceed") return;
    if (verdict.kind === "probe") {
      try {
        await probeLogin(
          database,
          timeouts,
          { username: target, password: guard.knownPassword! },
          secrets,
          tlsSettings,
        );
        return;
      } catch (error) {
        if (!(error instanceof AuthenticationError)) throw error;
        if (guard.staleState === "rotate") {
          warn(
            `warning: the password the caller's state holds for "${target}" no longer logs in: ` +
              `it was changed outside the caller's rotations (by hand, or by an attempt whose ` +
              `result was not kept). Rotating anyway, as Pulumi's official connector does`,
          );
          return;
        }
      }
    }
    const by = found ? ` (rotation ${found.id} at ${found.at})` : "";
    throw new ConcurrentRotationError(
      `refusing to rotate "${target}": another rotation changed its password${by} since the ` +
        `state being replaced was made, so that state is stale and rotating from it would ` +
        `leave its holder with a dead password. Nothing was changed. Two rotations started ` +
        `from the same state, or another system (another stack, a script, Pulumi ESC) rotates ` +
        `this pair too: only one should. To continue from the database as it is, give working ` +
        `credentials as the state input (or keep the state in ESC with the esc input)`,
    );
  }

  /**
   * The guard for live apps: sessions of the role about to change, per `liveSessions`. Sessions
   * idle past `liveSessionsIdleSeconds` (a pooler's parked connections) only get a warning.
   */
  function checkLiveSessions(target: string, seen: LiveSessions | undefined): void {
    if (inputs.liveSessions === "ignore" || !seen) return;
    if (seen.sessions === 0 && seen.idleSessions === 0) return;
    const window = inputs.liveSessionsIdleSeconds;
    const message = liveSessionsMessage(target, seen, inputs.liveSessions, window);
    if (inputs.liveSessions === "refuse" && seen.sessions > 0) {
      throw new LiveSessionsError(message);
    }
    warn(`warning: ${message}`);
  }

  /**
   * The ownership guard: objects the pair's users own themselves (by owner, with their names
   * and places when there are some, all read in the lock's statement), per `ownership`.
   */
  function checkOwnership(target: string, owned: OwnedObjects | undefined): void {
    // With "ignore" nothing was read.
    if (!owned || ownedCount(owned) === 0) return;
    const message = ownedObjectsMessage(target, owned, inputs.ownership, database.database);
    if (inputs.ownership === "warn") warn(`warning: ${message}`);
    else throw new OwnedObjectsError(message);
  }

  function withPrivilegeHint(error: unknown, target: string, serverVersionNum: number): unknown {
    if (!(error instanceof PermissionDeniedError)) return error;
    const hint = privilegeHint(target, database.managingUser.username, serverVersionNum);
    return new PermissionDeniedError(`${error.message}. ${hint}`, { cause: error.cause });
  }

  function managerContext(action: string) {
    return {
      action,
      role: "the managing user",
      username: database.managingUser.username,
      database,
      tlsSettings,
    };
  }

  async function verifyNewPassword(
    target: string,
    password: string,
    secrets: readonly (string | undefined)[],
  ) {
    try {
      await probeLogin(database, timeouts, { username: target, password }, secrets, tlsSettings);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new VerificationError(
        `the password of "${target}" was changed, but logging in with it failed: ${reason}. ` +
          `The current credentials were not touched and the state was not advanced; ` +
          `fix the cause and run the rotation again`,
        { cause: sanitizeCause(error, secrets) },
      );
    }
  }

  return { checkLogin, changePassword };
}

/**
 * Why a live-session guard stopped (or warned about) a rotation, and how to proceed; or, when
 * every session is idle past the window (`idleSeconds`), why it rotates regardless.
 */
export function liveSessionsMessage(
  target: string,
  seen: LiveSessions,
  policy: LiveSessionsPolicy,
  idleSeconds: number,
): string {
  const parked =
    seen.idleSessions > 0
      ? `${seen.idleSessions} session(s)${from(seen.idleAddresses, "")} idle for over ` +
        `${idleSeconds} s (liveSessionsIdleSeconds), taken for a pooler's parked server ` +
        `connections (PgBouncer, RDS Proxy): an app still on this password would have used them`
      : "";
  if (seen.sessions === 0) {
    return (
      `changing the password of "${target}": it has ${parked}. The pooler's next login as ` +
      `"${target}" needs the new password, which it gets from apps on their next refresh`
    );
  }
  const where = from(
    seen.addresses,
    " (client addresses hidden: grant pg_read_all_stats to the managing user to see them, " +
      "and to let the guard tell idle sessions)",
  );
  const since = seen.oldest ? `, the oldest since ${new Date(seen.oldest).toISOString()}` : "";
  const action =
    policy === "refuse"
      ? `refusing to change the password of "${target}"`
      : `changing the password of "${target}" anyway (liveSessions: "warn")`;
  return (
    `${action}: it has ${seen.sessions} open session(s) in use (active, in a transaction, or ` +
    `idle for less than ${idleSeconds} s)${where}${since}${parked ? `, and ${parked}` : ""}. ` +
    `They are apps that never moved to the current credentials, or pools that will reconnect ` +
    `with this password and fail. Move them to the current credentials (they do on their next ` +
    `configuration refresh) and run again, or set liveSessions to "warn" or "ignore" to rotate ` +
    `regardless`
  );
}

/** The other user of `users` than `target`; `target` itself when it is neither (or both). */
function partnerOf(target: string, users: { username1: string; username2: string }): string {
  if (users.username1 === target) return users.username2;
  if (users.username2 === target) return users.username1;
  return target;
}

function ownedCount(owned: OwnedObjects): number {
  return Object.values(owned.byOwner).reduce((sum, n) => sum + n, 0);
}

/** How many examples an ownership message names. */
const OWNED_EXAMPLES = 3;

/**
 * Why the ownership guard stopped (or warned about) a rotation, and the fix. Every name from
 * the server is written as a JSON string (control characters escaped), so none can forge a
 * line of the log it lands in.
 */
export function ownedObjectsMessage(
  target: string,
  owned: OwnedObjects,
  policy: OwnershipPolicy,
  database: string,
): string {
  const total = ownedCount(owned);
  const owners = Object.entries(owned.byOwner)
    .filter(([, n]) => n > 0)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const who = owners.map(([owner, n]) => `${quotedForLog(owner)} owns ${n}`).join(", ");
  const shown = owned.examples.slice(0, OWNED_EXAMPLES);
  const here = shown.map(([type, identity]) => `${type} ${quotedForLog(identity)}`).join(", ");
  const elsewhere = Object.entries(owned.elsewhere);
  const hereCount = total - elsewhere.reduce((sum, [, n]) => sum + n, 0);
  const more = hereCount > shown.length ? `, and ${hereCount - shown.length} more` : "";
  const inOthers =
    elsewhere.length > 0
      ? ` In other databases (counted, not named: run the fix in each): ` +
        `${elsewhere.map(([name, n]) => `${quotedForLog(name)} ${n}`).join(", ")}.`
      : " Other databases hold none.";
  const action =
    policy === "refuse"
      ? `refusing to change the password of ${quotedForLog(target)}`
      : `changing the password of ${quotedForLog(target)} anyway (ownership: "warn")`;
  const reassign = owners
    .map(([owner]) => `REASSIGN OWNED BY ${controlsEscaped(quoteIdentifier(owner))} TO <group>;`)
    .join(" ");
  return (
    `${action}: the pair's users own ${total} database object(s) themselves (${who})` +
    (hereCount > 0 ? `, in ${quotedForLog(database)}: ${here}${more}.` : ".") +
    `${inOthers} After the switch the other user cannot ALTER, DROP or TRUNCATE what its ` +
    `partner owns, so the next migration fails. Have a group own them: set ownerRole (both ` +
    `users' sessions then create objects as that group), and hand over what exists with ` +
    `${reassign} in ${quotedForLog(database)}` +
    (elsewhere.length > 0 ? " and in each other database named" : "") +
    (policy === "refuse" ? `; or set ownership to "warn" or "ignore" to rotate regardless` : "")
  );
}

/** " from a, b", or `hidden` when no address is visible. */
function from(addresses: readonly string[], hidden: string): string {
  return addresses.length > 0 ? ` from ${addresses.join(", ")}` : hidden;
}

/** The session and ownership columns of `roleUnderLockSql`'s row, and the role's comment. */
interface SessionColumns {
  readonly comment: string | null;
  readonly sessions?: number;
  readonly addresses?: string[];
  readonly oldest?: string | null;
  readonly idle_sessions?: number;
  readonly idle_addresses?: string[];
  readonly owned?: number;
  readonly partner_owned?: number;
  /** NULL when nothing is owned (not read). */
  readonly owned_details?: string | null;
}

/** Runs a query with this package's error translation. */
async function query<T extends QueryResultRow>(
  client: Client,
  sql: string,
  context: ErrorContext & { lockStatement?: boolean },
  values?: unknown[],
): Promise<QueryResult<T>> {
  try {
    return await client.query<T>(sql, values);
  } catch (error) {
    if (context.lockStatement && isConcurrentWrite(error)) {
      throw new ConcurrentRotationError(
        `${context.action} failed: another rotation of this role committed while this one ` +
          `waited for it, so the state this one started from is stale. Nothing was changed; ` +
          `run again from the newest state`,
        { cause: sanitizeCause(error, context.secrets) },
      );
    }
    throw translateError(error, context);
  }
}

/** "role … does not exist" (the lock statement names a role that is not there). */
function isUndefinedRole(error: unknown): boolean {
  const cause = (error as { cause?: { code?: unknown } })?.cause;
  return cause?.code === "42704";
}

/** PostgreSQL's answer to writing a catalog row another transaction changed meanwhile. */
function isConcurrentWrite(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  const message = error instanceof Error ? error.message : "";
  return code === "23505" || /tuple concurrently (updated|deleted)/.test(message);
}

/**
 * Logs in as `credential` and asks the server who we are; throws `AuthenticationError` when the
 * login is refused, and a plain `RotationError` if the session is not the expected role.
 */
export async function probeLogin(
  target: ConnectionTarget,
  timeouts: Required<Timeouts>,
  credential: Credential,
  knownSecrets: readonly (string | undefined)[] = [],
  tlsSettings: TlsSettingNames = DIRECT_TLS_SETTINGS,
): Promise<void> {
  assertFullName(credential.username, "the role to log in as");
  const secrets = [...knownSecrets, credential.password];
  await withSlot(serverKey(target), async (own) => {
    const client = await connect(target, credential, timeouts, { secrets, tlsSettings });
    own(client);
    await whoAmI(client, target, credential, secrets, tlsSettings);
  });
}

/**
 * Who the server says the session is (reported at login, else asked); it must be `credential`'s
 * role. The pool ends the session.
 */
async function whoAmI(
  client: Client,
  target: ConnectionTarget,
  credential: Credential,
  secrets: readonly (string | undefined)[],
  tlsSettings: TlsSettingNames,
): Promise<void> {
  try {
    const username =
      reportedSessionUser(client) ??
      (await client.query<{ username: string }>(WHOAMI_SQL)).rows[0]?.username;
    if (username !== credential.username) {
      throw new RotationError(
        `logged in as "${credential.username}" but the server says the session is "${username}"`,
      );
    }
  } catch (error) {
    if (error instanceof RotationError) throw error;
    throw translateError(error, {
      action: "querying",
      username: credential.username,
      database: target,
      secrets,
      tlsSettings,
    });
  }
}

/**
 * Refuses a name PostgreSQL would truncate before any SQL: the checks would look at one role
 * and `ALTER ROLE` would change another (the managing user, even).
 */
export function assertFullName(name: string, what: string): void {
  const problems = identifierProblems(name, what);
  if (problems.length > 0) throw new ValidationError(problems);
}

/** The pool's name for a server. */
function serverKey(target: ConnectionTarget): string {
  return `${target.host}:${target.port}`;
}

function assertRotatable(
  target: string,
  inspection: TargetInspection | undefined,
): asserts inspection is TargetInspection {
  if (!inspection) {
    throw new RoleNotFoundError(
      `role "${target}" does not exist; create it first (see the README's setup SQL)`,
    );
  }
  if (inspection.rolsuper) {
    throw new ForbiddenRoleError(`refusing to rotate "${target}": it is a superuser`);
  }
  if (inspection.session_role === target) {
    throw new ForbiddenRoleError(`refusing to rotate "${target}": it is the managing user itself`);
  }
  if (!inspection.rolcanlogin) {
    throw new ForbiddenRoleError(
      `refusing to rotate "${target}": it cannot log in (NOLOGIN), so a new password would be useless`,
    );
  }
  if (inspection.expired) {
    throw new ForbiddenRoleError(
      `refusing to rotate "${target}": its VALID UNTIL date has passed, so no password can log in; ` +
        `run ALTER ROLE … VALID UNTIL 'infinity' first`,
    );
  }
}

/** How to grant the managing user what it lacks, per server version. */
export function privilegeHint(target: string, manager: string, serverVersionNum: number): string {
  const t = quoteIdentifier(target);
  const m = quoteIdentifier(manager);
  return serverVersionNum >= 160000
    ? `On PostgreSQL 16 and later the managing user needs CREATEROLE and the ADMIN option on ` +
        `the role: GRANT ${t} TO ${m} WITH ADMIN TRUE, INHERIT FALSE, SET FALSE;`
    : `On PostgreSQL 13 to 15 the managing user needs CREATEROLE: ALTER ROLE ${m} CREATEROLE;`;
}
