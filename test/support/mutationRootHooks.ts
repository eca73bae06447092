/**
 * Mocha root hooks of `npm run mutation:server` (stryker.server.config.mjs), which runs the same
 * tests once per mutant in one process: the servers a test file starts for itself are stopped
 * after each run, the shared ones (one per major) stay up for the next run, without the client
 * sessions a run left on them. They end with the
 * process (scripts/embeddedPostgres.ts), and scripts/mutationServer.sh stops any left behind.
 */
import { endSharedClientSessions, stopPrivateClusters } from "./servers";

export const mochaHooks = {
  async afterAll(this: Mocha.Context) {
    this.timeout(60_000);
    await stopPrivateClusters();
    await endSharedClientSessions();
  },
};
