/**
 * The bundled connector Lambda (dist/lambda/index.js, as LambdaConnector deploys it) against
 * real PostgreSQL, fed the exact event the ESC service sends.
 */
import { randomUUID } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { expect } from "chai";
import type { ConnectorReply } from "../../../provider/connector/event";
import type * as HandlerModule from "../../../provider/connector/lambdaHandler";
import { generatePassword } from "../../../provider/core/password";
import { IDLE_MS } from "../../../provider/postgres/pool";
import { quoteIdentifier } from "../../../provider/postgres/sql";
import { startPgProxy } from "../../support/pgProxy";
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

/** Pulumi's official connector's success reply, which ESC's own events must get exactly. */
const OFFICIAL_OK = { code: 200, message: "ok" };

/** A failure worded as the official connector words one: `{code: 400, message}`, nothing else. */
function expectOfficialFailure(reply: ConnectorReply, message: RegExp): void {
  expect(reply).to.deep.equal({ code: 400, message: reply.message });
  expect(reply.message).to.match(message);
}

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
    expect(reply).to.deep.equal(OFFICIAL_OK);
    expect(JSON.stringify(reply)).to.equal('{"code":200,"message":"ok"}');
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
    expect(reply).to.deep.equal(OFFICIAL_OK);
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
    const m = pg.manager.username;
    expect(reply).to.deep.equal({
      code: 400,
      message:
        `logging in as the managing user "${m}" on ${pg.server.host}:${pg.server.port}/app ` +
        `failed: password authentication failed for user "${m}"`,
    });
    expectNoSecrets(JSON.stringify(reply), [wrong, newPassword, old, pg.manager.password]);
    expect(await pg.canLogin(username1, old)).to.equal(true);
  });

  it("replies 400 for a user that does not exist", async () => {
    const missing = uniqueName("missing");
    const reply = await invoke(escEvent(pg, missing, generatePassword()));
    expect(reply).to.deep.equal({
      code: 400,
      message: `role "${missing}" does not exist; create it first (see the README's setup SQL)`,
    });
  });

  it("refuses to rotate the managing user itself", async () => {
    const reply = await invoke(escEvent(pg, pg.manager.username, generatePassword()));
    expect(reply).to.deep.equal({
      code: 400,
      message: `refusing to rotate "${pg.manager.username}": it is the managing user itself`,
    });
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
    expect(reply).to.deep.equal({
      code: 400,
      message:
        "invalid input: rotateUser.username is 64 bytes long; PostgreSQL names are at most 63 bytes",
    });
    expect(await pg.canLogin(manager.username, manager.password)).to.equal(true);
  });

  it("rotates users with hostile names", async () => {
    for (const name of [`x"; DROP ROLE app; --`, "sp ace", "ünï'cødé"]) {
      const { username1 } = await pg.createPair(`${name}${uniqueName("")}`);
      const newPassword = generatePassword();
      expect(await invoke(escEvent(pg, username1, newPassword))).to.deep.equal(OFFICIAL_OK);
      expect(await pg.canLogin(username1, newPassword)).to.equal(true);
    }
  });

  it("replies 400 for mysql and for malformed events, naming fields, never values", async () => {
    const secret = generatePassword();
    const mysql = await invoke({ ...escEvent(pg, "u", secret), type: "mysql" });
    expect(mysql).to.deep.equal({
      code: 400,
      message:
        'invalid input: type "mysql" is not supported: this connector rotates PostgreSQL users only',
    });

    const malformed = await invoke({
      type: "postgres",
      host: "",
      port: "5432",
      managingUser: { username: "m", password: secret },
      rotateUser: { username: "u", newPassword: 5 },
    });
    expect(malformed).to.deep.equal({
      code: 400,
      message: [
        "invalid input:",
        "  - host must be a non-empty string",
        "  - port must be an integer from 1 to 65535",
        "  - database must be a non-empty string",
        "  - rotateUser.newPassword must be a non-empty string",
      ].join("\n"),
    });
    expectNoSecrets(malformed.message, [secret]);
    const junkReplies: [unknown, string][] = [
      [null, "the event must be a JSON object"],
      [42, "the event must be a JSON object"],
      ["not json", "the event is not JSON"],
      [[], "the event must be a JSON object"],
    ];
    for (const [junk, problem] of junkReplies) {
      expect(await invoke(junk), JSON.stringify(junk)).to.deep.equal({
        code: 400,
        message: `invalid input: ${problem}`,
      });
    }
    expectOfficialFailure(await invoke({}), /^invalid input:\n {2}- type must be "postgres"\n/);
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
    // An extension: its reply names the error class.
    expect(wrong).to.deep.equal({
      code: 400,
      message:
        `logging in as "${username1}" on ${pg.server.host}:${pg.server.port}/app failed: ` +
        `password authentication failed for user "${username1}"`,
      error: "AuthenticationError",
    });
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
    expect(applied).to.deep.equal({
      code: 200,
      message: "ok",
      userPair: {
        created: [users.username1, users.username2],
        // What the shell observes is checked by its own tests; here, the reply's shape.
        observation: applied.userPair!.observation,
      },
    });
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
    expect(bad).to.deep.equal({
      code: 400,
      message: bad.message,
      error: "ValidationError",
    });
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
      expectOfficialFailure(
        refused,
        new RegExp(
          `^refusing to change the password of ${JSON.stringify(username1)}: it has 1 open session\\(s\\)`,
        ),
      );
      expect(await pg.canLogin(username1, old)).to.equal(true);
      const next = generatePassword();
      const event = escEvent(pg, username1, next, old);
      logs.length = 0;
      const warned = await invoke({
        ...event,
        rotateUser: { ...event.rotateUser, liveSessions: "warn" },
      });
      // liveSessions is an extension: the reply carries the rotation's id and the warning logged.
      const logged = logs.filter((line) => line.startsWith("warning: "));
      expect(logged).to.have.length(1);
      expect(logged[0]).to.include("1 open session(s)");
      expect(warned).to.deep.equal({
        code: 200,
        message: "ok",
        rotationId: warned.rotationId,
        warnings: logged,
      });
      expect(warned.rotationId).to.match(/^[0-9a-f-]{36}$/);
      const viaEnv = await invoke(escEvent(pg, username1, generatePassword(), next), {
        ...PLAIN,
        ROTATOR_LIVE_SESSIONS: "ignore",
      });
      expect(viaEnv).to.deep.equal(OFFICIAL_OK);
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
    expectOfficialFailure(
      reply,
      /^the password of ".+" was changed, but logging in with it failed: .*The password WAS changed/,
    );
  });

  it("writes log lines that name users but hold no secret", async () => {
    const { username1 } = await pg.createPair();
    const old = generatePassword();
    await pg.setPassword(username1, old);
    const newPassword = generatePassword();
    logs.length = 0;
    expect(await invoke(escEvent(pg, username1, newPassword, old))).to.deep.equal(OFFICIAL_OK);
    const failing = generatePassword();
    await invoke({ ...escEvent(pg, username1, failing, old), port: 1 });
    const text = logs.join("\n");
    expect(text).to.include(`rotating ${JSON.stringify(username1)}`);
    expect(text).to.include("failed:");
    expectNoSecrets(text, [pg.manager.password, old, newPassword, failing]);
    expect(text).to.not.match(/SCRAM-SHA-256\$/);
  });

  it("follows ESC through a failed login test and an operator's reset: the official reply each time", async () => {
    const pair = await pg.createPair();
    // The login test fails by a proxy's doing (it names another role for the session), while
    // the password on the server was changed: the test's own logins go to the server directly.
    let sabotage: { user: string; logins: number } | undefined;
    const proxy = await startPgProxy(pg.server, {
      parameterStatus: (name, value) => {
        if (name !== "session_authorization" || value !== sabotage?.user) return value;
        // The first login as the user is the guard's probe, the second the login test.
        return ++sabotage.logins === 2 ? "someone_else" : value;
      },
    });
    type Known = { username: string; password: string };
    // ESC's state, as each reply implies it, and the password each user really has.
    let state: { current: Known; previous: Known } | undefined;
    const real: Record<string, string> = {};
    const passwords: string[] = [];
    const other = (u: string) => (u === pair.username1 ? pair.username2 : pair.username1);
    const target = () => (state ? state.previous.username : pair.username1);
    const send = () => {
      const newPassword = generatePassword();
      passwords.push(newPassword);
      const event = escEvent(pg, target(), newPassword, state?.previous.password ?? "");
      return { newPassword, reply: invoke({ ...event, host: proxy.host, port: proxy.port }) };
    };
    const rotate = async () => {
      const { newPassword, reply } = send();
      const answer = await reply;
      expect(JSON.stringify(answer)).to.equal('{"code":200,"message":"ok"}');
      const current = { username: target(), password: newPassword };
      real[current.username] = newPassword;
      state = {
        current,
        previous: state?.current ?? { username: other(current.username), password: "" },
      };
    };
    const bothLogIn = async () => {
      for (const [username, password] of Object.entries(real)) {
        expect(await pg.canLogin(username, password), username).to.equal(true);
      }
    };
    try {
      logs.length = 0;
      for (let i = 0; i < 6; i++) {
        await rotate();
        await bothLogIn();
      }
      expect(Object.keys(real)).to.have.length(2);
      expect(logs.filter((l) => l.startsWith("warning:"))).to.deep.equal([]);

      // The login test fails: the password WAS changed; ESC keeps its state and retries.
      sabotage = { user: target(), logins: 0 };
      const failed = send();
      const failure = await failed.reply;
      expectOfficialFailure(failure, /logging in with it failed: .*The password WAS changed/);
      expect(sabotage.logins).to.equal(2);
      real[target()] = failed.newPassword;
      sabotage = undefined;
      await bothLogIn();
      await rotate();
      await bothLogIn();

      // An operator resets the previous user's password by hand; ESC knows nothing of it.
      const reset = generatePassword();
      passwords.push(reset);
      await pg.setPassword(state!.previous.username, reset);
      real[state!.previous.username] = reset;
      await bothLogIn();
      for (let i = 0; i < 2; i++) {
        await rotate();
        await bothLogIn();
      }
      // The retry and the first rotation after the reset each said why, with no secret.
      const warnings = logs.filter((l) => l.startsWith("warning:"));
      expect(warnings).to.have.length(2);
      for (const line of warnings) expect(line).to.include("no longer logs in");
      expectNoSecrets(logs.join("\n"), [...passwords, pg.manager.password]);
    } finally {
      await proxy.close();
    }
  });

  it("keeps refusing this package's own events whose state is stale, naming the error", async () => {
    const { username1 } = await pg.createPair();
    const extended = (holder: string, password: string, newPassword: string, id?: string) => {
      const event = escEvent(pg, username1, newPassword, password);
      const rotateUser = {
        ...event.rotateUser,
        rotationHolder: holder,
        ...(id ? { expectedRotationId: id } : {}),
      };
      return invoke({ ...event, rotateUser });
    };
    const [first, second] = [generatePassword(), generatePassword()];
    const mine = await extended(randomUUID(), "", first);
    expect(mine).to.deep.equal({ code: 200, message: "ok", rotationId: mine.rotationId });
    // Another rotator, whose state knows the working password, rotates the user.
    const rival = await extended(randomUUID(), first, second);
    expect(rival).to.deep.equal({ code: 200, message: "ok", rotationId: rival.rotationId });
    for (const stale of [
      // The first rotator's state: the mark is not the one it made.
      () => extended(randomUUID(), first, generatePassword(), mine.rotationId),
      // An adopted state (no id known) whose password no longer logs in.
      () => extended(randomUUID(), first, generatePassword()),
    ]) {
      const reply = await stale();
      expect(reply).to.deep.equal({
        code: 400,
        message: reply.message,
        error: "ConcurrentRotationError",
      });
      expect(reply.message).to.match(/^refusing to rotate ".+": another rotation changed/);
      expect(await pg.canLogin(username1, second)).to.equal(true);
    }
  });

  it("refuses a bad PGSSLMODE before connecting", async () => {
    const reply = await invoke(escEvent(pg, "u", generatePassword()), { PGSSLMODE: "prefer" });
    expect(reply).to.deep.equal({
      code: 400,
      message: "invalid input: PGSSLMODE must be one of disable, require, verify-ca, verify-full",
    });
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
    expect(reply).to.deep.equal(OFFICIAL_OK);
    expect(await secure.canLogin(username1, newPassword)).to.equal(true);
  });

  it("refuses a certificate that does not match the host, and one it cannot verify", async () => {
    const { username1 } = await secure.createPair();
    const wrongHost = await bundle.handleEvent(
      event("127.0.0.1", username1, generatePassword()),
      { PGSSLROOTCERT: caFile },
      () => undefined,
    );
    expectOfficialFailure(wrongHost, /ERR_TLS_CERT_ALTNAME_INVALID/);
    const unknownCa = await bundle.handleEvent(
      event("localhost", username1, generatePassword()),
      {},
      () => undefined,
    );
    expectOfficialFailure(unknownCa, /could not be verified/);
    // The hint names the Lambda's own settings, not the resource inputs it never reads.
    expect(unknownCa.message).to.include("the Lambda's PGSSLROOTCERT");
    expect(unknownCa.message).to.include("the Lambda's PGSSLMODE");
    expect(unknownCa.message).to.not.include("database.ssl");
  });
});
