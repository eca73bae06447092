/**
 * scripts/gen-sdk.sh on test/fixtures/gen-sdk/schema.json (a resource with a secret input and a
 * secret output, a component taking an object type): a Python SDK that pip installs and Python
 * imports with the secrets marked, a Go module that `go vet` and `go build` accept, and a C#
 * project with the secrets marked (read, not compiled: no .NET SDK installs here). Real tools: the
 * generators built with Go, pip from PyPI through scripts/ensure-python.sh, all cached outside the
 * repository; the first run on a machine builds the generators and compiles the Pulumi Go SDK
 * (minutes), later runs take seconds.
 */
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { expect } from "chai";

const ROOT = path.join(__dirname, "..", "..");
const GEN_SDK = path.join(ROOT, "scripts", "gen-sdk.sh");
const ENSURE_PYTHON = path.join(ROOT, "scripts", "ensure-python.sh");
const SCHEMA = path.join(ROOT, "test", "fixtures", "gen-sdk", "schema.json");

function run(script: string, args: readonly string[], env: Record<string, string> = {}) {
  const result = spawnSync("bash", [script, ...args], {
    env: { ...process.env, ...env },
    encoding: "utf8",
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** `NAME=value` lines into an object. */
function keyValues(stdout: string): Record<string, string> {
  return Object.fromEntries(
    stdout
      .trim()
      .split("\n")
      .map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]),
  );
}

/** Every file under dir (relative path → contents). */
function tree(dir: string): Record<string, string> {
  const files: Record<string, string> = {};
  for (const entry of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) {
      const file = path.join(entry.parentPath, entry.name);
      files[path.relative(dir, file)] = fs.readFileSync(file, "utf8");
    }
  }
  return files;
}

describe("scripts/gen-sdk.sh", function () {
  let scratch: string;
  let out: string;
  let sdk: { PYTHON_SDK: string; GO_SDK: string; DOTNET_SDK: string };
  let python: string;

  before(function () {
    this.timeout(40 * 60_000); // the first run on a machine builds the generators
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), "gen-sdk-"));
    out = path.join(scratch, "sdk");
    const generated = run(GEN_SDK, [SCHEMA, out]);
    expect(generated.status, generated.stderr).to.equal(0);
    sdk = keyValues(generated.stdout) as typeof sdk;
    const venv = run(ENSURE_PYTHON, ["--sdk", sdk.PYTHON_SDK], {
      PULUMI_ROTATOR_VENV: path.join(scratch, "venv"),
    });
    expect(venv.status, venv.stderr).to.equal(0);
    python = path.join(keyValues(venv.stdout).BIN, "python");
  });
  after(() => fs.rmSync(scratch, { recursive: true, force: true }));

  it("writes sdk/python, sdk/go and sdk/dotnet under the output directory and prints them", () => {
    expect(sdk).to.deep.equal({
      PYTHON_SDK: path.join(out, "python"),
      GO_SDK: path.join(out, "go"),
      DOTNET_SDK: path.join(out, "dotnet"),
    });
    expect(fs.readdirSync(out).sort()).to.deep.equal(["dotnet", "go", "python"]);
  });

  it("writes a Python package that pip installs and Python imports, secrets marked", () => {
    const checks = `
import inspect
import pulumi
import pulumi_rotatorsdktest as sdk

assert sdk.__file__.startswith(${JSON.stringify(path.join(scratch, "venv"))}), sdk.__file__
# The component's input object type, with its required field.
settings = sdk.SettingsArgs(username="app_user")
assert settings.username == "app_user"
assert sdk.BundleArgs(settings=settings).settings is settings
# The resource: its password output listed as a secret, its managing password input made one.
source = inspect.getsource(sdk.Secretive._internal_init)
assert 'additional_secret_outputs=["password"]' in source, source
assert "pulumi.Output.secret(managing_password)" in source, source
print("ok")
`;
    const output = execFileSync(python, ["-c", checks], { encoding: "utf8" });
    expect(output).to.match(/^ok/);
  });

  it("writes a Go module that go vet and go build accept", function () {
    this.timeout(20 * 60_000); // the first run on a machine compiles the Pulumi Go SDK
    const goMod = fs.readFileSync(path.join(sdk.GO_SDK, "go.mod"), "utf8");
    expect(goMod).to.match(/^module example\.com\/rotatorsdktest\/sdk\/go$/m);
    expect(goMod).to.match(/github\.com\/pulumi\/pulumi\/sdk\/v3 v3\.274\.1$/m);
    for (const args of [
      ["vet", "./..."],
      ["build", "./..."],
    ]) {
      const result = spawnSync("go", args, { cwd: sdk.GO_SDK, encoding: "utf8" });
      expect(result.status, `go ${args.join(" ")}: ${result.stderr}`).to.equal(0);
    }
    const secretive = fs.readFileSync(
      path.join(sdk.GO_SDK, "rotatorsdktest", "secretive.go"),
      "utf8",
    );
    expect(secretive).to.match(/AdditionalSecretOutputs\(\[\]string\{\s*"password",\s*\}\)/);
    expect(secretive).to.include("args.ManagingPassword = pulumi.ToSecret(args.ManagingPassword)");
  });

  it("writes a C# project carrying the package's version and icon, secrets marked", () => {
    const dotnet = (file: string) => fs.readFileSync(path.join(sdk.DOTNET_SDK, file));
    const project = dotnet("Pulumi.Rotatorsdktest.csproj").toString("utf8");
    expect(project).to.include("<Version>0.1.0</Version>");
    expect(project).to.include('<PackageReference Include="Pulumi" Version="[3.76.1.0,4)" />');
    expect(project).to.include("<PackageIcon>logo.png</PackageIcon>");
    // The icon: scripts/gen-sdk/dotnet/logo.png, not a download.
    const logo = fs.readFileSync(path.join(ROOT, "scripts", "gen-sdk", "dotnet", "logo.png"));
    expect(dotnet("logo.png").toString("base64"), "logo.png").to.equal(logo.toString("base64"));
    expect(JSON.parse(dotnet("pulumi-plugin.json").toString("utf8"))).to.deep.equal({
      resource: true,
      name: "rotatorsdktest",
      version: "0.1.0",
    });
    // The resource: its password output listed as a secret, its managing password input made one.
    const secretive = dotnet("Secretive.cs").toString("utf8");
    expect(secretive).to.match(/AdditionalSecretOutputs =\s*\{\s*"password",\s*\}/);
    expect(secretive).to.match(
      /var emptySecret = Output\.CreateSecret\(0\);\s*_managingPassword = Output\.Tuple<Input<string>\?, int>\(value, emptySecret\)/,
    );
    // The component, constructed by the plugin.
    expect(dotnet("Bundle.cs").toString("utf8")).to.match(
      /class Bundle : global::Pulumi\.ComponentResource[^]*, remote: true\)/,
    );
  });

  it("is quiet and writes the same files when run again", () => {
    const before = tree(out);
    const again = run(GEN_SDK, [SCHEMA, out]);
    expect(again.status, again.stderr).to.equal(0);
    expect(again.stderr).to.equal("");
    expect(keyValues(again.stdout)).to.deep.equal(sdk);
    expect(tree(out)).to.deep.equal(before);
  });

  for (const [what, edit, said] of [
    [
      "a schema that does not bind",
      (schema: Record<string, unknown>) => {
        const resources = schema.resources as Record<string, { inputProperties: object }>;
        resources["rotatorsdktest:index:Bundle"].inputProperties = {
          settings: { $ref: "#/types/rotatorsdktest:index:Missing" },
        };
      },
      /does not bind: .*rotatorsdktest:index:Missing/,
    ],
    [
      "a schema referring to another package",
      (schema: Record<string, unknown>) => {
        const resources = schema.resources as Record<string, { inputProperties: object }>;
        resources["rotatorsdktest:index:Bundle"].inputProperties = {
          bucket: { $ref: "/aws/v6.0.0/schema.json#/resources/aws:s3%2Fbucket:Bucket" },
        };
      },
      /refers to the package "aws": gen-sdk generates only self-contained schemas/,
    ],
    [
      "a schema with a logoUrl (the .NET SDK's icon would be downloaded)",
      (schema: Record<string, unknown>) => (schema.logoUrl = "https://example.com/logo.png"),
      /has a logoUrl: gen-sdk downloads nothing/,
    ],
    [
      "a schema without a version",
      (schema: Record<string, unknown>) => delete schema.version,
      /has no version/,
    ],
  ] as const) {
    it(`refuses ${what}, saying why, and leaves the SDKs written before`, () => {
      const before = tree(out);
      const schema = JSON.parse(fs.readFileSync(SCHEMA, "utf8")) as Record<string, unknown>;
      edit(schema);
      const broken = path.join(scratch, "broken.json");
      fs.writeFileSync(broken, JSON.stringify(schema));
      const result = run(GEN_SDK, [broken, out]);
      expect(result.status).to.equal(1);
      expect(result.stdout).to.equal("");
      expect(result.stderr).to.match(said);
      expect(result.stderr).to.include(`gen-sdk: could not generate the SDKs from ${broken}`);
      expect(tree(out)).to.deep.equal(before);
    });
  }

  it("refuses a schema path that does not exist", () => {
    const result = run(GEN_SDK, [path.join(scratch, "none.json"), out]);
    expect(result.status).to.equal(1);
    expect(result.stderr).to.equal(`gen-sdk: ${path.join(scratch, "none.json")} does not exist\n`);
  });
});
