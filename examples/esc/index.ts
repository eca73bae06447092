/**
 * `RotatedPostgresCredentials` with Pulumi ESC: the component creates the two users and both
 * environments of the seed's layout (credentials for admins, the rotator with
 * `fn::rotate::postgres`), and keeps the state in the rotator environment, so ESC serves
 * `current` to apps and a rotation done by ESC itself is respected by the next `pulumi up`.
 * See README.md here.
 *
 * Needs PULUMI_ACCESS_TOKEN (or the secret config `escAccessToken`) with rights to create
 * environments in `escOrganization`.
 */
import * as pulumi from "@pulumi/pulumi";
import { RotatedPostgresCredentials, type SslMode } from "pulumi-postgres-rotator";

const config = new pulumi.Config();
const apiUrl = config.get("escApiUrl"); // self-hosted Pulumi Cloud only
const accessToken = config.getSecret("escAccessToken");

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
  esc: {
    organization: config.require("escOrganization"),
    project: config.get("escProject") ?? "postgres-rotator",
    credentialsEnvironment: config.get("escCredentialsEnvironment") ?? "db-credentials",
    rotatorEnvironment: config.get("escRotatorEnvironment") ?? "db-rotator",
    ...(apiUrl ? { apiUrl } : {}),
    ...(accessToken ? { accessToken } : {}),
  },
});

export const currentUsername = credentials.currentUsername;
/** Where apps read `current`: `${environments.<project>.<rotator>.dbRotator.current}`. */
export const rotatorEnvironment = credentials.rotatorEnvironment;
export const credentialsEnvironment = credentials.credentialsEnvironment;
/** Secret `{username, password}`, the same as ESC serves at `dbRotator.current`. */
export const current = credentials.current;
export const previous = credentials.previous;
