/**
 * Rotated passwords log in with clients that share no code with node-postgres: libpq (psql
 * from Debian's postgresql-client, and psycopg 3 with the libpq of its binary wheel) and pgx (a
 * Go client with its own SCRAM), on the newest PostgreSQL: a rotation with default settings, one
 * with the highest accepted `scramIterations`, and an adopted non-ASCII password. Passwords
 * reach the clients only through PGPASSWORD, never a command line.
 */
import { spawnSync } from "node:child_process";
import { expect } from "chai";
import * as handlers from "../../../provider/postgresRotation/handlers";
import type { Credential, RotationInputs } from "../../../provider/core/types";
import { MAX_SCRAM_ITERATIONS } from "../../../provider/core/scram";
import { Lifecycle } from "../../support/provider";
import { TEST_MAJORS, cluster, type TestCluster } from "../../support/servers";
import { testTools, type TestTools } from "../../support/testTools";

describe(`rotated passwords with libpq and pgx on PostgreSQL ${TEST_MAJORS.at(-1)}`, function () {
  this.timeout(120_000);
  let pg: TestCluster;
  let tools: TestTools;

  before(async function () {
    const found = testTools();
    if (!found.tools) {
      // Only when installing the tools is impossible here; CI installs them.
      console.warn(`skipped: ${found.reason}`);
      this.skip();
    }
    tools = found.tools!;
    pg = await cluster(TEST_MAJORS.at(-1)!);
  });

  /** `current_user` as each client reports it after logging in as `credential`. */
  function loginWithEach(credential: Credential): Record<string, string> {
    const env = {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: process.env.HOME ?? "/tmp",
      LANG: "C.UTF-8",
      PGHOST: pg.server.host,
      PGPORT: String(pg.server.port),
      PGDATABASE: "app",
      PGUSER: credential.username,
      PGPASSWORD: credential.password,
      PGSSLMODE: "disable",
      PGCONNECT_TIMEOUT: "30",
    };
    const clients: Record<string, [string, string[]]> = {
      psql: [tools.PSQL, ["-X", "-q", "-A", "-t", "-w", "-c", "SELECT current_user"]],
      psycopg: [
        tools.PYTHON,
        [
          "-c",
          "import psycopg\n" +
            "assert psycopg.pq.__impl__ == 'binary', psycopg.pq.__impl__\n" +
            "with psycopg.connect('') as c: print(c.execute('SELECT current_user').fetchone()[0])",
        ],
      ],
      pgx: [tools.PGX_LOGIN, []],
    };
    return Object.fromEntries(
      Object.entries(clients).map(([name, [command, args]]) => {
        const run = spawnSync(command, args, { env, encoding: "utf8", timeout: 60_000 });
        const said = run.status === 0 ? run.stdout.trim() : `failed: ${run.stderr.trim()}`;
        expect(said, `${name}'s output`).to.not.include(credential.password);
        return [name, said];
      }),
    );
  }

  const allAs = (username: string) => ({ psql: username, psycopg: username, pgx: username });

  async function rotatedCurrent(extra: Partial<RotationInputs>): Promise<Credential> {
    const base: RotationInputs = {
      database: pg.database,
      rotateUsers: await pg.createPair(),
      rotationTrigger: "1",
      ...extra,
    };
    const life = new Lifecycle(handlers);
    await life.create(base);
    await life.apply({ ...base, rotationTrigger: "2" });
    return life.outputs!.current;
  }

  it("logs in with a password rotated with default settings, and not with a wrong one", async () => {
    const current = await rotatedCurrent({});
    expect(loginWithEach(current)).to.deep.equal(allAs(current.username));
    const wrong = loginWithEach({ ...current, password: `${current.password}x` });
    for (const [name, said] of Object.entries(wrong)) {
      expect(said, name).to.match(/^failed: .*(password authentication failed|28P01)/s);
    }
  });

  it(`logs in with a password rotated at the highest scramIterations (${MAX_SCRAM_ITERATIONS})`, async () => {
    const current = await rotatedCurrent({ scramIterations: MAX_SCRAM_ITERATIONS });
    const verifier = await pg.asSuperuser((c) =>
      c.query<{ v: string }>("SELECT rolpassword AS v FROM pg_authid WHERE rolname = $1", [
        current.username,
      ]),
    );
    expect(verifier.rows[0].v).to.match(new RegExp(`^SCRAM-SHA-256\\$${MAX_SCRAM_ITERATIONS}:`));
    expect(loginWithEach(current)).to.deep.equal(allAs(current.username));
  });

  it("logs in with an adopted non-ASCII password", async () => {
    const rotateUsers = await pg.createPair();
    const password = "pässwörd-ünïcödé-Ωμέγα-1234";
    await pg.setPassword(rotateUsers.username1, password);
    const life = new Lifecycle(handlers);
    await life.create({
      database: pg.database,
      rotateUsers,
      state: { current: { username: rotateUsers.username1, password } },
    });
    const current = life.outputs!.current;
    expect(current.password).to.equal(password);
    expect(loginWithEach(current)).to.deep.equal(allAs(current.username));
  });
});
