/**
 * The connector Lambda's bundle: its size, and its cold module-load time, each against a
 * baseline measured in the same run.
 *
 * - size: dist/lambda/index.js against the sum of the source files esbuild put into it (our
 *   compiled handler and shell, pg and its dependencies, SASLprep), i.e. what a zip of the
 *   unbundled code would have to hold at the least;
 * - cold load: a fresh `node` process that requires the bundle, against one that requires the
 *   same handler unbundled (dist/provider/connector/lambdaHandler.js, resolving pg from
 *   node_modules); both minus an empty `node` process, interleaved run by run.
 *
 * - zipped: the bundle deflated, as the function's code archive holds it;
 * - cold start: in a fresh `node` process against a real PostgreSQL, loading the bundle and
 *   answering a first rotation event, against a warm invocation (the next event, same process),
 *   as Lambda runs a new and a reused execution environment.
 *
 *   npm run bench:lambda     # or: npx tsx bench/lambdaBundle.ts [runs=30]
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { deflateRawSync } from "node:zlib";
import { buildSync } from "esbuild";
import { generatePassword } from "../provider/core/password";
import { scramSha256Verifier } from "../provider/core/scram";
import { startPostgres } from "../scripts/embeddedPostgres";

const ROOT = path.join(__dirname, "..");
const BUNDLE = path.join(ROOT, "dist", "lambda", "index.js");
const UNBUNDLED = path.join(ROOT, "dist", "provider", "connector", "lambdaHandler.js");
const runs = Number(process.argv[2] ?? 30);

function bundleSizes(): { bundle: number; inputs: number; files: number } {
  const result = buildSync({
    entryPoints: [path.join(ROOT, "provider", "connector", "lambdaHandler.ts")],
    bundle: true,
    platform: "node",
    target: "node20",
    format: "cjs",
    minify: true,
    legalComments: "none",
    external: ["pg-native"],
    metafile: true,
    write: false,
  });
  const inputs = Object.values(result.metafile.inputs);
  return {
    bundle: result.outputFiles[0].contents.byteLength,
    inputs: inputs.reduce((sum, input) => sum + input.bytes, 0),
    files: inputs.length,
  };
}

/** Milliseconds a fresh node process takes to run `script` (wall clock, spawn included). */
function timeNode(script: string): number {
  const started = process.hrtime.bigint();
  execFileSync(process.execPath, ["-e", script], { cwd: ROOT, stdio: "ignore" });
  return Number(process.hrtime.bigint() - started) / 1e6;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};

/** What a zip entry of the bundle takes: its deflated bytes plus the local and central headers. */
function zippedSize(): number {
  const name = "index.js".length;
  return deflateRawSync(fs.readFileSync(BUNDLE)).byteLength + 30 + name + 46 + name + 22;
}

/** Cold (load + first rotation) and warm (next rotation) milliseconds, from fresh processes. */
async function coldStarts(count: number): Promise<{ cold: number[]; warm: number[] }> {
  const server = await startPostgres({ major: 18, logStatements: false });
  try {
    const admin = await server.connectAsSuperuser();
    const manager = { username: "lambda_manager", password: generatePassword() };
    await admin.query(
      `CREATE ROLE lambda_manager LOGIN CREATEROLE PASSWORD '${scramSha256Verifier(manager.password)}'`,
    );
    for (let i = 0; i < count; i++) {
      await admin.query(`CREATE ROLE lambda_user_${i} LOGIN`);
      await admin.query(
        `GRANT lambda_user_${i} TO lambda_manager WITH ADMIN TRUE, INHERIT FALSE, SET FALSE`,
      );
    }
    await admin.end();
    const cold: number[] = [];
    const warm: number[] = [];
    for (let i = 0; i < count; i++) {
      const event = (n: number) => ({
        type: "postgres",
        host: server.host,
        port: server.port,
        database: "postgres",
        managingUser: manager,
        rotateUser: {
          username: `lambda_user_${i}`,
          password: "",
          newPassword: `${generatePassword()}${n}`,
        },
      });
      const script = `
        const events = ${JSON.stringify([event(1), event(2)])};
        const env = { PGSSLMODE: "disable" };
        (async () => {
          const t0 = process.hrtime.bigint();
          const { handleEvent } = require(${JSON.stringify(BUNDLE)});
          const first = await handleEvent(events[0], env, () => {});
          const t1 = process.hrtime.bigint();
          const second = await handleEvent(events[1], env, () => {});
          const t2 = process.hrtime.bigint();
          if (first.code !== 200 || second.code !== 200) throw new Error(JSON.stringify([first, second]));
          process.stdout.write(JSON.stringify([Number(t1 - t0) / 1e6, Number(t2 - t1) / 1e6]));
        })().catch((e) => { console.error(e); process.exit(1); });`;
      const [c, w] = JSON.parse(
        execFileSync(process.execPath, ["-e", script], { cwd: ROOT }).toString(),
      ) as [number, number];
      cold.push(c);
      warm.push(w);
    }
    return { cold, warm };
  } finally {
    await server.stop();
  }
}

async function main(): Promise<void> {
  const size = bundleSizes();
  const empty: number[] = [];
  const bundled: number[] = [];
  const unbundled: number[] = [];
  for (let i = 0; i < 3; i++) timeNode(`require(${JSON.stringify(BUNDLE)})`); // warm the page cache
  for (let i = 0; i < runs; i++) {
    empty.push(timeNode(""));
    bundled.push(timeNode(`require(${JSON.stringify(BUNDLE)})`));
    unbundled.push(timeNode(`require(${JSON.stringify(UNBUNDLED)})`));
  }
  const base = median(empty);
  const loadBundled = median(bundled) - base;
  const loadUnbundled = median(unbundled) - base;
  console.log(
    `connector Lambda bundle, ${runs} cold loads each, interleaved (Node ${process.version})`,
  );
  console.log(
    `size: bundle ${(size.bundle / 1024).toFixed(1)} KiB; its ${size.files} input files ` +
      `${(size.inputs / 1024).toFixed(1)} KiB; ratio ${(size.bundle / size.inputs).toFixed(3)}`,
  );
  console.log(`empty node process:            median ${base.toFixed(1)} ms`);
  console.log(`require(bundle) beyond that:   median ${loadBundled.toFixed(1)} ms`);
  console.log(`require(unbundled) beyond that: median ${loadUnbundled.toFixed(1)} ms`);
  console.log(`cold load ratio bundle/unbundled: ${(loadBundled / loadUnbundled).toFixed(3)}`);
  const zipped = zippedSize();
  console.log(
    `zipped as deployed (deflate): ${(zipped / 1024).toFixed(1)} KiB; ratio to the bundle ${(zipped / size.bundle).toFixed(3)}`,
  );
  const { cold, warm } = await coldStarts(Math.min(runs, 15));
  console.log(
    `cold start (load + first rotation): median ${median(cold).toFixed(1)} ms; warm rotation: ` +
      `median ${median(warm).toFixed(1)} ms; ratio ${(median(cold) / median(warm)).toFixed(2)}`,
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
