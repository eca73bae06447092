/**
 * The two rotated users as a pair that `PostgresUserPair` creates and keeps identical: what is
 * asked for, what the server holds, and the steps between the two. Pure: the shell observes the
 * server, this module decides, the shell executes; no SQL, no I/O.
 */
import { otherUser, sameJson, type RotatedState } from "./plan";
import { resolvePasswordPolicy } from "./password";
import { DEFAULT_SCRAM_ITERATIONS } from "./scram";
import type { DatabaseConfig, PasswordPolicy, ResolvedDatabase, Timeouts, UserPair } from "./types";
import {
  databaseProblems,
  findUnknown,
  identifierProblems,
  isUnknown,
  passwordSettingsProblems,
  resolveDatabase,
  resolveTimeouts,
  timeoutsProblems,
  usersProblems,
} from "./validate";
import { ValidationError } from "../errors";
import { publicDatabase, publicTimeouts, type PublicSettings } from "./outputs";

/** `PostgresUserPair`'s inputs as the provider receives them (secrets unwrapped). */
export interface UserPairInputs {
  readonly database: DatabaseConfig;
  readonly rotateUsers: UserPair;
  /** NOLOGIN group roles both users belong to, and no others. @default [] */
  readonly memberOf?: readonly string[];
  /** `CONNECTION LIMIT` of both users; left as it is when absent (-1, none, for new users). */
  readonly connectionLimit?: number;
  /**
   * `ALTER ROLE … SET name = value` on both users (every database); others are left alone. A
   * list setting (`search_path`) takes a list of values.
   */
  readonly settings?: Readonly<Record<string, SettingValue>>;
  /**
   * One of `memberOf`: both users' sessions run as this role (`ALTER ROLE … SET role`), so what
   * either creates is owned by it and stays usable by both after any rotation.
   */
  readonly ownerRole?: string;
  /** Drop the users this resource created when it is deleted. @default false */
  readonly deleteUsersOnDestroy?: boolean;
  readonly passwordPolicy?: PasswordPolicy;
  readonly scramIterations?: number;
  readonly timeouts?: Timeouts;
}

/** `UserPairInputs` validated, defaults filled in, `memberOf` sorted without repeats. */
export interface ResolvedUserPairInputs {
  readonly database: ResolvedDatabase;
  readonly rotateUsers: UserPair;
  readonly memberOf: readonly string[];
  readonly connectionLimit?: number;
  readonly settings?: Readonly<Record<string, SettingValue>>;
  readonly ownerRole?: string;
  readonly deleteUsersOnDestroy: boolean;
  readonly passwordPolicy: Required<PasswordPolicy>;
  readonly scramIterations: number;
  readonly timeouts: Required<Timeouts>;
}

/** The attributes that change what a session of a LOGIN role can do, besides its memberships. */
export interface RoleAttributes {
  readonly inherit: boolean;
  readonly createDb: boolean;
  readonly createRole: boolean;
  readonly bypassRls: boolean;
  readonly replication: boolean;
  /** `VALID UNTIL` in UTC; `null`: none (or `infinity`). */
  readonly validUntil: string | null;
}

/**
 * A role's membership in one group, every grant of it taken together. `inherit` and `set`:
 * PostgreSQL 16+ only (before, INHERIT is the member's attribute and every membership allows
 * SET ROLE).
 */
export interface MembershipOptions {
  readonly admin: boolean;
  readonly inherit?: boolean;
  readonly set?: boolean;
}

/** One role as the server holds it. */
export interface RoleObservation {
  /**
   * Its OID: which role holds the name. A role dropped and created again under the same name
   * gets another one.
   */
  readonly oid: number;
  readonly canLogin: boolean;
  readonly superuser: boolean;
  /** -1: no limit. */
  readonly connectionLimit: number;
  /** The roles it is a member of, sorted. */
  readonly memberOf: readonly string[];
  /** Who granted each membership (PostgreSQL 16+ revokes only a grantor's own grants). */
  readonly grantors?: Readonly<Record<string, readonly string[]>>;
  /** Its settings for every database, as stored (`pg_db_role_setting`), by name. */
  readonly settings: Readonly<Record<string, string>>;
  /**
   * Its attributes besides LOGIN and SUPERUSER. Absent when observed by a version before them
   * (an older connector): then not compared.
   */
  readonly attributes?: RoleAttributes;
  /** Its membership options by group (absent: as `attributes`). */
  readonly memberships?: Readonly<Record<string, MembershipOptions>>;
  /**
   * Its settings for one database (`ALTER ROLE … IN DATABASE … SET`), by database name, then
   * setting name; databases no one can connect to (`template0`, where a rotation takes its
   * lock) left out. Absent: as `attributes`.
   */
  readonly databaseSettings?: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /**
   * PostgreSQL 16+: the managing user's membership in this role (ADMIN lets it change the
   * password; INHERIT or SET would let it use the role's privileges). Absent: no membership.
   */
  readonly managerGrant?: {
    readonly admin: boolean;
    readonly inherit: boolean;
    readonly set: boolean;
  };
}

/** A group role named in `memberOf`, as the server holds it. */
export interface GroupObservation {
  readonly canLogin: boolean;
  readonly superuser: boolean;
  /** PostgreSQL 16+: the managing user holds the ADMIN option on it (needed to grant it). */
  readonly managerAdmin: boolean;
}

/** The pair, its groups and the managing user, seen in one query. */
export interface PairObservation {
  readonly serverVersionNum: number;
  readonly manager: string;
  readonly managerSuperuser: boolean;
  /** By name; `null` when the role does not exist. */
  readonly users: Readonly<Record<string, RoleObservation | null>>;
  readonly groups: Readonly<Record<string, GroupObservation | null>>;
}

/** What the pair must look like after an apply. */
export interface PairRequest {
  readonly users: UserPair;
  readonly memberOf: readonly string[];
  readonly connectionLimit?: number;
  readonly settings?: Readonly<Record<string, SettingValue>>;
  /** Settings an earlier deployment set that are no longer asked for. */
  readonly resetSettings?: readonly string[];
  /**
   * One of `memberOf` both users' sessions run as: their `role` setting, and on PostgreSQL 16+
   * their membership in it WITH SET TRUE. Absent: `role` is left as it is (reset only when in
   * `resetSettings`).
   */
  readonly ownerRole?: string;
  /**
   * The users whose memberships outside `memberOf` are drift to revoke (users this resource
   * already manages); such memberships of any other user are refused (adopting a user never
   * takes its privileges away silently).
   */
  readonly revokeOtherMembershipsOf: readonly string[];
  /**
   * The OID each user had when this resource last applied it (its `oids` output). A user
   * holding its name under another OID was dropped and created again outside: someone else's
   * role, which is refused (never adopted silently, never changed).
   */
  readonly expectedOids?: Readonly<Record<string, number>>;
}

export type PairStep =
  | { readonly kind: "create"; readonly username: string; readonly connectionLimit?: number }
  | { readonly kind: "connectionLimit"; readonly username: string; readonly limit: number }
  | { readonly kind: "reset"; readonly username: string; readonly name: string }
  | {
      readonly kind: "set";
      readonly username: string;
      readonly name: string;
      readonly value: SettingValue;
    }
  | { readonly kind: "revoke"; readonly group: string; readonly username: string }
  | {
      readonly kind: "grant";
      readonly group: string;
      readonly username: string;
      /** PostgreSQL 16+: `WITH INHERIT …, SET …`; absent: the server's defaults. */
      readonly options?: { readonly inherit: boolean; readonly set: boolean };
    };

/** How the two users would still differ after the plan, in what a session can do. */
export type PairDifference =
  | {
      readonly kind: "attribute";
      readonly attribute: "inherit" | "createDb" | "createRole" | "bypassRls" | "replication";
      /** The user whose value is not the default (INHERIT, and NO… for the others). */
      readonly odd: string;
      readonly other: string;
    }
  | {
      readonly kind: "valid-until";
      readonly users: readonly [string, string];
      /** The users with a date. */
      readonly dated: readonly string[];
    }
  | { readonly kind: "connection-limit"; readonly limits: readonly [string, number][] }
  | {
      readonly kind: "setting";
      /** `null`: every database. */
      readonly database: string | null;
      readonly name: string;
      /** The users that hold the setting (both: with different values). */
      readonly holders: readonly string[];
      readonly other?: string;
    }
  | {
      readonly kind: "membership";
      readonly group: string;
      readonly option: "admin" | "inherit" | "set";
      /** The user whose value is not the default (ADMIN false, INHERIT and SET true). */
      readonly odd: string;
      readonly other: string;
    };

/** Why a pair cannot be set up as asked; the shell words each with the SQL that fixes it. */
export type PairRefusal =
  | { readonly kind: "user-superuser"; readonly username: string }
  | { readonly kind: "user-nologin"; readonly username: string }
  | {
      readonly kind: "user-recreated";
      readonly username: string;
      readonly oid: number;
      readonly expected: number;
    }
  | { readonly kind: "manager-lacks-admin-on-user"; readonly username: string }
  | { readonly kind: "manager-uses-user"; readonly username: string }
  | { readonly kind: "group-missing"; readonly group: string }
  | { readonly kind: "group-can-login"; readonly group: string }
  | { readonly kind: "group-superuser"; readonly group: string }
  | { readonly kind: "manager-lacks-admin-on-group"; readonly group: string }
  | {
      readonly kind: "membership-granted-by-other";
      readonly username: string;
      readonly group: string;
      readonly grantors: readonly string[];
    }
  | {
      readonly kind: "other-memberships";
      readonly username: string;
      readonly groups: readonly string[];
    }
  | { readonly kind: "users-differ"; readonly difference: PairDifference };

export interface PairPlan {
  readonly refusals: readonly PairRefusal[];
  readonly steps: readonly PairStep[];
}

/** A setting's value: one string, or a list (`search_path = 'app', 'public'`). */
export type SettingValue = string | readonly string[];

/** How `pg_db_role_setting` spells a value we set (exact for plain names and values). */
function storedForm(value: SettingValue): string {
  return typeof value === "string" ? value : value.join(", ");
}

/** PostgreSQL 16 made CREATEROLE need the ADMIN option on each role it manages. */
export const ADMIN_OPTION_VERSION = 160000;

/** Settings that would change who a session is; never set on a rotated user. */
const FORBIDDEN_SETTINGS = ["role", "session_authorization"];
const SETTING_NAME = /^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)?$/;
const MAX_SETTING_VALUE = 4096;
const MAX_CONNECTION_LIMIT = 1_000_000;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function memberOfProblems(memberOf: unknown, users: unknown, manager: unknown): string[] {
  if (memberOf === undefined || isUnknown(memberOf)) return [];
  if (!Array.isArray(memberOf)) return ["memberOf must be a list of group role names"];
  const problems = memberOf.flatMap((group, i) => identifierProblems(group, `memberOf[${i}]`));
  const pair = isObject(users) ? [users.username1, users.username2] : [];
  const managerName = isObject(manager) ? manager.username : undefined;
  memberOf.forEach((group, i) => {
    if (typeof group !== "string" || isUnknown(group)) return;
    if (group === "public" || group === "none") {
      problems.push(`memberOf[${i}] "${group}" is not a role`);
    } else if (group.startsWith("pg_")) {
      // A CREATEROLE manager on PostgreSQL 13-15 could grant these (pg_execute_server_program
      // runs programs on the server); 16+ refuses it anyway. Grant one to a group role instead.
      problems.push(
        `memberOf[${i}] "${group}" is one of PostgreSQL's predefined roles; the users get ` +
          `only group roles of your own: as a superuser, GRANT ${group} TO <your group role>`,
      );
    } else if (pair.includes(group)) {
      problems.push(
        `memberOf[${i}] "${group}" is one of the pair: never make the users members of each other`,
      );
    } else if (group === managerName) {
      problems.push(`memberOf[${i}] "${group}" is the managing user`);
    } else if (memberOf.indexOf(group) !== i) {
      problems.push(`memberOf[${i}] "${group}" is listed twice`);
    }
  });
  return problems;
}

function ownerRoleProblems(ownerRole: unknown, memberOf: unknown, path: string): string[] {
  if (ownerRole === undefined || isUnknown(ownerRole)) return [];
  const problems = identifierProblems(ownerRole, path);
  if (problems.length > 0 || isUnknown(memberOf)) return problems;
  const groups: unknown[] = Array.isArray(memberOf) ? memberOf : [];
  if (groups.some(isUnknown)) return [];
  if (!groups.includes(ownerRole)) {
    problems.push(
      `${path} "${ownerRole}" must be one of memberOf: the users' sessions can run only as a ` +
        `role they are members of`,
    );
  }
  return problems;
}

function settingsProblems(settings: unknown): string[] {
  if (settings === undefined || isUnknown(settings)) return [];
  if (!isObject(settings)) return ["settings must be an object of setting names to values"];
  const problems: string[] = [];
  for (const [name, value] of Object.entries(settings)) {
    if (!SETTING_NAME.test(name)) {
      problems.push(
        `settings: "${name.slice(0, 64)}" is not a setting name (lower-case letters, digits, '_', one optional '.')`,
      );
    } else if (FORBIDDEN_SETTINGS.includes(name)) {
      problems.push(`settings.${name} would change who the users' sessions are; it is refused`);
    } else if (name.includes(".")) {
      problems.push(
        `settings.${name}: a custom (dotted) setting can be set on a role only by a superuser; ` +
          `set it yourself with ALTER ROLE … SET, or leave it out`,
      );
    }
    if (isUnknown(value)) continue;
    const parts: unknown[] = Array.isArray(value) ? value : [value];
    if (parts.length === 0 || !parts.every((part) => typeof part === "string")) {
      problems.push(`settings.${name} must be a string, or a non-empty list of strings`);
    } else if (
      (parts as string[]).some((part) => part.includes("\0")) ||
      parts.join(", ").length > MAX_SETTING_VALUE
    ) {
      problems.push(`settings.${name} must be at most ${MAX_SETTING_VALUE} characters, no NUL`);
    }
  }
  return problems;
}

/** Every problem with `PostgresUserPair`'s inputs, unknown values skipped; `[]` when usable. */
export function userPairInputProblems(inputs: unknown): string[] {
  if (!isObject(inputs)) return ["inputs must be an object"];
  const database = isObject(inputs.database) ? inputs.database : undefined;
  const problems = [
    ...databaseProblems(inputs.database),
    ...usersProblems(inputs.rotateUsers, database?.managingUser),
    ...memberOfProblems(inputs.memberOf, inputs.rotateUsers, database?.managingUser),
    ...settingsProblems(inputs.settings),
    ...ownerRoleProblems(inputs.ownerRole, inputs.memberOf, "ownerRole"),
    ...passwordSettingsProblems(inputs),
    ...timeoutsProblems(inputs.timeouts),
  ];
  const limit = inputs.connectionLimit;
  if (
    limit !== undefined &&
    !isUnknown(limit) &&
    !(
      Number.isInteger(limit) &&
      (limit as number) >= -1 &&
      (limit as number) <= MAX_CONNECTION_LIMIT
    )
  ) {
    problems.push(
      `connectionLimit must be a whole number from -1 (no limit) to ${MAX_CONNECTION_LIMIT}`,
    );
  }
  if (typeof limit === "number" && limit === 0) {
    problems.push("connectionLimit 0 would keep both users from logging in; use -1 or at least 1");
  }
  const drop = inputs.deleteUsersOnDestroy;
  if (drop !== undefined && !isUnknown(drop) && typeof drop !== "boolean") {
    problems.push("deleteUsersOnDestroy must be true or false");
  }
  return problems;
}

/** Validates fully known inputs and fills in every default; throws `ValidationError`. */
export function resolveUserPairInputs(inputs: UserPairInputs): ResolvedUserPairInputs {
  const problems = userPairInputProblems(inputs);
  const unknownAt = findUnknown(inputs);
  if (unknownAt) problems.push(`${unknownAt} is not known yet; it must be known to set up users`);
  if (problems.length > 0) throw new ValidationError(problems);
  return {
    database: resolveDatabase(inputs.database),
    rotateUsers: {
      username1: inputs.rotateUsers.username1,
      username2: inputs.rotateUsers.username2,
    },
    memberOf: [...new Set(inputs.memberOf ?? [])].sort(),
    ...(inputs.connectionLimit !== undefined ? { connectionLimit: inputs.connectionLimit } : {}),
    ...(inputs.settings !== undefined ? { settings: { ...inputs.settings } } : {}),
    ...(inputs.ownerRole !== undefined ? { ownerRole: inputs.ownerRole } : {}),
    deleteUsersOnDestroy: inputs.deleteUsersOnDestroy ?? false,
    passwordPolicy: resolvePasswordPolicy(inputs.passwordPolicy),
    scramIterations: inputs.scramIterations ?? DEFAULT_SCRAM_ITERATIONS,
    timeouts: resolveTimeouts(inputs.timeouts),
  };
}

/**
 * The steps that make the server hold `request`, or the reasons it cannot. Refusals come from
 * the observation alone, so nothing is changed when there is one.
 */
export function planUserPair(observation: PairObservation, request: PairRequest): PairPlan {
  const refusals: PairRefusal[] = [];
  const modern = observation.serverVersionNum >= ADMIN_OPTION_VERSION;
  const checkAdmin = modern && !observation.managerSuperuser;
  for (const group of request.memberOf) {
    const seen = observation.groups[group];
    if (!seen) refusals.push({ kind: "group-missing", group });
    else if (seen.superuser) refusals.push({ kind: "group-superuser", group });
    else if (seen.canLogin) refusals.push({ kind: "group-can-login", group });
  }
  const wanted = wantedSettings(request);
  const owner = request.ownerRole;

  const steps: PairStep[] = [];
  const later: PairStep[] = [];
  const profiles: Profile[] = [];
  for (const username of [request.users.username1, request.users.username2]) {
    const seen = observation.users[username];
    if (!seen) {
      steps.push({
        kind: "create",
        username,
        ...(request.connectionLimit !== undefined && request.connectionLimit !== -1
          ? { connectionLimit: request.connectionLimit }
          : {}),
      });
      for (const [name, value] of Object.entries(wanted)) {
        later.push({ kind: "set", username, name, value });
      }
      for (const group of request.memberOf) {
        later.push({ kind: "grant", group, username, ...ownerGrant(modern, owner, group, true) });
      }
      profiles.push(newProfile(username, request, wanted, modern));
      continue;
    }
    const expected = request.expectedOids?.[username];
    if (expected !== undefined && seen.oid !== expected) {
      refusals.push({ kind: "user-recreated", username, oid: seen.oid, expected });
      continue;
    }
    if (seen.superuser) {
      refusals.push({ kind: "user-superuser", username });
      continue;
    }
    if (!seen.canLogin) refusals.push({ kind: "user-nologin", username });
    if (checkAdmin && !seen.managerGrant?.admin) {
      refusals.push({ kind: "manager-lacks-admin-on-user", username });
    } else if (checkAdmin && (seen.managerGrant?.inherit || seen.managerGrant?.set)) {
      refusals.push({ kind: "manager-uses-user", username });
    }
    const others = seen.memberOf.filter((group) => !request.memberOf.includes(group));
    const repair = request.revokeOtherMembershipsOf.includes(username);
    if (others.length > 0 && !repair) {
      refusals.push({ kind: "other-memberships", username, groups: others });
    }
    if (request.connectionLimit !== undefined && seen.connectionLimit !== request.connectionLimit) {
      steps.push({ kind: "connectionLimit", username, limit: request.connectionLimit });
    }
    for (const name of request.resetSettings ?? []) {
      if (name in seen.settings && !(name in wanted)) {
        steps.push({ kind: "reset", username, name });
      }
    }
    for (const [name, value] of Object.entries(wanted)) {
      if (seen.settings[name] !== storedForm(value)) {
        steps.push({ kind: "set", username, name, value });
      }
    }
    if (repair) {
      for (const group of others) {
        const by = (seen.grantors?.[group] ?? []).filter((g) => g !== observation.manager);
        if (checkAdmin && by.length > 0) {
          refusals.push({ kind: "membership-granted-by-other", username, group, grantors: by });
        }
        steps.push({ kind: "revoke", group, username });
      }
    }
    for (const group of request.memberOf) {
      const inherit = seen.memberships?.[group]?.inherit ?? seen.attributes?.inherit ?? true;
      if (!seen.memberOf.includes(group)) {
        steps.push({
          kind: "grant",
          group,
          username,
          ...ownerGrant(modern, owner, group, inherit),
        });
      } else if (modern && group === owner && seen.memberships?.[group]?.set === false) {
        // A member without SET cannot run as the owner role (16+): grant it SET, nothing else.
        steps.push({ kind: "grant", group, username, options: { inherit, set: true } });
      }
    }
    profiles.push(existingProfile(username, seen, request, wanted, modern));
  }
  if (profiles.length === 2) {
    for (const difference of differences(profiles[0], profiles[1])) {
      refusals.push({ kind: "users-differ", difference });
    }
  }
  const all = [...steps, ...later];
  if (checkAdmin) {
    // Granting or revoking a group takes the ADMIN option on it; ask only when a step needs it.
    const needed = new Set(
      all.flatMap((s) => (s.kind === "grant" || s.kind === "revoke" ? [s.group] : [])),
    );
    for (const group of needed) {
      const seen = observation.groups[group];
      if (seen && !seen.managerAdmin && !seen.superuser && !seen.canLogin) {
        refusals.push({ kind: "manager-lacks-admin-on-group", group });
      }
    }
  }
  return { refusals, steps: refusals.length > 0 ? [] : all };
}

/** The settings every database gets: `settings`, and `role` for `ownerRole`. */
function wantedSettings(request: PairRequest): Record<string, SettingValue> {
  return { ...request.settings, ...(request.ownerRole ? { role: request.ownerRole } : {}) };
}

/** PostgreSQL 16+: the owner role is granted WITH SET TRUE (stated, whatever the defaults). */
function ownerGrant(modern: boolean, owner: string | undefined, group: string, inherit: boolean) {
  return modern && group === owner ? { options: { inherit, set: true } } : {};
}

/** What a user's sessions can do once the plan ran: what the two users must share. */
interface Profile {
  readonly username: string;
  readonly attributes?: RoleAttributes;
  readonly connectionLimit: number;
  readonly settings: Readonly<Record<string, string>>;
  readonly databaseSettings?: Readonly<Record<string, Readonly<Record<string, string>>>>;
  readonly memberships?: Readonly<Record<string, MembershipOptions>>;
}

const DEFAULT_ATTRIBUTES: RoleAttributes = {
  inherit: true,
  createDb: false,
  createRole: false,
  bypassRls: false,
  replication: false,
  validUntil: null,
};

function storedSettings(settings: Readonly<Record<string, SettingValue>>) {
  return Object.fromEntries(Object.entries(settings).map(([n, v]) => [n, storedForm(v)]));
}

/** A user the plan creates: default attributes, the memberships `GRANT` gives, only `wanted`. */
function newProfile(
  username: string,
  request: PairRequest,
  wanted: Readonly<Record<string, SettingValue>>,
  modern: boolean,
): Profile {
  const options: MembershipOptions = modern
    ? { admin: false, inherit: true, set: true }
    : { admin: false };
  return {
    username,
    attributes: DEFAULT_ATTRIBUTES,
    connectionLimit: request.connectionLimit ?? -1,
    settings: storedSettings(wanted),
    databaseSettings: {},
    memberships: Object.fromEntries(request.memberOf.map((group) => [group, options])),
  };
}

/** An existing user after the plan's steps: the limit, settings and grants it asks for. */
function existingProfile(
  username: string,
  seen: RoleObservation,
  request: PairRequest,
  wanted: Readonly<Record<string, SettingValue>>,
  modern: boolean,
): Profile {
  const settings: Record<string, string> = { ...seen.settings };
  for (const name of request.resetSettings ?? []) if (!(name in wanted)) delete settings[name];
  Object.assign(settings, storedSettings(wanted));
  const inherit = seen.attributes?.inherit ?? true;
  const memberships = seen.memberships
    ? Object.fromEntries(
        request.memberOf.map((group): [string, MembershipOptions] => {
          const had = seen.memberships?.[group];
          const options = had ?? (modern ? { admin: false, inherit, set: true } : { admin: false });
          return [
            group,
            modern && group === request.ownerRole ? { ...options, set: true } : options,
          ];
        }),
      )
    : undefined;
  return {
    username,
    ...(seen.attributes ? { attributes: seen.attributes } : {}),
    connectionLimit: request.connectionLimit ?? seen.connectionLimit,
    settings,
    ...(seen.databaseSettings ? { databaseSettings: seen.databaseSettings } : {}),
    ...(memberships ? { memberships } : {}),
  };
}

const ATTRIBUTES = ["inherit", "createDb", "createRole", "bypassRls", "replication"] as const;
const MEMBERSHIP_OPTIONS = ["admin", "inherit", "set"] as const;
const MEMBERSHIP_DEFAULTS = { admin: false, inherit: true, set: true } as const;

/** Every way the two profiles differ (parts one of them did not observe are not compared). */
function differences(a: Profile, b: Profile): PairDifference[] {
  const found: PairDifference[] = [];
  const users = [a.username, b.username];
  if (a.attributes && b.attributes) {
    for (const attribute of ATTRIBUTES) {
      if (a.attributes[attribute] === b.attributes[attribute]) continue;
      const aOdd = a.attributes[attribute] !== DEFAULT_ATTRIBUTES[attribute];
      const [odd, other] = aOdd ? users : [b.username, a.username];
      found.push({ kind: "attribute", attribute, odd, other });
    }
    if (a.attributes.validUntil !== b.attributes.validUntil) {
      found.push({
        kind: "valid-until",
        users: [a.username, b.username],
        dated: [a, b].filter((p) => p.attributes?.validUntil !== null).map((p) => p.username),
      });
    }
  }
  if (a.connectionLimit !== b.connectionLimit) {
    found.push({
      kind: "connection-limit",
      limits: [
        [a.username, a.connectionLimit],
        [b.username, b.connectionLimit],
      ],
    });
  }
  found.push(...settingDifferences(a, b, null, a.settings, b.settings));
  if (a.databaseSettings && b.databaseSettings) {
    const databases = new Set([
      ...Object.keys(a.databaseSettings),
      ...Object.keys(b.databaseSettings),
    ]);
    for (const database of [...databases].sort()) {
      found.push(
        ...settingDifferences(
          a,
          b,
          database,
          a.databaseSettings[database] ?? {},
          b.databaseSettings[database] ?? {},
        ),
      );
    }
  }
  if (a.memberships && b.memberships) {
    for (const group of Object.keys(a.memberships).sort()) {
      const x = a.memberships[group];
      const y = b.memberships[group];
      if (!x || !y) continue;
      for (const option of MEMBERSHIP_OPTIONS) {
        if (x[option] === undefined || y[option] === undefined || x[option] === y[option]) continue;
        const aOdd = x[option] !== MEMBERSHIP_DEFAULTS[option];
        const [odd, other] = aOdd ? users : [b.username, a.username];
        found.push({ kind: "membership", group, option, odd, other });
      }
    }
  }
  return found;
}

function settingDifferences(
  a: Profile,
  b: Profile,
  database: string | null,
  x: Readonly<Record<string, string>>,
  y: Readonly<Record<string, string>>,
): PairDifference[] {
  const names = [...new Set([...Object.keys(x), ...Object.keys(y)])].sort();
  return names.flatMap((name): PairDifference[] => {
    if (x[name] === y[name]) return [];
    if (name in x && name in y) {
      return [{ kind: "setting", database, name, holders: [a.username, b.username] }];
    }
    const [holder, other] = name in x ? [a.username, b.username] : [b.username, a.username];
    return [{ kind: "setting", database, name, holders: [holder], other }];
  });
}

/** One user as last applied or refreshed: what drift is measured against. */
export interface RoleSnapshot {
  readonly exists: boolean;
  readonly canLogin: boolean;
  readonly connectionLimit: number;
  readonly memberOf: readonly string[];
  readonly settings: Readonly<Record<string, string>>;
  /** Absent in snapshots of versions before them (a refresh records them): not compared. */
  readonly attributes?: RoleAttributes;
  readonly memberships?: Readonly<Record<string, MembershipOptions>>;
  readonly databaseSettings?: Readonly<Record<string, Readonly<Record<string, string>>>>;
}

export function snapshotOf(observation: PairObservation, users: UserPair) {
  const snapshot: Record<string, RoleSnapshot> = {};
  for (const username of [users.username1, users.username2]) {
    const seen = observation.users[username];
    snapshot[username] = seen
      ? {
          exists: true,
          canLogin: seen.canLogin,
          connectionLimit: seen.connectionLimit,
          memberOf: [...seen.memberOf],
          settings: { ...seen.settings },
          ...(seen.attributes ? { attributes: { ...seen.attributes } } : {}),
          ...(seen.memberships ? { memberships: { ...seen.memberships } } : {}),
          ...(seen.databaseSettings ? { databaseSettings: { ...seen.databaseSettings } } : {}),
        }
      : { exists: false, canLogin: false, connectionLimit: -1, memberOf: [], settings: {} };
  }
  return snapshot;
}

const ATTRIBUTE_SQL: Record<(typeof ATTRIBUTES)[number], string> = {
  inherit: "INHERIT",
  createDb: "CREATEDB",
  createRole: "CREATEROLE",
  bypassRls: "BYPASSRLS",
  replication: "REPLICATION",
};

/** The drift lines of what a snapshot of this version adds (attributes, options, databases). */
function capabilityDrift(username: string, was: RoleSnapshot, is: RoleSnapshot): string[] {
  const lines: string[] = [];
  if (was.attributes && is.attributes) {
    for (const attribute of ATTRIBUTES) {
      const now = is.attributes[attribute];
      if (was.attributes[attribute] === now) continue;
      const word = ATTRIBUTE_SQL[attribute];
      lines.push(
        attribute === "inherit"
          ? `"${username}" is now ${now ? "INHERIT" : "NOINHERIT"}`
          : `"${username}" ${now ? "now has" : "no longer has"} ${word}`,
      );
    }
    if (was.attributes.validUntil !== is.attributes.validUntil) {
      lines.push(`"${username}" VALID UNTIL changed outside Pulumi`);
    }
  }
  if (was.memberships && is.memberships) {
    for (const group of Object.keys(is.memberships).sort()) {
      const before = was.memberships[group];
      const now = is.memberships[group];
      if (!before) continue; // a new membership: reported by memberOf
      for (const option of MEMBERSHIP_OPTIONS) {
        if (now[option] === undefined || before[option] === now[option]) continue;
        lines.push(
          option === "admin"
            ? `"${username}"'s membership in "${group}" is now ${now.admin ? "WITH" : "without"} ADMIN OPTION`
            : `"${username}"'s membership in "${group}" is now ${option.toUpperCase()} ${String(now[option]).toUpperCase()}`,
        );
      }
    }
  }
  if (was.databaseSettings && is.databaseSettings) {
    const databases = new Set([
      ...Object.keys(was.databaseSettings),
      ...Object.keys(is.databaseSettings),
    ]);
    for (const database of [...databases].sort()) {
      const before = was.databaseSettings[database] ?? {};
      const now = is.databaseSettings[database] ?? {};
      const names = new Set([...Object.keys(before), ...Object.keys(now)]);
      for (const name of [...names].sort()) {
        if (before[name] !== now[name]) {
          lines.push(
            `"${username}" setting ${name} in database "${database}" changed outside Pulumi`,
          );
        }
      }
    }
  }
  return lines;
}

/**
 * What changed outside Pulumi since `before`, one readable line per change. A user in
 * `recreated` holds its name under another OID: one line says so, and nothing of that other
 * role is compared.
 */
export function pairDrift(
  before: Readonly<Record<string, RoleSnapshot>>,
  now: Readonly<Record<string, RoleSnapshot>>,
  recreated: readonly string[] = [],
): string[] {
  const lines: string[] = [];
  for (const [username, was] of Object.entries(before)) {
    const is = now[username];
    if (!is) continue;
    if (recreated.includes(username)) {
      lines.push(
        `"${username}" was dropped and created again outside Pulumi: it is not the role this ` +
          `resource created or adopted`,
      );
      continue;
    }
    if (was.exists && !is.exists) {
      lines.push(`"${username}" no longer exists`);
      continue;
    }
    if (!was.exists && is.exists) lines.push(`"${username}" exists again`);
    if (was.canLogin && !is.canLogin) lines.push(`"${username}" can no longer log in (NOLOGIN)`);
    for (const group of is.memberOf.filter((g) => !was.memberOf.includes(g))) {
      lines.push(`"${username}" is now also a member of "${group}"`);
    }
    for (const group of was.memberOf.filter((g) => !is.memberOf.includes(g))) {
      lines.push(`"${username}" is no longer a member of "${group}"`);
    }
    if (was.connectionLimit !== is.connectionLimit) {
      lines.push(
        `"${username}" has CONNECTION LIMIT ${is.connectionLimit} (was ${was.connectionLimit})`,
      );
    }
    const names = new Set([...Object.keys(was.settings), ...Object.keys(is.settings)]);
    for (const name of [...names].sort()) {
      if (was.settings[name] !== is.settings[name]) {
        lines.push(`"${username}" setting ${name} changed outside Pulumi`);
      }
    }
    lines.push(...capabilityDrift(username, was, is));
  }
  return lines;
}

/** The OID of each user of the pair that exists, by name. */
export function oidsOf(observation: PairObservation, users: UserPair): Record<string, number> {
  const oids: Record<string, number> = {};
  for (const username of [users.username1, users.username2]) {
    const seen = observation.users[username];
    if (seen) oids[username] = seen.oid;
  }
  return oids;
}

/** The users holding their name under another OID than `recorded` says. */
export function recreatedUsers(
  recorded: Readonly<Record<string, number>> | undefined,
  observation: PairObservation,
  users: UserPair,
): string[] {
  return [users.username1, users.username2].filter((username) => {
    const seen = observation.users[username];
    const oid = recorded?.[username];
    return seen && oid !== undefined && seen.oid !== oid;
  });
}

/**
 * The outputs after a refresh: `drift` lists what changed outside Pulumi, and the rest stays as
 * applied, so the next `up` repairs it; except what would mislead. A user that no longer
 * exists, or that holds its name under another OID (dropped and created again outside: someone
 * else's role), loses its password in `passwords` and any `initialState` naming it: neither
 * logs in any more. A re-created one also leaves `created`, and keeps its recorded OID, so
 * neither an update nor a delete ever takes it for this resource's role. Outputs of a version
 * before `oids` get the OID of each user still exactly as applied (no drift); a user changed
 * outside gets none, so a delete leaves it alone.
 */
export function refreshedOutputs(
  props: UserPairOutputs,
  observation: PairObservation,
): UserPairOutputs {
  const users = props.rotateUsers;
  const now = snapshotOf(observation, users);
  const recreated = recreatedUsers(props.oids, observation, users);
  const gone = [users.username1, users.username2].filter(
    (username) => !observation.users[username] || recreated.includes(username),
  );
  const oids: Record<string, number> = { ...props.oids };
  for (const [username, oid] of Object.entries(oidsOf(observation, users))) {
    const was = props.observed[username];
    const unchanged = was !== undefined && pairDrift({ [username]: was }, now).length === 0;
    if (oids[username] === undefined && unchanged) oids[username] = oid;
  }
  // Snapshots of a version before attributes, options and per-database settings get them from
  // a user still exactly as applied, so the next refresh compares them too.
  const observed: Record<string, RoleSnapshot> = { ...props.observed };
  for (const [username, was] of Object.entries(props.observed)) {
    const is = now[username];
    const unchanged = is?.exists && pairDrift({ [username]: was }, now, recreated).length === 0;
    if (unchanged && was.attributes === undefined) observed[username] = { ...is, ...was };
  }
  const { initialState, ...rest } = props;
  const stale =
    initialState !== undefined &&
    (gone.includes(initialState.current.username) || gone.includes(initialState.previous.username));
  return {
    ...rest,
    created: props.created.filter((username) => !recreated.includes(username)),
    passwords: Object.fromEntries(
      Object.entries(props.passwords).filter(([username]) => !gone.includes(username)),
    ),
    ...(initialState && !stale ? { initialState } : {}),
    oids,
    observed,
    drift: pairDrift(props.observed, now, recreated),
  };
}

/** Everything a `PostgresUserPair` records; `passwords` and `initialState` are secret. */
export interface UserPairOutputs {
  readonly database: PublicSettings["database"];
  /** The managing user's password (secret), for refresh and delete, which get only outputs. */
  readonly managingPassword: string;
  readonly rotateUsers: UserPair;
  readonly username1: string;
  readonly username2: string;
  /** The group roles both users belong to, as applied (sorted). */
  readonly memberOf: readonly string[];
  readonly connectionLimit?: number;
  readonly settings?: Readonly<Record<string, SettingValue>>;
  /** The role both users' sessions run as, as applied. */
  readonly ownerRole?: string;
  readonly deleteUsersOnDestroy: boolean;
  readonly passwordPolicy: Required<PasswordPolicy>;
  readonly scramIterations: number;
  readonly timeouts: Required<Timeouts>;
  /** The users this resource created (the only ones `deleteUsersOnDestroy` drops). */
  readonly created: readonly string[];
  /** The random initial password of each user this resource created (secret). */
  readonly passwords: Readonly<Record<string, string>>;
  /**
   * `{current: username1, previous: username2}` with their initial passwords, when this
   * resource created both users: `PostgresRotation`'s `state`. Absent otherwise (secret).
   */
  readonly initialState?: RotatedState;
  /**
   * The OID of each user as this resource created or adopted it: which role it manages. A role
   * holding the name under another OID is someone else's. Absent in outputs of versions before
   * it (recorded by the next refresh or update).
   */
  readonly oids?: Readonly<Record<string, number>>;
  /** Both users as last applied or refreshed. */
  readonly observed: Readonly<Record<string, RoleSnapshot>>;
  /** What `pulumi refresh` found changed outside Pulumi; the next `up` repairs it. */
  readonly drift: readonly string[];
}

/** The non-secret inputs that decide what an update does, defaults filled in. */
function comparable(inputs: Record<string, unknown>) {
  return {
    database: publicDatabase(inputs.database),
    memberOf: Array.isArray(inputs.memberOf) ? [...new Set(inputs.memberOf)].sort() : [],
    connectionLimit: inputs.connectionLimit,
    settings: inputs.settings,
    ownerRole: inputs.ownerRole,
    deleteUsersOnDestroy: inputs.deleteUsersOnDestroy ?? false,
    passwordPolicy: resolvePasswordPolicy((inputs.passwordPolicy ?? {}) as PasswordPolicy),
    scramIterations: inputs.scramIterations ?? DEFAULT_SCRAM_ITERATIONS,
    timeouts: publicTimeouts(inputs.timeouts),
  };
}

export type PairChange = "none" | "update" | "replace";

/**
 * What moving from `olds` to `news` means. A pair with no user in common with the old one is a
 * new resource; any other change, drift found by a refresh included, is an update.
 */
export function planPairChange(olds: UserPairOutputs, news: Record<string, unknown>): PairChange {
  const pair = news.rotateUsers as UserPair | undefined;
  if (!sameJson(olds.rotateUsers, pair)) {
    const known =
      typeof pair?.username1 === "string" &&
      typeof pair?.username2 === "string" &&
      !isUnknown(pair.username1) &&
      !isUnknown(pair.username2);
    const oldNames = [olds.rotateUsers.username1, olds.rotateUsers.username2];
    if (known && !oldNames.includes(pair.username1) && !oldNames.includes(pair.username2)) {
      return "replace";
    }
    return "update";
  }
  if (olds.drift.length > 0) return "update";
  const database = news.database as { managingUser?: { password?: unknown } } | undefined;
  const password = database?.managingUser?.password;
  if (password !== undefined && password !== olds.managingPassword) return "update";
  const before = comparable(olds as unknown as Record<string, unknown>);
  return sameJson(before, comparable(news)) ? "none" : "update";
}

/** The outputs after an apply. */
export function buildUserPairOutputs(
  inputs: ResolvedUserPairInputs,
  record: {
    readonly created: readonly string[];
    readonly passwords: Readonly<Record<string, string>>;
    readonly initialState?: RotatedState;
    readonly oids: Readonly<Record<string, number>>;
    readonly observed: Readonly<Record<string, RoleSnapshot>>;
  },
): UserPairOutputs {
  return {
    database: publicDatabase(inputs.database),
    managingPassword: inputs.database.managingUser.password,
    rotateUsers: inputs.rotateUsers,
    username1: inputs.rotateUsers.username1,
    username2: inputs.rotateUsers.username2,
    memberOf: inputs.memberOf,
    ...(inputs.connectionLimit !== undefined ? { connectionLimit: inputs.connectionLimit } : {}),
    ...(inputs.settings !== undefined ? { settings: inputs.settings } : {}),
    ...(inputs.ownerRole !== undefined ? { ownerRole: inputs.ownerRole } : {}),
    deleteUsersOnDestroy: inputs.deleteUsersOnDestroy,
    passwordPolicy: inputs.passwordPolicy,
    scramIterations: inputs.scramIterations,
    timeouts: inputs.timeouts,
    created: [...record.created],
    passwords: { ...record.passwords },
    ...(record.initialState ? { initialState: record.initialState } : {}),
    oids: { ...record.oids },
    observed: record.observed,
    drift: [],
  };
}

/** The starting state when both users were just created: username1 current, as the seed says. */
export function initialStateOf(
  users: UserPair,
  passwords: Readonly<Record<string, string>>,
): RotatedState | undefined {
  const first = passwords[users.username1];
  const second = passwords[users.username2];
  if (first === undefined || second === undefined) return undefined;
  return {
    current: { username: users.username1, password: first },
    previous: { username: otherUser(users, users.username1), password: second },
  };
}

/**
 * Problems with a `PairRequest` received from outside (the connector event), each naming the
 * path under `path`; `[]` when it is well formed.
 */
export function pairRequestProblems(value: unknown, path: string): string[] {
  if (!isObject(value)) return [`${path} must be an object`];
  const users = value.users;
  const problems: string[] = [];
  if (!isObject(users)) problems.push(`${path}.users must be {username1, username2}`);
  else {
    problems.push(
      ...identifierProblems(users.username1, `${path}.users.username1`),
      ...identifierProblems(users.username2, `${path}.users.username2`),
    );
  }
  problems.push(...memberOfProblems(value.memberOf ?? [], users, undefined));
  problems.push(...settingsProblems(value.settings));
  problems.push(...ownerRoleProblems(value.ownerRole, value.memberOf ?? [], `${path}.ownerRole`));
  const limit = value.connectionLimit;
  if (limit !== undefined && !(Number.isInteger(limit) && (limit as number) >= -1)) {
    problems.push(`${path}.connectionLimit must be a whole number from -1`);
  }
  if (value.expectedOids !== undefined && !isOidMap(value.expectedOids)) {
    problems.push(`${path}.expectedOids must be an object of role names to OIDs`);
  }
  for (const key of ["resetSettings", "revokeOtherMembershipsOf"] as const) {
    const list = value[key];
    if (key === "resetSettings" && list === undefined) continue;
    if (!Array.isArray(list) || !list.every((item) => typeof item === "string")) {
      problems.push(`${path}.${key} must be a list of names`);
    }
  }
  return problems.map((p) =>
    p.startsWith("memberOf") || p.startsWith("settings") ? `${path}.${p}` : p,
  );
}

/** Whether `value` is an object of role names to OIDs (whole numbers from 1 to 2^32 - 1). */
export function isOidMap(value: unknown): value is Record<string, number> {
  return (
    isObject(value) &&
    Object.entries(value).every(
      ([name, oid]) =>
        identifierProblems(name, "name").length === 0 &&
        Number.isInteger(oid) &&
        (oid as number) >= 1 &&
        (oid as number) <= 0xffffffff,
    )
  );
}
