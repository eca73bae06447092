/**
 * The dynamic provider behind `PostgresUserPair`. Like the other providers of this package, it
 * captures nothing but a loader: the state holds a few hundred bytes, and the handlers are
 * required from the installed package when a method runs (REFERENCE.md §5).
 */
import type * as pulumi from "@pulumi/pulumi";
import type * as Handlers from "./handlers";

/** The package subpath the provider host loads the handlers from. */
export const USER_PAIR_HANDLERS_MODULE =
  "pulumi-postgres-rotator/provider/postgresUserPair/handlers";

function loadHandlers(): typeof Handlers {
  return /postgresUserPairProvider\.[cm]?[jt]s$/.test(__filename)
    ? require("./handlers")
    : require("pulumi-postgres-rotator/provider/postgresUserPair/handlers");
}

export const postgresUserPairProvider: pulumi.dynamic.ResourceProvider = {
  check: (olds, news) => loadHandlers().check(olds, news),
  diff: (id, olds, news) => loadHandlers().diff(id, olds, news),
  create: (inputs) => loadHandlers().create(inputs),
  update: (id, olds, news) => loadHandlers().update(id, olds, news),
  read: (id, props) => loadHandlers().read(id, props),
  delete: (id, props) => loadHandlers().remove(id, props),
};
