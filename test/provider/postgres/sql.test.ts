import { expect } from "chai";
import { scramSha256Verifier } from "../../../provider/core/scram";
import {
  alterPasswordSql,
  commentOnRoleSql,
  connectionLimitSql,
  createRoleSql,
  dropRolesSql,
  grantRoleSql,
  lockKeyText,
  lockRoleSql,
  ownedDetailsOf,
  quoteIdentifier,
  quoteLiteral,
  resetSettingSql,
  revokeRoleSql,
  roleUnderLockSql,
  setSettingSql,
  withLiterals,
} from "../../../provider/postgres/sql";

describe("sql", () => {
  it("quotes identifiers by doubling quotes", () => {
    expect(quoteIdentifier("app")).to.equal('"app"');
    expect(quoteIdentifier('we"ird')).to.equal('"we""ird"');
    expect(quoteIdentifier('x"; DROP ROLE y; --')).to.equal('"x""; DROP ROLE y; --"');
    expect(() => quoteIdentifier("")).to.throw(RangeError, "an identifier must be a non-empty");
    expect(() => quoteIdentifier("a\0")).to.throw(RangeError, "without NUL");
  });

  it("builds ALTER ROLE with a verifier and never with anything else", () => {
    const verifier = scramSha256Verifier("pw");
    expect(alterPasswordSql('A"b', verifier)).to.equal(`ALTER ROLE "A""b" PASSWORD '${verifier}'`);
    for (const bad of ["", "pw", "md5abcdef", `${verifier}'`, null as unknown as string]) {
      expect(() => alterPasswordSql("a", bad)).to.throw(RangeError, /malformed verifier/);
    }
  });

  it("keys the lock by the role, unambiguously", () => {
    expect(lockKeyText("a")).to.equal(lockKeyText("a"));
    expect(lockKeyText("a")).to.not.equal(lockKeyText("b"));
    expect(lockKeyText('a","b')).to.not.equal(lockKeyText("a"));
  });
});

describe("sql builders", () => {
  const verifier = scramSha256Verifier("pw");

  it("quotes literals: quotes doubled, backslashes made explicit with E'', NUL refused", () => {
    expect(quoteLiteral("plain")).to.equal("'plain'");
    expect(quoteLiteral("it's")).to.equal("'it''s'");
    expect(quoteLiteral("a\\b")).to.equal("E'a\\\\b'");
    expect(quoteLiteral("it's a\\b")).to.equal("E'it''s a\\\\b'");
    expect(quoteLiteral("")).to.equal("''");
    expect(() => quoteLiteral("a\0")).to.throw(RangeError, /without NUL/);
    expect(() => quoteLiteral(1 as unknown as string)).to.throw(RangeError);
  });

  it("comments on a role with a literal, or NULL", () => {
    expect(commentOnRoleSql('r"x', "it's")).to.equal(`COMMENT ON ROLE "r""x" IS 'it''s'`);
    expect(commentOnRoleSql("r", null)).to.equal(`COMMENT ON ROLE "r" IS NULL`);
  });

  it("locks a role by writing its template0 setting", () => {
    expect(lockRoleSql('a"b')).to.equal(
      `ALTER ROLE "a""b" IN DATABASE template0 SET application_name = 'pulumi-postgres-rotator'`,
    );
  });

  it("reads the role under its lock with its comment, and its sessions only when asked", () => {
    const compact = (sql: string) => sql.replace(/\s+/g, " ").trim();
    const withSessions = compact(roleUnderLockSql(true));
    const without = compact(roleUnderLockSql(false));
    for (const sql of [withSessions, without]) {
      expect(sql).to.match(
        /^SELECT current_user::text AS session_role, r\.rolsuper, r\.rolcanlogin,/,
      );
      expect(sql).to.include("coalesce(r.rolvaliduntil < now(), false) AS expired");
      expect(sql).to.include("current_setting('server_version_num')::int AS server_version_num");
      expect(sql).to.include(
        "(SELECT d.description FROM pg_catalog.pg_shdescription d WHERE d.objoid = r.oid " +
          "AND d.classoid = 'pg_catalog.pg_authid'::regclass) AS comment",
      );
      expect(sql).to.match(/FROM pg_catalog\.pg_roles r\b.*WHERE r\.rolname = \$1$/);
    }
    expect(withSessions).to.include(
      "s.sessions, s.addresses, s.oldest, s.idle_sessions, s.idle_addresses " +
        "FROM pg_catalog.pg_roles r, LATERAL (SELECT " +
        "count(*) FILTER (WHERE NOT a.parked)::int AS sessions, " +
        "coalesce(array_agg(DISTINCT host(a.client_addr)) " +
        "FILTER (WHERE a.client_addr IS NOT NULL AND NOT a.parked), '{}') AS addresses, " +
        "min(a.backend_start) FILTER (WHERE NOT a.parked) AS oldest, " +
        "count(*) FILTER (WHERE a.parked)::int AS idle_sessions, " +
        "coalesce(array_agg(DISTINCT host(a.client_addr)) " +
        "FILTER (WHERE a.client_addr IS NOT NULL AND a.parked), '{}') AS idle_addresses " +
        "FROM (SELECT g.client_addr, g.backend_start, " +
        "coalesce(g.state = 'idle' AND g.state_change < " +
        "clock_timestamp() - make_interval(secs => $3::int), false) AS parked " +
        "FROM pg_catalog.pg_stat_get_activity(NULL) g " +
        "WHERE g.usesysid = r.oid AND g.application_name IS DISTINCT FROM $2) a) s",
    );
    expect(without).to.not.include("pg_stat_get_activity");
    expect(without).to.not.include("$2");
    expect(without).to.not.include("$3");
    // The ownership column only when asked, beside the others: the same row, no round trip.
    for (const sql of [withSessions, without]) expect(sql).to.not.include("pg_shdepend");
  });

  it("reads what the pair's users own in the same statement, names only when there are some", () => {
    const compact = (sql: string) => sql.replace(/\s+/g, " ").trim();
    const owners = (oids: string) =>
      `pg_catalog.pg_shdepend d WHERE d.refclassid = 1260 AND d.refobjid IN (${oids}) ` +
      "AND d.deptype = 'o' AND d.classid NOT IN (826, 1418)";
    const partner = "pg_catalog.to_regrole(pg_catalog.quote_ident($4))";
    for (const withSessions of [true, false]) {
      const sql = compact(roleUnderLockSql(withSessions, true));
      const plain = compact(roleUnderLockSql(withSessions));
      // Everything else as without it: the columns after the comment, the counts beside r.
      expect(
        sql
          .replace(/, o\.owned, o\.partner_owned, CASE .* END AS owned_details/, "")
          .replace(
            /, LATERAL \(SELECT count\(\*\) FILTER \(WHERE d\.refobjid = r\.oid\).*?\) o\b/,
            "",
          ),
      ).to.equal(plain);
      expect(sql).to.include(
        "FROM pg_catalog.pg_roles r, LATERAL (SELECT " +
          "count(*) FILTER (WHERE d.refobjid = r.oid)::int AS owned, " +
          "count(*) FILTER (WHERE d.refobjid <> r.oid)::int AS partner_owned " +
          `FROM ${owners(`r.oid, ${partner}`)}) o`,
      );
      // Names and places only when something is owned, by a query planned only then.
      expect(sql).to.include(
        "AS comment, o.owned, o.partner_owned, CASE WHEN o.owned + o.partner_owned > 0 THEN " +
          "pg_catalog.query_to_xml(pg_catalog.format('SELECT pg_catalog.jsonb_build_object( " +
          "''elsewhere'', (SELECT coalesce(pg_catalog.jsonb_object_agg(e.datname, e.n), ''{}'') " +
          `FROM (SELECT db.datname, count(*) AS n FROM (SELECT d.dbid FROM ${owners("%1$s, %2$s").replace(/'/g, "''")}) x ` +
          "JOIN pg_catalog.pg_database db ON db.oid = x.dbid " +
          "WHERE db.datname <> current_database() GROUP BY db.datname) e), " +
          "''examples'', (SELECT coalesce(pg_catalog.jsonb_agg( " +
          "pg_catalog.jsonb_build_array(i.type, i.identity) ORDER BY f.objid), ''[]'') " +
          `FROM (SELECT d.classid, d.objid FROM ${owners("%1$s, %2$s").replace(/'/g, "''")} ` +
          "AND d.dbid IN (0, (SELECT oid FROM pg_catalog.pg_database " +
          "WHERE datname = current_database())) ORDER BY d.objid LIMIT 5) f, " +
          "LATERAL pg_catalog.pg_identify_object(f.classid, f.objid, 0) i))::text AS j', " +
          `r.oid, coalesce(${partner}::oid, r.oid)), false, true, '')::text END AS owned_details`,
      );
      expect(sql).to.match(/WHERE r\.rolname = \$1$/);
    }
  });

  it("reads the names of what is owned back from query_to_xml's text, entities decoded", () => {
    expect(ownedDetailsOf(null)).to.deep.equal({ elsewhere: {}, examples: [] });
    // As PostgreSQL writes the row: &, < and > as entities, JSON escapes kept.
    const xml =
      '<row xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n\n  <j>' +
      '{"examples": [["table", "public.\\"a&amp;b&lt;c&gt;\\""], ["schema", "s\\r&amp;t\\n"]], ' +
      '"elsewhere": {"db &lt;x&gt;": 2}}</j>\n</row>\n\n';
    expect(ownedDetailsOf(xml)).to.deep.equal({
      elsewhere: { "db <x>": 2 },
      examples: [
        ["table", 'public."a&b<c>"'],
        ["schema", "s\r&t\n"],
      ],
    });
    // Any other form: no names (the message still has the counts and the fix).
    expect(ownedDetailsOf("<row/>")).to.deep.equal({ elsewhere: {}, examples: [] });
  });

  it("creates a role only with a verifier, with an optional whole-number connection limit", () => {
    expect(createRoleSql("u", verifier)).to.equal(`CREATE ROLE "u" LOGIN PASSWORD '${verifier}'`);
    expect(createRoleSql("u", verifier, 5)).to.equal(
      `CREATE ROLE "u" LOGIN PASSWORD '${verifier}' CONNECTION LIMIT 5`,
    );
    expect(createRoleSql("u", verifier, 0)).to.match(/CONNECTION LIMIT 0$/);
    expect(() => createRoleSql("u", "pw")).to.throw(RangeError, /malformed verifier/);
    expect(() => createRoleSql("u", verifier, 1.5)).to.throw(RangeError, /whole number/);
    expect(() => createRoleSql("u", verifier, NaN)).to.throw(RangeError);
  });

  it("sets, resets and limits with quoted names and literals", () => {
    expect(connectionLimitSql("u", -1)).to.equal(`ALTER ROLE "u" CONNECTION LIMIT -1`);
    expect(() => connectionLimitSql("u", 2.5)).to.throw(RangeError);
    expect(setSettingSql("u", "search_path", "a'; --")).to.equal(
      `ALTER ROLE "u" SET "search_path" = 'a''; --'`,
    );
    expect(setSettingSql("u", "app.tenant", "x\\y")).to.equal(
      `ALTER ROLE "u" SET "app"."tenant" = E'x\\\\y'`,
    );
    expect(resetSettingSql("u", "app.tenant")).to.equal(`ALTER ROLE "u" RESET "app"."tenant"`);
  });

  it("grants, revokes and drops with every name quoted", () => {
    expect(grantRoleSql('g"', "u")).to.equal(`GRANT "g""" TO "u"`);
    expect(revokeRoleSql("g", 'u"')).to.equal(`REVOKE "g" FROM "u"""`);
    expect(dropRolesSql(["a", 'b"c'])).to.equal(`DROP ROLE "a", "b""c"`);
  });

  it("keys the pair lock by JSON text, so no two roles share a key", () => {
    expect(lockKeyText('a"b')).to.equal('pulumi-postgres-rotator:role:"a\\"b"');
  });
});

describe("withLiterals", () => {
  it("puts every value in once, as a literal, never substituting inside a value", () => {
    expect(withLiterals("SELECT $1, $2, $1", ["a'$2", "b\\c"])).to.equal(
      "SELECT 'a''$2', E'b\\\\c', 'a''$2'",
    );
    expect(() => withLiterals("SELECT $3", ["a"])).to.throw(RangeError, "no value for $3");
    const ten = Array.from({ length: 10 }, (_, i) => `v${i + 1}`);
    expect(withLiterals("SELECT $10, $1", ten)).to.equal("SELECT 'v10', 'v1'");
  });
});

describe("setSettingSql", () => {
  it("sends a list as a list of literals, not one literal holding commas", () => {
    expect(setSettingSql("u", "search_path", ["app", "public"])).to.equal(
      `ALTER ROLE "u" SET "search_path" = 'app', 'public'`,
    );
    expect(setSettingSql("u", "work_mem", "4MB")).to.equal(`ALTER ROLE "u" SET "work_mem" = '4MB'`);
  });
});
