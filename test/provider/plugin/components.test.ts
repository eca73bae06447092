/**
 * The plugin's components under Pulumi's mocks: `construct` of `RotatedPostgresCredentials` runs
 * its TypeScript constructor on the inputs as the engine hands them over (a whole object as one
 * secret `Output`, a union as paired optional fields), its children are the plugin's own
 * resources with secrets on the wire, and the state it returns is the schema's outputs.
 */
import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import { RotatorProvider } from "../../../provider/plugin/provider";
import { componentArgs, shapeOf } from "../../../provider/plugin/components";
import { packageVersion, readSchema } from "../../../provider/plugin/index";
import { registerAsPluginResources } from "../../../provider/registration";
import { mockAndRecord, SECRET_SIG, type Registration } from "../../support/pulumiMocks";
import { rejection } from "../../support/secrets";

const COMPONENT = "postgres-rotator:index:RotatedPostgresCredentials";
const MANAGER_PASSWORD = "manager-password-91ab";
const LAMBDA = "arn:aws:lambda:eu-west-1:123456789012:function:pg-rotator";

function value<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply((v) => resolve(v)));
}

describe("plugin components (Pulumi mocks)", function () {
  let registrations: Registration[] = [];
  const schema = readSchema();
  const provider = new RotatorProvider(packageVersion(), schema);

  before(async () => {
    registrations = await mockAndRecord();
    registerAsPluginResources();
  });
  after(() => registerAsPluginResources(false));
  beforeEach(() => (registrations.length = 0));

  it("splits an input given as one secret Output into fields that stay secret", async () => {
    const args = await componentArgs(
      {
        database: pulumi.secret({
          host: "db",
          database: "app",
          managingUser: { username: "m", password: MANAGER_PASSWORD },
        }),
        rotateUsers: { username1: "a", username2: "b" },
        connector: { lambdaArn: LAMBDA, create: undefined },
      },
      ["database", "connector"],
    );
    const database = args.database as { host: pulumi.Output<string>; managingUser: unknown };
    // A plain object of its fields, as the constructor reads `database.ssl`, `database.port`.
    expect(pulumi.Output.isInstance(database)).to.equal(false);
    expect(Object.keys(database)).to.deep.equal(["host", "database", "managingUser"]);
    expect(pulumi.Output.isInstance(database.host)).to.equal(true);
    expect(await value(database.host)).to.equal("db");
    expect(await pulumi.isSecret(database.host)).to.equal(true);
    const manager = database.managingUser as { password: pulumi.Output<string> };
    expect(await value(manager.password)).to.equal(MANAGER_PASSWORD);
    expect(await pulumi.isSecret(manager.password)).to.equal(true);
    // Left out, not undefined: `"create" in connector` must be false.
    expect(args.connector).to.deep.equal({ lambdaArn: LAMBDA });
  });

  it("refuses a top-level input whose shape is unknown, and keeps unknown fields", async () => {
    const error = await rejection(shapeOf(pulumi.output(pulumi.unknown), "database"));
    expect(error.message).to.match(/^database must be known when the program runs/);
    const field = pulumi.output(pulumi.unknown);
    expect(await shapeOf({ host: field }, "database")).to.deep.equal({ host: field });
  });

  it("constructs RotatedPostgresCredentials with the plugin's resources as its children", async () => {
    const result = await provider.construct(
      "app-db",
      COMPONENT,
      {
        database: {
          host: "db.internal",
          database: "app",
          managingUser: { username: "manager", password: pulumi.secret(MANAGER_PASSWORD) },
        },
        rotateUsers: { username1: "app_user_1", username2: "app_user_2" },
        memberOf: ["app_users"],
        rotationTrigger: "1",
        connector: { lambdaArn: LAMBDA },
      },
      {},
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    const types = registrations.map((r) => r.type);
    expect(types).to.have.members([
      COMPONENT,
      "postgres-rotator:index:PostgresUserPair",
      "postgres-rotator:index:PostgresRotation",
    ]);
    const rotation = registrations.find(
      (r) => r.type === "postgres-rotator:index:PostgresRotation",
    )!;
    expect(rotation.additionalSecretOutputs).to.include.members(["current", "previous", "state"]);
    const database = rotation.object.database as Record<string, unknown>;
    expect(database.connector).to.deep.equal({ awsLambda: { lambdaArn: LAMBDA } });
    const manager = database.managingUser as Record<string, unknown>;
    expect(manager.password).to.have.property(SECRET_SIG);
    // Readable on the wire: everything but the contents of secret wrappers.
    const readable = JSON.stringify(
      registrations.map((r) => r.object),
      (_key, v: unknown) => (v && typeof v === "object" && SECRET_SIG in v ? "<secret>" : v),
    );
    expect(readable).to.not.include(MANAGER_PASSWORD);
    expect(Object.keys(result.state)).to.have.members(
      Object.keys(schema.resources[COMPONENT].properties ?? {}),
    );
  });

  it("refuses an existing connector and connector.create together, as TypeScript does", async () => {
    const error = await rejection(
      provider.construct(
        "both",
        COMPONENT,
        {
          database: {
            host: "db",
            database: "app",
            managingUser: { username: "m", password: "p" },
          },
          rotateUsers: { username1: "a", username2: "b" },
          connector: { lambdaArn: LAMBDA, create: { vpcId: "vpc-1", subnetIds: ["s-1"] } },
        },
        {},
      ),
    );
    expect(error.message).to.include(
      "give connector.lambdaArn (an existing connector) or connector.create, not both",
    );
  });
});
