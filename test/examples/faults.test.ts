/**
 * Faults during `pulumi up`, injected from outside the product, with the real Pulumi CLI on the
 * newest PostgreSQL (a private server with `synchronous_commit = on`, so that a commit survives
 * a crash). Each case starts from a stack whose next rotation is guarded (its target carries the
 * mark of a rotation this stack made, or its password is known: the state a stack is in from its
 * second rotation on), faults that rotation, and checks: the `up` fails with a clear error;
 * `current` still logs in and the outputs did not move; the next plain `pulumi up` converges,
 * with no manual repair.
 *
 * - The provider killed between `ALTER ROLE` and the login test (direct `PostgresRotation`): a TCP
 *   proxy (test/support/pgProxy.ts) between the provider and PostgreSQL holds the login as the
 *   target user, which the provider opens only once its `ALTER ROLE` has committed (the old
 *   password already fails then); the test SIGKILLs the process holding that connection, the
 *   dynamic provider. Proves that a rotation cut short after changing the password blocks
 *   nothing: its mark names this resource as its holder (provider/core/mark.ts), so the next
 *   `up` rotates again.
 * - The database restarted mid-rotation, at that same moment: a server process SIGKILLed, so the
 *   postmaster ends every session and recovers; the held login is lost with it. Proves the error
 *   says the password was changed but the login test failed, the committed password survived
 *   the crash, and the next `up` converges.
 * - ESC (examples/esc: `RotatedPostgresCredentials` with `esc`, on the ESC stand-in) answering
 *   500 to the rotation's read of the rotator environment, before anything changed: the error
 *   names the environment and the status, ESC's state and the database are untouched, and the
 *   next `up` converges.
 * - ESC answering 500, or 409 (a rival revision saved meanwhile), to the rotation's write of the
 *   new state, after the database changed: the error names the environment and the status,
 *   `current` and ESC's state stay valid, and the next `up` converges: the rotation completed in
 *   the database but was recorded nowhere, and its mark names this resource.
 * - The connector Lambda timing out (direct `PostgresRotation` with `connector.awsLambda`; the
 *   AWS stand-in answers after the provider's request timeout): LambdaInvocationError "no answer
 *   in time", `current` logs in. The function still runs afterwards, as a real Lambda does, and
 *   rotates the user (the SDK's retry of the same event too); the next `up` converges, as
 *   above.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { expect } from "chai";
import type { Client } from "pg";
import type { ConfigMap, Stack } from "@pulumi/pulumi/automation";
import type * as HandlerModule from "../../provider/connector/lambdaHandler";
import type { ConnectorReply } from "../../provider/connector/event";
import { escClient } from "../../provider/esc/client";
import { stateFromOpenedValue } from "../../provider/esc/documents";
import { localProgramStack, type LocalProgramStack } from "../../scripts/pulumiStack";
import { ACCESS_KEY_ID, SECRET_ACCESS_KEY, startAwsStandIn } from "../support/awsStandIn";
import { ESC_TOKEN, startEscStandIn, type EscStandIn } from "../support/escStandIn";
import { startPgProxy, type PgProxy, type ProxiedLogin } from "../support/pgProxy";
import { rejection } from "../support/secrets";
import { privateCluster, SUPPORTED_MAJORS, uniqueName, type TestCluster } from "../support/servers";

const NEWEST = SUPPORTED_MAJORS[SUPPORTED_MAJORS.length - 1];
const BUNDLE = path.join(__dirname, "..", "..", "dist", "lambda", "index.js");
const ESC_EXAMPLE = path.join(__dirname, "..", "..", "examples", "esc");
const bundle = require(BUNDLE) as typeof HandlerModule;

/** A direct `PostgresRotation`, or one through `connector.awsLambda` when `lambdaArn` is set. */
const PROGRAM = `
const pulumi = require("@pulumi/pulumi");
const { PostgresRotation } = require("pulumi-postgres-rotator");

const config = new pulumi.Config();
const lambdaArn = config.get("lambdaArn");
const timeouts = config.getObject("timeouts");
const state = config.getSecretObject("state");
const rotation = new PostgresRotation("db", {
  database: {
    host: config.require("host"),
    port: config.requireNumber("port"),
    database: config.require("database"),
    managingUser: { username: config.require("managingUser"), password: config.requireSecret("managingPassword") },
    ...(lambdaArn
      ? { connector: { awsLambda: { lambdaArn, endpoint: config.require("lambdaEndpoint") } } }
      : { ssl: { mode: "disable" } }),
  },
  rotateUsers: { username1: config.require("username1"), username2: config.require("username2") },
  rotationTrigger: config.require("rotationTrigger"),
  ...(timeouts ? { timeouts } : {}),
  ...(state ? { state } : {}),
});
exports.current = rotation.current;
exports.previous = rotation.previous;
`;

interface Credential {
  username: string;
  password?: string;
}

interface Outputs {
  current: Credential;
  previous: Credential;
}

/** What the provider reported: the CLI's `error:` lines, the summary line left out. */
function reported(error: Error): string {
  const lines = [...error.message.matchAll(/^ {4}error: (.*)$/gm)].map((match) => match[1]);
  return [...new Set(lines.filter((line) => line !== "update failed"))].join("\n");
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("faults during pulumi up, with the real CLI", function () {
  this.timeout(10 * 60_000);
  let pg: TestCluster;
  let programDir: string;
  const programs: LocalProgramStack[] = [];

  before(async function () {
    this.timeout(40 * 60_000); // the first run on a machine may build the CLI
    pg = await privateCluster({ major: NEWEST, settings: { synchronous_commit: "on" } });
    programDir = fs.mkdtempSync(path.join(os.tmpdir(), "faults-program-"));
    fs.writeFileSync(path.join(programDir, "Pulumi.yaml"), "name: faults\nruntime: nodejs\n");
    fs.writeFileSync(
      path.join(programDir, "package.json"),
      '{ "name": "faults", "private": true }\n',
    );
    fs.writeFileSync(path.join(programDir, "index.js"), PROGRAM);
  });
  after(() => {
    for (const program of programs) program.remove();
    if (programDir) fs.rmSync(programDir, { recursive: true, force: true });
  });

  const outputsOf = async (stack: Stack): Promise<Outputs> => {
    const all = await stack.outputs();
    return { current: all.current.value as Credential, previous: all.previous.value as Credential };
  };
  const logsIn = (c: Credential) => pg.canLogin(c.username, c.password);

  /** Both users' passwords known, each still logging in, `current` the one of `username`. */
  async function expectHealthy(outputs: Outputs, username: string) {
    expect(outputs.current.username).to.equal(username);
    expect(await logsIn(outputs.current), "current logs in").to.equal(true);
    expect(await logsIn(outputs.previous), "previous logs in").to.equal(true);
  }

  /**
   * The program on a fresh pair, up twice (username1 rotated, then username2): the next
   * rotation changes username1, which carries the mark of this stack's first rotation.
   */
  async function rotatedTwice(
    name: string,
    database: { host: string; port: number },
    extra: ConfigMap = {},
    env: Record<string, string> = {},
  ) {
    const pair = await pg.createPair(uniqueName(`${name}_1`), uniqueName(`${name}_2`));
    const program = await localProgramStack({ programDir, stackName: name, env });
    programs.push(program);
    const { stack } = program;
    await stack.setAllConfig({
      host: { value: database.host },
      port: { value: String(database.port) },
      database: { value: "app" },
      managingUser: { value: pg.manager.username },
      managingPassword: { value: pg.manager.password, secret: true },
      username1: { value: pair.username1 },
      username2: { value: pair.username2 },
      rotationTrigger: { value: "1" },
      ...extra,
    });
    await stack.up();
    await stack.setConfig("rotationTrigger", { value: "2" });
    await stack.up();
    const before = await outputsOf(stack);
    await expectHealthy(before, pair.username2);
    return { pair, stack, before };
  }

  /** The next `up`, with no change of config or code, rotates username1 and converges. */
  async function expectConverges(stack: Stack, before: Outputs, username1: string) {
    await stack.up();
    const after = await outputsOf(stack);
    await expectHealthy(after, username1);
    expect(after.previous).to.deep.equal(before.current);
  }

  describe("between ALTER ROLE and the login test (a proxy holds that login)", () => {
    let proxy: PgProxy;
    before(async () => {
      proxy = await startPgProxy(pg.server);
    });
    after(() => proxy?.close());

    /** Starts a rotating `up` and resolves when the login as `target` is held. */
    async function upUntilLoginTest(stack: Stack, target: string, oldPassword: string) {
      const held = proxy.holdNext((login) => login.user === target);
      await stack.setConfig("rotationTrigger", { value: "3" });
      const up = rejection(stack.up());
      const login = await Promise.race([
        held,
        up.then((error) => {
          throw new Error(`up ended before the login test: ${error.message}`);
        }),
      ]);
      // The ALTER has committed: the old password no longer logs in.
      expect(await pg.canLogin(target, oldPassword), "the old password still works").to.equal(
        false,
      );
      return { up, login: login as ProxiedLogin };
    }

    it("the provider killed there: the up fails, current logs in, the next up converges", async () => {
      const { pair, stack, before } = await rotatedTwice("killed", proxy);
      const { up, login } = await upUntilLoginTest(
        stack,
        pair.username1,
        before.previous.password!,
      );
      const pid = login.ownerPid();
      expect(pid, "the process holding the login").to.be.a("number");
      const command = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8");
      expect(command, "it is the dynamic provider").to.include("dynamic-provider");
      process.kill(pid!, "SIGKILL");

      // The CLI's words for a provider that went away.
      expect(reported(await up)).to.include("error reading from server: EOF");
      expect(await outputsOf(stack)).to.deep.equal(before);
      expect(await logsIn(before.current)).to.equal(true);
      await expectConverges(stack, before, pair.username1);
    });

    it("the database restarted there: a clear error, current logs in, the next up converges", async () => {
      const { pair, stack, before } = await rotatedTwice("restarted", proxy);
      const { up, login } = await upUntilLoginTest(
        stack,
        pair.username1,
        before.previous.password!,
      );
      // Crash: a server process killed, so the postmaster ends every session and recovers.
      const watcher = await pg.server.connectAsSuperuser();
      const lost = new Promise<void>((resolve) => {
        watcher.on("error", () => resolve());
        watcher.on("end", () => resolve());
      });
      const { rows } = await watcher.query<{ pid: number }>(
        "SELECT pid FROM pg_stat_activity WHERE usename = $1",
        [pg.manager.username],
      );
      expect(rows, "the rotation's managing session").to.have.length(1);
      process.kill(rows[0].pid, "SIGKILL");
      await lost;
      // The login in flight dies with the server.
      login.drop();

      const error = await up;
      expect(reported(error)).to.include(
        `the password of "${pair.username1}" was changed, but logging in with it failed`,
      );
      await waitForServer(pg);
      expect(await outputsOf(stack)).to.deep.equal(before);
      expect(await logsIn(before.current)).to.equal(true);
      // The committed ALTER survived the crash.
      expect(await pg.canLogin(pair.username1, before.previous.password)).to.equal(false);
      await expectConverges(stack, before, pair.username1);
    });
  });

  describe("ESC failing (examples/esc, state kept in ESC)", () => {
    let api: EscStandIn;
    before(async () => {
      api = await startEscStandIn();
      api.connector = (event) =>
        bundle.handleEvent(event, { PGSSLMODE: "disable" }, () => undefined);
    });
    after(() => api?.close());

    /** examples/esc deployed once: users created, both environments, ESC holds the state. */
    async function escStack(name: string) {
      const pair = { username1: uniqueName(`${name}_1`), username2: uniqueName(`${name}_2`) };
      const group = await pg.createGroup();
      const program = await localProgramStack({
        programDir: ESC_EXAMPLE,
        stackName: name,
        env: { PULUMI_ACCESS_TOKEN: ESC_TOKEN },
      });
      programs.push(program);
      const { stack } = program;
      await stack.setAllConfig({
        escOrganization: { value: "acme" },
        escApiUrl: { value: api.url },
        escProject: { value: name },
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
      await stack.up();
      const before = await outputsOf(stack);
      await expectHealthy(before, pair.username1);
      const rotator = `acme/${name}/db-rotator`;
      expect(await escState(rotator)).to.deep.equal(before);
      return { pair, stack, before, rotator };
    }

    const escState = async (rotator: string) => {
      const [organization, project, environment] = rotator.split("/");
      return stateFromOpenedValue(
        await escClient({
          organization,
          project,
          environment,
          apiUrl: api.url,
          accessToken: ESC_TOKEN,
        }).openValue("dbRotator"),
      );
    };

    /** The bumped `up` fails; outputs and ESC's state did not move; current logs in. */
    async function failedUp(stack: Stack, before: Outputs, rotator: string) {
      await stack.setConfig("rotationTrigger", { value: "2" });
      const error = await rejection(stack.up());
      expect(await outputsOf(stack)).to.deep.equal(before);
      expect(await escState(rotator)).to.deep.equal(before);
      expect(await logsIn(before.current)).to.equal(true);
      return error;
    }

    it("500 on the rotation's read: nothing changed, the next up converges", async () => {
      const { pair, stack, before, rotator } = await escStack("esc_read");
      const path = `/api/esc/environments/${rotator}`;
      api.beforeRequest = (method, requested) => {
        if (method !== "GET" || requested !== path) return undefined;
        api.beforeRequest = undefined;
        return { status: 500, message: "Internal Server Error" };
      };
      const error = await failedUp(stack, before, rotator);
      expect(reported(error)).to.equal(
        `reading ESC environment ${rotator} failed (HTTP 500): Internal Server Error`,
      );
      expect(await logsIn(before.previous), "the previous user was not touched").to.equal(true);
      await stack.up();
      const after = await outputsOf(stack);
      await expectHealthy(after, pair.username2);
      expect(after.previous).to.deep.equal(before.current);
      expect(await escState(rotator)).to.deep.equal(after);
    });

    for (const [status, make] of [
      [
        500,
        (name: string) => {
          throw new Error(`injected failure writing ${name}`);
        },
      ],
      [409, (name: string) => api.write(name, api.stored(name)!)],
    ] as const) {
      it(`${status} on the rotation's write: a clear error, current logs in, the next up converges`, async () => {
        const { pair, stack, before, rotator } = await escStack(`esc_write_${status}`);
        api.beforePatch = (name) => {
          if (name !== rotator) return;
          api.beforePatch = undefined;
          make(name);
        };
        const error = await failedUp(stack, before, rotator);
        expect(reported(error)).to.match(
          status === 409
            ? /^updating ESC environment \S+ failed: it changed since it was read \(HTTP 409\)/
            : /^updating ESC environment \S+ failed \(HTTP 500\)/,
        );
        // The database changed before the write: the previous user has a new password.
        expect(await pg.canLogin(pair.username2, before.previous.password)).to.equal(false);
        expect(await outputsOf(stack)).to.deep.equal(before);
        expect(await logsIn(before.current)).to.equal(true);
        // That rotation was recorded by no one; its mark names this resource: no rival.
        await stack.up();
        const after = await outputsOf(stack);
        await expectHealthy(after, pair.username2);
        expect(after.previous).to.deep.equal(before.current);
        expect(await escState(rotator)).to.deep.equal(after);
      });
    }
  });

  describe("the connector Lambda timing out (AWS stand-in)", () => {
    it("LambdaInvocationError, current logs in, and the next up converges after the late rotation", async () => {
      const aws = await startAwsStandIn();
      try {
        const arn = "arn:aws:lambda:eu-west-1:123456789012:function:pg-rotator";
        const replies: Promise<ConnectorReply>[] = [];
        aws.functions.set(arn, (event) => {
          const reply = bundle.handleEvent(event, { PGSSLMODE: "disable" }, () => undefined);
          replies.push(reply);
          return reply;
        });
        const invocations = () => aws.requests.filter((r) => r.service === "lambda").length;
        // The provider's request timeout is (2·connect + 2·statement + lock + 5) s: 10 s here.
        const timeouts = { connectSeconds: 1, statementSeconds: 1, lockSeconds: 1 };
        const { pair, stack, before } = await rotatedTwice(
          "lambda",
          pg.server,
          {
            lambdaArn: { value: arn },
            lambdaEndpoint: { value: aws.endpoint },
            timeouts: { value: JSON.stringify(timeouts) },
          },
          {
            AWS_ACCESS_KEY_ID: ACCESS_KEY_ID,
            AWS_SECRET_ACCESS_KEY: SECRET_ACCESS_KEY,
            AWS_EC2_METADATA_DISABLED: "true",
          },
        );
        const sent = invocations();
        aws.delayMs = 11_000;
        await stack.setConfig("rotationTrigger", { value: "3" });
        const error = await rejection(stack.up());
        expect(reported(error)).to.match(
          /^invoking the connector Lambda \S+ for "lambda_\S+" failed: TimeoutError: .*; no answer in time/,
        );
        expect(await outputsOf(stack)).to.deep.equal(before);
        expect(await logsIn(before.current)).to.equal(true);

        // The function runs anyway, after the provider gave up (each attempt the SDK made),
        // and the first run rotates username1.
        const attempts = invocations() - sent;
        expect(attempts).to.be.at.least(1);
        while (replies.length < sent + attempts) await sleep(100);
        const late = await Promise.all(replies.slice(sent));
        aws.delayMs = 0;
        // This package's event (it carries extensions): the reply names the rotation's mark.
        expect(late[0]).to.deep.equal({ code: 200, message: "ok", rotationId: late[0].rotationId });
        expect(late[0].rotationId).to.match(/^[0-9a-f-]{36}$/);
        // The SDK's retry sent the same event again: it rotated again, or waited and lost.
        for (const reply of late.slice(1)) {
          expect([200, 400]).to.include(reply.code);
          if (reply.code === 400) expect(reply.error).to.equal("ConcurrentRotationError");
        }
        expect(await pg.canLogin(pair.username1, before.previous.password)).to.equal(false);
        expect(await logsIn(before.current)).to.equal(true);

        // Nobody recorded that rotation; its mark names this resource, so the next up goes on.
        await stack.up();
        const after = await outputsOf(stack);
        expect(after.current.username).to.equal(pair.username1);
        expect(after.previous).to.deep.equal(before.current);
        expect(await logsIn(after.current)).to.equal(true);
        expect(await logsIn(before.current)).to.equal(true);
      } finally {
        await aws.close();
      }
    });
  });
});

/** Waits until the server accepts logins again (after a crash, it recovers on its own). */
async function waitForServer(pg: TestCluster): Promise<void> {
  for (let i = 0; i < 120; i++) {
    let client: Client | undefined;
    try {
      client = await pg.server.connectAsSuperuser();
      await client.query("SELECT 1");
      return;
    } catch {
      await sleep(250);
    } finally {
      await client?.end().catch(() => undefined);
    }
  }
  throw new Error("the server did not come back");
}
