/** Reading a `pulumi stack export` deployment. */

interface ExportedResource {
  readonly type?: string;
  readonly urn?: string;
  readonly inputs?: Record<string, unknown>;
  readonly outputs?: Record<string, unknown>;
}

/** The serialized provider (`__provider`) of every dynamic resource in the deployment. */
export function findProviderSources(deployment: unknown): string[] {
  const resources = ((deployment as { resources?: ExportedResource[] }).resources ?? []).filter(
    (r) => r.type?.startsWith("pulumi-nodejs:dynamic") === true,
  );
  return resources.map((r) => String(r.outputs?.__provider ?? r.inputs?.__provider ?? ""));
}
