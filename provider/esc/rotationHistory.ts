/**
 * ESC's rotation history of one environment (`GET <api>/api/esc/environments/{org}/{project}/
 * {env}/rotate/history`, answered `{events: SecretRotationEvent[]}`; `@pulumi/esc-sdk` has no
 * call for it, the path and shape are the Pulumi Cloud API's). Read by `rotateAfter` to learn
 * when ESC last rotated the pair. Failures become `EscError`, never naming the token.
 */
import type { EscRotationEvent } from "../core/rotateAfter";
import { EscError, redact, sanitizeCause } from "../errors";
import { accessToken, describe, escApiBase, type EscLocation } from "./client";

/** How long the request may take. */
const REQUEST_TIMEOUT_MS = 30_000;

/**
 * The environment's rotation events, newest first as the service lists them. None when the
 * organization's rotation feature is off (HTTP 403): ESC cannot have rotated anything then.
 */
export async function escRotationHistory(location: EscLocation): Promise<EscRotationEvent[]> {
  const { organization: org, project, environment: env } = location;
  const name = `${org}/${project}/${env}`;
  const token = accessToken(location, `ESC environment ${name}`);
  const url =
    `${escApiBase(location.apiUrl)}/environments/` +
    [org, project, env].map(encodeURIComponent).join("/") +
    "/rotate/history";
  const fail = (why: string, status?: number, cause?: unknown) =>
    new EscError(`reading the rotation history of ESC environment ${name} failed${why}`, {
      ...(status !== undefined ? { status } : {}),
      ...(cause !== undefined ? { cause: sanitizeCause(cause, token.secrets) } : {}),
    });
  let response: Response;
  try {
    response = await fetch(url, {
      headers: { Authorization: `token ${token.value}`, Accept: "application/json" },
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  } catch (error) {
    throw fail(
      `: ${redact(error instanceof Error ? error.message : String(error), token.secrets)}`,
      undefined,
      error,
    );
  }
  const text = await response.text();
  if (response.status === 403) return [];
  if (!response.ok) {
    let said: string | undefined;
    try {
      said = describe(JSON.parse(text));
    } catch {
      said = describe(text);
    }
    const hint = response.status === 401 ? "; check the access token" : "";
    throw fail(
      ` (HTTP ${response.status})${said ? `: ${redact(said, token.secrets)}` : ""}${hint}`,
      response.status,
    );
  }
  try {
    const events = (JSON.parse(text) as { events?: unknown }).events;
    return Array.isArray(events) ? (events as EscRotationEvent[]) : [];
  } catch {
    throw fail(": the answer is not JSON", response.status);
  }
}
