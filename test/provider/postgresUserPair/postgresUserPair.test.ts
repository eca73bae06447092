/**
 * `PostgresUserPair` as a Pulumi resource: what the SDK sends to the engine (Pulumi mocks), and
 * its provider serialized by the installed package and run the way Pulumi's provider host runs
 * it, against real PostgreSQL.
 */
import { expect } from "chai";
import {
  PostgresUserPair,
  USER_PAIR_SECRET_OUTPUTS,
} from "../../../provider/postgresUserPair/postgresUserPair";
import type { UserPairOutputs } from "../../../provider/core/userPair";
import {
  installPackedPackage,
  providerHostScript,
  registeredProviderScript,
  serializeProviderScript,
  type InstalledPackage,
} from "../../support/installedPackage";
import { mockAndRecord, SECRET_SIG, type Registration } from "../../support/pulumiMocks";
import { SUPPORTED_MAJORS, cluster, uniqueName } from "../../support/servers";

const MANAGER_PASSWORD = "manager-password-4e1d";

describe("PostgresUserPair (Pulumi mocks)", function () {
  let registrations: Registration[] = [];
  before(async () => {
    registrations = await mockAndRecord();
  });

  it("registers its type, asks for its password outputs encrypted, sends the manager's password as a secret", async () => {
    const pair = new PostgresUserPair("pair", {
      database: {
        host: "db.internal",
        database: "app",
        managingUser: { username: "rotation_manager", password: MANAGER_PASSWORD },
      },
      rotateUsers: { username1: "app_1", username2: "app_2" },
      memberOf: ["app_users"],
    });
    await new Promise<void>((resolve) => pair.urn.apply(() => resolve()));
    const r = registrations.find((x) => x.name === "pair")!;
    expect(r.type).to.equal("pulumi-nodejs:dynamic/postgres-rotator:PostgresUserPair");
    expect(USER_PAIR_SECRET_OUTPUTS).to.have.members([
      "passwords",
      "initialState",
      "managingPassword",
    ]);
    expect(r.additionalSecretOutputs).to.include.members(USER_PAIR_SECRET_OUTPUTS);
    const db = r.object.database as { host: string; managingUser: { password: unknown } };
    expect(db.host).to.equal("db.internal");
    expect(db.managingUser.password).to.have.property(SECRET_SIG);
    expect(r.object.memberOf).to.deep.equal(["app_users"]);
    expect(r.object.__provider as string).to.not.include(MANAGER_PASSWORD);
  });
});

const PROVIDER_HOST = providerHostScript(`
  const created = await provider.create(inputs);
  const read = await provider.read(created.id, created.outs);
  await provider.delete(created.id, created.outs);
  process.stdout.write(JSON.stringify([created.outs, read.props]));
`);

describe("postgresUserPairProvider as Pulumi stores and runs it", function () {
  this.timeout(120_000);
  let installed: InstalledPackage;
  let text: string;
  before(async () => {
    installed = installPackedPackage();
    text = await installed.run(serializeProviderScript("postgresUserPairProvider"));
  });
  after(() => installed?.remove());

  it("serializes to a small text that loads the installed package by name", () => {
    // Installed under node_modules: stored as a require of the provider module by name, no code.
    expect(text).to.match(
      /require\("pulumi-postgres-rotator\/(dist\/)?provider\/postgresUserPair\/postgresUserPairProvider(\.js)?"\)/,
    );
    expect(text.length, "serialized provider budget").to.be.below(400);
  });

  it("holds no secret of a resource registered with secret inputs", async () => {
    const args = {
      database: {
        host: "db.internal",
        database: "app",
        managingUser: { username: "rotation_manager", password: MANAGER_PASSWORD },
      },
      rotateUsers: { username1: "app_1", username2: "app_2" },
    };
    const registered = JSON.parse(
      await installed.run(registeredProviderScript("PostgresUserPair", JSON.stringify(args))),
    ) as { text: string };
    expect(registered.text).to.match(
      /require\("pulumi-postgres-rotator\/(dist\/)?provider\/postgresUserPair\/postgresUserPairProvider(\.js)?"\)/,
    );
    expect(registered.text).to.not.include(MANAGER_PASSWORD);
  });

  it("creates, refreshes and drops a pair from that text in a separate process", async () => {
    const pg = await cluster(SUPPORTED_MAJORS[SUPPORTED_MAJORS.length - 1]);
    const users = { username1: uniqueName("host_a"), username2: uniqueName("host_b") };
    const inputs = {
      database: pg.database,
      rotateUsers: users,
      memberOf: [await pg.createGroup()],
      deleteUsersOnDestroy: true,
    };
    const output = await installed.run(PROVIDER_HOST, JSON.stringify({ text, inputs }));
    const [created, read] = JSON.parse(output) as [UserPairOutputs, UserPairOutputs];
    expect(created.created).to.deep.equal([users.username1, users.username2]);
    expect(read.drift).to.deep.equal([]);
    expect(await pg.canLogin(users.username1, created.passwords[users.username1])).to.equal(false);
  });
});
