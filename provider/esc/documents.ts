/**
 * The two Pulumi ESC environment documents the seed prescribes, built and edited as YAML.
 * Pure: no I/O.
 *
 * - The credentials environment (admins only): `managingUser` with its password as
 *   `fn::secret`, and, with a Lambda connector, `awsLogin` through `fn::open::aws-login` OIDC.
 * - The rotator environment: `fn::rotate::postgres` with `inputs` that reference the
 *   credentials environment (`${environments.<project>.<env>.<path>}`), and `state`.
 *
 * Edits go through the `yaml` Document API so that a user's comments and layout elsewhere in
 * the document survive, and so that updating `inputs` never touches `state` and vice versa.
 */
import { Document, isMap, parseDocument } from "yaml";
import type { Credential, PreviousCredential, RotationState, UserPair } from "../core/types";
import { EscError } from "../errors";

export const DEFAULT_ROTATOR_KEY = "dbRotator";
const ROTATE = "fn::rotate::postgres";

export interface CredentialsEnvironmentSpec {
  readonly managingUser: Credential;
  /** With a Lambda connector: the role ESC assumes to invoke it (LambdaConnector.invocationRoleArn). */
  readonly awsLogin?: {
    readonly roleArn: string;
    /** @default "pulumi-esc-secret-rotator" */
    readonly sessionName?: string;
    /** @default "1h" */
    readonly duration?: string;
    /**
     * ESC's `subjectAttributes` for the OIDC token: the subject becomes
     * `pulumi:environments:pulumi.organization.login:<org>` followed by `:<attribute>:<value>`
     * for each, in this order. Give `LambdaConnector` the same list (`escSubjectAttributes`) so
     * its trust policy expects that subject.
     * @default none (left out: ESC's default subject `pulumi:environments:org:<org>:env:<project>/<env>`)
     * @example ["currentEnvironment.name"]
     */
    readonly subjectAttributes?: readonly string[];
  };
}

export interface EnvironmentRef {
  readonly project: string;
  readonly environment: string;
}

export interface RotatorEnvironmentSpec {
  /** Where `managingUser` (and `awsLogin`) live. */
  readonly credentials: EnvironmentRef;
  readonly database: { readonly host: string; readonly port: number; readonly database: string };
  /** The connector Lambda; without it ESC connects to the database directly. */
  readonly lambdaArn?: string;
  readonly rotateUsers: UserPair;
  readonly state?: RotationState;
  /** The key under `values`. @default "dbRotator" */
  readonly key?: string;
}

/** `${environments.<project>.<env>.<path>}`: an implicit import of another environment's value. */
export function environmentReference(ref: EnvironmentRef, path: string): string {
  return `\${environments.${ref.project}.${ref.environment}.${path}}`;
}

/**
 * `value`, refused when it holds `${`: ESC reads that as an interpolation in any string of an
 * environment, so a name or password holding it would not be what ESC serves.
 */
function plain(value: string, what: string): string {
  if (value.includes("${")) {
    throw new EscError(
      `${what} holds "\${", which Pulumi ESC would read as an interpolation; it cannot go into an ` +
        `ESC environment as it is`,
    );
  }
  return value;
}

const secret = (value: string, what = "a password") => ({ "fn::secret": plain(value, what) });

export function credentialsEnvironmentYaml(spec: CredentialsEnvironmentSpec): string {
  const values: Record<string, unknown> = {
    managingUser: {
      username: plain(spec.managingUser.username, "the managing user's name"),
      password: secret(spec.managingUser.password, "the managing user's password"),
    },
  };
  if (spec.awsLogin) {
    values.awsLogin = {
      "fn::open::aws-login": {
        oidc: {
          duration: spec.awsLogin.duration ?? "1h",
          roleArn: spec.awsLogin.roleArn,
          sessionName: spec.awsLogin.sessionName ?? "pulumi-esc-secret-rotator",
          ...(spec.awsLogin.subjectAttributes?.length
            ? { subjectAttributes: [...spec.awsLogin.subjectAttributes] }
            : {}),
        },
      },
    };
  }
  return new Document({ values }).toString();
}

/** The `inputs` node of `fn::rotate::postgres`, in the seed's key order. */
export function rotatorInputs(spec: RotatorEnvironmentSpec): Record<string, unknown> {
  const { credentials, database } = spec;
  return {
    database: {
      ...(spec.lambdaArn
        ? {
            connector: {
              awsLambda: {
                login: environmentReference(credentials, "awsLogin"),
                lambdaArn: spec.lambdaArn,
              },
            },
          }
        : {}),
      database: plain(database.database, "the database name"),
      host: plain(database.host, "the database host"),
      port: database.port,
      managingUser: environmentReference(credentials, "managingUser"),
    },
    rotateUsers: {
      username1: plain(spec.rotateUsers.username1, "rotateUsers.username1"),
      username2: plain(spec.rotateUsers.username2, "rotateUsers.username2"),
    },
  };
}

/** The `state` node: passwords as `fn::secret`, keys in the order ESC writes them. */
export function stateNode(state: RotationState): Record<string, unknown> {
  const credential = (c: PreviousCredential) => ({
    ...(c.password !== undefined
      ? { password: secret(c.password, `the password of "${c.username}"`) }
      : {}),
    username: plain(c.username, "a rotated user's name"),
  });
  return {
    current: credential(state.current),
    ...(state.previous ? { previous: credential(state.previous) } : {}),
  };
}

export function rotatorEnvironmentYaml(spec: RotatorEnvironmentSpec): string {
  const rotator: Record<string, unknown> = { inputs: rotatorInputs(spec) };
  if (spec.state) rotator.state = stateNode(spec.state);
  return new Document({
    values: { [spec.key ?? DEFAULT_ROTATOR_KEY]: { [ROTATE]: rotator } },
  }).toString();
}

/** `yamlText` with the rotator's `state` replaced (a new `state` is added if there was none). */
export function withRotatorState(yamlText: string, key: string, state: RotationState): string {
  const doc = rotatorDocument(yamlText, key);
  doc.setIn(["values", key, ROTATE, "state"], doc.createNode(stateNode(state)));
  return doc.toString();
}

/** `yamlText` with the rotator's `inputs` replaced; its `state`, newer or not, is kept. */
export function withRotatorInputs(
  yamlText: string,
  key: string,
  inputs: Record<string, unknown>,
): string {
  const doc = rotatorDocument(yamlText, key);
  doc.setIn(["values", key, ROTATE, "inputs"], doc.createNode(inputs));
  return doc.toString();
}

/** The `state` node as written in the YAML (secrets as they are stored), or undefined. */
export function rotatorStateNode(yamlText: string, key: string): unknown {
  const node = rotatorDocument(yamlText, key).getIn(["values", key, ROTATE, "state"]);
  return isMap(node) ? node.toJSON() : undefined;
}

function rotatorDocument(yamlText: string, key: string) {
  const doc = parseDocument(yamlText);
  if (doc.errors.length > 0)
    throw new EscError(`the environment is not valid YAML: ${where(doc.errors[0])}`);
  if (!isMap(doc.getIn(["values", key, ROTATE]))) {
    throw new EscError(`the environment has no values.${key}.${ROTATE}`);
  }
  return doc;
}

/**
 * Where a YAML error is, by its code and position only: the parser's message quotes the text
 * around it, which may hold a `fn::secret` value.
 */
export function where(error: {
  code: string;
  linePos?: readonly { line: number; col: number }[];
}): string {
  const at = error.linePos?.[0];
  return at ? `${error.code} at line ${at.line}, column ${at.col}` : error.code;
}

/** Every plaintext `fn::secret` value in `yamlText` (to keep out of messages); [] if unparsable. */
export function secretsIn(yamlText: string): string[] {
  const found: string[] = [];
  const visit = (node: unknown) => {
    if (Array.isArray(node)) node.forEach(visit);
    else if (node && typeof node === "object") {
      for (const [k, v] of Object.entries(node)) {
        if (k === "fn::secret" && typeof v === "string") found.push(v);
        else visit(v);
      }
    }
  };
  try {
    visit(parseDocument(yamlText).toJSON());
  } catch {
    // Not YAML: nothing to collect; the caller redacts the whole text anyway.
  }
  return found;
}

/**
 * The rotator's opened value (`{current, previous}` with secrets revealed) as a state, or
 * undefined when it has none yet. Throws on anything else.
 */
export function stateFromOpenedValue(value: unknown): RotationState | undefined {
  if (value === undefined || value === null) return undefined;
  const v = value as { current?: Partial<Credential>; previous?: Partial<PreviousCredential> };
  if (!v.current) return undefined;
  if (typeof v.current.username !== "string" || typeof v.current.password !== "string") {
    throw new EscError("the rotator's current credentials in ESC are incomplete");
  }
  const current = { username: v.current.username, password: v.current.password };
  if (!v.previous || typeof v.previous.username !== "string") return { current };
  return {
    current,
    previous: {
      username: v.previous.username,
      ...(typeof v.previous.password === "string" ? { password: v.previous.password } : {}),
    },
  };
}
