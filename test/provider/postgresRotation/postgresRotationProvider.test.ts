import * as net from "node:net";
import { expect } from "chai";
import fc from "fast-check";
import {
  AuthenticationError,
  ConnectionError,
  CurrentCredentialsError,
  RotationError,
  ValidationError,
  VerificationError,
} from "../../../provider/errors";
import { buildOutputs, type RotationOutputs } from "../../../provider/core/outputs";
import type { RotationInputs } from "../../../provider/core/types";
import { generatePassword } from "../../../provider/core/password";
import { resolveInputs } from "../../../provider/core/validate";
import { quoteIdentifier } from "../../../provider/postgres/sql";
import * as provider from "../../../provider/postgresRotation/postgresRotationProvider";
import {
  installPackedPackage,
  providerHostScript,
  registeredProviderScript,
  serializeProviderScript,
  type InstalledPackage,
} from "../../support/installedPackage";
import { Lifecycle } from "../../support/provider";
import { expectNoSecrets, rejection, renderings } from "../../support/secrets";
import { TEST_MAJORS, cluster, type TestCluster } from "../../support/servers";

for (const major of TEST_MAJORS) {
  describe(`postgresRotationProvider on PostgreSQL ${major}`, function () {
    let pg: TestCluster;
    /** Every password this suite learned; none may ever reach the server log. */
    const seen = new Set<string>();
    before(async function () {
      pg = await cluster(major);
      seen.add(pg.manager.password);
    });

    function remember(outputs: RotationOutputs | undefined): RotationOutputs {
      if (!outputs) throw new Error("no outputs");
      seen.add(outputs.current.password);
      if (outputs.previous.password) seen.add(outputs.previous.password);
      return outputs;
    }

    async function freshInputs(): Promise<RotationInputs> {
      return { database: pg.database, rotateUsers: await pg.createPair(), rotationTrigger: "1" };
    }

    it("rotates username1, then username2, then username1, never touching current", async () => {
      const inputs = await freshInputs();
      const { username1, username2 } = inputs.rotateUsers;
      const life = new Lifecycle(provider);

      const first = remember(await life.create(inputs));
      expect(first.current.username).to.equal(username1);
      expect(first.previous).to.deep.equal({ username: username2 });
      expect(first.rotatedAt).to.be.a("string");
      expect(await pg.canLogin(username1, first.current.password)).to.equal(true);

      await life.apply({ ...inputs, rotationTrigger: "2" });
      const second = remember(life.outputs);
      expect(second.current.username).to.equal(username2);
      expect(second.previous).to.deep.equal(first.current);
      expect(second.rotationTrigger).to.equal("2");
      expect(await pg.canLogin(username2, second.current.password)).to.equal(true);
      expect(await pg.canLogin(username1, first.current.password)).to.equal(true);

      await life.apply({ ...inputs, rotationTrigger: "3" });
      const third = remember(life.outputs);
      expect(third.current.username).to.equal(username1);
      expect(third.previous).to.deep.equal(second.current);
      expect(await pg.canLogin(username1, third.current.password)).to.equal(true);
      expect(await pg.canLogin(username2, second.current.password)).to.equal(true);
      expect(await pg.canLogin(username1, first.current.password)).to.equal(false);
    });

    it("does nothing when nothing changed", async () => {
      const inputs = await freshInputs();
      const life = new Lifecycle(provider);
      const before = remember(await life.create(inputs));
      const diff = await life.apply(inputs);
      expect(diff.changes).to.equal(false);
      expect(life.outputs).to.deep.equal(before);
      // An update with nothing to do (the password young again since the diff) rotates nothing.
      const updated = await provider.update!(life.id, before, inputs);
      expect(updated.outs).to.deep.equal(before);
      expect(await pg.canLogin(before.current.username, before.current.password)).to.equal(true);
    });

    it("keeps the credentials when only settings change", async () => {
      const inputs = await freshInputs();
      const life = new Lifecycle(provider);
      const before = remember(await life.create(inputs));
      const diff = await life.apply({
        ...inputs,
        timeouts: { connectSeconds: 5 },
        scramIterations: 8192,
      });
      expect(diff.changes).to.equal(true);
      expect(life.outputs!.current).to.deep.equal(before.current);
      expect(life.outputs!.previous).to.deep.equal(before.previous);
      expect(life.outputs!.rotatedAt).to.equal(before.rotatedAt);
      expect(life.outputs!.timeouts?.connectSeconds).to.equal(5);
    });

    it("asks for a replacement when the user pair changes", async () => {
      const inputs = await freshInputs();
      const life = new Lifecycle(provider);
      remember(await life.create(inputs));
      const other = await pg.createPair();
      const diff = await provider.diff!(life.id, life.outputs!, { ...inputs, rotateUsers: other });
      expect(diff).to.deep.include({
        changes: true,
        replaces: ["rotateUsers"],
        deleteBeforeReplace: false,
      });
      // An update asked for it all the same refuses before anything changes.
      const error = await rejection(
        provider.update!(life.id, life.outputs!, { ...inputs, rotateUsers: other }),
      );
      expect(error).to.be.instanceOf(RotationError);
      expect(error.message).to.equal(
        "a pair without the current user needs a new resource, not an update",
      );
    });

    it("keeps the current user when a new pair still holds it", async () => {
      const inputs = await freshInputs();
      const { username1, username2 } = inputs.rotateUsers;
      const life = new Lifecycle(provider);
      remember(await life.create(inputs));
      await life.apply({ ...inputs, rotationTrigger: "2" });
      const before = remember(life.outputs); // current: username2, previous: username1

      // Swapped order: nothing to rotate, nothing lost.
      const swapped = {
        ...inputs,
        rotationTrigger: "2",
        rotateUsers: { username1: username2, username2: username1 },
      };
      const swapDiff = await life.apply(swapped);
      expect(swapDiff.replaces ?? []).to.deep.equal([]);
      expect(life.outputs!.current).to.deep.equal(before.current);
      expect(life.outputs!.previous).to.deep.equal(before.previous);

      // username1 leaves the pair: username2 stays current, the newcomer is previous.
      const newcomer = (await pg.createPair()).username1; // set up the README way
      const overlap = {
        ...inputs,
        rotationTrigger: "2",
        rotateUsers: { username1: newcomer, username2 },
      };
      await life.apply(overlap);
      expect(life.outputs!.current).to.deep.equal(before.current);
      expect(life.outputs!.previous).to.deep.equal({ username: newcomer });
      expect(await pg.canLogin(username2, before.current.password)).to.equal(true);

      await life.apply({ ...overlap, rotationTrigger: "3" });
      const rotated = remember(life.outputs);
      expect(rotated.current.username).to.equal(newcomer);
      expect(rotated.previous).to.deep.equal(before.current);
      expect(await pg.canLogin(newcomer, rotated.current.password)).to.equal(true);
    });

    it("adopts given state without rotating, then rotates its previous user", async () => {
      const inputs = await freshInputs();
      const { username1, username2 } = inputs.rotateUsers;
      const state = {
        current: { username: username2, password: generatePassword() },
        previous: { username: username1, password: generatePassword() },
      };
      await pg.setPassword(username2, state.current.password);
      await pg.setPassword(username1, state.previous.password);
      const life = new Lifecycle(provider);
      const adopted = remember(await life.create({ ...inputs, state }));
      expect(adopted.current).to.deep.equal(state.current);
      expect(adopted.previous).to.deep.equal(state.previous);
      expect(adopted.rotatedAt).to.equal(undefined);
      expect(await pg.canLogin(username1, state.previous.password)).to.equal(true);

      await life.apply({ ...inputs, state, rotationTrigger: "2" });
      const rotated = remember(life.outputs);
      expect(rotated.current.username).to.equal(username1);
      expect(rotated.previous).to.deep.equal(state.current);
      expect(await pg.canLogin(username2, state.current.password)).to.equal(true);
      expect(await pg.canLogin(username1, rotated.current.password)).to.equal(true);
    });

    it("takes a null state (a PostgresUserPair's absent initialState) as none: creates by rotating, then keeps its own", async () => {
      const inputs = await freshInputs();
      const { username1, username2 } = inputs.rotateUsers;
      // What the engine sends for `state: users.initialState` when the pair adopted its users.
      const absent = { ...inputs, state: null } as unknown as RotationInputs;
      const life = new Lifecycle(provider);
      const first = remember(await life.create(absent));
      expect(first.current.username).to.equal(username1);
      expect(first.rotatedAt).to.be.a("string");

      const state = {
        current: { username: username2, password: generatePassword() },
        previous: { username: username1, password: first.current.password },
      };
      await pg.setPassword(username2, state.current.password);
      await life.apply({ ...inputs, state });
      const adopted = remember(life.outputs);
      expect(adopted.current).to.deep.equal(state.current);

      // The pair replaced (adopting both users): its initialState is gone, the state stays.
      expect((await life.apply(absent)).changes).to.equal(false);
      expect(life.outputs).to.deep.equal(adopted);
      await life.apply({ ...absent, rotationTrigger: "2" });
      const rotated = remember(life.outputs);
      expect(rotated.current.username).to.equal(username1);
      expect(rotated.previous).to.deep.equal(state.current);
      expect(await pg.canLogin(username1, rotated.current.password)).to.equal(true);
      expect(await pg.canLogin(username2, state.current.password)).to.equal(true);
    });

    it("adopts a new state given later, after checking it logs in", async () => {
      const inputs = await freshInputs();
      const { username1, username2 } = inputs.rotateUsers;
      const life = new Lifecycle(provider);
      remember(await life.create(inputs));
      const state = { current: { username: username2, password: generatePassword() } };
      await pg.setPassword(username2, state.current.password);
      await life.apply({ ...inputs, state });
      expect(life.outputs!.current).to.deep.equal(state.current);
      expect(life.outputs!.previous).to.deep.equal({ username: username1 });
    });

    it("refuses to adopt a state whose current user does not log in", async () => {
      const inputs = await freshInputs();
      const state = {
        current: { username: inputs.rotateUsers.username1, password: generatePassword() },
      };
      const error = await rejection(provider.create({ ...inputs, state }));
      expect(error).to.be.instanceOf(CurrentCredentialsError);
      expect(error.message).to.include(`"${inputs.rotateUsers.username1}" no longer log in`);
      expectNoSecrets(renderings(error), [...seen, state.current.password]);
    });

    it("refresh confirms working credentials and says clearly when they stopped working", async () => {
      const inputs = await freshInputs();
      const life = new Lifecycle(provider);
      const outputs = remember(await life.create(inputs));
      const read = await provider.read!(life.id, outputs);
      expect(read).to.deep.equal({ id: life.id, props: outputs });

      const outOfBand = generatePassword();
      await pg.setPassword(outputs.current.username, outOfBand);
      const error = await rejection(provider.read!(life.id, outputs));
      expect(error).to.be.instanceOf(CurrentCredentialsError);
      expect(error.message)
        .to.match(/no longer log in/)
        .and.match(/rotationTrigger/);
      expectNoSecrets(renderings(error), [...seen, outOfBand]);

      // Rotating recovers: the other user gets a password and becomes current.
      await life.apply({ ...inputs, rotationTrigger: "2" });
      const recovered = remember(life.outputs);
      expect(await pg.canLogin(recovered.current.username, recovered.current.password)).to.equal(
        true,
      );
    });

    it("delete leaves both users and their passwords in place", async () => {
      const inputs = await freshInputs();
      const life = new Lifecycle(provider);
      remember(await life.create(inputs));
      await life.apply({ ...inputs, rotationTrigger: "2" });
      const outputs = remember(life.outputs);
      await provider.delete!(life.id, outputs);
      expect(await pg.canLogin(outputs.current.username, outputs.current.password)).to.equal(true);
      expect(await pg.canLogin(outputs.previous.username, outputs.previous.password)).to.equal(
        true,
      );
    });

    it("a failed rotation keeps current valid, and the next run converges", async () => {
      const inputs = await freshInputs();
      const life = new Lifecycle(provider);
      const before = remember(await life.create(inputs));
      const target = quoteIdentifier(inputs.rotateUsers.username2);
      // The new password gets set, but the login that proves it fails.
      await pg.asSuperuser((c) => c.query(`ALTER ROLE ${target} CONNECTION LIMIT 0`));
      const error = await rejection(life.apply({ ...inputs, rotationTrigger: "2" }));
      expect(error).to.be.instanceOf(VerificationError);
      expect(error.message).to.match(/was changed, but logging in with it failed/);
      expectNoSecrets(renderings(error), [...seen]);
      expect(life.outputs).to.deep.equal(before);
      expect(await pg.canLogin(before.current.username, before.current.password)).to.equal(true);

      await pg.asSuperuser((c) => c.query(`ALTER ROLE ${target} CONNECTION LIMIT -1`));
      await life.apply({ ...inputs, rotationTrigger: "2" });
      const after = remember(life.outputs);
      expect(after.current.username).to.equal(inputs.rotateUsers.username2);
      expect(await pg.canLogin(after.current.username, after.current.password)).to.equal(true);
      expect(await pg.canLogin(before.current.username, before.current.password)).to.equal(true);
    });

    it("a wrong managing password changes nothing, and the right one converges", async () => {
      const inputs = await freshInputs();
      const life = new Lifecycle(provider);
      const before = remember(await life.create(inputs));
      const wrong = { ...pg.manager, password: generatePassword() };
      const error = await rejection(
        life.apply({
          ...inputs,
          database: { ...pg.database, managingUser: wrong },
          rotationTrigger: "2",
        }),
      );
      expect(error).to.be.instanceOf(AuthenticationError);
      expect(error.message).to.include("managing user");
      expectNoSecrets(renderings(error), [...seen, wrong.password]);
      expect(life.outputs).to.deep.equal(before);
      await life.apply({ ...inputs, rotationTrigger: "2" });
      expect(remember(life.outputs).current.username).to.equal(inputs.rotateUsers.username2);
    });

    it("rotates users with hostile names and injects nothing", async () => {
      const canary = await pg.createPair();
      const canaryPassword = generatePassword();
      await pg.setPassword(canary.username1, canaryPassword);
      const hostile = [
        [`quote"d'user`, "with space"],
        ["ÜñïçødÉ_用户", "UPPER_Case"],
        [
          `x'; ALTER ROLE "${canary.username1}" PASSWORD 'pwned'; --`,
          `y"; DROP ROLE "${canary.username1}"; --`,
        ],
        ["$1", "back\\slash$$dollar"],
      ];
      for (const [username1, username2] of hostile) {
        const rotateUsers = await pg.createPair(username1, username2);
        const life = new Lifecycle(provider);
        const inputs = { database: pg.database, rotateUsers, rotationTrigger: "1" };
        const first = remember(await life.create(inputs));
        await life.apply({ ...inputs, rotationTrigger: "2" });
        const second = remember(life.outputs);
        expect(first.current.username).to.equal(username1);
        expect(second.current.username).to.equal(username2);
        expect(await pg.canLogin(username1, first.current.password)).to.equal(true);
        expect(await pg.canLogin(username2, second.current.password)).to.equal(true);
      }
      expect(await pg.canLogin(canary.username1, canaryPassword)).to.equal(true);
    });

    describe("bad input", () => {
      let inputs: RotationInputs;
      before(async () => {
        inputs = await freshInputs();
      });
      const cases: [string, (i: RotationInputs) => unknown, RegExp][] = [
        [
          "an empty host",
          (i) => ({ ...i, database: { ...i.database, host: "" } }),
          /database\.host/,
        ],
        [
          "port 70000",
          (i) => ({ ...i, database: { ...i.database, port: 70000 } }),
          /database\.port/,
        ],
        [
          "the same user twice",
          (i) => ({ ...i, rotateUsers: { username1: "a", username2: "a" } }),
          /two different roles/,
        ],
        [
          "the manager as a rotated user",
          (i) => ({ ...i, rotateUsers: { username1: pg.manager.username, username2: "b" } }),
          /managing user/,
        ],
        [
          "a 64-byte name",
          (i) => ({ ...i, rotateUsers: { username1: "x".repeat(64), username2: "b" } }),
          /63 bytes/,
        ],
        [
          "a NUL in a name",
          (i) => ({ ...i, rotateUsers: { username1: "a\0", username2: "b" } }),
          /NUL/,
        ],
        [
          "a foreign state",
          (i) => ({ ...i, state: { current: { username: "z", password: "p" } } }),
          /neither/,
        ],
      ];
      for (const [label, mutate, message] of cases) {
        it(`fails on ${label} before contacting the server`, async () => {
          const bad = mutate(inputs) as RotationInputs;
          const checked = await provider.check!({}, bad);
          expect(checked.failures?.map((f) => f.reason).join("\n")).to.match(message);
          const logBefore = pg.server.readLog().length;
          const error = await rejection(provider.create(bad));
          expect(error).to.be.instanceOf(ValidationError);
          expect(error.message).to.match(message);
          expectNoSecrets(renderings(error), [pg.manager.password]);
          expect(pg.server.readLog().length, "the server saw nothing").to.equal(logBefore);
        });
      }
    });

    it("the server log (log_statement = all) holds none of the passwords", async () => {
      // Self-contained: the passwords of this test's own rotations, adoption and failures.
      const from = pg.server.readLog().length;
      const passwords = [pg.manager.password];
      const inputs = await freshInputs();
      const life = new Lifecycle(provider);
      passwords.push((await life.create(inputs)).current.password);
      for (const trigger of ["2", "3"]) {
        await life.apply({ ...inputs, rotationTrigger: trigger });
        passwords.push(life.outputs!.current.password);
      }
      const adoptedPair = await freshInputs();
      const state = {
        current: { username: adoptedPair.rotateUsers.username2, password: generatePassword() },
      };
      await pg.setPassword(state.current.username, state.current.password);
      passwords.push(state.current.password);
      const adopted = new Lifecycle(provider);
      await adopted.create({ ...adoptedPair, state });
      await adopted.apply({ ...adoptedPair, state, rotationTrigger: "2" });
      passwords.push(adopted.outputs!.current.password);
      const wrong = generatePassword();
      passwords.push(wrong);
      await rejection(
        provider.create({
          ...(await freshInputs()),
          database: { ...pg.database, managingUser: { ...pg.manager, password: wrong } },
        }),
      );
      const log = pg.server.readLog().slice(from);
      expect(log).to.include("ALTER ROLE");
      expect(log).to.include("SCRAM-SHA-256$");
      expect(log).to.include("password authentication failed");
      expectNoSecrets(log, passwords);
    });
  });
}

/** Serializes the provider of the installed package, exactly as `pulumi.dynamic.Resource` does. */
const SERIALIZE = serializeProviderScript("postgresRotationProvider");

/** Loads serialized provider text the way Pulumi's dynamic provider host does, then runs steps. */
const PROVIDER_HOST = providerHostScript(`
  const results = [];
  const created = await provider.create(inputs);
  results.push(created.outs);
  const bumped = { ...inputs, rotationTrigger: "2" };
  const updated = await provider.update(created.id, created.outs, bumped);
  results.push(updated.outs);
  const wrong = { ...bumped, rotationTrigger: "3",
    database: { ...inputs.database, managingUser: { ...inputs.database.managingUser, password: "wrong-" + Date.now() } } };
  try {
    await provider.update(created.id, updated.outs, wrong);
    results.push({ error: null });
  } catch (error) {
    results.push({ error: { name: error.name, message: error.message } });
  }
  process.stdout.write(JSON.stringify(results));
`);

describe("postgresRotationProvider's refresh of a server that never answers", () => {
  it("gives up after the outputs' timeouts.connectSeconds", async function () {
    this.timeout(10_000); // without its timeouts the refresh would wait for ever
    const sockets: net.Socket[] = [];
    const silent = net.createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const port = (silent.address() as net.AddressInfo).port;
    const inputs: RotationInputs = {
      database: {
        host: "127.0.0.1",
        port,
        database: "app",
        managingUser: { username: "manager", password: generatePassword() },
        ssl: { mode: "disable" },
      },
      rotateUsers: { username1: "app_1", username2: "app_2" },
      timeouts: { connectSeconds: 0.5 },
    };
    const current = { username: "app_1", password: generatePassword() };
    const outputs = buildOutputs(
      resolveInputs(inputs),
      { current, previous: { username: "app_2" } },
      undefined,
    );
    const started = Date.now();
    try {
      const error = await rejection(provider.read!("id", outputs));
      expect(error).to.be.instanceOf(ConnectionError);
      expect(error.message).to.match(/timeouts\.connectSeconds/);
      expect(Date.now() - started).to.be.below(5000);
      expectNoSecrets(renderings(error), [current.password]);
    } finally {
      sockets.forEach((s) => s.destroy());
      silent.close();
    }
  });
});

describe("postgresRotationProvider as Pulumi stores and runs it", function () {
  this.timeout(120_000);
  let installed: InstalledPackage;
  let text: string;
  const newest = TEST_MAJORS[TEST_MAJORS.length - 1];
  before(async () => {
    installed = installPackedPackage();
    text = await installed.run(SERIALIZE);
  });
  after(() => installed?.remove());

  it("serializes to a small text that loads the installed package by name", () => {
    // Installed under node_modules: stored as a require of the provider module by name, no code.
    expect(text).to.match(
      /require\("pulumi-postgres-rotator\/(dist\/)?provider\/postgresRotation\/postgresRotationProvider(\.js)?"\)/,
    );
    expect(text.length, "serialized provider budget").to.be.below(400);
  });

  it("holds no secret of a resource registered with secret inputs", async () => {
    const secrets = ["manager-pw-31c9", "state-pw-current-7a0d", "state-pw-previous-e4b2"];
    const args = {
      database: {
        host: "db.internal",
        database: "app",
        managingUser: { username: "rotation_manager", password: secrets[0] },
      },
      rotateUsers: { username1: "app_1", username2: "app_2" },
      state: {
        current: { username: "app_1", password: secrets[1] },
        previous: { username: "app_2", password: secrets[2] },
      },
      rotationTrigger: "1",
    };
    const registered = JSON.parse(
      await installed.run(registeredProviderScript("PostgresRotation", JSON.stringify(args))),
    ) as { text: string };
    expect(registered.text).to.match(
      /require\("pulumi-postgres-rotator\/(dist\/)?provider\/postgresRotation\/postgresRotationProvider(\.js)?"\)/,
    );
    expectNoSecrets(registered.text, secrets);
  });

  it(`rotates from that text in a separate process (PostgreSQL ${newest})`, async () => {
    const pg = await cluster(newest);
    const inputs = {
      database: pg.database,
      rotateUsers: await pg.createPair(),
      rotationTrigger: "1",
    };
    const output = await installed.run(PROVIDER_HOST, JSON.stringify({ text, inputs }));
    const [first, second, failed] = JSON.parse(output) as [
      RotationOutputs,
      RotationOutputs,
      { error: { name: string; message: string } },
    ];
    expect(first.current.username).to.equal(inputs.rotateUsers.username1);
    expect(second.current.username).to.equal(inputs.rotateUsers.username2);
    expect(await pg.canLogin(second.current.username, second.current.password)).to.equal(true);
    expect(await pg.canLogin(second.previous.username, second.previous.password)).to.equal(true);
    // Errors keep their class name and message across the process boundary.
    expect(failed.error.name).to.equal("AuthenticationError");
    expect(failed.error.message).to.match(
      /logging in as the managing user "rotation_manager".*password authentication failed/,
    );
  });
});

/**
 * Model-based: random sequences of what users do to a `PostgresRotation`, each step checked
 * against the invariants of zero-downtime rotation on a real server.
 */
describe("postgresRotationProvider under random operation sequences", function () {
  this.timeout(180_000);
  const newest = TEST_MAJORS[TEST_MAJORS.length - 1];

  interface World {
    pg: TestCluster;
    life: Lifecycle;
    inputs: RotationInputs;
    trigger: number;
  }

  /** Applies `next` and checks what must hold whatever the step was. */
  async function step(world: World, next: RotationInputs, expectRotation: boolean) {
    const before = world.life.outputs!;
    await world.life.apply(next);
    world.inputs = next;
    const after = world.life.outputs!;
    const { pg } = world;
    // The credentials apps used before the step still work: current is never touched.
    expect(await pg.canLogin(before.current.username, before.current.password)).to.equal(true);
    expect(await pg.canLogin(after.current.username, after.current.password)).to.equal(true);
    if (after.previous.password !== undefined) {
      expect(await pg.canLogin(after.previous.username, after.previous.password)).to.equal(true);
    }
    if (expectRotation) {
      expect(after.current.username).to.equal(before.previous.username);
      expect(after.previous).to.deep.equal(before.current);
      expect(after.current.password).to.not.equal(before.current.password);
    } else {
      expect(after.current).to.deep.equal(before.current);
    }
  }

  class Rotate implements fc.AsyncCommand<object, World> {
    check = () => true;
    async run(_: object, world: World) {
      world.trigger += 1;
      await step(world, { ...world.inputs, rotationTrigger: world.trigger }, true);
    }
    toString = () => "rotate";
  }
  class ChangeSettings implements fc.AsyncCommand<object, World> {
    constructor(readonly connectSeconds: number) {}
    check = () => true;
    async run(_: object, world: World) {
      await step(
        world,
        { ...world.inputs, timeouts: { connectSeconds: this.connectSeconds } },
        false,
      );
    }
    toString = () => `settings(${this.connectSeconds})`;
  }
  class SwapPair implements fc.AsyncCommand<object, World> {
    check = () => true;
    async run(_: object, world: World) {
      const { username1, username2 } = world.inputs.rotateUsers;
      await step(
        world,
        { ...world.inputs, rotateUsers: { username1: username2, username2: username1 } },
        false,
      );
    }
    toString = () => "swap";
  }
  class Refresh implements fc.AsyncCommand<object, World> {
    check = () => true;
    async run(_: object, world: World) {
      const read = await provider.read!(world.life.id, world.life.outputs!);
      expect(read.props).to.deep.equal(world.life.outputs);
    }
    toString = () => "refresh";
  }
  class Rerun implements fc.AsyncCommand<object, World> {
    check = () => true;
    async run(_: object, world: World) {
      const diff = await world.life.apply(world.inputs);
      expect(diff.changes).to.equal(false);
    }
    toString = () => "rerun";
  }

  it(`keeps every invariant on PostgreSQL ${newest}`, async () => {
    const pg = await cluster(newest);
    const commands = fc.commands(
      [
        fc.constant(new Rotate()),
        fc.integer({ min: 1, max: 20 }).map((s) => new ChangeSettings(s)),
        fc.constant(new SwapPair()),
        fc.constant(new Refresh()),
        fc.constant(new Rerun()),
      ],
      { maxCommands: 8 },
    );
    await fc.assert(
      fc.asyncProperty(commands, async (cmds) => {
        const inputs = {
          database: pg.database,
          rotateUsers: await pg.createPair(),
          rotationTrigger: 0,
        };
        const life = new Lifecycle(provider);
        await life.create(inputs);
        await fc.asyncModelRun(() => ({ model: {}, real: { pg, life, inputs, trigger: 0 } }), cmds);
      }),
      { numRuns: 12 },
    );
  });
});
