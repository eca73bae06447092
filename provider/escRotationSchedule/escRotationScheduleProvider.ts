/**
 * The dynamic provider behind `EscRotationSchedule`: this module's exports are the provider object
 * (`check`, `diff`, `create`, `update`, `read`, `delete`).
 *
 * Pulumi serializes the provider into the stack state and later runs it from that text in a
 * separate process (REFERENCE.md §5). Because this module's exports are the provider, Pulumi's
 * serializer stores an installed package's provider as a `require` of this module by its
 * package subpath (about a hundred bytes, no code); only a copy of this repository that is not
 * under `node_modules` gets the methods serialized by value. Either way they capture nothing but
 * `loadHandlers`, which `require`s the real code when called (copies of ES classes would lose
 * their behaviour: our error classes would arrive without their messages). No secret is stored.
 */
import type * as pulumi from "@pulumi/pulumi";
import type * as Handlers from "./handlers";

/**
 * Pulumi's serializer never captures `__filename` and `require`: here they are this module's
 * own; from serialized text they belong to the module compiled from it.
 */
function loadHandlers(): typeof Handlers {
  return /escRotationScheduleProvider\.[cm]?[jt]s$/.test(__filename)
    ? require("./handlers")
    : require("pulumi-postgres-rotator/provider/escRotationSchedule/handlers");
}

type Provider = Required<pulumi.dynamic.ResourceProvider>;

export const check: Provider["check"] = (olds, news) => loadHandlers().check(olds, news);
export const diff: Provider["diff"] = (id, olds, news) => loadHandlers().diff(id, olds, news);
export const create: Provider["create"] = (inputs) => loadHandlers().create(inputs);
export const update: Provider["update"] = (id, olds, news) => loadHandlers().update(id, olds, news);
export const read: Provider["read"] = (id, props) => loadHandlers().read(id, props);
const remove: Provider["delete"] = (id, props) => loadHandlers().remove(id, props);
export { remove as delete };
