/**
 * `PostgresRotation`'s guards on real PostgreSQL 13-18, through its provider handlers: two
 * rotators racing from one state, the live-session guard, SCRAM iteration limits, passwords the
 * client cannot use, timeouts that bound what they say, and a server restart mid-rotation.
 */
import { expect } from "chai";
import { Client as PgClient } from "pg";
import * as handlers from "../../../provider/postgresRotation/handlers";
import type { RotationInputs } from "../../../provider/core/types";
import { MAX_SCRAM_ITERATIONS, scramSha256Verifier } from "../../../provider/core/scram";
import { quoteIdentifier } from "../../../provider/postgres/sql";
import { createHash, createHmac, pbkdf2Sync, randomBytes, randomUUID } from "node:crypto";
import {
  ConcurrentRotationError,
  ConnectionError,
  CurrentCredentialsError,
  LiveSessionsError,
  ValidationError,
  VerificationError,
} from "../../../provider/errors";
import { lockRoleSql } from "../../../provider/postgres/sql";
import { Lifecycle } from "../../support/provider";
import { rejection } from "../../support/secrets";
import {
  SUPPORTED_MAJORS,
  TEST_MAJORS,
  cluster,
  privateCluster,
  type TestCluster,
} from "../../support/servers";

for (const major of TEST_MAJORS) {
  describe(`PostgresRotation guards on PostgreSQL ${major}`, function () {
    let pg: TestCluster;
    before(async () => {
      pg = await cluster(major);
    });

    const inputs = async (extra: Partial<RotationInputs> = {}): Promise<RotationInputs> => ({
      database: pg.database,
      rotateUsers: await pg.createPair(),
      rotationTrigger: "1",
      ...extra,
    });

    /** A session open as `username` (an app still on old credentials). */
    async function sessionAs(username: string, password: string): Promise<PgClient> {
      const client = new PgClient({
        host: pg.server.host,
        port: pg.server.port,
        database: "app",
        user: username,
        password,
      });
      await client.connect();
      return client;
    }

    it("two stacks rotating from one state: the second fails, changes nothing, then adopts", async () => {
      const base = await inputs();
      const stackA = new Lifecycle(handlers);
      await stackA.create(base);
      await stackA.apply({ ...base, rotationTrigger: "2" });
      // Stack B (another resource) holds the very same outputs (a copy of the state), then A
      // rotates again.
      const stackB = new Lifecycle(handlers);
      stackB.id = randomUUID();
      stackB.outputs = stackA.outputs;
      await stackA.apply({ ...base, rotationTrigger: "3" });
      const a = stackA.outputs!;
      const error = await rejection(stackB.apply({ ...base, rotationTrigger: "3" }));
      expect(error).to.be.instanceOf(ConcurrentRotationError);
      expect(error.message).to.include("Nothing was changed");
      expect(await pg.canLogin(a.current.username, a.current.password)).to.equal(true);
      expect(await pg.canLogin(a.previous.username, a.previous.password)).to.equal(true);
      // B converges by adopting the database's state.
      await stackB.apply({ ...base, rotationTrigger: "4", state: a });
      const b = stackB.outputs!;
      expect(b.current.username).to.equal(a.previous.username);
      expect(await pg.canLogin(b.current.username, b.current.password)).to.equal(true);
      expect(await pg.canLogin(a.current.username, a.current.password)).to.equal(true);
    });

    it("an attempt whose result was never recorded does not block the next run", async () => {
      const base = await inputs();
      const life = new Lifecycle(handlers);
      await life.create(base);
      await life.apply({ ...base, rotationTrigger: "2" });
      const before = life.outputs!;
      // The login test after the ALTER fails: the password changed, the state did not advance.
      const limit = (n: number) =>
        pg.asSuperuser((c) =>
          c.query(`ALTER ROLE ${quoteIdentifier(before.previous.username)} CONNECTION LIMIT ${n}`),
        );
      await limit(0);
      const failed = await rejection(life.apply({ ...base, rotationTrigger: "3" }));
      expect(failed).to.be.instanceOf(VerificationError);
      expect(life.outputs).to.equal(before);
      await limit(-1);
      // The same resource's next run rotates from its recorded state: its own mark is no rival.
      await life.apply({ ...base, rotationTrigger: "3" });
      const after = life.outputs!;
      expect(after.current.username).to.equal(before.previous.username);
      expect(await pg.canLogin(after.current.username, after.current.password)).to.equal(true);
      expect(await pg.canLogin(before.current.username, before.current.password)).to.equal(true);
    });

    it("refuses, by default, to change the password of a user with open sessions", async () => {
      const base = await inputs();
      const life = new Lifecycle(handlers);
      await life.create(base);
      await life.apply({ ...base, rotationTrigger: "2" });
      const { previous } = life.outputs!;
      const app = await sessionAs(previous.username, previous.password!);
      try {
        const before = life.outputs;
        const error = await rejection(life.apply({ ...base, rotationTrigger: "3" }));
        expect(error).to.be.instanceOf(LiveSessionsError);
        expect(error.message).to.include(`"${previous.username}": it has 1 open session(s)`);
        expect(error.message).to.match(/from 127\.0\.0\.1|client addresses hidden/);
        expect(error.message).to.include('set liveSessions to "warn" or "ignore"');
        expect(life.outputs).to.equal(before);
        expect(await pg.canLogin(previous.username, previous.password)).to.equal(true);

        // "warn" rotates and says so; "ignore" rotates without looking.
        const warnings: string[] = [];
        const original = console.warn;
        console.warn = (line: string) => warnings.push(line);
        try {
          await life.apply({ ...base, rotationTrigger: "3", liveSessions: "warn" });
        } finally {
          console.warn = original;
        }
        expect(warnings.join("\n")).to.include('anyway (liveSessions: "warn")');
        expect(life.outputs!.current.username).to.equal(previous.username);
      } finally {
        await app.end();
      }
    });

    it("rotates as before when the previous user has no session", async () => {
      const base = await inputs({ liveSessions: "refuse" });
      const life = new Lifecycle(handlers);
      await life.create(base);
      await life.apply({ ...base, rotationTrigger: "2" });
      expect(life.outputs!.current.username).to.equal(base.rotateUsers.username2);
    });

    it("writes verifiers of the most iterations accepted, which a default pg client logs in with", async () => {
      const base = await inputs({ scramIterations: MAX_SCRAM_ITERATIONS });
      const life = new Lifecycle(handlers);
      await life.create(base);
      await life.apply({ ...base, rotationTrigger: "2" });
      const out = life.outputs!;
      for (const { username, password } of [out.current, out.previous]) {
        const verifier = await pg.asSuperuser(async (c) => {
          const { rows } = await c.query<{ rolpassword: string }>(
            "SELECT rolpassword FROM pg_authid WHERE rolname = $1",
            [username],
          );
          return rows[0].rolpassword;
        });
        expect(verifier).to.match(new RegExp(`^SCRAM-SHA-256\\$${MAX_SCRAM_ITERATIONS}:`));
        // An app on pg with default settings.
        const app = new PgClient({
          host: pg.server.host,
          port: pg.server.port,
          database: "app",
          user: username,
          password,
        });
        await app.connect();
        await app.end();
      }
    });

    it("refuses 100,001 iterations before any SQL, saying why", async () => {
      const bad = await inputs({ scramIterations: MAX_SCRAM_ITERATIONS + 1 });
      const before = pg.server.readLog().length;
      const error = await rejection(handlers.create(bad));
      expect(error).to.be.instanceOf(ValidationError);
      expect((error as ValidationError).problems).to.deep.equal([
        "scramIterations must be at most 100000: node-postgres refuses, with its default " +
          "scramMaxIterations (100,000), to log in with a verifier of more iterations, so apps " +
          "on it could not use the password; set scramIterations to 100000 or less",
      ]);
      expect(pg.server.readLog().slice(before)).to.not.include("connection authorized");
    });

    it("refuses before any change iterations above what a login can do, and other bad limits", async () => {
      const cases = [];
      for (const bad of [
        { scramIterations: 1_000_001 },
        { liveSessions: "sometimes" },
        { liveSessionsIdleSeconds: -1 },
        { timeouts: { connectSeconds: 0 } },
      ]) {
        cases.push(await inputs(bad as never));
      }
      const before = pg.server.readLog().length;
      for (const bad of cases) {
        expect(await rejection(handlers.create(bad))).to.be.instanceOf(ValidationError);
      }
      expect(pg.server.readLog().slice(before)).to.not.include("connection authorized");
    });

    it("refuses, before connecting, a state password pg cannot log in with (the server can)", async () => {
      const base = await inputs();
      const { username1 } = base.rotateUsers;
      // Private use (prohibited by SASLprep: the server hashes the raw bytes) and a ligature
      // (pg's NFKC turns it into "fi"): libpq logs in with it, pg cannot.
      const odd = "pass\uE000\uFB01-9a8b7c6d5e";
      await pg.asSuperuser((c) =>
        c.query(`ALTER ROLE ${quoteIdentifier(username1)} PASSWORD '${scramSha256Verifier(odd)}'`),
      );
      const error = await rejection(
        handlers.create({ ...base, state: { current: { username: username1, password: odd } } }),
      );
      expect(error).to.be.instanceOf(ValidationError);
      expect(error.message).to.include("SASLprep prohibits");
      // A non-ASCII password both prepare alike is adopted as it is.
      const fine = "pässwörd-ünïcödé-1234";
      await pg.setPassword(username1, fine);
      const out = await new Lifecycle(handlers).create({
        ...base,
        state: { current: { username: username1, password: fine } },
      });
      expect(out.current.password).to.equal(fine);
    });

    it("a tiny fractional connect timeout still times out", async () => {
      const error = await rejection(
        handlers.create({
          ...(await inputs()),
          // A routable address that never answers; 0.0004 s must not round to "no timeout".
          database: { ...pg.database, host: "10.255.255.1" },
          timeouts: { connectSeconds: 0.0004 },
        }),
      );
      expect(error).to.be.instanceOf(ConnectionError);
    });
  });
}

// The oldest and the newest major: pg_stat_activity's columns the guard reads are alike on all.
const EDGE_MAJORS = TEST_MAJORS.filter((_, i) => i === 0 || i === TEST_MAJORS.length - 1);

for (const major of EDGE_MAJORS) {
  describe(`PostgresRotation's live-session guard and idle sessions on PostgreSQL ${major}`, function () {
    let pg: TestCluster;
    before(async () => {
      pg = await cluster(major);
    });

    const sessionAs = async (username: string, password: string) => {
      const client = new PgClient({
        host: pg.server.host,
        port: pg.server.port,
        database: "app",
        user: username,
        password,
      });
      client.on("error", () => undefined);
      await client.connect();
      return client;
    };
    const statsForManager = (grant: boolean) =>
      pg.asSuperuser((c) =>
        c.query(
          `${grant ? "GRANT" : "REVOKE"} pg_read_all_stats ${grant ? "TO" : "FROM"} ` +
            quoteIdentifier(pg.manager.username),
        ),
      );
    const rotated = async () => {
      const base: RotationInputs = {
        database: pg.database,
        rotateUsers: await pg.createPair(),
        rotationTrigger: "1",
      };
      const life = new Lifecycle(handlers);
      await life.create(base);
      await life.apply({ ...base, rotationTrigger: "2" });
      return { base, life, previous: life.outputs!.previous };
    };
    const capturingWarnings = async (work: () => Promise<unknown>) => {
      const warnings: string[] = [];
      const original = console.warn;
      console.warn = (line: string) => warnings.push(line);
      try {
        await work();
      } finally {
        console.warn = original;
      }
      return warnings.join("\n");
    };

    it("rotates past sessions idle longer than liveSessionsIdleSeconds, not past those in use", async () => {
      await statsForManager(true);
      const { base, life, previous } = await rotated();
      const idle = await sessionAs(previous.username, previous.password!);
      const other = await sessionAs(previous.username, previous.password!);
      const zero = { ...base, rotationTrigger: "3", liveSessionsIdleSeconds: 0 };
      try {
        // Idle in a transaction: in use, however long.
        await other.query("BEGIN");
        await other.query("SELECT 1");
        const inTransaction = await rejection(life.apply(zero));
        expect(inTransaction).to.be.instanceOf(LiveSessionsError);
        expect(inTransaction.message).to.include(
          `"${previous.username}": it has 1 open session(s) in use`,
        );
        expect(inTransaction.message).to.include(
          "and 1 session(s) from 127.0.0.1 idle for over 0 s",
        );
        await other.query("ROLLBACK");
        // Active: in use.
        const pid = (await other.query<{ pid: number }>("SELECT pg_backend_pid() AS pid")).rows[0]
          .pid;
        const sleeping = other.query("SELECT pg_sleep(60)").catch(() => undefined);
        for (let i = 0; i < 100; i++) {
          const { rows } = await pg.asSuperuser((c) =>
            c.query("SELECT state FROM pg_stat_activity WHERE pid = $1", [pid]),
          );
          if (rows[0]?.state === "active") break;
          await new Promise((r) => setTimeout(r, 20));
        }
        const active = await rejection(life.apply(zero));
        expect(active).to.be.instanceOf(LiveSessionsError);
        expect(active.message).to.include("it has 1 open session(s) in use");
        await pg.asSuperuser((c) => c.query("SELECT pg_cancel_backend($1)", [pid]));
        await sleeping;
        // Idle, but for less than the window: in use.
        const recent = await rejection(life.apply({ ...zero, liveSessionsIdleSeconds: 3600 }));
        expect(recent).to.be.instanceOf(LiveSessionsError);
        expect(recent.message).to.include("it has 2 open session(s) in use");
        expect(life.outputs!.current.username).to.not.equal(previous.username);
        expect(await pg.canLogin(previous.username, previous.password)).to.equal(true);
        // Idle past the window: reported, and the rotation goes ahead.
        const warnings = await capturingWarnings(() => life.apply(zero));
        expect(warnings).to.include(
          `changing the password of "${previous.username}": it has 2 session(s) from ` +
            `127.0.0.1 idle for over 0 s (liveSessionsIdleSeconds), taken for a pooler's parked`,
        );
        expect(life.outputs!.current.username).to.equal(previous.username);
      } finally {
        await Promise.all([idle.end(), other.end()]);
        await statsForManager(false);
      }
    });

    it("counts as in use an idle session whose state the managing user may not see", async () => {
      const { base, life, previous } = await rotated();
      const idle = await sessionAs(previous.username, previous.password!);
      try {
        const error = await rejection(
          life.apply({ ...base, rotationTrigger: "3", liveSessionsIdleSeconds: 0 }),
        );
        expect(error).to.be.instanceOf(LiveSessionsError);
        expect(error.message).to.include("it has 1 open session(s) in use");
        expect(error.message).to.include(
          "grant pg_read_all_stats to the managing user to see them, and to let the guard " +
            "tell idle sessions",
        );
      } finally {
        await idle.end();
      }
    });
  });
}

describe("PostgresRotation when the server crashes and restarts during the lock wait", function () {
  this.timeout(90_000);
  it("reports a ConnectionError, changes nothing, and the next run converges", async () => {
    // Commits survive a crash here (the shared test servers trade that for speed).
    const pg = await privateCluster({
      major: SUPPORTED_MAJORS[SUPPORTED_MAJORS.length - 1],
      settings: { synchronous_commit: "on" },
    });
    const base: RotationInputs = {
      database: pg.database,
      rotateUsers: await pg.createPair(),
      rotationTrigger: "1",
    };
    const holder = await pg.server.connectAsSuperuser("app");
    holder.on("error", () => undefined);
    await holder.query("BEGIN");
    await holder.query(lockRoleSql(base.rotateUsers.username1));
    const pending = rejection(handlers.create(base));
    // The rotation's backend, waiting for the lock, dies: the server restarts after a crash.
    let pid: number | undefined;
    for (let i = 0; i < 100 && !pid; i++) {
      await new Promise((r) => setTimeout(r, 50));
      const { rows } = await holder.query<{ pid: number }>(
        "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND application_name = 'pulumi-postgres-rotator'",
      );
      pid = rows[0]?.pid;
    }
    expect(pid, "the rotation waits for the lock").to.be.a("number");
    process.kill(pid!, "SIGKILL");
    const error = await pending;
    expect(error).to.be.instanceOf(ConnectionError);
    expect(error.message).to.match(/connection was lost|terminat/i);
    // The server comes back on its own; nothing was changed, and the next run converges.
    let out: Awaited<ReturnType<typeof handlers.create>> | undefined;
    let last = "";
    for (let i = 0; i < 60 && !out; i++) {
      await new Promise((r) => setTimeout(r, 250));
      out = await handlers.create(base).catch((e: Error) => {
        last = e.message;
        return undefined;
      });
    }
    expect(out, `a rotation after the restart (last error: ${last})`).to.not.equal(undefined);
    const current = (out!.outs as { current: { username: string; password: string } }).current;
    expect(await pg.canLogin(current.username, current.password)).to.equal(true);
  });
});

describe("PostgresRotation after an earlier version wrote more than 100,000 iterations", function () {
  let pg: TestCluster;
  before(async () => {
    pg = await cluster(TEST_MAJORS[TEST_MAJORS.length - 1]);
  });

  /** A verifier as PostgreSQL stores it, with more iterations than this package now writes. */
  function verifierOf(password: string, iterations: number): string {
    const salt = randomBytes(16);
    const salted = pbkdf2Sync(password, salt, iterations, 32, "sha256");
    const hmac = (key: Buffer, text: string) => createHmac("sha256", key).update(text).digest();
    const stored = createHash("sha256").update(hmac(salted, "Client Key")).digest();
    return (
      `SCRAM-SHA-256$${iterations}:${salt.toString("base64")}` +
      `$${stored.toString("base64")}:${hmac(salted, "Server Key").toString("base64")}`
    );
  }

  it("refuses the old setting at check, says why a login fails, and converges by rotating twice", async () => {
    const base: RotationInputs = {
      database: pg.database,
      rotateUsers: await pg.createPair(),
      rotationTrigger: "1",
    };
    const life = new Lifecycle(handlers);
    await life.create(base);
    await life.apply({ ...base, rotationTrigger: "2" });
    // What an earlier version left: 200,000 in the outputs and in both users' verifiers.
    const old = { ...base, rotationTrigger: "2", scramIterations: 200_000 };
    life.outputs = { ...life.outputs!, scramIterations: 200_000 };
    for (const { username, password } of [life.outputs.current, life.outputs.previous]) {
      await pg.asSuperuser((c) =>
        c.query(
          `ALTER ROLE ${quoteIdentifier(username)} PASSWORD '${verifierOf(password!, 200_000)}'`,
        ),
      );
      const refused = await rejection(pg.canLogin(username, password));
      expect(refused.message, "pg's default refuses it").to.match(/exceeds scramMaxIterations/);
    }

    // The program unchanged: refused before anything changes, saying what to set.
    const checked = await handlers.check(old, old);
    expect(checked.failures!.map((f) => f.reason)).to.deep.equal([
      "scramIterations must be at most 100000: node-postgres refuses, with its default " +
        "scramMaxIterations (100,000), to log in with a verifier of more iterations, so apps " +
        "on it could not use the password; set scramIterations to 100000 or less",
    ]);

    // A refresh says why the current user cannot log in, and what to do.
    const refreshed = await rejection(handlers.read(life.id, life.outputs));
    expect(refreshed).to.be.instanceOf(CurrentCredentialsError);
    expect(refreshed.message).to.include(
      "has 200000 PBKDF2 iterations, more than node-postgres accepts with its default " +
        "scramMaxIterations (100000)",
    );
    expect(refreshed.message).to.include("set scramIterations to 100000 or less and rotate");

    // The setting removed: an update; two rotations renew both users' verifiers.
    expect((await handlers.diff(life.id, life.outputs, base)).changes).to.equal(true);
    for (const trigger of ["3", "4"]) await life.apply({ ...base, rotationTrigger: trigger });
    const out = life.outputs!;
    expect(out).to.not.have.property("scramIterations");
    expect(await pg.canLogin(out.current.username, out.current.password)).to.equal(true);
    expect(await pg.canLogin(out.previous.username, out.previous.password)).to.equal(true);
  });
});
