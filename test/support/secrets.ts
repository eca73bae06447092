/** Assertions that no secret leaks through an error or a text. */
import { expect } from "chai";
import { inspect } from "node:util";

/** Every rendering of `error` a user or a log could see: message, stack, causes, inspect. */
export function renderings(error: unknown): string {
  const parts: string[] = [inspect(error, { depth: 10, showHidden: true })];
  for (let e: unknown = error; e instanceof Error; e = (e as Error).cause) {
    parts.push(String(e), e.message, e.stack ?? "", JSON.stringify(e));
  }
  return parts.join("\n");
}

export function expectNoSecrets(text: string, secrets: readonly (string | undefined)[]): void {
  for (const secret of secrets) {
    if (!secret) continue;
    expect(text.includes(secret), `a secret of ${secret.length} characters leaked`).to.equal(false);
  }
}

/** Awaits `work`, expects it to throw, and returns the error. */
export async function rejection(work: Promise<unknown>): Promise<Error> {
  try {
    await work;
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected a rejection, but the promise resolved");
}
