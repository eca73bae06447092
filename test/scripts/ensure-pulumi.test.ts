/**
 * scripts/ensure-pulumi.sh: where the CLI comes from, what a first build shows a person, and
 * what it says when it cannot get one. Builds run a fake `go` (and a `curl` that cannot reach
 * get.pulumi.com) on PATH, so they take milliseconds, not minutes.
 */
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { expect } from "chai";

const SCRIPT = path.join(__dirname, "..", "..", "scripts", "ensure-pulumi.sh");

function run(env: Record<string, string>, args: readonly string[] = []) {
  const result = spawnSync("bash", [SCRIPT, ...args], { env, encoding: "utf8", timeout: 60_000 });
  return { status: result.status, stdout: result.stdout.trim(), stderr: result.stderr };
}

const CLI_PACKAGE = "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi";
const HOST_PACKAGE = "github.com/pulumi/pulumi/sdk/v3/nodejs/cmd/pulumi-language-nodejs";
const YAML_PACKAGE = "github.com/pulumi/pulumi-yaml/cmd/pulumi-language-yaml";
const PYTHON_PACKAGE = "github.com/pulumi/pulumi/sdk/v3/python/cmd/pulumi-language-python";

/**
 * A `go` that talks like the real one (hundreds of `go: downloading` lines on stderr) and
 * "builds" a shell script that answers `version`; `go list` names a module directory holding
 * the Python host's exec script, read-only as in Go's module cache. FAKE_GO_FAIL=get|<package>
 * makes `go get` or the build of that package fail; FAKE_GO_SLEEP=<seconds> slows every build.
 * Each call is appended to $FAKE_GO_CALLS.
 */
const FAKE_GO = `#!/usr/bin/env bash
echo "$*" >>"$FAKE_GO_CALLS"
case "$1 $2" in
  "mod init") echo "module $3" >go.mod; echo "go: creating new go.mod: module $3" >&2 ;;
  "get -tool")
    for i in $(seq 1 300); do echo "go: downloading example.com/module$i v1.0.$i" >&2; done
    [[ "\${FAKE_GO_FAIL:-}" == get ]] && { echo "go: $3: reading proxy: 502 Bad Gateway" >&2; exit 1; }
    echo "go: added \${3%@*} \${3#*@}" >&2 ;;
  build*)
    while [[ "$1" != -o ]]; do shift; done
    out="$2" package="$3"
    sleep "\${FAKE_GO_SLEEP:-0}"
    [[ "\${FAKE_GO_FAIL:-}" == "$package" ]] && { echo "$package: undefined: brokenThing" >&2; exit 1; }
    printf '#!/bin/sh\necho v3.274.1\n' >"$out" && chmod +x "$out" ;;
  "list -f")
    module="$(dirname "$FAKE_GO_CALLS")/module"
    mkdir -p "$module/python/cmd"
    exec="$module/python/cmd/pulumi-language-python-exec"
    [[ -e "$exec" ]] || { echo '# the exec script' >"$exec" && chmod 444 "$exec"; }
    echo "$module" ;;
  *) echo "fake go: unexpected $*" >&2; exit 2 ;;
esac
`;

/** PATH and cache for a machine without Pulumi: a fake `go`, and a `curl` that cannot resolve. */
function buildMachine(scratch: string, extra: Record<string, string> = {}) {
  const fakeBin = path.join(scratch, "fake-bin");
  fs.mkdirSync(fakeBin);
  fs.writeFileSync(path.join(fakeBin, "go"), FAKE_GO, { mode: 0o755 });
  fs.writeFileSync(
    path.join(fakeBin, "curl"),
    "#!/bin/sh\necho 'curl: (6) Could not resolve host: get.pulumi.com' >&2\nexit 6\n",
    { mode: 0o755 },
  );
  const cache = path.join(scratch, "cache");
  const calls = path.join(scratch, "go-calls");
  const env = {
    PATH: `${fakeBin}:/usr/bin:/bin`,
    HOME: scratch,
    PULUMI_ROTATOR_CACHE: cache,
    PULUMI_ROTATOR_IGNORE_PATH: "1",
    PULUMI_ROTATOR_BIN: path.join(scratch, "bin"),
    FAKE_GO_CALLS: calls,
    ...extra,
  };
  const goCalls = () => (fs.existsSync(calls) ? fs.readFileSync(calls, "utf8") : "");
  return { env, cache, log: path.join(cache, "install.log"), goCalls };
}

describe("scripts/ensure-pulumi.sh", () => {
  let scratch: string;
  beforeEach(() => (scratch = fs.mkdtempSync(path.join(os.tmpdir(), "ensure-pulumi-"))));
  afterEach(() => fs.rmSync(scratch, { recursive: true, force: true }));

  it("uses a pulumi already on PATH, with the language host installed next to it", () => {
    const fake = path.join(scratch, "fake-bin");
    fs.mkdirSync(fake);
    for (const name of ["pulumi", "pulumi-language-nodejs"]) {
      fs.writeFileSync(path.join(fake, name), "#!/bin/sh\necho v3.999.0\n", { mode: 0o755 });
    }
    const { status, stdout } = run({
      PATH: `${fake}:/usr/bin:/bin`,
      HOME: scratch,
      PULUMI_ROTATOR_CACHE: path.join(scratch, "cache"),
      PULUMI_ROTATOR_BIN: path.join(scratch, "bin"),
    });
    expect(stdout).to.equal(path.join(scratch, "bin"));
    expect(status).to.equal(0);
    expect(fs.realpathSync(path.join(stdout, "pulumi"))).to.equal(path.join(fake, "pulumi"));
    // The CLI finds the host beside itself; a second one on PATH would only earn a warning.
    expect(fs.existsSync(path.join(stdout, "pulumi-language-nodejs"))).to.equal(false);
    // Not our CLI's directory: the provider shim is linked beside the link instead.
    expect(fs.realpathSync(path.join(stdout, "pulumi-resource-pulumi-nodejs"))).to.match(
      /node_modules\/@pulumi\/pulumi\/pulumi-resource-pulumi-nodejs$/,
    );
    expect(fs.readdirSync(fake).sort()).to.deep.equal(["pulumi", "pulumi-language-nodejs"]);
  });

  it("says what to do when no CLI is on PATH, the installer is unreachable and Go is missing", () => {
    const { status, stdout, stderr } = run({
      PATH: "/usr/bin:/bin", // curl, no go
      HOME: scratch,
      PULUMI_ROTATOR_CACHE: path.join(scratch, "cache"),
      PULUMI_ROTATOR_IGNORE_PATH: "1",
      PULUMI_ROTATOR_BIN: path.join(scratch, "bin"),
    });
    expect(status).to.equal(1);
    expect(stdout).to.equal("");
    expect(stderr).to.include("no pulumi on PATH, get.pulumi.com unreachable, and no Go toolchain");
    expect(stderr).to.include("https://www.pulumi.com/docs/install/");
  });

  it("builds the CLI and the language host with one progress line per phase, Go's output in a log", () => {
    const machine = buildMachine(scratch);
    const { status, stdout, stderr } = run(machine.env);
    expect(status, stderr).to.equal(0);
    expect(stdout).to.equal(path.join(scratch, "bin"));
    const lines = stderr.trimEnd().split("\n");
    expect(lines).to.have.length(4);
    expect(lines[0]).to.equal(
      "ensure-pulumi: building the Pulumi CLI v3.274.1 and its Node.js language host from the Go " +
        `module proxy, once per machine (Go's output: ${machine.log})`,
    );
    const done = / … done \(\dm\d\ds\)$/;
    expect(lines[1]).to.match(/^ensure-pulumi: \[1\/3\] downloading the Go modules … done/);
    expect(lines[2]).to.match(/^ensure-pulumi: \[2\/3\] building the Pulumi CLI v3\.274\.1 … done/);
    expect(lines[3]).to.match(
      /^ensure-pulumi: \[3\/3\] building the Node\.js language host \(sdk v3\.68\.0\) … done/,
    );
    for (const line of lines.slice(1)) expect(line).to.match(done);
    // Go's chatter is in the log, not on the terminal.
    expect(stderr).not.to.match(/^go:/m);
    const log = fs.readFileSync(machine.log, "utf8");
    expect(log).to.include("go: downloading example.com/module300 v1.0.300");
    expect(log).to.include(`go: added ${CLI_PACKAGE} v3.274.1`);
    expect(log).to.include(`go: added ${HOST_PACKAGE} v3.68.0`);
    // Only finished results in the cache; the plugins beside the CLI it built.
    expect(fs.readdirSync(machine.cache).sort()).to.deep.equal([
      "install.log",
      "language-nodejs-v3.68.0",
      "pulumi-v3.274.1",
    ]);
    expect(fs.readdirSync(path.join(machine.cache, "pulumi-v3.274.1")).sort()).to.deep.equal([
      "pulumi",
      "pulumi-language-nodejs",
      "pulumi-resource-pulumi-nodejs",
    ]);
    expect(fs.realpathSync(path.join(stdout, "pulumi"))).to.equal(
      path.join(machine.cache, "pulumi-v3.274.1", "pulumi"),
    );

    // Everything cached: silent, and Go is not called again.
    const callsBefore = machine.goCalls();
    const again = run(machine.env);
    expect(again.status).to.equal(0);
    expect(again.stdout).to.equal(stdout);
    expect(again.stderr).to.equal("");
    expect(machine.goCalls()).to.equal(callsBefore);
  });

  it("builds only the language host when the CLI on PATH lacks it: two phases", () => {
    const machine = buildMachine(scratch, { PULUMI_ROTATOR_IGNORE_PATH: "" });
    const own = path.join(scratch, "own-cli");
    fs.mkdirSync(own);
    fs.writeFileSync(path.join(own, "pulumi"), "#!/bin/sh\necho v3.999.0\n", { mode: 0o755 });
    const { status, stderr } = run({ ...machine.env, PATH: `${own}:${machine.env.PATH}` });
    expect(status, stderr).to.equal(0);
    const lines = stderr.trimEnd().split("\n");
    expect(lines).to.have.length(3);
    expect(lines[0]).to.include("building the Pulumi Node.js language host from the Go module");
    expect(lines[1]).to.match(/\[1\/2\] downloading the Go modules … done/);
    expect(lines[2]).to.match(/\[2\/2\] building the Node\.js language host .* … done/);
    expect(machine.goCalls()).not.to.include(CLI_PACKAGE);
    expect(fs.readdirSync(machine.cache).sort()).to.deep.equal([
      "install.log",
      "language-nodejs-v3.68.0",
    ]);
  });

  it("builds the languages named with --languages too, beside the CLI, one phase each", () => {
    const machine = buildMachine(scratch);
    const { status, stdout, stderr } = run(machine.env, ["--languages", "yaml,python"]);
    expect(status, stderr).to.equal(0);
    const lines = stderr.trimEnd().split("\n");
    expect(lines).to.have.length(6);
    expect(lines[0]).to.equal(
      "ensure-pulumi: building the Pulumi CLI v3.274.1 and its Node.js, YAML and Python language " +
        `hosts from the Go module proxy, once per machine (Go's output: ${machine.log})`,
    );
    expect(lines[1]).to.match(/^ensure-pulumi: \[1\/5\] downloading the Go modules … done/);
    expect(lines[2]).to.match(/^ensure-pulumi: \[2\/5\] building the Pulumi CLI v3\.274\.1 … done/);
    expect(lines[3]).to.match(/^ensure-pulumi: \[3\/5\] building the Node\.js language host/);
    expect(lines[4]).to.match(
      /^ensure-pulumi: \[4\/5\] building the YAML language host v1\.25\.0 … done \(\dm\d\ds\)$/,
    );
    expect(lines[5]).to.match(
      /^ensure-pulumi: \[5\/5\] building the Python language host \(sdk v3\.68\.0\) … done \(\dm\d\ds\)$/,
    );
    const calls = machine.goCalls();
    expect(calls).to.include(`get -tool ${YAML_PACKAGE}@v1.25.0`);
    expect(calls).to.include(`get -tool ${PYTHON_PACKAGE}@v3.68.0`);
    // The YAML host's version goes into its own module's variable.
    expect(calls).to.include("-X github.com/pulumi/pulumi-yaml/pkg/version.Version=v1.25.0 ");
    expect(fs.readdirSync(machine.cache).sort()).to.deep.equal([
      "install.log",
      "language-nodejs-v3.68.0",
      "language-python-v3.68.0",
      "language-yaml-v1.25.0",
      "pulumi-v3.274.1",
    ]);
    // The Python host runs the exec script it finds beside its own file: both are in each place.
    const exec = "pulumi-language-python-exec";
    expect(
      fs.readdirSync(path.join(machine.cache, "language-python-v3.68.0")).sort(),
    ).to.deep.equal(["pulumi-language-python", exec]);
    const cli = path.join(machine.cache, "pulumi-v3.274.1");
    expect(fs.readdirSync(cli).sort()).to.deep.equal([
      "pulumi",
      "pulumi-language-nodejs",
      "pulumi-language-python",
      exec,
      "pulumi-language-yaml",
      "pulumi-resource-pulumi-nodejs",
    ]);
    expect(fs.readFileSync(path.join(cli, exec), "utf8")).to.equal("# the exec script\n");
    expect(fs.statSync(path.join(cli, exec)).mode & 0o777).to.equal(0o755);
    expect(fs.readdirSync(stdout)).to.deep.equal(["pulumi"]);

    // All cached: silent, with or without the flag, and Go is not called again.
    const callsBefore = machine.goCalls();
    for (const args of [["--languages", "yaml,python"], ["--languages=python"], []]) {
      const again = run(machine.env, args);
      expect(again.status, again.stderr).to.equal(0);
      expect(again.stdout).to.equal(stdout);
      expect(again.stderr).to.equal("");
    }
    expect(machine.goCalls()).to.equal(callsBefore);
  });

  it("builds only a language host missing from a cache that has the rest: two phases", () => {
    const machine = buildMachine(scratch);
    expect(run(machine.env).status).to.equal(0);
    const { status, stderr } = run(machine.env, ["--languages", "python,go,python"]);
    expect(status, stderr).to.equal(0);
    const lines = stderr.trimEnd().split("\n");
    expect(lines).to.have.length(4);
    expect(lines[0]).to.include(
      "building the Pulumi Python and Go language hosts from the Go module proxy",
    );
    expect(lines[1]).to.match(/\[1\/3\] downloading the Go modules … done/);
    expect(lines[2]).to.match(
      /\[2\/3\] building the Python language host \(sdk v3\.68\.0\) … done/,
    );
    expect(lines[3]).to.match(/\[3\/3\] building the Go language host \(sdk v3\.66\.0\) … done/);
    expect(machine.goCalls()).to.include(
      "get -tool github.com/pulumi/pulumi/sdk/v3/go/pulumi-language-go@v3.66.0",
    );
    // A Python host whose exec script went missing is not trusted: built again.
    for (const dir of ["pulumi-v3.274.1", "language-python-v3.68.0"]) {
      fs.rmSync(path.join(machine.cache, dir, "pulumi-language-python-exec"));
    }
    const again = run(machine.env, ["--languages", "python"]);
    expect(again.status, again.stderr).to.equal(0);
    expect(again.stderr).to.match(/\[2\/2\] building the Python language host/);
    expect(
      fs.existsSync(path.join(machine.cache, "pulumi-v3.274.1", "pulumi-language-python-exec")),
    ).to.equal(true);
  });

  it("links the language hosts beside the link to a CLI on PATH that lacks them", () => {
    const machine = buildMachine(scratch, { PULUMI_ROTATOR_IGNORE_PATH: "" });
    const own = path.join(scratch, "own-cli");
    fs.mkdirSync(own);
    for (const name of ["pulumi", "pulumi-language-nodejs"]) {
      fs.writeFileSync(path.join(own, name), "#!/bin/sh\necho v3.999.0\n", { mode: 0o755 });
    }
    const env = { ...machine.env, PATH: `${own}:${machine.env.PATH}` };
    const { status, stdout, stderr } = run(env, ["--languages", "yaml,python"]);
    expect(status, stderr).to.equal(0);
    expect(fs.readdirSync(own).sort()).to.deep.equal(["pulumi", "pulumi-language-nodejs"]);
    const python = path.join(machine.cache, "language-python-v3.68.0", "pulumi-language-python");
    expect(fs.realpathSync(path.join(stdout, "pulumi-language-python"))).to.equal(python);
    expect(fs.realpathSync(path.join(stdout, "pulumi-language-yaml"))).to.equal(
      path.join(machine.cache, "language-yaml-v1.25.0", "pulumi-language-yaml"),
    );
    // The host resolves its own path through the link: the exec script is beside its real file.
    expect(fs.existsSync(path.join(path.dirname(python), "pulumi-language-python-exec"))).to.equal(
      true,
    );
    expect(run(env, ["--languages", "yaml,python"]).stderr).to.equal("");
  });

  for (const args of [["--languages", "ruby"], ["--languages"], ["--verbose"]]) {
    it(`refuses ${args.join(" ")} before doing anything`, () => {
      const machine = buildMachine(scratch);
      const { status, stdout, stderr } = run(machine.env, args);
      expect(status).to.equal(2);
      expect(stdout).to.equal("");
      expect(stderr).to.match(/^ensure-pulumi: .*(yaml, python|yaml,python)/);
      expect(machine.goCalls()).to.equal("");
      expect(fs.existsSync(machine.cache)).to.equal(false);
    });
  }

  for (const [what, failure, phase, shown, args] of [
    ["the download", "get", "[1/3]", "502 Bad Gateway", []],
    ["the CLI's build", CLI_PACKAGE, "[2/3]", "undefined: brokenThing", []],
    ["the language host's build", HOST_PACKAGE, "[3/3]", "undefined: brokenThing", []],
    [
      "the YAML host's build",
      YAML_PACKAGE,
      "[4/5]",
      "undefined: brokenThing",
      ["--languages=yaml,python"],
    ],
  ] as const) {
    it(`shows the end of the log and names it when ${what} fails, leaving nothing half-made`, () => {
      const machine = buildMachine(scratch, { FAKE_GO_FAIL: failure });
      const { status, stdout, stderr } = run(machine.env, args);
      expect(status).to.equal(1);
      expect(stdout).to.equal("");
      expect(stderr).to.match(
        new RegExp(`\\${phase.slice(0, -1)}\\] .* … failed after \\dm\\d\\ds\n`),
      );
      expect(stderr).to.include(`ensure-pulumi: the end of ${machine.log}:`);
      expect(stderr).to.include(shown);
      expect(stderr).to.include(`(the full log: ${machine.log})`);
      expect(stderr).to.include("https://www.pulumi.com/docs/install/");
      // The log's end without the download lines: the error is not buried.
      expect(stderr).not.to.include("go: downloading");
      expect(fs.readFileSync(machine.log, "utf8")).to.include("go: downloading");
      // No scratch directory, and no half-filled version directory that a rerun would trust.
      expect(fs.readdirSync(machine.cache)).to.deep.equal(["install.log"]);
    });
  }

  it("leaves no scratch directory behind when interrupted mid-build (Ctrl-C)", async () => {
    const machine = buildMachine(scratch, { FAKE_GO_SLEEP: "30" });
    const child = spawn("bash", [SCRIPT], {
      env: machine.env,
      stdio: ["ignore", "pipe", "pipe"],
      detached: true, // its own process group, as a terminal's foreground job
    });
    let stderr = "";
    const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no build phase: ${stderr}`)), 20_000);
        child.stderr.on("data", (d: Buffer) => {
          stderr += d.toString();
          if (stderr.includes("[2/3] building the Pulumi CLI")) {
            clearTimeout(timer);
            resolve();
          }
        });
      });
      const scratchDirs = fs.readdirSync(machine.cache).filter((f) => f.startsWith(".scratch"));
      expect(scratchDirs).not.to.deep.equal([]);
      process.kill(-child.pid!, "SIGINT");
      expect(await exited).to.equal(130);
    } finally {
      if (child.exitCode === null) process.kill(-child.pid!, "SIGKILL");
      await exited;
    }
    expect(fs.readdirSync(machine.cache)).to.deep.equal(["install.log"]);
  });
});
