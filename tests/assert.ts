/**
 * The few assertions the tests use, on top of `node:assert` (JSR's std
 * cannot be reached from this project's machines).
 *
 * @module
 */

import nodeAssert from "node:assert";

type ErrorMatcher = (new (...args: never[]) => Error) | RegExp;

/** Throws when `condition` is falsy. */
export function assert(condition: unknown, message = "assertion failed"): asserts condition {
  nodeAssert.ok(condition, message);
}

/** Deep strict equality. */
export function assertEquals<T>(actual: T, expected: T, message?: string): void {
  nodeAssert.deepStrictEqual(actual, expected, message);
}

/** `Object.is` identity. */
export function assertStrictEquals<T>(actual: T, expected: T, message?: string): void {
  nodeAssert.strictEqual(actual, expected, message);
}

function check(error: unknown, matcher: ErrorMatcher): Error {
  if (!(error instanceof Error)) throw new Error(`expected an Error, got ${String(error)}`);
  if (matcher instanceof RegExp ? !matcher.test(error.message) : !(error instanceof matcher)) {
    throw new Error(
      `the error did not match ${matcher instanceof RegExp ? matcher : matcher.name}: ${error}`,
      {
        cause: error,
      },
    );
  }
  return error;
}

/** Asserts that `fn` throws an error matching `matcher` (a class or a message pattern) and returns it. */
export function assertThrows(fn: () => unknown, matcher: ErrorMatcher): Error {
  try {
    fn();
  } catch (error) {
    return check(error, matcher);
  }
  throw new Error(`expected a throw matching ${matcher}, but nothing was thrown`);
}

/** Asserts that `fn`'s promise rejects with an error matching `matcher` and returns it. */
export async function assertRejects(fn: () => Promise<unknown>, matcher: ErrorMatcher): Promise<Error> {
  try {
    await fn();
  } catch (error) {
    return check(error, matcher);
  }
  throw new Error(`expected a rejection matching ${matcher}, but the promise resolved`);
}
