/**
 * The run the browser example makes: a seeded B-spline KAN `[2, 4, 1]` fit
 * with Adam to `sin(πx₀)·x₁` on 256 seeded points, and its state dict
 * encoded as safetensors. It touches no Deno API, so the same function runs
 * in a web page (examples/browser/main.ts) and under Deno
 * (tests/browser_test.ts), which compares the two.
 *
 * @module
 */

import { Adam, encodeSafetensors, type Gpu, kan, Tensor } from "../../mod.ts";

/** Options of {@linkcode trainDemo}. */
export interface DemoOptions {
  /** Optimizer steps (default 200). */
  steps?: number;
  /** Read the loss back every this many steps (default 20). */
  logEvery?: number;
}

/** What {@linkcode trainDemo} reports. */
export interface DemoResult {
  /** The adapter's description (or vendor and architecture, where a browser hides the description). */
  adapter: string;
  /** Whether the adapter is a fallback (software) one, such as Chromium's SwiftShader. */
  fallbackAdapter: boolean;
  /** The loss before any step (mean squared error on the whole set). */
  initialLoss: number;
  /** The logged steps. */
  steps: number[];
  /** The loss at each logged step. */
  losses: number[];
  /** The loss after the last step. */
  finalLoss: number;
  /** Wall time of the fit, in seconds (kernel compilation included). */
  seconds: number;
  /** Steps per second of the fit. */
  stepsPerSecond: number;
  /** The trained model's state dict, encoded as safetensors, in base64. */
  safetensors: string;
}

/** Rows of the data set. */
export const DEMO_ROWS = 256;

/** A seeded uniform generator on [0, 1) (mulberry32). */
function uniform(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The data set: `rows` points uniform on [-1, 1)² from a fixed seed, and
 * their targets `sin(πx₀)·x₁`.
 *
 * @example
 * ```ts
 * import { demoData } from "./demo.ts";
 * const { x, y } = demoData(4);
 * console.log(x.length, y.length); // 8 4
 * ```
 */
export function demoData(rows: number = DEMO_ROWS): { x: Float32Array; y: Float32Array } {
  const next = uniform(2024);
  const x = new Float32Array(rows * 2);
  const y = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    const a = 2 * next() - 1;
    const b = 2 * next() - 1;
    x[2 * r] = a;
    x[2 * r + 1] = b;
    y[r] = Math.sin(Math.PI * a) * b;
  }
  return { x, y };
}

/** Base64 of bytes, without Deno's or Node's helpers. */
export function toBase64(bytes: Uint8Array): string {
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(text);
}

/** Bytes of a base64 string. */
export function fromBase64(text: string): Uint8Array {
  const raw = atob(text);
  const bytes = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
  return bytes;
}

/** The adapter's description, or its vendor and architecture when that is empty. */
function describe(gpu: Gpu): string {
  const { description, vendor, architecture } = gpu.adapterInfo;
  return description || [vendor, architecture].filter((s) => s).join(" ") || "unnamed adapter";
}

/**
 * Trains the demo model on `gpu` and reports the losses, the speed and the
 * encoded state dict. Everything it allocates is released before it returns.
 *
 * @example
 * ```ts
 * import { Gpu } from "../../mod.ts";
 * import { trainDemo } from "./demo.ts";
 * const gpu = await Gpu.request();
 * const result = await trainDemo(gpu, { steps: 20, logEvery: 10 });
 * console.log(result.initialLoss, result.finalLoss);
 * gpu.destroy();
 * ```
 */
export async function trainDemo(gpu: Gpu, options: DemoOptions = {}): Promise<DemoResult> {
  const steps = options.steps ?? 200;
  const logEvery = options.logEvery ?? 20;
  const data = demoData();
  const x = Tensor.from(gpu, data.x, [DEMO_ROWS, 2]);
  const y = Tensor.from(gpu, data.y, [DEMO_ROWS, 1]);
  const model = kan(gpu, [2, 4, 1], { basis: "bspline", gridSize: 5, seed: 7 });
  const optimizer = new Adam({ lr: 1e-2 });
  try {
    const initialLoss = (await model.evaluate(x, y, "mse")).loss;
    const start = performance.now();
    const history = await model.fit({ x, y, loss: "mse", optimizer, steps, logEvery });
    const seconds = (performance.now() - start) / 1000;
    const finalLoss = (await model.evaluate(x, y, "mse")).loss;
    const bytes = encodeSafetensors(await model.stateDict(), { example: "browser" });
    return {
      adapter: describe(gpu),
      fallbackAdapter: gpu.adapterInfo.isFallbackAdapter,
      initialLoss,
      steps: history.step,
      losses: history.loss,
      finalLoss,
      seconds,
      stepsPerSecond: steps / seconds,
      safetensors: toBase64(bytes),
    };
  } finally {
    optimizer.dispose();
    model.dispose();
    x.dispose();
    y.dispose();
  }
}
