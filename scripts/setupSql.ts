/**
 * The setup SQL exactly as README.md tells users to run it, so the tests and the demo set up
 * their managing user the documented way and the README cannot drift from what is run.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { quoteIdentifier } from "../provider/postgres/sql";

const README = path.join(__dirname, "..", "README.md");

/** The SQL block that follows `<!-- setup-sql:<tag> -->` in the README. */
export function readmeSql(tag: string): string {
  const text = fs.readFileSync(README, "utf8");
  const marker = `<!-- setup-sql:${tag} -->`;
  const at = text.indexOf(marker);
  if (at < 0) throw new Error(`README.md has no ${marker}`);
  const block = /```sql\n([\s\S]*?)```/.exec(text.slice(at));
  if (!block) throw new Error(`README.md has no sql block after ${marker}`);
  return block[1];
}

export interface SetupNames {
  readonly manager: string;
  readonly group: string;
  readonly username1: string;
  readonly username2: string;
  readonly database: string;
}

/** The README's SQL with its example names replaced by `names` (quoted as identifiers). */
export function setupSql(tag: string, names: SetupNames): string[] {
  const byToken: Record<string, string> = {
    rotation_manager: names.manager,
    app_users: names.group,
    app_user_1: names.username1,
    app_user_2: names.username2,
    app: names.database,
  };
  // One pass, so a substituted name is never substituted again.
  const tokens = /\b(rotation_manager|app_users|app_user_1|app_user_2)\b|(?<=DATABASE )(app)\b/g;
  return readmeSql(tag)
    .split("\n")
    .filter((line) => line.trim() && !line.trim().startsWith("--"))
    .join("\n")
    .split(";")
    .map((statement) => statement.trim())
    .filter(Boolean)
    .map((statement) =>
      statement.replace(tokens, (token: string) => quoteIdentifier(byToken[token])),
    );
}
