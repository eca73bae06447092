/**
 * provider/postgres/pool.ts on a real server: a bounded number of connections per server from
 * one process, and the managing user's session reused by the next rotation.
 */
import { expect } from "chai";
import { generatePassword } from "../../../provider/core/password";
import { resolveInputs } from "../../../provider/core/validate";
import {
  DEFAULT_MAX_CONNECTIONS,
  MAX_CONNECTIONS_VARIABLE,
  maxConnections,
} from "../../../provider/postgres/pool";
import { postgresShell } from "../../../provider/postgres/shell";
import { startPgProxy } from "../../support/pgProxy";
import { SUPPORTED_MAJORS, privateCluster, type TestCluster } from "../../support/servers";

describe("postgres/pool", function () {
  this.timeout(120_000);
  let pg: TestCluster;
  const saved = process.env[MAX_CONNECTIONS_VARIABLE];
  before(async () => {
    // A server of its own: the bound is read when the process first connects to a server.
    process.env[MAX_CONNECTIONS_VARIABLE] = "3";
    pg = await privateCluster({ major: SUPPORTED_MAJORS[SUPPORTED_MAJORS.length - 1] });
  });
  after(() => {
    if (saved === undefined) delete process.env[MAX_CONNECTIONS_VARIABLE];
    else process.env[MAX_CONNECTIONS_VARIABLE] = saved;
  });

  it("reads the bound from the environment, and refuses a useless one", () => {
    expect(maxConnections({})).to.equal(DEFAULT_MAX_CONNECTIONS);
    expect(maxConnections({ [MAX_CONNECTIONS_VARIABLE]: "20" })).to.equal(20);
    for (const bad of ["1", "0", "x", "2.5", "1001"]) {
      expect(() => maxConnections({ [MAX_CONNECTIONS_VARIABLE]: bad })).to.throw(RangeError);
    }
  });

  it("keeps to the bound on the server while 12 rotations run at once, and all of them succeed", async () => {
    const pairs = [];
    for (let i = 0; i < 12; i++) pairs.push(await pg.createPair());
    const monitor = await pg.server.connectAsSuperuser();
    let peak = 0;
    let running = true;
    const poll = (async () => {
      while (running) {
        const { rows } = await monitor.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'pulumi-postgres-rotator'",
        );
        peak = Math.max(peak, rows[0].n);
        await new Promise((r) => setTimeout(r, 2));
      }
    })();
    const passwords = pairs.map(() => generatePassword());
    const managerLogins = () =>
      (pg.server.readLog().match(/connection authorized: user=rotation_manager/g) ?? []).length;
    const loginsBefore = managerLogins();
    // A place counts as free only once the server has let its session go: here the server lets
    // each one go 50 ms after the client asked, through a proxy that holds every goodbye.
    const proxy = await startPgProxy(pg.server, { holdGoodbyeMs: 50 });
    const database = { ...pg.database, host: proxy.host, port: proxy.port };
    try {
      await Promise.all(
        pairs.map((pair, i) =>
          postgresShell(resolveInputs({ database, rotateUsers: pair })).changePassword(
            pair.username1,
            passwords[i],
          ),
        ),
      );
      // The last sessions' goodbyes are under way: the bound holds until they are done.
      await new Promise((r) => setTimeout(r, 200));
    } finally {
      running = false;
      await poll;
      await monitor.end();
      await proxy.close();
    }
    expect(peak).to.be.at.most(3);
    expect(peak).to.be.at.least(2);
    // Rotations waiting for room take over a managing session another one has finished with.
    expect(managerLogins() - loginsBefore).to.be.below(pairs.length / 2);
    for (const [i, pair] of pairs.entries()) {
      expect(await pg.canLogin(pair.username1, passwords[i])).to.equal(true);
    }
  });

  it("reuses the managing user's session for the next rotation instead of logging in again", async () => {
    const pair = await pg.createPair();
    const logins = () =>
      (pg.server.readLog().match(/connection authorized: user=rotation_manager/g) ?? []).length;
    const shell = postgresShell(resolveInputs({ database: pg.database, rotateUsers: pair }));
    await shell.changePassword(pair.username1, generatePassword());
    const before = logins();
    await shell.changePassword(pair.username2, generatePassword());
    await shell.changePassword(pair.username1, generatePassword());
    expect(logins()).to.equal(before);
  });
});
