/**
 * The plugin's four custom resources: each is its dynamic provider's handlers (the same
 * functions `PostgresRotation` & co. run as dynamic resources) behind the provider interface of
 * `@pulumi/pulumi/provider`. What differs is only the envelope: the URN comes first, secrets
 * arrive wrapped and leave wrapped (`./secrets`), and `check` hands the engine back its own
 * inputs, still wrapped, so that no secret input is stored in plaintext.
 */
import type * as pulumi from "@pulumi/pulumi";
import * as escEnvironment from "../escEnvironment/handlers";
import { ESC_SECRET_OUTPUTS } from "../escEnvironment/escEnvironment";
import * as escRotationSchedule from "../escRotationSchedule/handlers";
import { ESC_SCHEDULE_SECRET_OUTPUTS } from "../escRotationSchedule/escRotationSchedule";
import * as postgresRotation from "./../postgresRotation/handlers";
import { SECRET_OUTPUTS } from "../postgresRotation/postgresRotation";
import * as postgresUserPair from "../postgresUserPair/handlers";
import { USER_PAIR_SECRET_OUTPUTS } from "../postgresUserPair/postgresUserPair";
import { PACKAGE } from "../registration";
import { unwrapSecrets, withSecrets } from "./secrets";

/** A dynamic provider's handlers, whatever their input and output types. */
export interface Handlers {
  check(olds: never, news: never): Promise<pulumi.dynamic.CheckResult>;
  diff(id: string, olds: never, news: never): Promise<pulumi.dynamic.DiffResult>;
  create(inputs: never): Promise<pulumi.dynamic.CreateResult>;
  update(id: string, olds: never, news: never): Promise<pulumi.dynamic.UpdateResult>;
  read(id: string, props: never): Promise<pulumi.dynamic.ReadResult>;
  remove(id: string, props: never): Promise<void>;
}

type Props = Record<string, unknown>;

/**
 * The provider methods of one resource type: plain values to the handlers, `secretOutputs`
 * (and whatever was secret in the inputs) wrapped in what they return.
 */
export function customResource(
  handlers: Handlers,
  secretOutputs: readonly string[],
): Required<
  Pick<pulumi.provider.Provider, "check" | "diff" | "create" | "update" | "read" | "delete">
> {
  const plain = (value: unknown) => unwrapSecrets<never>(value ?? {});
  return {
    check: async (_urn, olds, news) => {
      const { failures } = await handlers.check(plain(olds), plain(news));
      return { inputs: news, failures: failures ?? [] };
    },
    diff: (id, _urn, olds, news) => handlers.diff(id, plain(olds), plain(news)),
    create: async (_urn, inputs) => {
      const { id, outs } = await handlers.create(plain(inputs));
      return { id, outs: withSecrets(outs ?? {}, secretOutputs, inputs) };
    },
    update: async (id, _urn, olds, news) => {
      const { outs } = await handlers.update(id, plain(olds), plain(news));
      return { outs: withSecrets(outs ?? {}, secretOutputs, news) };
    },
    read: async (id, _urn, props) => {
      const result = await handlers.read(id, plain(props));
      return { ...result, props: withSecrets((result.props ?? {}) as Props, secretOutputs, props) };
    },
    delete: (id, _urn, props) => handlers.remove(id, plain(props)),
  };
}

/** Type token to provider methods, for the four resources the plugin serves. */
export const CUSTOM_RESOURCES = {
  [`${PACKAGE}:index:PostgresRotation`]: customResource(postgresRotation, SECRET_OUTPUTS),
  [`${PACKAGE}:index:PostgresUserPair`]: customResource(postgresUserPair, USER_PAIR_SECRET_OUTPUTS),
  [`${PACKAGE}:index:EscEnvironment`]: customResource(escEnvironment, ESC_SECRET_OUTPUTS),
  [`${PACKAGE}:index:EscRotationSchedule`]: customResource(
    escRotationSchedule,
    ESC_SCHEDULE_SECRET_OUTPUTS,
  ),
} as const;
