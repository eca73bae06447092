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
