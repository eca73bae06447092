/**
 * What `npm pack` puts in the package (package.json `files`), for the languages other than
 * TypeScript: the provider plugin's launcher (executable) and schema, and the generated SDKs whole
 * (Python, Go and .NET), which programs use from node_modules, so each matches the plugin it
 * talks to. `npm pack --dry-run`: nothing is built or written.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { expect } from "chai";

const ROOT = path.join(__dirname, "..");

describe("the npm package's files", function () {
  this.timeout(60_000);
  let packed: Map<string, number>;

  before(() => {
    const output = execFileSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], {
      cwd: ROOT,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    });
    const [{ files }] = JSON.parse(output) as { files: { path: string; mode: number }[] }[];
    packed = new Map(files.map((f) => [f.path, f.mode]));
  });

  it("ship the plugin's launcher, executable, and its schema", () => {
    expect((packed.get("provider/plugin/pulumi-resource-postgres-rotator") ?? 0) & 0o111).to.equal(
      0o111,
    );
    expect(packed.has("provider/plugin/schema.json")).to.equal(true);
    expect(packed.has("dist/provider/plugin/index.js")).to.equal(true);
  });

  it("ship sdk/python, sdk/go and sdk/dotnet whole (but their .gitignore)", () => {
    const sdk = ["python", "go", "dotnet"]
      .flatMap((language) =>
        fs.readdirSync(path.join(ROOT, "sdk", language), { recursive: true, withFileTypes: true }),
      )
      .filter((entry) => entry.isFile() && entry.name !== ".gitignore")
      .map((entry) => path.relative(ROOT, path.join(entry.parentPath, entry.name)))
      .filter((file) => !/(^|\/)(build|[^/]*\.egg-info|__pycache__)\//.test(file))
      .sort();
    expect(sdk).to.include("sdk/python/pyproject.toml");
    expect(sdk).to.include("sdk/go/go.mod");
    expect(sdk).to.include("sdk/dotnet/Pulumi.PostgresRotator.csproj");
    expect([...packed.keys()].filter((file) => file.startsWith("sdk/")).sort()).to.deep.equal(sdk);
  });
});
