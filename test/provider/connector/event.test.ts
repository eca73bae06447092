import { expect } from "chai";
import {
  isLoginEvent,
  parseConnectorEvent,
  parseConnectorReply,
} from "../../../provider/connector/event";
import { ValidationError } from "../../../provider/errors";

const EVENT = {
  type: "postgres",
  host: "db.internal",
  port: 5432,
  database: "app",
  managingUser: { username: "rotation_manager", password: "m-secret" },
  rotateUser: { username: "app_user_2", password: "old-secret", newPassword: "new-secret" },
};

function problems(value: unknown): readonly string[] {
  try {
    parseConnectorEvent(value);
  } catch (error) {
    expect(error).to.be.instanceOf(ValidationError);
    return (error as ValidationError).problems;
  }
  throw new Error("expected a ValidationError");
}

describe("connector event", () => {
  it("accepts the service's event as an object or as JSON text", () => {
    expect(parseConnectorEvent(EVENT)).to.deep.equal(EVENT);
    expect(parseConnectorEvent(JSON.stringify(EVENT))).to.deep.equal(EVENT);
    expect(isLoginEvent(parseConnectorEvent(EVENT))).to.equal(false);
  });

  it("accepts an unknown old password: empty, null or absent", () => {
    for (const password of ["", null, undefined]) {
      const event = { ...EVENT, rotateUser: { ...EVENT.rotateUser, password } };
      expect(() => parseConnectorEvent(event)).to.not.throw();
    }
  });

  it("refuses names PostgreSQL would truncate (over 63 bytes), and takes 63 bytes of UTF-8", () => {
    const long = "é".repeat(31) + "xy"; // 64 bytes
    const found = problems({
      ...EVENT,
      database: long,
      managingUser: { ...EVENT.managingUser, username: long },
      rotateUser: { ...EVENT.rotateUser, username: long },
    });
    for (const field of ["database", "managingUser.username", "rotateUser.username"]) {
      expect(found).to.include(`${field} is 64 bytes long; PostgreSQL names are at most 63 bytes`);
    }
    const { rotateUser: _r, ...rest } = EVENT;
    void _r;
    expect(problems({ ...rest, loginUser: { username: long, password: "p" } })).to.deep.equal([
      "loginUser.username is 64 bytes long; PostgreSQL names are at most 63 bytes",
    ]);
    const limit = "é".repeat(31) + "x"; // 63 bytes
    expect(() =>
      parseConnectorEvent({ ...EVENT, rotateUser: { ...EVENT.rotateUser, username: limit } }),
    ).to.not.throw();
  });

  it("names every bad field and never echoes a value", () => {
    const found = problems({
      type: "pg",
      host: 5,
      port: 70000,
      database: "",
      managingUser: { username: "m" },
      rotateUser: { username: "", password: "old-secret", newPassword: "" },
    });
    expect(found).to.deep.equal([
      'type must be "postgres"',
      "host must be a non-empty string",
      "port must be an integer from 1 to 65535",
      "database must be a non-empty string",
      "managingUser.password must be a non-empty string",
      "rotateUser.username must be a non-empty string",
      "rotateUser.newPassword must be a non-empty string",
    ]);
    expect(found.join()).to.not.include("secret");
  });

  it("says mysql is not supported, and wants exactly one of rotateUser and loginUser", () => {
    expect(problems({ ...EVENT, type: "mysql" })[0]).to.match(/"mysql" is not supported/);
    const { rotateUser: _r, ...noUser } = EVENT;
    void _r;
    expect(problems(noUser)).to.deep.equal([
      "rotateUser {username, password, newPassword} is required",
    ]);
    expect(problems({ ...EVENT, loginUser: EVENT.managingUser })).to.deep.equal([
      "give one of rotateUser, loginUser and userPair",
    ]);
  });

  it("refuses non-objects, NUL bytes and overlong fields", () => {
    for (const junk of [null, 1, "x", [], "[1]"]) expect(problems(junk)).to.have.length(1);
    expect(problems({ ...EVENT, host: "a\0b" })[0]).to.match(/without NUL/);
    expect(problems({ ...EVENT, host: "d".repeat(2000) })[0]).to.match(/at most 1024/);
    expect(problems({ ...EVENT, database: "d".repeat(2000) })[0]).to.match(/at most 63 bytes/);
  });

  it("reads replies strictly", () => {
    expect(parseConnectorReply({ code: 200, message: "ok" })).to.deep.equal({
      code: 200,
      message: "ok",
    });
    expect(
      parseConnectorReply({ code: 400, message: "no", error: "RoleNotFoundError" }).error,
    ).to.equal("RoleNotFoundError");
    for (const bad of [null, { code: 500, message: "x" }, { code: 200 }, "ok"]) {
      expect(() => parseConnectorReply(bad)).to.throw(ValidationError);
    }
  });
});

describe("connector event: hosts and iterations a rotation could not use", () => {
  const pair = (userPair: unknown) => {
    const { rotateUser: _r, ...rest } = EVENT;
    void _r;
    return { ...rest, userPair };
  };
  for (const [label, host] of [
    ["a Unix socket directory", "/var/run/postgresql"],
    ["a URL", "postgres://u:p@db/app"],
    ["a name with a newline", "db\n.internal"],
    ["254 characters", "h".repeat(254)],
  ]) {
    it(`refuses a host that is ${label}, as database.host would be`, () => {
      expect(problems({ ...EVENT, host })[0]).to.match(/^host /);
    });
  }

  it("takes 253 characters of host", () => {
    expect(() => parseConnectorEvent({ ...EVENT, host: "h".repeat(253) })).to.not.throw();
  });

  it("bounds a user-pair apply's SCRAM iterations as scramIterations is bounded", () => {
    const apply = (scramIterations: number) =>
      pair({
        action: "apply",
        request: {
          users: { username1: "a", username2: "b" },
          memberOf: [],
          revokeOtherMembershipsOf: [],
        },
        passwords: {},
        scramIterations,
      });
    expect(problems(apply(1e12))).to.deep.equal([
      "userPair.scramIterations must be a whole number from 4096 to 1000000",
    ]);
    expect(() => parseConnectorEvent(apply(1_000_000))).to.not.throw();
  });
});
