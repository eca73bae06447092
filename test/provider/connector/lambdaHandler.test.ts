/**
 * The bundled connector Lambda (dist/lambda/index.js, as LambdaConnector deploys it) against
 * real PostgreSQL, fed the exact event the ESC service sends.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { expect } from "chai";
import type { ConnectorReply } from "../../../provider/connector/event";
import type * as HandlerModule from "../../../provider/connector/lambdaHandler";
import { generatePassword } from "../../../provider/core/password";
import { IDLE_MS } from "../../../provider/postgres/pool";
import { quoteIdentifier } from "../../../provider/postgres/sql";
import { expectNoSecrets } from "../../support/secrets";
import {
  cluster,
  privateCluster,
  SUPPORTED_MAJORS,
  uniqueName,
  type TestCluster,
} from "../../support/servers";
import { makeTestPki } from "../../support/tls";

const BUNDLE = path.join(__dirname, "..", "..", "..", "dist", "lambda", "index.js");
const NEWEST = SUPPORTED_MAJORS[SUPPORTED_MAJORS.length - 1];
const PLAIN = { PGSSLMODE: "disable" };

// The bundle, loaded as Lambda's Node.js runtime loads it.
const bundle = require(BUNDLE) as typeof HandlerModule;

function escEvent(pg: TestCluster, username: string, newPassword: string, password = "") {
  return {
    type: "postgres",
    host: pg.server.host,
    port: pg.server.port,
    database: "app",
    managingUser: { username: pg.manager.username, password: pg.manager.password },
    rotateUser: { username, password, newPassword },
  };
}

describe("connector Lambda handler (bundled) on real PostgreSQL", function () {
  let pg: TestCluster;
  const logs: string[] = [];
  const invoke = (event: unknown, env: Record<string, string> = PLAIN) =>
    bundle.handleEvent(event, env, (line) => logs.push(line));

  before(async () => {
    pg = await cluster(NEWEST);
  });

  it("rotates the user for the exact ESC event and replies ok; the server never sees it", async () => {
    const { username1 } = await pg.createPair();
    const newPassword = generatePassword();
    const reply = await invoke(escEvent(pg, username1, newPassword));
    expect(reply).to.include({ code: 200, message: "ok" });
    expect(reply.rotationId).to.match(/^[0-9a-f-]{36}$/);
    expect(await pg.canLogin(username1, newPassword)).to.equal(true);
    expect(pg.server.readLog()).to.not.include(newPassword);
  });

  it("rotates in the next invocation after the server restarted (a failover) between two", async () => {
    const [first, second] = [await pg.createPair(), await pg.createPair()];
    expect(await invoke(escEvent(pg, first.username1, generatePassword()))).to.include({
      code: 200,
    });
    const restarted = Date.now();
    await pg.server.restart();
    // Else the pool's idle timer closed the kept session first, and nothing would be tested.
    expect(Date.now() - restarted, "restart time").to.be.below(IDLE_MS);
    const newPassword = generatePassword();
    const reply = await invoke(escEvent(pg, second.username1, newPassword));
    expect(reply).to.include({ code: 200, message: "ok" });
    expect(await pg.canLogin(second.username1, newPassword)).to.equal(true);
  });

  it("accepts the event as a JSON string, with the old password given", async () => {
    const { username2 } = await pg.createPair();
    const old = generatePassword();
    await pg.setPassword(username2, old);
    const newPassword = generatePassword();
    const reply = await invoke(JSON.stringify(escEvent(pg, username2, newPassword, old)));
    expect(reply.code).to.equal(200);
    expect(await pg.canLogin(username2, newPassword)).to.equal(true);
    expect(await pg.canLogin(username2, old)).to.equal(false);
  });

  it("replies 400 without a password for a wrong managing password; nothing changes", async () => {
    const { username1 } = await pg.createPair();
    const old = generatePassword();
    await pg.setPassword(username1, old);
    const wrong = generatePassword();
    const newPassword = generatePassword();
    const event = escEvent(pg, username1, newPassword, old);
    const reply = await invoke({
      ...event,
      managingUser: { ...event.managingUser, password: wrong },
    });
    expect(reply.code).to.equal(400);
    expect(reply.error).to.equal("AuthenticationError");
    expect(reply.message).to.include(`the managing user "${pg.manager.username}"`);
    expectNoSecrets(JSON.stringify(reply), [wrong, newPassword, old, pg.manager.password]);
    expect(await pg.canLogin(username1, old)).to.equal(true);
  });

  it("replies 400 for a user that does not exist", async () => {
    const reply = await invoke(escEvent(pg, uniqueName("missing"), generatePassword()));
    expect(reply).to.include({ code: 400, error: "RoleNotFoundError" });
  });

  it("refuses to rotate the managing user itself", async () => {
    const reply = await invoke(escEvent(pg, pg.manager.username, generatePassword()));
    expect(reply).to.include({ code: 400, error: "ForbiddenRoleError" });
    expect(await pg.canLogin(pg.manager.username, pg.manager.password)).to.equal(true);
  });

  it("never changes the managing user's password through a name PostgreSQL would truncate", async () => {
    // A managing user whose name is exactly 63 bytes; the target is that name plus one byte,
    // which PostgreSQL would silently truncate to the managing user's name.
    const manager = {
      username: `m${uniqueName("")}`.padEnd(63, "m"),
      password: generatePassword(),
    };
    await pg.asSuperuser((c) => c.query(`CREATE ROLE "${manager.username}" LOGIN CREATEROLE`));
    await pg.setPassword(manager.username, manager.password);
    const event = {
      ...escEvent(pg, `${manager.username}x`, generatePassword()),
      managingUser: manager,
    };
    const reply = await invoke(event);
    expect(reply).to.include({ code: 400, error: "ValidationError" });
    expect(reply.message).to.include("rotateUser.username is 64 bytes long");
    expect(await pg.canLogin(manager.username, manager.password)).to.equal(true);
  });

  it("rotates users with hostile names", async () => {
    for (const name of [`x"; DROP ROLE app; --`, "sp ace", "ünï'cødé"]) {
      const { username1 } = await pg.createPair(`${name}${uniqueName("")}`);
      const newPassword = generatePassword();
      expect(await invoke(escEvent(pg, username1, newPassword))).to.include({
        code: 200,
        message: "ok",
      });
      expect(await pg.canLogin(username1, newPassword)).to.equal(true);
    }
  });

  it("replies 400 for mysql and for malformed events, naming fields, never values", async () => {
    const secret = generatePassword();
    const mysql = await invoke({ ...escEvent(pg, "u", secret), type: "mysql" });
    expect(mysql.code).to.equal(400);
    expect(mysql.message).to.include('type "mysql" is not supported');

    const malformed = await invoke({
      type: "postgres",
      host: "",
      port: "5432",
      managingUser: { username: "m", password: secret },
      rotateUser: { username: "u", newPassword: 5 },
    });
    expect(malformed.code).to.equal(400);
    expect(malformed.error).to.equal("ValidationError");
    for (const field of ["host", "port", "database", "rotateUser.newPassword"]) {
      expect(malformed.message).to.include(field);
    }
    expectNoSecrets(malformed.message, [secret]);
    for (const junk of [null, 42, "not json", [], {}]) {
      expect((await invoke(junk)).code).to.equal(400);
    }
  });

  it("checks a login for this package's loginUser extension", async () => {
    const { username1 } = await pg.createPair();
    const password = generatePassword();
    await pg.setPassword(username1, password);
    const base = escEvent(pg, username1, "unused");
    const { rotateUser: _unused, ...rest } = base;
    void _unused;
    expect(await invoke({ ...rest, loginUser: { username: username1, password } })).to.deep.equal({
      code: 200,
      message: "ok",
    });
    const wrong = await invoke({
      ...rest,
      loginUser: { username: username1, password: "nope-" + password },
    });
    expect(wrong).to.include({ code: 400, error: "AuthenticationError" });
  });

  it("sets up, observes and drops a user pair for the userPair extension", async () => {
    logs.length = 0;
    const group = await pg.createGroup();
    const users = { username1: uniqueName("ev_a"), username2: uniqueName("ev_b") };
    const passwords = {
      [users.username1]: generatePassword(),
      [users.username2]: generatePassword(),
    };
    const base = { ...escEvent(pg, "unused", "unused") };
    const { rotateUser: _r, ...rest } = base;
    void _r;
    const request = { users, memberOf: [group], revokeOtherMembershipsOf: [] };
    const applied = await invoke({ ...rest, userPair: { action: "apply", request, passwords } });
    expect(applied).to.include({ code: 200, message: "ok" });
    expect(applied.userPair!.created).to.deep.equal([users.username1, users.username2]);
    expect(await pg.canLogin(users.username1, passwords[users.username1])).to.equal(true);
    expect(pg.server.readLog()).to.not.include(passwords[users.username1]);

    const observed = await invoke({
      ...rest,
      userPair: { action: "observe", users, memberOf: [group] },
    });
    expect(observed.userPair!.observation!.users[users.username2]!.memberOf).to.deep.equal([group]);

    const oids = Object.fromEntries(
      Object.entries(observed.userPair!.observation!.users).map(([u, seen]) => [u, seen!.oid]),
    );
    const usernames = [users.username1, users.username2];
    // A role holding a name under another OID than the one given is someone else's: kept.
    const other = { ...oids, [users.username1]: oids[users.username1] + 1 };
    const kept = await invoke({ ...rest, userPair: { action: "drop", usernames, oids: other } });
    expect(kept.userPair!.dropped).to.deep.equal([users.username2]);
    expect(await pg.canLogin(users.username1, passwords[users.username1])).to.equal(true);
    const dropped = await invoke({ ...rest, userPair: { action: "drop", usernames, oids } });
    expect(dropped.userPair!.dropped).to.deep.equal([users.username1]);
    expect(await pg.canLogin(users.username1, passwords[users.username1])).to.equal(false);

    const bad = await invoke({ ...rest, userPair: { action: "apply", request: {}, passwords: 1 } });
    expect(bad).to.include({ code: 400, error: "ValidationError" });
    expect(bad.message).to.include("userPair.request.users");
    expectNoSecrets(JSON.stringify(logs), Object.values(passwords));
  });

  it("escapes every value it logs: a newline in a name cannot forge a log line", async () => {
    const forged = 'x\nok\nrotating "admin"';
    logs.length = 0;
    await invoke(escEvent(pg, forged, generatePassword()));
    expect(logs.every((line) => !line.includes("\n"))).to.equal(true);
    expect(logs[0]).to.equal(
      `rotating ${JSON.stringify(forged)} on ${JSON.stringify(`${pg.server.host}:${pg.server.port}/app`)}`,
    );
  });

  it("refuses, by default, to rotate a user with open sessions; warns when asked to", async () => {
    const { username1 } = await pg.createPair();
    const old = generatePassword();
    await pg.setPassword(username1, old);
    const { Client } = await import("pg");
    const app = new Client({
      host: pg.server.host,
      port: pg.server.port,
      database: "app",
      user: username1,
      password: old,
    });
    await app.connect();
    try {
      const refused = await invoke(escEvent(pg, username1, generatePassword(), old));
      expect(refused).to.include({ code: 400, error: "LiveSessionsError" });
      expect(refused.message).to.include("1 open session(s)");
      expect(await pg.canLogin(username1, old)).to.equal(true);
      const next = generatePassword();
      const event = escEvent(pg, username1, next, old);
      const warned = await invoke({
        ...event,
        rotateUser: { ...event.rotateUser, liveSessions: "warn" },
      });
      expect(warned).to.include({ code: 200 });
      expect(warned.warnings!.join()).to.include("1 open session(s)");
      const viaEnv = await invoke(escEvent(pg, username1, generatePassword(), next), {
        ...PLAIN,
        ROTATOR_LIVE_SESSIONS: "ignore",
      });
      expect(viaEnv).to.include({ code: 200 });
      expect(viaEnv).to.not.have.property("warnings");
    } finally {
      await app.end();
    }
  });

  it("counts what the pair's users own: warns by default, refuses when asked, via the env too", async () => {
    const { username1, username2 } = await pg.createPair();
    const old = generatePassword();
    await pg.setPassword(username1, old);
    const table = uniqueName("migrated");
    // A migration ran as username2 (current): it owns the table.
    await pg.asSuperuser(async (c) => {
      await c.query(`GRANT CREATE ON SCHEMA public TO ${quoteIdentifier(username2)}`);
      await c.query(`SET ROLE ${quoteIdentifier(username2)}`);
      await c.query(`CREATE TABLE public.${quoteIdentifier(table)} (id int)`);
    });
    try {
      const paired = (newPassword: string, password: string, extra: object = {}) => {
        const event = escEvent(pg, username1, newPassword, password);
        return {
          ...event,
          rotateUser: { ...event.rotateUser, otherUsername: username2, ...extra },
        };
      };
      logs.length = 0;
      const refused = await invoke(paired(generatePassword(), old, { ownership: "refuse" }));
      expect(refused).to.include({ code: 400, error: "OwnedObjectsError" });
      expect(refused.message).to.include(`table ${JSON.stringify(`public.${table}`)}`);
      expect(await pg.canLogin(username1, old)).to.equal(true);
      expect(logs.at(-1)).to.match(/^failed: refusing to change the password of /);

      const next = generatePassword();
      const warned = await invoke(paired(next, old));
      expect(warned).to.include({ code: 200 });
      expect(warned.warnings).to.have.length(1);
      expect(warned.warnings![0]).to.include(`"${username2}" owns 1`);
      expect(warned.warnings![0]).to.include('anyway (ownership: "warn")');
      expect(logs.some((line) => line.includes(`"${username2}" owns 1`))).to.equal(true);
      expect(await pg.canLogin(username1, next)).to.equal(true);

      // ESC's event names only the user it rotates: the partner's table is not counted then.
      const third = generatePassword();
      const fromEsc = await invoke(escEvent(pg, username1, third, next));
      expect(fromEsc).to.include({ code: 200 });
      expect(fromEsc).to.not.have.property("warnings");
      const viaEnv = await invoke(paired(generatePassword(), third), {
        ...PLAIN,
        ROTATOR_OWNERSHIP: "refuse",
      });
      expect(viaEnv).to.include({ code: 400, error: "OwnedObjectsError" });
      const badEnv = await invoke(paired(generatePassword(), third), {
        ...PLAIN,
        ROTATOR_OWNERSHIP: "sometimes",
      });
      expect(badEnv).to.include({ code: 400, error: "ValidationError" });
      expect(badEnv.message).to.include("ROTATOR_OWNERSHIP must be one of warn, refuse, ignore");
      expect(await pg.canLogin(username1, third)).to.equal(true);
    } finally {
      await pg.asSuperuser((c) => c.query(`DROP TABLE public.${quoteIdentifier(table)}`));
    }
  });

  it("says the password WAS changed when the login test after it fails", async () => {
    const { username1 } = await pg.createPair();
    // A connection limit of 0 lets ALTER ROLE through and makes every new login fail.
    await pg.asSuperuser((c) =>
      c.query(`ALTER ROLE ${quoteIdentifier(username1)} CONNECTION LIMIT 0`),
    );
    const reply = await invoke(escEvent(pg, username1, generatePassword()));
    expect(reply).to.include({ code: 400, error: "VerificationError" });
    expect(reply.message).to.include("The password WAS changed");
  });

  it("writes log lines that name users but hold no secret", async () => {
    const { username1 } = await pg.createPair();
    const old = generatePassword();
    await pg.setPassword(username1, old);
    const newPassword = generatePassword();
    logs.length = 0;
    expect(await invoke(escEvent(pg, username1, newPassword, old))).to.include({ code: 200 });
    const failing = generatePassword();
    await invoke({ ...escEvent(pg, username1, failing, old), port: 1 });
    const text = logs.join("\n");
    expect(text).to.include(`rotating ${JSON.stringify(username1)}`);
    expect(text).to.include("failed:");
    expectNoSecrets(text, [pg.manager.password, old, newPassword, failing]);
    expect(text).to.not.match(/SCRAM-SHA-256\$/);
  });

  it("refuses a bad PGSSLMODE before connecting", async () => {
    const reply = await invoke(escEvent(pg, "u", generatePassword()), { PGSSLMODE: "prefer" });
    expect(reply).to.include({ code: 400, error: "ValidationError" });
    expect(reply.message).to.include("PGSSLMODE");
  });
});

describe("connector Lambda handler with TLS", function () {
  let secure: TestCluster;
  let caFile: string;
  let scratch: string;
  before(async function () {
    this.timeout(120_000);
    const pki = makeTestPki({ names: ["localhost"] });
    secure = await privateCluster({
      major: NEWEST,
      tls: { certPem: pki.certPem, keyPem: pki.keyPem },
    });
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), "lambda-ca-"));
    caFile = path.join(scratch, "ca.pem");
    fs.writeFileSync(caFile, pki.caPem);
  });
  after(() => fs.rmSync(scratch, { recursive: true, force: true }));

  const event = (host: string, username: string, newPassword: string) => ({
    ...escEvent(secure, username, newPassword),
    host,
  });

  it("verifies the server by default (verify-full) against PGSSLROOTCERT", async () => {
    const { username1 } = await secure.createPair();
    const newPassword = generatePassword();
    const reply: ConnectorReply = await bundle.handleEvent(
      event("localhost", username1, newPassword),
      { PGSSLROOTCERT: caFile },
      () => undefined,
    );
    expect(reply).to.include({ code: 200, message: "ok" });
    expect(await secure.canLogin(username1, newPassword)).to.equal(true);
  });

  it("refuses a certificate that does not match the host, and one it cannot verify", async () => {
    const { username1 } = await secure.createPair();
    const wrongHost = await bundle.handleEvent(
      event("127.0.0.1", username1, generatePassword()),
      { PGSSLROOTCERT: caFile },
      () => undefined,
    );
    expect(wrongHost).to.include({ code: 400, error: "ConnectionError" });
    expect(wrongHost.message).to.include("ERR_TLS_CERT_ALTNAME_INVALID");
    const unknownCa = await bundle.handleEvent(
      event("localhost", username1, generatePassword()),
      {},
      () => undefined,
    );
    expect(unknownCa).to.include({ code: 400, error: "ConnectionError" });
    // The hint names the Lambda's own settings, not the resource inputs it never reads.
    expect(unknownCa.message).to.include("the Lambda's PGSSLROOTCERT");
    expect(unknownCa.message).to.include("the Lambda's PGSSLMODE");
    expect(unknownCa.message).to.not.include("database.ssl");
  });
});
