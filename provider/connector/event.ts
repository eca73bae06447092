/**
 * The connector event: what Pulumi ESC's `fn::rotate::postgres` sends to a connector Lambda,
 * and what it expects back. Shared by the Lambda handler (which receives it) and the
 * `connector.awsLambda` path of `PostgresRotation` (which sends it), so both speak exactly
 * the service's format. Pure: no I/O.
 *
 *     { type: "postgres", host, port, database,
 *       managingUser: {username, password},
 *       rotateUser: {username, password, newPassword} }
 *     → { code: 200, message: "ok" } | { code: 400, message }
 *
 * Extensions, which the ESC service never sends (Pulumi's official connector answers them
 * with a 400, "no password provided"):
 * - `loginUser: {username, password}` instead of `rotateUser` (and no `managingUser`) asks the
 *   handler to log in as that user and report (refresh, adopting a given state);
 * - `userPair: {action: "observe" | "apply" | "drop", …}` instead of `rotateUser` asks it to
 *   look at, set up or drop the two users of `PostgresUserPair`; the reply carries the result
 *   in `userPair`.
 * - `rotateUser.expectedRotationId`, `rotateUser.rotationHolder`, `rotateUser.liveSessions`:
 *   the rotation's identity and its policy for open sessions (what `PostgresRotation` sends).
 * Replies to events with an extension may carry `error`, the name of this package's error class,
 * so a failure through the Lambda is the same error as a direct one, and `rotationId`,
 * `warnings`, `userPair`. An event without any (the ESC service's own) gets exactly the official
 * connector's reply: `{code, message}` and nothing else.
 */
import {
  hostProblems,
  identifierProblems,
  liveSessionsIdleSecondsProblems,
  scramIterationsProblems,
} from "../core/validate";
import {
  isOidMap,
  pairRequestProblems,
  type PairObservation,
  type PairRequest,
} from "../core/userPair";
import {
  LIVE_SESSIONS_POLICIES,
  OWNERSHIP_POLICIES,
  type LiveSessionsPolicy,
  type OwnershipPolicy,
  type UserPair,
} from "../core/types";
import { ValidationError } from "../errors";

export interface ConnectorUser {
  readonly username: string;
  readonly password: string;
}

interface EventBase {
  readonly type: "postgres";
  readonly host: string;
  readonly port: number;
  readonly database: string;
}

/** The service's rotation request: set `rotateUser`'s password to `newPassword`. */
export interface RotateEvent extends EventBase {
  readonly managingUser: ConnectorUser;
  /**
   * `password`: the user's old one, if known (kept out of every message; with a rotation mark
   * but no expected id, it must still log in, or the state is stale, for this package's events;
   * ESC's own, which name no rotation, rotate anyway with a warning, as the official connector
   * does). Extensions ESC never sends: `expectedRotationId`, the mark the role should carry
   * (see `core/mark.ts`), `rotationHolder`, `liveSessions`, the policy for open sessions of the
   * user, `liveSessionsIdleSeconds`, after which an idle session is a pooler's parked connection
   * to that policy (reported, not refused), `ownership`, the policy for objects the pair's users
   * own themselves, and `otherUsername`, the pair's other user (whose objects count too).
   */
  readonly rotateUser: {
    readonly username: string;
    readonly password?: string | null;
    readonly newPassword: string;
    readonly expectedRotationId?: string;
    /** Who rotates (a `PostgresRotation` resource's id), named in the mark (an extension). */
    readonly rotationHolder?: string;
    readonly liveSessions?: LiveSessionsPolicy;
    readonly ownership?: OwnershipPolicy;
    readonly otherUsername?: string;
    readonly liveSessionsIdleSeconds?: number;
  };
}

/** This package's extension: prove that `loginUser` logs in (no managing user needed). */
export interface LoginEvent extends EventBase {
  readonly managingUser?: ConnectorUser;
  readonly loginUser: ConnectorUser;
}

/** This package's extension: `PostgresUserPair`'s work, done inside the VPC. */
export interface UserPairEvent extends EventBase {
  readonly managingUser: ConnectorUser;
  readonly userPair: UserPairAction;
}

export type UserPairAction =
  | { readonly action: "observe"; readonly users: UserPair; readonly memberOf: readonly string[] }
  | {
      readonly action: "apply";
      readonly request: PairRequest;
      /** The password of each user that may need creating (used only for users created). */
      readonly passwords: Readonly<Record<string, string>>;
      /** PBKDF2 iterations of the verifiers. @default 4096 */
      readonly scramIterations?: number;
    }
  | {
      readonly action: "drop";
      readonly usernames: readonly string[];
      /** The OID each user must have to be dropped (another role under its name is kept). */
      readonly oids: Readonly<Record<string, number>>;
    };

/** What a `userPair` event's reply carries besides `{code: 200, message: "ok"}`. */
export interface UserPairResult {
  readonly observation?: PairObservation;
  readonly created?: readonly string[];
  readonly dropped?: readonly string[];
}

export type ConnectorEvent = RotateEvent | LoginEvent | UserPairEvent;

export interface ConnectorReply {
  readonly code: 200 | 400;
  readonly message: string;
  /** Name of this package's error class on failure (an extension; ESC reads code and message). */
  readonly error?: string;
  /** The result of a `userPair` event (an extension). */
  readonly userPair?: UserPairResult;
  /** The id this rotation marked the role with (an extension: this package's connector only). */
  readonly rotationId?: string;
  /** Warnings the caller should show, e.g. from `liveSessions: "warn"` (an extension). */
  readonly warnings?: readonly string[];
}

export const OK_REPLY: ConnectorReply = { code: 200, message: "ok" };

export function isLoginEvent(event: ConnectorEvent): event is LoginEvent {
  return "loginUser" in event;
}

export function isUserPairEvent(event: ConnectorEvent): event is UserPairEvent {
  return "userPair" in event;
}

/** The fields of `rotateUser` that only this package's rotations send. */
const ROTATE_USER_EXTENSIONS = [
  "expectedRotationId",
  "rotationHolder",
  "liveSessions",
  "liveSessionsIdleSeconds",
  "ownership",
  "otherUsername",
] as const;

/**
 * True when `value` (an event, parsed or as JSON text, valid or not) uses one of this package's
 * extensions: `loginUser`, `userPair`, or an extension field of `rotateUser`. Only such events
 * get the reply's extension fields.
 */
export function carriesExtensions(value: unknown): boolean {
  if (typeof value === "string") {
    try {
      value = JSON.parse(value);
    } catch {
      return false;
    }
  }
  if (!isObject(value)) return false;
  if (value.loginUser !== undefined || value.userPair !== undefined) return true;
  const rotate = value.rotateUser;
  return isObject(rotate) && ROTATE_USER_EXTENSIONS.some((key) => rotate[key] !== undefined);
}

/** `reply` as the official connector would word it: `{code, message}`, no extension field. */
export function officialReply(reply: ConnectorReply): ConnectorReply {
  return { code: reply.code, message: reply.message };
}

const MAX_FIELD_LENGTH = 1024;

/**
 * The event checked field by field; throws `ValidationError` naming every problem (never a
 * value). `type: "mysql"` is refused with its own message: this connector rotates PostgreSQL.
 */
export function parseConnectorEvent(value: unknown): ConnectorEvent {
  if (typeof value === "string") {
    try {
      value = JSON.parse(value);
    } catch {
      throw new ValidationError(["the event is not JSON"]);
    }
  }
  if (!isObject(value)) throw new ValidationError(["the event must be a JSON object"]);
  const problems: string[] = [];
  if (value.type === "mysql") {
    throw new ValidationError([
      'type "mysql" is not supported: this connector rotates PostgreSQL users only',
    ]);
  }
  if (value.type !== "postgres") problems.push('type must be "postgres"');
  const before = problems.length;
  text(value.host, "host", problems);
  // The same host as `database.host` takes: not a URL, not a Unix socket directory.
  if (problems.length === before) problems.push(...hostProblems(value.host, "host"));
  const port = value.port;
  if (!(typeof port === "number" && Number.isInteger(port) && port >= 1 && port <= 65535)) {
    problems.push("port must be an integer from 1 to 65535");
  }
  name(value.database, "database", problems);
  const rotating = value.rotateUser !== undefined;
  const login = value.loginUser !== undefined;
  const pair = value.userPair !== undefined;
  if (!login || value.managingUser !== undefined)
    user(value.managingUser, "managingUser", problems);
  const kinds = [rotating, login, pair].filter(Boolean).length;
  if (kinds !== 1) {
    problems.push(
      kinds > 1
        ? "give one of rotateUser, loginUser and userPair"
        : "rotateUser {username, password, newPassword} is required",
    );
  } else if (pair) {
    problems.push(...userPairProblems(value.userPair));
  } else if (rotating) {
    user(value.rotateUser, "rotateUser", problems, { emptyPassword: true });
    if (isObject(value.rotateUser)) {
      const rotate = value.rotateUser;
      text(rotate.newPassword, "rotateUser.newPassword", problems);
      if (
        rotate.expectedRotationId !== undefined &&
        !(
          typeof rotate.expectedRotationId === "string" &&
          /^[0-9a-f-]{8,64}$/.test(rotate.expectedRotationId)
        )
      ) {
        problems.push("rotateUser.expectedRotationId must be a rotation id");
      }
      if (
        rotate.rotationHolder !== undefined &&
        !(
          typeof rotate.rotationHolder === "string" &&
          /^[0-9a-f-]{8,64}$/.test(rotate.rotationHolder)
        )
      ) {
        problems.push("rotateUser.rotationHolder must be a resource id");
      }
      if (
        rotate.liveSessions !== undefined &&
        !LIVE_SESSIONS_POLICIES.includes(rotate.liveSessions as never)
      ) {
        problems.push(
          `rotateUser.liveSessions must be one of ${LIVE_SESSIONS_POLICIES.join(", ")}`,
        );
      }
      if (
        rotate.ownership !== undefined &&
        !OWNERSHIP_POLICIES.includes(rotate.ownership as never)
      ) {
        problems.push(`rotateUser.ownership must be one of ${OWNERSHIP_POLICIES.join(", ")}`);
      }
      if (rotate.otherUsername !== undefined) {
        name(rotate.otherUsername, "rotateUser.otherUsername", problems);
      }
      problems.push(
        ...liveSessionsIdleSecondsProblems(
          rotate.liveSessionsIdleSeconds,
          "rotateUser.liveSessionsIdleSeconds",
        ),
      );
    }
  } else {
    user(value.loginUser, "loginUser", problems);
  }
  if (problems.length > 0) throw new ValidationError(problems);
  return value as unknown as ConnectorEvent;
}

function userPairProblems(value: unknown): string[] {
  if (!isObject(value)) return ["userPair must be an object {action, …}"];
  const problems: string[] = [];
  const names = (list: unknown, path: string) => {
    if (!Array.isArray(list)) problems.push(`${path} must be a list of role names`);
    else list.forEach((item, i) => name(item, `${path}[${i}]`, problems));
  };
  switch (value.action) {
    case "observe":
      if (!isObject(value.users)) problems.push("userPair.users must be {username1, username2}");
      else {
        name(value.users.username1, "userPair.users.username1", problems);
        name(value.users.username2, "userPair.users.username2", problems);
      }
      names(value.memberOf, "userPair.memberOf");
      break;
    case "apply": {
      problems.push(...pairRequestProblems(value.request, "userPair.request"));
      const passwords = value.passwords;
      if (!isObject(passwords)) problems.push("userPair.passwords must be an object");
      else {
        for (const [username, password] of Object.entries(passwords)) {
          name(username, "userPair.passwords (a user name)", problems);
          text(password, "userPair.passwords (a password)", problems);
        }
      }
      const iterations = value.scramIterations;
      if (iterations !== undefined) {
        // A number only: the engine's "unknown" text, which inputs may hold, is no count here.
        const count = typeof iterations === "number" ? iterations : NaN;
        problems.push(...scramIterationsProblems(count, "userPair.scramIterations"));
      }
      break;
    }
    case "drop":
      names(value.usernames, "userPair.usernames");
      if (!isOidMap(value.oids)) {
        problems.push("userPair.oids must be an object of role names to OIDs");
      }
      break;
    default:
      problems.push('userPair.action must be "observe", "apply" or "drop"');
  }
  return problems;
}

/** The reply checked; throws `ValidationError` when it is not `{code: 200|400, message}`. */
export function parseConnectorReply(value: unknown): ConnectorReply {
  if (
    isObject(value) &&
    (value.code === 200 || value.code === 400) &&
    typeof value.message === "string" &&
    (value.error === undefined || typeof value.error === "string") &&
    (value.userPair === undefined || isObject(value.userPair)) &&
    (value.rotationId === undefined || typeof value.rotationId === "string") &&
    (value.warnings === undefined ||
      (Array.isArray(value.warnings) && value.warnings.every((w) => typeof w === "string")))
  ) {
    return value as unknown as ConnectorReply;
  }
  throw new ValidationError(["the connector's reply is not {code: 200 | 400, message}"]);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function text(value: unknown, path: string, problems: string[], allowEmpty = false): void {
  if (typeof value !== "string" || (!allowEmpty && value.length === 0)) {
    problems.push(`${path} must be a ${allowEmpty ? "" : "non-empty "}string`);
  } else if (value.length > MAX_FIELD_LENGTH || value.includes("\0")) {
    problems.push(`${path} must be at most ${MAX_FIELD_LENGTH} characters, without NUL`);
  }
}

/**
 * A role or database name: also refused when PostgreSQL would truncate it (over 63 bytes), for
 * then the checks would look at one role and `ALTER ROLE` would change another.
 */
function name(value: unknown, path: string, problems: string[]): void {
  if (typeof value !== "string" || value.length === 0) {
    problems.push(`${path} must be a non-empty string`);
    return;
  }
  problems.push(...identifierProblems(value, path));
}

function user(
  value: unknown,
  path: string,
  problems: string[],
  options: { emptyPassword?: boolean } = {},
): void {
  if (!isObject(value)) {
    problems.push(`${path} must be an object {username, password}`);
    return;
  }
  name(value.username, `${path}.username`, problems);
  // The rotated user's old password is unknown before its first rotation: empty or absent.
  if (options.emptyPassword && (value.password === undefined || value.password === null)) return;
  text(value.password, `${path}.password`, problems, options.emptyPassword);
}
