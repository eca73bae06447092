/**
 * .ci/run's flow, with a fake `npm`, a fake scripts/ensure-test-tools.sh and fake pinned Node.js
 * binaries: one install and lint on Node.js 24, the test tools once, `npm test` under each Node.js with the right PostgreSQL majors, a summary line per
 * Node.js, the summed closing line, and a non-zero exit when any run fails.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { expect } from "chai";

const ROOT = path.join(__dirname, "..", "..");
const PINNED = spawnSync("bash", [path.join(ROOT, "scripts", "ensure-node.sh"), "--list"], {
  encoding: "utf8",
})
  .stdout.trim()
  .split("\n");
const NEWEST_PG = 18;

/**
 * An `npm` that records each call with the Node.js first on PATH and PG_MAJORS, and answers
 * `npm test` with mocha's closing lines from FAKE_TEST_<major> ("passing failing pending exit";
 * "-" for no mocha output at all).
 */
const FAKE_NPM = `#!/usr/bin/env bash
version="$(node --version)"
echo "$* node=$version PG_MAJORS=\${PG_MAJORS-unset}" >>"$FAKE_NPM_CALLS"
[[ "$1" == test ]] || exit 0
major="\${version#v}"; major="\${major%%.*}"
read -r passing failing pending code <<<"$(printenv "FAKE_TEST_$major")"
if [[ "$passing" != - ]]; then
  echo "  $passing passing (1s)"
  [[ "$pending" != 0 ]] && echo "  $pending pending"
  [[ "$failing" != 0 ]] && echo "  $failing failing"
fi
exit "$code"
`;

describe(".ci/run", () => {
  let scratch: string;
  let calls: string;
  let env: Record<string, string>;

  beforeEach(() => {
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), "ci-run-"));
    const repo = path.join(scratch, "repo");
    for (const file of [".ci/run", "scripts/ensure-node.sh", "scripts/embeddedPostgres.ts"]) {
      fs.mkdirSync(path.dirname(path.join(repo, file)), { recursive: true });
      fs.copyFileSync(path.join(ROOT, file), path.join(repo, file));
    }
    const cache = path.join(scratch, "cache");
    for (const version of PINNED) {
      const dir = path.join(cache, `node-v${version}`, "bin");
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(path.join(dir, "node"), `#!/bin/sh\necho v${version}\n`, { mode: 0o755 });
    }
    // The test tools' installer, recorded in the same list as npm's calls.
    fs.writeFileSync(
      path.join(repo, "scripts", "ensure-test-tools.sh"),
      'echo "ensure-test-tools" >>"$FAKE_NPM_CALLS"\necho PSQL=/usr/bin/psql\n',
    );
    const fakeBin = path.join(scratch, "fake-bin");
    fs.mkdirSync(fakeBin);
    fs.writeFileSync(path.join(fakeBin, "npm"), FAKE_NPM, { mode: 0o755 });
    calls = path.join(scratch, "npm-calls");
    env = {
      PATH: `${fakeBin}:/usr/bin:/bin`,
      HOME: scratch,
      PULUMI_ROTATOR_CACHE: cache,
      FAKE_NPM_CALLS: calls,
    };
  });
  afterEach(() => fs.rmSync(scratch, { recursive: true, force: true }));

  const run = (results: Record<number, string>) => {
    const extra = Object.fromEntries(
      Object.entries(results).map(([major, line]) => [`FAKE_TEST_${major}`, line]),
    );
    const result = spawnSync("bash", [path.join(scratch, "repo", ".ci", "run")], {
      env: { ...env, ...extra },
      encoding: "utf8",
      timeout: 60_000,
    });
    const lines = result.stdout.trimEnd().split("\n");
    return { status: result.status, lines, stdout: result.stdout, stderr: result.stderr };
  };
  const [v20, v22, v24] = PINNED;

  it("installs and lints once on Node.js 24, the test tools once, then npm test under 24, 22 and 20", () => {
    const { status, lines, stderr } = run({ 24: "470 0 3 0", 22: "243 0 0 0", 20: "240 0 0 0" });
    expect(status, stderr).to.equal(0);
    expect(fs.readFileSync(calls, "utf8").trimEnd().split("\n")).to.deep.equal([
      `ci --no-audit --no-fund node=v${v24} PG_MAJORS=unset`,
      `run lint node=v${v24} PG_MAJORS=unset`,
      "ensure-test-tools",
      `test node=v${v24} PG_MAJORS=`,
      `test node=v${v22} PG_MAJORS=${NEWEST_PG}`,
      `test node=v${v20} PG_MAJORS=${NEWEST_PG}`,
    ]);
    const banners = lines.filter((line) => line.startsWith("=== Node.js"));
    expect(banners).to.deep.equal([
      `=== Node.js v${v24} (${env.PULUMI_ROTATOR_CACHE}/node-v${v24}/bin/node): npm test, PostgreSQL 13-${NEWEST_PG} ===`,
      `=== Node.js v${v22} (${env.PULUMI_ROTATOR_CACHE}/node-v${v22}/bin/node): npm test, PostgreSQL ${NEWEST_PG} ===`,
      `=== Node.js v${v20} (${env.PULUMI_ROTATOR_CACHE}/node-v${v20}/bin/node): npm test, PostgreSQL ${NEWEST_PG} ===`,
    ]);
    const summary = lines.slice(lines.indexOf("=== summary ===") + 1);
    expect(summary).to.have.length(4);
    expect(summary[0]).to.match(
      new RegExp(
        `^Node\\.js v${v24} +PostgreSQL 13-18: +470 passed, 0 failed, 3 skipped \\(exit 0`,
      ),
    );
    expect(summary[1]).to.match(new RegExp(`^Node\\.js v${v22} +PostgreSQL 18: +243 passed`));
    expect(summary[2]).to.match(new RegExp(`^Node\\.js v${v20} +PostgreSQL 18: +240 passed`));
    expect(summary[3]).to.equal("953 passed, 0 failed, 3 skipped");
  });

  it("runs every Node.js even when one fails, sums the failures and exits non-zero", () => {
    const { status, lines } = run({ 24: "470 0 3 0", 22: "241 2 0 1", 20: "243 0 0 0" });
    expect(status).to.equal(1);
    expect(lines.filter((line) => line.startsWith("=== Node.js"))).to.have.length(3);
    expect(lines.at(-1)).to.equal("954 passed, 2 failed, 3 skipped");
  });

  it("counts a run that died before mocha's summary as a failure", () => {
    const { status, lines } = run({ 24: "- - - 1", 22: "243 0 0 0", 20: "243 0 0 0" });
    expect(status).to.equal(1);
    const line = lines.find((l) => l.startsWith(`Node.js v${v24} `));
    expect(line).to.match(/ 0 passed, 1 failed, 0 skipped \(exit 1,/);
    expect(lines.at(-1)).to.equal("486 passed, 1 failed, 0 skipped");
  });
});
