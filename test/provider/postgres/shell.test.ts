import { expect } from "chai";
import type { Client } from "pg";
import {
  ConcurrentRotationError,
  ForbiddenRoleError,
  PermissionDeniedError,
  RoleNotFoundError,
  StatementTimeoutError,
  ValidationError,
} from "../../../provider/errors";
import { generatePassword } from "../../../provider/core/password";
import { resolveInputs } from "../../../provider/core/validate";
import type { UserPair } from "../../../provider/core/types";
import { lockKeyText, quoteIdentifier } from "../../../provider/postgres/sql";
import { postgresShell } from "../../../provider/postgres/shell";
import { expectNoSecrets, rejection, renderings } from "../../support/secrets";
import { TEST_MAJORS, cluster, uniqueName, type TestCluster } from "../../support/servers";

for (const major of TEST_MAJORS) {
  describe(`postgresShell on PostgreSQL ${major}`, function () {
    let pg: TestCluster;
    before(async () => {
      pg = await cluster(major);
    });

    function shellFor(pair: UserPair, overrides: Record<string, unknown> = {}) {
      return postgresShell(
        resolveInputs({ database: pg.database, rotateUsers: pair, ...overrides }),
      );
    }

    it("changes a password and proves it by logging in", async () => {
      const pair = await pg.createPair();
      const password = generatePassword();
      await shellFor(pair).changePassword(pair.username1, password);
      expect(await pg.canLogin(pair.username1, password)).to.equal(true);
    });

    it("refuses to rotate a superuser, even for a superuser manager", async () => {
      const pair = await pg.createPair();
      const admin = uniqueName("admin");
      const original = generatePassword();
      await pg.asSuperuser((c) => c.query(`CREATE ROLE ${quoteIdentifier(admin)} LOGIN SUPERUSER`));
      await pg.setPassword(admin, original);
      const error = await rejection(shellFor(pair).changePassword(admin, generatePassword()));
      expect(error).to.be.instanceOf(ForbiddenRoleError);
      expect(error.message).to.include("superuser");
      expect(await pg.canLogin(admin, original)).to.equal(true);
    });

    it("refuses to rotate the managing user itself", async () => {
      const pair = await pg.createPair();
      const error = await rejection(
        shellFor(pair).changePassword(pg.manager.username, generatePassword()),
      );
      expect(error).to.be.instanceOf(ForbiddenRoleError);
      expect(error.message).to.include("managing user itself");
      expect(await pg.canLogin(pg.manager.username, pg.manager.password)).to.equal(true);
    });

    it("refuses a name PostgreSQL would truncate before any SQL, even one naming the manager", async () => {
      const pair = await pg.createPair();
      const before = pg.server.readLog().length;
      const long = `${pg.manager.username}${"x".repeat(64 - pg.manager.username.length)}`;
      const error = await rejection(shellFor(pair).changePassword(long, generatePassword()));
      expect(error).to.be.instanceOf(ValidationError);
      expect(error.message).to.include("the role to rotate is 64 bytes long");
      const login = await rejection(
        shellFor(pair).checkLogin({ username: long, password: pg.manager.password }),
      );
      expect(login).to.be.instanceOf(ValidationError);
      expect(pg.server.readLog().slice(before)).to.not.include("connection authorized");
    });

    it("names a role that does not exist", async () => {
      const pair = await pg.createPair();
      const error = await rejection(
        shellFor(pair).changePassword("no_such_role", generatePassword()),
      );
      expect(error).to.be.instanceOf(RoleNotFoundError);
      expect(error.message).to.include('"no_such_role" does not exist');
    });

    it("refuses NOLOGIN roles and roles past VALID UNTIL", async () => {
      const pair = await pg.createPair();
      await pg.asSuperuser((c) => c.query(`ALTER ROLE ${quoteIdentifier(pair.username1)} NOLOGIN`));
      await pg.asSuperuser((c) =>
        c.query(`ALTER ROLE ${quoteIdentifier(pair.username2)} VALID UNTIL '2000-01-01'`),
      );
      const shell = shellFor(pair);
      const nologin = await rejection(shell.changePassword(pair.username1, generatePassword()));
      expect(nologin).to.be.instanceOf(ForbiddenRoleError);
      expect(nologin.message).to.include("NOLOGIN");
      const expired = await rejection(shell.changePassword(pair.username2, generatePassword()));
      expect(expired).to.be.instanceOf(ForbiddenRoleError);
      expect(expired.message).to.include("VALID UNTIL");
    });

    it("explains what a manager without the privilege needs, for this version", async () => {
      const pair = await pg.createPair();
      const weak = { username: uniqueName("weak_manager"), password: generatePassword() };
      // On 16+ CREATEROLE alone is not enough; before 16 a manager without CREATEROLE fails.
      const attributes = major >= 16 ? "LOGIN CREATEROLE" : "LOGIN";
      await pg.asSuperuser((c) =>
        c.query(`CREATE ROLE ${quoteIdentifier(weak.username)} ${attributes}`),
      );
      await pg.setPassword(weak.username, weak.password);
      const newPassword = generatePassword();
      const shell = postgresShell(
        resolveInputs({ database: { ...pg.database, managingUser: weak }, rotateUsers: pair }),
      );
      const error = await rejection(shell.changePassword(pair.username1, newPassword));
      expect(error).to.be.instanceOf(PermissionDeniedError);
      expect(error.message).to.match(
        major >= 16 ? /WITH ADMIN TRUE, INHERIT FALSE, SET FALSE/ : /CREATEROLE/,
      );
      expectNoSecrets(renderings(error), [weak.password, newPassword]);
      expect(await pg.canLogin(pair.username1, newPassword)).to.equal(false);
    });

    it("cancels a statement that outlasts timeouts.statementSeconds and changes nothing", async () => {
      const pair = await pg.createPair();
      const blocker = await pg.server.connectAsSuperuser("app");
      try {
        // An open transaction holding the role's catalog row makes ALTER ROLE wait.
        await blocker.query("BEGIN");
        await blocker.query(`ALTER ROLE ${quoteIdentifier(pair.username1)} CONNECTION LIMIT 5`);
        const shell = shellFor(pair, { timeouts: { statementSeconds: 0.3, lockSeconds: 30 } });
        const password = generatePassword();
        const error = await rejection(shell.changePassword(pair.username1, password));
        expect(error).to.be.instanceOf(StatementTimeoutError);
        expect(error.message).to.include("timeouts.statementSeconds");
        await blocker.query("ROLLBACK");
        expect(await pg.canLogin(pair.username1, password)).to.equal(false);
      } finally {
        await blocker.end();
      }
    });

    describe("with the rotated roles' locks held elsewhere", () => {
      let holder: Client;
      let pair: UserPair;
      beforeEach(async () => {
        pair = await pg.createPair();
        holder = await pg.server.connectAsSuperuser("app");
        for (const role of [pair.username1, pair.username2]) {
          await holder.query("SELECT pg_advisory_lock(hashtextextended($1, 0))", [
            lockKeyText(role),
          ]);
        }
      });
      afterEach(async () => {
        await holder.end();
      });

      it("gives up after timeouts.lockSeconds and changes nothing", async () => {
        const shell = shellFor(pair, { timeouts: { lockSeconds: 0.3 } });
        const password = generatePassword();
        const error = await rejection(shell.changePassword(pair.username1, password));
        expect(error).to.be.instanceOf(ConcurrentRotationError);
        expect(await pg.canLogin(pair.username1, password)).to.equal(false);
      });

      it("waits for the other rotation to finish, then proceeds", async () => {
        const password = generatePassword();
        const started = Date.now();
        const release = new Promise((r) => setTimeout(r, 400)).then(() =>
          holder.query("SELECT pg_advisory_unlock_all()"),
        );
        await shellFor(pair).changePassword(pair.username2, password);
        await release;
        expect(Date.now() - started).to.be.at.least(380);
        expect(await pg.canLogin(pair.username2, password)).to.equal(true);
      });

      it("does not block another pair", async () => {
        const otherPair = await pg.createPair();
        await shellFor(otherPair, { timeouts: { lockSeconds: 0.3 } }).changePassword(
          otherPair.username1,
          generatePassword(),
        );
      });
    });
  });
}
