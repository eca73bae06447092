/**
 * A local stand-in of the Pulumi Cloud API, for what this package and the real `pulumi env`
 * commands use. It copies the wire behaviour of the service as `@pulumi/esc-sdk`'s API spec
 * (`sdk/swagger.yaml`), the ESC CLI client (`cmd/esc/cli/client` in pulumi/pulumi, vendored from
 * pulumi/esc) and the Pulumi Cloud OpenAPI spec (pulumi/pulumi-pulumiservice) describe it. Every
 * request needs `Authorization: token <ESC_TOKEN>` (else 401); error bodies are `{code, message}`
 * (plus `diagnostics` on a 400 about a document).
 *
 * Account (what `pulumi login` and the CLI's start-up read): `GET /api/user`,
 * `GET /api/user/organizations/default`, `GET /api/capabilities`.
 *
 * ESC, under `/api/esc/environments`:
 * - `POST /{org}` `{project, name}`: creates revision 1 (empty), 204; 409 if it exists;
 * - `GET|HEAD /{org}/{project}/{env}`: the YAML as stored (secrets as ciphertext), with `ETag`
 *   and `Pulumi-ESC-Revision` headers; `GET …/versions/{n}` the same for revision `n`;
 * - `PATCH` same path, YAML body (any content type: the CLI sends `application/json`): a new
 *   revision, answered with its `ETag` and `Pulumi-ESC-Revision`; refused with 409 when an `ETag`
 *   (esc-sdk) or `If-Match` (CLI) request header does not name the newest revision; 400 with
 *   diagnostics for a document that does not parse;
 * - `DELETE` same path: 204 (schedules go with it);
 * - `POST /{org}/yaml/check?showSecrets=`: the document evaluated without opening providers;
 * - `POST …/open`, `GET …/open/{id}`: the environment evaluated, secrets revealed;
 * - `GET …/versions?before=&count=`: the revisions, newest first, strictly before `before`;
 * - `POST …/rotate` `{paths}` (`Paths` too: the CLI's struct has no JSON tag, and the service
 *   matches keys case-insensitively): rotates every `fn::rotate::postgres` (or those named) as the
 *   service does, the previous user (username1 without state) getting a new password through the
 *   connector Lambda, only the `state` nodes rewritten, as one new revision. Always 200 with
 *   `{id, secretRotationEvent}`: a rotation that failed is `status: "failed"` with its
 *   `errorMessage`, never an HTTP error; a path that is not a rotator is 400 with diagnostics;
 *   `GET …/rotate/history` lists the events;
 * - `GET|POST …/schedules`, `GET|PATCH|DELETE …/schedules/{id}`, `GET …/{id}/history`,
 *   `POST …/{id}/pause|resume`: rotation schedules (`ScheduledAction`), one per environment
 *   (a second is 409), `scheduleCron` (5 fields, at most daily: minute and hour fixed) or
 *   `scheduleOnce` (RFC 3339, in the future), exactly one, and `secretRotationRequest` required;
 *   times answered as the service writes them, `2006-01-02 15:04:05.000` in UTC.
 *
 * Rotation (the `rotate` endpoint and schedules) answers 403 for organizations in
 * `rotationDisabled`, as the service does when the feature is off. `${environments.<p>.<e>.<path>}`
 * references are resolved when opening. Secrets written as `fn::secret: <plaintext>` are stored
 * encrypted and shown as `fn::secret: {ciphertext: …}`, as the service does.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import {
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  parse,
  parseDocument,
  type Document,
  type Node as YamlNode,
} from "yaml";

export const ESC_TOKEN = "pul-standin-token-0123456789";
/** The user `ESC_TOKEN` belongs to, and the organizations it is a member of. */
export const STANDIN_USER = "standin-user";
export const STANDIN_ORGS = ["acme"];

/** What the connector Lambda receives; answers like the Lambda does. */
export type Connector = (event: unknown) => Promise<{ code: number; message: string }>;

interface Revision {
  readonly number: number;
  readonly yaml: string;
  readonly etag: string;
  readonly created: string;
}

export interface SecretRotation {
  id: string;
  environmentPath: string;
  status: "succeeded" | "failed";
  errorMessage?: string;
}

export interface SecretRotationEvent {
  id: string;
  environmentId: string;
  created: string;
  completed: string;
  preRotationRevision: number;
  postRotationRevision?: number;
  userID: string;
  status: "succeeded" | "failed" | "in_progress";
  scheduledActionID?: string;
  errorMessage?: string;
  rotations: SecretRotation[];
}

export interface ScheduledAction {
  id: string;
  orgID: string;
  kind: "environment_rotation";
  paused: boolean;
  created: string;
  modified: string;
  lastExecuted: string;
  nextExecution: string;
  definition: { environmentID: string; environmentPath: string };
  scheduleCron?: string;
  scheduleOnce?: string;
}

export interface ScheduleHistoryEvent {
  id: string;
  scheduledActionID: string;
  executed: string;
  version: number;
  result: string;
}

interface Environment {
  readonly id: string;
  readonly revisions: Revision[];
  readonly rotations: SecretRotationEvent[];
  readonly schedules: { action: ScheduledAction; history: ScheduleHistoryEvent[] }[];
}

export interface RecordedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** The status the stand-in answered. */
  status?: number;
}

export interface EscStandIn {
  /** Base URL to give as `apiUrl` (the API lives under `/api/esc`). */
  readonly url: string;
  readonly requests: RecordedRequest[];
  /**
   * Called for every authorized request before it is served: an answer returned here is sent
   * instead, as a `{code, message}` error (to make the service fail, e.g. a 500 on one read).
   */
  beforeRequest?: (
    method: string,
    path: string,
  ) => { readonly status: number; readonly message: string } | undefined;
  /**
   * Called for every request before anything else, authorization included: a status returned
   * here is answered as a `{code, message}` error whose message quotes the request as it arrived
   * (method, path, every header as sent, body), as a proxy or gateway that echoes what it refused
   * may do. Makes every secret a request carries reach the client's error.
   */
  echoRequest?: (method: string, path: string) => number | undefined;
  /** Runs a PATCH's concurrent rival: called after the request arrives, before the ETag check. */
  beforePatch?: (name: string) => void | Promise<void>;
  /** Runs right after a PATCH saved its revision, before the reply is sent. */
  afterPatch?: (name: string) => void | Promise<void>;
  /**
   * `POST …/rotate` over HTTP, as the service's manual rotation: the event, or an error when the
   * reply is not a 200 or the rotation did not succeed (its message says why).
   */
  rotate(name: string, paths?: string[]): Promise<SecretRotationEvent>;
  /** Runs `name`'s schedule now, as the service does when it is due; returns the rotation. */
  runSchedule(name: string): Promise<SecretRotationEvent>;
  /** Diagnostics to refuse a PATCH body with (HTTP 400), as the service does for bad documents. */
  patchDiagnostics?: (body: string) => string[] | undefined;
  /** Performs rotations (the service's call to the connector Lambda). */
  connector?: Connector;
  /** Organizations whose secret rotation feature is off: rotate and schedules answer 403. */
  readonly rotationDisabled: Set<string>;
  /** The newest stored YAML of `org/project/env`. */
  stored(name: string): string | undefined;
  /** Writes a new revision directly, as another client would. */
  write(name: string, yaml: string): void;
  revisions(name: string): readonly Revision[];
  /** The schedules of `org/project/env`, as the API answers them. */
  schedules(name: string): readonly ScheduledAction[];
  close(): Promise<void>;
}

const KEY = randomBytes(32);

function encrypt(plaintext: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", KEY, iv);
  const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
  return Buffer.concat([Buffer.from("escx"), iv, cipher.getAuthTag(), body]).toString("base64");
}

function decrypt(ciphertext: string): string {
  const raw = Buffer.from(ciphertext, "base64");
  const decipher = createDecipheriv("aes-256-gcm", KEY, raw.subarray(4, 16));
  decipher.setAuthTag(raw.subarray(16, 32));
  return Buffer.concat([decipher.update(raw.subarray(32)), decipher.final()]).toString("utf8");
}

/** Every `fn::secret: <plaintext>` in the document becomes `fn::secret: {ciphertext}`. */
function encryptSecrets(doc: Document): void {
  const visit = (node: unknown) => {
    if (!isMap(node)) {
      if (node && typeof node === "object" && "items" in node) {
        for (const item of (node as { items: unknown[] }).items) visit(item);
      }
      return;
    }
    for (const pair of node.items) {
      const key = isScalar(pair.key) ? pair.key.value : pair.key;
      if (key === "fn::secret" && isScalar(pair.value) && typeof pair.value.value === "string") {
        pair.value = doc.createNode({ ciphertext: encrypt(pair.value.value) });
      } else {
        visit(pair.value);
      }
    }
  };
  visit(doc.contents);
}

/** An ESC `Value` as the API sends it. */
interface Value {
  value?: unknown;
  secret?: boolean;
  unknown?: boolean;
  trace: Record<string, unknown>;
}

const wrap = (value: unknown, secret = false): Value => ({
  value,
  ...(secret ? { secret: true } : {}),
  trace: {},
});

/** How the service writes schedule times: UTC, no zone, milliseconds. */
export function serviceTime(date: Date): string {
  return date.toISOString().replace("T", " ").replace("Z", "");
}

/** A request the service refuses: the status and the message of its `{code, message}` body. */
class Refusal extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly diagnostics?: string[],
  ) {
    super(message);
  }
}

/** Problems with a schedule's cron as the service checks it: 5 fields, at most daily. */
function cronProblem(cron: string): string | undefined {
  const fields = cron.trim().split(/\s+/);
  if (fields.length !== 5) return "scheduleCron must have 5 fields";
  const [minute, hour, ...rest] = fields;
  if (!/^\d+$/.test(minute) || Number(minute) > 59 || !/^\d+$/.test(hour) || Number(hour) > 23) {
    return "scheduleCron must run at most once a day (fixed minute and hour)";
  }
  const limits: [number, number][] = [
    [1, 31],
    [1, 12],
    [0, 7],
  ];
  for (const [i, field] of rest.entries()) {
    if (!cronMatcher(field, ...limits[i])) return `scheduleCron field ${i + 3} is invalid`;
  }
  return undefined;
}

/** `* | n | a-b | x/s | a,b` within [min, max] as a predicate; undefined when malformed. */
function cronMatcher(
  field: string,
  min: number,
  max: number,
): ((n: number) => boolean) | undefined {
  const parts = field.split(",").map((part) => {
    const m = /^(\*|(\d+)(?:-(\d+))?)(?:\/(\d+))?$/.exec(part);
    if (!m) return undefined;
    const from = m[1] === "*" ? min : Number(m[2]);
    const to = m[1] === "*" ? max : m[3] !== undefined ? Number(m[3]) : m[4] ? max : from;
    const step = m[4] ? Number(m[4]) : 1;
    if (from < min || to > max || from > to || step < 1) return undefined;
    return (n: number) => n >= from && n <= to && (n - from) % step === 0;
  });
  if (parts.some((p) => p === undefined)) return undefined;
  return (n) => parts.some((p) => p!(n));
}

/** The next time (UTC) a valid daily-or-rarer cron fires after `now`. */
function nextCronTime(cron: string, now: Date): Date | undefined {
  const [minute, hour, dom, month, dow] = cron.trim().split(/\s+/);
  const [matchDom, matchMonth, matchDow] = [
    cronMatcher(dom, 1, 31)!,
    cronMatcher(month, 1, 12)!,
    cronMatcher(dow, 0, 7)!,
  ];
  for (let day = 0; day < 366 * 8; day += 1) {
    const t = new Date(
      Date.UTC(
        now.getUTCFullYear(),
        now.getUTCMonth(),
        now.getUTCDate() + day,
        Number(hour),
        Number(minute),
      ),
    );
    const weekday = t.getUTCDay();
    if (
      t > now &&
      matchDom(t.getUTCDate()) &&
      matchMonth(t.getUTCMonth() + 1) &&
      (matchDow(weekday) || (weekday === 0 && matchDow(7)))
    ) {
      return t;
    }
  }
  return undefined;
}

/** A JSON body's key, matched case-insensitively as Go's `encoding/json` does. */
function field(body: Record<string, unknown>, name: string): unknown {
  const key = Object.keys(body).find((k) => k.toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : body[key];
}

export async function startEscStandIn(): Promise<EscStandIn> {
  const envs = new Map<string, Environment>();
  const sessions = new Map<string, string>();
  const requests: RecordedRequest[] = [];
  let counter = 0;
  const newId = (prefix: string) => `${prefix}-${(counter += 1)}-${randomBytes(4).toString("hex")}`;

  function save(name: string, yamlText: string): Revision {
    const doc = parseDocument(yamlText);
    encryptSecrets(doc);
    const yaml = doc.toString();
    let env = envs.get(name);
    if (!env) {
      env = { id: newId("env"), revisions: [], rotations: [], schedules: [] };
      envs.set(name, env);
    }
    counter += 1;
    const revision = {
      number: env.revisions.length + 1,
      yaml,
      etag: `"${createHash("sha256").update(`${counter}:${yaml}`).digest("hex").slice(0, 16)}"`,
      created: new Date().toISOString(),
    };
    env.revisions.push(revision);
    return revision;
  }
  const newest = (name: string) => envs.get(name)?.revisions.at(-1);

  /**
   * Evaluates a stored definition node into an ESC Value tree. When checking (not opening),
   * providers are not opened and stored secrets stay unknown unless `showSecrets`, as in ESC.
   */
  function evaluate(
    node: unknown,
    org: string,
    mode: { checking: boolean; showSecrets: boolean } = { checking: false, showSecrets: true },
    depth = 0,
  ): Value {
    if (depth > 20) throw new Error("reference cycle");
    const next = (n: unknown) => evaluate(n, org, mode, depth + 1);
    if (Array.isArray(node)) return wrap(node.map(next));
    if (typeof node === "string") {
      const ref = /^\$\{environments\.([^.]+)\.([^.]+)\.(.+)\}$/.exec(node);
      if (!ref) return wrap(node);
      const target = newest(`${org}/${ref[1]}/${ref[2]}`);
      if (!target) throw new Refusal(400, `unknown environment ${ref[1]}/${ref[2]}`);
      const values = next((parse(target.yaml) as { values?: unknown }).values ?? {});
      return ref[3].split(".").reduce<Value>((v, key) => {
        const found = (v.value as Record<string, Value> | undefined)?.[key];
        if (!found) throw new Refusal(400, `unknown property ${ref[3]} in ${ref[1]}/${ref[2]}`);
        return found;
      }, values);
    }
    if (!node || typeof node !== "object") return wrap(node);
    const map = node as Record<string, unknown>;
    if ("fn::secret" in map) {
      const inner = map["fn::secret"] as { ciphertext?: string } | string;
      if (typeof inner === "string") return wrap(inner, true);
      if (mode.checking && !mode.showSecrets) return { secret: true, unknown: true, trace: {} };
      return wrap(decrypt(inner.ciphertext ?? ""), true);
    }
    if ("fn::rotate::postgres" in map) {
      const rotator = map["fn::rotate::postgres"] as { state?: unknown };
      return rotator.state ? next(rotator.state) : wrap({});
    }
    if ("fn::open::aws-login" in map) {
      if (mode.checking) return { unknown: true, trace: {} };
      return wrap({
        accessKeyId: wrap("ASIASTANDIN"),
        secretAccessKey: wrap(randomBytes(12).toString("hex"), true),
        sessionToken: wrap(randomBytes(12).toString("hex"), true),
      });
    }
    return wrap(Object.fromEntries(Object.entries(map).map(([k, v]) => [k, next(v)])));
  }

  const plain = (v: Value): unknown => {
    if (Array.isArray(v.value)) return (v.value as Value[]).map(plain);
    if (v.value && typeof v.value === "object") {
      return Object.fromEntries(
        Object.entries(v.value as Record<string, Value>).map(([k, x]) => [k, plain(x)]),
      );
    }
    return v.value;
  };

  /** The service's rotation of one `fn::rotate::postgres`: the new `state` node's content. */
  async function rotateOne(org: string, spec: { inputs: unknown; state?: unknown }) {
    const inputs = plain(evaluate(spec.inputs, org)) as {
      database: {
        host: string;
        port: number;
        database: string;
        managingUser: { username: string; password: string };
      };
      rotateUsers: { username1: string; username2: string };
    };
    const state = spec.state
      ? (plain(evaluate(spec.state, org)) as {
          current: { username: string; password: string };
          previous?: { username: string; password?: string };
        })
      : undefined;
    const { username1, username2 } = inputs.rotateUsers;
    const target = state
      ? (state.previous?.username ?? (state.current.username === username1 ? username2 : username1))
      : username1;
    const newPassword = randomBytes(24).toString("base64url");
    if (!standIn.connector) throw new Error("no connector configured");
    const reply = await standIn.connector({
      type: "postgres",
      host: inputs.database.host,
      port: inputs.database.port,
      database: inputs.database.database,
      managingUser: inputs.database.managingUser,
      rotateUser: { username: target, password: state?.previous?.password ?? "", newPassword },
    });
    if (reply.code !== 200) throw new Error(reply.message);
    const previous = state
      ? { password: { "fn::secret": state.current.password }, username: state.current.username }
      : { username: target === username1 ? username2 : username1 };
    return { current: { password: { "fn::secret": newPassword }, username: target }, previous };
  }

  /** One rotation event: every rotator named (all when none), one new revision for all. */
  async function rotateEnvironment(
    name: string,
    paths: readonly string[],
    scheduledActionID?: string,
  ): Promise<SecretRotationEvent> {
    const env = envs.get(name)!;
    const org = name.split("/")[0];
    const pre = newest(name)!;
    const doc = parseDocument(pre.yaml);
    const rotatorAt = (path: string) => {
      const node = doc.getIn(["values", ...path.split("."), "fn::rotate::postgres"]);
      return isMap(node) ? (node.toJSON() as { inputs: unknown; state?: unknown }) : undefined;
    };
    const values = doc.get("values");
    const all = isMap(values)
      ? values.items.map((p) => String(isScalar(p.key) ? p.key.value : p.key)).filter(rotatorAt)
      : [];
    const unknown = paths.filter((p) => !rotatorAt(p));
    if (unknown.length > 0) {
      throw new Refusal(
        400,
        "invalid rotation paths",
        unknown.map((p) => `${p} is not a rotated secret`),
      );
    }
    const created = new Date().toISOString();
    const rotations: SecretRotation[] = [];
    for (const path of paths.length > 0 ? paths : all) {
      try {
        const next = await rotateOne(org, rotatorAt(path)!);
        doc.setIn(["values", ...path.split("."), "fn::rotate::postgres", "state"], next);
        rotations.push({ id: newId("rot"), environmentPath: path, status: "succeeded" });
      } catch (error) {
        const errorMessage = error instanceof Error ? error.message : String(error);
        rotations.push({ id: newId("rot"), environmentPath: path, status: "failed", errorMessage });
      }
    }
    const failed = rotations.filter((r) => r.status === "failed").length;
    const post = failed < rotations.length ? save(name, doc.toString()).number : undefined;
    const event: SecretRotationEvent = {
      id: newId("event"),
      environmentId: env.id,
      created,
      completed: new Date().toISOString(),
      preRotationRevision: pre.number,
      ...(post !== undefined ? { postRotationRevision: post } : {}),
      userID: `${STANDIN_USER}-id`,
      status: failed > 0 ? "failed" : "succeeded",
      ...(scheduledActionID ? { scheduledActionID } : {}),
      ...(failed > 0
        ? { errorMessage: `${failed} of ${rotations.length} secret rotations failed` }
        : {}),
      rotations,
    };
    env.rotations.push(event);
    return event;
  }

  /** `{scheduleCron | scheduleOnce, secretRotationRequest}` checked as the service checks it. */
  function scheduleFields(body: Record<string, unknown>, creating: boolean, now: Date) {
    const cron = field(body, "scheduleCron");
    const once = field(body, "scheduleOnce");
    const request = field(body, "secretRotationRequest") as
      { environmentPath?: unknown } | undefined;
    const has = (v: unknown) => v !== undefined && v !== null && v !== "";
    if (has(cron) === has(once) && (creating || has(cron))) {
      throw new Refusal(400, "exactly one of scheduleCron or scheduleOnce must be set");
    }
    if (creating && (!request || typeof request !== "object")) {
      throw new Refusal(400, "secretRotationRequest is required");
    }
    if (has(cron)) {
      const problem = typeof cron === "string" ? cronProblem(cron) : "scheduleCron must be text";
      if (problem) throw new Refusal(400, problem);
    }
    let onceDate: Date | undefined;
    if (has(once)) {
      onceDate = new Date(String(once));
      if (!/^\d{4}-\d\d-\d\dT/.test(String(once)) || Number.isNaN(onceDate.getTime())) {
        throw new Refusal(400, "scheduleOnce must be an RFC 3339 date-time");
      }
      if (onceDate <= now) throw new Refusal(400, "scheduleOnce must be in the future");
    }
    return {
      cron: has(cron) ? String(cron).trim() : undefined,
      once: onceDate,
      environmentPath: request ? String(request.environmentPath ?? "") : undefined,
    };
  }

  function scheduleTimes(action: ScheduledAction, now: Date): void {
    const next = action.scheduleCron
      ? nextCronTime(action.scheduleCron, now)
      : action.scheduleOnce && !action.lastExecuted
        ? new Date(action.scheduleOnce.replace(" ", "T") + "Z")
        : undefined;
    action.nextExecution = next ? serviceTime(next) : "";
  }

  function requireRotation(org: string): void {
    if (standIn.rotationDisabled.has(org)) {
      throw new Refusal(403, "Secret rotation feature is not enabled for the organization");
    }
  }

  type Reply = { status: number; headers?: Record<string, string>; payload?: string };
  const json = (status: number, body: unknown): Reply => ({
    status,
    headers: { "content-type": "application/json" },
    payload: JSON.stringify(body),
  });
  const noContent = (): Reply => ({ status: 204 });
  const revisionReply = (r: Revision, withBody = true): Reply => ({
    status: 200,
    headers: {
      "content-type": "application/x-yaml",
      etag: r.etag,
      "pulumi-esc-revision": String(r.number),
    },
    payload: withBody ? r.yaml : "",
  });
  const parseJson = (body: string): Record<string, unknown> => {
    try {
      const parsed = JSON.parse(body || "{}") as unknown;
      if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) {
        return parsed as Record<string, unknown>;
      }
    } catch {
      // falls through
    }
    throw new Refusal(400, "the request body is not a JSON object");
  };

  async function account(method: string, path: string): Promise<Reply | undefined> {
    if (method !== "GET") return undefined;
    if (path === "/api/user") {
      return json(200, {
        id: `${STANDIN_USER}-id`,
        githubLogin: STANDIN_USER,
        name: "Stand-in User",
        email: "standin@example.invalid",
        avatarUrl: "",
        organizations: STANDIN_ORGS.map((org) => ({ githubLogin: org, name: org, avatarUrl: "" })),
        identities: [],
      });
    }
    if (path === "/api/user/organizations/default")
      return json(200, { gitHubLogin: STANDIN_ORGS[0] });
    if (path === "/api/capabilities") return json(200, { capabilities: [] });
    return undefined;
  }

  async function handle(req: http.IncomingMessage, body: string): Promise<Reply> {
    const echo = standIn.echoRequest?.(
      req.method ?? "GET",
      new URL(req.url ?? "/", "http://local").pathname,
    );
    if (echo !== undefined) {
      const headers = JSON.stringify(req.rawHeaders);
      throw new Refusal(echo, `refused ${req.method} ${req.url} with headers ${headers}: ${body}`);
    }
    if (req.headers.authorization !== `token ${ESC_TOKEN}`) {
      return json(401, {
        code: 401,
        message: "Unauthorized: No credentials provided or are invalid.",
      });
    }
    const method = req.method ?? "GET";
    const url = new URL(req.url ?? "/", "http://local");
    const injected = standIn.beforeRequest?.(method, url.pathname);
    if (injected) throw new Refusal(injected.status, injected.message);
    const fromAccount = await account(method, url.pathname);
    if (fromAccount) return fromAccount;
    if (!url.pathname.startsWith("/api/esc/environments/")) throw new Refusal(404, "Not found");
    const parts = url.pathname
      .slice("/api/esc/environments/".length)
      .split("/")
      .filter(Boolean)
      .map(decodeURIComponent);
    const [org, project, envName, verb, id, action] = parts;

    if (parts.length === 1 && method === "POST") {
      const request = parseJson(body);
      const [p, n] = [field(request, "project"), field(request, "name")];
      if (typeof p !== "string" || typeof n !== "string" || !p || !n) {
        throw new Refusal(400, "project and name are required");
      }
      if (envs.has(`${org}/${p}/${n}`)) {
        throw new Refusal(409, `Conflict: environment ${p}/${n} already exists`);
      }
      save(`${org}/${p}/${n}`, "{}\n");
      return noContent();
    }
    if (parts.length === 3 && project === "yaml" && envName === "check" && method === "POST") {
      const showSecrets = url.searchParams.get("showSecrets") === "true";
      return json(200, check(body, org, showSecrets));
    }

    const name = `${org}/${project}/${envName}`;
    const env = envs.get(name);
    if (!env || parts.length < 3) {
      throw new Refusal(404, `Environment '${project}/${envName}' not found`);
    }
    const current = env.revisions.at(-1)!;

    if (!verb) {
      if (method === "GET") return revisionReply(current);
      if (method === "HEAD") return revisionReply(current, false);
      if (method === "DELETE") {
        envs.delete(name);
        return noContent();
      }
      if (method === "PATCH") return patch(name, req.headers, body);
    }
    if (verb === "versions" && method === "GET") {
      if (id === undefined) return json(200, versions(env, url.searchParams));
      const revision = /^\d+$/.test(id) ? env.revisions[Number(id) - 1] : undefined;
      if (!revision) throw new Refusal(404, `Revision ${id} not found`);
      return revisionReply(revision);
    }
    if (verb === "open" && method === "POST" && id === undefined) {
      const sessionId = randomBytes(8).toString("hex");
      sessions.set(sessionId, name);
      return json(200, { id: sessionId, diagnostics: [] });
    }
    if (verb === "open" && method === "GET" && id && sessions.get(id) === name) {
      const values = (parse(current.yaml) as { values?: unknown })?.values ?? {};
      return json(200, { properties: evaluate(values, org).value });
    }
    if (verb === "rotate" && method === "POST" && id === undefined) {
      requireRotation(org);
      const requested = field(parseJson(body), "paths");
      const paths = Array.isArray(requested) ? requested.map(String) : [];
      const event = await rotateEnvironment(name, paths);
      return json(200, { id: event.id, secretRotationEvent: event });
    }
    if (verb === "rotate" && id === "history" && method === "GET") {
      requireRotation(org);
      return json(200, { events: [...env.rotations].reverse() });
    }
    if (verb === "schedules") return schedules(env, org, method, body, id, action);
    throw new Refusal(404, "Not found");
  }

  async function patch(
    name: string,
    headers: http.IncomingHttpHeaders,
    body: string,
  ): Promise<Reply> {
    await standIn.beforePatch?.(name);
    const latest = newest(name)!;
    for (const header of ["etag", "if-match"]) {
      const sent = headers[header];
      if (sent !== undefined && sent !== latest.etag) {
        throw new Refusal(409, "Conflict: environment has been modified since it was read");
      }
    }
    const refused = standIn.patchDiagnostics?.(body);
    if (refused?.length) throw new Refusal(400, "invalid environment definition", refused);
    const doc = parseDocument(body);
    if (doc.errors.length > 0) {
      throw new Refusal(
        400,
        "invalid environment definition",
        doc.errors.map((e) => e.message),
      );
    }
    const saved = save(name, body);
    await standIn.afterPatch?.(name);
    return {
      status: 200,
      headers: {
        "content-type": "application/json",
        etag: saved.etag,
        "pulumi-esc-revision": String(saved.number),
      },
      payload: "{}",
    };
  }

  function versions(env: Environment, query: URLSearchParams) {
    const before = Number(query.get("before") ?? 0);
    const count = Number(query.get("count") ?? 0);
    const newestNumber = env.revisions.length;
    const list = env.revisions
      .filter((r) => !(before > 0) || r.number < before)
      .reverse()
      .map((r) => ({
        number: r.number,
        created: r.created,
        creatorLogin: STANDIN_USER,
        creatorName: "Stand-in User",
        tags: r.number === newestNumber ? ["latest"] : [],
      }));
    return count > 0 ? list.slice(0, count) : list;
  }

  /** `POST /{org}/yaml/check`: values and their definitions' ranges, providers not opened. */
  function check(body: string, org: string, showSecrets: boolean) {
    const lines = new LineCounter();
    const doc = parseDocument(body, { lineCounter: lines });
    if (doc.errors.length > 0) {
      throw new Refusal(
        400,
        "invalid environment definition",
        doc.errors.map((e) => e.message),
      );
    }
    const at = (offset: number) => {
      const { line, col } = lines.linePos(offset);
      return { line, column: col, byte: offset };
    };
    const range = (node: unknown) => {
      const [start, end] = (node as { range?: [number, number] } | null)?.range ?? [0, 0];
      return { environment: "<yaml>", begin: at(start), end: at(end) };
    };
    const expr = (node: unknown): Record<string, unknown> => {
      const keyOf = (k: unknown) => String(isScalar(k) ? k.value : k);
      if (isMap(node)) {
        const only = node.items.length === 1 ? node.items[0] : undefined;
        if (only && keyOf(only.key).startsWith("fn::")) {
          const builtin = {
            name: keyOf(only.key),
            nameRange: range(only.key),
            arg: expr(only.value),
          };
          return { range: range(node), builtin };
        }
        return {
          range: range(node),
          object: Object.fromEntries(node.items.map((p) => [keyOf(p.key), expr(p.value)])),
          keyRanges: Object.fromEntries(node.items.map((p) => [keyOf(p.key), range(p.key)])),
        };
      }
      if (isSeq(node)) return { range: range(node), list: node.items.map(expr) };
      return { range: range(node), literal: isScalar(node) ? node.value : null };
    };
    const valuesNode = doc.get("values", true) as YamlNode | undefined;
    const values = (doc.toJSON() as { values?: unknown } | null)?.values ?? {};
    const exprs = isMap(valuesNode) ? (expr(valuesNode).object as Record<string, unknown>) : {};
    return { exprs, properties: evaluate(values, org, { checking: true, showSecrets }).value };
  }

  async function schedules(
    env: Environment,
    org: string,
    method: string,
    body: string,
    id: string | undefined,
    action: string | undefined,
  ): Promise<Reply> {
    const now = new Date();
    if (id === undefined) {
      if (method === "GET") return json(200, { schedules: env.schedules.map((s) => s.action) });
      if (method !== "POST") throw new Refusal(404, "Not found");
      requireRotation(org);
      const { cron, once, environmentPath } = scheduleFields(parseJson(body), true, now);
      if (env.schedules.length > 0) {
        throw new Refusal(409, "Conflict: the environment already has a schedule");
      }
      const created = serviceTime(now);
      const scheduled: ScheduledAction = {
        id: newId("schedule"),
        orgID: `${org}-id`,
        kind: "environment_rotation",
        paused: false,
        created,
        modified: created,
        lastExecuted: "",
        nextExecution: "",
        definition: { environmentID: env.id, environmentPath: environmentPath ?? "" },
        ...(cron ? { scheduleCron: cron } : { scheduleOnce: serviceTime(once!) }),
      };
      scheduleTimes(scheduled, now);
      env.schedules.push({ action: scheduled, history: [] });
      return json(200, scheduled);
    }
    const entry = env.schedules.find((s) => s.action.id === id);
    if (!entry) throw new Refusal(404, `Schedule ${id} not found`);
    const scheduled = entry.action;
    if (action === undefined && method === "GET") return json(200, scheduled);
    if (action === undefined && method === "PATCH") {
      const { cron, once, environmentPath } = scheduleFields(parseJson(body), false, now);
      if (cron) {
        scheduled.scheduleCron = cron;
        delete scheduled.scheduleOnce;
      } else if (once) {
        scheduled.scheduleOnce = serviceTime(once);
        delete scheduled.scheduleCron;
        scheduled.lastExecuted = "";
      }
      if (environmentPath !== undefined) scheduled.definition.environmentPath = environmentPath;
      scheduled.modified = serviceTime(now);
      scheduleTimes(scheduled, now);
      return json(200, scheduled);
    }
    if (action === undefined && method === "DELETE") {
      requireRotation(org);
      env.schedules.splice(env.schedules.indexOf(entry), 1);
      return { status: 200 };
    }
    if (action === "history" && method === "GET") {
      return json(200, { scheduleHistoryEvents: [...entry.history].reverse() });
    }
    if ((action === "pause" || action === "resume") && method === "POST") {
      scheduled.paused = action === "pause";
      scheduled.modified = serviceTime(now);
      return { status: 200 };
    }
    throw new Refusal(404, "Not found");
  }

  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString("utf8")));
    req.on("end", () => {
      const recorded: RecordedRequest = {
        method: req.method ?? "",
        path: req.url ?? "",
        headers: req.headers,
        body,
      };
      requests.push(recorded);
      handle(req, body)
        .catch((error: unknown): Reply => {
          if (!(error instanceof Refusal)) {
            return json(500, { code: 500, message: String(error) });
          }
          return json(error.status, {
            code: error.status,
            message: error.message,
            ...(error.diagnostics
              ? { diagnostics: error.diagnostics.map((summary) => ({ summary })) }
              : {}),
          });
        })
        .then(({ status, headers, payload }) => {
          recorded.status = status;
          res.writeHead(status, headers ?? {});
          res.end(payload ?? "");
        });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  const standIn: EscStandIn = {
    url: `http://127.0.0.1:${port}`,
    requests,
    rotationDisabled: new Set(),
    stored: (name) => newest(name)?.yaml,
    async rotate(name, paths = []) {
      const response = await fetch(`${standIn.url}/api/esc/environments/${name}/rotate`, {
        method: "POST",
        headers: { authorization: `token ${ESC_TOKEN}`, "content-type": "application/json" },
        body: JSON.stringify({ paths }),
      });
      const text = await response.text();
      if (response.status !== 200)
        throw new Error(`rotate failed: HTTP ${response.status} ${text}`);
      const event = (JSON.parse(text) as { secretRotationEvent: SecretRotationEvent })
        .secretRotationEvent;
      if (event.status !== "succeeded") {
        const why = event.rotations
          .filter((r) => r.status === "failed")
          .map((r) => `${r.environmentPath}: ${r.errorMessage}`)
          .join("; ");
        throw new Error(`rotation ${event.status}: ${event.errorMessage ?? ""} (${why})`);
      }
      return event;
    },
    async runSchedule(name) {
      const env = envs.get(name);
      const entry = env?.schedules[0];
      if (!env || !entry) throw new Error(`${name} has no schedule`);
      const event = await rotateEnvironment(
        name,
        entry.action.definition.environmentPath ? [entry.action.definition.environmentPath] : [],
        entry.action.id,
      );
      const now = new Date();
      entry.history.push({
        id: newId("history"),
        scheduledActionID: entry.action.id,
        executed: now.toISOString(),
        version: 1,
        result: event.status,
      });
      entry.action.lastExecuted = serviceTime(now);
      scheduleTimes(entry.action, now);
      return event;
    },
    write: (name, yaml) => void save(name, yaml),
    revisions: (name) => envs.get(name)?.revisions ?? [],
    schedules: (name) => envs.get(name)?.schedules.map((s) => s.action) ?? [],
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return standIn;
}
