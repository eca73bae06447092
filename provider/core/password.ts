/**
 * Password generation. Crypto-random, uniform over the character set (rejection sampling, no
 * modulo bias), ASCII only: `pg` cannot log in with some non-ASCII passwords, and the default
 * characters need no escaping inside a connection URL.
 */
import { randomInt } from "node:crypto";
import type { PasswordPolicy } from "./types";

/** RFC 3986 "unreserved" characters: safe unescaped in every part of a connection URL. */
export const URL_SAFE_CHARACTERS =
  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~";
export const DEFAULT_PASSWORD_LENGTH = 32;
export const MIN_PASSWORD_LENGTH = 16;
export const MAX_PASSWORD_LENGTH = 1024;
export const MIN_DISTINCT_CHARACTERS = 10;
/** Randomness a policy must give at least: length × log2(number of characters). */
export const MIN_ENTROPY_BITS = 96;

/** The policy with its defaults filled in. */
export function resolvePasswordPolicy(policy: PasswordPolicy = {}): Required<PasswordPolicy> {
  return {
    length: policy.length ?? DEFAULT_PASSWORD_LENGTH,
    characters: policy.characters ?? URL_SAFE_CHARACTERS,
  };
}

/** What is wrong with a password policy, one line per problem; empty when it is fine. */
export function passwordPolicyProblems(policy: PasswordPolicy, path = "passwordPolicy"): string[] {
  const problems: string[] = [];
  const { length, characters } = policy;
  if (length !== undefined) {
    if (!Number.isInteger(length) || length < MIN_PASSWORD_LENGTH || length > MAX_PASSWORD_LENGTH) {
      problems.push(
        `${path}.length must be a whole number from ${MIN_PASSWORD_LENGTH} to ${MAX_PASSWORD_LENGTH}`,
      );
    }
  }
  if (characters !== undefined) {
    if (typeof characters !== "string" || !/^[\x21-\x7e]*$/.test(characters)) {
      problems.push(`${path}.characters may hold only printable ASCII characters without spaces`);
    } else if (new Set(characters).size !== characters.length) {
      problems.push(`${path}.characters lists a character more than once`);
    } else if (characters.includes("$") && characters.includes("{")) {
      problems.push(
        `${path}.characters may not hold both '$' and '{': Pulumi ESC would read a password ` +
          `holding "\${" as an interpolation`,
      );
    } else if (characters.length < MIN_DISTINCT_CHARACTERS) {
      problems.push(
        `${path}.characters must offer at least ${MIN_DISTINCT_CHARACTERS} distinct characters`,
      );
    }
  }
  if (problems.length === 0) {
    const { length: n, characters: set } = resolvePasswordPolicy(policy);
    const bits = Math.floor(n * Math.log2(set.length));
    if (bits < MIN_ENTROPY_BITS) {
      problems.push(
        `${path} gives about ${bits} bits of randomness; at least ${MIN_ENTROPY_BITS} are ` +
          `required (use more characters or a longer length)`,
      );
    }
  }
  return problems;
}

/**
 * A new random password.
 *
 * @example generatePassword()                                  // 32 URL-safe characters
 * @example generatePassword({ length: 48, characters: "abcdef0123456789" })
 */
export function generatePassword(policy: PasswordPolicy = {}): string {
  const problems = passwordPolicyProblems(policy);
  if (problems.length > 0) throw new RangeError(problems.join("; "));
  const { length, characters } = resolvePasswordPolicy(policy);
  let password = "";
  for (let i = 0; i < length; i++) password += characters[randomInt(characters.length)];
  return password;
}
