/**
 * `npm run demo`: `RotatedPostgresCredentials` creating two users and rotating them twice with
 * zero downtime, with the real Pulumi CLI, on a throwaway server.
 *
 * 1. Starts an embedded PostgreSQL (SCRAM authentication, 127.0.0.1 only) and sets it up with
 *    README.md's SQL: a least-privilege managing user and the group role, nothing else.
 * 2. Deploys examples/quickstart on a local file backend (`pulumi up`): the component creates
 *    app_user_1 (current) and app_user_2, both with known passwords.
 * 3. Bumps the `rotationTrigger` config value and deploys again, twice: app_user_2, then
 *    app_user_1 get new passwords, and each time the old current user still logs in.
 * 4. Destroys the stack (the users stay), stops the server and deletes every file it made.
 *
 * After each step it prints who is current and previous, with proof that each known password
 * logs in; passwords themselves are never printed.
 */
import { randomBytes } from "node:crypto";
import * as path from "node:path";
import { Client } from "pg";
import { scramSha256Verifier } from "../provider/core/scram";
import { quoteIdentifier } from "../provider/postgres/sql";
import { startPostgres, type EmbeddedPostgres } from "./embeddedPostgres";
import { ensurePulumiCli, localProgramStack, type LocalProgramStack } from "./pulumiStack";
import { setupSql } from "./setupSql";

const MAJOR = 18;
const DATABASE = "app";
const NAMES = {
  manager: "rotation_manager",
  group: "app_users",
  username1: "app_user_1",
  username2: "app_user_2",
  database: DATABASE,
};

interface Credential {
  readonly username: string;
  readonly password?: string;
}

export interface DemoResult {
  /** `currentUsername` after each `up`. */
  readonly currents: string[];
  /** Whether every password the stack reported logged in. */
  readonly allLoggedIn: boolean;
  /**
   * Every password the demo handled (the managing user's and each one the stack reported), so
   * a test can prove that none was printed. The demo itself never prints this.
   */
  readonly passwords: readonly string[];
}

export async function runDemo(log: (line: string) => void = console.log): Promise<DemoResult> {
  const started = Date.now();
  const step = (text: string) => log(`[${((Date.now() - started) / 1000).toFixed(1)}s] ${text}`);
  let server: EmbeddedPostgres | undefined;
  let program: LocalProgramStack | undefined;
  let deployed = false;
  const currents: string[] = [];
  const passwords = new Set<string>();
  let allLoggedIn = true;
  try {
    step(
      "preparing the Pulumi CLI (if none is installed, a one-time build from its Go module: " +
        "usually 8-9 minutes on 2 cores)",
    );
    ensurePulumiCli();
    step(`starting PostgreSQL ${MAJOR} on 127.0.0.1 (SCRAM-SHA-256 passwords, throwaway data)`);
    server = await startPostgres({ major: MAJOR, logStatements: false });
    const managerPassword = randomBytes(18).toString("base64url");
    passwords.add(managerPassword);
    await setUp(server, managerPassword);
    step(
      `created the managing user ${NAMES.manager} (CREATEROLE, ADMIN on the group only) and ` +
        `the group role ${NAMES.group}; the users do not exist yet`,
    );

    program = await localProgramStack({
      programDir: path.join(__dirname, "..", "examples", "quickstart"),
      stackName: "demo",
    });
    const { stack } = program;
    await stack.setAllConfig({
      host: { value: server.host },
      port: { value: String(server.port) },
      database: { value: DATABASE },
      managingUser: { value: NAMES.manager },
      managingPassword: { value: managerPassword, secret: true },
      // The demo server listens on loopback without TLS; the default is verify-full.
      sslMode: { value: "disable" },
      rotationTrigger: { value: "1" },
    });
    step(
      `stack "demo" on a local file backend; rotationTrigger = 1; pulumi up (creates ` +
        `${NAMES.username1} and ${NAMES.username2}) …`,
    );

    const rows: string[][] = [];
    const record = async (label: string) => {
      const outputs = await stack.outputs();
      const current = outputs.current.value as Credential;
      const previous = outputs.previous.value as Credential;
      currents.push(current.username);
      for (const credential of [current, previous]) {
        if (credential.password !== undefined) passwords.add(credential.password);
      }
      const proof = async (credential: Credential) => {
        if (credential.password === undefined) return "password not known yet";
        const ok = await logsIn(server!, credential);
        allLoggedIn &&= ok;
        return ok ? "logs in ✓" : "LOGIN FAILED ✗";
      };
      rows.push([
        label,
        current.username,
        await proof(current),
        previous.username,
        await proof(previous),
      ]);
      printTable(log, rows);
    };

    const first = await stack.up();
    deployed = true;
    step(`pulumi up: ${summary(first.summary.resourceChanges)}`);
    await record("after first up");

    for (const [from, to] of [
      ["1", "2"],
      ["2", "3"],
    ]) {
      await stack.setConfig("rotationTrigger", { value: to });
      step(`pulumi config set rotationTrigger ${to}; pulumi up …`);
      const result = await stack.up();
      step(`pulumi up: ${summary(result.summary.resourceChanges)}`);
      await record(`after trigger ${from} → ${to}`);
    }

    step("pulumi destroy (the database users and their passwords stay as they are) …");
    await stack.destroy();
    deployed = false;
    await stack.workspace.removeStack("demo");
    step(
      allLoggedIn
        ? "done: users created, two rotations, every known password logs in, and each old " +
            "current kept working"
        : "done, but a login failed (see the table)",
    );
    return { currents, allLoggedIn, passwords: [...passwords] };
  } finally {
    if (deployed && program) await program.stack.destroy().catch(() => undefined);
    program?.remove();
    await server?.stop();
    step("server stopped and its files removed");
  }
}

async function setUp(server: EmbeddedPostgres, managerPassword: string): Promise<void> {
  const admin = await server.connectAsSuperuser();
  try {
    await admin.query(`CREATE DATABASE ${DATABASE}`);
  } finally {
    await admin.end();
  }
  const client = await server.connectAsSuperuser(DATABASE);
  try {
    const statements = [
      ...setupSql("manager", NAMES),
      ...setupSql("group", NAMES),
      ...(server.major >= 16 ? setupSql("group:16+", NAMES) : []),
    ];
    for (const sql of statements) await client.query(sql);
    // What psql's \password does: send a verifier, never the password.
    await client.query(
      `ALTER ROLE ${quoteIdentifier(NAMES.manager)} PASSWORD '${scramSha256Verifier(managerPassword)}'`,
    );
  } finally {
    await client.end();
  }
}

async function logsIn(server: EmbeddedPostgres, credential: Credential): Promise<boolean> {
  const client = new Client({
    host: server.host,
    port: server.port,
    database: DATABASE,
    user: credential.username,
    password: credential.password,
    ssl: false,
  });
  client.on("error", () => undefined);
  try {
    await client.connect();
    const { rows } = await client.query<{ user: string }>("SELECT current_user AS user");
    return rows[0]?.user === credential.username;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

function summary(changes: Record<string, number> | undefined): string {
  const parts = Object.entries(changes ?? {}).map(([kind, count]) => `${count} ${kind}`);
  return parts.join(", ") || "no changes";
}

function printTable(log: (line: string) => void, rows: string[][]): void {
  const header = ["", "current (apps use)", "", "previous", ""];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    ("  " + cells.map((c, i) => c.padEnd(widths[i])).join("  ")).trimEnd();
  log(line(header));
  for (const row of rows) log(line(row));
}

if (require.main === module) {
  runDemo().then(
    ({ allLoggedIn }) => process.exit(allLoggedIn ? 0 : 1),
    (error: unknown) => {
      console.error(`demo failed: ${error instanceof Error ? error.message : String(error)}`);
      process.exit(1);
    },
  );
}
