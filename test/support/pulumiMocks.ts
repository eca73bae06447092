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
  /** URN of the parent resource ("" for none). */
  parent: string;
  /** URNs this resource was registered as depending on. */
  dependencies: string[];
}

export interface MockOptions {
  /** Extra outputs of a new resource, by its args (echoing the inputs is the default). */
  readonly outputsFor?: (args: pulumi.runtime.MockResourceArgs) => Record<string, unknown>;
  /** Results of invokes (data sources); the invoke's inputs by default. */
  readonly call?: (args: pulumi.runtime.MockCallArgs) => Record<string, unknown>;
}

/** Installs echoing mocks and returns the list every registration is appended to. */
export async function mockAndRecord(options: MockOptions = {}): Promise<Registration[]> {
  await pulumi.runtime.setMocks(
    {
      newResource: (args) => ({
        id: `${args.name}-id`,
        state: { ...args.inputs, ...(options.outputsFor?.(args) ?? {}) },
      }),
      call: (args) => options.call?.(args) ?? args.inputs,
    },
    "project",
    "stack",
    false,
  );
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
      getParent(): string;
      getDependenciesList(): string[];
    };
    registrations.push({
      type: r.getType(),
      name: r.getName(),
      object: r.getObject()?.toJavaScript() ?? {},
      additionalSecretOutputs: r.getAdditionalsecretoutputsList(),
      parent: r.getParent(),
      dependencies: r.getDependenciesList(),
    });
    original(req, callback);
  };
  return registrations;
}
