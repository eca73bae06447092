/** The fault-injection proxy itself: it forwards, holds exactly the login asked for, finds its owner. */
import { expect } from "chai";
import { Client } from "pg";
import { startPgProxy, type PgProxy } from "./pgProxy";
import { cluster, SUPPORTED_MAJORS, type TestCluster } from "./servers";

describe("pgProxy: holding one login on its way to PostgreSQL", () => {
  let pg: TestCluster;
  let proxy: PgProxy;
  before(async () => {
    pg = await cluster(SUPPORTED_MAJORS[SUPPORTED_MAJORS.length - 1]);
    proxy = await startPgProxy(pg.server);
  });
  after(() => proxy?.close());

  const client = (user: string, password: string) => {
    const c = new Client({
      host: proxy.host,
      port: proxy.port,
      database: "app",
      user,
      password,
      ssl: false,
      connectionTimeoutMillis: 10_000,
    });
    c.on("error", () => undefined);
    return c;
  };

  it("forwards every other login, holds the chosen one until released, and names its process", async () => {
    const held = proxy.holdNext((login) => login.user === pg.manager.username);
    const other = client(pg.server.superuser.username, pg.server.superuser.password);
    await other.connect();
    expect((await other.query("SELECT 1 AS one")).rows).to.deep.equal([{ one: 1 }]);
    await other.end();

    const manager = client(pg.manager.username, pg.manager.password);
    let connected = false;
    const connecting = manager.connect().then(() => (connected = true));
    const login = await held;
    expect([login.user, login.database]).to.deep.equal([pg.manager.username, "app"]);
    expect(login.ownerPid()).to.equal(process.pid);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(connected, "a held login gets no answer").to.equal(false);
    login.release();
    await connecting;
    expect((await manager.query("SELECT current_user AS u")).rows[0].u).to.equal(
      pg.manager.username,
    );
    await manager.end();
    expect(proxy.logins.map((l) => l.user)).to.deep.equal([
      pg.server.superuser.username,
      pg.manager.username,
    ]);
  });

  it("a dropped login fails on the client's side and never reaches the server", async () => {
    const held = proxy.holdNext(() => true);
    const manager = client(pg.manager.username, pg.manager.password);
    const connecting = manager.connect().then(
      () => "connected",
      (error: Error) => error.message,
    );
    (await held).drop();
    expect(await connecting).to.match(/terminated|closed|ECONNRESET/i);
  });
});
