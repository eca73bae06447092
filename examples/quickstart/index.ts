/**
 * Quickstart: two PostgreSQL users that take turns, created and rotated by one component.
 * The database needs only the managing user and a group role (README, "Setting up the
 * database"); the component creates app_user_1 and app_user_2. See README.md here.
 *
 *     pulumi config set host db.internal
 *     pulumi config set database app
 *     pulumi config set managingUser rotation_manager
 *     pulumi config set --secret managingPassword '…'
 *     pulumi config set rotationTrigger 1
 *     pulumi up                                          # creates both users, both passwords known
 *     pulumi config set rotationTrigger 2 && pulumi up   # rotates app_user_2; app_user_1 untouched
 *     pulumi config set rotateAfter 30d                  # optional: also rotate when 30 days old
 */
import * as pulumi from "@pulumi/pulumi";
import {
  RotatedPostgresCredentials,
  type OwnershipPolicy,
  type SslMode,
} from "pulumi-postgres-rotator";

const config = new pulumi.Config();

const credentials = new RotatedPostgresCredentials("app-db", {
  database: {
    host: config.require("host"),
    port: config.getNumber("port") ?? 5432,
    database: config.require("database"),
    managingUser: {
      username: config.require("managingUser"),
      password: config.requireSecret("managingPassword"),
    },
    ssl: { mode: (config.get("sslMode") as SslMode | undefined) ?? "verify-full" },
  },
  rotateUsers: {
    username1: config.get("username1") ?? "app_user_1",
    username2: config.get("username2") ?? "app_user_2",
  },
  memberOf: [config.get("group") ?? "app_users"],
  rotationTrigger: config.require("rotationTrigger"),
  // Objects a user owns itself (a migration's tables) are reported before a switch: "warn".
  ownership: config.get<OwnershipPolicy>("ownership"),
  // Optional: also rotate at the first `pulumi up` once the password is this old ("30d", "12h").
  rotateAfter: config.get("rotateAfter"),
});

export const currentUsername = credentials.currentUsername;
export const rotatedAt = credentials.rotatedAt;
/** Secret `{username, password}`: `pulumi stack output --show-secrets current`. */
export const current = credentials.current;
/** Secret `{username, password}` of the other user, valid until the next rotation. */
export const previous = credentials.previous;
