/** Pulumi mocks, plus a record of what the SDK sends to the engine for each resource. */
import * as pulumi from "@pulumi/pulumi";
import { getMonitor } from "@pulumi/pulumi/runtime/settings";

/** The secret marker Pulumi's wire format wraps secret values in. */
export const SECRET_SIG = "4dabf18193072939515e22adb298388d";

export interface Registration {
  type: string;
  name: string;
  /** The inputs as sent on the wire, secrets still wrapped in `SECRET_SIG` objects. */
  object: Record<string, unknown>;
  additionalSecretOutputs: string[];
  /** The `retainOnDelete` resource option as sent (undefined when not set). */
  retainOnDelete: boolean | undefined;
  /** URNs of the resources this one depends on (explicit `dependsOn` and its inputs' resources). */
  dependencies: string[];
  /** The names of its aliases given as `{ name }` specs. */
  aliasNames: string[];
}

/** Echoing mocks: every resource's state is its inputs, every invoke answers its arguments. */
export const ECHO_MOCKS: pulumi.runtime.Mocks = {
  newResource: (args) => ({ id: `${args.name}-id`, state: args.inputs }),
  call: (args) => args.inputs,
};

/** Installs `mocks` (echoing by default) and returns the list every registration is appended to. */
export async function mockAndRecord(
  mocks: pulumi.runtime.Mocks = ECHO_MOCKS,
): Promise<Registration[]> {
  await pulumi.runtime.setMocks(mocks, "project", "stack", false);
  const registrations: Registration[] = [];
  // Record the request before the mock monitor deserializes it.
  const monitor = getMonitor() as unknown as {
    registerResource(req: unknown, callback: unknown): void;
  };
  const original = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req: never, callback: never) => {
    const r = req as {
      getType(): string;
      getName(): string;
      getObject(): { toJavaScript(): Record<string, unknown> };
      getAdditionalsecretoutputsList(): string[];
      getRetainondelete(): boolean | undefined;
      getDependenciesList(): string[];
      getAliasesList(): { getSpec(): { getName(): string } | undefined }[];
    };
    registrations.push({
      type: r.getType(),
      name: r.getName(),
      object: r.getObject().toJavaScript(),
      additionalSecretOutputs: r.getAdditionalsecretoutputsList(),
      retainOnDelete: r.getRetainondelete(),
      dependencies: r.getDependenciesList(),
      aliasNames: r
        .getAliasesList()
        .map((alias) => alias.getSpec()?.getName() ?? "")
        .filter((n) => n !== ""),
    });
    original(req, callback);
  };
  return registrations;
}
