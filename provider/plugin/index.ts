/**
 * The provider plugin `pulumi-resource-postgres-rotator`: this package's resources and
 * components for Pulumi programs in every language (YAML, Python, Go, C#), served over the
 * provider protocol by `main` from `@pulumi/pulumi/provider`.
 *
 * - Package `postgres-rotator`; type tokens `postgres-rotator:index:<Type>` for the components
 *   `RotatedPostgresCredentials` and `LambdaConnector` and the resources `PostgresRotation`,
 *   `PostgresUserPair`, `EscEnvironment` and `EscRotationSchedule`: the token
 *   `RotatedPostgresCredentials` and `LambdaConnector` already register under in TypeScript.
 * - The executable is `provider/plugin/pulumi-resource-postgres-rotator`, a shell script that
 *   runs `node` (from PATH) on this module built (`dist/provider/plugin/index.js`). The npm
 *   package ships it (`files`) and names it as a `bin`, so `npm install` keeps it executable. A
 *   program reaches it through `plugins.providers` in its `Pulumi.yaml`, `path` naming the
 *   folder that holds it: `node_modules/pulumi-postgres-rotator/provider/plugin`. No
 *   `PulumiPlugin.yaml`: the engine runs the executable as it is, with no language host and no
 *   `npm install` of its own.
 * - The schema is `schema.json` beside this module, written by hand and shipped as it is (the
 *   build reads it from `provider/plugin/`);
 *   `test/provider/plugin/schema.test.ts` fails when it and the TypeScript API drift apart.
 * - One implementation per resource: the plugin calls the handlers the dynamic providers call
 *   (`./customResources`); the components are their TypeScript constructors (`./components`).
 *   Secrets are unwrapped and wrapped again in one place (`./secrets`).
 * - Inputs that are unions of object shapes in TypeScript are one object type of optional fields
 *   in the schema (awsx's paired fields): `connector` (`lambdaArn`… or `create`),
 *   `esc.rotationSchedule` (`cron` or `once`), `oidcProvider` (`arn` or `create`); the fields
 *   given pick the arm, as in TypeScript, so the constructors take them unchanged.
 * - A TypeScript program importing the package never loads this module: its resources stay
 *   dynamic resources and need no plugin.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { registerAsPluginResources } from "../registration";
import { RotatorProvider, type SchemaSpec } from "./provider";

/** The package's root: two folders up from the source, three from the build in `dist/`. */
function packageRoot(): string {
  const candidates = [path.join(__dirname, "..", ".."), path.join(__dirname, "..", "..", "..")];
  const root = candidates.find((dir) => fs.existsSync(path.join(dir, "package.json")));
  if (!root)
    throw new Error(`package.json of pulumi-postgres-rotator not found above ${__dirname}`);
  return root;
}

/** The plugin's schema: `provider/plugin/schema.json` of the package (shipped as it is). */
export function readSchema(): SchemaSpec {
  const file = path.join(packageRoot(), "provider", "plugin", "schema.json");
  return JSON.parse(fs.readFileSync(file, "utf8")) as SchemaSpec;
}

/** The package's version, which is the plugin's. */
export function packageVersion(): string {
  const file = path.join(packageRoot(), "package.json");
  return (JSON.parse(fs.readFileSync(file, "utf8")) as { version: string }).version;
}

export function main(args: string[]): Promise<void> {
  registerAsPluginResources();
  const spec = readSchema();
  return pulumi.provider.main(new RotatorProvider(packageVersion(), spec), args);
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  });
}
