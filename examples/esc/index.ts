/**
 * The seed's two ESC environments (credentials, rotator) and a `PostgresRotation` that keeps
 * its state in the rotator environment, so that ESC serves `current` to apps and a rotation
 * done by ESC itself is respected by the next `pulumi up`. See README.md here.
 *
 * Needs PULUMI_ACCESS_TOKEN (or the secret config `escAccessToken`) with rights to create
 * environments in `escOrganization`.
 */
import * as pulumi from "@pulumi/pulumi";
import {
  EscEnvironment,
  PostgresRotation,
  credentialsEnvironmentYaml,
  rotatorEnvironmentYaml,
  type SslMode,
} from "pulumi-postgres-rotator";

const config = new pulumi.Config();
const organization = config.require("escOrganization");
const project = config.get("escProject") ?? "postgres-rotator";
const credentialsName = config.get("escCredentialsEnvironment") ?? "db-credentials";
const rotatorName = config.get("escRotatorEnvironment") ?? "db-rotator";
/** For self-hosted Pulumi Cloud. */
const apiUrl = config.get("escApiUrl");
const accessToken = config.getSecret("escAccessToken");
const esc = {
  organization,
  project,
  ...(apiUrl ? { apiUrl } : {}),
  ...(accessToken ? { accessToken } : {}),
};

const host = config.require("host");
const port = config.getNumber("port") ?? 5432;
const database = config.require("database");
const managingUser = config.require("managingUser");
const managingPassword = config.requireSecret("managingPassword");
const rotateUsers = {
  username1: config.require("username1"),
  username2: config.require("username2"),
};

const credentials = new EscEnvironment("credentials", {
  ...esc,
  name: credentialsName,
  yaml: managingPassword.apply((password) =>
    credentialsEnvironmentYaml({ managingUser: { username: managingUser, password } }),
  ),
});

const rotator = new EscEnvironment(
  "rotator",
  {
    ...esc,
    name: rotatorName,
    yaml: rotatorEnvironmentYaml({
      credentials: { project, environment: credentialsName },
      database: { host, port, database },
      rotateUsers,
    }),
    // ESC rotations write this rotator's state; updates keep the newest.
    rotatorKey: "dbRotator",
  },
  { dependsOn: [credentials] },
);

const rotation = new PostgresRotation(
  "app-db",
  {
    database: {
      host,
      port,
      database,
      managingUser: { username: managingUser, password: managingPassword },
      ssl: { mode: (config.get("sslMode") as SslMode | undefined) ?? "verify-full" },
    },
    rotateUsers,
    rotationTrigger: config.require("rotationTrigger"),
    esc: { ...esc, environment: rotatorName },
  },
  { dependsOn: [rotator] },
);

export const currentUsername = rotation.currentUsername;
export const previousUsername = rotation.previousUsername;
/** Secret `{username, password}`, the same as ESC serves at `dbRotator.current`. */
export const current = rotation.current;
export const previous = rotation.previous;
