/**
 * What `postgresRotationProvider` does, one function per provider method: resolve inputs,
 * plan, execute, return outputs. Kept in its own module so that the serialized provider only
 * refers to this module by name instead of carrying its code (REFERENCE.md §5).
 */
import { randomUUID } from "node:crypto";
import type * as pulumi from "@pulumi/pulumi";
import { otherUser, planChange, sameJson, type RotatedState } from "../core/plan";
import {
  buildOutputs,
  changeViewOfInputs,
  changeViewOfOutputs,
  type RotationOutputs,
} from "../core/outputs";
import { generatePassword } from "../core/password";
import type { Credential, ResolvedInputs, RotationInputs, RotationState } from "../core/types";
import {
  DEFAULT_TIMEOUTS,
  findUnknown,
  inputProblems,
  isUnknown,
  resolveInputs,
} from "../core/validate";
import {
  TEST_CLOCK_AHEAD_VARIABLE,
  lastEscRotation,
  latestTime,
  rotateAfterProblems,
  rotationAge,
  rotationNow,
} from "../core/rotateAfter";
import { RotationError } from "../errors";
import { postgresShell, probeLogin, type PostgresShell } from "../postgres/shell";
import { verifyCurrent, type RotationDeps } from "./rotation";
import { lambdaShell } from "../connector/lambdaShell";
import { rotateKeepingEscState } from "./escRotation";
import { escStateStore } from "../esc/stateStore";
import { escRotationHistory } from "../esc/rotationHistory";
import { DEFAULT_ROTATOR_KEY } from "../esc/documents";

/** Direct, or through the connector Lambda when `database.connector` is given. */
function shellFor(
  inputs: ResolvedInputs,
  otherSecrets: readonly (string | undefined)[] = [],
): PostgresShell {
  const { database } = inputs;
  if (!database.connector) return postgresShell(inputs, otherSecrets);
  const known = [inputs.state?.current.password, inputs.state?.previous?.password];
  return lambdaShell(
    { ...database, connector: database.connector },
    inputs.timeouts,
    [...known, ...otherSecrets],
    {
      liveSessions: inputs.liveSessions,
      ownership: inputs.ownership,
      rotateUsers: inputs.rotateUsers,
      liveSessionsIdleSeconds: inputs.liveSessionsIdleSeconds,
    },
  );
}

function deps(inputs: ResolvedInputs, shell: PostgresShell, holder: string): RotationDeps {
  return {
    shell,
    newPassword: () => generatePassword(inputs.passwordPolicy),
    now: () => new Date(),
    holder,
  };
}

/** The adopted state with `previous` filled in by name when it was not given. */
function adopted(inputs: ResolvedInputs, state: RotationState): RotatedState {
  return {
    current: state.current,
    previous: state.previous ?? { username: otherUser(inputs.rotateUsers, state.current.username) },
  };
}

/** The old state carried into a new pair that still holds the current user. */
function repaired(inputs: ResolvedInputs, olds: RotationOutputs): RotatedState {
  const other = otherUser(inputs.rotateUsers, olds.current.username);
  return {
    current: olds.current,
    previous: olds.previous.username === other ? olds.previous : { username: other },
  };
}

/**
 * The one place the due-decision of `rotateAfter` reads the clock: the real time, moved ahead
 * only by the test-only variable (announced on every read, so it never goes unnoticed).
 */
export function rotationClock(): Date {
  const ahead = process.env[TEST_CLOCK_AHEAD_VARIABLE];
  const now = rotationNow(new Date(), ahead);
  if (ahead) {
    console.warn(
      `${TEST_CLOCK_AHEAD_VARIABLE}=${ahead}: rotateAfter is measured ${ahead} ahead of the ` +
        `real clock (for tests only)`,
    );
  }
  return now;
}

/**
 * Why `rotateAfter` asks for a rotation now; undefined when it is absent, not known yet
 * (preview), invalid (check reports it) or not due. The password's age runs from the last
 * rotation or adoption these outputs record and, with `esc` known, from ESC's last rotation
 * of the pair (its rotation history), whichever is later. ESC is asked only when the outputs
 * alone say due: a later time there can only make the password younger.
 */
export async function dueByAge(
  olds: RotationOutputs,
  news: { readonly rotateAfter?: unknown; readonly esc?: unknown },
): Promise<string | undefined> {
  const rotateAfter = news.rotateAfter;
  if (
    typeof rotateAfter !== "string" ||
    isUnknown(rotateAfter) ||
    rotateAfterProblems(rotateAfter).length > 0
  ) {
    return undefined;
  }
  const now = rotationClock();
  const ours = latestTime([olds.rotatedAt, olds.adoptedAt]);
  const local = rotationAge({ since: ours, rotateAfter, now });
  if (!local.due) return undefined;
  const esc = news.esc as RotationInputs["esc"];
  if (!esc || typeof esc !== "object" || findUnknown(esc)) return local.reason;
  const key = esc.key ?? DEFAULT_ROTATOR_KEY;
  const fromEsc = lastEscRotation(await escRotationHistory(esc), key);
  const age = rotationAge({ since: latestTime([ours, fromEsc]), rotateAfter, now });
  if (!age.due) return undefined;
  return fromEsc && (!ours || fromEsc > ours)
    ? `${age.reason}; ESC last rotated values.${key} at ${fromEsc.toISOString()}`
    : age.reason;
}

/** Tells the CLI (its output shows the provider's) why a rotation is pending. */
function announceDue(olds: RotationOutputs, reason: string): void {
  const { host, database } = olds.database ?? {};
  console.warn(
    `rotateAfter: rotating ${olds.rotateUsers?.username1}/${olds.rotateUsers?.username2} on ` +
      `${host}/${database} (current "${olds.currentUsername}"): ${reason}`,
  );
}

export async function check(
  _olds: Record<string, unknown>,
  news: Record<string, unknown>,
): Promise<pulumi.dynamic.CheckResult> {
  const failures = inputProblems(news).map((reason) => ({
    property: reason.split(/[.\s]/)[0],
    reason,
  }));
  return { inputs: news, failures };
}

export async function diff(
  _id: string,
  olds: RotationOutputs,
  news: RotationInputs,
): Promise<pulumi.dynamic.DiffResult> {
  const change = planChange(changeViewOfOutputs(olds), changeViewOfInputs(news));
  if (change.kind === "replace") {
    return { changes: true, replaces: ["rotateUsers"], deleteBeforeReplace: false };
  }
  // A rotation the trigger asks for, or a new state adopted, resets the age anyway.
  if (change.kind === "update" && (change.rotate || change.adopt)) return { changes: true };
  const due = await dueByAge(olds, news);
  if (due) announceDue(olds, due);
  return { changes: change.kind === "update" || due !== undefined };
}

export async function create(inputs: RotationInputs): Promise<pulumi.dynamic.CreateResult> {
  const resolved = resolveInputs(inputs);
  const shell = shellFor(resolved);
  if (resolved.state) {
    await verifyCurrent(resolved.state.current, shell);
    return {
      id: randomUUID(),
      outs: buildOutputs(
        resolved,
        adopted(resolved, resolved.state),
        undefined,
        {},
        new Date().toISOString(),
      ),
    };
  }
  const id = randomUUID();
  const result = await rotateKeepingEscState(resolved, undefined, deps(resolved, shell, id));
  return {
    id,
    outs: buildOutputs(resolved, result.state, result.rotatedAt, result.rotationIds),
  };
}

export async function update(
  id: string,
  olds: RotationOutputs,
  news: RotationInputs,
): Promise<pulumi.dynamic.UpdateResult> {
  const resolved = resolveInputs(news);
  const change = planChange(changeViewOfOutputs(olds), changeViewOfInputs(resolved));
  if (change.kind === "replace") {
    throw new RotationError("a pair without the current user needs a new resource, not an update");
  }
  const steps = change.kind === "update" ? change : { repair: false, adopt: false, rotate: false };
  // The diff found the password old enough (`rotateAfter`), or the trigger changed.
  const rotate = steps.rotate || (!steps.adopt && (await dueByAge(olds, resolved)) !== undefined);
  const shell = shellFor(resolved, [olds.current.password, olds.previous.password]);
  let state: RotatedState = steps.repair
    ? repaired(resolved, olds)
    : { current: olds.current, previous: olds.previous };
  let rotatedAt = olds.rotatedAt;
  let adoptedAt = olds.adoptedAt;
  let rotationIds = olds.rotationIds ?? {};
  if (steps.adopt && resolved.state) {
    await verifyCurrent(resolved.state.current, shell);
    state = adopted(resolved, resolved.state);
    rotatedAt = undefined;
    adoptedAt = new Date().toISOString();
    // Whichever rotation made the adopted state, this resource does not know its marks.
    rotationIds = {};
  }
  if (rotate) {
    const result = await rotateKeepingEscState(
      resolved,
      state,
      deps(resolved, shell, id),
      rotationIds,
    );
    state = result.state;
    rotatedAt = result.rotatedAt;
    rotationIds = result.rotationIds;
  }
  return { outs: buildOutputs(resolved, state, rotatedAt, rotationIds, adoptedAt) };
}

/**
 * Refresh: the outputs stand as long as `current` still logs in; otherwise a clear error. With
 * `esc` (and `PULUMI_ACCESS_TOKEN` set: the token input is not kept in the outputs), ESC's
 * newer state replaces the outputs once it is proven to log in.
 */
export async function read(id: string, props: RotationOutputs): Promise<pulumi.dynamic.ReadResult> {
  const { host, port, database, ssl, connector } = props.database;
  const timeouts = { ...DEFAULT_TIMEOUTS, ...props.timeouts };
  const target = { host, port, database, ssl };
  const shell = connector
    ? lambdaShell({ ...target, connector }, timeouts)
    : { checkLogin: (credential: Credential) => probeLogin(target, timeouts, credential) };
  let outputs = props;
  if (props.esc && process.env.PULUMI_ACCESS_TOKEN) {
    const fromEsc = (await escStateStore(props.esc).read(props.rotateUsers)).state;
    if (fromEsc && !sameJson(fromEsc.current, props.current)) {
      const previous = fromEsc.previous ?? {
        username: otherUser(props.rotateUsers, fromEsc.current.username),
      };
      outputs = {
        ...props,
        current: fromEsc.current,
        previous,
        currentUsername: fromEsc.current.username,
        previousUsername: previous.username,
      };
    }
  }
  await verifyCurrent(outputs.current, shell);
  return { id, props: outputs };
}

/** Deleting the resource leaves both database roles and their passwords as they are. */
export async function remove(): Promise<void> {}
