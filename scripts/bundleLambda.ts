/**
 * Bundles the connector Lambda (provider/connector/lambdaHandler.ts) and everything it needs
 * (pg, SASLprep) into one self-contained CommonJS file, dist/lambda/index.js, exporting
 * `handler`. `LambdaConnector` ships it as the function's code. Run by `npm run build`.
 */
import * as path from "node:path";
import { buildSync } from "esbuild";

export const LAMBDA_BUNDLE = path.join(__dirname, "..", "dist", "lambda", "index.js");

export function bundleLambda(): { bytes: number } {
  const result = buildSync({
    entryPoints: [path.join(__dirname, "..", "provider", "connector", "lambdaHandler.ts")],
    outfile: LAMBDA_BUNDLE,
    bundle: true,
    platform: "node",
    target: "node20",
    format: "cjs",
    minify: true,
    sourcemap: false,
    legalComments: "none",
    // pg's optional native binding; the pure JavaScript client is used.
    external: ["pg-native"],
    metafile: true,
    logLevel: "warning",
  });
  return {
    bytes: result.metafile.outputs[path.relative(process.cwd(), LAMBDA_BUNDLE)]?.bytes ?? 0,
  };
}

if (require.main === module) {
  const { bytes } = bundleLambda();
  console.log(`dist/lambda/index.js: ${(bytes / 1024).toFixed(1)} KiB`);
}
