/** `LambdaConnector`'s resource graph under Pulumi mocks, IAM policy documents asserted exactly. */
import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import * as fs from "node:fs";
import {
  LambdaConnector,
  lambdaBundlePath,
  type LambdaConnectorArgs,
} from "../../components/lambdaConnector";

const ACCOUNT = "123456789012";
const FUNCTION_ARN = `arn:aws:lambda:us-east-1:${ACCOUNT}:function:conn-function`;
const PROVIDER_ARN = `arn:aws:iam::${ACCOUNT}:oidc-provider/api.pulumi.com/oidc`;

interface Created {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
}

function value<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply((v) => resolve(v)));
}

describe("LambdaConnector (Pulumi mocks)", function () {
  let created: Created[] = [];

  before(async () => {
    await pulumi.runtime.setMocks(
      {
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
        call: (args) =>
          args.token === "aws:index/getPartition:getPartition" ? { partition: "aws" } : args.inputs,
      },
      "project",
      "stack",
      false,
    );
  });
  beforeEach(() => (created = []));

  const base: LambdaConnectorArgs = {
    vpcId: "vpc-1",
    subnetIds: ["subnet-a", "subnet-b"],
    databaseSecurityGroupId: "sg-db",
    escOrganization: "acme",
    escProject: "payments",
    escEnvironment: "db-rotator",
    oidcProviderArn: PROVIDER_ARN,
  };

  async function build(args: LambdaConnectorArgs = base) {
    const connector = new LambdaConnector("conn", args);
    const outputs = {
      lambdaArn: await value(connector.lambdaArn),
      invocationRoleArn: await value(connector.invocationRoleArn),
      securityGroupId: await value(connector.securityGroupId),
    };
    await value(connector.oidcProviderArn);
    await new Promise((r) => setTimeout(r, 50));
    const byName = (name: string) => created.find((c) => c.name === name)!;
    return { connector, outputs, byName };
  }

  it("allows the invocation role exactly lambda:InvokeFunction and GetFunction on this function", async () => {
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

  it("trusts only the Pulumi OIDC provider, the org's audience and the rotator environment", async () => {
    const { byName } = await build();
    const trust = JSON.parse(byName("conn-invocation").inputs.assumeRolePolicy as string);
    expect(trust).to.deep.equal({
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Allow",
          Principal: { Federated: PROVIDER_ARN },
          Action: "sts:AssumeRoleWithWebIdentity",
          Condition: {
            StringEquals: { "api.pulumi.com/oidc:aud": "aws:acme" },
            StringLike: {
              "api.pulumi.com/oidc:sub": [
                "pulumi:environments:org:acme:env:payments/db-rotator",
                "pulumi:environments:org:acme:env:payments/db-rotator:*",
              ],
            },
          },
        },
      ],
    });
  });

  it("gives the function only the VPC-access managed policy", async () => {
    const { byName } = await build();
    const trust = JSON.parse(byName("conn-execution").inputs.assumeRolePolicy as string);
    expect(trust.Statement).to.deep.equal([
      { Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" },
    ]);
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

  it("opens the database port from the function's security group, and nothing else", async () => {
    const { byName, outputs } = await build();
    expect(outputs.securityGroupId).to.equal("conn-sg-id");
    const sg = byName("conn-sg").inputs;
    expect(sg.vpcId).to.equal("vpc-1");
    expect(sg.ingress ?? []).to.deep.equal([]);
    expect(sg.egress ?? []).to.deep.equal([]);
    expect(byName("conn-to-db").inputs).to.deep.include({
      securityGroupId: "conn-sg-id",
      referencedSecurityGroupId: "sg-db",
      ipProtocol: "tcp",
      fromPort: 5432,
      toPort: 5432,
    });
    expect(byName("conn-db-from-connector").inputs).to.deep.include({
      securityGroupId: "sg-db",
      referencedSecurityGroupId: "conn-sg-id",
      ipProtocol: "tcp",
      fromPort: 5432,
      toPort: 5432,
    });
  });

  it("without the database's group, egresses to the given CIDRs on the port only", async () => {
    const { databaseSecurityGroupId: _sg, ...rest } = base;
    void _sg;
    const { byName } = await build({
      ...rest,
      databasePort: 6432,
      databaseCidrBlocks: ["10.0.0.0/16"],
    });
    expect(byName("conn-to-db-0").inputs).to.deep.include({
      cidrIpv4: "10.0.0.0/16",
      fromPort: 6432,
      toPort: 6432,
    });
    expect(created.some((c) => c.name === "conn-db-from-connector")).to.equal(false);
  });

  it("creates the OIDC provider for a self-hosted issuer when asked", async () => {
    const { oidcProviderArn: _p, ...rest } = base;
    void _p;
    const { byName } = await build({
      ...rest,
      createOidcProvider: true,
      oidcIssuer: "https://pulumi.example.com/api/oidc",
    });
    expect(byName("conn-oidc").inputs).to.deep.include({
      url: "https://pulumi.example.com/api/oidc",
      clientIdLists: ["aws:acme"],
    });
    const trust = JSON.parse(byName("conn-invocation").inputs.assumeRolePolicy as string);
    expect(trust.Statement[0].Principal.Federated).to.equal(
      `arn:aws:iam::${ACCOUNT}:oidc-provider/pulumi.example.com/api/oidc`,
    );
    expect(Object.keys(trust.Statement[0].Condition.StringEquals)).to.deep.equal([
      "pulumi.example.com/api/oidc:aud",
    ]);
  });

  it("refuses to guess the OIDC provider", () => {
    const { oidcProviderArn: _p, ...rest } = base;
    void _p;
    expect(() => new LambdaConnector("x", rest)).to.throw(
      /give oidcProviderArn .* or set createOidcProvider/,
    );
  });
});
