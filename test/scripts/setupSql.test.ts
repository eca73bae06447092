/**
 * The README's setup SQL on PostgreSQL 16 and later gives the managing user the ADMIN option on
 * the users and the group, and nothing more: `INHERIT FALSE, SET FALSE` keep it from reading
 * their tables or becoming them. Fails if the README granted `INHERIT TRUE` or `SET TRUE`.
 */
import { expect } from "chai";
import { Client } from "pg";
import { generatePassword } from "../../provider/core/password";
import { quoteIdentifier } from "../../provider/postgres/sql";
import { setupSql } from "../../scripts/setupSql";
import { rejection } from "../support/secrets";
import { TEST_MAJORS, cluster, uniqueName, type TestCluster } from "../support/servers";

for (const major of TEST_MAJORS.filter((m) => m >= 16)) {
  describe(`README setup SQL on PostgreSQL ${major}: the managing user's grants are minimal`, () => {
    let pg: TestCluster;
    let manager: Client;
    let pair: { username1: string; username2: string };
    let group: string;
    let tables: { user: string; group: string };
    before(async () => {
      pg = await cluster(major);
      pair = await pg.createPair();
      group = await pg.createGroup();
      tables = { user: uniqueName("t_user"), group: uniqueName("t_group") };
      await pg.asSuperuser(async (c) => {
        await c.query(`CREATE TABLE ${quoteIdentifier(tables.user)} (secret text)`);
        await c.query(
          `ALTER TABLE ${quoteIdentifier(tables.user)} OWNER TO ${quoteIdentifier(pair.username1)}`,
        );
        await c.query(`CREATE TABLE ${quoteIdentifier(tables.group)} (secret text)`);
        await c.query(
          `GRANT SELECT ON ${quoteIdentifier(tables.group)} TO ${quoteIdentifier(group)}`,
        );
      });
      manager = new Client({
        host: pg.server.host,
        port: pg.server.port,
        database: "app",
        user: pg.manager.username,
        password: pg.manager.password,
        ssl: false,
      });
      await manager.connect();
    });
    after(() => manager?.end());

    // One session for all: a SET ROLE that wrongly succeeds must not change who the next test is.
    afterEach(() => manager.query("RESET ROLE"));
    const denied = async (sql: string) => {
      const error = await rejection(manager.query(sql));
      expect((error as { code?: string }).code, sql).to.equal("42501");
    };

    it("holds ADMIN on each user: it may change their passwords", async () => {
      await manager.query(`ALTER ROLE ${quoteIdentifier(pair.username2)} CONNECTION LIMIT 7`);
    });

    it("cannot read a table a rotated user owns", async () => {
      await denied(`SELECT * FROM ${quoteIdentifier(tables.user)}`);
    });

    it("cannot SET ROLE to a rotated user", async () => {
      await denied(`SET ROLE ${quoteIdentifier(pair.username1)}`);
    });

    it("cannot read a table granted to the group", async () => {
      await denied(`SELECT * FROM ${quoteIdentifier(tables.group)}`);
    });

    it("cannot SET ROLE to the group", async () => {
      await denied(`SET ROLE ${quoteIdentifier(group)}`);
    });

    it("has no privileges of the users or the group by inheritance", async () => {
      const { rows } = await manager.query<{ u: boolean; g: boolean }>(
        `SELECT pg_has_role(current_user, $1, 'USAGE') AS u, pg_has_role(current_user, $2, 'USAGE') AS g`,
        [pair.username1, group],
      );
      expect(rows[0]).to.deep.equal({ u: false, g: false });
    });
  });
}

// The oldest and the newest major: the README's ownerRole SQL for a pair made by hand.
for (const major of TEST_MAJORS.filter((_, i) => i === 0 || i === TEST_MAJORS.length - 1)) {
  describe(`README ownerRole SQL on PostgreSQL ${major}: both users run as the group`, () => {
    it("a table one user creates is owned by the group; the other alters, truncates and drops it", async () => {
      const pg = await cluster(major);
      const pair = await pg.createPair();
      const passwords = {
        [pair.username1]: generatePassword(),
        [pair.username2]: generatePassword(),
      };
      const group = await pg.asSuperuser(async (c) => {
        const { rows } = await c.query<{ g: string }>(
          `SELECT g.rolname AS g FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid
           JOIN pg_roles u ON u.oid = m.member WHERE u.rolname = $1`,
          [pair.username1],
        );
        const tags = major >= 16 ? ["owner:pair", "owner:pair:16+"] : ["owner:pair"];
        const names = { manager: pg.manager.username, group: rows[0].g, ...pair, database: "app" };
        for (const tag of tags) for (const sql of setupSql(tag, names)) await c.query(sql);
        return rows[0].g;
      });
      for (const [u, p] of Object.entries(passwords)) await pg.setPassword(u, p);
      const as = async <T>(username: string, work: (c: Client) => Promise<T>) => {
        const client = new Client({
          host: pg.server.host,
          port: pg.server.port,
          database: "app",
          user: username,
          password: passwords[username],
        });
        await client.connect();
        try {
          return await work(client);
        } finally {
          await client.end();
        }
      };
      // Each user creates a table (both run as the group), the other alters, truncates, drops it.
      for (const [creator, other] of [
        [pair.username1, pair.username2],
        [pair.username2, pair.username1],
      ]) {
        const table = quoteIdentifier(uniqueName("migrated"));
        const who = await as(creator, async (c) => {
          await c.query(`CREATE TABLE ${table} (id int)`);
          return (await c.query("SELECT session_user::text AS s, current_user::text AS c")).rows[0];
        });
        expect(who).to.deep.equal({ s: creator, c: group });
        await as(other, async (c) => {
          await c.query(`ALTER TABLE ${table} ADD COLUMN note text`);
          await c.query(`TRUNCATE ${table}`);
          await c.query(`DROP TABLE ${table}`);
        });
      }
    });
  });
}
