/**
 * Zero downtime, measured: clients that keep opening fresh connections with the credentials
 * they last fetched never fail while two-user rotations run, as long as rotations are further
 * apart (R) than the clients' refresh interval (T). In the same run, on the same server, a
 * control rotates the password of the one user its clients use, the way a single-user rotation
 * does; its clients must fail, or the harness would not be able to see a failure at all.
 *
 * Arms, each with its own users and its own K client workers:
 * - two-user: the provider's `update` after a `rotationTrigger` bump (the path `pulumi up`
 *   takes), every R; clients re-read the resource's latest `current` output every T;
 * - single-user control, at the same time: `ALTER ROLE … PASSWORD '<verifier>'` of the one user
 *   as the managing user, every R; clients re-read the latest password every T;
 * - afterwards, two-user rotation every R' < T (unless `--fast-rotations=0`): it must fail too,
 *   which shows that R > T is what the promise needs.
 *
 * A worker opens a fresh connection (a full SCRAM login), runs `SELECT 1`, closes it, waits
 * `--think-ms`, and again. Its refresh timer starts at a random phase, so workers do not
 * refresh in step. Exits non-zero when the two-user arm saw a failure, or a control saw none.
 *
 * With `--failovers=N` the server also restarts N times during the first measurement, evenly
 * spread (an immediate stop and a start, as an RDS or Aurora failover drops every session;
 * acknowledged commits survive, as there: the server runs with synchronous_commit on). Failures
 * are then counted apart: authentication failures (SQLSTATE 28P01), which the two-user arm must
 * never have; connections and rotations that overlapped a restart's window (the server was
 * down); and any other failure. Every rotation started after a restart must succeed.
 *
 *     npm run bench:zero-downtime   # or: npx tsx bench/zeroDowntime.ts [--workers=8]
 *       [--refresh-ms=200] [--rotate-ms=500] [--rotations=200] [--think-ms=5]
 *       [--fast-rotate-ms=100] [--fast-rotations=40] [--major=18] [--failovers=0]
 */
import { setTimeout as sleep } from "node:timers/promises";
import { Client } from "pg";
import * as postgresRotationProvider from "../provider/postgresRotation/postgresRotationProvider";
import type { RotationOutputs } from "../provider/core/outputs";
import type { Credential, RotationInputs } from "../provider/core/types";
import { scramSha256Verifier } from "../provider/core/scram";
import { generatePassword } from "../provider/core/password";
import { quoteIdentifier } from "../provider/postgres/sql";
import {
  SUPPORTED_MAJORS,
  startPostgres,
  type EmbeddedPostgres,
  type PostgresMajor,
} from "../scripts/embeddedPostgres";
import { median } from "./stats";

interface Params {
  readonly workers: number;
  readonly refreshMs: number;
  readonly rotateMs: number;
  readonly rotations: number;
  readonly thinkMs: number;
  readonly fastRotateMs: number;
  readonly fastRotations: number;
  readonly major: PostgresMajor;
  readonly failovers: number;
}

function parseParams(argv: readonly string[]): Params {
  const given = new Map<string, number>();
  for (const arg of argv) {
    const match = /^--([a-z-]+)=(\d+(?:\.\d+)?)$/.exec(arg);
    if (!match) throw new Error(`unknown argument ${JSON.stringify(arg)}`);
    given.set(match[1], Number(match[2]));
  }
  const take = (name: string, fallback: number) => {
    const value = given.get(name) ?? fallback;
    given.delete(name);
    return value;
  };
  const params: Params = {
    workers: take("workers", 8),
    refreshMs: take("refresh-ms", 200),
    rotateMs: take("rotate-ms", 500),
    rotations: take("rotations", 200),
    thinkMs: take("think-ms", 5),
    fastRotateMs: take("fast-rotate-ms", 100),
    fastRotations: take("fast-rotations", 40),
    major: take("major", SUPPORTED_MAJORS[SUPPORTED_MAJORS.length - 1]) as PostgresMajor,
    failovers: take("failovers", 0),
  };
  if (given.size > 0) throw new Error(`unknown option --${[...given.keys()][0]}`);
  if (params.rotateMs <= params.refreshMs) {
    throw new Error("--rotate-ms must be longer than --refresh-ms: that is the claim measured");
  }
  if (params.fastRotations > 0 && params.fastRotateMs >= params.refreshMs) {
    throw new Error("--fast-rotate-ms must be shorter than --refresh-ms");
  }
  return params;
}

const now = () => performance.now();

/** When the server was down for a restart: from the stop until it accepted logins again. */
const restartWindows: { from: number; to?: number }[] = [];

/** True when [from, to] overlaps a restart's window (one under way counts to now). */
function duringRestart(from: number, to: number): boolean {
  return restartWindows.some((w) => from <= (w.to ?? Infinity) && to >= w.from);
}

/** One arm: what its clients fetch, and what they saw. */
class Arm {
  attempts = 0;
  failures = 0;
  /** Refused logins (SQLSTATE 28P01): the failures zero downtime is about. */
  authFailures = 0;
  /** Connections that failed while overlapping a restart's window (the server was down). */
  restartFailures = 0;
  /** Rotations that failed while overlapping a restart's window; and any other that failed. */
  rotationsInterrupted = 0;
  rotationsFailed = 0;
  readonly failureCodes = new Map<string, number>();
  readonly rotationMs: number[] = [];
  rotationStarts: number[] = [];
  /** The longest time any of its workers went between two refreshes. */
  longestRefreshGapMs = 0;
  constructor(
    readonly name: string,
    /** The credentials a client gets when it refreshes: the arm's latest published ones. */
    public latest: Credential,
  ) {}

  fail(error: unknown, startedAt: number) {
    const code = String((error as { code?: unknown }).code ?? (error as Error).message);
    if (code === "28P01") this.authFailures += 1;
    else if (duringRestart(startedAt, now())) {
      this.restartFailures += 1;
      return;
    }
    this.failures += 1;
    this.failureCodes.set(code, (this.failureCodes.get(code) ?? 0) + 1);
  }
}

/** A client: fresh connection, `SELECT 1`, close, again, with credentials refreshed every T. */
async function runWorker(
  arm: Arm,
  server: EmbeddedPostgres,
  params: Params,
  stopped: () => boolean,
): Promise<void> {
  let credential = arm.latest;
  let lastRefresh = now();
  const refresh = () => {
    const at = now();
    arm.longestRefreshGapMs = Math.max(arm.longestRefreshGapMs, at - lastRefresh);
    lastRefresh = at;
    credential = arm.latest;
  };
  let interval: NodeJS.Timeout | undefined;
  const phase = setTimeout(() => {
    refresh();
    interval = setInterval(refresh, params.refreshMs);
  }, Math.random() * params.refreshMs);
  try {
    while (!stopped()) {
      arm.attempts += 1;
      const startedAt = now();
      const client = new Client({
        host: server.host,
        port: server.port,
        database: "postgres",
        user: credential.username,
        password: credential.password,
        ssl: false,
        connectionTimeoutMillis: 10_000,
      });
      client.on("error", () => undefined);
      try {
        await client.connect();
        await client.query("SELECT 1");
      } catch (error) {
        arm.fail(error, startedAt);
      } finally {
        await client.end().catch(() => undefined);
      }
      if (params.thinkMs > 0) await sleep(params.thinkMs);
    }
  } finally {
    clearTimeout(phase);
    if (interval) clearInterval(interval);
  }
}

/** Runs `rotate` `count` times, one start every `everyMs` (at once when one overran). */
async function rotateEvery(
  arm: Arm,
  everyMs: number,
  count: number,
  rotate: () => Promise<void>,
): Promise<void> {
  let next = now();
  for (let i = 0; i < count; i++) {
    const wait = next - now();
    if (wait > 0) await sleep(wait);
    next += everyMs;
    const started = now();
    arm.rotationStarts.push(started);
    try {
      await rotate();
      arm.rotationMs.push(now() - started);
    } catch (error) {
      if (restartWindows.length === 0) throw error;
      if (duringRestart(started, now())) arm.rotationsInterrupted += 1;
      else {
        arm.rotationsFailed += 1;
        console.log(`${arm.name}: a rotation failed outside any restart: ${String(error)}`);
      }
    }
  }
}

/** Workers of every arm run until every rotation loop is done. */
async function measure(
  server: EmbeddedPostgres,
  params: Params,
  arms: readonly { arm: Arm; loop: () => Promise<void> }[],
): Promise<void> {
  let stop = false;
  const workers = arms.flatMap(({ arm }) =>
    Array.from({ length: params.workers }, () => runWorker(arm, server, params, () => stop)),
  );
  try {
    await Promise.all(arms.map(({ loop }) => loop()));
  } finally {
    stop = true;
    await Promise.all(workers);
  }
}

/** Two-user rotation through the provider, as `pulumi up` after a trigger bump runs it. */
async function twoUserArm(database: RotationInputs["database"], users: Credential[], name: string) {
  const inputs: RotationInputs = {
    database,
    rotateUsers: { username1: users[0].username, username2: users[1].username },
    // Clients hold brief sessions of the previous user until they refresh: not a reason to stop.
    liveSessions: "ignore",
    rotationTrigger: 0,
  };
  const created = await postgresRotationProvider.create(inputs);
  let outputs = created.outs as RotationOutputs;
  const arm = new Arm(name, outputs.current);
  let trigger = 0;
  const rotate = async () => {
    trigger += 1;
    const result = await postgresRotationProvider.update(created.id, outputs, {
      ...inputs,
      rotationTrigger: trigger,
    });
    outputs = result.outs as RotationOutputs;
    arm.latest = outputs.current;
  };
  return { arm, rotate };
}

function summary(arm: Arm, rotations: number): string {
  const codes = [...arm.failureCodes].map(([code, n]) => `${code} ×${n}`).join(", ");
  const failovers =
    restartWindows.length > 0
      ? `, ${arm.authFailures} authentication failures (28P01), ${arm.restartFailures} failed ` +
        `during a restart, ${arm.rotationsInterrupted} rotations interrupted by a restart, ` +
        `${arm.rotationsFailed} other rotations failed`
      : "";
  return `${arm.failures} failed of ${arm.attempts} connections over ${rotations} rotations${codes ? ` (${codes})` : ""}${failovers}`;
}

/** Restarts the server `count` times, evenly spread over `durationMs`, each window recorded. */
async function failovers(server: EmbeddedPostgres, count: number, durationMs: number) {
  const started = now();
  for (let i = 1; i <= count; i++) {
    const wait = started + (durationMs * i) / (count + 1) - now();
    if (wait > 0) await sleep(wait);
    const window: { from: number; to?: number } = { from: now() };
    restartWindows.push(window);
    await server.restart();
    window.to = now();
  }
}

function timing(arm: Arm): string {
  const gaps = arm.rotationStarts.slice(1).map((t, i) => t - arm.rotationStarts[i]);
  return (
    `rotation median ${median(arm.rotationMs).toFixed(1)} ms, max ${Math.max(...arm.rotationMs).toFixed(1)} ms; ` +
    `starts every ${median(gaps).toFixed(0)} ms (min ${Math.min(...gaps).toFixed(0)}); ` +
    `longest refresh gap ${arm.longestRefreshGapMs.toFixed(0)} ms`
  );
}

async function main() {
  const params = parseParams(process.argv.slice(2));
  const server = await startPostgres({
    major: params.major,
    logStatements: false,
    settings: {
      max_connections: 100,
      log_connections: "off",
      ...(params.failovers > 0 ? { synchronous_commit: "on" } : {}),
    },
  });
  try {
    const manager = { username: "zd_manager", password: generatePassword() };
    const roles = ["zd_two_1", "zd_two_2", "zd_fast_1", "zd_fast_2", "zd_single"];
    const admin = await server.connectAsSuperuser();
    await admin.query(`CREATE ROLE ${manager.username} LOGIN CREATEROLE`);
    for (const role of roles) {
      await admin.query(`CREATE ROLE ${role} LOGIN`);
      if (params.major >= 16) {
        await admin.query(
          `GRANT ${role} TO ${manager.username} WITH ADMIN TRUE, INHERIT FALSE, SET FALSE`,
        );
      }
    }
    await admin.query(
      `ALTER ROLE ${manager.username} PASSWORD '${scramSha256Verifier(manager.password)}'`,
    );
    await admin.end();
    const database = {
      host: server.host,
      port: server.port,
      database: "postgres",
      managingUser: manager,
      ssl: { mode: "disable" as const },
    };
    const user = (username: string): Credential => ({ username, password: "" });

    // The control: the one user's password changed in place, then published.
    const managerSession = async () => {
      const client = new Client({
        host: server.host,
        port: server.port,
        database: "postgres",
        user: manager.username,
        password: manager.password,
        ssl: false,
      });
      client.on("error", () => ended.add(client));
      client.on("end", () => ended.add(client));
      await client.connect();
      return client;
    };
    const ended = new WeakSet<Client>();
    let managerClient = await managerSession();
    const setSingle = async () => {
      const password = generatePassword();
      // A restart ended the session: a new one.
      if (ended.has(managerClient)) managerClient = await managerSession();
      try {
        await managerClient.query(
          `ALTER ROLE ${quoteIdentifier("zd_single")} PASSWORD '${scramSha256Verifier(password)}'`,
        );
      } catch (error) {
        ended.add(managerClient);
        throw error;
      }
      return { username: "zd_single", password };
    };
    const control = new Arm("single-user control", await setSingle());
    const two = await twoUserArm(database, [user("zd_two_1"), user("zd_two_2")], "two-user");

    console.log(
      `PostgreSQL ${server.version}; ${params.workers} workers per arm, each opening a fresh ` +
        `connection (SCRAM login, SELECT 1) every ${params.thinkMs} ms after the last closed; ` +
        `credentials refreshed every T = ${params.refreshMs} ms; a rotation every R = ` +
        `${params.rotateMs} ms, ${params.rotations} rotations per arm, both arms at once`,
    );
    const started = now();
    const restarts = failovers(server, params.failovers, params.rotations * params.rotateMs);
    await measure(server, params, [
      {
        arm: two.arm,
        loop: () => rotateEvery(two.arm, params.rotateMs, params.rotations, two.rotate),
      },
      {
        arm: control,
        loop: () =>
          rotateEvery(control, params.rotateMs, params.rotations, async () => {
            control.latest = await setSingle();
          }),
      },
    ]);
    await restarts;
    const seconds = ((now() - started) / 1000).toFixed(1);
    let fast: Arm | undefined;
    if (params.fastRotations > 0) {
      const arm = await twoUserArm(
        database,
        [user("zd_fast_1"), user("zd_fast_2")],
        "two-user, R < T",
      );
      fast = arm.arm;
      await measure(server, params, [
        {
          arm: fast,
          loop: () => rotateEvery(arm.arm, params.fastRotateMs, params.fastRotations, arm.rotate),
        },
      ]);
    }
    await managerClient.end();

    console.log(`${seconds} s; ${timing(two.arm)} (two-user), ${timing(control)} (control)`);
    console.log(
      `two-user rotation: ${summary(two.arm, params.rotations)}; ` +
        `single-user control: ${summary(control, params.rotations)}`,
    );
    if (fast) {
      console.log(
        `two-user rotation every R' = ${params.fastRotateMs} ms < T (${timing(fast)}): ` +
          summary(fast, params.fastRotations),
      );
    }
    if (restartWindows.length > 0) {
      const downs = restartWindows.map((w) => (w.to ?? now()) - w.from);
      console.log(
        `${restartWindows.length} restarts (immediate stop, start), down ${median(downs).toFixed(0)} ms ` +
          `median, ${Math.max(...downs).toFixed(0)} ms at most`,
      );
    }
    const problems = [
      two.arm.failures > 0 ? "the two-user arm had failures" : "",
      two.arm.authFailures > 0 ? "the two-user arm had authentication failures" : "",
      two.arm.rotationsFailed > 0 ? "a two-user rotation started after a restart failed" : "",
      control.failures === 0 ? "the single-user control had no failure: nothing was measured" : "",
      fast && fast.failures === 0 ? "rotating faster than clients refresh had no failure" : "",
    ].filter(Boolean);
    if (problems.length > 0) {
      console.log(`FAILED: ${problems.join("; ")}`);
      process.exitCode = 1;
    } else {
      console.log("OK: zero failed connections with two-user rotation, failures in each control");
    }
  } finally {
    await server.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
