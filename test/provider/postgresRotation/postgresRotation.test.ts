import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import {
  PostgresRotation,
  SECRET_OUTPUTS,
} from "../../../provider/postgresRotation/postgresRotation";
import { mockAndRecord, SECRET_SIG, type Registration } from "../../support/pulumiMocks";

const MANAGER_PASSWORD = "manager-password-9f3c";
const STATE_PASSWORD = "state-password-2b7e";

describe("PostgresRotation (Pulumi mocks)", function () {
  let registrations: Registration[] = [];

  before(async function () {
    registrations = await mockAndRecord();
  });

  async function register(
    name: string,
    database: unknown,
    extra: object = {},
  ): Promise<Registration> {
    const rotation = new PostgresRotation(name, {
      database: database as never,
      rotateUsers: { username1: "app_1", username2: "app_2" },
      rotationTrigger: "1",
      ...extra,
    });
    await new Promise<void>((resolve) => rotation.urn.apply(() => resolve()));
    const found = registrations.find((r) => r.name === name);
    if (!found) throw new Error(`${name} was not registered`);
    return found;
  }

  const database = {
    host: "db.internal",
    database: "app",
    managingUser: { username: "rotation_manager", password: MANAGER_PASSWORD },
  };

  it("registers a named dynamic resource type with its serialized provider", async () => {
    const r = await register("typed", database);
    expect(r.type).to.equal("pulumi-nodejs:dynamic/postgres-rotator:PostgresRotation");
    expect(r.object.__provider).to.be.a("string");
  });

  it("asks the engine to encrypt every output that holds a password", async () => {
    const r = await register("outputs", database);
    expect(SECRET_OUTPUTS).to.have.members(["current", "previous", "state"]);
    expect(r.additionalSecretOutputs).to.include.members(SECRET_OUTPUTS);
  });

  it("sends the managing password as a secret, leaving the host readable", async () => {
    const r = await register("inputs", database);
    const db = r.object.database as Record<string, unknown>;
    expect(db.host).to.equal("db.internal");
    const manager = db.managingUser as Record<string, unknown>;
    expect(manager.username).to.equal("rotation_manager");
    expect(manager.password).to.be.an("object").that.has.property(SECRET_SIG);
    const plain = JSON.stringify({
      ...r.object,
      database: { ...db, managingUser: { username: 1 } },
    });
    expect(plain).to.not.include(MANAGER_PASSWORD);
  });

  it("sends the whole database as a secret when it is one opaque Output", async () => {
    const r = await register("opaque", pulumi.output(database));
    expect(r.object.database).to.be.an("object").that.has.property(SECRET_SIG);
  });

  it("sends the state input as a secret", async () => {
    const r = await register("stated", database, {
      state: { current: { username: "app_1", password: STATE_PASSWORD } },
    });
    expect(r.object.state).to.be.an("object").that.has.property(SECRET_SIG);
  });

  it("never puts a password into the serialized provider", async () => {
    const r = await register("serialized", database, {
      state: { current: { username: "app_1", password: STATE_PASSWORD } },
    });
    const provider = r.object.__provider as string;
    expect(provider).to.not.include(MANAGER_PASSWORD);
    expect(provider).to.not.include(STATE_PASSWORD);
  });

  it("makes resource properties only of the inputs given, and of every output", async () => {
    const rotation = new PostgresRotation("given", {
      database,
      rotateUsers: { username1: "app_1", username2: "app_2" },
      state: undefined,
      esc: undefined,
      timeouts: undefined,
    });
    for (const absent of ["state", "esc", "timeouts", "passwordPolicy"]) {
      expect(rotation, absent).to.not.have.property(absent);
    }
    for (const output of [
      "current",
      "previous",
      "currentUsername",
      "previousUsername",
      "rotatedAt",
      "rotationTrigger",
    ]) {
      expect(
        pulumi.Output.isInstance((rotation as unknown as Record<string, unknown>)[output]),
        output,
      ).to.equal(true);
    }
    const withState = new PostgresRotation("given-state", {
      database,
      rotateUsers: { username1: "app_1", username2: "app_2" },
      state: { current: { username: "app_1", password: STATE_PASSWORD } },
    });
    expect(
      pulumi.Output.isInstance((withState as unknown as Record<string, unknown>).state),
    ).to.equal(true);
    await new Promise<void>((resolve) => withState.urn.apply(() => resolve()));
  });

  it("leaves the caller's options untouched", async () => {
    const opts: pulumi.CustomResourceOptions = { additionalSecretOutputs: ["rotatedAt"] };
    new PostgresRotation(
      "opts",
      { database, rotateUsers: { username1: "a", username2: "b" } },
      opts,
    );
    expect(opts).to.deep.equal({ additionalSecretOutputs: ["rotatedAt"] });
  });
});
