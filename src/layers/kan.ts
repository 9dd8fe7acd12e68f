/**
 * `kan(gpu, widths, { basis, ...options })`: a `Sequential` of one family
 * member, like pykan's `KAN(width=[...])`.
 *
 * @module
 */

import { KanError } from "../errors.ts";
import type { Gpu } from "../gpu/gpu.ts";
import {
  check,
  checkGpu,
  COUNT,
  describe,
  isPlainObject,
  oneOf,
  option,
  requiredOption,
  type Rule,
  SEED,
} from "../validate.ts";
import type { BSplineKANOptions } from "./bspline_kan.ts";
import type { FastKANOptions } from "./fast_kan.ts";
import type { FasterKANOptions } from "./faster_kan.ts";
import type { Layer } from "./layer.ts";
import { ACTIVATION, type LinearOptions } from "./linear.ts";
import { BASIS_NAMES, type BasisName, member, MEMBERS } from "./members.ts";
import type { ReLUKANOptions } from "./relu_kan.ts";
import type { ChebyKANOptions } from "./cheby_kan.ts";
import type { JacobiKANOptions } from "./jacobi_kan.ts";
import type { FourierKANOptions } from "./fourier_kan.ts";
import type { WavKANOptions } from "./wav_kan.ts";
import type { RationalKANOptions } from "./rational_kan.ts";
import { Sequential } from "./sequential.ts";

export type { BasisName } from "./members.ts";

/** Options of {@linkcode kan}: the basis and that layer type's options. */
export type KanOptions =
  & { basis: BasisName }
  & (
    | BSplineKANOptions
    | FastKANOptions
    | FasterKANOptions
    | ReLUKANOptions
    | LinearOptions
    | ChebyKANOptions
    | JacobiKANOptions
    | FourierKANOptions
    | WavKANOptions
    | RationalKANOptions
  );

const BASIS: Rule<BasisName> = oneOf(BASIS_NAMES);

/**
 * Throws a {@linkcode KanError} for an option that `basis`'s layer does not
 * take, naming the basis it belongs to when it is another one's.
 */
function checkBasisOptions(options: Record<string, unknown>, basis: BasisName): void {
  for (const key of Object.keys(options)) {
    const own = member(basis).options;
    if (key === "basis" || own.includes(key)) continue;
    const owners = MEMBERS.filter((m) => m.options.includes(key)).map((m) => m.basis);
    throw new KanError(
      owners.length > 0
        ? `kan: option ${describe(key)} belongs to basis ${owners.map((b) => `"${b}"`).join(", ")}, ` +
          `not "${basis}" (its options: ${own.join(", ")})`
        : `kan: unknown option ${describe(key)} for basis "${basis}" (its options: ${own.join(", ")})`,
    );
  }
}

/**
 * A model of widths `widths` (`[in, hidden..., out]`). Layer `i` is seeded
 * with `seed + i`. For `"mlp"`, hidden layers end in `activation` (default
 * SiLU) and the last layer has none. An option of another basis than
 * `basis` is a `KanError` naming it.
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
  checkGpu("kan", gpu);
  check("kan: widths", widths, WIDTHS);
  if (!isPlainObject(options)) {
    throw new KanError(`kan: options must be a plain object with "basis", got ${describe(options)}`);
  }
  const basis = requiredOption("kan", options, "basis", BASIS);
  checkBasisOptions(options, basis);
  // The hidden layers' activation, checked even when there is no hidden layer.
  if (basis === "mlp") option("kan", options, "activation", ACTIVATION);
  const { basis: _, seed: __, ...rest } = options as KanOptions & { seed?: number };
  const seed = option("kan", options, "seed", SEED, 0);
  check("kan: seed + layer index", seed + widths.length - 2, SEED);
  const layers: Layer[] = [];
  try {
    for (let i = 0; i + 1 < widths.length; i++) {
      layers.push(
        member(basis).build(
          gpu,
          widths[i],
          widths[i + 1],
          { ...rest, seed: seed + i },
          i + 2 === widths.length,
        ),
      );
    }
  } catch (e) {
    for (const l of layers) l.dispose();
    throw e;
  }
  return new Sequential(layers);
}

const WIDTHS: Rule<readonly number[]> = {
  expected: "an array of at least two integers >= 1 ([in, hidden..., out])",
  test: (v): v is readonly number[] => Array.isArray(v) && v.length >= 2 && v.every((w) => COUNT.test(w)),
};
