/**
 * The outputs of a `PostgresRotation` and the views of inputs and outputs that `planChange`
 * compares. Pure.
 */
import { sameJson, type ChangeView } from "./plan";
import { resolvePasswordPolicy } from "./password";
import { DEFAULT_SCRAM_ITERATIONS } from "./scram";
import type {
  Connector,
  EscStateInput,
  Credential,
  LiveSessionsPolicy,
  OwnershipPolicy,
  PasswordPolicy,
  PreviousCredential,
  RotationInputs,
  RotationState,
  SslMode,
  Timeouts,
  UserPair,
} from "./types";
import { DEFAULT_LIVE_SESSIONS_IDLE_SECONDS } from "./types";
import { DEFAULT_PORT, DEFAULT_TIMEOUTS, resolveConnector } from "./validate";

/** The inputs that hold no secret, with defaults filled in. Kept in the outputs for diffs. */
export interface PublicSettings {
  readonly database: {
    readonly host: string;
    readonly port: number;
    readonly database: string;
    readonly managingUser: { readonly username: string };
    readonly ssl: { readonly mode: SslMode; readonly ca?: string };
    /** Present only when a connector is used; its region filled in from the ARN. */
    readonly connector?: Connector;
  };
  readonly passwordPolicy: Required<PasswordPolicy>;
  readonly scramIterations: number;
  readonly timeouts: Required<Timeouts>;
  /** What a rotation does about open sessions of the user it changes. */
  readonly liveSessions: LiveSessionsPolicy;
  /** What a rotation does about objects either user owns directly. */
  readonly ownership: OwnershipPolicy;
  /** Sessions idle longer than this are a pooler's parked connections to that guard. */
  readonly liveSessionsIdleSeconds: number;
  /** Where the state is kept in ESC (no access token); present only when given. */
  readonly esc?: Omit<EscStateInput, "accessToken">;
}

/** The settings left out of the outputs while they equal their defaults. */
const DEFAULTED_SETTINGS = [
  "passwordPolicy",
  "scramIterations",
  "timeouts",
  "liveSessions",
  "ownership",
  "liveSessionsIdleSeconds",
] as const;
type DefaultedSetting = (typeof DEFAULTED_SETTINGS)[number];

/**
 * The settings as the outputs keep them: `database` and `esc` whole, the others only where they
 * differ from their defaults. Every resource's outputs are written in each of the engine's
 * checkpoints, so a fleet's state stays smaller; `publicSettings` fills the defaults back in.
 */
export type StoredSettings = Omit<PublicSettings, DefaultedSetting> &
  Partial<Pick<PublicSettings, DefaultedSetting>>;

/** Everything a `PostgresRotation` records. `current`, `previous` and `state` are secret. */
export interface RotationOutputs extends StoredSettings {
  readonly rotateUsers: UserPair;
  /** The `state` input as last applied (secret); compared to notice a new one. */
  readonly state?: RotationState;
  /** The `rotationTrigger` that produced these outputs. */
  readonly rotationTrigger?: string | number;
  /** The credentials apps should use now. */
  readonly current: Credential;
  /** The other role; still valid until the next rotation. Password unknown after the first. */
  readonly previous: PreviousCredential;
  /** `current.username`, readable without unwrapping a secret. */
  readonly currentUsername: string;
  /** `previous.username`, readable without unwrapping a secret. */
  readonly previousUsername: string;
  /** ISO 8601 time of the last password change; absent while the adopted state is unrotated. */
  readonly rotatedAt?: string;
  /**
   * ISO 8601 time the `state` input was adopted, present only while that state is unrotated:
   * `rotateAfter` measures the password's age from it.
   */
  readonly adoptedAt?: string;
  /**
   * By user: the id of the rotation that last changed its password (the mark in the role's
   * comment), for the users this resource rotated. A rotation from this state expects it.
   */
  readonly rotationIds?: Readonly<Record<string, string>>;
}

export type Lenient<T> = { readonly [K in keyof T]?: unknown };

/** The non-secret part of a possibly incomplete `database` input, defaults filled in. */
export function publicDatabase(value: unknown): PublicSettings["database"] {
  const database = (value ?? {}) as Partial<RotationInputs["database"]>;
  const ssl = (database.ssl ?? {}) as { mode?: SslMode; ca?: string };
  return {
    host: database.host as string,
    port: database.port ?? DEFAULT_PORT,
    database: database.database as string,
    managingUser: { username: database.managingUser?.username as string },
    ssl: { mode: ssl.mode ?? "verify-full", ...(ssl.ca ? { ca: ssl.ca } : {}) },
    ...(connectorOf(database.connector) ?? {}),
  };
}

/** `timeouts` of possibly incomplete inputs, defaults filled in. */
export function publicTimeouts(value: unknown): Required<Timeouts> {
  const timeouts = (value ?? {}) as Timeouts;
  return {
    connectSeconds: timeouts.connectSeconds ?? DEFAULT_TIMEOUTS.connectSeconds,
    statementSeconds: timeouts.statementSeconds ?? DEFAULT_TIMEOUTS.statementSeconds,
    lockSeconds: timeouts.lockSeconds ?? DEFAULT_TIMEOUTS.lockSeconds,
  };
}

/** Non-secret settings of possibly incomplete inputs (values unknown in a preview included). */
export function publicSettings(inputs: Lenient<RotationInputs>): PublicSettings {
  return {
    database: publicDatabase(inputs.database),
    ...escOf(inputs.esc),
    passwordPolicy: resolvePasswordPolicy((inputs.passwordPolicy ?? {}) as PasswordPolicy),
    scramIterations: (inputs.scramIterations as number | undefined) ?? DEFAULT_SCRAM_ITERATIONS,
    timeouts: publicTimeouts(inputs.timeouts),
    liveSessions: (inputs.liveSessions as LiveSessionsPolicy | undefined) ?? "refuse",
    ownership: (inputs.ownership as OwnershipPolicy | undefined) ?? "warn",
    liveSessionsIdleSeconds:
      (inputs.liveSessionsIdleSeconds as number | undefined) ?? DEFAULT_LIVE_SESSIONS_IDLE_SECONDS,
  };
}

/** What `publicSettings` fills in when nothing is given. */
const DEFAULT_SETTINGS = publicSettings({});

/** `publicSettings` without the settings that equal their defaults. */
export function storedSettings(inputs: Lenient<RotationInputs>): StoredSettings {
  const settings: Partial<PublicSettings> = { ...publicSettings(inputs) };
  for (const key of DEFAULTED_SETTINGS) {
    if (sameJson(settings[key], DEFAULT_SETTINGS[key])) delete settings[key];
  }
  return settings as StoredSettings;
}

/** `{esc}` without its access token, `key` defaulted, when given. */
function escOf(esc: unknown): { esc: Omit<EscStateInput, "accessToken"> } | undefined {
  if (!esc || typeof esc !== "object") return undefined;
  const { accessToken: _token, ...rest } = esc as EscStateInput;
  void _token;
  return { esc: { ...rest, key: rest.key ?? "dbRotator" } };
}

/** `{connector}` when a well-formed one is given (unknown values pass through for previews). */
function connectorOf(connector: unknown): { connector: Connector } | undefined {
  const lambda = (connector as Connector | undefined)?.awsLambda;
  if (typeof lambda?.lambdaArn !== "string") return undefined;
  return { connector: resolveConnector(connector as Connector) };
}

/**
 * The outputs after a create or an update. `rotatedAt` is when a password was last changed;
 * without it, `adoptedAt` is when the unrotated state was adopted.
 */
export function buildOutputs(
  inputs: RotationInputs,
  credentials: { readonly current: Credential; readonly previous: PreviousCredential },
  rotatedAt: string | undefined,
  rotationIds: Readonly<Record<string, string>> = {},
  adoptedAt?: string,
): RotationOutputs {
  return {
    ...storedSettings(inputs),
    rotateUsers: {
      username1: inputs.rotateUsers.username1,
      username2: inputs.rotateUsers.username2,
    },
    ...(inputs.state ? { state: inputs.state } : {}),
    ...(inputs.rotationTrigger !== undefined ? { rotationTrigger: inputs.rotationTrigger } : {}),
    current: credentials.current,
    previous: credentials.previous,
    currentUsername: credentials.current.username,
    previousUsername: credentials.previous.username,
    ...(rotatedAt ? { rotatedAt } : adoptedAt ? { adoptedAt } : {}),
    ...(Object.keys(rotationIds).length > 0 ? { rotationIds: { ...rotationIds } } : {}),
  };
}

export function changeViewOfInputs(inputs: Lenient<RotationInputs>): ChangeView {
  return {
    rotateUsers: inputs.rotateUsers as UserPair,
    // `null` (a pair's absent `initialState`) is no state: the rotation keeps its own.
    state: (inputs.state ?? undefined) as RotationState | undefined,
    rotationTrigger: inputs.rotationTrigger as string | number | undefined,
    settings: publicSettings(inputs),
  };
}

export function changeViewOfOutputs(outputs: RotationOutputs): ChangeView {
  return {
    rotateUsers: outputs.rotateUsers,
    state: outputs.state,
    rotationTrigger: outputs.rotationTrigger,
    settings: publicSettings(outputs as unknown as Lenient<RotationInputs>),
    currentUsername: outputs.current?.username,
  };
}
