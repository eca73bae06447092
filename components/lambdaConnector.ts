/**
 * `LambdaConnector`: this package's connector Lambda inside a database's VPC, with exactly the
 * AWS access it needs, and the role Pulumi ESC assumes (through OIDC) to invoke it.
 *
 * - the function: the bundled handler (dist/lambda/index.js), current Node.js runtime, in the
 *   given subnets, TLS verify-full by default with the RDS CAs trusted;
 * - its security group: no ingress, egress only to the database port of the database's security
 *   group (plus an ingress rule on that group) or of the CIDR blocks given; never a default;
 * - an execution role with only the AWS managed VPC-access policy;
 * - an invocation role trusted only through the account's OIDC provider for the Pulumi issuer,
 *   for the organization's audience and the ESC subject of the rotator environment, allowed only
 *   `lambda:InvokeFunction` and `lambda:GetFunction` on this one function;
 * - the OIDC provider itself only when asked (`oidcProvider: { create: true }`), retained on
 *   delete: it is account-wide. Otherwise the account's provider is looked up, or taken by ARN.
 *
 * The policy documents, the ESC subject and the checks of their inputs are pure, in
 * `./policies`; this file wires the resources.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { SslMode } from "../provider/core/types";
import {
  ESC_SUBJECT_ATTRIBUTES,
  OIDC_PROVIDER_ARN,
  escAudience,
  escSubject,
  escTrustPolicy,
  escTrustProblems,
  invokePolicy,
  isIpv4Cidr,
  lambdaTrustPolicy,
  trustInputs,
  type EscSubjectAttribute,
  type EscTrustSubject,
} from "./policies";

// The policy builders lived here before components/policies.ts: importers of this module keep them.
export {
  ESC_SUBJECT_ATTRIBUTES,
  escAudience,
  escSubject,
  escTrustPolicy,
  escTrustProblems,
  invokePolicy,
  lambdaTrustPolicy,
  type EscSubjectAttribute,
  type EscTrustSubject,
};

/** The bundled handler: dist/lambda/index.js of the installed package (or of this repo). */
export function lambdaBundlePath(): string {
  const candidates = [
    path.join(__dirname, "..", "lambda", "index.js"), // dist/components → dist/lambda
    path.join(__dirname, "..", "dist", "lambda", "index.js"), // components/ in the repo
  ];
  const found = candidates.find((file) => fs.existsSync(file));
  if (!found) {
    throw new Error(
      `the connector Lambda bundle is missing (${candidates[0]}); run \`npm run build\``,
    );
  }
  return found;
}

export const DEFAULT_OIDC_ISSUER = "https://api.pulumi.com/oidc";

/** Where the invocation role's OIDC provider comes from: an ARN, or created here. */
export type OidcProviderArgs =
  | {
      /** ARN of the account's existing IAM OIDC provider for `oidcIssuer`. */
      readonly arn: pulumi.Input<string>;
      readonly create?: never;
    }
  | {
      /**
       * Create the provider (only if the account has none for `oidcIssuer`). It is account-wide,
       * so it is created with `retainOnDelete`: destroying this stack leaves it in the account.
       */
      readonly create: true;
      readonly arn?: never;
    };

export interface LambdaConnectorArgs {
  /**
   * VPC of the database; the function's security group is created in it.
   * @example vpc.vpcId
   */
  readonly vpcId: pulumi.Input<string>;
  /**
   * Private subnets that can reach the database (two or more, in different zones).
   * @example vpc.privateSubnetIds
   */
  readonly subnetIds: pulumi.Input<pulumi.Input<string>[]>;
  /**
   * The database's port: the only port the function's egress (and the ingress rule on the
   * database's security group) opens.
   * @default 5432
   * @example 6432
   */
  readonly databasePort?: pulumi.Input<number>;
  /**
   * The database's security group. The function's egress goes to it only, and an ingress rule
   * on it admits the function on `databasePort`. Give this or `databaseCidrBlocks`, not both.
   * @default none: then `databaseCidrBlocks` is required
   * @example db.vpcSecurityGroupIds[0]
   */
  readonly databaseSecurityGroupId?: pulumi.Input<string>;
  /**
   * IPv4 CIDR blocks the function may connect to on `databasePort`, when the database's
   * security group is not given (then at least one is required: egress is never opened to
   * `0.0.0.0/0` unless you list it). Plain strings: each names its egress rule
   * (`<name>-to-db-10-0-0-0-16`), so adding or removing one leaves the others in place.
   * @default none: then `databaseSecurityGroupId` is required
   * @example ["10.0.16.0/20", "10.0.32.0/20"]
   */
  readonly databaseCidrBlocks?: readonly string[];
  /**
   * TLS to the database (the function's `PGSSLMODE`).
   * @default "verify-full"
   * @example "require"
   */
  readonly sslMode?: pulumi.Input<SslMode>;
  /**
   * Pulumi Cloud organization whose ESC invokes the function: the token's audience is
   * `aws:<org>` (`<org>` for environments in the legacy `default` project), and the org is part
   * of the subject. An ESC name: letters, digits, `.`, `_`, `-`.
   * @example "acme"
   */
  readonly escOrganization: pulumi.Input<string>;
  /**
   * ESC project of the rotator environment (the one holding `fn::rotate::postgres`), and of the
   * credentials environment. `"default"` is the legacy project: no project part in the subject,
   * audience `<org>`. An ESC name.
   * @example "payments"
   */
  readonly escProject: pulumi.Input<string>;
  /**
   * ESC environment holding `fn::rotate::postgres`: only a token whose subject names it (see
   * `escSubjectAttributes`) may assume the invocation role. An ESC name.
   * @example "db-rotator"
   */
  readonly escEnvironment: pulumi.Input<string>;
  /**
   * ESC environment (in `escProject`) holding `awsLogin` (`fn::open::aws-login`): the value of
   * `currentEnvironment.name` in the subject. Required when `escSubjectAttributes` lists
   * `currentEnvironment.name`; otherwise unused. An ESC name.
   * @default none
   * @example "db-credentials"
   */
  readonly escCredentialsEnvironment?: pulumi.Input<string>;
  /**
   * The `subjectAttributes` written on the login (`credentialsEnvironmentYaml`'s
   * `awsLogin.subjectAttributes`): give the same list, in the same order. The trust policy then
   * requires exactly the subject `pulumi:environments:pulumi.organization.login:<org>` followed
   * by `:<attribute>:<value>` for each, where `rootEnvironment.name` is the rotator environment
   * `<escProject>/<escEnvironment>`, `currentEnvironment.name` is
   * `<escProject>/<escCredentialsEnvironment>` (both without `<escProject>/` in the `default`
   * project) and `pulumi.organization.login` is `<escOrganization>`. The list must hold
   * `rootEnvironment.name` or `currentEnvironment.name`: `["pulumi.organization.login"]` alone
   * names no environment, so any environment of the organization could invoke the connector,
   * and is refused before any child is created. Without it, ESC's default
   * subject `pulumi:environments:org:<org>:env:<escProject>/<escEnvironment>`
   * (`…:env:<escEnvironment>` in `default`) is required, exactly or followed by `:`-separated
   * parts. To see the claims ESC really sends, put `fn::open::debug-oidc-claims` with
   * `audiencePrefix: aws` (and the same `subjectAttributes`) beside the login, and open the
   * rotator environment.
   * @default none (ESC's default subject)
   * @example ["currentEnvironment.name"]
   */
  readonly escSubjectAttributes?: readonly EscSubjectAttribute[];
  /**
   * OIDC issuer of your Pulumi Cloud (self-hosted: yours).
   * @default "https://api.pulumi.com/oidc"
   * @example "https://pulumi.example.com/api/oidc"
   */
  readonly oidcIssuer?: pulumi.Input<string>;
  /**
   * The IAM OIDC provider for `oidcIssuer`, which the invocation role trusts. An account holds
   * one per issuer, shared by every role that trusts it.
   * - absent: look up the account's provider for `oidcIssuer`; the deployment fails, naming the
   *   `aws iam add-client-id-to-open-id-connect-provider` command to run, when its audiences
   *   lack this organization's;
   * - `{ arn }`: use that provider as it is;
   * - `{ create: true }`: create it (with this organization's audience), retained on delete:
   *   `pulumi destroy` leaves it in the account, for other stacks that trust it.
   * @default absent (look it up)
   * @example { create: true }
   */
  readonly oidcProvider?: OidcProviderArgs;
  /**
   * ARN of the account's existing OIDC provider for `oidcIssuer`.
   * @deprecated Use `oidcProvider: { arn }`.
   * @default none
   * @example "arn:aws:iam::123456789012:oidc-provider/api.pulumi.com/oidc"
   */
  readonly oidcProviderArn?: pulumi.Input<string>;
  /**
   * Create the OIDC provider (retained on delete, like `oidcProvider: { create: true }`).
   * @deprecated Use `oidcProvider: { create: true }`.
   * @default false
   * @example true
   */
  readonly createOidcProvider?: boolean;
  /**
   * Function timeout in seconds (the handler's own limits are 10 s connect, 30 s statement,
   * 30 s lock).
   * @default 90
   * @example 120
   */
  readonly timeoutSeconds?: pulumi.Input<number>;
  /**
   * Function memory in MB.
   * @default 256
   * @example 512
   */
  readonly memorySize?: pulumi.Input<number>;
  /**
   * Function architecture.
   * @default "arm64"
   * @example "x86_64"
   */
  readonly architecture?: pulumi.Input<"arm64" | "x86_64">;
  /**
   * Tags for every child that takes them (security group, roles, function, created OIDC
   * provider).
   * @default none
   * @example { team: "platform" }
   */
  readonly tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

/**
 * `LambdaConnectorArgs` without the ESC location, for a component that creates the connector
 * and fills `escOrganization`, `escProject`, `escEnvironment` and `escCredentialsEnvironment`
 * itself.
 */
export type LambdaConnectorCreateArgs = Omit<
  LambdaConnectorArgs,
  "escOrganization" | "escProject" | "escEnvironment" | "escCredentialsEnvironment"
>;

type OidcChoice = { arn: pulumi.Input<string> } | { create: true } | { lookup: true };
type Egress = { securityGroupId: pulumi.Input<string> } | { cidrBlocks: readonly string[] };

/**
 * This package's connector Lambda in a database's VPC, for databases `pulumi up` cannot reach:
 * the function (egress to the database's port only), its security group and execution role, and
 * the invocation role Pulumi ESC assumes through OIDC, trusted by exactly one rotator environment
 * (README, "Databases in private subnets").
 */
export class LambdaConnector extends pulumi.ComponentResource {
  /**
   * Give this to `PostgresRotation`'s `database.connector.awsLambda.lambdaArn` and to ESC. It
   * resolves once the security-group rules and the invocation role's policy exist.
   */
  declare readonly lambdaArn: pulumi.Output<string>;
  /**
   * The role ESC's `fn::open::aws-login` assumes (`roleArn` of the credentials environment). It
   * resolves once the security-group rules and its `invoke-only` policy exist.
   */
  declare readonly invocationRoleArn: pulumi.Output<string>;
  /** The function's security group. */
  declare readonly securityGroupId: pulumi.Output<string>;
  /** The function's execution role (only `AWSLambdaVPCAccessExecutionRole` attached). */
  declare readonly executionRoleArn: pulumi.Output<string>;
  /** The OIDC provider the invocation role trusts: given, looked up or created. */
  declare readonly oidcProviderArn: pulumi.Output<string>;
  /** The connector function (`<name>-function`). */
  declare readonly function: aws.lambda.Function;
  /** The function's security group (`<name>-sg`). */
  declare readonly securityGroup: aws.ec2.SecurityGroup;
  /** The function's execution role (`<name>-execution`). */
  declare readonly executionRole: aws.iam.Role;
  /** The role ESC assumes to invoke the function (`<name>-invocation`). */
  declare readonly invocationRole: aws.iam.Role;
  /** The OIDC provider (`<name>-oidc`), only when this component created it. */
  declare readonly oidcProvider: aws.iam.OpenIdConnectProvider | undefined;

  constructor(name: string, args: LambdaConnectorArgs, opts?: pulumi.ComponentResourceOptions) {
    super("postgres-rotator:index:LambdaConnector", name, {}, opts);
    const oidcChoice = this.normalizeOidcProvider(args);
    const egress = this.normalizeEgress(args);
    this.checkTrust(args);

    const securityGroup = this.createSecurityGroup(name, args);
    const rules = this.createEgressRules(name, args, securityGroup, egress);
    const executionRole = this.createExecutionRole(name, args);
    const fn = this.createFunction(name, args, securityGroup, executionRole);
    const esc = this.escLocation(args);
    const oidc = this.resolveOidcProvider(name, args, oidcChoice, esc.audience);
    const invocationRole = this.createInvocationRole(name, args, esc, oidc.arn);
    const invokeOnly = this.createInvokePolicy(name, fn, invocationRole);

    // A consumer of either ARN must also wait for the egress and the invoke permission.
    const ready = [...rules.map((rule) => rule.id), invokeOnly.id];
    this.lambdaArn = pulumi.all([fn.arn, ...ready]).apply(([arn]) => arn);
    this.invocationRoleArn = pulumi.all([invocationRole.arn, ...ready]).apply(([arn]) => arn);
    this.securityGroupId = securityGroup.id;
    this.executionRoleArn = executionRole.role.arn;
    this.oidcProviderArn = oidc.arn;
    this.function = fn;
    this.securityGroup = securityGroup;
    this.executionRole = executionRole.role;
    this.invocationRole = invocationRole;
    this.oidcProvider = oidc.provider;
    this.registerOutputs({
      lambdaArn: this.lambdaArn,
      invocationRoleArn: this.invocationRoleArn,
      securityGroupId: this.securityGroupId,
      executionRoleArn: this.executionRoleArn,
      oidcProviderArn: this.oidcProviderArn,
    });
  }

  /** `oidcProvider`, or its deprecated aliases, as one choice; absent means look it up. */
  private normalizeOidcProvider(args: LambdaConnectorArgs): OidcChoice {
    const named = [
      args.oidcProvider !== undefined && "oidcProvider",
      args.oidcProviderArn !== undefined && "oidcProviderArn",
      args.createOidcProvider === true && "createOidcProvider",
    ].filter((g): g is string => g !== false);
    if (named.length > 1) {
      throw new pulumi.ResourceError(
        `give one of ${named.join(", ")}: oidcProviderArn and createOidcProvider are the ` +
          `deprecated forms of oidcProvider: { arn } and oidcProvider: { create: true }`,
        this,
      );
    }
    if (args.oidcProviderArn !== undefined) return { arn: args.oidcProviderArn };
    if (args.createOidcProvider === true) return { create: true };
    const choice: unknown = args.oidcProvider;
    if (choice === undefined) return { lookup: true };
    const arm = typeof choice === "object" && choice !== null ? choice : {};
    const hasArn = "arn" in arm && arm.arn !== undefined;
    const create = "create" in arm && arm.create === true;
    if (hasArn === create) {
      throw new pulumi.ResourceError(
        "oidcProvider must be { arn } (the account's provider) or { create: true }; " +
          "leave it out to look up the account's provider for oidcIssuer",
        this,
      );
    }
    return hasArn ? { arn: (arm as { arn: pulumi.Input<string> }).arn } : { create: true };
  }

  /** The database's security group, or at least one CIDR block: never a default egress. */
  private normalizeEgress(args: LambdaConnectorArgs): Egress {
    const { databaseSecurityGroupId: groupId, databaseCidrBlocks: cidrs } = args;
    if (groupId !== undefined) {
      if (cidrs !== undefined) {
        throw new pulumi.ResourceError(
          "give databaseSecurityGroupId or databaseCidrBlocks, not both",
          this,
        );
      }
      if (typeof groupId === "string") this.checkSecurityGroupId(groupId);
      return { securityGroupId: groupId };
    }
    if (cidrs === undefined || cidrs.length === 0) {
      throw new pulumi.ResourceError(
        "give databaseSecurityGroupId (the database's security group) or databaseCidrBlocks " +
          "(at least one CIDR block): the connector's egress is never opened by default",
        this,
      );
    }
    const seen = new Set<string>();
    cidrs.forEach((cidr, i) => {
      if (typeof cidr !== "string" || !isIpv4Cidr(cidr)) {
        throw new pulumi.ResourceError(
          `databaseCidrBlocks[${i}] must be a plain IPv4 CIDR block such as "10.0.0.0/16"` +
            (typeof cidr === "string" ? `, not ${JSON.stringify(cidr)}` : ""),
          this,
        );
      }
      if (seen.has(cidr)) {
        throw new pulumi.ResourceError(
          `databaseCidrBlocks lists ${cidr} twice: each block names its egress rule`,
          this,
        );
      }
      seen.add(cidr);
    });
    return { cidrBlocks: cidrs };
  }

  private checkSecurityGroupId(groupId: string): string {
    if (!/^sg-[0-9a-f]+$/.test(groupId)) {
      throw new pulumi.ResourceError(
        `databaseSecurityGroupId must be a security group ID (sg-…), not ${JSON.stringify(groupId)}`,
        this,
      );
    }
    return groupId;
  }

  /** The trust inputs known now (plain values); Outputs are checked when they resolve. */
  private checkTrust(args: LambdaConnectorArgs): void {
    const problems = escTrustProblems(args);
    if (problems.length > 0) throw new pulumi.ResourceError(problems.join("; "), this);
  }

  private createSecurityGroup(name: string, args: LambdaConnectorArgs) {
    return new aws.ec2.SecurityGroup(
      `${name}-sg`,
      {
        vpcId: args.vpcId,
        description: "PostgreSQL password rotation connector: egress to the database only",
        // No inline rules: the rules below are the only ones.
        tags: args.tags,
      },
      { parent: this },
    );
  }

  /** Egress to the database port only; with the database's group, ingress on it from ours. */
  private createEgressRules(
    name: string,
    args: LambdaConnectorArgs,
    securityGroup: aws.ec2.SecurityGroup,
    egress: Egress,
  ): pulumi.CustomResource[] {
    const port = pulumi.output(args.databasePort ?? 5432);
    const onPort = { ipProtocol: "tcp", fromPort: port, toPort: port };
    if ("cidrBlocks" in egress) {
      return egress.cidrBlocks.map(
        (cidr, i) =>
          new aws.vpc.SecurityGroupEgressRule(
            `${name}-to-db-${cidr.replace(/[./]/g, "-")}`,
            {
              securityGroupId: securityGroup.id,
              cidrIpv4: cidr,
              ...onPort,
              description: "to the database",
            },
            // Earlier versions named the rules by index: adopt them rather than re-create them.
            { parent: this, aliases: [{ name: `${name}-to-db-${i}` }] },
          ),
      );
    }
    const databaseGroupId = pulumi
      .output(egress.securityGroupId)
      .apply((id) => this.checkSecurityGroupId(id));
    return [
      new aws.vpc.SecurityGroupEgressRule(
        `${name}-to-db`,
        {
          securityGroupId: securityGroup.id,
          referencedSecurityGroupId: databaseGroupId,
          ...onPort,
          description: "to the database",
        },
        { parent: this },
      ),
      new aws.vpc.SecurityGroupIngressRule(
        `${name}-db-from-connector`,
        {
          securityGroupId: databaseGroupId,
          referencedSecurityGroupId: securityGroup.id,
          ...onPort,
          description: "from the password rotation connector",
        },
        { parent: this },
      ),
    ];
  }

  private createExecutionRole(name: string, args: LambdaConnectorArgs) {
    const partition = aws.getPartitionOutput({}, { parent: this }).partition;
    const role = new aws.iam.Role(
      `${name}-execution`,
      {
        description: "Runs the PostgreSQL password rotation connector in its VPC",
        assumeRolePolicy: JSON.stringify(lambdaTrustPolicy()),
        tags: args.tags,
      },
      { parent: this },
    );
    const vpcAccess = new aws.iam.RolePolicyAttachment(
      `${name}-vpc-access`,
      {
        role: role.name,
        policyArn: pulumi.interpolate`arn:${partition}:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole`,
      },
      { parent: this },
    );
    return { role, vpcAccess };
  }

  private createFunction(
    name: string,
    args: LambdaConnectorArgs,
    securityGroup: aws.ec2.SecurityGroup,
    execution: { role: aws.iam.Role; vpcAccess: aws.iam.RolePolicyAttachment },
  ) {
    return new aws.lambda.Function(
      `${name}-function`,
      {
        description: "Rotates PostgreSQL passwords for Pulumi ESC and pulumi-postgres-rotator",
        runtime: "nodejs24.x",
        architectures: [pulumi.output(args.architecture ?? "arm64")],
        handler: "index.handler",
        code: new pulumi.asset.AssetArchive({
          "index.js": new pulumi.asset.FileAsset(lambdaBundlePath()),
        }),
        role: execution.role.arn,
        timeout: args.timeoutSeconds ?? 90,
        memorySize: args.memorySize ?? 256,
        vpcConfig: { subnetIds: args.subnetIds, securityGroupIds: [securityGroup.id] },
        environment: {
          variables: {
            PGSSLMODE: pulumi.output(args.sslMode ?? "verify-full"),
            // The runtime's Amazon CA bundle (RDS CAs included) for Node's TLS.
            NODE_EXTRA_CA_CERTS: "/var/runtime/ca-cert.pem",
          },
        },
        tags: args.tags,
      },
      { parent: this, dependsOn: [execution.vpcAccess] },
    );
  }

  /** The ESC names, checked when they resolve (before any child they feed), and the audience. */
  private escLocation(args: LambdaConnectorArgs) {
    const trust = pulumi
      .all([
        args.escOrganization,
        args.escProject,
        args.escEnvironment,
        args.escCredentialsEnvironment,
      ])
      .apply(([org, project, env, credentialsEnvironment]) => {
        const subject: EscTrustSubject = {
          org,
          project,
          env,
          credentialsEnvironment,
          subjectAttributes: args.escSubjectAttributes,
        };
        const problems = escTrustProblems(trustInputs(subject));
        if (problems.length > 0) throw new pulumi.ResourceError(problems.join("; "), this);
        return subject;
      });
    return { trust, audience: trust.apply((t) => escAudience(t.org, t.project)) };
  }

  /** The given, created or looked-up provider for `oidcIssuer`, and its ARN. */
  private resolveOidcProvider(
    name: string,
    args: LambdaConnectorArgs,
    choice: OidcChoice,
    audience: pulumi.Output<string>,
  ): { provider: aws.iam.OpenIdConnectProvider | undefined; arn: pulumi.Output<string> } {
    const issuer = pulumi.output(args.oidcIssuer ?? DEFAULT_OIDC_ISSUER);
    if ("arn" in choice) {
      const arn = pulumi.output(choice.arn).apply((value) => {
        if (!OIDC_PROVIDER_ARN.test(value)) {
          throw new pulumi.ResourceError(
            `oidcProvider.arn must be an IAM OIDC provider ARN ` +
              `(arn:aws:iam::<account>:oidc-provider/<issuer host and path>), not ${JSON.stringify(value)}`,
            this,
          );
        }
        return value;
      });
      return { provider: undefined, arn };
    }
    if ("create" in choice) {
      const provider = new aws.iam.OpenIdConnectProvider(
        `${name}-oidc`,
        { url: issuer, clientIdLists: [audience], tags: args.tags },
        // Account-wide, trusted by other stacks' roles too: destroying this stack leaves it.
        { parent: this, retainOnDelete: true },
      );
      return { provider, arn: provider.arn };
    }
    const found = aws.iam.getOpenIdConnectProviderOutput({ url: issuer }, { parent: this });
    const arn = pulumi.all([found, audience, issuer]).apply(([provider, aud, iss]) => {
      if (!provider.clientIdLists.includes(aud)) {
        throw new pulumi.ResourceError(
          `the account's OIDC provider for ${iss} (${provider.arn}) does not accept the audience ` +
            `${aud} (its audiences: ${provider.clientIdLists.join(", ") || "none"}); add it with ` +
            `\`aws iam add-client-id-to-open-id-connect-provider --open-id-connect-provider-arn ` +
            `${provider.arn} --client-id ${aud}\` and deploy again`,
          this,
        );
      }
      return provider.arn;
    });
    return { provider: undefined, arn };
  }

  private createInvocationRole(
    name: string,
    args: LambdaConnectorArgs,
    esc: { trust: pulumi.Output<EscTrustSubject> },
    oidcProviderArn: pulumi.Output<string>,
  ) {
    const issuer = pulumi.output(args.oidcIssuer ?? DEFAULT_OIDC_ISSUER);
    return new aws.iam.Role(
      `${name}-invocation`,
      {
        description: "Assumed by Pulumi ESC (OIDC) to invoke the PostgreSQL rotation connector",
        assumeRolePolicy: pulumi
          .all([oidcProviderArn, issuer, esc.trust])
          .apply(([providerArn, iss, trust]) =>
            JSON.stringify(escTrustPolicy({ providerArn, issuer: iss, ...trust })),
          ),
        tags: args.tags,
      },
      { parent: this },
    );
  }

  private createInvokePolicy(name: string, fn: aws.lambda.Function, role: aws.iam.Role) {
    return new aws.iam.RolePolicy(
      `${name}-invoke-only`,
      {
        role: role.id,
        policy: fn.arn.apply((arn) => JSON.stringify(invokePolicy(arn))),
      },
      { parent: this },
    );
  }
}
