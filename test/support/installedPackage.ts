/**
 * The package as a user gets it: `npm pack`ed, unpacked into `node_modules` of a scratch
 * project (under the repo's ignored `.tmp/`, so its dependencies resolve from the repo's own
 * node_modules), and driven from child processes running plain Node.
 */
import { execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

const ROOT = path.join(__dirname, "..", "..");

export interface InstalledPackage {
  /** The scratch project's directory: the working directory of Pulumi's provider host. */
  readonly projectDir: string;
  /** Replaces the installed package with the one in `tarball` (another version of it). */
  install(tarball: string): void;
  /** Runs `script` (CommonJS) with Node in the project; resolves with stdout, stdin fed `input`. */
  run(script: string, input?: string): Promise<string>;
  remove(): void;
}

/** `npm pack` of this repository (its `dist` as built) into `destination`; the tarball's path. */
export function packWorkingTree(destination: string): string {
  const output = execFileSync(
    "npm",
    ["pack", "--ignore-scripts", "--json", "--pack-destination", destination],
    { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] },
  ).toString();
  const [{ filename }] = JSON.parse(output) as { filename: string }[];
  return path.join(destination, filename);
}

/** A scratch project with the package from `tarball` installed (default: this repository's). */
export function installPackedPackage(tarball?: string): InstalledPackage {
  const scratch = fs.mkdtempSync(path.join(ROOT, ".tmp-"));
  const projectDir = path.join(scratch, "project");
  const target = path.join(projectDir, "node_modules", "pulumi-postgres-rotator");
  const install = (from: string) => {
    fs.rmSync(target, { recursive: true, force: true });
    fs.mkdirSync(target, { recursive: true });
    execFileSync("tar", ["-xzf", from, "-C", target, "--strip-components=1"]);
  };
  install(tarball ?? packWorkingTree(scratch));
  fs.writeFileSync(
    path.join(projectDir, "package.json"),
    '{ "name": "scratch", "private": true }\n',
  );
  return {
    projectDir,
    install,
    run(script, input = "") {
      return new Promise((resolve, reject) => {
        const child = spawn(process.execPath, ["-e", script], {
          cwd: projectDir,
          stdio: ["pipe", "pipe", "pipe"],
        });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
        child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
        child.on("exit", (code) =>
          code === 0 ? resolve(stdout) : reject(new Error(`exit ${code}: ${stderr}${stdout}`)),
        );
        child.stdin.end(input);
      });
    },
    remove: () => fs.rmSync(scratch, { recursive: true, force: true }),
  };
}

/**
 * Start of a script that loads serialized provider text the way Pulumi's dynamic provider host
 * does (`require-from-string`), with the JSON on stdin in `input`; the caller appends what to
 * do inside the `end` handler, where `provider` and `inputs` are in scope.
 */
export function providerHostScript(body: string): string {
  return `
const requireFromString = require(
  require.resolve("require-from-string", { paths: [require.resolve("@pulumi/pulumi")] }),
);
let input = "";
process.stdin.on("data", (d) => (input += d));
process.stdin.on("end", async () => {
  const { text, inputs } = JSON.parse(input);
  const provider = requireFromString(text).handler();
  ${body}
});
`;
}

/** A script that prints `exportName`'s provider serialized as `pulumi.dynamic.Resource` does. */
export function serializeProviderScript(exportName: string): string {
  return `
const { ${exportName} } = require("pulumi-postgres-rotator");
const { serializeFunction } = require("@pulumi/pulumi/runtime");
serializeFunction(() => ${exportName}, { allowSecrets: true })
  .then((sf) => process.stdout.write(sf.text));
`;
}

/**
 * A script that registers `new <className>("probe", <argsJs>)` of the installed package under
 * Pulumi's mocks and prints the `__provider` text the SDK sent to the engine for it: the
 * provider as Pulumi stores it, serialized while the resource's (secret) inputs were live.
 */
export function registeredProviderScript(className: string, argsJs: string): string {
  return `
const pulumi = require("@pulumi/pulumi");
let text;
pulumi.runtime.setMocks(
  {
    newResource: (args) => {
      if (args.name === "probe") text = args.inputs.__provider;
      return { id: args.name + "-id", state: args.inputs };
    },
    call: (args) => args.inputs,
  },
  "project",
  "stack",
  false,
);
const { ${className} } = require("pulumi-postgres-rotator");
const resource = new ${className}("probe", ${argsJs});
resource.urn.apply(() =>
  setTimeout(() => process.stdout.write(JSON.stringify({ text: String(text) })), 50),
);
`;
}
