/**
 * The one error type of the module: every bad input, GPU failure or malformed
 * file surfaces as a `KanError` whose message names what was wrong.
 *
 * @module
 */

/**
 * An error raised by this module. The message names the argument or kernel at
 * fault, what was expected and what came.
 *
 * @example
 * ```ts
 * import { KanError } from "./errors.ts";
 * try {
 *   throw new KanError("Tensor.from: data has 3 values but shape [2, 2] needs 4");
 * } catch (e) {
 *   console.log(e instanceof KanError, (e as Error).message);
 * }
 * ```
 */
export class KanError extends Error {
  /** Creates the error; `cause` keeps the underlying exception, if any. */
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "KanError";
  }
}

/** Formats a shape as `[a, b, c]` for error messages. */
export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(", ")}]`;
}
