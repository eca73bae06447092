/**
 * Hostile input to the two components under Pulumi's mocks. A refused input throws a
 * `ResourceError` from the constructor with no child registered; an accepted one reaches its
 * children exactly as given (the ESC documents are parsed back and compared).
 */
import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import { LambdaConnector, type LambdaConnectorArgs } from "../../components/lambdaConnector";
import {
  RotatedPostgresCredentials,
  type RotatedPostgresCredentialsArgs,
} from "../../components/rotatedPostgresCredentials";
import { mockAndRecord, SECRET_SIG, type Registration } from "../support/pulumiMocks";

const ACCOUNT = "123456789012";
const PROVIDER_ARN = `arn:aws:iam::${ACCOUNT}:oidc-provider/api.pulumi.com/oidc`;

function value<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply((v) => resolve(v)));
}
const settled = () => new Promise((resolve) => setTimeout(resolve, 50));

describe("components: hostile inputs (Pulumi mocks)", () => {
  let registrations: Registration[] = [];
  before(async () => {
    registrations = await mockAndRecord({
      outputsFor: (args) => {
        if (args.type === "aws:lambda/function:Function") {
          return { arn: `arn:aws:lambda:us-east-1:${ACCOUNT}:function:${args.name}` };
        }
        if (args.type === "aws:iam/role:Role") return { arn: `arn:aws:iam::${ACCOUNT}:role/x` };
        return {};
      },
      call: (args) =>
        args.token === "aws:index/getPartition:getPartition" ? { partition: "aws" } : args.inputs,
    });
  });
  beforeEach(() => (registrations.length = 0));

  /**
   * Builds, expects a ResourceError matching `message`, and nothing registered but the
   * component itself (named `name`): a nested component, such as a created connector, counts.
   */
  async function refused(build: () => unknown, message: RegExp, name = "hostile") {
    let error: unknown;
    try {
      build();
    } catch (e) {
      error = e;
    }
    expect(error, "a ResourceError").to.be.instanceOf(pulumi.ResourceError);
    expect((error as Error).message).to.match(message);
    await settled();
    const children = registrations.filter((r) => r.name !== name);
    expect(
      children.map((r) => `${r.type} ${r.name}`),
      "children registered",
    ).to.deep.equal([]);
  }

  describe("LambdaConnector", () => {
    const base: LambdaConnectorArgs = {
      vpcId: "vpc-1",
      subnetIds: ["subnet-a"],
      databaseSecurityGroupId: "sg-0123abcd",
      escOrganization: "acme",
      escProject: "payments",
      escEnvironment: "db-rotator",
      oidcProvider: { arn: PROVIDER_ARN },
    };
    const CASES: [string, Partial<LambdaConnectorArgs> | Record<string, unknown>, RegExp][] = [
      ["an organization wildcard", { escOrganization: "*" }, /escOrganization must be/],
      ["an organization with a question mark", { escOrganization: "ac?e" }, /escOrganization/],
      ["an organization with a colon", { escOrganization: "acme:env:*" }, /escOrganization/],
      ["an organization with a newline", { escOrganization: "acme\n" }, /escOrganization/],
      ["a project wildcard", { escProject: "*" }, /escProject must be/],
      ["a project with a slash", { escProject: "payments/db-rotator" }, /escProject/],
      [
        "an environment with a trailing wildcard",
        { escEnvironment: "db-rotator*" },
        /escEnvironment/,
      ],
      ["an environment with a colon suffix", { escEnvironment: "db-rotator:x" }, /escEnvironment/],
      ["an environment of 101 characters", { escEnvironment: "e".repeat(101) }, /escEnvironment/],
      ["an empty environment", { escEnvironment: "" }, /escEnvironment/],
      [
        "a credentials environment wildcard",
        { escCredentialsEnvironment: "*" },
        /escCredentialsEnvironment/,
      ],
      [
        "pulumi.user.login as a subject attribute",
        { escSubjectAttributes: ["pulumi.user.login"] },
        /pulumi\.user\.login/,
      ],
      [
        "an unknown subject attribute",
        { escSubjectAttributes: ["*"] },
        /escSubjectAttributes\[0\]/,
      ],
      [
        "subject attributes as a string",
        { escSubjectAttributes: "rootEnvironment.name" },
        /escSubjectAttributes must list/,
      ],
      ["a security group wildcard", { databaseSecurityGroupId: "sg-*" }, /databaseSecurityGroupId/],
      [
        "a security group with a newline",
        { databaseSecurityGroupId: "sg-01\n" },
        /databaseSecurityGroupId/,
      ],
      ["both a group and CIDR blocks", { databaseCidrBlocks: ["10.0.0.0/16"] }, /not both/],
      [
        "a CIDR block with a space",
        { databaseSecurityGroupId: undefined, databaseCidrBlocks: ["10.0.0.0/16 "] },
        /databaseCidrBlocks\[0\]/,
      ],
      [
        "a CIDR prefix of 33",
        { databaseSecurityGroupId: undefined, databaseCidrBlocks: ["10.0.0.0/33"] },
        /databaseCidrBlocks\[0\]/,
      ],
      [
        "an octet of 256",
        { databaseSecurityGroupId: undefined, databaseCidrBlocks: ["10.0.0.256/32"] },
        /databaseCidrBlocks\[0\]/,
      ],
      [
        "an IPv6 block",
        { databaseSecurityGroupId: undefined, databaseCidrBlocks: ["::/0"] },
        /databaseCidrBlocks\[0\]/,
      ],
      [
        "a CIDR block that is a number",
        { databaseSecurityGroupId: undefined, databaseCidrBlocks: [167772160] },
        /databaseCidrBlocks\[0\]/,
      ],
      [
        "no egress at all",
        { databaseSecurityGroupId: undefined, databaseCidrBlocks: [] },
        /never opened by default/,
      ],
      [
        "an OIDC provider that is neither arm",
        { oidcProvider: { arn: PROVIDER_ARN, create: true } },
        /oidcProvider must be/,
      ],
      ["an OIDC provider as a string", { oidcProvider: "create" }, /oidcProvider must be/],
    ];
    for (const [label, patch, message] of CASES) {
      it(`refuses ${label}, registering no child`, async () => {
        await refused(
          () => new LambdaConnector("hostile", { ...base, ...patch } as LambdaConnectorArgs),
          message,
        );
      });
    }

    it("refuses a wildcard OIDC provider ARN when it resolves, before the invocation role exists", async () => {
      const connector = new LambdaConnector("hostile", {
        ...base,
        oidcProvider: { arn: pulumi.output(`arn:aws:iam::*:oidc-provider/*`) },
      });
      const failed = await new Promise<string>((resolve) => {
        connector.invocationRoleArn.apply(() => resolve("resolved"));
        setTimeout(() => resolve("rejected"), 200);
      });
      expect(failed).to.equal("rejected");
      await settled();
      expect(registrations.map((r) => r.name)).to.not.include("hostile-invocation");
    });
  });

  describe("RotatedPostgresCredentials", () => {
    const database = {
      host: "db.internal",
      database: "app",
      managingUser: { username: "rotation_manager", password: "manager-pw-hostile" },
    };
    const base: RotatedPostgresCredentialsArgs = {
      database,
      rotateUsers: { username1: "app_user_1", username2: "app_user_2" },
      rotationTrigger: "1",
    };
    const withEsc = (esc: Record<string, unknown>) =>
      ({ ...base, esc: { organization: "acme", project: "payments", ...esc } }) as never;
    const CASES: [string, RotatedPostgresCredentialsArgs, RegExp][] = [
      [
        "a credentials environment with a newline",
        withEsc({ credentialsEnvironment: "creds\nvalues: {}" }),
        /ESC environment names/,
      ],
      [
        "a rotator environment wildcard",
        withEsc({ rotatorEnvironment: "*" }),
        /ESC environment names/,
      ],
      [
        "a rotator environment with a colon",
        withEsc({ rotatorEnvironment: "db:rotator" }),
        /ESC environment names/,
      ],
      [
        "a rotator environment that climbs the path",
        withEsc({ rotatorEnvironment: "../prod" }),
        /ESC environment names/,
      ],
      [
        "a component name that makes no ESC name",
        { ...base, esc: { organization: "acme", project: "payments" } },
        /ESC environment names/,
      ],
      [
        "the same environment twice",
        withEsc({ credentialsEnvironment: "e", rotatorEnvironment: "e" }),
        /must differ/,
      ],
      ["a rotator key that is YAML syntax", withEsc({ rotatorKey: "a: b" }), /rotatorKey/],
      ["a rotator key of fn::secret", withEsc({ rotatorKey: "fn::secret" }), /rotatorKey/],
      ["a rotator key starting with $", withEsc({ rotatorKey: "${x}" }), /rotatorKey/],
      [
        "a schedule every minute",
        withEsc({ rotationSchedule: { cron: "* * * * *" } }),
        /esc\.rotationSchedule\.cron/,
      ],
      [
        "a schedule with a second line",
        withEsc({ rotationSchedule: { cron: "0 3 * * *\n* * * * *" } }),
        /esc\.rotationSchedule\.cron/,
      ],
      [
        "a schedule date that does not exist",
        withEsc({ rotationSchedule: { once: "2031-02-30T00:00:00Z" } }),
        /esc\.rotationSchedule\.once/,
      ],
      [
        "both connector arms",
        { ...base, connector: { lambdaArn: "arn", create: {} } as never },
        /not both/,
      ],
      [
        "a created connector without ESC",
        { ...base, connector: { create: { vpcId: "v", subnetIds: [] } } as never },
        /needs esc/,
      ],
      [
        "more SCRAM iterations than node-postgres logs in with by default",
        { ...base, scramIterations: 100_001 },
        /scramIterations must be at most 100000: node-postgres refuses, with its default scramMaxIterations \(100,000\)/,
      ],
      [
        "ssl with a connector",
        {
          ...base,
          database: { ...database, ssl: { mode: "disable" } },
          connector: { lambdaArn: "arn" },
        } as never,
        /database\.ssl/,
      ],
    ];
    for (const [label, args, message] of CASES) {
      it(`refuses ${label}, registering no child`, async () => {
        const name = label.startsWith("a component name") ? "bad name*" : "hostile";
        await refused(() => new RotatedPostgresCredentials(name, args), message, name);
      });
    }

    it("refuses a connector's wildcard organization, registering no child", async () => {
      await refused(
        () =>
          new RotatedPostgresCredentials("hostile", {
            ...base,
            esc: { organization: "*", project: "payments" },
            connector: {
              create: {
                vpcId: "vpc-1",
                subnetIds: ["subnet-a"],
                databaseSecurityGroupId: "sg-0123abcd",
                oidcProvider: { arn: PROVIDER_ARN },
              },
            },
          }),
        /^hostile: esc\.organization must be/,
      );
    });

    const NAMES: [string, { username1: string; username2: string }, string][] = [
      ["YAML syntax", { username1: "a: b\n- c", username2: "{x: [y]}" }, "db.internal"],
      ["quotes and backslashes", { username1: `"q" 'r'`, username2: "back\\slash" }, "db.internal"],
      [
        "YAML anchors, tags and comments",
        { username1: "&a *a", username2: "!!binary # c" },
        "db.internal",
      ],
      [
        "multibyte names at 63 bytes",
        { username1: "é".repeat(31) + "x", username2: "用".repeat(21) },
        "db.internal",
      ],
      ["a host with YAML syntax", { username1: "u1", username2: "u2" }, "db.internal\n? x"],
    ];
    for (const [label, rotateUsers, host] of NAMES) {
      it(`writes ${label} into the rotator environment exactly as given`, async () => {
        const component = new RotatedPostgresCredentials("names", {
          ...base,
          database: { ...database, host },
          rotateUsers,
          esc: { organization: "acme", project: "payments" },
        });
        await value(component.currentUsername);
        await settled();
        const rotator = registrations.find((r) => r.name === "names-rotator-env")!;
        const yaml = rotator.object.yaml as { value: string };
        expect(yaml).to.have.property(SECRET_SIG);
        const inputs = parse(yaml.value).values.dbRotator["fn::rotate::postgres"].inputs;
        expect(inputs.rotateUsers).to.deep.equal(rotateUsers);
        expect(inputs.database.host).to.equal(host);
        const users = registrations.find((r) => r.name === "names-users")!;
        expect(users.object.rotateUsers).to.deep.equal(rotateUsers);
      });
    }
  });
});
