/**
 * The real Pulumi CLI, driven through the Automation API, for the demo and the end-to-end tests.
 *
 * `ensurePulumiCli` runs scripts/ensure-pulumi.sh (which finds, installs or builds the CLI and
 * the Node.js plugins). `localProgramStack` copies a program folder (Pulumi.yaml, index.ts or
 * index.js, package.json; *.py and requirements.txt) into a scratch directory whose
 * `node_modules` is this repository's, and opens a stack on a local file backend there with a
 * random passphrase: nothing is written into the repository, and two stacks never share a
 * backend or a `PULUMI_HOME`.
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { LocalWorkspace, PulumiCommand, type Stack } from "@pulumi/pulumi/automation";

const ROOT = path.join(__dirname, "..");

/** The directory holding `pulumi` and its Node.js plugins; installs them when missing. */
export function ensurePulumiCli(): string {
  return execFileSync("bash", [path.join(ROOT, "scripts", "ensure-pulumi.sh")], {
    stdio: ["ignore", "pipe", "inherit"],
  })
    .toString()
    .trim();
}

export interface LocalProgramStack {
  readonly stack: Stack;
  /** The scratch copy of the program: the working directory of the CLI and its plugins. */
  readonly workDir: string;
  /** The file backend's directory (holds the state). */
  readonly backendDir: string;
  /** `pulumi stack export` (secrets as stored: encrypted), parsed. */
  exportState(): unknown;
  /** Every file of the backend (state, backups, history) concatenated, as the disk holds it. */
  backendText(): string;
  /** Runs the CLI with the stack's environment in its working directory; returns stdout. */
  pulumi(args: readonly string[]): string;
  /** Deletes the scratch directory, backend included (destroy first to touch resources). */
  remove(): void;
}

export interface LocalProgramOptions {
  /** Folder with the program's Pulumi.yaml; copied unless `inPlace`. */
  readonly programDir: string;
  /** Run the program where it is (its stack settings file is written there). */
  readonly inPlace?: boolean;
  readonly stackName: string;
  /** Extra environment for every CLI command. */
  readonly env?: Readonly<Record<string, string>>;
}

export async function localProgramStack(options: LocalProgramOptions): Promise<LocalProgramStack> {
  const binDir = ensurePulumiCli();
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "pulumi-rotator-"));
  const workDir = options.inPlace ? options.programDir : path.join(scratch, "program");
  const backendDir = path.join(scratch, "backend");
  const home = path.join(scratch, "pulumi-home");
  for (const dir of [backendDir, home]) fs.mkdirSync(dir);
  if (!options.inPlace) copyProgram(options.programDir, workDir);

  const envVars: Record<string, string> = {
    PATH: `${binDir}${path.delimiter}${process.env.PATH ?? ""}`,
    PULUMI_BACKEND_URL: `file://${backendDir}`,
    PULUMI_CONFIG_PASSPHRASE: randomBytes(24).toString("base64url"),
    PULUMI_HOME: home,
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
    PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK: "true",
    ...options.env,
  };
  const pulumiCommand = await PulumiCommand.get({
    root: path.dirname(binDir),
    skipVersionCheck: true,
  });
  const stack = await LocalWorkspace.createOrSelectStack(
    { stackName: options.stackName, workDir },
    { envVars, pulumiHome: home, pulumiCommand },
  );
  const pulumi = (args: readonly string[]) =>
    execFileSync(pulumiCommand.command, args, {
      cwd: workDir,
      env: { ...process.env, ...envVars },
      stdio: ["ignore", "pipe", "pipe"],
      maxBuffer: 64 * 1024 * 1024,
    }).toString();
  return {
    stack,
    workDir,
    backendDir,
    pulumi,
    // Not stack.exportStack(): the Automation API adds --show-secrets.
    exportState: () =>
      (
        JSON.parse(pulumi(["stack", "export", "--stack", options.stackName])) as {
          deployment: unknown;
        }
      ).deployment,
    backendText: () => readTree(backendDir),
    remove: () => fs.rmSync(scratch, { recursive: true, force: true }),
  };
}

/** Copies the program's own files and points its `node_modules` at this repository's. */
function copyProgram(from: string, to: string): void {
  fs.mkdirSync(to);
  for (const file of fs.readdirSync(from)) {
    if (
      /^(Pulumi\.yaml|package\.json|tsconfig\.json|requirements\.txt|.*\.[jt]s|.*\.py)$/.test(file)
    ) {
      fs.copyFileSync(path.join(from, file), path.join(to, file));
    }
  }
  fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(to, "node_modules"));
}

function readTree(dir: string): string {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .map((entry) => {
      const full = path.join(dir, entry.name);
      return entry.isDirectory() ? readTree(full) : fs.readFileSync(full, "latin1");
    })
    .join("\n");
}
