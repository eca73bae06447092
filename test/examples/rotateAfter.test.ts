/**
 * End to end: `rotateAfter: "1h"` on examples/quickstart, deployed by the real Pulumi CLI against
 * a real PostgreSQL. An hour cannot pass in a test, so the provider's clock is moved ahead
 * through the test-only variable (PULUMI_POSTGRES_ROTATOR_TEST_CLOCK_AHEAD), which reaches the
 * dynamic provider through the CLI's environment: `pulumi preview` shows the pending rotation
 * and why, `pulumi up` rotates, and with the real clock nothing is pending.
 */
import * as path from "node:path";
import { expect } from "chai";
import type { Stack } from "@pulumi/pulumi/automation";
import { localProgramStack, type LocalProgramStack } from "../../scripts/pulumiStack";
import { TEST_CLOCK_AHEAD_VARIABLE } from "../../provider/core/rotateAfter";
import { cluster, SUPPORTED_MAJORS, uniqueName, type TestCluster } from "../support/servers";
import { expectNoSecrets } from "../support/secrets";

const QUICKSTART = path.join(__dirname, "..", "..", "examples", "quickstart");
const NEWEST = SUPPORTED_MAJORS[SUPPORTED_MAJORS.length - 1];

interface Credential {
  username: string;
  password?: string;
}

describe("rotateAfter with the real Pulumi CLI (examples/quickstart)", function () {
  this.timeout(5 * 60_000);
  let pg: TestCluster;
  let program: LocalProgramStack;
  let stack: Stack;
  const pair = { username1: uniqueName("ra_user_1"), username2: uniqueName("ra_user_2") };
  const secrets = new Set<string>();
  const printed: string[] = [];
  const onOutput = (text: string) => printed.push(text);

  const outputs = async () => {
    const all = await stack.outputs();
    const current = all.current.value as Credential;
    const previous = all.previous.value as Credential;
    for (const c of [current, previous]) if (c.password) secrets.add(c.password);
    return { current, previous, rotatedAt: all.rotatedAt?.value as string | undefined };
  };
  /** Runs `work` with the provider's clock `ahead` of the real one. */
  async function clockAhead<T>(ahead: string, work: () => Promise<T>): Promise<T> {
    stack.workspace.envVars[TEST_CLOCK_AHEAD_VARIABLE] = ahead;
    try {
      return await work();
    } finally {
      delete stack.workspace.envVars[TEST_CLOCK_AHEAD_VARIABLE];
    }
  }
  /** A preview, with what it printed. */
  async function preview() {
    const lines: string[] = [];
    const result = await stack.preview({
      onOutput: (text) => {
        lines.push(text);
        printed.push(text);
      },
    });
    return { changes: result.changeSummary, text: lines.join("") };
  }

  before(async function () {
    this.timeout(40 * 60_000); // the first run on a machine may build the CLI
    pg = await cluster(NEWEST);
    const group = await pg.createGroup();
    secrets.add(pg.manager.password);
    program = await localProgramStack({ programDir: QUICKSTART, stackName: "aged" });
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
      rotationTrigger: { value: "1" },
      rotateAfter: { value: "1h" },
    });
  });
  after(() => program?.remove());

  it("first up creates the users; username1 is current, its age counted from their adoption", async () => {
    const result = await stack.up({ onOutput });
    expect(result.summary.resourceChanges).to.deep.equal({ create: 4 });
    expect((await outputs()).current.username).to.equal(pair.username1);
  });

  it("preview of a younger password shows nothing to do", async () => {
    const { changes, text } = await preview();
    expect(changes).to.deep.equal({ same: 4 });
    expect(text).to.not.include("rotateAfter: rotating");
  });

  it("preview of an older one (clock 2h ahead) shows the update and why", async () => {
    const { changes, text } = await clockAhead("2h", preview);
    expect(changes).to.deep.equal({ same: 3, update: 1 });
    expect(text).to.include(`rotateAfter: rotating ${pair.username1}/${pair.username2}`);
    expect(text).to.match(/the password is 2h(?: \dm)? old \(set [^)]+\), rotateAfter is 1h/);
    expect(text).to.include(`${TEST_CLOCK_AHEAD_VARIABLE}=2h`);
    expect(await outputs()).to.have.nested.property("current.username", pair.username1);
  });

  it("up then rotates username2 without a trigger change; the old current still logs in", async () => {
    const before = await outputs();
    const result = await clockAhead("2h", () => stack.up({ onOutput }));
    expect(result.summary.resourceChanges).to.deep.equal({ same: 3, update: 1 });
    const after = await outputs();
    expect(after.current.username).to.equal(pair.username2);
    expect(after.previous).to.deep.equal(before.current);
    expect(after.rotatedAt).to.be.a("string");
    expect(await pg.canLogin(pair.username2, after.current.password)).to.equal(true);
    expect(await pg.canLogin(pair.username1, after.previous.password)).to.equal(true);
  });

  it("with the real clock the fresh password is young again: nothing pending", async () => {
    expect((await preview()).changes).to.deep.equal({ same: 4 });
  });

  it("no plaintext password in the state, the backend or anything the CLI printed", () => {
    expect(secrets.size).to.be.at.least(3);
    expectNoSecrets(JSON.stringify(program.exportState()), [...secrets]);
    expectNoSecrets(program.backendText(), [...secrets]);
    expectNoSecrets(printed.join(""), [...secrets]);
  });
});
