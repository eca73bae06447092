import { expect } from "chai";
import { ValidationError } from "../../../provider/errors";
import type { RotationInputs } from "../../../provider/core/types";
import { UNKNOWN, inputProblems, resolveInputs } from "../../../provider/core/validate";

const SECRET = "s3cret-Manager-pw";

function inputs(overrides: Record<string, unknown> = {}): RotationInputs {
  return {
    database: {
      host: "db.internal",
      database: "app",
      managingUser: { username: "rotation_manager", password: SECRET },
    },
    rotateUsers: { username1: "app_1", username2: "app_2" },
    ...overrides,
  } as RotationInputs;
}

function withDatabase(overrides: Record<string, unknown>): RotationInputs {
  return inputs({ database: { ...inputs().database, ...overrides } });
}

describe("resolveInputs", () => {
  it("fills in secure defaults", () => {
    const resolved = resolveInputs(inputs());
    expect(resolved.database.port).to.equal(5432);
    expect(resolved.database.ssl).to.deep.equal({ mode: "verify-full" });
    expect(resolved.passwordPolicy.length).to.equal(32);
    expect(resolved.scramIterations).to.equal(4096);
    expect(resolved.timeouts).to.deep.equal({
      connectSeconds: 10,
      statementSeconds: 30,
      lockSeconds: 60,
    });
  });

  it("keeps given values", () => {
    const resolved = resolveInputs(
      inputs({
        database: { ...inputs().database, port: 6543, ssl: { mode: "require" } },
        timeouts: { connectSeconds: 3 },
        scramIterations: 10000,
      }),
    );
    expect(resolved.database.port).to.equal(6543);
    expect(resolved.database.ssl.mode).to.equal("require");
    expect(resolved.timeouts.connectSeconds).to.equal(3);
    expect(resolved.timeouts.lockSeconds).to.equal(60);
    expect(resolved.scramIterations).to.equal(10000);
  });

  const bad: [string, RotationInputs, RegExp][] = [
    ["empty host", withDatabase({ host: "" }), /database\.host must be a non-empty/],
    ["URL as host", withDatabase({ host: "postgres://u:pw@h/db" }), /not a URL/],
    [
      "host longer than a DNS name",
      withDatabase({ host: `${"a".repeat(250)}.com` }),
      /database\.host is 254 characters long; a host name is at most 253/,
    ],
    ["port 0", withDatabase({ port: 0 }), /database\.port must be a whole number from 1 to 65535/],
    ["port 65536", withDatabase({ port: 65536 }), /database\.port/],
    ["port 5432.5", withDatabase({ port: 5432.5 }), /database\.port/],
    ["empty database", withDatabase({ database: "" }), /database\.database must be a non-empty/],
    [
      "missing managing user",
      withDatabase({ managingUser: undefined }),
      /managingUser is required/,
    ],
    [
      "empty managing password",
      withDatabase({ managingUser: { username: "m", password: "" } }),
      /managingUser\.password must be a non-empty/,
    ],
    ["unknown ssl mode", withDatabase({ ssl: { mode: "prefer" } }), /ssl\.mode must be one of/],
    ["non-PEM CA", withDatabase({ ssl: { mode: "verify-full", ca: "hello" } }), /PEM/],
    [
      "CA with disable",
      withDatabase({ ssl: { mode: "disable", ca: "-----BEGIN CERTIFICATE-----\n" } }),
      /no effect/,
    ],
    [
      "empty username1",
      inputs({ rotateUsers: { username1: "", username2: "b" } }),
      /username1 must be/,
    ],
    [
      "64-byte username",
      inputs({ rotateUsers: { username1: "é".repeat(32), username2: "b" } }),
      /64 bytes long; PostgreSQL names are at most 63 bytes/,
    ],
    ["NUL in username", inputs({ rotateUsers: { username1: "a\0b", username2: "b" } }), /NUL/],
    [
      "same users",
      inputs({ rotateUsers: { username1: "a", username2: "a" } }),
      /two different roles/,
    ],
    [
      "manager rotated",
      inputs({ rotateUsers: { username1: "app_1", username2: "rotation_manager" } }),
      /username2 must not be the managing user/,
    ],
    [
      "state of another pair",
      inputs({ state: { current: { username: "intruder", password: "p" } } }),
      /state\.current\.username "intruder" is neither/,
    ],
    [
      "state with previous equal to current",
      inputs({
        state: { current: { username: "app_1", password: "p" }, previous: { username: "app_1" } },
      }),
      /must differ/,
    ],
    [
      "state without password",
      inputs({ state: { current: { username: "app_1", password: "" } } }),
      /state\.current\.password must be a non-empty/,
    ],
    [
      "object trigger",
      inputs({ rotationTrigger: { a: 1 } }),
      /rotationTrigger must be a string or a number/,
    ],
    ["short passwords", inputs({ passwordPolicy: { length: 8 } }), /passwordPolicy\.length/],
    [
      "few iterations",
      inputs({ scramIterations: 100 }),
      /scramIterations must be a whole number from 4096/,
    ],
    ["zero timeout", inputs({ timeouts: { connectSeconds: 0 } }), /timeouts\.connectSeconds/],
  ];

  for (const [label, value, message] of bad) {
    it(`refuses ${label} with a message naming the input`, () => {
      let thrown: unknown;
      try {
        resolveInputs(value);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).to.be.instanceOf(ValidationError);
      const error = thrown as ValidationError;
      expect(error.message).to.match(message);
      expect(error.message).to.not.include(SECRET);
      expect(error.problems).to.have.length.greaterThan(0);
    });
  }

  it("reports every problem at once", () => {
    const problems = inputProblems(
      inputs({
        database: { host: "", port: 0, database: "", managingUser: { username: "", password: "" } },
      }),
    );
    expect(problems).to.have.length(5);
  });

  it("never repeats a password, whatever is wrong", () => {
    const weird = inputs({
      database: {
        host: SECRET + "/",
        database: "app",
        managingUser: { username: "m", password: SECRET },
      },
      state: { current: { username: "app_1", password: SECRET + "\0" } },
    });
    for (const problem of inputProblems(weird)) expect(problem).to.not.include(SECRET);
  });

  it("skips values not known yet during a preview, but refuses them for a rotation", () => {
    const previewing = withDatabase({ host: UNKNOWN, managingUser: UNKNOWN });
    expect(inputProblems(previewing)).to.deep.equal([]);
    expect(() => resolveInputs(previewing)).to.throw(
      ValidationError,
      /database\.host is not known yet/,
    );
  });
});

describe("state checked during a preview", () => {
  it("does not call two usernames that are not known yet the same", () => {
    expect(
      inputProblems({
        database: { host: "h", database: "d", managingUser: { username: "m", password: "p" } },
        rotateUsers: { username1: "a", username2: "b" },
        state: { current: { username: UNKNOWN, password: "p" }, previous: { username: UNKNOWN } },
      }),
    ).to.deep.equal([]);
  });
});
