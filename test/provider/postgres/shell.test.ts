import { expect } from "chai";
import type { Client } from "pg";
import { Client as PgClient } from "pg";
import {
  AuthenticationError,
  ConcurrentRotationError,
  ConnectionError,
  ForbiddenRoleError,
  LiveSessionsError,
  PermissionDeniedError,
  RoleNotFoundError,
  StatementTimeoutError,
  ValidationError,
  VerificationError,
} from "../../../provider/errors";
import { generatePassword } from "../../../provider/core/password";
import { resolveInputs } from "../../../provider/core/validate";
import type { RotationState, UserPair } from "../../../provider/core/types";
import { WHOAMI_SQL, lockRoleSql, quoteIdentifier } from "../../../provider/postgres/sql";
import {
  liveSessionsMessage,
  ownedObjectsMessage,
  postgresShell,
  privilegeHint,
  type ShellOptions,
} from "../../../provider/postgres/shell";
import { startPgProxy, type PgProxy } from "../../support/pgProxy";
import { expectNoSecrets, rejection, renderings } from "../../support/secrets";
import {
  TEST_MAJORS,
  cluster,
  privateCluster,
  uniqueName,
  type TestCluster,
} from "../../support/servers";
import { terminateSessionsBlocking } from "../../support/terminateBlocking";

for (const major of TEST_MAJORS) {
  describe(`postgresShell on PostgreSQL ${major}`, function () {
    let pg: TestCluster;
    before(async () => {
      pg = await cluster(major);
    });

    function shellFor(
      pair: UserPair,
      overrides: Record<string, unknown> = {},
      options: ShellOptions = {},
    ) {
      return postgresShell(
        resolveInputs({ database: pg.database, rotateUsers: pair, ...overrides }),
        [],
        options,
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
      expect(login.message).to.include("the role to log in as is 64 bytes long");
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
      expect(expired.message).to.equal(
        `refusing to rotate "${pair.username2}": its VALID UNTIL date has passed, so no ` +
          `password can log in; run ALTER ROLE … VALID UNTIL 'infinity' first`,
      );
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
      expect((error.cause as { code?: string }).code).to.equal("42501");
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
        expect(error.message).to.match(
          new RegExp(`^changing the password of "${pair.username1}" as the managing user "`),
        );
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
        expect(error.message).to.match(
          new RegExp(
            `^locking "${pair.username1}" to rotate it as the managing user ` +
              `"${pg.manager.username}" on `,
          ),
        );
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
        expect(error.message).to.equal(
          `locking "${pair.username1}" to rotate it failed: another rotation of this role ` +
            `committed while this one waited for it, so the state this one started from is ` +
            `stale. Nothing was changed; run again from the newest state`,
        );
        expect((error.cause as Error).message).to.match(
          /duplicate key|tuple concurrently (updated|deleted)/,
        );
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
        const { rotationId } = await shellFor(pair).changePassword(pair.username1, next, {
          knownPassword: known,
        });
        // A rival changed it since (the stale `known` no longer logs in): refused.
        const error = await rejection(
          shellFor(pair).changePassword(pair.username1, generatePassword(), {
            knownPassword: known,
          }),
        );
        expect(error).to.be.instanceOf(ConcurrentRotationError);
        const at = /rotation \S+ at (\S+)$/.exec((await markOf(pair.username1))!)![1];
        expect(error.message).to.equal(
          `refusing to rotate "${pair.username1}": another rotation changed its password ` +
            `(rotation ${rotationId} at ${at}) since the state being replaced was made, so that ` +
            `state is stale and rotating from it would leave its holder with a dead password. ` +
            `Nothing was changed. Two rotations started from the same state, or another system ` +
            `(another stack, a script, Pulumi ESC) rotates this pair too: only one should. To ` +
            `continue from the database as it is, give working credentials as the state input ` +
            `(or keep the state in ESC with the esc input)`,
        );
        expect(await pg.canLogin(pair.username1, next)).to.equal(true);
      });

      it('with staleState "rotate", rotates over a known password that no longer logs in, warning', async () => {
        const pair = await pg.createPair();
        const known = generatePassword();
        await shellFor(pair).changePassword(pair.username1, known);
        await pg.setPassword(pair.username1, generatePassword());
        const warnings: string[] = [];
        const next = generatePassword();
        await shellFor(pair, {}, { warn: (line) => warnings.push(line) }).changePassword(
          pair.username1,
          next,
          { knownPassword: known, staleState: "rotate" },
        );
        expect(warnings).to.deep.equal([
          `warning: the password the caller's state holds for "${pair.username1}" no longer ` +
            `logs in: it was changed outside the caller's rotations (by hand, or by an attempt ` +
            `whose result was not kept). Rotating anyway, as Pulumi's official connector does`,
        ]);
        expect(await pg.canLogin(pair.username1, next)).to.equal(true);
      });

      it("a known password's login that fails for another reason than the password is that failure", async () => {
        const pair = await pg.createPair();
        const known = generatePassword();
        await shellFor(pair).changePassword(pair.username1, known);
        await pg.asSuperuser((c) =>
          c.query(`ALTER ROLE ${quoteIdentifier(pair.username1)} CONNECTION LIMIT 0`),
        );
        const next = generatePassword();
        const error = await rejection(
          shellFor(pair).changePassword(pair.username1, next, { knownPassword: known }),
        );
        expect(error).to.not.be.instanceOf(ConcurrentRotationError);
        expect(error.message).to.include("too many connections for role");
        expect(await pg.canLogin(pair.username1, next)).to.equal(false);
      });

      it("names the rotation's holder in the mark", async () => {
        const pair = await pg.createPair();
        const holder = "stack-a/rotation-1";
        const { rotationId } = await shellFor(pair).changePassword(
          pair.username1,
          generatePassword(),
          { holder },
        );
        expect(await markOf(pair.username1)).to.match(
          new RegExp(`^pulumi-postgres-rotator: rotation ${rotationId} at \\S+ by ${holder}$`),
        );
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
      const reason = `logged in as "${pair.username1}" but the server says the session is "someone_else"`;
      expect(outcome!.message).to.equal(
        `the password of "${pair.username1}" was changed, but logging in with it failed: ` +
          `${reason}. The current credentials were not touched and the state was not ` +
          `advanced; fix the cause and run the rotation again`,
      );
      expect((outcome!.cause as Error).message).to.equal(reason);
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

describe(`postgresShell's secrets, messages and sessions, on PostgreSQL ${newestMajor}`, function () {
  let pg: TestCluster;
  before(async () => {
    pg = await cluster(newestMajor);
  });

  const shellFor = (
    pair: UserPair,
    overrides: Record<string, unknown> = {},
    options?: ShellOptions,
  ) =>
    postgresShell(
      resolveInputs({ database: pg.database, rotateUsers: pair, ...overrides }),
      [],
      options,
    );
  const managerLogins = () =>
    pg.server.readLog().split(`connection authorized: user=${pg.manager.username} `).length - 1;

  it("keeps every password it knows out of an error the server quotes one in", async () => {
    const pair = await pg.createPair();
    const [current, previous, known] = [generatePassword(), generatePassword(), generatePassword()];
    const state = {
      current: { username: pair.username1, password: current },
      previous: { username: pair.username2, password: previous },
    };
    // The server names the database it cannot find: here, a password.
    const quoting = (secret: string, withState: RotationState = state) =>
      postgresShell(
        resolveInputs({
          database: { ...pg.database, database: secret },
          rotateUsers: pair,
          state: withState,
        }),
      );
    const errors = [
      await rejection(quoting(current).changePassword(pair.username2, generatePassword())),
      await rejection(quoting(previous).changePassword(pair.username2, generatePassword())),
      await rejection(
        quoting(known).changePassword(pair.username2, generatePassword(), { knownPassword: known }),
      ),
      // A state without a previous user (right after a first rotation) is one too.
      await rejection(
        quoting(current, { current: state.current }).changePassword(
          pair.username2,
          generatePassword(),
        ),
      ),
      // Logging in as another user than the one whose password is quoted.
      await rejection(quoting(current).checkLogin(pg.manager)),
    ];
    for (const error of errors) {
      expect(error).to.be.instanceOf(ConnectionError);
      expect(error.message).to.match(/database "\[redacted\]" does not exist/);
      expectNoSecrets(renderings(error), [current, previous, known]);
    }
  });

  it("says the managing user's login failed, and as whom", async () => {
    const pair = await pg.createPair();
    const managingUser = { ...pg.manager, password: generatePassword() };
    const shell = postgresShell(
      resolveInputs({ database: { ...pg.database, managingUser }, rotateUsers: pair }),
    );
    const error = await rejection(shell.changePassword(pair.username1, generatePassword()));
    expect(error).to.be.instanceOf(AuthenticationError);
    expect(error.message).to.match(
      new RegExp(`^logging in as the managing user "${pg.manager.username}" on `),
    );
  });

  it("names the TLS settings as the caller calls them", async () => {
    const pair = await pg.createPair();
    const shell = postgresShell(
      resolveInputs({ database: { ...pg.database, ssl: { mode: "require" } }, rotateUsers: pair }),
      [],
      { tlsSettings: { mode: "PGSSLMODE", ca: "PGSSLROOTCERT" } },
    );
    const error = await rejection(shell.changePassword(pair.username1, generatePassword()));
    expect(error).to.be.instanceOf(ConnectionError);
    expect(error.message).to.include('or set PGSSLMODE to "disable"');
  });

  it("checkLogin leaves no session of the user on the server", async () => {
    const pair = await pg.createPair();
    const password = generatePassword();
    await pg.setPassword(pair.username1, password);
    await shellFor(pair).checkLogin({ username: pair.username1, password });
    const sessions = () =>
      pg.asSuperuser(
        async (c) =>
          (
            await c.query<{ n: number }>(
              "SELECT count(*)::int AS n FROM pg_stat_activity WHERE usename = $1",
              [pair.username1],
            )
          ).rows[0].n,
      );
    // The goodbye was sent; the server may take a moment to end the backend.
    for (let i = 0; i < 100 && (await sessions()) > 0; i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(await sessions()).to.equal(0);
  });

  it("replaces a kept session found dead by one fresh login, and retries no refusal", async () => {
    const [first, second] = [await pg.createPair(), await pg.createPair()];
    await shellFor(first).changePassword(first.username1, generatePassword());
    let logins = managerLogins();
    terminateSessionsBlocking(pg.server, pg.server.superuser, pg.manager.username);
    const password = generatePassword();
    await shellFor(second).changePassword(second.username1, password);
    expect(await pg.canLogin(second.username1, password)).to.equal(true);
    expect(managerLogins() - logins, "logins after the kept session died").to.equal(1);
    // A refusal on a live kept session is the answer: no second try on a fresh login.
    logins = managerLogins();
    const error = await rejection(shellFor(first).changePassword("no_such_role", password));
    expect(error).to.be.instanceOf(RoleNotFoundError);
    expect(managerLogins() - logins, "logins after a refusal").to.equal(0);
  });

  it("replaces a dead kept session by a fresh login, not by another kept one that died too", async () => {
    const [first, second, third] = [
      await pg.createPair(),
      await pg.createPair(),
      await pg.createPair(),
    ];
    // Two rotations at once: two sessions kept.
    await Promise.all(
      [first, second].map((pair) =>
        shellFor(pair).changePassword(pair.username1, generatePassword()),
      ),
    );
    const logins = managerLogins();
    terminateSessionsBlocking(pg.server, pg.server.superuser, pg.manager.username);
    const password = generatePassword();
    await shellFor(third).changePassword(third.username1, password);
    expect(await pg.canLogin(third.username1, password)).to.equal(true);
    expect(managerLogins() - logins, "logins after the kept sessions died").to.equal(1);
  });

  it("reports a session lost while it waits for the lock as lost at the lock", async () => {
    const pair = await pg.createPair();
    const holder = await pg.server.connectAsSuperuser("postgres");
    try {
      await holder.query("BEGIN");
      await holder.query(lockRoleSql(pair.username1));
      // Timeouts of its own: a fresh login, not a session kept from another test.
      const shell = shellFor(pair, { timeouts: { lockSeconds: 29 } });
      const outcome = rejection(shell.changePassword(pair.username1, generatePassword()));
      let pid: number | undefined;
      for (let i = 0; i < 250 && pid === undefined; i++) {
        await new Promise((r) => setTimeout(r, 20));
        pid = (
          await pg.asSuperuser((c) =>
            c.query<{ pid: number }>(
              "SELECT pid FROM pg_stat_activity WHERE usename = $1 AND wait_event_type = 'Lock'",
              [pg.manager.username],
            ),
          )
        ).rows[0]?.pid;
      }
      expect(pid, "the rotation waits for the lock").to.be.a("number");
      await pg.asSuperuser((c) => c.query("SELECT pg_terminate_backend($1)", [pid]));
      const error = await outcome;
      expect(error).to.be.instanceOf(ConnectionError);
      expect(error.message).to.match(
        new RegExp(`^locking "${pair.username1}" to rotate it as the managing user "`),
      );
    } finally {
      await holder.query("ROLLBACK");
      await holder.end();
    }
  });

  it("says since when the oldest session in use is open, where it may see that", async () => {
    const pair = await pg.createPair();
    const password = generatePassword();
    await pg.setPassword(pair.username1, password);
    const stats = (grant: boolean) =>
      pg.asSuperuser((c) =>
        c.query(
          `${grant ? "GRANT" : "REVOKE"} pg_read_all_stats ${grant ? "TO" : "FROM"} ` +
            quoteIdentifier(pg.manager.username),
        ),
      );
    const app = new PgClient({
      host: pg.server.host,
      port: pg.server.port,
      database: "app",
      user: pair.username1,
      password,
      ssl: false,
    });
    await stats(true);
    await app.connect();
    try {
      const { rows } = await app.query<{ started: Date }>(
        "SELECT backend_start AS started FROM pg_stat_activity WHERE pid = pg_backend_pid()",
      );
      const error = await rejection(shellFor(pair).changePassword(pair.username1, password));
      expect(error).to.be.instanceOf(LiveSessionsError);
      expect(error.message).to.include(`, the oldest since ${rows[0].started.toISOString()}.`);
    } finally {
      await app.end();
      await stats(false);
    }
  });

  it("counts what both users own, whichever it rotates, and a role outside the pair alone", async () => {
    const pair = await pg.createPair();
    const outsider = (await pg.createPair()).username1;
    for (const user of [pair.username1, pair.username2]) {
      await pg.asSuperuser(async (c) => {
        await c.query(`GRANT CREATE ON SCHEMA public TO ${quoteIdentifier(user)}`);
        await c.query(`SET ROLE ${quoteIdentifier(user)}`);
        await c.query(`CREATE TABLE ${quoteIdentifier(`${user}_t`)} (id int)`);
      });
    }
    const warnings: string[] = [];
    const shell = shellFor(pair, {}, { warn: (line) => warnings.push(line) });
    await shell.changePassword(pair.username1, generatePassword());
    await shell.changePassword(pair.username2, generatePassword());
    await shell.changePassword(outsider, generatePassword());
    const [a, b] = [pair.username1, pair.username2].sort();
    expect(warnings).to.have.length(2);
    for (const warning of warnings) expect(warning).to.include(`("${a}" owns 1, "${b}" owns 1)`);
    // "ignore" does not look: nothing refused, nothing said.
    await shellFor(
      pair,
      { ownership: "ignore" },
      { warn: (line) => warnings.push(line) },
    ).changePassword(pair.username1, generatePassword());
    expect(warnings).to.have.length(2);
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

describe("ownedObjectsMessage (pure): owners", () => {
  it("names the owners with objects in name order, and each other database", () => {
    const message = ownedObjectsMessage(
      "m",
      {
        byOwner: { z: 1, a: 2, m: 0, k: 3 },
        elsewhere: { reports: 1, archive: 2 },
        examples: [["table", "t"]],
      },
      "warn",
      "app",
    );
    expect(message).to.include('themselves ("a" owns 2, "k" owns 3, "z" owns 1), in "app"');
    expect(message).to.include(
      '(counted, not named: run the fix in each): "reports" 1, "archive" 2.',
    );
    expect(message).to.include(
      'REASSIGN OWNED BY "a" TO <group>; REASSIGN OWNED BY "k" TO <group>; ' +
        'REASSIGN OWNED BY "z" TO <group>; in "app"',
    );
  });
});

describe("liveSessionsMessage (pure)", () => {
  const advice =
    "They are apps that never moved to the current credentials, or pools that will reconnect " +
    "with this password and fail. Move them to the current credentials (they do on their next " +
    'configuration refresh) and run again, or set liveSessions to "warn" or "ignore" to rotate ' +
    "regardless";
  const parked = (what: string, seconds: number) =>
    `${what} idle for over ${seconds} s (liveSessionsIdleSeconds), taken for a pooler's parked ` +
    "server connections (PgBouncer, RDS Proxy): an app still on this password would have used them";

  it("refuses with the sessions in use, where from, since when, and those parked", () => {
    const seen = {
      sessions: 2,
      addresses: ["10.0.0.1", "10.0.0.2"],
      oldest: "2026-01-02T03:04:05+00:00",
      idleSessions: 1,
      idleAddresses: ["10.0.0.3"],
    };
    expect(liveSessionsMessage("u", seen, "refuse", 600)).to.equal(
      'refusing to change the password of "u": it has 2 open session(s) in use (active, in a ' +
        "transaction, or idle for less than 600 s) from 10.0.0.1, 10.0.0.2, the oldest since " +
        `2026-01-02T03:04:05.000Z, and ${parked("1 session(s) from 10.0.0.3", 600)}. ${advice}`,
    );
  });

  it("warns with hidden addresses, no start time and nothing parked", () => {
    const seen = { sessions: 1, addresses: [], oldest: null, idleSessions: 0, idleAddresses: [] };
    expect(liveSessionsMessage("u", seen, "warn", 60)).to.equal(
      'changing the password of "u" anyway (liveSessions: "warn"): it has 1 open session(s) in ' +
        "use (active, in a transaction, or idle for less than 60 s) (client addresses hidden: " +
        "grant pg_read_all_stats to the managing user to see them, and to let the guard tell " +
        `idle sessions). ${advice}`,
    );
  });

  it("with only parked sessions, says why it rotates regardless", () => {
    const seen = { sessions: 0, addresses: [], oldest: null, idleSessions: 2, idleAddresses: [] };
    expect(liveSessionsMessage("u", seen, "refuse", 60)).to.equal(
      `changing the password of "u": it has ${parked("2 session(s)", 60)}. The pooler's next ` +
        'login as "u" needs the new password, which it gets from apps on their next refresh',
    );
  });
});

describe("privilegeHint (pure)", () => {
  it("asks for the ADMIN option from PostgreSQL 16.0, for CREATEROLE before", () => {
    expect(privilegeHint("app user", "mgr", 160000)).to.equal(
      "On PostgreSQL 16 and later the managing user needs CREATEROLE and the ADMIN option on " +
        'the role: GRANT "app user" TO "mgr" WITH ADMIN TRUE, INHERIT FALSE, SET FALSE;',
    );
    expect(privilegeHint("app user", "mgr", 150014)).to.equal(
      'On PostgreSQL 13 to 15 the managing user needs CREATEROLE: ALTER ROLE "mgr" CREATEROLE;',
    );
  });
});
