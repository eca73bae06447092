/**
 * The end-to-end suite every language's example runs: one `RotatedPostgresCredentials`, direct
 * mode, deployed by the real Pulumi CLI through this package's provider plugin (`provider/plugin/`,
 * reached by the program's `plugins.providers` path) against a real PostgreSQL server where only
 * the managing user and the group role exist. The steps build on each other, in order, on one
 * stack. Each example takes the same config keys (examples/yaml's) and exports `current`,
 * `previous` (secret), `currentUsername` and `rotatedAt`.
 *
 * The language host `pulumi-language-<language>` must be next to the CLI (the directory
 * scripts/ensure-pulumi.sh prints, node_modules/.pulumi/bin) or on PATH. When it is in neither,
 * the suite asks scripts/ensure-pulumi.sh for it (`--languages <language>`) if the script knows
 * that option, and fails naming where it looked if it is still missing; only a script that
 * cannot build it skips the suite, saying so.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { expect } from "chai";
import type { Stack } from "@pulumi/pulumi/automation";
import {
  ensurePulumiCli,
  localProgramStack,
  type LocalProgramStack,
} from "../../scripts/pulumiStack";
import { cluster, SUPPORTED_MAJORS, uniqueName, type TestCluster } from "./servers";
import { expectNoSecrets } from "./secrets";

const ROOT = path.join(__dirname, "..", "..");
const ENSURE_PULUMI = path.join(ROOT, "scripts", "ensure-pulumi.sh");
const NEWEST = SUPPORTED_MAJORS[SUPPORTED_MAJORS.length - 1];

interface Credential {
  username: string;
  password?: string;
}

/** What a language adds to the CLI's environment: directories first on PATH, other variables. */
export interface LanguageEnvironment {
  readonly pathFirst?: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
}

export interface PluginProgramOptions {
  /** The program's folder under examples/. */
  readonly example: string;
  /** Its runtime: the language host is `pulumi-language-<language>`. */
  readonly language: string;
  /** Prefix of the two users' names. */
  readonly userPrefix: string;
  /** Runs once the host is found, before the stack exists: installs what the program needs. */
  readonly prepare?: () => LanguageEnvironment;
}

/** The directory holding `host`: next to the CLI, or on PATH; else undefined. */
export function findLanguageHost(binDir: string, host: string): string | undefined {
  // scripts/ensure-pulumi.sh puts the hosts beside the CLI it installed (where the CLI looks for
  // them), which `binDir` only links to.
  let cliDir: string | undefined;
  try {
    cliDir = path.dirname(fs.realpathSync(path.join(binDir, "pulumi")));
  } catch {
    cliDir = undefined;
  }
  const dirs = [binDir, cliDir, ...(process.env.PATH ?? "").split(path.delimiter)].filter(
    (dir): dir is string => Boolean(dir),
  );
  return dirs.find((dir) => {
    try {
      fs.accessSync(path.join(dir, host), fs.constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** Whether scripts/ensure-pulumi.sh can build language hosts (`--languages`). */
function scriptBuildsHosts(): boolean {
  return fs.readFileSync(ENSURE_PULUMI, "utf8").includes("--languages");
}

/**
 * The directory holding `pulumi-language-<language>`, built by scripts/ensure-pulumi.sh
 * `--languages <language>` when missing. Skips the suite (saying why) only when the script
 * cannot build hosts; throws, naming where it looked, when the build left none.
 */
export function requireLanguageHost(
  context: Mocha.Context,
  binDir: string,
  language: string,
): string {
  const host = `pulumi-language-${language}`;
  let hostDir = findLanguageHost(binDir, host);
  if (!hostDir && scriptBuildsHosts()) {
    execFileSync("bash", [ENSURE_PULUMI, "--languages", language], {
      stdio: ["ignore", "ignore", "inherit"],
    });
    hostDir = findLanguageHost(binDir, host);
  }
  if (hostDir) return hostDir;
  if (!scriptBuildsHosts()) {
    console.warn(
      `    skipped: ${host} is not in ${binDir} nor on PATH, and ` +
        `scripts/ensure-pulumi.sh cannot build it (no --languages)`,
    );
    context.skip();
  }
  throw new Error(`${host} is not in ${binDir}, beside its pulumi, nor on PATH`);
}

/** Declares the suite for one language's example (see the module's comment). */
export function describePluginProgram(title: string, options: PluginProgramOptions): void {
  describe(title, function () {
    this.timeout(5 * 60_000);

    let pg: TestCluster;
    let program: LocalProgramStack;
    let stack: Stack;
    let pair: { username1: string; username2: string };
    /** Every password this suite learned or set, and everything the CLI printed. */
    const secrets = new Set<string>();
    const printed: string[] = [];
    const onOutput = (text: string) => printed.push(text);
    let trigger = 1;

    const outputs = async () => {
      const all = await stack.outputs();
      const current = all.current.value as Credential;
      const previous = all.previous.value as Credential;
      for (const c of [current, previous]) if (c.password) secrets.add(c.password);
      return { current, previous, secret: all.current.secret && all.previous.secret };
    };
    const bump = () => stack.setConfig("rotationTrigger", { value: String(++trigger) });

    before(async function () {
      this.timeout(40 * 60_000); // the first run on a machine may build the CLI and the host
      const binDir = ensurePulumiCli();
      const hostDir = requireLanguageHost(this, binDir, options.language);
      const language = options.prepare?.() ?? {};
      pg = await cluster(NEWEST);
      pair = {
        username1: uniqueName(`${options.userPrefix}_1`),
        username2: uniqueName(`${options.userPrefix}_2`),
      };
      const group = await pg.createGroup();
      secrets.add(pg.manager.password);
      program = await localProgramStack({
        programDir: path.join(ROOT, "examples", options.example),
        stackName: "e2e",
        env: {
          ...language.env,
          PATH: [...(language.pathFirst ?? []), binDir, hostDir, process.env.PATH ?? ""].join(
            path.delimiter,
          ),
          PULUMI_DISABLE_REGISTRY_RESOLVE: "true",
        },
      });
      stack = program.stack;
      await stack.setAllConfig({
        host: { value: pg.server.host },
        port: { value: String(pg.server.port) },
        database: { value: pg.database.database },
        managingUser: { value: pg.manager.username },
        managingPassword: { value: pg.manager.password, secret: true },
        username1: { value: pair.username1 },
        username2: { value: pair.username2 },
        group: { value: group },
        sslMode: { value: "disable" },
        rotationTrigger: { value: String(trigger) },
      });
    });

    after(() => program?.remove());

    it("first up creates both users through the plugin, username1 current; outputs secret", async () => {
      const result = await stack.up({ onOutput });
      expect(result.summary.resourceChanges).to.deep.equal({ create: 4 });
      const { current, previous, secret } = await outputs();
      expect(secret).to.equal(true);
      expect(current.username).to.equal(pair.username1);
      expect(previous.username).to.equal(pair.username2);
      expect(await pg.canLogin(pair.username1, current.password)).to.equal(true);
      expect(await pg.canLogin(pair.username2, previous.password)).to.equal(true);
      const types = (program.exportState() as { resources: { type: string }[] }).resources.map(
        (r) => r.type,
      );
      expect(types).to.include.members([
        "postgres-rotator:index:RotatedPostgresCredentials",
        "postgres-rotator:index:PostgresUserPair",
        "postgres-rotator:index:PostgresRotation",
      ]);
      expect(types.filter((t) => t.startsWith("pulumi-nodejs:dynamic"))).to.deep.equal([]);
    });

    it("each config bump rotates the other user; both known passwords log in", async () => {
      for (const expected of [pair.username2, pair.username1]) {
        const before = await outputs();
        await bump();
        const result = await stack.up({ onOutput });
        expect(result.summary.resourceChanges).to.deep.equal({ same: 3, update: 1 });
        const { current, previous } = await outputs();
        expect(current.username).to.equal(expected);
        expect(previous).to.deep.equal(before.current);
        expect(await pg.canLogin(current.username, current.password)).to.equal(true);
        expect(await pg.canLogin(previous.username, previous.password)).to.equal(true);
      }
    });

    it("an up with no change does nothing", async () => {
      const before = await outputs();
      const result = await stack.up({ onOutput });
      expect(result.summary.resourceChanges).to.deep.equal({ same: 4 });
      expect(await outputs()).to.deep.equal(before);
    });

    it("the exported state, the backend's files and the CLI's output hold no plaintext password", async () => {
      const state = JSON.stringify(program.exportState());
      // The manager's password, both initial ones and the two rotated ones.
      expect(secrets.size).to.be.at.least(5);
      expectNoSecrets(state, [...secrets]);
      expect(state).to.include("ciphertext");
      expectNoSecrets(program.backendText(), [...secrets]);
      expectNoSecrets(printed.join(""), [...secrets]);
    });

    it("destroy succeeds and leaves both users, and current's password, in place", async () => {
      const { current } = await outputs();
      const result = await stack.destroy({ onOutput });
      expect(result.summary.resourceChanges).to.deep.equal({ delete: 4 });
      expect(await pg.canLogin(current.username, current.password)).to.equal(true);
    });
  });
}
