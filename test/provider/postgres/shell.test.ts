import { expect } from "chai";
import type { Client } from "pg";
import { Client as PgClient } from "pg";
import {
  ConcurrentRotationError,
  ForbiddenRoleError,
  PermissionDeniedError,
  RoleNotFoundError,
  StatementTimeoutError,
  ValidationError,
  VerificationError,
} from "../../../provider/errors";
import { generatePassword } from "../../../provider/core/password";
import { resolveInputs } from "../../../provider/core/validate";
import type { UserPair } from "../../../provider/core/types";
import { WHOAMI_SQL, lockRoleSql, quoteIdentifier } from "../../../provider/postgres/sql";
import { ownedObjectsMessage, postgresShell } from "../../../provider/postgres/shell";
import { startPgProxy, type PgProxy } from "../../support/pgProxy";
import { expectNoSecrets, rejection, renderings } from "../../support/secrets";
import {
  TEST_MAJORS,
  cluster,
  privateCluster,
  uniqueName,
  type TestCluster,
} from "../../support/servers";

for (const major of TEST_MAJORS) {
  describe(`postgresShell on PostgreSQL ${major}`, function () {
    let pg: TestCluster;
    before(async () => {
      pg = await cluster(major);
    });

    function shellFor(pair: UserPair, overrides: Record<string, unknown> = {}) {
      return postgresShell(
        resolveInputs({ database: pg.database, rotateUsers: pair, ...overrides }),
      );
    }

    it("changes a password and proves it by logging in", async () => {
      const pair = await pg.createPair();
      const password = generatePassword();
      await shellFor(pair).changePassword(pair.username1, password);
      expect(await pg.canLogin(pair.username1, password)).to.equal(true);
    });

    it("refuses to rotate a superuser, even for a superuser manager", async () => {
      const pair = await pg.createPair();
      const admin = uniqueName("admin");
      const original = generatePassword();
      await pg.asSuperuser((c) => c.query(`CREATE ROLE ${quoteIdentifier(admin)} LOGIN SUPERUSER`));
      await pg.setPassword(admin, original);
      const error = await rejection(shellFor(pair).changePassword(admin, generatePassword()));
      expect(error).to.be.instanceOf(ForbiddenRoleError);
      expect(error.message).to.include("superuser");
      expect(await pg.canLogin(admin, original)).to.equal(true);
    });

    it("refuses to rotate the managing user itself", async () => {
      const pair = await pg.createPair();
      const error = await rejection(
        shellFor(pair).changePassword(pg.manager.username, generatePassword()),
      );
      expect(error).to.be.instanceOf(ForbiddenRoleError);
      expect(error.message).to.include("managing user itself");
      expect(await pg.canLogin(pg.manager.username, pg.manager.password)).to.equal(true);
    });

    it("refuses a name PostgreSQL would truncate before any SQL, even one naming the manager", async () => {
      const pair = await pg.createPair();
      const before = pg.server.readLog().length;
      const long = `${pg.manager.username}${"x".repeat(64 - pg.manager.username.length)}`;
      const error = await rejection(shellFor(pair).changePassword(long, generatePassword()));
      expect(error).to.be.instanceOf(ValidationError);
      expect(error.message).to.include("the role to rotate is 64 bytes long");
      const login = await rejection(
        shellFor(pair).checkLogin({ username: long, password: pg.manager.password }),
      );
      expect(login).to.be.instanceOf(ValidationError);
      expect(pg.server.readLog().slice(before)).to.not.include("connection authorized");
    });

    it("names a role that does not exist", async () => {
      const pair = await pg.createPair();
      const error = await rejection(
        shellFor(pair).changePassword("no_such_role", generatePassword()),
      );
      expect(error).to.be.instanceOf(RoleNotFoundError);
      expect(error.message).to.include('"no_such_role" does not exist');
    });

    it("refuses NOLOGIN roles and roles past VALID UNTIL", async () => {
      const pair = await pg.createPair();
      await pg.asSuperuser((c) => c.query(`ALTER ROLE ${quoteIdentifier(pair.username1)} NOLOGIN`));
      await pg.asSuperuser((c) =>
        c.query(`ALTER ROLE ${quoteIdentifier(pair.username2)} VALID UNTIL '2000-01-01'`),
      );
      const shell = shellFor(pair);
      const nologin = await rejection(shell.changePassword(pair.username1, generatePassword()));
      expect(nologin).to.be.instanceOf(ForbiddenRoleError);
      expect(nologin.message).to.include("NOLOGIN");
      const expired = await rejection(shell.changePassword(pair.username2, generatePassword()));
      expect(expired).to.be.instanceOf(ForbiddenRoleError);
      expect(expired.message).to.include("VALID UNTIL");
    });

    it("explains what a manager without the privilege needs, for this version", async () => {
      const pair = await pg.createPair();
      const weak = { username: uniqueName("weak_manager"), password: generatePassword() };
      // On 16+ CREATEROLE alone is not enough; before 16 a manager without CREATEROLE fails.
      const attributes = major >= 16 ? "LOGIN CREATEROLE" : "LOGIN";
      await pg.asSuperuser((c) =>
        c.query(`CREATE ROLE ${quoteIdentifier(weak.username)} ${attributes}`),
      );
      await pg.setPassword(weak.username, weak.password);
      const newPassword = generatePassword();
      const shell = postgresShell(
        resolveInputs({ database: { ...pg.database, managingUser: weak }, rotateUsers: pair }),
      );
      const error = await rejection(shell.changePassword(pair.username1, newPassword));
      expect(error).to.be.instanceOf(PermissionDeniedError);
      expect(error.message).to.match(
        major >= 16 ? /WITH ADMIN TRUE, INHERIT FALSE, SET FALSE/ : /CREATEROLE/,
      );
      expectNoSecrets(renderings(error), [weak.password, newPassword]);
      expect(await pg.canLogin(pair.username1, newPassword)).to.equal(false);
    });

    it("cancels a statement that outlasts timeouts.statementSeconds and changes nothing", async () => {
      const pair = await pg.createPair();
      const blocker = await pg.server.connectAsSuperuser("app");
      try {
        // An open transaction holding the role's catalog row makes ALTER ROLE wait.
        await blocker.query("BEGIN");
        await blocker.query(`ALTER ROLE ${quoteIdentifier(pair.username1)} CONNECTION LIMIT 5`);
        const shell = shellFor(pair, { timeouts: { statementSeconds: 0.3, lockSeconds: 30 } });
        const password = generatePassword();
        const error = await rejection(shell.changePassword(pair.username1, password));
        expect(error).to.be.instanceOf(StatementTimeoutError);
        expect(error.message).to.include("timeouts.statementSeconds");
        await blocker.query("ROLLBACK");
        expect(await pg.canLogin(pair.username1, password)).to.equal(false);
      } finally {
        await blocker.end();
      }
    });

    describe("while another rotation of the role holds its lock (in another database)", () => {
      let holder: Client;
      let pair: UserPair;
      beforeEach(async () => {
        pair = await pg.createPair();
        // A rotation in flight, through another database of the cluster: the lock is the role's.
        holder = await pg.server.connectAsSuperuser("postgres");
        await holder.query("BEGIN");
        await holder.query(lockRoleSql(pair.username1));
      });
      afterEach(async () => {
        await holder.query("ROLLBACK").catch(() => undefined);
        await holder.end();
      });

      /** Ends the holder's transaction after `ms`; resolves with when it did. */
      const endHolder = (how: "COMMIT" | "ROLLBACK", ms: number) =>
        new Promise((r) => setTimeout(r, ms)).then(async () => {
          await holder.query(how);
          return Date.now();
        });

      it("gives up after timeouts.lockSeconds and changes nothing", async () => {
        const shell = shellFor(pair, { timeouts: { lockSeconds: 0.3 } });
        const password = generatePassword();
        const error = await rejection(shell.changePassword(pair.username1, password));
        expect(error).to.be.instanceOf(ConcurrentRotationError);
        expect(error.message).to.include("timeouts.lockSeconds");
        expect(await pg.canLogin(pair.username1, password)).to.equal(false);
      });

      it("proceeds once the other rotation gives up (rolls back), after it did", async () => {
        const password = generatePassword();
        const released = endHolder("ROLLBACK", 400);
        await shellFor(pair).changePassword(pair.username1, password);
        const done = Date.now();
        expect(done).to.be.at.least(await released);
        expect(await pg.canLogin(pair.username1, password)).to.equal(true);
      });

      it("fails, changing nothing, once the other rotation commits: its state is stale now", async () => {
        const password = generatePassword();
        const committed = endHolder("COMMIT", 400);
        const error = await rejection(shellFor(pair).changePassword(pair.username1, password));
        await committed;
        expect(error).to.be.instanceOf(ConcurrentRotationError);
        expect(error.message).to.include("Nothing was changed");
        expect(await pg.canLogin(pair.username1, password)).to.equal(false);
      });

      it("waits lockSeconds even when it is longer than statementSeconds", async () => {
        const password = generatePassword();
        const released = endHolder("ROLLBACK", 900);
        const shell = shellFor(pair, { timeouts: { statementSeconds: 0.3, lockSeconds: 5 } });
        await shell.changePassword(pair.username1, password);
        expect(Date.now()).to.be.at.least(await released);
      });

      it("does not block another role", async () => {
        await shellFor(pair, { timeouts: { lockSeconds: 0.3 } }).changePassword(
          pair.username2,
          generatePassword(),
        );
      });
    });

    describe("proving the state being replaced is still the database's", () => {
      const markOf = (role: string) =>
        pg.asSuperuser(async (c) => {
          const { rows } = await c.query<{ d: string | null }>(
            "SELECT shobj_description(oid, 'pg_authid') AS d FROM pg_roles WHERE rolname = $1",
            [role],
          );
          return rows[0]?.d ?? null;
        });

      it("marks the role's comment with the rotation's id, keeping the rest of the comment", async () => {
        const pair = await pg.createPair();
        await pg.asSuperuser((c) =>
          c.query(`COMMENT ON ROLE ${quoteIdentifier(pair.username1)} IS 'owned by team A'`),
        );
        const { rotationId } = await shellFor(pair).changePassword(
          pair.username1,
          generatePassword(),
        );
        expect(await markOf(pair.username1)).to.match(
          new RegExp(`^owned by team A\npulumi-postgres-rotator: rotation ${rotationId} at \\S+$`),
        );
      });

      it("two rotations from the same state: the second fails and changes nothing", async () => {
        const pair = await pg.createPair();
        const first = await shellFor(pair).changePassword(pair.username1, generatePassword());
        const stateId = first.rotationId!;
        // Rival A rotates from that state; rival B, from the same state, must not win too.
        const a = generatePassword();
        await shellFor(pair).changePassword(pair.username1, a, { expectedId: stateId });
        const b = generatePassword();
        const error = await rejection(
          shellFor(pair).changePassword(pair.username1, b, { expectedId: stateId }),
        );
        expect(error).to.be.instanceOf(ConcurrentRotationError);
        expect(error.message).to.include("Nothing was changed");
        expect(await pg.canLogin(pair.username1, a)).to.equal(true);
      });

      it("repairs a password an operator reset by hand (the mark is still this state's)", async () => {
        const pair = await pg.createPair();
        const { rotationId } = await shellFor(pair).changePassword(
          pair.username1,
          generatePassword(),
        );
        await pg.setPassword(pair.username1, generatePassword());
        const repaired = generatePassword();
        await shellFor(pair).changePassword(pair.username1, repaired, { expectedId: rotationId });
        expect(await pg.canLogin(pair.username1, repaired)).to.equal(true);
      });

      it("repairs a role an operator dropped and created again (no mark at all)", async () => {
        const pair = await pg.createPair();
        const { rotationId } = await shellFor(pair).changePassword(
          pair.username1,
          generatePassword(),
        );
        const group = (
          await pg.asSuperuser((c) =>
            c.query<{ g: string }>(
              `SELECT g.rolname AS g FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid
             JOIN pg_roles u ON u.oid = m.member WHERE u.rolname = $1`,
              [pair.username1],
            ),
          )
        ).rows[0].g;
        const u = quoteIdentifier(pair.username1);
        await pg.asSuperuser(async (c) => {
          await c.query(`DROP ROLE ${u}`);
          await c.query(`CREATE ROLE ${u} LOGIN IN ROLE ${quoteIdentifier(group)}`);
          if (major >= 16) {
            await c.query(
              `GRANT ${u} TO ${quoteIdentifier(pg.manager.username)} WITH ADMIN TRUE, INHERIT FALSE, SET FALSE`,
            );
          }
        });
        const repaired = generatePassword();
        await shellFor(pair).changePassword(pair.username1, repaired, { expectedId: rotationId });
        expect(await pg.canLogin(pair.username1, repaired)).to.equal(true);
      });

      it("without a known id, a marked role's known password must still log in", async () => {
        const pair = await pg.createPair();
        const known = generatePassword();
        await shellFor(pair).changePassword(pair.username1, known);
        // The known password works: the adopted state is the database's; it proceeds.
        const next = generatePassword();
        await shellFor(pair).changePassword(pair.username1, next, { knownPassword: known });
        // A rival changed it since (the stale `known` no longer logs in): refused.
        const error = await rejection(
          shellFor(pair).changePassword(pair.username1, generatePassword(), {
            knownPassword: known,
          }),
        );
        expect(error).to.be.instanceOf(ConcurrentRotationError);
        expect(await pg.canLogin(pair.username1, next)).to.equal(true);
      });
    });
  });
}

const newestMajor = TEST_MAJORS[TEST_MAJORS.length - 1];

describe(`README claims about what the server sees, on PostgreSQL ${newestMajor}`, function () {
  let pg: TestCluster;
  before(async () => {
    pg = await cluster(newestMajor);
  });

  /** The verifiers the server log shows in ALTER ROLE … PASSWORD since `from`. */
  const verifiersLogged = (from: number) =>
    [
      ...pg.server
        .readLog()
        .slice(from)
        .matchAll(/PASSWORD '(SCRAM-SHA-256\$[^']+)'/g),
    ].map((m) => m[1]);

  it("errors never contain a verifier: not after a failed login test, not on a timed-out ALTER", async () => {
    const from = pg.server.readLog().length;
    const errors: Error[] = [];
    // The verifier is set, then the login that proves it fails (CONNECTION LIMIT 0).
    const pair = await pg.createPair();
    await pg.asSuperuser((c) =>
      c.query(`ALTER ROLE ${quoteIdentifier(pair.username1)} CONNECTION LIMIT 0`),
    );
    const shell = postgresShell(resolveInputs({ database: pg.database, rotateUsers: pair }));
    errors.push(await rejection(shell.changePassword(pair.username1, generatePassword())));
    // The ALTER ROLE carrying the verifier is cancelled by the statement timeout.
    const blocked = await pg.createPair();
    const blocker = await pg.server.connectAsSuperuser("app");
    try {
      await blocker.query("BEGIN");
      await blocker.query(`ALTER ROLE ${quoteIdentifier(blocked.username1)} CONNECTION LIMIT 5`);
      const slow = postgresShell(
        resolveInputs({
          database: pg.database,
          rotateUsers: blocked,
          timeouts: { statementSeconds: 0.3, lockSeconds: 30 },
        }),
      );
      errors.push(await rejection(slow.changePassword(blocked.username1, generatePassword())));
    } finally {
      await blocker.query("ROLLBACK");
      await blocker.end();
    }
    expect(errors.map((e) => e.name)).to.deep.equal(["VerificationError", "StatementTimeoutError"]);
    const verifiers = verifiersLogged(from);
    expect(verifiers, "verifiers the server was sent").to.have.length.of.at.least(2);
    // The whole verifier, and each of its keys alone.
    const parts = verifiers.flatMap((v) => [v, ...v.split("$")[2].split(":")]);
    for (const error of errors) expectNoSecrets(renderings(error), parts);
  });

  describe("the verifying login checks who the session is", () => {
    let proxy: PgProxy | undefined;
    afterEach(() => proxy?.close());

    /** A rotation of a new pair's username1 through `proxy` (or directly), and the log it left. */
    async function rotateThrough(
      rewrite?: (name: string, value: string) => string | null,
      prepare?: (pair: UserPair) => Promise<unknown>,
    ) {
      const pair = await pg.createPair();
      await prepare?.(pair);
      const password = generatePassword();
      let database = pg.database;
      if (rewrite) {
        proxy = await startPgProxy(pg.server, { parameterStatus: rewrite });
        database = { ...pg.database, host: proxy.host, port: proxy.port };
      }
      const from = pg.server.readLog().length;
      const shell = postgresShell(resolveInputs({ database, rotateUsers: pair }));
      const outcome = await shell.changePassword(pair.username1, password).then(
        () => undefined,
        (error: Error) => error,
      );
      return { pair, password, outcome, log: pg.server.readLog().slice(from) };
    }

    it("from the user the server reports at login, without a query", async () => {
      const { pair, password, outcome, log } = await rotateThrough();
      expect(outcome).to.equal(undefined);
      expect(log).to.include(`user=${pair.username1}`);
      expect(log).to.not.include(WHOAMI_SQL);
      expect(await pg.canLogin(pair.username1, password)).to.equal(true);
    });

    it("with a query when a proxy drops the server's report", async () => {
      const { pair, password, outcome, log } = await rotateThrough((name, value) =>
        name === "session_authorization" ? null : value,
      );
      expect(outcome).to.equal(undefined);
      expect(log).to.include(WHOAMI_SQL);
      expect(await pg.canLogin(pair.username1, password)).to.equal(true);
    });

    it("as the session user, when the user's sessions run as its group (ALTER ROLE … SET role)", async () => {
      const { pair, password, outcome, log } = await rotateThrough(
        (name, value) => (name === "session_authorization" ? null : value),
        (pair) =>
          pg.asSuperuser(async (c) => {
            const { rows } = await c.query<{ g: string }>(
              `SELECT g.rolname AS g FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid
               JOIN pg_roles u ON u.oid = m.member WHERE u.rolname = $1`,
              [pair.username1],
            );
            await c.query(
              `ALTER ROLE ${quoteIdentifier(pair.username1)} SET role = ${quoteIdentifier(rows[0].g)}`,
            );
          }),
      );
      expect(outcome).to.equal(undefined);
      expect(log).to.include(WHOAMI_SQL);
      expect(await pg.canLogin(pair.username1, password)).to.equal(true);
    });

    it("and fails the rotation when the session is another role", async () => {
      const { pair, outcome } = await rotateThrough((name, value) =>
        name === "session_authorization" ? "someone_else" : value,
      );
      expect(outcome).to.be.instanceOf(VerificationError);
      expect(outcome!.message).to.include(
        `logged in as "${pair.username1}" but the server says the session is "someone_else"`,
      );
    });
  });

  it("an established session survives a password change; a new login with the old one fails", async () => {
    const pair = await pg.createPair();
    const old = generatePassword();
    await pg.setPassword(pair.username1, old);
    const app = new PgClient({
      host: pg.server.host,
      port: pg.server.port,
      database: "app",
      user: pair.username1,
      password: old,
      ssl: false,
    });
    await app.connect();
    try {
      const rotated = generatePassword();
      // "warn": the guard for live apps would otherwise refuse, because this session is open.
      const warnings: string[] = [];
      const shell = postgresShell(
        resolveInputs({ database: pg.database, rotateUsers: pair, liveSessions: "warn" }),
        [old],
        { warn: (line) => warnings.push(line) },
      );
      await shell.changePassword(pair.username1, rotated);
      expect(warnings.join("\n")).to.include("1 open session");
      const { rows } = await app.query<{ who: string }>("SELECT current_user AS who");
      expect(rows[0].who).to.equal(pair.username1);
      expect(await pg.canLogin(pair.username1, old)).to.equal(false);
      expect(await pg.canLogin(pair.username1, rotated)).to.equal(true);
    } finally {
      await app.end();
    }
  });
});

describe("pg_stat_statements never sees a plaintext password", function () {
  this.timeout(120_000);
  for (const major of [...new Set([TEST_MAJORS[0], newestMajor])]) {
    it(`on PostgreSQL ${major} with the extension loaded, after rotations and a user pair`, async () => {
      const pg = await privateCluster({
        major,
        settings: {
          shared_preload_libraries: "pg_stat_statements",
          "pg_stat_statements.track_utility": "on",
        },
      });
      await pg.asSuperuser((c) => c.query("CREATE EXTENSION pg_stat_statements"));
      const pair = await pg.createPair();
      const passwords: string[] = [pg.manager.password];
      const shell = postgresShell(resolveInputs({ database: pg.database, rotateUsers: pair }));
      for (const user of [pair.username1, pair.username2, pair.username1]) {
        const password = generatePassword();
        passwords.push(password);
        await shell.changePassword(user, password);
      }
      const statements = await pg.asSuperuser(async (c) => {
        const { rows } = await c.query<{ query: string }>("SELECT query FROM pg_stat_statements");
        return rows.map((r) => r.query).join("\n");
      });
      // It did record the password changes, so it would have seen a plaintext one.
      expect(statements).to.match(/ALTER ROLE/);
      expectNoSecrets(statements, passwords);
    });
  }
});

describe("ownedObjectsMessage (pure)", () => {
  const owned = {
    byOwner: { app_user_2: 6, app_user_1: 1 },
    elsewhere: {},
    examples: [
      ["schema", "billing"],
      ["table", "billing.orders"],
      ["sequence", "billing.orders_id_seq"],
      ["database", "reports"],
      ["view", "billing.v"],
    ] as [string, string][],
  };

  it("warns with the count by owner, three names, the rest counted, and the fix", () => {
    expect(ownedObjectsMessage("app_user_1", owned, "warn", "app")).to.equal(
      'changing the password of "app_user_1" anyway (ownership: "warn"): the pair\'s users own ' +
        '7 database object(s) themselves ("app_user_1" owns 1, "app_user_2" owns 6), in "app": ' +
        'schema "billing", table "billing.orders", sequence "billing.orders_id_seq", and 4 more. ' +
        "Other databases hold none. After the switch the other user cannot ALTER, DROP or " +
        "TRUNCATE what its partner owns, so the next migration fails. Have a group own them: " +
        "set ownerRole (both users' sessions then create objects as that group), and hand over " +
        'what exists with REASSIGN OWNED BY "app_user_1" TO <group>; REASSIGN OWNED BY ' +
        '"app_user_2" TO <group>; in "app"',
    );
  });

  it("refuses with the way to rotate regardless; counts other databases without names", () => {
    const message = ownedObjectsMessage(
      "app_user_1",
      { byOwner: { app_user_2: 3 }, elsewhere: { reports: 2 }, examples: [["table", "t"]] },
      "refuse",
      "app",
    );
    expect(message).to.match(/^refusing to change the password of "app_user_1": /);
    expect(message).to.include('("app_user_2" owns 3), in "app": table "t". In other databases');
    expect(message).to.include('(counted, not named: run the fix in each): "reports" 2.');
    expect(message).to.include('in "app" and in each other database named');
    expect(message).to.match(/; or set ownership to "warn" or "ignore" to rotate regardless$/);
    // Nothing here, all elsewhere: no list of names.
    expect(
      ownedObjectsMessage(
        "u",
        { byOwner: { u: 2 }, elsewhere: { other: 2 }, examples: [] },
        "warn",
        "app",
      ),
    ).to.include('("u" owns 2). In other databases');
  });

  it("writes every name from the server as an escaped JSON string, one line", () => {
    const forged = 'x"\n\u2028warning: all good';
    const message = ownedObjectsMessage(
      forged,
      {
        byOwner: { [forged]: 2 },
        elsewhere: { [forged]: 1 },
        examples: [["table", `public.${forged}`]],
      },
      "refuse",
      forged,
    );
    expect(message).to.not.match(/[\n\u2028]/);
    expect(message).to.include('table "public.x\\"\\n\\u2028warning: all good"');
    // In SQL, the owner is a quoted identifier.
    expect(message).to.include(
      'REASSIGN OWNED BY "x""\\u000a\\u2028warning: all good" TO <group>;',
    );
  });
});
