/**
 * The provider the plugin serves: a dispatcher on the type in the URN (custom resources) or the
 * type token (components), over `./customResources` and `./components`. It holds nothing but
 * its version, its schema and those tables; every behaviour is a handler's or a constructor's.
 */
import type * as pulumi from "@pulumi/pulumi";
import { CUSTOM_RESOURCES } from "./customResources";
import { components } from "./components";

type CustomResource = (typeof CUSTOM_RESOURCES)[keyof typeof CUSTOM_RESOURCES];

/** The schema's fields that this dispatcher reads. */
export interface SchemaSpec {
  readonly name: string;
  readonly resources: Readonly<
    Record<string, { readonly isComponent?: boolean; readonly properties?: object }>
  >;
}

/** The resource type of a URN (`urn:pulumi:<stack>::<project>::<parent$…$type>::<name>`). */
export function typeOfUrn(urn: string): string {
  const qualified = urn.split("::")[2] ?? "";
  return qualified.split("$").pop() ?? "";
}

export class RotatorProvider implements pulumi.provider.Provider {
  readonly schema: string;
  private readonly constructs: ReturnType<typeof components>;

  constructor(
    readonly version: string,
    spec: SchemaSpec,
  ) {
    this.schema = JSON.stringify(spec);
    this.constructs = components((token) => Object.keys(spec.resources[token]?.properties ?? {}));
  }

  private resource(urn: string): CustomResource {
    const type = typeOfUrn(urn);
    const found = (CUSTOM_RESOURCES as Record<string, CustomResource>)[type];
    if (!found) throw new Error(`unknown resource type ${type}`);
    return found;
  }

  async check(urn: string, olds: unknown, news: unknown): Promise<pulumi.provider.CheckResult> {
    return this.resource(urn).check(urn, olds, news);
  }

  async diff(id: string, urn: string, olds: unknown, news: unknown) {
    return this.resource(urn).diff(id, urn, olds, news);
  }

  async create(urn: string, inputs: unknown): Promise<pulumi.provider.CreateResult> {
    return this.resource(urn).create(urn, inputs);
  }

  async read(id: string, urn: string, props?: unknown): Promise<pulumi.provider.ReadResult> {
    return this.resource(urn).read(id, urn, props);
  }

  async update(id: string, urn: string, olds: unknown, news: unknown) {
    return this.resource(urn).update(id, urn, olds, news);
  }

  async delete(id: string, urn: string, props: unknown): Promise<void> {
    return this.resource(urn).delete(id, urn, props);
  }

  async construct(
    name: string,
    type: string,
    inputs: pulumi.Inputs,
    options: pulumi.ComponentResourceOptions,
  ): Promise<pulumi.provider.ConstructResult> {
    const construct = this.constructs[type];
    if (!construct) throw new Error(`unknown component type ${type}`);
    return construct(name, type, inputs, options);
  }
}
