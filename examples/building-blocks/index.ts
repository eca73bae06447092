/**
 * The building blocks without the component: `PostgresUserPair` creates the two users (the
 * database needs only the managing user and the group role), and `PostgresRotation` starts from
 * their initial passwords, so both are known from the first `pulumi up`.
 *
 *     pulumi config set host db.internal
 *     pulumi config set database app
 *     pulumi config set managingUser rotation_manager
 *     pulumi config set --secret managingPassword '…'
 *     pulumi config set group app_users
 *     pulumi config set rotationTrigger 1
 *     pulumi up                                          # creates app_user_1 and app_user_2
 *     pulumi config set rotationTrigger 2 && pulumi up   # rotates app_user_2
 */
import * as pulumi from "@pulumi/pulumi";
import { PostgresRotation, PostgresUserPair, type SslMode } from "pulumi-postgres-rotator";

const config = new pulumi.Config();
const database = {
  host: config.require("host"),
  port: config.getNumber("port") ?? 5432,
  database: config.require("database"),
  managingUser: {
    username: config.require("managingUser"),
    password: config.requireSecret("managingPassword"),
  },
  ssl: { mode: (config.get("sslMode") as SslMode | undefined) ?? "verify-full" },
};
const rotateUsers = {
  username1: config.get("username1") ?? "app_user_1",
  username2: config.get("username2") ?? "app_user_2",
};

const users = new PostgresUserPair("app-users", {
  database,
  rotateUsers,
  memberOf: [config.require("group")],
});

const rotation = new PostgresRotation("app-db", {
  database,
  rotateUsers,
  // Both users' initial passwords: the first rotation changes username2, username1 stays current.
  state: users.initialState,
  rotationTrigger: config.require("rotationTrigger"),
});

export const created = users.created;
export const currentUsername = rotation.currentUsername;
/** Secret `{username, password}`: `pulumi stack output --show-secrets current`. */
export const current = rotation.current;
export const previous = rotation.previous;
