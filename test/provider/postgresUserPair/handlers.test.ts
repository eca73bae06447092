/**
 * `PostgresUserPair`'s provider handlers against real PostgreSQL 13-18, with the least-privilege
 * managing user and the group role set up by the README's SQL: create, adopt, memberships,
 * drift, delete, refusals, and no password anywhere the server writes.
 */
import { expect } from "chai";
import type { Client } from "pg";
import { Client as PgClient } from "pg";
import * as handlers from "../../../provider/postgresUserPair/handlers";
import type { UserPairInputs, UserPairOutputs } from "../../../provider/core/userPair";
import { generatePassword } from "../../../provider/core/password";
import { quoteIdentifier } from "../../../provider/postgres/sql";
import {
  ForbiddenRoleError,
  PermissionDeniedError,
  ValidationError,
} from "../../../provider/errors";
import { expectNoSecrets, rejection } from "../../support/secrets";
import { TEST_MAJORS, cluster, uniqueName, type TestCluster } from "../../support/servers";

/** A resource's life as the engine drives it. */
class PairLife {
  id = "";
  outputs?: UserPairOutputs;
  async create(inputs: UserPairInputs): Promise<UserPairOutputs> {
    const checked = await handlers.check({}, inputs as unknown as Record<string, unknown>);
    expect(checked.failures).to.deep.equal([]);
    const result = await handlers.create(checked.inputs as UserPairInputs);
    this.id = result.id;
    return (this.outputs = result.outs as UserPairOutputs);
  }
  async apply(inputs: UserPairInputs): Promise<string> {
    const news = inputs as unknown as Record<string, unknown>;
    const diff = await handlers.diff(this.id, this.outputs!, news);
    if (diff.replaces?.length) return "replace";
    if (!diff.changes) return "none";
    this.outputs = (await handlers.update(this.id, this.outputs!, inputs)).outs as UserPairOutputs;
    return "update";
  }
  async refresh(): Promise<UserPairOutputs> {
    return (this.outputs = (await handlers.read(this.id, this.outputs!)).props as UserPairOutputs);
  }
  async delete(): Promise<void> {
    await handlers.remove(this.id, this.outputs!);
  }
}

for (const major of TEST_MAJORS) {
  describe(`PostgresUserPair handlers on PostgreSQL ${major}`, function () {
    let pg: TestCluster;
    before(async () => {
      pg = await cluster(major);
    });

    const names = () => ({ username1: uniqueName("pair_a"), username2: uniqueName("pair_b") });
    const inputs = (
      rotateUsers: { username1: string; username2: string },
      memberOf: string[],
      extra: Partial<UserPairInputs> = {},
    ): UserPairInputs => ({ database: pg.database, rotateUsers, memberOf, ...extra });

    const membershipsOf = (username: string) =>
      pg.asSuperuser(async (c: Client) => {
        const { rows } = await c.query<{ g: string }>(
          `SELECT DISTINCT g.rolname AS g FROM pg_auth_members m
           JOIN pg_roles g ON g.oid = m.roleid JOIN pg_roles u ON u.oid = m.member
           WHERE u.rolname = $1 ORDER BY 1`,
          [username],
        );
        return rows.map((r) => r.g);
      });
    const exists = (username: string) =>
      pg.asSuperuser(
        async (c: Client) =>
          (await c.query("SELECT 1 FROM pg_roles WHERE rolname = $1", [username])).rowCount === 1,
      );

    it("creates both users with known passwords that log in, members of exactly memberOf", async () => {
      const group = await pg.createGroup();
      const users = names();
      const life = new PairLife();
      const out = await life.create(inputs(users, [group]));
      expect(out.created).to.deep.equal([users.username1, users.username2]);
      expect(out.initialState).to.deep.equal({
        current: { username: users.username1, password: out.passwords[users.username1] },
        previous: { username: users.username2, password: out.passwords[users.username2] },
      });
      for (const username of [users.username1, users.username2]) {
        expect(await pg.canLogin(username, out.passwords[username])).to.equal(true);
        expect(await membershipsOf(username)).to.deep.equal([group]);
      }
      expect(out.memberOf).to.deep.equal([group]);
      expect(out.drift).to.deep.equal([]);
      // The server saw verifiers only.
      const log = pg.server.readLog();
      for (const password of Object.values(out.passwords)) expect(log).to.not.include(password);
    });

    if (major >= 16) {
      it("leaves the managing user ADMIN and nothing more, whatever createrole_self_grant says", async () => {
        const manager = quoteIdentifier(pg.manager.username);
        await pg.asSuperuser((c) =>
          c.query(`ALTER ROLE ${manager} SET createrole_self_grant = 'set, inherit'`),
        );
        try {
          const users = names();
          await new PairLife().create(inputs(users, [await pg.createGroup()]));
          const grants = await pg.asSuperuser(async (c) => {
            const { rows } = await c.query(
              `SELECT u.rolname AS role, admin_option, inherit_option, set_option
               FROM pg_auth_members m JOIN pg_roles u ON u.oid = m.roleid
               JOIN pg_roles mg ON mg.oid = m.member
               WHERE mg.rolname = $1 AND u.rolname = ANY($2) ORDER BY 1`,
              [pg.manager.username, [users.username1, users.username2]],
            );
            return rows;
          });
          expect(grants).to.deep.equal(
            [users.username1, users.username2].map((role) => ({
              role,
              admin_option: true,
              inherit_option: false,
              set_option: false,
            })),
          );
        } finally {
          await pg.asSuperuser((c) => c.query(`ALTER ROLE ${manager} RESET createrole_self_grant`));
        }
      });

      it("names the grant it lacks on a group role, with the SQL that fixes it, creating nothing", async () => {
        const group = uniqueName("no_admin");
        await pg.asSuperuser((c) => c.query(`CREATE ROLE ${quoteIdentifier(group)} NOLOGIN`));
        const users = names();
        const error = await rejection(new PairLife().create(inputs(users, [group])));
        expect(error).to.be.instanceOf(PermissionDeniedError);
        expect(error.message).to.include(
          `GRANT "${group}" TO "${pg.manager.username}" WITH ADMIN TRUE, INHERIT FALSE, SET FALSE;`,
        );
        expect(await exists(users.username1)).to.equal(false);
      });
    }

    it("adopts existing users without touching their passwords", async () => {
      const users = await pg.createPair();
      const group = (await membershipsOf(users.username1))[0];
      const p1 = generatePassword();
      await pg.setPassword(users.username1, p1);
      const life = new PairLife();
      const out = await life.create(inputs(users, [group]));
      expect(out.created).to.deep.equal([]);
      expect(out.passwords).to.deep.equal({});
      expect(out.initialState).to.equal(undefined);
      expect(await pg.canLogin(users.username1, p1)).to.equal(true);
      // An update of an adopted pair has no initial state to keep either.
      expect(await life.apply(inputs(users, [group, await pg.createGroup()]))).to.equal("update");
      expect(life.outputs!.initialState).to.equal(undefined);
    });

    it("creates the missing user of a half-existing pair and gives no initial state", async () => {
      const existing = await pg.createPair();
      const group = (await membershipsOf(existing.username1))[0];
      if (major >= 16) {
        // The new user must be granted the group: the README's group SQL lets the manager.
        const sql = `GRANT ${quoteIdentifier(group)} TO ${quoteIdentifier(pg.manager.username)} WITH ADMIN TRUE, INHERIT FALSE, SET FALSE`;
        await pg.asSuperuser((c) => c.query(sql));
      }
      const users = { username1: existing.username1, username2: uniqueName("pair_new") };
      const out = await new PairLife().create(inputs(users, [group]));
      expect(out.created).to.deep.equal([users.username2]);
      expect(Object.keys(out.passwords)).to.deep.equal([users.username2]);
      expect(out.initialState).to.equal(undefined);
      expect(await pg.canLogin(users.username2, out.passwords[users.username2])).to.equal(true);
    });

    it("refuses to adopt a user holding a group memberOf does not list; nothing changes", async () => {
      const existing = await pg.createPair();
      const other = await pg.createGroup();
      const users = { username1: existing.username1, username2: uniqueName("pair_new") };
      const [group] = await membershipsOf(existing.username1);
      const second = await pg.createGroup();
      await pg.asSuperuser((c) =>
        c.query(`GRANT ${quoteIdentifier(second)} TO ${quoteIdentifier(existing.username1)}`),
      );
      const error = await rejection(new PairLife().create(inputs(users, [other])));
      expect(error).to.be.instanceOf(ForbiddenRoleError);
      const held = [group, second].sort();
      const u = quoteIdentifier(existing.username1);
      expect(error.message.split("\n")).to.deep.equal([
        `cannot set up the users "${users.username1}", "${users.username2}"; nothing was changed:`,
        `  - "${existing.username1}" is also a member of ${held.map((g) => `"${g}"`).join(", ")}, ` +
          `which memberOf does not list: add them to memberOf (both users then get them), or ` +
          `first: ${held.map((g) => `REVOKE ${quoteIdentifier(g)} FROM ${u}`).join("; ")};`,
      ]);
      expect(await exists(users.username2)).to.equal(false);
      expect(await membershipsOf(existing.username1)).to.not.include(other);
    });

    it("grants and revokes exactly the difference when memberOf changes", async () => {
      const [g1, g2, g3] = [await pg.createGroup(), await pg.createGroup(), await pg.createGroup()];
      const users = names();
      const life = new PairLife();
      await life.create(inputs(users, [g1, g2]));
      expect(await life.apply(inputs(users, [g2, g3]))).to.equal("update");
      for (const username of [users.username1, users.username2]) {
        expect(await membershipsOf(username)).to.deep.equal([g2, g3].sort());
      }
      expect(await life.apply(inputs(users, [g3, g2]))).to.equal("none");
    });

    it("reports drift on refresh, and the next update repairs it", async () => {
      const [group, intruder] = [await pg.createGroup(), await pg.createGroup()];
      const users = names();
      const life = new PairLife();
      await life.create(inputs(users, [group]));
      await pg.asSuperuser(async (c) => {
        await c.query(`DROP ROLE ${quoteIdentifier(users.username2)}`);
        await c.query(`GRANT ${quoteIdentifier(intruder)} TO ${quoteIdentifier(users.username1)}`);
      });
      const refreshed = await life.refresh();
      expect(refreshed.drift).to.deep.equal([
        `"${users.username1}" is now also a member of "${intruder}"`,
        `"${users.username2}" no longer exists`,
      ]);
      // Refreshing again reports the same drift: it stays until an update repairs it.
      expect((await life.refresh()).drift).to.have.length(2);
      if (major >= 16) {
        // Only the role that granted a membership can revoke it on 16+: say so, change nothing.
        const error = await rejection(life.apply(inputs(users, [group])));
        expect(error).to.be.instanceOf(PermissionDeniedError);
        const revoke = `REVOKE ${quoteIdentifier(intruder)} FROM ${quoteIdentifier(users.username1)};`;
        expect(error.message).to.include(`"${pg.server.superuser.username}"`);
        expect(error.message).to.include(revoke);
        expect(await exists(users.username2)).to.equal(false);
        await pg.asSuperuser((c) => c.query(revoke));
      }
      expect(await life.apply(inputs(users, [group]))).to.equal("update");
      expect(life.outputs!.drift).to.deep.equal([]);
      expect(await membershipsOf(users.username1)).to.deep.equal([group]);
      const recreated = life.outputs!.passwords[users.username2];
      expect(await pg.canLogin(users.username2, recreated)).to.equal(true);
      expect(await membershipsOf(users.username2)).to.deep.equal([group]);
    });

    it("sets a list setting as a list: each user's sessions get search_path app, public", async () => {
      const users = names();
      const life = new PairLife();
      const out = await life.create(
        inputs(users, [await pg.createGroup()], {
          settings: { search_path: ["app", "public"], statement_timeout: "30s" },
        }),
      );
      for (const username of [users.username1, users.username2]) {
        const client = new PgClient({
          host: pg.server.host,
          port: pg.server.port,
          database: "app",
          user: username,
          password: out.passwords[username],
        });
        await client.connect();
        try {
          const { rows } = await client.query<{ search_path: string }>("SHOW search_path");
          expect(rows[0].search_path).to.equal("app, public");
        } finally {
          await client.end();
        }
      }
      // Applied again with nothing changed: no step, no drift.
      expect(
        await life.apply(
          inputs(users, out.memberOf as string[], {
            settings: { search_path: ["app", "public"], statement_timeout: "30s" },
          }),
        ),
      ).to.equal("none");
      expect((await life.refresh()).drift).to.deep.equal([]);
    });

    it("keeps both users on delete by default", async () => {
      const users = names();
      const life = new PairLife();
      const out = await life.create(inputs(users, [await pg.createGroup()]));
      await life.delete();
      expect(await pg.canLogin(users.username1, out.passwords[users.username1])).to.equal(true);
      expect(await pg.canLogin(users.username2, out.passwords[users.username2])).to.equal(true);
    });

    it("with deleteUsersOnDestroy drops them, refusing while one has a session or owns objects", async () => {
      const users = names();
      const life = new PairLife();
      const out = await life.create(
        inputs(users, [await pg.createGroup()], { deleteUsersOnDestroy: true }),
      );
      const session = new PgClient({
        host: pg.server.host,
        port: pg.server.port,
        database: "app",
        user: users.username1,
        password: out.passwords[users.username1],
      });
      await session.connect();
      try {
        const busy = await rejection(life.delete());
        expect(busy).to.be.instanceOf(ForbiddenRoleError);
        expect(busy.message).to.include(`"${users.username1}" has 1 open session(s)`);
      } finally {
        await session.end();
      }
      const table = quoteIdentifier(uniqueName("owned"));
      await pg.asSuperuser((c) =>
        c.query(
          `CREATE TABLE ${table} (); ALTER TABLE ${table} OWNER TO ${quoteIdentifier(users.username2)}`,
        ),
      );
      const owner = await rejection(life.delete());
      expect(owner).to.be.instanceOf(ForbiddenRoleError);
      expect(owner.message).to.include(`REASSIGN OWNED BY "${users.username2}"`);
      expect(await exists(users.username1)).to.equal(true);
      await pg.asSuperuser((c) => c.query(`DROP TABLE ${table}`));
      await life.delete();
      expect(await exists(users.username1)).to.equal(false);
      expect(await exists(users.username2)).to.equal(false);
    });

    /** An administrator drops `username` and creates a role of that name by hand (README SQL). */
    const recreateByHand = async (username: string) => {
      await pg.asSuperuser((c) => c.query(`DROP ROLE ${quoteIdentifier(username)}`));
      await pg.createPair(username, uniqueName("other"));
      const password = generatePassword();
      await pg.setPassword(username, password);
      return { password, groups: await membershipsOf(username) };
    };

    it("never drops a role created again by hand under the name of one it created", async () => {
      const users = names();
      const life = new PairLife();
      await life.create(inputs(users, [await pg.createGroup()], { deleteUsersOnDestroy: true }));
      const theirs = await recreateByHand(users.username1);
      await life.delete();
      expect(await pg.canLogin(users.username1, theirs.password)).to.equal(true);
      expect(await exists(users.username2)).to.equal(false);
    });

    it("reports a role created again by hand, withdraws its password, neither adopts nor drops it", async () => {
      const group = await pg.createGroup();
      const users = names();
      const life = new PairLife();
      const out = await life.create(inputs(users, [group], { deleteUsersOnDestroy: true }));
      expect(Object.keys(out.oids!).sort()).to.deep.equal(
        [users.username1, users.username2].sort(),
      );
      const theirs = await recreateByHand(users.username1);
      const refreshed = await life.refresh();
      expect(refreshed.drift).to.include(
        `"${users.username1}" was dropped and created again outside Pulumi: it is not the role ` +
          `this resource created or adopted`,
      );
      expect(Object.keys(refreshed.passwords)).to.deep.equal([users.username2]);
      expect(refreshed.initialState).to.equal(undefined);
      expect(refreshed.created).to.deep.equal([users.username2]);
      // The next up refuses it, changing nothing: its memberships and password stay the admin's.
      const error = await rejection(
        life.apply(inputs(users, [group], { deleteUsersOnDestroy: true })),
      );
      expect(error).to.be.instanceOf(ForbiddenRoleError);
      const oid = await pg.asSuperuser(
        async (c: Client) =>
          (
            await c.query("SELECT oid::int AS oid FROM pg_roles WHERE rolname = $1", [
              users.username1,
            ])
          ).rows[0].oid as number,
      );
      expect(error.message.split("\n")).to.deep.equal([
        `cannot set up the users "${users.username1}", "${users.username2}"; nothing was changed:`,
        `  - "${users.username1}" is not the role this resource created or adopted: it was ` +
          `dropped and created again outside Pulumi (OID ${oid}, recorded ` +
          `${out.oids![users.username1]}), and is neither adopted nor dropped. To have it ` +
          `created anew, with a new password: DROP ROLE "${users.username1}"; to adopt it as it ` +
          `is: pulumi state delete this resource, and the next up adopts both users`,
      ]);
      expect(await membershipsOf(users.username1)).to.deep.equal(theirs.groups);
      expect(await pg.canLogin(users.username1, theirs.password)).to.equal(true);
      expectNoSecrets(error.message, [theirs.password, ...Object.values(out.passwords)]);
      // Once the admin drops it, the next up creates it anew, with a password that logs in.
      await pg.asSuperuser((c) => c.query(`DROP ROLE ${quoteIdentifier(users.username1)}`));
      expect(await life.apply(inputs(users, [group], { deleteUsersOnDestroy: true }))).to.equal(
        "update",
      );
      const again = life.outputs!;
      expect(again.created).to.have.members([users.username1, users.username2]);
      expect(await pg.canLogin(users.username1, again.passwords[users.username1])).to.equal(true);
      expect(again.oids![users.username1]).to.not.equal(out.oids![users.username1]);
      await life.delete();
      expect(await exists(users.username1)).to.equal(false);
      expect(await exists(users.username2)).to.equal(false);
    });

    it("hands over an initial state that logs in after a dropped user is created again", async () => {
      const group = await pg.createGroup();
      const users = names();
      const life = new PairLife();
      const out = await life.create(inputs(users, [group]));
      await pg.asSuperuser((c) => c.query(`DROP ROLE ${quoteIdentifier(users.username1)}`));
      const refreshed = await life.refresh();
      // A password that no longer logs in is withdrawn at once.
      expect(Object.keys(refreshed.passwords)).to.deep.equal([users.username2]);
      expect(refreshed.initialState).to.equal(undefined);
      expect(await life.apply(inputs(users, [group]))).to.equal("update");
      const { passwords, initialState } = life.outputs!;
      expect(passwords[users.username1]).to.not.equal(out.passwords[users.username1]);
      expect(initialState).to.deep.equal({
        current: { username: users.username1, password: passwords[users.username1] },
        previous: { username: users.username2, password: passwords[users.username2] },
      });
      expect(await pg.canLogin(users.username1, initialState!.current.password)).to.equal(true);
      expect(await pg.canLogin(users.username2, initialState!.previous.password!)).to.equal(true);
    });

    it("with deleteUsersOnDestroy drops the user it created and keeps the one it adopted", async () => {
      const existing = await pg.createPair();
      const group = (await membershipsOf(existing.username1))[0];
      if (major >= 16) {
        const sql = `GRANT ${quoteIdentifier(group)} TO ${quoteIdentifier(pg.manager.username)} WITH ADMIN TRUE, INHERIT FALSE, SET FALSE`;
        await pg.asSuperuser((c) => c.query(sql));
      }
      const p1 = generatePassword();
      await pg.setPassword(existing.username1, p1);
      const users = { username1: existing.username1, username2: uniqueName("pair_new") };
      const life = new PairLife();
      const out = await life.create(inputs(users, [group], { deleteUsersOnDestroy: true }));
      expect(out.created).to.deep.equal([users.username2]);
      expect(Object.keys(out.oids!).sort()).to.deep.equal(
        [users.username1, users.username2].sort(),
      );
      await life.delete();
      expect(await pg.canLogin(users.username1, p1)).to.equal(true);
      expect(await exists(users.username2)).to.equal(false);
    });

    it("outputs of the previous version (no OIDs): delete keeps the users until a refresh records them", async () => {
      const users = names();
      const life = new PairLife();
      await life.create(inputs(users, [await pg.createGroup()], { deleteUsersOnDestroy: true }));
      const { oids: _oids, ...legacy } = life.outputs!;
      void _oids;
      life.outputs = legacy as UserPairOutputs;
      const theirs = await recreateByHand(users.username1);
      const logged = pg.server.readLog().length;
      await life.delete();
      // No user to drop: the delete does not even connect.
      expect(pg.server.readLog().slice(logged)).to.not.include("connection received");
      expect(await exists(users.username2)).to.equal(true);
      // A refresh records the OID of the user still as applied, never of the one changed by hand.
      const refreshed = await life.refresh();
      expect(Object.keys(refreshed.oids!)).to.deep.equal([users.username2]);
      await life.delete();
      expect(await pg.canLogin(users.username1, theirs.password)).to.equal(true);
      expect(await exists(users.username2)).to.equal(false);
    });

    it("refuses a missing group role with the SQL that creates it; nothing changes", async () => {
      const users = names();
      const missing = uniqueName("missing_group");
      const error = await rejection(new PairLife().create(inputs(users, [missing])));
      expect(error).to.be.instanceOf(ForbiddenRoleError);
      expect(error.message).to.include(`CREATE ROLE "${missing}" NOLOGIN;`);
      expect(await exists(users.username1)).to.equal(false);
    });

    it("refuses bad input before the server sees a connection", async () => {
      const before = pg.server.readLog().length;
      const bad = inputs({ username1: "x".repeat(64), username2: "pg_y" }, ["g"]);
      const checked = await handlers.check({}, bad as unknown as Record<string, unknown>);
      expect(checked.failures!.map((f) => f.reason)).to.have.length(2);
      expect(await rejection(handlers.create(bad))).to.be.instanceOf(ValidationError);
      expect(pg.server.readLog().slice(before)).to.not.include("connection received");
    });

    /** Each role's connection limit and settings, as the server has them. */
    const rolesOf = (usernames: string[]) =>
      pg.asSuperuser(async (c: Client) => {
        const { rows } = await c.query<{ rolname: string; limit: number; config: string[] | null }>(
          `SELECT r.rolname, r.rolconnlimit AS limit, s.setconfig AS config FROM pg_roles r
           LEFT JOIN pg_db_role_setting s ON s.setrole = r.oid AND s.setdatabase = 0
           WHERE r.rolname = ANY($1) ORDER BY 1`,
          [usernames],
        );
        return rows.map((r) => ({ limit: r.limit, config: r.config }));
      });

    it("refuses a superuser or NOLOGIN user and a group that can log in or is a superuser, saying why; nothing changes", async () => {
      const [superuser, nologin, loginGroup, superGroup] = [
        uniqueName("pair_super"),
        uniqueName("pair_nologin"),
        uniqueName("group_login"),
        uniqueName("group_super"),
      ];
      const q = quoteIdentifier;
      await pg.asSuperuser(async (c) => {
        await c.query(`CREATE ROLE ${q(superuser)} SUPERUSER LOGIN`);
        await c.query(`CREATE ROLE ${q(nologin)} NOLOGIN`);
        await c.query(`CREATE ROLE ${q(loginGroup)} LOGIN`);
        await c.query(`CREATE ROLE ${q(superGroup)} SUPERUSER NOLOGIN`);
      });
      const error = await rejection(
        new PairLife().create(
          inputs({ username1: superuser, username2: nologin }, [loginGroup, superGroup]),
        ),
      );
      expect(error).to.be.instanceOf(ForbiddenRoleError);
      const lines = error.message.split("\n");
      expect(lines[0]).to.equal(
        `cannot set up the users "${superuser}", "${nologin}"; nothing was changed:`,
      );
      for (const line of [
        `  - "${superuser}" is a superuser; a rotated user never is`,
        `  - "${nologin}" exists but cannot log in (NOLOGIN); if it is meant to be a rotated ` +
          `user: ALTER ROLE ${q(nologin)} LOGIN;`,
        `  - memberOf "${loginGroup}" can log in; memberOf names NOLOGIN group roles ` +
          `(ALTER ROLE ${q(loginGroup)} NOLOGIN; if it is one)`,
        `  - memberOf "${superGroup}" is a superuser role; refusing to grant it`,
      ]) {
        expect(lines).to.include(line);
      }
    });

    it("an update sets a new connection limit, and resets a setting no longer given", async () => {
      const users = names();
      const group = await pg.createGroup();
      const life = new PairLife();
      await life.create(
        inputs(users, [group], { connectionLimit: 5, settings: { statement_timeout: "30s" } }),
      );
      const both = [users.username1, users.username2];
      expect(await rolesOf(both)).to.deep.equal(
        both.map(() => ({ limit: 5, config: ["statement_timeout=30s"] })),
      );
      expect(await life.apply(inputs(users, [group], { connectionLimit: 7 }))).to.equal("update");
      expect(await rolesOf(both)).to.deep.equal(both.map(() => ({ limit: 7, config: null })));
      // A setting given again by a later update is set again.
      const again = inputs(users, [group], {
        connectionLimit: 7,
        settings: { lock_timeout: "5s" },
      });
      expect(await life.apply(again)).to.equal("update");
      expect(await rolesOf(both)).to.deep.equal(
        both.map(() => ({ limit: 7, config: ["lock_timeout=5s"] })),
      );
    });

    it("an update keeps a role setting made by hand, which it never set", async () => {
      const users = names();
      const group = await pg.createGroup();
      const life = new PairLife();
      await life.create(inputs(users, [group]));
      const both = [users.username1, users.username2];
      await pg.asSuperuser(async (c) => {
        for (const user of both) {
          await c.query(`ALTER ROLE ${quoteIdentifier(user)} SET role = ${quoteIdentifier(group)}`);
        }
      });
      const byHand = both.map(() => ({ limit: -1, config: [`role=${group}`] }));
      expect(await rolesOf(both)).to.deep.equal(byHand);
      expect(await life.apply(inputs(users, [group], { connectionLimit: 3 }))).to.equal("update");
      expect(await rolesOf(both)).to.deep.equal(byHand.map((r) => ({ ...r, limit: 3 })));
    });

    it("an update to one new user: the one that left is released (kept on delete), the initial state goes", async () => {
      const group = await pg.createGroup();
      const users = names();
      const life = new PairLife();
      const first = await life.create(inputs(users, [group], { deleteUsersOnDestroy: true }));
      // A memberOf-only update keeps the initial state: both of its users are still the pair.
      const other = await pg.createGroup();
      expect(
        await life.apply(inputs(users, [group, other], { deleteUsersOnDestroy: true })),
      ).to.equal("update");
      expect(life.outputs!.initialState).to.deep.equal(first.initialState);
      // So does swapping the pair's order: the initial state's current user stays current.
      const swapped = { username1: users.username2, username2: users.username1 };
      expect(
        await life.apply(inputs(swapped, [group, other], { deleteUsersOnDestroy: true })),
      ).to.equal("update");
      expect(life.outputs!.initialState).to.deep.equal(first.initialState);
      expect(
        await life.apply(inputs(users, [group, other], { deleteUsersOnDestroy: true })),
      ).to.equal("update");

      // username2 is replaced by an existing role (adopted, not created).
      const adopted = uniqueName("pair_c");
      const role = quoteIdentifier(adopted);
      await pg.asSuperuser(async (c) => {
        await c.query(
          `CREATE ROLE ${role} LOGIN IN ROLE ${quoteIdentifier(group)}, ${quoteIdentifier(other)}`,
        );
        if (major >= 16) {
          // As the README's SQL does for a user to adopt.
          await c.query(
            `GRANT ${role} TO ${quoteIdentifier(pg.manager.username)} WITH ADMIN TRUE, INHERIT FALSE, SET FALSE`,
          );
        }
      });
      const renamed = { username1: users.username1, username2: adopted };
      expect(
        await life.apply(inputs(renamed, [group, other], { deleteUsersOnDestroy: true })),
      ).to.equal("update");
      expect(life.outputs!.created).to.deep.equal([users.username1]);
      expect(life.outputs!.initialState).to.equal(undefined);
      await life.delete();
      expect(await exists(users.username1)).to.equal(false);
      expect(await exists(users.username2), "released").to.equal(true);
      expect(await exists(adopted), "adopted").to.equal(true);
    });
  });
}

describe("PostgresUserPair handlers: check and diff (no server)", () => {
  it("check names the input of each problem: before its first dot, bracket or space", async () => {
    const checked = await handlers.check(
      {},
      {
        database: {
          host: "db.internal",
          port: 5432,
          database: "app",
          managingUser: { username: "rotation_manager", password: "manager-password-1" },
        },
        rotateUsers: { username1: "app_a", username2: "app_b" },
        memberOf: ["app_users", "app_users"],
        settings: { search_path: 5 },
        connectionLimit: 0,
      },
    );
    expect(checked.failures!.map((f) => f.property)).to.deep.equal([
      "memberOf",
      "settings",
      "connectionLimit",
    ]);
  });

  it("diff: new names for both users replace the pair; one new name updates; nothing new is no change", async () => {
    const olds = {
      rotateUsers: { username1: "app_a", username2: "app_b" },
      memberOf: ["app_users"],
      drift: [],
      managingPassword: "manager-password-1",
    } as unknown as UserPairOutputs;
    const news = (rotateUsers: { username1: string; username2: string }) =>
      ({ ...olds, rotateUsers }) as unknown as Record<string, unknown>;
    expect(
      await handlers.diff("id", olds, news({ username1: "app_c", username2: "app_d" })),
    ).to.deep.equal({
      changes: true,
      replaces: ["rotateUsers"],
      deleteBeforeReplace: false,
    });
    expect(
      await handlers.diff("id", olds, news({ username1: "app_a", username2: "app_d" })),
    ).to.deep.equal({
      changes: true,
    });
    expect(await handlers.diff("id", olds, news(olds.rotateUsers))).to.deep.equal({
      changes: false,
    });
  });
});
