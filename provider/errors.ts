/**
 * One error class per failure kind. Every message is written by us, names the problem and the
 * role involved, and never contains a password, a SCRAM verifier or a connection string. Lower
 * errors are kept as `cause`, but only as a sanitized copy (name, code, redacted message): a
 * driver error object can carry more than its message.
 */

/** Base class of every error this package throws on purpose. */
export class RotationError extends Error {
  override name = "RotationError";
}

/** An input is malformed. Raised before any connection is opened. */
export class ValidationError extends RotationError {
  override name = "ValidationError";
  /** Every problem found, each naming the input path. */
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(
      problems.length === 1
        ? `invalid input: ${problems[0]}`
        : `invalid input:\n${problems.map((p) => `  - ${p}`).join("\n")}`,
    );
    this.problems = problems;
  }
}

/** The given state does not belong to the user pair being rotated. */
export class StateMismatchError extends RotationError {
  override name = "StateMismatchError";
}

/** The server could not be reached, or TLS could not be negotiated or verified. */
export class ConnectionError extends RotationError {
  override name = "ConnectionError";
}

/** The server rejected a login: wrong password, unknown user, or pg_hba.conf said no. */
export class AuthenticationError extends RotationError {
  override name = "AuthenticationError";
  /** The role that failed to log in. */
  readonly username: string;
  constructor(username: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.username = username;
  }
}

/** The role to rotate does not exist. */
export class RoleNotFoundError extends RotationError {
  override name = "RoleNotFoundError";
}

/** The role must not be rotated: a superuser, the managing user itself, or a role that cannot log in. */
export class ForbiddenRoleError extends RotationError {
  override name = "ForbiddenRoleError";
}

/** The managing user lacks the privilege to change the role's password. */
export class PermissionDeniedError extends RotationError {
  override name = "PermissionDeniedError";
}

/** Another rotation of the same role held the lock for longer than the lock timeout. */
export class ConcurrentRotationError extends RotationError {
  override name = "ConcurrentRotationError";
}

/**
 * The role about to get a new password has open sessions (apps that never moved to the current
 * credentials) and `liveSessions` is "refuse"; nothing was changed.
 */
export class LiveSessionsError extends RotationError {
  override name = "LiveSessionsError";
}

/**
 * A user of the pair owns database objects itself (a table a migration created, say), which the
 * other user cannot alter after the switch, and `ownership` is "refuse"; nothing was changed.
 */
export class OwnedObjectsError extends RotationError {
  override name = "OwnedObjectsError";
}

/** The server cancelled a statement that ran longer than the statement timeout. */
export class StatementTimeoutError extends RotationError {
  override name = "StatementTimeoutError";
}

/** The password was changed but logging in with it failed; the current user is untouched. */
export class VerificationError extends RotationError {
  override name = "VerificationError";
}

/** The credentials in `current` no longer log in (seen on adopt or refresh). */
export class CurrentCredentialsError extends RotationError {
  override name = "CurrentCredentialsError";
}

/** The connector Lambda answered with a failure this package has no class for. */
export class ConnectorError extends RotationError {
  override name = "ConnectorError";
}

/** The connector Lambda could not be invoked, failed, timed out, or answered garbage. */
export class LambdaInvocationError extends RotationError {
  override name = "LambdaInvocationError";
}

/** Pulumi ESC refused a request or answered with something unusable. */
export class EscError extends RotationError {
  override name = "EscError";
  /** HTTP status, when the API answered. */
  readonly status?: number;
  constructor(message: string, options?: { cause?: unknown; status?: number }) {
    super(message, options);
    this.status = options?.status;
  }
}

/** The ESC environment changed since it was read (HTTP 409); nothing was overwritten. */
export class EscConflictError extends EscError {
  override name = "EscConflictError";
}

/**
 * Replaces every occurrence of each secret in `text` with `[redacted]`, also where it appears
 * escaped: inside a JSON or YAML double-quoted string, or a YAML or SQL single-quoted one.
 */
export function redact(text: string, secrets: readonly (string | undefined | null)[]): string {
  let out = text;
  const forms = new Set<string>();
  for (const secret of secrets) {
    if (typeof secret !== "string" || secret.length === 0) continue;
    forms.add(secret);
    forms.add(JSON.stringify(secret).slice(1, -1));
    forms.add(secret.replace(/'/g, "''"));
  }
  // Longest first, so a secret that contains another is removed whole.
  for (const form of [...forms].sort((a, b) => b.length - a.length)) {
    out = out.split(form).join("[redacted]");
  }
  return out;
}

/** A safe copy of a lower error, fit to be kept as `cause`: name, code and redacted message. */
export function sanitizeCause(
  error: unknown,
  secrets: readonly (string | undefined | null)[],
): Error {
  const source = error instanceof Error ? error : new Error(String(error));
  const copy = new Error(redact(source.message, secrets));
  copy.name = source.name;
  const code = (source as { code?: unknown }).code;
  if (typeof code === "string") (copy as Error & { code?: string }).code = code;
  copy.stack = `${copy.name}: ${copy.message}`;
  return copy;
}
