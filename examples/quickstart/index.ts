/**
 * Quickstart: rotate a pair of PostgreSQL users from a Pulumi program. See README.md here.
 *
 *     pulumi config set host db.internal
 *     pulumi config set database app
 *     pulumi config set managingUser rotation_manager
 *     pulumi config set --secret managingPassword '…'
 *     pulumi config set username1 app_user_1
 *     pulumi config set username2 app_user_2
 *     pulumi config set rotationTrigger 1
 *     pulumi up                                          # rotates app_user_1
 *     pulumi config set rotationTrigger 2 && pulumi up   # rotates app_user_2
 */
import * as pulumi from "@pulumi/pulumi";
import { PostgresRotation, type SslMode } from "pulumi-postgres-rotator";

const config = new pulumi.Config();

const rotation = new PostgresRotation("app-db", {
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
    username1: config.require("username1"),
    username2: config.require("username2"),
  },
  rotationTrigger: config.require("rotationTrigger"),
});

export const currentUsername = rotation.currentUsername;
export const previousUsername = rotation.previousUsername;
export const rotatedAt = rotation.rotatedAt;
/** Secret `{username, password}`: `pulumi stack output --show-secrets current`. */
export const current = rotation.current;
/** Secret `{username, password}` of the other user (no password before the second rotation). */
export const previous = rotation.previous;
