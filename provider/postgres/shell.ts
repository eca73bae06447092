/**
 * The thin shell around PostgreSQL: log in to prove credentials, and change one role's
 * password safely. The rotation core decides *what* to do; this file only does it.
 */
import type { Client } from "pg";
import { identifierProblems } from "../core/validate";
import {
  ForbiddenRoleError,
  PermissionDeniedError,
  RoleNotFoundError,
  RotationError,
  ValidationError,
  VerificationError,
  sanitizeCause,
} from "../errors";
import { scramSha256Verifier } from "../core/scram";
import type { ConnectionTarget, Credential, ResolvedInputs, Timeouts } from "../core/types";
import { connect, translateError } from "./connection";
import {
  LOCK_AND_INSPECT_SQL,
  WHOAMI_SQL,
  alterPasswordSql,
  lockKeyText,
  quoteIdentifier,
  type TargetInspection,
} from "./sql";

/** What the rotation engine needs from a database. */
export interface PostgresShell {
  /** Logs in as `credential` and runs a query; throws `AuthenticationError` when refused. */
  checkLogin(credential: Credential): Promise<void>;
  /**
   * Sets `target`'s password to `newPassword` (sent as a SCRAM verifier), then logs in with it.
   * Holds the target's advisory lock throughout, so changes of one role never interleave.
   */
  changePassword(target: string, newPassword: string): Promise<void>;
}

/**
 * A `PostgresShell` for the database and settings in `inputs`. `otherSecrets`: passwords known
 * besides those in `inputs` (e.g. from the previous outputs), to be kept out of any message.
 */
export function postgresShell(
  inputs: ResolvedInputs,
  otherSecrets: readonly (string | undefined)[] = [],
): PostgresShell {
  const { database, timeouts } = inputs;
  const knownSecrets = [
    database.managingUser.password,
    inputs.state?.current.password,
    inputs.state?.previous?.password,
    ...otherSecrets,
  ];

  const checkLogin = (credential: Credential) =>
    probeLogin(database, timeouts, credential, knownSecrets);

  async function changePassword(target: string, newPassword: string): Promise<void> {
    assertFullName(target, "the role to rotate");
    const secrets = [...knownSecrets, newPassword];
    const manager = await connect(database, database.managingUser, timeouts, {
      secrets,
      action: "logging in",
      role: "the managing user",
    });
    try {
      const { inspection, verifier } = await lockAndInspect(manager, target, newPassword, secrets);
      assertRotatable(target, inspection);
      await alterPassword(manager, target, verifier, inspection.server_version_num, secrets);
      await verifyNewPassword(target, newPassword, secrets);
    } finally {
      // Ending the session releases the advisory lock. Nothing waits on the goodbye.
      closeQuietly(manager);
    }
  }

  /** Takes the target's lock and looks it up; computes the verifier meanwhile. */
  async function lockAndInspect(
    manager: Client,
    target: string,
    newPassword: string,
    secrets: readonly (string | undefined)[],
  ): Promise<{ inspection: TargetInspection | undefined; verifier: string }> {
    try {
      const pending = manager.query<TargetInspection>(LOCK_AND_INSPECT_SQL, [
        lockKeyText(target),
        target,
      ]);
      pending.catch(() => undefined);
      // PBKDF2 runs here while the server takes the lock and looks the role up.
      const verifier = scramSha256Verifier(newPassword, { iterations: inputs.scramIterations });
      return { inspection: (await pending).rows[0], verifier };
    } catch (error) {
      throw translateError(error, {
        ...managerContext(`locking "${target}" to rotate it`),
        secrets,
      });
    }
  }

  async function alterPassword(
    manager: Client,
    target: string,
    verifier: string,
    serverVersionNum: number,
    secrets: readonly (string | undefined)[],
  ): Promise<void> {
    const sql = alterPasswordSql(target, verifier);
    try {
      await manager.query(sql);
    } catch (error) {
      const translated = translateError(error, {
        ...managerContext(`changing the password of "${target}"`),
        secrets: [...secrets, sql],
      });
      if (!(translated instanceof PermissionDeniedError)) throw translated;
      const hint = privilegeHint(target, database.managingUser.username, serverVersionNum);
      throw new PermissionDeniedError(`${translated.message}. ${hint}`, {
        cause: translated.cause,
      });
    }
  }

  function managerContext(action: string) {
    return {
      action,
      role: "the managing user",
      username: database.managingUser.username,
      database,
    };
  }

  async function verifyNewPassword(
    target: string,
    password: string,
    secrets: readonly (string | undefined)[],
  ) {
    try {
      await probeLogin(database, timeouts, { username: target, password }, secrets);
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
 * Logs in as `credential` and asks the server who we are; throws `AuthenticationError` when the
 * login is refused, and a plain `RotationError` if the session is not the expected role.
 */
export async function probeLogin(
  target: ConnectionTarget,
  timeouts: Required<Timeouts>,
  credential: Credential,
  knownSecrets: readonly (string | undefined)[] = [],
): Promise<void> {
  assertFullName(credential.username, "the role to log in as");
  const secrets = [...knownSecrets, credential.password];
  const client = await connect(target, credential, timeouts, { secrets });
  try {
    const result = await client.query<{ username: string }>(WHOAMI_SQL);
    const username = result.rows[0]?.username;
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
    });
  } finally {
    closeQuietly(client);
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

/** Ends a session without waiting for the server's goodbye; errors on the way out are moot. */
function closeQuietly(client: { end(): Promise<void> }): void {
  client.end().catch(() => undefined);
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
