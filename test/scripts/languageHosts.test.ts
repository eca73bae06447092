/**
 * The language hosts of `scripts/ensure-pulumi.sh --languages yaml,python,go`, built for real
 * from their Go modules, each running a program through the real CLI on a local file backend:
 * YAML as is, Python in the venv of scripts/ensure-python.sh, Go compiled by its host. Each
 * program exports a secret that must stay out of the state in plaintext. The first run on a
 * machine builds the three hosts (about a minute once the CLI is built) and compiles the Pulumi
 * Go SDK for the Go program (minutes); all of it is cached outside the repository.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { expect } from "chai";

const ROOT = path.join(__dirname, "..", "..");

function keyValues(stdout: string): Record<string, string> {
  return Object.fromEntries(
    stdout
      .trim()
      .split("\n")
      .map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]),
  );
}

describe("language hosts (ensure-pulumi.sh --languages yaml,python,go)", function () {
  let scratch: string;
  let bin: string;
  let venv: Record<string, string>;

  before(function () {
    this.timeout(40 * 60_000); // the first run on a machine may build the CLI and the hosts
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), "language-hosts-"));
    bin = execFileSync(
      "bash",
      [path.join(ROOT, "scripts", "ensure-pulumi.sh"), "--languages", "yaml,python,go"],
      { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] },
    ).trim();
    venv = keyValues(
      execFileSync("bash", [path.join(ROOT, "scripts", "ensure-python.sh")], {
        encoding: "utf8",
        env: { ...process.env, PULUMI_ROTATOR_VENV: path.join(scratch, "venv") },
        stdio: ["ignore", "pipe", "inherit"],
      }),
    );
  });
  after(() => fs.rmSync(scratch, { recursive: true, force: true }));

  /**
   * Writes the program's files into a fresh directory (then runs prepare there, if given), runs
   * `pulumi up` on a local backend, and returns its outputs (secrets shown) and the backend's text.
   */
  function up(
    name: string,
    files: Record<string, string>,
    env: Record<string, string> = {},
    prepare: (dir: string) => void = () => {},
  ) {
    const dir = path.join(scratch, name);
    const backend = path.join(scratch, `${name}-state`);
    fs.mkdirSync(backend, { recursive: true });
    for (const [file, text] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
      fs.writeFileSync(path.join(dir, file), text);
    }
    prepare(dir);
    const pulumiEnv = {
      ...process.env,
      PATH: `${bin}:${process.env.PATH}`,
      PULUMI_HOME: path.join(scratch, `${name}-home`),
      PULUMI_BACKEND_URL: `file://${backend}`,
      PULUMI_CONFIG_PASSPHRASE: randomBytes(16).toString("hex"),
      PULUMI_SKIP_UPDATE_CHECK: "true",
      PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
      ...env,
    };
    const pulumi = (args: readonly string[]) => {
      const result = spawnSync("pulumi", args, { cwd: dir, env: pulumiEnv, encoding: "utf8" });
      expect(result.status, `pulumi ${args.join(" ")}: ${result.stdout}${result.stderr}`).to.equal(
        0,
      );
      return result.stdout;
    };
    pulumi(["stack", "init", "test", "--non-interactive"]);
    pulumi(["up", "--yes", "--skip-preview", "--non-interactive"]);
    const outputs = JSON.parse(pulumi(["stack", "output", "--json", "--show-secrets"])) as Record<
      string,
      unknown
    >;
    const state = fs
      .readdirSync(backend, { recursive: true })
      .map((file) => path.join(backend, String(file)))
      .filter((file) => fs.statSync(file).isFile())
      .map((file) => fs.readFileSync(file, "utf8"))
      .join("\n");
    return { outputs, state };
  }

  it("runs a YAML program", function () {
    this.timeout(5 * 60_000);
    const secret = `yaml-${randomBytes(8).toString("hex")}`;
    const { outputs, state } = up("yaml", {
      "Pulumi.yaml": [
        "name: yaml-host",
        "runtime: yaml",
        "variables:",
        "  password:",
        `    fn::secret: ${secret}`,
        "outputs:",
        "  language: yaml",
        "  password: ${password}",
        "",
      ].join("\n"),
    });
    expect(outputs).to.deep.equal({ language: "yaml", password: secret });
    expect(state).not.to.include(secret);
  });

  it("runs a Python program in the venv, with no Pulumi.yaml virtualenv option", function () {
    this.timeout(5 * 60_000);
    const secret = `python-${randomBytes(8).toString("hex")}`;
    const { outputs, state } = up(
      "python",
      {
        "Pulumi.yaml": "name: python-host\nruntime: python\n",
        "__main__.py": [
          "import sys",
          "import pulumi",
          'pulumi.export("language", "python")',
          'pulumi.export("prefix", sys.prefix)',
          `pulumi.export("password", pulumi.Output.secret("${secret}"))`,
          "",
        ].join("\n"),
      },
      { VIRTUAL_ENV: venv.VIRTUAL_ENV, PATH: `${bin}:${venv.BIN}:${process.env.PATH}` },
    );
    expect(outputs).to.deep.equal({
      language: "python",
      prefix: venv.VIRTUAL_ENV,
      password: secret,
    });
    expect(state).not.to.include(secret);
  });

  it("runs a Go program, compiled by its host", function () {
    this.timeout(20 * 60_000); // the first run on a machine compiles the Pulumi Go SDK
    const secret = `go-${randomBytes(8).toString("hex")}`;
    const files: Record<string, string> = {
      "Pulumi.yaml": "name: go-host\nruntime: go\n",
      "go.mod": "module gohost\n\ngo 1.25\n\nrequire github.com/pulumi/pulumi/sdk/v3 v3.274.1\n",
      "main.go": [
        "package main",
        "",
        'import "github.com/pulumi/pulumi/sdk/v3/go/pulumi"',
        "",
        "func main() {",
        "\tpulumi.Run(func(ctx *pulumi.Context) error {",
        '\t\tctx.Export("language", pulumi.String("go"))',
        `\t\tctx.Export("password", pulumi.ToSecret(pulumi.String("${secret}")))`,
        "\t\treturn nil",
        "\t})",
        "}",
        "",
      ].join("\n"),
    };
    const { outputs, state } = up("go", files, {}, (dir) =>
      execFileSync("go", ["mod", "tidy"], { cwd: dir, stdio: "ignore" }),
    );
    expect(outputs).to.deep.equal({ language: "go", password: secret });
    expect(state).not.to.include(secret);
  });
});
