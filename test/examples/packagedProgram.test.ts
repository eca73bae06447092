/**
 * A Pulumi program of its own (plain JavaScript, not in this repository's source tree) that
 * imports the `npm pack`ed package, deployed with the same CLI: a config bump rotates, and the
 * state holds no plaintext password.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { expect } from "chai";
import type { ConfigMap } from "@pulumi/pulumi/automation";
import { localProgramStack, type LocalProgramStack } from "../../scripts/pulumiStack";
import { installPackedPackage, type InstalledPackage } from "../support/installedPackage";
import { cluster, SUPPORTED_MAJORS, type TestCluster } from "../support/servers";
import { expectNoSecrets } from "../support/secrets";
import { ACCESS_KEY_ID, SECRET_ACCESS_KEY, startAwsStandIn } from "../support/awsStandIn";
import type * as HandlerModule from "../../provider/connector/lambdaHandler";

const BUNDLE = path.join(__dirname, "..", "..", "dist", "lambda", "index.js");

const bundle = require(BUNDLE) as typeof HandlerModule;

const PROGRAM = `
const pulumi = require("@pulumi/pulumi");
const { PostgresRotation } = require("pulumi-postgres-rotator");

const config = new pulumi.Config();
const lambdaArn = config.get("lambdaArn");
const rotation = new PostgresRotation("db", {
  database: {
    host: config.require("host"),
    port: config.requireNumber("port"),
    database: config.require("database"),
    managingUser: { username: config.require("managingUser"), password: config.requireSecret("managingPassword") },
    ...(lambdaArn
      ? { connector: { awsLambda: { lambdaArn, endpoint: config.require("lambdaEndpoint") } } }
      : { ssl: { mode: "disable" } }),
  },
  rotateUsers: { username1: config.require("username1"), username2: config.require("username2") },
  rotationTrigger: config.require("rotationTrigger"),
});
exports.currentUsername = rotation.currentUsername;
exports.current = rotation.current;

// Which Node.js ran the program (the language host's \`node\` on PATH) and a dynamic provider
// (the provider host's).
const nodeProbe = new pulumi.dynamic.Resource(
  { create: async () => ({ id: "node", outs: { version: process.version } }) },
  "node-probe",
  { version: undefined },
);
exports.programNode = process.version;
exports.providerNode = nodeProbe.version;
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

  /** The program's config for `pair` on the test server, trigger "a". */
  const config = (pair: { username1: string; username2: string }): ConfigMap => ({
    host: { value: pg.server.host },
    port: { value: String(pg.server.port) },
    database: { value: pg.database.database },
    managingUser: { value: pg.manager.username },
    managingPassword: { value: pg.manager.password, secret: true },
    username1: { value: pair.username1 },
    username2: { value: pair.username2 },
    rotationTrigger: { value: "a" },
  });

  it("rotates through connector.awsLambda from the real provider host", async () => {
    const aws = await startAwsStandIn();
    const arn = "arn:aws:lambda:eu-west-1:123456789012:function:pg-rotator";
    aws.functions.set(arn, (event) =>
      bundle.handleEvent(event, { PGSSLMODE: "disable" }, () => undefined),
    );
    const viaLambda = await localProgramStack({
      programDir: installed.projectDir,
      inPlace: true,
      stackName: "lambda",
      env: {
        AWS_ACCESS_KEY_ID: ACCESS_KEY_ID,
        AWS_SECRET_ACCESS_KEY: SECRET_ACCESS_KEY,
        AWS_EC2_METADATA_DISABLED: "true",
      },
    });
    try {
      const { username1, username2 } = await pg.createPair();
      const { stack } = viaLambda;
      await stack.setAllConfig({
        ...config({ username1, username2 }),
        lambdaArn: { value: arn },
        lambdaEndpoint: { value: aws.endpoint },
      });
      await stack.up();
      await stack.setConfig("rotationTrigger", { value: "b" });
      await stack.up();
      const current = (await stack.outputs()).current.value as {
        username: string;
        password: string;
      };
      expect(current.username).to.equal(username2);
      expect(await pg.canLogin(username2, current.password)).to.equal(true);
      expect(aws.requests.filter((r) => r.service === "lambda")).to.have.length(2);
      expectNoSecrets(viaLambda.backendText(), [
        current.password,
        pg.manager.password,
        SECRET_ACCESS_KEY,
      ]);
      await stack.destroy();
    } finally {
      viaLambda.remove();
      await aws.close();
    }
  });

  it("rotates on a config bump and keeps every password out of the state", async () => {
    const { username1, username2 } = await pg.createPair();
    const { stack } = program;
    await stack.setAllConfig(config({ username1, username2 }));
    const passwords: string[] = [pg.manager.password];
    const current = async () => {
      const value = (await stack.outputs()).current.value as { username: string; password: string };
      passwords.push(value.password);
      return value;
    };

    await stack.up();
    const first = await current();
    expect(first.username).to.equal(username1);
    // The Node.js on PATH runs the program and the provider: the one running these tests.
    const outputs = await stack.outputs();
    expect([outputs.programNode.value, outputs.providerNode.value]).to.deep.equal([
      process.version,
      process.version,
    ]);
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
