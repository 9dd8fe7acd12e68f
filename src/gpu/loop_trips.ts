/**
 * The loop-trip budget of one kernel invocation, and the instrumentation that
 * measures it.
 *
 * Mesa's llvmpipe (lavapipe, the software Vulkan driver of every machine
 * without a GPU) ends all loops of a shader invocation after 65,535 loop
 * iterations in total, counting every loop and every nesting level, with no
 * error: a kernel that loops longer returns a sum of part of its input. So no
 * invocation of this module's kernels may loop longer than
 * {@linkcode TRIP_LIMIT}: each kernel bounds its trips by splitting long
 * reductions across invocations (split-K with a second pass), with the split
 * chosen by {@linkcode unitsPerPart} from a count of the kernel's loops that
 * assumes no loop is unrolled.
 *
 * llvmpipe charges a loop that runs `n` times `n + 1` trips (its last test
 * counts too), see {@linkcode loopTrips}.
 *
 * `Gpu.request({ countLoopTrips: true })` checks that claim: it rewrites every
 * kernel so that each invocation counts its loop trips (each iteration and
 * each loop statement it reaches) and records the largest count per kernel,
 * which `gpu.loopTrips()` reads.
 *
 * @module
 */

import { KanError } from "../errors.ts";
import type { KernelSpec } from "./kernel.ts";

/** The most loop iterations llvmpipe lets one invocation make (`LP_MAX_TGSI_LOOP_ITERATIONS`). */
export const TRIP_LIMIT = 65535;

/**
 * The loop iterations this module plans for one invocation at most: below
 * {@linkcode TRIP_LIMIT}, with a margin. Tests lower it to force splits on
 * small shapes.
 */
export const tripBudget: { trips: number } = { trips: 60000 };

/**
 * The trips llvmpipe charges for a loop that runs `n` times with a body that
 * costs `body` trips each time (the loops it holds): `1 + n * (1 + body)`,
 * the last, failing test of the loop included.
 *
 * @example
 * ```ts
 * import { loopTrips } from "./loop_trips.ts";
 * console.log(loopTrips(4, loopTrips(4))); // a 4 x 4 nest: 25
 * ```
 */
export function loopTrips(n: number, body = 0): number {
  return 1 + n * (1 + body);
}

/**
 * How many units of a reduction one invocation may take when each unit costs
 * `perUnit` loop trips on top of `fixed` trips. At least 1; throws a
 * {@linkcode KanError} naming `what` when even one unit exceeds the budget.
 *
 * @example
 * ```ts
 * import { unitsPerPart } from "./loop_trips.ts";
 * console.log(unitsPerPart("sum", 3, 100)); // 19966 with the default budget of 60,000
 * ```
 */
export function unitsPerPart(what: string, perUnit: number, fixed: number): number {
  const units = Math.floor((tripBudget.trips - fixed) / perUnit);
  if (!(units >= 1)) {
    throw new KanError(
      `${what}: one unit of work costs ${
        fixed + perUnit
      } loop iterations per invocation, past the budget of ` +
        `${tripBudget.trips}; this shape cannot be computed`,
    );
  }
  return units;
}

/** Removes `//` comments, so that words in them are not taken for loops. */
function stripComments(source: string): string {
  return source.replace(/\/\/[^\n]*/g, "");
}

/** The index just past the parenthesis that closes the one at `open`. */
function closeParen(source: string, open: number): number {
  let depth = 0;
  for (let at = open; at < source.length; at++) {
    if (source[at] === "(") depth++;
    else if (source[at] === ")" && --depth === 0) return at + 1;
  }
  throw new KanError("loop-trip instrumentation: unbalanced parentheses in a kernel's WGSL");
}

/**
 * `source` with a call to `loop_trip()` before every `for`, `while` and `loop`
 * statement and at the start of its body (as llvmpipe charges a loop: once
 * per iteration and once for its last test), and the counter's declarations:
 * binding `binding` of group 0 is an array of atomic maxima, and this kernel
 * records into element `slot`.
 */
export function instrumentLoops(source: string, binding: number, slot: number): string {
  const code = stripComments(source);
  const pattern = /\b(for|while|loop)\b\s*/g;
  let out = "";
  let last = 0;
  for (let match = pattern.exec(code); match; match = pattern.exec(code)) {
    let at = match.index + match[0].length;
    if (match[1] !== "loop") {
      if (code[at] !== "(") continue;
      at = closeParen(code, at);
    }
    const brace = code.indexOf("{", at);
    if (brace < 0 || code.slice(at, brace).trim() !== "") continue;
    out += code.slice(last, match.index) + "loop_trip(); " + code.slice(match.index, brace + 1) +
      " loop_trip();";
    last = brace + 1;
    pattern.lastIndex = brace + 1;
  }
  out += code.slice(last);
  return `@group(0) @binding(${binding}) var<storage, read_write> loop_trip_max: array<atomic<u32>>;
var<private> loop_trip_count: u32;
fn loop_trip() {
  loop_trip_count += 1u;
  atomicMax(&loop_trip_max[${slot}u], loop_trip_count);
}
${out}`;
}

/** The kernels' slots in the counter buffer, by kernel name. */
export class LoopTripCounter {
  /** The most kernels one counter tracks. */
  static readonly SLOTS = 1024;
  /** The buffer of per-kernel maxima (`SLOTS` u32). */
  readonly buffer: GPUBuffer;
  #slots = new Map<string, number>();
  #rewritten = new WeakMap<KernelSpec, KernelSpec>();

  /** A counter on `device`. */
  constructor(device: GPUDevice) {
    this.buffer = device.createBuffer({
      label: "kan-loop-trips",
      size: 4 * LoopTripCounter.SLOTS,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
    });
  }

  /** `spec` rewritten to count its loop trips into its slot, with the counter as its last binding. */
  instrument(spec: KernelSpec): KernelSpec {
    let rewritten = this.#rewritten.get(spec);
    if (!rewritten) {
      rewritten = this.#rewrite(spec);
      this.#rewritten.set(spec, rewritten);
    }
    return rewritten;
  }

  #rewrite(spec: KernelSpec): KernelSpec {
    const name = `${spec.name}:${spec.entryPoint ?? "main"}`;
    let slot = this.#slots.get(name);
    if (slot === undefined) {
      slot = this.#slots.size;
      if (slot >= LoopTripCounter.SLOTS) throw new KanError("loop-trip counter: too many kernels");
      this.#slots.set(name, slot);
    }
    return {
      ...spec,
      source: instrumentLoops(spec.source, spec.bindings.length, slot),
      bindings: [...spec.bindings, "storage"],
    };
  }

  /** The largest trip count of each kernel, from the counter buffer's bytes. */
  decode(bytes: ArrayBuffer): Record<string, number> {
    const values = new Uint32Array(bytes);
    const out: Record<string, number> = {};
    for (const [name, slot] of this.#slots) out[name] = values[slot];
    return out;
  }
}
