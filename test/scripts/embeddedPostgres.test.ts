/**
 * scripts/embeddedPostgres.ts: as root the server runs as an unprivileged OS user, who must be
 * able to reach the binaries even when the checkout sits in a directory only root may enter
 * (root's home is mode 700 in most containers; so is any `mktemp -d`).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { expect } from "chai";
import { binariesFor, startPostgres } from "../../scripts/embeddedPostgres";

const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
const MAJOR = 18;

describe("scripts/embeddedPostgres", function () {
  this.timeout(120_000);
  let scratch: string;
  let nodeModules: string;

  before(function () {
    if (!isRoot) this.skip();
    // A checkout inside a directory only root may enter, holding a real copy of the package.
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), "private-checkout-"));
    fs.chmodSync(scratch, 0o700);
    nodeModules = path.join(scratch, "node_modules");
    const installed = path.dirname(binariesFor(MAJOR));
    fs.cpSync(installed, path.join(nodeModules, `postgres-${MAJOR}`), {
      recursive: true,
      verbatimSymlinks: true,
    });
  });
  after(() => scratch && fs.rmSync(scratch, { recursive: true, force: true }));

  it("runs a server from a checkout in a mode-700 directory, through a shared copy", async () => {
    const cache = fs.mkdtempSync(path.join(os.tmpdir(), "pg-binary-cache-"));
    fs.chmodSync(cache, 0o755);
    try {
      const server = await startPostgres({
        major: MAJOR,
        binaries: { searchPaths: [nodeModules], cache },
      });
      try {
        const client = await server.connectAsSuperuser();
        const { rows } = await client.query<{ v: string }>(
          "SELECT current_setting('server_version') AS v",
        );
        await client.end();
        expect(rows[0].v).to.match(/^18\./);
      } finally {
        await server.stop();
      }
      const copies = fs.readdirSync(cache);
      expect(copies).to.have.length(1);
      expect(copies[0]).to.match(/^postgres-18\.\d+\.\d+/);
      expect(fs.existsSync(path.join(cache, copies[0], ".complete"))).to.equal(true);
    } finally {
      fs.rmSync(cache, { recursive: true, force: true });
    }
  });

  it("names the directory and the permission when no usable copy can be made", async () => {
    // A cache the service user cannot enter either.
    const cache = path.join(scratch, "cache");
    let message = "";
    try {
      await startPostgres({ major: MAJOR, binaries: { searchPaths: [nodeModules], cache } });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).to.include(`cannot run ${path.join(cache, "postgres-18")}`);
    expect(message).to.include("execute permission for others");
    expect(message).to.include("PG_ROTATOR_BINARY_CACHE");
  });
});
