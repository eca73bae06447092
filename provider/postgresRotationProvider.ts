/**
 * The dynamic provider behind `PostgresRotation`. Pulumi serializes this object into the stack
 * state and runs it in a separate process, so it captures nothing live: each method only
 * forwards to the `handlers` module, which Pulumi records as a `require` of this package when
 * it is installed from npm (REFERENCE.md §5).
 */
import type * as pulumi from "@pulumi/pulumi";
import * as handlers from "./handlers";

export const postgresRotationProvider: pulumi.dynamic.ResourceProvider = {
  check: (olds, news) => handlers.check(olds, news),
  diff: (id, olds, news) => handlers.diff(id, olds, news),
  create: (inputs) => handlers.create(inputs),
  update: (id, olds, news) => handlers.update(id, olds, news),
  read: (id, props) => handlers.read(id, props),
  delete: () => handlers.remove(),
};
