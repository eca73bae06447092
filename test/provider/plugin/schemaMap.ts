/**
 * Which TypeScript declaration each type and resource of `provider/plugin/schema.json` mirrors:
 * the schema drift test compares each pair. A union of object shapes is listed as its arms.
 */
const ARGS = "provider/args.ts";
const TYPES = "provider/core/types.ts";
const ROTATION = "provider/postgresRotation/postgresRotation.ts";
const USER_PAIR = "provider/postgresUserPair/postgresUserPair.ts";
const ENVIRONMENT = "provider/escEnvironment/escEnvironment.ts";
const SCHEDULE = "provider/escRotationSchedule/escRotationSchedule.ts";
const CREDENTIALS = "components/rotatedPostgresCredentials.ts";
const CONNECTOR = "components/lambdaConnector.ts";

export interface Declaration {
  readonly file: string;
  /** One interface or type alias, or the arms of a union. */
  readonly names: readonly string[];
}

/** Object types: schema token (after `postgres-rotator:index:`) to TypeScript. */
export const SCHEMA_TYPES: Readonly<Record<string, Declaration>> = {
  Credential: { file: ARGS, names: ["CredentialArgs"] },
  PreviousCredential: { file: TYPES, names: ["PreviousCredential"] },
  State: { file: ROTATION, names: ["StateArgs"] },
  UserPair: { file: ARGS, names: ["UserPairArgs"] },
  Ssl: { file: ARGS, names: ["SslArgs"] },
  Database: { file: ARGS, names: ["DatabaseArgs"] },
  Connector: { file: ARGS, names: ["ConnectorArgs"] },
  AwsLambdaConnector: { file: ARGS, names: ["AwsLambdaConnectorArgs"] },
  EscState: { file: ROTATION, names: ["EscStateArgs"] },
  PasswordPolicy: { file: TYPES, names: ["PasswordPolicy"] },
  Timeouts: { file: TYPES, names: ["Timeouts"] },
  EscSchedule: { file: SCHEDULE, names: ["EscScheduleCronArgs", "EscScheduleOnceArgs"] },
  CredentialsDatabase: { file: CREDENTIALS, names: ["CredentialsDatabaseArgs"] },
  ConnectorChoice: { file: CREDENTIALS, names: ["ExistingConnectorArgs", "CreateConnectorArgs"] },
  ConnectorCreate: { file: CONNECTOR, names: ["LambdaConnectorCreateArgs"] },
  CredentialsEsc: { file: CREDENTIALS, names: ["CredentialsEscArgs"] },
  OidcProvider: { file: CONNECTOR, names: ["OidcProviderArgs"] },
};

/** Resources and components: inputs from the args interface, outputs from the class. */
export const SCHEMA_RESOURCES: Readonly<
  Record<string, { readonly file: string; readonly args: string; readonly className: string }>
> = {
  RotatedPostgresCredentials: {
    file: CREDENTIALS,
    args: "RotatedPostgresCredentialsArgs",
    className: "RotatedPostgresCredentials",
  },
  LambdaConnector: { file: CONNECTOR, args: "LambdaConnectorArgs", className: "LambdaConnector" },
  PostgresRotation: { file: ROTATION, args: "PostgresRotationArgs", className: "PostgresRotation" },
  PostgresUserPair: {
    file: USER_PAIR,
    args: "PostgresUserPairArgs",
    className: "PostgresUserPair",
  },
  EscEnvironment: { file: ENVIRONMENT, args: "EscEnvironmentArgs", className: "EscEnvironment" },
  EscRotationSchedule: {
    file: SCHEDULE,
    args: "EscRotationScheduleArgs",
    className: "EscRotationSchedule",
  },
};

export const SCHEMA_FILES = [
  ...new Set([
    ...Object.values(SCHEMA_TYPES).map((d) => d.file),
    ...Object.values(SCHEMA_RESOURCES).map((d) => d.file),
  ]),
];
