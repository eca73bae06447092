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
 *   npx tsx bench/lambdaBundle.ts [runs=30]
 */
import { execFileSync } from "node:child_process";
import * as path from "node:path";
import { buildSync } from "esbuild";

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

function main(): void {
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
}

main();
