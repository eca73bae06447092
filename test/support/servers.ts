/**
 * One real PostgreSQL server per major, started on first use and shared by every test file,
 * each with a least-privilege managing user set up the way README.md says.
 */
import { randomBytes } from "node:crypto";
import type { Client } from "pg";
import { Client as PgClient } from "pg";
import {
  SUPPORTED_MAJORS,
  startPostgres,
  type EmbeddedPostgres,
  type PostgresMajor,
  type StartOptions,
} from "../../scripts/embeddedPostgres";
import { scramSha256Verifier } from "../../provider/core/scram";
import { quoteIdentifier } from "../../provider/postgres/sql";
import type { Credential, DatabaseConfig } from "../../provider/core/types";
import { setupSql } from "../../scripts/setupSql";

export { SUPPORTED_MAJORS, type PostgresMajor };

/** Majors to test, `PG_MAJORS=16,17` narrows the run while developing. */
export const TEST_MAJORS: readonly PostgresMajor[] = process.env.PG_MAJORS
  ? (process.env.PG_MAJORS.split(",").map(Number) as PostgresMajor[])
  : SUPPORTED_MAJORS;

export const DATABASE = "app";

export interface TestCluster {
  readonly server: EmbeddedPostgres;
  readonly manager: Credential;
  /** `database` input for this cluster: plaintext (the test servers have no TLS). */
  readonly database: DatabaseConfig;
  /** Creates a fresh pair (and its group role) the README way; returns its names. */
  createPair(
    username1?: string,
    username2?: string,
  ): Promise<{ username1: string; username2: string }>;
  /** Creates a fresh group role the README way (for `PostgresUserPair`); returns its name. */
  createGroup(group?: string): Promise<string>;
  /** Runs SQL as the superuser (setup and inspection only). */
  asSuperuser<T>(work: (client: Client) => Promise<T>): Promise<T>;
  /** Sets a password as the superuser, sent as a verifier. */
  setPassword(username: string, password: string): Promise<void>;
  /** True when `username` can log in with `password`. */
  canLogin(username: string, password: string | undefined): Promise<boolean>;
}

const clusters = new Map<string, Promise<TestCluster>>();
const servers: EmbeddedPostgres[] = [];
/** The servers of `privateCluster`, a subset of `servers`. */
const privateServers = new Set<EmbeddedPostgres>();
let counter = 0;

/** A unique role name with a readable prefix. */
export function uniqueName(prefix: string): string {
  counter += 1;
  return `${prefix}_${counter}_${randomBytes(3).toString("hex")}`;
}

/** The shared server of `major` (started on first call). */
export function cluster(
  major: PostgresMajor,
  options: Partial<StartOptions> = {},
): Promise<TestCluster> {
  const key = `${major}:${JSON.stringify(options)}`;
  let found = clusters.get(key);
  if (!found) {
    found = startCluster({ ...options, major });
    clusters.set(key, found);
  }
  return found;
}

/** A server of its own for a test that changes server settings; stopped with the others. */
export function privateCluster(options: StartOptions): Promise<TestCluster> {
  return startCluster(options, true);
}

async function startCluster(options: StartOptions, isPrivate = false): Promise<TestCluster> {
  const server = await startPostgres(options);
  servers.push(server);
  if (isPrivate) privateServers.add(server);
  const asSuperuser = async <T>(work: (client: Client) => Promise<T>, database = DATABASE) => {
    const client = await server.connectAsSuperuser(database);
    try {
      return await work(client);
    } finally {
      await client.end();
    }
  };
  await asSuperuser((c) => c.query(`CREATE DATABASE ${DATABASE}`), "postgres");

  const manager = { username: "rotation_manager", password: randomBytes(18).toString("base64url") };
  const names = (username1: string, username2: string, group: string) => ({
    manager: manager.username,
    group,
    username1,
    username2,
    database: DATABASE,
  });
  const setPassword = (username: string, password: string) =>
    asSuperuser(async (c) => {
      await c.query(
        `ALTER ROLE ${quoteIdentifier(username)} PASSWORD '${scramSha256Verifier(password)}'`,
      );
    });
  await asSuperuser(async (c) => {
    for (const sql of setupSql("manager", names("u1", "u2", "g"))) await c.query(sql);
  });
  await setPassword(manager.username, manager.password);

  const tag = options.major >= 16 ? "pair:16+" : "pair:13-15";
  return {
    server,
    manager,
    database: {
      host: server.host,
      port: server.port,
      database: DATABASE,
      managingUser: manager,
      ssl: { mode: "disable" },
    },
    asSuperuser: (work) => asSuperuser(work),
    setPassword,
    async createPair(username1 = uniqueName("app_user"), username2 = uniqueName("app_user")) {
      await asSuperuser(async (c) => {
        for (const sql of setupSql(tag, names(username1, username2, uniqueName("app_users")))) {
          await c.query(sql);
        }
      });
      return { username1, username2 };
    },
    async createGroup(group = uniqueName("app_users")) {
      const tags = options.major >= 16 ? ["group", "group:16+"] : ["group"];
      await asSuperuser(async (c) => {
        for (const tag of tags) {
          for (const sql of setupSql(tag, names("u1", "u2", group))) await c.query(sql);
        }
      });
      return group;
    },
    async canLogin(username, password) {
      if (password === undefined) return false;
      const client = new PgClient({
        host: server.host,
        port: server.port,
        database: DATABASE,
        user: username,
        password,
        ssl: false,
        // pg's defaults (scramMaxIterations included): the login an app on pg would make.
      });
      client.on("error", () => undefined);
      try {
        await client.connect();
        await client.query("SELECT 1");
        return true;
      } catch (error) {
        if ((error as { code?: string }).code === "28P01") return false;
        throw error;
      } finally {
        await client.end().catch(() => undefined);
      }
    },
  };
}

/** Stops every server started by this module. */
export async function stopAllClusters(): Promise<void> {
  await Promise.all(servers.splice(0).map((s) => s.stop()));
  clusters.clear();
  privateServers.clear();
}

/**
 * Ends every client session left on the shared servers (the superuser's own reserved slots
 * stay free): under `npm run mutation:server` a mutant that leaks connections (one that never
 * ends a client, say) must not leave the runs of the next mutants none to log in with.
 */
export async function endSharedClientSessions(): Promise<void> {
  await Promise.all(
    [...clusters.values()].map(async (found) => {
      const pg = await found.catch(() => undefined);
      await pg?.asSuperuser((c) =>
        c.query(
          `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
           WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()`,
        ),
      );
    }),
  );
}

/**
 * Stops the servers of `privateCluster` only; the shared ones stay up for the next run of the
 * same tests in this process (`npm run mutation:server` runs them once per mutant).
 */
export async function stopPrivateClusters(): Promise<void> {
  const stopping = servers.filter((s) => privateServers.has(s));
  servers.splice(0, servers.length, ...servers.filter((s) => !privateServers.has(s)));
  privateServers.clear();
  await Promise.all(stopping.map((s) => s.stop()));
}
