/**
 * Plain data types shared by the rotation core, the PostgreSQL shell and the provider. They
 * mirror the seed's `fn::rotate::postgres` inputs, state and outputs.
 */

/** A database login: `{username, password}` (the seed's UserCredential). */
export interface Credential {
  readonly username: string;
  readonly password: string;
}

/**
 * The `previous` half of the state. Its password is unknown right after the very first
 * rotation of a pair without state: only `username1` was given a password then.
 */
export interface PreviousCredential {
  readonly username: string;
  readonly password?: string;
}

/** `{current, previous}`: apps use `current`; `previous` stays valid until the next rotation. */
export interface RotationState {
  readonly current: Credential;
  readonly previous?: PreviousCredential;
}

/** The two roles that take turns (the seed's RotateUsers). */
export interface UserPair {
  readonly username1: string;
  readonly username2: string;
}

/** How the connection is protected, with libpq's `sslmode` meanings. */
export type SslMode = "disable" | "require" | "verify-ca" | "verify-full";

export const SSL_MODES: readonly SslMode[] = ["disable", "require", "verify-ca", "verify-full"];

export interface SslConfig {
  /** @default "verify-full" */
  readonly mode: SslMode;
  /** PEM CA bundle that signs the server certificate; Node's root store when absent. */
  readonly ca?: string;
}

/**
 * An AWS Lambda that changes passwords from inside the database's VPC (the seed's
 * `connector.awsLambda`): this package's connector Lambda, or Pulumi's official one.
 */
export interface AwsLambdaConnector {
  /** ARN of the function, e.g. `arn:aws:lambda:us-east-1:123456789012:function:rotator`. */
  readonly lambdaArn: string;
  /** Region of the function. @default the region in `lambdaArn` */
  readonly region?: string;
  /** Role to assume for the invocation; the default AWS credential chain when absent. */
  readonly roleArn?: string;
  /** Lambda API endpoint URL, e.g. a VPC interface endpoint. @default AWS's public endpoint */
  readonly endpoint?: string;
}

/** How to reach a database that `pulumi up` cannot reach directly. */
export interface Connector {
  readonly awsLambda: AwsLambdaConnector;
}

/** Where the database is and who manages the rotated users (the seed's DatabaseConfig). */
export interface DatabaseConfig {
  /** Host name or IP address, as the connector (or this machine, without one) reaches it. */
  readonly host: string;
  /** @default 5432 */
  readonly port?: number;
  readonly database: string;
  readonly managingUser: Credential;
  /** TLS of direct connections. @default { mode: "verify-full" } */
  readonly ssl?: SslConfig;
  /**
   * Change passwords through a Lambda inside the VPC instead of connecting directly. TLS is then
   * the Lambda's setting (its `PGSSLMODE`, verify-full by default), so `ssl` must be absent.
   */
  readonly connector?: Connector;
}

export interface Timeouts {
  /** Seconds to wait for a connection (TCP, TLS and login). @default 10 */
  readonly connectSeconds?: number;
  /** Seconds any one statement may run on the server. @default 30 */
  readonly statementSeconds?: number;
  /** Seconds to wait for another rotation of the same pair to finish. @default 60 */
  readonly lockSeconds?: number;
}

export interface PasswordPolicy {
  /** Length of generated passwords, at least 16. @default 32 */
  readonly length?: number;
  /**
   * The characters generated passwords are drawn from: printable ASCII, no space, no repeats,
   * at least 10 of them; with `length`, at least 96 bits of randomness.
   * @default "A-Z a-z 0-9 - . _ ~" (safe in connection URLs unescaped)
   */
  readonly characters?: string;
}

/**
 * The rotator environment in Pulumi ESC that holds the pair's state (`fn::rotate::postgres`
 * under `values.<key>`): read before each rotation, written after it.
 */
export interface EscStateInput {
  readonly organization: string;
  readonly project: string;
  readonly environment: string;
  /** @default "dbRotator" */
  readonly key?: string;
  /** Pulumi access token (secret); `PULUMI_ACCESS_TOKEN` when absent. */
  readonly accessToken?: string;
  /** Pulumi Cloud API URL (self-hosted). @default "https://api.pulumi.com" */
  readonly apiUrl?: string;
}

/**
 * What a rotation does when the user about to get a new password has open sessions: refuse
 * (nothing changes), warn and rotate, or not look.
 */
export type LiveSessionsPolicy = "refuse" | "warn" | "ignore";

export const LIVE_SESSIONS_POLICIES: readonly LiveSessionsPolicy[] = ["refuse", "warn", "ignore"];

/**
 * What a rotation does when either user of the pair owns database objects itself (tables,
 * sequences, schemas, databases, …) instead of a group owning them: the other user cannot
 * ALTER, DROP or TRUNCATE them after the switch. Warn and rotate, refuse (nothing changes), or
 * not look.
 */
export type OwnershipPolicy = "warn" | "refuse" | "ignore";

export const OWNERSHIP_POLICIES: readonly OwnershipPolicy[] = ["warn", "refuse", "ignore"];

/**
 * The default of `liveSessionsIdleSeconds`: one hour, the refresh interval the README's advice
 * is built on ("if apps refresh hourly, rotate at most every two hours"). With that cadence the
 * sessions an app leaves behind when it moves to `current` (at most one refresh after a
 * rotation) have been idle at least this long when the next rotation comes, while app-side pools
 * close their idle connections well within it (node-postgres after 10 s, HikariCP after 10 min).
 */
export const DEFAULT_LIVE_SESSIONS_IDLE_SECONDS = 3600;

/** The largest `liveSessionsIdleSeconds`: 30 days. */
export const MAX_LIVE_SESSIONS_IDLE_SECONDS = 30 * 24 * 3600;

/** Everything a rotation needs, as the provider receives it (secrets unwrapped). */
export interface RotationInputs {
  /** Keep the state in this ESC rotator environment too; ESC's newer state wins. */
  readonly esc?: EscStateInput;
  readonly database: DatabaseConfig;
  readonly rotateUsers: UserPair;
  readonly state?: RotationState;
  readonly rotationTrigger?: string | number;
  /** Also rotate once the password is this old, e.g. `"30d"` (m, h or d; at least 1h). */
  readonly rotateAfter?: string;
  readonly passwordPolicy?: PasswordPolicy;
  /** PBKDF2 iterations of the SCRAM-SHA-256 verifier. @default 4096 */
  readonly scramIterations?: number;
  readonly timeouts?: Timeouts;
  /** Sessions of the user about to change. @default "refuse" */
  readonly liveSessions?: LiveSessionsPolicy;
  /** Objects either user owns directly. @default "warn" */
  readonly ownership?: OwnershipPolicy;
  /**
   * Sessions idle (not in a transaction) for longer than this many seconds are a pooler's parked
   * server connections to the live-session guard: reported, never refused.
   * @default 3600
   */
  readonly liveSessionsIdleSeconds?: number;
}

/** Where to connect, and how: everything but a login. */
export interface ConnectionTarget {
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly ssl: SslConfig;
}

/** `DatabaseConfig` with every default filled in. */
export interface ResolvedDatabase extends ConnectionTarget {
  readonly managingUser: Credential;
  readonly connector?: Connector;
}

/** `RotationInputs` after validation, with every default filled in. */
export interface ResolvedInputs {
  readonly esc?: EscStateInput;
  readonly database: ResolvedDatabase;
  readonly rotateUsers: UserPair;
  readonly state?: RotationState;
  readonly rotationTrigger?: string | number;
  readonly rotateAfter?: string;
  readonly passwordPolicy: Required<PasswordPolicy>;
  readonly scramIterations: number;
  readonly timeouts: Required<Timeouts>;
  readonly liveSessions: LiveSessionsPolicy;
  readonly ownership: OwnershipPolicy;
  readonly liveSessionsIdleSeconds: number;
}
