/**
 * `kan(gpu, widths, { basis, ...options })`: a `Sequential` of one family
 * member, like pykan's `KAN(width=[...])`.
 *
 * @module
 */

import { KanError } from "../errors.ts";
import type { Gpu } from "../gpu/gpu.ts";
import { BSplineKAN, type BSplineKANOptions } from "./bspline_kan.ts";
import { FastKAN, type FastKANOptions } from "./fast_kan.ts";
import { FasterKAN, type FasterKANOptions } from "./faster_kan.ts";
import type { Layer } from "./layer.ts";
import { Linear, type LinearOptions } from "./linear.ts";
import { ReLUKAN, type ReLUKANOptions } from "./relu_kan.ts";
import { Sequential } from "./sequential.ts";

/** The family members `kan()` builds. */
export type BasisName = "bspline" | "fast" | "faster" | "relu" | "mlp";

/** Options of {@linkcode kan}: the basis and that layer type's options. */
export type KanOptions =
  & { basis: BasisName }
  & (BSplineKANOptions | FastKANOptions | FasterKANOptions | ReLUKANOptions | LinearOptions);

const BASES: readonly BasisName[] = ["bspline", "fast", "faster", "relu", "mlp"];

/**
 * A model of widths `widths` (`[in, hidden..., out]`). Layer `i` is seeded
 * with `seed + i`. For `"mlp"`, hidden layers end in `activation` (default
 * SiLU) and the last layer has none.
 *
 * @example
 * ```ts
 * import { Gpu, kan, Tensor } from "../../mod.ts";
 * const gpu = await Gpu.request();
 * const model = kan(gpu, [2, 5, 1], { basis: "relu", g: 5, k: 3 });
 * console.log(await model.forward(Tensor.from(gpu, [0.2, 0.9], [1, 2])).read());
 * gpu.destroy();
 * ```
 */
export function kan(gpu: Gpu, widths: readonly number[], options: KanOptions): Sequential {
  if (!Array.isArray(widths) || widths.length < 2) {
    throw new KanError(`kan: widths must list at least an input and an output width, got ${widths}`);
  }
  const { basis, seed = 0, ...rest } = options ?? {} as KanOptions;
  if (!BASES.includes(basis)) {
    throw new KanError(`kan: option "basis" must be one of ${BASES.join(", ")}, got ${basis}`);
  }
  const layers: Layer[] = [];
  for (let i = 0; i + 1 < widths.length; i++) {
    const [a, b] = [widths[i], widths[i + 1]];
    const o = { ...rest, seed: seed + i };
    switch (basis) {
      case "bspline":
        layers.push(new BSplineKAN(gpu, a, b, o as BSplineKANOptions));
        break;
      case "fast":
        layers.push(new FastKAN(gpu, a, b, o as FastKANOptions));
        break;
      case "faster":
        layers.push(new FasterKAN(gpu, a, b, o as FasterKANOptions));
        break;
      case "relu":
        layers.push(new ReLUKAN(gpu, a, b, o as ReLUKANOptions));
        break;
      case "mlp": {
        const last = i + 2 === widths.length;
        const act = (rest as LinearOptions).activation ?? "silu";
        layers.push(new Linear(gpu, a, b, { ...o, activation: last ? "none" : act } as LinearOptions));
        break;
      }
    }
  }
  return new Sequential(layers);
}
