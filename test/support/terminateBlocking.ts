/**
 * Ends sessions on a test server from a child process this one waits for, so that this
 * process sees none of it happen until it next reads its sockets: a kept session looks alive
 * until its next statement fails, as in a Lambda frozen through a failover.
 */
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import type { Credential } from "../../provider/core/types";

/** Terminates every session of `username` and waits until the server has none left. */
export function terminateSessionsBlocking(
  server: { host: string; port: number },
  superuser: Credential,
  username: string,
): void {
  const script = `
    const { Client } = require("pg");
    const where = "FROM pg_stat_activity WHERE usename = $1";
    (async () => {
      const c = new Client(JSON.parse(process.env.TARGET));
      await c.connect();
      await c.query("SELECT pg_terminate_backend(pid) " + where, [process.env.USERNAME_TO_END]);
      while ((await c.query("SELECT count(*)::int AS n " + where, [process.env.USERNAME_TO_END])).rows[0].n > 0) {
        await new Promise((r) => setTimeout(r, 10));
      }
      await c.end();
    })().catch((e) => { console.error(e.message); process.exit(1); });`;
  const target = {
    ...server,
    user: superuser.username,
    password: superuser.password,
    database: "postgres",
  };
  const result = spawnSync(process.execPath, ["-e", script], {
    cwd: path.join(__dirname, "..", ".."),
    env: { ...process.env, TARGET: JSON.stringify(target), USERNAME_TO_END: username },
    encoding: "utf8",
  });
  if (result.status !== 0) throw new Error(`terminating failed: ${result.stderr}`);
}
