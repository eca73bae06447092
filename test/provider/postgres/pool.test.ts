/**
 * provider/postgres/pool.ts on a real server: a bounded number of connections per server from
 * one process, and the managing user's session reused by the next rotation.
 */
import { expect } from "chai";
import { generatePassword } from "../../../provider/core/password";
import { resolveInputs } from "../../../provider/core/validate";
import { connect } from "../../../provider/postgres/connection";
import {
  DEFAULT_MAX_CONNECTIONS,
  IDLE_MS,
  MAX_CONNECTIONS_VARIABLE,
  leaseSession,
  maxConnections,
  withSlot,
} from "../../../provider/postgres/pool";
import { postgresShell } from "../../../provider/postgres/shell";
import { startPgProxy } from "../../support/pgProxy";
import { SUPPORTED_MAJORS, privateCluster, type TestCluster } from "../../support/servers";
import { terminateSessionsBlocking } from "../../support/terminateBlocking";

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
    expect(maxConnections({ [MAX_CONNECTIONS_VARIABLE]: "" })).to.equal(DEFAULT_MAX_CONNECTIONS);
    expect(maxConnections({ [MAX_CONNECTIONS_VARIABLE]: "2" })).to.equal(2);
    expect(maxConnections({ [MAX_CONNECTIONS_VARIABLE]: "1000" })).to.equal(1000);
    for (const bad of ["1", "0", "x", "2.5", "1001"]) {
      expect(() => maxConnections({ [MAX_CONNECTIONS_VARIABLE]: bad })).to.throw(
        RangeError,
        `${MAX_CONNECTIONS_VARIABLE} must be a whole number from 2 to 1000`,
      );
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

  describe("leases (each test its own bound of 3 places)", () => {
    let places = 0;
    /** A server key of its own: a fresh bound of 3, no session of another test in it. */
    const ownServer = () => `${pg.server.host}:${pg.server.port}#leases-${(places += 1)}`;
    const open = (password = pg.manager.password) =>
      connect(
        { host: pg.server.host, port: pg.server.port, database: "app", ssl: { mode: "disable" } },
        { username: pg.manager.username, password },
        { connectSeconds: 10, statementSeconds: 10, lockSeconds: 10 },
        { secrets: [password] },
      );
    const terminateManagerSessions = () =>
      pg.asSuperuser((c) =>
        c.query(
          "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'rotation_manager'",
        ),
      );

    it("hands a kept session only to the same identity, and keeps it only when reusable", async () => {
      const server = ownServer();
      const first = await leaseSession(server, ["a"], () => open());
      first.release(true);
      const other = await leaseSession(server, ["b"], () => open());
      expect(other.reused).to.equal(false);
      expect(other.client).to.not.equal(first.client);
      other.release(false);
      const again = await leaseSession(server, ["a"], () => open());
      expect(again.reused).to.equal(true);
      expect(again.client).to.equal(first.client);
      // Taken, it is no longer idle: its idle timer does not close it under its new holder.
      await new Promise((r) => setTimeout(r, IDLE_MS + 500));
      expect((await again.client.query("SELECT 1 AS one")).rows).to.deep.equal([{ one: 1 }]);
      again.release(false);
      const afterUnusable = await leaseSession(server, ["a"], () => open());
      expect(afterUnusable.reused).to.equal(false);
      afterUnusable.release(false);
    });

    it("never keeps a session whose connection ended while it was leased", async () => {
      const server = ownServer();
      const lease = await leaseSession(server, ["a"], () => open());
      const ended = new Promise((resolve) => lease.client.once("end", resolve));
      await terminateManagerSessions();
      await ended;
      lease.release(true);
      const next = await leaseSession(server, ["a"], () => open());
      expect(next.reused).to.equal(false);
      expect((await next.client.query("SELECT 1 AS one")).rows).to.deep.equal([{ one: 1 }]);
      next.release(false);
    });

    it("gives the place of a closed session, and of a failed login, to who waits", async () => {
      const server = ownServer();
      for (let i = 0; i < 3; i++) {
        const refused = await leaseSession(server, ["x"], () => open("not-the-password")).then(
          () => undefined,
          (error: Error) => error,
        );
        expect(refused).to.be.instanceOf(Error);
      }
      const leases = await Promise.all(
        [1, 2, 3].map((i) => leaseSession(server, [i], () => open())),
      );
      let fourth = false;
      const waiting = leaseSession(server, [4], () => open()).then((lease) => {
        fourth = true;
        return lease;
      });
      await new Promise((r) => setTimeout(r, 100));
      expect(fourth, "a fourth lease while three are out").to.equal(false);
      leases[0].release(false);
      const last = await waiting;
      expect(last.reused).to.equal(false);
      for (const lease of [...leases.slice(1), last]) lease.release(false);
    });

    it("a lease for another identity closes one kept session to make room, not all of them", async () => {
      const server = ownServer();
      const kept = await Promise.all(
        [1, 2, 3].map(() => leaseSession(server, ["a"], () => open())),
      );
      for (const lease of kept) lease.release(true);
      const other = await leaseSession(server, ["b"], () => open());
      expect(other.reused).to.equal(false);
      other.release(false);
      // The two others are still kept, for the next two leases of their identity.
      const again = [await leaseSession(server, ["a"], () => open())];
      again.push(await leaseSession(server, ["a"], () => open()));
      expect(again.map((lease) => lease.reused)).to.deep.equal([true, true]);
      for (const lease of again) lease.release(false);
    });

    it("withSlot runs the work in a place and ends the connection it was given", async () => {
      const server = ownServer();
      let ended: Promise<unknown> | undefined;
      const result = await withSlot(server, async (own) => {
        const client = await open();
        ended = new Promise((resolve) => client.once("end", resolve));
        own(client);
        return (await client.query("SELECT 2 AS two")).rows[0].two as number;
      });
      expect(result).to.equal(2);
      await ended;
    });
  });

  describe("sessions that die while kept", () => {
    const shellFor = (pair: { username1: string; username2: string }) =>
      postgresShell(resolveInputs({ database: pg.database, rotateUsers: pair }));
    const managerLogins = () =>
      (pg.server.readLog().match(/connection authorized: user=rotation_manager/g) ?? []).length;
    /** The rotator's sessions on the server now. */
    const sessions = () =>
      pg.asSuperuser(async (c) => {
        const { rows } = await c.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'pulumi-postgres-rotator'",
        );
        return rows[0].n;
      });
    /** Waits (at most `ms`) until the rotator has no session left on the server. */
    const noSessionsWithin = async (ms: number) => {
      const deadline = Date.now() + ms;
      while ((await sessions()) > 0 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
      }
      return sessions();
    };

    it("closes a kept session after IDLE_MS: none of the rotator's is left on the server", async () => {
      expect(await noSessionsWithin(IDLE_MS * 3), "sessions of earlier tests").to.equal(0);
      const pair = await pg.createPair();
      await shellFor(pair).changePassword(pair.username1, generatePassword());
      expect(await sessions(), "the kept session").to.equal(1);
      await new Promise((r) => setTimeout(r, IDLE_MS));
      expect(await noSessionsWithin(1000)).to.equal(0);
    });

    it("a rotation at once after the server restarted (a failover) succeeds on a fresh login", async () => {
      const [first, second] = [await pg.createPair(), await pg.createPair()];
      await shellFor(first).changePassword(first.username1, generatePassword());
      const restarted = Date.now();
      await pg.server.restart();
      // Else the pool's idle timer closed the kept session first, and nothing would be tested.
      expect(Date.now() - restarted, "restart time").to.be.below(IDLE_MS);
      const password = generatePassword();
      await shellFor(second).changePassword(second.username1, password);
      expect(await pg.canLogin(second.username1, password)).to.equal(true);
    });

    it("a rotation after the kept session was terminated (pg_terminate_backend) succeeds", async () => {
      const [first, second] = [await pg.createPair(), await pg.createPair()];
      await shellFor(first).changePassword(first.username1, generatePassword());
      await pg.asSuperuser((c) =>
        c.query(
          "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'rotation_manager'",
        ),
      );
      const password = generatePassword();
      await shellFor(second).changePassword(second.username1, password);
      expect(await pg.canLogin(second.username1, password)).to.equal(true);
    });

    it("drops a kept session as soon as its connection ends while idle, and gives its place back", async () => {
      const server = `${pg.server.host}:${pg.server.port}`;
      const identity = ["pool.test", generatePassword()];
      const manager = pg.manager;
      const open = () =>
        connect(
          { host: pg.server.host, port: pg.server.port, database: "app", ssl: { mode: "disable" } },
          manager,
          { connectSeconds: 10, statementSeconds: 10, lockSeconds: 10 },
          {
            secrets: [manager.password],
          },
        );
      const first = await leaseSession(server, identity, open);
      const ended = new Promise((resolve) => first.client.once("end", resolve));
      first.release(true);
      await pg.asSuperuser((c) =>
        c.query(
          "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'rotation_manager'",
        ),
      );
      await ended;
      // All three places are free again: three new sessions, none of them the dead one.
      const leases = await Promise.all([1, 2, 3].map(() => leaseSession(server, identity, open)));
      for (const lease of leases) lease.release(false);
      expect(leases.map((lease) => lease.client)).to.not.include(first.client);
      expect(leases.map((lease) => lease.reused)).to.deep.equal([false, false, false]);
    });

    it("replaces a kept session found dead at its first use by a fresh login, once", async () => {
      const [first, second] = [await pg.createPair(), await pg.createPair()];
      await shellFor(first).changePassword(first.username1, generatePassword());
      const logins = managerLogins();
      // Blocks this process while the server ends the kept session (as a Lambda frozen through
      // a failover): the pool learns of it only when the rotation's first statement fails.
      terminateSessionsBlocking(pg.server, pg.server.superuser, pg.manager.username);
      const password = generatePassword();
      await shellFor(second).changePassword(second.username1, password);
      expect(await pg.canLogin(second.username1, password)).to.equal(true);
      expect(managerLogins() - logins, "fresh logins").to.equal(1);
    });
  });
});
