/**
 * Hostile input to every input of `PostgresUserPair`, through its provider, on a real server.
 * Each case either works (the server holds exactly what was asked for, and no role other than
 * the pair and the managing user's ADMIN grants changed) or is refused by `check` and `create`
 * before the server sees a connection.
 */
import { expect } from "chai";
import * as handlers from "../../../provider/postgresUserPair/handlers";
import type { UserPairInputs, UserPairOutputs } from "../../../provider/core/userPair";
import { ValidationError } from "../../../provider/errors";
import {
  changedRoles,
  connectionsReceived,
  nameOfBytes,
  roleSnapshot,
  tag,
} from "../../support/hostile";
import { expectNoSecrets, rejection, renderings } from "../../support/secrets";
import { TEST_MAJORS, cluster, uniqueName, type TestCluster } from "../../support/servers";

const newest = TEST_MAJORS[TEST_MAJORS.length - 1];

describe(`PostgresUserPair hostile inputs on PostgreSQL ${newest}`, function () {
  let pg: TestCluster;
  before(async () => {
    pg = await cluster(newest);
  });

  /** The settings each role holds for every database, as stored. */
  const storedSettings = (role: string) =>
    pg.asSuperuser(async (c) => {
      const { rows } = await c.query<{ s: string[] | null }>(
        `SELECT s.setconfig AS s FROM pg_db_role_setting s JOIN pg_roles r ON r.oid = s.setrole
         WHERE r.rolname = $1 AND s.setdatabase = 0`,
        [role],
      );
      return rows[0]?.s ?? [];
    });
  const groupsOf = (role: string) =>
    pg.asSuperuser(async (c) => {
      const { rows } = await c.query<{ g: string }>(
        `SELECT g.rolname AS g FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid
         JOIN pg_roles u ON u.oid = m.member WHERE u.rolname = $1 ORDER BY 1`,
        [role],
      );
      return rows.map((r) => r.g);
    });

  const t = () => tag();
  const CREATE: [string, string, string, string, Record<string, string>][] = [
    ["63-byte multibyte names", nameOfBytes("é"), nameOfBytes("🔑"), nameOfBytes("用"), {}],
    [
      "quotes and SQL fragments",
      `u"1'; DROP ROLE x; --${t()}`,
      `u2"; --${t()}`,
      `g"'); --${t()}`,
      {},
    ],
    [
      "newlines and backslashes",
      `line\nbreak${t()}`,
      `back\\slash\\${t()}`,
      `group\r\n\\${t()}`,
      {},
    ],
    ["dollar quotes", `$$u1$$${t()}`, `$q$u2$q$${t()}`, `$1${t()}`, {}],
    [
      "a setting value of SQL, quotes, backslashes and newlines",
      uniqueName("set_a"),
      uniqueName("set_b"),
      uniqueName("set_g"),
      {
        statement_timeout: "30s",
        application_name:
          "back\\slash $$ \"quoted\"\nline ' \\' $x$; DROP ROLE rotation_manager; --",
      },
    ],
  ];

  for (const [label, username1, username2, group, settings] of CREATE) {
    it(`creates a pair with ${label}, exactly as asked, changing no other role`, async () => {
      await pg.createGroup(group);
      const before = await roleSnapshot(pg);
      const inputs: UserPairInputs = {
        database: pg.database,
        rotateUsers: { username1, username2 },
        memberOf: [group],
        settings,
      };
      const checked = await handlers.check({}, inputs as unknown as Record<string, unknown>);
      expect(checked.failures).to.deep.equal([]);
      const { outs } = await handlers.create(inputs);
      const o = outs as UserPairOutputs;
      expect(o.created).to.deep.equal([username1, username2]);
      const changed = changedRoles(before, await roleSnapshot(pg));
      // PostgreSQL 16+ records the ADMIN option CREATE ROLE gives the managing user.
      const manager = newest >= 16 ? [pg.manager.username] : [];
      expect(changed).to.deep.equal([username1, username2, ...manager].sort());
      for (const user of [username1, username2]) {
        expect(await groupsOf(user)).to.deep.equal([group]);
        expect(await storedSettings(user)).to.have.members(
          Object.entries(settings).map(([k, v]) => `${k}=${v}`),
        );
        expect(await pg.canLogin(user, o.passwords[user])).to.equal(true);
      }
    });
  }

  const users = (username1: unknown, username2: unknown = uniqueName("ok")) => ({
    rotateUsers: { username1, username2 },
  });
  const REFUSE: [string, Record<string, unknown>, RegExp][] = [
    ["a 64-byte two-byte UTF-8 name", users("é".repeat(32)), /64 bytes long/],
    ["a 64-byte four-byte UTF-8 name", users("🔑".repeat(16)), /64 bytes long/],
    ["a NUL in a name", users("a\0"), /NUL/],
    ["a name starting with pg_", users("pg_signal"), /pg_/],
    ["the name public", users("public"), /reserves/],
    ["the same name twice", users("twin", "twin"), /two different roles/],
    ["the managing user as one of the pair", users("rotation_manager"), /managing user/],
    ["a group with a NUL", { memberOf: ["g\0"] }, /memberOf\[0\]/],
    ["a 64-byte group", { memberOf: ["ж".repeat(32)] }, /memberOf\[0\] is 64 bytes/],
    ["a group that is one of the pair", { memberOf: ["__pair__"] }, /one of the pair/],
    ["the managing user as a group", { memberOf: ["rotation_manager"] }, /managing user/],
    ["the group public", { memberOf: ["public"] }, /not a role/],
    [
      "a predefined role that runs programs on the server",
      { memberOf: ["pg_execute_server_program"] },
      /memberOf\[0\] "pg_execute_server_program" is one of PostgreSQL's predefined roles/,
    ],
    ["a group listed twice", { memberOf: ["g1", "g1"] }, /listed twice/],
    ["memberOf as a string", { memberOf: "app_users" }, /memberOf must be a list/],
    ["a group that is a number", { memberOf: [7] }, /memberOf\[0\]/],
    ["the setting role", { settings: { role: "postgres" } }, /settings\.role would change/],
    [
      "the setting session_authorization",
      { settings: { session_authorization: "x" } },
      /session_authorization/,
    ],
    ["a setting name in capitals", { settings: { Search_Path: "x" } }, /not a setting name/],
    [
      "a setting name with SQL",
      { settings: { "a = 1; DROP ROLE x; --": "v" } },
      /not a setting name/,
    ],
    ["a setting name with two dots", { settings: { "a.b.c": "v" } }, /not a setting name/],
    [
      "a NUL in a setting value",
      { settings: { search_path: "a\0" } },
      /settings\.search_path must be at most/,
    ],
    [
      "a 4097-character setting value",
      { settings: { search_path: "x".repeat(4097) } },
      /at most 4096/,
    ],
    [
      "a setting value that is a number",
      { settings: { work_mem: 64 } },
      /settings\.work_mem must be a string/,
    ],
    ["settings as a list", { settings: ["a=b"] }, /settings must be an object/],
    ["connection limit 0", { connectionLimit: 0 }, /connectionLimit 0/],
    ["connection limit -2", { connectionLimit: -2 }, /connectionLimit must be/],
    ["a fractional connection limit", { connectionLimit: 1.5 }, /connectionLimit must be/],
    ["a NaN connection limit", { connectionLimit: NaN }, /connectionLimit must be/],
    ["a connection limit as text", { connectionLimit: "10" }, /connectionLimit must be/],
    ["a connection limit of ten million", { connectionLimit: 1e7 }, /connectionLimit must be/],
    ["deleteUsersOnDestroy as text", { deleteUsersOnDestroy: "yes" }, /deleteUsersOnDestroy/],
    [
      "a password length of a million",
      { passwordPolicy: { length: 1e6 } },
      /passwordPolicy\.length/,
    ],
    ["an Infinity timeout", { timeouts: { connectSeconds: Infinity } }, /timeouts\.connectSeconds/],
    ["a billion SCRAM iterations", { scramIterations: 1e9 }, /scramIterations/],
    ["a host with a newline", { database: "__host__" }, /database\.host/],
  ];

  for (const [label, patch, message] of REFUSE) {
    it(`refuses ${label} before the server sees a connection`, async () => {
      const rotateUsers = { username1: uniqueName("hp_a"), username2: uniqueName("hp_b") };
      let extra: Record<string, unknown> = patch;
      if (JSON.stringify(patch.memberOf) === '["__pair__"]') {
        extra = { memberOf: [rotateUsers.username2] };
      }
      if (patch.database === "__host__") {
        extra = { database: { ...pg.database, host: "127.0.0.1\nevil" } };
      }
      const bad = { database: pg.database, rotateUsers, memberOf: [], ...extra };
      const checked = await handlers.check({}, bad);
      expect(checked.failures!.map((f) => f.reason).join("\n")).to.match(message);
      const before = await roleSnapshot(pg);
      const connections = connectionsReceived(pg);
      const error = await rejection(handlers.create(bad as unknown as UserPairInputs));
      expect(error).to.be.instanceOf(ValidationError);
      expect(error.message).to.match(message);
      expect(connectionsReceived(pg), "connections the server received").to.equal(connections);
      expect(changedRoles(before, await roleSnapshot(pg))).to.deep.equal([]);
      expectNoSecrets(renderings(error), [pg.manager.password]);
    });
  }

  it("refuses hostile settings on update too, leaving the pair as it was", async () => {
    const group = await pg.createGroup();
    const rotateUsers = { username1: uniqueName("up_a"), username2: uniqueName("up_b") };
    const inputs: UserPairInputs = { database: pg.database, rotateUsers, memberOf: [group] };
    const { id, outs } = await handlers.create(inputs);
    const before = await roleSnapshot(pg);
    const connections = connectionsReceived(pg);
    for (const settings of [{ role: "postgres" }, { "x;y": "z" }, { search_path: "\0" }] as Record<
      string,
      string
    >[]) {
      const error = await rejection(
        handlers.update(id, outs as UserPairOutputs, { ...inputs, settings }),
      );
      expect(error, JSON.stringify(settings)).to.be.instanceOf(ValidationError);
    }
    expect(connectionsReceived(pg)).to.equal(connections);
    expect(changedRoles(before, await roleSnapshot(pg))).to.deep.equal([]);
    expect(
      await pg.canLogin(
        rotateUsers.username1,
        (outs as UserPairOutputs).passwords[rotateUsers.username1],
      ),
    ).to.equal(true);
  });
});
