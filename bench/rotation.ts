/**
 * How long one verified rotation takes, against a floor measured in the same run.
 *
 * Floor (raw `pg`, the least any correct rotation must do): log in as the managing user, send
 * `ALTER ROLE … PASSWORD '<verifier>'` with a verifier computed beforehand, log in as the
 * rotated user. Neither side waits for connections to close. Ours: a full `update` of the
 * provider after a `rotationTrigger` bump (input validation, plan, password generation, verifier,
 * role checks, the role's lock and mark, the live-session and ownership guards, ALTER, verifying
 * login), with
 * the managing user's session of the previous rotation reused, as in a `pulumi up` of many
 * rotations; and, reported apart, with a fresh session each time (one rotation alone).
 * A second baseline adds to the floor the SQL of the guards a correct rotation makes (lock,
 * mark, sessions, owned objects), as raw `pg`: the server's share of what a fresh rotation adds
 * to the floor.
 * Runs alternate between all of them so that drift hits each alike.
 *
 *     npm run bench            # or: npx tsx bench/rotation.ts [runs] [major]
 */
import { Client } from "pg";
import * as postgresRotationProvider from "../provider/postgresRotation/postgresRotationProvider";
import type { RotationOutputs } from "../provider/core/outputs";
import { scramSha256Verifier } from "../provider/core/scram";
import { generatePassword } from "../provider/core/password";
import { randomUUID } from "node:crypto";
import { APPLICATION_NAME } from "../provider/postgres/connection";
import {
  commentOnRoleSql,
  lockRoleSql,
  quoteIdentifier,
  roleUnderLockSql,
  withLiterals,
} from "../provider/postgres/sql";
import { startPostgres, type PostgresMajor } from "../scripts/embeddedPostgres";
import { median, percentile } from "./stats";

const RUNS = Number(process.argv[2] ?? 100);
const MAJOR = Number(process.argv[3] ?? 17) as PostgresMajor;
const WARMUP = 10;

async function main() {
  const server = await startPostgres({ major: MAJOR, logStatements: false });
  try {
    const admin = await server.connectAsSuperuser();
    const manager = { username: "bench_manager", password: generatePassword() };
    const ours = { username1: "bench_ours_1", username2: "bench_ours_2" };
    const floorUser = { username: "bench_floor", password: generatePassword() };
    const guardedUser = "bench_guarded";
    /** The other user of the guarded role's pair, whose owned objects are counted too. */
    const guardedPartner = "bench_guarded_partner";
    await admin.query(`CREATE ROLE ${manager.username} LOGIN CREATEROLE`);
    for (const role of [
      ours.username1,
      ours.username2,
      floorUser.username,
      guardedUser,
      guardedPartner,
    ]) {
      await admin.query(`CREATE ROLE ${role} LOGIN`);
      if (MAJOR >= 16) {
        await admin.query(
          `GRANT ${role} TO ${manager.username} WITH ADMIN TRUE, INHERIT FALSE, SET FALSE`,
        );
      }
    }
    await admin.query(
      `ALTER ROLE ${manager.username} PASSWORD '${scramSha256Verifier(manager.password)}'`,
    );
    await admin.end();

    const target = {
      host: server.host,
      port: server.port,
      database: "postgres",
      ssl: false as const,
    };
    async function floor(): Promise<number> {
      const password = generatePassword();
      const verifier = scramSha256Verifier(password);
      const started = process.hrtime.bigint();
      const m = new Client({ ...target, user: manager.username, password: manager.password });
      await m.connect();
      await m.query(`ALTER ROLE ${quoteIdentifier(floorUser.username)} PASSWORD '${verifier}'`);
      void m.end();
      const u = new Client({ ...target, user: floorUser.username, password });
      await u.connect();
      const elapsed = Number(process.hrtime.bigint() - started) / 1e6;
      // Closing is cleanup, outside the timed work (ours does not wait for it either).
      await u.end();
      return elapsed;
    }

    /**
     * The floor plus the guards a correct rotation also makes (#11: the role's cluster-wide
     * lock, the role, its mark, its sessions and what its pair owns (#21) read under it, the
     * mark written with the password), as raw `pg` with the provider's own SQL: what the
     * server's share of a fresh rotation costs, without any of this package's code in between.
     * `ownership: false` leaves out the read of what the pair owns; `extraRoundTrip` adds a
     * `SELECT 1` of its own: the yardstick that read must stay under (it shares the lock's).
     */
    async function guardedFloor(ownership = true, extraRoundTrip = false): Promise<number> {
      const password = generatePassword();
      const verifier = scramSha256Verifier(password);
      const started = process.hrtime.bigint();
      const m = new Client({ ...target, user: manager.username, password: manager.password });
      await m.connect();
      await m.query(
        `BEGIN; SET LOCAL statement_timeout = 90000; ${lockRoleSql(guardedUser)}; ` +
          `SET LOCAL statement_timeout = 30000; ` +
          withLiterals(roleUnderLockSql(true, ownership), [
            guardedUser,
            APPLICATION_NAME,
            "3600",
            guardedPartner,
          ]),
      );
      if (extraRoundTrip) await m.query("SELECT 1");
      await m.query(
        `ALTER ROLE ${quoteIdentifier(guardedUser)} PASSWORD '${verifier}'; ` +
          `${commentOnRoleSql(guardedUser, `pulumi-postgres-rotator: rotation ${randomUUID()} at ${new Date().toISOString()}`)}; COMMIT`,
      );
      void m.end();
      const u = new Client({ ...target, user: guardedUser, password });
      await u.connect();
      const elapsed = Number(process.hrtime.bigint() - started) / 1e6;
      await u.end();
      return elapsed;
    }

    const inputs = {
      database: {
        host: server.host,
        port: server.port,
        database: "postgres",
        managingUser: manager,
        ssl: { mode: "disable" as const },
      },
      rotateUsers: ours,
      rotationTrigger: 0,
    };
    const created = await postgresRotationProvider.create(inputs);
    let outputs = created.outs as RotationOutputs;
    let trigger = 0;
    /**
     * `cold`: with settings no earlier rotation had, so no managing-user session can be reused
     * (one rotation alone in a `pulumi up`); otherwise the session of the previous rotation is
     * (many rotations in one `pulumi up`).
     */
    async function rotation(cold: boolean): Promise<number> {
      trigger += 1;
      const news = {
        ...inputs,
        rotationTrigger: trigger,
        ...(cold ? { timeouts: { connectSeconds: 10 + trigger / 1e6 } } : {}),
      };
      const started = process.hrtime.bigint();
      const result = await postgresRotationProvider.update(created.id, outputs, news);
      const elapsed = Number(process.hrtime.bigint() - started) / 1e6;
      outputs = result.outs as RotationOutputs;
      return elapsed;
    }

    const floorTimes: number[] = [];
    const guardedTimes: number[] = [];
    const unownedTimes: number[] = [];
    const roundTripTimes: number[] = [];
    const ourTimes: number[] = [];
    const coldTimes: number[] = [];
    for (let i = 0; i < WARMUP + RUNS; i++) {
      const f = await floor();
      const g = await guardedFloor();
      const n = await guardedFloor(false);
      const t = await guardedFloor(false, true);
      const o = await rotation(false);
      const c = await rotation(true);
      if (i >= WARMUP) {
        floorTimes.push(f);
        guardedTimes.push(g);
        unownedTimes.push(n);
        roundTripTimes.push(t);
        ourTimes.push(o);
        coldTimes.push(c);
      }
    }
    const ratio = median(ourTimes) / median(floorTimes);
    console.log(`PostgreSQL ${server.version}, ${RUNS} runs each after ${WARMUP} warm-up runs`);
    console.log(
      `floor (raw pg: login, ALTER ROLE, login):  median ${median(floorTimes).toFixed(2)} ms, p90 ${percentile(floorTimes, 90).toFixed(2)} ms`,
    );
    console.log(
      `floor + the guards' SQL (raw pg, fresh):    median ${median(guardedTimes).toFixed(2)} ms, p90 ${percentile(guardedTimes, 90).toFixed(2)} ms`,
    );
    console.log(
      `verified rotation (provider update):        median ${median(ourTimes).toFixed(2)} ms, p90 ${percentile(ourTimes, 90).toFixed(2)} ms`,
    );
    console.log(
      `  with a fresh managing session each:       median ${median(coldTimes).toFixed(2)} ms, p90 ${percentile(coldTimes, 90).toFixed(2)} ms`,
    );
    console.log(`ratio to floor (median): ${ratio.toFixed(3)}`);
    console.log(
      `ratio to floor, fresh session each (median): ${(median(coldTimes) / median(floorTimes)).toFixed(3)}`,
    );
    console.log(
      `floor + the guards' SQL, ratio to floor (median): ${(median(guardedTimes) / median(floorTimes)).toFixed(3)}; ` +
        `fresh-session rotation to it: ${(median(coldTimes) / median(guardedTimes)).toFixed(3)}`,
    );
    const unowned = median(unownedTimes);
    console.log(
      `the guards' SQL without the ownership read: median ${unowned.toFixed(2)} ms; with it: ` +
        `${(median(guardedTimes) / unowned).toFixed(3)}x (${(median(guardedTimes) - unowned).toFixed(2)} ms); ` +
        `without it plus one more round trip: ${(median(roundTripTimes) / unowned).toFixed(3)}x ` +
        `(${(median(roundTripTimes) - unowned).toFixed(2)} ms)`,
    );
    console.log(
      `the ownership read (nothing owned) costs ` +
        `${((median(guardedTimes) - unowned) / (median(roundTripTimes) - unowned)).toFixed(2)} ` +
        `round trips on a fresh session`,
    );
  } finally {
    await server.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
