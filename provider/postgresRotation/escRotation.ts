/**
 * A rotation whose state lives in an ESC rotator environment too (`PostgresRotation`'s `esc`
 * input): start from ESC's newest state once it is proven to log in, and write the result back
 * over exactly the revision read. Without `esc`, a plain rotation.
 */
import { otherUser, type RotatedState } from "../core/plan";
import type { ResolvedInputs } from "../core/types";
import {
  AuthenticationError,
  CurrentCredentialsError,
  EscConflictError,
  StateMismatchError,
} from "../errors";
import type { PostgresShell } from "../postgres/shell";
import {
  rotate,
  verifyCurrent,
  type RotationDeps,
  type RotationIds,
  type RotationResult,
} from "./rotation";
import { sameJson } from "../core/plan";
import { escStateStore, type EscStateSnapshot, type EscStateStore } from "../esc/stateStore";

/**
 * One rotation from `base`; with `esc`, from ESC's newer state instead, which must log in, and
 * the result written back to exactly the revision it was read from.
 */
export async function rotateKeepingEscState(
  resolved: ResolvedInputs,
  base: RotatedState | undefined,
  deps: RotationDeps,
  rotationIds: RotationIds = {},
): Promise<RotationResult> {
  const { shell } = deps;
  if (!resolved.esc) return rotate(base, resolved.rotateUsers, deps, rotationIds);
  const store = escStateStore(resolved.esc, knownPasswords(resolved, base));
  const snapshot = await store.read(resolved.rotateUsers);
  let start = base;
  let ids = rotationIds;
  if (snapshot.state) {
    await verifyEscState(store, snapshot, shell);
    const { current, previous } = snapshot.state;
    start = {
      current,
      previous: previous ?? { username: otherUser(resolved.rotateUsers, current.username) },
    };
    // ESC rotated since our last rotation: which marks its rotations left is not known here.
    if (!sameJson(start, base)) ids = {};
  }
  const result = await rotate(start, resolved.rotateUsers, deps, ids);
  try {
    await store.write(snapshot, result.state);
  } catch (error) {
    if (error instanceof EscConflictError)
      await reconcile(
        store,
        resolved,
        { ...result.state, rotationIds: result.rotationIds },
        shell,
        error,
      );
    throw error;
  }
  return result;
}

function knownPasswords(resolved: ResolvedInputs, base: RotatedState | undefined) {
  return [resolved.esc?.accessToken, base?.current.password, base?.previous.password];
}

/** ESC's state must log in before it is built on: otherwise ESC and the database disagree. */
async function verifyEscState(
  store: EscStateStore,
  snapshot: EscStateSnapshot,
  shell: PostgresShell,
) {
  try {
    await verifyCurrent(snapshot.state!.current, shell);
  } catch (error) {
    if (!(error instanceof CurrentCredentialsError)) throw error;
    throw new StateMismatchError(
      `the current credentials in ESC environment ${store.name} ("${snapshot.state!.current.username}") ` +
        `do not log in: ESC and the database disagree, so nothing was changed. Fix ESC's state ` +
        `(or the role's password) so that its current credentials work, then run again`,
      { cause: error.cause },
    );
  }
}

/**
 * ESC changed between our read and our write (it rotated, probably). The database change we
 * made must not break what ESC now serves: if ESC's current user is the one we just changed,
 * give it back ESC's password. The caller then reports the conflict; nothing was overwritten.
 */
async function reconcile(
  store: EscStateStore,
  resolved: ResolvedInputs,
  ours: RotatedState & { readonly rotationIds?: RotationIds },
  shell: PostgresShell,
  conflict: EscConflictError,
): Promise<void> {
  const now = (await store.read(resolved.rotateUsers)).state;
  if (!now || now.current.username !== ours.current.username) return;
  try {
    await shell.checkLogin(now.current);
  } catch (error) {
    if (!(error instanceof AuthenticationError)) throw error;
    const ourId = ours.rotationIds?.[ours.current.username];
    await shell.changePassword(now.current.username, now.current.password, {
      ...(ourId ? { expectedId: ourId } : {}),
    });
    conflict.message += ` Our change to "${ours.current.username}" was undone: it has ESC's password again.`;
  }
}
