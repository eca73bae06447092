/**
 * Input types and secret handling shared by the resources that connect to a database
 * (`PostgresRotation`, `PostgresUserPair`) and the component that composes them.
 */
import * as pulumi from "@pulumi/pulumi";
import type { SslMode } from "./core/types";

export interface CredentialArgs {
  readonly username: pulumi.Input<string>;
  readonly password: pulumi.Input<string>;
}

export interface SslArgs {
  /**
   * How the connection is protected, as libpq's `sslmode`: `"disable"` (plaintext),
   * `"require"` (encrypted, server not verified), `"verify-ca"` (certificate chain checked),
   * `"verify-full"` (chain and host name checked).
   * @default "verify-full"
   */
  readonly mode: pulumi.Input<SslMode>;
  /**
   * PEM bundle of the CA certificates that may sign the server's certificate. Node's built-in
   * root store is used when absent.
   */
  readonly ca?: pulumi.Input<string>;
}

export interface DatabaseArgs {
  /** Host name or IP address of the server. @example "db.example.internal" */
  readonly host: pulumi.Input<string>;
  /** @default 5432 */
  readonly port?: pulumi.Input<number>;
  /** Database to connect to (the rotated roles are cluster-wide). @example "app" */
  readonly database: pulumi.Input<string>;
  /**
   * A role that may change the rotated roles' passwords: `CREATEROLE` on PostgreSQL 13-15,
   * `CREATEROLE` plus `ADMIN` on each rotated role on 16 and later (see the README). Never a
   * superuser in production. Its password is stored encrypted in the Pulumi state.
   */
  readonly managingUser: pulumi.Input<CredentialArgs>;
  /** TLS settings of direct connections. @default { mode: "verify-full" } */
  readonly ssl?: pulumi.Input<SslArgs>;
  /**
   * For a database `pulumi up` cannot reach (private subnets): change passwords through a
   * connector Lambda inside the VPC (`LambdaConnector`, or Pulumi's official connector) instead
   * of connecting. `host` is then the address as the Lambda sees it, and TLS is the Lambda's
   * setting, so leave `ssl` out. Same rotation, same state, same errors as a direct rotation.
   */
  readonly connector?: pulumi.Input<ConnectorArgs>;
}

export interface ConnectorArgs {
  readonly awsLambda: pulumi.Input<AwsLambdaConnectorArgs>;
}

export interface AwsLambdaConnectorArgs {
  /** ARN of the connector function. @example "arn:aws:lambda:us-east-1:123456789012:function:rotator" */
  readonly lambdaArn: pulumi.Input<string>;
  /** @default the region in `lambdaArn` */
  readonly region?: pulumi.Input<string>;
  /** IAM role to assume to invoke the function; the default AWS credential chain otherwise. */
  readonly roleArn?: pulumi.Input<string>;
  /** Lambda API endpoint URL (a VPC interface endpoint, say). @default AWS's public endpoint */
  readonly endpoint?: pulumi.Input<string>;
}

export interface UserPairArgs {
  /** The role rotated first when there is no state. @example "app_user_1" */
  readonly username1: pulumi.Input<string>;
  /** The other role of the pair. @example "app_user_2" */
  readonly username2: pulumi.Input<string>;
}

/** True for a plain object given directly (not an Output or a Promise of one). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return (
    typeof value === "object" &&
    value !== null &&
    !pulumi.Output.isInstance(value) &&
    !(value instanceof Promise)
  );
}

/**
 * `database` with the managing password marked secret, leaving host and names readable in the
 * state where the input's shape allows it; when it is one opaque Output, all of it is secret.
 */
export function withSecretPassword(
  database: pulumi.Input<DatabaseArgs>,
): pulumi.Input<DatabaseArgs> {
  if (!isPlainObject(database)) return pulumi.secret(database);
  const db = database as DatabaseArgs;
  const manager = db.managingUser;
  if (!isPlainObject(manager)) return { ...db, managingUser: pulumi.secret(manager) };
  const plain = manager as CredentialArgs;
  return { ...db, managingUser: { ...plain, password: pulumi.secret(plain.password) } };
}
