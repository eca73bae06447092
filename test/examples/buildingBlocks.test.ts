/**
 * End to end: examples/building-blocks deployed by the real Pulumi CLI against a real
 * PostgreSQL where the two users do not exist yet: `PostgresUserPair` creates them, and
 * `PostgresRotation` starts from their initial passwords.
 */
import * as path from "node:path";
import { expect } from "chai";
import type { Stack } from "@pulumi/pulumi/automation";
import { localProgramStack, type LocalProgramStack } from "../../scripts/pulumiStack";
import { cluster, SUPPORTED_MAJORS, uniqueName, type TestCluster } from "../support/servers";
import { expectNoSecrets } from "../support/secrets";

const PROGRAM = path.join(__dirname, "..", "..", "examples", "building-blocks");
const NEWEST = SUPPORTED_MAJORS[SUPPORTED_MAJORS.length - 1];

interface Credential {
  username: string;
  password?: string;
}

describe("examples/building-blocks with the real Pulumi CLI", function () {
  this.timeout(5 * 60_000);
  let pg: TestCluster;
  let program: LocalProgramStack;
  let stack: Stack;
  let group: string;
  const users = { username1: uniqueName("bb_user_1"), username2: uniqueName("bb_user_2") };
  const secrets = new Set<string>();
  const printed: string[] = [];
  const onOutput = (text: string) => printed.push(text);

  const outputs = async () => {
    const all = await stack.outputs();
    const current = all.current.value as Credential;
    const previous = all.previous.value as Credential;
    for (const c of [current, previous]) if (c.password) secrets.add(c.password);
    return { current, previous, created: all.created.value as string[] };
  };

  before(async function () {
    this.timeout(40 * 60_000); // the first run on a machine may build the CLI
    pg = await cluster(NEWEST);
    group = await pg.createGroup();
    secrets.add(pg.manager.password);
    program = await localProgramStack({ programDir: PROGRAM, stackName: "blocks" });
    stack = program.stack;
    await stack.setAllConfig({
      host: { value: pg.server.host },
      port: { value: String(pg.server.port) },
      database: { value: pg.database.database },
      managingUser: { value: pg.manager.username },
      managingPassword: { value: pg.manager.password, secret: true },
      username1: { value: users.username1 },
      username2: { value: users.username2 },
      group: { value: group },
      sslMode: { value: "disable" },
      rotationTrigger: { value: "1" },
    });
  });
  after(() => program?.remove());

  it("first up creates both users; both known passwords log in; username1 is current", async () => {
    const result = await stack.up({ onOutput });
    expect(result.summary.resourceChanges).to.deep.equal({ create: 3 });
    const { current, previous, created } = await outputs();
    expect(created).to.deep.equal([users.username1, users.username2]);
    expect(current.username).to.equal(users.username1);
    expect(previous.username).to.equal(users.username2);
    expect(await pg.canLogin(users.username1, current.password)).to.equal(true);
    expect(await pg.canLogin(users.username2, previous.password)).to.equal(true);
  });

  it("the users hold exactly memberOf; the manager holds ADMIN without INHERIT or SET", async () => {
    const rows = await pg.asSuperuser(async (c) => {
      const { rows } = await c.query(
        `SELECT g.rolname AS role, m.rolname AS member, admin_option,
                ${NEWEST >= 16 ? "inherit_option, set_option" : "NULL AS inherit_option, NULL AS set_option"}
         FROM pg_auth_members a JOIN pg_roles g ON g.oid = a.roleid JOIN pg_roles m ON m.oid = a.member
         WHERE g.rolname = ANY($1) OR m.rolname = ANY($1) ORDER BY 1, 2`,
        [[users.username1, users.username2]],
      );
      return rows;
    });
    const expected = [
      ...[users.username1, users.username2].map((u) => ({
        role: group,
        member: u,
        admin_option: false,
        inherit_option: true,
        set_option: true,
      })),
      ...[users.username1, users.username2].map((u) => ({
        role: u,
        member: pg.manager.username,
        admin_option: true,
        inherit_option: false,
        set_option: false,
      })),
    ];
    expect(rows).to.have.deep.members(expected);
  });

  it("the first rotation changes username2; username1 stays current's old self, untouched", async () => {
    const before = await outputs();
    await stack.setConfig("rotationTrigger", { value: "2" });
    const result = await stack.up({ onOutput });
    expect(result.summary.resourceChanges).to.deep.equal({ same: 2, update: 1 });
    const { current, previous } = await outputs();
    expect(current.username).to.equal(users.username2);
    expect(current.password).to.not.equal(before.previous.password);
    expect(previous).to.deep.equal(before.current);
    expect(await pg.canLogin(users.username2, current.password)).to.equal(true);
    expect(await pg.canLogin(users.username1, previous.password)).to.equal(true);
  });

  it("replacing the pair (pulumi up --replace) adopts both users; the rotation keeps its state", async () => {
    const before = await outputs();
    const { deployment } = await stack.exportStack();
    const pair = (deployment.resources as { urn: string; type: string }[]).find((r) =>
      r.type.endsWith(":PostgresUserPair"),
    );
    // The replacement adopts the users (it is created before the old one is deleted), so it has
    // no initialState: the engine passes the rotation `state: null`, which is no state.
    const result = await stack.up({ onOutput, replace: [pair!.urn] });
    expect(result.summary.resourceChanges).to.deep.equal({ same: 2, replace: 1 });
    const after = await outputs();
    expect(after.created).to.deep.equal([]);
    expect(after.current).to.deep.equal(before.current);
    expect(after.previous).to.deep.equal(before.previous);
    expect(await pg.canLogin(users.username2, after.current.password)).to.equal(true);
    expect(await pg.canLogin(users.username1, after.previous.password)).to.equal(true);
  });

  it("after the replacement the next rotation converges: username1 gets a new password", async () => {
    const before = await outputs();
    await stack.setConfig("rotationTrigger", { value: "3" });
    const result = await stack.up({ onOutput });
    expect(result.summary.resourceChanges).to.deep.equal({ same: 2, update: 1 });
    const { current, previous } = await outputs();
    expect(current.username).to.equal(users.username1);
    expect(previous).to.deep.equal(before.current);
    expect(await pg.canLogin(users.username1, current.password)).to.equal(true);
    expect(await pg.canLogin(users.username2, previous.password)).to.equal(true);
  });

  it("no plaintext password in the exported state, the backend, the CLI's output or the server log", () => {
    expect(secrets.size).to.be.at.least(4);
    expectNoSecrets(JSON.stringify(program.exportState()), [...secrets]);
    expectNoSecrets(program.backendText(), [...secrets]);
    expectNoSecrets(printed.join(""), [...secrets]);
    expectNoSecrets(pg.server.readLog(), [...secrets]);
  });

  it("destroy keeps both users", async () => {
    const { current } = await outputs();
    const result = await stack.destroy({ onOutput });
    expect(result.summary.resourceChanges).to.deep.equal({ delete: 3 });
    expect(await pg.canLogin(current.username, current.password)).to.equal(true);
  });
});
