/**
 * The user-pair shell when the managing user lacks a privilege or the server refuses a
 * statement: no CREATEROLE, on PostgreSQL 16+ no ADMIN option on a user or a group, a
 * membership only the role that granted it can revoke, a value the server rejects. Each error
 * has its class and the SQL that fixes it, and nothing changed. On the oldest and the newest
 * major: the privileges a manager needs differ from 16 on.
 */
import { expect } from "chai";
import type { Client } from "pg";
import { Client as PgClient } from "pg";
import * as handlers from "../../../provider/postgresUserPair/handlers";
import {
  oidsOf,
  resolveUserPairInputs,
  type UserPairInputs,
  type UserPairOutputs,
} from "../../../provider/core/userPair";
import type { Credential, UserPair } from "../../../provider/core/types";
import { generatePassword } from "../../../provider/core/password";
import { quoteIdentifier } from "../../../provider/postgres/sql";
import { postgresUserPairShell } from "../../../provider/postgres/userPairShell";
import { ForbiddenRoleError, PermissionDeniedError, RotationError } from "../../../provider/errors";
import { expectNoSecrets, rejection, renderings } from "../../support/secrets";
import { TEST_MAJORS, cluster, uniqueName, type TestCluster } from "../../support/servers";

const EDGE_MAJORS = TEST_MAJORS.filter((_, i) => i === 0 || i === TEST_MAJORS.length - 1);
const q = quoteIdentifier;

for (const major of EDGE_MAJORS) {
  describe(`postgresUserPairShell refused on PostgreSQL ${major}`, function () {
    let pg: TestCluster;
    before(async () => {
      pg = await cluster(major);
    });

    const sql = (...statements: string[]) =>
      pg.asSuperuser(async (c: Client) => {
        for (const statement of statements) await c.query(statement);
      });

    /** A managing user of its own, with `attributes` (e.g. "CREATEROLE") after LOGIN. */
    const managerWith = async (attributes = ""): Promise<Credential> => {
      const credential = { username: uniqueName("manager"), password: generatePassword() };
      await sql(`CREATE ROLE ${q(credential.username)} LOGIN ${attributes}`);
      await pg.setPassword(credential.username, credential.password);
      return credential;
    };

    const inputs = (
      manager: Credential,
      rotateUsers: UserPair,
      extra: Partial<UserPairInputs> = {},
    ): UserPairInputs => ({
      database: { ...pg.database, managingUser: manager },
      rotateUsers,
      memberOf: [],
      ...extra,
    });

    const names = (): UserPair => ({
      username1: uniqueName("pair_a"),
      username2: uniqueName("pair_b"),
    });

    /** Two users created by the superuser; on 16+ `manager` gets the README's ADMIN grant. */
    const existingPair = async (manager: Credential): Promise<UserPair> => {
      const users = names();
      await sql(
        `CREATE ROLE ${q(users.username1)} LOGIN`,
        `CREATE ROLE ${q(users.username2)} LOGIN`,
      );
      if (major >= 16) {
        await sql(
          `GRANT ${q(users.username1)}, ${q(users.username2)} TO ${q(manager.username)} ` +
            `WITH ADMIN TRUE, INHERIT FALSE, SET FALSE`,
        );
      }
      return users;
    };

    /** Everything about the roles a refused apply must leave as it was. */
    const stateOf = (usernames: readonly string[]) =>
      pg.asSuperuser(async (c: Client) => {
        const { rows } = await c.query(
          `SELECT r.rolname, r.oid, r.rolconnlimit, r.rolpassword,
                  (SELECT array_agg(s.setconfig::text ORDER BY s.setdatabase)
                   FROM pg_db_role_setting s WHERE s.setrole = r.oid) AS settings,
                  ARRAY(SELECT g.rolname || ' by ' || gr.rolname || ' ' || m.admin_option
                        FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid
                        JOIN pg_roles gr ON gr.oid = m.grantor
                        WHERE m.member = r.oid ORDER BY 1) AS memberships
           FROM pg_authid r WHERE r.rolname = ANY($1) ORDER BY 1`,
          [usernames],
        );
        return rows;
      });
    const exists = async (username: string) => (await stateOf([username])).length === 1;

    /** The 42501 of the server, kept as the cause of a permission error. */
    const expectServerRefusal = (error: Error) => {
      expect(error).to.be.instanceOf(PermissionDeniedError);
      expect((error.cause as { code?: string } | undefined)?.code).to.equal("42501");
    };

    it("a manager without CREATEROLE: creating the users is refused with the ALTER ROLE that grants it; nothing is created", async () => {
      const manager = await managerWith();
      const users = names();
      const error = await rejection(handlers.create(inputs(manager, users)));
      expectServerRefusal(error);
      expect(error.message).to.include(`creating "${users.username1}" as the managing user`);
      expect(error.message).to.match(
        new RegExp(
          `permission denied to create role\\. the managing user needs CREATEROLE \\(as a ` +
            `superuser: ALTER ROLE "${manager.username}" CREATEROLE;\\)$`,
        ),
      );
      expect(await exists(users.username1)).to.equal(false);
      expect(await exists(users.username2)).to.equal(false);
    });

    it("a manager without CREATEROLE: changing an adopted user is refused with what it lacks on this major; nothing changes", async () => {
      const manager = await managerWith();
      const users = await existingPair(manager);
      const both = [users.username1, users.username2];
      const before = await stateOf(both);
      const error = await rejection(
        handlers.create(
          inputs(manager, users, { connectionLimit: 3, settings: { work_mem: "8MB" } }),
        ),
      );
      expectServerRefusal(error);
      expect(error.message).to.include(
        `setting the connection limit of "${users.username1}" as the managing user`,
      );
      const m = q(manager.username);
      expect(error.message).to.match(/permission denied[^.]*\. On PostgreSQL/);
      expect(error.message.slice(error.message.indexOf(". On PostgreSQL") + 2)).to.equal(
        major >= 16
          ? `On PostgreSQL 16 and later the managing user needs CREATEROLE and the ADMIN option ` +
              `on ${q(users.username1)}: GRANT ${q(users.username1)} TO ${m} WITH ADMIN TRUE, ` +
              `INHERIT FALSE, SET FALSE;`
          : `On PostgreSQL 13 to 15 the managing user needs CREATEROLE: ALTER ROLE ${m} CREATEROLE;`,
      );
      expect(await stateOf(both)).to.deep.equal(before);
    });

    it("a manager that lost CREATEROLE: dropping the users is refused with what it lacks on both; both stay", async () => {
      const manager = await managerWith("CREATEROLE");
      const users = names();
      const created = await handlers.create(inputs(manager, users, { deleteUsersOnDestroy: true }));
      const outs = created.outs as UserPairOutputs;
      await sql(`ALTER ROLE ${q(manager.username)} NOCREATEROLE`);
      const error = await rejection(handlers.remove(created.id, outs));
      expectServerRefusal(error);
      expect(error.message).to.include(
        `dropping "${users.username1}", "${users.username2}" as the managing user`,
      );
      const [u1, u2, m] = [q(users.username1), q(users.username2), q(manager.username)];
      expect(error.message.slice(error.message.indexOf(". On PostgreSQL") + 2)).to.equal(
        major >= 16
          ? `On PostgreSQL 16 and later the managing user needs CREATEROLE and the ADMIN option ` +
              `on ${u1}, ${u2}: GRANT ${u1}, ${u2} TO ${m} WITH ADMIN TRUE, INHERIT FALSE, SET FALSE;`
          : `On PostgreSQL 13 to 15 the managing user needs CREATEROLE: ALTER ROLE ${m} CREATEROLE;`,
      );
      for (const username of [users.username1, users.username2]) {
        expect(await pg.canLogin(username, outs.passwords[username])).to.equal(true);
      }
    });

    it("a manager that may not grant a group: 13-15 the server refuses the GRANT, 16+ it is refused first, with the ADMIN grant; nothing changes", async () => {
      // What the README's setup gives it, but the group's grant: on 13-15 that is CREATEROLE.
      const manager = await managerWith(major >= 16 ? "CREATEROLE" : "");
      const users = await existingPair(manager);
      const group = uniqueName("no_admin");
      await sql(`CREATE ROLE ${q(group)} NOLOGIN`);
      const both = [users.username1, users.username2];
      const before = await stateOf(both);
      const error = await rejection(handlers.create(inputs(manager, users, { memberOf: [group] })));
      const [g, m] = [q(group), q(manager.username)];
      if (major >= 16) {
        expect(error).to.be.instanceOf(PermissionDeniedError);
        expect(error.message).to.equal(
          `cannot set up the users "${users.username1}", "${users.username2}"; nothing was ` +
            `changed:\n  - the managing user lacks the ADMIN option on group role "${group}", ` +
            `which it needs to grant it (PostgreSQL 16+), as a superuser: GRANT ${g} TO ${m} ` +
            `WITH ADMIN TRUE, INHERIT FALSE, SET FALSE;`,
        );
      } else {
        expectServerRefusal(error);
        expect(error.message).to.include(
          `granting "${group}" to "${users.username1}" as the managing user`,
        );
        expect(error.message.slice(error.message.indexOf(". On PostgreSQL") + 2)).to.equal(
          `On PostgreSQL 13 to 15 the managing user needs CREATEROLE to grant or revoke ${g}: ` +
            `ALTER ROLE ${m} CREATEROLE;`,
        );
      }
      expect(await stateOf(both)).to.deep.equal(before);
    });

    it("a membership to revoke that the manager may not revoke: 13-15 the server refuses the REVOKE, 16+ it is refused first, naming its grantor; nothing changes", async () => {
      const manager = await managerWith("CREATEROLE");
      const users = names();
      const created = await handlers.create(inputs(manager, users));
      const outs = created.outs as UserPairOutputs;
      const intruder = uniqueName("intruder");
      await sql(
        `CREATE ROLE ${q(intruder)} NOLOGIN`,
        `GRANT ${q(intruder)} TO ${q(users.username1)}`,
      );
      // On 13-15 only CREATEROLE lets it revoke; on 16+ it has it, and the grant is the superuser's.
      if (major < 16) await sql(`ALTER ROLE ${q(manager.username)} NOCREATEROLE`);
      const both = [users.username1, users.username2];
      const before = await stateOf(both);
      const error = await rejection(handlers.update(created.id, outs, inputs(manager, users)));
      const [g, m] = [q(intruder), q(manager.username)];
      if (major >= 16) {
        expect(error).to.be.instanceOf(PermissionDeniedError);
        expect(error.message.split("\n")).to.deep.equal([
          `cannot set up the users "${users.username1}", "${users.username2}"; nothing was changed:`,
          `  - "${users.username1}" is a member of "${intruder}" by a grant of ` +
            `"${pg.server.superuser.username}", which only that role or a superuser can revoke ` +
            `(PostgreSQL 16+): as it, REVOKE ${g} FROM ${q(users.username1)};`,
          `  - the managing user lacks the ADMIN option on group role "${intruder}", which it ` +
            `needs to grant it (PostgreSQL 16+), as a superuser: GRANT ${g} TO ${m} WITH ADMIN ` +
            `TRUE, INHERIT FALSE, SET FALSE;`,
        ]);
      } else {
        expectServerRefusal(error);
        expect(error.message).to.include(
          `revoking "${intruder}" from "${users.username1}" as the managing user`,
        );
        expect(error.message.slice(error.message.indexOf(". On PostgreSQL") + 2)).to.equal(
          `On PostgreSQL 13 to 15 the managing user needs CREATEROLE to grant or revoke ${g}: ` +
            `ALTER ROLE ${m} CREATEROLE;`,
        );
      }
      expect(await stateOf(both)).to.deep.equal(before);
    });

    if (major >= 16) {
      it("a user the manager has no ADMIN option on, or can use the privileges of, is refused with the grant that fixes each; once run, the pair is adopted", async () => {
        const manager = await managerWith("CREATEROLE");
        const users = names();
        const [u1, u2, m] = [q(users.username1), q(users.username2), q(manager.username)];
        await sql(
          `CREATE ROLE ${u1} LOGIN`,
          `CREATE ROLE ${u2} LOGIN`,
          `GRANT ${u2} TO ${m} WITH ADMIN TRUE, INHERIT TRUE, SET FALSE`,
        );
        const both = [users.username1, users.username2];
        const before = await stateOf(both);
        const error = await rejection(handlers.create(inputs(manager, users)));
        expect(error).to.be.instanceOf(PermissionDeniedError);
        const fixes = [
          `GRANT ${u1} TO ${m} WITH ADMIN TRUE, INHERIT FALSE, SET FALSE;`,
          `GRANT ${u2} TO ${m} WITH INHERIT FALSE, SET FALSE;`,
        ];
        expect(error.message.split("\n")).to.deep.equal([
          `cannot set up the users "${users.username1}", "${users.username2}"; nothing was changed:`,
          `  - the managing user lacks the ADMIN option on "${users.username1}" (PostgreSQL 16+), ` +
            `as a superuser: ${fixes[0]}`,
          `  - the managing user can use the privileges of "${users.username2}" (INHERIT or ` +
            `SET); as the role that granted it: ${fixes[1]}`,
        ]);
        expect(await stateOf(both)).to.deep.equal(before);
        await sql(...fixes);
        const adopted = (await handlers.create(inputs(manager, users))).outs as UserPairOutputs;
        expect(adopted.created).to.deep.equal([]);
      });

      it("the ADMIN option on a group revoked while an apply runs: the server refuses the GRANT, the error says how to give it back; nothing is created", async () => {
        const manager = await managerWith("CREATEROLE");
        const group = uniqueName("app_users");
        const [g, m] = [q(group), q(manager.username)];
        await sql(
          `CREATE ROLE ${g} NOLOGIN`,
          `GRANT ${g} TO ${m} WITH ADMIN TRUE, INHERIT FALSE, SET FALSE`,
        );
        const users = names();
        // Another session creating the first user, not yet committed, holds the apply's CREATE
        // ROLE after it observed the ADMIN option; the option goes meanwhile.
        const other = await pg.server.connectAsSuperuser("app");
        try {
          await other.query("BEGIN");
          await other.query(`CREATE ROLE ${q(users.username1)}`);
          let settled = false;
          const applying = rejection(
            handlers.create(inputs(manager, users, { memberOf: [group] })),
          ).finally(() => (settled = true));
          const waiting = () =>
            pg.asSuperuser(async (c: Client) => {
              const { rowCount } = await c.query(
                `SELECT 1 FROM pg_stat_activity WHERE usename = $1 AND wait_event_type = 'Lock'`,
                [manager.username],
              );
              return rowCount === 1;
            });
          // Until the apply waits for that session; one that ended first fails the test below.
          while (!settled && !(await waiting())) {
            await new Promise((resolve) => setTimeout(resolve, 20));
          }
          await sql(`REVOKE ADMIN OPTION FOR ${g} FROM ${m}`);
          await other.query("ROLLBACK");
          const error = await applying;
          expectServerRefusal(error);
          expect(error.message).to.include(
            `granting "${group}" to "${users.username1}" as the managing user`,
          );
          expect(error.message.slice(error.message.indexOf(". To grant") + 2)).to.equal(
            `To grant or revoke ${g} the managing user needs the ADMIN option on it: GRANT ${g} ` +
              `TO ${m} WITH ADMIN TRUE, INHERIT FALSE, SET FALSE;`,
          );
        } finally {
          await other.end();
        }
        expect(await exists(users.username1)).to.equal(false);
        expect(await exists(users.username2)).to.equal(false);
      });
    }

    it("refuses a missing group role with the SQL that creates it (16+: and lets the manager grant it)", async () => {
      const users = names();
      const missing = uniqueName("missing_group");
      const error = await rejection(
        handlers.create(inputs(pg.manager, users, { memberOf: [missing] })),
      );
      expect(error).to.be.instanceOf(ForbiddenRoleError);
      const create = `CREATE ROLE ${q(missing)} NOLOGIN;`;
      const admin = ` GRANT ${q(missing)} TO ${q(pg.manager.username)} WITH ADMIN TRUE, INHERIT FALSE, SET FALSE;`;
      expect(error.message.split("\n")[1]).to.equal(
        `  - group role "${missing}" does not exist; create it (and grant it privileges): ` +
          create +
          (major >= 16 ? admin : ""),
      );
      expect(await exists(users.username1)).to.equal(false);
    });

    /** The shell itself, as the handlers and the connector Lambda build it. */
    const shellOf = (users: UserPair, extra: Partial<UserPairInputs> = {}) =>
      postgresUserPairShell(resolveUserPairInputs(inputs(pg.manager, users, extra)));

    it("a statement the server rejects rolls the apply back and comes as it is: its class, no hint, no secret", async () => {
      const users = names();
      // A secret pasted where it does not belong: the server quotes the value back.
      const settings = { statement_timeout: pg.manager.password };
      const passwords = {
        [users.username1]: generatePassword(),
        [users.username2]: generatePassword(),
      };
      const error = await rejection(
        shellOf(users, { settings }).apply(
          { users, memberOf: [], settings, revokeOtherMembershipsOf: [] },
          passwords,
        ),
      );
      expect(error.constructor).to.equal(RotationError);
      expect(error.message).to.equal(
        `setting statement_timeout for "${users.username1}" as the managing user ` +
          `"${pg.manager.username}" on ${pg.server.host}:${pg.server.port}/app failed: invalid ` +
          `value for parameter "statement_timeout": "[redacted]"`,
      );
      expectNoSecrets(renderings(error), [pg.manager.password, ...Object.values(passwords)]);
      // Both users were created before, in the same transaction.
      expect(await exists(users.username1)).to.equal(false);
      expect(await exists(users.username2)).to.equal(false);
    });

    it("a user to create without its initial password is refused as such; the other, created before, is rolled back", async () => {
      const users = names();
      const error = await rejection(
        shellOf(users).apply(
          { users, memberOf: [], revokeOtherMembershipsOf: [] },
          {
            [users.username1]: generatePassword(),
          },
        ),
      );
      expect(error.constructor).to.equal(RotationError);
      expect(error.message).to.equal(`no initial password for "${users.username2}"`);
      expect(await exists(users.username1)).to.equal(false);
    });

    /** A pair the shell creates, with its OIDs; `extra` as in {@link shellOf}. */
    const createdPair = async (extra: Partial<UserPairInputs> = {}) => {
      const users = names();
      const shell = shellOf(users, extra);
      const { observation } = await shell.apply(
        { users, memberOf: [], revokeOtherMembershipsOf: [] },
        { [users.username1]: generatePassword(), [users.username2]: generatePassword() },
      );
      return { users, shell, oids: oidsOf(observation, users) };
    };

    it("a drop refused: one line per blocker, each saying what to do; nothing is dropped", async () => {
      const { users, shell, oids } = await createdPair();
      const u1 = q(users.username1);
      const password = generatePassword();
      await pg.setPassword(users.username1, password);
      const table = q(uniqueName("owned"));
      await sql(`CREATE TABLE ${table} ()`, `ALTER TABLE ${table} OWNER TO ${u1}`);
      const session = new PgClient({
        host: pg.server.host,
        port: pg.server.port,
        database: pg.database.database,
        user: users.username1,
        password,
      });
      await session.connect();
      try {
        const error = await rejection(shell.drop([users.username1], oids));
        expect(error.constructor).to.equal(ForbiddenRoleError);
        expect(error.message.split("\n")).to.deep.equal([
          `refusing to drop "${users.username1}", nothing was dropped:`,
          `  - "${users.username1}" has 1 open session(s); stop the apps that use it first`,
          `  - "${users.username1}" owns objects or holds privileges granted to it directly ` +
            `(1); in each database: REASSIGN OWNED BY ${u1} TO <another role>; DROP OWNED BY ${u1};`,
        ]);
      } finally {
        await session.end();
        await sql(`DROP TABLE ${table}`);
      }
      expect(await exists(users.username1)).to.equal(true);
    });

    it("a drop when neither user exists any more drops nothing and says so", async () => {
      const { users, shell, oids } = await createdPair();
      await sql(`DROP ROLE ${q(users.username1)}, ${q(users.username2)}`);
      expect(await shell.drop([users.username1, users.username2], oids)).to.deep.equal([]);
    });

    it("a drop whose look-up of blockers fails names that look-up; nothing is dropped", async () => {
      const { users, oids } = await createdPair();
      const shell = shellOf(users, { timeouts: { lockSeconds: 0.3 } });
      const other = await pg.server.connectAsSuperuser("app");
      try {
        // The look-up reads pg_shdepend, which nothing else of the drop locks before it.
        await other.query("BEGIN; LOCK TABLE pg_catalog.pg_shdepend IN ACCESS EXCLUSIVE MODE");
        const error = await rejection(shell.drop([users.username1, users.username2], oids));
        expect(error.message).to.equal(
          `checking whether "${users.username1}", "${users.username2}" can be dropped as the ` +
            `managing user "${pg.manager.username}" on ${pg.server.host}:${pg.server.port}/app ` +
            `failed: another rotation of this role held the lock for longer than ` +
            `timeouts.lockSeconds; nothing was changed, try again`,
        );
      } finally {
        await other.query("ROLLBACK");
        await other.end();
      }
      expect(await exists(users.username1)).to.equal(true);
      expect(await exists(users.username2)).to.equal(true);
    });

    it("a RESET the server refuses names the setting and the user; the setting stays", async () => {
      const { users, shell } = await createdPair();
      // Only a superuser may set or reset log_statement.
      await sql(`ALTER ROLE ${q(users.username1)} SET log_statement = 'all'`);
      const error = await rejection(
        shell.apply(
          { users, memberOf: [], resetSettings: ["log_statement"], revokeOtherMembershipsOf: [] },
          {},
        ),
      );
      expectServerRefusal(error);
      expect(error.message.slice(0, error.message.indexOf(". On PostgreSQL"))).to.equal(
        `resetting log_statement for "${users.username1}" as the managing user ` +
          `"${pg.manager.username}" on ${pg.server.host}:${pg.server.port}/app failed: ` +
          `permission denied to set parameter "log_statement"`,
      );
      expect((await stateOf([users.username1]))[0].settings).to.deep.equal(["{log_statement=all}"]);
    });
  });
}
