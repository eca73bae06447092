/** Mocha root hooks: stop every PostgreSQL server the tests started. */
import { stopAllClusters } from "./servers";

export const mochaHooks = {
  async afterAll(this: Mocha.Context) {
    this.timeout(60_000);
    await stopAllClusters();
  },
};
