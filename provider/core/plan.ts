/**
 * The rotation logic, as data in and data out: no database, no clock, no randomness. The new
 * password and the time are arguments.
 */
import { StateMismatchError } from "../errors";
import type { Credential, PreviousCredential, RotationState, UserPair } from "./types";

/** A state right after a rotation: `previous` is always known by name. */
export interface RotatedState extends RotationState {
  readonly current: Credential;
  readonly previous: PreviousCredential;
}

export interface RotationPlan {
  /** The role whose password changes: the previous user (`username1` when there is no state). */
  readonly target: string;
  /** The credentials that must keep working throughout: the current ones, when known. */
  readonly untouched?: Credential;
  /** The state once the change is done and verified. */
  readonly next: RotatedState;
}

export interface PlanRotationInput {
  /** The state before the rotation; none means the pair was never rotated. */
  readonly state?: RotationState;
  readonly users: UserPair;
  /** The password the target role will get. */
  readonly newPassword: string;
}

/** The other role of the pair. */
export function otherUser(users: UserPair, username: string): string {
  return username === users.username1 ? users.username2 : users.username1;
}

/**
 * Which role to change and the state after. As in Pulumi ESC's `fn::rotate::postgres`: without
 * state `username1` is rotated first; with state the *previous* role gets the new password and
 * becomes current, and the old current becomes previous, untouched.
 *
 * @throws StateMismatchError when the state does not belong to `users`.
 */
export function planRotation({ state, users, newPassword }: PlanRotationInput): RotationPlan {
  if (!state) {
    return {
      target: users.username1,
      next: {
        current: { username: users.username1, password: newPassword },
        previous: { username: users.username2 },
      },
    };
  }
  const pair = [users.username1, users.username2];
  if (!pair.includes(state.current.username)) {
    throw new StateMismatchError(
      `state.current.username "${state.current.username}" is not one of the rotated users ` +
        `"${users.username1}" and "${users.username2}"`,
    );
  }
  if (state.previous && state.previous.username !== otherUser(users, state.current.username)) {
    throw new StateMismatchError(
      `state.previous.username "${state.previous.username}" must be the other rotated user, ` +
        `"${otherUser(users, state.current.username)}"`,
    );
  }
  const target = otherUser(users, state.current.username);
  return {
    target,
    untouched: state.current,
    next: {
      current: { username: target, password: newPassword },
      previous: { username: state.current.username, password: state.current.password },
    },
  };
}

/** The part of the inputs that is compared to decide what an update does. */
export interface ChangeView {
  readonly rotateUsers: UserPair;
  readonly state?: RotationState;
  readonly rotationTrigger?: string | number;
  /** Every other input, without secrets (e.g. the managing user's password is left out). */
  readonly settings: unknown;
  /** Of the old outputs only: who apps use now. */
  readonly currentUsername?: string;
}

export type Change =
  /** A pair without the current user: a new resource, which rotates its `username1`. */
  | { readonly kind: "replace" }
  /** Nothing to do. */
  | { readonly kind: "none" }
  /**
   * An in-place update. `repair`: the pair changed but still holds the current user, who stays
   * current, untouched; the other role of the new pair becomes previous. `adopt`: take the new
   * `state` input (after checking that it logs in). `rotate`: rotate the previous user. None:
   * only settings changed, the credentials are kept as they are.
   */
  | {
      readonly kind: "update";
      readonly repair: boolean;
      readonly adopt: boolean;
      readonly rotate: boolean;
    };

function isPair(value: unknown): value is UserPair {
  const pair = value as UserPair | undefined;
  return typeof pair?.username1 === "string" && typeof pair?.username2 === "string";
}

/** What moving from `olds` to `news` means. Works with values still unknown in a preview. */
export function planChange(olds: ChangeView, news: ChangeView): Change {
  let repair = false;
  if (!sameJson(olds.rotateUsers, news.rotateUsers)) {
    // Replacing would rotate the new pair's username1, which may be the user apps use now.
    // So a pair that still holds the current user keeps it instead. An unknown pair (preview)
    // is decided when it is known.
    const holdsCurrent =
      !isPair(news.rotateUsers) ||
      [news.rotateUsers.username1, news.rotateUsers.username2].includes(olds.currentUsername!);
    if (!holdsCurrent) return { kind: "replace" };
    repair = true;
  }
  const adopt = news.state !== undefined && !sameJson(olds.state, news.state);
  const rotate = !sameJson(olds.rotationTrigger, news.rotationTrigger);
  if (repair || adopt || rotate || !sameJson(olds.settings, news.settings)) {
    return { kind: "update", repair, adopt, rotate };
  }
  return { kind: "none" };
}

/** Structural equality of JSON-like values, independent of key order. */
export function sameJson(a: unknown, b: unknown): boolean {
  return canonicalJson(a) === canonicalJson(b);
}

function canonicalJson(value: unknown): string {
  if (value === undefined) return "undefined";
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
}
