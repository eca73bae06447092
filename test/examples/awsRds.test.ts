/**
 * examples/aws-rds under Pulumi mocks: the program itself is `require`d (its
 * `pulumi-postgres-rotator` resolves through the root node_modules link to this repository's
 * build, as when the CLI runs it), with its config set first, and the graph it registers is
 * checked: private network, private encrypted database, the connector in the same subnets with
 * egress only to the database's group, both ESC environments and the schedule, the rotation
 * wired to the connector and the RDS address, and the managing password and the ESC token only
 * as secrets on the wire.
 */
import { createHash } from "node:crypto";
import * as path from "node:path";
import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import { mockAndRecord, SECRET_SIG, type Registration } from "../support/pulumiMocks";

// Waits until every registration and invoke in flight has been answered (marked @internal, so
// not in the SDK's types; the SDK's own `disconnect` uses it).
const { waitForRPCs } = require("@pulumi/pulumi/runtime/settings") as {
  waitForRPCs(): Promise<void>;
};

const PROGRAM = path.join(__dirname, "..", "..", "examples", "aws-rds", "index.ts");
const PROJECT = "postgres-rotator-aws-rds"; // examples/aws-rds/Pulumi.yaml
const ACCOUNT = "123456789012";
const REGION = "eu-west-1";
const ZONES = [`${REGION}a`, `${REGION}b`, `${REGION}c`];
const RDS_ADDRESS = `app-db.c9akciq32.${REGION}.rds.amazonaws.com`;
const OIDC_ARN = `arn:aws:iam::${ACCOUNT}:oidc-provider/api.pulumi.com/oidc`;
const MANAGER_PASSWORD = "manager-password-3f81";
const TOKEN = "pul-esc-token-a94c";
const INITIAL = {
  current: { username: "app_user_1", password: "initial-1-secret" },
  previous: { username: "app_user_2", password: "initial-2-secret" },
};

const T = {
  vpc: "aws:ec2/vpc:Vpc",
  subnet: "aws:ec2/subnet:Subnet",
  routeTable: "aws:ec2/routeTable:RouteTable",
  association: "aws:ec2/routeTableAssociation:RouteTableAssociation",
  securityGroup: "aws:ec2/securityGroup:SecurityGroup",
  egress: "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
  ingress: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
  subnetGroup: "aws:rds/subnetGroup:SubnetGroup",
  instance: "aws:rds/instance:Instance",
  lambda: "aws:lambda/function:Function",
  role: "aws:iam/role:Role",
  userPair: "pulumi-nodejs:dynamic/postgres-rotator:PostgresUserPair",
  rotation: "pulumi-nodejs:dynamic/postgres-rotator:PostgresRotation",
};

/** AWS-shaped IDs (`sg-…`, `subnet-…`): `LambdaConnector` checks the security group's. */
const ID_PREFIX: Record<string, string> = {
  [T.vpc]: "vpc",
  [T.subnet]: "subnet",
  [T.routeTable]: "rtb",
  [T.securityGroup]: "sg",
  "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": "sg",
  [T.egress]: "sgr",
  [T.ingress]: "sgr",
};
function idOf(type: string, name: string): string {
  const prefix = ID_PREFIX[type];
  const hex = createHash("sha256").update(name).digest("hex").slice(0, 17);
  return prefix ? `${prefix}-${hex}` : `${name}-id`;
}

/** What AWS (and the dynamic providers) would add to a new resource's inputs. */
function outputsFor(type: string, name: string): Record<string, unknown> {
  switch (type) {
    case T.instance:
      return {
        address: RDS_ADDRESS,
        port: 5432,
        masterUserSecrets: [
          { secretArn: `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:rds!db-1a2b` },
        ],
      };
    case T.lambda:
      return { arn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${name}` };
    case T.role:
      return { arn: `arn:aws:iam::${ACCOUNT}:role/${name}` };
    case T.userPair:
      return { initialState: INITIAL, created: ["app_user_1", "app_user_2"] };
    case T.rotation:
      return { current: INITIAL.current, currentUsername: "app_user_1" };
    default:
      return {};
  }
}

/** Answers to the program's invokes; any other invoke fails the test. */
function call(args: pulumi.runtime.MockCallArgs): Record<string, unknown> {
  switch (args.token) {
    case "aws:index/getAvailabilityZones:getAvailabilityZones":
      return { id: REGION, names: ZONES, zoneIds: ["euw1-az1", "euw1-az2", "euw1-az3"] };
    case "aws:index/getPartition:getPartition":
      return { id: "aws", partition: "aws", dnsSuffix: "amazonaws.com" };
    case "aws:iam/getOpenIdConnectProvider:getOpenIdConnectProvider":
      return { arn: OIDC_ARN, url: "api.pulumi.com/oidc", clientIdLists: ["aws:acme"], tags: {} };
    default:
      throw new Error(`unexpected invoke ${args.token}`);
  }
}

const MOCKS: pulumi.runtime.Mocks = {
  newResource: (args) => ({
    id: idOf(args.type, args.name),
    state: { name: args.name, ...args.inputs, ...outputsFor(args.type, args.name) },
  }),
  call,
};

/** A wire value without its secret wrapper, and whether it had one. */
function unwrap(v: unknown): { secret: boolean; value: unknown } {
  if (v && typeof v === "object" && SECRET_SIG in v) {
    return { secret: true, value: (v as unknown as { value: unknown }).value };
  }
  return { secret: false, value: v };
}

/** `v` with every secret-wrapped value replaced by a marker. */
function withoutSecrets(v: unknown): unknown {
  if (unwrap(v).secret) return "[secret]";
  if (Array.isArray(v)) return v.map(withoutSecrets);
  if (v && typeof v === "object") {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, withoutSecrets(x)]));
  }
  return v;
}

function value<T>(output: pulumi.Input<T> | undefined): Promise<T | undefined> {
  return new Promise((resolve) => pulumi.output(output).apply((v) => resolve(v as T)));
}

type Program = Record<string, pulumi.Output<unknown> | pulumi.Output<unknown>[] | undefined>;

/** Sets the config, loads the program afresh and waits for everything it registers. */
async function run(config: Record<string, string>, secretKeys: string[]) {
  const registrations = await mockAndRecord(MOCKS, PROJECT);
  const qualify = (key: string) => `${PROJECT}:${key}`;
  pulumi.runtime.setAllConfig(
    Object.fromEntries(Object.entries(config).map(([k, v]) => [qualify(k), v])),
    secretKeys.map(qualify),
  );
  delete require.cache[require.resolve(PROGRAM)];
  const program = require(PROGRAM) as Program;
  await waitForRPCs();
  const all = (type: string) => registrations.filter((r) => r.type === type);
  const one = (type: string, name?: string): Registration => {
    const found = all(type).filter((r) => name === undefined || r.name === name);
    expect(found, `${type} ${name ?? ""}`).to.have.length(1);
    return found[0];
  };
  /** The one registration named `name`, whatever its type. */
  const named = (name: string): Registration => {
    const found = registrations.filter((x) => x.name === name);
    expect(found, name).to.have.length(1);
    return found[0];
  };
  return { registrations, program, all, one, named };
}

const FULL_CONFIG = {
  escOrganization: "acme",
  escProject: "payments",
  escAccessToken: TOKEN,
  managingUser: "rotation_manager",
  managingPassword: MANAGER_PASSWORD,
  rotationTrigger: "1",
};
const SECRET_KEYS = ["managingPassword", "escAccessToken"];

describe("examples/aws-rds (Pulumi mocks)", function () {
  let r: Awaited<ReturnType<typeof run>>;
  let ids: { vpc: string; subnets: string[]; dbGroup: string; connectorGroup: string };

  before(async () => {
    r = await run(FULL_CONFIG, SECRET_KEYS);
    ids = {
      vpc: idOf(T.vpc, "app"),
      subnets: r.all(T.subnet).map((s) => idOf(T.subnet, s.name)),
      dbGroup: idOf(T.securityGroup, "app-db"),
      connectorGroup: idOf(T.securityGroup, "app-db-connector-sg"),
    };
  });
  after(() => pulumi.runtime.setAllConfig({}));

  it("the network is private: two subnets in two zones, a route table with no route out", () => {
    for (const type of [
      "aws:ec2/internetGateway:InternetGateway",
      "aws:ec2/egressOnlyInternetGateway:EgressOnlyInternetGateway",
      "aws:ec2/natGateway:NatGateway",
      "aws:ec2/route:Route",
      "aws:ec2/eip:Eip",
    ]) {
      expect(r.all(type), type).to.deep.equal([]);
    }
    expect(r.one(T.vpc).object).to.include({ cidrBlock: "10.40.0.0/16" });
    const subnets = r.all(T.subnet);
    expect(subnets).to.have.length(2);
    expect(subnets.map((s) => s.object.availabilityZone)).to.deep.equal(ZONES.slice(0, 2));
    for (const subnet of subnets) {
      expect(subnet.object).to.include({ vpcId: ids.vpc, mapPublicIpOnLaunch: false });
    }
    const table = r.one(T.routeTable);
    expect(table.object.routes ?? []).to.deep.equal([]);
    const associations = r.all(T.association).map((a) => a.object);
    expect(associations).to.have.deep.members(
      ids.subnets.map((subnetId) => ({
        subnetId,
        routeTableId: idOf(T.routeTable, "app-private"),
      })),
    );
    // The VPC's default security group is taken over with no rules.
    const defaultGroup = r.one("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup").object;
    expect(defaultGroup.ingress ?? []).to.deep.equal([]);
    expect(defaultGroup.egress ?? []).to.deep.equal([]);
  });

  it("the RDS instance: in the private subnets, not public, encrypted, RDS-managed password", () => {
    const subnetGroup = r.one(T.subnetGroup);
    expect(subnetGroup.object.subnetIds).to.deep.equal(ids.subnets);
    const db = r.one(T.instance).object;
    expect(db).to.include({
      engine: "postgres",
      dbName: "app",
      dbSubnetGroupName: subnetGroup.name,
      publiclyAccessible: false,
      storageEncrypted: true,
      manageMasterUserPassword: true,
      deletionProtection: true,
      multiAz: true,
    });
    expect(db).to.not.have.property("password");
    expect(db.vpcSecurityGroupIds).to.deep.equal([ids.dbGroup]);
    // The database's group opens nothing by itself; TLS is required.
    const dbGroup = r.one(T.securityGroup, "app-db").object;
    expect(dbGroup.ingress ?? []).to.deep.equal([]);
    expect(dbGroup.egress ?? []).to.deep.equal([]);
    expect(r.one("aws:rds/parameterGroup:ParameterGroup").object).to.deep.include({
      family: "postgres17",
      parameters: [{ name: "rds.force_ssl", value: "1" }],
    });
  });

  it("the connector's function runs in those subnets, its only egress to the database's group", () => {
    const fn = r.one(T.lambda, "app-db-connector-function").object;
    expect(fn.vpcConfig).to.deep.equal({
      subnetIds: ids.subnets,
      securityGroupIds: [ids.connectorGroup],
    });
    const group = r.one(T.securityGroup, "app-db-connector-sg").object;
    expect(group.vpcId).to.equal(ids.vpc);
    expect(group.ingress ?? []).to.deep.equal([]);
    expect(group.egress ?? []).to.deep.equal([]);
    expect(r.all("aws:ec2/securityGroupRule:SecurityGroupRule")).to.deep.equal([]);
    // Exactly one egress rule in the whole program: the connector's, to the database's group.
    expect(r.all(T.egress).map((e) => e.object)).to.deep.equal([
      {
        securityGroupId: ids.connectorGroup,
        referencedSecurityGroupId: ids.dbGroup,
        ipProtocol: "tcp",
        fromPort: 5432,
        toPort: 5432,
        description: "to the database",
      },
    ]);
    // Exactly one ingress rule: the database's group admits the connector's.
    expect(r.all(T.ingress).map((i) => i.object)).to.deep.equal([
      {
        securityGroupId: ids.dbGroup,
        referencedSecurityGroupId: ids.connectorGroup,
        ipProtocol: "tcp",
        fromPort: 5432,
        toPort: 5432,
        description: "from the password rotation connector",
      },
    ]);
  });

  it("ESC: both environments per stack, the login's subject trusted exactly, a weekly schedule", () => {
    const credentials = r.one(
      "pulumi-nodejs:dynamic/postgres-rotator:EscEnvironment",
      "app-db-credentials-env",
    );
    const rotator = r.one(
      "pulumi-nodejs:dynamic/postgres-rotator:EscEnvironment",
      "app-db-rotator-env",
    );
    expect(credentials.object).to.include({
      organization: "acme",
      project: "payments",
      name: "stack-db-credentials",
    });
    expect(rotator.object).to.include({
      organization: "acme",
      project: "payments",
      name: "stack-db-rotator",
    });
    const login = parse(unwrap(credentials.object.yaml).value as string).values.awsLogin;
    const roleArn = `arn:aws:iam::${ACCOUNT}:role/app-db-connector-invocation`;
    expect(login["fn::open::aws-login"].oidc).to.include({ roleArn });
    expect(login["fn::open::aws-login"].oidc.subjectAttributes).to.deep.equal([
      "currentEnvironment.name",
    ]);
    const trust = JSON.parse(
      r.one(T.role, "app-db-connector-invocation").object.assumeRolePolicy as string,
    );
    expect(trust.Statement).to.deep.equal([
      {
        Effect: "Allow",
        Principal: { Federated: OIDC_ARN },
        Action: "sts:AssumeRoleWithWebIdentity",
        Condition: {
          StringEquals: {
            "api.pulumi.com/oidc:aud": "aws:acme",
            "api.pulumi.com/oidc:sub":
              "pulumi:environments:pulumi.organization.login:acme" +
              ":currentEnvironment.name:payments/stack-db-credentials",
          },
        },
      },
    ]);
    expect(r.named("app-db-schedule").object).to.deep.include({
      organization: "acme",
      project: "payments",
      environment: "stack-db-rotator",
      schedule: { cron: "0 4 * * 1" },
    });
  });

  it("the rotation goes through the connector to the RDS address; the exports say so", async () => {
    const lambdaArn = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:app-db-connector-function`;
    for (const name of ["app-db-users", "app-db-rotation"]) {
      const database = r.named(name).object.database;
      expect(withoutSecrets(database), name).to.deep.equal({
        host: RDS_ADDRESS,
        port: 5432,
        database: "app",
        managingUser: { username: "rotation_manager", password: "[secret]" },
        connector: { awsLambda: { lambdaArn } },
      });
    }
    const rotator = r.named("app-db-rotator-env");
    const inputs = parse(unwrap(rotator.object.yaml).value as string).values.dbRotator[
      "fn::rotate::postgres"
    ].inputs;
    expect(inputs.database).to.include({ host: RDS_ADDRESS, port: 5432, database: "app" });
    expect(inputs.database.connector.awsLambda.lambdaArn).to.equal(lambdaArn);
    expect(r.one(T.userPair).object.memberOf).to.deep.equal(["app_users"]);
    expect(r.one(T.rotation).object.rotationTrigger).to.equal("1");

    expect(await value(r.program.lambdaArn)).to.equal(lambdaArn);
    expect(await value(r.program.invocationRoleArn)).to.equal(
      `arn:aws:iam::${ACCOUNT}:role/app-db-connector-invocation`,
    );
    expect(await value(r.program.rotatorEnvironment)).to.equal("payments/stack-db-rotator");
    expect(await value(r.program.currentUsername)).to.equal("app_user_1");
    expect(await value(r.program.databaseAddress)).to.equal(RDS_ADDRESS);
  });

  it("the managing password and the ESC token go on the wire only as secrets", async () => {
    const plain = JSON.stringify(r.registrations.map((x) => withoutSecrets(x.object)));
    expect(plain).to.not.include(MANAGER_PASSWORD);
    expect(plain).to.not.include(TOKEN);
    // ... and they do go, wrapped: the check above is not vacuous.
    const users = r.one(T.userPair).object.database as { managingUser: { password: unknown } };
    expect(unwrap(users.managingUser.password)).to.deep.equal({
      secret: true,
      value: MANAGER_PASSWORD,
    });
    for (const name of ["app-db-credentials-env", "app-db-rotator-env", "app-db-schedule"]) {
      const token = r.named(name).object.accessToken;
      expect(unwrap(token), name).to.deep.equal({ secret: true, value: TOKEN });
    }
    // No export carries either in the clear.
    for (const [key, output] of Object.entries(r.program)) {
      const outputs = Array.isArray(output) ? output : [output];
      for (const o of outputs) {
        if (o === undefined || (await pulumi.isSecret(o))) continue;
        const text = JSON.stringify((await value(o)) ?? null);
        expect(text, key).to.not.include(MANAGER_PASSWORD);
        expect(text, key).to.not.include(TOKEN);
      }
    }
  });
});

describe("examples/aws-rds with databaseOnly (Pulumi mocks)", function () {
  after(() => pulumi.runtime.setAllConfig({}));

  it("deploys the network and the database only, and needs no managing user yet", async () => {
    const r = await run({ databaseOnly: "true" }, []);
    expect(r.all(T.instance)).to.have.length(1);
    expect(r.all(T.subnet)).to.have.length(2);
    const rotator = r.registrations.filter(
      (x) => x.type.includes("postgres-rotator") || x.type.startsWith("aws:lambda"),
    );
    expect(rotator).to.deep.equal([]);
    expect(r.all(T.ingress)).to.deep.equal([]);
    expect(r.program.rotatorEnvironment).to.equal(undefined);
    expect(await value(r.program.masterSecretArn)).to.match(/^arn:aws:secretsmanager:/);
  });
});
