/**
 * The one place that builds SQL. Values travel as bind parameters wherever PostgreSQL allows;
 * `ALTER ROLE … PASSWORD` takes none (utility statements have no parameters), so its literal
 * is a SCRAM verifier whose shape is checked first: the plaintext password never appears here.
 */
import { isScramVerifier } from "../core/scram";

/** `name` as a quoted SQL identifier: `"` doubled, the whole wrapped in `"`. */
export function quoteIdentifier(name: string): string {
  if (typeof name !== "string" || name.length === 0 || name.includes("\0")) {
    throw new RangeError("an identifier must be a non-empty string without NUL");
  }
  return `"${name.replace(/"/g, '""')}"`;
}

/** `ALTER ROLE "<role>" PASSWORD '<verifier>'`. Refuses anything but a well-formed verifier. */
export function alterPasswordSql(role: string, verifier: string): string {
  // An empty or malformed literal would clear the password or store garbage: refuse it.
  if (!isScramVerifier(verifier)) throw new RangeError("refusing to send a malformed verifier");
  return `ALTER ROLE ${quoteIdentifier(role)} PASSWORD '${verifier}'`;
}

/**
 * The text whose hash keys the advisory lock on changing `role`'s password. Keyed by the role,
 * not the pair, so that every path that rotates it (a direct rotation, this package's Lambda
 * handler invoked by Pulumi or by the ESC service, which names only the one role) takes the
 * same lock.
 */
export function lockKeyText(role: string): string {
  return `pulumi-postgres-rotator:role:${JSON.stringify(role)}`;
}

/** Row returned by `LOCK_AND_INSPECT_SQL`; no row at all when the role does not exist. */
export interface TargetInspection {
  /** The role the managing connection runs as. */
  readonly session_role: string;
  readonly rolsuper: boolean;
  readonly rolcanlogin: boolean;
  /** True when the role's password has a VALID UNTIL in the past. */
  readonly expired: boolean;
  readonly server_version_num: number;
}

/**
 * Takes the target role's advisory lock (waiting at most lock_timeout; held until the session ends)
 * and describes the target role, in one round trip. $1: lock key text, $2: target role name.
 * A missing role yields no row (and takes no lock, which is moot: nothing will be changed).
 */
export const LOCK_AND_INSPECT_SQL = `
SELECT pg_advisory_lock(hashtextextended($1, 0))::text AS locked,
       current_user::text AS session_role,
       rolsuper,
       rolcanlogin,
       coalesce(rolvaliduntil < now(), false) AS expired,
       current_setting('server_version_num')::int AS server_version_num
FROM pg_catalog.pg_roles
WHERE rolname = $2`;

/** Who this session is; used to prove a login worked. */
export const WHOAMI_SQL = "SELECT current_user::text AS username";

/** `value` as a SQL string literal (standard_conforming_strings; backslashes made explicit). */
export function quoteLiteral(value: string): string {
  if (typeof value !== "string" || value.includes("\0")) {
    throw new RangeError("a literal must be a string without NUL");
  }
  const quoted = `'${value.replace(/'/g, "''")}'`;
  return value.includes("\\") ? `E${quoted.replace(/\\/g, "\\\\")}` : quoted;
}

/** A setting name (`work_mem`, `app.tenant`): each part quoted. */
function settingName(name: string): string {
  return name.split(".").map(quoteIdentifier).join(".");
}

/**
 * `CREATE ROLE "<name>" LOGIN PASSWORD '<verifier>' [CONNECTION LIMIT n]`: like
 * `alterPasswordSql`, only ever with a well-formed SCRAM verifier, never a password.
 */
export function createRoleSql(role: string, verifier: string, connectionLimit?: number): string {
  if (!isScramVerifier(verifier)) throw new RangeError("refusing to send a malformed verifier");
  const limit =
    connectionLimit === undefined ? "" : ` CONNECTION LIMIT ${integer(connectionLimit)}`;
  return `CREATE ROLE ${quoteIdentifier(role)} LOGIN PASSWORD '${verifier}'${limit}`;
}

function integer(value: number): string {
  if (!Number.isInteger(value)) throw new RangeError("expected a whole number");
  return String(value);
}

export function connectionLimitSql(role: string, limit: number): string {
  return `ALTER ROLE ${quoteIdentifier(role)} CONNECTION LIMIT ${integer(limit)}`;
}

export function setSettingSql(role: string, name: string, value: string): string {
  return `ALTER ROLE ${quoteIdentifier(role)} SET ${settingName(name)} = ${quoteLiteral(value)}`;
}

export function resetSettingSql(role: string, name: string): string {
  return `ALTER ROLE ${quoteIdentifier(role)} RESET ${settingName(name)}`;
}

export function grantRoleSql(group: string, role: string): string {
  return `GRANT ${quoteIdentifier(group)} TO ${quoteIdentifier(role)}`;
}

export function revokeRoleSql(group: string, role: string): string {
  return `REVOKE ${quoteIdentifier(group)} FROM ${quoteIdentifier(role)}`;
}

export function dropRolesSql(roles: readonly string[]): string {
  return `DROP ROLE ${roles.map(quoteIdentifier).join(", ")}`;
}

/**
 * PostgreSQL 16+: roles the managing user creates get no INHERIT or SET membership in it,
 * whatever `createrole_self_grant` says, only the ADMIN option CREATE ROLE always grants.
 */
export const NO_SELF_GRANT_SQL = "SET LOCAL createrole_self_grant = ''";

/**
 * Takes the transaction-scoped advisory lock of each role ($1: lock key texts, in a fixed
 * order so that two sessions never wait on each other crosswise).
 */
export const LOCK_ROLES_SQL =
  "SELECT count(pg_advisory_xact_lock(hashtextextended(k, 0))) FROM unnest($1::text[]) AS k";

/**
 * The pair, its group roles and the managing user in one round trip. $1: the two usernames,
 * $2: the group roles of `memberOf` (the groups the users already belong to come too). Membership options (PostgreSQL 16+) are read through `to_jsonb` so that
 * the same text runs on 13-15, whose `pg_auth_members` lacks them.
 */
export const OBSERVE_PAIR_SQL = `
WITH me AS (SELECT oid, rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user)
SELECT current_setting('server_version_num')::int AS server_version_num,
       current_user::text AS manager,
       (SELECT rolsuper FROM me) AS manager_superuser,
       (SELECT coalesce(jsonb_object_agg(r.rolname, jsonb_build_object(
          'canLogin', r.rolcanlogin,
          'superuser', r.rolsuper,
          'connectionLimit', r.rolconnlimit,
          'memberOf', ARRAY(SELECT DISTINCT g.rolname::text
                            FROM pg_catalog.pg_auth_members m
                            JOIN pg_catalog.pg_roles g ON g.oid = m.roleid
                            WHERE m.member = r.oid ORDER BY 1),
          'grantors', (SELECT coalesce(jsonb_object_agg(x.g, x.by), '{}'::jsonb) FROM (
                         SELECT g.rolname AS g, jsonb_agg(DISTINCT gr.rolname::text) AS by
                         FROM pg_catalog.pg_auth_members m
                         JOIN pg_catalog.pg_roles g ON g.oid = m.roleid
                         JOIN pg_catalog.pg_roles gr ON gr.oid = m.grantor
                         WHERE m.member = r.oid GROUP BY g.rolname) x),
          'settings', coalesce((SELECT s.setconfig FROM pg_catalog.pg_db_role_setting s
                                WHERE s.setrole = r.oid AND s.setdatabase = 0), '{}'),
          'managerGrant', (SELECT jsonb_build_object(
                              'admin', bool_or(m.admin_option),
                              'inherit', bool_or(coalesce((to_jsonb(m) ->> 'inherit_option')::bool, false)),
                              'set', bool_or(coalesce((to_jsonb(m) ->> 'set_option')::bool, false)))
                           FROM pg_catalog.pg_auth_members m
                           WHERE m.roleid = r.oid AND m.member = (SELECT oid FROM me)
                           HAVING count(*) > 0))), '{}'::jsonb)
        FROM pg_catalog.pg_roles r WHERE r.rolname = ANY($1::text[])) AS users,
       (SELECT coalesce(jsonb_object_agg(g.rolname, jsonb_build_object(
          'canLogin', g.rolcanlogin,
          'superuser', g.rolsuper,
          'managerAdmin', EXISTS (SELECT 1 FROM pg_catalog.pg_auth_members m
                                  WHERE m.roleid = g.oid AND m.member = (SELECT oid FROM me)
                                    AND m.admin_option))), '{}'::jsonb)
        FROM pg_catalog.pg_roles g
        WHERE g.rolname = ANY($2::text[])
           OR EXISTS (SELECT 1 FROM pg_catalog.pg_auth_members m
                      JOIN pg_catalog.pg_roles u ON u.oid = m.member
                      WHERE m.roleid = g.oid AND u.rolname = ANY($1::text[]))) AS groups`;

/** Row of `OBSERVE_PAIR_SQL`. */
export interface PairObservationRow {
  readonly server_version_num: number;
  readonly manager: string;
  readonly manager_superuser: boolean;
  readonly users: Record<
    string,
    {
      canLogin: boolean;
      superuser: boolean;
      connectionLimit: number;
      memberOf: string[];
      grantors: Record<string, string[]>;
      settings: string[];
      managerGrant: { admin: boolean; inherit: boolean; set: boolean } | null;
    }
  >;
  readonly groups: Record<string, { canLogin: boolean; superuser: boolean; managerAdmin: boolean }>;
}

/**
 * What would keep each of the roles in $1 from being dropped: its sessions (any database) and
 * the objects it owns or holds privileges on (`pg_shdepend` covers every database).
 */
export const DROP_BLOCKERS_SQL = `
SELECT r.rolname::text AS username,
       current_setting('server_version_num')::int AS server_version_num,
       (SELECT count(*) FROM pg_catalog.pg_stat_activity a WHERE a.usesysid = r.oid)::int AS sessions,
       (SELECT count(*) FROM pg_catalog.pg_shdepend d
        WHERE d.refclassid = 'pg_catalog.pg_authid'::regclass AND d.refobjid = r.oid)::int AS dependents
FROM pg_catalog.pg_roles r WHERE r.rolname = ANY($1::text[])`;
