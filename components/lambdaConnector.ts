/**
 * `LambdaConnector`: this package's connector Lambda inside a database's VPC, with exactly the
 * AWS access it needs, and the role Pulumi ESC assumes (through OIDC) to invoke it.
 *
 * - the function: the bundled handler (dist/lambda/index.js), current Node.js runtime, in the
 *   given subnets, TLS verify-full by default with the RDS CAs trusted;
 * - its security group: no ingress, egress only to the database port; optionally an ingress
 *   rule on the database's security group from it;
 * - an execution role with only the AWS managed VPC-access policy;
 * - an invocation role trusted only through the Pulumi OIDC provider, for audience
 *   `aws:<org>` and the named rotator environment, allowed only `lambda:InvokeFunction` and
 *   `lambda:GetFunction` on this one function;
 * - the OIDC provider itself when asked to create one (an account holds one per issuer).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { SslMode } from "../provider/core/types";

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

export interface LambdaConnectorArgs {
  /** VPC of the database; the function's security group is created in it. */
  readonly vpcId: pulumi.Input<string>;
  /** Private subnets that can reach the database (two or more, in different zones). */
  readonly subnetIds: pulumi.Input<pulumi.Input<string>[]>;
  /** @default 5432 */
  readonly databasePort?: pulumi.Input<number>;
  /**
   * The database's security group. When given, the function's egress goes to it only, and an
   * ingress rule on it admits the function on `databasePort`.
   */
  readonly databaseSecurityGroupId?: pulumi.Input<string>;
  /**
   * Where the function may connect when `databaseSecurityGroupId` is not given.
   * @default ["0.0.0.0/0"] (on `databasePort` only)
   */
  readonly databaseCidrBlocks?: readonly pulumi.Input<string>[];
  /** TLS to the database (the function's `PGSSLMODE`). @default "verify-full" */
  readonly sslMode?: pulumi.Input<SslMode>;
  /** Pulumi Cloud organization whose ESC invokes the function (audience `aws:<org>`). */
  readonly escOrganization: pulumi.Input<string>;
  /** ESC project and environment holding `fn::rotate::postgres`: only it may invoke. */
  readonly escProject: pulumi.Input<string>;
  readonly escEnvironment: pulumi.Input<string>;
  /** OIDC issuer of your Pulumi Cloud (self-hosted: yours). @default "https://api.pulumi.com/oidc" */
  readonly oidcIssuer?: pulumi.Input<string>;
  /**
   * ARN of the account's existing OIDC provider for `oidcIssuer`. Required unless
   * `createOidcProvider` is true.
   */
  readonly oidcProviderArn?: pulumi.Input<string>;
  /** Create the OIDC provider (only if the account has none for the issuer). @default false */
  readonly createOidcProvider?: boolean;
  /** Function timeout. @default 90 (the handler's own limits are 10 s connect, 30 s statement, 30 s lock) */
  readonly timeoutSeconds?: pulumi.Input<number>;
  /** @default 256 */
  readonly memorySize?: pulumi.Input<number>;
  /** @default "arm64" */
  readonly architecture?: pulumi.Input<"arm64" | "x86_64">;
  readonly tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

export class LambdaConnector extends pulumi.ComponentResource {
  /** Give this to `PostgresRotation`'s `database.connector.awsLambda.lambdaArn` and to ESC. */
  declare readonly lambdaArn: pulumi.Output<string>;
  /** The role ESC's `fn::open::aws-login` assumes (`roleArn` of the credentials environment). */
  declare readonly invocationRoleArn: pulumi.Output<string>;
  /** The function's security group. */
  declare readonly securityGroupId: pulumi.Output<string>;
  declare readonly executionRoleArn: pulumi.Output<string>;
  declare readonly oidcProviderArn: pulumi.Output<string>;

  constructor(name: string, args: LambdaConnectorArgs, opts?: pulumi.ComponentResourceOptions) {
    super("postgres-rotator:index:LambdaConnector", name, {}, opts);
    if (!args.oidcProviderArn && !args.createOidcProvider) {
      throw new Error(
        `LambdaConnector ${name}: give oidcProviderArn (the account's OIDC provider for the Pulumi ` +
          `issuer) or set createOidcProvider: true`,
      );
    }
    const parent = { parent: this };
    const port = pulumi.output(args.databasePort ?? 5432);
    const tags = args.tags;
    const partition = aws.getPartitionOutput({}, parent).partition;

    const securityGroup = new aws.ec2.SecurityGroup(
      `${name}-sg`,
      {
        vpcId: args.vpcId,
        description: "PostgreSQL password rotation connector: egress to the database only",
        // No inline rules: the rules below are the only ones.
        tags,
      },
      parent,
    );
    if (args.databaseSecurityGroupId) {
      new aws.vpc.SecurityGroupEgressRule(
        `${name}-to-db`,
        {
          securityGroupId: securityGroup.id,
          referencedSecurityGroupId: args.databaseSecurityGroupId,
          ipProtocol: "tcp",
          fromPort: port,
          toPort: port,
          description: "to the database",
        },
        parent,
      );
      new aws.vpc.SecurityGroupIngressRule(
        `${name}-db-from-connector`,
        {
          securityGroupId: args.databaseSecurityGroupId,
          referencedSecurityGroupId: securityGroup.id,
          ipProtocol: "tcp",
          fromPort: port,
          toPort: port,
          description: "from the password rotation connector",
        },
        parent,
      );
    } else {
      (args.databaseCidrBlocks ?? ["0.0.0.0/0"]).forEach(
        (cidr, i) =>
          new aws.vpc.SecurityGroupEgressRule(
            `${name}-to-db-${i}`,
            {
              securityGroupId: securityGroup.id,
              cidrIpv4: cidr,
              ipProtocol: "tcp",
              fromPort: port,
              toPort: port,
              description: "to the database",
            },
            parent,
          ),
      );
    }

    const executionRole = new aws.iam.Role(
      `${name}-execution`,
      {
        description: "Runs the PostgreSQL password rotation connector in its VPC",
        assumeRolePolicy: JSON.stringify(lambdaTrustPolicy()),
        tags,
      },
      parent,
    );
    const vpcAccess = new aws.iam.RolePolicyAttachment(
      `${name}-vpc-access`,
      {
        role: executionRole.name,
        policyArn: pulumi.interpolate`arn:${partition}:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole`,
      },
      parent,
    );

    const fn = new aws.lambda.Function(
      `${name}-function`,
      {
        description: "Rotates PostgreSQL passwords for Pulumi ESC and pulumi-postgres-rotator",
        runtime: "nodejs24.x",
        architectures: [pulumi.output(args.architecture ?? "arm64")],
        handler: "index.handler",
        code: new pulumi.asset.AssetArchive({
          "index.js": new pulumi.asset.FileAsset(lambdaBundlePath()),
        }),
        role: executionRole.arn,
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
        tags,
      },
      { parent: this, dependsOn: [vpcAccess] },
    );

    const issuer = pulumi.output(args.oidcIssuer ?? DEFAULT_OIDC_ISSUER);
    const audience = pulumi.interpolate`aws:${args.escOrganization}`;
    const oidcProviderArn = args.createOidcProvider
      ? new aws.iam.OpenIdConnectProvider(
          `${name}-oidc`,
          { url: issuer, clientIdLists: [audience], tags },
          parent,
        ).arn
      : pulumi.output(args.oidcProviderArn!);

    const invocationRole = new aws.iam.Role(
      `${name}-invocation`,
      {
        description: "Assumed by Pulumi ESC (OIDC) to invoke the PostgreSQL rotation connector",
        assumeRolePolicy: pulumi
          .all([
            oidcProviderArn,
            issuer,
            audience,
            args.escOrganization,
            args.escProject,
            args.escEnvironment,
          ])
          .apply(([providerArn, iss, aud, org, project, env]) =>
            JSON.stringify(
              escTrustPolicy({ providerArn, issuer: iss, audience: aud, org, project, env }),
            ),
          ),
        tags,
      },
      parent,
    );
    new aws.iam.RolePolicy(
      `${name}-invoke-only`,
      {
        role: invocationRole.id,
        policy: fn.arn.apply((arn) => JSON.stringify(invokePolicy(arn))),
      },
      parent,
    );

    this.lambdaArn = fn.arn;
    this.invocationRoleArn = invocationRole.arn;
    this.securityGroupId = securityGroup.id;
    this.executionRoleArn = executionRole.arn;
    this.oidcProviderArn = oidcProviderArn;
    this.registerOutputs({
      lambdaArn: this.lambdaArn,
      invocationRoleArn: this.invocationRoleArn,
      securityGroupId: this.securityGroupId,
      executionRoleArn: this.executionRoleArn,
      oidcProviderArn: this.oidcProviderArn,
    });
  }
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

/**
 * Only tokens from the Pulumi OIDC issuer, for this organization's audience, whose subject is
 * the named rotator environment (exactly, or with a `:`-separated suffix), may assume the role.
 */
export function escTrustPolicy(p: {
  providerArn: string;
  issuer: string;
  audience: string;
  org: string;
  project: string;
  env: string;
}) {
  const host = p.issuer.replace(/^https:\/\//, "").replace(/\/+$/, "");
  const subject = `pulumi:environments:org:${p.org}:env:${p.project}/${p.env}`;
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Principal: { Federated: p.providerArn },
        Action: "sts:AssumeRoleWithWebIdentity",
        Condition: {
          StringEquals: { [`${host}:aud`]: p.audience },
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
