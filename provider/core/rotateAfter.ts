/**
 * `rotateAfter`, pure: the durations it accepts, and whether a rotation is due given when the
 * password was last set, the duration and the time now. The clock is an argument.
 */
import { ValidationError } from "../errors";
import { isUnknown } from "./validate";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** The units `rotateAfter` accepts: minutes, hours, days. */
const UNITS: Readonly<Record<string, number>> = { m: MINUTE, h: HOUR, d: DAY };

/** The shortest `rotateAfter`: rotating more often than apps re-read credentials breaks them. */
export const MIN_ROTATE_AFTER_MS = HOUR;
/** The longest: ten years (larger numbers would only lose precision). */
export const MAX_ROTATE_AFTER_MS = 3650 * DAY;

const DURATION = /^([1-9]\d{0,8})([mhd])$/;

/** Milliseconds of `"<whole number><m|h|d>"` (e.g. `"90m"`, `"12h"`, `"30d"`); else undefined. */
export function parseDuration(text: string): number | undefined {
  const match = DURATION.exec(text);
  return match ? Number(match[1]) * UNITS[match[2]] : undefined;
}

/** Problems with a `rotateAfter` value; `[]` when absent, unknown (preview) or usable. */
export function rotateAfterProblems(value: unknown, path = "rotateAfter"): string[] {
  if (value === undefined || isUnknown(value)) return [];
  const ms = typeof value === "string" ? parseDuration(value) : undefined;
  if (ms === undefined) {
    return [
      `${path} must be a whole number followed by m (minutes), h (hours) or d (days), ` +
        `e.g. "30d" or "12h"`,
    ];
  }
  if (ms < MIN_ROTATE_AFTER_MS) return [`${path} must be at least 1h (60m)`];
  if (ms > MAX_ROTATE_AFTER_MS) return [`${path} must be at most 3650d`];
  return [];
}

/** `ms` as days, hours and minutes, largest first, e.g. `"2d 3h"`, `"45m"`, `"0m"`. */
export function formatDuration(ms: number): string {
  const minutes = Math.floor(Math.max(0, ms) / MINUTE);
  const parts = [
    [Math.floor(minutes / (24 * 60)), "d"],
    [Math.floor(minutes / 60) % 24, "h"],
    [minutes % 60, "m"],
  ] as const;
  const shown = parts.filter(([n]) => n > 0).map(([n, unit]) => `${n}${unit}`);
  return shown.length > 0 ? shown.join(" ") : "0m";
}

/** The latest of the valid times given (ISO 8601 text or dates); undefined when there is none. */
export function latestTime(times: readonly (string | Date | undefined)[]): Date | undefined {
  let latest: Date | undefined;
  for (const time of times) {
    if (time === undefined) continue;
    const date = new Date(time);
    if (Number.isNaN(date.getTime())) continue;
    if (!latest || date > latest) latest = date;
  }
  return latest;
}

export type RotationAge =
  /** Rotate: the password is at least `rotateAfter` old, or its age is not known. */
  | { readonly due: true; readonly reason: string }
  /** Not yet; it will be at `dueAt`. */
  | { readonly due: false; readonly dueAt: Date };

export interface RotationAgeInput {
  /** When the current password was set (rotated or adopted); undefined when not known. */
  readonly since?: Date;
  /** `rotateAfter`, validated. */
  readonly rotateAfter: string;
  readonly now: Date;
}

/**
 * Whether the password is old enough to rotate: due once `now - since >= rotateAfter`. A
 * password whose age is not known (no rotation or adoption time recorded) is due.
 */
export function rotationAge({ since, rotateAfter, now }: RotationAgeInput): RotationAge {
  const limit = parseDuration(rotateAfter)!;
  if (!since) {
    return {
      due: true,
      reason: `no rotation time is recorded, so the password's age is unknown (rotateAfter ${rotateAfter})`,
    };
  }
  const age = now.getTime() - since.getTime();
  if (age >= limit) {
    return {
      due: true,
      reason:
        `the password is ${formatDuration(age)} old (set ${since.toISOString()}), ` +
        `rotateAfter is ${rotateAfter}`,
    };
  }
  return { due: false, dueAt: new Date(since.getTime() + limit) };
}

/** The environment variable that moves the rotation clock ahead, for tests only. */
export const TEST_CLOCK_AHEAD_VARIABLE = "PULUMI_POSTGRES_ROTATOR_TEST_CLOCK_AHEAD";

/**
 * The time `rotateAfter` is measured at: `now`, moved ahead by `ahead` (the test-only variable's
 * value) when it is set. Only ahead: a moved clock can make a rotation come sooner, never
 * later. A value that is no duration is refused, so a typo never passes unnoticed.
 */
export function rotationNow(now: Date, ahead: string | undefined): Date {
  if (ahead === undefined || ahead === "") return now;
  const ms = parseDuration(ahead);
  if (ms === undefined) {
    throw new ValidationError([
      `${TEST_CLOCK_AHEAD_VARIABLE} must be a whole number followed by m, h or d (it is for ` +
        `tests only; unset it)`,
    ]);
  }
  return new Date(now.getTime() + ms);
}

/** One event of ESC's rotation history (`GET …/rotate/history`), as far as its times go. */
export interface EscRotationEvent {
  readonly created?: string;
  readonly completed?: string;
  readonly status?: string;
  readonly rotations?: readonly { readonly environmentPath?: string; readonly status?: string }[];
}

/**
 * When ESC last rotated the secret at `path` (the rotator's key under `values`): the latest
 * completion (else creation) time of a history event in which that path's rotation succeeded.
 * ESC keeps no time in the rotator's `state`; its rotation history is where it records one.
 */
export function lastEscRotation(
  events: readonly EscRotationEvent[],
  path: string,
): Date | undefined {
  const times = events
    .filter((event) =>
      (event.rotations ?? []).some((r) => r.environmentPath === path && r.status === "succeeded"),
    )
    .map((event) => event.completed ?? event.created);
  return latestTime(times);
}
