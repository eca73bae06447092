import { expect } from "chai";
import { postgresRotationProvider } from "../../provider/postgresRotationProvider";
import type { RotationInputs } from "../../provider/core/types";
import { Lifecycle } from "../support/provider";
import { TEST_MAJORS, cluster, type TestCluster } from "../support/servers";

for (const major of TEST_MAJORS) {
  describe(`postgresRotationProvider on PostgreSQL ${major}`, function () {
    let pg: TestCluster;
    before(async function () {
      pg = await cluster(major);
    });

    async function freshInputs(): Promise<RotationInputs> {
      return { database: pg.database, rotateUsers: await pg.createPair(), rotationTrigger: "1" };
    }

    it("rotates username1, then username2, then username1, never touching current", async function () {
      const inputs = await freshInputs();
      const { username1, username2 } = inputs.rotateUsers;
      const life = new Lifecycle(postgresRotationProvider);

      const first = await life.create(inputs);
      expect(first.current.username).to.equal(username1);
      expect(first.previous).to.deep.equal({ username: username2 });
      expect(await pg.canLogin(username1, first.current.password)).to.equal(true);

      await life.apply({ ...inputs, rotationTrigger: "2" });
      const second = life.outputs!;
      expect(second.current.username).to.equal(username2);
      expect(second.previous).to.deep.equal(first.current);
      expect(await pg.canLogin(username2, second.current.password)).to.equal(true);
      expect(await pg.canLogin(username1, first.current.password)).to.equal(true);

      await life.apply({ ...inputs, rotationTrigger: "3" });
      const third = life.outputs!;
      expect(third.current.username).to.equal(username1);
      expect(third.previous).to.deep.equal(second.current);
      expect(await pg.canLogin(username1, third.current.password)).to.equal(true);
      expect(await pg.canLogin(username2, second.current.password)).to.equal(true);
      expect(await pg.canLogin(username1, first.current.password)).to.equal(false);
    });
  });
}
