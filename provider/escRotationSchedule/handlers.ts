/**
 * What `escRotationScheduleProvider` does, one function per provider method. One ESC rotation
 * schedule on a rotator environment (ESC allows one per environment), kept as declared:
 *
 * - every input is checked before any request, each problem naming its input path;
 * - create refuses to take over a schedule someone else made (it names its id);
 * - a schedule change is an update (PATCH); another environment or API URL is a replacement,
 *   deleted first, because the environment can hold one schedule only;
 * - `pulumi refresh` reads the schedule back: a change made outside shows as a diff, a schedule
 *   deleted outside makes the resource gone.
 */
import type * as pulumi from "@pulumi/pulumi";
import {
  isoTime,
  sameSchedule,
  scheduleOf,
  scheduleProblems,
  scheduleRequest,
  type RotationSchedule,
  type ScheduledAction,
} from "../core/schedule";
import { escLocationProblems } from "../core/validate";
import { EscError, ValidationError } from "../errors";
import type { EscLocation } from "../esc/client";
import { escScheduleClient, type EscScheduleClient } from "../esc/schedules";

export interface EscRotationScheduleInputs {
  readonly organization: string;
  readonly project: string;
  readonly environment: string;
  readonly schedule: RotationSchedule;
  readonly accessToken?: string;
  readonly apiUrl?: string;
}

/** The inputs (the token stays secret) and what ESC answered. */
export interface EscRotationScheduleOutputs extends EscRotationScheduleInputs {
  /** The schedule's id in ESC (also the resource id). */
  readonly scheduleId: string;
  /** When ESC rotates next, ISO 8601; "" when it will not (a one-time schedule that ran). */
  readonly nextExecution: string;
  /** True while the schedule is paused (`pulumi env schedule` or the console). */
  readonly paused: boolean;
}

/**
 * Every problem with the inputs, each naming its input path. With `now`, a one-time schedule
 * must lie after it (checked on create and when it changes, never on a later preview).
 */
export function inputProblems(inputs: Record<string, unknown>, now?: Date): string[] {
  const problems = escLocationProblems(inputs, ["organization", "project", "environment"]);
  problems.push(...scheduleProblems(inputs.schedule, "schedule", now));
  const token = inputs.accessToken;
  if (token !== undefined && (typeof token !== "string" || token.trim().length === 0)) {
    problems.push("accessToken must be a non-empty string");
  }
  return problems;
}

function client(inputs: EscRotationScheduleInputs): EscScheduleClient {
  const location: EscLocation = {
    organization: inputs.organization,
    project: inputs.project,
    environment: inputs.environment,
    ...(inputs.accessToken ? { accessToken: inputs.accessToken } : {}),
    ...(inputs.apiUrl ? { apiUrl: inputs.apiUrl } : {}),
  };
  return escScheduleClient(location);
}

const nameOf = (i: EscRotationScheduleInputs) => `${i.organization}/${i.project}/${i.environment}`;

function outputs(
  inputs: EscRotationScheduleInputs,
  answer: ScheduledAction,
): EscRotationScheduleOutputs {
  return {
    ...inputs,
    scheduleId: answer.id,
    nextExecution: isoTime(answer.nextExecution),
    paused: answer.paused === true,
  };
}

export async function check(
  _olds: Record<string, unknown>,
  news: Record<string, unknown>,
): Promise<pulumi.dynamic.CheckResult> {
  return {
    inputs: news,
    failures: inputProblems(news).map((reason) => ({
      property: reason.split(/[ .:]/)[0],
      reason,
    })),
  };
}

export async function diff(
  _id: string,
  olds: EscRotationScheduleOutputs,
  news: EscRotationScheduleInputs,
): Promise<pulumi.dynamic.DiffResult> {
  const replaces = (["organization", "project", "environment", "apiUrl"] as const).filter(
    (k) => (olds[k] ?? "") !== (news[k] ?? ""),
  );
  const changed =
    replaces.length > 0 ||
    !sameSchedule(olds.schedule, news.schedule) ||
    (olds.accessToken ?? "") !== (news.accessToken ?? "");
  // One schedule per environment: the old one must go before its replacement is made.
  return { changes: changed, replaces, deleteBeforeReplace: true };
}

export async function create(
  inputs: EscRotationScheduleInputs,
): Promise<pulumi.dynamic.CreateResult> {
  const problems = inputProblems(inputs as unknown as Record<string, unknown>, new Date());
  if (problems.length > 0) throw new ValidationError(problems);
  const esc = client(inputs);
  const [existing] = await esc.list();
  if (existing) {
    throw new EscError(
      `ESC environment ${nameOf(inputs)} already has a rotation schedule (${existing.id}), and ` +
        `ESC allows one per environment; nothing was changed. Remove it (\`pulumi env schedule ` +
        `rm ${nameOf(inputs)} ${existing.id}\`) to manage the schedule here`,
      { status: 409 },
    );
  }
  const created = await esc.create(scheduleRequest(inputs.schedule));
  return { id: created.id, outs: outputs(inputs, created) };
}

export async function update(
  id: string,
  olds: EscRotationScheduleOutputs,
  news: EscRotationScheduleInputs,
): Promise<pulumi.dynamic.UpdateResult> {
  // The shape first: comparing a schedule that is not one would fail with a TypeError.
  const shape = inputProblems(news as unknown as Record<string, unknown>);
  if (shape.length > 0) throw new ValidationError(shape);
  const moved = !sameSchedule(olds.schedule, news.schedule);
  const problems = moved
    ? inputProblems(news as unknown as Record<string, unknown>, new Date())
    : [];
  if (problems.length > 0) throw new ValidationError(problems);
  if (!moved) {
    // Only the token changed: nothing to tell ESC (a one-time schedule may have run already).
    return {
      outs: { ...news, scheduleId: id, nextExecution: olds.nextExecution, paused: olds.paused },
    };
  }
  try {
    const answer = await client(news).update(id, scheduleRequest(news.schedule));
    return { outs: outputs(news, answer) };
  } catch (error) {
    if (error instanceof EscError && error.status === 404) {
      throw new EscError(
        `the rotation schedule ${id} of ESC environment ${nameOf(news)} no longer exists ` +
          `(deleted outside Pulumi?); run \`pulumi refresh\`, then \`pulumi up\` to create it again`,
        { status: 404, cause: error },
      );
    }
    throw error;
  }
}

export async function read(
  id: string,
  props: EscRotationScheduleOutputs,
): Promise<pulumi.dynamic.ReadResult> {
  const found = await client(props).get(id);
  if (!found) return { id: undefined as unknown as string, props: {} };
  return {
    id,
    props: {
      ...outputs(props, found),
      schedule: scheduleOf(found, props.schedule) ?? props.schedule,
    },
  };
}

export async function remove(id: string, props: EscRotationScheduleOutputs): Promise<void> {
  await client(props).remove(id);
}
