/** Mocha root hooks: say which Node.js runs the suites; stop every PostgreSQL server started. */
import { stopAllClusters } from "./servers";

export const mochaHooks = {
  beforeAll() {
    console.log(`  Node.js ${process.version} (${process.execPath})`);
  },
  async afterAll(this: Mocha.Context) {
    this.timeout(60_000);
    await stopAllClusters();
  },
};
