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
 * The text whose hash keys the transaction's advisory lock on setting up `role` as one of a
 * user pair (`PostgresUserPair`; advisory locks hold within one database).
 */
export function lockKeyText(role: string): string {
  return `pulumi-postgres-rotator:role:${JSON.stringify(role)}`;
}

/**
 * The cluster-wide lock on rotating `role`: an idempotent write of the role's setting for
 * `template0`, a database no session can connect to, so the setting never takes effect. Roles
 * and their settings are shared by every database of the cluster, so every rotation of the role,
 * whichever database it connects to and whichever path makes it (direct, this package's Lambda
 * called by Pulumi or by ESC), writes this one row first. A second rotation waits for the first
 * (at most `lock_timeout`), then fails instead of overwriting its result: PostgreSQL refuses
 * ("tuple concurrently updated", or a unique violation the very first time) to write a catalog
 * row that another transaction changed after this statement began.
 */
export function lockRoleSql(role: string): string {
  return (
    `ALTER ROLE ${quoteIdentifier(role)} IN DATABASE template0 ` +
    `SET application_name = 'pulumi-postgres-rotator'`
  );
}

/** `COMMENT ON ROLE`, with a literal (or NULL). */
export function commentOnRoleSql(role: string, comment: string | null): string {
  return `COMMENT ON ROLE ${quoteIdentifier(role)} IS ${comment === null ? "NULL" : quoteLiteral(comment)}`;
}

/** Row returned by `INSPECT_TARGET_SQL`; no row at all when the role does not exist. */
export interface TargetInspection {
  /** The role the managing connection runs as. */
  readonly session_role: string;
  readonly rolsuper: boolean;
  readonly rolcanlogin: boolean;
  /** True when the role's password has a VALID UNTIL in the past. */
  readonly expired: boolean;
  readonly server_version_num: number;
}

/** Describes the role to rotate ($1), who we are and the server's version, in one round trip. */
export const INSPECT_TARGET_SQL = `
SELECT current_user::text AS session_role,
       rolsuper,
       rolcanlogin,
       coalesce(rolvaliduntil < now(), false) AS expired,
       current_setting('server_version_num')::int AS server_version_num
FROM pg_catalog.pg_roles
WHERE rolname = $1`;

/**
 * Read under the role's lock, in one statement: `INSPECT_TARGET_SQL`'s columns for the role ($1),
 * its comment (which holds its rotation mark) and, unless `withSessions` is false, its sessions
 * other than this package's own ($2), in every database, in two groups: `idle_*`, those idle
 * (state 'idle', not in a transaction) for more than $3 seconds since their last state change (a
 * pooler's parked server connections), and the others (`sessions`, `addresses`, `oldest`): how
 * many, their client addresses and the oldest one's start. Where the managing user may not see
 * a session's details (`pg_read_all_stats` shows them) its state, address and start are NULL: it
 * counts among the others, without an address. No row when the role does not exist. The
 * statistics function and the comments' catalog are read directly, which costs a fresh session
 * less than `pg_stat_activity` and `shobj_description` over them (measured with a fresh session
 * per run). The columns read exist alike in PostgreSQL 13 to 18. With `withOwnership`, also
 * what the pair's users own themselves (see `OWNED_COLUMNS`; $4 is the other user of the pair).
 */
export function roleUnderLockSql(withSessions: boolean, withOwnership = false): string {
  const sessions = withSessions
    ? `,
     LATERAL (SELECT count(*) FILTER (WHERE NOT a.parked)::int AS sessions,
                     coalesce(array_agg(DISTINCT host(a.client_addr))
                              FILTER (WHERE a.client_addr IS NOT NULL AND NOT a.parked), '{}')
                       AS addresses,
                     min(a.backend_start) FILTER (WHERE NOT a.parked) AS oldest,
                     count(*) FILTER (WHERE a.parked)::int AS idle_sessions,
                     coalesce(array_agg(DISTINCT host(a.client_addr))
                              FILTER (WHERE a.client_addr IS NOT NULL AND a.parked), '{}')
                       AS idle_addresses
              FROM (SELECT g.client_addr, g.backend_start,
                           coalesce(g.state = 'idle' AND g.state_change <
                                    clock_timestamp() - make_interval(secs => $3::int),
                                    false) AS parked
                    FROM pg_catalog.pg_stat_get_activity(NULL) g
                    WHERE g.usesysid = r.oid AND g.application_name IS DISTINCT FROM $2) a) s`
    : "";
  return `
SELECT current_user::text AS session_role,
       r.rolsuper,
       r.rolcanlogin,
       coalesce(r.rolvaliduntil < now(), false) AS expired,
       current_setting('server_version_num')::int AS server_version_num,
       (SELECT d.description FROM pg_catalog.pg_shdescription d
        WHERE d.objoid = r.oid AND d.classoid = 'pg_catalog.pg_authid'::regclass) AS comment${
          withOwnership ? `,\n       ${OWNED_COLUMNS}` : ""
        }${withSessions ? ",\n       s.sessions, s.addresses, s.oldest, s.idle_sessions, s.idle_addresses" : ""}
FROM pg_catalog.pg_roles r${withOwnership ? `,\n     ${OWNED_COUNTS}` : ""}${sessions}
WHERE r.rolname = $1`;
}

/**
 * The rows of `pg_shdepend` that record an owner among `owners` (SQL text, two role OIDs): every
 * kind of object (schemas, relations, functions, types, …) in every database, and shared objects
 * (databases, tablespaces), but not the implicit ones (a table's row type, an array type, an
 * index, a TOAST table), which have no owner of their own. Default privileges (`pg_default_acl`,
 * 826) and user mappings (`pg_user_mapping`, 1418) are left out: REASSIGN OWNED does not move
 * them, and they keep no one from altering a table. The catalogs' OIDs are written as numbers
 * (1260 is `pg_authid`; all three are fixed in PostgreSQL's headers, the same in 13 to 18): a
 * `::regclass` cast would look each name up.
 */
const OWNED_BY = (owners: string) => `pg_catalog.pg_shdepend d
              WHERE d.refclassid = 1260 AND d.refobjid IN (${owners})
                AND d.deptype = 'o' AND d.classid NOT IN (826, 1418)`;

/** The other user of the pair ($4), from the role cache; NULL when there is no such role. */
const PARTNER_OID = "pg_catalog.to_regrole(pg_catalog.quote_ident($4))";

/**
 * The `o` of `roleUnderLockSql`: how many objects (see `OWNED_BY`) the role (`r`) owns
 * (`owned`) and how many the other user of its pair does (`partner_owned`; 0 when that is the
 * role itself), counted in one scan of `pg_shdepend`'s index on the owner.
 */
const OWNED_COUNTS = `LATERAL (SELECT count(*) FILTER (WHERE d.refobjid = r.oid)::int AS owned,
                     count(*) FILTER (WHERE d.refobjid <> r.oid)::int AS partner_owned
              FROM ${OWNED_BY(`r.oid, ${PARTNER_OID}`)}) o`;

/**
 * What the owners `%1$s` and `%2$s` (role OIDs, filled in by `format`) own, for the message, as
 * one JSON text `j`: the count in each other database (`elsewhere`; this session cannot read
 * their catalogs) and a few objects of this database or shared (`examples`), `[type, identity]`
 * as `pg_identify_object` spells them, oldest first.
 */
const OWNED_DETAILS_QUERY = `SELECT pg_catalog.jsonb_build_object(
  'elsewhere', (SELECT coalesce(pg_catalog.jsonb_object_agg(e.datname, e.n), '{}') FROM
      (SELECT db.datname, count(*) AS n
       FROM (SELECT d.dbid FROM ${OWNED_BY("%1$s, %2$s")}) x
       JOIN pg_catalog.pg_database db ON db.oid = x.dbid
       WHERE db.datname <> current_database() GROUP BY db.datname) e),
  'examples', (SELECT coalesce(pg_catalog.jsonb_agg(
                 pg_catalog.jsonb_build_array(i.type, i.identity) ORDER BY f.objid), '[]')
      FROM (SELECT d.classid, d.objid FROM ${OWNED_BY("%1$s, %2$s")}
              AND d.dbid IN (0, (SELECT oid FROM pg_catalog.pg_database
                                 WHERE datname = current_database()))
            ORDER BY d.objid LIMIT 5) f,
           LATERAL pg_catalog.pg_identify_object(f.classid, f.objid, 0) i))::text AS j`;

/**
 * The ownership columns of `roleUnderLockSql`: the counts of `OWNED_COUNTS` and, only when one
 * of them is not 0, `owned_details`: `OWNED_DETAILS_QUERY`'s row as `query_to_xml` writes it
 * (read with `ownedDetailsOf`). The server plans a query that `query_to_xml` is given only when
 * the function runs, and a CASE runs it only in its taken branch: when nothing is owned, the
 * names cost the statement only parsing this column and looking its functions up (about 0.1 ms
 * on a fresh session). The same subqueries written inline under the CASE are not run either,
 * but planned every time: about 0.8 ms more (measured with a fresh session per run, timing the
 * statement alone). The counts themselves cost a fresh session more than a loopback round trip
 * (about 0.3 ms against 0.15 ms, timed so): mostly loading `pg_shdepend` and its indexes into
 * the new session's caches, which no form of the query avoids.
 */
const OWNED_COLUMNS = `o.owned, o.partner_owned,
       CASE WHEN o.owned + o.partner_owned > 0 THEN
         pg_catalog.query_to_xml(pg_catalog.format(${quoteLiteral(OWNED_DETAILS_QUERY)},
                                                   r.oid, coalesce(${PARTNER_OID}::oid, r.oid)),
                                 false, true, '')::text
       END AS owned_details`;

/**
 * The `elsewhere` and `examples` of `OWNED_DETAILS_QUERY` from its `query_to_xml` text (`<row
 * …><j>…</j></row>`, the JSON with `&`, `<` and `>` written as entities); empty when
 * `details` is NULL (nothing owned).
 */
export function ownedDetailsOf(details: string | null | undefined): {
  elsewhere: Record<string, number>;
  examples: [type: string, identity: string][];
} {
  if (details === null || details === undefined) return { elsewhere: {}, examples: [] };
  const found = /<j>([^<]*)<\/j>/.exec(details);
  // Not a form this was written for: the message then gives the counts and the fix only.
  if (!found) return { elsewhere: {}, examples: [] };
  // Entities for &, < and > (a CR, the only other one, is escaped in JSON text already).
  const json = found[1].replace(/&(lt|gt|amp);/g, (_, name: string) =>
    name === "lt" ? "<" : name === "gt" ? ">" : "&",
  );
  const parsed = JSON.parse(json) as ReturnType<typeof ownedDetailsOf>;
  return { elsewhere: parsed.elsewhere, examples: parsed.examples };
}

/**
 * Who logged in; used to prove a login worked. The session user, not `current_user`: a user
 * whose sessions run as another role (`ALTER ROLE … SET role`, `ownerRole`) is still the one
 * that logged in.
 */
export const WHOAMI_SQL = "SELECT session_user::text AS username";

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

/** A list (`search_path`) is sent as a list of literals, not as one literal holding commas. */
export function setSettingSql(
  role: string,
  name: string,
  value: string | readonly string[],
): string {
  const values = (typeof value === "string" ? [value] : value).map(quoteLiteral).join(", ");
  return `ALTER ROLE ${quoteIdentifier(role)} SET ${settingName(name)} = ${values}`;
}

export function resetSettingSql(role: string, name: string): string {
  return `ALTER ROLE ${quoteIdentifier(role)} RESET ${settingName(name)}`;
}

/** With `options` (PostgreSQL 16+ only): `WITH INHERIT …, SET …`. */
export function grantRoleSql(
  group: string,
  role: string,
  options?: { readonly inherit: boolean; readonly set: boolean },
): string {
  const using = options
    ? ` WITH INHERIT ${options.inherit ? "TRUE" : "FALSE"}, SET ${options.set ? "TRUE" : "FALSE"}`
    : "";
  return `GRANT ${quoteIdentifier(group)} TO ${quoteIdentifier(role)}${using}`;
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
 * $2: the group roles of `memberOf` (the groups the users already belong to come too). Membership
 * options (PostgreSQL 16+) are read through `to_jsonb` so that the same text runs on 13-15, whose
 * `pg_auth_members` lacks them (`null` there). Each user's attributes, its membership options by
 * group (every grant taken together) and its settings per database come too; databases no one
 * can connect to are left out (`template0`, where a rotation takes its lock).
 */
export const OBSERVE_PAIR_SQL = `
WITH me AS (SELECT oid, rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user)
SELECT current_setting('server_version_num')::int AS server_version_num,
       current_user::text AS manager,
       (SELECT rolsuper FROM me) AS manager_superuser,
       (SELECT coalesce(jsonb_object_agg(r.rolname, jsonb_build_object(
          'oid', r.oid::bigint,
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
          'attributes', jsonb_build_object(
             'inherit', r.rolinherit, 'createDb', r.rolcreatedb, 'createRole', r.rolcreaterole,
             'bypassRls', r.rolbypassrls, 'replication', r.rolreplication,
             'validUntil', CASE WHEN r.rolvaliduntil IS NULL OR r.rolvaliduntil = 'infinity' THEN NULL
                                ELSE to_char(r.rolvaliduntil AT TIME ZONE 'UTC',
                                             'YYYY-MM-DD HH24:MI:SS.US') END),
          'memberships', (SELECT coalesce(jsonb_object_agg(x.g, x.o), '{}'::jsonb) FROM (
                            SELECT g.rolname AS g, jsonb_build_object(
                                     'admin', bool_or(m.admin_option),
                                     'inherit', bool_or((to_jsonb(m) ->> 'inherit_option')::bool),
                                     'set', bool_or((to_jsonb(m) ->> 'set_option')::bool)) AS o
                            FROM pg_catalog.pg_auth_members m
                            JOIN pg_catalog.pg_roles g ON g.oid = m.roleid
                            WHERE m.member = r.oid GROUP BY g.rolname) x),
          'databaseSettings', (SELECT coalesce(jsonb_object_agg(d.datname, s.setconfig), '{}'::jsonb)
                               FROM pg_catalog.pg_db_role_setting s
                               JOIN pg_catalog.pg_database d ON d.oid = s.setdatabase
                               WHERE s.setrole = r.oid AND d.datallowconn),
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
      oid: number;
      canLogin: boolean;
      superuser: boolean;
      connectionLimit: number;
      memberOf: string[];
      grantors: Record<string, string[]>;
      settings: string[];
      attributes?: {
        inherit: boolean;
        createDb: boolean;
        createRole: boolean;
        bypassRls: boolean;
        replication: boolean;
        validUntil: string | null;
      };
      /** `inherit` and `set` are `null` before PostgreSQL 16. */
      memberships?: Record<
        string,
        { admin: boolean; inherit: boolean | null; set: boolean | null }
      >;
      databaseSettings?: Record<string, string[]>;
      managerGrant: { admin: boolean; inherit: boolean; set: boolean } | null;
    }
  >;
  readonly groups: Record<string, { canLogin: boolean; superuser: boolean; managerAdmin: boolean }>;
}

/**
 * Which role holds each name in $1 (its OID) and what would keep it from being dropped: its
 * sessions (any database) and the objects it owns or holds privileges on (`pg_shdepend` covers
 * every database).
 */
export const DROP_BLOCKERS_SQL = `
SELECT r.rolname::text AS username,
       r.oid::bigint::text AS oid,
       current_setting('server_version_num')::int AS server_version_num,
       (SELECT count(*) FROM pg_catalog.pg_stat_activity a WHERE a.usesysid = r.oid)::int AS sessions,
       (SELECT count(*) FROM pg_catalog.pg_shdepend d
        WHERE d.refclassid = 'pg_catalog.pg_authid'::regclass AND d.refobjid = r.oid)::int AS dependents
FROM pg_catalog.pg_roles r WHERE r.rolname = ANY($1::text[])`;

/**
 * `sql` with its `$1`, `$2`, … replaced by `values` as string literals, in one pass (a value
 * that itself holds `$2` is never substituted again): for statements sent several to a round
 * trip, which the simple query protocol runs without bind parameters.
 */
export function withLiterals(sql: string, values: readonly string[]): string {
  return sql.replace(/\$(\d+)/g, (placeholder, n: string) => {
    const value = values[Number(n) - 1];
    if (value === undefined) throw new RangeError(`no value for ${placeholder}`);
    return quoteLiteral(value);
  });
}
