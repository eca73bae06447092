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
  oidsOf,
  planPairChange,
  refreshedOutputs,
  resolveUserPairInputs,
  snapshotOf,
  userPairInputProblems,
  type PairObservation,
  type ResolvedUserPairInputs,
  type UserPairInputs,
  type UserPairOutputs,
} from "../core/userPair";
import { resolveDatabase, resolveTimeouts } from "../core/validate";
import { ConnectorError } from "../errors";
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

function pick<T>(byUser: Readonly<Record<string, T>>, users: readonly string[]) {
  return Object.fromEntries(Object.entries(byUser).filter(([u]) => users.includes(u)));
}

/**
 * After an apply, both users run as `ownerRole` when it is asked for: a connector Lambda of a
 * version before `ownerRole` ignores it, which must not pass as done.
 */
function assertOwnerRole(inputs: ResolvedUserPairInputs, observation: PairObservation): void {
  const owner = inputs.ownerRole;
  if (owner === undefined) return;
  const missing = names(inputs.rotateUsers).filter(
    (u) => observation.users[u]?.settings.role !== owner,
  );
  if (missing.length > 0) {
    throw new ConnectorError(
      `ownerRole "${owner}" was not applied to ${missing.map((u) => `"${u}"`).join(", ")}: the ` +
        `connector Lambda predates ownerRole; update it (this package's LambdaConnector) and run ` +
        `pulumi up again`,
    );
  }
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
      ...(resolved.ownerRole !== undefined ? { ownerRole: resolved.ownerRole } : {}),
      revokeOtherMembershipsOf: [],
    },
    passwords,
  );
  assertOwnerRole(resolved, observation);
  const kept = pick(passwords, created);
  const initialState = initialStateOf(resolved.rotateUsers, kept);
  return {
    id: randomUUID(),
    outs: buildUserPairOutputs(resolved, {
      created,
      passwords: kept,
      ...(initialState ? { initialState } : {}),
      oids: oidsOf(observation, resolved.rotateUsers),
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
  // Dropping ownerRole resets the users' role: their sessions run as themselves again.
  if (olds.ownerRole !== undefined && resolved.ownerRole === undefined) resetSettings.push("role");
  const { created, observation } = await shell.apply(
    {
      users: resolved.rotateUsers,
      memberOf: resolved.memberOf,
      ...(resolved.connectionLimit !== undefined
        ? { connectionLimit: resolved.connectionLimit }
        : {}),
      ...(resolved.settings !== undefined ? { settings: resolved.settings } : {}),
      ...(resolved.ownerRole !== undefined ? { ownerRole: resolved.ownerRole } : {}),
      resetSettings,
      revokeOtherMembershipsOf: managed,
      expectedOids: pick(olds.oids ?? {}, managed),
    },
    passwords,
  );
  assertOwnerRole(resolved, observation);
  // A user that left the pair is released: kept in the database, no longer dropped by us.
  const ours = [...new Set([...olds.created.filter((u) => pair.includes(u)), ...created])];
  const kept = { ...pick(olds.passwords, pair), ...pick(passwords, created) };
  const initialState = initialStateAfter(olds, resolved.rotateUsers, created, kept);
  return {
    outs: buildUserPairOutputs(resolved, {
      created: ours,
      passwords: kept,
      ...(initialState ? { initialState } : {}),
      oids: oidsOf(observation, resolved.rotateUsers),
      observed: snapshotOf(observation, resolved.rotateUsers),
    }),
  };
}

/**
 * The initial state after an update: when it created a user (again), the one made of the
 * passwords it now knows (both users', or none), so it never holds a password that no longer
 * logs in; otherwise the old one while both its users are still the pair.
 */
function initialStateAfter(
  olds: UserPairOutputs,
  users: UserPair,
  created: readonly string[],
  passwords: Readonly<Record<string, string>>,
) {
  if (created.length > 0) return initialStateOf(users, passwords);
  const initial = olds.initialState;
  const pair = names(users);
  const stillPair =
    initial && pair.includes(initial.current.username) && pair.includes(initial.previous.username);
  return stillPair ? initial : undefined;
}

/**
 * Refresh: the pair as it is now, against the pair as last applied. Changes made outside Pulumi
 * are listed in `drift` (the outputs stay as applied, so the next `up` repairs them), but a
 * password that no longer logs in is withdrawn at once (see `refreshedOutputs`).
 */
export async function read(id: string, props: UserPairOutputs): Promise<pulumi.dynamic.ReadResult> {
  const target = targetOf(props);
  const shell = shellFor(target, Object.values(props.passwords));
  const observation = await shell.observe(props.rotateUsers, props.memberOf);
  return { id, props: refreshedOutputs(props, observation) };
}

/**
 * Delete keeps both users unless `deleteUsersOnDestroy`; then it drops the users this resource
 * created (never one it adopted), and only while each still has the OID it recorded: a role
 * dropped and created again outside under the same name is someone else's and is kept, and so
 * is a user of outputs from before OIDs were recorded (a refresh or update records them).
 * Refuses while a user to drop has sessions or owns objects.
 */
export async function remove(_id: string, props: UserPairOutputs): Promise<void> {
  if (!props.deleteUsersOnDestroy) return;
  const oids = props.oids ?? {};
  const ours = props.created.filter(
    (u) => names(props.rotateUsers).includes(u) && oids[u] !== undefined,
  );
  if (ours.length === 0) return;
  await shellFor(targetOf(props), Object.values(props.passwords)).drop(ours, pick(oids, ours));
}
