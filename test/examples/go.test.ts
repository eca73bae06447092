/**
 * End to end: examples/go (one `RotatedPostgresCredentials`, direct mode, in a Pulumi Go program
 * using the Go SDK generated from the plugin's schema, sdk/go) deployed by the real Pulumi CLI
 * through this package's provider plugin (`provider/plugin/`, reached by the program's
 * `plugins.providers` path) against a real PostgreSQL server where only the managing user and
 * the group role exist. The steps build on each other, in order, on one stack.
 *
 * The program is copied into the stack's scratch directory as it is: its `replace` names
 * `./node_modules/pulumi-postgres-rotator/sdk/go`, which there is this checkout's sdk/go (the
 * scratch directory's node_modules is this repository's, where the package links to itself), as
 * it is the installed npm package's in a user's folder. Go's module and build caches are the project's
 * (`${PULUMI_ROTATOR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pulumi-postgres-rotator}/go`, like
 * scripts/ensure-pulumi.sh's binaries): the first run on a machine downloads the Pulumi Go SDK's
 * modules through the Go module proxy and compiles them, later runs only link. The program is
 * built once before the stack (so a compile error fails here, with Go's output), then by the
 * language host at every `pulumi up`, from the same cache.
 *
 * The Go language host `pulumi-language-go` must be next to the CLI (the directory
 * scripts/ensure-pulumi.sh prints, node_modules/.pulumi/bin) or on PATH. When it is in neither,
 * the test asks scripts/ensure-pulumi.sh for it (`--languages go`) and fails naming where it
 * looked if it is still missing. The `go` toolchain must be on PATH.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { expect } from "chai";
import type { Stack } from "@pulumi/pulumi/automation";
import {
  ensurePulumiCli,
  localProgramStack,
  type LocalProgramStack,
} from "../../scripts/pulumiStack";
import { cluster, SUPPORTED_MAJORS, uniqueName, type TestCluster } from "../support/servers";
import { expectNoSecrets } from "../support/secrets";

const ROOT = path.join(__dirname, "..", "..");
const EXAMPLE = path.join(ROOT, "examples", "go");
const NEWEST = SUPPORTED_MAJORS[SUPPORTED_MAJORS.length - 1];
const GO_HOST = "pulumi-language-go";

interface Credential {
  username: string;
  password?: string;
}

/** The directory holding `pulumi-language-go`: next to the CLI, or on PATH; else undefined. */
function findGoHost(binDir: string): string | undefined {
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
      fs.accessSync(path.join(dir, GO_HOST), fs.constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** Go's module and build caches, in the project's cache directory, reused across runs. */
function goEnv(): Record<string, string> {
  const cache =
    process.env.PULUMI_ROTATOR_CACHE ??
    path.join(
      process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), ".cache"),
      "pulumi-postgres-rotator",
    );
  return {
    GOMODCACHE: path.join(cache, "go", "mod"),
    GOCACHE: path.join(cache, "go", "build"),
    // The program's go.mod and go.sum are used as committed; the machine's Go is the toolchain.
    GOFLAGS: "-mod=readonly",
    GOTOOLCHAIN: "local",
  };
}

/** Copies the Go program's files into `workDir`, as they are. */
function copyGoProgram(workDir: string): void {
  for (const file of ["go.mod", "go.sum", "main.go"]) {
    fs.copyFileSync(path.join(EXAMPLE, file), path.join(workDir, file));
  }
}

describe("examples/go with the real Pulumi CLI, the Go SDK and the provider plugin", function () {
  this.timeout(5 * 60_000);

  let pg: TestCluster;
  let program: LocalProgramStack;
  let stack: Stack;
  let pair: { username1: string; username2: string };
  /** Every password this test learned or set, and everything the CLI printed. */
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
    // The first run on a machine may build the CLI and the host, and download and compile the
    // Pulumi Go SDK.
    this.timeout(40 * 60_000);
    const binDir = ensurePulumiCli();
    let hostDir = findGoHost(binDir);
    if (!hostDir) {
      execFileSync("bash", [path.join(ROOT, "scripts", "ensure-pulumi.sh"), "--languages", "go"], {
        stdio: ["ignore", "ignore", "inherit"],
      });
      hostDir = findGoHost(binDir);
    }
    if (!hostDir) throw new Error(`${GO_HOST} is not in ${binDir}, beside its pulumi, nor on PATH`);
    const env = goEnv();
    program = await localProgramStack({
      programDir: EXAMPLE,
      stackName: "e2e",
      env: {
        ...env,
        PATH: [binDir, hostDir, process.env.PATH ?? ""].join(path.delimiter),
        PULUMI_DISABLE_REGISTRY_RESOLVE: "true",
      },
    });
    stack = program.stack;
    copyGoProgram(program.workDir);
    // Built once here: a download or compile failure fails here with the end of Go's output
    // (quiet otherwise: the first run's `go: downloading` lines are a hundred).
    try {
      execFileSync("go", ["build", "-o", path.join(program.workDir, "..", "program.bin"), "."], {
        cwd: program.workDir,
        env: { ...process.env, ...env },
        stdio: ["ignore", "ignore", "pipe"],
      });
    } catch (error) {
      const stderr = String((error as { stderr?: Buffer }).stderr ?? "");
      const said = stderr.split("\n").filter((line) => !line.startsWith("go: downloading "));
      throw new Error(`go build of examples/go failed:\n${said.slice(-30).join("\n")}`, {
        cause: error,
      });
    }

    pg = await cluster(NEWEST);
    pair = { username1: uniqueName("go_user_1"), username2: uniqueName("go_user_2") };
    const group = await pg.createGroup();
    secrets.add(pg.manager.password);
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

  it("first up creates both users through the Go SDK and the plugin, username1 current; outputs secret", async () => {
    const result = await stack.up({ onOutput });
    expect(result.summary.resourceChanges).to.deep.equal({ create: 4 });
    const { current, previous, secret } = await outputs();
    expect(secret).to.equal(true);
    expect(current.username).to.equal(pair.username1);
    expect(previous.username).to.equal(pair.username2);
    expect(await pg.canLogin(pair.username1, current.password)).to.equal(true);
    expect(await pg.canLogin(pair.username2, previous.password)).to.equal(true);
    const state = program.exportState() as { resources: { type: string }[] };
    const types = state.resources.map((r) => r.type);
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
