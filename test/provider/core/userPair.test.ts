import { expect } from "chai";
import {
  buildUserPairOutputs,
  initialStateOf,
  isOidMap,
  oidsOf,
  pairDrift,
  pairRequestProblems,
  planPairChange,
  planUserPair,
  refreshedOutputs,
  resolveUserPairInputs,
  snapshotOf,
  userPairInputProblems,
  type PairObservation,
  type PairRequest,
  type RoleObservation,
  type RoleSnapshot,
  type UserPairOutputs,
} from "../../../provider/core/userPair";
import { UNKNOWN } from "../../../provider/core/validate";
import { ValidationError } from "../../../provider/errors";

const USERS = { username1: "app_user_1", username2: "app_user_2" };
const DATABASE = {
  host: "db.internal",
  database: "app",
  managingUser: { username: "rotation_manager", password: "m-secret" },
};

/** The outputs of a pair on `DATABASE` that created no user, with `memberOf` applied. */
function outputsWith(memberOf: string[]): UserPairOutputs {
  return {
    ...resolveUserPairInputs({ database: DATABASE, rotateUsers: USERS, memberOf }),
    database: {
      ...DATABASE,
      port: 5432,
      managingUser: { username: "rotation_manager" },
      ssl: { mode: "verify-full" },
    },
    managingPassword: "m-secret",
    username1: USERS.username1,
    username2: USERS.username2,
    created: [],
    passwords: {},
    observed: {},
    drift: [],
  } as unknown as UserPairOutputs;
}

const adoptable: RoleObservation = {
  oid: 16384,
  canLogin: true,
  superuser: false,
  connectionLimit: -1,
  memberOf: ["app_users"],
  settings: {},
  managerGrant: { admin: true, inherit: false, set: false },
};

function observation(overrides: Partial<PairObservation> = {}): PairObservation {
  return {
    serverVersionNum: 180004,
    manager: "rotation_manager",
    managerSuperuser: false,
    users: {},
    groups: { app_users: { canLogin: false, superuser: false, managerAdmin: true } },
    ...overrides,
  };
}

function request(overrides: Partial<PairRequest> = {}): PairRequest {
  return { users: USERS, memberOf: ["app_users"], revokeOtherMembershipsOf: [], ...overrides };
}

describe("core/userPair", () => {
  describe("planUserPair", () => {
    it("creates both missing users, then grants them exactly memberOf", () => {
      const plan = planUserPair(observation(), request({ connectionLimit: 5 }));
      expect(plan.refusals).to.deep.equal([]);
      expect(plan.steps).to.deep.equal([
        { kind: "create", username: "app_user_1", connectionLimit: 5 },
        { kind: "create", username: "app_user_2", connectionLimit: 5 },
        { kind: "grant", group: "app_users", username: "app_user_1" },
        { kind: "grant", group: "app_users", username: "app_user_2" },
      ]);
    });

    it("adopts an existing user as it is: no step when it already fits", () => {
      const plan = planUserPair(
        observation({ users: { app_user_1: adoptable, app_user_2: adoptable } }),
        request(),
      );
      expect(plan).to.deep.equal({ refusals: [], steps: [] });
    });

    it("grants and revokes exactly the difference for the users it manages", () => {
      const seen = { ...adoptable, memberOf: ["app_users", "old_group"] };
      const plan = planUserPair(
        observation({
          users: { app_user_1: seen, app_user_2: seen },
          groups: {
            app_users: { canLogin: false, superuser: false, managerAdmin: true },
            readers: { canLogin: false, superuser: false, managerAdmin: true },
          },
        }),
        request({
          memberOf: ["app_users", "readers"],
          revokeOtherMembershipsOf: ["app_user_1", "app_user_2"],
        }),
      );
      expect(plan.steps).to.deep.equal([
        { kind: "revoke", group: "old_group", username: "app_user_1" },
        { kind: "grant", group: "readers", username: "app_user_1" },
        { kind: "revoke", group: "old_group", username: "app_user_2" },
        { kind: "grant", group: "readers", username: "app_user_2" },
      ]);
    });

    it("refuses to adopt a user holding memberships memberOf does not list", () => {
      const seen = { ...adoptable, memberOf: ["app_users", "admins"] };
      const plan = planUserPair(observation({ users: { app_user_1: seen } }), request());
      expect(plan.steps).to.deep.equal([]);
      expect(plan.refusals).to.deep.equal([
        { kind: "other-memberships", username: "app_user_1", groups: ["admins"] },
      ]);
    });

    it("refuses every impossible part at once and plans no step then", () => {
      const plan = planUserPair(
        observation({
          users: {
            app_user_1: { ...adoptable, superuser: true },
            app_user_2: { ...adoptable, canLogin: false, managerGrant: undefined },
          },
          groups: {
            login_group: { canLogin: true, superuser: false, managerAdmin: true },
            no_admin: { canLogin: false, superuser: false, managerAdmin: false },
            su_group: { canLogin: false, superuser: true, managerAdmin: true },
          },
        }),
        request({ memberOf: ["app_users_gone", "login_group", "no_admin", "su_group"] }),
      );
      expect(plan.steps).to.deep.equal([]);
      expect(plan.refusals).to.deep.equal([
        { kind: "group-missing", group: "app_users_gone" },
        { kind: "group-can-login", group: "login_group" },
        { kind: "group-superuser", group: "su_group" },
        { kind: "user-superuser", username: "app_user_1" },
        { kind: "user-nologin", username: "app_user_2" },
        { kind: "manager-lacks-admin-on-user", username: "app_user_2" },
        { kind: "other-memberships", username: "app_user_2", groups: ["app_users"] },
        { kind: "manager-lacks-admin-on-group", group: "no_admin" },
      ]);
    });

    it("asks for the ADMIN option on a group only when a grant or revoke needs it", () => {
      const groups = { app_users: { canLogin: false, superuser: false, managerAdmin: false } };
      const members = observation({
        users: { app_user_1: adoptable, app_user_2: adoptable },
        groups,
      });
      expect(planUserPair(members, request())).to.deep.equal({ refusals: [], steps: [] });
      const missing = observation({ users: { app_user_1: adoptable }, groups });
      expect(planUserPair(missing, request()).refusals).to.deep.equal([
        { kind: "manager-lacks-admin-on-group", group: "app_users" },
      ]);
    });

    it("refuses to revoke, on 16+, a membership another role granted (only it can revoke it)", () => {
      const seen = {
        ...adoptable,
        memberOf: ["app_users", "intruder"],
        grantors: { app_users: ["rotation_manager"], intruder: ["postgres"] },
      };
      const groups = {
        app_users: { canLogin: false, superuser: false, managerAdmin: true },
        intruder: { canLogin: false, superuser: false, managerAdmin: true },
      };
      const repair = request({ revokeOtherMembershipsOf: ["app_user_1", "app_user_2"] });
      const plan = planUserPair(observation({ users: { app_user_1: seen }, groups }), repair);
      expect(plan.refusals).to.deep.equal([
        {
          kind: "membership-granted-by-other",
          username: "app_user_1",
          group: "intruder",
          grantors: ["postgres"],
        },
      ]);
      const old = observation({ serverVersionNum: 150018, users: { app_user_1: seen }, groups });
      expect(planUserPair(old, repair).steps).to.deep.include({
        kind: "revoke",
        group: "intruder",
        username: "app_user_1",
      });
    });

    it("refuses a manager that could use an adopted user's privileges (INHERIT or SET)", () => {
      const seen = { ...adoptable, managerGrant: { admin: true, inherit: true, set: false } };
      const plan = planUserPair(observation({ users: { app_user_1: seen } }), request());
      expect(plan.refusals).to.deep.equal([{ kind: "manager-uses-user", username: "app_user_1" }]);
    });

    it("asks for no ADMIN option on PostgreSQL 13-15, nor from a superuser manager", () => {
      const noAdmin = { ...adoptable, managerGrant: undefined };
      const groups = { app_users: { canLogin: false, superuser: false, managerAdmin: false } };
      for (const obs of [
        observation({ serverVersionNum: 150018, users: { app_user_1: noAdmin }, groups }),
        observation({ managerSuperuser: true, users: { app_user_1: noAdmin }, groups }),
      ]) {
        expect(planUserPair(obs, request()).refusals).to.deep.equal([]);
      }
    });

    it("sets the connection limit and settings that differ, and resets the dropped ones", () => {
      const seen = { ...adoptable, connectionLimit: 3, settings: { work_mem: "4MB", old: "x" } };
      const plan = planUserPair(
        observation({ users: { app_user_1: seen, app_user_2: adoptable } }),
        request({
          connectionLimit: 3,
          settings: { work_mem: "8MB" },
          resetSettings: ["old"],
          revokeOtherMembershipsOf: ["app_user_1", "app_user_2"],
        }),
      );
      expect(plan.steps).to.deep.equal([
        { kind: "reset", username: "app_user_1", name: "old" },
        { kind: "set", username: "app_user_1", name: "work_mem", value: "8MB" },
        { kind: "connectionLimit", username: "app_user_2", limit: 3 },
        { kind: "set", username: "app_user_2", name: "work_mem", value: "8MB" },
      ]);
    });
  });

  describe("pairDrift", () => {
    const applied: Record<string, RoleSnapshot> = {
      app_user_1: {
        exists: true,
        canLogin: true,
        connectionLimit: -1,
        memberOf: ["g"],
        settings: {},
      },
      app_user_2: {
        exists: true,
        canLogin: true,
        connectionLimit: -1,
        memberOf: ["g"],
        settings: {},
      },
    };

    it("is empty when nothing changed", () => {
      expect(pairDrift(applied, applied)).to.deep.equal([]);
    });

    it("names a dropped user, a membership changed outside, a limit and a setting", () => {
      const now = {
        app_user_1: {
          exists: false,
          canLogin: false,
          connectionLimit: -1,
          memberOf: [],
          settings: {},
        },
        app_user_2: {
          exists: true,
          canLogin: false,
          connectionLimit: 2,
          memberOf: ["admins"],
          settings: { search_path: "x" },
        },
      };
      expect(pairDrift(applied, now)).to.deep.equal([
        '"app_user_1" no longer exists',
        '"app_user_2" can no longer log in (NOLOGIN)',
        '"app_user_2" is now also a member of "admins"',
        '"app_user_2" is no longer a member of "g"',
        '"app_user_2" has CONNECTION LIMIT 2 (was -1)',
        '"app_user_2" setting search_path changed outside Pulumi',
      ]);
    });
  });

  describe("planPairChange", () => {
    const olds = outputsWith(["g"]);
    const news = { database: DATABASE, rotateUsers: USERS, memberOf: ["g"] };

    it("is nothing when nothing changed", () => {
      expect(planPairChange(olds, news)).to.equal("none");
    });

    it("replaces only for a pair with no user in common", () => {
      const other = { username1: "x1", username2: "x2" };
      expect(planPairChange(olds, { ...news, rotateUsers: other })).to.equal("replace");
      const shared = { username1: "app_user_2", username2: "x2" };
      expect(planPairChange(olds, { ...news, rotateUsers: shared })).to.equal("update");
      const swapped = { username1: "app_user_2", username2: "app_user_1" };
      expect(planPairChange(olds, { ...news, rotateUsers: swapped })).to.equal("update");
      const unknown = { username1: UNKNOWN, username2: "x2" };
      expect(planPairChange(olds, { ...news, rotateUsers: unknown })).to.equal("update");
    });

    it("updates for drift, memberOf, a new managing password and other settings", () => {
      expect(planPairChange({ ...olds, drift: ["x"] }, news)).to.equal("update");
      expect(planPairChange(olds, { ...news, memberOf: ["g", "h"] })).to.equal("update");
      expect(planPairChange(olds, { ...news, memberOf: ["g", "g"] })).to.equal("none");
      const password = { ...DATABASE, managingUser: { ...DATABASE.managingUser, password: "new" } };
      expect(planPairChange(olds, { ...news, database: password })).to.equal("update");
      expect(planPairChange(olds, { ...news, connectionLimit: 4 })).to.equal("update");
      expect(planPairChange(olds, { ...news, deleteUsersOnDestroy: true })).to.equal("update");
    });
  });

  describe("inputs", () => {
    it("names every problem, before anything is contacted", () => {
      const problems = userPairInputProblems({
        database: DATABASE,
        rotateUsers: { username1: "pg_app", username2: "x".repeat(64) },
        memberOf: ["app_user_x", "rotation_manager", "public", "g", "g"],
        connectionLimit: 0,
        settings: { "Bad Name": "1", role: "admin", work_mem: 4 },
        deleteUsersOnDestroy: "yes",
      });
      expect(problems).to.deep.equal([
        'rotateUsers.username1 must not start with "pg_" (PostgreSQL reserves those names)',
        "rotateUsers.username2 is 64 bytes long; PostgreSQL names are at most 63 bytes",
        'memberOf[1] "rotation_manager" is the managing user',
        'memberOf[2] "public" is not a role',
        'memberOf[4] "g" is listed twice',
        "settings: \"Bad Name\" is not a setting name (lower-case letters, digits, '_', one optional '.')",
        "settings.role would change who the users' sessions are; it is refused",
        "settings.work_mem must be a string, or a non-empty list of strings",
        "connectionLimit 0 would keep both users from logging in; use -1 or at least 1",
        "deleteUsersOnDestroy must be true or false",
      ]);
    });

    it("refuses a pair member as a group", () => {
      const problems = userPairInputProblems({
        database: DATABASE,
        rotateUsers: USERS,
        memberOf: ["app_user_2"],
      });
      expect(problems).to.deep.equal([
        'memberOf[0] "app_user_2" is one of the pair: never make the users members of each other',
      ]);
    });

    it("resolves defaults, sorts memberOf, and throws ValidationError on bad input", () => {
      const resolved = resolveUserPairInputs({
        database: DATABASE,
        rotateUsers: USERS,
        memberOf: ["b", "a"],
      });
      expect(resolved.memberOf).to.deep.equal(["a", "b"]);
      expect(resolved.deleteUsersOnDestroy).to.equal(false);
      expect(resolved.database.ssl.mode).to.equal("verify-full");
      expect(() =>
        resolveUserPairInputs({ database: DATABASE, rotateUsers: { ...USERS, username2: "" } }),
      ).to.throw(ValidationError);
    });

    it("checks a request received from outside", () => {
      expect(pairRequestProblems(request(), "r")).to.deep.equal([]);
      expect(
        pairRequestProblems({ users: { username1: "", username2: "b" }, memberOf: "x" }, "r"),
      ).to.deep.equal([
        "r.users.username1 must be a non-empty string",
        "r.memberOf must be a list of group role names",
        "r.revokeOtherMembershipsOf must be a list of names",
      ]);
    });
  });

  it("gives an initial state only when both users were created", () => {
    expect(initialStateOf(USERS, { app_user_1: "p1", app_user_2: "p2" })).to.deep.equal({
      current: { username: "app_user_1", password: "p1" },
      previous: { username: "app_user_2", password: "p2" },
    });
    expect(initialStateOf(USERS, { app_user_1: "p1" })).to.equal(undefined);
    expect(initialStateOf(USERS, {})).to.equal(undefined);
  });
});

/** Hostile inputs at the unit level: exactly the problems reported (or none). */
describe("userPairInputProblems and pairRequestProblems on hostile input, every problem exact", () => {
  const upBase = () => ({
    database: {
      host: "db.internal",
      database: "app",
      managingUser: { username: "rotation_manager", password: "pw-secret" },
    },
    rotateUsers: { username1: "app_1", username2: "app_2" },
  });
  const CASES: [string, unknown, string[]][] = [
    [
      "memberOf a string",
      { ...upBase(), memberOf: "g" },
      ["memberOf must be a list of group role names"],
    ],
    [
      "memberOf NUL",
      { ...upBase(), memberOf: ["g\0"] },
      ["memberOf[0] must not contain a NUL character"],
    ],
    [
      "memberOf public and none",
      { ...upBase(), memberOf: ["public", "none"] },
      ['memberOf[0] "public" is not a role', 'memberOf[1] "none" is not a role'],
    ],
    [
      "memberOf one of the pair",
      { ...upBase(), memberOf: ["app_2"] },
      ['memberOf[0] "app_2" is one of the pair: never make the users members of each other'],
    ],
    [
      "memberOf the manager",
      { ...upBase(), memberOf: ["rotation_manager"] },
      ['memberOf[0] "rotation_manager" is the managing user'],
    ],
    [
      "memberOf twice",
      { ...upBase(), memberOf: ["g", "h", "g"] },
      ['memberOf[2] "g" is listed twice'],
    ],
    [
      "settings a list",
      { ...upBase(), settings: ["a"] },
      ["settings must be an object of setting names to values"],
    ],
    [
      "settings role",
      { ...upBase(), settings: { role: "x" } },
      ["settings.role would change who the users' sessions are; it is refused"],
    ],
    [
      "settings session_authorization",
      { ...upBase(), settings: { session_authorization: "x" } },
      ["settings.session_authorization would change who the users' sessions are; it is refused"],
    ],
    [
      "settings bad name long",
      { ...upBase(), settings: { ["A".repeat(100)]: "x" } },
      [
        "settings: \"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\" is not a setting name (lower-case letters, digits, '_', one optional '.')",
      ],
    ],
    [
      "settings bad name dots",
      { ...upBase(), settings: { "a.b.c": "x" } },
      [
        "settings: \"a.b.c\" is not a setting name (lower-case letters, digits, '_', one optional '.')",
      ],
    ],
    [
      "settings dotted (custom: a superuser's)",
      { ...upBase(), settings: { "app.tenant": "x", work_mem: "64MB" } },
      [
        "settings.app.tenant: a custom (dotted) setting can be set on a role only by a superuser; set it yourself with ALTER ROLE … SET, or leave it out",
      ],
    ],
    [
      "settings value number",
      { ...upBase(), settings: { work_mem: 64 } },
      ["settings.work_mem must be a string, or a non-empty list of strings"],
    ],
    [
      "settings value NUL",
      { ...upBase(), settings: { work_mem: "\0" } },
      ["settings.work_mem must be at most 4096 characters, no NUL"],
    ],
    ["settings value 4096 ok", { ...upBase(), settings: { work_mem: "x".repeat(4096) } }, []],
    [
      "settings value 4097",
      { ...upBase(), settings: { work_mem: "x".repeat(4097) } },
      ["settings.work_mem must be at most 4096 characters, no NUL"],
    ],
    [
      "limit 0",
      { ...upBase(), connectionLimit: 0 },
      ["connectionLimit 0 would keep both users from logging in; use -1 or at least 1"],
    ],
    ["limit -1 ok", { ...upBase(), connectionLimit: -1 }, []],
    ["iterations 100000 ok", { ...upBase(), scramIterations: 100_000 }, []],
    [
      "iterations 100001",
      { ...upBase(), scramIterations: 100_001 },
      [
        "scramIterations must be at most 100000: node-postgres refuses, with its default scramMaxIterations (100,000), to log in with a verifier of more iterations, so apps on it could not use the password; set scramIterations to 100000 or less",
      ],
    ],
    [
      "limit -2",
      { ...upBase(), connectionLimit: -2 },
      ["connectionLimit must be a whole number from -1 (no limit) to 1000000"],
    ],
    ["limit 1000000 ok", { ...upBase(), connectionLimit: 1000000 }, []],
    [
      "limit 1000001",
      { ...upBase(), connectionLimit: 1000001 },
      ["connectionLimit must be a whole number from -1 (no limit) to 1000000"],
    ],
    [
      "limit text",
      { ...upBase(), connectionLimit: "5" },
      ["connectionLimit must be a whole number from -1 (no limit) to 1000000"],
    ],
    [
      "drop text",
      { ...upBase(), deleteUsersOnDestroy: "yes" },
      ["deleteUsersOnDestroy must be true or false"],
    ],
    ["drop false ok", { ...upBase(), deleteUsersOnDestroy: false }, []],
    [
      "pair pg_",
      { ...upBase(), rotateUsers: { username1: "pg_a", username2: "none" } },
      [
        'rotateUsers.username1 must not start with "pg_" (PostgreSQL reserves those names)',
        'rotateUsers.username2 "none" is a name PostgreSQL reserves',
      ],
    ],
    ["not an object", 5, ["inputs must be an object"]],
  ];

  const REQUESTS: [string, unknown, string[]][] = [
    ["request not object", "x", ["req must be an object"]],
    [
      "users missing",
      { memberOf: [], revokeOtherMembershipsOf: [] },
      ["req.users must be {username1, username2}"],
    ],
    [
      "limit -2",
      {
        users: { username1: "a", username2: "b" },
        connectionLimit: -2,
        revokeOtherMembershipsOf: [],
      },
      ["req.connectionLimit must be a whole number from -1"],
    ],
    [
      "revoke missing",
      { users: { username1: "a", username2: "b" } },
      ["req.revokeOtherMembershipsOf must be a list of names"],
    ],
    [
      "resetSettings numbers",
      {
        users: { username1: "a", username2: "b" },
        resetSettings: [1],
        revokeOtherMembershipsOf: [],
      },
      ["req.resetSettings must be a list of names"],
    ],
    [
      "memberOf and settings bad",
      {
        users: { username1: "a", username2: "b" },
        memberOf: ["a"],
        settings: { role: "x" },
        revokeOtherMembershipsOf: [],
      },
      [
        'req.memberOf[0] "a" is one of the pair: never make the users members of each other',
        "req.settings.role would change who the users' sessions are; it is refused",
      ],
    ],
    [
      "ok",
      {
        users: { username1: "a", username2: "b" },
        memberOf: ["g"],
        settings: { work_mem: "1MB" },
        resetSettings: ["x"],
        connectionLimit: -1,
        revokeOtherMembershipsOf: ["a"],
      },
      [],
    ],
  ];

  for (const [label, value, problems] of CASES) {
    it(`inputs with ${label}: ${problems.length} problem(s)`, () => {
      expect(userPairInputProblems(value)).to.deep.equal(problems);
    });
  }
  for (const [label, value, problems] of REQUESTS) {
    it(`a request with ${label}: ${problems.length} problem(s)`, () => {
      expect(pairRequestProblems(value, "req")).to.deep.equal(problems);
    });
  }
});

describe("core/userPair: steps, snapshots and drift at their edges", () => {
  it("creates users with their settings after them, and no CONNECTION LIMIT for -1", () => {
    const plan = planUserPair(
      observation(),
      request({ connectionLimit: -1, settings: { work_mem: "8MB" }, memberOf: [] }),
    );
    expect(plan.steps).to.deep.equal([
      { kind: "create", username: "app_user_1" },
      { kind: "create", username: "app_user_2" },
      { kind: "set", username: "app_user_1", name: "work_mem", value: "8MB" },
      { kind: "set", username: "app_user_2", name: "work_mem", value: "8MB" },
    ]);
  });

  it("asks for the ADMIN option from PostgreSQL 16.0 exactly, and not before", () => {
    const noAdmin = { ...adoptable, managerGrant: undefined, memberOf: [] };
    const users = { app_user_1: noAdmin, app_user_2: noAdmin };
    const at = (serverVersionNum: number) =>
      planUserPair(observation({ serverVersionNum, users }), request({ memberOf: [] })).refusals;
    expect(at(160000)).to.have.length(2);
    expect(at(159999)).to.deep.equal([]);
  });

  it("refuses a manager that may use a user (INHERIT or SET), and sets only settings that differ", () => {
    const uses = { ...adoptable, managerGrant: { admin: true, inherit: false, set: true } };
    expect(
      planUserPair(observation({ users: { app_user_1: uses, app_user_2: adoptable } }), request())
        .refusals,
    ).to.deep.equal([{ kind: "manager-uses-user", username: "app_user_1" }]);
    const set = { ...adoptable, settings: { work_mem: "8MB", search_path: "x" } };
    const plan = planUserPair(
      observation({ users: { app_user_1: set, app_user_2: set } }),
      request({
        settings: { work_mem: "8MB", lock_timeout: "1s" },
        resetSettings: ["search_path"],
      }),
    );
    expect(plan.steps).to.deep.equal([
      { kind: "reset", username: "app_user_1", name: "search_path" },
      { kind: "set", username: "app_user_1", name: "lock_timeout", value: "1s" },
      { kind: "reset", username: "app_user_2", name: "search_path" },
      { kind: "set", username: "app_user_2", name: "lock_timeout", value: "1s" },
    ]);
  });

  it("needs ADMIN on a group to revoke it too, unless the manager granted it itself", () => {
    const seen = {
      ...adoptable,
      memberOf: ["app_users", "old"],
      grantors: { old: ["rotation_manager"] },
    };
    const groups = {
      app_users: { canLogin: false, superuser: false, managerAdmin: true },
      old: { canLogin: false, superuser: false, managerAdmin: false },
    };
    const plan = planUserPair(
      observation({ users: { app_user_1: seen, app_user_2: seen }, groups }),
      request({ revokeOtherMembershipsOf: ["app_user_1", "app_user_2"] }),
    );
    expect(plan.refusals).to.deep.equal([{ kind: "manager-lacks-admin-on-group", group: "old" }]);
  });

  it("snapshots a missing user as absent, and an existing one as a copy", () => {
    const seen = { ...adoptable, connectionLimit: 3, settings: { a: "1" } };
    const snapshot = snapshotOf(
      observation({ users: { app_user_1: seen, app_user_2: null } }),
      USERS,
    );
    expect(snapshot).to.deep.equal({
      app_user_1: {
        exists: true,
        canLogin: true,
        connectionLimit: 3,
        memberOf: ["app_users"],
        settings: { a: "1" },
      },
      app_user_2: {
        exists: false,
        canLogin: false,
        connectionLimit: -1,
        memberOf: [],
        settings: {},
      },
    });
    expect(snapshot.app_user_1.memberOf).to.not.equal(seen.memberOf);
  });

  it("words each drift, sorted by setting, and skips users no longer observed", () => {
    const was: RoleSnapshot = {
      exists: false,
      canLogin: false,
      connectionLimit: -1,
      memberOf: [],
      settings: {},
    };
    const is: RoleSnapshot = {
      exists: true,
      canLogin: true,
      connectionLimit: -1,
      memberOf: [],
      settings: { z: "1", a: "2" },
    };
    expect(pairDrift({ u: was, gone: was }, { u: is })).to.deep.equal([
      '"u" exists again',
      '"u" setting a changed outside Pulumi',
      '"u" setting z changed outside Pulumi',
    ]);
    expect(pairDrift({ u: is }, { u: is })).to.deep.equal([]);
  });

  it("resolves every optional input it is given, and fills the rest", () => {
    const resolved = resolveUserPairInputs({
      database: DATABASE,
      rotateUsers: USERS,
      memberOf: ["b", "a"],
      connectionLimit: 0 + 5,
      settings: { work_mem: "8MB" },
      scramIterations: 8192,
      deleteUsersOnDestroy: true,
    });
    expect(resolved).to.deep.include({
      memberOf: ["a", "b"],
      connectionLimit: 5,
      settings: { work_mem: "8MB" },
      scramIterations: 8192,
      deleteUsersOnDestroy: true,
    });
    const plain = resolveUserPairInputs({ database: DATABASE, rotateUsers: USERS });
    expect(plain).to.not.have.property("connectionLimit");
    expect(plain).to.not.have.property("settings");
    expect(plain).to.deep.include({
      memberOf: [],
      scramIterations: 4096,
      deleteUsersOnDestroy: false,
    });
    expect(() =>
      resolveUserPairInputs({
        database: DATABASE,
        rotateUsers: { username1: UNKNOWN, username2: "b" },
      }),
    ).to.throw(
      ValidationError,
      "rotateUsers.username1 is not known yet; it must be known to set up users",
    );
  });
});

describe("core/userPair: the outputs it records", () => {
  it("records what was applied, copies of the lists, and the initial state only when there is one", () => {
    const resolved = resolveUserPairInputs({
      database: DATABASE,
      rotateUsers: USERS,
      connectionLimit: 3,
      settings: { work_mem: "8MB" },
    });
    const created = ["app_user_1", "app_user_2"];
    const passwords = { app_user_1: "p1", app_user_2: "p2" };
    const initialState = initialStateOf(USERS, passwords)!;
    const outputs = buildUserPairOutputs(resolved, {
      created,
      passwords,
      initialState,
      oids: { app_user_1: 16390, app_user_2: 16391 },
      observed: {},
    });
    expect(outputs).to.deep.include({
      managingPassword: "m-secret",
      username1: "app_user_1",
      username2: "app_user_2",
      connectionLimit: 3,
      settings: { work_mem: "8MB" },
      created,
      passwords,
      initialState,
      oids: { app_user_1: 16390, app_user_2: 16391 },
      drift: [],
    });
    expect(outputs.created).to.not.equal(created);
    expect(outputs.passwords).to.not.equal(passwords);
    const bare = buildUserPairOutputs(
      resolveUserPairInputs({ database: DATABASE, rotateUsers: USERS }),
      {
        created: [],
        passwords: {},
        oids: {},
        observed: {},
      },
    );
    expect(bare).to.not.have.property("connectionLimit");
    expect(bare).to.not.have.property("settings");
    expect(bare).to.not.have.property("initialState");
    expect(initialStateOf(USERS, { app_user_2: "p2" })).to.equal(undefined);
    expect(initialStateOf(USERS, { app_user_1: "p1" })).to.equal(undefined);
  });
});

describe("core/userPair: predefined roles", () => {
  it("refuses pg_ roles in memberOf before anything runs, as PostgreSQL 16+ would for lack of ADMIN", () => {
    const problems = userPairInputProblems({
      database: DATABASE,
      rotateUsers: USERS,
      memberOf: ["app_users", "pg_execute_server_program", "pg_read_all_data"],
    });
    expect(problems).to.deep.equal([
      'memberOf[1] "pg_execute_server_program" is one of PostgreSQL\'s predefined roles; the users get only group roles of your own: as a superuser, GRANT pg_execute_server_program TO <your group role>',
      'memberOf[2] "pg_read_all_data" is one of PostgreSQL\'s predefined roles; the users get only group roles of your own: as a superuser, GRANT pg_read_all_data TO <your group role>',
    ]);
    expect(
      pairRequestProblems(
        { users: USERS, memberOf: ["pg_monitor"], revokeOtherMembershipsOf: [] },
        "req",
      ),
    ).to.have.length(1);
  });
});

describe("core/userPair: the last survivors that change behaviour", () => {
  const olds = outputsWith(["a", "b"]);

  it("compares memberOf in any order, and a secret-less database as unchanged", () => {
    const news = { database: DATABASE, rotateUsers: USERS, memberOf: ["b", "a"] };
    expect(planPairChange(olds, news)).to.equal("none");
    const { managingUser: _m, ...noManager } = DATABASE;
    void _m;
    expect(
      planPairChange(olds, {
        ...news,
        database: { ...noManager, managingUser: { username: "rotation_manager" } },
      }),
    ).to.equal("none");
    expect(planPairChange(olds, { ...news, database: undefined })).to.equal("update");
  });

  it("creates without a CONNECTION LIMIT when none is asked for", () => {
    const plan = planUserPair(observation(), request({ memberOf: [] }));
    expect(plan.steps).to.deep.equal([
      { kind: "create", username: "app_user_1" },
      { kind: "create", username: "app_user_2" },
    ]);
  });

  it("resets a setting no longer asked for when no settings are given at all", () => {
    const seen = { ...adoptable, settings: { work_mem: "8MB" } };
    const plan = planUserPair(
      observation({ users: { app_user_1: seen, app_user_2: adoptable } }),
      request({ resetSettings: ["work_mem"] }),
    );
    expect(plan.steps).to.deep.equal([{ kind: "reset", username: "app_user_1", name: "work_mem" }]);
  });

  it("reads null where an object belongs as a problem, not a crash", () => {
    expect(
      userPairInputProblems({ database: DATABASE, rotateUsers: USERS, settings: null }),
    ).to.deep.equal(["settings must be an object of setting names to values"]);
    expect(inputProblemsOf(null)).to.deep.equal([
      "database is required: {host, port, database, managingUser}",
    ]);
  });

  it("takes a list for a list setting, and refuses custom (dotted) settings", () => {
    const base = { database: DATABASE, rotateUsers: USERS };
    expect(
      userPairInputProblems({ ...base, settings: { search_path: ["app", "public"] } }),
    ).to.deep.equal([]);
    expect(userPairInputProblems({ ...base, settings: { search_path: [] } })).to.deep.equal([
      "settings.search_path must be a string, or a non-empty list of strings",
    ]);
    expect(userPairInputProblems({ ...base, settings: { "app.tenant": "a" } })).to.deep.equal([
      "settings.app.tenant: a custom (dotted) setting can be set on a role only by a superuser; set it yourself with ALTER ROLE … SET, or leave it out",
    ]);
    const seen = { ...adoptable, settings: { search_path: "app, public" } };
    const plan = planUserPair(
      observation({ users: { app_user_1: seen, app_user_2: seen } }),
      request({ settings: { search_path: ["app", "public"] } }),
    );
    expect(plan.steps).to.deep.equal([]);
  });
});

function inputProblemsOf(database: unknown): string[] {
  return userPairInputProblems({ database, rotateUsers: USERS }).filter((p) =>
    p.startsWith("database"),
  );
}

describe("core/userPair: which role holds each name (OIDs)", () => {
  const theirs: RoleObservation = { ...adoptable, oid: 20000 };
  const snapshot = (seen: RoleObservation): RoleSnapshot =>
    snapshotOf(observation({ users: { [USERS.username1]: seen } }), USERS)[USERS.username1];
  /** Outputs of a pair that created both users, with OIDs 16384 and 16385. */
  function createdPair(oids?: Record<string, number>): UserPairOutputs {
    const base = outputsWith(["app_users"]);
    const passwords = { app_user_1: "p1", app_user_2: "p2" };
    return {
      ...base,
      created: [USERS.username1, USERS.username2],
      passwords,
      initialState: initialStateOf(USERS, passwords)!,
      ...(oids ? { oids } : {}),
      observed: {
        [USERS.username1]: snapshot(adoptable),
        [USERS.username2]: snapshot({ ...adoptable, oid: 16385 }),
      },
    };
  }
  const both = (first: RoleObservation | null, second: RoleObservation | null) =>
    observation({ users: { [USERS.username1]: first, [USERS.username2]: second } });

  it("refuses a user holding its name under another OID than recorded, and plans no step", () => {
    const plan = planUserPair(
      both(theirs, { ...adoptable, oid: 16385, memberOf: [] }),
      request({ expectedOids: { [USERS.username1]: 16384, [USERS.username2]: 16385 } }),
    );
    expect(plan.refusals).to.deep.equal([
      { kind: "user-recreated", username: USERS.username1, oid: 20000, expected: 16384 },
    ]);
    expect(plan.steps).to.deep.equal([]);
    // The recorded OID, or none recorded: the user is planned as before.
    for (const expectedOids of [{ [USERS.username1]: 20000 }, {}]) {
      expect(planUserPair(both(theirs, null), request({ expectedOids })).refusals).to.deep.equal(
        [],
      );
    }
  });

  it("records the OID of each user that exists", () => {
    expect(oidsOf(both(adoptable, null), USERS)).to.deep.equal({ [USERS.username1]: 16384 });
  });

  it("on refresh, withdraws the password and initial state of a re-created user, and its place in created", () => {
    const props = createdPair({ [USERS.username1]: 16384, [USERS.username2]: 16385 });
    const read = refreshedOutputs(props, both(theirs, { ...adoptable, oid: 16385 }));
    expect(read.drift).to.deep.equal([
      `"${USERS.username1}" was dropped and created again outside Pulumi: it is not the role ` +
        `this resource created or adopted`,
    ]);
    expect(read.passwords).to.deep.equal({ [USERS.username2]: "p2" });
    expect(read).to.not.have.property("initialState");
    expect(read.created).to.deep.equal([USERS.username2]);
    expect(read.oids).to.deep.equal(props.oids);
    // Its own user still as applied: nothing changes but drift.
    expect(refreshedOutputs(props, both(adoptable, { ...adoptable, oid: 16385 }))).to.deep.equal(
      props,
    );
  });

  it("on refresh, withdraws the password and initial state of a user that no longer exists", () => {
    const props = createdPair({ [USERS.username1]: 16384, [USERS.username2]: 16385 });
    const read = refreshedOutputs(props, both(adoptable, null));
    expect(read.drift).to.deep.equal([`"${USERS.username2}" no longer exists`]);
    expect(read.passwords).to.deep.equal({ [USERS.username1]: "p1" });
    expect(read).to.not.have.property("initialState");
    expect(read.created).to.deep.equal(props.created);
  });

  it("on refresh of outputs without OIDs, records those of users exactly as applied only", () => {
    const changed = { ...adoptable, oid: 16399, memberOf: ["app_users", "other"] };
    const read = refreshedOutputs(createdPair(), both(changed, { ...adoptable, oid: 16385 }));
    expect(read.oids).to.deep.equal({ [USERS.username2]: 16385 });
    expect(read.passwords).to.deep.equal({ app_user_1: "p1", app_user_2: "p2" });
  });

  it("takes as OIDs only whole numbers from 1 to 2^32 - 1 by role name", () => {
    expect(isOidMap({ a: 1, b: 0xffffffff })).to.equal(true);
    for (const bad of [{ a: 0 }, { a: 2 ** 32 }, { a: 1.5 }, { a: "1" }, { "": 1 }, [], null]) {
      expect(isOidMap(bad), JSON.stringify(bad)).to.equal(false);
    }
    expect(pairRequestProblems({ ...request(), expectedOids: { a: -1 } }, "req")).to.deep.equal([
      "req.expectedOids must be an object of role names to OIDs",
    ]);
  });
});

describe("core/userPair: ownerRole", () => {
  const inputs = { database: DATABASE, rotateUsers: USERS, memberOf: ["app_users"] };

  it("must be one of memberOf, in inputs and in a request from outside", () => {
    expect(userPairInputProblems({ ...inputs, ownerRole: "app_users" })).to.deep.equal([]);
    const reason =
      `"owners" must be one of memberOf: the users' sessions can run only as a role they are ` +
      `members of`;
    expect(userPairInputProblems({ ...inputs, ownerRole: "owners" })).to.deep.equal([
      `ownerRole ${reason}`,
    ]);
    expect(
      userPairInputProblems({ ...inputs, memberOf: undefined, ownerRole: "x" }),
    ).to.have.length(1);
    expect(userPairInputProblems({ ...inputs, memberOf: UNKNOWN, ownerRole: "x" })).to.deep.equal(
      [],
    );
    expect(
      pairRequestProblems({ ...request(), ownerRole: "owners" }, "userPair.request"),
    ).to.deep.equal([`userPair.request.ownerRole ${reason}`]);
    expect(resolveUserPairInputs({ ...inputs, ownerRole: "app_users" }).ownerRole).to.equal(
      "app_users",
    );
  });

  it("sets role on created users and grants the owner WITH SET TRUE on 16+, not on 13-15", () => {
    const owned = request({ ownerRole: "app_users" });
    const modern = planUserPair(observation(), owned);
    expect(modern.steps).to.deep.include({
      kind: "grant",
      group: "app_users",
      username: USERS.username1,
      options: { inherit: true, set: true },
    });
    expect(modern.steps).to.deep.include({
      kind: "set",
      username: USERS.username2,
      name: "role",
      value: "app_users",
    });
    const old = planUserPair(observation({ serverVersionNum: 150000 }), owned);
    expect(old.steps).to.deep.include({
      kind: "grant",
      group: "app_users",
      username: USERS.username1,
    });
  });

  it("aligns adopted users: role set, SET granted to a membership without it, and nothing when they fit", () => {
    const withoutSet: RoleObservation = {
      ...adoptable,
      memberships: { app_users: { admin: false, inherit: true, set: false } },
    };
    const plan = planUserPair(
      observation({ users: { [USERS.username1]: withoutSet, [USERS.username2]: withoutSet } }),
      request({ ownerRole: "app_users" }),
    );
    expect(plan.refusals).to.deep.equal([]);
    expect(plan.steps).to.deep.include({
      kind: "grant",
      group: "app_users",
      username: USERS.username1,
      options: { inherit: true, set: true },
    });
    const fits: RoleObservation = {
      ...adoptable,
      settings: { role: "app_users" },
      memberships: { app_users: { admin: false, inherit: true, set: true } },
    };
    const none = planUserPair(
      observation({ users: { [USERS.username1]: fits, [USERS.username2]: fits } }),
      request({ ownerRole: "app_users" }),
    );
    expect(none).to.deep.equal({ refusals: [], steps: [] });
  });

  it("resets role only when it is no longer asked for", () => {
    const fits: RoleObservation = { ...adoptable, settings: { role: "app_users" } };
    const users = { [USERS.username1]: fits, [USERS.username2]: fits };
    const kept = planUserPair(
      observation({ users }),
      request({ ownerRole: "app_users", resetSettings: ["role"] }),
    );
    expect(kept.steps).to.deep.equal([]);
    const dropped = planUserPair(observation({ users }), request({ resetSettings: ["role"] }));
    expect(dropped.steps).to.deep.equal([
      { kind: "reset", username: USERS.username1, name: "role" },
      { kind: "reset", username: USERS.username2, name: "role" },
    ]);
  });

  it("is part of what an update compares", () => {
    const olds = { ...outputsWith(["app_users"]), ownerRole: "app_users" } as UserPairOutputs;
    const news = { database: DATABASE, rotateUsers: USERS, memberOf: ["app_users"] };
    expect(planPairChange(olds, { ...news, ownerRole: "app_users" })).to.equal("none");
    expect(planPairChange(olds, news)).to.equal("update");
  });
});

describe("core/userPair: both users identical", () => {
  const full: RoleObservation = {
    ...adoptable,
    attributes: {
      inherit: true,
      createDb: false,
      createRole: false,
      bypassRls: false,
      replication: false,
      validUntil: null,
    },
    memberships: { app_users: { admin: false, inherit: true, set: true } },
    databaseSettings: {},
  };
  const pairOf = (second: Partial<RoleObservation>) =>
    observation({ users: { [USERS.username1]: full, [USERS.username2]: { ...full, ...second } } });

  it("refuses every difference, naming the odd user, and plans no step", () => {
    const plan = planUserPair(
      pairOf({
        attributes: { ...full.attributes!, inherit: false, createDb: true, validUntil: "2999" },
        connectionLimit: 5,
        settings: { work_mem: "8MB" },
        databaseSettings: { app: { search_path: "x" } },
        memberships: { app_users: { admin: true, inherit: false, set: true } },
      }),
      request({ settings: { statement_timeout: "1s" } }),
    );
    expect(plan.steps).to.deep.equal([]);
    const [a, b] = [USERS.username1, USERS.username2];
    expect(plan.refusals.map((r) => (r.kind === "users-differ" ? r.difference : r))).to.deep.equal([
      { kind: "attribute", attribute: "inherit", odd: b, other: a },
      { kind: "attribute", attribute: "createDb", odd: b, other: a },
      { kind: "valid-until", users: [a, b], dated: [b] },
      {
        kind: "connection-limit",
        limits: [
          [a, -1],
          [b, 5],
        ],
      },
      { kind: "setting", database: null, name: "work_mem", holders: [b], other: a },
      { kind: "setting", database: "app", name: "search_path", holders: [b], other: a },
      { kind: "membership", group: "app_users", option: "admin", odd: b, other: a },
      { kind: "membership", group: "app_users", option: "inherit", odd: b, other: a },
    ]);
  });

  it("aligns what it manages (the limit, listed settings) instead of refusing it", () => {
    const plan = planUserPair(
      pairOf({ connectionLimit: 5, settings: { work_mem: "8MB" } }),
      request({ connectionLimit: 5, settings: { work_mem: "8MB" } }),
    );
    expect(plan.refusals).to.deep.equal([]);
    expect(plan.steps).to.deep.equal([
      { kind: "connectionLimit", username: USERS.username1, limit: 5 },
      { kind: "set", username: USERS.username1, name: "work_mem", value: "8MB" },
    ]);
  });

  it("compares an adopted user with the one it would create", () => {
    const odd = { ...full, attributes: { ...full.attributes!, bypassRls: true } };
    const plan = planUserPair(observation({ users: { [USERS.username1]: odd } }), request());
    expect(plan.refusals).to.deep.equal([
      {
        kind: "users-differ",
        difference: {
          kind: "attribute",
          attribute: "bypassRls",
          odd: USERS.username1,
          other: USERS.username2,
        },
      },
    ]);
  });

  it("leaves parts an older connector did not observe uncompared", () => {
    const plan = planUserPair(
      observation({ users: { [USERS.username1]: adoptable, [USERS.username2]: full } }),
      request(),
    );
    expect(plan).to.deep.equal({ refusals: [], steps: [] });
  });

  it("reports drift in attributes, options and per-database settings, only for snapshots that hold them", () => {
    const was = snapshotOf(pairOf({}), USERS);
    const now = snapshotOf(
      pairOf({
        attributes: { ...full.attributes!, replication: true, validUntil: "2999" },
        databaseSettings: { app: { work_mem: "1MB" } },
        memberships: { app_users: { admin: false, inherit: true, set: false } },
      }),
      USERS,
    );
    const u = USERS.username2;
    expect(pairDrift(was, now)).to.deep.equal([
      `"${u}" now has REPLICATION`,
      `"${u}" VALID UNTIL changed outside Pulumi`,
      `"${u}"'s membership in "app_users" is now SET FALSE`,
      `"${u}" setting work_mem in database "app" changed outside Pulumi`,
    ]);
    const legacy = Object.fromEntries(
      Object.entries(was).map(([k, v]) => [
        k,
        { ...v, attributes: undefined, memberships: undefined, databaseSettings: undefined },
      ]),
    );
    expect(pairDrift(legacy, now)).to.deep.equal([]);
  });
});
