/**
 * ESC rotation schedules, pure: which schedules ESC accepts (a 5-field cron that runs at most
 * once a day, or one date-time), the request body of the schedules API, and the service's answer
 * read back. The clock is an argument.
 */
import { isUnknown } from "./validate";

/** When ESC rotates: on a cron schedule, or once at an ISO 8601 date-time. */
export type RotationSchedule = { readonly cron: string } | { readonly once: string };

/** The body of `POST|PATCH …/schedules[/{id}]`. An empty `environmentPath` rotates them all. */
export interface ScheduleRequest {
  readonly scheduleCron?: string;
  readonly scheduleOnce?: string;
  readonly secretRotationRequest: { readonly environmentPath: string };
}

/** What the service answers with (its `ScheduledAction`), as far as a schedule needs it. */
export interface ScheduledAction {
  readonly id: string;
  readonly paused?: boolean;
  readonly nextExecution?: string;
  readonly lastExecuted?: string;
  readonly scheduleCron?: string;
  readonly scheduleOnce?: string;
}

const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-](\d{2}):(\d{2}))$/;

/** The instant of an RFC 3339 date-time (ISO 8601 with seconds and a zone); else undefined. */
export function parseDateTime(text: string): Date | undefined {
  const m = RFC3339.exec(text);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number);
  const calendar = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  const real =
    calendar.getUTCFullYear() === year &&
    calendar.getUTCMonth() === month - 1 &&
    calendar.getUTCDate() === day &&
    hour < 24 &&
    minute < 60 &&
    second < 60 &&
    (m[9] === undefined || (Number(m[9]) < 24 && Number(m[10]) < 60));
  return real ? new Date(text) : undefined;
}

/**
 * A time as the service writes it (`2006-01-02 15:04:05.000`, UTC without a zone) or as
 * RFC 3339; undefined for "" (never) or anything else.
 */
export function parseServiceTime(text: string | undefined): Date | undefined {
  if (!text) return undefined;
  const service = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}(\.\d+)?)$/.exec(text);
  return parseDateTime(service ? `${service[1]}T${service[2]}Z` : text);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

const FIELD = /^(\*|\d+(-\d+)?)(\/\d+)?$/;

/** `*`, `n`, `a-b`, `*\/s`, `a-b/s` or a comma list of those, every number within [min, max]. */
function isCronField(field: string, min: number, max: number): boolean {
  return field.split(",").every((part) => {
    if (!FIELD.test(part)) return false;
    const [range, step] = part.split("/");
    const bounds = range === "*" ? [min, max] : range.split("-").map(Number);
    const [from, to = from] = bounds;
    return from >= min && to <= max && from <= to && (step === undefined || Number(step) >= 1);
  });
}

const isFixed = (field: string, max: number) => /^\d{1,2}$/.test(field) && Number(field) <= max;

/**
 * Problems with a cron expression ESC accepts for rotations: exactly 5 fields (minute, hour,
 * day of month, month, day of week) that run at most once a day, so the minute and the hour
 * are single numbers; the other fields numeric (`*`, numbers, ranges, lists, steps).
 */
export function cronProblems(cron: unknown, path: string): string[] {
  if (isUnknown(cron)) return [];
  if (typeof cron !== "string") return [`${path} must be a string`];
  const fields = cron.trim().split(/\s+/).filter(Boolean);
  if (fields.length !== 5) {
    return [
      `${path} must have exactly 5 fields (minute hour day-of-month month day-of-week), ` +
        `not ${fields.length}, e.g. "0 3 * * *" for 03:00 every day`,
    ];
  }
  const [minute, hour, dom, month, dow] = fields;
  const problems: string[] = [];
  const daily = "ESC rotates at most once a day";
  if (!isFixed(minute, 59)) {
    problems.push(
      `${path}: the minute must be one number from 0 to 59 (${daily}), not "${minute}"`,
    );
  }
  if (!isFixed(hour, 23)) {
    problems.push(`${path}: the hour must be one number from 0 to 23 (${daily}), not "${hour}"`);
  }
  const others: [string, string, number, number][] = [
    [dom, "day of month", 1, 31],
    [month, "month", 1, 12],
    [dow, "day of week", 0, 7],
  ];
  for (const [value, what, min, max] of others) {
    if (!isCronField(value, min, max)) {
      problems.push(
        `${path}: the ${what} must be *, a number from ${min} to ${max}, a range, a list or a ` +
          `step, not "${value}"`,
      );
    }
  }
  return problems;
}

/** Problems with a one-time rotation's date-time; with `now`, it must also lie after it. */
export function onceProblems(once: unknown, path: string, now?: Date): string[] {
  if (isUnknown(once)) return [];
  const at = typeof once === "string" ? parseDateTime(once) : undefined;
  if (!at) {
    return [
      `${path} must be an ISO 8601 date-time with seconds and a zone, e.g. "2026-12-01T03:00:00Z"`,
    ];
  }
  if (now && at.getTime() <= now.getTime()) {
    return [`${path} must be in the future: ${once} has passed`];
  }
  return [];
}

/**
 * Problems with a `schedule` input: `{cron}` or `{once}`, exactly one, each valid; a `once`
 * must lie after `now` when given (on create, and on an update that changes it).
 */
export function scheduleProblems(schedule: unknown, path: string, now?: Date): string[] {
  if (isUnknown(schedule)) return [];
  const usage = `{cron: "<minute> <hour> <day> <month> <weekday>"} or {once: "<ISO 8601 date-time>"}`;
  if (!isObject(schedule)) return [`${path} must be ${usage}`];
  const hasCron = schedule.cron !== undefined;
  const hasOnce = schedule.once !== undefined;
  if (hasCron === hasOnce) {
    return [`${path} must have exactly one of cron and once: ${usage}`];
  }
  return hasCron
    ? cronProblems(schedule.cron, `${path}.cron`)
    : onceProblems(schedule.once, `${path}.once`, now);
}

/**
 * The arm a valid schedule is, a key given as `undefined` read as absent (as `scheduleProblems`
 * reads it): `{ once, cron: undefined }` is a one-time schedule.
 */
function armOf(schedule: RotationSchedule): { cron: string } | { once: string } {
  const { cron, once } = schedule as { cron?: string; once?: string };
  return cron !== undefined ? { cron } : { once: once! };
}

/** The API request for a valid schedule, rotating every rotated secret of the environment. */
export function scheduleRequest(schedule: RotationSchedule): ScheduleRequest {
  const secretRotationRequest = { environmentPath: "" };
  const arm = armOf(schedule);
  return "cron" in arm
    ? { scheduleCron: normalCron(arm.cron), secretRotationRequest }
    : { scheduleOnce: parseDateTime(arm.once)!.toISOString(), secretRotationRequest };
}

const normalCron = (cron: string) => cron.trim().split(/\s+/).join(" ");

/** True when both schedules fire at the same times (same cron fields, or the same instant). */
export function sameSchedule(first: RotationSchedule, second: RotationSchedule): boolean {
  const [a, b] = [armOf(first), armOf(second)];
  if ("cron" in a && "cron" in b) return normalCron(a.cron) === normalCron(b.cron);
  if ("once" in a && "once" in b) {
    return parseServiceTime(a.once)?.getTime() === parseServiceTime(b.once)?.getTime();
  }
  return false;
}

/**
 * The schedule an answer describes. `recorded` is kept as written when it fires at the same
 * times, so a refresh shows a change only when there is one.
 */
export function scheduleOf(
  action: ScheduledAction,
  recorded?: RotationSchedule,
): RotationSchedule | undefined {
  const found: RotationSchedule | undefined = action.scheduleCron
    ? { cron: action.scheduleCron }
    : action.scheduleOnce
      ? { once: parseServiceTime(action.scheduleOnce)?.toISOString() ?? action.scheduleOnce }
      : undefined;
  if (!found) return undefined;
  return recorded && sameSchedule(found, recorded) ? recorded : found;
}

/** A service time as ISO 8601, "" when there is none. */
export function isoTime(text: string | undefined): string {
  return parseServiceTime(text)?.toISOString() ?? "";
}
