/**
 * The README's setup SQL on PostgreSQL 16 and later gives the managing user the ADMIN option on
 * the users and the group, and nothing more: `INHERIT FALSE, SET FALSE` keep it from reading
 * their tables or becoming them. Fails if the README granted `INHERIT TRUE` or `SET TRUE`.
 */
import { expect } from "chai";
import { Client } from "pg";
import { quoteIdentifier } from "../../provider/postgres/sql";
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
