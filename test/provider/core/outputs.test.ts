import { expect } from "chai";
import {
  buildOutputs,
  changeViewOfInputs,
  changeViewOfOutputs,
  publicSettings,
} from "../../../provider/core/outputs";
import { planChange } from "../../../provider/core/plan";
import type { RotationInputs } from "../../../provider/core/types";
import { resolveInputs } from "../../../provider/core/validate";

const MANAGER_PASSWORD = "manager-pw-4f2a";

const inputs: RotationInputs = {
  database: {
    host: "db",
    database: "app",
    managingUser: { username: "m", password: MANAGER_PASSWORD },
  },
  rotateUsers: { username1: "a", username2: "b" },
  rotationTrigger: "1",
};

describe("buildOutputs", () => {
  const outputs = buildOutputs(
    resolveInputs(inputs),
    { current: { username: "a", password: "pa" }, previous: { username: "b" } },
    "2026-01-01T00:00:00.000Z",
  );

  it("records the credentials, the trigger and the time", () => {
    expect(outputs).to.deep.include({
      current: { username: "a", password: "pa" },
      previous: { username: "b" },
      currentUsername: "a",
      previousUsername: "b",
      rotationTrigger: "1",
      rotatedAt: "2026-01-01T00:00:00.000Z",
    });
  });

  it("never holds the managing user's password", () => {
    expect(JSON.stringify(outputs)).to.not.include(MANAGER_PASSWORD);
  });

  it("diffs as unchanged against the inputs that produced it, defaults or not", () => {
    expect(planChange(changeViewOfOutputs(outputs), changeViewOfInputs(inputs))).to.deep.equal({
      kind: "none",
    });
    const explicit = { ...inputs, database: { ...inputs.database, port: 5432 } };
    expect(planChange(changeViewOfOutputs(outputs), changeViewOfInputs(explicit)).kind).to.equal(
      "none",
    );
  });

  it("sees a null state (a PostgresUserPair's absent initialState) as no change: it keeps its own", () => {
    const adopted = buildOutputs(
      resolveInputs({ ...inputs, state: { current: { username: "a", password: "pa" } } }),
      { current: { username: "a", password: "pa" }, previous: { username: "b" } },
      undefined,
    );
    const absent = { ...inputs, state: null } as unknown as RotationInputs;
    expect(planChange(changeViewOfOutputs(adopted), changeViewOfInputs(absent))).to.deep.equal({
      kind: "none",
    });
  });

  it("sees a changed managing password as no change at all", () => {
    const changed = {
      ...inputs,
      database: { ...inputs.database, managingUser: { username: "m", password: "other" } },
    };
    expect(planChange(changeViewOfOutputs(outputs), changeViewOfInputs(changed)).kind).to.equal(
      "none",
    );
  });

  it("sees TLS changes as an update without rotation", () => {
    const changed = {
      ...inputs,
      database: { ...inputs.database, ssl: { mode: "require" as const } },
    };
    expect(planChange(changeViewOfOutputs(outputs), changeViewOfInputs(changed))).to.deep.equal({
      kind: "update",
      repair: false,
      adopt: false,
      rotate: false,
    });
  });
});

describe("publicSettings", () => {
  it("tolerates incomplete inputs", () => {
    expect(() => publicSettings({})).to.not.throw();
  });
});

describe("publicSettings on partial and hostile input", () => {
  it("fills every default, and never carries a password or a token", () => {
    expect(publicSettings({})).to.deep.equal({
      database: {
        host: undefined,
        port: 5432,
        database: undefined,
        managingUser: { username: undefined },
        ssl: { mode: "verify-full" },
      },
      passwordPolicy: {
        length: 32,
        characters: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~",
      },
      scramIterations: 4096,
      timeouts: { connectSeconds: 10, statementSeconds: 30, lockSeconds: 60 },
      liveSessions: "refuse",
      ownership: "warn",
      liveSessionsIdleSeconds: 3600,
    });
    const full = publicSettings({
      database: {
        host: "h",
        port: 6432,
        database: "d",
        managingUser: { username: "m", password: MANAGER_PASSWORD },
        ssl: { mode: "verify-ca", ca: "PEM" },
        connector: {
          awsLambda: { lambdaArn: "arn:aws:lambda:eu-west-1:123456789012:function:f" },
        },
      },
      esc: { organization: "o", project: "p", environment: "e", accessToken: "tok-secret" },
      scramIterations: 8192,
      timeouts: { connectSeconds: 1, statementSeconds: 2, lockSeconds: 3 },
      liveSessions: "warn",
      ownership: "refuse",
    });
    expect(full.database).to.deep.equal({
      host: "h",
      port: 6432,
      database: "d",
      managingUser: { username: "m" },
      ssl: { mode: "verify-ca", ca: "PEM" },
      connector: {
        awsLambda: {
          lambdaArn: "arn:aws:lambda:eu-west-1:123456789012:function:f",
          region: "eu-west-1",
        },
      },
    });
    expect(full.esc).to.deep.equal({
      organization: "o",
      project: "p",
      environment: "e",
      key: "dbRotator",
    });
    expect(full).to.deep.include({
      scramIterations: 8192,
      liveSessions: "warn",
      ownership: "refuse",
    });
    expect(full.timeouts).to.deep.equal({ connectSeconds: 1, statementSeconds: 2, lockSeconds: 3 });
    expect(JSON.stringify(full)).to.not.include(MANAGER_PASSWORD).and.not.include("tok-secret");
  });

  it("ignores a connector without an ARN and an esc that is not an object", () => {
    const odd = publicSettings({
      database: { connector: { awsLambda: {} } } as never,
      esc: "o/p/e" as never,
    });
    expect(odd.database).to.not.have.property("connector");
    expect(odd).to.not.have.property("esc");
    expect(publicSettings({ esc: null as never })).to.not.have.property("esc");
  });

  it("keeps an esc key given, and an empty CA out", () => {
    const kept = publicSettings({
      esc: { organization: "o", project: "p", environment: "e", key: "k" },
      database: { ssl: { mode: "require", ca: "" } } as never,
    });
    expect(kept.esc!.key).to.equal("k");
    expect(kept.database.ssl).to.deep.equal({ mode: "require" });
  });

  it("leaves out rotationIds when there are none, and copies them when there are", () => {
    const resolved = resolveInputs(inputs);
    const credentials = { current: { username: "a", password: "pa" }, previous: { username: "b" } };
    expect(buildOutputs(resolved, credentials, undefined)).to.not.have.property("rotationIds");
    expect(buildOutputs(resolved, credentials, undefined)).to.not.have.property("rotatedAt");
    const ids = { a: "id-a" };
    const built = buildOutputs(resolved, credentials, "t", ids);
    expect(built.rotationIds).to.deep.equal(ids);
    expect(built.rotationIds).to.not.equal(ids);
  });

  it("compares the old outputs' current user, and reads a missing one as undefined", () => {
    const outputs = buildOutputs(
      resolveInputs(inputs),
      { current: { username: "a", password: "pa" }, previous: { username: "b" } },
      undefined,
    );
    expect(changeViewOfOutputs(outputs).currentUsername).to.equal("a");
    expect(
      changeViewOfOutputs({ ...outputs, current: undefined as never }).currentUsername,
    ).to.equal(undefined);
    expect(changeViewOfInputs(inputs).rotationTrigger).to.equal("1");
  });
});

describe("buildOutputs: what it keeps of the inputs", () => {
  const credentials = { current: { username: "a", password: "pa" }, previous: { username: "b" } };

  it("leaves out the settings left at their defaults, and diffs as unchanged without them", () => {
    const built = buildOutputs(resolveInputs(inputs), credentials, undefined);
    for (const setting of [
      "passwordPolicy",
      "scramIterations",
      "timeouts",
      "liveSessions",
      "ownership",
      "liveSessionsIdleSeconds",
    ]) {
      expect(built).to.not.have.property(setting);
    }
    expect(built.database).to.deep.equal({
      host: "db",
      port: 5432,
      database: "app",
      managingUser: { username: "m" },
      ssl: { mode: "verify-full" },
    });
    const spelledOut = {
      ...inputs,
      passwordPolicy: { length: 32 },
      scramIterations: 4096,
      timeouts: { connectSeconds: 10, statementSeconds: 30, lockSeconds: 60 },
      liveSessions: "refuse" as const,
      ownership: "warn" as const,
      liveSessionsIdleSeconds: 3600,
    };
    expect(planChange(changeViewOfOutputs(built), changeViewOfInputs(spelledOut)).kind).to.equal(
      "none",
    );
    expect(buildOutputs(resolveInputs(spelledOut), credentials, undefined)).to.deep.equal(built);
  });

  it("keeps each setting that differs from its default, filled in, and sees its change", () => {
    const own = {
      ...inputs,
      passwordPolicy: { length: 40 },
      scramIterations: 8192,
      timeouts: { connectSeconds: 5 },
      liveSessions: "warn" as const,
      ownership: "ignore" as const,
      liveSessionsIdleSeconds: 60,
    };
    const built = buildOutputs(resolveInputs(own), credentials, undefined);
    expect(built.passwordPolicy?.length).to.equal(40);
    expect(built.scramIterations).to.equal(8192);
    expect(built.timeouts).to.deep.equal({
      connectSeconds: 5,
      statementSeconds: 30,
      lockSeconds: 60,
    });
    expect(built.liveSessions).to.equal("warn");
    expect(built.ownership).to.equal("ignore");
    expect(built.liveSessionsIdleSeconds).to.equal(60);
    expect(planChange(changeViewOfOutputs(built), changeViewOfInputs(own)).kind).to.equal("none");
    for (const back of [
      { passwordPolicy: undefined },
      { scramIterations: undefined },
      { timeouts: undefined },
      { liveSessions: undefined },
      { ownership: undefined },
      { liveSessionsIdleSeconds: undefined },
    ]) {
      expect(
        planChange(changeViewOfOutputs(built), changeViewOfInputs({ ...own, ...back })),
      ).to.deep.equal({ kind: "update", repair: false, adopt: false, rotate: false });
    }
  });

  it("reads outputs that spell every default out (earlier versions) as the same settings", () => {
    const built = buildOutputs(resolveInputs(inputs), credentials, undefined);
    const earlier = { ...built, ...publicSettings(inputs) };
    expect(earlier).to.have.property("passwordPolicy");
    expect(planChange(changeViewOfOutputs(earlier), changeViewOfInputs(inputs)).kind).to.equal(
      "none",
    );
  });

  it("keeps a given state, and no trigger when none was given", () => {
    const state = { current: { username: "a", password: "pa" } };
    const { rotationTrigger: _t, ...noTrigger } = inputs;
    void _t;
    const built = buildOutputs(
      resolveInputs({ ...noTrigger, state }),
      { current: state.current, previous: { username: "b" } },
      undefined,
    );
    expect(built.state).to.deep.equal(state);
    expect(built).to.not.have.property("rotationTrigger");
  });
});
