/**
 * The rotation engine: plan with the pure core, carry the plan out through a `PostgresShell`,
 * and return the new state. Nothing here knows SQL or Pulumi.
 */
import { AuthenticationError, CurrentCredentialsError } from "../errors";
import { planRotation, type RotatedState } from "../core/plan";
import type { Credential, RotationState, UserPair } from "../core/types";
import type { PostgresShell } from "../postgres/shell";

export interface RotationDeps {
  readonly shell: PostgresShell;
  /** A fresh password for every attempt: a retry never reuses one. */
  readonly newPassword: () => string;
  readonly now: () => Date;
  /** Who rotates: the resource's id, named in the marks it writes (see core/mark.ts). */
  readonly holder?: string;
}

export interface RotationResult {
  readonly state: RotatedState;
  readonly rotatedAt: string;
  /** Each user's last rotation id (its mark), as far as this state's holder knows it. */
  readonly rotationIds: Readonly<Record<string, string>>;
}

/** By username: the id of the rotation that last changed each user's password, when known. */
export type RotationIds = Readonly<Record<string, string>>;

/**
 * Rotates the pair once: the previous user (or `username1` without state) gets a new password,
 * verified by logging in with it, and becomes current. The current user is never touched.
 * On any failure the error is thrown and the given state is still the valid one.
 */
export async function rotate(
  state: RotationState | undefined,
  users: UserPair,
  deps: RotationDeps,
  rotationIds: RotationIds = {},
): Promise<RotationResult> {
  const plan = planRotation({ state, users, newPassword: deps.newPassword() });
  const expectedId = rotationIds[plan.target];
  const knownPassword = state?.previous?.password;
  const { rotationId } = await deps.shell.changePassword(plan.target, plan.next.current.password, {
    ...(expectedId !== undefined ? { expectedId } : {}),
    ...(knownPassword !== undefined ? { knownPassword } : {}),
    ...(deps.holder !== undefined ? { holder: deps.holder } : {}),
  });
  const ids: Record<string, string> = {};
  for (const user of [users.username1, users.username2]) {
    if (user !== plan.target && rotationIds[user] !== undefined) ids[user] = rotationIds[user];
  }
  if (rotationId !== undefined) ids[plan.target] = rotationId;
  return { state: plan.next, rotatedAt: deps.now().toISOString(), rotationIds: ids };
}

/** Proves that `current` logs in; throws `CurrentCredentialsError` when it does not. */
export async function verifyCurrent(
  current: Credential,
  shell: Pick<PostgresShell, "checkLogin">,
): Promise<void> {
  try {
    await shell.checkLogin(current);
  } catch (error) {
    if (error instanceof AuthenticationError) {
      throw new CurrentCredentialsError(
        `the current credentials of "${current.username}" no longer log in (${error.message}). ` +
          `Someone changed the password or the role outside this rotation. Give the working ` +
          `credentials as the state input, or rotate (change rotationTrigger): a rotation ` +
          `gives the other user a new password and makes it current`,
        { cause: error.cause },
      );
    }
    throw error;
  }
}
