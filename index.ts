/**
 * pulumi-postgres-rotator: zero-downtime PostgreSQL password rotation for Pulumi programs.
 */
export { PostgresRotation, SECRET_OUTPUTS } from "./provider/postgresRotation/postgresRotation";
export type {
  CredentialArgs,
  DatabaseArgs,
  PostgresRotationArgs,
  SslArgs,
  StateArgs,
  UserPairArgs,
  EscStateArgs,
  ConnectorArgs,
  AwsLambdaConnectorArgs,
} from "./provider/postgresRotation/postgresRotation";
export * as postgresRotationProvider from "./provider/postgresRotation/postgresRotationProvider";
export {
  PostgresUserPair,
  USER_PAIR_SECRET_OUTPUTS,
  type PostgresUserPairArgs,
} from "./provider/postgresUserPair/postgresUserPair";
export * as postgresUserPairProvider from "./provider/postgresUserPair/postgresUserPairProvider";
export type { RoleSnapshot, UserPairOutputs } from "./provider/core/userPair";
export { planRotation, type PlanRotationInput, type RotationPlan } from "./provider/core/plan";
export {
  generatePassword,
  URL_SAFE_CHARACTERS,
  DEFAULT_PASSWORD_LENGTH,
  MIN_PASSWORD_LENGTH,
} from "./provider/core/password";
export {
  scramSha256Verifier,
  isScramVerifier,
  DEFAULT_SCRAM_ITERATIONS,
  type ScramOptions,
} from "./provider/core/scram";
export { inputProblems, resolveInputs } from "./provider/core/validate";
export type { RotationOutputs } from "./provider/core/outputs";
export type {
  Credential,
  DatabaseConfig,
  OwnershipPolicy,
  PasswordPolicy,
  PreviousCredential,
  RotationInputs,
  RotationState,
  SslConfig,
  SslMode,
  Timeouts,
  UserPair,
} from "./provider/core/types";
export * from "./provider/errors";
export {
  RotatedPostgresCredentials,
  type RotatedPostgresCredentialsArgs,
  type CredentialsDatabaseArgs,
  type CredentialsEscArgs,
  type ExistingConnectorArgs,
  type CreateConnectorArgs,
  type ConnectorCreateArgs,
} from "./components/rotatedPostgresCredentials";
export {
  LambdaConnector,
  type LambdaConnectorArgs,
  type LambdaConnectorCreateArgs,
  type OidcProviderArgs,
  lambdaBundlePath,
} from "./components/lambdaConnector";
export {
  type EscSubjectAttribute,
  type EscTrustSubject,
  ESC_SUBJECT_ATTRIBUTES,
  escAudience,
  escSubject,
  escTrustPolicy,
  invokePolicy,
} from "./components/policies";
export { handler as connectorLambdaHandler } from "./provider/connector/lambdaHandler";
export {
  parseConnectorEvent,
  type ConnectorEvent,
  type ConnectorReply,
} from "./provider/connector/event";
export {
  EscEnvironment,
  ESC_SECRET_OUTPUTS,
  type EscEnvironmentArgs,
} from "./provider/escEnvironment/escEnvironment";
export * as escEnvironmentProvider from "./provider/escEnvironment/escEnvironmentProvider";
export {
  EscRotationSchedule,
  ESC_SCHEDULE_SECRET_OUTPUTS,
  type EscRotationScheduleArgs,
  type EscScheduleCronArgs,
  type EscScheduleOnceArgs,
} from "./provider/escRotationSchedule/escRotationSchedule";
export * as escRotationScheduleProvider from "./provider/escRotationSchedule/escRotationScheduleProvider";
export {
  credentialsEnvironmentYaml,
  rotatorEnvironmentYaml,
  rotatorInputs,
  withRotatorInputs,
  withRotatorState,
  environmentReference,
  DEFAULT_ROTATOR_KEY,
  type CredentialsEnvironmentSpec,
  type RotatorEnvironmentSpec,
  type EnvironmentRef,
} from "./provider/esc/documents";
