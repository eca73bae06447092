/**
 * What `postgresUserPairProvider` does, one function per provider method: resolve the inputs,
 * ask the shell to apply them (the pure core plans, the shell executes in one transaction),
 * record the outputs. Kept apart so the serialized provider refers to it by name only.
 */
import { randomUUID } from "node:crypto";
import type * as pulumi from "@pulumi/pulumi";
import { generatePassword } from "../core/password";
import type { UserPair } from "../core/types";
import {
  buildUserPairOutputs,
  initialStateOf,
  pairDrift,
  planPairChange,
  resolveUserPairInputs,
  snapshotOf,
  userPairInputProblems,
  type ResolvedUserPairInputs,
  type UserPairInputs,
  type UserPairOutputs,
} from "../core/userPair";
import { resolveDatabase, resolveTimeouts } from "../core/validate";
import { lambdaUserPairShell } from "../connector/lambdaShell";
import {
  postgresUserPairShell,
  type UserPairShell,
  type UserPairTarget,
} from "../postgres/userPairShell";

/** Direct, or through the connector Lambda when `database.connector` is given. */
function shellFor(target: UserPairTarget, secrets: readonly (string | undefined)[]): UserPairShell {
  const { database } = target;
  return database.connector
    ? lambdaUserPairShell(
        { ...target, database: { ...database, connector: database.connector } },
        secrets,
      )
    : postgresUserPairShell(target, secrets);
}

/** How to reach the database again from the outputs alone (refresh and delete get no inputs). */
function targetOf(outputs: UserPairOutputs): UserPairTarget {
  const { managingUser, ...rest } = outputs.database;
  return {
    database: resolveDatabase({
      ...rest,
      managingUser: { username: managingUser.username, password: outputs.managingPassword },
    }),
    timeouts: resolveTimeouts(outputs.timeouts),
    scramIterations: outputs.scramIterations,
  };
}

function names(users: UserPair): string[] {
  return [users.username1, users.username2];
}

function freshPasswords(inputs: ResolvedUserPairInputs): Record<string, string> {
  return Object.fromEntries(
    names(inputs.rotateUsers).map((u) => [u, generatePassword(inputs.passwordPolicy)]),
  );
}

function pick(passwords: Readonly<Record<string, string>>, users: readonly string[]) {
  return Object.fromEntries(Object.entries(passwords).filter(([u]) => users.includes(u)));
}

export async function check(
  _olds: Record<string, unknown>,
  news: Record<string, unknown>,
): Promise<pulumi.dynamic.CheckResult> {
  const failures = userPairInputProblems(news).map((reason) => ({
    property: reason.split(/[.[\s]/)[0],
    reason,
  }));
  return { inputs: news, failures };
}

export async function diff(
  _id: string,
  olds: UserPairOutputs,
  news: Record<string, unknown>,
): Promise<pulumi.dynamic.DiffResult> {
  switch (planPairChange(olds, news)) {
    case "replace":
      return { changes: true, replaces: ["rotateUsers"], deleteBeforeReplace: false };
    case "update":
      return { changes: true };
    case "none":
      return { changes: false };
  }
}

export async function create(inputs: UserPairInputs): Promise<pulumi.dynamic.CreateResult> {
  const resolved = resolveUserPairInputs(inputs);
  const passwords = freshPasswords(resolved);
  const shell = shellFor(resolved, Object.values(passwords));
  const { created, observation } = await shell.apply(
    {
      users: resolved.rotateUsers,
      memberOf: resolved.memberOf,
      ...(resolved.connectionLimit !== undefined
        ? { connectionLimit: resolved.connectionLimit }
        : {}),
      ...(resolved.settings !== undefined ? { settings: resolved.settings } : {}),
      revokeOtherMembershipsOf: [],
    },
    passwords,
  );
  const kept = pick(passwords, created);
  const initialState = initialStateOf(resolved.rotateUsers, kept);
  return {
    id: randomUUID(),
    outs: buildUserPairOutputs(resolved, {
      created,
      passwords: kept,
      ...(initialState ? { initialState } : {}),
      observed: snapshotOf(observation, resolved.rotateUsers),
    }),
  };
}

export async function update(
  _id: string,
  olds: UserPairOutputs,
  news: UserPairInputs,
): Promise<pulumi.dynamic.UpdateResult> {
  const resolved = resolveUserPairInputs(news);
  const pair = names(resolved.rotateUsers);
  const managed = names(olds.rotateUsers).filter((u) => pair.includes(u));
  const passwords = freshPasswords(resolved);
  const shell = shellFor(resolved, [...Object.values(passwords), ...Object.values(olds.passwords)]);
  const resetSettings = Object.keys(olds.settings ?? {}).filter(
    (name) => !(name in (resolved.settings ?? {})),
  );
  const { created, observation } = await shell.apply(
    {
      users: resolved.rotateUsers,
      memberOf: resolved.memberOf,
      ...(resolved.connectionLimit !== undefined
        ? { connectionLimit: resolved.connectionLimit }
        : {}),
      ...(resolved.settings !== undefined ? { settings: resolved.settings } : {}),
      resetSettings,
      revokeOtherMembershipsOf: managed,
    },
    passwords,
  );
  // A user that left the pair is released: kept in the database, no longer dropped by us.
  const ours = [...new Set([...olds.created.filter((u) => pair.includes(u)), ...created])];
  const kept = { ...pick(olds.passwords, pair), ...pick(passwords, created) };
  const initial = olds.initialState;
  const stillPair =
    initial && pair.includes(initial.current.username) && pair.includes(initial.previous.username);
  return {
    outs: buildUserPairOutputs(resolved, {
      created: ours,
      passwords: kept,
      ...(stillPair ? { initialState: initial } : {}),
      observed: snapshotOf(observation, resolved.rotateUsers),
    }),
  };
}

/**
 * Refresh: the pair as it is now, against the pair as last applied. Changes made outside Pulumi
 * are listed in `drift` (and the outputs stay as applied), so the next `up` repairs them.
 */
export async function read(id: string, props: UserPairOutputs): Promise<pulumi.dynamic.ReadResult> {
  const target = targetOf(props);
  const shell = shellFor(target, Object.values(props.passwords));
  const observation = await shell.observe(props.rotateUsers, props.memberOf);
  const now = snapshotOf(observation, props.rotateUsers);
  return { id, props: { ...props, drift: pairDrift(props.observed, now) } };
}

/**
 * Delete keeps both users unless `deleteUsersOnDestroy`; then it drops the users this resource
 * created (never one it adopted), refusing while either has sessions or owns objects.
 */
export async function remove(_id: string, props: UserPairOutputs): Promise<void> {
  if (!props.deleteUsersOnDestroy) return;
  const ours = props.created.filter((u) => names(props.rotateUsers).includes(u));
  if (ours.length === 0) return;
  await shellFor(targetOf(props), Object.values(props.passwords)).drop(ours);
}
