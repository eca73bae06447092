/**
 * `PostgresUserPair` never accepts two users that differ in what a session can do: a role
 * attribute, a membership option, a setting in any database, a connection limit. Each kind of
 * difference made by hand on an adopted pair is refused with the list and the SQL that fixes it,
 * nothing changed; a refresh reports each as drift. On the oldest and the newest major.
 */
import { expect } from "chai";
import type { Client } from "pg";
import { Client as PgClient } from "pg";
import * as handlers from "../../../provider/postgresUserPair/handlers";
import type { UserPairInputs, UserPairOutputs } from "../../../provider/core/userPair";
import { generatePassword } from "../../../provider/core/password";
import { quoteIdentifier } from "../../../provider/postgres/sql";
import { ForbiddenRoleError } from "../../../provider/errors";
import { expectNoSecrets, rejection } from "../../support/secrets";
import { TEST_MAJORS, cluster, uniqueName, type TestCluster } from "../../support/servers";

const EDGE_MAJORS = TEST_MAJORS.filter((_, i) => i === 0 || i === TEST_MAJORS.length - 1);

interface Difference {
  readonly title: string;
  readonly minMajor?: number;
  /** SQL run as a superuser on the adopted pair's second user (`u`), its group `g`. */
  readonly change: (u: string, g: string, other: string) => string;
  /** What the refusal says, with the SQL that fixes it. */
  readonly says: (u: string, g: string, other: string) => string[];
}

const q = quoteIdentifier;

const DIFFERENCES: readonly Difference[] = [
  {
    title: "NOINHERIT",
    change: (u) => `ALTER ROLE ${q(u)} NOINHERIT`,
    says: (u, _g, o) => [
      `"${u}" is NOINHERIT and "${o}" is INHERIT: make both the same, e.g. ALTER ROLE`,
      `ALTER ROLE ${q(u)} INHERIT;`,
    ],
  },
  {
    title: "CREATEDB",
    change: (u) => `ALTER ROLE ${q(u)} CREATEDB`,
    says: (u, _g, o) => [
      `"${u}" has CREATEDB and "${o}" has not: make both the same, e.g. as a superuser: ALTER`,
      `ALTER ROLE ${q(u)} NOCREATEDB;`,
    ],
  },
  {
    title: "BYPASSRLS",
    change: (u) => `ALTER ROLE ${q(u)} BYPASSRLS`,
    says: (u, _g, o) => [
      `"${u}" has BYPASSRLS and "${o}" has not`,
      `ALTER ROLE ${q(u)} NOBYPASSRLS;`,
    ],
  },
  {
    title: "CREATEROLE",
    change: (u) => `ALTER ROLE ${q(u)} CREATEROLE`,
    says: (u) => [`"${u}" has CREATEROLE`, `ALTER ROLE ${q(u)} NOCREATEROLE;`],
  },
  {
    title: "REPLICATION",
    change: (u) => `ALTER ROLE ${q(u)} REPLICATION`,
    says: (u) => [`"${u}" has REPLICATION`, `ALTER ROLE ${q(u)} NOREPLICATION;`],
  },
  {
    title: "a VALID UNTIL date",
    change: (u) => `ALTER ROLE ${q(u)} VALID UNTIL '2999-01-01'`,
    says: (u, _g, o) => [
      `"${o}" and "${u}" have different VALID UNTIL dates: make both the same, e.g. ALTER`,
      `ALTER ROLE ${q(u)} VALID UNTIL 'infinity';`,
    ],
  },
  {
    title: "two different VALID UNTIL dates",
    change: (u, _g, o) =>
      `ALTER ROLE ${q(u)} VALID UNTIL '2999-01-01'; ALTER ROLE ${q(o)} VALID UNTIL '2998-01-01'`,
    says: (u, _g, o) => [
      `"${o}" and "${u}" have different VALID UNTIL dates`,
      `ALTER ROLE ${q(o)} VALID UNTIL 'infinity'; ALTER ROLE ${q(u)} VALID UNTIL 'infinity';`,
    ],
  },
  {
    title: "a connection limit, with no connectionLimit given",
    change: (u) => `ALTER ROLE ${q(u)} CONNECTION LIMIT 5`,
    says: (u, _g, o) => [
      `"${o}" has CONNECTION LIMIT -1 and "${u}" 5`,
      "give connectionLimit, and both get it",
    ],
  },
  {
    title: "a setting memberOf's settings do not list",
    change: (u) => `ALTER ROLE ${q(u)} SET work_mem = '8MB'`,
    says: (u, _g, o) => [
      `"${u}" has setting work_mem and "${o}" has not`,
      `ALTER ROLE ${q(u)} RESET work_mem; (or list it in settings, and both get it)`,
    ],
  },
  {
    title: "a custom setting",
    change: (u) => `ALTER ROLE ${q(u)} SET myapp.tenant_1 = 'a'`,
    says: (u, _g, o) => [
      `"${u}" has setting myapp.tenant_1 and "${o}" has not`,
      `ALTER ROLE ${q(u)} RESET myapp.tenant_1;`,
    ],
  },
  {
    title: "a custom setting whose name needs quotes",
    change: (u) => `ALTER ROLE ${q(u)} SET "myapp.Tenant" = 'a'`,
    says: (u, _g, o) => [
      `"${u}" has setting myapp.Tenant and "${o}" has not`,
      `ALTER ROLE ${q(u)} RESET "myapp"."Tenant";`,
    ],
  },
  {
    title: "the same setting with another value",
    change: (u, _g, o) =>
      `ALTER ROLE ${q(u)} SET work_mem = '8MB'; ALTER ROLE ${q(o)} SET work_mem = '9MB'`,
    says: (u, _g, o) => [
      `"${o}" and "${u}" have different values of setting work_mem`,
      `ALTER ROLE ${q(o)} RESET work_mem; ALTER ROLE ${q(u)} RESET work_mem;`,
    ],
  },
  {
    title: "a per-database search_path",
    change: (u) => `ALTER ROLE ${q(u)} IN DATABASE app SET search_path = x`,
    says: (u, _g, o) => [
      `"${u}" has setting search_path in database "app" and "${o}" has not`,
      `ALTER ROLE ${q(u)} IN DATABASE "app" RESET search_path; (or set the same on both)`,
    ],
  },
  {
    title: "the ADMIN option on the group",
    change: (u, g) => `GRANT ${q(g)} TO ${q(u)} WITH ADMIN OPTION`,
    says: (u, g, o) => [
      `"${u}"'s membership in "${g}" is WITH ADMIN OPTION and "${o}"'s is not`,
      `REVOKE ADMIN OPTION FOR ${q(g)} FROM ${q(u)};`,
    ],
  },
  {
    title: "a membership granted WITH INHERIT FALSE",
    minMajor: 16,
    change: (u, g) => `REVOKE ${q(g)} FROM ${q(u)}; GRANT ${q(g)} TO ${q(u)} WITH INHERIT FALSE`,
    says: (u, g, o) => [
      `"${u}"'s membership in "${g}" is INHERIT FALSE and "${o}"'s is INHERIT TRUE`,
      `GRANT ${q(g)} TO ${q(u)} WITH INHERIT TRUE;`,
    ],
  },
  {
    title: "a membership granted WITH SET FALSE",
    minMajor: 16,
    change: (u, g) => `REVOKE ${q(g)} FROM ${q(u)}; GRANT ${q(g)} TO ${q(u)} WITH SET FALSE`,
    says: (u, g, o) => [
      `"${u}"'s membership in "${g}" is SET FALSE and "${o}"'s is SET TRUE`,
      `GRANT ${q(g)} TO ${q(u)} WITH SET TRUE;`,
    ],
  },
];

for (const major of EDGE_MAJORS) {
  describe(`PostgresUserPair keeps both users identical on PostgreSQL ${major}`, function () {
    let pg: TestCluster;
    before(async () => {
      pg = await cluster(major);
    });

    const inputs = (
      rotateUsers: { username1: string; username2: string },
      memberOf: string[],
      extra: Partial<UserPairInputs> = {},
    ): UserPairInputs => ({ database: pg.database, rotateUsers, memberOf, ...extra });

    const groupOf = (username: string) =>
      pg.asSuperuser(async (c: Client) => {
        const { rows } = await c.query<{ g: string }>(
          `SELECT g.rolname AS g FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid
           JOIN pg_roles u ON u.oid = m.member WHERE u.rolname = $1`,
          [username],
        );
        return rows[0].g;
      });
    const settingsOf = (username: string) =>
      pg.asSuperuser(async (c: Client) => {
        const { rows } = await c.query<{ s: string[] | null }>(
          `SELECT s.setconfig AS s FROM pg_db_role_setting s JOIN pg_roles r ON r.oid = s.setrole
           WHERE r.rolname = $1 AND s.setdatabase = 0`,
          [username],
        );
        return rows[0]?.s ?? [];
      });
    /** An adopted pair (the README's SQL) whose second user was changed by hand. */
    const changedPair = async (difference: Difference) => {
      const users = await pg.createPair();
      const group = await groupOf(users.username1);
      await pg.asSuperuser((c) =>
        c.query(difference.change(users.username2, group, users.username1)),
      );
      return { users, group };
    };

    for (const difference of DIFFERENCES) {
      if (difference.minMajor !== undefined && major < difference.minMajor) continue;
      it(`refuses to adopt two users that differ by ${difference.title}, with the SQL; nothing changes`, async () => {
        const { users, group } = await changedPair(difference);
        const passwords = [generatePassword(), generatePassword()];
        await pg.setPassword(users.username1, passwords[0]);
        const error = await rejection(
          handlers.create(inputs(users, [group], { settings: { statement_timeout: "31s" } })),
        );
        expect(error).to.be.instanceOf(ForbiddenRoleError);
        expect(error.message).to.include("nothing was changed");
        for (const line of difference.says(users.username2, group, users.username1)) {
          expect(error.message).to.include(line);
        }
        const timeouts = (await settingsOf(users.username1)).filter((s) =>
          s.startsWith("statement_"),
        );
        expect(timeouts).to.deep.equal([]);
        expectNoSecrets(error.message, [...passwords, pg.manager.password]);
      });
    }

    it("refuses to create the missing user beside an adopted one that differs from a new one", async () => {
      const existing = await pg.createPair();
      const group = await groupOf(existing.username1);
      await pg.asSuperuser((c) => c.query(`ALTER ROLE ${q(existing.username1)} CREATEDB`));
      const users = { username1: existing.username1, username2: uniqueName("pair_new") };
      const error = await rejection(handlers.create(inputs(users, [group])));
      expect(error).to.be.instanceOf(ForbiddenRoleError);
      expect(error.message).to.include(
        `"${users.username1}" has CREATEDB and "${users.username2}" has not`,
      );
      const exists = await pg.asSuperuser(
        async (c) =>
          (await c.query("SELECT 1 FROM pg_roles WHERE rolname = $1", [users.username2])).rowCount,
      );
      expect(exists).to.equal(0);
    });

    it("adopts a pair one of whose users a rotation locked (its template0 setting is no difference)", async () => {
      const users = await pg.createPair();
      const group = await groupOf(users.username1);
      await pg.asSuperuser((c) =>
        c.query(
          `ALTER ROLE ${q(users.username1)} IN DATABASE template0 SET application_name = 'pulumi-postgres-rotator'`,
        ),
      );
      const out = (await handlers.create(inputs(users, [group]))).outs as UserPairOutputs;
      expect(out.created).to.deep.equal([]);
    });

    it("a probe table granted to the group: read by one user only until the difference is fixed, then by both", async () => {
      const difference =
        major >= 16
          ? DIFFERENCES.find((d) => d.title === "a membership granted WITH INHERIT FALSE")!
          : DIFFERENCES.find((d) => d.title === "NOINHERIT")!;
      const { users, group } = await changedPair(difference);
      const probe = uniqueName("probe");
      await pg.asSuperuser(async (c) => {
        await c.query(`CREATE TABLE ${q(probe)} (v int); INSERT INTO ${q(probe)} VALUES (1)`);
        await c.query(`GRANT SELECT ON ${q(probe)} TO ${q(group)}`);
      });
      const passwords = {
        [users.username1]: generatePassword(),
        [users.username2]: generatePassword(),
      };
      for (const [u, p] of Object.entries(passwords)) await pg.setPassword(u, p);
      const reads = async (username: string) => {
        const client = new PgClient({
          host: pg.server.host,
          port: pg.server.port,
          database: "app",
          user: username,
          password: passwords[username],
        });
        await client.connect();
        try {
          return (await client.query(`SELECT v FROM ${q(probe)}`)).rows[0].v === 1;
        } catch (error) {
          if ((error as { code?: string }).code === "42501") return false;
          throw error;
        } finally {
          await client.end();
        }
      };
      expect([await reads(users.username1), await reads(users.username2)]).to.deep.equal([
        true,
        false,
      ]);
      const error = await rejection(handlers.create(inputs(users, [group])));
      expect(error).to.be.instanceOf(ForbiddenRoleError);
      const [, fix] = difference.says(users.username2, group, users.username1);
      expect(error.message).to.include(fix);
      await pg.asSuperuser((c) => c.query(fix));
      await handlers.create(inputs(users, [group]));
      expect([await reads(users.username1), await reads(users.username2)]).to.deep.equal([
        true,
        true,
      ]);
    });

    it("reports each kind of difference made by hand as drift on refresh", async () => {
      const group = await pg.createGroup();
      const users = { username1: uniqueName("pair_a"), username2: uniqueName("pair_b") };
      const created = await handlers.create(inputs(users, [group]));
      const u = users.username2;
      await pg.asSuperuser((c) =>
        c.query(
          `ALTER ROLE ${q(u)} NOINHERIT CREATEDB BYPASSRLS VALID UNTIL '2999-01-01';
           ALTER ROLE ${q(u)} IN DATABASE app SET search_path = x;
           GRANT ${q(group)} TO ${q(u)} WITH ADMIN OPTION`,
        ),
      );
      const read = await handlers.read(created.id, created.outs as UserPairOutputs);
      const drift = (read.props as UserPairOutputs).drift;
      expect(drift).to.include.members([
        `"${u}" is now NOINHERIT`,
        `"${u}" now has CREATEDB`,
        `"${u}" now has BYPASSRLS`,
        `"${u}" VALID UNTIL changed outside Pulumi`,
        `"${u}" setting search_path in database "app" changed outside Pulumi`,
        `"${u}"'s membership in "${group}" is now WITH ADMIN OPTION`,
      ]);
    });
  });
}
