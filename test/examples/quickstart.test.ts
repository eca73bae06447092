/**
 * End to end: examples/quickstart (one `RotatedPostgresCredentials`, direct mode) deployed by the
 * real Pulumi CLI (through the Automation API) against a real PostgreSQL server where only the
 * managing user and the group role exist. The steps build on each other, in order, on one stack.
 */
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { expect } from "chai";
import type { Stack } from "@pulumi/pulumi/automation";
import { localProgramStack, type LocalProgramStack } from "../../scripts/pulumiStack";
import { Client as PgClient } from "pg";
import { quoteIdentifier } from "../../provider/postgres/sql";
import { cluster, SUPPORTED_MAJORS, uniqueName, type TestCluster } from "../support/servers";
import { findProviderSources } from "../support/pulumiState";
import { expectNoSecrets, rejection } from "../support/secrets";

const QUICKSTART = path.join(__dirname, "..", "..", "examples", "quickstart");
const NEWEST = SUPPORTED_MAJORS[SUPPORTED_MAJORS.length - 1];
/** Bytes of the serialized provider stored in each resource's state. */
export const PROVIDER_SIZE_BUDGET = 3000;

interface Credential {
  username: string;
  password?: string;
}

describe("examples/quickstart with the real Pulumi CLI", function () {
  this.timeout(5 * 60_000);

  let pg: TestCluster;
  let program: LocalProgramStack;
  let stack: Stack;
  let pair: { username1: string; username2: string };
  let group: string;
  /** Every password this test learned or set, and everything the CLI printed. */
  const secrets = new Set<string>();
  const printed: string[] = [];
  const onOutput = (text: string) => printed.push(text);
  let trigger = 1;
  /** The table a "migration" creates as the current user. */
  let table = "";

  const outputs = async () => {
    const all = await stack.outputs();
    const current = all.current.value as Credential;
    const previous = all.previous.value as Credential;
    for (const c of [current, previous]) if (c.password) secrets.add(c.password);
    return { current, previous, secret: all.current.secret && all.previous.secret };
  };
  const bump = () => stack.setConfig("rotationTrigger", { value: String(++trigger) });

  before(async function () {
    this.timeout(40 * 60_000); // the first run on a machine may build the CLI
    pg = await cluster(NEWEST);
    pair = { username1: uniqueName("qs_user_1"), username2: uniqueName("qs_user_2") };
    group = await pg.createGroup();
    secrets.add(pg.manager.password);
    program = await localProgramStack({ programDir: QUICKSTART, stackName: "e2e" });
    stack = program.stack;
    await stack.setAllConfig({
      host: { value: pg.server.host },
      port: { value: String(pg.server.port) },
      database: { value: pg.database.database },
      managingUser: { value: pg.manager.username },
      managingPassword: { value: pg.manager.password, secret: true },
      username1: { value: pair.username1 },
      username2: { value: pair.username2 },
      group: { value: group },
      sslMode: { value: "disable" },
      rotationTrigger: { value: String(trigger) },
    });
  });

  after(() => program?.remove());

  it("first up creates both users, both passwords known, username1 current; outputs secret", async () => {
    const result = await stack.up({ onOutput });
    expect(result.summary.resourceChanges).to.deep.equal({ create: 4 });
    const { current, previous, secret } = await outputs();
    expect(secret).to.equal(true);
    expect(current.username).to.equal(pair.username1);
    expect(previous.username).to.equal(pair.username2);
    expect(await pg.canLogin(pair.username1, current.password)).to.equal(true);
    expect(await pg.canLogin(pair.username2, previous.password)).to.equal(true);
  });

  it("the users hold exactly memberOf; the managing user holds ADMIN without INHERIT or SET", async () => {
    const rows = await pg.asSuperuser(async (c) => {
      const { rows } = await c.query<{ role: string; member: string; options: string }>(
        `SELECT g.rolname AS role, m.rolname AS member,
                concat_ws(',', CASE WHEN admin_option THEN 'admin' END,
                               CASE WHEN inherit_option THEN 'inherit' END,
                               CASE WHEN set_option THEN 'set' END) AS options
         FROM pg_auth_members a JOIN pg_roles g ON g.oid = a.roleid
         JOIN pg_roles m ON m.oid = a.member
         WHERE g.rolname = ANY($1) OR m.rolname = ANY($1) ORDER BY 1, 2`,
        [[pair.username1, pair.username2]],
      );
      return rows;
    });
    expect(rows).to.have.deep.members([
      { role: group, member: pair.username1, options: "inherit,set" },
      { role: group, member: pair.username2, options: "inherit,set" },
      { role: pair.username1, member: pg.manager.username, options: "admin" },
      { role: pair.username2, member: pg.manager.username, options: "admin" },
    ]);
  });

  it("preview after a trigger bump shows an update, not a replacement", async () => {
    await bump();
    const preview = await stack.preview({ onOutput });
    expect(preview.changeSummary).to.deep.equal({ same: 3, update: 1 });
  });

  it("second up rotates username2; the old current still logs in", async () => {
    const before = await outputs();
    const result = await stack.up({ onOutput });
    expect(result.summary.resourceChanges).to.deep.equal({ same: 3, update: 1 });
    const { current, previous } = await outputs();
    expect(current.username).to.equal(pair.username2);
    expect(previous).to.deep.equal(before.current);
    expect(await pg.canLogin(pair.username2, current.password)).to.equal(true);
    expect(await pg.canLogin(pair.username1, previous.password)).to.equal(true);
  });

  it("an up with no change does nothing", async () => {
    const before = await outputs();
    const result = await stack.up({ onOutput });
    expect(result.summary.resourceChanges).to.deep.equal({ same: 4 });
    expect(await outputs()).to.deep.equal(before);
  });

  it("a migration run as the current user: the next up warns, naming its table, and switches", async () => {
    const before = await outputs();
    table = uniqueName("migrated_orders");
    // The apps' privileges go to the group (README); the migration logs in as `current`.
    await pg.asSuperuser((c) =>
      c.query(`GRANT CREATE ON SCHEMA public TO ${quoteIdentifier(group)}`),
    );
    const migration = new PgClient({
      host: pg.server.host,
      port: pg.server.port,
      database: pg.database.database,
      user: before.current.username,
      password: before.current.password,
    });
    await migration.connect();
    try {
      await migration.query(`CREATE TABLE public.${quoteIdentifier(table)} (id int)`);
      await migration.query(`CREATE SEQUENCE public.${quoteIdentifier(`${table}_seq`)}`);
    } finally {
      await migration.end();
    }
    await bump();
    const shown: string[] = [];
    await stack.up({ onOutput: (text) => (onOutput(text), shown.push(text)) });
    const output = shown.join("");
    expect(output).to.include(
      `changing the password of "${before.previous.username}" anyway (ownership: "warn")`,
    );
    expect(output).to.include(`"${before.current.username}" owns 2`);
    expect(output).to.include(`table "public.${table}", sequence "public.${table}_seq"`);
    expect(output).to.include(`REASSIGN OWNED BY "${before.current.username}" TO <group>;`);
    const after = await outputs();
    expect(after.current.username).to.equal(before.previous.username);
    expect(await pg.canLogin(after.current.username, after.current.password)).to.equal(true);
  });

  it('with ownership "refuse" the up fails and changes nothing; REASSIGN OWNED clears it', async () => {
    const before = await outputs();
    await stack.setConfig("ownership", { value: "refuse" });
    await bump();
    const error = await rejection(stack.up({ onOutput }));
    expect(error.message).to.include(
      `refusing to change the password of "${before.previous.username}"`,
    );
    expect(error.message).to.include(`table "public.${table}"`);
    expect(await outputs()).to.deep.equal(before);
    expect(await pg.canLogin(before.current.username, before.current.password)).to.equal(true);
    expect(await pg.canLogin(before.previous.username, before.previous.password)).to.equal(true);

    // The fix: the group owns what the migration made; the same up then goes through.
    await pg.asSuperuser((c) =>
      c.query(
        `REASSIGN OWNED BY ${quoteIdentifier(before.previous.username)} TO ${quoteIdentifier(group)}`,
      ),
    );
    await stack.up({ onOutput });
    const after = await outputs();
    expect(after.current.username).to.equal(before.previous.username);
    await stack.removeConfig("ownership");
  });

  it("refresh after an out-of-band password change says current no longer logs in", async () => {
    const { current } = await outputs();
    const outOfBand = randomBytes(18).toString("base64url");
    secrets.add(outOfBand);
    await pg.setPassword(current.username, outOfBand);
    const error = await rejection(stack.refresh({ onOutput }));
    expect(error.message).to.match(/CurrentCredentialsError/);
    expect(error.message).to.include(
      `the current credentials of "${current.username}" no longer log in`,
    );

    // Rotating recovers: the other user gets a new password and becomes current.
    await bump();
    await stack.up({ onOutput });
    const after = await outputs();
    expect(after.current.username).to.equal(pair.username1);
    expect(await pg.canLogin(pair.username1, after.current.password)).to.equal(true);
  });

  it("a wrong managing password fails the up clearly; the right one converges", async () => {
    const before = await outputs();
    const wrong = randomBytes(18).toString("base64url");
    secrets.add(wrong);
    await stack.setConfig("managingPassword", { value: wrong, secret: true });
    await bump();
    const error = await rejection(stack.up({ onOutput }));
    expect(error.message).to.include(
      `logging in as the managing user "${pg.manager.username}" on ${pg.server.host}:${pg.server.port}/app failed: password authentication failed`,
    );
    expectNoSecrets(error.message, [wrong, pg.manager.password]);
    expect(await outputs()).to.deep.equal(before);
    expect(await pg.canLogin(before.current.username, before.current.password)).to.equal(true);

    await stack.setConfig("managingPassword", { value: pg.manager.password, secret: true });
    await stack.up({ onOutput });
    const after = await outputs();
    expect(after.current.username).to.equal(before.previous.username);
    expect(after.previous).to.deep.equal(before.current);
    expect(await pg.canLogin(after.current.username, after.current.password)).to.equal(true);
  });

  it("the exported state and the CLI's output hold no plaintext password", async () => {
    const state = JSON.stringify(program.exportState());
    // The manager's two passwords, two rotated ones, one set out of band, the recovery ones.
    expect(secrets.size).to.be.at.least(6);
    expectNoSecrets(state, [...secrets]);
    expect(state).to.include("ciphertext");
    // Every file the backend wrote: the state, its backups and the update history.
    expectNoSecrets(program.backendText(), [...secrets]);
    expectNoSecrets(printed.join(""), [...secrets]);
  });

  it(`the serialized provider in state stays under ${PROVIDER_SIZE_BUDGET} bytes`, async () => {
    const sources = findProviderSources(program.exportState());
    expect(sources).to.have.length.greaterThan(0);
    for (const source of sources) expect(source.length).to.be.below(PROVIDER_SIZE_BUDGET);
  });

  it("destroy succeeds and leaves both users, and current's password, in place", async () => {
    const { current } = await outputs();
    const result = await stack.destroy({ onOutput });
    expect(result.summary.resourceChanges).to.deep.equal({ delete: 4 });
    expect(await pg.canLogin(current.username, current.password)).to.equal(true);
    const roles = await pg.asSuperuser((c) =>
      c.query("SELECT rolname FROM pg_roles WHERE rolname = ANY($1)", [
        [pair.username1, pair.username2],
      ]),
    );
    expect(roles.rowCount).to.equal(2);
  });
});

describe("the root Pulumi.yaml", function () {
  this.timeout(5 * 60_000);
  const ROOT = path.join(__dirname, "..", "..");
  let program: LocalProgramStack | undefined;
  after(() => {
    program?.remove();
    fs.rmSync(path.join(ROOT, "Pulumi.root-check.yaml"), { force: true });
  });

  it("runs examples/quickstart (a preview plans the rotation)", async function () {
    this.timeout(40 * 60_000);
    program = await localProgramStack({ programDir: ROOT, inPlace: true, stackName: "root-check" });
    await program.stack.setAllConfig({
      host: { value: "127.0.0.1" },
      database: { value: "app" },
      managingUser: { value: "rotation_manager" },
      managingPassword: { value: "not-used-by-a-preview", secret: true },
      rotationTrigger: { value: "1" },
    });
    const preview = await program.stack.preview();
    expect(preview.changeSummary).to.deep.equal({ create: 4 });
    expect(preview.stdout).to.include("postgres-rotator:index:RotatedPostgresCredentials");
  });
});
