/**
 * `PostgresRotation` behind a real PgBouncer (Debian's package; SCRAM with `auth_query`,
 * transaction pooling), on the newest PostgreSQL: apps log in through the pooler with `current`
 * (re-read after each rotation) while rotations run with the default live-session guard. The
 * pooler keeps idle server connections of the previous user; once they are idle past
 * `liveSessionsIdleSeconds` the rotation goes ahead, and no app login ever fails.
 */
import { expect } from "chai";
import { Client as PgClient } from "pg";
import * as handlers from "../../../provider/postgresRotation/handlers";
import type { Credential, RotationInputs } from "../../../provider/core/types";
import { LiveSessionsError } from "../../../provider/errors";
import { quoteIdentifier } from "../../../provider/postgres/sql";
import { Lifecycle } from "../../support/provider";
import { rejection } from "../../support/secrets";
import { startPgBouncer, type PgBouncer } from "../../support/pgbouncer";
import { TEST_MAJORS, cluster, type TestCluster } from "../../support/servers";
import { testTools } from "../../support/testTools";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe(`PostgresRotation behind PgBouncer on PostgreSQL ${TEST_MAJORS.at(-1)}`, function () {
  this.timeout(120_000);
  let pg: TestCluster;
  let bouncer: PgBouncer | undefined;

  before(async function () {
    const { tools, reason } = testTools();
    if (!tools) {
      // Only when installing PgBouncer is impossible here (not root, no apt-get); CI installs it.
      console.warn(`skipped: ${reason}`);
      this.skip();
    }
    pg = await cluster(TEST_MAJORS.at(-1)!);
    // The README's advice: without it the guard cannot see that a session is idle.
    await pg.asSuperuser((c) =>
      c.query(`GRANT pg_read_all_stats TO ${quoteIdentifier(pg.manager.username)}`),
    );
    bouncer = await startPgBouncer(tools!.PGBOUNCER, pg);
  });
  after(async () => {
    await bouncer?.stop();
    if (pg && bouncer) {
      await pg.asSuperuser((c) =>
        c.query(`REVOKE pg_read_all_stats FROM ${quoteIdentifier(pg.manager.username)}`),
      );
    }
  });

  it("rotates once the pooler's connections of the previous user are idle past the window; no app login fails", async () => {
    const WINDOW = 1;
    const ROTATIONS = 4;
    const base: RotationInputs = {
      database: pg.database,
      rotateUsers: await pg.createPair(),
      rotationTrigger: "0",
      liveSessionsIdleSeconds: WINDOW,
    };
    const life = new Lifecycle(handlers);
    await life.create(base);
    // Apps: a fresh login through PgBouncer each time, with the credentials last read.
    let current: Credential = life.outputs!.current;
    const failures: string[] = [];
    let logins = 0;
    let stop = false;
    const app = async () => {
      while (!stop) {
        const { username, password } = current;
        const client = new PgClient({
          host: bouncer!.host,
          port: bouncer!.port,
          database: "app",
          user: username,
          password,
        });
        client.on("error", () => undefined);
        try {
          await client.connect();
          const { rows } = await client.query<{ u: string }>("SELECT current_user::text AS u");
          if (rows[0].u !== username) failures.push(`logged in as ${rows[0].u}, not ${username}`);
          logins += 1;
        } catch (error) {
          const { code, message } = error as { code?: string; message: string };
          failures.push(`${username}: ${code ?? ""} ${message}`);
        } finally {
          await client.end().catch(() => undefined);
        }
        await sleep(20);
      }
    };
    const apps = [app(), app(), app()];
    const warnings: string[] = [];
    const original = console.warn;
    console.warn = (line: string) => warnings.push(line);
    let refusals = 0;
    let refusedWithDefaultWindow = false;
    try {
      await sleep(300);
      for (let n = 1; n <= ROTATIONS; n++) {
        const previous = life.outputs!.previous.username;
        const trigger = { ...base, rotationTrigger: String(n) };
        if (n === 2) {
          // The default window (an hour): the pooler's idle connections of the previous user
          // are far younger, so the guard refuses, as it did for every rotation before.
          const error = await rejection(
            life.apply({ ...trigger, liveSessionsIdleSeconds: undefined }),
          );
          expect(error).to.be.instanceOf(LiveSessionsError);
          refusedWithDefaultWindow = true;
        }
        const deadline = Date.now() + 30_000;
        for (;;) {
          const error = await life.apply(trigger).then(
            () => undefined,
            (e: Error) => e,
          );
          if (!error) break;
          expect(error).to.be.instanceOf(LiveSessionsError);
          expect(Date.now(), `rotation ${n} still refused: ${error.message}`).to.be.below(deadline);
          refusals += 1;
          await sleep(250);
        }
        expect(life.outputs!.current.username).to.equal(previous);
        // The apps re-read their credentials.
        current = life.outputs!.current;
        await sleep(300);
      }
    } finally {
      console.warn = original;
      stop = true;
      await Promise.all(apps);
    }
    expect(failures, failures.slice(0, 5).join("\n")).to.deep.equal([]);
    expect(logins).to.be.above(ROTATIONS * 10);
    expect(refusedWithDefaultWindow).to.equal(true);
    // The pooler's parked connections were seen, reported, and let through.
    const parked = warnings.filter((w) => w.includes(`idle for over ${WINDOW} s`));
    expect(parked.length, warnings.join("\n")).to.be.at.least(ROTATIONS - 1);
    expect(parked.join("\n")).to.include("taken for a pooler's parked server connections");
    console.log(
      `      ${logins} logins through PgBouncer, ${refusals} refusals while connections idled`,
    );
  });
});
