/**
 * The shell around PostgreSQL for `PostgresUserPair`: observe the pair, apply a plan made by
 * the pure core (`core/userPair.ts`) in one transaction, and drop the users. Every change of an
 * apply happens inside that transaction, after the refusals were checked: a failure anywhere
 * leaves the server exactly as it was. Passwords are only ever sent as SCRAM verifiers.
 */
import type { Client } from "pg";
import {
  ADMIN_OPTION_VERSION,
  planUserPair,
  type PairObservation,
  type PairDifference,
  type PairRefusal,
  type PairRequest,
  type PairStep,
} from "../core/userPair";
import { scramSha256Verifier } from "../core/scram";
import type { ResolvedDatabase, Timeouts, UserPair } from "../core/types";
import { ForbiddenRoleError, PermissionDeniedError, RotationError } from "../errors";
import { connect, translateError } from "./connection";
import { assertFullName } from "./shell";
import {
  DROP_BLOCKERS_SQL,
  LOCK_ROLES_SQL,
  NO_SELF_GRANT_SQL,
  OBSERVE_PAIR_SQL,
  connectionLimitSql,
  createRoleSql,
  dropRolesSql,
  grantRoleSql,
  lockKeyText,
  quoteIdentifier,
  resetSettingSql,
  revokeRoleSql,
  setSettingSql,
  type PairObservationRow,
} from "./sql";

/** What `PostgresUserPair` needs from a database, directly or through the connector Lambda. */
export interface UserPairShell {
  /** The pair, the group roles and the managing user as they are now. */
  observe(users: UserPair, memberOf: readonly string[]): Promise<PairObservation>;
  /**
   * Makes the server hold `request`: creates a missing user with its password from
   * `passwords` (sent as a verifier), grants and revokes, sets the limit and settings. All or
   * nothing. Returns the users it created and the pair as it is afterwards.
   */
  apply(
    request: PairRequest,
    passwords: Readonly<Record<string, string>>,
  ): Promise<{ readonly created: readonly string[]; readonly observation: PairObservation }>;
  /**
   * Drops each user that exists with the OID `oids` gives it (a role holding the name under
   * another OID, or with none given, is someone else's and is kept); refuses while one to drop
   * has sessions or owns objects. Returns the users it dropped.
   */
  drop(
    usernames: readonly string[],
    oids: Readonly<Record<string, number>>,
  ): Promise<readonly string[]>;
}

export interface UserPairTarget {
  readonly database: ResolvedDatabase;
  readonly timeouts: Required<Timeouts>;
  readonly scramIterations: number;
}

export function postgresUserPairShell(
  target: UserPairTarget,
  otherSecrets: readonly (string | undefined)[] = [],
): UserPairShell {
  const { database, timeouts } = target;
  const manager = database.managingUser;

  /** Runs `work` in one transaction holding the roles' locks; errors roll everything back. */
  async function transaction<T>(
    roles: readonly string[],
    secrets: readonly (string | undefined)[],
    work: (client: Client) => Promise<T>,
  ): Promise<T> {
    for (const role of roles) assertFullName(role, `the user "${role}"`);
    const client = await connect(database, manager, timeouts, {
      secrets,
      action: "logging in",
      role: "the managing user",
    });
    try {
      await query(client, "BEGIN", "starting a transaction", secrets);
      const keys = [...new Set(roles)].sort().map(lockKeyText);
      await query(client, LOCK_ROLES_SQL, `locking ${names(roles)}`, secrets, [keys]);
      const result = await work(client);
      await query(client, "COMMIT", "committing", secrets);
      return result;
    } catch (error) {
      await client.query("ROLLBACK").catch(() => undefined);
      throw error;
    } finally {
      client.end().catch(() => undefined);
    }
  }

  async function query(
    client: Client,
    sql: string,
    action: string,
    secrets: readonly (string | undefined)[],
    values?: unknown[],
  ) {
    try {
      return await client.query(sql, values);
    } catch (error) {
      throw translateError(error, {
        action,
        role: "the managing user",
        username: manager.username,
        database,
        secrets: [...secrets, sql],
      });
    }
  }

  async function observeWith(
    client: Client,
    users: UserPair,
    memberOf: readonly string[],
    secrets: readonly (string | undefined)[],
  ): Promise<PairObservation> {
    const result = await query(
      client,
      OBSERVE_PAIR_SQL,
      `looking up ${names([users.username1, users.username2])}`,
      secrets,
      [[users.username1, users.username2], [...memberOf]],
    );
    return observationOf(result.rows[0] as PairObservationRow);
  }

  return {
    async observe(users, memberOf) {
      const secrets = [manager.password, ...otherSecrets];
      return transaction([users.username1, users.username2], secrets, (client) =>
        observeWith(client, users, memberOf, secrets),
      );
    },

    async apply(request, passwords) {
      const secrets = [manager.password, ...otherSecrets, ...Object.values(passwords)];
      const { users } = request;
      return transaction([users.username1, users.username2], secrets, async (client) => {
        const before = await observeWith(client, users, request.memberOf, secrets);
        const plan = planUserPair(before, request);
        if (plan.refusals.length > 0) throw refusalError(users, plan.refusals, before);
        const created: string[] = [];
        if (before.serverVersionNum >= ADMIN_OPTION_VERSION && !before.managerSuperuser) {
          await query(client, NO_SELF_GRANT_SQL, "setting createrole_self_grant", secrets);
        }
        for (const step of plan.steps) {
          await runStep(client, step, passwords, before, secrets);
          if (step.kind === "create") created.push(step.username);
        }
        const observation = await observeWith(client, users, request.memberOf, secrets);
        return { created, observation };
      });
    },

    async drop(usernames, oids) {
      const secrets = [manager.password, ...otherSecrets];
      return transaction(usernames, secrets, async (client) => {
        const { rows } = await query(
          client,
          DROP_BLOCKERS_SQL,
          `checking whether ${names(usernames)} can be dropped`,
          secrets,
          [[...usernames]],
        );
        const found = (rows as DropBlockersRow[]).filter(
          (row) => String(oids[row.username]) === row.oid,
        );
        const blockers = found.flatMap((row) => dropBlockers(row));
        if (blockers.length > 0) {
          throw new ForbiddenRoleError(
            `refusing to drop ${names(found.map((r) => r.username))}, nothing was dropped:\n` +
              blockers.map((line) => `  - ${line}`).join("\n"),
          );
        }
        const existing = found.map((row) => row.username);
        if (existing.length > 0) {
          await dropWith(client, existing, found[0].server_version_num, secrets);
        }
        return existing;
      });
    },
  };

  async function dropWith(
    client: Client,
    usernames: readonly string[],
    version: number,
    secrets: readonly (string | undefined)[],
  ) {
    try {
      await query(client, dropRolesSql(usernames), `dropping ${names(usernames)}`, secrets);
    } catch (error) {
      throw withHint(error, (v) => managePrivilegeHint(usernames, v), version);
    }
  }

  async function runStep(
    client: Client,
    step: PairStep,
    passwords: Readonly<Record<string, string>>,
    before: PairObservation,
    secrets: readonly (string | undefined)[],
  ) {
    const version = before.serverVersionNum;
    try {
      switch (step.kind) {
        case "create": {
          const password = passwords[step.username];
          if (!password) throw new RotationError(`no initial password for "${step.username}"`);
          const verifier = scramSha256Verifier(password, { iterations: target.scramIterations });
          const sql = createRoleSql(step.username, verifier, step.connectionLimit);
          await query(client, sql, `creating "${step.username}"`, secrets);
          return;
        }
        case "connectionLimit":
          await query(
            client,
            connectionLimitSql(step.username, step.limit),
            `setting the connection limit of "${step.username}"`,
            secrets,
          );
          return;
        case "set":
          await query(
            client,
            setSettingSql(step.username, step.name, step.value),
            `setting ${step.name} for "${step.username}"`,
            secrets,
          );
          return;
        case "reset":
          await query(
            client,
            resetSettingSql(step.username, step.name),
            `resetting ${step.name} for "${step.username}"`,
            secrets,
          );
          return;
        case "grant":
          await query(
            client,
            grantRoleSql(step.group, step.username, step.options),
            `granting "${step.group}" to "${step.username}"`,
            secrets,
          );
          return;
        case "revoke":
          await query(
            client,
            revokeRoleSql(step.group, step.username),
            `revoking "${step.group}" from "${step.username}"`,
            secrets,
          );
          return;
      }
    } catch (error) {
      const hint =
        step.kind === "create"
          ? () =>
              `the managing user needs CREATEROLE (as a superuser: ALTER ROLE ${quoteIdentifier(manager.username)} CREATEROLE;)`
          : step.kind === "grant" || step.kind === "revoke"
            ? (v: number) => groupPrivilegeHint(step.group, v)
            : (v: number) => managePrivilegeHint([step.username], v);
      throw withHint(error, hint, version);
    }
  }

  /** A permission error with the statement that fixes it; other errors as they are. */
  function withHint(error: unknown, hint: (version: number) => string, version: number) {
    if (!(error instanceof PermissionDeniedError)) return error;
    return new PermissionDeniedError(`${error.message}. ${hint(version)}`, { cause: error.cause });
  }

  function groupPrivilegeHint(group: string, version: number): string {
    const g = quoteIdentifier(group);
    const m = quoteIdentifier(manager.username);
    return version >= ADMIN_OPTION_VERSION
      ? `To grant or revoke ${g} the managing user needs the ADMIN option on it: GRANT ${g} TO ${m} WITH ADMIN TRUE, INHERIT FALSE, SET FALSE;`
      : `On PostgreSQL 13 to 15 the managing user needs CREATEROLE to grant or revoke ${g}: ALTER ROLE ${m} CREATEROLE;`;
  }

  function managePrivilegeHint(usernames: readonly string[], version: number): string {
    const m = quoteIdentifier(manager.username);
    const us = usernames.map(quoteIdentifier).join(", ");
    return version >= ADMIN_OPTION_VERSION
      ? `On PostgreSQL 16 and later the managing user needs CREATEROLE and the ADMIN option on ${us}: GRANT ${us} TO ${m} WITH ADMIN TRUE, INHERIT FALSE, SET FALSE;`
      : `On PostgreSQL 13 to 15 the managing user needs CREATEROLE: ALTER ROLE ${m} CREATEROLE;`;
  }

  function refusalError(
    users: UserPair,
    refusals: readonly PairRefusal[],
    observation: PairObservation,
  ): RotationError {
    const lines = refusals.map((r) => refusalLine(r, observation));
    const message =
      `cannot set up the users ${names([users.username1, users.username2])}; nothing was ` +
      `changed:\n${lines.map((line) => `  - ${line}`).join("\n")}`;
    const permissionOnly = refusals.every(
      (r) => r.kind.startsWith("manager-") || r.kind === "membership-granted-by-other",
    );
    return permissionOnly ? new PermissionDeniedError(message) : new ForbiddenRoleError(message);
  }

  function refusalLine(refusal: PairRefusal, observation: PairObservation): string {
    const m = quoteIdentifier(observation.manager);
    const adminGrant = (role: string) =>
      `GRANT ${quoteIdentifier(role)} TO ${m} WITH ADMIN TRUE, INHERIT FALSE, SET FALSE;`;
    switch (refusal.kind) {
      case "user-recreated":
        return (
          `"${refusal.username}" is not the role this resource created or adopted: it was ` +
          `dropped and created again outside Pulumi (OID ${refusal.oid}, recorded ` +
          `${refusal.expected}), and is neither adopted nor dropped. To have it created anew, ` +
          `with a new password: DROP ROLE ${quoteIdentifier(refusal.username)}; to adopt it as ` +
          `it is: pulumi state delete this resource, and the next up adopts both users`
        );
      case "user-superuser":
        return `"${refusal.username}" is a superuser; a rotated user never is`;
      case "user-nologin":
        return (
          `"${refusal.username}" exists but cannot log in (NOLOGIN); if it is meant to be a ` +
          `rotated user: ALTER ROLE ${quoteIdentifier(refusal.username)} LOGIN;`
        );
      case "manager-lacks-admin-on-user":
        return (
          `the managing user lacks the ADMIN option on "${refusal.username}" (PostgreSQL 16+), ` +
          `as a superuser: ${adminGrant(refusal.username)}`
        );
      case "manager-uses-user":
        return (
          `the managing user can use the privileges of "${refusal.username}" (INHERIT or SET); ` +
          `as the role that granted it: GRANT ${quoteIdentifier(refusal.username)} TO ${m} ` +
          `WITH INHERIT FALSE, SET FALSE;`
        );
      case "group-missing":
        return (
          `group role "${refusal.group}" does not exist; create it (and grant it privileges): ` +
          `CREATE ROLE ${quoteIdentifier(refusal.group)} NOLOGIN;` +
          (observation.serverVersionNum >= ADMIN_OPTION_VERSION
            ? ` ${adminGrant(refusal.group)}`
            : "")
        );
      case "group-can-login":
        return (
          `memberOf "${refusal.group}" can log in; memberOf names NOLOGIN group roles ` +
          `(ALTER ROLE ${quoteIdentifier(refusal.group)} NOLOGIN; if it is one)`
        );
      case "group-superuser":
        return `memberOf "${refusal.group}" is a superuser role; refusing to grant it`;
      case "manager-lacks-admin-on-group":
        return (
          `the managing user lacks the ADMIN option on group role "${refusal.group}", which it ` +
          `needs to grant it (PostgreSQL 16+), as a superuser: ${adminGrant(refusal.group)}`
        );
      case "membership-granted-by-other":
        return (
          `"${refusal.username}" is a member of "${refusal.group}" by a grant of ` +
          `${names(refusal.grantors)}, which only that role or a superuser can revoke ` +
          `(PostgreSQL 16+): as it, ${revokeRoleSql(refusal.group, refusal.username)};`
        );
      case "other-memberships":
        return (
          `"${refusal.username}" is also a member of ${names(refusal.groups)}, which memberOf ` +
          `does not list: add them to memberOf (both users then get them), or first: ` +
          refusal.groups.map((g) => revokeRoleSql(g, refusal.username)).join("; ") +
          ";"
        );
      case "users-differ":
        return differenceLine(refusal.difference);
    }
  }
}

const ATTRIBUTE_WORDS = {
  inherit: "INHERIT",
  createDb: "CREATEDB",
  createRole: "CREATEROLE",
  bypassRls: "BYPASSRLS",
  replication: "REPLICATION",
} as const;

/** A setting's name as `ALTER ROLE … RESET` takes it: plain when it is, else quoted. */
function settingRef(name: string): string {
  return /^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)?$/.test(name)
    ? name
    : name.split(".").map(quoteIdentifier).join(".");
}

/**
 * How the two users differ, with the SQL that makes the odd one like a user the resource creates
 * (values never quoted back: a setting's value is not repeated).
 */
function differenceLine(difference: PairDifference): string {
  const same = "make both the same";
  switch (difference.kind) {
    case "attribute": {
      const word = ATTRIBUTE_WORDS[difference.attribute];
      const odd = quoteIdentifier(difference.odd);
      return difference.attribute === "inherit"
        ? `"${difference.odd}" is NOINHERIT and "${difference.other}" is INHERIT: ${same}, ` +
            `e.g. ALTER ROLE ${odd} INHERIT;`
        : `"${difference.odd}" has ${word} and "${difference.other}" has not: ${same}, e.g. as a ` +
            `superuser: ALTER ROLE ${odd} NO${word};`;
    }
    case "valid-until": {
      const [a, b] = difference.users;
      const fix = difference.dated.map(
        (u) => `ALTER ROLE ${quoteIdentifier(u)} VALID UNTIL 'infinity';`,
      );
      return `"${a}" and "${b}" have different VALID UNTIL dates: ${same}, e.g. ${fix.join(" ")}`;
    }
    case "connection-limit": {
      const [[a, la], [b, lb]] = difference.limits;
      return `"${a}" has CONNECTION LIMIT ${la} and "${b}" ${lb}: give connectionLimit, and both get it`;
    }
    case "setting": {
      const where = difference.database === null ? "" : ` in database "${difference.database}"`;
      const scope =
        difference.database === null ? "" : ` IN DATABASE ${quoteIdentifier(difference.database)}`;
      const reset = (u: string) =>
        `ALTER ROLE ${quoteIdentifier(u)}${scope} RESET ${settingRef(difference.name)};`;
      if (difference.holders.length === 2) {
        return (
          `"${difference.holders[0]}" and "${difference.holders[1]}" have different values of setting ` +
          `${difference.name}${where}: set the same value on both, or reset it: ` +
          difference.holders.map(reset).join(" ")
        );
      }
      const [holder] = difference.holders;
      return (
        `"${holder}" has setting ${difference.name}${where} and "${difference.other}" has not: ` +
        `${reset(holder)}` +
        (difference.database === null
          ? " (or list it in settings, and both get it)"
          : " (or set the same on both)")
      );
    }
    case "membership": {
      const g = quoteIdentifier(difference.group);
      const odd = quoteIdentifier(difference.odd);
      const about = `"${difference.odd}"'s membership in "${difference.group}"`;
      if (difference.option === "admin") {
        return (
          `${about} is WITH ADMIN OPTION and "${difference.other}"'s is not: as the role that ` +
          `granted it, REVOKE ADMIN OPTION FOR ${g} FROM ${odd};`
        );
      }
      const word = difference.option.toUpperCase();
      return (
        `${about} is ${word} FALSE and "${difference.other}"'s is ${word} TRUE (PostgreSQL 16+): ` +
        `as the role that granted it, GRANT ${g} TO ${odd} WITH ${word} TRUE;`
      );
    }
  }
}

function names(roles: readonly string[]): string {
  return roles.map((r) => `"${r}"`).join(", ");
}

interface DropBlockersRow {
  readonly username: string;
  /** As text: PostgreSQL's bigint. */
  readonly oid: string;
  readonly sessions: number;
  readonly dependents: number;
  readonly server_version_num: number;
}

function dropBlockers(row: DropBlockersRow): string[] {
  const lines: string[] = [];
  if (row.sessions > 0) {
    lines.push(
      `"${row.username}" has ${row.sessions} open session(s); stop the apps that use it first`,
    );
  }
  if (row.dependents > 0) {
    const u = quoteIdentifier(row.username);
    lines.push(
      `"${row.username}" owns objects or holds privileges granted to it directly ` +
        `(${row.dependents}); in each database: REASSIGN OWNED BY ${u} TO <another role>; ` +
        `DROP OWNED BY ${u};`,
    );
  }
  return lines;
}

/** `pg_db_role_setting`'s `name=value` entries by name. */
function settingsOf(entries: readonly string[]): Record<string, string> {
  return Object.fromEntries(
    entries.map((entry) => {
      const at = entry.indexOf("=");
      return [entry.slice(0, at), entry.slice(at + 1)];
    }),
  );
}

/** The query's row as the core's observation. */
export function observationOf(row: PairObservationRow): PairObservation {
  const users: Record<string, PairObservation["users"][string]> = {};
  for (const [name, seen] of Object.entries(row.users ?? {})) {
    users[name] = {
      oid: seen.oid,
      canLogin: seen.canLogin,
      superuser: seen.superuser,
      connectionLimit: seen.connectionLimit,
      memberOf: seen.memberOf,
      grantors: seen.grantors ?? {},
      settings: settingsOf(seen.settings),
      ...(seen.attributes ? { attributes: seen.attributes } : {}),
      ...(seen.memberships
        ? {
            memberships: Object.fromEntries(
              Object.entries(seen.memberships).map(([group, m]) => [
                group,
                {
                  admin: m.admin,
                  ...(m.inherit !== null ? { inherit: m.inherit } : {}),
                  ...(m.set !== null ? { set: m.set } : {}),
                },
              ]),
            ),
          }
        : {}),
      ...(seen.databaseSettings
        ? {
            databaseSettings: Object.fromEntries(
              Object.entries(seen.databaseSettings).map(([db, list]) => [db, settingsOf(list)]),
            ),
          }
        : {}),
      ...(seen.managerGrant ? { managerGrant: seen.managerGrant } : {}),
    };
  }
  return {
    serverVersionNum: row.server_version_num,
    manager: row.manager,
    managerSuperuser: row.manager_superuser,
    users,
    groups: { ...(row.groups ?? {}) },
  };
}
