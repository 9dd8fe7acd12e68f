/**
 * Training progress: a bar on a terminal (step, steps/s, loss, ETA), plain
 * lines otherwise, or nothing.
 *
 * @module
 */

/** How `fit` reports progress: `"auto"` is a bar on a terminal and lines otherwise. */
export type ProgressMode = "auto" | "bar" | "lines" | "none";

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

  /** A reporter for `total` steps. */
  constructor(total: number, mode: ProgressMode = "auto") {
    this.#total = total;
    this.#mode = mode === "auto" ? (Deno.stdout.isTerminal() ? "bar" : "lines") : mode;
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
      console.log(text);
      return;
    }
    const width = 24;
    const filled = Math.round(width * step / this.#total);
    const bar = `[${"#".repeat(filled)}${".".repeat(width - filled)}] `;
    Deno.stdout.writeSync(this.#encoder.encode(`\r${bar}${text}\u001b[K`));
  }

  /** Ends the bar's line. */
  done(): void {
    if (this.#mode === "bar") Deno.stdout.writeSync(this.#encoder.encode("\n"));
  }
}
