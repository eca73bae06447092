/**
 * Input validation, pure. Every problem is reported at once, each naming the input path, and
 * no message ever repeats a password. Values still unknown during a preview are skipped.
 */
import { ValidationError } from "../errors";
import { passwordPolicyProblems, resolvePasswordPolicy } from "./password";
import {
  DEFAULT_SCRAM_ITERATIONS,
  MAX_SCRAM_ITERATIONS,
  MIN_SCRAM_ITERATIONS,
  pgCanLogIn,
} from "./scram";
import {
  DEFAULT_LIVE_SESSIONS_IDLE_SECONDS,
  LIVE_SESSIONS_POLICIES,
  OWNERSHIP_POLICIES,
  MAX_LIVE_SESSIONS_IDLE_SECONDS,
  SSL_MODES,
  type Connector,
  type DatabaseConfig,
  type ResolvedDatabase,
  type ResolvedInputs,
  type RotationInputs,
  type Timeouts,
  type UserPair,
} from "./types";
import { rotateAfterProblems } from "./rotateAfter";

/** How the Pulumi engine spells a value that is not known yet (during a preview). */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

export function isUnknown(value: unknown): boolean {
  return value === UNKNOWN;
}

/** PostgreSQL's NAMEDATALEN - 1: longer names are silently truncated by the server. */
export const MAX_IDENTIFIER_BYTES = 63;

export const DEFAULT_PORT = 5432;
export const DEFAULT_TIMEOUTS = { connectSeconds: 10, statementSeconds: 30, lockSeconds: 60 };
const MAX_TIMEOUT_SECONDS = 3600;

type Problems = string[];

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Problems with a role or database name; `[]` when it is a usable identifier. */
export function identifierProblems(value: unknown, path: string): Problems {
  if (isUnknown(value)) return [];
  if (typeof value !== "string" || value.length === 0)
    return [`${path} must be a non-empty string`];
  if (value.includes("\0")) return [`${path} must not contain a NUL character`];
  if (!value.isWellFormed()) return [`${path} must be valid Unicode text`];
  const bytes = Buffer.byteLength(value, "utf8");
  if (bytes > MAX_IDENTIFIER_BYTES) {
    return [
      `${path} is ${bytes} bytes long; PostgreSQL names are at most ${MAX_IDENTIFIER_BYTES} bytes`,
    ];
  }
  return [];
}

/**
 * Problems with the name of a role this package creates or rotates: a usable identifier, and
 * not one PostgreSQL reserves (`public`, `none`, names starting with `pg_`).
 */
export function roleNameProblems(value: unknown, path: string): Problems {
  const problems = identifierProblems(value, path);
  if (problems.length > 0 || typeof value !== "string" || isUnknown(value)) return problems;
  if (value === "public" || value === "none") {
    return [`${path} "${value}" is a name PostgreSQL reserves`];
  }
  if (value.startsWith("pg_")) {
    return [`${path} must not start with "pg_" (PostgreSQL reserves those names)`];
  }
  return [];
}

function passwordProblems(value: unknown, path: string): Problems {
  if (isUnknown(value)) return [];
  if (typeof value !== "string" || value.length === 0)
    return [`${path} must be a non-empty string`];
  if (value.includes("\0")) return [`${path} must not contain a NUL character`];
  if (!pgCanLogIn(value)) {
    return [
      `${path} holds characters that SASLprep prohibits, for which PostgreSQL checks the raw ` +
        `bytes while this package's client (pg) normalizes them, so no login with it can succeed ` +
        `from here (libpq's can). Use a password without such characters; rotating replaces it ` +
        `with a generated ASCII one`,
    ];
  }
  return [];
}

/** The longest DNS name (RFC 1035): longer text is no host, and would only reach a resolver. */
export const MAX_HOST_LENGTH = 253;

/** Problems with a host name or IP address (not a URL, not a Unix socket directory). */
export function hostProblems(value: unknown, path = "database.host"): Problems {
  if (isUnknown(value)) return [];
  if (typeof value !== "string" || value.trim().length === 0) {
    return [`${path} must be a non-empty host name or IP address`];
  }
  if (value.includes("://")) return [`${path} must be a host name or address, not a URL`];
  if (/[\s\0/]/.test(value)) {
    return [`${path} must be a host name or IP address (no spaces, slashes or NUL)`];
  }
  if (value.length > MAX_HOST_LENGTH) {
    return [
      `${path} is ${value.length} characters long; a host name is at most ${MAX_HOST_LENGTH}`,
    ];
  }
  return [];
}

function integerProblems(value: unknown, path: string, min: number, max: number): Problems {
  if (value === undefined || isUnknown(value)) return [];
  return Number.isInteger(value) && (value as number) >= min && (value as number) <= max
    ? []
    : [`${path} must be a whole number from ${min} to ${max}`];
}

function secondsProblems(value: unknown, path: string): Problems {
  if (value === undefined || isUnknown(value)) return [];
  return typeof value === "number" && value > 0 && value <= MAX_TIMEOUT_SECONDS
    ? []
    : [`${path} must be a number of seconds above 0 and at most ${MAX_TIMEOUT_SECONDS}`];
}

export function databaseProblems(database: unknown): Problems {
  if (isUnknown(database)) return [];
  if (!isObject(database)) return ["database is required: {host, port, database, managingUser}"];
  const problems = [
    ...hostProblems(database.host),
    ...integerProblems(database.port, "database.port", 1, 65535),
    ...identifierProblems(database.database, "database.database"),
  ];
  const manager = database.managingUser;
  if (isUnknown(manager)) {
    // resolved later
  } else if (!isObject(manager)) {
    problems.push("database.managingUser is required: {username, password}");
  } else {
    problems.push(
      ...identifierProblems(manager.username, "database.managingUser.username"),
      ...passwordProblems(manager.password, "database.managingUser.password"),
    );
  }
  problems.push(...connectorProblems(database.connector));
  if (database.connector !== undefined && database.ssl !== undefined) {
    problems.push(
      "database.ssl has no effect with database.connector: the connector Lambda's own setting " +
        "(PGSSLMODE, verify-full by default) decides TLS; remove database.ssl",
    );
  }
  const ssl = database.ssl;
  if (ssl !== undefined && !isUnknown(ssl)) {
    if (!isObject(ssl)) {
      problems.push("database.ssl must be an object {mode, ca?}");
    } else {
      if (!isUnknown(ssl.mode) && !SSL_MODES.includes(ssl.mode as never)) {
        problems.push(`database.ssl.mode must be one of ${SSL_MODES.join(", ")}`);
      }
      if (ssl.ca !== undefined && !isUnknown(ssl.ca)) {
        if (typeof ssl.ca !== "string" || !ssl.ca.includes("-----BEGIN CERTIFICATE-----")) {
          problems.push("database.ssl.ca must be PEM text holding one or more certificates");
        } else if (ssl.mode === "disable") {
          problems.push('database.ssl.ca has no effect with mode "disable"');
        }
      }
    }
  }
  return problems;
}

const LAMBDA_ARN =
  /^arn:aws[a-z-]*:lambda:([a-z]{2}(-[a-z]+)+-\d):\d{12}:function:[A-Za-z0-9_-]{1,64}(:[A-Za-z0-9_$-]{1,128})?$/;
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d$/;

/** The region in a Lambda function ARN (validated first). */
export function regionOfLambdaArn(arn: string): string {
  return LAMBDA_ARN.exec(arn)?.[1] ?? "";
}

function connectorProblems(connector: unknown): Problems {
  if (connector === undefined || isUnknown(connector)) return [];
  const lambda = isObject(connector) ? connector.awsLambda : undefined;
  if (!isObject(lambda)) {
    return ["database.connector must be {awsLambda: {lambdaArn, region?, roleArn?, endpoint?}}"];
  }
  const problems: string[] = [];
  const check = (key: string, ok: (v: unknown) => boolean, what: string, required = false) => {
    const value = lambda[key];
    if (isUnknown(value) || (value === undefined && !required)) return;
    if (!ok(value)) problems.push(`database.connector.awsLambda.${key} must be ${what}`);
  };
  const matches = (re: RegExp) => (v: unknown) => typeof v === "string" && re.test(v);
  check(
    "lambdaArn",
    matches(LAMBDA_ARN),
    "a Lambda function ARN (arn:aws:lambda:<region>:<account>:function:<name>)",
    true,
  );
  check("region", matches(REGION), "an AWS region such as us-east-1");
  check("roleArn", matches(ROLE_ARN), "an IAM role ARN (arn:aws:iam::<account>:role/<name>)");
  check(
    "endpoint",
    (v) => typeof v === "string" && /^https?:\/\/[^\s]+$/.test(v),
    "an http(s) URL",
  );
  return problems;
}

const ESC_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

/**
 * Problems with where an ESC environment is: each of `nameKeys` an ESC name, `apiUrl` an
 * http(s) URL when given. `prefix` is the input path, e.g. "esc.".
 */
export function escLocationProblems(
  value: Record<string, unknown>,
  nameKeys: readonly string[],
  prefix = "",
): Problems {
  const problems: string[] = [];
  for (const key of nameKeys) {
    const v = value[key];
    if (!isUnknown(v) && (typeof v !== "string" || !ESC_NAME.test(v))) {
      problems.push(`${prefix}${key} must be 1-100 letters, digits, '.', '_' or '-'`);
    }
  }
  const url = value.apiUrl;
  if (
    url !== undefined &&
    !isUnknown(url) &&
    (typeof url !== "string" || !/^https?:\/\/\S+$/.test(url))
  ) {
    problems.push(`${prefix}apiUrl must be an http(s) URL`);
  }
  return problems;
}

function escProblems(esc: unknown): Problems {
  if (esc === undefined || isUnknown(esc)) return [];
  if (!isObject(esc))
    return ["esc must be {organization, project, environment, key?, accessToken?, apiUrl?}"];
  const problems = escLocationProblems(esc, ["organization", "project", "environment"], "esc.");
  if (
    esc.key !== undefined &&
    !isUnknown(esc.key) &&
    (typeof esc.key !== "string" || !/^[A-Za-z_][\w-]*$/.test(esc.key))
  ) {
    problems.push("esc.key must be a YAML key of letters, digits, '_' or '-'");
  }
  const token = esc.accessToken;
  if (
    token !== undefined &&
    !isUnknown(token) &&
    (typeof token !== "string" || token.trim().length === 0)
  ) {
    problems.push("esc.accessToken must be a non-empty string");
  }
  return problems;
}

/** Problems with `rotateUsers` (two distinct roles, neither the managing user). */
export function usersProblems(users: unknown, manager: unknown): Problems {
  if (isUnknown(users)) return [];
  if (!isObject(users)) return ["rotateUsers is required: {username1, username2}"];
  const problems = [
    ...roleNameProblems(users.username1, "rotateUsers.username1"),
    ...roleNameProblems(users.username2, "rotateUsers.username2"),
  ];
  const known = (v: unknown): v is string => typeof v === "string" && !isUnknown(v);
  if (known(users.username1) && users.username1 === users.username2) {
    problems.push("rotateUsers.username1 and rotateUsers.username2 must be two different roles");
  }
  const managerName = isObject(manager) ? manager.username : undefined;
  if (known(managerName)) {
    for (const key of ["username1", "username2"] as const) {
      if (users[key] === managerName) {
        problems.push(
          `rotateUsers.${key} must not be the managing user: rotating it would lock the rotator out`,
        );
      }
    }
  }
  return problems;
}

/**
 * Problems with `state` against the pair; `[]` when the state belongs to it. `null` is no state:
 * the engine sends it for `state: users.initialState` when the `PostgresUserPair` has none (it
 * adopted a user whose password it does not know, or replaced itself and adopted both).
 */
export function stateProblems(state: unknown, users: UserPair): Problems {
  if (state === undefined || state === null || isUnknown(state)) return [];
  if (!isObject(state)) return ["state must be an object {current, previous?}"];
  const pair = [users.username1, users.username2];
  const problems: Problems = [];
  const current = state.current;
  if (!isObject(current)) {
    problems.push("state.current is required: {username, password}");
  } else {
    problems.push(
      ...identifierProblems(current.username, "state.current.username"),
      ...passwordProblems(current.password, "state.current.password"),
    );
    if (typeof current.username === "string" && !isUnknown(current.username)) {
      if (!pair.includes(current.username) && !pair.some(isUnknown)) {
        problems.push(
          `state.current.username "${current.username}" is neither rotateUsers.username1 nor username2`,
        );
      }
    }
  }
  const previous = state.previous;
  if (previous !== undefined && !isUnknown(previous)) {
    if (!isObject(previous)) {
      problems.push("state.previous must be an object {username, password?}");
    } else {
      problems.push(...identifierProblems(previous.username, "state.previous.username"));
      if (previous.password !== undefined) {
        problems.push(...passwordProblems(previous.password, "state.previous.password"));
      }
      if (
        isObject(current) &&
        previous.username === current.username &&
        !isUnknown(previous.username)
      ) {
        problems.push("state.previous.username must differ from state.current.username");
      } else if (
        typeof previous.username === "string" &&
        !isUnknown(previous.username) &&
        !pair.includes(previous.username) &&
        !pair.some(isUnknown)
      ) {
        problems.push(
          `state.previous.username "${previous.username}" is neither rotateUsers.username1 nor username2`,
        );
      }
    }
  }
  return problems;
}

/** Every problem with `inputs`, unknown values skipped; `[]` when they are usable. */
export function inputProblems(inputs: unknown): Problems {
  if (!isObject(inputs)) return ["inputs must be an object"];
  const database = isObject(inputs.database) ? inputs.database : undefined;
  const problems = [
    ...databaseProblems(inputs.database),
    ...usersProblems(inputs.rotateUsers, database?.managingUser),
  ];
  if (isObject(inputs.rotateUsers)) {
    problems.push(...stateProblems(inputs.state, inputs.rotateUsers as unknown as UserPair));
  }
  problems.push(...escProblems(inputs.esc));
  const trigger = inputs.rotationTrigger;
  if (
    trigger !== undefined &&
    !isUnknown(trigger) &&
    typeof trigger !== "string" &&
    !(typeof trigger === "number" && Number.isFinite(trigger))
  ) {
    problems.push("rotationTrigger must be a string or a number");
  }
  problems.push(...rotateAfterProblems(inputs.rotateAfter));
  problems.push(...passwordSettingsProblems(inputs), ...timeoutsProblems(inputs.timeouts));
  const live = inputs.liveSessions;
  if (live !== undefined && !isUnknown(live) && !LIVE_SESSIONS_POLICIES.includes(live as never)) {
    problems.push(`liveSessions must be one of ${LIVE_SESSIONS_POLICIES.join(", ")}`);
  }
  const ownership = inputs.ownership;
  if (
    ownership !== undefined &&
    !isUnknown(ownership) &&
    !OWNERSHIP_POLICIES.includes(ownership as never)
  ) {
    problems.push(`ownership must be one of ${OWNERSHIP_POLICIES.join(", ")}`);
  }
  problems.push(...liveSessionsIdleSecondsProblems(inputs.liveSessionsIdleSeconds));
  return problems;
}

/** Problems with `liveSessionsIdleSeconds` (`path`: how the caller names it). */
export function liveSessionsIdleSecondsProblems(
  value: unknown,
  path = "liveSessionsIdleSeconds",
): Problems {
  return integerProblems(value, path, 0, MAX_LIVE_SESSIONS_IDLE_SECONDS);
}

export function timeoutsProblems(timeouts: unknown): Problems {
  if (timeouts === undefined || isUnknown(timeouts)) return [];
  if (!isObject(timeouts)) {
    return ["timeouts must be an object {connectSeconds?, statementSeconds?, lockSeconds?}"];
  }
  return (["connectSeconds", "statementSeconds", "lockSeconds"] as const).flatMap((key) =>
    secondsProblems(timeouts[key], `timeouts.${key}`),
  );
}

/** Problems with `passwordPolicy` and `scramIterations`, shared by every resource that sets passwords. */
export function passwordSettingsProblems(inputs: Record<string, unknown>): Problems {
  const problems: Problems = [];
  const policy = inputs.passwordPolicy;
  if (policy !== undefined && !isUnknown(policy)) {
    if (!isObject(policy)) problems.push("passwordPolicy must be an object {length?, characters?}");
    else problems.push(...passwordPolicyProblems(policy));
  }
  problems.push(...scramIterationsProblems(inputs.scramIterations, "scramIterations"));
  return problems;
}

/**
 * Problems with a count of SCRAM iterations at `path`: a whole number from
 * `MIN_SCRAM_ITERATIONS` to `MAX_SCRAM_ITERATIONS`; above that, why and what to set.
 */
export function scramIterationsProblems(value: unknown, path: string): Problems {
  if (Number.isInteger(value) && (value as number) > MAX_SCRAM_ITERATIONS) {
    return [
      `${path} must be at most ${MAX_SCRAM_ITERATIONS}: node-postgres refuses, with its default ` +
        `scramMaxIterations (100,000), to log in with a verifier of more iterations, so apps ` +
        `on it could not use the password; set ${path} to ${MAX_SCRAM_ITERATIONS} or less`,
    ];
  }
  return integerProblems(value, path, MIN_SCRAM_ITERATIONS, MAX_SCRAM_ITERATIONS);
}

/** Validates fully known inputs and fills in every default; throws `ValidationError`. */
export function resolveInputs(inputs: RotationInputs): ResolvedInputs {
  const problems = inputProblems(inputs);
  const unknownAt = findUnknown(inputs);
  if (unknownAt) problems.push(`${unknownAt} is not known yet; it must be known to rotate`);
  if (problems.length > 0) throw new ValidationError(problems);
  return {
    database: resolveDatabase(inputs.database),
    rotateUsers: {
      username1: inputs.rotateUsers.username1,
      username2: inputs.rotateUsers.username2,
    },
    ...(inputs.state ? { state: inputs.state } : {}),
    ...(inputs.esc ? { esc: inputs.esc } : {}),
    ...(inputs.rotationTrigger !== undefined ? { rotationTrigger: inputs.rotationTrigger } : {}),
    ...(inputs.rotateAfter !== undefined ? { rotateAfter: inputs.rotateAfter } : {}),
    passwordPolicy: resolvePasswordPolicy(inputs.passwordPolicy),
    scramIterations: inputs.scramIterations ?? DEFAULT_SCRAM_ITERATIONS,
    timeouts: resolveTimeouts(inputs.timeouts),
    liveSessions: inputs.liveSessions ?? "refuse",
    ownership: inputs.ownership ?? "warn",
    liveSessionsIdleSeconds: inputs.liveSessionsIdleSeconds ?? DEFAULT_LIVE_SESSIONS_IDLE_SECONDS,
  };
}

/** `database` (validated) with every default filled in. */
export function resolveDatabase(database: DatabaseConfig): ResolvedDatabase {
  return {
    host: database.host,
    port: database.port ?? DEFAULT_PORT,
    database: database.database,
    managingUser: {
      username: database.managingUser.username,
      password: database.managingUser.password,
    },
    ssl: {
      mode: database.ssl?.mode ?? "verify-full",
      ...(database.ssl?.ca ? { ca: database.ssl.ca } : {}),
    },
    ...(database.connector ? { connector: resolveConnector(database.connector) } : {}),
  };
}

export function resolveTimeouts(timeouts: Timeouts | undefined): Required<Timeouts> {
  return { ...DEFAULT_TIMEOUTS, ...definedOnly(timeouts ?? {}) };
}

/** The connector with its region filled in from the ARN. */
export function resolveConnector(connector: Connector): Connector {
  const { lambdaArn, region, roleArn, endpoint } = connector.awsLambda;
  return {
    awsLambda: {
      lambdaArn,
      region: region ?? regionOfLambdaArn(lambdaArn),
      ...(roleArn ? { roleArn } : {}),
      ...(endpoint ? { endpoint } : {}),
    },
  };
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Path of the first value still unknown, e.g. "database.managingUser.password". */
export function findUnknown(value: unknown, path = ""): string | undefined {
  if (isUnknown(value)) return path || "inputs";
  if (!isObject(value)) return undefined;
  for (const [key, child] of Object.entries(value)) {
    const found = findUnknown(child, path ? `${path}.${key}` : key);
    if (found) return found;
  }
  return undefined;
}
