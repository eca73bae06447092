/**
 * The package as `npm pack` made it at an earlier commit of this repository, for tests that
 * deploy with a released version and then update with the working tree's.
 *
 * Built once per commit and cached as `package-<commit>.tgz` outside the repository, next to
 * the CLI (`$PULUMI_ROTATOR_CACHE`, else `~/.cache/pulumi-postgres-rotator`): the commit's
 * tree (`git archive`) is built and packed with `npm pack`. While that commit's lockfile pins
 * the same packages as today's, the build uses this repository's `node_modules` (linked: the
 * same files its `npm ci` would install); once they differ, it runs its own `npm ci`.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const ROOT = path.join(__dirname, "..", "..");

/** The last commit of main before the provider plugin was merged (f5ffa5b's first parent). */
export const BEFORE_PLUGIN = "965468ac322ae3168d75489c83b8f51886f32bd2";

function cacheDir(): string {
  return (
    process.env.PULUMI_ROTATOR_CACHE ??
    path.join(
      process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), ".cache"),
      "pulumi-postgres-rotator",
    )
  );
}

const git = (args: readonly string[]) =>
  execFileSync("git", ["-C", ROOT, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    maxBuffer: 64 * 1024 * 1024,
  }).toString();

/** The locked packages of a lockfile's text, without the root project's own entry. */
function lockedPackages(text: string): string {
  const { packages } = JSON.parse(text) as { packages: Record<string, unknown> };
  return JSON.stringify(Object.entries(packages).filter(([key]) => key !== ""));
}

/** The path of the package tarball built from `commit`; builds it when not cached. */
export function packageAtCommit(commit: string): string {
  const tarball = path.join(cacheDir(), `package-${commit}.tgz`);
  if (fs.existsSync(tarball)) return tarball;
  try {
    git(["cat-file", "-e", `${commit}^{commit}`]);
  } catch (cause) {
    throw new Error(
      `commit ${commit} is not in this clone (a shallow clone? \`git fetch --unshallow\`)`,
      { cause },
    );
  }
  const lockThen = git(["show", `${commit}:package-lock.json`]);
  const lockNow = fs.readFileSync(path.join(ROOT, "package-lock.json"), "utf8");
  fs.mkdirSync(cacheDir(), { recursive: true });
  const scratch = fs.mkdtempSync(path.join(cacheDir(), ".scratch."));
  try {
    const source = path.join(scratch, "source");
    fs.mkdirSync(source);
    git(["archive", "--format=tar", "-o", path.join(scratch, "source.tar"), commit]);
    execFileSync("tar", ["-xf", path.join(scratch, "source.tar"), "-C", source]);
    if (lockedPackages(lockThen) === lockedPackages(lockNow)) {
      fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(source, "node_modules"));
    } else {
      execFileSync("npm", ["ci", "--ignore-scripts", "--no-audit", "--no-fund"], {
        cwd: source,
        stdio: ["ignore", "pipe", "pipe"],
      });
    }
    execFileSync("npm", ["run", "build"], { cwd: source, stdio: ["ignore", "pipe", "pipe"] });
    const output = execFileSync(
      "npm",
      ["pack", "--ignore-scripts", "--json", "--pack-destination", scratch],
      { cwd: source, stdio: ["ignore", "pipe", "pipe"] },
    ).toString();
    const [{ filename }] = JSON.parse(output) as { filename: string }[];
    fs.renameSync(path.join(scratch, filename), tarball);
    return tarball;
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}
