/**
 * The package root as users import it: `require("pulumi-postgres-rotator")` resolves through
 * package.json "exports" to the compiled output in dist/ (built by `npm test`'s pretest step).
 */
import { expect } from "chai";
import type * as Root from "../index";
import type { RotationOutputs } from "../provider/core/outputs";
import { Lifecycle } from "./support/provider";
import { expectNoSecrets } from "./support/secrets";
import { TEST_MAJORS, cluster } from "./support/servers";

function loadRoot(): typeof Root {
  try {
    return require("pulumi-postgres-rotator");
  } catch (error) {
    throw new Error("the package root did not load; run npm run build first", { cause: error });
  }
}

describe("package root", () => {
  const root = loadRoot();

  it("resolves to the compiled output", () => {
    expect(require.resolve("pulumi-postgres-rotator")).to.match(/\/dist\/index\.js$/);
  });

  it("still serves the handler paths that providers serialized by 0.1.0 load by name", () => {
    // Stacks deployed with 0.1.0 keep these names in their state; they must keep loading.
    const moves = {
      "pulumi-postgres-rotator/provider/handlers":
        "pulumi-postgres-rotator/provider/postgresRotation/handlers",
      "pulumi-postgres-rotator/provider/esc/handlers":
        "pulumi-postgres-rotator/provider/escEnvironment/handlers",
    };
    for (const [old, now] of Object.entries(moves)) {
      expect(require.resolve(old)).to.equal(require.resolve(now));
      expect(require(old)).to.include.keys("check", "diff", "create", "update", "read");
    }
  });

  it("exports the resource, its provider and the pure helpers", () => {
    expect(root.PostgresRotation).to.be.a("function");
    expect(root.postgresRotationProvider).to.include.keys(
      "check",
      "diff",
      "create",
      "update",
      "read",
      "delete",
    );
    expect(root.planRotation).to.be.a("function");
    expect(root.generatePassword()).to.have.length(32);
    expect(root.isScramVerifier(root.scramSha256Verifier("x"))).to.equal(true);
    expect(new root.ValidationError(["x"])).to.be.instanceOf(root.RotationError);
  });

  it("exports EscRotationSchedule, its provider, and the handler subpath the provider loads", () => {
    expect(root.EscRotationSchedule).to.be.a("function");
    expect(root.ESC_SCHEDULE_SECRET_OUTPUTS).to.deep.equal(["accessToken"]);
    expect(root.escRotationScheduleProvider).to.include.keys("create", "update", "read", "delete");
    const handlers = require("pulumi-postgres-rotator/provider/escRotationSchedule/handlers");
    expect(handlers).to.include.keys("check", "diff", "create", "update", "read", "remove");
  });

  for (const major of TEST_MAJORS) {
    it(`rotates a fresh pair three times on PostgreSQL ${major}`, async () => {
      const pg = await cluster(major);
      const rotateUsers = await pg.createPair();
      const { username1, username2 } = rotateUsers;
      const inputs = { database: pg.database, rotateUsers, rotationTrigger: 1 };
      const life = new Lifecycle(root.postgresRotationProvider);
      const history: RotationOutputs[] = [];
      for (const trigger of [1, 2, 3]) {
        if (trigger === 1) await life.create(inputs);
        else await life.apply({ ...inputs, rotationTrigger: trigger });
        const now = life.outputs!;
        history.push(now);
        // After each rotation both current and (once known) previous log in.
        expect(await pg.canLogin(now.current.username, now.current.password)).to.equal(true);
        if (trigger > 1) {
          expect(now.previous).to.deep.equal(history[history.length - 2].current);
          expect(await pg.canLogin(now.previous.username, now.previous.password)).to.equal(true);
        }
      }
      expect(history.map((h) => h.current.username)).to.deep.equal([
        username1,
        username2,
        username1,
      ]);
      // The password replaced two rotations ago no longer logs in.
      expect(await pg.canLogin(username1, history[0].current.password)).to.equal(false);
      expectNoSecrets(
        pg.server.readLog(),
        history.map((h) => h.current.password),
      );
    });
  }
});
