/**
 * The plugin's two components, `RotatedPostgresCredentials` and `LambdaConnector`: their
 * TypeScript constructors, reused unchanged. Inside the plugin the resource classes they create
 * register as the plugin's own resources (`../registration`), so the children a Python or YAML
 * program gets are served by the same handlers as everything else.
 *
 * The schema gives every input a shape all languages can express, and the constructors take
 * them as they are:
 *
 * - a TypeScript union of object shapes is one object type whose fields are all optional (the
 *   paired fields of awsx): `connector` holds `lambdaArn`, `invocationRoleArn`, `region` and
 *   `endpoint` of an existing connector, or `create`; `esc.rotationSchedule` holds `cron` or
 *   `once`; `oidcProvider` holds `arn` or `create`. Which fields are present says which arm it
 *   is, exactly as it does in TypeScript; the constructors refuse a mix with the same errors;
 * - a field the program left out is absent, not `undefined`.
 *
 * The engine hands `construct` each top-level input as given, with values that are secret,
 * unknown or depend on a resource as `Output`s. The constructors read the fields of `database`,
 * `connector` and `esc` (and `LambdaConnector` those of `oidcProvider`, `databaseCidrBlocks`
 * and `escSubjectAttributes`) as plain objects, as a TypeScript program passes them; when such
 * an input arrives as one `Output` (a whole object marked secret, say), `shapeOf` waits for it
 * and splits it into an object of `Output`s that keep its secrecy and dependencies.
 */
import * as pulumi from "@pulumi/pulumi";
import {
  RotatedPostgresCredentials,
  type RotatedPostgresCredentialsArgs,
} from "../../components/rotatedPostgresCredentials";
import { LambdaConnector, type LambdaConnectorArgs } from "../../components/lambdaConnector";
import { PACKAGE } from "../registration";

type Construct = Required<pulumi.provider.Provider>["construct"];

/** The `Output` members the SDK keeps internal: whether the value is known, and the value. */
interface OutputInternals {
  readonly isKnown: Promise<boolean>;
  promise(withUnknowns?: boolean): Promise<unknown>;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * `value` as a TypeScript program would pass it: undefined fields left out, and an `Output` of an
 * object or array split into its fields (each an `Output` with the same secrecy and
 * dependencies). A top-level input's shape must be known, even in a preview; its fields may be
 * unknown.
 */
export async function shapeOf(value: unknown, path: string): Promise<unknown> {
  if (pulumi.Output.isInstance(value)) {
    const output = value as pulumi.Output<unknown>;
    const internals = output as unknown as OutputInternals;
    const [known, resolved] = await Promise.all([internals.isKnown, internals.promise(true)]);
    if (!known || pulumi.isUnknown(resolved)) {
      // A field may be unknown (an address of a resource not created yet); the input whose
      // fields the constructor reads may not.
      if (/[.[]/.test(path)) return output;
      throw new Error(
        `${path} must be known when the program runs, even in a preview: give it as an object ` +
          `(its fields may be outputs of other resources), not as one output`,
      );
    }
    if (Array.isArray(resolved)) {
      return shapeOf(
        resolved.map((_, i) => output.apply((v) => (v as unknown[])[i])),
        path,
      );
    }
    if (isObject(resolved)) {
      const fields = Object.keys(resolved).map((key) => [
        key,
        output.apply((v) => (v as Record<string, unknown>)[key]),
      ]);
      return shapeOf(Object.fromEntries(fields), path);
    }
    return output;
  }
  if (Array.isArray(value)) {
    return Promise.all(value.map((item, i) => shapeOf(item, `${path}[${i}]`)));
  }
  if (isObject(value) && !pulumi.Resource.isInstance(value)) {
    const fields = await Promise.all(
      Object.entries(value)
        .filter(([, item]) => item !== undefined)
        .map(async ([key, item]) => [key, await shapeOf(item, `${path}.${key}`)] as const),
    );
    return Object.fromEntries(fields);
  }
  return value;
}

/** The inputs with `plainKeys` split to their fields (see `shapeOf`), the rest as given. */
export async function componentArgs(
  inputs: pulumi.Inputs,
  plainKeys: readonly string[],
): Promise<Record<string, unknown>> {
  const args: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(inputs)) {
    if (value === undefined) continue;
    args[key] = plainKeys.includes(key) ? await shapeOf(value, key) : value;
  }
  return args;
}

/** The component's fields that the schema lists as its outputs. */
function stateOf(component: object, outputs: readonly string[]): pulumi.Inputs {
  const fields = component as Record<string, unknown>;
  return Object.fromEntries(outputs.map((key) => [key, fields[key]]));
}

/** `construct` of a component class: its constructor on the inputs as TypeScript passes them. */
function component<Args>(
  make: (name: string, args: Args, opts: pulumi.ComponentResourceOptions) => pulumi.Resource,
  plainKeys: readonly string[],
  outputs: readonly string[],
): Construct {
  return async (name, _type, inputs, options) => {
    const args = (await componentArgs(inputs, plainKeys)) as Args;
    const made = make(name, args, options);
    return { urn: made.urn, state: stateOf(made, outputs) };
  };
}

/** Type token to `construct`, for the two components; `outputs` are the schema's. */
export function components(
  outputsOf: (token: string) => readonly string[],
): Record<string, Construct> {
  const credentials = `${PACKAGE}:index:RotatedPostgresCredentials`;
  const connector = `${PACKAGE}:index:LambdaConnector`;
  return {
    [credentials]: component<RotatedPostgresCredentialsArgs>(
      (name, args, opts) => new RotatedPostgresCredentials(name, args, opts),
      ["database", "connector", "esc"],
      outputsOf(credentials),
    ),
    [connector]: component<LambdaConnectorArgs>(
      (name, args, opts) => new LambdaConnector(name, args, opts),
      ["oidcProvider", "databaseCidrBlocks", "escSubjectAttributes"],
      outputsOf(connector),
    ),
  };
}
