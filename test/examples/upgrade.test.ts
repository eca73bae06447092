/**
 * Upgrading the npm package: a stack deployed (and rotated once) by the version before the
 * provider plugin, `BEFORE_PLUGIN` packed from git, updates with this version's packed package
 * without replacing or deleting anything, its passwords still log in, and the next trigger bump
 * rotates. The program is a separate plain-JavaScript project: `RotatedPostgresCredentials` with
 * ESC (both environments and a rotation schedule, on the ESC stand-in) and the building blocks
 * `PostgresUserPair` and `PostgresRotation` on their own.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { expect } from "chai";
import type { Stack } from "@pulumi/pulumi/automation";
import { localProgramStack, type LocalProgramStack } from "../../scripts/pulumiStack";
import {
  installPackedPackage,
  packWorkingTree,
  type InstalledPackage,
} from "../support/installedPackage";
import { BEFORE_PLUGIN, packageAtCommit } from "../support/packageAtCommit";
import { ESC_TOKEN, startEscStandIn, type EscStandIn } from "../support/escStandIn";
import { expectNoSecrets } from "../support/secrets";
import { cluster, SUPPORTED_MAJORS, uniqueName, type TestCluster } from "../support/servers";

const PROGRAM = `
const pulumi = require("@pulumi/pulumi");
const {
  PostgresRotation,
  PostgresUserPair,
  RotatedPostgresCredentials,
} = require("pulumi-postgres-rotator");

const config = new pulumi.Config();
const database = {
  host: config.require("host"),
  port: config.requireNumber("port"),
  database: config.require("database"),
  managingUser: { username: config.require("managingUser"), password: config.requireSecret("managingPassword") },
  ssl: { mode: "disable" },
};
const memberOf = [config.require("group")];
const rotationTrigger = config.require("rotationTrigger");

const component = new RotatedPostgresCredentials("app-db", {
  database,
  rotateUsers: { username1: config.require("componentUser1"), username2: config.require("componentUser2") },
  memberOf,
  rotationTrigger,
  rotateAfter: "30d",
  esc: {
    organization: "acme",
    project: "postgres-rotator",
    apiUrl: config.require("escApiUrl"),
    rotationSchedule: { cron: "0 3 * * 1" },
  },
});
exports.component = { current: component.current, previous: component.previous };

const rotateUsers = { username1: config.require("blocksUser1"), username2: config.require("blocksUser2") };
const users = new PostgresUserPair("blocks-users", { database, rotateUsers, memberOf });
const rotation = new PostgresRotation("blocks", { database, rotateUsers, state: users.initialState, rotationTrigger });
exports.blocks = { current: rotation.current, previous: rotation.previous };
`;

/** The steps that would replace or delete a resource. */
const REPLACING_OR_DELETING = [
  "replace",
  "create-replacement",
  "delete-replaced",
  "delete",
  "discard",
  "discard-replaced",
];

interface Credential {
  username: string;
  password: string;
}
type Pairs = Record<"component" | "blocks", { current: Credential; previous: Credential }>;

/** `pulumi preview --json` as far as read here. */
interface PreviewJson {
  steps: { op: string; urn: string; diffReasons?: string[] }[];
  changeSummary: Record<string, number>;
}

describe("a stack made by the version before the plugin, updated with this version", function () {
  this.timeout(5 * 60_000);
  let pg: TestCluster;
  let api: EscStandIn;
  let installed: InstalledPackage;
  let program: LocalProgramStack;
  let stack: Stack;
  let packDir: string;
  const secrets = new Set<string>([ESC_TOKEN]);
  const users = {
    componentUser1: uniqueName("up_component_1"),
    componentUser2: uniqueName("up_component_2"),
    blocksUser1: uniqueName("up_blocks_1"),
    blocksUser2: uniqueName("up_blocks_2"),
  };

  /** Whether the installed package has the provider plugin (this version) or not (the old one). */
  const hasPlugin = () =>
    fs.existsSync(
      path.join(
        installed.projectDir,
        "node_modules",
        "pulumi-postgres-rotator",
        "provider",
        "plugin",
      ),
    );
  const pairs = async (): Promise<Pairs> => {
    const all = await stack.outputs();
    const found = { component: all.component.value, blocks: all.blocks.value } as Pairs;
    for (const pair of Object.values(found)) {
      for (const c of [pair.current, pair.previous]) secrets.add(c.password);
    }
    return found;
  };
  const expectAllLogIn = async (found: Pairs) => {
    for (const pair of Object.values(found)) {
      for (const c of [pair.current, pair.previous]) {
        expect(await pg.canLogin(c.username, c.password), c.username).to.equal(true);
      }
    }
  };

  before(async function () {
    this.timeout(40 * 60_000); // the first run on a machine may build the CLI and the old package
    pg = await cluster(SUPPORTED_MAJORS[SUPPORTED_MAJORS.length - 1]);
    api = await startEscStandIn();
    installed = installPackedPackage(packageAtCommit(BEFORE_PLUGIN));
    packDir = fs.mkdtempSync(path.join(os.tmpdir(), "rotator-pack-"));
    fs.writeFileSync(
      path.join(installed.projectDir, "Pulumi.yaml"),
      "name: upgrade\nruntime: nodejs\n",
    );
    fs.writeFileSync(path.join(installed.projectDir, "index.js"), PROGRAM);
    program = await localProgramStack({
      programDir: installed.projectDir,
      inPlace: true,
      stackName: "upgrade",
      env: { PULUMI_ACCESS_TOKEN: ESC_TOKEN },
    });
    stack = program.stack;
    secrets.add(pg.manager.password);
    await stack.setAllConfig({
      host: { value: pg.server.host },
      port: { value: String(pg.server.port) },
      database: { value: pg.database.database },
      managingUser: { value: pg.manager.username },
      managingPassword: { value: pg.manager.password, secret: true },
      group: { value: await pg.createGroup() },
      ...Object.fromEntries(Object.entries(users).map(([key, value]) => [key, { value }])),
      escApiUrl: { value: api.url },
      rotationTrigger: { value: "1" },
    });
  });
  after(async () => {
    program?.remove();
    installed?.remove();
    if (packDir) fs.rmSync(packDir, { recursive: true, force: true });
    await api?.close();
  });

  let old: Pairs;

  it("the version before the plugin creates the stack and rotates once", async () => {
    expect(hasPlugin()).to.equal(false);
    const created = await stack.up();
    expect(created.summary.resourceChanges).to.deep.equal({ create: 9 });
    await stack.setConfig("rotationTrigger", { value: "2" });
    await stack.up();
    old = await pairs();
    expect(old.component.current.username).to.equal(users.componentUser2);
    expect(old.blocks.current.username).to.equal(users.blocksUser2);
    await expectAllLogIn(old);
  });

  it("with this version, preview --diff plans nothing: no replacement, deletion, creation or update", () => {
    installed.install(packWorkingTree(packDir));
    expect(hasPlugin()).to.equal(true);
    const preview = JSON.parse(
      program.pulumi(["preview", "--json", "--diff", "--show-sames", "--stack", "upgrade"]),
    ) as PreviewJson;
    const steps = preview.steps.map((s) => `${s.op} ${s.urn.split("::").pop()}`);
    expect(steps.filter((s) => REPLACING_OR_DELETING.includes(s.split(" ")[0]))).to.deep.equal([]);
    expect(preview.changeSummary, steps.join(", ")).to.deep.equal({ same: 9 });
  });

  it("pulumi up with this version succeeds; every known password still logs in", async () => {
    const result = await stack.up();
    expect(result.summary.resourceChanges).to.deep.equal({ same: 9 });
    expect(await pairs()).to.deep.equal(old);
    await expectAllLogIn(old);
  });

  it("the next trigger bump rotates with this version", async () => {
    await stack.setConfig("rotationTrigger", { value: "3" });
    await stack.up();
    const after = await pairs();
    for (const key of ["component", "blocks"] as const) {
      expect(after[key].previous, key).to.deep.equal(old[key].current);
      expect(after[key].current.username, key).to.equal(old[key].previous.username);
      expect(after[key].current.password, key).to.not.equal(old[key].previous.password);
    }
    await expectAllLogIn(after);
  });

  it("no plaintext password or token in the backend", () => {
    expectNoSecrets(program.backendText(), [...secrets]);
  });
});
