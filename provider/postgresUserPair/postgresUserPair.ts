/**
 * `PostgresUserPair`: the two users a rotation takes turns on, created (or adopted) and kept
 * identical: both LOGIN roles, members of exactly the same NOLOGIN group roles, with the same
 * connection limit and settings. No password of the pair is ever unknown.
 */
import * as pulumi from "@pulumi/pulumi";
import type { PasswordPolicy, PreviousCredential, Credential, Timeouts } from "../core/types";
import type { RoleSnapshot } from "../core/userPair";
import { withSecretPassword, type DatabaseArgs, type UserPairArgs } from "../args";
import * as postgresUserPairProvider from "./postgresUserPairProvider";
import { asPluginResource } from "../registration";

export interface PostgresUserPairArgs {
  /**
   * Where the database is and who creates the users: a role with `CREATEROLE` (on PostgreSQL
   * 16+ also the ADMIN option on every group role in `memberOf`; see the README's setup SQL).
   * Directly, or through the connector Lambda with `connector.awsLambda`, as `PostgresRotation`.
   */
  readonly database: pulumi.Input<DatabaseArgs>;
  /**
   * The two users. A missing one is created with a random password (sent as a SCRAM verifier);
   * an existing one is adopted without touching its password. A new pair with no user in common
   * with the old one is a new resource; one sharing a user is an update, and the user that left
   * the pair is kept as it is.
   * @example { username1: "app_user_1", username2: "app_user_2" }
   */
  readonly rotateUsers: pulumi.Input<UserPairArgs>;
  /**
   * The NOLOGIN group roles both users belong to, and no others: grant privileges to these
   * groups, never to one user. Changes grant and revoke exactly the difference. The groups must
   * exist; adopting a user that belongs to a group not listed here is refused.
   * @default []
   * @example ["app_users"]
   */
  readonly memberOf?: pulumi.Input<pulumi.Input<string>[]>;
  /**
   * `CONNECTION LIMIT` of both users (-1: none). Leave room for the login test each rotation
   * makes. Left as it is when absent.
   * @default unchanged (-1 for users it creates)
   * @example 20
   */
  readonly connectionLimit?: pulumi.Input<number>;
  /**
   * Settings of both users in every database (`ALTER ROLE … SET name = value`); a list setting
   * takes a list. Names removed here later are reset; settings never listed here are left
   * alone. Custom (dotted) settings need a superuser and are refused.
   * @default {}
   * @example { statement_timeout: "30s", search_path: ["app", "public"] }
   */
  readonly settings?: pulumi.Input<
    Record<string, pulumi.Input<string> | pulumi.Input<pulumi.Input<string>[]>>
  >;
  /**
   * One of `memberOf` that both users' sessions run as (`ALTER ROLE … SET role`): what either
   * user creates (a migration's tables) is owned by this role, so the other user can still
   * `ALTER`, `DROP` or `TRUNCATE` it after any rotation. On PostgreSQL 16+ both users' membership
   * in it is granted `WITH SET TRUE`. Removing it later resets `role` on both users.
   * @default none (each user's sessions run as itself)
   * @example "app_users"
   */
  readonly ownerRole?: pulumi.Input<string>;
  /**
   * Drop the users this resource created when it is deleted (users it adopted are never
   * dropped). Refused, with nothing dropped, while either has open sessions or owns objects.
   * Set it to `false` (and `pulumi up`) before replacing this resource with the same users
   * (`pulumi up --replace`): the replacement adopts them first, and the old resource's delete
   * would then drop them.
   * @default false (deleting the resource keeps both users and their passwords)
   */
  readonly deleteUsersOnDestroy?: pulumi.Input<boolean>;
  /** How initial passwords are generated. @default { length: 32, characters: URL-safe } */
  readonly passwordPolicy?: pulumi.Input<PasswordPolicy>;
  /**
   * PBKDF2 iterations of the SCRAM-SHA-256 verifiers, from 4096 to 100,000: node-postgres
   * refuses, with its default `scramMaxIterations`, to log in with a verifier of more.
   * @default 4096
   */
  readonly scramIterations?: pulumi.Input<number>;
  /** @default { connectSeconds: 10, statementSeconds: 30, lockSeconds: 60 } */
  readonly timeouts?: pulumi.Input<Timeouts>;
}

/** Outputs that hold a password: encrypted in the state whatever the program does. */
export const USER_PAIR_SECRET_OUTPUTS = ["passwords", "initialState", "managingPassword"];

/**
 * Creates (or adopts) the two users that a `PostgresRotation` takes turns on, keeps them
 * identical, and hands over their initial passwords as the rotation's starting state.
 *
 * @example
 * const users = new PostgresUserPair("app-users", {
 *   database: { host: "db.internal", database: "app",
 *               managingUser: { username: "rotation_manager", password: managerPassword } },
 *   rotateUsers: { username1: "app_user_1", username2: "app_user_2" },
 *   memberOf: ["app_users"],
 * });
 * new PostgresRotation("app-db", { ...same database and rotateUsers...,
 *   state: users.initialState, rotationTrigger: config.require("rotationTrigger") });
 */
export class PostgresUserPair extends pulumi.dynamic.Resource {
  declare readonly username1: pulumi.Output<string>;
  declare readonly username2: pulumi.Output<string>;
  /** The group roles both users belong to, as applied (sorted). */
  declare readonly memberOf: pulumi.Output<string[]>;
  /** The role both users' sessions run as, as applied; undefined when none. */
  declare readonly ownerRole: pulumi.Output<string | undefined>;
  /**
   * The users this resource created (the only ones `deleteUsersOnDestroy` drops, and only while
   * each holds the OID in `oids`).
   */
  declare readonly created: pulumi.Output<string[]>;
  /** The initial password of each user it created, by name (secret). */
  declare readonly passwords: pulumi.Output<Record<string, string>>;
  /**
   * `{current: username1, previous: username2}` with both initial passwords when it created
   * both users: pass it as `PostgresRotation`'s `state`. Undefined when it adopted a user whose
   * password it does not know, which includes a replacement of this resource (`pulumi up
   * --replace`): it is created before the old one is deleted and adopts both users, passwords
   * untouched. The rotation takes it as no state: on create it rotates first, on an update it
   * keeps the state it has (secret).
   */
  declare readonly initialState: pulumi.Output<
    { current: Credential; previous: PreviousCredential } | undefined
  >;
  /**
   * The OID of each user as it created or adopted it, by name: which role it manages. A role
   * dropped and created again outside under the same name has another OID: a refresh reports
   * it, an update refuses it, and a delete never drops it.
   */
  declare readonly oids: pulumi.Output<Record<string, number>>;
  /** Both users as last applied. */
  declare readonly observed: pulumi.Output<Record<string, RoleSnapshot>>;
  /** Changes made outside Pulumi that the last `pulumi refresh` found; the next `up` repairs them. */
  declare readonly drift: pulumi.Output<string[]>;

  constructor(name: string, args: PostgresUserPairArgs, opts?: pulumi.CustomResourceOptions) {
    const props = {
      ...args,
      database: withSecretPassword(args.database),
      username1: undefined,
      username2: undefined,
      memberOf: args.memberOf,
      ownerRole: args.ownerRole,
      created: undefined,
      passwords: undefined,
      initialState: undefined,
      managingPassword: undefined,
      oids: undefined,
      observed: undefined,
      drift: undefined,
    };
    const options = pulumi.mergeOptions(opts, {
      additionalSecretOutputs: USER_PAIR_SECRET_OUTPUTS,
    });
    const served = asPluginResource<PostgresUserPair>("PostgresUserPair", name, props, options);
    if (served) return served;
    super(postgresUserPairProvider, name, props, options, "postgres-rotator", "PostgresUserPair");
  }
}
