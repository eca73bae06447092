/**
 * scripts/ensure-python.sh: this checkout's venv seeing the shared one's `pulumi`, quiet when
 * everything is in place, and SDKs pip-installed from a copy only when their files changed.
 * Real Python and pip: the shared venv comes from PyPI once per machine (cached outside the
 * repository, like the CLI); each test makes its own checkout venv in a scratch directory.
 */
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { expect } from "chai";

const SCRIPT = path.join(__dirname, "..", "..", "scripts", "ensure-python.sh");

function run(venv: string, args: readonly string[] = []) {
  const result = spawnSync("bash", [SCRIPT, ...args], {
    env: { ...process.env, PULUMI_ROTATOR_VENV: venv },
    encoding: "utf8",
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** A pip-installable package `rotator_probe` whose VALUE is the given number. */
function writeSdk(dir: string, value: number) {
  fs.mkdirSync(path.join(dir, "rotator_probe"), { recursive: true });
  fs.writeFileSync(
    path.join(dir, "pyproject.toml"),
    '[project]\nname = "rotator_probe"\nversion = "0.1.0"\ndependencies = ["pulumi>=3.269.0"]\n\n' +
      '[build-system]\nrequires = ["setuptools>=61.0"]\nbuild-backend = "setuptools.build_meta"\n',
  );
  fs.writeFileSync(path.join(dir, "rotator_probe", "__init__.py"), `VALUE = ${value}\n`);
}

function listing(dir: string): string[] {
  return fs.readdirSync(dir, { recursive: true }).map(String).sort();
}

describe("scripts/ensure-python.sh", function () {
  let scratch: string;
  let venv: string;

  beforeEach(() => {
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), "ensure-python-"));
    venv = path.join(scratch, "venv");
  });
  afterEach(() => fs.rmSync(scratch, { recursive: true, force: true }));

  it("makes this checkout's venv, seeing the shared pulumi, and prints what activates it", function () {
    this.timeout(10 * 60_000); // the first run on a machine installs pulumi from PyPI
    const first = run(venv);
    expect(first.status, first.stderr).to.equal(0);
    expect(first.stdout).to.equal(`VIRTUAL_ENV=${venv}\nBIN=${venv}/bin\n`);
    // The shared venv's line only on a machine's first run; this checkout's always.
    expect(first.stderr).to.match(
      /(^|\n)ensure-python: creating this checkout's venv \(.*\/venv\) … done \(\dm\d\ds\)\n$/,
    );
    const where = execFileSync(
      path.join(venv, "bin", "python"),
      ["-c", "import sys, pulumi; print(sys.prefix); print(pulumi.__file__)"],
      { encoding: "utf8" },
    ).split("\n");
    expect(where[0]).to.equal(venv);
    expect(where[1]).to.match(/\/python3\.\d+-pulumi-v3\.272\.0\/lib\/.*\/pulumi\/__init__\.py$/);

    const again = run(venv);
    expect(again.status).to.equal(0);
    expect(again.stdout).to.equal(first.stdout);
    expect(again.stderr).to.equal("");

    // npm ci empties node_modules, where this checkout's venv lives: made again, in a moment.
    fs.rmSync(venv, { recursive: true });
    const remade = run(venv);
    expect(remade.status).to.equal(0);
    expect(remade.stderr).to.match(/creating this checkout's venv/);
  });

  it("installs an SDK from a copy, and again only when its files changed", function () {
    this.timeout(2 * 60_000);
    const sdk = path.join(scratch, "sdk");
    writeSdk(sdk, 1);
    const files = listing(sdk);
    const value = () =>
      execFileSync(
        path.join(venv, "bin", "python"),
        ["-c", "import rotator_probe; print(rotator_probe.VALUE)"],
        { encoding: "utf8" },
      ).trim();

    const first = run(venv, ["--sdk", sdk]);
    expect(first.status, first.stderr).to.equal(0);
    expect(first.stderr).to.match(/installing the SDK in .*\/sdk … done/);
    expect(value()).to.equal("1");
    // The build ran in a copy: no build/ or *.egg-info left in the SDK's directory.
    expect(listing(sdk)).to.deep.equal(files);

    const unchanged = run(venv, ["--sdk", sdk]);
    expect(unchanged.status).to.equal(0);
    expect(unchanged.stderr).to.equal("");

    writeSdk(sdk, 2); // same version, new contents
    const changed = run(venv, ["--sdk", sdk]);
    expect(changed.status, changed.stderr).to.equal(0);
    expect(changed.stderr).to.match(
      /^ensure-python: installing the SDK in .* … done \(\dm\d\ds\)\n$/,
    );
    expect(value()).to.equal("2");
  });

  it("shows pip's complaint when an SDK does not install, and tries again next time", function () {
    this.timeout(2 * 60_000);
    const sdk = path.join(scratch, "sdk");
    writeSdk(sdk, 1);
    fs.writeFileSync(path.join(sdk, "pyproject.toml"), "[project\n");
    const broken = run(venv, ["--sdk", sdk]);
    expect(broken.status).to.equal(1);
    expect(broken.stdout).to.equal("");
    expect(broken.stderr).to.match(/installing the SDK in .* … failed after/);
    expect(broken.stderr).to.include("ensure-python: the end of ");
    expect(broken.stderr).to.match(/could not pip install .*\/sdk \(the log: /);

    // Not recorded as installed: the same broken SDK fails again rather than passing silently.
    expect(run(venv, ["--sdk", sdk]).status).to.equal(1);

    writeSdk(sdk, 3);
    const fixed = run(venv, ["--sdk", sdk]);
    expect(fixed.status, fixed.stderr).to.equal(0);
    expect(fixed.stderr).to.match(/installing the SDK in/);
  });

  it("refuses an SDK directory that does not exist, before making anything", () => {
    const missing = path.join(scratch, "nowhere");
    const result = run(venv, ["--sdk", missing]);
    expect(result.status).to.equal(1);
    expect(result.stderr).to.equal(
      `ensure-python: --sdk ${missing}: no such directory (generate it first: npm run gen-sdk)\n`,
    );
    expect(fs.existsSync(venv)).to.equal(false);
  });
});
