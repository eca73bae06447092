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
}

/** Installs echoing mocks and returns the list every registration is appended to. */
export async function mockAndRecord(): Promise<Registration[]> {
  await pulumi.runtime.setMocks(
    {
      newResource: (args) => ({ id: `${args.name}-id`, state: args.inputs }),
      call: (args) => args.inputs,
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
      getObject(): { toJavaScript(): Record<string, unknown> };
      getAdditionalsecretoutputsList(): string[];
    };
    registrations.push({
      type: r.getType(),
      name: r.getName(),
      object: r.getObject().toJavaScript(),
      additionalSecretOutputs: r.getAdditionalsecretoutputsList(),
    });
    original(req, callback);
  };
  return registrations;
}
