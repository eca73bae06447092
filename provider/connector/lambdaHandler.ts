/**
 * The connector Lambda: a drop-in for the official ESC connector, running inside the VPC.
 *
 * It receives the ESC event (see ./event.ts) and changes the password through the same
 * PostgreSQL shell as a direct rotation: structured connection parameters, TLS verified by
 * default, the new password sent only as a SCRAM verifier, the role's advisory lock, checks on
 * the target, and a login with the new password before it answers `ok`. Replies never contain
 * a secret; neither do its log lines.
 *
 * Settings, from the function's environment:
 * - `PGSSLMODE`: disable | require | verify-ca | verify-full (default verify-full).
 * - `PGSSLROOTCERT`: path of a PEM CA bundle. Without it, Node's root CAs plus, on AWS Lambda,
 *   the runtime's Amazon bundle (`/var/runtime/ca-cert.pem`, which holds the RDS CAs).
 * - `ROTATOR_CONNECT_TIMEOUT_SECONDS`, `ROTATOR_STATEMENT_TIMEOUT_SECONDS`,
 *   `ROTATOR_LOCK_TIMEOUT_SECONDS`: default 10, 30, 30.
 * - `ROTATOR_LIVE_SESSIONS`: refuse | warn | ignore, for events that do not say (ESC's):
 *   what to do when the user about to change has open sessions. Default refuse.
 * - `ROTATOR_OWNERSHIP`: warn | refuse | ignore, for events that do not say (ESC's): what to do
 *   when the pair's users own database objects themselves. Default warn. An event from ESC
 *   names only the user it rotates, so only that one's objects are counted then.
 * - `ROTATOR_LIVE_SESSIONS_IDLE_SECONDS`: for events that do not say, the seconds after which an
 *   idle session is a pooler's parked connection to that guard (reported, not refused).
 *   Default 3600.
 */
import * as fs from "node:fs";
import * as tls from "node:tls";
import { RotationError, ValidationError, VerificationError, redact } from "../errors";
import { controlsEscaped, quotedForLog as quoted } from "../logText";
import { DEFAULT_SCRAM_ITERATIONS } from "../core/scram";
import { resolvePasswordPolicy } from "../core/password";
import { liveSessionsIdleSecondsProblems } from "../core/validate";
import {
  DEFAULT_LIVE_SESSIONS_IDLE_SECONDS,
  LIVE_SESSIONS_POLICIES,
  OWNERSHIP_POLICIES,
  SSL_MODES,
  type LiveSessionsPolicy,
  type OwnershipPolicy,
  type ResolvedInputs,
  type SslConfig,
  type SslMode,
} from "../core/types";
import { postgresShell } from "../postgres/shell";
import { postgresUserPairShell } from "../postgres/userPairShell";
import {
  OK_REPLY,
  carriesExtensions,
  isLoginEvent,
  isUserPairEvent,
  officialReply,
  parseConnectorEvent,
  type ConnectorEvent,
  type ConnectorReply,
  type UserPairEvent,
  type UserPairResult,
} from "./event";

/** The Lambda's TLS settings, named in TLS errors. */
const LAMBDA_TLS_SETTINGS = {
  ca: "the Lambda's PGSSLROOTCERT",
  mode: "the Lambda's PGSSLMODE",
};

/** The CA bundle every AWS Lambda Node.js runtime ships (Amazon's CAs, RDS included). */
export const LAMBDA_RUNTIME_CA_FILE = "/var/runtime/ca-cert.pem";

type Env = Readonly<Record<string, string | undefined>>;

/** The Lambda entry point. Never throws: every failure is a `{code: 400, message}` reply. */
export async function handler(event: unknown): Promise<ConnectorReply> {
  return handleEvent(event, process.env);
}

export async function handleEvent(
  event: unknown,
  env: Env,
  write: (line: string) => void = (line) => console.log(line),
): Promise<ConnectorReply> {
  let secrets: (string | undefined | null)[] = [];
  // Every line redacted too: a secret pasted into a name (the database, say) is logged as one.
  const log = (line: string) => write(redact(line, secrets));
  // The ESC service's own events get exactly the official connector's replies.
  const extended = carriesExtensions(event);
  try {
    const parsed = parseConnectorEvent(event);
    secrets = eventSecrets(parsed);
    const inputs = inputsFor(parsed, env);
    const known = secrets.map((s) => s ?? undefined);
    // Every value from the event is logged JSON-escaped: a newline in a name cannot forge a line.
    const where = quoted(`${parsed.host}:${parsed.port}/${parsed.database}`);
    if (isUserPairEvent(parsed)) {
      log(`${parsed.userPair.action} user pair on ${where}`);
      const userPair = await runUserPair(parsed, inputs, known);
      log("ok");
      return { ...OK_REPLY, userPair };
    }
    const warnings: string[] = [];
    const shell = postgresShell(inputs, known, {
      tlsSettings: LAMBDA_TLS_SETTINGS,
      warn: (line) => {
        warnings.push(line);
        log(controlsEscaped(line));
      },
    });
    if (isLoginEvent(parsed)) {
      log(`checking that ${quoted(parsed.loginUser.username)} logs in on ${where}`);
      await shell.checkLogin(parsed.loginUser);
      log("ok");
      return OK_REPLY;
    }
    const rotate = parsed.rotateUser;
    log(`rotating ${quoted(rotate.username)} on ${where}`);
    const { rotationId } = await shell.changePassword(rotate.username, rotate.newPassword, {
      ...(rotate.expectedRotationId ? { expectedId: rotate.expectedRotationId } : {}),
      ...(rotate.password ? { knownPassword: rotate.password } : {}),
      ...(rotate.rotationHolder ? { holder: rotate.rotationHolder } : {}),
      // ESC's event names no rotation: an outside change and a rival look alike; rotate, as
      // the official connector does. This package's events can tell, and keep the refusal.
      ...(extended ? {} : { staleState: "rotate" as const }),
    });
    log("ok");
    if (!extended) return OK_REPLY;
    return {
      ...OK_REPLY,
      ...(rotationId ? { rotationId } : {}),
      ...(warnings.length > 0 ? { warnings } : {}),
    };
  } catch (error) {
    const reply = failure(error, secrets);
    log(`failed: ${controlsEscaped(reply.message)}`);
    return extended ? reply : officialReply(reply);
  }
}

async function runUserPair(
  event: UserPairEvent,
  inputs: ResolvedInputs,
  secrets: readonly (string | undefined)[],
): Promise<UserPairResult> {
  const work = event.userPair;
  const shell = postgresUserPairShell(
    {
      database: inputs.database,
      timeouts: inputs.timeouts,
      scramIterations:
        work.action === "apply"
          ? (work.scramIterations ?? inputs.scramIterations)
          : inputs.scramIterations,
    },
    secrets,
  );
  switch (work.action) {
    case "observe":
      return { observation: await shell.observe(work.users, work.memberOf) };
    case "apply": {
      const { created, observation } = await shell.apply(work.request, work.passwords);
      return { created, observation };
    }
    case "drop":
      return { dropped: await shell.drop(work.usernames, work.oids) };
  }
}

function eventSecrets(event: ConnectorEvent): (string | undefined | null)[] {
  if (isUserPairEvent(event)) {
    const passwords =
      event.userPair.action === "apply" ? Object.values(event.userPair.passwords) : [];
    return [event.managingUser.password, ...passwords];
  }
  return isLoginEvent(event)
    ? [event.managingUser?.password, event.loginUser.password]
    : [event.managingUser.password, event.rotateUser.password, event.rotateUser.newPassword];
}

function failure(error: unknown, secrets: readonly (string | undefined | null)[]): ConnectorReply {
  const known = secrets.filter((s): s is string => typeof s === "string" && s.length > 0);
  if (error instanceof VerificationError) {
    // Whoever sent the event keeps the state it had: for ESC, one whose password is now wrong.
    const message =
      `${redact(error.message, known)}. The password WAS changed: whoever sent this event ` +
      `(Pulumi ESC) keeps its old state, in which this user's password no longer works; ` +
      `rotate again once the cause is fixed`;
    return { code: 400, message, error: error.name };
  }
  if (error instanceof RotationError) {
    return { code: 400, message: redact(error.message, known), error: error.name };
  }
  const text = error instanceof Error ? error.message : String(error);
  return { code: 400, message: `unexpected error: ${redact(text, known)}` };
}

/** What the shell needs, from the event and the environment; `ValidationError` on bad settings. */
export function inputsFor(event: ConnectorEvent, env: Env): ResolvedInputs {
  const target = isLoginEvent(event)
    ? event.loginUser.username
    : isUserPairEvent(event)
      ? event.managingUser.username
      : event.rotateUser.username;
  return {
    database: {
      host: event.host,
      port: event.port,
      database: event.database,
      // A login check never uses the managing user.
      managingUser: event.managingUser ?? { username: "", password: "" },
      ssl: sslFromEnv(env),
    },
    // The pair as far as the event names it: a rotation from this package names the other user.
    rotateUsers: { username1: target, username2: partnerIn(event) ?? target },
    passwordPolicy: resolvePasswordPolicy(),
    scramIterations: DEFAULT_SCRAM_ITERATIONS,
    liveSessions: liveSessionsOf(event, env),
    ownership: ownershipOf(event, env),
    liveSessionsIdleSeconds: liveSessionsIdleSecondsOf(event, env),
    timeouts: {
      connectSeconds: seconds(env, "ROTATOR_CONNECT_TIMEOUT_SECONDS", 10),
      statementSeconds: seconds(env, "ROTATOR_STATEMENT_TIMEOUT_SECONDS", 30),
      lockSeconds: seconds(env, "ROTATOR_LOCK_TIMEOUT_SECONDS", 30),
    },
  };
}

function liveSessionsOf(event: ConnectorEvent, env: Env): LiveSessionsPolicy {
  const fromEvent =
    !isLoginEvent(event) && !isUserPairEvent(event) ? event.rotateUser.liveSessions : undefined;
  const policy = fromEvent ?? env.ROTATOR_LIVE_SESSIONS ?? "refuse";
  if (!LIVE_SESSIONS_POLICIES.includes(policy as LiveSessionsPolicy)) {
    throw new ValidationError([
      `ROTATOR_LIVE_SESSIONS must be one of ${LIVE_SESSIONS_POLICIES.join(", ")}`,
    ]);
  }
  return policy as LiveSessionsPolicy;
}

function partnerIn(event: ConnectorEvent): string | undefined {
  return !isLoginEvent(event) && !isUserPairEvent(event)
    ? event.rotateUser.otherUsername
    : undefined;
}

function ownershipOf(event: ConnectorEvent, env: Env): OwnershipPolicy {
  const fromEvent =
    !isLoginEvent(event) && !isUserPairEvent(event) ? event.rotateUser.ownership : undefined;
  const policy = fromEvent ?? env.ROTATOR_OWNERSHIP ?? "warn";
  if (!OWNERSHIP_POLICIES.includes(policy as OwnershipPolicy)) {
    throw new ValidationError([
      `ROTATOR_OWNERSHIP must be one of ${OWNERSHIP_POLICIES.join(", ")}`,
    ]);
  }
  return policy as OwnershipPolicy;
}

function liveSessionsIdleSecondsOf(event: ConnectorEvent, env: Env): number {
  const fromEvent =
    !isLoginEvent(event) && !isUserPairEvent(event)
      ? event.rotateUser.liveSessionsIdleSeconds
      : undefined;
  if (fromEvent !== undefined) return fromEvent;
  const text = env.ROTATOR_LIVE_SESSIONS_IDLE_SECONDS;
  if (text === undefined || text === "") return DEFAULT_LIVE_SESSIONS_IDLE_SECONDS;
  const value = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  const problems = liveSessionsIdleSecondsProblems(value, "ROTATOR_LIVE_SESSIONS_IDLE_SECONDS");
  if (problems.length > 0) throw new ValidationError(problems);
  return value;
}

export function sslFromEnv(env: Env): SslConfig {
  const mode = (env.PGSSLMODE ?? "verify-full") as SslMode;
  if (!SSL_MODES.includes(mode)) {
    throw new ValidationError([`PGSSLMODE must be one of ${SSL_MODES.join(", ")}`]);
  }
  if (env.PGSSLROOTCERT) {
    try {
      return { mode, ca: fs.readFileSync(env.PGSSLROOTCERT, "utf8") };
    } catch {
      throw new ValidationError([`PGSSLROOTCERT: cannot read ${env.PGSSLROOTCERT}`]);
    }
  }
  if (mode !== "disable" && fs.existsSync(LAMBDA_RUNTIME_CA_FILE)) {
    const lambdaCas = fs.readFileSync(LAMBDA_RUNTIME_CA_FILE, "utf8");
    return { mode, ca: [...tls.rootCertificates, lambdaCas].join("\n") };
  }
  return { mode };
}

function seconds(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0 || value > 900) {
    throw new ValidationError([`${name} must be a number of seconds from 0 to 900`]);
  }
  return value;
}
