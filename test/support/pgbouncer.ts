/**
 * A real PgBouncer (Debian's package) in front of a test server, the way the README's "Poolers"
 * section sets it up: SCRAM-SHA-256 for clients, users' verifiers fetched from the server with
 * `auth_query` through an auth user and a SECURITY DEFINER function, transaction pooling. It
 * listens on a free loopback port and, when we are root, runs as the same unprivileged OS user
 * as the servers.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { freePort, serviceUser } from "../../scripts/embeddedPostgres";
import { scramSha256Verifier } from "../../provider/core/scram";
import { quoteIdentifier } from "../../provider/postgres/sql";
import { DATABASE, uniqueName, type TestCluster } from "./servers";

export interface PgBouncer {
  readonly host: string;
  readonly port: number;
  /** PgBouncer's own log so far. */
  readLog(): string;
  stop(): Promise<void>;
}

export interface PgBouncerOptions {
  /** Further `[pgbouncer]` settings (e.g. `server_idle_timeout`). */
  readonly settings?: Readonly<Record<string, string | number>>;
}

/** Starts PgBouncer (`binary`) in front of `pg`'s database; resolves once it accepts TCP. */
export async function startPgBouncer(
  binary: string,
  pg: TestCluster,
  options: PgBouncerOptions = {},
): Promise<PgBouncer> {
  const authUser = uniqueName("pgbouncer_auth");
  const authPassword = randomBytes(18).toString("base64url");
  const schema = uniqueName("pgbouncer");
  const fn = `${quoteIdentifier(schema)}.user_lookup`;
  await pg.asSuperuser(async (c) => {
    await c.query(
      `CREATE ROLE ${quoteIdentifier(authUser)} LOGIN PASSWORD '${scramSha256Verifier(authPassword)}'`,
    );
    await c.query(`CREATE SCHEMA ${quoteIdentifier(schema)}`);
    await c.query(
      `CREATE FUNCTION ${fn}(i_username text, OUT uname text, OUT phash text) ` +
        `RETURNS record LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog AS ` +
        `$$ SELECT usename::text, passwd::text FROM pg_catalog.pg_shadow WHERE usename = i_username $$`,
    );
    await c.query(`REVOKE ALL ON FUNCTION ${fn}(text) FROM PUBLIC`);
    await c.query(
      `GRANT USAGE ON SCHEMA ${quoteIdentifier(schema)} TO ${quoteIdentifier(authUser)}`,
    );
    await c.query(`GRANT EXECUTE ON FUNCTION ${fn}(text) TO ${quoteIdentifier(authUser)}`);
  });

  const runAs = serviceUser();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pgbouncer-"));
  const port = await freePort();
  const userlist = path.join(dir, "userlist.txt");
  const logFile = path.join(dir, "pgbouncer.log");
  fs.writeFileSync(userlist, `"${authUser}" "${authPassword}"\n`, { mode: 0o600 });
  const settings: Record<string, string | number> = {
    listen_addr: "127.0.0.1",
    listen_port: port,
    unix_socket_dir: "",
    auth_type: "scram-sha-256",
    auth_file: userlist,
    auth_user: authUser,
    auth_query: `SELECT uname, phash FROM ${schema}.user_lookup($1)`,
    pool_mode: "transaction",
    logfile: logFile,
    pidfile: path.join(dir, "pgbouncer.pid"),
    ignore_startup_parameters: "extra_float_digits",
    ...options.settings,
  };
  const ini =
    `[databases]\n${DATABASE} = host=${pg.server.host} port=${pg.server.port} dbname=${DATABASE}\n` +
    `[pgbouncer]\n${Object.entries(settings)
      .map(([k, v]) => `${k} = ${v}`)
      .join("\n")}\n`;
  const iniFile = path.join(dir, "pgbouncer.ini");
  fs.writeFileSync(iniFile, ini, { mode: 0o600 });
  fs.writeFileSync(logFile, "", { mode: 0o644 });
  if (runAs) {
    for (const file of [dir, userlist, iniFile, logFile]) fs.chownSync(file, runAs.uid, runAs.gid);
  }
  const child = spawn(binary, [iniFile], {
    stdio: ["ignore", "ignore", "pipe"],
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", LC_ALL: "C", LANG: "C" },
    ...(runAs ?? {}),
  });
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
  const readLog = () => fs.readFileSync(logFile, "utf8");
  for (let i = 0; ; i++) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, "127.0.0.1");
      socket.once("connect", () => resolve(true)).once("error", () => resolve(false));
      socket.once("close", () => socket.destroy());
      setTimeout(() => socket.destroy(), 200);
    });
    if (open) break;
    const gone = await Promise.race([exited, new Promise((r) => setTimeout(() => r("wait"), 50))]);
    if (gone !== "wait" || i > 200) {
      child.kill("SIGKILL");
      throw new Error(`PgBouncer did not start: ${stderr}\n${readLog()}`);
    }
  }
  return {
    host: "127.0.0.1",
    port,
    readLog,
    async stop() {
      if (child.exitCode === null) {
        child.kill("SIGTERM");
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
        if (child.exitCode === null) child.kill("SIGKILL");
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
