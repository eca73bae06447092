/**
 * ESC as the source of truth for `PostgresRotation`'s state: the provider's handlers, real
 * PostgreSQL, and the local ESC stand-in (real `@pulumi/esc-sdk` client), whose `rotate`
 * endpoint rotates through the bundled connector Lambda handler the way the service does.
 */
import * as path from "node:path";
import { expect } from "chai";
import * as handlers from "../../../provider/postgresRotation/handlers";
import * as escHandlers from "../../../provider/escEnvironment/handlers";
import type * as HandlerModule from "../../../provider/connector/lambdaHandler";
import type { RotationOutputs } from "../../../provider/core/outputs";
import type { RotationInputs } from "../../../provider/core/types";
import { lastEscRotation } from "../../../provider/core/rotateAfter";
import { generatePassword } from "../../../provider/core/password";
import { escClient } from "../../../provider/esc/client";
import { escRotationHistory } from "../../../provider/esc/rotationHistory";
import {
  credentialsEnvironmentYaml,
  rotatorEnvironmentYaml,
  stateFromOpenedValue,
  withRotatorState,
} from "../../../provider/esc/documents";
import { EscConflictError, EscError, StateMismatchError } from "../../../provider/errors";
import { ESC_TOKEN, startEscStandIn, type EscStandIn } from "../../support/escStandIn";
import { Lifecycle } from "../../support/provider";
import { rejection } from "../../support/secrets";
import { cluster, SUPPORTED_MAJORS, type TestCluster } from "../../support/servers";

const BUNDLE = path.join(__dirname, "..", "..", "..", "dist", "lambda", "index.js");

const bundle = require(BUNDLE) as typeof HandlerModule;

describe("PostgresRotation with its state in ESC (stand-in + real PostgreSQL)", function () {
  let pg: TestCluster;
  let api: EscStandIn;
  let counter = 0;
  const savedToken = process.env.PULUMI_ACCESS_TOKEN;

  before(async () => {
    pg = await cluster(SUPPORTED_MAJORS[SUPPORTED_MAJORS.length - 1]);
    api = await startEscStandIn();
    api.connector = (event) => bundle.handleEvent(event, { PGSSLMODE: "disable" }, () => undefined);
    process.env.PULUMI_ACCESS_TOKEN = ESC_TOKEN;
    await escHandlers.create({
      organization: "acme",
      project: "payments",
      name: "credentials",
      yaml: credentialsEnvironmentYaml({ managingUser: pg.manager }),
      apiUrl: api.url,
    });
  });
  after(async () => {
    if (savedToken === undefined) delete process.env.PULUMI_ACCESS_TOKEN;
    else process.env.PULUMI_ACCESS_TOKEN = savedToken;
    await api?.close();
  });

  /** A fresh pair, its rotator environment, and inputs pointing at both. */
  async function setUp() {
    counter += 1;
    const pair = await pg.createPair();
    const environment = `rotator-${counter}`;
    await escHandlers.create({
      organization: "acme",
      project: "payments",
      name: environment,
      yaml: rotatorEnvironmentYaml({
        credentials: { project: "payments", environment: "credentials" },
        database: { host: pg.server.host, port: pg.server.port, database: "app" },
        rotateUsers: pair,
      }),
      apiUrl: api.url,
      rotatorKey: "dbRotator",
    });
    const name = `acme/payments/${environment}`;
    const inputs = (trigger: string): RotationInputs => ({
      database: pg.database,
      rotateUsers: pair,
      rotationTrigger: trigger,
      esc: {
        organization: "acme",
        project: "payments",
        environment,
        accessToken: ESC_TOKEN,
        apiUrl: api.url,
      },
    });
    const escState = async () =>
      stateFromOpenedValue(
        await escClient({
          organization: "acme",
          project: "payments",
          environment,
          apiUrl: api.url,
        }).openValue("dbRotator"),
      );
    return { pair, name, inputs, escState, life: new Lifecycle(handlers) };
  }

  const stateOf = (o: RotationOutputs) => ({ current: o.current, previous: o.previous });

  it("Pulumi rotates, ESC rotates twice, Pulumi rotates: all known, all working, all equal", async () => {
    const { pair, name, inputs, escState, life } = await setUp();
    await life.create(inputs("1"));
    expect(life.outputs!.current.username).to.equal(pair.username1);
    expect(await escState()).to.deep.equal(stateOf(life.outputs!));

    await api.rotate(name); // ESC: username2
    await api.rotate(name); // ESC: username1 again
    const afterEsc = (await escState())!;
    expect(afterEsc.current.username).to.equal(pair.username1);
    expect(afterEsc.current.password).to.not.equal(life.outputs!.current.password);

    await life.apply(inputs("2"));
    const outputs = life.outputs!;
    expect(outputs.current.username).to.equal(pair.username2);
    expect(outputs.previous).to.deep.equal(afterEsc.current);
    expect(await pg.canLogin(outputs.current.username, outputs.current.password)).to.equal(true);
    expect(await pg.canLogin(outputs.previous.username, outputs.previous.password)).to.equal(true);
    expect(await escState()).to.deep.equal(stateOf(outputs));
    // ESC saw Pulumi's write as one more revision, its password encrypted at rest.
    expect(api.stored(name)).to.not.include(outputs.current.password);
  });

  describe("rotateAfter measured from ESC's rotation history", () => {
    const HOUR = 3_600_000;
    const historyCalls = () =>
      api.requests.filter((r) => r.method === "GET" && r.path.endsWith("/rotate/history")).length;
    /**
     * The diff as the engine asks for it, with outputs claiming the last rotation was `age` ago
     * (milliseconds), or at `age` (a time).
     */
    async function diffAged(
      life: Lifecycle,
      news: RotationInputs,
      age: number | Date,
    ): Promise<{ changes?: boolean; warned: string[] }> {
      const warned: string[] = [];
      const savedWarn = console.warn;
      console.warn = (line: string) => warned.push(line);
      try {
        const at = typeof age === "number" ? new Date(Date.now() - age) : age;
        const olds = { ...life.outputs!, rotatedAt: at.toISOString() };
        return { ...(await handlers.diff(life.id, olds, news)), warned };
      } finally {
        console.warn = savedWarn;
      }
    }

    it("an ESC rotation since the outputs' old one makes the password young: no update", async () => {
      const { name, inputs, life } = await setUp();
      const aged = { ...inputs("1"), rotateAfter: "1h" };
      await life.create(aged);
      const before = historyCalls();
      expect((await diffAged(life, aged, 3 * HOUR)).changes).to.equal(true);
      expect(historyCalls()).to.equal(before + 1);

      await api.rotate(name); // ESC rotates now: its history records the time
      const after = await diffAged(life, aged, 3 * HOUR);
      expect(after.changes).to.equal(false);
      expect(after.warned).to.deep.equal([]);
    });

    it("ESC is not asked while the outputs alone say the password is young", async () => {
      const { inputs, life } = await setUp();
      const aged = { ...inputs("1"), rotateAfter: "1h" };
      await life.create(aged);
      const before = historyCalls();
      expect((await diffAged(life, aged, 10 * 60_000)).changes).to.equal(false);
      expect(historyCalls()).to.equal(before);
    });

    it("an old ESC rotation counts as the last one: the reason names ESC's time", async () => {
      const { name, inputs, life } = await setUp();
      const aged = { ...inputs("1"), rotateAfter: "1h" };
      await life.create(aged);
      await api.rotate(name);
      const saved = process.env.PULUMI_POSTGRES_ROTATOR_TEST_CLOCK_AHEAD;
      process.env.PULUMI_POSTGRES_ROTATOR_TEST_CLOCK_AHEAD = "2h";
      try {
        const due = await diffAged(life, aged, 5 * HOUR);
        expect(due.changes).to.equal(true);
        expect(due.warned.at(-1)).to.match(
          /the password is 2h old .*; ESC last rotated values\.dbRotator at /,
        );
      } finally {
        if (saved === undefined) delete process.env.PULUMI_POSTGRES_ROTATOR_TEST_CLOCK_AHEAD;
        else process.env.PULUMI_POSTGRES_ROTATOR_TEST_CLOCK_AHEAD = saved;
      }
    });

    it("an ESC rotation no later than the outputs' own is not named in the reason", async () => {
      const { name, inputs, life } = await setUp();
      const aged = { ...inputs("1"), rotateAfter: "1h" };
      await life.create(aged);
      await api.rotate(name);
      const escTime = lastEscRotation(await escRotationHistory(aged.esc!), "dbRotator")!;
      const saved = process.env.PULUMI_POSTGRES_ROTATOR_TEST_CLOCK_AHEAD;
      process.env.PULUMI_POSTGRES_ROTATOR_TEST_CLOCK_AHEAD = "2h";
      try {
        // The outputs record a rotation at the very time of ESC's, then one just after it.
        for (const ours of [escTime, new Date(escTime.getTime() + 60_000)]) {
          const due = await diffAged(life, aged, ours);
          expect(due.changes).to.equal(true);
          expect(due.warned.at(-1)).to.match(/the password is 1h 5\dm old|the password is 2h old/);
          expect(due.warned.at(-1)).to.not.include("ESC last rotated");
        }
      } finally {
        if (saved === undefined) delete process.env.PULUMI_POSTGRES_ROTATOR_TEST_CLOCK_AHEAD;
        else process.env.PULUMI_POSTGRES_ROTATOR_TEST_CLOCK_AHEAD = saved;
      }
    });

    it("a history ESC will not give fails the diff with an EscError without the token", async () => {
      const { inputs, life } = await setUp();
      const aged = { ...inputs("1"), rotateAfter: "1h" };
      await life.create(aged);
      api.beforeRequest = (_method, path) =>
        path.endsWith("/rotate/history")
          ? { status: 500, message: `boom ${ESC_TOKEN}` }
          : undefined;
      try {
        const error = await rejection(diffAged(life, aged, 3 * HOUR));
        expect(error).to.be.instanceOf(EscError);
        expect(error.message).to.include("reading the rotation history of ESC environment");
        expect(error.message).to.include("HTTP 500");
        expect(error.message).to.not.include(ESC_TOKEN);
      } finally {
        api.beforeRequest = undefined;
      }
    });
  });

  it("refresh takes ESC's newer state once it logs in", async () => {
    const { name, inputs, escState, life } = await setUp();
    await life.create(inputs("1"));
    await api.rotate(name);
    const { props } = await handlers.read(life.id, life.outputs!);
    expect(stateOf(props as RotationOutputs)).to.deep.equal(await escState());
  });

  it("refresh keeps the outputs while ESC holds no state for the pair", async () => {
    const { pair, name, life, inputs } = await setUp();
    await life.create(inputs("1"));
    // The rotator environment written again without its state (an EscEnvironment update).
    api.write(
      name,
      rotatorEnvironmentYaml({
        credentials: { project: "payments", environment: "credentials" },
        database: { host: pg.server.host, port: pg.server.port, database: "app" },
        rotateUsers: pair,
      }),
    );
    expect(await handlers.read(life.id, life.outputs!)).to.deep.equal({
      id: life.id,
      props: life.outputs,
    });
  });

  it("refresh takes ESC's state without a previous user: the other user, no password", async () => {
    const { pair, name, life, inputs } = await setUp();
    await life.create(inputs("1")); // current username1
    const current = { username: pair.username2, password: generatePassword() };
    await pg.setPassword(current.username, current.password);
    api.write(name, withRotatorState(api.stored(name)!, "dbRotator", { current }));
    const props = (await handlers.read(life.id, life.outputs!)).props as RotationOutputs;
    expect(stateOf(props)).to.deep.equal({ current, previous: { username: pair.username1 } });
    expect(props.currentUsername).to.equal(pair.username2);
    expect(props.previousUsername).to.equal(pair.username1);
  });

  it("refresh of a resource without esc asks no ESC, even with PULUMI_ACCESS_TOKEN set", async () => {
    const life = new Lifecycle(handlers);
    await life.create({ database: pg.database, rotateUsers: await pg.createPair() });
    const before = api.requests.length;
    expect(await handlers.read(life.id, life.outputs!)).to.deep.equal({
      id: life.id,
      props: life.outputs,
    });
    expect(api.requests.length).to.equal(before);
  });

  it("stops and changes nothing when ESC's current credentials do not log in", async () => {
    const { pair, name, inputs, escState, life } = await setUp();
    await life.create(inputs("1"));
    await api.rotate(name); // ESC: current username2, previous username1
    const esc = (await escState())!;
    await pg.setPassword(esc.current.username, "changed-behind-everyones-back-1");
    const error = await rejection(life.apply(inputs("2")));
    expect(error).to.be.instanceOf(StateMismatchError);
    expect(error.message).to.include(`("${pair.username2}") do not log in`);
    expect(error.message).to.include("nothing was changed");
    expect(await pg.canLogin(esc.previous!.username, esc.previous!.password)).to.equal(true);
    expect(await escState()).to.deep.equal(esc);
  });

  it("a concurrent ESC rotation makes the write fail with 409, loses nothing, and converges", async () => {
    const { name, inputs, escState, life } = await setUp();
    await life.create(inputs("1"));
    const before = life.outputs!;
    api.beforePatch = async (patched) => {
      if (patched !== name) return;
      api.beforePatch = undefined;
      await api.rotate(name); // ESC rotates the same user right after Pulumi did
    };
    const error = await rejection(life.apply(inputs("2")));
    expect(error).to.be.instanceOf(EscConflictError);
    expect(error.message).to.include("HTTP 409");
    expect(life.outputs).to.equal(before);
    const esc = (await escState())!;
    expect(await pg.canLogin(esc.current.username, esc.current.password)).to.equal(true);
    expect(await pg.canLogin(esc.previous!.username, esc.previous!.password)).to.equal(true);

    await life.apply(inputs("3"));
    expect(await escState()).to.deep.equal(stateOf(life.outputs!));
    expect(
      await pg.canLogin(life.outputs!.current.username, life.outputs!.current.password),
    ).to.equal(true);
  });

  it("gives ESC's current user its password back if a racing write left it broken", async () => {
    const { pair, name, inputs, escState, life } = await setUp();
    await life.create(inputs("1")); // current username1
    const escPassword = "esc-wrote-this-password-123456";
    api.beforePatch = (patched) => {
      if (patched !== name) return;
      api.beforePatch = undefined;
      // Another writer records username2 as current with a password the database never got
      // (its ALTER ran before ours): our change must not leave ESC's current broken.
      api.write(
        name,
        withRotatorState(api.stored(name)!, "dbRotator", {
          current: { username: pair.username2, password: escPassword },
          previous: life.outputs!.current,
        }),
      );
    };
    const error = await rejection(life.apply(inputs("2")));
    expect(error).to.be.instanceOf(EscConflictError);
    expect(error.message).to.include(`Our change to "${pair.username2}" was undone`);
    expect(await pg.canLogin(pair.username2, escPassword)).to.equal(true);
    expect((await escState())!.current.password).to.equal(escPassword);
  });

  it("updating the rotator environment's inputs keeps the newest state", async () => {
    const { pair, name, inputs, escState, life } = await setUp();
    await life.create(inputs("1"));
    await api.rotate(name);
    const esc = await escState();
    const environment = name.split("/")[2];
    const olds = (
      await escHandlers.read(name, {
        organization: "acme",
        project: "payments",
        name: environment,
        yaml: "",
        apiUrl: api.url,
        rotatorKey: "dbRotator",
        etag: "",
        contentHash: "",
      })
    ).props as escHandlers.EscEnvironmentOutputs;
    await escHandlers.update(name, olds, {
      ...olds,
      yaml: rotatorEnvironmentYaml({
        credentials: { project: "payments", environment: "credentials" },
        database: { host: pg.server.host, port: pg.server.port, database: "app" },
        rotateUsers: pair,
        state: life.outputs!.state ?? { current: life.outputs!.current },
      }),
    });
    expect(await escState()).to.deep.equal(esc);
  });
});
