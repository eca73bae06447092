// @ts-check
/**
 * StrykerJS on one server-side module at a time, with the narrowest tests that cover it:
 * `npm run mutation:server -- <module> [stryker options]` (scripts/mutationServer.sh sets
 * MUTATION_MODULE). Not part of `npm test` nor of CI. The PostgreSQL-backed suites start
 * PostgreSQL `PG_MAJORS` only (18 unless set), one Stryker worker at a time; the shared server
 * stays up from one mutant's run to the next (test/support/mutationRootHooks.ts).
 */
import base from "./stryker.config.json" with { type: "json" };

/**
 * Module name → the file it mutates, the test files that cover it, and whether they start
 * PostgreSQL. The bundled connector (dist/lambda/index.js) serves every Lambda test: mutating
 * provider/connector/lambdaHandler.ts would change nothing they run, so it is not listed.
 * @type {Record<string, { mutate: string, spec: string[], postgres: boolean }>}
 */
export const MODULES = {
  "esc-client": {
    mutate: "provider/esc/client.ts",
    spec: [
      "test/provider/esc/client.test.ts",
      "test/provider/esc/schedules.test.ts",
      "test/provider/esc/accessToken.test.ts",
      "test/provider/escEnvironment/handlers.test.ts",
      "test/provider/escEnvironment/hostileInputs.test.ts",
      "test/provider/escRotationSchedule/handlers.test.ts",
      "test/provider/escRotationSchedule/hostileInputs.test.ts",
    ],
    postgres: false,
  },
  "esc-environment": {
    mutate: "provider/escEnvironment/handlers.ts",
    spec: [
      "test/provider/escEnvironment/handlers.test.ts",
      "test/provider/escEnvironment/hostileInputs.test.ts",
      "test/provider/esc/accessToken.test.ts",
    ],
    postgres: false,
  },
  "esc-rotation-schedule": {
    mutate: "provider/escRotationSchedule/handlers.ts",
    spec: [
      "test/provider/escRotationSchedule/handlers.test.ts",
      "test/provider/escRotationSchedule/hostileInputs.test.ts",
      "test/provider/esc/accessToken.test.ts",
    ],
    postgres: false,
  },
  pool: {
    mutate: "provider/postgres/pool.ts",
    spec: ["test/provider/postgres/pool.test.ts"],
    postgres: true,
  },
  "lambda-shell": {
    mutate: "provider/connector/lambdaShell.ts",
    spec: [
      "test/provider/connector/lambdaShell.test.ts",
      "test/provider/connector/lambdaShellReplies.test.ts",
    ],
    postgres: true,
  },
  "postgres-rotation": {
    mutate: "provider/postgresRotation/handlers.ts",
    spec: [
      "test/provider/postgresRotation/guards.test.ts",
      "test/provider/postgresRotation/hostileInputs.test.ts",
      "test/provider/postgresRotation/rotateAfter.test.ts",
      "test/provider/postgresRotation/escRotation.test.ts",
      "test/provider/postgresRotation/postgresRotationProvider.test.ts",
      "test/provider/connector/lambdaShell.test.ts",
    ],
    postgres: true,
  },
  "postgres-user-pair": {
    mutate: "provider/postgresUserPair/handlers.ts",
    spec: [
      "test/provider/postgresUserPair/handlers.test.ts",
      "test/provider/postgresUserPair/hostileInputs.test.ts",
      "test/provider/postgresUserPair/ownerRole.test.ts",
      "test/provider/connector/lambdaShell.test.ts",
    ],
    postgres: true,
  },
  "postgres-shell": {
    mutate: "provider/postgres/shell.ts",
    spec: [
      "test/provider/postgres/shell.test.ts",
      "test/provider/postgres/connection.test.ts",
      "test/provider/postgresRotation/guards.test.ts",
      "test/provider/postgresRotation/ownership.test.ts",
    ],
    postgres: true,
  },
  "user-pair-shell": {
    mutate: "provider/postgres/userPairShell.ts",
    spec: [
      "test/provider/postgres/userPairShell.test.ts",
      "test/provider/postgresUserPair/handlers.test.ts",
      "test/provider/postgresUserPair/hostileInputs.test.ts",
      "test/provider/postgresUserPair/identicalUsers.test.ts",
    ],
    postgres: true,
  },
};

const { grep: _unitGrep, ...mochaOptions } = base.mochaOptions;
const name = process.env.MUTATION_MODULE ?? "";
const module = MODULES[name];
if (!module) {
  throw new Error(
    `MUTATION_MODULE must be one of ${Object.keys(MODULES).join(", ")} (got "${name}")`,
  );
}

export default {
  ...base,
  mutate: [module.mutate],
  mochaOptions: {
    ...mochaOptions,
    spec: module.spec,
    // The servers a test file starts for itself stop after each run, the shared ones stay up.
    require: ["test/support/mutationRootHooks.ts"],
  },
  // The suites share one server per major and start it in `before` hooks: one worker.
  concurrency: module.postgres ? 1 : 2,
  ignorePatterns: ["reports", ".scratch"],
  // A run that starts PostgreSQL takes a few seconds more than its tests' own time (the timeout
  // adds this to 1.5 times the initial run's time); a mutant that hangs costs this much.
  timeoutMS: module.postgres ? 15_000 : base.timeoutMS,
  incrementalFile: `reports/mutation-server/${name}/stryker-incremental.json`,
  htmlReporter: { fileName: `reports/mutation-server/${name}/index.html` },
  jsonReporter: { fileName: `reports/mutation-server/${name}/mutation.json` },
};
