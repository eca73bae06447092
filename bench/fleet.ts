/**
 * Fleet scale: one `pulumi up` (the real CLI) that rotates N pairs on one server, against an
 * `up` of N no-op dynamic resources in the same run, both after a `rotationTrigger` bump.
 *
 * The program is plain JavaScript in a scratch project that installs the `npm pack`ed package,
 * as a user's would. For each N it reports the ratio of the two `up`s, the exported state's size
 * per resource, the peak number of connections to the server (sampled from `pg_stat_activity`
 * every 10 ms) and the provider host's peak memory (VmHWM of its process) against the no-op's,
 * and whether both stayed within the bounds the README documents (the exit code says too).
 *
 *     npm run bench:fleet              # or: npx tsx bench/fleet.ts [N ...]   (default 10 100)
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

const SIZES = process.argv.slice(2).map(Number).filter(Boolean);
const COUNTS = SIZES.length > 0 ? SIZES : [10, 100];
const MAJOR = 16;

const PROGRAM = `
const pulumi = require("@pulumi/pulumi");
const { PostgresRotation } = require("pulumi-postgres-rotator");
const config = new pulumi.Config();
const count = config.requireNumber("count");
const trigger = config.require("rotationTrigger");
if (config.require("mode") === "noop") {
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
  for (let i = 0; i < count; i++) {
    new PostgresRotation("pair-" + i, {
      database,
      rotateUsers: { username1: "fleet_" + i + "_a", username2: "fleet_" + i + "_b" },
      rotationTrigger: trigger,
      liveSessions: "ignore",
    });
  }
}
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

async function measure(count: number, mode: "rotate" | "noop"): Promise<Sample> {
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
    const noop = await measure(count, "noop");
    const rotate = await measure(count, "rotate");
    if (rotate.peakConnections > CONNECTION_BOUND) {
      exceeded.push(`N = ${count}: ${rotate.peakConnections} connections`);
    }
    if (rotate.peakProviderKiB / 1024 > PROVIDER_MEMORY_BOUND_MIB) {
      exceeded.push(`N = ${count}: provider RSS ${Math.round(rotate.peakProviderKiB / 1024)} MiB`);
    }
    rows.push(
      [
        String(count).padStart(4),
        `${rotate.seconds.toFixed(1)} s`.padStart(8),
        `${noop.seconds.toFixed(1)} s`.padStart(8),
        (rotate.seconds / noop.seconds).toFixed(2).padStart(6),
        `${(rotate.stateBytes / count / 1024).toFixed(1)} KiB`.padStart(10),
        `${(noop.stateBytes / count / 1024).toFixed(1)} KiB`.padStart(10),
        String(rotate.peakConnections).padStart(9),
        `${Math.round(rotate.peakProviderKiB / 1024)} MiB`.padStart(12),
        `${Math.round(noop.peakProviderKiB / 1024)} MiB`.padStart(10),
      ].join("  "),
    );
  }
  console.log(
    `PostgreSQL ${MAJOR}, one pulumi up after a rotationTrigger bump (Node ${process.version})`,
  );
  console.log(
    "   N  rotations     no-op   ratio  state/rot.  state/no-op  peak conn  provider RSS  no-op RSS",
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
