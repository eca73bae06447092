/**
 * The pure parts of `LambdaConnector`: the IAM policy documents (the execution role's trust, the
 * invocation role's ESC OIDC trust, the invoke-only permission), the ESC subject and audience
 * they require, and the checks of the inputs they are built from. Data in, data out: no AWS and
 * no resources here, so each is unit-tested on its own (test/components/policies.test.ts).
 */
import * as pulumi from "@pulumi/pulumi";
import { escLocationProblems } from "../provider/core/validate";

/**
 * The ESC OIDC `subjectAttributes` whose values this component can predict, hence trust
 * exactly. `pulumi.user.login` (whoever opens the environment) is not one of them: trusting it
 * would take a wildcard.
 */
export type EscSubjectAttribute =
  "rootEnvironment.name" | "currentEnvironment.name" | "pulumi.organization.login";

export const ESC_SUBJECT_ATTRIBUTES: readonly EscSubjectAttribute[] = [
  "rootEnvironment.name",
  "currentEnvironment.name",
  "pulumi.organization.login",
];

/**
 * The attributes whose value names an environment: a subject must hold one of them, or it
 * names only the organization (`pulumi.organization.login` alone).
 */
const ENVIRONMENT_ATTRIBUTES: readonly unknown[] = [
  "rootEnvironment.name",
  "currentEnvironment.name",
];

/** An IAM OIDC provider ARN: `arn:aws:iam::<account>:oidc-provider/<issuer host and path>`. */
export const OIDC_PROVIDER_ARN = /^arn:aws[a-z-]*:iam::\d{12}:oidc-provider\/\S+$/;

/** One plain IPv4 CIDR block (`10.0.0.0/16`): four octets up to 255, a prefix up to 32. */
export function isIpv4Cidr(value: string): boolean {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(value);
  if (!match) return false;
  const [a, b, c, d, bits] = match.slice(1).map(Number);
  return [a, b, c, d].every((octet) => octet <= 255) && bits <= 32;
}

/** Lambda may assume the execution role; nothing else may. */
export function lambdaTrustPolicy() {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Principal: { Service: "lambda.amazonaws.com" },
        Action: "sts:AssumeRole",
      },
    ],
  };
}

/** Which ESC environments' tokens the invocation role trusts. */
export interface EscTrustSubject {
  /** The organization. */
  readonly org: string;
  /** The project of both environments (`"default"`: the legacy project). */
  readonly project: string;
  /** The rotator environment (`rootEnvironment.name`). */
  readonly env: string;
  /** The environment holding the login (`currentEnvironment.name`). */
  readonly credentialsEnvironment?: string;
  /** The login's `subjectAttributes`, in order; absent: ESC's default subject. */
  readonly subjectAttributes?: readonly EscSubjectAttribute[];
}

/** A subject's fields named as `LambdaConnector`'s inputs, for `escTrustProblems`. */
export function trustInputs(s: EscTrustSubject) {
  return {
    escOrganization: s.org,
    escProject: s.project,
    escEnvironment: s.env,
    escCredentialsEnvironment: s.credentialsEnvironment,
    escSubjectAttributes: s.subjectAttributes,
  };
}

/**
 * Problems with the inputs the trust policy is built from, named as `LambdaConnector`'s inputs.
 * Values not known yet (Outputs, promises) are skipped. Every name must be an ESC name, so that
 * no `*`, `?` or `:` can widen the subject the policy matches, and `escSubjectAttributes` must
 * name an environment (`rootEnvironment.name` or `currentEnvironment.name`): the subject of
 * `["pulumi.organization.login"]` is the same for every environment of the organization.
 */
export function escTrustProblems(t: {
  readonly escOrganization?: unknown;
  readonly escProject?: unknown;
  readonly escEnvironment?: unknown;
  readonly escCredentialsEnvironment?: unknown;
  readonly escSubjectAttributes?: unknown;
}): string[] {
  const pending = (v: unknown) =>
    pulumi.Output.isInstance(v) || (typeof v === "object" && v !== null && "then" in v);
  const names: Record<string, unknown> = {
    escOrganization: t.escOrganization,
    escProject: t.escProject,
    escEnvironment: t.escEnvironment,
    escCredentialsEnvironment: t.escCredentialsEnvironment,
  };
  const checked = Object.keys(names).filter(
    (key) =>
      !pending(names[key]) && !(key === "escCredentialsEnvironment" && names[key] === undefined),
  );
  const problems = escLocationProblems(names, checked);
  const attributes = t.escSubjectAttributes;
  if (attributes === undefined) return problems;
  if (!Array.isArray(attributes) || attributes.length === 0) {
    return [
      ...problems,
      "escSubjectAttributes must list one or more of " +
        `${ESC_SUBJECT_ATTRIBUTES.join(", ")}; leave it out for ESC's default subject`,
    ];
  }
  attributes.forEach((attribute: unknown, i) => {
    if (attribute === "pulumi.user.login") {
      problems.push(
        "escSubjectAttributes cannot hold pulumi.user.login: whoever opens the environment " +
          "cannot be known in advance, and trusting any user would take a wildcard",
      );
    } else if (!ESC_SUBJECT_ATTRIBUTES.includes(attribute as EscSubjectAttribute)) {
      problems.push(
        `escSubjectAttributes[${i}] must be one of ${ESC_SUBJECT_ATTRIBUTES.join(", ")}, ` +
          `not ${JSON.stringify(attribute)}`,
      );
    } else if (attributes.indexOf(attribute) !== i) {
      problems.push(`escSubjectAttributes lists ${String(attribute)} twice`);
    }
  });
  if (!attributes.some((attribute: unknown) => ENVIRONMENT_ATTRIBUTES.includes(attribute))) {
    // ESC writes only the organization then: any environment of it may ask for that subject.
    problems.push(
      `escSubjectAttributes ${JSON.stringify(attributes)} names no environment: list ` +
        "rootEnvironment.name (the rotator environment) or currentEnvironment.name (the " +
        "environment holding the login); otherwise any environment of the organization whose " +
        "login asks for the same attributes may invoke the connector",
    );
  }
  if (attributes.includes("currentEnvironment.name") && t.escCredentialsEnvironment === undefined) {
    problems.push(
      "escCredentialsEnvironment is required when escSubjectAttributes lists " +
        "currentEnvironment.name: it is the environment holding the login",
    );
  }
  return problems;
}

/** An environment's name as ESC writes it in claims: no project part in `default`. */
function environmentName(project: string, env: string): string {
  return project === "default" ? env : `${project}/${env}`;
}

/** The token's audience: `aws:<org>`, or `<org>` for the legacy `default` project. */
export function escAudience(org: string, project: string): string {
  return project === "default" ? org : `aws:${org}`;
}

/**
 * The subject ESC sends when the rotator environment opens the login. With
 * `subjectAttributes`: `pulumi:environments:pulumi.organization.login:<org>` then
 * `:<attribute>:<value>` per attribute in order, matched exactly. Without: ESC's default
 * `pulumi:environments:org:<org>:env:<project>/<env>` (`…:env:<env>` in `default`), matched
 * exactly or followed by `:`-separated parts.
 */
export function escSubject(s: EscTrustSubject): { subject: string; exact: boolean } {
  if (!s.subjectAttributes) {
    return {
      subject: `pulumi:environments:org:${s.org}:env:${environmentName(s.project, s.env)}`,
      exact: false,
    };
  }
  const value = (attribute: EscSubjectAttribute): string => {
    switch (attribute) {
      case "rootEnvironment.name":
        return environmentName(s.project, s.env);
      case "currentEnvironment.name":
        return environmentName(s.project, s.credentialsEnvironment ?? "");
      case "pulumi.organization.login":
        return s.org;
    }
  };
  const pairs = s.subjectAttributes.map((attribute) => `:${attribute}:${value(attribute)}`);
  return {
    subject: `pulumi:environments:pulumi.organization.login:${s.org}${pairs.join("")}`,
    exact: true,
  };
}

/**
 * Only tokens from the Pulumi OIDC issuer, through `providerArn`, for the organization's
 * audience, whose subject is the rotator's (see `escSubject`), may assume the role. Throws on
 * the problems `escTrustProblems` reports.
 */
export function escTrustPolicy(p: EscTrustSubject & { providerArn: string; issuer: string }) {
  const problems = escTrustProblems(trustInputs(p));
  if (problems.length > 0) throw new Error(`escTrustPolicy: ${problems.join("; ")}`);
  const host = p.issuer.replace(/^https:\/\//, "").replace(/\/+$/, "");
  const audience = { [`${host}:aud`]: escAudience(p.org, p.project) };
  const { subject, exact } = escSubject(p);
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Principal: { Federated: p.providerArn },
        Action: "sts:AssumeRoleWithWebIdentity",
        Condition: exact
          ? { StringEquals: { ...audience, [`${host}:sub`]: subject } }
          : {
              StringEquals: audience,
              StringLike: { [`${host}:sub`]: [subject, `${subject}:*`] },
            },
      },
    ],
  };
}

/** The two Lambda actions ESC needs, on this one function, and nothing else. */
export function invokePolicy(functionArn: string) {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Action: ["lambda:InvokeFunction", "lambda:GetFunction"],
        Resource: functionArn,
      },
    ],
  };
}
