/**
 * Training progress: a bar on a terminal (step, steps/s, loss, ETA), plain
 * lines otherwise, or nothing. Under Deno it goes to stderr, so that a
 * command's stdout holds only its results; where there is no `Deno` (a browser
 * page) lines go to `console.log` and a bar is shown as lines.
 *
 * @module
 */

/**
 * How `fit` reports progress: `"auto"` is a bar when stderr is a terminal and
 * lines otherwise; `"bar"` and `"lines"` write to stderr (to `console.log`
 * where there is no `Deno`); `"none"` shows nothing.
 */
export type ProgressMode = "auto" | "bar" | "lines" | "none";

/** The part of `Deno` that progress uses; undefined outside Deno. */
interface ProgressStream {
  isTerminal(): boolean;
  writeSync(bytes: Uint8Array): number;
}

/** Deno's stderr, or undefined where `Deno` does not exist (a browser page). */
function stderr(): ProgressStream | undefined {
  return (globalThis as { Deno?: { stderr?: ProgressStream } }).Deno?.stderr;
}

/** Formats seconds as `1h02m`, `3m05s` or `12.3s`. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return "?";
  if (seconds >= 3600) {
    return `${Math.floor(seconds / 3600)}h${String(Math.floor(seconds % 3600 / 60)).padStart(2, "0")}m`;
  }
  if (seconds >= 60) {
    return `${Math.floor(seconds / 60)}m${String(Math.floor(seconds % 60)).padStart(2, "0")}s`;
  }
  return `${seconds.toFixed(1)}s`;
}

/** Reports the progress of `total` steps. */
export class Progress {
  #total: number;
  #mode: Exclude<ProgressMode, "auto">;
  #start = performance.now();
  #encoder = new TextEncoder();
  #stream: ProgressStream | undefined = stderr();

  /**
   * A reporter for `total` steps.
   *
   * @example
   * ```ts
   * import { Progress } from "./progress.ts";
   * const progress = new Progress(100, "lines");
   * progress.update(50, 0.25); // "step  50/100  ... loss 2.500e-1  ETA ..." on stderr
   * progress.done();
   * ```
   */
  constructor(total: number, mode: ProgressMode = "auto") {
    this.#total = total;
    const terminal = this.#stream?.isTerminal() ?? false;
    const wanted = mode === "auto" ? (terminal ? "bar" : "lines") : mode;
    // A bar needs a stream that takes a carriage return; without Deno it is shown as lines.
    this.#mode = wanted === "bar" && this.#stream === undefined ? "lines" : wanted;
  }

  /** How this reporter shows progress (`"auto"` resolved). */
  get mode(): Exclude<ProgressMode, "auto"> {
    return this.#mode;
  }

  /** The line for `step` with `loss`. */
  line(step: number, loss: number): string {
    const elapsed = (performance.now() - this.#start) / 1000;
    const rate = step / Math.max(elapsed, 1e-9);
    const eta = (this.#total - step) / rate;
    return `step ${String(step).padStart(String(this.#total).length)}/${this.#total}  ${
      rate.toFixed(1)
    } steps/s  ` +
      `loss ${loss.toExponential(3)}  ETA ${formatDuration(eta)}`;
  }

  /** Reports `step` with `loss`. */
  update(step: number, loss: number): void {
    if (this.#mode === "none") return;
    const text = this.line(step, loss);
    if (this.#mode === "lines") {
      this.#write(`${text}\n`);
      return;
    }
    const width = 24;
    const filled = Math.round(width * step / this.#total);
    const bar = `[${"#".repeat(filled)}${".".repeat(width - filled)}] `;
    this.#write(`\r${bar}${text}\u001b[K`);
  }

  /** Ends the bar's line. */
  done(): void {
    if (this.#mode === "bar") this.#write("\n");
  }

  /** Writes `text` to stderr, or its line to `console.log` where there is no `Deno`. */
  #write(text: string): void {
    if (this.#stream === undefined) console.log(text.replace(/\n$/, ""));
    else writeAll(this.#stream, this.#encoder.encode(text));
  }
}

/** Writes every byte of `bytes` (`writeSync` may write fewer than asked). */
function writeAll(stream: ProgressStream, bytes: Uint8Array): void {
  let at = 0;
  while (at < bytes.length) at += stream.writeSync(bytes.subarray(at));
}
