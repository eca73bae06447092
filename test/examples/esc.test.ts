/**
 * End to end: examples/esc (`RotatedPostgresCredentials` with `esc`, direct mode) deployed by
 * the real Pulumi CLI against a real PostgreSQL where only the managing user and the group role
 * exist, and the local ESC stand-in; two rotations by config bump, and ESC rotating on its own
 * in between.
 */
import * as path from "node:path";
import { expect } from "chai";
import type { Stack } from "@pulumi/pulumi/automation";
import type * as HandlerModule from "../../provider/connector/lambdaHandler";
import { escClient } from "../../provider/esc/client";
import { stateFromOpenedValue } from "../../provider/esc/documents";
import { parse } from "yaml";
import { localProgramStack, type LocalProgramStack } from "../../scripts/pulumiStack";
import { ESC_TOKEN, startEscStandIn, type EscStandIn } from "../support/escStandIn";
import { expectNoSecrets } from "../support/secrets";
import { cluster, SUPPORTED_MAJORS, uniqueName, type TestCluster } from "../support/servers";

const EXAMPLE = path.join(__dirname, "..", "..", "examples", "esc");
const BUNDLE = path.join(__dirname, "..", "..", "dist", "lambda", "index.js");

const bundle = require(BUNDLE) as typeof HandlerModule;
const ROTATOR = "acme/postgres-rotator/db-rotator";
const CREDENTIALS = "acme/postgres-rotator/db-credentials";

interface Credential {
  username: string;
  password?: string;
}

describe("examples/esc with the real Pulumi CLI and the ESC stand-in", function () {
  this.timeout(5 * 60_000);
  let pg: TestCluster;
  let api: EscStandIn;
  let program: LocalProgramStack;
  let stack: Stack;
  let pair: { username1: string; username2: string };
  const secrets = new Set<string>([ESC_TOKEN]);

  const outputs = async () => {
    const all = await stack.outputs();
    const current = all.current.value as Credential;
    const previous = all.previous.value as Credential;
    for (const c of [current, previous]) if (c.password) secrets.add(c.password);
    return { current, previous };
  };
  const escState = async () => {
    const state = stateFromOpenedValue(
      await escClient({
        organization: "acme",
        project: "postgres-rotator",
        environment: "db-rotator",
        apiUrl: api.url,
        accessToken: ESC_TOKEN,
      }).openValue("dbRotator"),
    );
    for (const c of [state?.current, state?.previous]) if (c?.password) secrets.add(c.password);
    return state;
  };

  before(async function () {
    this.timeout(40 * 60_000);
    pg = await cluster(SUPPORTED_MAJORS[SUPPORTED_MAJORS.length - 1]);
    pair = { username1: uniqueName("esc_user_1"), username2: uniqueName("esc_user_2") };
    const group = await pg.createGroup();
    secrets.add(pg.manager.password);
    api = await startEscStandIn();
    api.connector = (event) => bundle.handleEvent(event, { PGSSLMODE: "disable" }, () => undefined);
    program = await localProgramStack({
      programDir: EXAMPLE,
      stackName: "esc",
      env: { PULUMI_ACCESS_TOKEN: ESC_TOKEN },
    });
    stack = program.stack;
    await stack.setAllConfig({
      escOrganization: { value: "acme" },
      escApiUrl: { value: api.url },
      host: { value: pg.server.host },
      port: { value: String(pg.server.port) },
      database: { value: "app" },
      managingUser: { value: pg.manager.username },
      managingPassword: { value: pg.manager.password, secret: true },
      username1: { value: pair.username1 },
      username2: { value: pair.username2 },
      group: { value: group },
      sslMode: { value: "disable" },
      rotationTrigger: { value: "1" },
    });
  });
  after(async () => {
    program?.remove();
    await api?.close();
  });

  it("first up creates the users and both environments; ESC serves the initial state", async () => {
    const result = await stack.up();
    expect(result.summary.resourceChanges).to.deep.equal({ create: 6 });
    const { current, previous } = await outputs();
    expect(current.username).to.equal(pair.username1);
    expect(previous.username).to.equal(pair.username2);
    for (const c of [current, previous]) {
      expect(await pg.canLogin(c.username, c.password)).to.equal(true);
    }
    expect(await escState()).to.deep.equal({ current, previous });
    // The seed's layout, key for key; secrets stored encrypted.
    const credentials = parse(api.stored(CREDENTIALS)!);
    expect(Object.keys(credentials.values)).to.deep.equal(["managingUser"]);
    expect(credentials.values.managingUser.username).to.equal(pg.manager.username);
    expect(credentials.values.managingUser.password["fn::secret"]).to.have.property("ciphertext");
    const rotator = parse(api.stored(ROTATOR)!).values.dbRotator["fn::rotate::postgres"];
    expect(rotator.inputs).to.deep.equal({
      database: {
        database: "app",
        host: pg.server.host,
        port: pg.server.port,
        managingUser: "${environments.postgres-rotator.db-credentials.managingUser}",
      },
      rotateUsers: pair,
    });
    expect(Object.keys(rotator.state)).to.deep.equal(["current", "previous"]);
  });

  it("a config bump rotates username2; ESC's state equals the outputs", async () => {
    const before = await outputs();
    await stack.setConfig("rotationTrigger", { value: "2" });
    await stack.up();
    const { current, previous } = await outputs();
    expect(current.username).to.equal(pair.username2);
    expect(previous).to.deep.equal(before.current);
    expect(await pg.canLogin(current.username, current.password)).to.equal(true);
    expect(await escState()).to.deep.equal({ current, previous });
  });

  it("after ESC rotates twice, the next bump rotates ESC's previous user", async () => {
    await api.rotate(ROTATOR);
    await api.rotate(ROTATOR);
    const esc = (await escState())!;
    expect(esc.current.username).to.equal(pair.username2);
    await stack.setConfig("rotationTrigger", { value: "3" });
    await stack.up();
    const { current, previous } = await outputs();
    expect(current.username).to.equal(pair.username1);
    expect(previous).to.deep.equal(esc.current);
    expect(await pg.canLogin(current.username, current.password)).to.equal(true);
    expect(await pg.canLogin(previous.username, previous.password)).to.equal(true);
    expect(await escState()).to.deep.equal({ current, previous });
  });

  it("the state file holds no plaintext password or token", () => {
    expect(secrets.size).to.be.at.least(7);
    expectNoSecrets(JSON.stringify(program.exportState()), [...secrets]);
    expectNoSecrets(program.backendText(), [...secrets]);
  });

  it("destroy deletes the environments and leaves the users working", async () => {
    const { current } = await outputs();
    await stack.destroy();
    expect(api.stored(ROTATOR)).to.equal(undefined);
    expect(await pg.canLogin(current.username, current.password)).to.equal(true);
  });
});
