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
  /** URN of the parent resource ("" for none). */
  parent: string;
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

/** Echoing mocks with some outputs added, and some invokes answered. */
export interface MockOptions {
  /** Extra outputs of a new resource, by its args. */
  readonly outputsFor?: (args: pulumi.runtime.MockResourceArgs) => Record<string, unknown>;
  /** Results of invokes (data sources); the invoke's inputs by default. */
  readonly call?: (args: pulumi.runtime.MockCallArgs) => Record<string, unknown>;
}

function isMocks(value: pulumi.runtime.Mocks | MockOptions): value is pulumi.runtime.Mocks {
  return "newResource" in value;
}

/**
 * Installs `mocks` (echoing by default, or echoing with `MockOptions` added) for `project` (the
 * name `new pulumi.Config()` reads its keys under) and returns the list every registration is
 * appended to.
 */
export async function mockAndRecord(
  mocks: pulumi.runtime.Mocks | MockOptions = ECHO_MOCKS,
  project = "project",
): Promise<Registration[]> {
  const installed: pulumi.runtime.Mocks = isMocks(mocks)
    ? mocks
    : {
        newResource: (args) => ({
          id: `${args.name}-id`,
          state: { ...args.inputs, ...(mocks.outputsFor?.(args) ?? {}) },
        }),
        call: (args) => mocks.call?.(args) ?? args.inputs,
      };
  await pulumi.runtime.setMocks(installed, project, "stack", false);
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
      getObject(): { toJavaScript(): Record<string, unknown> } | undefined;
      getAdditionalsecretoutputsList(): string[];
      getRetainondelete(): boolean | undefined;
      getParent(): string;
      getDependenciesList(): string[];
      getAliasesList(): { getSpec(): { getName(): string } | undefined }[];
    };
    registrations.push({
      type: r.getType(),
      name: r.getName(),
      object: r.getObject()?.toJavaScript() ?? {},
      additionalSecretOutputs: r.getAdditionalsecretoutputsList(),
      retainOnDelete: r.getRetainondelete(),
      parent: r.getParent(),
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
