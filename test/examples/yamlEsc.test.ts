/**
 * End to end: examples/yaml-esc (`RotatedPostgresCredentials` with `esc`: both environments and
 * a rotation schedule) deployed by the real Pulumi CLI and the YAML language host through this
 * package's provider plugin, against a real PostgreSQL where only the managing user and the group
 * role exist, and the local ESC stand-in. The access token is the secret config `escAccessToken`
 * only: `PULUMI_ACCESS_TOKEN` is empty, so every ESC call the plugin makes proves it passed on.
 * The documents the stand-in holds are compared whole with what the ESC document builders (which
 * the TypeScript component calls) give for the same inputs, secrets masked; the inputs of
 * `fn::rotate::postgres` also with examples/esc's literal expectation.
 */
import * as path from "node:path";
import { expect } from "chai";
import { parse } from "yaml";
import type { Stack } from "@pulumi/pulumi/automation";
import { escClient } from "../../provider/esc/client";
import {
  credentialsEnvironmentYaml,
  rotatorEnvironmentYaml,
  stateFromOpenedValue,
} from "../../provider/esc/documents";
import { SECRET_SIG, SIG_KEY } from "../../provider/plugin/secrets";
import {
  ensurePulumiCli,
  localProgramStack,
  type LocalProgramStack,
} from "../../scripts/pulumiStack";
import { ESC_TOKEN, startEscStandIn, type EscStandIn } from "../support/escStandIn";
import { requireLanguageHost } from "../support/pluginProgram";
import { expectNoSecrets } from "../support/secrets";
import { cluster, SUPPORTED_MAJORS, uniqueName, type TestCluster } from "../support/servers";

const ROOT = path.join(__dirname, "..", "..");
const PROJECT = "postgres-rotator";
const CREDENTIALS = `acme/${PROJECT}/db-credentials`;
const ROTATOR = `acme/${PROJECT}/db-rotator`;
const CRON = "0 3 * * *";

interface Credential {
  username: string;
  password?: string;
}

/** `node` with every `fn::secret` value, plaintext or `{ciphertext}`, replaced by one mark. */
function masked(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(masked);
  if (typeof node !== "object" || node === null) return node;
  return Object.fromEntries(
    Object.entries(node).map(([key, value]) => [
      key,
      key === "fn::secret" ? "<secret>" : masked(value),
    ]),
  );
}

/** Every value stored under a key `accessToken`, at any depth, with where it was. */
function accessTokens(node: unknown, at = ""): { at: string; value: unknown }[] {
  if (typeof node !== "object" || node === null) return [];
  return Object.entries(node).flatMap(([key, value]) =>
    key === "accessToken" ? [{ at: `${at}.${key}`, value }] : accessTokens(value, `${at}.${key}`),
  );
}

describe("examples/yaml-esc with the real Pulumi CLI, the provider plugin and the ESC stand-in", function () {
  this.timeout(5 * 60_000);
  let pg: TestCluster;
  let api: EscStandIn;
  let program: LocalProgramStack;
  let stack: Stack;
  let pair: { username1: string; username2: string };
  const secrets = new Set<string>([ESC_TOKEN]);
  const printed: string[] = [];
  const onOutput = (text: string) => printed.push(text);

  const outputs = async () => {
    const all = await stack.outputs();
    const current = all.current.value as Credential;
    const previous = all.previous.value as Credential;
    for (const c of [current, previous]) if (c.password) secrets.add(c.password);
    return { current, previous, secret: all.current.secret && all.previous.secret };
  };
  const escState = async () => {
    const state = stateFromOpenedValue(
      await escClient({
        organization: "acme",
        project: PROJECT,
        environment: "db-rotator",
        apiUrl: api.url,
        accessToken: ESC_TOKEN,
      }).openValue("dbRotator"),
    );
    for (const c of [state?.current, state?.previous]) if (c?.password) secrets.add(c.password);
    return state;
  };
  /** The rotator document the builders give for these inputs and `state`, secrets masked. */
  const expectedRotator = (state: { current: Credential; previous: Credential }) =>
    masked(
      parse(
        rotatorEnvironmentYaml({
          credentials: { project: PROJECT, environment: "db-credentials" },
          database: { host: pg.server.host, port: pg.server.port, database: pg.database.database },
          rotateUsers: pair,
          key: "dbRotator",
          state: state as never,
        }),
      ),
    );

  before(async function () {
    this.timeout(40 * 60_000);
    const binDir = ensurePulumiCli();
    const hostDir = requireLanguageHost(this, binDir, "yaml");
    pg = await cluster(SUPPORTED_MAJORS[SUPPORTED_MAJORS.length - 1]);
    pair = { username1: uniqueName("yaml_esc_user_1"), username2: uniqueName("yaml_esc_user_2") };
    const group = await pg.createGroup();
    secrets.add(pg.manager.password);
    api = await startEscStandIn();
    program = await localProgramStack({
      programDir: path.join(ROOT, "examples", "yaml-esc"),
      stackName: "e2e",
      env: {
        PATH: [binDir, hostDir, process.env.PATH ?? ""].join(path.delimiter),
        PULUMI_DISABLE_REGISTRY_RESOLVE: "true",
        // The token reaches ESC only as the program's secret input.
        PULUMI_ACCESS_TOKEN: "",
      },
    });
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
      escOrganization: { value: "acme" },
      escAccessToken: { value: ESC_TOKEN, secret: true },
      escApiUrl: { value: api.url },
    });
  });
  after(async () => {
    program?.remove();
    await api?.close();
  });

  it("first up creates the users, both environments and the schedule; ESC serves the state", async () => {
    const result = await stack.up({ onOutput });
    expect(result.summary.resourceChanges).to.deep.equal({ create: 7 });
    const { current, previous, secret } = await outputs();
    expect(secret).to.equal(true);
    expect(current.username).to.equal(pair.username1);
    expect(previous.username).to.equal(pair.username2);
    for (const c of [current, previous]) {
      expect(await pg.canLogin(c.username, c.password)).to.equal(true);
    }
    expect(await escState()).to.deep.equal({ current, previous });

    // What the TypeScript component writes for the same inputs, key for key.
    expect(masked(parse(api.stored(CREDENTIALS)!))).to.deep.equal(
      masked(
        parse(
          credentialsEnvironmentYaml({
            managingUser: { username: pg.manager.username, password: pg.manager.password },
          }),
        ),
      ),
    );
    const managingUser = await escClient({
      organization: "acme",
      project: PROJECT,
      environment: "db-credentials",
      apiUrl: api.url,
      accessToken: ESC_TOKEN,
    }).openValue("managingUser");
    expect(managingUser).to.deep.equal({
      username: pg.manager.username,
      password: pg.manager.password,
    });
    const rotator = parse(api.stored(ROTATOR)!);
    expect(masked(rotator)).to.deep.equal(expectedRotator({ current, previous }));
    // examples/esc's expectation (test/examples/esc.test.ts), literally.
    expect(rotator.values.dbRotator["fn::rotate::postgres"].inputs).to.deep.equal({
      database: {
        database: pg.database.database,
        host: pg.server.host,
        port: pg.server.port,
        managingUser: "${environments.postgres-rotator.db-credentials.managingUser}",
      },
      rotateUsers: pair,
    });

    expect(
      api.schedules(ROTATOR).map((s) => ({
        scheduleCron: s.scheduleCron,
        scheduleOnce: s.scheduleOnce,
        paused: s.paused,
      })),
    ).to.deep.equal([{ scheduleCron: CRON, scheduleOnce: undefined, paused: false }]);
  });

  it("a config bump rotates username2; the rotator environment's state follows", async () => {
    const before = await outputs();
    await stack.setConfig("rotationTrigger", { value: "2" });
    const result = await stack.up({ onOutput });
    expect(result.summary.resourceChanges).to.deep.equal({ same: 6, update: 1 });
    const { current, previous } = await outputs();
    expect(current.username).to.equal(pair.username2);
    expect(previous).to.deep.equal(before.current);
    expect(await pg.canLogin(current.username, current.password)).to.equal(true);
    expect(await pg.canLogin(previous.username, previous.password)).to.equal(true);
    expect(await escState()).to.deep.equal({ current, previous });
    expect(masked(parse(api.stored(ROTATOR)!))).to.deep.equal(
      expectedRotator({ current, previous }),
    );
    expect(api.schedules(ROTATOR)).to.have.length(1);
  });

  it("the token and every password are secret: none in plaintext in the state, the backend or the CLI's output", () => {
    const state = program.exportState();
    // The token is an input of both environments, the schedule and the rotation: stored
    // encrypted in each, inputs and outputs alike.
    const resources = (
      state as { resources: { type: string; inputs?: object; outputs?: object }[] }
    ).resources;
    const tokens = resources.flatMap((r) => [
      ...accessTokens(r.inputs, `${r.type}.inputs`),
      ...accessTokens(r.outputs, `${r.type}.outputs`),
    ]);
    const types = resources.filter((r) => accessTokens(r.inputs).length > 0).map((r) => r.type);
    expect(types).to.include.members([
      "postgres-rotator:index:EscEnvironment",
      "postgres-rotator:index:EscRotationSchedule",
      "postgres-rotator:index:PostgresRotation",
    ]);
    for (const { at, value } of tokens) {
      expect(value, at).to.have.property(SIG_KEY, SECRET_SIG);
      expect(value, at).to.have.property("ciphertext").that.is.a("string");
    }
    // The token, the managing password, both initial passwords and the rotated one.
    expect(secrets.size).to.be.at.least(5);
    expectNoSecrets(JSON.stringify(state), [...secrets]);
    expectNoSecrets(program.backendText(), [...secrets]);
    expectNoSecrets(printed.join(""), [...secrets]);
  });

  it("destroy deletes both environments and the schedule, and leaves the users working", async () => {
    const { current } = await outputs();
    const result = await stack.destroy({ onOutput });
    expect(result.summary.resourceChanges).to.deep.equal({ delete: 7 });
    expect(api.stored(CREDENTIALS)).to.equal(undefined);
    expect(api.stored(ROTATOR)).to.equal(undefined);
    expect(api.schedules(ROTATOR)).to.deep.equal([]);
    // The schedule by its own DELETE, not only with its environment.
    const scheduleDeletes = api.requests
      .filter((r) => r.method === "DELETE" && /\/db-rotator\/schedules\/[^/]+$/.test(r.path))
      .map((r) => r.status);
    expect(scheduleDeletes).to.deep.equal([200]);
    expect(await pg.canLogin(current.username, current.password)).to.equal(true);
    expectNoSecrets(printed.join(""), [...secrets]);
  });
});
