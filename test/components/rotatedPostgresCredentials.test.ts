/**
 * `RotatedPostgresCredentials`' resource graph under Pulumi mocks: its children, their names,
 * parents and dependencies, exact inputs (ESC documents included), secrets on the wire, and the
 * impossible combinations refused before any child exists.
 */
import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import {
  RotatedPostgresCredentials,
  type RotatedPostgresCredentialsArgs,
} from "../../components/rotatedPostgresCredentials";
import { mockAndRecord, SECRET_SIG, type Registration } from "../support/pulumiMocks";

const ACCOUNT = "123456789012";
const MANAGER_PASSWORD = "manager-password-7c2a";
const TOKEN = "pul-token-5e9f";
const INITIAL = {
  current: { username: "app_user_1", password: "initial-1-secret" },
  previous: { username: "app_user_2", password: "initial-2-secret" },
};
const USER_PAIR = "pulumi-nodejs:dynamic/postgres-rotator:PostgresUserPair";
const ROTATION = "pulumi-nodejs:dynamic/postgres-rotator:PostgresRotation";
const ESC_ENV = "pulumi-nodejs:dynamic/postgres-rotator:EscEnvironment";
const COMPONENT = "postgres-rotator:index:RotatedPostgresCredentials";

function value<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply((v) => resolve(v)));
}

/** A wire value without its secret wrapper, and whether it had one. */
function unwrap(v: unknown): { secret: boolean; value: unknown } {
  if (v && typeof v === "object" && SECRET_SIG in v) {
    return { secret: true, value: (v as unknown as { value: unknown }).value };
  }
  return { secret: false, value: v };
}

describe("RotatedPostgresCredentials (Pulumi mocks)", function () {
  let registrations: Registration[] = [];
  before(async () => {
    registrations = await mockAndRecord({
      outputsFor: (args) => {
        if (args.type === USER_PAIR) return { initialState: INITIAL, created: ["app_user_1"] };
        if (args.type === ROTATION) {
          return { current: INITIAL.current, currentUsername: "app_user_1" };
        }
        if (args.type === "aws:lambda/function:Function") {
          return { arn: `arn:aws:lambda:eu-west-1:${ACCOUNT}:function:${args.name}` };
        }
        if (args.type === "aws:iam/role:Role") {
          return { arn: `arn:aws:iam::${ACCOUNT}:role/${args.name}`, name: args.name };
        }
        return {};
      },
      call: (args) =>
        args.token === "aws:index/getPartition:getPartition" ? { partition: "aws" } : args.inputs,
    });
  });
  beforeEach(() => (registrations.length = 0));

  const database = {
    host: "db.internal",
    database: "app",
    managingUser: { username: "rotation_manager", password: MANAGER_PASSWORD },
  };
  const base: RotatedPostgresCredentialsArgs = {
    database,
    rotateUsers: { username1: "app_user_1", username2: "app_user_2" },
    memberOf: ["app_users"],
    rotationTrigger: "1",
  };

  async function build(name: string, args: RotatedPostgresCredentialsArgs) {
    const component = new RotatedPostgresCredentials(name, args);
    await value(component.currentUsername);
    await value(component.lambdaArn);
    await new Promise((r) => setTimeout(r, 50));
    const urnOf = async (r: pulumi.Resource) => value(r.urn);
    const byName = (child: string) => {
      const found = registrations.find((r) => r.name === child);
      if (!found) throw new Error(`${child} was not registered`);
      return found;
    };
    return { component, byName, urnOf };
  }

  it("direct, without ESC: the user pair and the rotation, the rotation starting from the pair's passwords", async () => {
    const { component, byName, urnOf } = await build("direct", base);
    const names = registrations.map((r) => `${r.type} ${r.name}`);
    expect(names.some((n) => n.includes("Schedule"))).to.equal(false);
    expect(names).to.have.members([
      `${COMPONENT} direct`,
      `${USER_PAIR} direct-users`,
      `${ROTATION} direct-rotation`,
    ]);
    const parent = await urnOf(component);
    const users = byName("direct-users");
    const rotation = byName("direct-rotation");
    expect(users.parent).to.equal(parent);
    expect(rotation.parent).to.equal(parent);
    expect(rotation.dependencies).to.include(await urnOf(component.users));
    expect(users.object.memberOf).to.deep.equal(["app_users"]);
    // The rotation adopts the initial passwords, as a secret.
    const state = unwrap(rotation.object.state);
    expect(state).to.deep.equal({ secret: true, value: INITIAL });
    expect(rotation.object).to.not.have.property("esc");
    expect(rotation.additionalSecretOutputs).to.include.members(["current", "previous", "state"]);
    // The managing password travels as a secret to both children.
    for (const child of [users, rotation]) {
      const db = child.object.database as { managingUser: { password: unknown } };
      expect(unwrap(db.managingUser.password).secret).to.equal(true);
      const plain = JSON.stringify({ ...child.object, database: {}, state: {} });
      expect(plain).to.not.include(MANAGER_PASSWORD);
    }
    expect(await value(component.currentUsername)).to.equal("app_user_1");
    expect(await value(component.credentialsEnvironment)).to.equal(undefined);
    expect(await value(component.lambdaArn)).to.equal(undefined);
  });

  it("passes the guards' policies to the rotation only when given", async () => {
    const { byName } = await build("guarded", {
      ...base,
      liveSessions: "warn",
      ownership: "refuse",
    });
    expect(byName("guarded-rotation").object).to.deep.include({
      liveSessions: "warn",
      ownership: "refuse",
    });
    const { byName: plain } = await build("unguarded", base);
    expect(plain("unguarded-rotation").object).to.not.have.property("ownership");
  });

  it("rotateAfter goes to the rotation as given; absent, the rotation has no such input", async () => {
    const { byName } = await build("aged", { ...base, rotateAfter: "30d" });
    expect(byName("aged-rotation").object.rotateAfter).to.equal("30d");
    expect(byName("aged-rotation").object.rotationTrigger).to.equal("1");
    const plain = await build("unaged", base);
    expect(plain.byName("unaged-rotation").object).to.not.have.property("rotateAfter");
  });

  it("passes ownerRole to the user pair, and none when it is not given", async () => {
    await build("owned", { ...base, ownerRole: "app_users" });
    expect(registrations.find((r) => r.name === "owned-users")!.object.ownerRole).to.equal(
      "app_users",
    );
    await build("unowned", base);
    expect(registrations.find((r) => r.name === "unowned-users")!.object.ownerRole).to.equal(
      undefined,
    );
  });

  it("a given state wins over the pair's initial passwords", async () => {
    const state = { current: { username: "app_user_2", password: "adopted-secret" } };
    const { byName } = await build("adopt", { ...base, state });
    expect(unwrap(byName("adopt-rotation").object.state)).to.deep.equal({
      secret: true,
      value: state,
    });
  });

  it("with ESC: both environments in the seed's layout, the rotation's state in the rotator", async () => {
    const { component, byName, urnOf } = await build("pay", {
      ...base,
      esc: {
        organization: "acme",
        project: "payments",
        accessToken: TOKEN,
        rotationSchedule: { cron: "0 3 * * 1" },
      },
    });
    const credentials = byName("pay-credentials-env");
    const rotator = byName("pay-rotator-env");
    expect(credentials.type).to.equal(ESC_ENV);
    expect(credentials.object).to.include({
      organization: "acme",
      project: "payments",
      name: "stack-pay-credentials",
    });
    expect(rotator.object).to.include({ name: "stack-pay-rotator", rotatorKey: "dbRotator" });
    expect(rotator.dependencies).to.include(await urnOf(component.credentialsEnv!));
    expect(unwrap(credentials.object.accessToken).secret).to.equal(true);

    const credentialsYaml = unwrap(credentials.object.yaml);
    expect(credentialsYaml.secret).to.equal(true);
    expect(parse(credentialsYaml.value as string)).to.deep.equal({
      values: {
        managingUser: {
          username: "rotation_manager",
          password: { "fn::secret": MANAGER_PASSWORD },
        },
      },
    });
    const rotatorYaml = unwrap(rotator.object.yaml);
    expect(rotatorYaml.secret).to.equal(true);
    expect(parse(rotatorYaml.value as string)).to.deep.equal({
      values: {
        dbRotator: {
          "fn::rotate::postgres": {
            inputs: {
              database: {
                database: "app",
                host: "db.internal",
                port: 5432,
                managingUser: "${environments.payments.stack-pay-credentials.managingUser}",
              },
              rotateUsers: { username1: "app_user_1", username2: "app_user_2" },
            },
            state: {
              current: { password: { "fn::secret": "initial-1-secret" }, username: "app_user_1" },
              previous: { password: { "fn::secret": "initial-2-secret" }, username: "app_user_2" },
            },
          },
        },
      },
    });
    const rotation = byName("pay-rotation");
    const esc = unwrap(rotation.object.esc).value as Record<string, unknown>;
    expect({ ...esc, accessToken: undefined }).to.deep.include({
      organization: "acme",
      project: "payments",
      environment: "stack-pay-rotator",
      key: "dbRotator",
    });
    expect(rotation.dependencies).to.include.members([
      await urnOf(component.users),
      await urnOf(component.rotatorEnv!),
    ]);
    const schedule = byName("pay-schedule");
    expect(schedule.object).to.deep.include({
      organization: "acme",
      project: "payments",
      environment: "stack-pay-rotator",
      schedule: { cron: "0 3 * * 1" },
    });
    expect(unwrap(schedule.object.accessToken).secret).to.equal(true);
    expect(schedule.dependencies).to.include(await urnOf(component.rotatorEnv!));
    expect(await value(component.rotatorEnvironment)).to.equal("payments/stack-pay-rotator");
    expect(await value(component.credentialsEnvironment)).to.equal(
      "payments/stack-pay-credentials",
    );
  });

  it("reads a rotationSchedule key given as undefined as absent: { once, cron: undefined } is once", async () => {
    const once = "2031-01-01T03:00:00Z";
    const { byName } = await build("later", {
      ...base,
      esc: {
        organization: "acme",
        project: "payments",
        accessToken: TOKEN,
        rotationSchedule: { once, cron: undefined } as never,
      },
    });
    expect(byName("later-schedule").object.schedule).to.deep.equal({ once });
  });

  it("with connector.create: a LambdaConnector trusting exactly the rotator, wired everywhere", async () => {
    const { component, byName } = await build("vpc", {
      ...base,
      database: { ...database, port: 6432 },
      connector: {
        create: {
          vpcId: "vpc-1",
          subnetIds: ["subnet-a", "subnet-b"],
          databaseSecurityGroupId: "sg-db",
          oidcProviderArn: `arn:aws:iam::${ACCOUNT}:oidc-provider/api.pulumi.com/oidc`,
        },
      },
      esc: { organization: "acme", project: "payments", rotatorEnvironment: "db-rotator" },
    });
    const connector = byName("vpc-connector");
    expect(connector.type).to.equal("postgres-rotator:index:LambdaConnector");
    const lambdaArn = `arn:aws:lambda:eu-west-1:${ACCOUNT}:function:vpc-connector-function`;
    const roleArn = `arn:aws:iam::${ACCOUNT}:role/vpc-connector-invocation`;
    expect(await value(component.lambdaArn)).to.equal(lambdaArn);
    expect(await value(component.invocationRoleArn)).to.equal(roleArn);
    // By default the login asks for, and the role trusts, exactly the credentials
    // environment's subject.
    const trust = JSON.parse(byName("vpc-connector-invocation").object.assumeRolePolicy as string);
    expect(JSON.stringify(trust.Statement[0].Condition)).to.include(
      '"pulumi:environments:pulumi.organization.login:acme:currentEnvironment.name:payments/stack-vpc-credentials"',
    );
    const egress = byName("vpc-connector-to-db").object;
    expect(egress).to.include({ fromPort: 6432, toPort: 6432 });
    for (const child of ["vpc-users", "vpc-rotation"]) {
      const db = byName(child).object.database as Record<string, unknown>;
      expect(db.connector).to.deep.equal({ awsLambda: { lambdaArn } });
      expect(db).to.not.have.property("ssl");
    }
    const credentials = parse(unwrap(byName("vpc-credentials-env").object.yaml).value as string);
    expect(credentials.values.awsLogin).to.deep.equal({
      "fn::open::aws-login": {
        oidc: {
          duration: "1h",
          roleArn,
          sessionName: "pulumi-esc-secret-rotator",
          subjectAttributes: ["currentEnvironment.name"],
        },
      },
    });
    const rotator = parse(unwrap(byName("vpc-rotator-env").object.yaml).value as string);
    expect(
      rotator.values.dbRotator["fn::rotate::postgres"].inputs.database.connector,
    ).to.deep.equal({
      awsLambda: {
        login: "${environments.payments.stack-vpc-credentials.awsLogin}",
        lambdaArn,
      },
    });
  });

  it("with subject attributes: the login asks for the very subject the role trusts", async () => {
    const { byName } = await build("attrs", {
      ...base,
      connector: {
        create: {
          vpcId: "vpc-1",
          subnetIds: ["subnet-a"],
          databaseSecurityGroupId: "sg-0abc",
          oidcProvider: { arn: `arn:aws:iam::${ACCOUNT}:oidc-provider/api.pulumi.com/oidc` },
          escSubjectAttributes: ["currentEnvironment.name"],
        },
      },
      esc: { organization: "acme", project: "payments" },
    });
    const credentials = parse(unwrap(byName("attrs-credentials-env").object.yaml).value as string);
    expect(credentials.values.awsLogin["fn::open::aws-login"].oidc.subjectAttributes).to.deep.equal(
      ["currentEnvironment.name"],
    );
    const trust = JSON.parse(
      byName("attrs-connector-invocation").object.assumeRolePolicy as string,
    );
    expect(JSON.stringify(trust.Statement[0].Condition)).to.include(
      "pulumi:environments:pulumi.organization.login:acme:currentEnvironment.name:payments/stack-attrs-credentials",
    );
  });

  it("with an existing connector: no LambdaConnector; its ARNs used as given", async () => {
    const lambdaArn = `arn:aws:lambda:eu-west-1:${ACCOUNT}:function:official`;
    const { component, byName } = await build("existing", {
      ...base,
      connector: { lambdaArn, invocationRoleArn: `arn:aws:iam::${ACCOUNT}:role/esc-invoke` },
      esc: { organization: "acme", project: "payments" },
    });
    expect(registrations.some((r) => r.type.endsWith("LambdaConnector"))).to.equal(false);
    expect(await value(component.lambdaArn)).to.equal(lambdaArn);
    const db = byName("existing-rotation").object.database as Record<string, unknown>;
    expect(db.connector).to.deep.equal({ awsLambda: { lambdaArn } });
  });

  describe("bad ESC organization or project names fail before any child exists", () => {
    const connector = {
      create: {
        vpcId: "vpc-1",
        subnetIds: ["subnet-a", "subnet-b"],
        databaseSecurityGroupId: "sg-0123abcd",
        oidcProvider: { arn: `arn:aws:iam::${ACCOUNT}:oidc-provider/api.pulumi.com/oidc` },
      },
    };
    /** Builds, expects a ResourceError matching `message`, and nothing registered but "bad". */
    async function refused(args: RotatedPostgresCredentialsArgs, message: RegExp) {
      let error: unknown;
      try {
        new RotatedPostgresCredentials("bad", args);
      } catch (e) {
        error = e;
      }
      expect(error).to.be.instanceOf(pulumi.ResourceError);
      expect((error as Error).message).to.match(message);
      await new Promise((r) => setTimeout(r, 50));
      expect(registrations.filter((r) => r.name !== "bad")).to.deep.equal([]);
    }

    for (const field of ["organization", "project"] as const) {
      for (const bad of ["acme*", "p:x", "*"]) {
        for (const withConnector of [false, true]) {
          it(`esc.${field} ${JSON.stringify(bad)}${withConnector ? " with connector.create" : ""}`, async () => {
            await refused(
              {
                ...base,
                esc: { organization: "acme", project: "payments", [field]: bad },
                ...(withConnector ? { connector } : {}),
              },
              new RegExp(`^bad: esc\\.${field} must be 1-100 letters, digits, '\\.', '_' or '-'$`),
            );
          });
        }
      }
    }

    it("connector.create.escSubjectAttributes naming no environment, no LambdaConnector registered", async () => {
      await refused(
        {
          ...base,
          esc: { organization: "acme", project: "payments" },
          connector: {
            create: { ...connector.create, escSubjectAttributes: ["pulumi.organization.login"] },
          },
        },
        /^bad: connector\.create\.escSubjectAttributes \["pulumi.organization.login"\] names no environment/,
      );
    });
  });

  describe("impossible combinations fail before any child exists", () => {
    const cases: [string, RotatedPostgresCredentialsArgs, string][] = [
      [
        "connector.create without esc",
        { ...base, connector: { create: { vpcId: "v", subnetIds: [] } as never } },
        "connector.create needs esc",
      ],
      [
        "ssl with a connector",
        {
          ...base,
          database: { ...database, ssl: { mode: "require" } },
          connector: { lambdaArn: "arn:aws:lambda:eu-west-1:123456789012:function:f" },
        },
        "database.ssl has no effect with a connector",
      ],
      [
        "an existing connector with esc but no invocation role",
        {
          ...base,
          connector: { lambdaArn: "arn:aws:lambda:eu-west-1:123456789012:function:f" },
          esc: { organization: "acme", project: "payments" },
        },
        "give connector.invocationRoleArn",
      ],
      [
        "an environment name that could widen a trust policy",
        { ...base, esc: { organization: "acme", project: "p", rotatorEnvironment: "db-*" } },
        "must be 1-100 letters",
      ],
      [
        "the same name for both environments",
        {
          ...base,
          esc: {
            organization: "a",
            project: "p",
            credentialsEnvironment: "x",
            rotatorEnvironment: "x",
          },
        },
        "must differ",
      ],
      [
        "a schedule with both cron and once",
        {
          ...base,
          esc: {
            organization: "a",
            project: "p",
            rotationSchedule: { cron: "0 3 * * *", once: "2030-01-01T00:00:00Z" } as never,
          },
        },
        "exactly one",
      ],
      [
        "a rotateAfter shorter than an hour",
        { ...base, rotateAfter: "30m" },
        "bad: rotateAfter must be at least 1h (60m)",
      ],
      [
        "a rotateAfter in an unknown unit",
        { ...base, rotateAfter: "2w" },
        "rotateAfter must be a whole number followed by m (minutes), h (hours) or d (days)",
      ],
      [
        "a schedule more often than ESC's daily minimum",
        {
          ...base,
          esc: { organization: "a", project: "p", rotationSchedule: { cron: "*/5 * * * *" } },
        },
        "esc.rotationSchedule.cron",
      ],
    ];
    for (const [what, args, message] of cases) {
      it(what, async () => {
        let error: unknown;
        try {
          new RotatedPostgresCredentials("bad", args);
        } catch (e) {
          error = e;
        }
        expect(error).to.be.instanceOf(pulumi.ResourceError);
        expect((error as Error).message).to.include(message);
        await new Promise((r) => setTimeout(r, 50));
        expect(registrations.filter((r) => r.name !== "bad")).to.deep.equal([]);
      });
    }
  });

  it("leaves the caller's args and options untouched", async () => {
    const args = structuredClone({ ...base, esc: { organization: "a", project: "p" } });
    const opts = { protect: false };
    new RotatedPostgresCredentials("untouched", args, opts);
    expect(args).to.deep.equal({ ...base, esc: { organization: "a", project: "p" } });
    expect(opts).to.deep.equal({ protect: false });
  });
});
