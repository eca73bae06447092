/**
 * The dynamic provider behind `EscRotationSchedule`. Like the other providers of this package,
 * it captures nothing but a loader, so the state holds a few hundred bytes and no code or
 * secret: the handlers are required from this package when a method runs.
 */
import type * as pulumi from "@pulumi/pulumi";
import type * as Handlers from "./handlers";

/** The package subpath the provider host loads the handlers from. */
export const ESC_SCHEDULE_HANDLERS_MODULE =
  "pulumi-postgres-rotator/provider/escRotationSchedule/handlers";

function loadHandlers(): typeof Handlers {
  return /escRotationScheduleProvider\.[cm]?[jt]s$/.test(__filename)
    ? require("./handlers")
    : require("pulumi-postgres-rotator/provider/escRotationSchedule/handlers");
}

export const escRotationScheduleProvider: pulumi.dynamic.ResourceProvider = {
  check: (olds, news) => loadHandlers().check(olds, news),
  diff: (id, olds, news) => loadHandlers().diff(id, olds, news),
  create: (inputs) => loadHandlers().create(inputs),
  update: (id, olds, news) => loadHandlers().update(id, olds, news),
  read: (id, props) => loadHandlers().read(id, props),
  delete: (id, props) => loadHandlers().remove(id, props),
};
