/**
 * End to end, with the real Pulumi CLI: a program using only `RotatedPostgresCredentials` with
 * `ownerRole`. A table the current user creates before a rotation (a migration) is altered and
 * dropped by the other user after it. One PostgreSQL major: the behaviour under test is the
 * users' `role` setting, the same on every major (handlers' tests cover 13 and the newest).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { expect } from "chai";
import { Client } from "pg";
import type { Stack } from "@pulumi/pulumi/automation";
import { quoteIdentifier } from "../../provider/postgres/sql";
import { localProgramStack, type LocalProgramStack } from "../../scripts/pulumiStack";
import { setupSql } from "../../scripts/setupSql";
import { cluster, SUPPORTED_MAJORS, uniqueName, type TestCluster } from "../support/servers";

const NEWEST = SUPPORTED_MAJORS[SUPPORTED_MAJORS.length - 1];

const PROGRAM = `
const pulumi = require("@pulumi/pulumi");
const { RotatedPostgresCredentials } = require("pulumi-postgres-rotator");

const config = new pulumi.Config();
const credentials = new RotatedPostgresCredentials("app-db", {
  database: {
    host: config.require("host"),
    port: config.requireNumber("port"),
    database: config.require("database"),
    managingUser: { username: config.require("managingUser"), password: config.requireSecret("managingPassword") },
    ssl: { mode: "disable" },
  },
  rotateUsers: { username1: config.require("username1"), username2: config.require("username2") },
  memberOf: [config.require("group")],
  ownerRole: config.require("group"),
  rotationTrigger: config.require("rotationTrigger"),
});
exports.current = credentials.current;
`;

interface Credential {
  username: string;
  password: string;
}

describe("RotatedPostgresCredentials with ownerRole, with the real Pulumi CLI", function () {
  this.timeout(5 * 60_000);
  let pg: TestCluster;
  let programDir: string;
  let program: LocalProgramStack;
  let stack: Stack;
  let pair: { username1: string; username2: string };
  let group: string;
  const table = quoteIdentifier(uniqueName("migrated"));

  before(async function () {
    this.timeout(40 * 60_000); // the first run on a machine may build the CLI
    pg = await cluster(NEWEST);
    group = await pg.createGroup();
    await pg.asSuperuser(async (c) => {
      const names = {
        manager: pg.manager.username,
        group,
        username1: "u1",
        username2: "u2",
        database: "app",
      };
      for (const sql of setupSql("owner", names)) await c.query(sql);
    });
    pair = { username1: uniqueName("own_user_1"), username2: uniqueName("own_user_2") };
    programDir = fs.mkdtempSync(path.join(os.tmpdir(), "owner-role-program-"));
    fs.writeFileSync(path.join(programDir, "Pulumi.yaml"), "name: owner-role\nruntime: nodejs\n");
    fs.writeFileSync(
      path.join(programDir, "package.json"),
      '{ "name": "owner-role", "private": true }\n',
    );
    fs.writeFileSync(path.join(programDir, "index.js"), PROGRAM);
    program = await localProgramStack({ programDir, stackName: "owner-role" });
    stack = program.stack;
    await stack.setAllConfig({
      host: { value: pg.server.host },
      port: { value: String(pg.server.port) },
      database: { value: "app" },
      managingUser: { value: pg.manager.username },
      managingPassword: { value: pg.manager.password, secret: true },
      username1: { value: pair.username1 },
      username2: { value: pair.username2 },
      group: { value: group },
      rotationTrigger: { value: "1" },
    });
  });
  after(() => {
    program?.remove();
    if (programDir) fs.rmSync(programDir, { recursive: true, force: true });
  });

  const current = async () => (await stack.outputs()).current.value as Credential;
  const as = async <T>(login: Credential, work: (c: Client) => Promise<T>) => {
    const client = new Client({
      host: pg.server.host,
      port: pg.server.port,
      database: "app",
      user: login.username,
      password: login.password,
    });
    await client.connect();
    try {
      return await work(client);
    } finally {
      await client.end();
    }
  };

  it("a table the current user creates before a rotation is altered and dropped by the other after it", async () => {
    await stack.up();
    const before = await current();
    expect(before.username).to.equal(pair.username1);
    await as(before, (c) => c.query(`CREATE TABLE ${table} (id int)`));
    const owner = await pg.asSuperuser(async (c) => {
      const { rows } = await c.query<{ o: string }>(
        "SELECT tableowner AS o FROM pg_tables WHERE tablename = $1",
        [JSON.parse(table) as string],
      );
      return rows[0].o;
    });
    expect(owner).to.equal(group);

    await stack.setConfig("rotationTrigger", { value: "2" });
    await stack.up();
    const after = await current();
    expect(after.username).to.equal(pair.username2);
    await as(after, async (c) => {
      await c.query(`ALTER TABLE ${table} ADD COLUMN note text`);
      await c.query(`TRUNCATE ${table}`);
      await c.query(`DROP TABLE ${table}`);
    });
  });
});
