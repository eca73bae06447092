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
