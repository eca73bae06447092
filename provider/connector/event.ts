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
 * One extension, which the ESC service never sends: `loginUser: {username, password}` instead
 * of `rotateUser` (and no `managingUser`) asks the handler to log in as that user and report
 * (used by refresh and by adopting a given state). Replies may carry `error`, the name of this package's error class,
 * so a failure through the Lambda is the same error as a direct one.
 */
import { identifierProblems } from "../core/validate";
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
  /** `password`: the user's old one, if known (unused; kept out of every message). */
  readonly rotateUser: {
    readonly username: string;
    readonly password?: string | null;
    readonly newPassword: string;
  };
}

/** This package's extension: prove that `loginUser` logs in (no managing user needed). */
export interface LoginEvent extends EventBase {
  readonly managingUser?: ConnectorUser;
  readonly loginUser: ConnectorUser;
}

export type ConnectorEvent = RotateEvent | LoginEvent;

export interface ConnectorReply {
  readonly code: 200 | 400;
  readonly message: string;
  /** Name of this package's error class on failure (an extension; ESC reads code and message). */
  readonly error?: string;
}

export const OK_REPLY: ConnectorReply = { code: 200, message: "ok" };

export function isLoginEvent(event: ConnectorEvent): event is LoginEvent {
  return "loginUser" in event;
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
  text(value.host, "host", problems);
  const port = value.port;
  if (!(typeof port === "number" && Number.isInteger(port) && port >= 1 && port <= 65535)) {
    problems.push("port must be an integer from 1 to 65535");
  }
  name(value.database, "database", problems);
  const rotating = value.rotateUser !== undefined;
  const login = value.loginUser !== undefined;
  if (!login || value.managingUser !== undefined)
    user(value.managingUser, "managingUser", problems);
  if (rotating === login) {
    problems.push(
      login
        ? "give rotateUser or loginUser, not both"
        : "rotateUser {username, password, newPassword} is required",
    );
  } else if (rotating) {
    user(value.rotateUser, "rotateUser", problems, { emptyPassword: true });
    if (isObject(value.rotateUser)) {
      text(value.rotateUser.newPassword, "rotateUser.newPassword", problems);
    }
  } else {
    user(value.loginUser, "loginUser", problems);
  }
  if (problems.length > 0) throw new ValidationError(problems);
  return value as unknown as ConnectorEvent;
}

/** The reply checked; throws `ValidationError` when it is not `{code: 200|400, message}`. */
export function parseConnectorReply(value: unknown): ConnectorReply {
  if (
    isObject(value) &&
    (value.code === 200 || value.code === 400) &&
    typeof value.message === "string" &&
    (value.error === undefined || typeof value.error === "string")
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
