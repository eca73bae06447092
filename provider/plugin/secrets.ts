/**
 * Secrets as the provider plugin sees them: the engine sends every secret input (and every
 * secret value of the state) wrapped as `{"4dabf18193072939515e22adb298388d":
 * "1b47061264138c4ac30d75fd1eb44270", "value": …}`; the handlers want plain values, and
 * whatever they return must leave secret again. This module is the one place that unwraps and
 * wraps; nothing else in the plugin knows the signature.
 */

/** The key and value that mark a secret in the engine's wire format (Pulumi's `rpc.ts`). */
export const SIG_KEY = "4dabf18193072939515e22adb298388d";
export const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

export interface WrappedSecret {
  readonly [SIG_KEY]: typeof SECRET_SIG;
  readonly value: unknown;
}

export function isWrappedSecret(value: unknown): value is WrappedSecret {
  return (
    typeof value === "object" &&
    value !== null &&
    (value as Record<string, unknown>)[SIG_KEY] === SECRET_SIG
  );
}

export function wrapSecret(value: unknown): WrappedSecret {
  return isWrappedSecret(value) ? value : { [SIG_KEY]: SECRET_SIG, value };
}

/** `value` with every wrapped secret, at any depth, replaced by what it holds. */
export function unwrapSecrets<T = unknown>(value: unknown): T {
  if (isWrappedSecret(value)) return unwrapSecrets(value.value);
  if (Array.isArray(value)) return value.map((item) => unwrapSecrets(item)) as T;
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, unwrapSecrets(item)]),
    ) as T;
  }
  return value as T;
}

/** The paths (property names and array indexes) of every wrapped secret in `value`. */
export function secretPaths(value: unknown, at: readonly string[] = []): string[][] {
  if (isWrappedSecret(value)) return [[...at]];
  if (typeof value !== "object" || value === null) return [];
  return Object.entries(value).flatMap(([key, item]) => secretPaths(item, [...at, key]));
}

/**
 * `outputs` with these top-level keys wrapped as secrets (a resource's secret outputs: the
 * same list its class gives `additionalSecretOutputs`), and every path that was a secret in
 * `inputs` wrapped too wherever the outputs hold it (a password kept in the outputs as it was
 * given). Keys and paths that the outputs lack are left out, not added.
 */
export function withSecrets(
  outputs: Record<string, unknown>,
  secretKeys: readonly string[],
  inputs: unknown,
): Record<string, unknown> {
  const result: Record<string, unknown> = { ...outputs };
  for (const path of secretPaths(inputs)) wrapAt(result, path);
  for (const key of secretKeys) wrapAt(result, [key]);
  return result;
}

function wrapAt(target: Record<string, unknown>, path: readonly string[]): void {
  const [head, ...rest] = path;
  if (head === undefined || !Object.prototype.hasOwnProperty.call(target, head)) return;
  const value = target[head];
  if (value === undefined) return;
  if (rest.length === 0 || isWrappedSecret(value)) {
    target[head] = wrapSecret(value);
    return;
  }
  if (typeof value !== "object" || value === null) return;
  const copy = (Array.isArray(value) ? [...value] : { ...value }) as Record<string, unknown>;
  wrapAt(copy, rest);
  target[head] = copy;
}
