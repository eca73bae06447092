/**
 * The plugin's dispatcher without a database: the type from the URN, unknown types refused,
 * `check` returning the engine's inputs still wrapped, the schema and version it serves, and
 * the resource classes registering as the plugin's resources only inside the plugin.
 */
import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import { RotatorProvider, typeOfUrn } from "../../../provider/plugin/provider";
import { packageVersion, readSchema } from "../../../provider/plugin/index";
import { SECRET_SIG, SIG_KEY } from "../../../provider/plugin/secrets";
import { rejection } from "../../support/secrets";

const urn = (type: string) => `urn:pulumi:dev::proj::postgres-rotator:index:Parent$${type}::name`;
const secret = (value: unknown) => ({ [SIG_KEY]: SECRET_SIG, value });

describe("plugin provider", () => {
  const provider = new RotatorProvider(packageVersion(), readSchema());

  it("reads the type from the URN, the last of its parent chain", () => {
    expect(typeOfUrn(urn("postgres-rotator:index:PostgresRotation"))).to.equal(
      "postgres-rotator:index:PostgresRotation",
    );
    expect(typeOfUrn("urn:pulumi:dev::proj::postgres-rotator:index:EscEnvironment::e")).to.equal(
      "postgres-rotator:index:EscEnvironment",
    );
  });

  it("serves the package's version and its schema", () => {
    expect(provider.version).to.equal(require("../../../package.json").version);
    expect(JSON.parse(provider.schema).name).to.equal("postgres-rotator");
  });

  it("refuses a type it does not serve, by name", async () => {
    const error = await rejection(provider.check(urn("postgres-rotator:index:Nope"), {}, {}));
    expect(error.message).to.equal("unknown resource type postgres-rotator:index:Nope");
    const component = await rejection(
      provider.construct("x", "postgres-rotator:index:Nope", {}, {}),
    );
    expect(component.message).to.equal("unknown component type postgres-rotator:index:Nope");
  });

  it("checks the unwrapped inputs and hands the engine its inputs back still wrapped", async () => {
    const news = {
      database: {
        host: "db.internal",
        database: "app",
        managingUser: { username: "manager", password: secret("manager password") },
      },
      rotateUsers: { username1: "app_user_1", username2: "app_user_2" },
      esc: {
        organization: "acme",
        project: "payments",
        environment: "rotator",
        accessToken: secret("pul-token"),
      },
    };
    const result = await provider.check(urn("postgres-rotator:index:PostgresRotation"), {}, news);
    expect(result.failures).to.deep.equal([]);
    expect(result.inputs).to.equal(news);
    expect(result.inputs.database.managingUser.password).to.deep.equal(secret("manager password"));
  });

  it("reports the handler's failures on the unwrapped values", async () => {
    const news = {
      database: { host: "db", database: "app", managingUser: { username: "m", password: "" } },
      rotateUsers: { username1: "same", username2: "same" },
    };
    const wrapped = {
      ...news,
      database: { ...news.database, managingUser: { username: "m", password: secret("pw") } },
    };
    const result = await provider.check(
      urn("postgres-rotator:index:PostgresRotation"),
      {},
      wrapped,
    );
    expect(result.failures?.map((f) => f.property)).to.deep.equal(["rotateUsers"]);
  });

  it("leaves the classes dynamic resources outside the plugin", async () => {
    const registration = await import("../../../provider/registration");
    expect(registration.asPluginResource("PostgresRotation", "x", {}, {})).to.equal(undefined);
  });
});

describe("plugin resource classes under mocks", () => {
  const registered: { type: string; inputs: Record<string, unknown> }[] = [];
  before(async () => {
    await pulumi.runtime.setMocks(
      {
        newResource: (args) => {
          registered.push({ type: args.type, inputs: args.inputs });
          return { id: `${args.name}-id`, state: args.inputs };
        },
        call: () => ({}),
      },
      "project",
      "stack",
      false,
    );
  });

  it("registers PostgresRotation as postgres-rotator:index:PostgresRotation inside the plugin", async () => {
    const registration = await import("../../../provider/registration");
    const { PostgresRotation } =
      await import("../../../provider/postgresRotation/postgresRotation");
    const args = {
      database: {
        host: "db",
        database: "app",
        managingUser: { username: "m", password: "pw" },
      },
      rotateUsers: { username1: "a", username2: "b" },
    };
    new PostgresRotation("outside", args);
    registration.registerAsPluginResources();
    try {
      new PostgresRotation("inside", args);
      await new Promise((resolve) => setTimeout(resolve, 50));
    } finally {
      registration.registerAsPluginResources(false);
    }
    const types = registered.map((r) => r.type);
    expect(types).to.include("pulumi-nodejs:dynamic/postgres-rotator:PostgresRotation");
    expect(types).to.include("postgres-rotator:index:PostgresRotation");
    const inside = registered.find((r) => r.type === "postgres-rotator:index:PostgresRotation")!;
    expect(inside.inputs).to.not.have.property("__provider");
  });
});
