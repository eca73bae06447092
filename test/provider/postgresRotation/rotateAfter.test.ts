/**
 * `rotateAfter` in `PostgresRotation`'s provider: the diff (which runs on preview and up) asks
 * for an update once the password is old enough and says why; the update then rotates. The
 * clock is moved only through the test-only variable, as the end-to-end test does.
 */
import { expect } from "chai";
import * as handlers from "../../../provider/postgresRotation/handlers";
import { buildOutputs, type RotationOutputs } from "../../../provider/core/outputs";
import { TEST_CLOCK_AHEAD_VARIABLE } from "../../../provider/core/rotateAfter";
import type { RotationInputs } from "../../../provider/core/types";
import { UNKNOWN, resolveInputs } from "../../../provider/core/validate";
import { ValidationError } from "../../../provider/errors";
import { generatePassword } from "../../../provider/core/password";
import { Lifecycle } from "../../support/provider";
import { expectNoSecrets, rejection } from "../../support/secrets";
import { cluster, SUPPORTED_MAJORS, type TestCluster } from "../../support/servers";

const HOUR = 3_600_000;
const ago = (ms: number) => new Date(Date.now() - ms).toISOString();

/** Runs `work` with the test clock moved `ahead` (or unset), capturing what the provider warns. */
async function withClock<T>(
  ahead: string | undefined,
  work: () => Promise<T>,
): Promise<{ result: T; warned: string[] }> {
  const saved = process.env[TEST_CLOCK_AHEAD_VARIABLE];
  const savedWarn = console.warn;
  const warned: string[] = [];
  if (ahead === undefined) delete process.env[TEST_CLOCK_AHEAD_VARIABLE];
  else process.env[TEST_CLOCK_AHEAD_VARIABLE] = ahead;
  console.warn = (line: string) => warned.push(line);
  try {
    return { result: await work(), warned };
  } finally {
    console.warn = savedWarn;
    if (saved === undefined) delete process.env[TEST_CLOCK_AHEAD_VARIABLE];
    else process.env[TEST_CLOCK_AHEAD_VARIABLE] = saved;
  }
}

describe("rotateAfter in PostgresRotation's diff (no database)", () => {
  const managerPassword = "manager-pw-3f9a";
  const current = { username: "app_1", password: "current-pw-8c1d" };
  const previous = { username: "app_2", password: "previous-pw-02be" };
  const inputs: RotationInputs = {
    database: {
      host: "db.internal",
      database: "app",
      managingUser: { username: "manager", password: managerPassword },
      ssl: { mode: "disable" },
    },
    rotateUsers: { username1: "app_1", username2: "app_2" },
    rotationTrigger: "1",
    rotateAfter: "1h",
  };
  const outputs = (times: { rotatedAt?: string; adoptedAt?: string }): RotationOutputs =>
    buildOutputs(
      resolveInputs(inputs),
      { current, previous },
      times.rotatedAt,
      {},
      times.adoptedAt,
    );
  const diff = (olds: RotationOutputs, news: RotationInputs, ahead?: string) =>
    withClock(ahead, () => handlers.diff("id", olds, news));

  it("asks for an update once the password is older than rotateAfter, and says why", async () => {
    const { result, warned } = await diff(outputs({ rotatedAt: ago(2 * HOUR) }), inputs);
    expect(result).to.deep.equal({ changes: true });
    expect(warned).to.have.length(1);
    expect(warned[0]).to.match(
      /^rotateAfter: rotating app_1\/app_2 on db\.internal\/app \(current "app_1"\): the password is 2h(?: 0m| 1m)? old \(set .*\), rotateAfter is 1h$/,
    );
    expectNoSecrets(warned.join("\n"), [managerPassword, current.password, previous.password]);
  });

  it("asks for nothing while the password is younger", async () => {
    const { result, warned } = await diff(outputs({ rotatedAt: ago(30 * 60_000) }), inputs);
    expect(result).to.deep.equal({ changes: false });
    expect(warned).to.deep.equal([]);
  });

  it("measures from adoptedAt when the adopted state was never rotated", async () => {
    expect((await diff(outputs({ adoptedAt: ago(30 * 60_000) }), inputs)).result.changes).to.equal(
      false,
    );
    expect((await diff(outputs({ adoptedAt: ago(3 * HOUR) }), inputs)).result.changes).to.equal(
      true,
    );
  });

  it("rotates a password whose age no output records", async () => {
    const { result, warned } = await diff(outputs({}), inputs);
    expect(result.changes).to.equal(true);
    expect(warned[0]).to.include("age is unknown");
  });

  it("the test clock moves ahead: a 30-minute-old password is due with the clock 1h ahead", async () => {
    const olds = outputs({ rotatedAt: ago(30 * 60_000) });
    const { result, warned } = await diff(olds, inputs, "1h");
    expect(result.changes).to.equal(true);
    expect(warned[0]).to.equal(
      `${TEST_CLOCK_AHEAD_VARIABLE}=1h: rotateAfter is measured 1h ahead of the real clock (for tests only)`,
    );
    expect(warned[1]).to.match(/the password is 1h 29m old|the password is 1h 30m old/);
  });

  it("a test clock that is no duration fails the diff, naming the variable", async () => {
    const error = await rejection(diff(outputs({ rotatedAt: ago(0) }), inputs, "-1h"));
    expect(error).to.be.instanceOf(ValidationError);
    expect(error.message).to.include(TEST_CLOCK_AHEAD_VARIABLE);
  });

  it("without rotateAfter, or while it is unknown (preview), age plays no part", async () => {
    const old = outputs({ rotatedAt: ago(1000 * HOUR) });
    const { rotateAfter: _, ...without } = inputs;
    void _;
    expect((await diff(old, without)).result).to.deep.equal({ changes: false });
    expect((await diff(old, { ...inputs, rotateAfter: UNKNOWN })).result).to.deep.equal({
      changes: false,
    });
    // Not even a password whose age no output records (with rotateAfter it would be due).
    expect(await diff(outputs({}), without)).to.deep.equal({
      result: { changes: false },
      warned: [],
    });
  });

  it("a rotateAfter that check refuses plays no part in the diff either", async () => {
    // The engine never diffs inputs check refused; the diff does not read them as a duration.
    const old = outputs({ rotatedAt: ago(2 * HOUR) });
    expect(await diff(old, { ...inputs, rotateAfter: "59m" })).to.deep.equal({
      result: { changes: false },
      warned: [],
    });
  });

  it("a changed trigger is an update whatever the age, without a word about age", async () => {
    const { result, warned } = await diff(outputs({ rotatedAt: ago(2 * HOUR) }), {
      ...inputs,
      rotationTrigger: "2",
    });
    expect(result).to.deep.equal({ changes: true });
    expect(warned).to.deep.equal([]);
  });

  it("changing rotateAfter alone is no update while the password is younger than both", async () => {
    const olds = outputs({ rotatedAt: ago(2 * HOUR) });
    expect((await diff(olds, { ...inputs, rotateAfter: "30d" })).result.changes).to.equal(false);
    expect((await diff(olds, { ...inputs, rotateAfter: "90m" })).result.changes).to.equal(true);
  });

  it("check refuses a rotateAfter under an hour, naming the input", async () => {
    const checked = await handlers.check({}, { ...inputs, rotateAfter: "59m" });
    expect(checked.failures).to.deep.equal([
      { property: "rotateAfter", reason: "rotateAfter must be at least 1h (60m)" },
    ]);
  });
});

describe("rotateAfter with a real PostgreSQL", function () {
  let pg: TestCluster;
  before(async () => {
    pg = await cluster(SUPPORTED_MAJORS[SUPPORTED_MAJORS.length - 1]);
  });

  it("the update rotates once the diff finds the password old; a younger one is left alone", async () => {
    const inputs: RotationInputs = {
      database: pg.database,
      rotateUsers: await pg.createPair(),
      rotationTrigger: "1",
      rotateAfter: "1h",
    };
    const life = new Lifecycle(handlers);
    const first = await life.create(inputs);
    expect(first.current.username).to.equal(inputs.rotateUsers.username1);

    const young = await withClock(undefined, () => life.apply(inputs));
    expect(young.result.changes).to.equal(false);
    expect(life.outputs).to.equal(first);

    const old = await withClock("2h", () => life.apply(inputs));
    expect(old.result.changes).to.equal(true);
    const second = life.outputs!;
    expect(second.current.username).to.equal(inputs.rotateUsers.username2);
    expect(second.previous).to.deep.equal(first.current);
    expect(second.rotatedAt! > first.rotatedAt!).to.equal(true);
    expect(await pg.canLogin(second.current.username, second.current.password)).to.equal(true);
    expect(await pg.canLogin(first.current.username, first.current.password)).to.equal(true);
  });

  it("an adopted state is aged from its adoption, then rotated when old", async () => {
    const rotateUsers = await pg.createPair();
    const state = {
      current: { username: rotateUsers.username1, password: generatePassword() },
      previous: { username: rotateUsers.username2, password: generatePassword() },
    };
    await pg.setPassword(state.current.username, state.current.password);
    await pg.setPassword(state.previous.username, state.previous.password);
    const inputs: RotationInputs = { database: pg.database, rotateUsers, state, rotateAfter: "1h" };
    const life = new Lifecycle(handlers);
    const adopted = await life.create(inputs);
    expect(adopted.rotatedAt).to.equal(undefined);
    expect(Date.now() - Date.parse(adopted.adoptedAt!)).to.be.within(0, 60_000);

    expect((await withClock(undefined, () => life.apply(inputs))).result.changes).to.equal(false);
    await withClock("1h", () => life.apply(inputs));
    const rotated = life.outputs!;
    expect(rotated.current.username).to.equal(rotateUsers.username2);
    expect(rotated.previous).to.deep.equal(state.current);
    expect(rotated.rotatedAt).to.be.a("string");
    expect(rotated).to.not.have.property("adoptedAt");
  });
});
