/**
 * What `escEnvironmentProvider` does, one function per provider method. One ESC environment's
 * YAML, kept as declared:
 *
 * - every write names the revision it replaces (its ETag): a change that lands in between
 *   fails the update with `EscConflictError` (HTTP 409) and is never overwritten;
 * - a revision made outside Pulumi since the last deployment stops the update too, unless the
 *   only difference is the rotator's `state` (ESC rotated): that state is kept, never rolled back;
 * - `pulumi refresh` accepts the environment as it is now.
 */
import { createHash } from "node:crypto";
import type * as pulumi from "@pulumi/pulumi";
import { parseDocument, isMap } from "yaml";
import { EscConflictError, EscError, ValidationError } from "../errors";
import { escLocationProblems, isUnknown } from "../core/validate";
import { escClient, type EscClient, type EscLocation } from "../esc/client";
import { where } from "../esc/documents";

export interface EscEnvironmentInputs {
  readonly organization: string;
  readonly project: string;
  readonly name: string;
  /** The whole environment definition (secret: it may hold `fn::secret` plaintext). */
  readonly yaml: string;
  readonly accessToken?: string;
  readonly apiUrl?: string;
  /** Key of a `fn::rotate::postgres` whose `state` ESC owns: kept as ESC last wrote it. */
  readonly rotatorKey?: string;
}

/** The inputs (secret ones stay secret: `yaml`, `accessToken`) and what was written. */
export interface EscEnvironmentOutputs extends EscEnvironmentInputs {
  /** ETag of the revision this resource last wrote or refreshed to. */
  readonly etag: string;
  /** Hash of that revision as stored, rotator state left out (to tell ESC rotations apart). */
  readonly contentHash: string;
}

const ROTATE = "fn::rotate::postgres";

export function inputProblems(inputs: Record<string, unknown>): string[] {
  const problems = escLocationProblems(inputs, ["organization", "project", "name"]);
  const token = inputs.accessToken;
  if (
    token !== undefined &&
    !isUnknown(token) &&
    (typeof token !== "string" || token.trim().length === 0)
  ) {
    problems.push("accessToken must be a non-empty string");
  }
  const yaml = inputs.yaml;
  if (!isUnknown(yaml)) {
    if (typeof yaml !== "string") problems.push("yaml must be a string");
    else {
      const doc = parseDocument(yaml);
      if (doc.errors.length > 0) problems.push(`yaml is not valid YAML: ${where(doc.errors[0])}`);
      else if (!isMap(doc.contents) && doc.contents !== null)
        problems.push("yaml must be a mapping");
    }
  }
  return problems;
}

/** The stored YAML's hash with `values.<rotatorKey>.fn::rotate::postgres.state` removed. */
export function contentHash(storedYaml: string, rotatorKey?: string): string {
  const doc = parseDocument(storedYaml);
  if (rotatorKey) doc.deleteIn(["values", rotatorKey, ROTATE, "state"]);
  return createHash("sha256")
    .update(JSON.stringify(doc.toJSON() ?? null))
    .digest("hex");
}

/** `desired` with the rotator's `state` node taken from the stored revision (if it has one). */
function keepStoredState(desired: string, stored: string, rotatorKey: string): string {
  const state = parseDocument(stored).getIn(["values", rotatorKey, ROTATE, "state"], true);
  const doc = parseDocument(desired);
  if (state === undefined || !isMap(doc.getIn(["values", rotatorKey, ROTATE]))) return desired;
  doc.setIn(["values", rotatorKey, ROTATE, "state"], state);
  return doc.toString();
}

function location(inputs: EscEnvironmentInputs): EscLocation {
  return {
    organization: inputs.organization,
    project: inputs.project,
    environment: inputs.name,
    ...(inputs.accessToken ? { accessToken: inputs.accessToken } : {}),
    ...(inputs.apiUrl ? { apiUrl: inputs.apiUrl } : {}),
  };
}

function client(inputs: EscEnvironmentInputs): EscClient {
  return escClient(location(inputs), [inputs.yaml]);
}

async function writeAndRecord(
  esc: EscClient,
  inputs: EscEnvironmentInputs,
  yaml: string,
  etag: string,
): Promise<EscEnvironmentOutputs> {
  const written = await esc.update(yaml, etag);
  let saved = await esc.read();
  if (!saved) throw new EscError("the environment disappeared right after it was written");
  if (written.revision !== undefined && saved.revision !== written.revision) {
    // Someone wrote right after us: record our own revision, not theirs, so that their change
    // is seen as an outside change by the next update instead of being overwritten by it.
    const ours = await esc.readRevision(written.revision);
    if (!ours) throw new EscError(`revision ${written.revision}, just written, was not found`);
    saved = { ...ours, etag: written.etag ?? ours.etag };
  }
  return { ...inputs, etag: saved.etag, contentHash: contentHash(saved.yaml, inputs.rotatorKey) };
}

export async function check(
  _olds: Record<string, unknown>,
  news: Record<string, unknown>,
): Promise<pulumi.dynamic.CheckResult> {
  return {
    inputs: news,
    failures: inputProblems(news).map((reason) => ({ property: reason.split(" ")[0], reason })),
  };
}

export async function diff(
  _id: string,
  olds: EscEnvironmentOutputs,
  news: EscEnvironmentInputs,
): Promise<pulumi.dynamic.DiffResult> {
  const replaces = (["organization", "project", "name", "apiUrl"] as const).filter(
    (k) => (olds[k] ?? "") !== (news[k] ?? ""),
  );
  const changed =
    replaces.length > 0 || olds.yaml !== news.yaml || olds.rotatorKey !== news.rotatorKey;
  return { changes: changed, replaces, deleteBeforeReplace: true };
}

export async function create(inputs: EscEnvironmentInputs): Promise<pulumi.dynamic.CreateResult> {
  const problems = inputProblems(inputs as unknown as Record<string, unknown>);
  if (problems.length > 0) throw new ValidationError(problems);
  const esc = client(inputs);
  await esc.create();
  const fresh = await esc.read();
  if (!fresh) throw new EscError("the environment was not found right after it was created");
  const outs = await writeAndRecord(esc, inputs, inputs.yaml, fresh.etag);
  return { id: `${inputs.organization}/${inputs.project}/${inputs.name}`, outs };
}

export async function update(
  _id: string,
  olds: EscEnvironmentOutputs,
  news: EscEnvironmentInputs,
): Promise<pulumi.dynamic.UpdateResult> {
  const problems = inputProblems(news as unknown as Record<string, unknown>);
  if (problems.length > 0) throw new ValidationError(problems);
  const esc = client(news);
  const latest = await esc.read();
  const where = `${news.organization}/${news.project}/${news.name}`;
  if (!latest) {
    throw new EscError(
      `ESC environment ${where} was deleted outside Pulumi; run \`pulumi refresh\``,
    );
  }
  if (latest.etag !== olds.etag && contentHash(latest.yaml, olds.rotatorKey) !== olds.contentHash) {
    throw new EscConflictError(
      `ESC environment ${where} was changed outside Pulumi since the last deployment; nothing was ` +
        `overwritten. Run \`pulumi refresh\` to accept its current revision, then \`pulumi up\``,
      { status: 409 },
    );
  }
  const yaml = news.rotatorKey
    ? keepStoredState(news.yaml, latest.yaml, news.rotatorKey)
    : news.yaml;
  return { outs: await writeAndRecord(esc, news, yaml, latest.etag) };
}

export async function read(
  id: string,
  props: EscEnvironmentOutputs,
): Promise<pulumi.dynamic.ReadResult> {
  const latest = await client(props).read();
  if (!latest) return { id: undefined as unknown as string, props: {} };
  return {
    id,
    props: { ...props, etag: latest.etag, contentHash: contentHash(latest.yaml, props.rotatorKey) },
  };
}

export async function remove(_id: string, props: EscEnvironmentOutputs): Promise<void> {
  await client(props).remove();
}
