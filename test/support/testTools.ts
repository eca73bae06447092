/**
 * The test tools that are not npm packages (PgBouncer, psql, psycopg, a pgx program), from
 * scripts/ensure-test-tools.sh, which installs what is missing (CI runs it before the suites, so
 * there it only answers where they are). Run once per process.
 */
import { spawnSync } from "node:child_process";
import * as path from "node:path";

export interface TestTools {
  readonly PGBOUNCER: string;
  readonly PSQL: string;
  /** A Python with psycopg 3 (libpq from its binary wheel). */
  readonly PYTHON: string;
  /** test/support/drivers/pgx, built. */
  readonly PGX_LOGIN: string;
}

let found: { tools?: TestTools; reason?: string } | undefined;

/** The tools, or why they cannot be had (the script's own words). */
export function testTools(): { tools?: TestTools; reason?: string } {
  if (found) return found;
  const script = path.join(__dirname, "..", "..", "scripts", "ensure-test-tools.sh");
  const result = spawnSync("bash", [script], { encoding: "utf8", timeout: 900_000 });
  if (result.status !== 0) {
    const said = `${result.stderr ?? ""}`.trim().split("\n").slice(-5).join(" / ");
    found = { reason: `scripts/ensure-test-tools.sh failed: ${said || result.error?.message}` };
  } else {
    const pairs = result.stdout
      .trim()
      .split("\n")
      .map((line) => line.split("=", 2) as [string, string]);
    found = { tools: Object.fromEntries(pairs) as unknown as TestTools };
  }
  return found;
}
