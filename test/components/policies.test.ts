/** The connector's pure IAM policy builders and their input checks (no Pulumi engine, no AWS). */
import { expect } from "chai";
import fc from "fast-check";
import * as pulumi from "@pulumi/pulumi";
import {
  ESC_SUBJECT_ATTRIBUTES,
  escAudience,
  escSubject,
  escTrustPolicy,
  escTrustProblems,
  invokePolicy,
  isIpv4Cidr,
  lambdaTrustPolicy,
  OIDC_PROVIDER_ARN,
  type EscTrustSubject,
} from "../../components/policies";

const PROVIDER_ARN = "arn:aws:iam::123456789012:oidc-provider/api.pulumi.com/oidc";
const ISSUER = "https://api.pulumi.com/oidc";
const ROTATOR: EscTrustSubject = { org: "acme", project: "payments", env: "db-rotator" };

/** A trust policy's one statement, around the given condition. */
const trusting = (condition: Record<string, unknown>, providerArn = PROVIDER_ARN) => ({
  Version: "2012-10-17",
  Statement: [
    {
      Effect: "Allow",
      Principal: { Federated: providerArn },
      Action: "sts:AssumeRoleWithWebIdentity",
      Condition: condition,
    },
  ],
});

/** A subject's fields named as `LambdaConnector`'s inputs. */
const inputs = (s: EscTrustSubject) => ({
  escOrganization: s.org,
  escProject: s.project,
  escEnvironment: s.env,
  escCredentialsEnvironment: s.credentialsEnvironment,
  escSubjectAttributes: s.subjectAttributes,
});

const policy = (s: Partial<EscTrustSubject>) =>
  escTrustPolicy({ ...ROTATOR, ...s, providerArn: PROVIDER_ARN, issuer: ISSUER });

describe("components/policies", () => {
  describe("escTrustPolicy", () => {
    it("with several subjectAttributes: one pair each, in the order listed", () => {
      expect(
        policy({
          subjectAttributes: [
            "rootEnvironment.name",
            "pulumi.organization.login",
            "currentEnvironment.name",
          ],
          credentialsEnvironment: "db-credentials",
        }),
      ).to.deep.equal(
        trusting({
          StringEquals: {
            "api.pulumi.com/oidc:aud": "aws:acme",
            "api.pulumi.com/oidc:sub":
              "pulumi:environments:pulumi.organization.login:acme" +
              ":rootEnvironment.name:payments/db-rotator" +
              ":pulumi.organization.login:acme" +
              ":currentEnvironment.name:payments/db-credentials",
          },
        }),
      );
    });

    it("with the README's [rootEnvironment.name, pulumi.organization.login]", () => {
      expect(
        policy({ subjectAttributes: ["rootEnvironment.name", "pulumi.organization.login"] }),
      ).to.deep.equal(
        trusting({
          StringEquals: {
            "api.pulumi.com/oidc:aud": "aws:acme",
            "api.pulumi.com/oidc:sub":
              "pulumi:environments:pulumi.organization.login:acme" +
              ":rootEnvironment.name:payments/db-rotator:pulumi.organization.login:acme",
          },
        }),
      );
    });

    it("with subjectAttributes [rootEnvironment.name]: exactly the rotator environment", () => {
      expect(policy({ subjectAttributes: ["rootEnvironment.name"] })).to.deep.equal(
        trusting({
          StringEquals: {
            "api.pulumi.com/oidc:aud": "aws:acme",
            "api.pulumi.com/oidc:sub":
              "pulumi:environments:pulumi.organization.login:acme:rootEnvironment.name:payments/db-rotator",
          },
        }),
      );
    });

    it("with subjectAttributes in the legacy default project: names without the project", () => {
      expect(
        policy({
          project: "default",
          subjectAttributes: ["currentEnvironment.name", "rootEnvironment.name"],
          credentialsEnvironment: "db-credentials",
        }),
      ).to.deep.equal(
        trusting({
          StringEquals: {
            "api.pulumi.com/oidc:aud": "acme",
            "api.pulumi.com/oidc:sub":
              "pulumi:environments:pulumi.organization.login:acme" +
              ":currentEnvironment.name:db-credentials:rootEnvironment.name:db-rotator",
          },
        }),
      );
    });

    it("without subjectAttributes: ESC's default subject, exactly or with more parts", () => {
      expect(policy({})).to.deep.equal(
        trusting({
          StringEquals: { "api.pulumi.com/oidc:aud": "aws:acme" },
          StringLike: {
            "api.pulumi.com/oidc:sub": [
              "pulumi:environments:org:acme:env:payments/db-rotator",
              "pulumi:environments:org:acme:env:payments/db-rotator:*",
            ],
          },
        }),
      );
    });

    it("keys the conditions by the issuer's host and path, whatever its trailing slashes", () => {
      const trust = escTrustPolicy({
        ...ROTATOR,
        subjectAttributes: ["rootEnvironment.name"],
        providerArn: "arn:aws:iam::123456789012:oidc-provider/pulumi.example.com/api/oidc",
        issuer: "https://pulumi.example.com/api/oidc//",
      });
      expect(Object.keys(trust.Statement[0].Condition.StringEquals!)).to.deep.equal([
        "pulumi.example.com/api/oidc:aud",
        "pulumi.example.com/api/oidc:sub",
      ]);
    });

    it("throws on the problems escTrustProblems reports", () => {
      expect(() => policy({ org: "*" })).to.throw(/^escTrustPolicy: escOrganization must be/);
      expect(() => policy({ subjectAttributes: ["currentEnvironment.name"] })).to.throw(
        /escCredentialsEnvironment is required/,
      );
    });
  });

  describe("escTrustProblems", () => {
    it("skips values not known yet (Outputs, promises)", () => {
      expect(
        escTrustProblems({
          escOrganization: pulumi.output("*"),
          escProject: Promise.resolve("*"),
          escEnvironment: "db-rotator",
        }),
      ).to.deep.equal([]);
    });

    it("names every problem at once, by input", () => {
      expect(
        escTrustProblems({
          escOrganization: "a*",
          escProject: "p:x",
          escEnvironment: "db-rotator",
          escSubjectAttributes: ["pulumi.user.login"],
        }),
      ).to.deep.equal([
        "escOrganization must be 1-100 letters, digits, '.', '_' or '-'",
        "escProject must be 1-100 letters, digits, '.', '_' or '-'",
        "escSubjectAttributes cannot hold pulumi.user.login: whoever opens the environment " +
          "cannot be known in advance, and trusting any user would take a wildcard",
        'escSubjectAttributes ["pulumi.user.login"] names no environment: list ' +
          "rootEnvironment.name (the rotator environment) or currentEnvironment.name (the " +
          "environment holding the login); otherwise any environment of the organization whose " +
          "login asks for the same attributes may invoke the connector",
      ]);
    });
  });

  describe("escSubjectAttributes must pin the environment", () => {
    const names = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,20}$/);
    const lists = fc.uniqueArray(fc.constantFrom(...ESC_SUBJECT_ATTRIBUTES), { minLength: 1 });
    const environmental = ["rootEnvironment.name", "currentEnvironment.name"];

    it("refuses a list naming no environment, before any subject is built", () => {
      expect(
        escTrustProblems({
          ...inputs(ROTATOR),
          escSubjectAttributes: ["pulumi.organization.login"],
        }),
      ).to.deep.equal([
        'escSubjectAttributes ["pulumi.organization.login"] names no environment: list ' +
          "rootEnvironment.name (the rotator environment) or currentEnvironment.name (the " +
          "environment holding the login); otherwise any environment of the organization whose " +
          "login asks for the same attributes may invoke the connector",
      ]);
      expect(() => policy({ subjectAttributes: ["pulumi.organization.login"] })).to.throw(
        /^escTrustPolicy: escSubjectAttributes \["pulumi.organization.login"\] names no environment/,
      );
    });

    it("every accepted list yields a subject naming the environment; every other list is refused", () => {
      fc.assert(
        fc.property(
          names,
          fc.constantFrom("default", "payments"),
          names,
          names,
          lists,
          (org, project, env, creds, list) => {
            const s = { org, project, env, credentialsEnvironment: creds, subjectAttributes: list };
            const problems = escTrustProblems(inputs(s));
            const pins = list.some((attribute) => environmental.includes(attribute));
            expect(problems.length === 0, JSON.stringify(problems)).to.equal(pins);
            if (!pins) return;
            const { subject } = escSubject(s);
            const prefix = `pulumi:environments:pulumi.organization.login:${org}:`;
            expect(subject.startsWith(prefix)).to.equal(true);
            const parts = subject.slice(prefix.length).split(":");
            const named = (e: string) => (project === "default" ? e : `${project}/${e}`);
            const exactly: Record<string, string> = {
              "rootEnvironment.name": named(env),
              "currentEnvironment.name": named(creds),
              "pulumi.organization.login": org,
            };
            // The pairs read back: the attributes listed, in order, each with its exact value,
            // at least one of them an environment's name.
            const pairs = parts.flatMap((part, i) => (i % 2 === 0 ? [[part, parts[i + 1]]] : []));
            expect(pairs).to.deep.equal(list.map((attribute) => [attribute, exactly[attribute]]));
            expect(pairs.some(([attribute]) => environmental.includes(attribute))).to.equal(true);
          },
        ),
      );
    });
  });

  it("escAudience: aws:<org>, or <org> in the legacy default project", () => {
    expect(escAudience("acme", "payments")).to.equal("aws:acme");
    expect(escAudience("acme", "default")).to.equal("acme");
  });

  it("escSubject: every listed attribute once, in order, after the organization prefix", () => {
    const names = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,20}$/);
    const attributes = fc.uniqueArray(fc.constantFrom(...ESC_SUBJECT_ATTRIBUTES), {
      minLength: 1,
    });
    fc.assert(
      fc.property(names, names, names, names, attributes, (org, project, env, creds, list) => {
        const { subject, exact } = escSubject({
          org,
          project,
          env,
          credentialsEnvironment: creds,
          subjectAttributes: list,
        });
        expect(exact).to.equal(true);
        const prefix = `pulumi:environments:pulumi.organization.login:${org}`;
        expect(subject.startsWith(prefix)).to.equal(true);
        const parts = subject.slice(prefix.length + 1).split(":");
        expect(parts.filter((_, i) => i % 2 === 0)).to.deep.equal(list);
      }),
    );
  });

  it("lambdaTrustPolicy: only the Lambda service may assume the execution role", () => {
    expect(lambdaTrustPolicy()).to.deep.equal({
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Allow",
          Principal: { Service: "lambda.amazonaws.com" },
          Action: "sts:AssumeRole",
        },
      ],
    });
  });

  it("invokePolicy: InvokeFunction and GetFunction on the one function", () => {
    const arn = "arn:aws:lambda:us-east-1:123456789012:function:conn-function";
    expect(invokePolicy(arn)).to.deep.equal({
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Allow",
          Action: ["lambda:InvokeFunction", "lambda:GetFunction"],
          Resource: arn,
        },
      ],
    });
  });

  it("isIpv4Cidr: four octets up to 255 and a prefix up to 32, nothing else", () => {
    fc.assert(
      fc.property(fc.ipV4(), fc.integer({ min: 0, max: 32 }), (ip, bits) => {
        expect(isIpv4Cidr(`${ip}/${bits}`)).to.equal(true);
        expect(isIpv4Cidr(`${ip}/${bits + 33}`)).to.equal(false);
        expect(isIpv4Cidr(` ${ip}/${bits}`)).to.equal(false);
        expect(isIpv4Cidr(ip)).to.equal(false);
      }),
    );
    for (const bad of ["10.0.0.256/16", "::/0", "*", "10.0.0/8", "10.0.0.0/16 "]) {
      expect(isIpv4Cidr(bad), bad).to.equal(false);
    }
  });

  it("OIDC_PROVIDER_ARN: an IAM OIDC provider ARN with a 12-digit account", () => {
    expect(OIDC_PROVIDER_ARN.test(PROVIDER_ARN)).to.equal(true);
    expect(
      OIDC_PROVIDER_ARN.test("arn:aws-us-gov:iam::123456789012:oidc-provider/x.example/oidc"),
    ).to.equal(true);
    for (const bad of ["arn:aws:iam::*:oidc-provider/*", "arn:aws:iam::123456789012:role/x"]) {
      expect(OIDC_PROVIDER_ARN.test(bad), bad).to.equal(false);
    }
  });
});
