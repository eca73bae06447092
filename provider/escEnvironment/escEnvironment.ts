import * as pulumi from "@pulumi/pulumi";
import * as escEnvironmentProvider from "./escEnvironmentProvider";
import { asPluginResource } from "../registration";

export interface EscEnvironmentArgs {
  /** Pulumi Cloud organization. */
  readonly organization: pulumi.Input<string>;
  /** ESC project. @example "payments" */
  readonly project: pulumi.Input<string>;
  /** Environment name. @example "db-rotator" */
  readonly name: pulumi.Input<string>;
  /**
   * The whole definition, e.g. from `credentialsEnvironmentYaml` or `rotatorEnvironmentYaml`.
   * Stored encrypted in the Pulumi state (it may hold `fn::secret` plaintext).
   */
  readonly yaml: pulumi.Input<string>;
  /** Pulumi access token; `PULUMI_ACCESS_TOKEN` of the deploying process when absent. Secret. */
  readonly accessToken?: pulumi.Input<string>;
  /** Pulumi Cloud API URL, for self-hosted Pulumi Cloud. @default "https://api.pulumi.com" */
  readonly apiUrl?: pulumi.Input<string>;
  /**
   * Key under `values` of a `fn::rotate::postgres` whose `state` ESC rotations write: updates
   * keep the newest `state` instead of the one in `yaml`. @example "dbRotator"
   */
  readonly rotatorKey?: pulumi.Input<string>;
}

/** Outputs that may hold a secret. */
export const ESC_SECRET_OUTPUTS = ["yaml", "accessToken"];

/**
 * One Pulumi ESC environment, kept as `yaml` says. Updates are guarded by the environment's
 * ETag: a revision written by someone else since the last deployment (other than an ESC
 * rotation's new `state`) stops the update with `EscConflictError`, and nothing is overwritten.
 * Deleting the resource deletes the environment.
 */
export class EscEnvironment extends pulumi.dynamic.Resource {
  /** ETag of the revision last written or refreshed to. */
  declare readonly etag: pulumi.Output<string>;
  declare readonly organization: pulumi.Output<string>;
  declare readonly project: pulumi.Output<string>;
  declare readonly name: pulumi.Output<string>;

  constructor(name: string, args: EscEnvironmentArgs, opts?: pulumi.CustomResourceOptions) {
    const props = {
      ...args,
      yaml: pulumi.secret(args.yaml),
      accessToken: args.accessToken === undefined ? undefined : pulumi.secret(args.accessToken),
      etag: undefined,
      contentHash: undefined,
    };
    const options = pulumi.mergeOptions(opts, { additionalSecretOutputs: ESC_SECRET_OUTPUTS });
    const served = asPluginResource<EscEnvironment>("EscEnvironment", name, props, options);
    if (served) return served;
    super(escEnvironmentProvider, name, props, options, "postgres-rotator", "EscEnvironment");
  }
}
