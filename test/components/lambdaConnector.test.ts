/** `LambdaConnector`'s resource graph under Pulumi mocks, IAM policy documents asserted exactly. */
import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import * as fs from "node:fs";
import {
  ESC_SUBJECT_ATTRIBUTES,
  LambdaConnector,
  lambdaBundlePath,
  type EscSubjectAttribute,
  type LambdaConnectorArgs,
} from "../../components/lambdaConnector";
import type { LambdaConnectorCreateArgs } from "../../index";
import { mockAndRecord, type Registration } from "../support/pulumiMocks";

const ACCOUNT = "123456789012";
const FUNCTION_ARN = `arn:aws:lambda:us-east-1:${ACCOUNT}:function:conn-function`;
const PROVIDER_ARN = `arn:aws:iam::${ACCOUNT}:oidc-provider/api.pulumi.com/oidc`;
const LOOKUP = "aws:iam/getOpenIdConnectProvider:getOpenIdConnectProvider";

interface Created {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
}

interface Invoked {
  token: string;
  inputs: Record<string, unknown>;
}

function value<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply((v) => resolve(v)));
}

/** How an Output settles: its value, or the message it was rejected with. */
async function settle<T>(output: pulumi.Output<T>): Promise<{ value?: T; error?: string }> {
  try {
    return { value: await (output as unknown as { promise(): Promise<T> }).promise() };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

const settled = () => new Promise((resolve) => setTimeout(resolve, 50));

/** A resource taking one of the connector's outputs, as `PostgresRotation` would. */
class Consumer extends pulumi.CustomResource {
  constructor(name: string, args: { arn: pulumi.Input<string> }) {
    super("test:index:Consumer", name, args);
  }
}

/** The last part of a mock URN: the resource's name. */
const nameOf = (urn: string) => urn.split("::").pop();

describe("LambdaConnector (Pulumi mocks)", function () {
  let created: Created[] = [];
  let invoked: Invoked[] = [];
  let registrations: Registration[] = [];
  /** What the account's OIDC provider lookup answers. */
  let accountProvider: Record<string, unknown> = {};

  before(async () => {
    registrations = await mockAndRecord({
      newResource: (args) => {
        created.push({ type: args.type, name: args.name, inputs: args.inputs });
        const arn =
          args.type === "aws:lambda/function:Function"
            ? `arn:aws:lambda:us-east-1:${ACCOUNT}:function:${args.name}`
            : args.type === "aws:iam/role:Role"
              ? `arn:aws:iam::${ACCOUNT}:role/${args.name}`
              : args.type === "aws:iam/openIdConnectProvider:OpenIdConnectProvider"
                ? `arn:aws:iam::${ACCOUNT}:oidc-provider/${String(args.inputs.url).replace("https://", "")}`
                : undefined;
        return {
          id: `${args.name}-id`,
          state: { ...args.inputs, ...(arn ? { arn } : {}), name: args.inputs.name ?? args.name },
        };
      },
      call: (args) => {
        invoked.push({ token: args.token, inputs: args.inputs });
        if (args.token === "aws:index/getPartition:getPartition") return { partition: "aws" };
        if (args.token === LOOKUP) return accountProvider;
        throw new Error(`unexpected invoke ${args.token}`);
      },
    });
  });
  beforeEach(() => {
    created = [];
    invoked = [];
    registrations.length = 0;
    accountProvider = {
      arn: PROVIDER_ARN,
      url: "api.pulumi.com/oidc",
      clientIdLists: ["aws:acme", "aws:other"],
      thumbprintLists: [],
      tags: {},
    };
  });

  const base: LambdaConnectorArgs = {
    vpcId: "vpc-1",
    subnetIds: ["subnet-a", "subnet-b"],
    databaseSecurityGroupId: "sg-db",
    escOrganization: "acme",
    escProject: "payments",
    escEnvironment: "db-rotator",
    oidcProvider: { arn: PROVIDER_ARN },
  };

  /** `base` without the named fields. */
  function without(...keys: (keyof LambdaConnectorArgs)[]): LambdaConnectorArgs {
    const args: Record<string, unknown> = { ...base };
    for (const key of keys) delete args[key];
    return args as unknown as LambdaConnectorArgs;
  }

  async function build(args: LambdaConnectorArgs = base) {
    const connector = new LambdaConnector("conn", args);
    const outputs = {
      lambdaArn: await value(connector.lambdaArn),
      invocationRoleArn: await value(connector.invocationRoleArn),
      securityGroupId: await value(connector.securityGroupId),
      oidcProviderArn: await value(connector.oidcProviderArn),
    };
    await settled();
    const byName = (name: string) => created.find((c) => c.name === name)!;
    const trust = () => JSON.parse(byName("conn-invocation").inputs.assumeRolePolicy as string);
    return { connector, outputs, byName, trust };
  }

  /** The invocation role's trust policy for these args. */
  async function trustPolicy(args: Partial<LambdaConnectorArgs>) {
    return (await build({ ...base, ...args })).trust();
  }

  /** A trust policy's one statement, around the given condition. */
  const trusting = (condition: Record<string, unknown>, providerArn = PROVIDER_ARN) => ({
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Principal: { Federated: providerArn },
        Action: "sts:AssumeRoleWithWebIdentity",
        Condition: condition,
      },
    ],
  });

  /** The constructor throws a ResourceError matching `pattern`, before creating any child. */
  function expectRefused(args: LambdaConnectorArgs, pattern: RegExp) {
    let error: unknown;
    try {
      new LambdaConnector("conn", args);
    } catch (e) {
      error = e;
    }
    expect(error).to.be.instanceOf(pulumi.ResourceError);
    expect((error as Error).message).to.match(pattern);
    expect(created).to.deep.equal([]);
  }

  describe("the invocation role", () => {
    it("is allowed exactly lambda:InvokeFunction and GetFunction on this function", async () => {
      const { byName, outputs } = await build();
      expect(outputs.lambdaArn).to.equal(FUNCTION_ARN);
      const policy = JSON.parse(byName("conn-invoke-only").inputs.policy as string);
      expect(policy).to.deep.equal({
        Version: "2012-10-17",
        Statement: [
          {
            Effect: "Allow",
            Action: ["lambda:InvokeFunction", "lambda:GetFunction"],
            Resource: FUNCTION_ARN,
          },
        ],
      });
      expect(byName("conn-invoke-only").inputs.role).to.equal("conn-invocation-id");
      // No other policy is attached to the invocation role.
      const attachedToInvocation = created.filter(
        (c) =>
          (c.type === "aws:iam/rolePolicyAttachment:RolePolicyAttachment" ||
            c.type === "aws:iam/rolePolicy:RolePolicy") &&
          ["conn-invocation", "conn-invocation-id"].includes(String(c.inputs.role)),
      );
      expect(attachedToInvocation.map((c) => c.name)).to.deep.equal(["conn-invoke-only"]);
    });

    it("trusts the org's audience and the rotator environment's default subject", async () => {
      expect(await trustPolicy({})).to.deep.equal(
        trusting({
          StringEquals: { "api.pulumi.com/oidc:aud": "aws:acme" },
          StringLike: {
            "api.pulumi.com/oidc:sub": [
              "pulumi:environments:org:acme:env:payments/db-rotator",
              "pulumi:environments:org:acme:env:payments/db-rotator:*",
            ],
          },
        }),
      );
    });

    it("in the legacy default project: audience <org>, no project in the subject", async () => {
      expect(await trustPolicy({ escProject: "default" })).to.deep.equal(
        trusting({
          StringEquals: { "api.pulumi.com/oidc:aud": "acme" },
          StringLike: {
            "api.pulumi.com/oidc:sub": [
              "pulumi:environments:org:acme:env:db-rotator",
              "pulumi:environments:org:acme:env:db-rotator:*",
            ],
          },
        }),
      );
    });

    it("with subjectAttributes [currentEnvironment.name]: exactly the credentials environment", async () => {
      expect(
        await trustPolicy({
          escSubjectAttributes: ["currentEnvironment.name"],
          escCredentialsEnvironment: "db-credentials",
        }),
      ).to.deep.equal(
        trusting({
          StringEquals: {
            "api.pulumi.com/oidc:aud": "aws:acme",
            "api.pulumi.com/oidc:sub":
              "pulumi:environments:pulumi.organization.login:acme:currentEnvironment.name:payments/db-credentials",
          },
        }),
      );
    });

    it("takes the ESC names as Outputs", async () => {
      expect(
        await trustPolicy({
          escOrganization: pulumi.output("acme"),
          escProject: pulumi.output("payments"),
          escEnvironment: Promise.resolve("db-rotator"),
          escCredentialsEnvironment: pulumi.output("db-credentials"),
          escSubjectAttributes: ["currentEnvironment.name", "rootEnvironment.name"],
        }),
      ).to.deep.equal(
        trusting({
          StringEquals: {
            "api.pulumi.com/oidc:aud": "aws:acme",
            "api.pulumi.com/oidc:sub":
              "pulumi:environments:pulumi.organization.login:acme" +
              ":currentEnvironment.name:payments/db-credentials" +
              ":rootEnvironment.name:payments/db-rotator",
          },
        }),
      );
    });

    it("refuses names that could widen the subject, and attributes it cannot predict", () => {
      expectRefused({ ...base, escOrganization: "*" }, /^escOrganization must be 1-100 letters/);
      expectRefused({ ...base, escProject: "pay?" }, /^escProject must be 1-100 letters/);
      expectRefused({ ...base, escEnvironment: "db:*" }, /^escEnvironment must be 1-100 letters/);
      expectRefused({ ...base, escEnvironment: "" }, /^escEnvironment must be 1-100 letters/);
      expectRefused(
        { ...base, escCredentialsEnvironment: "payments/creds" },
        /^escCredentialsEnvironment must be 1-100 letters/,
      );
      expectRefused(
        {
          ...base,
          escSubjectAttributes: ["pulumi.user.login"] as unknown as ["rootEnvironment.name"],
        },
        /cannot hold pulumi.user.login/,
      );
      expectRefused(
        {
          ...base,
          escSubjectAttributes: ["environment.name"] as unknown as ["rootEnvironment.name"],
        },
        /escSubjectAttributes\[0\] must be one of rootEnvironment.name, currentEnvironment.name, pulumi.organization.login/,
      );
      expectRefused(
        { ...base, escSubjectAttributes: ["rootEnvironment.name", "rootEnvironment.name"] },
        /lists rootEnvironment.name twice/,
      );
      expectRefused({ ...base, escSubjectAttributes: [] }, /must list one or more/);
      expectRefused(
        { ...base, escSubjectAttributes: ["currentEnvironment.name"] },
        /escCredentialsEnvironment is required when escSubjectAttributes lists currentEnvironment.name/,
      );
    });

    it("checks Output names when they resolve, before any child they feed is registered", async () => {
      for (const [args, pattern] of [
        [{ escOrganization: pulumi.output("ac*me") }, /escOrganization must be 1-100 letters/],
        [{ escProject: pulumi.output("p?") }, /escProject must be 1-100 letters/],
        [{ escEnvironment: pulumi.output("db*") }, /escEnvironment must be 1-100 letters/],
        [
          {
            escSubjectAttributes: ["currentEnvironment.name"],
            escCredentialsEnvironment: pulumi.output("*"),
          },
          /escCredentialsEnvironment must be 1-100 letters/,
        ],
        [
          {
            escSubjectAttributes: ["currentEnvironment.name"],
            escCredentialsEnvironment: pulumi.output(undefined as unknown as string),
          },
          /escCredentialsEnvironment is required/,
        ],
      ] as [Partial<LambdaConnectorArgs>, RegExp][]) {
        created = [];
        const connector = new LambdaConnector("conn", {
          ...base,
          oidcProvider: { create: true },
          ...args,
        });
        const { error } = await settle(connector.invocationRoleArn);
        expect(error).to.match(pattern);
        await settled();
        // Neither the role nor the account-wide provider (whose audience is the org's).
        expect(created.map((c) => c.name)).to.not.include.members(["conn-invocation"]);
        expect(created.map((c) => c.name)).to.not.include.members(["conn-oidc"]);
      }
    });
  });

  describe("escSubjectAttributes: the subject always names the environment", () => {
    /** Every list ESC_SUBJECT_ATTRIBUTES allows: each non-empty ordering of distinct ones. */
    function orderings(items: readonly EscSubjectAttribute[]): EscSubjectAttribute[][] {
      return items.flatMap((first) => {
        const rest = items.filter((item) => item !== first);
        return [[first], ...orderings(rest).map((tail) => [first, ...tail])];
      });
    }
    const LISTS = orderings(ESC_SUBJECT_ATTRIBUTES);
    /** A list names an environment when it lists rootEnvironment.name or currentEnvironment.name. */
    const namesEnvironment = (list: readonly EscSubjectAttribute[]) =>
      list.includes("rootEnvironment.name") || list.includes("currentEnvironment.name");

    it("refuses [pulumi.organization.login]: a subject every environment of the org can have", () => {
      expectRefused(
        {
          ...base,
          escSubjectAttributes: ["pulumi.organization.login"],
          escCredentialsEnvironment: "db-credentials",
        },
        /^escSubjectAttributes \["pulumi.organization.login"\] names no environment: list rootEnvironment.name .* or currentEnvironment.name/,
      );
    });

    for (const project of ["payments", "default"]) {
      it(`trusts, for each of the ${LISTS.length} allowed lists, exactly a subject naming the environment (${project})`, async () => {
        const named = (env: string) => (project === "default" ? env : `${project}/${env}`);
        const values: Record<EscSubjectAttribute, string> = {
          "rootEnvironment.name": named("db-rotator"),
          "currentEnvironment.name": named("db-credentials"),
          "pulumi.organization.login": "acme",
        };
        const accepted: string[] = [];
        for (const list of LISTS) {
          created = [];
          const args = {
            ...base,
            escProject: project,
            escSubjectAttributes: list,
            escCredentialsEnvironment: "db-credentials",
          };
          if (!namesEnvironment(list)) {
            expectRefused(args, /names no environment/);
            continue;
          }
          const trust = (await build(args)).trust();
          const subject = trust.Statement[0].Condition.StringEquals["api.pulumi.com/oidc:sub"];
          expect(subject, list.join()).to.equal(
            "pulumi:environments:pulumi.organization.login:acme" +
              list.map((attribute) => `:${attribute}:${values[attribute]}`).join(""),
          );
          expect(trust.Statement[0].Condition).to.have.all.keys("StringEquals");
          // Read back: the pairs after the prefix, one of which names the environment exactly.
          const parts = subject.split(":").slice(4);
          const pairs = parts.flatMap((part: string, i: number) =>
            i % 2 === 0 ? [[part, parts[i + 1]]] : [],
          );
          expect(pairs).to.deep.equal(list.map((attribute) => [attribute, values[attribute]]));
          const environments = pairs
            .filter(([attribute]: string[]) => attribute !== "pulumi.organization.login")
            .map(([, name]: string[]) => name);
          expect(environments, list.join()).to.have.length.greaterThan(0);
          expect([named("db-rotator"), named("db-credentials")]).to.include.members(environments);
          accepted.push(list.join());
        }
        expect(LISTS).to.have.length(15);
        expect(accepted).to.have.length(14);
      });
    }
  });

  describe("the OIDC provider", () => {
    it("by default, looks up the account's provider for the issuer and trusts it", async () => {
      const { trust, outputs, connector } = await build(without("oidcProvider"));
      expect(invoked.filter((i) => i.token === LOOKUP)).to.deep.equal([
        { token: LOOKUP, inputs: { url: "https://api.pulumi.com/oidc" } },
      ]);
      expect(outputs.oidcProviderArn).to.equal(PROVIDER_ARN);
      expect(trust().Statement[0].Principal).to.deep.equal({ Federated: PROVIDER_ARN });
      expect(created.map((c) => c.type)).to.not.include(
        "aws:iam/openIdConnectProvider:OpenIdConnectProvider",
      );
      expect(connector.oidcProvider).to.equal(undefined);
    });

    it("looks up the provider of a self-hosted issuer by that issuer", async () => {
      accountProvider.arn = `arn:aws:iam::${ACCOUNT}:oidc-provider/pulumi.example.com/api/oidc`;
      const { outputs } = await build({
        ...without("oidcProvider"),
        oidcIssuer: "https://pulumi.example.com/api/oidc",
      });
      expect(invoked.filter((i) => i.token === LOOKUP)).to.deep.equal([
        { token: LOOKUP, inputs: { url: "https://pulumi.example.com/api/oidc" } },
      ]);
      expect(outputs.oidcProviderArn).to.equal(accountProvider.arn);
    });

    it("fails, naming the command to run, when the account's provider lacks the audience", async () => {
      accountProvider.clientIdLists = ["aws:other"];
      const connector = new LambdaConnector("conn", without("oidcProvider"));
      const { error } = await settle(connector.invocationRoleArn);
      expect(error).to.include(
        `the account's OIDC provider for https://api.pulumi.com/oidc (${PROVIDER_ARN}) does not ` +
          "accept the audience aws:acme (its audiences: aws:other); add it with " +
          "`aws iam add-client-id-to-open-id-connect-provider --open-id-connect-provider-arn " +
          `${PROVIDER_ARN} --client-id aws:acme\``,
      );
      await settled();
      expect(created.map((c) => c.name)).to.not.include("conn-invocation");
    });

    it("for the legacy default project, requires the audience <org> of the provider", async () => {
      accountProvider.clientIdLists = ["aws:acme"];
      const connector = new LambdaConnector("conn", {
        ...without("oidcProvider"),
        escProject: "default",
      });
      expect((await settle(connector.invocationRoleArn)).error).to.include(
        "does not accept the audience acme",
      );
    });

    it("uses a given ARN without looking anything up", async () => {
      const { outputs } = await build();
      expect(outputs.oidcProviderArn).to.equal(PROVIDER_ARN);
      expect(invoked.map((i) => i.token)).to.not.include(LOOKUP);
    });

    it("refuses a given ARN that is not an OIDC provider's", async () => {
      const connector = new LambdaConnector("conn", {
        ...base,
        oidcProvider: { arn: "arn:aws:iam::123456789012:role/x" },
      });
      expect((await settle(connector.invocationRoleArn)).error).to.match(
        /oidcProvider.arn must be an IAM OIDC provider ARN/,
      );
    });

    it("creates one when asked, retained on delete, for a self-hosted issuer", async () => {
      const { byName, trust, connector } = await build({
        ...base,
        oidcProvider: { create: true },
        oidcIssuer: "https://pulumi.example.com/api/oidc",
      });
      const providerArn = `arn:aws:iam::${ACCOUNT}:oidc-provider/pulumi.example.com/api/oidc`;
      expect(byName("conn-oidc").inputs).to.deep.equal({
        url: "https://pulumi.example.com/api/oidc",
        clientIdLists: ["aws:acme"],
      });
      const registered = registrations.filter((r) => r.name === "conn-oidc");
      expect(registered.map((r) => r.retainOnDelete)).to.deep.equal([true]);
      expect(invoked.map((i) => i.token)).to.not.include(LOOKUP);
      expect(trust()).to.deep.equal(
        trusting(
          {
            StringEquals: { "pulumi.example.com/api/oidc:aud": "aws:acme" },
            StringLike: {
              "pulumi.example.com/api/oidc:sub": [
                "pulumi:environments:org:acme:env:payments/db-rotator",
                "pulumi:environments:org:acme:env:payments/db-rotator:*",
              ],
            },
          },
          providerArn,
        ),
      );
      expect(await value(connector.oidcProvider!.arn)).to.equal(providerArn);
      // Nothing else is retained.
      expect(
        registrations.filter((r) => r.retainOnDelete === true).map((r) => r.name),
      ).to.deep.equal(["conn-oidc"]);
    });

    it("keeps the deprecated oidcProviderArn and createOidcProvider working", async () => {
      const byArn = await build({ ...without("oidcProvider"), oidcProviderArn: PROVIDER_ARN });
      expect(byArn.outputs.oidcProviderArn).to.equal(PROVIDER_ARN);
      expect(invoked.map((i) => i.token)).to.not.include(LOOKUP);

      created = [];
      registrations.length = 0;
      const byCreate = await build({ ...without("oidcProvider"), createOidcProvider: true });
      expect(byCreate.byName("conn-oidc").inputs.clientIdLists).to.deep.equal(["aws:acme"]);
      expect(
        registrations.filter((r) => r.name === "conn-oidc").map((r) => r.retainOnDelete),
      ).to.deep.equal([true]);
    });

    it("refuses two ways of naming the provider, or an arm that is neither", () => {
      expectRefused(
        { ...base, oidcProviderArn: PROVIDER_ARN },
        /give one of oidcProvider, oidcProviderArn/,
      );
      expectRefused(
        { ...without("oidcProvider"), oidcProviderArn: PROVIDER_ARN, createOidcProvider: true },
        /give one of oidcProviderArn, createOidcProvider/,
      );
      expectRefused(
        { ...base, oidcProvider: {} as { create: true } },
        /oidcProvider must be \{ arn \} .* or \{ create: true \}/,
      );
      expectRefused(
        {
          ...base,
          oidcProvider: { arn: PROVIDER_ARN, create: true } as unknown as { create: true },
        },
        /oidcProvider must be \{ arn \}/,
      );
    });
  });

  it("gives the function only the VPC-access managed policy", async () => {
    const { byName } = await build();
    const trust = JSON.parse(byName("conn-execution").inputs.assumeRolePolicy as string);
    expect(trust).to.deep.equal({
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Allow",
          Principal: { Service: "lambda.amazonaws.com" },
          Action: "sts:AssumeRole",
        },
      ],
    });
    const onExecution = created.filter(
      (c) => c.type.startsWith("aws:iam/rolePolicy") && c.inputs.role === "conn-execution",
    );
    expect(onExecution.map((c) => [c.type, c.inputs.policyArn])).to.deep.equal([
      [
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
        "arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole",
      ],
    ]);
  });

  it("runs the bundled handler on the current Node.js runtime in the VPC, TLS verified", async () => {
    const { byName } = await build();
    const fn = byName("conn-function").inputs;
    expect(fn).to.deep.include({
      runtime: "nodejs24.x",
      handler: "index.handler",
      timeout: 90,
      memorySize: 256,
      architectures: ["arm64"],
      role: "arn:aws:iam::123456789012:role/conn-execution",
    });
    expect(fn.vpcConfig).to.deep.include({
      subnetIds: ["subnet-a", "subnet-b"],
      securityGroupIds: ["conn-sg-id"],
    });
    expect((fn.environment as { variables: Record<string, string> }).variables).to.deep.equal({
      PGSSLMODE: "verify-full",
      NODE_EXTRA_CA_CERTS: "/var/runtime/ca-cert.pem",
    });
    // The mocks do not carry an archive's contents; what it holds is checked below.
    expect(fn.code).to.have.property("__pulumiArchive", true);
  });

  it("ships the bundle that the handler tests run", () => {
    expect(lambdaBundlePath()).to.match(/dist\/lambda\/index\.js$/);
    expect(fs.statSync(lambdaBundlePath()).size).to.be.greaterThan(50_000);
  });

  it("exposes its children as fields", async () => {
    const { connector } = await build();
    const urnName = async (r: pulumi.Resource) => nameOf(await value(r.urn));
    expect(await urnName(connector.function)).to.equal("conn-function");
    expect(await urnName(connector.securityGroup)).to.equal("conn-sg");
    expect(await urnName(connector.executionRole)).to.equal("conn-execution");
    expect(await urnName(connector.invocationRole)).to.equal("conn-invocation");
    expect(connector.oidcProvider).to.equal(undefined);
  });

  it("takes LambdaConnectorCreateArgs from a component that fills the ESC location", async () => {
    const { escOrganization, escProject, escEnvironment, ...rest } = base;
    const create: LambdaConnectorCreateArgs = {
      ...rest,
      escSubjectAttributes: ["currentEnvironment.name"],
    };
    // The four ESC location inputs are the component's to fill, not its caller's.
    const withOrganization: LambdaConnectorCreateArgs = {
      ...create,
      // @ts-expect-error escOrganization is not a LambdaConnectorCreateArgs field
      escOrganization: "x",
    };
    const withCredentials: LambdaConnectorCreateArgs = {
      ...create,
      // @ts-expect-error escCredentialsEnvironment is not a LambdaConnectorCreateArgs field
      escCredentialsEnvironment: "x",
    };
    void [withOrganization, withCredentials];
    const { trust } = await build({
      ...create,
      escOrganization,
      escProject,
      escEnvironment,
      escCredentialsEnvironment: "db-credentials",
    });
    expect(trust().Statement[0].Condition.StringEquals["api.pulumi.com/oidc:sub"]).to.equal(
      "pulumi:environments:pulumi.organization.login:acme:currentEnvironment.name:payments/db-credentials",
    );
  });

  describe("egress", () => {
    it("opens the database port from the function's security group, and nothing else", async () => {
      const { byName, outputs } = await build();
      expect(outputs.securityGroupId).to.equal("conn-sg-id");
      const sg = byName("conn-sg").inputs;
      expect(sg.vpcId).to.equal("vpc-1");
      expect(sg.ingress ?? []).to.deep.equal([]);
      expect(sg.egress ?? []).to.deep.equal([]);
      expect(byName("conn-to-db").inputs).to.deep.equal({
        securityGroupId: "conn-sg-id",
        referencedSecurityGroupId: "sg-db",
        ipProtocol: "tcp",
        fromPort: 5432,
        toPort: 5432,
        description: "to the database",
      });
      expect(byName("conn-db-from-connector").inputs).to.deep.equal({
        securityGroupId: "sg-db",
        referencedSecurityGroupId: "conn-sg-id",
        ipProtocol: "tcp",
        fromPort: 5432,
        toPort: 5432,
        description: "from the password rotation connector",
      });
      const rules = created.filter((c) => c.type.startsWith("aws:vpc/securityGroup"));
      expect(rules.map((c) => c.name)).to.have.members(["conn-to-db", "conn-db-from-connector"]);
    });

    it("without the database's group, egresses to each given CIDR on the port only", async () => {
      await build({
        ...without("databaseSecurityGroupId"),
        databasePort: 6432,
        databaseCidrBlocks: ["10.0.0.0/16", "192.168.4.0/24"],
      });
      const rules = created.filter((c) => c.type.startsWith("aws:vpc/securityGroup"));
      expect(rules.map((c) => [c.type, c.name, c.inputs])).to.have.deep.members(
        [
          ["conn-to-db-10-0-0-0-16", "10.0.0.0/16"],
          ["conn-to-db-192-168-4-0-24", "192.168.4.0/24"],
        ].map(([name, cidr]) => [
          "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
          name,
          {
            securityGroupId: "conn-sg-id",
            cidrIpv4: cidr,
            ipProtocol: "tcp",
            fromPort: 6432,
            toPort: 6432,
            description: "to the database",
          },
        ]),
      );
    });

    it("keys the rules by CIDR, so inserting one leaves the others' names alone", async () => {
      const names = async (cidrs: string[]) => {
        created = [];
        await build({ ...without("databaseSecurityGroupId"), databaseCidrBlocks: cidrs });
        return Object.fromEntries(
          created
            .filter((c) => c.name.startsWith("conn-to-db"))
            .map((c) => [c.inputs.cidrIpv4, c.name]),
        );
      };
      const before = await names(["10.0.0.0/16", "10.1.0.0/16"]);
      const after = await names(["10.2.0.0/16", "10.0.0.0/16", "10.1.0.0/16"]);
      expect(after).to.deep.equal({ ...before, "10.2.0.0/16": "conn-to-db-10-2-0-0-16" });
      expect(before).to.deep.equal({
        "10.0.0.0/16": "conn-to-db-10-0-0-0-16",
        "10.1.0.0/16": "conn-to-db-10-1-0-0-16",
      });
    });

    it("adopts the rules earlier versions named by index", async () => {
      await build({
        ...without("databaseSecurityGroupId"),
        databaseCidrBlocks: ["10.0.0.0/16", "10.1.0.0/16"],
      });
      const aliases = registrations
        .filter((r) => r.name.startsWith("conn-to-db"))
        .map((r) => [r.name, r.aliasNames]);
      expect(aliases).to.deep.equal([
        ["conn-to-db-10-0-0-0-16", ["conn-to-db-0"]],
        ["conn-to-db-10-1-0-0-16", ["conn-to-db-1"]],
      ]);
    });

    it("is never opened by default, nor to anything that is not one IPv4 CIDR block", () => {
      const noGroup = without("databaseSecurityGroupId");
      const required =
        /give databaseSecurityGroupId .* or databaseCidrBlocks .*never opened by default/;
      expectRefused(noGroup, required);
      expectRefused({ ...noGroup, databaseCidrBlocks: [] }, required);
      expectRefused(
        { ...base, databaseCidrBlocks: ["10.0.0.0/16"] },
        /give databaseSecurityGroupId or databaseCidrBlocks, not both/,
      );
      for (const bad of ["10.0.0.0", "10.0.0.0/33", "10.0.0.256/16", "::/0", "*", " 10.0.0.0/8"]) {
        expectRefused(
          { ...noGroup, databaseCidrBlocks: [bad] },
          /databaseCidrBlocks\[0\] must be a plain IPv4 CIDR block/,
        );
      }
      expectRefused(
        {
          ...noGroup,
          databaseCidrBlocks: ["10.0.0.0/16", pulumi.output("10.1.0.0/16")] as string[],
        },
        /databaseCidrBlocks\[1\] must be a plain IPv4 CIDR block/,
      );
      expectRefused(
        { ...noGroup, databaseCidrBlocks: ["10.0.0.0/16", "10.0.0.0/16"] },
        /lists 10.0.0.0\/16 twice/,
      );
      expectRefused({ ...base, databaseSecurityGroupId: "" }, /must be a security group ID/);
    });

    it("refuses a database group Output that resolves to nothing like a group ID", async () => {
      const connector = new LambdaConnector("conn", {
        ...base,
        databaseSecurityGroupId: pulumi.output(""),
      });
      expect((await settle(connector.lambdaArn)).error).to.match(
        /databaseSecurityGroupId must be a security group ID \(sg-…\), not ""/,
      );
      await settled();
      expect(created.map((c) => c.name)).to.not.include.members([
        "conn-to-db",
        "conn-db-from-connector",
      ]);
    });
  });

  describe("outputs", () => {
    /** The names of the resources a consumer of `output` is registered as depending on. */
    async function consumerDependencies(output: pulumi.Output<string>) {
      new Consumer("consumer", { arn: output });
      await settled();
      await settled();
      const consumer = registrations.find((r) => r.name === "consumer")!;
      return consumer.dependencies.map(nameOf);
    }

    it("a consumer of lambdaArn waits for the rules and the invoke permission", async () => {
      const { connector } = await build();
      expect(await consumerDependencies(connector.lambdaArn)).to.have.members([
        "conn-function",
        "conn-to-db",
        "conn-db-from-connector",
        "conn-invoke-only",
      ]);
    });

    it("a consumer of invocationRoleArn waits for the rules and the invoke permission", async () => {
      const { connector } = await build({
        ...without("databaseSecurityGroupId"),
        databaseCidrBlocks: ["10.0.0.0/16", "10.1.0.0/16"],
      });
      expect(await consumerDependencies(connector.invocationRoleArn)).to.have.members([
        "conn-invocation",
        "conn-to-db-10-0-0-0-16",
        "conn-to-db-10-1-0-0-16",
        "conn-invoke-only",
      ]);
    });
  });
});
