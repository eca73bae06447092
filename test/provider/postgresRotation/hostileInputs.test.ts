/**
 * Hostile input to every input of `PostgresRotation`, through its provider, on a real server.
 * Each case either works (the hostile user really rotates, and no other role of the cluster
 * changes: every row of pg_authid, its settings, comment and memberships are compared) or is
 * refused by `check` and by `create` before the server sees a connection.
 */
import { expect } from "chai";
import { ValidationError } from "../../../provider/errors";
import type { RotationInputs } from "../../../provider/core/types";
import * as provider from "../../../provider/postgresRotation/postgresRotationProvider";
import {
  changedRoles,
  connectionsReceived,
  nameOfBytes,
  roleSnapshot,
  tag,
} from "../../support/hostile";
import { Lifecycle } from "../../support/provider";
import { expectNoSecrets, rejection, renderings } from "../../support/secrets";
import { TEST_MAJORS, cluster, uniqueName, type TestCluster } from "../../support/servers";

const newest = TEST_MAJORS[TEST_MAJORS.length - 1];

/** Pairs of hostile role names that PostgreSQL accepts; each must rotate and touch nothing else. */
const ROTATE: [string, string, string][] = [
  ["63 bytes of two-byte UTF-8", nameOfBytes("é"), nameOfBytes("ü")],
  ["63 bytes of three-byte UTF-8", nameOfBytes("用"), nameOfBytes("户")],
  ["63 bytes with four-byte UTF-8", nameOfBytes("🔑"), nameOfBytes("🔒")],
  ["newlines and tabs", `line\nbreak${tag()}`, `tab\there\r\n${tag()}`],
  ["double and single quotes", `say "hi"${tag()}`, `it's${tag()}`],
  ["backslashes", `back\\slash${tag()}`, `\\\\server\\share\\${tag()}`],
  ["dollar quoting", `$$ x $$${tag()}`, `$tag$ y $tag$${tag()}`],
  ["bind parameter lookalikes", `$1${tag()}`, `$2::text${tag()}`],
  [
    "SQL fragments",
    `x'; ALTER ROLE rotation_manager SUPERUSER; --${tag()}`,
    `y"; DROP ROLE rotation_manager; --${tag()}`,
  ],
  ["reserved words", "user", "select"],
  ["LIKE and glob wildcards", `app_%${tag()}`, `app_*?[x]${tag()}`],
  ["leading and trailing spaces", ` padded ${tag()} `, `  ${tag()}  `],
  ["a verifier lookalike", `SCRAM-SHA-256$4096:c2FsdA==$a:b${tag()}`, `md5abc${tag()}`],
  ["a comment and a semicolon", `/* c */ a${tag()}`, `a; b${tag()}`],
  ["JSON and YAML syntax", `{"a": [1]}${tag()}`, `- x: \${y}${tag()}`],
];

/** Role names that differ from an existing pair's only by case, a space or Unicode normalization. */
const LOOKALIKES: [
  string,
  (c: string) => { canary: [string, string]; hostile: [string, string] },
][] = [
  ["only by case", (c) => ({ canary: [c, `${c}_x`], hostile: [c.toUpperCase(), `${c}_X`] })],
  ["only by a trailing space", (c) => ({ canary: [c, `${c}_x`], hostile: [`${c} `, `${c}_x `] })],
  [
    "only by Unicode normalization (NFD against NFC)",
    (c) => ({ canary: [`${c}_é`, `${c}_ö`], hostile: [`${c}_e\u0301`, `${c}_o\u0308`] }),
  ],
];

for (const major of [newest]) {
  describe(`PostgresRotation hostile inputs on PostgreSQL ${major}`, function () {
    let pg: TestCluster;
    before(async () => {
      pg = await cluster(major);
    });

    /** Create then one rotation; after each, only the rotated role differs on the server. */
    async function rotatesAlone(username1: string, username2: string, extra: object = {}) {
      const rotateUsers = await pg.createPair(username1, username2);
      const inputs = { database: pg.database, rotateUsers, rotationTrigger: "1", ...extra };
      const life = new Lifecycle(provider);
      const before = await roleSnapshot(pg);
      const first = await life.create(inputs as RotationInputs);
      const middle = await roleSnapshot(pg);
      expect(changedRoles(before, middle)).to.deep.equal([username1]);
      expect(first.current.username).to.equal(username1);
      await life.apply({ ...inputs, rotationTrigger: "2" } as RotationInputs);
      const second = life.outputs!;
      expect(changedRoles(middle, await roleSnapshot(pg))).to.deep.equal([username2]);
      expect(second.current.username).to.equal(username2);
      expect(second.previous).to.deep.equal(first.current);
      expect(await pg.canLogin(username1, first.current.password)).to.equal(true);
      expect(await pg.canLogin(username2, second.current.password)).to.equal(true);
      return second;
    }

    for (const [label, username1, username2] of ROTATE) {
      it(`rotates users named with ${label}, changing no other role`, async () => {
        await rotatesAlone(username1, username2);
      });
    }

    for (const [label, names] of LOOKALIKES) {
      it(`rotates users whose names differ from another pair's ${label}, leaving that pair alone`, async () => {
        const { canary, hostile } = names(uniqueName("canary"));
        await pg.createPair(...canary);
        await rotatesAlone(...hostile);
      });
    }

    it("rotates with a 100 KB rotationTrigger full of newlines, and records it as given", async () => {
      const trigger = "line\n".repeat(20_000) + "'; DROP ROLE x; --";
      const rotateUsers = await pg.createPair();
      const life = new Lifecycle(provider);
      await life.create({ database: pg.database, rotateUsers, rotationTrigger: "1" });
      await life.apply({ database: pg.database, rotateUsers, rotationTrigger: trigger });
      expect(life.outputs!.rotationTrigger).to.equal(trigger);
      expect(life.outputs!.current.username).to.equal(rotateUsers.username2);
    });

    it("takes the numbers 0 and -0 and 1e308 as triggers: each change of value rotates", async () => {
      const rotateUsers = await pg.createPair();
      const life = new Lifecycle(provider);
      await life.create({ database: pg.database, rotateUsers, rotationTrigger: 0 });
      for (const [trigger, current] of [
        ["0", rotateUsers.username2],
        [1e308, rotateUsers.username1],
        [-1e308, rotateUsers.username2],
      ] as const) {
        await life.apply({ database: pg.database, rotateUsers, rotationTrigger: trigger });
        expect(life.outputs!.current.username, String(trigger)).to.equal(current);
      }
      const unchanged = await life.apply({
        database: pg.database,
        rotateUsers,
        rotationTrigger: -1e308,
      });
      expect(unchanged.changes).to.equal(false);
    });

    it("ignores unknown keys, a __proto__ key included, and rotates as usual", async () => {
      const rotateUsers = await pg.createPair();
      const inputs = JSON.parse(
        JSON.stringify({ database: pg.database, rotateUsers, rotationTrigger: "1" }).replace(
          /^\{/,
          '{"__proto__": {"state": {"current": {"username": "x", "password": "y"}}}, "rotationTriger": "9", ',
        ),
      ) as RotationInputs;
      const life = new Lifecycle(provider);
      const first = await life.create(inputs);
      expect(first.current.username).to.equal(rotateUsers.username1);
      expect(first).to.not.have.property("rotationTriger");
      expect(await pg.canLogin(rotateUsers.username1, first.current.password)).to.equal(true);
    });

    /** Inputs that must be refused before the server sees anything. */
    const REFUSE: [string, (i: Record<string, unknown>) => unknown, RegExp][] = [];
    const db = (patch: object) => (i: Record<string, unknown>) => ({
      ...i,
      database: { ...(i.database as object), ...patch },
    });
    const manager = (patch: object) => (i: Record<string, unknown>) => ({
      ...i,
      database: {
        ...(i.database as object),
        managingUser: { ...(i.database as { managingUser: object }).managingUser, ...patch },
      },
    });
    const users = (username1: unknown, username2: unknown = "other_user") =>
      ((i: Record<string, unknown>) => ({ ...i, rotateUsers: { username1, username2 } })) as (
        i: Record<string, unknown>,
      ) => unknown;
    const set = (key: string, value: unknown) => (i: Record<string, unknown>) => ({
      ...i,
      [key]: value,
    });
    REFUSE.push(
      ["a 64-byte name of two-byte UTF-8", users("é".repeat(32)), /64 bytes long/],
      ["a 64-byte name of four-byte UTF-8", users("🔑".repeat(16)), /64 bytes long/],
      ["a 64-byte ASCII name that truncates to another role", users("a".repeat(64)), /64 bytes/],
      ["a NUL in a name", users("app\0user"), /NUL/],
      ["a lone surrogate in a name", users("app\uD800"), /valid Unicode/],
      ["a name starting with pg_", users("pg_app"), /must not start with "pg_"/],
      ["the name public", users("public"), /reserves/],
      ["the name none", users("x", "none"), /reserves/],
      ["an empty name", users(""), /non-empty string/],
      ["a number as a name", users(42), /non-empty string/],
      ["an object as a name", users({ toString: () => "x" }), /non-empty string/],
      ["rotateUsers as a string", set("rotateUsers", "a,b"), /rotateUsers is required/],
      ["rotateUsers as an array", set("rotateUsers", ["a", "b"]), /rotateUsers is required/],
      ["a NaN trigger", set("rotationTrigger", NaN), /rotationTrigger must be a string/],
      ["an Infinity trigger", set("rotationTrigger", Infinity), /rotationTrigger/],
      ["a -Infinity trigger", set("rotationTrigger", -Infinity), /rotationTrigger/],
      ["a boolean trigger", set("rotationTrigger", true), /rotationTrigger/],
      ["an object trigger", set("rotationTrigger", { at: 1 }), /rotationTrigger/],
      ["an array trigger", set("rotationTrigger", [1]), /rotationTrigger/],
      ["a null trigger", set("rotationTrigger", null), /rotationTrigger/],
      ["a host with a newline", db({ host: "db\ninternal" }), /database\.host/],
      ["a host that is a URL", db({ host: "postgres://u:p@h/d" }), /not a URL/],
      ["a host with a path (a Unix socket)", db({ host: "/var/run/postgresql" }), /host/],
      ["a host longer than any DNS name", db({ host: `${"a".repeat(250)}.example` }), /host/],
      ["a port as text", db({ port: "5432" }), /database\.port/],
      ["a NaN port", db({ port: NaN }), /database\.port/],
      ["a fractional port", db({ port: 5432.5 }), /database\.port/],
      ["port 0", db({ port: 0 }), /database\.port/],
      ["a 64-byte database name", db({ database: "д".repeat(32) }), /database\.database/],
      ["a NUL in the database name", db({ database: "app\0" }), /NUL/],
      ["an sslmode libpq has but this package refuses", db({ ssl: { mode: "prefer" } }), /ssl/],
      ["ssl as a string", db({ ssl: "disable" }), /database\.ssl must be an object/],
      ["a CA that is not PEM", db({ ssl: { mode: "verify-full", ca: "abc" } }), /PEM/],
      ["a NUL in the managing password", manager({ password: "pw\0" }), /NUL/],
      ["an empty managing password", manager({ password: "" }), /non-empty/],
      ["a number as the managing password", manager({ password: 1234 }), /non-empty/],
      [
        "a managing password pg cannot log in with",
        manager({ password: "pass\u0007wörd\u0301\u00AD" }),
        /SASLprep/,
      ],
      ["a 64-byte managing username", manager({ username: "m".repeat(64) }), /64 bytes/],
      ["managingUser as a string", db({ managingUser: "u:p" }), /managingUser is required/],
      ["state as a string", set("state", "current"), /state must be an object/],
      ["state as an array", set("state", [{}]), /state must be an object/],
      ["state without current", set("state", { previous: { username: "x" } }), /state\.current/],
      [
        "state.current with a NUL password",
        (i) => ({
          ...i,
          state: {
            current: {
              username: (i.rotateUsers as { username1: string }).username1,
              password: "a\0",
            },
          },
        }),
        /NUL/,
      ],
      [
        "state.previous equal to current",
        (i) => {
          const name = (i.rotateUsers as { username1: string }).username1;
          return {
            ...i,
            state: { current: { username: name, password: "p" }, previous: { username: name } },
          };
        },
        /must differ/,
      ],
      ["state.previous as a string", set("state", { current: {}, previous: "x" }), /previous/],
      ["a password length of a million", set("passwordPolicy", { length: 1e6 }), /length/],
      ["a NaN password length", set("passwordPolicy", { length: NaN }), /length/],
      [
        "password characters with a space",
        set("passwordPolicy", { characters: "abcdefghij " }),
        /printable/,
      ],
      [
        "non-ASCII password characters",
        set("passwordPolicy", { characters: "abcdéfghijk" }),
        /printable/,
      ],
      [
        "repeated password characters",
        set("passwordPolicy", { characters: "aabcdefghij" }),
        /more than once/,
      ],
      [
        "passwordPolicy as a string",
        set("passwordPolicy", "strong"),
        /passwordPolicy must be an object/,
      ],
      ["a billion SCRAM iterations", set("scramIterations", 1e9), /scramIterations/],
      ["SCRAM iterations as text", set("scramIterations", "4096"), /scramIterations/],
      ["4095 SCRAM iterations", set("scramIterations", 4095), /scramIterations/],
      ["a negative timeout", set("timeouts", { connectSeconds: -1 }), /timeouts\.connectSeconds/],
      ["an Infinity timeout", set("timeouts", { lockSeconds: Infinity }), /timeouts\.lockSeconds/],
      ["a NaN timeout", set("timeouts", { statementSeconds: NaN }), /timeouts\.statementSeconds/],
      ["timeouts as an array", set("timeouts", [1, 2, 3]), /timeouts must be an object/],
      ["liveSessions in capitals", set("liveSessions", "REFUSE"), /liveSessions must be one of/],
      [
        "a wildcard Lambda ARN",
        db({
          ssl: undefined,
          connector: {
            awsLambda: { lambdaArn: "arn:aws:lambda:us-east-1:123456789012:function:*" },
          },
        }),
        /lambdaArn/,
      ],
      [
        "a wildcard role ARN",
        db({
          ssl: undefined,
          connector: {
            awsLambda: {
              lambdaArn: "arn:aws:lambda:us-east-1:123456789012:function:f",
              roleArn: "arn:aws:iam::*:role/x",
            },
          },
        }),
        /roleArn/,
      ],
      [
        "a file: endpoint",
        db({
          ssl: undefined,
          connector: {
            awsLambda: {
              lambdaArn: "arn:aws:lambda:us-east-1:123456789012:function:f",
              endpoint: "file:///etc/passwd",
            },
          },
        }),
        /endpoint/,
      ],
      [
        "a region with a newline",
        db({
          ssl: undefined,
          connector: {
            awsLambda: {
              lambdaArn: "arn:aws:lambda:us-east-1:123456789012:function:f",
              region: "us-east-1\n",
            },
          },
        }),
        /region/,
      ],
      [
        "an ESC organization wildcard",
        set("esc", { organization: "*", project: "p", environment: "e" }),
        /esc\.organization/,
      ],
      [
        "an ESC project with a colon",
        set("esc", { organization: "o", project: "a:b", environment: "e" }),
        /esc\.project/,
      ],
      [
        "an ESC environment with a newline",
        set("esc", { organization: "o", project: "p", environment: "e\nvalues: {}" }),
        /esc\.environment/,
      ],
      [
        "an ESC environment path",
        set("esc", { organization: "o", project: "p", environment: "../other" }),
        /esc\.environment/,
      ],
      [
        "an ESC key that is YAML syntax",
        set("esc", { organization: "o", project: "p", environment: "e", key: "a: b" }),
        /esc\.key/,
      ],
      [
        "an ESC apiUrl that is not http(s)",
        set("esc", {
          organization: "o",
          project: "p",
          environment: "e",
          apiUrl: "javascript:alert(1)",
        }),
        /esc\.apiUrl/,
      ],
      [
        "an empty ESC token",
        set("esc", { organization: "o", project: "p", environment: "e", accessToken: "" }),
        /esc\.accessToken/,
      ],
    );

    for (const [label, mutate, message] of REFUSE) {
      it(`refuses ${label} before the server sees a connection`, async () => {
        const rotateUsers = await pg.createPair();
        const good = { database: pg.database, rotateUsers, rotationTrigger: "1" };
        const bad = mutate(good) as RotationInputs;
        const checked = await provider.check!({}, bad);
        expect(checked.failures!.map((f) => f.reason).join("\n")).to.match(message);
        const before = await roleSnapshot(pg);
        const connections = connectionsReceived(pg);
        const error = await rejection(provider.create(bad));
        expect(error).to.be.instanceOf(ValidationError);
        expect(error.message).to.match(message);
        expect(connectionsReceived(pg), "connections the server received").to.equal(connections);
        expect(changedRoles(before, await roleSnapshot(pg))).to.deep.equal([]);
        expectNoSecrets(renderings(error), [pg.manager.password]);
      });
    }

    it("refuses a hostile trigger on update too, leaving the outputs and the server as they were", async () => {
      const rotateUsers = await pg.createPair();
      const life = new Lifecycle(provider);
      const inputs = { database: pg.database, rotateUsers, rotationTrigger: "1" };
      const outputs = await life.create(inputs);
      const before = await roleSnapshot(pg);
      const connections = connectionsReceived(pg);
      for (const trigger of [NaN, Infinity, true, {}, null]) {
        const bad = { ...inputs, rotationTrigger: trigger } as unknown as RotationInputs;
        const error = await rejection(provider.update!(life.id, outputs, bad));
        expect(error, String(trigger)).to.be.instanceOf(ValidationError);
      }
      expect(connectionsReceived(pg)).to.equal(connections);
      expect(changedRoles(before, await roleSnapshot(pg))).to.deep.equal([]);
      expect(life.outputs).to.deep.equal(outputs);
    });
  });
}
