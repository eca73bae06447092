/**
 * The dynamic provider behind `PostgresRotation`.
 *
 * Pulumi serializes this object into the stack state and later runs it from that text in a
 * separate process (REFERENCE.md §5). Pulumi's serializer copies whatever the methods capture,
 * and copies of ES classes lose their behaviour (our error classes would arrive without their
 * messages), so the methods capture nothing but `loadHandlers`, which `require`s the real code
 * when called: the sibling module when running in this process, and the installed package by
 * name when running from the serialized text in Pulumi's provider host. The text stored in the
 * state is about 2.3 KB and holds no secret.
 */
import type * as pulumi from "@pulumi/pulumi";
import type * as Handlers from "./handlers";

/** The package subpath (package.json "exports") the provider host loads the code from; `loadHandlers` spells it out because the serializer cannot follow an exported constant. */
export const HANDLERS_MODULE = "pulumi-postgres-rotator/provider/postgresRotation/handlers";

/**
 * Pulumi's serializer never captures `__filename` and `require`: here they are this module's
 * own; in the provider host they belong to the module compiled from the state's text.
 */
function loadHandlers(): typeof Handlers {
  return /postgresRotationProvider\.[cm]?[jt]s$/.test(__filename)
    ? require("./handlers")
    : require("pulumi-postgres-rotator/provider/postgresRotation/handlers");
}

export const postgresRotationProvider: pulumi.dynamic.ResourceProvider = {
  check: (olds, news) => loadHandlers().check(olds, news),
  diff: (id, olds, news) => loadHandlers().diff(id, olds, news),
  create: (inputs) => loadHandlers().create(inputs),
  update: (id, olds, news) => loadHandlers().update(id, olds, news),
  read: (id, props) => loadHandlers().read(id, props),
  delete: () => loadHandlers().remove(),
};
