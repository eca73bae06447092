/**
 * A Pulumi program of its own (plain JavaScript, not in this repository's source tree) that
 * imports the `npm pack`ed package, deployed with the same CLI: a config bump rotates, and the
 * state holds no plaintext password.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { expect } from "chai";
import { localProgramStack, type LocalProgramStack } from "../../scripts/pulumiStack";
import { installPackedPackage, type InstalledPackage } from "../support/installedPackage";
import { cluster, SUPPORTED_MAJORS, type TestCluster } from "../support/servers";
import { expectNoSecrets } from "../support/secrets";

const PROGRAM = `
const pulumi = require("@pulumi/pulumi");
const { PostgresRotation } = require("pulumi-postgres-rotator");

const config = new pulumi.Config();
const rotation = new PostgresRotation("db", {
  database: {
    host: config.require("host"),
    port: config.requireNumber("port"),
    database: config.require("database"),
    managingUser: { username: config.require("managingUser"), password: config.requireSecret("managingPassword") },
    ssl: { mode: "disable" },
  },
  rotateUsers: { username1: config.require("username1"), username2: config.require("username2") },
  rotationTrigger: config.require("rotationTrigger"),
});
exports.currentUsername = rotation.currentUsername;
exports.current = rotation.current;
`;

describe("a separate Pulumi program using the packed package", function () {
  this.timeout(5 * 60_000);
  let pg: TestCluster;
  let installed: InstalledPackage;
  let program: LocalProgramStack;

  before(async function () {
    this.timeout(40 * 60_000);
    pg = await cluster(SUPPORTED_MAJORS[SUPPORTED_MAJORS.length - 1]);
    installed = installPackedPackage();
    fs.writeFileSync(
      path.join(installed.projectDir, "Pulumi.yaml"),
      "name: packaged-rotation\nruntime: nodejs\n",
    );
    fs.writeFileSync(path.join(installed.projectDir, "index.js"), PROGRAM);
    program = await localProgramStack({
      programDir: installed.projectDir,
      inPlace: true,
      stackName: "packaged",
    });
  });

  after(() => {
    program?.remove();
    installed?.remove();
  });

  it("rotates on a config bump and keeps every password out of the state", async () => {
    const { username1, username2 } = await pg.createPair();
    const { stack } = program;
    await stack.setAllConfig({
      host: { value: pg.server.host },
      port: { value: String(pg.server.port) },
      database: { value: pg.database.database },
      managingUser: { value: pg.manager.username },
      managingPassword: { value: pg.manager.password, secret: true },
      username1: { value: username1 },
      username2: { value: username2 },
      rotationTrigger: { value: "a" },
    });
    const passwords: string[] = [pg.manager.password];
    const current = async () => {
      const value = (await stack.outputs()).current.value as { username: string; password: string };
      passwords.push(value.password);
      return value;
    };

    await stack.up();
    const first = await current();
    expect(first.username).to.equal(username1);
    await stack.setConfig("rotationTrigger", { value: "b" });
    await stack.up();
    const second = await current();
    expect(second.username).to.equal(username2);
    expect(await pg.canLogin(username2, second.password)).to.equal(true);
    expect(await pg.canLogin(username1, first.password)).to.equal(true);

    expectNoSecrets(JSON.stringify(program.exportState()), passwords);
    expectNoSecrets(program.backendText(), passwords);
    await stack.destroy();
  });
});
