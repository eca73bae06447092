/**
 * Fleet scale: one `pulumi up` (the real CLI) that rotates N pairs on one server, against an
 * `up` of N no-op dynamic resources in the same run, all after a `rotationTrigger` bump.
 *
 * A second baseline, the stand-in, is a no-op that keeps exactly the state a rotation keeps (the
 * same inputs with the managing password as a secret, the outputs built by the package's own
 * `buildOutputs` with `current` and `previous` as secrets, its provider loaded by package name)
 * but never touches the database: what the engine charges for that state, which any rotator
 * must keep, apart from the rotations' own work.
 *
 * The program is plain JavaScript in a scratch project that installs the `npm pack`ed package,
 * as a user's would. Each size is measured `--repeats` times (default 3), the three `up`s of a
 * repeat one after the other so that drift hits each alike. For each N it reports the median
 * ratio to the no-op and the range over the repeats, the median ratio to the stand-in, the
 * exported state's size per resource, the peak number of connections to the server (sampled from
 * `pg_stat_activity` every 10 ms) and the provider host's peak memory (VmHWM of its process)
 * against the no-op's, and whether every repeat stayed within the bounds the README documents
 * (the exit code says too).
 *
 *     npm run bench:fleet    # or: npx tsx bench/fleet.ts [N ...] [--repeats=R]  (default 10 100, R 3)
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { generatePassword } from "../provider/core/password";
import { scramSha256Verifier } from "../provider/core/scram";
import { DEFAULT_MAX_CONNECTIONS } from "../provider/postgres/pool";
import { quoteIdentifier } from "../provider/postgres/sql";
import { startPostgres, type EmbeddedPostgres } from "../scripts/embeddedPostgres";
import { localProgramStack } from "../scripts/pulumiStack";
import { installPackedPackage } from "../test/support/installedPackage";
import { median } from "./stats";

const ARGS = process.argv.slice(2);
const SIZES = ARGS.filter((a) => !a.startsWith("--"))
  .map(Number)
  .filter(Boolean);
const COUNTS = SIZES.length > 0 ? SIZES : [10, 100];
const REPEATS = Number(
  /^--repeats=(\d+)$/.exec(ARGS.find((a) => a.startsWith("--repeats=")) ?? "")?.[1] ?? 3,
);
const MODES = ["noop", "stand-in", "rotate"] as const;
type Mode = (typeof MODES)[number];
const MAJOR = 16;

const PROGRAM = `
const pulumi = require("@pulumi/pulumi");
const { PostgresRotation } = require("pulumi-postgres-rotator");
const config = new pulumi.Config();
const count = config.requireNumber("count");
const trigger = config.require("rotationTrigger");
const mode = config.require("mode");
if (mode === "noop") {
  const noop = {
    create: async (inputs) => ({ id: "noop", outs: inputs }),
    diff: async (id, olds, news) => ({ changes: olds.trigger !== news.trigger }),
    update: async (id, olds, news) => ({ outs: news }),
  };
  for (let i = 0; i < count; i++) new pulumi.dynamic.Resource(noop, "noop-" + i, { trigger });
} else {
  const database = {
    host: config.require("host"),
    port: config.requireNumber("port"),
    database: "app",
    managingUser: { username: "fleet_manager", password: config.requireSecret("managingPassword") },
    ssl: { mode: "disable" },
  };
  class StandIn extends pulumi.dynamic.Resource {
    constructor(name, args) {
      const provider = require("fleet-stand-in");
      super(provider, name, args, { additionalSecretOutputs: ["current", "previous", "state"] });
    }
  }
  for (let i = 0; i < count; i++) {
    const args = {
      database,
      rotateUsers: { username1: "fleet_" + i + "_a", username2: "fleet_" + i + "_b" },
      rotationTrigger: trigger,
      liveSessions: "ignore",
    };
    if (mode === "stand-in") new StandIn("pair-" + i, args);
    else new PostgresRotation("pair-" + i, args);
  }
}
`;

/**
 * The stand-in's provider: outputs shaped by the package's own \`buildOutputs\`, new random
 * passwords on every update, no database. Installed as a package so that its serialized provider
 * is a \`require\` by name, as the rotation's is.
 */
const STAND_IN = `
const { randomBytes, randomUUID } = require("node:crypto");
const path = require("node:path");
const root = path.dirname(require.resolve("pulumi-postgres-rotator/package.json"));
const { buildOutputs } = require(path.join(root, "dist", "provider", "core", "outputs.js"));
const password = () => randomBytes(24).toString("base64url");
function outputs(inputs) {
  const { username1, username2 } = inputs.rotateUsers;
  return buildOutputs(
    inputs,
    { current: { username: username2, password: password() }, previous: { username: username1, password: password() } },
    new Date().toISOString(),
    { [username1]: randomUUID(), [username2]: randomUUID() },
  );
}
module.exports = {
  create: async (inputs) => ({ id: randomUUID(), outs: outputs(inputs) }),
  diff: async (id, olds, news) => ({ changes: olds.rotationTrigger !== news.rotationTrigger }),
  update: async (id, olds, news) => ({ outs: outputs(news) }),
};
`;

interface Sample {
  seconds: number;
  stateBytes: number;
  peakConnections: number;
  peakProviderKiB: number;
}

async function setUp(server: EmbeddedPostgres, count: number, managerPassword: string) {
  const admin = await server.connectAsSuperuser();
  await admin.query("CREATE DATABASE app");
  await admin.end();
  const client = await server.connectAsSuperuser("app");
  const statements = ["BEGIN", "CREATE ROLE fleet_manager LOGIN CREATEROLE"];
  for (let i = 0; i < count; i++) {
    for (const user of [`fleet_${i}_a`, `fleet_${i}_b`]) {
      statements.push(`CREATE ROLE ${quoteIdentifier(user)} LOGIN`);
      statements.push(
        `GRANT ${quoteIdentifier(user)} TO fleet_manager WITH ADMIN TRUE, INHERIT FALSE, SET FALSE`,
      );
    }
  }
  statements.push(`ALTER ROLE fleet_manager PASSWORD '${scramSha256Verifier(managerPassword)}'`);
  statements.push("COMMIT");
  await client.query(statements.join(";\n"));
  await client.end();
}

/** Peak connections to the server and peak RSS of the dynamic provider host, while `work` runs. */
async function watch<T>(server: EmbeddedPostgres, work: () => Promise<T>) {
  const peaks = { connections: 0, providerKiB: 0 };
  const monitor = await server.connectAsSuperuser();
  let running = true;
  const poll = (async () => {
    while (running) {
      const { rows } = await monitor.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()",
      );
      peaks.connections = Math.max(peaks.connections, rows[0].n);
      peaks.providerKiB = Math.max(peaks.providerKiB, providerHostPeakKiB());
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  try {
    const result = await work();
    return { result, peaks };
  } finally {
    running = false;
    await poll;
    await monitor.end();
  }
}

/** The dynamic provider host's peak resident memory (VmHWM), from /proc. */
function providerHostPeakKiB(): number {
  let peak = 0;
  for (const pid of fs.readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8");
      if (!cmdline.includes("dynamic") || !cmdline.includes("node")) continue;
      const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
      const hwm = /VmHWM:\s+(\d+) kB/.exec(status);
      if (hwm) peak = Math.max(peak, Number(hwm[1]));
    } catch {
      // The process ended meanwhile.
    }
  }
  return peak;
}

async function measure(count: number, mode: Mode): Promise<Sample> {
  const server = await startPostgres({
    major: MAJOR,
    logStatements: false,
    settings: { max_connections: 200 },
  });
  const installed = installPackedPackage();
  const managerPassword = generatePassword();
  try {
    if (mode === "rotate") await setUp(server, count, managerPassword);
    fs.writeFileSync(
      path.join(installed.projectDir, "Pulumi.yaml"),
      "name: fleet\nruntime: nodejs\n",
    );
    fs.writeFileSync(path.join(installed.projectDir, "index.js"), PROGRAM);
    const standIn = path.join(installed.projectDir, "node_modules", "fleet-stand-in");
    fs.mkdirSync(standIn, { recursive: true });
    fs.writeFileSync(path.join(standIn, "index.js"), STAND_IN);
    const program = await localProgramStack({
      programDir: installed.projectDir,
      inPlace: true,
      stackName: "fleet",
    });
    try {
      await program.stack.setAllConfig({
        count: { value: String(count) },
        mode: { value: mode },
        host: { value: server.host },
        port: { value: String(server.port) },
        managingPassword: { value: managerPassword, secret: true },
        rotationTrigger: { value: "1" },
      });
      await program.stack.up();
      await program.stack.setConfig("rotationTrigger", { value: "2" });
      const started = process.hrtime.bigint();
      const { peaks } = await watch(server, () => program.stack.up());
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const stateBytes = Buffer.byteLength(JSON.stringify(program.exportState()));
      return {
        seconds,
        stateBytes,
        peakConnections: peaks.connections,
        peakProviderKiB: peaks.providerKiB,
      };
    } finally {
      await program.stack.destroy().catch(() => undefined);
      program.remove();
    }
  } finally {
    installed.remove();
    await server.stop();
  }
}

/**
 * The bounds the README documents: connections to the server from one provider process (the
 * pool's default `PULUMI_POSTGRES_ROTATOR_MAX_CONNECTIONS`), and the provider host's peak memory.
 */
const CONNECTION_BOUND = DEFAULT_MAX_CONNECTIONS;
const PROVIDER_MEMORY_BOUND_MIB = 256;

async function main() {
  const rows: string[] = [];
  const exceeded: string[] = [];
  for (const count of COUNTS) {
    const samples: Record<Mode, Sample[]> = { noop: [], "stand-in": [], rotate: [] };
    for (let repeat = 0; repeat < REPEATS; repeat++) {
      for (const mode of MODES) samples[mode].push(await measure(count, mode));
      const [noop, standIn, rotate] = MODES.map((mode) => samples[mode][repeat]);
      console.log(
        `N = ${count}, repeat ${repeat + 1} of ${REPEATS}: rotations ${rotate.seconds.toFixed(1)} s, ` +
          `stand-in ${standIn.seconds.toFixed(1)} s, no-op ${noop.seconds.toFixed(1)} s`,
      );
    }
    for (const rotate of samples.rotate) {
      if (rotate.peakConnections > CONNECTION_BOUND) {
        exceeded.push(`N = ${count}: ${rotate.peakConnections} connections`);
      }
      if (rotate.peakProviderKiB / 1024 > PROVIDER_MEMORY_BOUND_MIB) {
        exceeded.push(
          `N = ${count}: provider RSS ${Math.round(rotate.peakProviderKiB / 1024)} MiB`,
        );
      }
    }
    const seconds = (mode: Mode) => median(samples[mode].map((s) => s.seconds));
    const ratios = samples.rotate.map((r, i) => r.seconds / samples.noop[i].seconds);
    const toStandIn = samples.rotate.map((r, i) => r.seconds / samples["stand-in"][i].seconds);
    const perResource = (mode: Mode) =>
      `${(samples[mode][0].stateBytes / count / 1024).toFixed(1)} KiB`.padStart(9);
    const peak = (mode: Mode, key: "peakConnections" | "peakProviderKiB") =>
      Math.max(...samples[mode].map((s) => s[key]));
    rows.push(
      [
        String(count).padStart(4),
        `${seconds("rotate").toFixed(1)} s`.padStart(8),
        `${seconds("stand-in").toFixed(1)} s`.padStart(8),
        `${seconds("noop").toFixed(1)} s`.padStart(8),
        median(ratios).toFixed(2).padStart(6),
        `${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)}`.padStart(10),
        median(toStandIn).toFixed(2).padStart(9),
        perResource("rotate"),
        perResource("stand-in"),
        perResource("noop"),
        String(peak("rotate", "peakConnections")).padStart(5),
        `${Math.round(peak("rotate", "peakProviderKiB") / 1024)} MiB`.padStart(8),
        `${Math.round(peak("noop", "peakProviderKiB") / 1024)} MiB`.padStart(8),
      ].join("  "),
    );
  }
  console.log(
    `PostgreSQL ${MAJOR}, one pulumi up after a rotationTrigger bump, median of ${REPEATS} ` +
      `repeat(s) (Node ${process.version})`,
  );
  console.log(
    "       ---------- time ----------  --- rotations / no-op ---  rotations  ------- state per resource -------  peak  -- provider RSS --",
  );
  console.log(
    "   N  rotations  stand-in    no-op   median       range  / stand-in  rotations  stand-in    no-op   conn  rotations  no-op",
  );
  for (const row of rows) console.log(row);
  console.log(
    `bounds: at most ${CONNECTION_BOUND} connections, provider host at most ` +
      `${PROVIDER_MEMORY_BOUND_MIB} MiB: ${exceeded.length === 0 ? "held" : `EXCEEDED (${exceeded.join("; ")})`}`,
  );
  if (exceeded.length > 0) process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
