import * as pulumi from "@pulumi/pulumi";
import * as escRotationScheduleProvider from "./escRotationScheduleProvider";
import { asPluginResource } from "../registration";

/** A recurring rotation. */
export interface EscScheduleCronArgs {
  /**
   * A 5-field cron expression (minute hour day-of-month month day-of-week) that runs at most
   * once a day, ESC's minimum interval: the minute and the hour are single numbers; the other
   * fields take `*`, numbers, ranges, lists and steps. Pulumi Cloud evaluates it; its time
   * zone is not documented for environment schedules.
   * @example "0 3 * * *" // 03:00 every day
   * @example "30 4 * * 1" // 04:30 every Monday
   */
  readonly cron: pulumi.Input<string>;
}

/** A single rotation. */
export interface EscScheduleOnceArgs {
  /**
   * An ISO 8601 (RFC 3339) date-time with seconds and a zone, in the future when the schedule
   * is created or changed.
   * @example "2026-12-01T03:00:00Z"
   */
  readonly once: pulumi.Input<string>;
}

export interface EscRotationScheduleArgs {
  /**
   * Pulumi Cloud organization of the rotator environment.
   * @example "acme"
   */
  readonly organization: pulumi.Input<string>;
  /**
   * ESC project of the rotator environment.
   * @example "payments"
   */
  readonly project: pulumi.Input<string>;
  /**
   * The rotator environment (the one holding `fn::rotate::postgres`). Every rotated secret in
   * it is rotated. ESC allows one schedule per environment.
   * @example "db-rotator"
   */
  readonly environment: pulumi.Input<string>;
  /**
   * When ESC rotates: `{ cron }` on a schedule, at most daily, or `{ once }` at one date-time.
   * Changing it updates the schedule in place.
   * @example { cron: "0 3 * * *" }
   * @example { once: "2026-12-01T03:00:00Z" }
   */
  readonly schedule: pulumi.Input<EscScheduleCronArgs | EscScheduleOnceArgs>;
  /**
   * Pulumi access token allowed to manage the environment's schedules. Stored encrypted in the
   * Pulumi state.
   * @default `PULUMI_ACCESS_TOKEN` of the process running `pulumi up`
   * @example config.requireSecret("pulumiAccessToken")
   */
  readonly accessToken?: pulumi.Input<string>;
  /**
   * Pulumi Cloud API URL, for self-hosted Pulumi Cloud; a port and a path are kept.
   * @default "https://api.pulumi.com"
   * @example "https://api.pulumi.example.com"
   */
  readonly apiUrl?: pulumi.Input<string>;
}

/** Outputs that may hold a secret. */
export const ESC_SCHEDULE_SECRET_OUTPUTS = ["accessToken"];

/**
 * Pulumi ESC's rotation schedule on a rotator environment: ESC rotates its secrets on a cron
 * schedule (at most daily) or once, as `pulumi env schedule new` would set up. Deleting the
 * resource deletes the schedule; `pulumi refresh` shows a schedule changed outside Pulumi and
 * forgets one deleted outside.
 */
export class EscRotationSchedule extends pulumi.dynamic.Resource {
  /** The schedule's id in ESC. */
  declare readonly scheduleId: pulumi.Output<string>;
  /** When ESC rotates next (ISO 8601); "" when it will not. */
  declare readonly nextExecution: pulumi.Output<string>;
  /** True while the schedule is paused in ESC. */
  declare readonly paused: pulumi.Output<boolean>;
  declare readonly schedule: pulumi.Output<{ cron: string } | { once: string }>;
  declare readonly organization: pulumi.Output<string>;
  declare readonly project: pulumi.Output<string>;
  declare readonly environment: pulumi.Output<string>;

  constructor(name: string, args: EscRotationScheduleArgs, opts?: pulumi.CustomResourceOptions) {
    const props = {
      ...args,
      accessToken: args.accessToken === undefined ? undefined : pulumi.secret(args.accessToken),
      scheduleId: undefined,
      nextExecution: undefined,
      paused: undefined,
    };
    const options = pulumi.mergeOptions(opts, {
      additionalSecretOutputs: ESC_SCHEDULE_SECRET_OUTPUTS,
    });
    const served = asPluginResource<EscRotationSchedule>(
      "EscRotationSchedule",
      name,
      props,
      options,
    );
    if (served) return served;
    super(
      escRotationScheduleProvider,
      name,
      props,
      options,
      "postgres-rotator",
      "EscRotationSchedule",
    );
  }
}
