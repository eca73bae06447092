/**
 * `database.connector.awsLambda`: rotations through the real `@aws-sdk/client-lambda`, against
 * a local stand-in of the Lambda Invoke API (and STS for `roleArn`) that runs the bundled
 * connector handler against real PostgreSQL.
 */
import * as path from "node:path";
import { expect } from "chai";
import * as handlers from "../../../provider/postgresRotation/handlers";
import * as pairHandlers from "../../../provider/postgresUserPair/handlers";
import type { UserPairInputs, UserPairOutputs } from "../../../provider/core/userPair";
import { generatePassword } from "../../../provider/core/password";
import { quoteIdentifier } from "../../../provider/postgres/sql";
import type * as HandlerModule from "../../../provider/connector/lambdaHandler";
import type { RotationOutputs } from "../../../provider/core/outputs";
import type { RotationInputs } from "../../../provider/core/types";
import {
  AuthenticationError,
  ConnectorError,
  CurrentCredentialsError,
  LambdaInvocationError,
  OwnedObjectsError,
  RoleNotFoundError,
  ValidationError,
} from "../../../provider/errors";
import {
  ACCESS_KEY_ID,
  SECRET_ACCESS_KEY,
  startAwsStandIn,
  type AwsStandIn,
} from "../../support/awsStandIn";
import { Lifecycle } from "../../support/provider";
import { expectNoSecrets, rejection, renderings } from "../../support/secrets";
import { cluster, SUPPORTED_MAJORS, uniqueName, type TestCluster } from "../../support/servers";

const BUNDLE = path.join(__dirname, "..", "..", "..", "dist", "lambda", "index.js");

const bundle = require(BUNDLE) as typeof HandlerModule;
const ARN = "arn:aws:lambda:eu-west-1:123456789012:function:pg-rotator";
const ROLE = "arn:aws:iam::123456789012:role/esc-rotator-invoke";
const AWS_ENV = {
  AWS_ACCESS_KEY_ID: ACCESS_KEY_ID,
  AWS_SECRET_ACCESS_KEY: SECRET_ACCESS_KEY,
  AWS_EC2_METADATA_DISABLED: "true",
  AWS_SESSION_TOKEN: undefined,
  AWS_PROFILE: undefined,
};

describe("rotation through connector.awsLambda (local Invoke stand-in)", function () {
  let pg: TestCluster;
  let aws: AwsStandIn;
  const saved: Record<string, string | undefined> = {};

  before(async () => {
    pg = await cluster(SUPPORTED_MAJORS[SUPPORTED_MAJORS.length - 1]);
    aws = await startAwsStandIn();
    aws.functions.set(ARN, (event) =>
      bundle.handleEvent(event, { PGSSLMODE: "disable" }, () => undefined),
    );
    for (const [name, value] of Object.entries({
      ...AWS_ENV,
      AWS_ENDPOINT_URL_STS: aws.endpoint,
    })) {
      saved[name] = process.env[name];
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });
  after(async () => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    await aws?.close();
  });
  beforeEach(() => {
    aws.requests.length = 0;
    aws.delayMs = 0;
  });

  function inputs(
    pair: { username1: string; username2: string },
    trigger: string,
    /** `null`: connect directly. */
    lambda: Record<string, string> | null = { lambdaArn: ARN, endpoint: aws.endpoint },
  ): RotationInputs {
    const { ssl: _direct, ...database } = pg.database;
    void _direct;
    return {
      database: lambda ? { ...database, connector: { awsLambda: lambda } } : pg.database,
      rotateUsers: pair,
      rotationTrigger: trigger,
      timeouts: { connectSeconds: 2, statementSeconds: 2, lockSeconds: 1 },
    } as RotationInputs;
  }

  const summary = (o: RotationOutputs, pair: { username1: string }) => ({
    current: o.current.username === pair.username1 ? "username1" : "username2",
    previousKnown: o.previous.password !== undefined,
  });

  it("gives the same state transitions as the direct path", async () => {
    const viaLambda = await pg.createPair();
    const direct = await pg.createPair();
    const lambda = new Lifecycle(handlers);
    const plain = new Lifecycle(handlers);
    const check = async () => {
      const [l, p] = [lambda.outputs!, plain.outputs!];
      expect(summary(l, viaLambda)).to.deep.equal(summary(p, direct));
      expect(await pg.canLogin(l.current.username, l.current.password)).to.equal(true);
      if (l.previous.password !== undefined) {
        expect(await pg.canLogin(l.previous.username, l.previous.password)).to.equal(true);
      }
    };
    await lambda.create(inputs(viaLambda, "1"));
    await plain.create(inputs(direct, "1", null));
    await check();
    for (const trigger of ["2", "3"]) {
      await lambda.apply(inputs(viaLambda, trigger));
      await plain.apply(inputs(direct, trigger, null));
      await check();
    }
    expect(lambda.outputs!.database.connector).to.deep.equal({
      awsLambda: { lambdaArn: ARN, region: "eu-west-1", endpoint: aws.endpoint },
    });
    expect(aws.requests).to.have.length(3);
  });

  it("sends exactly the ESC event, signed for Lambda in the ARN's region", async () => {
    const pair = await pg.createPair();
    await new Lifecycle(handlers).create(inputs(pair, "1"));
    const [request] = aws.requests;
    expect(request.method).to.equal("POST");
    expect(request.path).to.equal(`/2015-03-31/functions/${encodeURIComponent(ARN)}/invocations`);
    expect(request.headers["x-amz-invocation-type"]).to.equal("RequestResponse");
    expect(request).to.include({
      service: "lambda",
      region: "eu-west-1",
      accessKeyId: ACCESS_KEY_ID,
    });
    const event = JSON.parse(request.body) as Record<string, unknown>;
    expect(Object.keys(event)).to.deep.equal([
      "type",
      "host",
      "port",
      "database",
      "managingUser",
      "rotateUser",
    ]);
    expect(event).to.deep.include({
      type: "postgres",
      host: pg.server.host,
      port: pg.server.port,
      database: "app",
      managingUser: pg.manager,
    });
    expect((event.rotateUser as Record<string, unknown>).username).to.equal(pair.username1);
    expect((event.rotateUser as Record<string, unknown>).password).to.equal("");
  });

  it("sends the ownership policy and the pair's other user; a refusal is the direct path's", async () => {
    const pair = await pg.createPair();
    const life = new Lifecycle(handlers);
    await life.create(inputs(pair, "1"));
    await life.apply(inputs(pair, "2"));
    const table = uniqueName("migrated");
    // username2 (current) owns a table: only the other user's name lets the connector see it.
    await pg.asSuperuser(async (c) => {
      await c.query(`GRANT CREATE ON SCHEMA public TO ${quoteIdentifier(pair.username2)}`);
      await c.query(`SET ROLE ${quoteIdentifier(pair.username2)}`);
      await c.query(`CREATE TABLE public.${quoteIdentifier(table)} (id int)`);
    });
    try {
      aws.requests.length = 0;
      const before = life.outputs!;
      const error = await rejection(
        life.apply({ ...inputs(pair, "3"), ownership: "refuse" } as RotationInputs),
      );
      expect(error).to.be.instanceOf(OwnedObjectsError);
      expect(error.message).to.include(`table ${JSON.stringify(`public.${table}`)}`);
      expect(life.outputs).to.equal(before);
      expect(await pg.canLogin(before.previous.username, before.previous.password)).to.equal(true);
      const event = JSON.parse(aws.requests[0].body) as { rotateUser: Record<string, unknown> };
      expect(event.rotateUser).to.deep.include({
        username: pair.username1,
        ownership: "refuse",
        otherUsername: pair.username2,
      });
    } finally {
      await pg.asSuperuser((c) => c.query(`DROP TABLE public.${quoteIdentifier(table)}`));
    }
  });

  it("no password the rotation knows reaches the log through the connector's warnings", async () => {
    // A connector that says in its warnings every event it was ever sent (a leaky log line).
    const echo = "arn:aws:lambda:eu-west-1:123456789012:function:echo";
    const events: unknown[] = [];
    aws.functions.set(echo, async (event) => {
      events.push(event);
      const reply = (await bundle.handleEvent(
        event,
        { PGSSLMODE: "disable" },
        () => undefined,
      )) as {
        warnings?: string[];
      };
      return { ...reply, warnings: [...(reply.warnings ?? []), `sent ${JSON.stringify(events)}`] };
    });
    const pair = await pg.createPair();
    const viaEcho = (trigger: string) =>
      inputs(pair, trigger, { lambdaArn: echo, endpoint: aws.endpoint });
    const warned: string[] = [];
    const savedWarn = console.warn;
    console.warn = (line: string) => warned.push(line);
    try {
      const life = new Lifecycle(handlers);
      const first = await life.create(viaEcho("1")); // current username1
      // A state set outside Pulumi, adopted and rotated in one update.
      const state = {
        current: { username: pair.username2, password: generatePassword() },
        previous: { username: pair.username1, password: generatePassword() },
      };
      await pg.setPassword(state.current.username, state.current.password);
      await pg.setPassword(state.previous.username, state.previous.password);
      await life.apply({ ...viaEcho("2"), state });
      const second = life.outputs!;
      expect(second.current.username).to.equal(pair.username1);
      expect(second.previous).to.deep.equal(state.current);
      expect(warned.filter((line) => line.startsWith("sent [{"))).to.have.length(2);
      expectNoSecrets(warned.join("\n"), [
        pg.manager.password,
        first.current.password,
        state.current.password,
        state.previous.password,
        second.current.password,
      ]);
    } finally {
      console.warn = savedWarn;
      aws.functions.delete(echo);
    }
  });

  it("refreshes through the Lambda without sending the managing password", async () => {
    const pair = await pg.createPair();
    const life = new Lifecycle(handlers);
    await life.create(inputs(pair, "1"));
    aws.requests.length = 0;
    await handlers.read(life.id, life.outputs!);
    const event = JSON.parse(aws.requests[0].body) as Record<string, unknown>;
    expect(event.loginUser).to.deep.equal(life.outputs!.current);
    expect(event).to.not.have.property("managingUser");

    await pg.setPassword(life.outputs!.current.username, "changed-out-of-band-123456");
    const error = await rejection(handlers.read(life.id, life.outputs!));
    expect(error).to.be.instanceOf(CurrentCredentialsError);
  });

  it("turns a code 400 reply into the direct path's error; the state is unchanged", async () => {
    const pair = await pg.createPair();
    const life = new Lifecycle(handlers);
    await life.create(inputs(pair, "1"));
    const before = life.outputs!;
    const wrong = inputs(pair, "2");
    const managingUser = { username: pg.manager.username, password: "wrong-password-0123456789" };
    const bad = { ...wrong, database: { ...wrong.database, managingUser } };
    const error = await rejection(life.apply(bad));
    expect(error).to.be.instanceOf(AuthenticationError);
    expect(error.message).to.include("reported by the connector Lambda");
    expectNoSecrets(renderings(error), [managingUser.password, before.current.password]);
    expect(life.outputs).to.equal(before);
    expect(await pg.canLogin(before.current.username, before.current.password)).to.equal(true);

    await life.apply(inputs(pair, "2"));
    expect(life.outputs!.current.username).to.equal(pair.username2);

    const missing = await rejection(
      new Lifecycle(handlers).create(
        inputs({ username1: uniqueName("nobody"), username2: uniqueName("nobody") }, "1"),
      ),
    );
    expect(missing).to.be.instanceOf(RoleNotFoundError);
  });

  it("reports a function error, an unknown function and a bad signature clearly", async () => {
    const pair = await pg.createPair();
    const broken = "arn:aws:lambda:eu-west-1:123456789012:function:broken";
    aws.functions.set(broken, async () => {
      throw new TypeError("Cannot read properties of undefined");
    });
    const thrown = await rejection(
      new Lifecycle(handlers).create(
        inputs(pair, "1", { lambdaArn: broken, endpoint: aws.endpoint }),
      ),
    );
    expect(thrown).to.be.instanceOf(LambdaInvocationError);
    expect(thrown.message).to.include("raised an error (Unhandled): TypeError: Cannot read");

    const nowhere = "arn:aws:lambda:eu-west-1:123456789012:function:nowhere";
    const missing = await rejection(
      new Lifecycle(handlers).create(
        inputs(pair, "1", { lambdaArn: nowhere, endpoint: aws.endpoint }),
      ),
    );
    expect(missing).to.be.instanceOf(LambdaInvocationError);
    expect(missing.message).to.include("ResourceNotFoundException");
    expect(missing.message).to.include("no such function");

    process.env.AWS_SECRET_ACCESS_KEY = "not-the-right-secret";
    try {
      const unsigned = await rejection(new Lifecycle(handlers).create(inputs(pair, "1")));
      expect(unsigned).to.be.instanceOf(LambdaInvocationError);
      expect(unsigned.message).to.include("InvalidSignatureException");
      expectNoSecrets(renderings(unsigned), ["not-the-right-secret"]);
    } finally {
      process.env.AWS_SECRET_ACCESS_KEY = SECRET_ACCESS_KEY;
    }
  });

  it("times out with a message that says the state was not advanced", async function () {
    this.timeout(60_000);
    const pair = await pg.createPair();
    aws.delayMs = 20_000;
    const fast = {
      ...inputs(pair, "1"),
      timeouts: { connectSeconds: 0.2, statementSeconds: 0.2, lockSeconds: 0.2 },
    };
    const error = await rejection(new Lifecycle(handlers).create(fast));
    expect(error).to.be.instanceOf(LambdaInvocationError);
    expect(error.message).to.match(
      /failed: TimeoutError: .*; no answer in time; the password may or may not have been changed, and the state was not advanced: run the rotation again$/,
    );
  });

  it("assumes roleArn through STS and invokes with the temporary credentials", async () => {
    const pair = await pg.createPair();
    aws.roles.add(ROLE);
    await new Lifecycle(handlers).create(
      inputs(pair, "1", { lambdaArn: ARN, endpoint: aws.endpoint, roleArn: ROLE }),
    );
    const [sts, invoke] = aws.requests;
    expect(sts).to.include({ service: "sts", accessKeyId: ACCESS_KEY_ID });
    expect(new URLSearchParams(sts.body).get("RoleArn")).to.equal(ROLE);
    expect(invoke.service).to.equal("lambda");
    expect(invoke.accessKeyId).to.match(/^ASIA/);

    const other = "arn:aws:iam::123456789012:role/not-granted";
    const denied = await rejection(
      new Lifecycle(handlers).create(
        inputs(await pg.createPair(), "1", {
          lambdaArn: ARN,
          endpoint: aws.endpoint,
          roleArn: other,
        }),
      ),
    );
    expect(denied).to.be.instanceOf(LambdaInvocationError);
    expect(denied.message).to.match(/AccessDenied/);
  });

  it("refuses bad connector input before invoking anything", async () => {
    const pair = await pg.createPair();
    const bad = inputs(pair, "1", { lambdaArn: "rotator", roleArn: "admin", region: "mars" });
    const withSsl = {
      ...bad,
      database: { ...bad.database, ssl: { mode: "verify-full" as const } },
    };
    const error = await rejection(handlers.create(withSsl));
    expect(error).to.be.instanceOf(ValidationError);
    const problems = (error as ValidationError).problems.join("\n");
    expect(problems).to.include(
      "database.connector.awsLambda.lambdaArn must be a Lambda function ARN",
    );
    expect(problems).to.include("database.connector.awsLambda.region must be an AWS region");
    expect(problems).to.include("database.connector.awsLambda.roleArn must be an IAM role ARN");
    expect(problems).to.include("database.ssl has no effect with database.connector");
    expect(aws.requests).to.have.length(0);
  });
});

describe("PostgresUserPair through connector.awsLambda (local Invoke stand-in)", function () {
  let pg: TestCluster;
  let aws: AwsStandIn;
  const saved: Record<string, string | undefined> = {};
  const OFFICIAL = "arn:aws:lambda:eu-west-1:123456789012:function:official";

  before(async () => {
    pg = await cluster(SUPPORTED_MAJORS[SUPPORTED_MAJORS.length - 1]);
    aws = await startAwsStandIn();
    aws.functions.set(ARN, (event) =>
      bundle.handleEvent(event, { PGSSLMODE: "disable" }, () => undefined),
    );
    // Pulumi's official connector answers any event without rotateUser.newPassword like this.
    aws.functions.set(OFFICIAL, async (event) =>
      (event as { rotateUser?: { newPassword?: string } }).rotateUser?.newPassword
        ? { code: 200, message: "ok" }
        : { code: 400, message: "no password provided" },
    );
    for (const [name, value] of Object.entries(AWS_ENV)) {
      saved[name] = process.env[name];
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });
  after(async () => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    await aws?.close();
  });

  function pairInputs(
    rotateUsers: { username1: string; username2: string },
    memberOf: string[],
    lambdaArn = ARN,
  ): UserPairInputs {
    const { ssl: _direct, ...database } = pg.database;
    void _direct;
    return {
      database: { ...database, connector: { awsLambda: { lambdaArn, endpoint: aws.endpoint } } },
      rotateUsers,
      memberOf,
      deleteUsersOnDestroy: true,
      timeouts: { connectSeconds: 2, statementSeconds: 2, lockSeconds: 1 },
    };
  }

  it("creates, updates, refreshes and drops the pair inside the VPC, as directly", async () => {
    const [g1, g2] = [await pg.createGroup(), await pg.createGroup()];
    const users = { username1: uniqueName("vpc_a"), username2: uniqueName("vpc_b") };
    aws.requests.length = 0;
    const created = await pairHandlers.create(pairInputs(users, [g1]));
    const outs = created.outs as UserPairOutputs;
    expect(outs.created).to.deep.equal([users.username1, users.username2]);
    for (const username of [users.username1, users.username2]) {
      expect(await pg.canLogin(username, outs.passwords[username])).to.equal(true);
    }
    const event = JSON.parse(aws.requests[0].body) as Record<string, unknown>;
    expect(Object.keys(event)).to.deep.equal([
      "type",
      "host",
      "port",
      "database",
      "managingUser",
      "userPair",
    ]);
    expect((event.userPair as { action: string }).action).to.equal("apply");

    const updated = (await pairHandlers.update(created.id, outs, pairInputs(users, [g2])))
      .outs as UserPairOutputs;
    expect(updated.observed[users.username1].memberOf).to.deep.equal([g2]);

    await pg.asSuperuser((c) => c.query(`DROP ROLE ${quoteIdentifier(users.username2)}`));
    const read = (await pairHandlers.read(created.id, updated)).props as UserPairOutputs;
    expect(read.drift).to.deep.equal([`"${users.username2}" no longer exists`]);

    await pairHandlers.remove(created.id, updated);
    expect(await pg.canLogin(users.username1, outs.passwords[users.username1])).to.equal(false);
  });

  it("a connector that predates ownerRole fails create and update, naming the users", async () => {
    // A connector of a version before ownerRole: it never reads the field.
    const older = "arn:aws:lambda:eu-west-1:123456789012:function:before-owner-role";
    aws.functions.set(older, (event) =>
      bundle.handleEvent(
        JSON.parse(
          JSON.stringify(event, (key, value) => (key === "ownerRole" ? undefined : value)),
        ),
        { PGSSLMODE: "disable" },
        () => undefined,
      ),
    );
    try {
      const owner = await pg.createGroup();
      const expected = (users: { username1: string; username2: string }) =>
        `ownerRole "${owner}" was not applied to "${users.username1}", "${users.username2}": the ` +
        `connector Lambda predates ownerRole; update it (this package's LambdaConnector) and run ` +
        `pulumi up again`;
      const users = { username1: uniqueName("old_a"), username2: uniqueName("old_b") };
      const created = await rejection(
        pairHandlers.create({ ...pairInputs(users, [owner], older), ownerRole: owner }),
      );
      expect(created).to.be.instanceOf(ConnectorError);
      expect(created.message).to.equal(expected(users));

      const others = { username1: uniqueName("old_c"), username2: uniqueName("old_d") };
      const outs = (await pairHandlers.create(pairInputs(others, [owner]))).outs as UserPairOutputs;
      const updated = await rejection(
        pairHandlers.update("id", outs, {
          ...pairInputs(others, [owner], older),
          ownerRole: owner,
        }),
      );
      expect(updated).to.be.instanceOf(ConnectorError);
      expect(updated.message).to.equal(expected(others));
    } finally {
      aws.functions.delete(older);
    }
  });

  it("says clearly that Pulumi's official connector cannot set up users", async () => {
    const users = { username1: uniqueName("off_a"), username2: uniqueName("off_b") };
    const error = await rejection(pairHandlers.create(pairInputs(users, [], OFFICIAL)));
    expect(error).to.be.instanceOf(ConnectorError);
    expect(error.message).to.include("cannot set up users");
    expect(error.message).to.include("LambdaConnector");
    expectNoSecrets(renderings(error), [pg.manager.password]);
  });
});

describe("rotation through Pulumi's official connector (a stand-in answering as it does)", function () {
  let pg: TestCluster;
  let aws: AwsStandIn;
  const saved: Record<string, string | undefined> = {};
  const OFFICIAL = "arn:aws:lambda:eu-west-1:123456789012:function:official-connector";
  const warnings: string[] = [];
  let originalWarn: typeof console.warn;

  before(async () => {
    pg = await cluster(SUPPORTED_MAJORS[SUPPORTED_MAJORS.length - 1]);
    aws = await startAwsStandIn();
    // The official connector: it rotates rotateUser (no checks of ours), answers exactly
    // {code, message}, and answers anything else "no password provided".
    aws.functions.set(OFFICIAL, async (event) => {
      const e = event as { rotateUser?: { username: string; newPassword?: string } };
      if (!e.rotateUser?.newPassword) return { code: 400, message: "no password provided" };
      const { rotateUser, ...rest } = e as { rotateUser: Record<string, unknown> };
      const plain = {
        ...rest,
        rotateUser: {
          username: rotateUser.username,
          password: rotateUser.password,
          newPassword: rotateUser.newPassword,
        },
      };
      const reply = await bundle.handleEvent(
        plain,
        { PGSSLMODE: "disable", ROTATOR_LIVE_SESSIONS: "ignore" },
        () => undefined,
      );
      return { code: reply.code, message: reply.message };
    });
    for (const [name, value] of Object.entries(AWS_ENV)) {
      saved[name] = process.env[name];
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    originalWarn = console.warn;
    console.warn = (line: string) => warnings.push(line);
  });
  after(async () => {
    console.warn = originalWarn;
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    await aws?.close();
  });
  beforeEach(() => (warnings.length = 0));

  function inputs(pair: { username1: string; username2: string }, trigger: string) {
    const { ssl: _direct, ...database } = pg.database;
    void _direct;
    return {
      database: {
        ...database,
        connector: { awsLambda: { lambdaArn: OFFICIAL, endpoint: aws.endpoint } },
      },
      rotateUsers: pair,
      rotationTrigger: trigger,
    } as RotationInputs;
  }

  it("rotates, saying what it could not check", async () => {
    const pair = await pg.createPair();
    const life = new Lifecycle(handlers);
    await life.create(inputs(pair, "1"));
    await life.apply(inputs(pair, "2"));
    const out = life.outputs!;
    expect(out.current.username).to.equal(pair.username2);
    expect(await pg.canLogin(out.current.username, out.current.password)).to.equal(true);
    expect(await pg.canLogin(out.previous.username, out.previous.password)).to.equal(true);
    expect(warnings.join("\n")).to.include(
      "without checking for open sessions or a concurrent rotation",
    );
    expect(warnings.join("\n")).to.include(
      `rotated "${pair.username2}" without counting the database objects the pair's users own ` +
        `themselves (ownership: "warn"; Pulumi's official connector cannot)`,
    );
    // Told not to look, it does not say it could not.
    warnings.length = 0;
    await life.apply({ ...inputs(pair, "3"), liveSessions: "ignore", ownership: "ignore" });
    expect(warnings).to.deep.equal([]);
  });

  it("refresh and adoption skip the login check, with a one-line hint", async () => {
    const pair = await pg.createPair();
    const life = new Lifecycle(handlers);
    await life.create(inputs(pair, "1"));
    warnings.length = 0;
    const { props } = await handlers.read(life.id, life.outputs!);
    expect(props).to.deep.equal(life.outputs);
    expect(warnings).to.have.length(1);
    expect(warnings[0]).to.match(/^warning: skipped checking that ".+" logs in: .*LambdaConnector/);
    const adopted = await new Lifecycle(handlers).create({
      ...inputs(pair, "1"),
      state: { current: life.outputs!.current },
    });
    expect(adopted.current).to.deep.equal(life.outputs!.current);
  });
});
