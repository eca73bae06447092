/**
 * A local stand-in of the Pulumi ESC API (`<url>/api/esc`), for the endpoints this package
 * uses, driven only through the real `@pulumi/esc-sdk` client:
 *
 * - `POST /environments/{org}` `{project, name}` creates (409 if it exists);
 * - `GET /environments/{org}/{project}/{env}`: the YAML as stored, with an `ETag`;
 * - `PATCH` same path, YAML body: a new revision, only if the `ETag` request header (when sent)
 *   names the newest revision, else 409; invalid YAML gets 400 with diagnostics;
 * - `DELETE` same path;
 * - `POST .../open`, `GET .../open/{id}`: the evaluated environment as ESC `Value` trees;
 * - `POST .../rotate` `{paths?}`: rotates every `fn::rotate::postgres` (or those named) the way
 *   the service does: the previous user (username1 without state) gets a new password through
 *   the connector Lambda handler, and only the `state` node is rewritten, as a new revision;
 * - `GET .../versions`: the revisions.
 *
 * Secrets written as `fn::secret: <plaintext>` are stored encrypted and shown as
 * `fn::secret: {ciphertext: …}` on read, as the service does. `${environments.<p>.<e>.<path>}`
 * references are resolved when opening. Requests need `Authorization: token <token>`.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { isMap, isScalar, parse, parseDocument, type Document } from "yaml";

export const ESC_TOKEN = "pul-standin-token-0123456789";

/** What the connector Lambda receives; answers like the Lambda does. */
export type Connector = (event: unknown) => Promise<{ code: number; message: string }>;

interface Revision {
  readonly number: number;
  readonly yaml: string;
  readonly etag: string;
  readonly created: string;
}

export interface EscStandIn {
  /** Base URL to give as `apiUrl` (the API lives under `/api/esc`). */
  readonly url: string;
  readonly requests: {
    method: string;
    path: string;
    headers: http.IncomingHttpHeaders;
    body: string;
  }[];
  /** Runs a PATCH's concurrent rival: called after the request arrives, before the ETag check. */
  beforePatch?: (name: string) => void | Promise<void>;
  /** `POST …/rotate` over HTTP (the service's scheduled or manual rotation of every rotator). */
  rotate(name: string): Promise<void>;
  /** Diagnostics to refuse a PATCH body with (HTTP 400), as the service does for bad documents. */
  patchDiagnostics?: (body: string) => string[] | undefined;
  /** Performs rotations (the service's call to the connector Lambda). */
  connector?: Connector;
  /** The newest stored YAML of `org/project/env`. */
  stored(name: string): string | undefined;
  /** Writes a new revision directly, as another client would. */
  write(name: string, yaml: string): void;
  revisions(name: string): readonly Revision[];
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

interface Value {
  value: unknown;
  secret?: boolean;
  trace: Record<string, unknown>;
}

const wrap = (value: unknown, secret = false): Value => ({
  value,
  ...(secret ? { secret: true } : {}),
  trace: {},
});

export async function startEscStandIn(): Promise<EscStandIn> {
  const envs = new Map<string, Revision[]>();
  const sessions = new Map<string, string>();
  const requests: EscStandIn["requests"] = [];
  let revisionCounter = 0;

  function save(name: string, yamlText: string): Revision {
    const doc = parseDocument(yamlText);
    encryptSecrets(doc);
    const yaml = doc.toString();
    const list = envs.get(name) ?? [];
    revisionCounter += 1;
    const revision = {
      number: list.length + 1,
      yaml,
      etag: `"${createHash("sha256").update(`${revisionCounter}:${yaml}`).digest("hex").slice(0, 16)}"`,
      created: new Date().toISOString(),
    };
    list.push(revision);
    envs.set(name, list);
    return revision;
  }
  const newest = (name: string) => envs.get(name)?.at(-1);

  /** Evaluates a stored definition node into an ESC Value tree. */
  function evaluate(node: unknown, org: string, depth = 0): Value {
    if (depth > 20) throw new Error("reference cycle");
    if (Array.isArray(node)) return wrap(node.map((n) => evaluate(n, org, depth + 1)));
    if (typeof node === "string") {
      const ref = /^\$\{environments\.([^.]+)\.([^.]+)\.(.+)\}$/.exec(node);
      if (!ref) return wrap(node);
      const target = newest(`${org}/${ref[1]}/${ref[2]}`);
      if (!target) throw new Error(`unknown environment ${ref[1]}/${ref[2]}`);
      const values = evaluate(
        (parse(target.yaml) as { values?: unknown }).values ?? {},
        org,
        depth + 1,
      );
      return ref[3]
        .split(".")
        .reduce<Value>((v, key) => (v.value as Record<string, Value>)[key], values);
    }
    if (!node || typeof node !== "object") return wrap(node);
    const map = node as Record<string, unknown>;
    if ("fn::secret" in map) {
      const inner = map["fn::secret"] as { ciphertext?: string } | string;
      return wrap(typeof inner === "string" ? inner : decrypt(inner.ciphertext ?? ""), true);
    }
    if ("fn::rotate::postgres" in map) {
      const rotator = map["fn::rotate::postgres"] as { state?: unknown };
      return rotator.state ? evaluate(rotator.state, org, depth + 1) : wrap({});
    }
    if ("fn::open::aws-login" in map) {
      return wrap({
        accessKeyId: wrap("ASIASTANDIN"),
        secretAccessKey: wrap(randomBytes(12).toString("hex"), true),
        sessionToken: wrap(randomBytes(12).toString("hex"), true),
      });
    }
    return wrap(
      Object.fromEntries(Object.entries(map).map(([k, v]) => [k, evaluate(v, org, depth + 1)])),
    );
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

  /** The service's rotation of one `fn::rotate::postgres`: through the connector Lambda. */
  async function rotate(name: string, org: string, key: string): Promise<void> {
    const stored = parse(newest(name)!.yaml) as { values: Record<string, Record<string, unknown>> };
    const spec = stored.values[key]?.["fn::rotate::postgres"] as
      { inputs: unknown; state?: unknown } | undefined;
    if (!spec) throw new Error(`values.${key} is not a rotator`);
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
    const target = state
      ? (state.previous?.username ??
        (state.current.username === inputs.rotateUsers.username1
          ? inputs.rotateUsers.username2
          : inputs.rotateUsers.username1))
      : inputs.rotateUsers.username1;
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
    if (reply.code !== 200) throw new Error(`rotation failed: ${reply.message}`);
    const doc = parseDocument(newest(name)!.yaml);
    const next = {
      current: { password: { "fn::secret": newPassword }, username: target },
      ...(state
        ? {
            previous: {
              password: { "fn::secret": state.current.password },
              username: state.current.username,
            },
          }
        : {
            previous: {
              username:
                target === inputs.rotateUsers.username1
                  ? inputs.rotateUsers.username2
                  : inputs.rotateUsers.username1,
            },
          }),
    };
    doc.setIn(["values", key, "fn::rotate::postgres", "state"], doc.createNode(next));
    save(name, doc.toString());
  }

  async function handle(req: http.IncomingMessage, body: string) {
    if (req.headers.authorization !== `token ${ESC_TOKEN}`) {
      return json(401, {
        code: 401,
        message: "Unauthorized: No credentials provided or are invalid.",
      });
    }
    const url = new URL(req.url ?? "/", "http://local");
    const parts = url.pathname
      .replace(/^\/api\/esc\//, "")
      .split("/")
      .filter(Boolean)
      .map(decodeURIComponent);
    if (parts[0] !== "environments") return json(404, { code: 404, message: "Not found" });
    const [, org, project, env, verb, id] = parts;
    if (req.method === "POST" && parts.length === 2) {
      const { project: p, name: n } = JSON.parse(body) as { project: string; name: string };
      const key = `${org}/${p}/${n}`;
      if (envs.has(key))
        return json(409, { code: 409, message: `Conflict: environment ${p}/${n} already exists` });
      save(key, "{}\n");
      return { status: 200, headers: {}, payload: "" };
    }
    const name = `${org}/${project}/${env}`;
    const current = newest(name);
    if (!current)
      return json(404, { code: 404, message: `Environment '${project}/${env}' not found` });
    if (!verb) {
      if (req.method === "GET") {
        return {
          status: 200,
          headers: { "content-type": "application/x-yaml", etag: current.etag },
          payload: current.yaml,
        };
      }
      if (req.method === "DELETE") {
        envs.delete(name);
        return { status: 200, headers: {}, payload: "" };
      }
      if (req.method === "PATCH") {
        await standIn.beforePatch?.(name);
        const latest = newest(name)!;
        const etag = req.headers.etag;
        if (etag !== undefined && etag !== latest.etag) {
          return json(409, { code: 409, message: "Conflict: environment has been modified" });
        }
        const refused = standIn.patchDiagnostics?.(body);
        if (refused?.length)
          return json(400, { diagnostics: refused.map((summary) => ({ summary })) });
        const doc = parseDocument(body);
        if (doc.errors.length > 0) {
          return json(400, { diagnostics: doc.errors.map((e) => ({ summary: e.message })) });
        }
        save(name, body);
        return json(200, {});
      }
    }
    if (verb === "open" && req.method === "POST") {
      const sessionId = randomBytes(8).toString("hex");
      sessions.set(sessionId, name);
      return json(200, { id: sessionId, diagnostics: [] });
    }
    if (verb === "open" && req.method === "GET" && id && sessions.get(id) === name) {
      const values = (parse(current.yaml) as { values?: unknown })?.values ?? {};
      return json(200, { properties: evaluate(values, org).value });
    }
    if (verb === "rotate" && req.method === "POST") {
      const paths = (JSON.parse(body || "{}") as { paths?: string[] }).paths;
      const values =
        (parse(current.yaml) as { values?: Record<string, Record<string, unknown>> }).values ?? {};
      const keys = paths ?? Object.keys(values).filter((k) => values[k]?.["fn::rotate::postgres"]);
      try {
        for (const key of keys) await rotate(name, org, key);
      } catch (error) {
        return json(400, { code: 400, message: String((error as Error).message) });
      }
      return json(200, { id: randomBytes(6).toString("hex"), status: "succeeded" });
    }
    if (verb === "versions" && req.method === "GET") {
      return json(
        200,
        envs
          .get(name)!
          .map((r) => ({ number: r.number, created: r.created }))
          .reverse(),
      );
    }
    return json(404, { code: 404, message: "Not found" });
  }

  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString("utf8")));
    req.on("end", () => {
      requests.push({ method: req.method ?? "", path: req.url ?? "", headers: req.headers, body });
      handle(req, body).then(
        ({ status, headers, payload }) => {
          res.writeHead(status, headers);
          res.end(payload);
        },
        (error: unknown) => {
          res.writeHead(500, { "content-type": "application/json" });
          res.end(JSON.stringify({ code: 500, message: String(error) }));
        },
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  const standIn: EscStandIn = {
    url: `http://127.0.0.1:${port}`,
    requests,
    stored: (name) => newest(name)?.yaml,
    async rotate(name) {
      const response = await fetch(`${standIn.url}/api/esc/environments/${name}/rotate`, {
        method: "POST",
        headers: { authorization: `token ${ESC_TOKEN}`, "content-type": "application/json" },
        body: "{}",
      });
      if (!response.ok)
        throw new Error(`rotate failed: ${response.status} ${await response.text()}`);
    },
    write: (name, yaml) => void save(name, yaml),
    revisions: (name) => envs.get(name) ?? [],
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return standIn;
}

function json(status: number, body: unknown) {
  return { status, headers: { "content-type": "application/json" }, payload: JSON.stringify(body) };
}
