/**
 * A `PostgresShell` that works through a connector Lambda (`database.connector.awsLambda`)
 * instead of connecting: it sends the ESC connector event with `@aws-sdk/client-lambda`
 * (default credential chain, or the `roleArn` assumed first) and turns the reply back into
 * this package's errors. The rotation engine above it is the same as for a direct rotation.
 */
import type { InvokeCommandOutput } from "@aws-sdk/client-lambda";
import * as errors from "../errors";
import { LambdaInvocationError, RotationError, redact } from "../errors";
import type {
  AwsLambdaConnector,
  ConnectionTarget,
  Connector,
  Credential,
  LiveSessionsPolicy,
  OwnershipPolicy,
  Timeouts,
  UserPair,
} from "../core/types";
import type { PostgresShell, RotationGuard } from "../postgres/shell";
import type { UserPairShell, UserPairTarget } from "../postgres/userPairShell";
import {
  parseConnectorReply,
  type ConnectorEvent,
  type ConnectorReply,
  type UserPairAction,
  type UserPairResult,
} from "./event";

/** Sends one event to the function and returns the raw result. */
type Invoke = (event: ConnectorEvent) => Promise<InvokeCommandOutput>;

/** Where the database is, for the Lambda; the managing user is needed only to rotate. */
export interface LambdaTarget extends ConnectionTarget {
  readonly managingUser?: Credential;
  readonly connector: Connector;
}

export interface LambdaShellOptions {
  /** Sent with each rotation; this package's connector applies it. @default "refuse" */
  readonly liveSessions?: LiveSessionsPolicy;
  /** Sent with each rotation; this package's connector applies it. @default "warn" */
  readonly ownership?: OwnershipPolicy;
  /** The pair, so that the connector counts the objects of the user not rotated too. */
  readonly rotateUsers?: UserPair;
  /** Sent with each rotation when given; the connector's own default applies otherwise. */
  readonly liveSessionsIdleSeconds?: number;
  /** Where warnings go (what the connector reports, what it could not check). @default console.warn */
  readonly warn?: (line: string) => void;
}

export function lambdaShell(
  database: LambdaTarget,
  timeouts: Required<Timeouts>,
  otherSecrets: readonly (string | undefined)[] = [],
  options: LambdaShellOptions = {},
): PostgresShell {
  const lambda = database.connector.awsLambda;
  const invoke = lambdaInvoker(lambda, timeouts);
  const base = {
    type: "postgres" as const,
    host: database.host,
    port: database.port,
    database: database.database,
  };
  const secrets = [database.managingUser?.password, ...otherSecrets];
  const warn = options.warn ?? ((line: string) => console.warn(line));
  const liveSessions = options.liveSessions ?? "refuse";
  const ownership = options.ownership ?? "warn";

  return {
    async checkLogin(credential: Credential) {
      // A login check needs no managing user, so its password does not travel.
      const reply = await send(
        invoke,
        lambda,
        { ...base, loginUser: credential },
        credential.username,
        [...secrets, credential.password],
        { tolerateOfficialRefusal: true },
      );
      if (isOfficialConnectorRefusal(reply)) {
        warn(
          `warning: skipped checking that "${credential.username}" logs in: the connector ` +
            `Lambda ${lambda.lambdaArn} cannot (Pulumi's official connector only rotates); ` +
            `deploy this package's connector (LambdaConnector) to have logins checked`,
        );
      }
    },
    async changePassword(target: string, newPassword: string, guard: RotationGuard = {}) {
      const managingUser = database.managingUser;
      if (!managingUser) throw new RotationError("rotating needs database.managingUser");
      // The old password lets the connector prove the state is still the database's.
      const rotateUser = {
        username: target,
        password: guard.knownPassword ?? "",
        newPassword,
        ...(guard.expectedId ? { expectedRotationId: guard.expectedId } : {}),
        ...(guard.holder ? { rotationHolder: guard.holder } : {}),
        liveSessions,
        ownership,
        ...otherUser(options.rotateUsers, target),
        ...(options.liveSessionsIdleSeconds !== undefined
          ? { liveSessionsIdleSeconds: options.liveSessionsIdleSeconds }
          : {}),
      };
      // What the connector says may quote the event: both passwords it carries are redacted too.
      const sent = [...secrets, newPassword, guard.knownPassword];
      const reply = await send(invoke, lambda, { ...base, managingUser, rotateUser }, target, sent);
      for (const line of reply.warnings ?? []) warn(redact(line, sent));
      if (reply.rotationId === undefined && liveSessions !== "ignore") {
        warn(
          `warning: the connector Lambda ${lambda.lambdaArn} rotated "${target}" without ` +
            `checking for open sessions or a concurrent rotation (Pulumi's official connector ` +
            `cannot); deploy this package's connector (LambdaConnector) for those checks`,
        );
      }
      if (reply.rotationId === undefined && ownership !== "ignore") {
        warn(
          `warning: the connector Lambda ${lambda.lambdaArn} rotated "${target}" without ` +
            `counting the database objects the pair's users own themselves (ownership: ` +
            `"${ownership}"; Pulumi's official connector cannot); deploy this package's ` +
            `connector (LambdaConnector) for that check`,
        );
      }
      return reply.rotationId ? { rotationId: reply.rotationId } : {};
    },
  };
}

/** `{otherUsername}`: the user of `users` that is not `target`, when there is one. */
function otherUser(users: UserPair | undefined, target: string): { otherUsername?: string } {
  const other =
    users?.username1 === target
      ? users.username2
      : users?.username2 === target
        ? users.username1
        : undefined;
  return other !== undefined && other !== target ? { otherUsername: other } : {};
}

/**
 * `PostgresUserPair`'s work through this package's connector Lambda (the `userPair` event
 * extension). Pulumi's official connector cannot do it: its answer becomes a clear
 * `ConnectorError` saying so.
 */
export function lambdaUserPairShell(
  target: UserPairTarget & { readonly database: LambdaTarget & { managingUser: Credential } },
  otherSecrets: readonly (string | undefined)[] = [],
): UserPairShell {
  const { database } = target;
  const lambda = database.connector.awsLambda;
  const invoke = lambdaInvoker(lambda, target.timeouts);
  const secrets = [database.managingUser.password, ...otherSecrets];
  const run = async (userPair: UserPairAction, who: string): Promise<UserPairResult> => {
    const event = {
      type: "postgres" as const,
      host: database.host,
      port: database.port,
      database: database.database,
      managingUser: database.managingUser,
      userPair,
    };
    const reply = await send(invoke, lambda, event, who, secrets, {
      officialRefusal:
        `the connector Lambda ${lambda.lambdaArn} cannot set up users: it answered "no password ` +
        `provided", as Pulumi's official connector does to events it does not know. Deploy this ` +
        `package's connector (LambdaConnector) to create users through a Lambda, or create them ` +
        `yourself and leave PostgresUserPair out`,
    });
    if (!reply.userPair) {
      throw new LambdaInvocationError(
        `the connector Lambda ${lambda.lambdaArn} answered ok without the user pair's result; ` +
          `is it an older version of this package's connector?`,
      );
    }
    return reply.userPair;
  };
  return {
    async observe(users, memberOf) {
      const result = await run(
        { action: "observe", users, memberOf },
        `${users.username1}", "${users.username2}`,
      );
      if (!result.observation) throw new LambdaInvocationError("the reply holds no observation");
      return result.observation;
    },
    async apply(request, passwords) {
      const result = await run(
        { action: "apply", request, passwords, scramIterations: target.scramIterations },
        `${request.users.username1}", "${request.users.username2}`,
      );
      if (!result.observation) throw new LambdaInvocationError("the reply holds no observation");
      return { created: result.created ?? [], observation: result.observation };
    },
    async drop(usernames, oids) {
      const result = await run({ action: "drop", usernames, oids }, usernames.join('", "'));
      return result.dropped ?? [];
    },
  };
}

/**
 * Pulumi's official connector answers every event it does not know (this package's
 * extensions) with a 400 "no password provided", and never names an error class.
 */
export function isOfficialConnectorRefusal(reply: ConnectorReply): boolean {
  return (
    reply.code === 400 && reply.error === undefined && /no password provided/i.test(reply.message)
  );
}

async function send(
  invoke: Invoke,
  lambda: AwsLambdaConnector,
  event: ConnectorEvent,
  username: string,
  secrets: readonly (string | undefined)[],
  options: { readonly officialRefusal?: string; readonly tolerateOfficialRefusal?: boolean } = {},
): Promise<ConnectorReply> {
  const what = `invoking the connector Lambda ${lambda.lambdaArn} for "${username}"`;
  let output: InvokeCommandOutput;
  try {
    output = await invoke(event);
  } catch (error) {
    throw invocationError(what, error, secrets);
  }
  const payload = output.Payload ? Buffer.from(output.Payload).toString("utf8") : "";
  if (output.FunctionError) {
    const detail = functionErrorMessage(payload);
    throw new LambdaInvocationError(
      `${what} failed: the function raised an error (${output.FunctionError}): ` +
        `${redact(detail, secrets)}. Nothing was changed by this package; check the function's logs`,
    );
  }
  let reply: ConnectorReply;
  try {
    reply = parseConnectorReply(JSON.parse(payload));
  } catch {
    throw new LambdaInvocationError(
      `${what} failed: the function's answer is not a connector reply {code, message}; ` +
        `is ${lambda.lambdaArn} a PostgreSQL rotation connector?`,
    );
  }
  if (reply.code !== 200) {
    if (isOfficialConnectorRefusal(reply)) {
      if (options.tolerateOfficialRefusal) return reply;
      if (options.officialRefusal) throw new errors.ConnectorError(options.officialRefusal);
    }
    throw replyError(reply, username, secrets);
  }
  return reply;
}

/** Failures the handler reports by class name, rebuilt as the class a direct rotation throws. */
const SAME_AS_DIRECT: Readonly<Record<string, new (message: string) => RotationError>> = {
  ConnectionError: errors.ConnectionError,
  RoleNotFoundError: errors.RoleNotFoundError,
  ForbiddenRoleError: errors.ForbiddenRoleError,
  PermissionDeniedError: errors.PermissionDeniedError,
  ConcurrentRotationError: errors.ConcurrentRotationError,
  StatementTimeoutError: errors.StatementTimeoutError,
  VerificationError: errors.VerificationError,
  LiveSessionsError: errors.LiveSessionsError,
  OwnedObjectsError: errors.OwnedObjectsError,
};

/** The reply's failure as the same error class a direct rotation would throw. */
function replyError(
  reply: ConnectorReply,
  username: string,
  secrets: readonly (string | undefined)[],
): RotationError {
  const message = `${redact(reply.message, secrets)} (reported by the connector Lambda)`;
  if (reply.error === "AuthenticationError") {
    return new errors.AuthenticationError(username, message);
  }
  const Class = reply.error ? SAME_AS_DIRECT[reply.error] : undefined;
  // The official connector, a refused event, or an unexpected failure: its words, our class.
  return Class
    ? new Class(message)
    : new errors.ConnectorError(`the connector Lambda refused: ${message}`);
}

function functionErrorMessage(payload: string): string {
  try {
    const parsed = JSON.parse(payload) as { errorType?: string; errorMessage?: string };
    return [parsed.errorType, parsed.errorMessage].filter(Boolean).join(": ") || "no details";
  } catch {
    return "no details";
  }
}

function invocationError(
  what: string,
  error: unknown,
  secrets: readonly (string | undefined)[],
): LambdaInvocationError {
  const name = (error as { name?: string })?.name ?? "Error";
  const raw = error instanceof Error ? error.message : String(error);
  const hint =
    name === "TimeoutError" || /timed? ?out/i.test(raw)
      ? "no answer in time; the password may or may not have been changed, and the state was " +
        "not advanced: run the rotation again"
      : name === "AccessDeniedException" || name === "AccessDenied"
        ? "the caller may not invoke this function (lambda:InvokeFunction), or may not assume roleArn"
        : name === "ResourceNotFoundException"
          ? "no such function in this region and account"
          : "";
  return new LambdaInvocationError(
    `${what} failed: ${name}: ${redact(raw, secrets)}${hint ? `; ${hint}` : ""}`,
  );
}

/** `invoke` for one connector: a Lambda client with the right region, credentials, timeout. */
function lambdaInvoker(lambda: AwsLambdaConnector, timeouts: Required<Timeouts>): Invoke {
  // Loaded on first use: the AWS SDK is only needed with a connector.

  const sdk = require("@aws-sdk/client-lambda") as typeof import("@aws-sdk/client-lambda");
  const region = lambda.region;
  const credentials = lambda.roleArn
    ? (
        require("@aws-sdk/credential-providers") as typeof import("@aws-sdk/credential-providers")
      ).fromTemporaryCredentials({
        params: { RoleArn: lambda.roleArn, RoleSessionName: "pulumi-postgres-rotator" },
        clientConfig: { region },
      })
    : undefined;
  // The Lambda's own work is bounded by these; allow for its start and the network.
  const requestTimeout =
    (timeouts.connectSeconds * 2 + timeouts.statementSeconds * 2 + timeouts.lockSeconds + 5) * 1000;
  const client = new sdk.LambdaClient({
    region,
    ...(lambda.endpoint ? { endpoint: lambda.endpoint } : {}),
    ...(credentials ? { credentials } : {}),
    // Without throwOnRequestTimeout the SDK only logs a warning and keeps waiting.
    requestHandler: { requestTimeout, throwOnRequestTimeout: true },
    maxAttempts: 2,
  });
  return (event) =>
    client.send(
      new sdk.InvokeCommand({
        FunctionName: lambda.lambdaArn,
        InvocationType: "RequestResponse",
        Payload: Buffer.from(JSON.stringify(event)),
      }),
    );
}
