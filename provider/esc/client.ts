/**
 * The thin shell around the Pulumi ESC API (through `@pulumi/esc-sdk`'s generated client):
 * create, read (YAML, ETag and revision number), update guarded by the ETag, delete, and open
 * one value. Failures become `EscError` / `EscConflictError` with every known secret removed.
 *
 * Wire facts it relies on (esc-sdk `sdk/swagger.yaml`, the ESC CLI client): create and delete
 * answer 204 without a body; a read and a write answer with the revision's `ETag` and its number
 * in `Pulumi-ESC-Revision`; a write whose `ETag` request header is stale answers 409.
 */
import { EscError, EscConflictError, redact } from "../errors";
import { secretsIn } from "./documents";

export const DEFAULT_API_URL = "https://api.pulumi.com";

/** One environment and how to reach it. */
export interface EscLocation {
  readonly organization: string;
  readonly project: string;
  readonly environment: string;
  /** Pulumi access token; `PULUMI_ACCESS_TOKEN` when absent. */
  readonly accessToken?: string;
  /** Pulumi Cloud API URL (self-hosted: yours). @default "https://api.pulumi.com" */
  readonly apiUrl?: string;
}

export interface EscDocument {
  readonly yaml: string;
  /** The revision's ETag: send it back to update only that revision. */
  readonly etag: string;
  /** The revision's number (`Pulumi-ESC-Revision`), when the service sent it. */
  readonly revision?: number;
}

/** What a write answered: the new revision's ETag and number, when the service sent them. */
export interface EscWritten {
  readonly etag?: string;
  readonly revision?: number;
}

/** The access token a client sends, and every form of it to keep out of messages. */
export interface AccessToken {
  /** The token trimmed, as it goes into `Authorization: token <value>`. */
  readonly value: string;
  /**
   * Every form a reply may quote back (a proxy's 401 that echoes the request): the token as
   * given, trimmed, and the header's `token <value>`; `redact` adds their escaped forms.
   */
  readonly secrets: readonly string[];
}

/**
 * The access token to use for `name`: the input's, else `PULUMI_ACCESS_TOKEN`; else an error.
 * Trimmed here, once: a token read from a file ends in a newline, and HTTP clients strip the
 * whitespace around a header value anyway, so the trimmed token is what goes out.
 */
export function accessToken(location: EscLocation, name: string): AccessToken {
  const given = location.accessToken ?? process.env.PULUMI_ACCESS_TOKEN;
  const value = given?.trim();
  if (!given || !value) {
    throw new EscError(
      `no Pulumi access token for ${name}: set the accessToken input or PULUMI_ACCESS_TOKEN`,
    );
  }
  return { value, secrets: [given, value, `token ${value}`] };
}

/** `<apiUrl>/api/esc`, a custom URL's port and path kept. */
export function escApiBase(apiUrl: string | undefined): string {
  return `${(apiUrl ?? DEFAULT_API_URL).replace(/\/+$/, "")}/api/esc`;
}

export interface EscClient {
  /** Creates the environment (empty); `EscError` with status 409 when it exists already. */
  create(): Promise<void>;
  /** The YAML as stored (secrets as ciphertext) and its ETag; undefined when there is none. */
  read(): Promise<EscDocument | undefined>;
  /** Revision `revision` as stored; undefined when there is none. */
  readRevision(revision: number): Promise<EscDocument | undefined>;
  /** Saves `yaml` as a new revision only if the environment is still at `etag` (else 409). */
  update(yaml: string, etag: string): Promise<EscWritten>;
  remove(): Promise<void>;
  /** Opens the environment and returns `values.<key>` evaluated, secrets revealed. */
  openValue(key: string): Promise<unknown>;
}

interface EscValue {
  value?: unknown;
  secret?: boolean;
  unknown?: boolean;
}

/** An ESC `Value` tree as plain data. */
export function plainValue(v: EscValue | undefined): unknown {
  if (v === undefined || v === null) return undefined;
  const inner = v.value;
  if (Array.isArray(inner)) return inner.map((item) => plainValue(item as EscValue));
  if (inner !== null && typeof inner === "object") {
    return Object.fromEntries(
      Object.entries(inner as Record<string, EscValue>).map(([k, item]) => [k, plainValue(item)]),
    );
  }
  return inner;
}

export function escClient(
  location: EscLocation,
  secrets: readonly (string | undefined)[] = [],
): EscClient {
  // Loaded on first use: only ESC-backed resources need the SDK.

  const raw = require("@pulumi/esc-sdk/esc/raw") as typeof import("@pulumi/esc-sdk/esc/raw");
  const name = `${location.organization}/${location.project}/${location.environment}`;
  const token = accessToken(location, `ESC environment ${name}`);
  // The generated client, not EscApi: EscApi drops a custom URL's port and path (REFERENCE §7).
  const api = new raw.EscApi(
    new raw.Configuration({ accessToken: token.value, basePath: escApiBase(location.apiUrl) }),
  );
  const { organization: org, project, environment: env } = location;
  const known = [...token.secrets, ...secrets];
  const fail = (action: string, error: unknown) => translate(action, name, error, known);

  return {
    async create() {
      try {
        await api.createEnvironment(org, { project, name: env });
      } catch (error) {
        // Not a conflict between a read and a write (EscConflictError): the name is taken.
        if (statusOf(error) === 409) {
          throw new EscError(
            `creating ESC environment ${name} failed: it already exists (HTTP 409)`,
            {
              status: 409,
            },
          );
        }
        throw fail("creating", error);
      }
    },
    async read() {
      try {
        const response = await api.getEnvironment(org, project, env, AS_TEXT);
        return {
          yaml: String(response.data),
          ...revisionOf(response.headers),
          etag: etagOf(response.headers),
        };
      } catch (error) {
        if (statusOf(error) === 404) return undefined;
        throw fail("reading", error);
      }
    },
    async readRevision(revision) {
      try {
        const response = await api.getEnvironmentAtVersion(
          org,
          project,
          env,
          String(revision),
          AS_TEXT,
        );
        return { yaml: String(response.data), revision, etag: etagOf(response.headers) };
      } catch (error) {
        if (statusOf(error) === 404) return undefined;
        throw fail(`reading revision ${revision} of`, error);
      }
    },
    async update(yaml, etag) {
      // ESC's diagnostics may quote the document: keep its plaintext secrets out of messages.
      const fail = (action: string, error: unknown) =>
        translate(action, name, error, [...known, ...secretsIn(yaml)]);
      try {
        const response = await api.updateEnvironmentYaml(org, project, env, yaml, {
          headers: { "Content-Type": "application/x-yaml", ETag: etag },
        });
        const written = etagOf(response.headers);
        return { ...revisionOf(response.headers), ...(written ? { etag: written } : {}) };
      } catch (error) {
        throw fail("updating", error);
      }
    },
    async remove() {
      try {
        await api.deleteEnvironment(org, project, env);
      } catch (error) {
        if (statusOf(error) !== 404) throw fail("deleting", error);
      }
    },
    async openValue(key) {
      try {
        const opened = await api.openEnvironment(org, project, env);
        const read = await api.readOpenEnvironment(org, project, env, opened.data.id);
        return plainValue(read.data.properties?.[key] as EscValue | undefined);
      } catch (error) {
        throw fail("opening", error);
      }
    },
  };
}

/**
 * A definition is YAML text: without this, axios parses a body that is also JSON (`{}`, the
 * definition of a new environment) into an object, which reads back as "[object Object]".
 */
const AS_TEXT = {
  responseType: "text" as const,
  transformResponse: [(data: unknown) => data],
};

type Headers = Record<string, unknown> | undefined;

function etagOf(headers: Headers): string {
  return String(headers?.etag ?? "");
}

/** `{revision}` from `Pulumi-ESC-Revision`, or nothing when it is absent or not a number. */
function revisionOf(headers: Headers): { revision?: number } {
  const revision = Number(headers?.["pulumi-esc-revision"]);
  return Number.isInteger(revision) && revision > 0 ? { revision } : {};
}

function statusOf(error: unknown): number | undefined {
  return (error as { response?: { status?: number } })?.response?.status;
}

function translate(
  action: string,
  name: string,
  error: unknown,
  secrets: readonly (string | undefined)[],
): EscError {
  const status = statusOf(error);
  const data = (error as { response?: { data?: unknown } })?.response?.data;
  const detail = redact(
    describe(data) ?? (error instanceof Error ? error.message : String(error)),
    secrets,
  );
  const prefix = `${action} ESC environment ${name} failed`;
  if (status === 409) {
    return new EscConflictError(
      `${prefix}: it changed since it was read (HTTP 409); nothing was overwritten. Run again to ` +
        `work from its newest revision`,
      { status },
    );
  }
  const hint =
    status === 401 || status === 403
      ? "; check the access token and its permissions on the environment"
      : status === 404
        ? "; no such organization, project or environment"
        : "";
  return new EscError(`${prefix}${status ? ` (HTTP ${status})` : ""}: ${detail}${hint}`, {
    status,
  });
}

/** The API's error body as one line: `message`, or every diagnostic's summary. */
export function describe(data: unknown): string | undefined {
  if (typeof data === "string") {
    // A body read as text (documents are): the service's `{code, message}` is still JSON.
    const text = data.trim();
    if (text.startsWith("{")) {
      try {
        return describe(JSON.parse(text) as object) ?? text;
      } catch {
        return text;
      }
    }
    return text || undefined;
  }
  if (!data || typeof data !== "object") return undefined;
  const body = data as { message?: string; diagnostics?: { summary?: string; path?: string }[] };
  if (body.diagnostics?.length) {
    return body.diagnostics.map((d) => (d.path ? `${d.path}: ${d.summary}` : d.summary)).join("; ");
  }
  return body.message;
}
