/**
 * Evidence for the hostile-input suites: what the server holds for every role, what changed
 * between two looks, and whether the server saw a connection at all.
 */
import type { TestCluster } from "./servers";

/** Every role of the cluster, by name: its password (hashed), attributes, settings and comment. */
export async function roleSnapshot(pg: TestCluster): Promise<Map<string, string>> {
  return pg.asSuperuser(async (c) => {
    const { rows } = await c.query<{ rolname: string; row: string }>(
      `SELECT a.rolname::text AS rolname,
              concat_ws('|', md5(coalesce(a.rolpassword, '')), a.rolsuper, a.rolcanlogin,
                        a.rolcreaterole, a.rolinherit, a.rolconnlimit, a.rolvaliduntil,
                        shobj_description(a.oid, 'pg_authid'),
                        (SELECT string_agg(s.setdatabase || ':' || array_to_string(s.setconfig, ','), ';')
                         FROM pg_db_role_setting s WHERE s.setrole = a.oid),
                        (SELECT string_agg(m.roleid::regrole::text, ',' ORDER BY 1)
                         FROM pg_auth_members m WHERE m.member = a.oid)) AS row
       FROM pg_authid a`,
    );
    return new Map(rows.map((r) => [r.rolname, r.row]));
  });
}

/** The roles whose row differs between two snapshots (added and removed ones too), sorted. */
export function changedRoles(before: Map<string, string>, after: Map<string, string>): string[] {
  const names = new Set([...before.keys(), ...after.keys()]);
  return [...names].filter((name) => before.get(name) !== after.get(name)).sort();
}

/** How many connections the server has received so far (its log has `log_connections = on`). */
export function connectionsReceived(pg: TestCluster): number {
  return pg.server.readLog().split("connection received:").length - 1;
}

let tags = 0;
/** A short tag unique to this process and call, so hostile names never meet an earlier role. */
export function tag(): string {
  tags += 1;
  return `${process.pid.toString(36)}${tags.toString(36)}`.slice(-6).padStart(6, "0");
}

/** `unit` repeated, padded with `x` and ended by a unique tag: exactly `bytes` bytes of UTF-8. */
export function nameOfBytes(unit: string, bytes = 63): string {
  const end = tag();
  let name = "";
  while (Buffer.byteLength(name + unit + end) <= bytes) name += unit;
  return (name + "x".repeat(bytes - Buffer.byteLength(name + end)) + end).normalize("NFC");
}
