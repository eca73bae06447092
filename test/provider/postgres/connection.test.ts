import { expect } from "chai";
import * as net from "node:net";
import { AuthenticationError, ConnectionError } from "../../../provider/errors";
import type { ConnectionTarget, Credential } from "../../../provider/core/types";
import { DEFAULT_TIMEOUTS, resolveDatabase, resolveInputs } from "../../../provider/core/validate";
import * as postgresRotationProvider from "../../../provider/postgresRotation/postgresRotationProvider";
import {
  clientConfig,
  connect,
  sessionLost,
  tlsOptions,
  translateError,
} from "../../../provider/postgres/connection";
import { postgresShell, probeLogin } from "../../../provider/postgres/shell";
import { handleEvent } from "../../../provider/connector/lambdaHandler";
import { generatePassword } from "../../../provider/core/password";
import { expectNoSecrets, rejection, renderings } from "../../support/secrets";
import { TEST_MAJORS, cluster, privateCluster, type TestCluster } from "../../support/servers";
import { makeTestPki, type TestPki } from "../../support/tls";

const newest = TEST_MAJORS[TEST_MAJORS.length - 1];

describe("tlsOptions", () => {
  it("maps libpq's sslmodes", () => {
    expect(tlsOptions("h", { mode: "disable" })).to.equal(false);
    expect(tlsOptions("h", { mode: "require" })).to.deep.equal({ rejectUnauthorized: false });
    const verifyCa = tlsOptions("h", { mode: "verify-ca", ca: "CA" }) as Record<string, unknown>;
    expect(verifyCa).to.include({ rejectUnauthorized: true, ca: "CA" });
    const full = tlsOptions("h", { mode: "verify-full" }) as Record<string, unknown>;
    expect(full.rejectUnauthorized).to.equal(true);
    expect(full.checkServerIdentity).to.be.a("function");
  });

  it("verifies the chain for require when a CA is given, as libpq does", () => {
    const options = tlsOptions("h", { mode: "require", ca: "CA" }) as Record<string, unknown>;
    expect(options.rejectUnauthorized).to.equal(true);
  });
});

describe("clientConfig", () => {
  it("uses structured parameters and every timeout", () => {
    const target: ConnectionTarget = {
      host: "h",
      port: 1,
      database: "d",
      ssl: { mode: "disable" },
    };
    const config = clientConfig(
      target,
      { username: "u", password: "p@ss/w?rd#" },
      DEFAULT_TIMEOUTS,
    );
    expect(config).to.include({
      host: "h",
      port: 1,
      database: "d",
      user: "u",
      password: "p@ss/w?rd#",
      connectionTimeoutMillis: 10_000,
      statement_timeout: 30_000,
      lock_timeout: 60_000,
    });
    expect(config).to.not.have.property("connectionString");
    // pg's default limit, as an app with default settings has it: the login test fails where
    // such an app would.
    expect(config).to.not.have.property("scramMaxIterations");
  });

  it("says why pg refuses a verifier of more iterations than its default limit, and what to do", () => {
    const error = translateError(
      new Error(
        "SASL: SCRAM-SERVER-FIRST-MESSAGE: iteration count 200000 exceeds scramMaxIterations of 100000",
      ),
      {
        action: "logging in",
        username: "app_user_1",
        database: { host: "h", port: 1, database: "d", ssl: { mode: "disable" } },
        secrets: [],
      },
    );
    expect(error).to.be.instanceOf(AuthenticationError);
    expect(error.message).to.equal(
      'logging in as "app_user_1" on h:1/d failed: the server\'s verifier for this role has ' +
        "200000 PBKDF2 iterations, more than node-postgres accepts with its default " +
        "scramMaxIterations (100000), so apps on it cannot log in with this password either. It " +
        "was set with more iterations (an earlier version of this package allowed up to " +
        "1,000,000): set scramIterations to 100000 or less and rotate; each rotation gives the " +
        "user it changes a new verifier, so two renew both users",
    );
  });
});

describe("translateError on a session that is over", () => {
  const context = {
    action: "locking",
    username: "m",
    database: { host: "h", port: 5432, database: "d", ssl: { mode: "disable" as const } },
    secrets: [],
  };

  it("is a ConnectionError, never a bare RotationError, when pg says the client is not queryable", () => {
    const error = translateError(
      new Error("Client has encountered a connection error and is not queryable"),
      context,
    );
    expect(error).to.be.instanceOf(ConnectionError);
    expect(error.message).to.include("the connection was lost");
    expect(sessionLost(error)).to.equal(true);
  });

  it("tells a session that is over from one that only failed a statement", () => {
    const coded = (code: string) => Object.assign(new Error("x"), { code });
    for (const over of [
      coded("57P01"),
      coded("57P02"),
      coded("08006"),
      coded("ECONNRESET"),
      new Error("Connection terminated unexpectedly"),
    ]) {
      expect(sessionLost(translateError(over, context)), String(over)).to.equal(true);
    }
    for (const alive of [coded("42501"), coded("55P03"), coded("57014"), coded("53100")]) {
      expect(sessionLost(translateError(alive, context)), String(alive)).to.equal(false);
    }
  });
});

describe(`connecting to PostgreSQL ${newest}`, function () {
  let plain: TestCluster;
  before(async () => {
    plain = await cluster(newest);
  });

  function target(overrides: Partial<ConnectionTarget> = {}): ConnectionTarget {
    return {
      host: plain.server.host,
      port: plain.server.port,
      database: "app",
      ssl: { mode: "disable" },
      ...overrides,
    };
  }

  it("logs in with passwords that would break a connection URL", async () => {
    const user = await plain.createPair();
    const password = "p@ss/w?rd#%25:&=+ '\"\\";
    await plain.setPassword(user.username1, password);
    await probeLogin(target(), DEFAULT_TIMEOUTS, { username: user.username1, password });
  });

  it("reports a wrong password as AuthenticationError without the password", async () => {
    const manager: Credential = { ...plain.manager, password: "wrong-Password-1234" };
    const error = await rejection(probeLogin(target(), DEFAULT_TIMEOUTS, manager));
    expect(error).to.be.instanceOf(AuthenticationError);
    expect(error.message)
      .to.include('"rotation_manager"')
      .and.include("password authentication failed");
    expectNoSecrets(renderings(error), [manager.password, plain.manager.password]);
  });

  it("refuses to fall back to plaintext: the default mode, with no ssl input, needs TLS", async () => {
    // The inputs a user writes without `ssl`, through the provider, as `pulumi up` runs them.
    const { ssl: _ssl, ...database } = plain.database;
    void _ssl;
    const rotateUsers = await plain.createPair();
    const error = await rejection(
      postgresRotationProvider.create({ database, rotateUsers, rotationTrigger: "1" }),
    );
    expect(error).to.be.instanceOf(ConnectionError);
    expect(error.message).to.match(/does not accept TLS connections/);
    expectNoSecrets(renderings(error), [plain.manager.password]);
    // And the direct path's default, as the shell receives it.
    const resolved = resolveDatabase(database);
    const direct = await rejection(
      connect(resolved, plain.manager, DEFAULT_TIMEOUTS, { secrets: [] }),
    );
    expect(direct).to.be.instanceOf(ConnectionError);
    expect(direct.message).to.match(/does not accept TLS connections/);
  });

  it("reports a closed port as ConnectionError", async () => {
    const closed = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, "127.0.0.1", () => {
        const port = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(port));
      });
    });
    const error = await rejection(
      probeLogin(target({ port: closed }), DEFAULT_TIMEOUTS, plain.manager),
    );
    expect(error).to.be.instanceOf(ConnectionError);
    expect(error.message).to.include("ECONNREFUSED");
  });

  it("gives up after timeouts.connectSeconds on a server that never answers", async () => {
    const sockets: net.Socket[] = [];
    const silent = net.createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const port = (silent.address() as net.AddressInfo).port;
    const started = Date.now();
    try {
      const error = await rejection(
        probeLogin(target({ port }), { ...DEFAULT_TIMEOUTS, connectSeconds: 0.5 }, plain.manager),
      );
      expect(error).to.be.instanceOf(ConnectionError);
      expect(error.message).to.match(/timeouts\.connectSeconds/);
      expect(Date.now() - started).to.be.below(5000);
    } finally {
      sockets.forEach((s) => s.destroy());
      silent.close();
    }
  });
});

describe(`TLS against PostgreSQL ${newest}`, function () {
  let pki: TestPki;
  let other: TestPki;
  let secure: TestCluster;
  before(async function () {
    this.timeout(120_000);
    pki = makeTestPki({ names: ["localhost"] });
    other = makeTestPki({ names: ["localhost"] });
    secure = await privateCluster({
      major: newest,
      tls: { certPem: pki.certPem, keyPem: pki.keyPem },
    });
  });

  function target(host: string, ssl: ConnectionTarget["ssl"]): ConnectionTarget {
    return { host, port: secure.server.port, database: "app", ssl };
  }

  async function sessionUsesTls(t: ConnectionTarget): Promise<boolean> {
    const client = await connect(t, secure.manager, DEFAULT_TIMEOUTS, { secrets: [] });
    try {
      const r = await client.query("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()");
      return r.rows[0].ssl as boolean;
    } finally {
      await client.end();
    }
  }

  it("verify-full accepts the right CA and host name", async () => {
    expect(
      await sessionUsesTls(target("localhost", { mode: "verify-full", ca: pki.caPem })),
    ).to.equal(true);
  });

  it("verify-full refuses a certificate for another host name", async () => {
    const error = await rejection(
      sessionUsesTls(target("127.0.0.1", { mode: "verify-full", ca: pki.caPem })),
    );
    expect(error).to.be.instanceOf(ConnectionError);
    expect(error.message).to.match(/could not be verified \(ERR_TLS_CERT_ALTNAME_INVALID/);
  });

  it("verify-full refuses a certificate signed by another CA", async () => {
    const error = await rejection(
      sessionUsesTls(target("localhost", { mode: "verify-full", ca: other.caPem })),
    );
    expect(error).to.be.instanceOf(ConnectionError);
    expect(error.message)
      .to.match(/could not be verified/)
      .and.match(/database\.ssl\.ca/);
    expectNoSecrets(renderings(error), [secure.manager.password]);
  });

  it("verify-full refuses a private CA when none is given", async () => {
    const error = await rejection(sessionUsesTls(target("localhost", { mode: "verify-full" })));
    expect(error).to.be.instanceOf(ConnectionError);
  });

  it("verify-ca checks the chain but not the host name", async () => {
    expect(
      await sessionUsesTls(target("127.0.0.1", { mode: "verify-ca", ca: pki.caPem })),
    ).to.equal(true);
    const error = await rejection(
      sessionUsesTls(target("127.0.0.1", { mode: "verify-ca", ca: other.caPem })),
    );
    expect(error).to.be.instanceOf(ConnectionError);
  });

  it("require encrypts without verifying", async () => {
    expect(await sessionUsesTls(target("127.0.0.1", { mode: "require" }))).to.equal(true);
  });

  it("disable connects in plaintext", async () => {
    expect(await sessionUsesTls(target("127.0.0.1", { mode: "disable" }))).to.equal(false);
  });

  it("a rotation that trusts another CA gets no session kept from one that trusted this one", async () => {
    const rotateUsers = await secure.createPair();
    const shellTrusting = (ca: string) =>
      postgresShell(
        resolveInputs({
          database: {
            ...target("localhost", { mode: "verify-full", ca }),
            managingUser: secure.manager,
          },
          rotateUsers,
        }),
      );
    await shellTrusting(pki.caPem).changePassword(rotateUsers.username1, generatePassword());
    const error = await rejection(
      shellTrusting(other.caPem).changePassword(rotateUsers.username2, generatePassword()),
    );
    expect(error).to.be.instanceOf(ConnectionError);
    expect(error.message).to.match(/could not be verified/);
  });
});

/**
 * Redaction where the server itself quotes a secret back: a password pasted into the database
 * field (a swapped config) comes back in `database "…" does not exist`. These fail if `redact`
 * does nothing, which no message PostgreSQL writes about a wrong password could show.
 */
describe(`PostgreSQL ${newest} quoting a secret back`, function () {
  let pg: TestCluster;
  before(async () => {
    pg = await cluster(newest);
  });

  it("a login's password echoed in the server's message is redacted from every rendering", async () => {
    const { username1 } = await pg.createPair();
    const password = generatePassword();
    await pg.setPassword(username1, password);
    const target = {
      host: pg.server.host,
      port: pg.server.port,
      database: password,
      ssl: { mode: "disable" as const },
    };
    const error = await rejection(
      probeLogin(target, DEFAULT_TIMEOUTS, { username: username1, password }),
    );
    expect(error).to.be.instanceOf(ConnectionError);
    expect(error.message).to.match(/database "\[redacted\]" does not exist/);
    expectNoSecrets(renderings(error), [password]);
  });

  it("the managing password echoed during a rotation is redacted, and nothing changes", async () => {
    const rotateUsers = await pg.createPair();
    const database = { ...pg.database, database: pg.manager.password };
    const error = await rejection(
      postgresRotationProvider.create({ database, rotateUsers, rotationTrigger: "1" }),
    );
    expect(error).to.be.instanceOf(ConnectionError);
    expect(error.message).to.match(/does not exist/);
    expectNoSecrets(renderings(error), [pg.manager.password]);
  });

  it("the connector's reply and log lines redact a password the server echoed", async () => {
    const { username1 } = await pg.createPair();
    const newPassword = generatePassword();
    const lines: string[] = [];
    const reply = await handleEvent(
      {
        type: "postgres",
        host: pg.server.host,
        port: pg.server.port,
        database: pg.manager.password,
        managingUser: pg.manager,
        rotateUser: { username: username1, password: "", newPassword },
      },
      { PGSSLMODE: "disable" },
      (line) => lines.push(line),
    );
    // The ESC service's own event: the official connector's {code, message}, nothing else.
    expect(reply).to.deep.equal({ code: 400, message: reply.message });
    expect(reply.message).to.match(/does not exist/);
    expectNoSecrets(`${JSON.stringify(reply)}\n${lines.join("\n")}`, [pg.manager.password]);
  });
});
