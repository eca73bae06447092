/**
 * `PostgresRotation`: a Pulumi resource that keeps a pair of PostgreSQL roles rotating with
 * zero downtime, as Pulumi ESC's `fn::rotate::postgres` does, connecting directly to the
 * database from where `pulumi up` runs.
 */
import * as pulumi from "@pulumi/pulumi";
import type {
  Credential,
  LiveSessionsPolicy,
  OwnershipPolicy,
  PasswordPolicy,
  PreviousCredential,
  Timeouts,
} from "../core/types";
import {
  isPlainObject,
  withSecretPassword,
  type CredentialArgs,
  type DatabaseArgs,
  type UserPairArgs,
} from "../args";
import * as postgresRotationProvider from "./postgresRotationProvider";
import { asPluginResource } from "../registration";

export type {
  AwsLambdaConnectorArgs,
  ConnectorArgs,
  CredentialArgs,
  DatabaseArgs,
  SslArgs,
  UserPairArgs,
} from "../args";

export interface EscStateArgs {
  /** Pulumi Cloud organization. */
  readonly organization: pulumi.Input<string>;
  /** ESC project of the rotator environment. */
  readonly project: pulumi.Input<string>;
  /** The rotator environment's name. */
  readonly environment: pulumi.Input<string>;
  /** Key under `values` of its `fn::rotate::postgres`. @default "dbRotator" */
  readonly key?: pulumi.Input<string>;
  /** Pulumi access token (stored encrypted); `PULUMI_ACCESS_TOKEN` when absent. */
  readonly accessToken?: pulumi.Input<string>;
  /** Pulumi Cloud API URL, for self-hosted Pulumi Cloud. @default "https://api.pulumi.com" */
  readonly apiUrl?: pulumi.Input<string>;
}

export interface StateArgs {
  /** Credentials that work now and that apps may already use. */
  readonly current: pulumi.Input<CredentialArgs>;
  /** The other role; its password may be left out. */
  readonly previous?: pulumi.Input<{
    readonly username: pulumi.Input<string>;
    readonly password?: pulumi.Input<string>;
  }>;
}

export interface PostgresRotationArgs {
  /** Where the database is and who may change passwords there. */
  readonly database: pulumi.Input<DatabaseArgs>;
  /**
   * The two roles that take turns. A new pair that still holds the current user is an update
   * that keeps it current; any other new pair creates a new `PostgresRotation`.
   */
  readonly rotateUsers: pulumi.Input<UserPairArgs>;
  /**
   * Existing working credentials to adopt instead of rotating on create ("users you want to use
   * right away" in the ESC docs). Checked by logging in. Giving a different `state` later adopts
   * it again. Stored encrypted. Absent (undefined, or the `null` the engine sends for
   * `PostgresUserPair.initialState` when the pair has none) is no state: on create it rotates
   * first, on an update it keeps the state it has.
   */
  readonly state?: pulumi.Input<StateArgs | undefined>;
  /**
   * Any value; whenever it changes, the previous role gets a new password and becomes current.
   * Rotate by bumping it, e.g. `pulumi config set rotationTrigger 2026-11-26 && pulumi up`.
   * Rotate no more often than your apps re-read their credentials.
   */
  readonly rotationTrigger?: pulumi.Input<string | number>;
  /**
   * Also rotate, on any `pulumi up`, once the current password is this old: a whole number of
   * minutes (`m`), hours (`h`) or days (`d`), at least `"1h"`. Whichever comes first, this or a
   * change of `rotationTrigger`. The age runs from the last rotation (or adoption of `state`)
   * in this resource's state and, with `esc`, from ESC's last rotation of the pair in its
   * rotation history, whichever is later. `pulumi preview` shows the pending rotation as an
   * update and prints why. Nothing rotates between deployments: run `pulumi up` regularly.
   * @default none: only `rotationTrigger` rotates
   * @example "30d"
   */
  readonly rotateAfter?: pulumi.Input<string>;
  /** How new passwords are generated. @default { length: 32, characters: URL-safe } */
  readonly passwordPolicy?: pulumi.Input<PasswordPolicy>;
  /**
   * PBKDF2 iterations of the SCRAM-SHA-256 verifier sent instead of the password, from 4096 to
   * 100,000 (`MAX_SCRAM_ITERATIONS`): node-postgres refuses, with its default
   * `scramMaxIterations`, to log in with a verifier of more, so more is refused before anything
   * changes. Raise it as PostgreSQL 16's `scram_iterations` would. @default 4096
   */
  readonly scramIterations?: pulumi.Input<number>;
  /**
   * The ESC rotator environment that also holds this pair's state (its `fn::rotate::postgres`
   * under `values.<key>`). Before each rotation the newest state is read from ESC (a rotation
   * ESC did in between is respected; its current credentials must log in, or nothing changes),
   * and the new state is written back as a new revision of exactly the revision read (HTTP 409,
   * nothing overwritten, if ESC changed meanwhile).
   */
  readonly esc?: pulumi.Input<EscStateArgs>;
  /** Connect, statement and lock-wait limits. @default { connectSeconds: 10, statementSeconds: 30, lockSeconds: 60 } */
  readonly timeouts?: pulumi.Input<Timeouts>;
  /**
   * The guard for live apps: before the previous user gets a new password, its open sessions
   * (apps that never moved to `current`, pools that will reconnect with the old password) are
   * counted. `"refuse"`: nothing changes, and the error names the sessions' count, client
   * addresses and the oldest one's start; `"warn"`: rotate, and print that; `"ignore"`: do not
   * look. Through a connector, only this package's connector can look.
   * @default "refuse"
   */
  readonly liveSessions?: pulumi.Input<LiveSessionsPolicy>;
  /**
   * The ownership guard: before the switch, the database objects either user owns itself (a
   * table a migration created while apps ran as it, a sequence, a schema, a database, …) are
   * counted; after it the other user could not ALTER, DROP or TRUNCATE them, and the next
   * migration would fail. `"warn"`: rotate, and print the count, a few names and the fix
   * (`ownerRole`, or `REASSIGN OWNED BY <user> TO <group>`); `"refuse"`: nothing changes, and
   * the error says the same; `"ignore"`: do not look. Objects in the connected database are
   * named, other databases' only counted. Through a connector, only this package's connector
   * can look.
   * @default "warn"
   * @example "refuse"
   */
  readonly ownership?: pulumi.Input<OwnershipPolicy>;
  /**
   * How long, in seconds, a session of the user about to change must have been idle (state
   * `idle` in `pg_stat_activity`, not in a transaction, measured from its last state change) to
   * be taken for a pooler's parked server connection rather than an app still using the
   * password: such sessions are reported in a warning and do not stop the rotation, while a
   * session that is active, idle in a transaction or idle for less than this still does (under
   * `liveSessions: "refuse"`). PgBouncer and RDS Proxy keep server connections of a user for a
   * while after the apps moved away (PgBouncer: `server_idle_timeout`, 600 s by default, or for
   * good with `min_pool_size`). The default, one hour, is the refresh interval the README's
   * advice assumes: apps that refresh hourly and a rotation at most every two hours leave the
   * previous user's connections idle for at least an hour by the next rotation, while app-side
   * pools close idle connections much sooner (node-postgres after 10 s, HikariCP after 10 min).
   * Set it to your apps' refresh interval. Telling idle sessions needs `pg_read_all_stats` for
   * the managing user; a session whose state it may not see counts as in use.
   * @default 3600
   * @example 900
   */
  readonly liveSessionsIdleSeconds?: pulumi.Input<number>;
}

/** Outputs that hold a password: encrypted in the state whatever the program does. */
export const SECRET_OUTPUTS = ["current", "previous", "state"];

/**
 * Rotates the password of one of two PostgreSQL roles whenever `rotationTrigger` changes (or,
 * with `rotateAfter`, once the password is that old). The
 * role that apps use now (`current`) is never touched: the other one gets a fresh password,
 * verified by logging in, and becomes `current`.
 *
 * Deleting this resource leaves both roles and their passwords as they are.
 *
 * @example
 * const rotation = new PostgresRotation("app-db", {
 *   database: { host: "db.internal", database: "app",
 *               managingUser: { username: "rotation_manager", password: managerPassword } },
 *   rotateUsers: { username1: "app_user_1", username2: "app_user_2" },
 *   rotationTrigger: config.require("rotationTrigger"),
 * });
 * export const username = rotation.currentUsername;
 */
export class PostgresRotation extends pulumi.dynamic.Resource {
  /** The credentials apps should use now (secret). */
  declare readonly current: pulumi.Output<Credential>;
  /** The other role, valid until the next rotation; no password right after the first (secret). */
  declare readonly previous: pulumi.Output<PreviousCredential>;
  /** `current.username`, not secret. */
  declare readonly currentUsername: pulumi.Output<string>;
  /** `previous.username`, not secret. */
  declare readonly previousUsername: pulumi.Output<string>;
  /** When a password was last changed (ISO 8601); undefined while adopted state is unrotated. */
  declare readonly rotatedAt: pulumi.Output<string | undefined>;
  /** The `rotationTrigger` that produced the current outputs. */
  declare readonly rotationTrigger: pulumi.Output<string | number | undefined>;

  constructor(name: string, args: PostgresRotationArgs, opts?: pulumi.CustomResourceOptions) {
    const props = {
      ...givenInputs(args),
      rotationTrigger: args.rotationTrigger,
      current: undefined,
      previous: undefined,
      currentUsername: undefined,
      previousUsername: undefined,
      rotatedAt: undefined,
    };
    const options = pulumi.mergeOptions(opts, { additionalSecretOutputs: SECRET_OUTPUTS });
    const served = asPluginResource<PostgresRotation>("PostgresRotation", name, props, options);
    if (served) return served;
    super(postgresRotationProvider, name, props, options, "postgres-rotator", "PostgresRotation");
  }
}

/**
 * The inputs the caller gave (keys whose value is undefined left out), their secrets marked. The
 * SDK makes a resource property, four promises each with a stack trace, for every key it is
 * given, which a fleet of rotations pays for in its program's CPU.
 */
function givenInputs(args: PostgresRotationArgs): Record<string, unknown> {
  const given: Record<string, unknown> = Object.fromEntries(
    Object.entries(args).filter(([, value]) => value !== undefined),
  );
  given.database = withSecretPassword(args.database);
  if (args.state !== undefined) given.state = pulumi.secret(args.state);
  if (args.esc !== undefined) given.esc = withSecretToken(args.esc);
  return given;
}

/** `esc` with its access token marked secret (all of it, when it is one opaque Output). */
function withSecretToken(esc: pulumi.Input<EscStateArgs>): pulumi.Input<EscStateArgs> {
  if (!isPlainObject(esc)) return pulumi.secret(esc);
  const plain = esc as EscStateArgs;
  return plain.accessToken === undefined
    ? plain
    : { ...plain, accessToken: pulumi.secret(plain.accessToken) };
}
