/**
 * provider/connector/lambdaShell.ts on each kind of answer a connector Lambda can give: through
 * the real `@aws-sdk/client-lambda`, against the local Invoke stand-in, whose function here
 * answers what each test tells it to (no PostgreSQL: what the shell sends and makes of replies).
 */
import { expect } from "chai";
import {
  isOfficialConnectorRefusal,
  lambdaShell,
  lambdaUserPairShell,
  type LambdaTarget,
} from "../../../provider/connector/lambdaShell";
import type { ConnectorReply } from "../../../provider/connector/event";
import type { UserPairTarget } from "../../../provider/postgres/userPairShell";
import type { PairObservation } from "../../../provider/core/userPair";
import {
  AuthenticationError,
  ConnectorError,
  LambdaInvocationError,
  RoleNotFoundError,
  RotationError,
} from "../../../provider/errors";
import {
  ACCESS_KEY_ID,
  SECRET_ACCESS_KEY,
  startAwsStandIn,
  type AwsStandIn,
} from "../../support/awsStandIn";
import { expectNoSecrets, rejection } from "../../support/secrets";

const ARN = "arn:aws:lambda:eu-west-1:123456789012:function:replies";
const MANAGER = { username: "rotation_manager", password: "manager-secret-4321" };
const TIMEOUTS = { connectSeconds: 0.2, statementSeconds: 0.2, lockSeconds: 0.2 };
const OFFICIAL_WARNING =
  `warning: the connector Lambda ${ARN} rotated "app_user" without checking for open sessions ` +
  `or a concurrent rotation (Pulumi's official connector cannot); deploy this package's ` +
  `connector (LambdaConnector) for those checks`;
const OFFICIAL_OWNERSHIP_WARNING =
  `warning: the connector Lambda ${ARN} rotated "app_user" without counting the database ` +
  `objects the pair's users own themselves (ownership: "warn"; Pulumi's official connector ` +
  `cannot); deploy this package's connector (LambdaConnector) for that check`;

describe("lambdaShell on each kind of connector reply (local Invoke stand-in)", () => {
  let aws: AwsStandIn;
  const saved: Record<string, string | undefined> = {};
  /** The events the function received, and what it answers next. */
  let events: Record<string, unknown>[] = [];
  let answer: (event: Record<string, unknown>) => unknown = () => ({ code: 200, message: "ok" });

  before(async () => {
    aws = await startAwsStandIn();
    aws.functions.set(ARN, async (event) => {
      events.push(event as Record<string, unknown>);
      return answer(event as Record<string, unknown>);
    });
    for (const [name, value] of Object.entries({
      AWS_ACCESS_KEY_ID: ACCESS_KEY_ID,
      AWS_SECRET_ACCESS_KEY: SECRET_ACCESS_KEY,
      AWS_EC2_METADATA_DISABLED: "true",
      AWS_SESSION_TOKEN: undefined,
      AWS_PROFILE: undefined,
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
    events = [];
    answer = () => ({ code: 200, message: "ok" });
    aws.delayMs = 0;
  });

  const target = (extra: Partial<LambdaTarget> = {}, lambdaArn = ARN): LambdaTarget => ({
    host: "db.internal",
    port: 5432,
    database: "app",
    ssl: { mode: "verify-full" },
    managingUser: MANAGER,
    connector: { awsLambda: { lambdaArn, region: "eu-west-1", endpoint: aws.endpoint } },
    ...extra,
  });
  const rotateUser = () => events.at(-1)!.rotateUser as Record<string, unknown>;

  it("sends the guard, the live-session policy and its idle seconds; returns the rotation id; passes warnings on, redacted", async () => {
    const warnings: string[] = [];
    answer = () => ({
      code: 200,
      message: "ok",
      rotationId: "rot-1",
      warnings: [`open sessions of app_user (password ${MANAGER.password})`],
    });
    const shell = lambdaShell(target(), TIMEOUTS, [], {
      liveSessionsIdleSeconds: 30,
      warn: (line) => warnings.push(line),
    });
    const result = await shell.changePassword("app_user", "new-password-1", {
      knownPassword: "old-password-1",
      expectedId: "rot-0",
      holder: "stack-a",
    });
    expect(result).to.deep.equal({ rotationId: "rot-1" });
    expect(rotateUser()).to.deep.equal({
      username: "app_user",
      password: "old-password-1",
      newPassword: "new-password-1",
      expectedRotationId: "rot-0",
      rotationHolder: "stack-a",
      liveSessions: "refuse",
      liveSessionsIdleSeconds: 30,
      ownership: "warn",
    });
    expect(events.at(-1)!.managingUser).to.deep.equal(MANAGER);
    expect(warnings).to.deep.equal(["open sessions of app_user (password [redacted])"]);
  });

  it("without a guard or options: no empty fields; an answer without a rotation id warns unless sessions are ignored", async () => {
    const warnings: string[] = [];
    const warn = (line: string) => warnings.push(line);
    expect(
      await lambdaShell(target(), TIMEOUTS, [], { warn }).changePassword("app_user", "n1"),
    ).to.deep.equal({});
    expect(rotateUser()).to.deep.equal({
      username: "app_user",
      password: "",
      newPassword: "n1",
      liveSessions: "refuse",
      ownership: "warn",
    });
    expect(warnings).to.deep.equal([OFFICIAL_WARNING, OFFICIAL_OWNERSHIP_WARNING]);
    await lambdaShell(target(), TIMEOUTS, [], {
      warn,
      liveSessions: "ignore",
      ownership: "ignore",
    }).changePassword("app_user", "n2");
    expect(rotateUser().liveSessions).to.equal("ignore");
    expect(warnings).to.have.length(2);
  });

  it("refuses to rotate without a managing user, before invoking anything", async () => {
    const error = await rejection(
      lambdaShell(target({ managingUser: undefined }), TIMEOUTS).changePassword(
        "app_user",
        "new-password-2",
      ),
    );
    expect(error).to.be.instanceOf(RotationError);
    expect(error.message).to.equal("rotating needs database.managingUser");
    expect(events).to.deep.equal([]);
  });

  it("a login check sends the login user alone; the official connector's refusal is a warning", async () => {
    const warnings: string[] = [];
    const shell = lambdaShell(target(), TIMEOUTS, [], { warn: (line) => warnings.push(line) });
    const login = { username: "app_user", password: "login-password-1" };
    await shell.checkLogin(login);
    expect(events.at(-1)).to.deep.equal({
      type: "postgres",
      host: "db.internal",
      port: 5432,
      database: "app",
      loginUser: login,
    });
    expect(warnings).to.deep.equal([]);
    answer = () => ({ code: 400, message: "no password provided" });
    await shell.checkLogin(login);
    expect(warnings).to.deep.equal([
      `warning: skipped checking that "app_user" logs in: the connector Lambda ${ARN} cannot ` +
        `(Pulumi's official connector only rotates); deploy this package's connector ` +
        `(LambdaConnector) to have logins checked`,
    ]);
    answer = () => ({
      code: 400,
      error: "AuthenticationError",
      message: `password authentication failed (${login.password})`,
    });
    const refused = await rejection(shell.checkLogin(login));
    expect(refused).to.be.instanceOf(AuthenticationError);
    expect((refused as AuthenticationError).username).to.equal("app_user");
    expect(refused.message).to.equal(
      "password authentication failed ([redacted]) (reported by the connector Lambda)",
    );
  });

  it("rebuilds a failure as the class a direct rotation throws, else a ConnectorError in its words", async () => {
    const shell = lambdaShell(target(), TIMEOUTS, [], { warn: () => undefined });
    answer = () => ({ code: 400, error: "RoleNotFoundError", message: "no role app_user" });
    const missing = await rejection(shell.changePassword("app_user", "new-password-2"));
    expect(missing).to.be.instanceOf(RoleNotFoundError);
    expect(missing.message).to.equal("no role app_user (reported by the connector Lambda)");
    // The official connector's refusal of a rotation is its words too.
    answer = () => ({ code: 400, message: "no password provided" });
    const official = await rejection(shell.changePassword("app_user", "new-password-2"));
    expect(official).to.be.instanceOf(ConnectorError);
    expect(official.message).to.equal(
      "the connector Lambda refused: no password provided (reported by the connector Lambda)",
    );
    for (const error of ["SomethingElse", undefined]) {
      answer = () => ({ code: 400, error, message: `refused ${MANAGER.password}` });
      const other = await rejection(shell.changePassword("app_user", "new-password-2"));
      expect(other, String(error)).to.be.instanceOf(ConnectorError);
      expect(other.message).to.equal(
        "the connector Lambda refused: refused [redacted] (reported by the connector Lambda)",
      );
    }
  });

  it("says what is wrong with an answer that is not a reply, and with a function error", async () => {
    const shell = lambdaShell(target(), TIMEOUTS, [], { warn: () => undefined });
    const what = `invoking the connector Lambda ${ARN} for "app_user" failed`;
    answer = () => "hello";
    const notReply = await rejection(shell.changePassword("app_user", "new-password-2"));
    expect(notReply).to.be.instanceOf(LambdaInvocationError);
    expect(notReply.message).to.equal(
      `${what}: the function's answer is not a connector reply {code, message}; is ${ARN} a ` +
        `PostgreSQL rotation connector?`,
    );
    answer = () => {
      const error = new Error("");
      error.name = "";
      throw error;
    };
    const bare = await rejection(shell.changePassword("app_user", "new-password-2"));
    expect(bare.message).to.equal(
      `${what}: the function raised an error (Unhandled): no details. Nothing was changed by ` +
        `this package; check the function's logs`,
    );
    answer = () => {
      throw new Error(`bad ${MANAGER.password}`);
    };
    const raised = await rejection(shell.changePassword("app_user", "new-password-2"));
    expect(raised.message).to.equal(
      `${what}: the function raised an error (Unhandled): Error: bad [redacted]. Nothing was ` +
        `changed by this package; check the function's logs`,
    );
  });

  it("names the AWS error with a hint for each kind, and none for others", async () => {
    const shell = (lambdaArn: string, extra: Record<string, string> = {}) =>
      lambdaShell(
        {
          ...target(),
          connector: {
            awsLambda: { lambdaArn, region: "eu-west-1", endpoint: aws.endpoint, ...extra },
          },
        },
        TIMEOUTS,
        [],
        { warn: () => undefined },
      );
    const nowhere = "arn:aws:lambda:eu-west-1:123456789012:function:nowhere";
    const missing = await rejection(shell(nowhere).changePassword("app_user", "new-password-2"));
    expect(missing.message).to.equal(
      `invoking the connector Lambda ${nowhere} for "app_user" failed: ` +
        `ResourceNotFoundException: Function not found: ${nowhere}; no such function in this ` +
        `region and account`,
    );
    const granted = "arn:aws:iam::123456789012:role/granted";
    aws.roles.add(granted);
    aws.requests.length = 0;
    await shell(ARN, { roleArn: granted }).changePassword("app_user", "new-password-2");
    const assumed = new URLSearchParams(aws.requests.find((r) => r.service === "sts")!.body);
    expect(assumed.get("RoleSessionName")).to.equal("pulumi-postgres-rotator");
    const role = "arn:aws:iam::123456789012:role/not-granted";
    const denied = await rejection(
      shell(ARN, { roleArn: role }).changePassword("app_user", "new-password-2"),
    );
    expect(denied.message).to.match(
      /: AccessDenied: .*; the caller may not invoke this function \(lambda:InvokeFunction\), or may not assume roleArn$/,
    );
    process.env.AWS_SECRET_ACCESS_KEY = "not-the-right-secret";
    try {
      const unsigned = await rejection(shell(ARN).changePassword("app_user", "new-password-2"));
      // The stand-in's words, and no hint after them.
      expect(unsigned.message).to.match(
        /: InvalidSignatureException: The request signature we calculated does not match$/,
      );
      expectNoSecrets(unsigned.message, ["not-the-right-secret"]);
    } finally {
      process.env.AWS_SECRET_ACCESS_KEY = SECRET_ACCESS_KEY;
    }
  });

  it("waits for an answer longer than the statement timeouts, within their allowance for the Lambda's start", async function () {
    this.timeout(30_000);
    // The allowance: (2 x connect + 2 x statement + lock + 5) seconds, here 6 s.
    aws.delayMs = 1500;
    const result = await lambdaShell(target(), TIMEOUTS, [], {
      warn: () => undefined,
    }).changePassword("app_user", "new-password-2");
    expect(result).to.deep.equal({});
  });

  it("tells the official connector's refusal apart from every other answer", () => {
    const reply = (extra: Partial<ConnectorReply>): ConnectorReply => ({
      code: 400,
      message: "No password provided",
      ...extra,
    });
    expect(isOfficialConnectorRefusal(reply({}))).to.equal(true);
    expect(isOfficialConnectorRefusal(reply({ code: 200 }))).to.equal(false);
    expect(isOfficialConnectorRefusal(reply({ error: "ValidationError" }))).to.equal(false);
    expect(isOfficialConnectorRefusal(reply({ message: "role does not exist" }))).to.equal(false);
  });

  describe("lambdaUserPairShell", () => {
    const pairTarget = () =>
      ({
        database: { ...target(), managingUser: MANAGER },
        timeouts: TIMEOUTS,
        scramIterations: 4096,
      }) as UserPairTarget & { database: LambdaTarget & { managingUser: typeof MANAGER } };
    const users = { username1: "app_a", username2: "app_b" };
    const observation = { roles: [] } as unknown as PairObservation;

    it("sends each action, and reads the result's observation, created and dropped", async () => {
      const shell = lambdaUserPairShell(pairTarget());
      answer = () => ({ code: 200, message: "ok", userPair: { observation } });
      expect(await shell.observe(users, ["g"])).to.deep.equal(observation);
      expect(events.at(-1)!.userPair).to.deep.equal({
        action: "observe",
        users,
        memberOf: ["g"],
      });
      const request = { users } as Parameters<typeof shell.apply>[0];
      expect(await shell.apply(request, { app_a: "p" })).to.deep.equal({
        created: [],
        observation,
      });
      expect(events.at(-1)!.userPair).to.deep.include({ action: "apply", scramIterations: 4096 });
      answer = () => ({ code: 200, message: "ok", userPair: { created: ["app_a"], observation } });
      expect((await shell.apply(request, {})).created).to.deep.equal(["app_a"]);
      answer = () => ({ code: 200, message: "ok", userPair: {} });
      expect(await shell.drop(["app_a"], { app_a: 1 })).to.deep.equal([]);
      answer = () => ({ code: 200, message: "ok", userPair: { dropped: ["app_a"] } });
      expect(await shell.drop(["app_a"], { app_a: 1 })).to.deep.equal(["app_a"]);
    });

    it("an answer without a result or an observation, or the official refusal, is a clear error", async () => {
      const shell = lambdaUserPairShell(pairTarget());
      answer = () => ({ code: 200, message: "ok" });
      const none = await rejection(shell.observe(users, []));
      expect(none).to.be.instanceOf(LambdaInvocationError);
      expect(none.message).to.equal(
        `the connector Lambda ${ARN} answered ok without the user pair's result; is it an older ` +
          `version of this package's connector?`,
      );
      answer = () => ({ code: 200, message: "ok", userPair: {} });
      for (const work of [
        () => shell.observe(users, []),
        () => shell.apply({ users } as Parameters<typeof shell.apply>[0], {}),
      ]) {
        const empty = await rejection(work());
        expect(empty).to.be.instanceOf(LambdaInvocationError);
        expect(empty.message).to.equal("the reply holds no observation");
      }
      answer = () => ({ code: 400, error: "Other", message: `no ${MANAGER.password}` });
      const refused = await rejection(shell.observe(users, []));
      expect(refused.message).to.equal(
        "the connector Lambda refused: no [redacted] (reported by the connector Lambda)",
      );
      answer = () => ({ code: 400, message: "no password provided" });
      const official = await rejection(shell.drop(["app_a"], { app_a: 1 }));
      expect(official).to.be.instanceOf(ConnectorError);
      expect(official.message).to.equal(
        `the connector Lambda ${ARN} cannot set up users: it answered "no password provided", as ` +
          `Pulumi's official connector does to events it does not know. Deploy this package's ` +
          `connector (LambdaConnector) to create users through a Lambda, or create them ` +
          `yourself and leave PostgresUserPair out`,
      );
    });

    it("names both users of a failed call", async () => {
      const shell = lambdaUserPairShell(pairTarget());
      aws.functions.delete(ARN);
      try {
        for (const [work, who] of [
          [() => shell.observe(users, []), `"app_a", "app_b"`],
          [
            () => shell.apply({ users } as Parameters<typeof shell.apply>[0], {}),
            `"app_a", "app_b"`,
          ],
          [() => shell.drop(["app_a", "app_b"], { app_a: 1, app_b: 2 }), `"app_a", "app_b"`],
        ] as const) {
          const error = await rejection(work());
          expect(error.message).to.include(
            `invoking the connector Lambda ${ARN} for ${who} failed`,
          );
        }
      } finally {
        aws.functions.set(ARN, async (event) => {
          events.push(event as Record<string, unknown>);
          return answer(event as Record<string, unknown>);
        });
      }
    });
  });
});
