/**
 * What `escEnvironmentProvider` does, one function per provider method. One ESC environment's
 * YAML, kept as declared:
 *
 * - every write names the revision it replaces (its ETag): a change that lands in between
 *   fails the update with `EscConflictError` (HTTP 409) and is never overwritten;
 * - a revision made outside Pulumi since the last deployment stops the update too, unless the
 *   only difference is the rotator's `state` (ESC rotated): that state is kept, never rolled back;
 * - `pulumi refresh` accepts the environment as it is now;
 * - `check` reads the YAML exactly as `create` does, so a document it accepts is never written
 *   and then refused; a create that failed midway leaves an environment the next create takes
 *   over only if it is still empty or holds just this document, else it stops and says how.
 */
import { createHash } from "node:crypto";
import type * as pulumi from "@pulumi/pulumi";
import { parseDocument, isMap, type Document } from "yaml";
import { EscConflictError, EscError, ValidationError } from "../errors";
import { escLocationProblems, isUnknown } from "../core/validate";
import { escClient, type EscClient, type EscDocument, type EscLocation } from "../esc/client";
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
      const parsed = parseEnvironment(yaml);
      if ("problem" in parsed) problems.push(`yaml ${parsed.problem}`);
      else if (!isMap(parsed.doc.contents) && parsed.doc.contents !== null) {
        problems.push("yaml must be a mapping");
      }
    }
  }
  return problems;
}

/**
 * An environment's YAML read the one way every step reads it (check, create, update, refresh):
 * parsed, and its plain value built, so that a document `check` accepts never fails later.
 * Building the value is where the parser refuses a document whose aliases expand too much
 * (`yaml`'s guard against alias bombs, 100 expansions), which parsing alone does not show.
 * A problem names the position or the kind, never the text (it may hold a secret).
 */
export function parseEnvironment(
  yaml: string,
): { readonly doc: Document; readonly value: unknown } | { readonly problem: string } {
  const doc = parseDocument(yaml);
  if (doc.errors.length > 0) return { problem: `is not valid YAML: ${where(doc.errors[0])}` };
  try {
    return { doc, value: doc.toJSON() };
  } catch (error) {
    const message = String((error as Error)?.message);
    return {
      problem: /^Excessive alias count/.test(message)
        ? "has too many aliases (*anchor references) to read: the YAML parser stops at 100 " +
          "expansions, its guard against alias bombs; write some of the values out in full"
        : /^Unresolved alias/.test(message)
          ? "has an alias (*name) before the anchor (&name) it refers to"
          : `cannot be read (${(error as Error)?.name ?? "error"})`,
    };
  }
}

/** `parseEnvironment`'s document, or an `EscError` for an environment that is not one. */
function environmentDocument(yaml: string, what: string): { doc: Document; value: unknown } {
  const parsed = parseEnvironment(yaml);
  if ("problem" in parsed) throw new EscError(`${what} ${parsed.problem}`);
  return parsed;
}

/** The stored YAML's hash with `values.<rotatorKey>.fn::rotate::postgres.state` removed. */
export function contentHash(storedYaml: string, rotatorKey?: string): string {
  const { doc } = environmentDocument(storedYaml, "the environment as ESC stores it");
  // A key the document does not hold as a rotator has no state to leave out (deleteIn would
  // throw the yaml library's "Expected YAML collection" after the write had landed).
  if (rotatorKey && isMap(doc.getIn(["values", rotatorKey, ROTATE]))) {
    doc.deleteIn(["values", rotatorKey, ROTATE, "state"]);
  }
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

/**
 * Creates the environment and reads it back. One that exists already is taken over only when it
 * is what an earlier create of this resource left when it failed midway (ESC made it, Pulumi
 * recorded nothing): still empty, or holding this very document (secrets aside: ESC stores
 * them encrypted) as its first write. Anything else may be someone's environment: it
 * is refused, untouched, saying how to go on.
 */
async function createOrAdopt(esc: EscClient, inputs: EscEnvironmentInputs): Promise<EscDocument> {
  const name = `${inputs.organization}/${inputs.project}/${inputs.name}`;
  try {
    await esc.create();
  } catch (error) {
    if (!(error instanceof EscError && error.status === 409)) throw error;
    const existing = await esc.read();
    if (existing && leftByFailedCreate(existing, inputs.yaml)) return existing;
    throw new EscError(
      `ESC environment ${name} already exists, and not as an earlier create of this resource ` +
        `left it; nothing was changed. Delete it (\`pulumi env rm ${name}\`) if nothing in it is ` +
        `needed, or choose another environment name`,
      { status: 409, cause: error },
    );
  }
  const fresh = await esc.read();
  if (!fresh) throw new EscError("the environment was not found right after it was created");
  return fresh;
}

/**
 * True when `stored` is empty (made, never written), or is `desired` (secrets aside) as the one
 * write after the empty revision 1 made it, revision 2: the trace a failed create leaves.
 */
function leftByFailedCreate(stored: EscDocument, desired: string): boolean {
  const parsed = parseEnvironment(stored.yaml);
  if ("problem" in parsed) return false;
  if (isEmpty(parsed.value)) return true;
  const wanted = parseEnvironment(desired);
  return (
    stored.revision === 2 &&
    !("problem" in wanted) &&
    secretsMasked(parsed.value) === secretsMasked(wanted.value)
  );
}

/** Nothing but empty mappings, empty lists and nulls. */
function isEmpty(value: unknown): boolean {
  if (value === null || value === undefined) return true;
  if (Array.isArray(value)) return value.length === 0;
  return typeof value === "object" && Object.values(value).every(isEmpty);
}

/** The value as JSON, every `fn::secret` (plaintext or ciphertext) the same placeholder. */
function secretsMasked(value: unknown): string {
  return JSON.stringify(value ?? null, (key, v) => (key === "fn::secret" ? "<secret>" : v));
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
  const fresh = await createOrAdopt(esc, inputs);
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
