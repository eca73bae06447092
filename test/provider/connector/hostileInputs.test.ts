/**
 * Hostile connector events through the Lambda handler, on a real server: names PostgreSQL
 * accepts rotate exactly that role and no other (every row of pg_authid compared), and a log
 * line never splits on a newline from the event; refused events get a 400 naming the fields
 * while the server sees no connection.
 */
import { expect } from "chai";
import { handleEvent } from "../../../provider/connector/lambdaHandler";
import { generatePassword } from "../../../provider/core/password";
import {
  changedRoles,
  connectionsReceived,
  nameOfBytes,
  roleSnapshot,
  tag,
} from "../../support/hostile";
import { expectNoSecrets } from "../../support/secrets";
import { TEST_MAJORS, cluster, type TestCluster } from "../../support/servers";

const newest = TEST_MAJORS[TEST_MAJORS.length - 1];
const PLAIN = { PGSSLMODE: "disable" };

describe(`connector handler: hostile events on PostgreSQL ${newest}`, function () {
  let pg: TestCluster;
  before(async () => {
    pg = await cluster(newest);
  });

  function event(username: string, newPassword: string, patch: object = {}) {
    return {
      type: "postgres",
      host: pg.server.host,
      port: pg.server.port,
      database: "app",
      managingUser: { username: pg.manager.username, password: pg.manager.password },
      rotateUser: { username, password: "", newPassword },
      ...patch,
    };
  }

  const ROTATE: [string, string][] = [
    ["a 63-byte name of two-byte UTF-8", nameOfBytes("ñ")],
    ["a 63-byte name with four-byte UTF-8", nameOfBytes("🔐")],
    ["a name with a newline that would forge a log line", `x\nok\nrotating "postgres"${tag()}`],
    ["a name with quotes and SQL", `q"'; ALTER ROLE rotation_manager SUPERUSER; --${tag()}`],
    ["a name with $$ and backslashes", `$$\\$1\\${tag()}`],
    ["a name with Unicode line separators", `a\u2028b\u2029c${tag()}`],
  ];
  for (const [label, username] of ROTATE) {
    it(`rotates ${label}, that role alone, logging it on one line`, async () => {
      await pg.createPair(username, `other_${tag()}`);
      const before = await roleSnapshot(pg);
      const newPassword = generatePassword();
      const lines: string[] = [];
      const reply = await handleEvent(event(username, newPassword), PLAIN, (l) => lines.push(l));
      expect(reply).to.deep.equal({ code: 200, message: "ok" });
      expect(changedRoles(before, await roleSnapshot(pg))).to.deep.equal([username]);
      expect(await pg.canLogin(username, newPassword)).to.equal(true);
      expect(lines).to.have.length(2);
      for (const line of lines) expect(line).to.not.match(/[\n\r\u2028\u2029]/);
      expectNoSecrets(lines.join("\n"), [newPassword, pg.manager.password]);
    });
  }

  const REFUSE: [string, (e: Record<string, unknown>) => unknown, RegExp][] = [
    [
      "a 64-byte name",
      (e) => ({ ...e, rotateUser: { ...(e.rotateUser as object), username: "ñ".repeat(32) } }),
      /64 bytes/,
    ],
    [
      "a NUL in the name",
      (e) => ({ ...e, rotateUser: { ...(e.rotateUser as object), username: "a\0" } }),
      /NUL/,
    ],
    ["a Unix socket directory as host", (e) => ({ ...e, host: "/tmp" }), /host/],
    ["a host with a newline", (e) => ({ ...e, host: "127.0.0.1\n" }), /host/],
    ["a port as text", (e) => ({ ...e, port: String(e.port) }), /port/],
    [
      "a megabyte new password",
      (e) => ({
        ...e,
        rotateUser: { ...(e.rotateUser as object), newPassword: "p".repeat(1 << 20) },
      }),
      /at most 1024/,
    ],
    ["type mysql", (e) => ({ ...e, type: "mysql" }), /mysql/],
    [
      "a user-pair drop of a list that is not one",
      (e) => ({
        ...e,
        rotateUser: undefined,
        userPair: { action: "drop", usernames: "x", oids: {} },
      }),
      /userPair\.usernames/,
    ],
    ["JSON text cut short", (e) => JSON.stringify(e).slice(0, -1), /not JSON/],
  ];
  for (const [label, mutate, message] of REFUSE) {
    it(`answers 400 to ${label}, and the server sees no connection`, async () => {
      const { username1 } = await pg.createPair();
      const newPassword = generatePassword();
      const bad = mutate(event(username1, newPassword));
      const connections = connectionsReceived(pg);
      const lines: string[] = [];
      const reply = await handleEvent(bad, PLAIN, (l) => lines.push(l));
      // ESC's own event gets the official connector's {code, message}; an extension's reply
      // also names the error class.
      const extension = label.startsWith("a user-pair");
      expect(reply).to.deep.equal({
        code: 400,
        message: reply.message,
        ...(extension ? { error: "ValidationError" } : {}),
      });
      expect(reply.message).to.match(/^invalid input: /);
      expect(reply.message).to.match(message);
      expect(connectionsReceived(pg), "connections the server received").to.equal(connections);
      expectNoSecrets(reply.message + lines.join("\n"), [newPassword, pg.manager.password]);
      expect(await pg.canLogin(username1, newPassword)).to.equal(false);
    });
  }
});
