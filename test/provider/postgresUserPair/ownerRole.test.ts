/**
 * `PostgresUserPair`'s `ownerRole`: both users' sessions run as one group role of `memberOf`,
 * which owns what either creates, so the other can alter and drop it after a rotation. Created
 * and adopted users, SET on PostgreSQL 16+, drift, removal; the oldest and the newest major.
 */
import { expect } from "chai";
import type { Client } from "pg";
import { Client as PgClient } from "pg";
import * as handlers from "../../../provider/postgresUserPair/handlers";
import type { UserPairInputs, UserPairOutputs } from "../../../provider/core/userPair";
import { generatePassword } from "../../../provider/core/password";
import { quoteIdentifier } from "../../../provider/postgres/sql";
import { setupSql } from "../../../scripts/setupSql";
import { TEST_MAJORS, cluster, uniqueName, type TestCluster } from "../../support/servers";

const EDGE_MAJORS = TEST_MAJORS.filter((_, i) => i === 0 || i === TEST_MAJORS.length - 1);
const q = quoteIdentifier;

for (const major of EDGE_MAJORS) {
  describe(`PostgresUserPair ownerRole on PostgreSQL ${major}`, function () {
    let pg: TestCluster;
    before(async () => {
      pg = await cluster(major);
    });

    const inputs = (
      rotateUsers: { username1: string; username2: string },
      memberOf: string[],
      extra: Partial<UserPairInputs> = {},
    ): UserPairInputs => ({ database: pg.database, rotateUsers, memberOf, ...extra });

    /** A group set up the README way, with the README's ownerRole SQL. */
    const ownerGroup = async (group?: string) => {
      const name = await pg.createGroup(group);
      const names = {
        manager: pg.manager.username,
        group: name,
        username1: "u1",
        username2: "u2",
        database: "app",
      };
      await pg.asSuperuser(async (c) => {
        for (const sql of setupSql("owner", names)) await c.query(sql);
      });
      return name;
    };
    const as = async <T>(username: string, password: string, work: (c: Client) => Promise<T>) => {
      const client = new PgClient({
        host: pg.server.host,
        port: pg.server.port,
        database: "app",
        user: username,
        password,
      });
      await client.connect();
      try {
        return await work(client);
      } finally {
        await client.end();
      }
    };
    const roleSetting = (username: string) =>
      pg.asSuperuser(async (c: Client) => {
        const { rows } = await c.query<{ s: string[] | null }>(
          `SELECT s.setconfig AS s FROM pg_db_role_setting s JOIN pg_roles r ON r.oid = s.setrole
           WHERE r.rolname = $1 AND s.setdatabase = 0`,
          [username],
        );
        return (rows[0]?.s ?? []).filter((e) => e.startsWith("role="));
      });
    const setOptions = (users: string[], group: string) =>
      pg.asSuperuser(async (c: Client) => {
        const { rows } = await c.query<{ u: string; set: boolean }>(
          `SELECT u.rolname AS u, bool_or(m.set_option) AS set FROM pg_auth_members m
           JOIN pg_roles u ON u.oid = m.member JOIN pg_roles g ON g.oid = m.roleid
           WHERE g.rolname = $2 AND u.rolname = ANY($1) GROUP BY 1 ORDER BY 1`,
          [users, group],
        );
        return rows;
      });

    it("both users' sessions run as it: a table one creates, the other alters, truncates and drops", async () => {
      const group = await ownerGroup();
      const users = { username1: uniqueName("own_a"), username2: uniqueName("own_b") };
      const out = (await handlers.create(inputs(users, [group], { ownerRole: group })))
        .outs as UserPairOutputs;
      expect(out.ownerRole).to.equal(group);
      const [p1, p2] = [out.passwords[users.username1], out.passwords[users.username2]];
      const table = q(uniqueName("migrated"));
      const who = await as(users.username1, p1, async (c) => {
        await c.query(`CREATE TABLE ${table} (id int)`);
        return (await c.query("SELECT session_user::text AS s, current_user::text AS c")).rows[0];
      });
      expect(who).to.deep.equal({ s: users.username1, c: group });
      await as(users.username2, p2, async (c) => {
        await c.query(`ALTER TABLE ${table} ADD COLUMN note text`);
        await c.query(`TRUNCATE ${table}`);
        await c.query(`DROP TABLE ${table}`);
        // The other user's sessions run as the owner role too.
        const { rows } = await c.query("SELECT current_user::text AS c");
        expect(rows[0].c).to.equal(group);
      });
      if (major >= 16) {
        expect(await setOptions([users.username1, users.username2], group)).to.deep.equal(
          [users.username1, users.username2].sort().map((u) => ({ u, set: true })),
        );
      }
      // As applied: no drift, nothing to change.
      const read = await handlers.read("id", out);
      expect((read.props as UserPairOutputs).drift).to.deep.equal([]);
      const diff = await handlers.diff(
        "id",
        out,
        inputs(users, [group], { ownerRole: group }) as unknown as Record<string, unknown>,
      );
      expect(diff.changes).to.equal(false);
    });

    it("adopted users get it too; on 16+ a membership without SET is granted SET", async () => {
      const users = await pg.createPair();
      const group = await pg.asSuperuser(async (c) => {
        const { rows } = await c.query<{ g: string }>(
          `SELECT g.rolname AS g FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid
           JOIN pg_roles u ON u.oid = m.member WHERE u.rolname = $1`,
          [users.username1],
        );
        return rows[0].g;
      });
      await pg.asSuperuser(async (c) => {
        const tags = major >= 16 ? ["group:16+", "owner"] : ["owner"];
        const names = {
          manager: pg.manager.username,
          group,
          username1: "u1",
          username2: "u2",
          database: "app",
        };
        for (const tag of tags) for (const sql of setupSql(tag, names)) await c.query(sql);
        if (major >= 16) {
          const both = `${q(users.username1)}, ${q(users.username2)}`;
          await c.query(`REVOKE ${q(group)} FROM ${both}`);
          await c.query(`GRANT ${q(group)} TO ${both} WITH SET FALSE`);
        }
      });
      const out = (await handlers.create(inputs(users, [group], { ownerRole: group })))
        .outs as UserPairOutputs;
      expect(out.created).to.deep.equal([]);
      for (const u of [users.username1, users.username2]) {
        expect(await roleSetting(u)).to.deep.equal([`role=${group}`]);
      }
      if (major >= 16) {
        expect(await setOptions([users.username1, users.username2], group)).to.deep.equal(
          [users.username1, users.username2].sort().map((u) => ({ u, set: true })),
        );
      }
      const password = generatePassword();
      await pg.setPassword(users.username2, password);
      const who = await as(users.username2, password, async (c) => {
        return (await c.query("SELECT current_user::text AS c")).rows[0].c;
      });
      expect(who).to.equal(group);
    });

    it("refresh reports a role reset outside Pulumi; the next up sets it again; dropping ownerRole resets it", async () => {
      const group = await ownerGroup();
      const users = { username1: uniqueName("own_a"), username2: uniqueName("own_b") };
      const created = await handlers.create(inputs(users, [group], { ownerRole: group }));
      await pg.asSuperuser((c) => c.query(`ALTER ROLE ${q(users.username2)} RESET role`));
      const read = await handlers.read(created.id, created.outs as UserPairOutputs);
      const refreshed = read.props as UserPairOutputs;
      expect(refreshed.drift).to.deep.equal([
        `"${users.username2}" setting role changed outside Pulumi`,
      ]);
      const news = inputs(users, [group], { ownerRole: group });
      expect((await handlers.diff("id", refreshed, news as never)).changes).to.equal(true);
      const updated = (await handlers.update("id", refreshed, news)).outs as UserPairOutputs;
      expect(await roleSetting(users.username2)).to.deep.equal([`role=${group}`]);
      const without = (await handlers.update("id", updated, inputs(users, [group])))
        .outs as UserPairOutputs;
      expect(without.ownerRole).to.equal(undefined);
      for (const u of [users.username1, users.username2]) {
        expect(await roleSetting(u)).to.deep.equal([]);
      }
    });

    it("refuses an ownerRole memberOf does not list, before anything changes", async () => {
      const group = await ownerGroup();
      const users = { username1: uniqueName("own_a"), username2: uniqueName("own_b") };
      const checked = await handlers.check(
        {},
        inputs(users, [group], { ownerRole: "someone" }) as unknown as Record<string, unknown>,
      );
      expect(checked.failures).to.deep.equal([
        {
          property: "ownerRole",
          reason:
            `ownerRole "someone" must be one of memberOf: the users' sessions can run only as a ` +
            `role they are members of`,
        },
      ]);
    });
  });
}
