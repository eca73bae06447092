/**
 * sdk/python, sdk/go and sdk/dotnet are committed as `npm run gen-sdk` writes them from
 * provider/plugin/schema.json: regenerating into a scratch directory gives the same files, byte
 * for byte, and no more or fewer. A schema change without `npm run gen-sdk` (or an SDK edited by
 * hand) fails here, naming the files that differ. No PostgreSQL; the generators are built once
 * per machine (scripts/gen-sdk.sh, cached outside the repository), then this takes seconds.
 * Skipped, saying so, only on a machine without the Go toolchain that builds the generators.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { expect } from "chai";

const ROOT = path.join(__dirname, "..", "..");
const SCHEMA = path.join(ROOT, "provider", "plugin", "schema.json");

/**
 * Every file under dir (relative path → bytes, base64) but what building the Python package in
 * place leaves (`pip install sdk/python`: build/, *.egg-info/, __pycache__/, as sdk/python's
 * .gitignore and scripts/ensure-python.sh's hash leave them out).
 */
function tree(dir: string): Record<string, string> {
  const files: Record<string, string> = {};
  for (const entry of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
    const file = path.join(entry.parentPath, entry.name);
    const relative = path.relative(dir, file);
    if (!entry.isFile() || /(^|\/)(build|[^/]*\.egg-info|__pycache__)\//.test(relative)) continue;
    files[relative] = fs.readFileSync(file).toString("base64");
  }
  return files;
}

/** The paths whose contents differ, or that only one side has. */
function differences(a: Record<string, string>, b: Record<string, string>): string[] {
  return [...new Set([...Object.keys(a), ...Object.keys(b)])]
    .filter((file) => a[file] !== b[file])
    .sort();
}

describe("sdk/ (the generated SDKs) against provider/plugin/schema.json", function () {
  let scratch: string;

  before(function () {
    this.timeout(40 * 60_000); // the first run on a machine builds the generators
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), "sdk-drift-"));
    const result = spawnSync(
      "bash",
      [path.join(ROOT, "scripts", "gen-sdk.sh"), SCHEMA, path.join(scratch, "sdk")],
      { encoding: "utf8" },
    );
    if (result.status !== 0 && /no Go toolchain/.test(result.stderr)) {
      console.warn(`    skipped: scripts/gen-sdk.sh cannot build the generators: ${result.stderr}`);
      this.skip();
    }
    expect(result.status, result.stderr).to.equal(0);
  });
  after(() => scratch && fs.rmSync(scratch, { recursive: true, force: true }));

  for (const language of ["python", "go", "dotnet"]) {
    it(`sdk/${language} is what npm run gen-sdk writes, byte for byte`, () => {
      const committed = tree(path.join(ROOT, "sdk", language));
      const generated = tree(path.join(scratch, "sdk", language));
      expect(Object.keys(generated)).to.have.length.above(0);
      expect(
        differences(committed, generated),
        `sdk/${language} differs from the schema's SDK: run npm run gen-sdk and commit sdk/`,
      ).to.deep.equal([]);
    });
  }

  it("the SDKs carry package.json's version, the plugin's", () => {
    const { version } = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as {
      version: string;
    };
    for (const file of [
      "python/pulumi_postgres_rotator/pulumi-plugin.json",
      "go/postgresrotator/pulumi-plugin.json",
      "dotnet/pulumi-plugin.json",
    ]) {
      const plugin = JSON.parse(fs.readFileSync(path.join(ROOT, "sdk", file), "utf8")) as {
        name: string;
        version: string;
      };
      expect({ file, ...plugin }).to.include({ file, name: "postgres-rotator", version });
    }
  });
});
