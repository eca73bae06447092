/** Drives `postgresRotationProvider` the way the Pulumi engine does: check, diff, create, update. */
import { expect } from "chai";
import type * as pulumi from "@pulumi/pulumi";
import type { RotationOutputs } from "../../provider/core/outputs";
import type { RotationInputs } from "../../provider/core/types";

export interface ProviderLike {
  check?: pulumi.dynamic.ResourceProvider["check"];
  diff?: pulumi.dynamic.ResourceProvider["diff"];
  create: pulumi.dynamic.ResourceProvider["create"];
  update?: pulumi.dynamic.ResourceProvider["update"];
  read?: pulumi.dynamic.ResourceProvider["read"];
  delete?: pulumi.dynamic.ResourceProvider["delete"];
}

/** A resource's life as the engine would drive it: create, then updates with diffs. */
export class Lifecycle {
  id = "";
  outputs?: RotationOutputs;
  constructor(private readonly provider: ProviderLike) {}

  async create(inputs: RotationInputs): Promise<RotationOutputs> {
    const checked = await this.provider.check!({}, inputs);
    expect(checked.failures ?? []).to.deep.equal([]);
    const result = await this.provider.create(checked.inputs as RotationInputs);
    this.id = result.id;
    this.outputs = result.outs as RotationOutputs;
    return this.outputs;
  }

  /** Diff then update when the diff asks for it; returns the diff. */
  async apply(inputs: RotationInputs): Promise<pulumi.dynamic.DiffResult> {
    const checked = await this.provider.check!(this.outputs!, inputs);
    expect(checked.failures ?? []).to.deep.equal([]);
    const diff = await this.provider.diff!(this.id, this.outputs!, checked.inputs);
    if (diff.replaces?.length) throw new Error("replacement requested");
    if (diff.changes) {
      const result = await this.provider.update!(this.id, this.outputs!, checked.inputs);
      this.outputs = result.outs as RotationOutputs;
    }
    return diff;
  }
}
