/**
 * The ownership guard on real PostgreSQL (the oldest and the newest major): objects the pair's
 * users own themselves are counted under the rotation's lock, every kind of object once (no
 * implicit row, array or multirange types, no indexes), and `ownership` decides: warn and
 * rotate, refuse with nothing changed, or not look.
 */
import { expect } from "chai";
import * as handlers from "../../../provider/postgresRotation/handlers";
import type { OwnershipPolicy, RotationInputs } from "../../../provider/core/types";
import { quoteIdentifier } from "../../../provider/postgres/sql";
import { OwnedObjectsError } from "../../../provider/errors";
import { Lifecycle } from "../../support/provider";
import { rejection } from "../../support/secrets";
import { TEST_MAJORS, uniqueName, type TestCluster, cluster } from "../../support/servers";

const EDGE_MAJORS = [...new Set([TEST_MAJORS[0], TEST_MAJORS[TEST_MAJORS.length - 1]])];

for (const major of EDGE_MAJORS) {
  describe(`PostgresRotation's ownership guard on PostgreSQL ${major}`, function () {
    let pg: TestCluster;
    before(async () => {
      pg = await cluster(major);
    });

    /**
     * Runs `statements` as the superuser with `SET ROLE` to `role` (which may create in the
     * database and in `public`): what they create, `role` owns.
     */
    const as = (role: string, statements: readonly string[]) =>
      pg.asSuperuser(async (c) => {
        await c.query(`GRANT CREATE ON DATABASE app TO ${quoteIdentifier(role)}`);
        await c.query(`GRANT CREATE ON SCHEMA public TO ${quoteIdentifier(role)}`);
        await c.query(`SET ROLE ${quoteIdentifier(role)}`);
        for (const sql of statements) await c.query(sql);
      });

    /** A pair rotated once (username2 current), as a migration would find it. */
    async function rotatedPair(ownership?: OwnershipPolicy) {
      const pair = await pg.createPair();
      const base: RotationInputs = {
        database: pg.database,
        rotateUsers: pair,
        rotationTrigger: "1",
        ...(ownership ? { ownership } : {}),
      };
      const life = new Lifecycle(handlers);
      await life.create(base);
      await life.apply({ ...base, rotationTrigger: "2" });
      return { pair, base, life };
    }

    /** Every console.warn line while `work` runs. */
    async function warningsOf(work: () => Promise<unknown>): Promise<string[]> {
      const warnings: string[] = [];
      const original = console.warn;
      console.warn = (line: string) => warnings.push(line);
      try {
        await work();
      } finally {
        console.warn = original;
      }
      return warnings;
    }

    it("counts each kind of object once, names a few, and warns by default", async () => {
      const { pair, base, life } = await rotatedPair();
      const schema = uniqueName("owned_schema");
      const s = quoteIdentifier(schema);
      // username1 owns a database, made first (the oldest object, named first); then the
      // current user (username2) runs a "migration".
      const database = uniqueName("owned_db");
      await pg.asSuperuser((c) =>
        c.query(
          `CREATE DATABASE ${quoteIdentifier(database)} OWNER ${quoteIdentifier(pair.username1)}`,
        ),
      );
      await as(pair.username2, [
        `CREATE SCHEMA ${s}`,
        `CREATE TABLE ${s}.orders (id int PRIMARY KEY, note text)`,
        `CREATE VIEW ${s}.order_view AS SELECT id FROM ${s}.orders`,
        `CREATE MATERIALIZED VIEW ${s}.order_mv AS SELECT id FROM ${s}.orders`,
        `CREATE SEQUENCE ${s}.order_seq`,
        `CREATE FUNCTION ${s}.answer() RETURNS int LANGUAGE sql AS 'SELECT 42'`,
        `CREATE PROCEDURE ${s}.noop() LANGUAGE sql AS 'SELECT 1'`,
        `CREATE TYPE ${s}.mood AS ENUM ('ok', 'not ok')`,
        `CREATE DOMAIN ${s}.positive AS int CHECK (VALUE > 0)`,
        `CREATE TYPE ${s}.pair AS (a int, b int)`,
      ]);
      try {
        const logged = pg.server.readLog().length;
        const warnings = await warningsOf(() => life.apply({ ...base, rotationTrigger: "3" }));
        // It rotated: username1 is current now.
        expect(life.outputs!.current.username).to.equal(pair.username1);
        // Counts, names and places were all read in one statement: the lock's (every log entry,
        // simple or extended protocol, starts with "LOG:  ").
        const reads = pg.server
          .readLog()
          .slice(logged)
          .split("LOG:  ")
          .filter((entry) => entry.includes("pg_shdepend"));
        expect(reads).to.have.length(1);
        expect(reads[0]).to.include("pg_identify_object");
        expect(reads[0]).to.match(/^statement: BEGIN; /);
        const text = warnings.join("\n");
        expect(warnings).to.have.length(1);
        expect(text).to.include(
          `changing the password of "${pair.username1}" anyway (ownership: "warn")`,
        );
        // 10 in the schema (the schema, a table, a view, a materialized view, a sequence, a
        // function, a procedure, an enum, a domain, a composite type), 1 database.
        expect(text).to.include(
          `the pair's users own 11 database object(s) themselves ("${pair.username1}" owns 1, "${pair.username2}" owns 10)`,
        );
        expect(text).to.include(
          `in "app": database ${JSON.stringify(database)}, schema ${JSON.stringify(schema)}, `,
        );
        expect(text).to.include("Other databases hold none.");
        expect(text).to.include(`table ${JSON.stringify(`${schema}.orders`)}`);
        expect(text).to.include(", and 8 more.");
        expect(text).to.include(`REASSIGN OWNED BY ${quoteIdentifier(pair.username1)} TO <group>;`);
        expect(text).to.include(`REASSIGN OWNED BY ${quoteIdentifier(pair.username2)} TO <group>;`);
        expect(text).to.include("set ownerRole");
      } finally {
        await pg.asSuperuser(async (c) => {
          await c.query(`DROP DATABASE ${quoteIdentifier(database)}`);
          await c.query(`DROP SCHEMA ${s} CASCADE`);
        });
      }
    });

    it("refuse changes nothing: both passwords as before, outputs unchanged", async () => {
      const { pair, base, life } = await rotatedPair("refuse");
      const table = uniqueName("owned_table");
      await as(pair.username2, [`CREATE TABLE public.${quoteIdentifier(table)} (id int)`]);
      try {
        const before = life.outputs!;
        const error = await rejection(life.apply({ ...base, rotationTrigger: "3" }));
        expect(error).to.be.instanceOf(OwnedObjectsError);
        expect(error.message).to.include(`refusing to change the password of "${pair.username1}"`);
        expect(error.message).to.include(`table ${JSON.stringify(`public.${table}`)}`);
        expect(error.message).to.include('set ownership to "warn" or "ignore"');
        expect(life.outputs).to.equal(before);
        expect(await pg.canLogin(before.current.username, before.current.password)).to.equal(true);
        expect(await pg.canLogin(before.previous.username, before.previous.password)).to.equal(
          true,
        );

        // The fix: a group owns it. Then the rotation goes through, silent.
        const group = uniqueName("owners");
        await pg.asSuperuser(async (c) => {
          await c.query(`CREATE ROLE ${quoteIdentifier(group)} NOLOGIN`);
          await c.query(
            `REASSIGN OWNED BY ${quoteIdentifier(pair.username2)} TO ${quoteIdentifier(group)}`,
          );
        });
        const warnings = await warningsOf(() => life.apply({ ...base, rotationTrigger: "3" }));
        expect(warnings).to.deep.equal([]);
        expect(life.outputs!.current.username).to.equal(pair.username1);
      } finally {
        await pg.asSuperuser((c) => c.query(`DROP TABLE public.${quoteIdentifier(table)}`));
      }
    });

    it("ignore does not look; nothing owned says nothing", async () => {
      const { pair, base, life } = await rotatedPair("ignore");
      const table = uniqueName("owned_table");
      await as(pair.username2, [`CREATE TABLE public.${quoteIdentifier(table)} (id int)`]);
      try {
        const warnings = await warningsOf(() => life.apply({ ...base, rotationTrigger: "3" }));
        expect(warnings).to.deep.equal([]);
        expect(life.outputs!.current.username).to.equal(pair.username1);
      } finally {
        await pg.asSuperuser((c) => c.query(`DROP TABLE public.${quoteIdentifier(table)}`));
      }
      // The default with nothing owned: silent too.
      const clean = await rotatedPair();
      const warnings = await warningsOf(() =>
        clean.life.apply({ ...clean.base, rotationTrigger: "3" }),
      );
      expect(warnings).to.deep.equal([]);
    });

    it("does not count default privileges or user mappings", async () => {
      const { pair, base, life } = await rotatedPair("refuse");
      const wrapper = quoteIdentifier(uniqueName("wrapper"));
      const server = quoteIdentifier(uniqueName("server"));
      const u1 = quoteIdentifier(pair.username1);
      const u2 = quoteIdentifier(pair.username2);
      // Both are recorded in pg_shdepend as owned by the user, yet REASSIGN OWNED moves neither.
      await pg.asSuperuser(async (c) => {
        await c.query(`ALTER DEFAULT PRIVILEGES FOR ROLE ${u2} GRANT SELECT ON TABLES TO PUBLIC`);
        await c.query(`CREATE FOREIGN DATA WRAPPER ${wrapper}`);
        await c.query(`CREATE SERVER ${server} FOREIGN DATA WRAPPER ${wrapper}`);
        await c.query(`CREATE USER MAPPING FOR ${u1} SERVER ${server}`);
      });
      try {
        const warnings = await warningsOf(() => life.apply({ ...base, rotationTrigger: "3" }));
        expect(warnings).to.deep.equal([]);
        expect(life.outputs!.current.username).to.equal(pair.username1);
      } finally {
        await pg.asSuperuser(async (c) => {
          await c.query(
            `ALTER DEFAULT PRIVILEGES FOR ROLE ${u2} REVOKE SELECT ON TABLES FROM PUBLIC`,
          );
          await c.query(`DROP SERVER ${server} CASCADE`);
          await c.query(`DROP FOREIGN DATA WRAPPER ${wrapper}`);
        });
      }
    });

    it("counts objects in another database without naming them, and escapes names", async () => {
      const { pair, base, life } = await rotatedPair("refuse");
      const other = uniqueName("other_db");
      // A name that would forge a log line, were it printed raw.
      const forged = `t\nwarning: all good`;
      await pg.asSuperuser(async (c) => {
        await c.query(`CREATE DATABASE ${quoteIdentifier(other)}`);
      });
      try {
        await pg.server.connectAsSuperuser(other).then(async (c) => {
          try {
            await c.query(`GRANT CREATE ON SCHEMA public TO ${quoteIdentifier(pair.username2)}`);
            await c.query(`SET ROLE ${quoteIdentifier(pair.username2)}`);
            await c.query(`CREATE TABLE public.${quoteIdentifier(forged)} (id int)`);
            await c.query(`CREATE SEQUENCE public.${quoteIdentifier(`${forged}_seq`)}`);
          } finally {
            await c.end();
          }
        });
        await as(pair.username1, [`CREATE TABLE public.${quoteIdentifier(forged)} (id int)`]);
        const error = await rejection(life.apply({ ...base, rotationTrigger: "3" }));
        expect(error).to.be.instanceOf(OwnedObjectsError);
        expect(error.message).to.not.include("\n");
        expect(error.message).to.include(
          `"${pair.username1}" owns 1, "${pair.username2}" owns 2), in "app": table ${JSON.stringify(`public.${quoteIdentifier(forged)}`)}.`,
        );
        expect(error.message).to.include(
          `In other databases (counted, not named: run the fix in each): ${JSON.stringify(other)} 2.`,
        );
      } finally {
        await pg.asSuperuser(async (c) => {
          await c.query(`DROP TABLE public.${quoteIdentifier(forged)}`);
          await c.query(`DROP DATABASE ${quoteIdentifier(other)}`);
        });
      }
    });
  });
}
