/**
 * The one place that computes SCRAM-SHA-256 verifiers (RFC 5802, RFC 7677) in the form
 * PostgreSQL stores them:
 *
 *     SCRAM-SHA-256$<iterations>:<base64 salt>$<base64 StoredKey>:<base64 ServerKey>
 *
 * Sending this instead of the plaintext in `ALTER ROLE … PASSWORD` means the password itself
 * never reaches the server, its logs or pg_stat_statements.
 */
import { createHash, createHmac, pbkdf2, pbkdf2Sync, randomBytes } from "node:crypto";
import { saslprep } from "@mongodb-js/saslprep";

export const DEFAULT_SCRAM_ITERATIONS = 4096;
export const MIN_SCRAM_ITERATIONS = 4096;
/**
 * The most PBKDF2 iterations accepted, everywhere `scramIterations` is taken and in every
 * verifier written: node-postgres (`pg`) refuses, by default (`scramMaxIterations`), to log in
 * with a verifier of more, so apps on it with default settings could not use the password
 * (libpq, pgx and pgjdbc accept more). This package's own logins use pg's defaults too, so a
 * login test fails where such an app would.
 */
export const MAX_SCRAM_ITERATIONS = 100_000;
const SALT_BYTES = 16;

export interface ScramOptions {
  /** PBKDF2 iterations. @default 4096 */
  readonly iterations?: number;
  /** 16 bytes or more; random when absent. Tests pass one to reproduce a server's verifier. */
  readonly salt?: Buffer;
}

/** Shape of a verifier: exactly what `scramSha256Verifier` produces and PostgreSQL parses. */
const VERIFIER_SHAPE =
  /^SCRAM-SHA-256\$[1-9][0-9]{0,9}:[A-Za-z0-9+/]+={0,2}\$[A-Za-z0-9+/]{43}=:[A-Za-z0-9+/]{43}=$/;

/** True when `text` is a well-formed SCRAM-SHA-256 verifier (and so safe as a SQL literal). */
export function isScramVerifier(text: unknown): text is string {
  return typeof text === "string" && VERIFIER_SHAPE.test(text);
}

/**
 * The bytes PostgreSQL feeds to PBKDF2 for `password`: pure ASCII as is; otherwise the
 * SASLprep (RFC 4013) form, or the raw UTF-8 bytes when SASLprep rejects the string, which is
 * what the server and libpq do (src/common/saslprep.c returns the input unchanged then).
 */
export function postgresSaslPrep(password: string): Buffer {
  // eslint-disable-next-line no-control-regex -- ASCII means every code point below 0x80
  if (/^[\x00-\x7f]*$/.test(password)) return Buffer.from(password, "utf8");
  if (!password.isWellFormed()) return Buffer.from(password, "utf8");
  try {
    return Buffer.from(saslprep(password), "utf8");
  } catch {
    return Buffer.from(password, "utf8");
  }
}

function assertUsable(password: string, options: ScramOptions): void {
  if (typeof password !== "string" || password.length === 0) {
    throw new RangeError("the password must be a non-empty string");
  }
  if (password.includes("\0")) throw new RangeError("the password must not contain NUL");
  const iterations = options.iterations ?? DEFAULT_SCRAM_ITERATIONS;
  if (!Number.isInteger(iterations) || iterations < 1 || iterations > MAX_SCRAM_ITERATIONS) {
    throw new RangeError(`iterations must be a whole number from 1 to ${MAX_SCRAM_ITERATIONS}`);
  }
  if (options.salt !== undefined && options.salt.length < SALT_BYTES) {
    throw new RangeError(`the salt must be at least ${SALT_BYTES} bytes`);
  }
}

function format(iterations: number, salt: Buffer, saltedPassword: Buffer): string {
  const hmac = (key: Buffer, text: string) => createHmac("sha256", key).update(text).digest();
  const storedKey = createHash("sha256").update(hmac(saltedPassword, "Client Key")).digest();
  const serverKey = hmac(saltedPassword, "Server Key");
  return (
    `SCRAM-SHA-256$${iterations}:${salt.toString("base64")}` +
    `$${storedKey.toString("base64")}:${serverKey.toString("base64")}`
  );
}

/** The SCRAM-SHA-256 verifier of `password`, computed on this machine. */
export function scramSha256Verifier(password: string, options: ScramOptions = {}): string {
  assertUsable(password, options);
  const iterations = options.iterations ?? DEFAULT_SCRAM_ITERATIONS;
  const salt = options.salt ?? randomBytes(SALT_BYTES);
  const salted = pbkdf2Sync(postgresSaslPrep(password), salt, iterations, 32, "sha256");
  return format(iterations, salt, salted);
}

/**
 * `scramSha256Verifier` with PBKDF2 on libuv's thread pool, so the event loop stays free for
 * other rotations and connections while it runs (the same bytes as the synchronous version).
 */
export function scramSha256VerifierAsync(
  password: string,
  options: ScramOptions = {},
): Promise<string> {
  assertUsable(password, options);
  const iterations = options.iterations ?? DEFAULT_SCRAM_ITERATIONS;
  const salt = options.salt ?? randomBytes(SALT_BYTES);
  return new Promise((resolve, reject) =>
    pbkdf2(postgresSaslPrep(password), salt, iterations, 32, "sha256", (error, salted) =>
      error ? reject(error) : resolve(format(iterations, salt, salted)),
    ),
  );
}

/**
 * What the `pg` client feeds PBKDF2 for `password` (pg 8.23's own SASLprep: non-ASCII spaces to
 * spaces, "mapped to nothing" characters removed, NFKC), which skips SASLprep's prohibition and
 * bidirectional checks that make PostgreSQL fall back to the raw bytes.
 */
export function pgClientSaslPrep(password: string): Buffer {
  const nonAsciiSpace = /[\u00A0\u1680\u2000-\u200B\u202F\u205F\u3000]/g;
  const mappedToNothing =
    // eslint-disable-next-line no-misleading-character-class -- these combine; SASLprep drops them
    /[\u00AD\u034F\u1806\u180B\u180C\u180D\u200C\u200D\u2060\uFE00-\uFE0F\uFEFF]/g;
  const prepared = password
    .replace(nonAsciiSpace, " ")
    .replace(mappedToNothing, "")
    .normalize("NFKC");
  return Buffer.from(prepared, "utf8");
}

/**
 * True when the `pg` client can log in with `password` where the server checks it: both prepare
 * it to the same bytes. False for some passwords with characters SASLprep prohibits (the server
 * then uses the raw bytes, pg still normalizes them), which libpq accepts but pg cannot.
 */
export function pgCanLogIn(password: string): boolean {
  return postgresSaslPrep(password).equals(pgClientSaslPrep(password));
}
