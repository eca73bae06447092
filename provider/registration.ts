/**
 * How this package's four resources (`PostgresRotation`, `PostgresUserPair`, `EscEnvironment`,
 * `EscRotationSchedule`) register with the engine.
 *
 * Imported from npm by a TypeScript program, each is a dynamic resource
 * (`pulumi-nodejs:dynamic/postgres-rotator:<Type>`) whose provider is this package's handlers
 * (REFERENCE.md §5). That stays the default, and nothing else changes it.
 *
 * Inside the provider plugin (`provider/plugin/`), which serves programs in other languages, the
 * components construct the same classes; there each must be the plugin's own resource
 * `postgres-rotator:index:<Type>`, served by the same handlers: a dynamic resource created there
 * would be run by the dynamic provider host from the program's directory, which has no Node.js
 * packages (pulumi/pulumi#5455). The plugin calls `registerAsPluginResources` once, before it
 * constructs anything. The classes build their inputs and options exactly as they do for a
 * TypeScript program (secrets marked, output placeholders, `additionalSecretOutputs`); only the
 * type token and the provider differ.
 */
import * as pulumi from "@pulumi/pulumi";

/** The package name of the plugin and of every type token it serves. */
export const PACKAGE = "postgres-rotator";

let pluginResources = false;

/**
 * Inside the provider plugin: the resource classes register as the plugin's resources (`false`
 * restores the default, for tests that try both in one process).
 */
export function registerAsPluginResources(on = true): void {
  pluginResources = on;
}

/** The plugin's custom resource `postgres-rotator:index:<type>`. */
class PluginResource extends pulumi.CustomResource {
  constructor(
    type: string,
    name: string,
    props: pulumi.Inputs,
    opts: pulumi.CustomResourceOptions,
  ) {
    super(`${PACKAGE}:index:${type}`, name, props, opts);
  }
}

/**
 * Inside the plugin, the resource registered as `postgres-rotator:index:<type>` (its output
 * properties are those of `props`, as the class declares them); undefined otherwise, and the
 * class registers as the dynamic resource it always was.
 */
export function asPluginResource<T>(
  type: string,
  name: string,
  props: pulumi.Inputs,
  opts: pulumi.CustomResourceOptions,
): T | undefined {
  return pluginResources
    ? (new PluginResource(type, name, props, opts) as unknown as T)
    : undefined;
}
