/**
 * `RotatedPostgresCredentials`: the whole rotation set-up in one component. It creates (or
 * adopts) the two users, optionally deploys the connector Lambda, writes both Pulumi ESC
 * environments of the seed's layout, and rotates the pair whenever `rotationTrigger` changes,
 * with the state kept in ESC when ESC is configured.
 *
 * The constructor reads as a table of contents: validate, then one helper per part
 * (`createUsers`, `resolveConnector`, `createEnvironments`, `createRotation`), then the outputs.
 */
import * as pulumi from "@pulumi/pulumi";
import type {
  Credential,
  LiveSessionsPolicy,
  OwnershipPolicy,
  PasswordPolicy,
  PreviousCredential,
  SslMode,
  Timeouts,
} from "../provider/core/types";
import {
  UNKNOWN,
  escLocationProblems,
  liveSessionsIdleSecondsProblems,
  scramIterationsProblems,
} from "../provider/core/validate";
import { scheduleProblems } from "../provider/core/schedule";
import { rotateAfterProblems } from "../provider/core/rotateAfter";
import {
  EscRotationSchedule,
  type EscScheduleCronArgs,
  type EscScheduleOnceArgs,
} from "../provider/escRotationSchedule/escRotationSchedule";
import {
  DEFAULT_ROTATOR_KEY,
  credentialsEnvironmentYaml,
  rotatorEnvironmentYaml,
} from "../provider/esc/documents";
import type { CredentialArgs, UserPairArgs } from "../provider/args";
import { EscEnvironment } from "../provider/escEnvironment/escEnvironment";
import { PostgresRotation, type StateArgs } from "../provider/postgresRotation/postgresRotation";
import { PostgresUserPair } from "../provider/postgresUserPair/postgresUserPair";
import { LambdaConnector, type LambdaConnectorCreateArgs } from "./lambdaConnector";
import { escTrustProblems } from "./policies";

/** `LambdaConnector`'s inputs without the ESC location, which the component fills in. */
export type ConnectorCreateArgs = LambdaConnectorCreateArgs;

export interface CredentialsDatabaseArgs {
  /**
   * Host name or IP address of the server, as `pulumi up` reaches it (directly) or as the
   * connector Lambda and ESC reach it (with a connector).
   * @example "app-db.cluster-abc.eu-west-1.rds.amazonaws.com"
   */
  readonly host: pulumi.Input<string>;
  /** @default 5432 */
  readonly port?: pulumi.Input<number>;
  /** Database to connect to (the users are cluster-wide). @example "app" */
  readonly database: pulumi.Input<string>;
  /**
   * A role with `CREATEROLE` (on PostgreSQL 16+ also `ADMIN` on the `memberOf` groups; see the
   * README's setup SQL). Its password is kept encrypted in the Pulumi state and, with `esc`, as
   * `fn::secret` in the credentials environment.
   * @example { username: "rotation_manager", password: config.requireSecret("managerPassword") }
   */
  readonly managingUser: pulumi.Input<CredentialArgs>;
  /**
   * TLS of direct connections, as libpq's `sslmode`. With a connector, TLS is the Lambda's
   * setting (`connector.create.sslMode`), so leave this out.
   * @default { mode: "verify-full" }
   */
  readonly ssl?: pulumi.Input<{ mode: pulumi.Input<SslMode>; ca?: pulumi.Input<string> }>;
}

/** A connector Lambda that already exists (this package's, or Pulumi's official one). */
export interface ExistingConnectorArgs {
  /** @example "arn:aws:lambda:eu-west-1:123456789012:function:pg-rotator" */
  readonly lambdaArn: pulumi.Input<string>;
  /**
   * The role ESC's `fn::open::aws-login` assumes (OIDC) to invoke the function; required with
   * `esc`. `pulumi up` itself invokes with the default AWS credential chain.
   * @example "arn:aws:iam::123456789012:role/pg-rotator-invocation"
   */
  readonly invocationRoleArn?: pulumi.Input<string>;
  /** @default the region in `lambdaArn` */
  readonly region?: pulumi.Input<string>;
  /** Lambda API endpoint (a VPC interface endpoint, say). @default AWS's public endpoint */
  readonly endpoint?: pulumi.Input<string>;
}

/** A new `LambdaConnector` for this database, trusted by exactly this rotator environment. */
export interface CreateConnectorArgs {
  readonly create: ConnectorCreateArgs;
}

export interface CredentialsEscArgs {
  /** Pulumi Cloud organization. @example "acme" */
  readonly organization: pulumi.Input<string>;
  /** ESC project holding both environments. @example "payments" */
  readonly project: pulumi.Input<string>;
  /**
   * The credentials environment (admins only): the managing user, and with a connector the
   * OIDC login ESC uses to invoke it.
   * @default "<stack>-<component name>-credentials" (two stacks of one program never share it)
   */
  readonly credentialsEnvironment?: string;
  /**
   * The rotator environment holding `fn::rotate::postgres` and the state apps read
   * (`${environments.<project>.<rotator>.<key>.current}`).
   * @default "<stack>-<component name>-rotator"
   */
  readonly rotatorEnvironment?: string;
  /** Key under `values` of the `fn::rotate::postgres`. @default "dbRotator" */
  readonly rotatorKey?: string;
  /** Pulumi access token (stored encrypted). @default the `PULUMI_ACCESS_TOKEN` of `pulumi up` */
  readonly accessToken?: pulumi.Input<string>;
  /** Pulumi Cloud API URL (self-hosted). @default "https://api.pulumi.com" */
  readonly apiUrl?: pulumi.Input<string>;
  /**
   * Let ESC rotate on a schedule too (an ESC rotation schedule on the rotator environment).
   * Rotate no more often than your apps re-read their credentials.
   * @default none: rotations happen when `rotationTrigger` changes (or from ESC by hand)
   * @example { cron: "0 3 * * 1" }
   */
  readonly rotationSchedule?: EscScheduleCronArgs | EscScheduleOnceArgs;
}

export interface RotatedPostgresCredentialsArgs {
  /** Where the database is and who manages its users. */
  readonly database: CredentialsDatabaseArgs;
  /**
   * The two users apps take turns on. Missing ones are created with random passwords (sent as
   * SCRAM verifiers); existing ones are adopted without touching their passwords.
   * @example { username1: "app_user_1", username2: "app_user_2" }
   */
  readonly rotateUsers: pulumi.Input<UserPairArgs>;
  /**
   * Working credentials to start from, for users that exist already (migrating from the
   * official template: its rotator's `state`). Checked by logging in. Stored encrypted.
   * @default the initial passwords of the users this component created (both known); none
   *   when it adopted a user (or its `-users` child was replaced and adopted both): then the
   *   rotation rotates first on create and keeps the state it has on an update
   */
  readonly state?: pulumi.Input<StateArgs>;
  /**
   * Any value; whenever it changes, the previous user gets a new password and becomes current.
   * @default none (no rotation after the first deployment)
   * @example config.require("rotationTrigger")
   */
  readonly rotationTrigger?: pulumi.Input<string | number>;
  /**
   * Also rotate, on any `pulumi up`, once the current password is this old: a whole number of
   * minutes (`m`), hours (`h`) or days (`d`), at least `"1h"`. Whichever comes first, this,
   * a change of `rotationTrigger` or ESC's `rotationSchedule`. The age runs from the last
   * rotation (or the users' creation) in the state and, with `esc`, from ESC's last rotation in
   * its rotation history, whichever is later. `pulumi preview` shows the pending rotation and
   * prints why. Nothing rotates between deployments: run `pulumi up` regularly, or use
   * `esc.rotationSchedule`.
   * @default none: only `rotationTrigger` (and ESC) rotate
   * @example "30d"
   */
  readonly rotateAfter?: pulumi.Input<string>;
  /**
   * NOLOGIN group roles both users belong to, and no others: grant privileges to these.
   * @default []
   * @example ["app_users"]
   */
  readonly memberOf?: pulumi.Input<pulumi.Input<string>[]>;
  /**
   * One of `memberOf` that both users' sessions run as (`ALTER ROLE … SET role`): what either
   * creates (a migration's tables) is owned by it and stays usable by both after any rotation.
   * @default none (each user's sessions run as itself)
   * @example "app_users"
   */
  readonly ownerRole?: pulumi.Input<string>;
  /** `CONNECTION LIMIT` of both users. @default unchanged (-1 for users it creates) */
  readonly connectionLimit?: pulumi.Input<number>;
  /**
   * Settings of both users in every database (`ALTER ROLE … SET`).
   * @default {}
   * @example { statement_timeout: "30s" }
   */
  readonly roleSettings?: pulumi.Input<
    Record<string, pulumi.Input<string> | pulumi.Input<pulumi.Input<string>[]>>
  >;
  /** Drop the users it created when the component is deleted. @default false */
  readonly deleteUsersOnDestroy?: pulumi.Input<boolean>;
  /** How passwords are generated. @default { length: 32, characters: URL-safe } */
  readonly passwordPolicy?: pulumi.Input<PasswordPolicy>;
  /**
   * PBKDF2 iterations of the SCRAM-SHA-256 verifiers, from 4096 to 100,000: node-postgres
   * refuses, with its default `scramMaxIterations`, to log in with a verifier of more.
   * @default 4096
   */
  readonly scramIterations?: pulumi.Input<number>;
  /** @default { connectSeconds: 10, statementSeconds: 30, lockSeconds: 60 } */
  readonly timeouts?: pulumi.Input<Timeouts>;
  /**
   * What a rotation does when the user about to get a new password still has open sessions:
   * refuse (nothing changes; the error says who is connected), warn and rotate, or ignore.
   * @default "refuse"
   */
  readonly liveSessions?: pulumi.Input<LiveSessionsPolicy>;
  /**
   * What a rotation does when either user owns database objects itself (tables a migration
   * created as it, sequences, schemas, …), which the other user cannot ALTER, DROP or TRUNCATE
   * after the switch: warn and rotate (the warning names a few and the fix), refuse (nothing
   * changes), or ignore. Through a connector, only this package's connector can look.
   * @default "warn"
   * @example "refuse"
   */
  readonly ownership?: pulumi.Input<OwnershipPolicy>;
  /**
   * Seconds after which an idle session of the user about to change is taken for a pooler's
   * parked server connection (PgBouncer, RDS Proxy): reported, but not refused by
   * `liveSessions`. Set it to your apps' refresh interval; see `PostgresRotation`'s input of the
   * same name and the README's "Poolers: PgBouncer and RDS Proxy".
   * @default 3600
   * @example 900
   */
  readonly liveSessionsIdleSeconds?: pulumi.Input<number>;
  /**
   * For a database `pulumi up` cannot reach (private subnets): change passwords through a
   * connector Lambda inside its VPC. `{ lambdaArn, invocationRoleArn? }`: one that exists;
   * `{ create: {...} }`: a new `LambdaConnector` (needs `esc`, whose rotator environment its
   * invocation role trusts).
   * @default none: connect directly from where `pulumi up` runs
   * @example { create: { vpcId, subnetIds, databaseSecurityGroupId: db.securityGroupId } }
   */
  readonly connector?: ExistingConnectorArgs | CreateConnectorArgs;
  /**
   * Keep both Pulumi ESC environments of the seed's layout, with the state in the rotator
   * environment: apps read `current` from ESC, and ESC may rotate too.
   * @default none: no ESC; read the credentials from this component's outputs
   */
  readonly esc?: CredentialsEscArgs;
}

/**
 * Two PostgreSQL users that take turns, rotated with zero downtime whenever `rotationTrigger`
 * changes (or, with `rotateAfter`, once the password is that old), with everything around them: the users, an optional connector Lambda, both ESC
 * environments and an optional ESC rotation schedule.
 *
 * @example
 * const db = new RotatedPostgresCredentials("app-db", {
 *   database: { host: "db.internal", database: "app",
 *               managingUser: { username: "rotation_manager",
 *                               password: config.requireSecret("managerPassword") } },
 *   rotateUsers: { username1: "app_user_1", username2: "app_user_2" },
 *   memberOf: ["app_users"],
 *   rotationTrigger: config.require("rotationTrigger"),
 *   rotateAfter: "30d", // and at the first `pulumi up` after 30 days, whatever the trigger
 * });
 * export const credentials = db.current; // secret { username, password }
 */
export class RotatedPostgresCredentials extends pulumi.ComponentResource {
  /** The credentials apps should use now (secret). */
  readonly current: pulumi.Output<Credential>;
  /** The other user, valid until the next rotation (secret). */
  readonly previous: pulumi.Output<PreviousCredential>;
  /** `current.username`, not secret. */
  readonly currentUsername: pulumi.Output<string>;
  /** ISO 8601 time of the last password change; undefined before the first rotation. */
  readonly rotatedAt: pulumi.Output<string | undefined>;
  /** `<project>/<environment>` of the credentials environment; undefined without `esc`. */
  readonly credentialsEnvironment: pulumi.Output<string | undefined>;
  /** `<project>/<environment>` of the rotator environment; undefined without `esc`. */
  readonly rotatorEnvironment: pulumi.Output<string | undefined>;
  /** The connector Lambda's ARN; undefined when connecting directly. */
  readonly lambdaArn: pulumi.Output<string | undefined>;
  /** The role ESC assumes to invoke the connector; undefined without one. */
  readonly invocationRoleArn: pulumi.Output<string | undefined>;

  /** The children, for reading their outputs or wiring `dependsOn`. */
  readonly users: PostgresUserPair;
  readonly connector?: LambdaConnector;
  readonly credentialsEnv?: EscEnvironment;
  readonly rotatorEnv?: EscEnvironment;
  readonly rotation: PostgresRotation;
  readonly schedule?: EscRotationSchedule;

  constructor(
    name: string,
    args: RotatedPostgresCredentialsArgs,
    opts?: pulumi.ComponentResourceOptions,
  ) {
    super("postgres-rotator:index:RotatedPostgresCredentials", name, {}, opts);
    const esc = this.validate(name, args);
    const database = secretManager(args.database);

    const connector = this.resolveConnector(name, args, esc);
    const users = this.createUsers(name, args, database, connector);
    const state = args.state !== undefined ? pulumi.secret(args.state) : users.initialState;
    const environments = esc
      ? this.createEnvironments(name, args, database, connector, esc, state)
      : undefined;
    const rotation = this.createRotation(name, args, database, connector, esc, state, [
      users,
      ...(environments ? [environments.rotator] : []),
    ]);
    const schedule =
      esc && environments ? this.createSchedule(name, esc, environments.rotator) : undefined;

    this.users = users;
    this.connector = connector?.created;
    this.credentialsEnv = environments?.credentials;
    this.rotatorEnv = environments?.rotator;
    this.rotation = rotation;
    this.schedule = schedule;
    this.current = rotation.current;
    this.previous = rotation.previous;
    this.currentUsername = rotation.currentUsername;
    this.rotatedAt = rotation.rotatedAt;
    this.credentialsEnvironment = pulumi.output(
      esc ? pulumi.interpolate`${esc.project}/${esc.credentials}` : undefined,
    );
    this.rotatorEnvironment = pulumi.output(
      esc ? pulumi.interpolate`${esc.project}/${esc.rotator}` : undefined,
    );
    this.lambdaArn = pulumi.output(connector?.lambdaArn);
    this.invocationRoleArn = pulumi.output(connector?.invocationRoleArn);
    this.registerOutputs({
      current: this.current,
      previous: this.previous,
      currentUsername: this.currentUsername,
      rotatedAt: this.rotatedAt,
      credentialsEnvironment: this.credentialsEnvironment,
      rotatorEnvironment: this.rotatorEnvironment,
      lambdaArn: this.lambdaArn,
      invocationRoleArn: this.invocationRoleArn,
    });
  }

  /** Impossible combinations fail here, before any child exists. */
  private validate(name: string, args: RotatedPostgresCredentialsArgs): ResolvedEsc | undefined {
    const fail = (message: string) => new pulumi.ResourceError(message, this);
    const connector = args.connector as Partial<ExistingConnectorArgs & CreateConnectorArgs>;
    if (connector && "create" in connector && "lambdaArn" in connector) {
      throw fail(
        `${name}: give connector.lambdaArn (an existing connector) or connector.create, not both`,
      );
    }
    if (connector?.create && !args.esc) {
      throw fail(
        `${name}: connector.create needs esc: the connector's invocation role trusts exactly ` +
          `the ESC organization and rotator environment, so they must be known`,
      );
    }
    if (connector && args.database.ssl !== undefined) {
      throw fail(
        `${name}: database.ssl has no effect with a connector: TLS is the Lambda's setting ` +
          `(connector.create.sslMode, verify-full by default); remove database.ssl`,
      );
    }
    // A plain count is checked now, before any child; an Output by the children's providers.
    if (typeof args.scramIterations === "number") {
      const issues = scramIterationsProblems(args.scramIterations, "scramIterations");
      if (issues.length > 0) throw fail(`${name}: ${issues.join("; ")}`);
    }
    // A plain value is checked now; an Output or a Promise by the rotation's check, before
    // anything changes.
    const idle = args.liveSessionsIdleSeconds;
    const idleProblems =
      typeof idle === "object" && idle !== null ? [] : liveSessionsIdleSecondsProblems(idle);
    if (idleProblems.length > 0) throw fail(`${name}: ${idleProblems.join("; ")}`);
    if (typeof args.rotateAfter === "string") {
      const problems = rotateAfterProblems(args.rotateAfter);
      if (problems.length > 0) throw fail(`${name}: ${problems.join("; ")}`);
    }
    if (!args.esc) return undefined;
    const esc = args.esc;
    // Plain names now, before any child (a created connector's trust is built from them);
    // Outputs are checked by the resources they feed, when they resolve.
    const known = (["organization", "project"] as const).filter(
      (key) => !pulumi.Output.isInstance(esc[key]) && !(esc[key] instanceof Promise),
    );
    const location = escLocationProblems(
      { organization: esc.organization, project: esc.project },
      known,
      "esc.",
    );
    if (location.length > 0) throw fail(`${name}: ${location.join("; ")}`);
    if (connector && !connector.create && connector.invocationRoleArn === undefined) {
      throw fail(
        `${name}: with esc and an existing connector, give connector.invocationRoleArn: the ` +
          `role ESC's fn::open::aws-login assumes to invoke the Lambda`,
      );
    }
    const resolved: ResolvedEsc = {
      organization: esc.organization,
      project: esc.project,
      credentials: esc.credentialsEnvironment ?? `${pulumi.getStack()}-${name}-credentials`,
      rotator: esc.rotatorEnvironment ?? `${pulumi.getStack()}-${name}-rotator`,
      key: esc.rotatorKey ?? DEFAULT_ROTATOR_KEY,
      ...(esc.accessToken !== undefined ? { accessToken: pulumi.secret(esc.accessToken) } : {}),
      ...(esc.apiUrl !== undefined ? { apiUrl: esc.apiUrl } : {}),
      ...(esc.rotationSchedule !== undefined ? { rotationSchedule: esc.rotationSchedule } : {}),
    };
    const problems = escLocationProblems(
      { credentials: resolved.credentials, rotator: resolved.rotator },
      ["credentials", "rotator"],
    );
    if (problems.length > 0) {
      throw fail(
        `${name}: the ESC environment names ${JSON.stringify(resolved.credentials)} and ` +
          `${JSON.stringify(resolved.rotator)} must be 1-100 letters, digits, '.', '_' or '-'; ` +
          `set esc.credentialsEnvironment and esc.rotatorEnvironment`,
      );
    }
    if (resolved.credentials === resolved.rotator) {
      throw fail(`${name}: esc.credentialsEnvironment and esc.rotatorEnvironment must differ`);
    }
    if (connector?.create) {
      // The connector's own refusals, before it (or any other child) is registered.
      const trust = escTrustProblems({
        escOrganization: esc.organization,
        escProject: esc.project,
        escEnvironment: resolved.rotator,
        escCredentialsEnvironment: resolved.credentials,
        escSubjectAttributes: connector.create.escSubjectAttributes ?? DEFAULT_SUBJECT,
      });
      if (trust.length > 0) {
        throw fail(`${name}: ${trust.map((problem) => `connector.create.${problem}`).join("; ")}`);
      }
    }
    if (!/^[A-Za-z_][\w-]*$/.test(resolved.key)) {
      throw fail(`${name}: esc.rotatorKey must be a YAML key of letters, digits, '_' or '-'`);
    }
    const schedule = esc.rotationSchedule as Record<string, unknown> | undefined;
    if (schedule) {
      // Plain values are checked now (ESC's daily minimum included); Outputs by the resource.
      // A key given as undefined is absent (`{ once, cron: undefined }` is a one-time schedule).
      const plain = Object.fromEntries(
        Object.entries(schedule)
          .filter(([, v]) => v !== undefined)
          .map(([k, v]) => [k, typeof v === "string" ? v : UNKNOWN]),
      );
      const issues = scheduleProblems(plain, "esc.rotationSchedule");
      if (issues.length > 0) throw fail(`${name}: ${issues.join("; ")}`);
    }
    return resolved;
  }

  /** The connector to use: none (direct), an existing one, or a new `LambdaConnector`. */
  private resolveConnector(
    name: string,
    args: RotatedPostgresCredentialsArgs,
    esc: ResolvedEsc | undefined,
  ): ResolvedConnector | undefined {
    const connector = args.connector;
    if (!connector) return undefined;
    if ("create" in connector) {
      // The login the component writes asks for exactly the subject the role trusts: the
      // credentials environment's name (the default subject's shape for an imported login
      // is not documented).
      const subjectAttributes = connector.create.escSubjectAttributes ?? DEFAULT_SUBJECT;
      const created = new LambdaConnector(
        `${name}-connector`,
        {
          ...connector.create,
          escSubjectAttributes: subjectAttributes,
          databasePort: connector.create.databasePort ?? args.database.port,
          escOrganization: esc!.organization,
          escProject: esc!.project,
          escEnvironment: esc!.rotator,
          escCredentialsEnvironment: esc!.credentials,
        },
        { parent: this },
      );
      return {
        lambdaArn: created.lambdaArn,
        invocationRoleArn: created.invocationRoleArn,
        subjectAttributes,
        created,
      };
    }
    return {
      lambdaArn: connector.lambdaArn,
      ...(connector.invocationRoleArn !== undefined
        ? { invocationRoleArn: connector.invocationRoleArn }
        : {}),
      ...(connector.region !== undefined ? { region: connector.region } : {}),
      ...(connector.endpoint !== undefined ? { endpoint: connector.endpoint } : {}),
    };
  }

  /** The two users, created or adopted, kept identical. */
  private createUsers(
    name: string,
    args: RotatedPostgresCredentialsArgs,
    database: CredentialsDatabaseArgs,
    connector: ResolvedConnector | undefined,
  ): PostgresUserPair {
    return new PostgresUserPair(
      `${name}-users`,
      {
        database: childDatabase(database, connector),
        rotateUsers: args.rotateUsers,
        ...defined({
          memberOf: args.memberOf,
          ownerRole: args.ownerRole,
          connectionLimit: args.connectionLimit,
          settings: args.roleSettings,
          deleteUsersOnDestroy: args.deleteUsersOnDestroy,
          passwordPolicy: args.passwordPolicy,
          scramIterations: args.scramIterations,
          timeouts: args.timeouts,
        }),
      },
      { parent: this },
    );
  }

  /** Both ESC environments of the seed's layout; the rotator starts from `state`. */
  private createEnvironments(
    name: string,
    args: RotatedPostgresCredentialsArgs,
    database: CredentialsDatabaseArgs,
    connector: ResolvedConnector | undefined,
    esc: ResolvedEsc,
    state: pulumi.Input<StateArgs | undefined>,
  ): { credentials: EscEnvironment; rotator: EscEnvironment } {
    const location = {
      organization: esc.organization,
      project: esc.project,
      ...defined({ accessToken: esc.accessToken, apiUrl: esc.apiUrl }),
    };
    const credentialsYaml = pulumi
      .all([pulumi.output(database.managingUser), connector?.invocationRoleArn])
      .apply(([manager, roleArn]) =>
        credentialsEnvironmentYaml({
          managingUser: { username: manager.username, password: manager.password },
          // The login's subject must be the one the connector's invocation role trusts.
          ...(roleArn
            ? {
                awsLogin: {
                  roleArn,
                  ...defined({ subjectAttributes: connector?.subjectAttributes }),
                },
              }
            : {}),
        }),
      );
    const credentials = new EscEnvironment(
      `${name}-credentials-env`,
      { ...location, name: esc.credentials, yaml: credentialsYaml },
      { parent: this },
    );
    const rotatorYaml = pulumi
      .all([
        esc.project,
        database.host,
        database.port ?? 5432,
        database.database,
        args.rotateUsers,
        connector?.lambdaArn,
        state,
      ])
      .apply(([project, host, port, db, users, lambdaArn, start]) =>
        rotatorEnvironmentYaml({
          credentials: { project, environment: esc.credentials },
          database: { host, port, database: db },
          rotateUsers: { username1: users.username1, username2: users.username2 },
          key: esc.key,
          ...(lambdaArn ? { lambdaArn } : {}),
          ...(start ? { state: start as never } : {}),
        }),
      );
    const rotator = new EscEnvironment(
      `${name}-rotator-env`,
      { ...location, name: esc.rotator, yaml: rotatorYaml, rotatorKey: esc.key },
      { parent: this, dependsOn: [credentials] },
    );
    return { credentials, rotator };
  }

  /** ESC's own rotation schedule on the rotator environment, when asked for. */
  private createSchedule(
    name: string,
    esc: ResolvedEsc,
    rotator: EscEnvironment,
  ): EscRotationSchedule | undefined {
    if (!esc.rotationSchedule) return undefined;
    return new EscRotationSchedule(
      `${name}-schedule`,
      {
        organization: esc.organization,
        project: esc.project,
        environment: esc.rotator,
        schedule: esc.rotationSchedule,
        ...defined({ accessToken: esc.accessToken, apiUrl: esc.apiUrl }),
      },
      { parent: this, dependsOn: [rotator] },
    );
  }

  /** The rotation itself; its state lives in ESC when ESC is configured. */
  private createRotation(
    name: string,
    args: RotatedPostgresCredentialsArgs,
    database: CredentialsDatabaseArgs,
    connector: ResolvedConnector | undefined,
    esc: ResolvedEsc | undefined,
    state: pulumi.Input<StateArgs | undefined>,
    dependsOn: pulumi.Resource[],
  ): PostgresRotation {
    return new PostgresRotation(
      `${name}-rotation`,
      {
        database: childDatabase(database, connector),
        rotateUsers: args.rotateUsers,
        state,
        ...defined({
          rotationTrigger: args.rotationTrigger,
          rotateAfter: args.rotateAfter,
          liveSessions: args.liveSessions,
          ownership: args.ownership,
          liveSessionsIdleSeconds: args.liveSessionsIdleSeconds,
          passwordPolicy: args.passwordPolicy,
          scramIterations: args.scramIterations,
          timeouts: args.timeouts,
        }),
        ...(esc
          ? {
              esc: {
                organization: esc.organization,
                project: esc.project,
                environment: esc.rotator,
                key: esc.key,
                ...defined({ accessToken: esc.accessToken, apiUrl: esc.apiUrl }),
              },
            }
          : {}),
      },
      { parent: this, dependsOn },
    );
  }
}

/** The OIDC subject attribute a created connector's login and trust use unless told otherwise. */
const DEFAULT_SUBJECT = ["currentEnvironment.name"] as const;

interface ResolvedEsc {
  readonly organization: pulumi.Input<string>;
  readonly project: pulumi.Input<string>;
  readonly credentials: string;
  readonly rotator: string;
  readonly key: string;
  readonly accessToken?: pulumi.Input<string>;
  readonly apiUrl?: pulumi.Input<string>;
  readonly rotationSchedule?: EscScheduleCronArgs | EscScheduleOnceArgs;
}

interface ResolvedConnector {
  readonly lambdaArn: pulumi.Input<string>;
  /** The ESC OIDC subject attributes the invocation role trusts (a created connector's). */
  readonly subjectAttributes?: readonly string[];
  readonly invocationRoleArn?: pulumi.Input<string>;
  readonly region?: pulumi.Input<string>;
  readonly endpoint?: pulumi.Input<string>;
  readonly created?: LambdaConnector;
}

/** `database` with the managing password marked secret, once, at the top. */
function secretManager(database: CredentialsDatabaseArgs): CredentialsDatabaseArgs {
  const manager = database.managingUser;
  if (pulumi.Output.isInstance(manager) || manager instanceof Promise) {
    return { ...database, managingUser: pulumi.secret(manager) };
  }
  const plain = manager as CredentialArgs;
  return {
    ...database,
    managingUser: { username: plain.username, password: pulumi.secret(plain.password) },
  };
}

/** The `database` input of a child resource: with the connector, or with `ssl` (direct). */
function childDatabase(
  database: CredentialsDatabaseArgs,
  connector: ResolvedConnector | undefined,
) {
  const { ssl, ...rest } = database;
  if (!connector) return { ...rest, ...(ssl !== undefined ? { ssl } : {}) };
  return {
    ...rest,
    connector: {
      awsLambda: {
        lambdaArn: connector.lambdaArn,
        ...defined({ region: connector.region, endpoint: connector.endpoint }),
      },
    },
  };
}

/** `values` without its undefined entries (so children see their own defaults). */
function defined<T extends Record<string, unknown>>(values: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(values).filter(([, v]) => v !== undefined),
  ) as Partial<T>;
}
