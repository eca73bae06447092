/**
 * A local stand-in for the two AWS APIs the connector path calls, speaking their real wire
 * format so the real `@aws-sdk/client-lambda` (and the STS client behind `roleArn`) can be
 * pointed at it:
 *
 * - Lambda Invoke: `POST /2015-03-31/functions/{FunctionName}/invocations`, the payload as the
 *   body, `X-Amz-Invocation-Type`; the function's JSON result as the body, with
 *   `X-Amz-Function-Error: Unhandled` when it threw; 404 `ResourceNotFoundException` for an
 *   unknown function.
 * - STS AssumeRole (query protocol): form body `Action=AssumeRole&RoleArn=…`, XML answer.
 *
 * Every request must carry a valid AWS Signature Version 4 made with known credentials; the
 * signature is recomputed here from the request as received (independently of the SDK's
 * signer) and anything else gets 403 `InvalidSignatureException`, as AWS does.
 */
import { createHash, createHmac, randomBytes } from "node:crypto";
import * as http from "node:http";
import type { AddressInfo } from "node:net";

export const ACCESS_KEY_ID = "AKIAIOSFODNN7EXAMPLE";
export const SECRET_ACCESS_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

export type LambdaFunction = (event: unknown) => Promise<unknown>;

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
  /** `AWS4-HMAC-SHA256` scope parts of the signature: service and region. */
  readonly service: string;
  readonly region: string;
  readonly accessKeyId: string;
}

export interface AwsStandIn {
  readonly endpoint: string;
  readonly requests: RecordedRequest[];
  /** Functions by full ARN. */
  readonly functions: Map<string, LambdaFunction>;
  /** Roles that AssumeRole grants, by ARN. */
  readonly roles: Set<string>;
  /** Milliseconds to wait before answering an Invoke (to test timeouts). */
  delayMs: number;
  close(): Promise<void>;
}

interface Keys {
  readonly secret: string;
  readonly sessionToken?: string;
}

export async function startAwsStandIn(): Promise<AwsStandIn> {
  const keys = new Map<string, Keys>([[ACCESS_KEY_ID, { secret: SECRET_ACCESS_KEY }]]);
  const requests: RecordedRequest[] = [];
  const functions = new Map<string, LambdaFunction>();
  const roles = new Set<string>();
  const state = { delayMs: 0 };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      handle(req, body)
        .then(({ status, headers, payload }) => {
          res.writeHead(status, { "x-amzn-requestid": randomBytes(8).toString("hex"), ...headers });
          res.end(payload);
        })
        .catch((error: unknown) => {
          res.writeHead(500, { "content-type": "application/json" });
          res.end(JSON.stringify({ message: String(error) }));
        });
    });
  });

  async function handle(req: http.IncomingMessage, body: Buffer) {
    const signature = verifySignature(req, body, keys);
    if ("error" in signature) return awsError(403, "InvalidSignatureException", signature.error);
    requests.push({
      method: req.method ?? "",
      path: req.url ?? "",
      headers: req.headers,
      body: body.toString("utf8"),
      ...signature,
    });
    if (signature.service === "sts") return assumeRole(body, signature.accessKeyId);
    const match = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/.exec(req.url ?? "");
    if (req.method !== "POST" || !match || signature.service !== "lambda") {
      return awsError(404, "UnknownOperationException", "unknown operation");
    }
    const name = decodeURIComponent(match[1]);
    const fn = functions.get(name);
    if (!fn) return awsError(404, "ResourceNotFoundException", `Function not found: ${name}`);
    if (req.headers["x-amz-invocation-type"] !== "RequestResponse") {
      return awsError(400, "InvalidParameterValueException", "expected RequestResponse");
    }
    if (state.delayMs > 0) await new Promise((r) => setTimeout(r, state.delayMs));
    try {
      const result = await fn(JSON.parse(body.toString("utf8")));
      return ok({ "x-amz-executed-version": "$LATEST" }, JSON.stringify(result));
    } catch (error) {
      const e = error instanceof Error ? error : new Error(String(error));
      return ok(
        { "x-amz-executed-version": "$LATEST", "x-amz-function-error": "Unhandled" },
        JSON.stringify({ errorType: e.name, errorMessage: e.message, trace: [] }),
      );
    }
  }

  function assumeRole(body: Buffer, callerKey: string) {
    const form = new URLSearchParams(body.toString("utf8"));
    const roleArn = form.get("RoleArn") ?? "";
    if (form.get("Action") !== "AssumeRole" || callerKey !== ACCESS_KEY_ID || !roles.has(roleArn)) {
      return awsError(
        403,
        "AccessDenied",
        `not authorized to perform sts:AssumeRole on ${roleArn}`,
        true,
      );
    }
    const accessKeyId = `ASIA${randomBytes(8).toString("hex").toUpperCase()}`;
    const secret = randomBytes(30).toString("base64");
    const sessionToken = randomBytes(60).toString("base64");
    keys.set(accessKeyId, { secret, sessionToken });
    const expiration = new Date(Date.now() + 3600_000).toISOString();
    const xml =
      `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult>` +
      `<Credentials><AccessKeyId>${accessKeyId}</AccessKeyId><SecretAccessKey>${secret}</SecretAccessKey>` +
      `<SessionToken>${sessionToken}</SessionToken><Expiration>${expiration}</Expiration></Credentials>` +
      `<AssumedRoleUser><AssumedRoleId>AROA:${form.get("RoleSessionName")}</AssumedRoleId>` +
      `<Arn>${roleArn}/${form.get("RoleSessionName")}</Arn></AssumedRoleUser></AssumeRoleResult>` +
      `<ResponseMetadata><RequestId>${randomBytes(8).toString("hex")}</RequestId></ResponseMetadata>` +
      `</AssumeRoleResponse>`;
    return { status: 200, headers: { "content-type": "text/xml" }, payload: xml };
  }

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    functions,
    roles,
    get delayMs() {
      return state.delayMs;
    },
    set delayMs(value: number) {
      state.delayMs = value;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function ok(headers: Record<string, string>, payload: string) {
  return { status: 200, headers: { "content-type": "application/json", ...headers }, payload };
}

function awsError(status: number, type: string, message: string, xml = false) {
  if (xml) {
    return {
      status,
      headers: { "content-type": "text/xml" },
      payload: `<ErrorResponse><Error><Type>Sender</Type><Code>${type}</Code><Message>${message}</Message></Error></ErrorResponse>`,
    };
  }
  return {
    status,
    headers: { "content-type": "application/json", "x-amzn-errortype": type },
    payload: JSON.stringify({ Type: "User", message }),
  };
}

/** RFC 3986 encoding, as SigV4 wants it. */
function uriEncode(text: string): string {
  return encodeURIComponent(text).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

const hmac = (key: Buffer | string, data: string) =>
  createHmac("sha256", key).update(data).digest();
const sha256 = (data: Buffer | string) => createHash("sha256").update(data).digest("hex");

/** Recomputes the request's SigV4 signature; the scope on success, a reason on failure. */
function verifySignature(
  req: http.IncomingMessage,
  body: Buffer,
  keys: Map<string, Keys>,
): { service: string; region: string; accessKeyId: string } | { error: string } {
  const auth = req.headers.authorization ?? "";
  const parsed =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(
      auth,
    );
  if (!parsed) return { error: "missing or malformed SigV4 Authorization header" };
  const [, accessKeyId, day, region, service, signedHeaderList, signature] = parsed;
  const key = keys.get(accessKeyId);
  if (!key) return { error: "The security token included in the request is invalid." };
  const amzDate = String(req.headers["x-amz-date"] ?? "");
  if (!amzDate.startsWith(day)) return { error: "X-Amz-Date does not match the credential scope" };
  const signedHeaders = signedHeaderList.split(";");
  for (const required of ["host", "x-amz-date"]) {
    if (!signedHeaders.includes(required)) return { error: `${required} is not signed` };
  }
  if (key.sessionToken) {
    if (
      req.headers["x-amz-security-token"] !== key.sessionToken ||
      !signedHeaders.includes("x-amz-security-token")
    ) {
      return { error: "missing or unsigned session token" };
    }
  }
  const url = new URL(req.url ?? "/", "http://local");
  // Non-S3 services sign each path segment encoded once more than it travels.
  const canonicalUri = url.pathname
    .split("/")
    .map((segment) => uriEncode(segment))
    .join("/");
  const canonicalQuery = [...url.searchParams.entries()]
    .map(([k, v]) => `${uriEncode(k)}=${uriEncode(v)}`)
    .sort()
    .join("&");
  const canonicalHeaders = signedHeaders
    .map(
      (name) =>
        `${name}:${String(req.headers[name] ?? "")
          .trim()
          .replace(/\s+/g, " ")}\n`,
    )
    .join("");
  const payloadHash = String(req.headers["x-amz-content-sha256"] ?? sha256(body));
  if (payloadHash !== sha256(body))
    return { error: "x-amz-content-sha256 does not match the body" };
  const canonicalRequest = [
    req.method,
    canonicalUri,
    canonicalQuery,
    canonicalHeaders,
    signedHeaderList,
    payloadHash,
  ].join("\n");
  const scope = `${day}/${region}/${service}/aws4_request`;
  const stringToSign = ["AWS4-HMAC-SHA256", amzDate, scope, sha256(canonicalRequest)].join("\n");
  const signingKey = hmac(
    hmac(hmac(hmac(`AWS4${key.secret}`, day), region), service),
    "aws4_request",
  );
  const expected = createHmac("sha256", signingKey).update(stringToSign).digest("hex");
  if (expected !== signature)
    return { error: "The request signature we calculated does not match" };
  return { service, region, accessKeyId };
}
