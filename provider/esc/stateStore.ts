/**
 * The rotator environment as the home of a pair's state: read the newest `state` (opened, so
 * secrets are revealed) together with the ETag of the revision it came from, and write a new
 * `state` back as a new revision of exactly that revision (409 if ESC changed meanwhile).
 */
import type { RotationState, UserPair } from "../core/types";
import { stateProblems } from "../core/validate";
import { StateMismatchError } from "../errors";
import { escClient, type EscClient, type EscLocation } from "./client";
import {
  DEFAULT_ROTATOR_KEY,
  rotatorStateNode,
  stateFromOpenedValue,
  withRotatorState,
} from "./documents";

/** Where a pair's state lives in ESC (`PostgresRotation`'s `esc` input). */
export interface EscStateConfig extends EscLocation {
  /** Key under `values` of the `fn::rotate::postgres`. @default "dbRotator" */
  readonly key?: string;
}

export interface EscStateSnapshot {
  /** The state ESC serves now; undefined before the first rotation. */
  readonly state?: RotationState;
  /** The revision it was read from: the YAML as stored and its ETag. */
  readonly yaml: string;
  readonly etag: string;
}

export interface EscStateStore {
  readonly name: string;
  read(users: UserPair): Promise<EscStateSnapshot>;
  /** Writes `state` over `snapshot`'s revision; `EscConflictError` if ESC moved on. */
  write(snapshot: EscStateSnapshot, state: RotationState): Promise<void>;
}

export function escStateStore(
  config: EscStateConfig,
  secrets: readonly (string | undefined)[] = [],
): EscStateStore {
  const key = config.key ?? DEFAULT_ROTATOR_KEY;
  const client: EscClient = escClient(config, secrets);
  const name = `${config.organization}/${config.project}/${config.environment}`;
  return {
    name,
    async read(users) {
      const document = await client.read();
      if (!document) throw new StateMismatchError(`ESC environment ${name} does not exist`);
      // Throws unless values.<key> is a fn::rotate::postgres: checked before anything changes.
      rotatorStateNode(document.yaml, key);
      const state = stateFromOpenedValue(await client.openValue(key));
      if (state) {
        const problems = stateProblems(state, users);
        if (problems.length > 0) {
          throw new StateMismatchError(
            `the state in ESC environment ${name} (values.${key}) does not fit rotateUsers: ${problems.join("; ")}`,
          );
        }
      }
      return { ...(state ? { state } : {}), yaml: document.yaml, etag: document.etag };
    },
    async write(snapshot, state) {
      await client.update(withRotatorState(snapshot.yaml, key, state), snapshot.etag);
    },
  };
}
