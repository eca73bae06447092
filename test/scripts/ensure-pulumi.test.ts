/** scripts/ensure-pulumi.sh: where the CLI comes from, and what it says when it cannot get one. */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { expect } from "chai";

const SCRIPT = path.join(__dirname, "..", "..", "scripts", "ensure-pulumi.sh");

function run(env: Record<string, string>) {
  const result = spawnSync("bash", [SCRIPT], { env, encoding: "utf8", timeout: 60_000 });
  return { status: result.status, stdout: result.stdout.trim(), stderr: result.stderr };
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
});
