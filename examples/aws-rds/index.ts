/**
 * A production layout on AWS: a VPC whose only subnets are private (two zones, no route out of
 * the VPC), an encrypted RDS PostgreSQL instance in them that nothing outside the VPC can
 * reach, and `RotatedPostgresCredentials` rotating two app users through a connector Lambda in
 * the same subnets. The credentials live in Pulumi ESC, which apps read and which rotates them
 * on a schedule as well as on every `rotationTrigger` change. See README.md here for the
 * config, the one-time SQL and the commands.
 *
 * Needs AWS credentials (the default chain; `pulumi up` invokes the connector with them too) and
 * PULUMI_ACCESS_TOKEN (or the secret config `escAccessToken`) with rights to create
 * environments and schedules in `escOrganization`.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { RotatedPostgresCredentials } from "pulumi-postgres-rotator";

const config = new pulumi.Config();
const stack = pulumi.getStack();
const tags = { project: pulumi.getProject(), stack };

// ---------------------------------------------------------------------------------------------
// Network: a VPC with private subnets in two zones. No internet gateway, no NAT: the database
// and the connector need nothing outside the VPC (the connector calls no AWS API; ESC and
// `pulumi up` reach it through the Lambda API, not through the network).

const vpcCidr = config.get("vpcCidr") ?? "10.40.0.0/16";
const subnetCidrs = config.getObject<string[]>("privateSubnetCidrs") ?? [
  "10.40.0.0/20",
  "10.40.16.0/20",
];
if (subnetCidrs.length < 2) {
  throw new Error("privateSubnetCidrs: RDS and the connector need two subnets, in two zones");
}

const vpc = new aws.ec2.Vpc("app", {
  cidrBlock: vpcCidr,
  enableDnsSupport: true,
  enableDnsHostnames: true,
  tags: { ...tags, Name: `app-${stack}` },
});

// Take over the VPC's default security group with no rules, so nothing relies on its
// allow-all-between-members default.
new aws.ec2.DefaultSecurityGroup("app-default", { vpcId: vpc.id, tags });

const zoneNames = aws
  .getAvailabilityZonesOutput({
    state: "available",
    // Regular zones only: no Local or Wavelength Zones.
    filters: [{ name: "opt-in-status", values: ["opt-in-not-required"] }],
  })
  .names.apply((names) => {
    if (names.length < 2) throw new Error(`two availability zones needed, found ${names}`);
    return names;
  });

// One route table with only the VPC's local route, set explicitly on every subnet: a route
// added to the main route table later cannot make these subnets public.
const privateRoutes = new aws.ec2.RouteTable("app-private", { vpcId: vpc.id, tags });

const privateSubnets = subnetCidrs.map((cidrBlock, i) => {
  const key = `app-private-${cidrBlock.replace(/[./]/g, "-")}`; // stable when the list grows
  const subnet = new aws.ec2.Subnet(key, {
    vpcId: vpc.id,
    cidrBlock,
    availabilityZone: zoneNames.apply((names) => names[i % names.length]),
    mapPublicIpOnLaunch: false,
    tags: { ...tags, Name: key },
  });
  new aws.ec2.RouteTableAssociation(key, { subnetId: subnet.id, routeTableId: privateRoutes.id });
  return subnet;
});
const privateSubnetIds = privateSubnets.map((subnet) => subnet.id);

// ---------------------------------------------------------------------------------------------
// Database: RDS PostgreSQL in the private subnets, encrypted, TLS required.
//
// The master password is RDS's own (`manageMasterUserPassword`): RDS keeps it in Secrets
// Manager and rotates it there, so it is never in this program's config or state. The
// rotation never uses the master user: it uses a managing user with only CREATEROLE (and ADMIN
// on the group), created once with the master user (README.md, step 2).

const databaseName = config.get("database") ?? "app";
const engineVersion = config.get("engineVersion") ?? "17";

// Nothing may connect until a rule admits it: the connector adds its own ingress rule on this
// group; add one for your apps' security group.
const dbSecurityGroup = new aws.ec2.SecurityGroup("app-db", {
  vpcId: vpc.id,
  description: "PostgreSQL: ingress only from the groups given rules on it",
  tags,
});

const dbSubnets = new aws.rds.SubnetGroup("app-db", {
  description: "Private subnets of the app database",
  subnetIds: privateSubnetIds,
  tags,
});

const dbParameters = new aws.rds.ParameterGroup("app-db", {
  family: `postgres${engineVersion.split(".")[0]}`,
  description: "App database: TLS required",
  parameters: [{ name: "rds.force_ssl", value: "1" }],
  tags,
});

const db = new aws.rds.Instance("app-db", {
  engine: "postgres",
  engineVersion,
  autoMinorVersionUpgrade: true,
  instanceClass: config.get("instanceClass") ?? "db.t4g.medium",
  allocatedStorage: config.getNumber("allocatedStorage") ?? 20,
  storageType: "gp3",
  storageEncrypted: true,
  dbName: databaseName,
  username: config.get("masterUsername") ?? "postgres",
  manageMasterUserPassword: true,
  dbSubnetGroupName: dbSubnets.name,
  vpcSecurityGroupIds: [dbSecurityGroup.id],
  publiclyAccessible: false,
  parameterGroupName: dbParameters.name,
  multiAz: config.getBoolean("multiAz") ?? true,
  backupRetentionPeriod: 7,
  copyTagsToSnapshot: true,
  deletionProtection: config.getBoolean("deletionProtection") ?? true,
  skipFinalSnapshot: false,
  finalSnapshotIdentifier: `app-db-${stack.replace(/[^A-Za-z0-9]+/g, "-").replace(/^-|-$/g, "")}-final`,
  tags,
});

// ---------------------------------------------------------------------------------------------
// Credentials: two users that take turns, rotated through a connector Lambda in the private
// subnets, kept in two ESC environments, rotated by ESC weekly (`rotationCron`) and by
// `pulumi up` whenever `rotationTrigger` changes.
//
// `databaseOnly: true` (the very first `pulumi up` only) stops here: the managing user must
// exist before anything logs in as it. Turning it on again later would delete the connector
// and both ESC environments.

function rotatedCredentials(): RotatedPostgresCredentials {
  const escProject = config.get("escProject") ?? "postgres-rotator";
  const accessToken = config.getSecret("escAccessToken"); // else PULUMI_ACCESS_TOKEN
  const apiUrl = config.get("escApiUrl"); // self-hosted Pulumi Cloud only
  return new RotatedPostgresCredentials("app-db", {
    database: {
      host: db.address, // the name the certificate holds: the connector verifies it
      port: db.port,
      database: db.dbName,
      managingUser: {
        username: config.require("managingUser"),
        password: config.requireSecret("managingPassword"),
      },
    },
    rotateUsers: {
      username1: config.get("username1") ?? "app_user_1",
      username2: config.get("username2") ?? "app_user_2",
    },
    memberOf: [config.get("group") ?? "app_users"],
    rotationTrigger: config.require("rotationTrigger"),
    connector: {
      create: {
        vpcId: vpc.id,
        subnetIds: privateSubnetIds,
        // Egress to this group's port only, and an ingress rule on it for the connector.
        databaseSecurityGroupId: dbSecurityGroup.id,
        // The login names its own environment in the OIDC subject, and the invocation role
        // trusts exactly that subject.
        escSubjectAttributes: ["currentEnvironment.name"],
        // Left out, the account's OIDC provider for api.pulumi.com is looked up.
        ...(config.getBoolean("createOidcProvider") ? { oidcProvider: { create: true } } : {}),
        tags,
      },
    },
    esc: {
      organization: config.require("escOrganization"),
      project: escProject,
      // Per stack, so that dev and prod do not share (or trust) one environment.
      credentialsEnvironment: config.get("escCredentialsEnvironment") ?? `${stack}-db-credentials`,
      rotatorEnvironment: config.get("escRotatorEnvironment") ?? `${stack}-db-rotator`,
      // At most daily (ESC's minimum, checked before anything is created); no more often than
      // your apps re-read their credentials: an app may hold `previous` until then.
      rotationSchedule: { cron: config.get("rotationCron") ?? "0 4 * * 1" },
      ...(accessToken ? { accessToken } : {}),
      ...(apiUrl ? { apiUrl } : {}),
    },
  });
}

const credentials = config.getBoolean("databaseOnly") ? undefined : rotatedCredentials();

// ---------------------------------------------------------------------------------------------
// Outputs. Apps read their credentials from ESC, not from this stack: an app's environment
// (here for the stack `prod`, with the default names) says
//
//   values:
//     database:
//       host: <databaseAddress>
//       username: ${environments.postgres-rotator.prod-db-rotator.dbRotator.current.username}
//       password: ${environments.postgres-rotator.prod-db-rotator.dbRotator.current.password}
//     environmentVariables:
//       PGHOST: ${database.host}
//       PGUSER: ${database.username}
//       PGPASSWORD: ${database.password}
//
// that is, `${environments.<project>.<rotator>.dbRotator.current}` with `<project>/<rotator>`
// from `rotatorEnvironment`. Re-read it (`esc run`, `esc open`, or the ESC SDK) at least as often
// as `rotationCron` rotates. Apps also need a rule on `databaseSecurityGroupId` admitting them.

/** `<project>/<environment>` of the ESC environment apps read `dbRotator.current` from. */
export const rotatorEnvironment = credentials?.rotatorEnvironment;
/** The user apps should use now (not secret; the password is in ESC). */
export const currentUsername = credentials?.currentUsername;
/** The connector Lambda, in the private subnets. */
export const lambdaArn = credentials?.lambdaArn;
/** The role ESC assumes (OIDC) to invoke the connector. */
export const invocationRoleArn = credentials?.invocationRoleArn;
export const databaseAddress = db.address;
export const databaseSecurityGroupId = dbSecurityGroup.id;
/** The Secrets Manager secret holding the master password (for the one-time SQL). */
export const masterSecretArn = db.masterUserSecrets.apply((secrets) => secrets[0]?.secretArn);
export const vpcId = vpc.id;
export { privateSubnetIds };
