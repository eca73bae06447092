/**
 * The thin shell around ESC's rotation schedules
 * (`<api>/api/esc/environments/{org}/{project}/{env}/schedules`, with `fetch`): list, create,
 * read, update, delete. `@pulumi/esc-sdk` has no schedule calls; the paths and bodies are those
 * of the ESC CLI's client and Pulumi Cloud's OpenAPI spec. Failures become `EscError` naming
 * the environment and what to do, never the token: 403 means the organization's secret rotation
 * feature is off.
 */
import type { ScheduleRequest, ScheduledAction } from "../core/schedule";
import { EscError, redact, sanitizeCause } from "../errors";
import { accessToken, describe, escApiBase, type EscLocation } from "./client";

/** How long one request may take. */
const REQUEST_TIMEOUT_MS = 30_000;

export interface EscScheduleClient {
  /** The environment's schedules (ESC allows one). */
  list(): Promise<ScheduledAction[]>;
  create(request: ScheduleRequest): Promise<ScheduledAction>;
  /** The schedule; undefined when there is none with that id. */
  get(id: string): Promise<ScheduledAction | undefined>;
  update(id: string, request: ScheduleRequest): Promise<ScheduledAction>;
  /** Deletes the schedule; one that is already gone is fine. */
  remove(id: string): Promise<void>;
}

export function escScheduleClient(location: EscLocation): EscScheduleClient {
  const { organization: org, project, environment: env } = location;
  const name = `${org}/${project}/${env}`;
  const { value: token, secrets } = accessToken(location, `ESC environment ${name}`);
  const base =
    `${escApiBase(location.apiUrl)}/environments/` +
    [org, project, env].map(encodeURIComponent).join("/") +
    "/schedules";

  /** One call: the parsed body of a 2xx answer, undefined for a tolerated status. */
  async function call(
    action: string,
    method: string,
    suffix: string,
    body?: ScheduleRequest,
    tolerated?: number,
  ): Promise<unknown> {
    let response: Response;
    try {
      response = await fetch(`${base}${suffix}`, {
        method,
        headers: {
          Authorization: `token ${token}`,
          Accept: "application/json",
          ...(body ? { "Content-Type": "application/json" } : {}),
        },
        ...(body ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch (error) {
      const why = redact(error instanceof Error ? error.message : String(error), secrets);
      throw new EscError(`${action} ${where(name)} failed: ${why}`, {
        cause: sanitizeCause(error, secrets),
      });
    }
    const text = await response.text();
    if (response.status === tolerated) return undefined;
    if (!response.ok) {
      throw scheduleError(action, name, org, response.status, redact(detail(text), secrets));
    }
    try {
      return text ? JSON.parse(text) : undefined;
    } catch {
      throw new EscError(`${action} ${where(name)} failed: the answer is not JSON`, {
        status: response.status,
      });
    }
  }
  const action = (value: unknown, what: string): ScheduledAction => {
    const found = value as ScheduledAction | undefined;
    if (typeof found?.id !== "string" || !found.id) {
      throw new EscError(`${what} ${where(name)} failed: the answer has no schedule id`);
    }
    return found;
  };
  const one = (id: string) => `/${encodeURIComponent(id)}`;

  return {
    async list() {
      const answer = (await call("listing", "GET", "")) as { schedules?: ScheduledAction[] };
      return answer?.schedules ?? [];
    },
    async create(request) {
      return action(await call("creating", "POST", "", request), "creating");
    },
    async get(id) {
      const answer = await call("reading", "GET", one(id), undefined, 404);
      return answer === undefined ? undefined : action(answer, "reading");
    },
    async update(id, request) {
      return action(await call("updating", "PATCH", one(id), request), "updating");
    },
    async remove(id) {
      await call("deleting", "DELETE", one(id), undefined, 404);
    },
  };
}

const where = (name: string) => `the rotation schedule of ESC environment ${name}`;

function detail(text: string): string {
  try {
    return describe(JSON.parse(text)) ?? "";
  } catch {
    return describe(text) ?? "";
  }
}

function scheduleError(
  action: string,
  name: string,
  org: string,
  status: number,
  body: string,
): EscError {
  const prefix = `${action} ${where(name)} failed (HTTP ${status})`;
  const said = body ? `: ${body}` : "";
  const message =
    status === 403
      ? `${prefix}: the secret rotation feature is not enabled for organization "${org}" (or ` +
        `the access token may not manage this environment's schedules)`
      : status === 409
        ? `${prefix}${said}; ESC allows one rotation schedule per environment: remove the other ` +
          `one (\`pulumi env schedule ls ${name}\`, then \`pulumi env schedule rm\`) or manage ` +
          `it from here`
        : status === 401
          ? `${prefix}${said}; check the access token`
          : status === 404
            ? `${prefix}${said}; no such organization, project, environment or schedule`
            : `${prefix}${said}`;
  return new EscError(message, { status });
}
