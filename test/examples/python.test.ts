/**
 * End to end: examples/python (one `RotatedPostgresCredentials`, direct mode, from the generated
 * Python SDK `pulumi_postgres_rotator`) deployed by the real Pulumi CLI through this package's
 * provider plugin against a real PostgreSQL server where only the managing user and the group
 * role exist: test/support/pluginProgram.ts's steps, as for examples/yaml.
 *
 * Installed as the README's "Use from Python, Go, C# or YAML" says, through the project's own
 * scripts: the npm package (this repository, which the program's copy sees as
 * node_modules/pulumi-postgres-rotator) holds the plugin that Pulumi.yaml names and the SDK that
 * the program's requirements.txt names; scripts/ensure-python.sh pip-installs that SDK into a
 * venv with the `pulumi` wheel, and the CLI runs the Python host (ensure-pulumi.sh
 * `--languages python`) with that venv active (VIRTUAL_ENV, its bin first on PATH).
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { expect } from "chai";
import { describePluginProgram } from "../support/pluginProgram";

const ROOT = path.join(__dirname, "..", "..");
const EXAMPLE = path.join(ROOT, "examples", "python");

/** `NAME=value` lines into an object. */
function keyValues(stdout: string): Record<string, string> {
  return Object.fromEntries(
    stdout
      .trim()
      .split("\n")
      .map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]),
  );
}

describePluginProgram("examples/python with the real Pulumi CLI, the Python SDK and the plugin", {
  example: "python",
  language: "python",
  userPrefix: "python_user",
  prepare: () => {
    const lines = fs
      .readFileSync(path.join(EXAMPLE, "requirements.txt"), "utf8")
      .split("\n")
      .filter((line) => line.trim() !== "");
    // Local paths are the program folder's, whose node_modules is this repository's in the copy
    // the suite runs: resolved from here, they name this repository's files.
    const sdks = lines.filter((line) => line.startsWith("./")).map((line) => path.join(ROOT, line));
    expect(sdks).to.deep.equal([
      path.join(ROOT, "node_modules/pulumi-postgres-rotator/sdk/python"),
    ]);
    const venv = keyValues(
      execFileSync(
        "bash",
        [path.join(ROOT, "scripts", "ensure-python.sh"), ...sdks.flatMap((sdk) => ["--sdk", sdk])],
        { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] },
      ),
    );
    // The other requirements (pulumi) are met by the venv's own packages.
    const others = lines.filter((line) => !line.startsWith("./"));
    execFileSync(path.join(venv.BIN, "python"), [
      "-c",
      "import sys, importlib.metadata as m\n" +
        "from packaging.requirements import Requirement\n" +
        "for line in sys.argv[1:]:\n" +
        "    r = Requirement(line)\n" +
        "    assert r.specifier.contains(m.version(r.name)), (line, m.version(r.name))\n",
      ...others,
    ]);
    return { pathFirst: [venv.BIN], env: { VIRTUAL_ENV: venv.VIRTUAL_ENV } };
  },
});
