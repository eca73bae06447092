/**
 * Rotation marks: each rotation records an id in a line of the rotated role's comment
 * (`COMMENT ON ROLE`), written in the same transaction as the password. A later rotation that
 * starts from a state made by an earlier one knows the id it should find there; finding
 * another means some other rotation changed the role since, and its state is stale.
 *
 * A mark also names who rotated (`by <holder>`: the `PostgresRotation` resource's id). A mark
 * of this holder's that its state does not know is its own earlier attempt whose result was
 * never recorded (the process killed after the ALTER, the login test failed, ESC's write or the
 * Lambda's answer lost): nobody received that password, so rotating again from the recorded
 * state is safe, and the next `pulumi up` converges. Pure.
 */

/** The id of the rotation that last changed a role's password, and when. */
export interface RotationMark {
  readonly id: string;
  readonly at: string;
  /** Who rotated: the `PostgresRotation` resource's id, when the rotation said. */
  readonly by?: string;
}

const PREFIX = "pulumi-postgres-rotator: rotation";
const LINE =
  /^pulumi-postgres-rotator: rotation ([0-9a-f-]{8,64}) at (\S+?)(?: by ([0-9a-f-]{8,64}))?$/m;

/** The mark in a role's comment, if there is one. */
export function markIn(comment: string | null | undefined): RotationMark | undefined {
  const match = comment ? LINE.exec(comment) : null;
  if (!match) return undefined;
  return { id: match[1], at: match[2], ...(match[3] ? { by: match[3] } : {}) };
}

/** `comment` with its mark line replaced by `mark` (added when it has none); other lines kept. */
export function withMark(comment: string | null | undefined, mark: RotationMark): string {
  const line = `${PREFIX} ${mark.id} at ${mark.at}${mark.by ? ` by ${mark.by}` : ""}`;
  if (!comment) return line;
  return LINE.test(comment) ? comment.replace(LINE, line) : `${comment}\n${line}`;
}

/** What a rotation may do, given the mark the role carries now (read under the lock). */
export type MarkVerdict =
  | { readonly kind: "proceed" }
  /** Log in with the state's password for the role: if it works, the state is the database's. */
  | { readonly kind: "probe" }
  | { readonly kind: "refuse"; readonly found: RotationMark };

/**
 * - The id expected (this state was made by the rotation that marked the role): the same id
 *   proceeds; a mark of this holder's own proceeds (an attempt whose result it never recorded);
 *   another id refuses; no mark at all proceeds (the role was recreated, or marked by no one:
 *   a repair).
 * - No id expected (adopted or first state): no mark proceeds; a mark means some rotation of
 *   this package changed the role, so the state's password for it must still log in (`probe`)
 *   when it is known, and proceeds when it is not (nothing to compare with).
 */
export function judgeMark(
  expectedId: string | undefined,
  found: RotationMark | undefined,
  passwordKnown: boolean,
  holder?: string,
): MarkVerdict {
  if (!found) return { kind: "proceed" };
  if (holder !== undefined && found.by === holder) return { kind: "proceed" };
  if (expectedId !== undefined) {
    return found.id === expectedId ? { kind: "proceed" } : { kind: "refuse", found };
  }
  return passwordKnown ? { kind: "probe" } : { kind: "proceed" };
}
