import { expect } from "chai";
import {
  OK_REPLY,
  carriesExtensions,
  isLoginEvent,
  isUserPairEvent,
  parseConnectorEvent,
  officialReply,
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
      "userPair.scramIterations must be at most 100000: node-postgres refuses, with its default scramMaxIterations (100,000), to log in with a verifier of more iterations, so apps on it could not use the password; set userPair.scramIterations to 100000 or less",
    ]);
    expect(problems(apply(100_001))).to.deep.equal(problems(apply(1e12)));
    expect(() => parseConnectorEvent(apply(100_000))).to.not.throw();
  });
});

/**
 * Hostile events, field by field: each one is either read exactly as sent (names PostgreSQL
 * accepts, passwords of any text, unknown keys ignored) or refused with every problem named and
 * no value echoed. What a refused event does to a server (nothing) is proven with the handler
 * on real PostgreSQL in hostileInputs.test.ts beside this file.
 */
describe("connector event: hostile input", () => {
  const LOGIN = (() => {
    const { rotateUser: _r, managingUser: _m, ...rest } = EVENT;
    void _r;
    void _m;
    return { ...rest, loginUser: { username: "app_user_1", password: "login-secret" } };
  })();
  const rotate = (patch: object) => ({ ...EVENT, rotateUser: { ...EVENT.rotateUser, ...patch } });
  const manager = (patch: object) => ({
    ...EVENT,
    managingUser: { ...EVENT.managingUser, ...patch },
  });
  const pair = (userPair: unknown) => {
    const { rotateUser: _r, ...rest } = EVENT;
    void _r;
    return { ...rest, userPair };
  };

  const ACCEPTED: [string, unknown][] = [
    ["a 63-byte username of two-byte UTF-8", rotate({ username: "é".repeat(31) + "x" })],
    ["a 63-byte database name of three-byte UTF-8", { ...EVENT, database: "用".repeat(21) }],
    [
      "a 63-byte managing username with a four-byte character",
      manager({ username: "🔑" + "m".repeat(59) }),
    ],
    ["a username with quotes, a newline and SQL", rotate({ username: `x'"\n; DROP ROLE y; --` })],
    ["a username with backslashes and $$", rotate({ username: "a\\b $$ $1" })],
    [
      "a 1024-character new password of quotes and backslashes",
      rotate({ newPassword: `'"\\`.repeat(341) + "x" }),
    ],
    ["a managing password of newlines and $$", manager({ password: "a\nb$$c'd\"e" })],
    [
      "unknown keys at every level",
      { ...rotate({ extra: 1 }), extra: { nested: true }, region: "x" },
    ],
    [
      "a login event whose password holds JSON",
      { ...LOGIN, loginUser: { username: "u", password: '{"a":1}' } },
    ],
    ["port 1 and port 65535", { ...EVENT, port: 65535 }],
  ];
  for (const [label, event] of ACCEPTED) {
    it(`reads ${label} exactly as sent`, () => {
      expect(parseConnectorEvent(event)).to.deep.equal(event);
      expect(parseConnectorEvent(JSON.stringify(event))).to.deep.equal(event);
    });
  }

  it("reads JSON text with a __proto__ key as data, not as a prototype", () => {
    const text = JSON.stringify(EVENT).replace(/^\{/, '{"__proto__": {"loginUser": {}},');
    const event = parseConnectorEvent(text);
    expect(isLoginEvent(event)).to.equal(false);
    expect(Object.getPrototypeOf(event)).to.equal(Object.prototype);
  });

  it("takes the last of duplicate JSON keys, as JSON.parse does, and checks that one", () => {
    const text = JSON.stringify(EVENT).replace(/^\{/, '{"type": "mysql",');
    expect(parseConnectorEvent(text)).to.deep.equal(EVENT);
    const mysqlLast = JSON.stringify(EVENT).replace(/\}$/, ', "type": "mysql"}');
    expect(problems(mysqlLast)[0]).to.match(/"mysql" is not supported/);
  });

  const REFUSED: [string, unknown, RegExp][] = [
    [
      "a 64-byte username of two-byte UTF-8",
      rotate({ username: "é".repeat(32) }),
      /rotateUser\.username is 64 bytes/,
    ],
    [
      "a 64-byte managing username of four-byte UTF-8",
      manager({ username: "🔑".repeat(16) }),
      /managingUser\.username is 64 bytes/,
    ],
    ["a 64-byte database name", { ...EVENT, database: "д".repeat(32) }, /database is 64 bytes/],
    [
      "a 64-byte login username",
      { ...LOGIN, loginUser: { username: "x".repeat(64), password: "p" } },
      /loginUser\.username is 64 bytes/,
    ],
    [
      "a NUL in the username",
      rotate({ username: "a\0b" }),
      /rotateUser\.username must not contain a NUL/,
    ],
    [
      "a NUL in the new password",
      rotate({ newPassword: "a\0b" }),
      /rotateUser\.newPassword must be at most 1024 characters, without NUL/,
    ],
    ["a NUL in the managing password", manager({ password: "\0" }), /managingUser\.password/],
    ["a lone surrogate in the username", rotate({ username: "a\uDC00" }), /valid Unicode/],
    ["a 1025-character new password", rotate({ newPassword: "x".repeat(1025) }), /at most 1024/],
    ["a megabyte managing password", manager({ password: "p".repeat(1 << 20) }), /at most 1024/],
    ["a host with a newline", { ...EVENT, host: "db\n.internal" }, /^host /],
    ["a host that is a Unix socket directory", { ...EVENT, host: "/var/run/postgresql" }, /^host /],
    ["a host that is a URL", { ...EVENT, host: "postgres://u:p@db/app" }, /^host /],
    ["a host longer than any DNS name", { ...EVENT, host: "h".repeat(254) }, /^host /],
    ["a port as text", { ...EVENT, port: "5432" }, /port must be an integer/],
    ["a fractional port", { ...EVENT, port: 5432.5 }, /port must be an integer/],
    ["a NaN port", { ...EVENT, port: NaN }, /port must be an integer/],
    ["an Infinity port", { ...EVENT, port: Infinity }, /port must be an integer/],
    ["port 0", { ...EVENT, port: 0 }, /port must be an integer/],
    ["a boolean port", { ...EVENT, port: true }, /port must be an integer/],
    ["type in capitals", { ...EVENT, type: "POSTGRES" }, /type must be "postgres"/],
    ["no type", { ...EVENT, type: undefined }, /type must be "postgres"/],
    [
      "rotateUser as an array",
      { ...EVENT, rotateUser: [EVENT.rotateUser] },
      /rotateUser must be an object/,
    ],
    [
      "a number as the username",
      rotate({ username: 7 }),
      /rotateUser\.username must be a non-empty string/,
    ],
    ["managingUser null", { ...EVENT, managingUser: null }, /managingUser must be an object/],
    [
      "a SQL fragment as the expected rotation id",
      rotate({ expectedRotationId: "'; DROP ROLE x; --" }),
      /expectedRotationId/,
    ],
    [
      "a 65-character rotation id",
      rotate({ expectedRotationId: "a".repeat(65) }),
      /expectedRotationId/,
    ],
    ["liveSessions in capitals", rotate({ liveSessions: "IGNORE" }), /rotateUser\.liveSessions/],
    ["ownership in capitals", rotate({ ownership: "WARN" }), /rotateUser\.ownership/],
    ["otherUsername a number", rotate({ otherUsername: 7 }), /rotateUser\.otherUsername/],
    ["both rotateUser and loginUser", { ...EVENT, loginUser: LOGIN.loginUser }, /give one of/],
    [
      "a user-pair action in capitals",
      pair({ action: "DROP", usernames: ["a"] }),
      /userPair\.action/,
    ],
    [
      "a NUL in a user-pair drop list",
      pair({ action: "drop", usernames: ["a\0"], oids: {} }),
      /userPair\.usernames\[0\]/,
    ],
    [
      "a user-pair drop list that is a string",
      pair({ action: "drop", usernames: "a,b", oids: {} }),
      /userPair\.usernames must be a list/,
    ],
    [
      "a trillion SCRAM iterations in a user-pair apply",
      pair({
        action: "apply",
        request: {
          users: { username1: "a", username2: "b" },
          memberOf: [],
          revokeOtherMembershipsOf: [],
        },
        passwords: {},
        scramIterations: 1e12,
      }),
      /userPair\.scramIterations/,
    ],
    [
      "a forbidden setting in a user-pair apply",
      pair({
        action: "apply",
        request: {
          users: { username1: "a", username2: "b" },
          memberOf: [],
          settings: { role: "postgres" },
          revokeOtherMembershipsOf: [],
        },
        passwords: {},
      }),
      /settings\.role would change who/,
    ],
    ["JSON text that is null", "null", /must be a JSON object/],
    ["JSON text that is an array", "[{}]", /must be a JSON object/],
    ["text that is not JSON", "{type: postgres}", /not JSON/],
  ];
  for (const [label, event, message] of REFUSED) {
    it(`refuses ${label}, naming the field and echoing no value`, () => {
      const found = problems(event);
      expect(found.join("\n")).to.match(message);
      for (const value of ["m-secret", "old-secret", "new-secret", "login-secret"]) {
        expect(found.join("\n")).to.not.include(value);
      }
    });
  }
});

describe("connector event: which events get the reply's extension fields", () => {
  it("the ESC service's own event, parsed or as text, valid or not, carries none", () => {
    expect(carriesExtensions(EVENT)).to.equal(false);
    expect(carriesExtensions(JSON.stringify(EVENT))).to.equal(false);
    const unknownPassword = { ...EVENT.rotateUser, password: "" };
    expect(carriesExtensions({ ...EVENT, rotateUser: unknownPassword })).to.equal(false);
    for (const junk of [null, 42, "not json", [], {}, { ...EVENT, rotateUser: "x" }]) {
      expect(carriesExtensions(junk), JSON.stringify(junk)).to.equal(false);
    }
  });

  it("every extension makes an event this package's", () => {
    for (const extra of [
      { expectedRotationId: "0123abcd-0123" },
      { rotationHolder: "0123abcd-0123" },
      { liveSessions: "ignore" },
      { liveSessionsIdleSeconds: 60 },
      { ownership: "refuse" },
      { otherUsername: "app_user_1" },
    ]) {
      const event = { ...EVENT, rotateUser: { ...EVENT.rotateUser, ...extra } };
      expect(carriesExtensions(event), JSON.stringify(extra)).to.equal(true);
      expect(carriesExtensions(JSON.stringify(event))).to.equal(true);
    }
    const { rotateUser: _r, ...rest } = EVENT;
    void _r;
    expect(carriesExtensions({ ...rest, loginUser: { username: "u", password: "p" } })).to.equal(
      true,
    );
    expect(carriesExtensions({ ...rest, userPair: { action: "drop" } })).to.equal(true);
  });

  it("words a reply as the official connector does: code and message only", () => {
    expect(
      officialReply({ code: 400, message: "no", error: "RoleNotFoundError", warnings: ["w"] }),
    ).to.deep.equal({ code: 400, message: "no" });
    expect(officialReply({ ...OK_REPLY, rotationId: "0123abcd-0123" })).to.deep.equal(OK_REPLY);
  });
});

describe("connector event: every extension and reply field, exactly", () => {
  const { rotateUser: _rotate, ...withoutUser } = EVENT;
  void _rotate;
  const pair = (userPair: unknown) => ({ ...withoutUser, userPair });
  const request = { users: { username1: "a", username2: "b" }, revokeOtherMembershipsOf: [] };

  it("replies ok as the service expects, and tells the event kinds apart", () => {
    expect(OK_REPLY).to.deep.equal({ code: 200, message: "ok" });
    const observe = parseConnectorEvent(
      pair({ action: "observe", users: { username1: "a", username2: "b" }, memberOf: [] }),
    );
    expect(isUserPairEvent(observe)).to.equal(true);
    expect(isLoginEvent(observe)).to.equal(false);
    expect(isUserPairEvent(parseConnectorEvent(EVENT))).to.equal(false);
    const login = parseConnectorEvent({
      ...withoutUser,
      loginUser: { username: "u", password: "p" },
    });
    expect(isLoginEvent(login)).to.equal(true);
    expect(isUserPairEvent(login)).to.equal(false);
  });

  it("takes port 1, and checks a login event's managing user only when it is given", () => {
    expect(() => parseConnectorEvent({ ...EVENT, port: 1 })).to.not.throw();
    const { managingUser: _m, ...bare } = withoutUser;
    void _m;
    expect(() =>
      parseConnectorEvent({ ...bare, loginUser: { username: "u", password: "p" } }),
    ).to.not.throw();
    expect(
      problems({
        ...bare,
        managingUser: { username: "m" },
        loginUser: { username: "u", password: "p" },
      }),
    ).to.deep.equal(["managingUser.password must be a non-empty string"]);
    expect(problems({ ...bare, loginUser: "u:p" })).to.deep.equal([
      "loginUser must be an object {username, password}",
    ]);
    expect(problems({ ...EVENT, managingUser: { username: "m", password: null } })).to.deep.equal([
      "managingUser.password must be a non-empty string",
    ]);
  });

  it("reads a rotateUser that is not an object as one problem", () => {
    expect(problems({ ...EVENT, rotateUser: "app_user_2" })).to.deep.equal([
      "rotateUser must be an object {username, password}",
    ]);
  });

  it("takes a rotation id of 8 to 64 hex digits and dashes, and nothing else", () => {
    for (const id of ["0f8e2c1a-5b6d-4e7f-8a9b-0c1d2e3f4a5b", "abcdef01", "a".repeat(64)]) {
      expect(() =>
        parseConnectorEvent({
          ...EVENT,
          rotateUser: { ...EVENT.rotateUser, expectedRotationId: id },
        }),
      ).to.not.throw();
    }
    for (const id of ["abcdef0", "ABCDEF01", 12345678, "", "abcdef01\n"]) {
      expect(
        problems({ ...EVENT, rotateUser: { ...EVENT.rotateUser, expectedRotationId: id } }),
        JSON.stringify(id),
      ).to.deep.equal(["rotateUser.expectedRotationId must be a rotation id"]);
    }
    expect(
      problems({ ...EVENT, rotateUser: { ...EVENT.rotateUser, liveSessions: "sometimes" } }),
    ).to.deep.equal(["rotateUser.liveSessions must be one of refuse, warn, ignore"]);
    expect(
      problems({ ...EVENT, rotateUser: { ...EVENT.rotateUser, ownership: "always" } }),
    ).to.deep.equal(["rotateUser.ownership must be one of warn, refuse, ignore"]);
    expect(
      problems({ ...EVENT, rotateUser: { ...EVENT.rotateUser, otherUsername: "" } }),
    ).to.deep.equal(["rotateUser.otherUsername must be a non-empty string"]);
    expect(
      problems({ ...EVENT, rotateUser: { ...EVENT.rotateUser, otherUsername: "x".repeat(64) } }),
    ).to.deep.equal([
      "rotateUser.otherUsername is 64 bytes long; PostgreSQL names are at most 63 bytes",
    ]);
    expect(() =>
      parseConnectorEvent({
        ...EVENT,
        rotateUser: { ...EVENT.rotateUser, ownership: "refuse", otherUsername: "app_user_2" },
      }),
    ).to.not.throw();
    for (const seconds of [-1, 0.5, "60", 2_592_001]) {
      expect(
        problems({
          ...EVENT,
          rotateUser: { ...EVENT.rotateUser, liveSessionsIdleSeconds: seconds },
        }),
        JSON.stringify(seconds),
      ).to.deep.equal([
        "rotateUser.liveSessionsIdleSeconds must be a whole number from 0 to 2592000",
      ]);
    }
    for (const seconds of [0, 60, 2_592_000]) {
      expect(() =>
        parseConnectorEvent({
          ...EVENT,
          rotateUser: { ...EVENT.rotateUser, liveSessionsIdleSeconds: seconds },
        }),
      ).to.not.throw();
    }
  });

  it("checks userPair observe, apply and drop field by field", () => {
    expect(problems(pair("observe"))).to.deep.equal(["userPair must be an object {action, …}"]);
    expect(problems(pair({ action: "observe", users: "a,b", memberOf: "g" }))).to.deep.equal([
      "userPair.users must be {username1, username2}",
      "userPair.memberOf must be a list of role names",
    ]);
    expect(
      problems(
        pair({
          action: "observe",
          users: { username1: "é".repeat(32), username2: "" },
          memberOf: ["g\0"],
        }),
      ),
    ).to.deep.equal([
      "userPair.users.username1 is 64 bytes long; PostgreSQL names are at most 63 bytes",
      "userPair.users.username2 must be a non-empty string",
      "userPair.memberOf[0] must not contain a NUL character",
    ]);
    expect(problems(pair({ action: "apply", request: "x", passwords: [] }))).to.deep.equal([
      "userPair.request must be an object",
      "userPair.passwords must be an object",
    ]);
    expect(
      problems(pair({ action: "apply", request, passwords: { ["x".repeat(64)]: "" } })),
    ).to.deep.equal([
      "userPair.passwords (a user name) is 64 bytes long; PostgreSQL names are at most 63 bytes",
      "userPair.passwords (a password) must be a non-empty string",
    ]);
    for (const scramIterations of [4095, 4096.5, "4096", "04da6b54-80e4-46f7-96ec-b56ff0331ba9"]) {
      expect(
        problems(pair({ action: "apply", request, passwords: {}, scramIterations })),
        String(scramIterations),
      ).to.deep.equal(["userPair.scramIterations must be a whole number from 4096 to 100000"]);
    }
    for (const scramIterations of [4096, undefined]) {
      expect(() =>
        parseConnectorEvent(
          pair({ action: "apply", request, passwords: { a: "p" }, scramIterations }),
        ),
      ).to.not.throw();
    }
    expect(() =>
      parseConnectorEvent(pair({ action: "drop", usernames: ["a", "b"], oids: { a: 16384 } })),
    ).to.not.throw();
    expect(problems(pair({ action: "drop", usernames: [""], oids: {} }))).to.deep.equal([
      "userPair.usernames[0] must be a non-empty string",
    ]);
    // Which role to drop is named by OID too: without one (or with a bad one), nothing is.
    for (const oids of [undefined, { a: 0 }, { a: 2 ** 32 }, { a: 1.5 }, { a: "16384" }, []]) {
      expect(
        problems(pair({ action: "drop", usernames: ["a"], oids })),
        String(oids),
      ).to.deep.equal(["userPair.oids must be an object of role names to OIDs"]);
    }
  });

  it("reads replies with each extension field checked", () => {
    const full = {
      code: 200,
      message: "ok",
      error: "X",
      userPair: {},
      rotationId: "id",
      warnings: ["w"],
    };
    expect(parseConnectorReply(full)).to.deep.equal(full);
    for (const bad of [
      { error: 1 },
      { userPair: "x" },
      { userPair: [] },
      { rotationId: 1 },
      { warnings: "w" },
      { warnings: [1] },
      { message: 1 },
      { code: "200" },
    ]) {
      let error: unknown;
      try {
        parseConnectorReply({ code: 400, message: "no", ...bad });
      } catch (e) {
        error = e;
      }
      expect(error, JSON.stringify(bad)).to.be.instanceOf(ValidationError);
      expect((error as ValidationError).problems).to.deep.equal([
        "the connector's reply is not {code: 200 | 400, message}",
      ]);
    }
  });
});

describe("connector event: the old password's type, and every warning", () => {
  it("takes an old password that is empty, absent or null, and refuses one that is not text", () => {
    expect(problems({ ...EVENT, rotateUser: { ...EVENT.rotateUser, password: 5 } })).to.deep.equal([
      "rotateUser.password must be a string",
    ]);
  });

  it("refuses a reply whose warnings are not all text", () => {
    expect(() => parseConnectorReply({ code: 200, message: "ok", warnings: ["w", 1] })).to.throw(
      ValidationError,
    );
  });
});
